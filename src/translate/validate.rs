//! A checker for Anthropic event streams, for tests, fuzzing and diagnostics.
//!
//! [`validate`] checks the grammar Claude Code relies on (docs/claude-code.md#event-grammar):
//! `message_start` first and once; content blocks started at indices 0, 1, 2, … one at a time;
//! deltas of the open block's type; tool input that parses at `content_block_stop`; no empty
//! text block; `message_delta` (with `stop_reason`, `stop_sequence` and all four usage
//! counters) then `message_stop` last; nothing after the end. It reassembles the message the
//! events describe, the way the SDK accumulator does, so a stream can be compared with a
//! non-streaming response.

#![allow(
    clippy::too_many_lines,
    reason = "one linear walk over the event grammar"
)]

use serde_json::{Value, json};

use crate::sse::SseParser;

/// How a valid Anthropic stream ended.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// `message_stop`: the reassembled message.
    Message(Value),
    /// An `error` event: its type and message, and the message as far as it got.
    Error {
        error_type: String,
        message: String,
        partial: Value,
    },
}

impl Outcome {
    /// The reassembled message; panics (for tests) on an error outcome.
    #[track_caller]
    pub fn message(self) -> Value {
        match self {
            Self::Message(message) => message,
            Self::Error {
                error_type,
                message,
                ..
            } => panic!("stream ended with an error event: {error_type}: {message}"),
        }
    }
}

/// Checks that `bytes` is a well-formed Anthropic event stream and reassembles it; the error
/// says which event breaks which rule.
pub fn validate(bytes: &[u8]) -> Result<Outcome, String> {
    let mut parser = SseParser::new();
    parser.push(bytes);
    let mut events = Vec::new();
    while let Some(event) = parser.next_event() {
        events.push(event.map_err(|e| format!("unparseable SSE: {e}"))?);
    }
    if let Some(event) = parser.finish() {
        let event = event.map_err(|e| format!("unparseable SSE: {e}"))?;
        return Err(format!(
            "event without terminating blank line: {:?}",
            event.data
        ));
    }

    let mut message: Option<Value> = None;
    let mut blocks: Vec<Value> = Vec::new();
    let mut partial_json: Vec<String> = Vec::new();
    let mut open: Option<(usize, String)> = None;
    let mut delta_seen = false;
    let mut ended = None;
    for (n, event) in events.iter().enumerate() {
        if let Some(outcome) = ended.take() {
            let _: Outcome = outcome;
            return Err(format!(
                "event {n} after the end of the stream: {}",
                event.data
            ));
        }
        let name = event
            .event
            .as_deref()
            .ok_or_else(|| format!("event {n} has no event name"))?;
        let data: Value = serde_json::from_str(&event.data)
            .map_err(|e| format!("event {n} data is not JSON ({e}): {}", event.data))?;
        let kind = data["type"].as_str().unwrap_or_default();
        if kind != name {
            return Err(format!("event {n}: name {name} but type {kind}"));
        }
        if message.is_none() && name != "message_start" && name != "error" {
            return Err(format!("event {n} ({name}) before message_start"));
        }
        match name {
            "message_start" => {
                if message.is_some() {
                    return Err(format!("event {n}: second message_start"));
                }
                let m = &data["message"];
                check_usage(&m["usage"]).map_err(|e| format!("message_start usage: {e}"))?;
                if m["content"] != json!([]) || !m["stop_reason"].is_null() {
                    return Err(format!("message_start not empty: {m}"));
                }
                if m.get("stop_sequence") != Some(&Value::Null) {
                    return Err("message_start lacks stop_sequence: null".to_owned());
                }
                message = Some(m.clone());
            }
            "content_block_start" => {
                if delta_seen {
                    return Err(format!("event {n}: content block after message_delta"));
                }
                if let Some((index, _)) = &open {
                    return Err(format!("event {n}: block {index} still open"));
                }
                let index = data["index"].as_u64().ok_or("start without index")?;
                if usize::try_from(index).ok() != Some(blocks.len()) {
                    return Err(format!(
                        "event {n}: start of block {index}, expected {}",
                        blocks.len()
                    ));
                }
                let block = data["content_block"].clone();
                let block_type = block["type"].as_str().unwrap_or_default().to_owned();
                match block_type.as_str() {
                    "text" if block["text"] == "" => {}
                    "thinking" if block["thinking"] == "" && block["signature"] == "" => {}
                    "tool_use"
                        if block["input"] == json!({})
                            && block["name"].as_str().is_some_and(|s| !s.is_empty())
                            && block["id"].as_str().is_some_and(valid_tool_id) => {}
                    _ => return Err(format!("event {n}: bad content_block {block}")),
                }
                blocks.push(block);
                partial_json.push(String::new());
                open = Some((blocks.len() - 1, block_type));
            }
            "content_block_delta" => {
                let index = data["index"].as_u64().ok_or("delta without index")?;
                let Some((open_index, block_type)) = &open else {
                    return Err(format!("event {n}: delta for block {index} with none open"));
                };
                if usize::try_from(index).ok() != Some(*open_index) {
                    return Err(format!(
                        "event {n}: delta for block {index}, open is {open_index}"
                    ));
                }
                let delta = &data["delta"];
                let block = &mut blocks[*open_index];
                match (
                    delta["type"].as_str().unwrap_or_default(),
                    block_type.as_str(),
                ) {
                    ("text_delta", "text") => append(block, "text", &delta["text"])?,
                    ("thinking_delta", "thinking") => {
                        append(block, "thinking", &delta["thinking"])?;
                    }
                    ("signature_delta", "thinking") => {
                        append(block, "signature", &delta["signature"])?;
                    }
                    ("input_json_delta", "tool_use") => partial_json[*open_index].push_str(
                        delta["partial_json"]
                            .as_str()
                            .ok_or("partial_json not a string")?,
                    ),
                    (delta_type, block_type) => {
                        return Err(format!("event {n}: {delta_type} in a {block_type} block"));
                    }
                }
            }
            "content_block_stop" => {
                let index = data["index"].as_u64().ok_or("stop without index")?;
                let Some((open_index, block_type)) = open.take() else {
                    return Err(format!("event {n}: stop for block {index} with none open"));
                };
                if usize::try_from(index).ok() != Some(open_index) {
                    return Err(format!(
                        "event {n}: stop for block {index}, open is {open_index}"
                    ));
                }
                if block_type == "tool_use" {
                    let text = &partial_json[open_index];
                    let input: Value = if text.is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(text).map_err(|e| {
                            format!("event {n}: tool input does not parse ({e}): {text}")
                        })?
                    };
                    if !input.is_object() {
                        return Err(format!("event {n}: tool input is not an object: {input}"));
                    }
                    blocks[open_index]["input"] = input;
                }
                if block_type == "text" && blocks[open_index]["text"] == "" {
                    return Err(format!("event {n}: empty text block"));
                }
            }
            "message_delta" => {
                if let Some((index, _)) = &open {
                    return Err(format!("event {n}: message_delta with block {index} open"));
                }
                let delta = &data["delta"];
                if !delta["stop_reason"].is_string() {
                    return Err(format!("event {n}: message_delta without stop_reason"));
                }
                if delta.get("stop_sequence").is_none() {
                    return Err(format!("event {n}: message_delta without stop_sequence"));
                }
                check_usage(&data["usage"]).map_err(|e| format!("message_delta usage: {e}"))?;
                let m = message
                    .as_mut()
                    .ok_or("message_delta before message_start")?;
                m["stop_reason"] = delta["stop_reason"].clone();
                m["stop_sequence"] = delta["stop_sequence"].clone();
                m["usage"] = data["usage"].clone();
                delta_seen = true;
            }
            "message_stop" => {
                if !delta_seen {
                    return Err(format!("event {n}: message_stop without message_delta"));
                }
                let mut m = message.take().ok_or("message_stop before message_start")?;
                m["content"] = Value::Array(std::mem::take(&mut blocks));
                ended = Some(Outcome::Message(m));
            }
            "ping" => {}
            "error" => {
                let mut partial = message.take().unwrap_or(Value::Null);
                if partial.is_object() {
                    partial["content"] = Value::Array(std::mem::take(&mut blocks));
                }
                ended = Some(Outcome::Error {
                    error_type: data["error"]["type"]
                        .as_str()
                        .ok_or("error without type")?
                        .to_owned(),
                    message: data["error"]["message"]
                        .as_str()
                        .ok_or("error without message")?
                        .to_owned(),
                    partial,
                });
            }
            other => return Err(format!("event {n}: unexpected event type {other}")),
        }
    }
    ended.ok_or_else(|| "the stream ended without message_stop or error".to_owned())
}

fn append(block: &mut Value, field: &str, piece: &Value) -> Result<(), String> {
    let piece = piece
        .as_str()
        .ok_or_else(|| format!("{field} delta is not a string"))?;
    let Some(Value::String(text)) = block.get_mut(field) else {
        return Err(format!("block has no {field}"));
    };
    text.push_str(piece);
    Ok(())
}

fn check_usage(usage: &Value) -> Result<(), String> {
    let Value::Object(map) = usage else {
        return Err(format!("not an object: {usage}"));
    };
    for key in [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
    ] {
        if !map.get(key).is_some_and(Value::is_u64) {
            return Err(format!("{key} missing or not an integer in {usage}"));
        }
    }
    Ok(())
}

fn valid_tool_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
