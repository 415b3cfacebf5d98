//! Scripted replies: what the mock answers to one request, built with small constructors and
//! modifiers (`Reply::status(529).retry_after(3)`, `Reply::sse_events(..).cut_after(2)`).
//!
//! A reply is a plan, not a response: the server turns it into bytes on the wire, including
//! the misbehaviour a test asks for (a dropped connection, a stall, a stream cut mid-body).
//! Test-only: compiled with the `test-support` feature, never into the shipped binary.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};

use super::body::{End, SseChunk};

/// What a reply sends, before modifiers.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    /// A complete body with its content type.
    Whole {
        content_type: &'static str,
        bytes: Bytes,
    },
    /// An error body shaped like the mock's kind (Anthropic or `OpenAI`) for this status.
    KindError,
    /// A streamed `text/event-stream` body.
    Chunks(Vec<SseChunk>),
    /// Close the connection before any response byte.
    Drop,
    /// Never send the response headers.
    Stall,
    /// Refuse the request before starting it: an HTTP/2 `REFUSED_STREAM` reset (over HTTP/1,
    /// a dropped connection).
    Refuse,
    /// Answer with the simulated provider.
    Sim,
}

/// What the mock answers to one request.
#[derive(Clone, Debug)]
pub struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Body,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) delay: Duration,
    pub(crate) end: End,
}

impl Reply {
    fn new(status: StatusCode, body: Body) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
            delay: Duration::ZERO,
            end: End::Complete,
        }
    }

    /// A JSON body with this status.
    ///
    /// # Panics
    ///
    /// When `status` is not a valid HTTP status code (100 to 999).
    #[allow(clippy::needless_pass_by_value)] // By value, so call sites read `json!(..)`.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        let bytes = Bytes::from(body.to_string());
        Self::new(
            status_code(status),
            Body::Whole {
                content_type: "application/json",
                bytes,
            },
        )
    }

    /// Any body with this status and content type, sent as it is (for garbage and edge cases).
    ///
    /// # Panics
    ///
    /// When `status` is not a valid HTTP status code (100 to 999).
    pub fn raw(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self::new(
            status_code(status),
            Body::Whole {
                content_type,
                bytes: body.into(),
            },
        )
    }

    /// This status with an error body shaped like the mock's kind: Anthropic
    /// `{"type":"error","error":{..}}` or `OpenAI` `{"error":{..}}`, with the error type that
    /// goes with the status (`overloaded_error` for 529, `rate_limit_error` for 429, ...).
    ///
    /// # Panics
    ///
    /// When `status` is not a valid HTTP status code (100 to 999).
    pub fn status(status: u16) -> Self {
        Self::new(status_code(status), Body::KindError)
    }

    /// A 200 `text/event-stream` body made of these chunks.
    pub fn sse(chunks: Vec<SseChunk>) -> Self {
        Self::new(StatusCode::OK, Body::Chunks(chunks))
    }

    /// A 200 stream of Anthropic-style events, one chunk per `(event, data)` pair.
    pub fn sse_events(events: &[(&str, &str)]) -> Self {
        Self::sse(
            events
                .iter()
                .map(|(name, data)| SseChunk::event(name, data))
                .collect(),
        )
    }

    /// A 200 stream of OpenAI-style `data:` lines, one chunk per line.
    pub fn sse_data(lines: &[&str]) -> Self {
        Self::sse(lines.iter().map(|data| SseChunk::data(data)).collect())
    }

    /// Closes the TCP connection before any response byte.
    pub fn drop_connection() -> Self {
        Self::new(StatusCode::OK, Body::Drop)
    }

    /// Refuses the request before processing any of it: over HTTP/2 (a TLS mock) the stream is
    /// reset with `REFUSED_STREAM`, which a client may send again; over HTTP/1 the connection
    /// is dropped.
    pub fn refuse_stream() -> Self {
        Self::new(StatusCode::OK, Body::Refuse)
    }

    /// Accepts the request and never sends the response headers (until the mock shuts down).
    pub fn stall() -> Self {
        Self::new(StatusCode::OK, Body::Stall)
    }

    /// Sends 200 `text/event-stream` headers, then nothing until the mock shuts down.
    pub fn stall_after_headers() -> Self {
        Self::sse(Vec::new()).stall_after(0)
    }

    /// Answers this one request with the simulated provider (the mock's [`super::SimOptions`]).
    pub fn sim() -> Self {
        Self::new(StatusCode::OK, Body::Sim)
    }

    /// Adds a response header (a later header of the same name replaces an earlier one).
    ///
    /// # Panics
    ///
    /// When the name or the value is not a valid HTTP header name or value.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|e| panic!("invalid header name {name:?}: {e}"));
        let value = HeaderValue::from_str(value)
            .unwrap_or_else(|e| panic!("invalid header value {value:?}: {e}"));
        self.headers.push((name, value));
        self
    }

    /// Adds `retry-after: SECS`.
    #[must_use]
    pub fn retry_after(self, secs: u64) -> Self {
        self.header("retry-after", &secs.to_string())
    }

    /// Waits this long before sending the response headers.
    #[must_use]
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Waits this long before each chunk of a streamed body.
    #[must_use]
    pub fn delay_each(mut self, delay: Duration) -> Self {
        if let Body::Chunks(chunks) = &mut self.body {
            for chunk in chunks {
                chunk.delay = delay;
            }
        }
        self
    }

    /// Sends the first `n` chunks (events) of the body, then closes the connection abruptly,
    /// without the terminating chunk. A whole (non-streamed) body counts as one chunk, so
    /// `cut_after(0)` on it sends only the headers; a simulated JSON answer is sent in two
    /// halves, so `Reply::sim().cut_after(1)` sends half of it.
    #[must_use]
    pub fn cut_after(mut self, n: usize) -> Self {
        self.end = End::CutAfter(n);
        self
    }

    /// Sends the first `n` chunks (events) of the body, then nothing until the mock shuts down.
    #[must_use]
    pub fn stall_after(mut self, n: usize) -> Self {
        self.end = End::StallAfter(n);
        self
    }

    /// Sends every chunk of the body, then the last `n` again, in turn, without end: an
    /// endless body (a whole body counts as one chunk, so `Reply::raw(..).repeat_last(1)`
    /// repeats it). The body goes as fast as the reader takes it.
    #[must_use]
    pub fn repeat_last(mut self, n: usize) -> Self {
        self.end = End::RepeatLast(n.max(1));
        self
    }
}

/// The status for a test-facing constructor; panicking is its documented contract.
fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or_else(|e| panic!("invalid status {status}: {e}"))
}
