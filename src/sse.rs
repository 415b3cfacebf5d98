//! The server-sent events parser and writer.
//!
//! [`SseParser`] is an incremental parser for `text/event-stream` bodies: the proxy pushes each
//! chunk it reads from an upstream and pulls complete events. It accepts `\n`, `\r\n` and `\r`
//! line endings, multi-line `data:` fields, `data:` with or without the space, and comment lines
//! (`: OPENROUTER PROCESSING`), whatever the chunk boundaries are. Each [`SseEvent`] keeps the
//! exact bytes it was parsed from (`raw`), so Anthropic events can be forwarded byte for byte.
//! Garbage never panics: invalid UTF-8 and oversized events are reported as [`SseError`] and the
//! parser resynchronises at the next blank line.
//!
//! [`write_event`] is the matching writer.

use bytes::{Buf, Bytes, BytesMut};

/// The largest event the parser accepts by default (16 `MiB`).
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

/// One dispatched server-sent event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if the event had one.
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The exact bytes the event was parsed from, including comment lines inside it and the
    /// terminating blank line (absent only for an event completed by [`SseParser::finish`]).
    /// Concatenating the `raw` of every event reproduces the stream, minus comment-only blocks,
    /// stray blank lines and bad events. (When a chunk ends between the `\r` and `\n` of an
    /// event's last line ending, the event is dispatched at once and that `\n` opens the next
    /// event's `raw`, or is dropped if the stream ends there.)
    pub raw: Bytes,
}

/// A problem with one event of the stream; the parser skips that event and carries on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A field line is not valid UTF-8.
    #[error(
        "server-sent event field is not valid utf-8 (invalid byte at offset {valid_up_to} of the line)"
    )]
    InvalidUtf8 {
        /// How many bytes of the line were valid.
        valid_up_to: usize,
    },
    /// An event grew past the size limit before its terminating blank line.
    #[error("server-sent event exceeds the maximum size of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// An incremental `text/event-stream` parser.
///
/// The buffer always starts at the first byte of the event being assembled; `pos` is the
/// offset up to which complete lines have already been parsed into `event` and `data`, so every
/// byte is examined once however the stream is chunked.
#[derive(Debug)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent flags of one line-level state"
)]
pub struct SseParser {
    buf: BytesMut,
    /// Bytes of `buf` already consumed as complete lines of the current event.
    pos: usize,
    event: Option<String>,
    data: String,
    /// How many `data` lines the current event has (they are joined with `\n`).
    data_lines: usize,
    /// Whether the current event has seen a `data` or `event` field.
    has_fields: bool,
    /// The last line ended with `\r` at the end of the buffer: a following `\n` belongs to it.
    pending_cr: bool,
    /// The rest of the current event is being dropped after an error.
    discarding: bool,
    /// While discarding: the bytes of a partial line were dropped, so the next line
    /// terminator ends a non-blank line.
    in_junk_line: bool,
    /// Whether the start of the stream (where a byte order mark may sit) has been passed.
    past_bom: bool,
    /// Comment lines seen so far (upstream keep-alives such as `: OPENROUTER PROCESSING`).
    comments: u64,
    max_event_size: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser with the default event size limit ([`DEFAULT_MAX_EVENT_SIZE`]).
    pub fn new() -> Self {
        Self::with_max_event_size(DEFAULT_MAX_EVENT_SIZE)
    }

    /// A parser that rejects events larger than `max_event_size` bytes.
    pub fn with_max_event_size(max_event_size: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            pos: 0,
            event: None,
            data: String::new(),
            data_lines: 0,
            has_fields: false,
            pending_cr: false,
            discarding: false,
            in_junk_line: false,
            past_bom: false,
            comments: 0,
            max_event_size,
        }
    }

    /// Appends a chunk of the stream, as read from the network.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete event, an error for a bad event (which is then skipped), or `None`
    /// when more input is needed.
    pub fn next_event(&mut self) -> Option<Result<SseEvent, SseError>> {
        if !self.past_bom {
            if self.buf.len() < 3 && b"\xEF\xBB\xBF".starts_with(&self.buf) {
                return None;
            }
            if self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.advance(3);
            }
            self.past_bom = true;
        }
        loop {
            if self.pending_cr {
                if self.pos == self.buf.len() {
                    return None;
                }
                self.pending_cr = false;
                if self.buf[self.pos] == b'\n' {
                    // The `\n` of a `\r\n` split across chunks. If the event it ended was
                    // already dispatched, it stays at the head of the next event's `raw`, so the
                    // concatenated `raw` bytes still reproduce the stream exactly.
                    self.pos += 1;
                }
            }
            let Some(offset) = memchr::memchr2(b'\n', b'\r', &self.buf[self.pos..]) else {
                return self.check_incomplete_size();
            };
            let line_start = self.pos;
            let term = line_start + offset;
            let line_end = if self.buf[term] == b'\r' {
                match self.buf.get(term + 1) {
                    Some(b'\n') => term + 2,
                    Some(_) => term + 1,
                    None => {
                        self.pending_cr = true;
                        term + 1
                    }
                }
            } else {
                term + 1
            };
            self.pos = line_end;
            let junk = std::mem::take(&mut self.in_junk_line);
            if term == line_start && !junk {
                // A blank line ends the event.
                if self.discarding {
                    self.discarding = false;
                    self.drop_consumed();
                    continue;
                }
                if !self.has_fields {
                    // Comment-only blocks and stray blank lines are not events.
                    self.drop_consumed();
                    continue;
                }
                let raw = self.buf.split_to(self.pos).freeze();
                self.pos = 0;
                return Some(Ok(self.take_event(raw)));
            }
            if self.discarding {
                self.drop_consumed();
                continue;
            }
            if let Err(err) = self.field(line_start, term) {
                self.start_discarding();
                return Some(Err(err));
            }
            if self.pos > self.max_event_size {
                self.start_discarding();
                return Some(Err(SseError::TooLarge {
                    limit: self.max_event_size,
                }));
            }
        }
    }

    /// How many comment lines (`: keep-alive`, `: OPENROUTER PROCESSING`) the stream has
    /// carried so far: they are not events, but they show the upstream is alive.
    pub fn comment_count(&self) -> u64 {
        self.comments
    }

    /// Ends the stream: returns a last event that had no terminating blank line, if any.
    /// The parser is empty afterwards.
    pub fn finish(&mut self) -> Option<Result<SseEvent, SseError>> {
        if self.pending_cr {
            self.pending_cr = false;
        }
        let mut result = None;
        if !self.discarding {
            let line_start = self.pos;
            let end = self.buf.len();
            if end > line_start {
                if let Err(err) = self.field(line_start, end) {
                    result = Some(Err(err));
                }
                self.pos = end;
            }
            if result.is_none() && self.has_fields {
                if self.pos > self.max_event_size {
                    result = Some(Err(SseError::TooLarge {
                        limit: self.max_event_size,
                    }));
                } else {
                    let raw = self.buf.split_to(self.pos).freeze();
                    result = Some(Ok(self.take_event(raw)));
                }
            }
        }
        self.buf.clear();
        self.pos = 0;
        self.reset_fields();
        self.discarding = false;
        self.in_junk_line = false;
        result
    }

    /// Parses the line `buf[start..end]` (without its terminator) into the current event.
    fn field(&mut self, start: usize, end: usize) -> Result<(), SseError> {
        let line = &self.buf[start..end];
        if line.first() == Some(&b':') {
            self.comments += 1;
            return Ok(());
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &line[line.len()..]),
        };
        match name {
            b"data" => {
                let value = utf8(value)?;
                if self.has_data_line() {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.mark_data();
            }
            b"event" => {
                let value = utf8(value)?;
                self.event = Some(value.to_owned());
                self.has_fields = true;
            }
            // `id`, `retry` and unknown fields carry nothing the proxy needs.
            _ => {}
        }
        Ok(())
    }

    fn check_incomplete_size(&mut self) -> Option<Result<SseEvent, SseError>> {
        if self.discarding {
            // Drop the partial junk line; its terminator has not arrived yet.
            if self.buf.len() > self.pos {
                self.in_junk_line = true;
            }
            self.buf.clear();
            self.pos = 0;
            return None;
        }
        if self.buf.len() > self.max_event_size {
            self.start_discarding();
            if !self.buf.is_empty() {
                self.in_junk_line = true;
            }
            self.buf.clear();
            return Some(Err(SseError::TooLarge {
                limit: self.max_event_size,
            }));
        }
        None
    }

    fn start_discarding(&mut self) {
        self.discarding = true;
        self.reset_fields();
        self.drop_consumed();
    }

    fn drop_consumed(&mut self) {
        self.buf.advance(self.pos);
        self.pos = 0;
    }

    fn take_event(&mut self, raw: Bytes) -> SseEvent {
        let event = SseEvent {
            event: self.event.take(),
            data: std::mem::take(&mut self.data),
            raw,
        };
        self.reset_fields();
        event
    }

    fn reset_fields(&mut self) {
        self.event = None;
        self.data.clear();
        self.has_fields = false;
        self.data_lines = 0;
    }

    fn has_data_line(&self) -> bool {
        self.data_lines > 0
    }

    fn mark_data(&mut self) {
        self.data_lines += 1;
        self.has_fields = true;
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, SseError> {
    std::str::from_utf8(bytes).map_err(|err| SseError::InvalidUtf8 {
        valid_up_to: err.valid_up_to(),
    })
}

/// Appends one event, `event: NAME` then `data:` line(s) and a blank line, to `out`.
///
/// `data` is normally compact JSON (one line); a `data` with newlines is written as several
/// `data:` lines, which a parser joins back with `\n`.
pub fn write_event(out: &mut Vec<u8>, event: &str, data: &str) {
    out.reserve(event.len() + data.len() + 16);
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(event.as_bytes());
    out.push(b'\n');
    for line in data.split('\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests;
