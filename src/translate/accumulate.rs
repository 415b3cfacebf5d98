//! Reassembles an Anthropic event stream into the message it describes.
//!
//! An [`Accumulator`] is fed the events of one stream (event name and data) and builds the
//! [`Message`]: id, model, content blocks (text; `tool_use` with its input put together from
//! the `input_json_delta` pieces; thinking with its signature; other block types as they
//! started), stop reason, stop sequence and usage. It checks the order the blocks come in
//! (`message_start` first, blocks opened at 0, 1, 2, … one at a time, deltas of the open
//! block's type, `message_delta` then `message_stop` last) and reports an `error` event as an
//! error. It reads leniently what the order does not need: a `message_delta` usually carries
//! only `output_tokens`, so every usage counter is optional and one that is absent keeps its
//! earlier value; unknown events, block types and delta types are passed over.
//!
//! It is pure (no I/O, no clock): [`Accumulator::push`] says when the first content arrives,
//! so a caller timing the first token reads its own clock then.

use serde::Deserialize;
use serde_json::{Value, json};

/// The message a stream describes, as far as it got.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    pub id: String,
    pub model: String,
    pub content: Vec<Block>,
    pub stop_reason: Option<String>,
    pub stop_sequence: Option<String>,
    pub usage: Usage,
}

impl Message {
    /// The text of every text block, in order.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|block| match block {
                Block::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The message as a non-streaming Messages response writes it (a usage counter no event
    /// reported is left out).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": self.content.iter().map(Block::to_json).collect::<Vec<_>>(),
            "stop_reason": self.stop_reason,
            "stop_sequence": self.stop_sequence,
            "usage": self.usage.to_json(),
        })
    }
}

/// Token counts; each is `None` until an event reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
}

impl Usage {
    /// The counters an event reported, as a Messages response writes them.
    pub fn to_json(&self) -> Value {
        let counters = [
            ("input_tokens", self.input_tokens),
            (
                "cache_creation_input_tokens",
                self.cache_creation_input_tokens,
            ),
            ("cache_read_input_tokens", self.cache_read_input_tokens),
            ("output_tokens", self.output_tokens),
        ];
        Value::Object(
            counters
                .into_iter()
                .filter_map(|(key, count)| Some((key.to_owned(), Value::from(count?))))
                .collect(),
        )
    }

    /// Takes the counters `later` reports, keeping the others.
    fn merge(&mut self, later: Self) {
        let take = |mine: &mut Option<u64>, theirs: Option<u64>| {
            if theirs.is_some() {
                *mine = theirs;
            }
        };
        take(&mut self.input_tokens, later.input_tokens);
        take(&mut self.output_tokens, later.output_tokens);
        take(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        take(
            &mut self.cache_read_input_tokens,
            later.cache_read_input_tokens,
        );
    }
}

/// One content block of the message.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Text {
        text: String,
    },
    /// `input` is the assembled JSON once the block is closed (`{}` while it is open).
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    Thinking {
        thinking: String,
        signature: String,
    },
    /// A block of another type (server tools, redacted thinking), as it started.
    Other(Value),
}

impl Block {
    /// The block as a non-streaming Messages response writes it.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Text { text } => json!({"type": "text", "text": text}),
            Self::ToolUse { id, name, input } => {
                json!({"type": "tool_use", "id": id, "name": name, "input": input})
            }
            Self::Thinking {
                thinking,
                signature,
            } => json!({"type": "thinking", "thinking": thinking, "signature": signature}),
            Self::Other(value) => value.clone(),
        }
    }

    /// The block's `type`.
    pub fn kind(&self) -> &str {
        match self {
            Self::Text { .. } => "text",
            Self::ToolUse { .. } => "tool_use",
            Self::Thinking { .. } => "thinking",
            Self::Other(value) => value.get("type").and_then(Value::as_str).unwrap_or("?"),
        }
    }
}

/// What one event did, for a caller showing the answer as it streams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushed {
    /// This event is the first content of the stream (a block started or a delta arrived).
    pub first_content: bool,
    /// The answer text this event added (empty when none).
    pub text: String,
}

/// Why a stream does not describe a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccumulateError {
    /// The stream carried an `error` event. `body` is the event's data as it came.
    #[error("error event: {}", error_words(.error_type.as_deref(), .message.as_deref(), .body))]
    ErrorEvent {
        error_type: Option<String>,
        message: Option<String>,
        body: String,
    },
    /// An event's data is not what its name says.
    #[error("event {event} is not valid: {reason}")]
    InvalidEvent { event: String, reason: String },
    /// The events come in an order the grammar does not allow.
    #[error("event {event} out of order: {reason}")]
    OutOfOrder { event: String, reason: String },
    /// A tool's assembled input is not a JSON value.
    #[error("the input of tool_use block {index} is not JSON: {reason}")]
    ToolInput { index: usize, reason: String },
    /// The stream ended before `message_stop`.
    #[error("the stream ended before message_stop")]
    Truncated,
}

fn error_words(kind: Option<&str>, message: Option<&str>, body: &str) -> String {
    match (kind, message) {
        (Some(kind), Some(message)) => format!("{kind}: {message}"),
        (None, Some(message)) => message.to_owned(),
        (Some(kind), None) => kind.to_owned(),
        (None, None) => body.chars().take(300).collect(),
    }
}

/// Where the stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before `message_start`.
    Start,
    /// Blocks may start; `open` is the block being streamed.
    Content { open: Option<usize> },
    /// After `message_delta`: only `message_stop` (or another `message_delta`) may follow.
    Delta,
    /// After `message_stop` or an `error` event.
    Ended,
}

/// Builds a [`Message`] from the events of one Anthropic stream.
#[derive(Debug)]
pub struct Accumulator {
    message: Message,
    phase: Phase,
    /// The `partial_json` pieces of the open `tool_use` block.
    tool_input: String,
    content_began: bool,
    stopped: bool,
}

impl Default for Accumulator {
    fn default() -> Self {
        Self::new()
    }
}

impl Accumulator {
    pub fn new() -> Self {
        Self {
            message: Message::default(),
            phase: Phase::Start,
            tool_input: String::new(),
            content_began: false,
            stopped: false,
        }
    }

    /// The message as far as the stream got.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// Whether `message_stop` arrived.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The whole message, or [`AccumulateError::Truncated`] when `message_stop` never came.
    pub fn finish(self) -> Result<Message, AccumulateError> {
        if self.stopped {
            Ok(self.message)
        } else {
            Err(AccumulateError::Truncated)
        }
    }

    /// Takes one event: its SSE name (`None` to go by the data's `type`) and its data.
    pub fn push(&mut self, name: Option<&str>, data: &str) -> Result<Pushed, AccumulateError> {
        let name = match name {
            Some(name) => name.to_owned(),
            None => parse::<Kind>("(unnamed)", data)?.kind.unwrap_or_default(),
        };
        if self.phase == Phase::Ended {
            return Err(out_of_order(&name, "the stream already ended"));
        }
        let mut pushed = Pushed::default();
        match name.as_str() {
            "message_start" => self.start(&name, data)?,
            "content_block_start" => pushed = self.block_start(&name, data)?,
            "content_block_delta" => pushed = self.block_delta(&name, data)?,
            "content_block_stop" => {
                let event: BlockStop = parse(&name, data)?;
                self.open_block(&name, event.index)?;
                if let Block::ToolUse { input, .. } = &mut self.message.content[event.index] {
                    let text = std::mem::take(&mut self.tool_input);
                    *input = if text.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(&text).map_err(|e| AccumulateError::ToolInput {
                            index: event.index,
                            reason: e.to_string(),
                        })?
                    };
                }
                self.phase = Phase::Content { open: None };
            }
            "message_delta" => {
                let event: MessageDelta = parse(&name, data)?;
                if !matches!(self.phase, Phase::Content { open: None } | Phase::Delta) {
                    return Err(out_of_order(&name, self.not_here()));
                }
                if event.delta.stop_reason.is_some() {
                    self.message.stop_reason = event.delta.stop_reason;
                }
                if event.delta.stop_sequence.is_some() {
                    self.message.stop_sequence = event.delta.stop_sequence;
                }
                self.message.usage.merge(event.usage);
                self.phase = Phase::Delta;
            }
            "message_stop" => {
                if self.phase != Phase::Delta {
                    return Err(out_of_order(&name, "it must follow message_delta"));
                }
                self.phase = Phase::Ended;
                self.stopped = true;
            }
            "error" => {
                let event: ErrorEvent = parse(&name, data)?;
                self.phase = Phase::Ended;
                return Err(AccumulateError::ErrorEvent {
                    error_type: event.error.kind,
                    message: event.error.message,
                    body: data.to_owned(),
                });
            }
            // `ping` and event types added later carry nothing for the message.
            _ => {}
        }
        Ok(pushed)
    }

    fn block_start(&mut self, name: &str, data: &str) -> Result<Pushed, AccumulateError> {
        let event: BlockStart = parse(name, data)?;
        let Phase::Content { open: None } = self.phase else {
            return Err(out_of_order(name, self.not_here()));
        };
        if event.index != self.message.content.len() {
            return Err(out_of_order(
                name,
                &format!(
                    "block {} starts where block {} is next",
                    event.index,
                    self.message.content.len()
                ),
            ));
        }
        let block = start_block(name, event.content_block)?;
        let mut pushed = Pushed::default();
        if let Block::Text { text } = &block {
            pushed.text.clone_from(text);
        }
        self.message.content.push(block);
        self.tool_input.clear();
        self.phase = Phase::Content {
            open: Some(event.index),
        };
        pushed.first_content = self.begin_content();
        Ok(pushed)
    }

    fn block_delta(&mut self, name: &str, data: &str) -> Result<Pushed, AccumulateError> {
        let event: BlockDelta = parse(name, data)?;
        self.open_block(name, event.index)?;
        let mut pushed = Pushed::default();
        let block = &mut self.message.content[event.index];
        match (block, event.delta) {
            (Block::Text { text }, Delta::Text { text: more }) => {
                text.push_str(&more);
                pushed.text = more;
            }
            (Block::ToolUse { .. }, Delta::InputJson { partial_json }) => {
                self.tool_input.push_str(&partial_json);
            }
            (Block::Thinking { thinking, .. }, Delta::Thinking { thinking: more }) => {
                thinking.push_str(&more);
            }
            (Block::Thinking { signature, .. }, Delta::Signature { signature: s }) => {
                signature.push_str(&s);
            }
            (_, Delta::Other) => {}
            (block, delta) => {
                return Err(out_of_order(
                    name,
                    &format!("a {} in a {} block", delta.kind(), block.kind()),
                ));
            }
        }
        pushed.first_content = self.begin_content();
        Ok(pushed)
    }

    fn start(&mut self, name: &str, data: &str) -> Result<(), AccumulateError> {
        let event: MessageStart = parse(name, data)?;
        if self.phase != Phase::Start {
            return Err(out_of_order(name, "message_start comes once, first"));
        }
        let start = event.message;
        self.message.id = start.id;
        self.message.model = start.model;
        self.message.stop_reason = start.stop_reason;
        self.message.stop_sequence = start.stop_sequence;
        self.message.usage = start.usage;
        self.phase = Phase::Content { open: None };
        Ok(())
    }

    /// Checks that block `index` is the open one.
    fn open_block(&self, name: &str, index: usize) -> Result<(), AccumulateError> {
        match self.phase {
            Phase::Content { open: Some(open) } if open == index => Ok(()),
            Phase::Content { open: Some(open) } => Err(out_of_order(
                name,
                &format!("block {index} is not open (block {open} is)"),
            )),
            _ => Err(out_of_order(name, &format!("block {index} is not open"))),
        }
    }

    fn not_here(&self) -> &'static str {
        match self.phase {
            Phase::Start => "before message_start",
            Phase::Content { open: Some(_) } => "while a block is open",
            Phase::Content { open: None } | Phase::Ended => "here",
            Phase::Delta => "after message_delta",
        }
    }

    /// Whether this is the first content of the stream (and notes that content began).
    fn begin_content(&mut self) -> bool {
        !std::mem::replace(&mut self.content_began, true)
    }
}

fn out_of_order(event: &str, reason: &str) -> AccumulateError {
    AccumulateError::OutOfOrder {
        event: event.to_owned(),
        reason: reason.to_owned(),
    }
}

fn parse<'a, T: Deserialize<'a>>(event: &str, data: &'a str) -> Result<T, AccumulateError> {
    serde_json::from_str(data).map_err(|e| AccumulateError::InvalidEvent {
        event: event.to_owned(),
        reason: e.to_string(),
    })
}

fn start_block(event: &str, block: Value) -> Result<Block, AccumulateError> {
    let start = StartBlock::deserialize(&block).map_err(|e| AccumulateError::InvalidEvent {
        event: event.to_owned(),
        reason: format!("content_block: {e}"),
    })?;
    Ok(match start {
        StartBlock::Text { text } => Block::Text { text },
        StartBlock::ToolUse { id, name } => Block::ToolUse {
            id,
            name,
            input: json!({}),
        },
        StartBlock::Thinking {
            thinking,
            signature,
        } => Block::Thinking {
            thinking,
            signature,
        },
        StartBlock::Other => Block::Other(block),
    })
}

// The reading types: only what the accumulator needs, every field it can do without optional.

#[derive(Deserialize)]
struct Kind {
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct MessageStart {
    message: StartMessage,
}

#[derive(Deserialize)]
struct StartMessage {
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    stop_sequence: Option<String>,
    #[serde(default)]
    usage: Usage,
}

#[derive(Deserialize)]
struct BlockStart {
    index: usize,
    content_block: Value,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StartBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
        #[serde(default)]
        signature: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct BlockDelta {
    index: usize,
    delta: Delta,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Delta {
    #[serde(rename = "text_delta")]
    Text { text: String },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: String },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: String },
    #[serde(rename = "signature_delta")]
    Signature { signature: String },
    /// Citations and delta types added later.
    #[serde(other)]
    Other,
}

impl Delta {
    fn kind(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text_delta",
            Self::InputJson { .. } => "input_json_delta",
            Self::Thinking { .. } => "thinking_delta",
            Self::Signature { .. } => "signature_delta",
            Self::Other => "delta",
        }
    }
}

#[derive(Deserialize)]
struct BlockStop {
    index: usize,
}

#[derive(Deserialize)]
struct MessageDelta {
    #[serde(default)]
    delta: MessageDeltaBody,
    #[serde(default)]
    usage: Usage,
}

#[derive(Deserialize, Default)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    stop_sequence: Option<String>,
}

#[derive(Deserialize)]
struct ErrorEvent {
    #[serde(default)]
    error: ErrorBody,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[cfg(test)]
#[allow(
    clippy::needless_pass_by_value,
    reason = "the event builders take `json!` values as written"
)]
mod tests {
    use super::*;

    /// Feeds `(name, data)` pairs; the error of the first event that fails, with its position.
    fn feed(
        events: &[(&str, Value)],
    ) -> (Accumulator, Vec<Pushed>, Option<(usize, AccumulateError)>) {
        let mut acc = Accumulator::new();
        let mut pushed = Vec::new();
        for (n, (name, data)) in events.iter().enumerate() {
            match acc.push(Some(name), &data.to_string()) {
                Ok(p) => pushed.push(p),
                Err(e) => return (acc, pushed, Some((n, e))),
            }
        }
        (acc, pushed, None)
    }

    fn start(usage: Value) -> (&'static str, Value) {
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
                "role": "assistant", "model": "claude-x", "content": [], "stop_reason": null,
                "stop_sequence": null, "usage": usage}}),
        )
    }

    fn block_start(index: usize, block: Value) -> (&'static str, Value) {
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": block}),
        )
    }

    fn delta(index: usize, delta: Value) -> (&'static str, Value) {
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index, "delta": delta}),
        )
    }

    fn stop(index: usize) -> (&'static str, Value) {
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        )
    }

    fn message_delta(reason: &str, usage: Value) -> (&'static str, Value) {
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": reason,
                "stop_sequence": null}, "usage": usage}),
        )
    }

    fn message_stop() -> (&'static str, Value) {
        ("message_stop", json!({"type": "message_stop"}))
    }

    #[test]
    fn a_text_and_tool_use_stream_becomes_the_message() {
        let (acc, pushed, error) = feed(&[
            start(json!({"input_tokens": 20, "output_tokens": 1,
                "cache_creation_input_tokens": 5, "cache_read_input_tokens": 7})),
            ("ping", json!({"type": "ping"})),
            block_start(0, json!({"type": "text", "text": ""})),
            delta(0, json!({"type": "text_delta", "text": "Let me "})),
            delta(0, json!({"type": "text_delta", "text": "look."})),
            stop(0),
            block_start(
                1,
                json!({"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}),
            ),
            delta(1, json!({"type": "input_json_delta", "partial_json": ""})),
            delta(
                1,
                json!({"type": "input_json_delta", "partial_json": "{\"comm"}),
            ),
            delta(
                1,
                json!({"type": "input_json_delta", "partial_json": "and\": \"ls\"}"}),
            ),
            stop(1),
            message_delta("tool_use", json!({"output_tokens": 15})),
            message_stop(),
        ]);
        assert_eq!(error, None);
        let texts: Vec<&str> = pushed.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "", "", "", "Let me ", "look.", "", "", "", "", "", "", "", ""
            ]
        );
        let first: Vec<usize> = (0..pushed.len())
            .filter(|&n| pushed[n].first_content)
            .collect();
        assert_eq!(first, [2], "the first block start is the first content");
        let message = acc.finish().unwrap();
        assert_eq!(
            (message.id.as_str(), message.model.as_str()),
            ("msg_1", "claude-x")
        );
        let blocks: Vec<Value> = message.content.iter().map(Block::to_json).collect();
        assert_eq!(
            blocks,
            [
                json!({"type": "text", "text": "Let me look."}),
                json!({"type": "tool_use", "id": "toolu_1", "name": "Bash",
                    "input": {"command": "ls"}}),
            ]
        );
        assert_eq!(message.text(), "Let me look.");
        assert_eq!(message.stop_reason.as_deref(), Some("tool_use"));
        assert_eq!(message.stop_sequence, None);
        assert_eq!(
            message.usage,
            Usage {
                input_tokens: Some(20),
                output_tokens: Some(15),
                cache_creation_input_tokens: Some(5),
                cache_read_input_tokens: Some(7),
            }
        );
    }

    #[test]
    fn a_thinking_stream_keeps_its_signature_and_unknown_blocks() {
        let (acc, _, error) = feed(&[
            start(json!({"input_tokens": 3, "output_tokens": 1})),
            block_start(
                0,
                json!({"type": "thinking", "thinking": "", "signature": ""}),
            ),
            delta(0, json!({"type": "thinking_delta", "thinking": "Hmm, "})),
            delta(0, json!({"type": "thinking_delta", "thinking": "two."})),
            delta(0, json!({"type": "signature_delta", "signature": "EqQB"})),
            stop(0),
            block_start(1, json!({"type": "redacted_thinking", "data": "abc"})),
            stop(1),
            block_start(2, json!({"type": "text", "text": ""})),
            delta(2, json!({"type": "citations_delta", "citation": {}})),
            delta(2, json!({"type": "text_delta", "text": "2"})),
            stop(2),
            message_delta("end_turn", json!({"output_tokens": 9})),
            message_stop(),
        ]);
        assert_eq!(error, None);
        let message = acc.finish().unwrap();
        assert_eq!(
            message.content,
            [
                Block::Thinking {
                    thinking: "Hmm, two.".into(),
                    signature: "EqQB".into()
                },
                Block::Other(json!({"type": "redacted_thinking", "data": "abc"})),
                Block::Text { text: "2".into() },
            ]
        );
        assert_eq!(
            message.content[0].to_json(),
            json!({"type": "thinking", "thinking": "Hmm, two.", "signature": "EqQB"})
        );
    }

    #[test]
    fn a_partial_usage_in_message_delta_keeps_the_other_counters() {
        let (acc, _, error) = feed(&[
            start(json!({"input_tokens": 12, "output_tokens": 1,
                "cache_read_input_tokens": 4})),
            block_start(0, json!({"type": "text", "text": "Hi"})),
            stop(0),
            (
                "message_delta",
                json!({"type": "message_delta",
                "delta": {"stop_reason": "max_tokens"}, "usage": {"output_tokens": 3}}),
            ),
            message_stop(),
        ]);
        assert_eq!(error, None);
        let message = acc.finish().unwrap();
        assert_eq!(message.stop_reason.as_deref(), Some("max_tokens"));
        assert_eq!(
            message.usage,
            Usage {
                input_tokens: Some(12),
                output_tokens: Some(3),
                cache_creation_input_tokens: None,
                cache_read_input_tokens: Some(4),
            }
        );
        assert_eq!(message.text(), "Hi");
        assert_eq!(
            message.to_json(),
            json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
                "content": [{"type": "text", "text": "Hi"}], "stop_reason": "max_tokens",
                "stop_sequence": null,
                "usage": {"input_tokens": 12, "output_tokens": 3, "cache_read_input_tokens": 4}}),
            "a counter no event reported is left out"
        );
    }

    #[test]
    fn an_error_event_is_an_error_and_ends_the_stream() {
        let error_data = json!({"type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"}});
        let (mut acc, _, error) = feed(&[
            start(json!({"input_tokens": 1})),
            block_start(0, json!({"type": "text", "text": ""})),
            delta(0, json!({"type": "text_delta", "text": "Hel"})),
            ("error", error_data.clone()),
        ]);
        let (n, error) = error.unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            error,
            AccumulateError::ErrorEvent {
                error_type: Some("overloaded_error".into()),
                message: Some("Overloaded".into()),
                body: error_data.to_string(),
            }
        );
        assert_eq!(
            error.to_string(),
            "error event: overloaded_error: Overloaded"
        );
        assert_eq!(acc.message().text(), "Hel", "the message as far as it got");
        assert!(matches!(
            acc.push(Some("message_stop"), r#"{"type":"message_stop"}"#),
            Err(AccumulateError::OutOfOrder { .. })
        ));
        assert_eq!(acc.finish(), Err(AccumulateError::Truncated));
    }

    #[test]
    fn a_cut_stream_is_truncated() {
        let (acc, _, error) = feed(&[
            start(json!({"input_tokens": 1})),
            block_start(0, json!({"type": "text", "text": ""})),
            delta(0, json!({"type": "text_delta", "text": "Hel"})),
        ]);
        assert_eq!(error, None);
        assert!(!acc.stopped());
        assert_eq!(acc.finish(), Err(AccumulateError::Truncated));
    }

    #[test]
    fn grammar_violations_say_which_event_and_why() {
        let text = json!({"type": "text", "text": ""});
        let cases: Vec<(Vec<(&str, Value)>, &str)> = vec![
            (
                vec![block_start(0, text.clone())],
                "event content_block_start out of order: before message_start",
            ),
            (
                vec![start(json!({})), start(json!({}))],
                "event message_start out of order: message_start comes once, first",
            ),
            (
                vec![start(json!({})), block_start(1, text.clone())],
                "event content_block_start out of order: block 1 starts where block 0 is next",
            ),
            (
                vec![
                    start(json!({})),
                    block_start(0, text.clone()),
                    block_start(1, text.clone()),
                ],
                "event content_block_start out of order: while a block is open",
            ),
            (
                vec![
                    start(json!({})),
                    delta(0, json!({"type": "text_delta", "text": "x"})),
                ],
                "event content_block_delta out of order: block 0 is not open",
            ),
            (
                vec![
                    start(json!({})),
                    block_start(0, text.clone()),
                    delta(0, json!({"type": "input_json_delta", "partial_json": "{"})),
                ],
                "event content_block_delta out of order: a input_json_delta in a text block",
            ),
            (
                vec![
                    start(json!({})),
                    block_start(0, json!({"type": "tool_use", "id": "t", "name": "n"})),
                    delta(
                        0,
                        json!({"type": "input_json_delta", "partial_json": "{\"a\":"}),
                    ),
                    stop(0),
                ],
                "the input of tool_use block 0 is not JSON: EOF while parsing a value at line 1 column 5",
            ),
            (
                vec![start(json!({})), message_stop()],
                "event message_stop out of order: it must follow message_delta",
            ),
            (
                vec![
                    start(json!({})),
                    block_start(0, text.clone()),
                    message_delta("end_turn", json!({})),
                ],
                "event message_delta out of order: while a block is open",
            ),
            (
                vec![("content_block_stop", json!({"type": "content_block_stop"}))],
                "event content_block_stop is not valid: missing field `index` at line 1 column 29",
            ),
        ];
        for (events, expected) in cases {
            let (_, _, error) = feed(&events);
            let (n, error) = error.unwrap_or_else(|| panic!("no error for {expected}"));
            assert_eq!(n, events.len() - 1, "{expected}");
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn an_unnamed_event_goes_by_its_data_type() {
        let mut acc = Accumulator::new();
        acc.push(None, r#"{"type":"message_start","message":{"model":"m"}}"#)
            .unwrap();
        assert_eq!(acc.message().model, "m");
        assert!(matches!(
            acc.push(None, "not json"),
            Err(AccumulateError::InvalidEvent { .. })
        ));
    }
}
