//! The streaming translator: OpenAI chunks in, Anthropic SSE events out (the state machine of
//! `docs/translation.md#streaming-state-machine`).
//!
//! [`OpenAiToAnthropic`] is fed the `data` of each upstream SSE event and appends well-formed
//! Anthropic events to a byte buffer. The output always follows the grammar Claude Code checks
//! (`docs/claude-code.md#event-grammar`): `message_start` once and first; content blocks
//! strictly one at a time with indices 0, 1, 2, …; deltas of the block's own type;
//! `message_delta` then `message_stop` last; nothing after that or after an `error` event.
//!
//! How the upstream's deviations are absorbed:
//!
//! - **Reasoning** (`reasoning_content`, `reasoning`, `reasoning_details`) opens a `thinking`
//!   block only before any text or tool output; reasoning that arrives later is dropped rather
//!   than splitting the visible answer into more blocks (counted by
//!   [`OpenAiToAnthropic::dropped_reasoning_bytes`]).
//! - **Tool calls** are keyed by `index` (by position in the chunk when it is missing; a new
//!   `id` under a known key starts a new call). A call's block opens as soon as its name is
//!   known, and its arguments stream as `input_json_delta` fragments as they arrive.
//!   Cumulative argument snapshots are reduced to their new suffix.
//! - **Interleaved parallel calls**: only one block can be open, so the fragments of a call
//!   that cannot open yet are buffered in its slot. A call takes over from the open one as
//!   soon as the open one's arguments form a complete JSON object and every call that appeared
//!   before it is complete too (the usual sequential case, which keeps streaming); otherwise it
//!   waits, and is flushed as one block, in order of first appearance, at the `finish_reason`.
//!   A call that never got a name is dropped ([`OpenAiToAnthropic::dropped_tool_calls`]).
//! - **Tool arguments always parse**: they pass through an incremental JSON check that forwards
//!   only what can still be part of a JSON object (escaping raw control characters, dropping
//!   a garbage tail), and closing a tool block appends what completes them (`{}` for none,
//!   closing quotes and brackets for arguments cut short by `length`), so Claude Code can
//!   always parse the input at `content_block_stop`.
//! - **Usage** is kept until the end (it may come on any chunk, or after the finish chunk) and
//!   reported in `message_delta`; `message_start` carries zeros.
//! - **The end**: `[DONE]`, or [`OpenAiToAnthropic::finish`] at EOF, writes `message_delta` and
//!   `message_stop`. A stream that ends without a `finish_reason` is an error
//!   ([`TranslateError::Truncated`]), never a fake `end_turn`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::anthropic::{
    ContentBlock, ContentBlockStart, Delta, ErrorObject, MessageDeltaBody, MessagesResponse,
    StreamEvent, Usage,
};
use super::openai::{Arguments, ChatCompletionChunk, CompletionUsage, ToolCallDelta};
use super::response::{map_usage, reasoning_text, stop_reason, tool_use_id};
use super::tool_args::JsonPrefix;
use super::{TranslateError, error};

/// The block that is open, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Open {
    None,
    Thinking(u32),
    Text(u32),
    /// A tool block, by slot number in `tools`.
    Tool(usize),
}

/// One upstream tool call.
#[derive(Debug)]
struct ToolSlot {
    /// The OpenAI key (`index`, or position in the chunk).
    key: u32,
    id: Option<String>,
    name: Option<String>,
    /// Every argument byte received so far, as received (to recognise cumulative snapshots).
    args: String,
    /// Checks the arguments as they arrive.
    json: JsonPrefix,
    /// The argument text to forward: `args` as far as it can be part of a JSON object, with
    /// control characters escaped, plus its completion once the block closes.
    forward: String,
    /// How many bytes of `forward` have been written as deltas.
    flushed: usize,
    /// The Anthropic block index, once the block is started.
    index: Option<u32>,
    closed: bool,
}

/// Translates one OpenAI Chat Completions stream into Anthropic SSE events.
#[derive(Debug)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent facts about one response"
)]
pub struct OpenAiToAnthropic {
    model: String,
    message_id: String,
    started: bool,
    committed: bool,
    /// `message_stop` or `error` was written: nothing more may be.
    ended: bool,
    /// A `push` or `finish` returned an error: only [`Self::write_error`] may still write.
    failed: bool,
    next_index: u32,
    open: Open,
    /// A text or tool block has been started, so reasoning can no longer open a block.
    content_started: bool,
    emitted_tool_use: bool,
    tools: Vec<ToolSlot>,
    finish_reason: Option<String>,
    usage: Option<CompletionUsage>,
    dropped_reasoning_bytes: usize,
    dropped_tool_calls: usize,
    /// Tool-call argument bytes received, all calls together, against
    /// [`crate::limits::MAX_TOOL_ARGUMENTS`].
    tool_args_bytes: usize,
}

impl OpenAiToAnthropic {
    /// A translator for one response. `client_model` is the model name the client sent (it is
    /// reported back); `message_id` is the `msg_…` id to use.
    pub fn new(client_model: &str, message_id: String) -> Self {
        Self {
            model: client_model.to_owned(),
            message_id,
            started: false,
            committed: false,
            ended: false,
            failed: false,
            next_index: 0,
            open: Open::None,
            content_started: false,
            emitted_tool_use: false,
            tools: Vec::new(),
            finish_reason: None,
            usage: None,
            dropped_reasoning_bytes: 0,
            dropped_tool_calls: 0,
            tool_args_bytes: 0,
        }
    }

    /// Translates the `data` of one upstream SSE event, appending Anthropic events to `out`.
    ///
    /// `[DONE]` ends the message (as [`Self::finish`] does). A chunk carrying an error object,
    /// or a `finish_reason` that means a failure, returns
    /// [`TranslateError::UpstreamError`]. On any error nothing is appended, and afterwards
    /// only [`Self::write_error`] writes anything.
    pub fn push(&mut self, data: &str, out: &mut Vec<u8>) -> Result<(), TranslateError> {
        if self.ended || self.failed {
            return Ok(());
        }
        let (mark, started, committed) = (out.len(), self.started, self.committed);
        let result = self.push_inner(data, out);
        if result.is_err() {
            // Nothing of a failed chunk reaches the client, so the commit point stays put.
            out.truncate(mark);
            (self.started, self.committed) = (started, committed);
            self.failed = true;
        }
        result
    }

    fn push_inner(&mut self, data: &str, out: &mut Vec<u8>) -> Result<(), TranslateError> {
        let data = data.trim();
        if data == "[DONE]" {
            return self.finish_inner(out);
        }
        if data.is_empty() {
            return Ok(());
        }
        let chunk: ChatCompletionChunk<'_> =
            serde_json::from_str(data).map_err(TranslateError::InvalidChunk)?;
        if let Some(err) = chunk.error {
            let message = err
                .message
                .unwrap_or_else(|| "the upstream reported an error mid-stream".to_owned());
            return Err(upstream_error(
                err.kind.as_deref(),
                err.code.as_ref(),
                message,
            ));
        }
        if chunk.object.as_deref() == Some("error") {
            let message = chunk
                .message
                .unwrap_or_else(|| "the upstream reported an error mid-stream".to_owned());
            return Err(upstream_error(None, None, message));
        }
        self.start(out);
        for choice in chunk.choices.into_iter().flatten() {
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            if let Some(delta) = choice.delta {
                let reasoning = reasoning_text(
                    delta.reasoning_content.as_deref(),
                    delta.reasoning.as_deref(),
                    delta.reasoning_details.as_deref(),
                );
                self.reasoning(&reasoning, out);
                if let Some(text) = delta.content.as_deref() {
                    self.text(text, out);
                }
                for (position, call) in delta.tool_calls.into_iter().flatten().enumerate() {
                    self.tool_fragment(position, call, out)?;
                }
            }
            if let Some(reason) = choice.finish_reason {
                // Failure reasons end the stream now; the others wait for usage and `[DONE]`.
                stop_reason(Some(&reason), false)?;
                self.close_open(out);
                self.flush_waiting_tools(out);
                self.finish_reason = Some(reason.into_owned());
            }
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        Ok(())
    }

    /// Ends the message at upstream EOF: closes the open block and writes `message_delta` and
    /// `message_stop`. Without a `finish_reason` from the upstream this returns
    /// [`TranslateError::Truncated`] and writes nothing. Idempotent.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), TranslateError> {
        if self.ended || self.failed {
            return Ok(());
        }
        let mark = out.len();
        let result = self.finish_inner(out);
        if result.is_err() {
            out.truncate(mark);
            self.failed = true;
        }
        result
    }

    fn finish_inner(&mut self, out: &mut Vec<u8>) -> Result<(), TranslateError> {
        let Some(reason) = self.finish_reason.as_deref() else {
            return Err(TranslateError::Truncated);
        };
        let stop_reason = stop_reason(Some(reason), self.emitted_tool_use)?;
        self.start(out);
        self.close_open(out);
        self.flush_waiting_tools(out);
        let usage = map_usage(self.usage.as_ref());
        emit(
            out,
            &StreamEvent::MessageDelta {
                delta: MessageDeltaBody {
                    stop_reason: Some(stop_reason.to_owned()),
                    stop_sequence: None,
                },
                usage,
            },
        );
        emit(out, &StreamEvent::MessageStop);
        self.ended = true;
        Ok(())
    }

    /// Writes an Anthropic `error` event; nothing is written after it, and nothing at all if
    /// the message already ended. Idempotent.
    pub fn write_error(&mut self, error_type: &str, message: &str, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        emit(
            out,
            &StreamEvent::Error {
                error: ErrorObject {
                    kind: Cow::Borrowed(error_type),
                    message: Cow::Borrowed(message),
                },
            },
        );
        self.ended = true;
    }

    /// Writes a `ping` event (a keep-alive while the upstream is silent).
    pub fn write_ping(out: &mut Vec<u8>) {
        out.extend_from_slice(b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
    }

    /// Whether a content event (`content_block_start` or later) has been written: from then
    /// on the response belongs to the client and cannot fail over.
    pub fn committed(&self) -> bool {
        self.committed
    }

    /// Whether `message_stop` or an `error` event has been written.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The usage reported so far, mapped to Anthropic terms (zeros until the upstream sends it).
    pub fn usage(&self) -> Usage {
        map_usage(self.usage.as_ref())
    }

    /// Bytes of reasoning dropped because they arrived after the visible answer had started.
    pub fn dropped_reasoning_bytes(&self) -> usize {
        self.dropped_reasoning_bytes
    }

    /// Tool calls dropped because the upstream never sent their name.
    pub fn dropped_tool_calls(&self) -> usize {
        self.dropped_tool_calls
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        emit(
            out,
            &StreamEvent::MessageStart {
                message: MessagesResponse {
                    id: self.message_id.clone(),
                    kind: "message".to_owned(),
                    role: "assistant".to_owned(),
                    model: self.model.clone(),
                    content: Vec::new(),
                    stop_reason: None,
                    stop_sequence: None,
                    usage: Usage::default(),
                },
            },
        );
    }

    fn reasoning(&mut self, text: &str, out: &mut Vec<u8>) {
        if text.is_empty() {
            return;
        }
        let index = match self.open {
            Open::Thinking(index) => index,
            _ if self.content_started => {
                self.dropped_reasoning_bytes += text.len();
                return;
            }
            _ => {
                self.close_open(out);
                let index = self.start_block(
                    out,
                    ContentBlockStart::Thinking {
                        thinking: Cow::Borrowed(""),
                        signature: Cow::Borrowed(""),
                    },
                );
                self.open = Open::Thinking(index);
                index
            }
        };
        emit(
            out,
            &StreamEvent::ContentBlockDelta {
                index,
                delta: Delta::ThinkingDelta {
                    thinking: Cow::Borrowed(text),
                },
            },
        );
    }

    fn text(&mut self, text: &str, out: &mut Vec<u8>) {
        if text.is_empty() {
            return;
        }
        let index = if let Open::Text(index) = self.open {
            index
        } else {
            self.close_open(out);
            let index = self.start_block(
                out,
                ContentBlockStart::Text {
                    text: Cow::Borrowed(""),
                },
            );
            self.open = Open::Text(index);
            self.content_started = true;
            index
        };
        emit(
            out,
            &StreamEvent::ContentBlockDelta {
                index,
                delta: Delta::TextDelta {
                    text: Cow::Borrowed(text),
                },
            },
        );
    }

    fn tool_fragment(
        &mut self,
        position: usize,
        call: ToolCallDelta<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), TranslateError> {
        let key = call
            .index
            .unwrap_or_else(|| u32::try_from(position).unwrap_or(u32::MAX));
        let id = call.id.filter(|id| !id.is_empty());
        let current = self.tools.iter().rposition(|slot| slot.key == key);
        let slot = match current {
            Some(slot)
                if id.is_none()
                    || self.tools[slot].id.is_none()
                    || self.tools[slot].id.as_deref() == id.as_deref() =>
            {
                slot
            }
            // A new id under a known key is a new call (parallel calls all sent as index 0).
            _ => {
                self.tools.push(ToolSlot {
                    key,
                    id: None,
                    name: None,
                    args: String::new(),
                    json: JsonPrefix::default(),
                    forward: String::new(),
                    flushed: 0,
                    index: None,
                    closed: false,
                });
                self.tools.len() - 1
            }
        };
        let (name, arguments) = match call.function {
            Some(function) => (function.name, function.arguments),
            None => (None, None),
        };
        let tool = &mut self.tools[slot];
        if tool.id.is_none() {
            tool.id = id.map(Cow::into_owned);
        }
        if tool.name.is_none() {
            tool.name = name.filter(|n| !n.is_empty()).map(Cow::into_owned);
        }
        if let Some(arguments) = arguments {
            let text: Cow<'_, str> = match arguments {
                Arguments::Text(text) => text,
                Arguments::Object(value) => Cow::Owned(value.to_string()),
            };
            let new = if !tool.args.is_empty()
                && text.len() >= tool.args.len()
                && text.starts_with(tool.args.as_str())
            {
                // A cumulative snapshot: only the part after what we have is new.
                &text[tool.args.len()..]
            } else {
                &text[..]
            };
            if tool.closed {
                if new.trim().is_empty() {
                    return Ok(());
                }
                return Err(TranslateError::LateToolArguments { index: key });
            }
            // Arguments are kept whole (to recognise snapshots) and may wait for a name that
            // never comes: their total is bounded.
            self.tool_args_bytes += new.len();
            if self.tool_args_bytes > crate::limits::MAX_TOOL_ARGUMENTS {
                return Err(TranslateError::ToolArgumentsTooLarge {
                    limit: crate::limits::MAX_TOOL_ARGUMENTS,
                });
            }
            tool.json.feed(new, &mut tool.forward);
            tool.args.push_str(new);
        }
        if tool.closed {
            return Ok(());
        }
        match self.open {
            Open::Tool(open) if open == slot => self.flush_args(slot, out),
            _ if self.tools[slot].name.is_none() => {}
            Open::Tool(open) if !self.tools[open].json.is_complete() => {}
            // An earlier call is still incomplete: keep the order of first appearance.
            _ if self
                .waiting(slot)
                .any(|w| !self.tools[w].json.is_complete()) => {}
            _ => {
                self.close_open(out);
                // Complete calls that were waiting behind the closed one go first, in order.
                for waiting in self.waiting(slot).collect::<Vec<_>>() {
                    self.open_tool(waiting, out);
                    self.close_open(out);
                }
                self.open_tool(slot, out);
            }
        }
        Ok(())
    }

    /// The named calls before `slot` whose blocks have not been started yet.
    fn waiting(&self, slot: usize) -> impl Iterator<Item = usize> + '_ {
        (0..slot).filter(|&w| {
            let tool = &self.tools[w];
            tool.index.is_none() && !tool.closed && tool.name.is_some()
        })
    }

    fn open_tool(&mut self, slot: usize, out: &mut Vec<u8>) {
        let index = self.next_index;
        let id = tool_use_id(self.tools[slot].id.as_deref(), &self.message_id, index);
        let name = self.tools[slot].name.clone().unwrap_or_default();
        self.start_block(
            out,
            ContentBlockStart::ToolUse {
                id: Cow::Owned(id),
                name: Cow::Owned(name),
                input: Value::Object(Map::new()),
            },
        );
        self.tools[slot].index = Some(index);
        self.open = Open::Tool(slot);
        self.content_started = true;
        self.emitted_tool_use = true;
        self.flush_args(slot, out);
    }

    fn flush_args(&mut self, slot: usize, out: &mut Vec<u8>) {
        let tool = &mut self.tools[slot];
        let (Some(index), false) = (tool.index, tool.flushed == tool.forward.len()) else {
            return;
        };
        emit(
            out,
            &StreamEvent::ContentBlockDelta {
                index,
                delta: Delta::InputJsonDelta {
                    partial_json: Cow::Borrowed(&tool.forward[tool.flushed..]),
                },
            },
        );
        tool.flushed = tool.forward.len();
    }

    /// Opens, flushes and closes, one at a time in order of first appearance, every call that
    /// is still only buffered.
    fn flush_waiting_tools(&mut self, out: &mut Vec<u8>) {
        for slot in 0..self.tools.len() {
            let tool = &mut self.tools[slot];
            if tool.index.is_some() || tool.closed {
                continue;
            }
            if tool.name.is_none() {
                tool.closed = true;
                self.dropped_tool_calls += 1;
                continue;
            }
            self.open_tool(slot, out);
            self.close_open(out);
        }
    }

    fn start_block(&mut self, out: &mut Vec<u8>, content_block: ContentBlockStart<'_>) -> u32 {
        let index = self.next_index;
        self.next_index += 1;
        self.committed = true;
        emit(
            out,
            &StreamEvent::ContentBlockStart {
                index,
                content_block,
            },
        );
        index
    }

    /// Closes the open block; a tool block first gets whatever its arguments need to parse.
    fn close_open(&mut self, out: &mut Vec<u8>) {
        let index = match self.open {
            Open::None => return,
            Open::Thinking(index) | Open::Text(index) => index,
            Open::Tool(slot) => {
                let tool = &mut self.tools[slot];
                let completion = tool.json.completion();
                tool.forward.push_str(&completion);
                tool.closed = true;
                self.flush_args(slot, out);
                // unwrap-free: an open tool always has its block index.
                self.tools[slot].index.unwrap_or_default()
            }
        };
        emit(out, &StreamEvent::ContentBlockStop { index });
        self.open = Open::None;
    }
}

fn upstream_error(kind: Option<&str>, code: Option<&Value>, message: String) -> TranslateError {
    let mapped = error::map(None, kind, code, message);
    TranslateError::UpstreamError {
        status: mapped.status,
        error_type: mapped.error_type.to_owned(),
        message: mapped.message,
    }
}

/// The event sequence of a whole Anthropic message (a non-streaming `MessagesResponse`
/// body), for a provider that answered a streaming request with one JSON body: each block is
/// opened, filled with one delta and closed, in order.
pub fn events_from_message(body: &[u8], out: &mut Vec<u8>) -> Result<(), TranslateError> {
    let message: MessagesResponse =
        serde_json::from_slice(body).map_err(TranslateError::InvalidResponse)?;
    let start = MessagesResponse {
        content: Vec::new(),
        stop_reason: None,
        stop_sequence: None,
        usage: Usage {
            output_tokens: 0,
            ..message.usage
        },
        ..message.clone()
    };
    emit(out, &StreamEvent::MessageStart { message: start });
    let mut index = 0u32;
    for block in &message.content {
        let (start, delta) = match block {
            ContentBlock::Text { text } => (
                ContentBlockStart::Text {
                    text: Cow::Borrowed(""),
                },
                Delta::TextDelta {
                    text: Cow::Borrowed(text),
                },
            ),
            ContentBlock::Thinking {
                thinking,
                signature,
            } => (
                ContentBlockStart::Thinking {
                    thinking: Cow::Borrowed(""),
                    signature: Cow::Borrowed(signature),
                },
                Delta::ThinkingDelta {
                    thinking: Cow::Borrowed(thinking),
                },
            ),
            ContentBlock::ToolUse { id, name, input } => (
                ContentBlockStart::ToolUse {
                    id: Cow::Borrowed(id),
                    name: Cow::Borrowed(name),
                    input: Value::Object(Map::new()),
                },
                Delta::InputJsonDelta {
                    partial_json: Cow::Owned(input.to_string()),
                },
            ),
            _ => continue,
        };
        emit(
            out,
            &StreamEvent::ContentBlockStart {
                index,
                content_block: start,
            },
        );
        emit(out, &StreamEvent::ContentBlockDelta { index, delta });
        emit(out, &StreamEvent::ContentBlockStop { index });
        index += 1;
    }
    emit(
        out,
        &StreamEvent::MessageDelta {
            delta: MessageDeltaBody {
                stop_reason: message.stop_reason.clone(),
                stop_sequence: message.stop_sequence.clone(),
            },
            usage: message.usage,
        },
    );
    emit(out, &StreamEvent::MessageStop);
    Ok(())
}

/// Appends `event: NAME\ndata: JSON\n\n`, serialising straight into `out`.
fn emit(out: &mut Vec<u8>, event: &StreamEvent<'_>) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(event.name().as_bytes());
    out.extend_from_slice(b"\ndata: ");
    // unwrap: stream events are strings, numbers and JSON values; writing to a Vec cannot fail.
    serde_json::to_writer(&mut *out, event).expect("stream event serialises");
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
mod tests;
