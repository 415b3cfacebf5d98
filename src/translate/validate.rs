//! A checker for Anthropic event streams, for tests, fuzzing and diagnostics.
//!
//! [`validate`] feeds the events to the product's [`Accumulator`], which reassembles the
//! message and checks the order Claude Code relies on: `message_start` first and once; content
//! blocks started at indices 0, 1, 2, … one at a time; deltas of the open block's type; tool
//! input that parses at `content_block_stop`; `message_delta` then `message_stop` last; nothing
//! after the end. On top it checks what the accumulator reads leniently: every event is named
//! and its data's `type` repeats the name; no event type, block type or delta type it does not
//! know; nothing but `error` before `message_start`; `message_start` empty (no content, null
//! `stop_reason`, `stop_sequence: null`); blocks start empty, tool ids valid; no empty text
//! block; tool input an object; `message_delta` with `stop_reason` and `stop_sequence`; all
//! four usage counters in `message_start` and `message_delta`; the last event terminated. The
//! message comes back shaped like a non-streaming response, so a stream can be compared with
//! one.

use serde_json::{Value, json};

use crate::sse::SseParser;
use crate::translate::accumulate::{AccumulateError, Accumulator, Block};

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

    let mut accumulator = Accumulator::new();
    let mut started = false;
    let mut tool_input = ToolInput::default();
    let mut ended = None;
    for (n, event) in events.iter().enumerate() {
        if ended.is_some() {
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
        if !started && name != "message_start" && name != "error" {
            return Err(format!("event {n} ({name}) before message_start"));
        }
        check_event(
            n,
            name,
            &data,
            accumulator.message().content.last(),
            &mut tool_input,
        )?;
        match accumulator.push(Some(name), &event.data) {
            Ok(_) => {}
            Err(AccumulateError::ErrorEvent {
                error_type,
                message,
                ..
            }) => {
                ended = Some(Outcome::Error {
                    error_type: error_type.ok_or("error without type")?,
                    message: message.ok_or("error without message")?,
                    partial: if started {
                        accumulator.message().to_json()
                    } else {
                        Value::Null
                    },
                });
                continue;
            }
            Err(AccumulateError::ToolInput { reason, .. }) => {
                return Err(format!("event {n}: tool input does not parse ({reason})"));
            }
            Err(error) => return Err(format!("event {n}: {error}")),
        }
        match name {
            "message_start" => started = true,
            "content_block_stop" => {
                check_closed_block(n, accumulator.message().content.last(), &tool_input)?;
            }
            "message_stop" => ended = Some(Outcome::Message(accumulator.message().to_json())),
            _ => {}
        }
    }
    ended.ok_or_else(|| "the stream ended without message_stop or error".to_owned())
}

/// What the `partial_json` pieces of the open `tool_use` block looked like.
#[derive(Default)]
struct ToolInput {
    /// Some piece was not empty.
    any: bool,
    /// Some piece had a character that is not whitespace.
    non_blank: bool,
}

/// The checks on one event's data that the accumulator does not make (it reads leniently).
fn check_event(
    n: usize,
    name: &str,
    data: &Value,
    last_block: Option<&Block>,
    tool_input: &mut ToolInput,
) -> Result<(), String> {
    match name {
        "message_start" => {
            let m = &data["message"];
            check_usage(&m["usage"]).map_err(|e| format!("message_start usage: {e}"))?;
            if m["content"] != json!([]) || !m["stop_reason"].is_null() {
                return Err(format!("message_start not empty: {m}"));
            }
            if m.get("stop_sequence") != Some(&Value::Null) {
                return Err("message_start lacks stop_sequence: null".to_owned());
            }
        }
        "content_block_start" => {
            let block = &data["content_block"];
            match block["type"].as_str().unwrap_or_default() {
                "text" if block["text"] == "" => {}
                "thinking" if block["thinking"] == "" && block["signature"] == "" => {}
                "tool_use"
                    if block["input"] == json!({})
                        && block["name"].as_str().is_some_and(|s| !s.is_empty())
                        && block["id"].as_str().is_some_and(valid_tool_id) => {}
                _ => return Err(format!("event {n}: bad content_block {block}")),
            }
            *tool_input = ToolInput::default();
        }
        "content_block_delta" => {
            let delta = &data["delta"];
            match delta["type"].as_str().unwrap_or_default() {
                "text_delta" | "thinking_delta" | "signature_delta" => {}
                "input_json_delta" => {
                    if let Some(piece) = delta["partial_json"].as_str() {
                        tool_input.any |= !piece.is_empty();
                        tool_input.non_blank |= piece.chars().any(|c| !c.is_whitespace());
                    }
                }
                other => {
                    let kind = last_block.map_or("no", Block::kind);
                    return Err(format!("event {n}: {other} in a {kind} block"));
                }
            }
        }
        "message_delta" => {
            let delta = &data["delta"];
            if !delta["stop_reason"].is_string() {
                return Err(format!("event {n}: message_delta without stop_reason"));
            }
            if delta.get("stop_sequence").is_none() {
                return Err(format!("event {n}: message_delta without stop_sequence"));
            }
            check_usage(&data["usage"]).map_err(|e| format!("message_delta usage: {e}"))?;
        }
        "content_block_stop" | "message_stop" | "ping" | "error" => {}
        other => return Err(format!("event {n}: unexpected event type {other}")),
    }
    Ok(())
}

/// The checks on a block just closed: text is not empty, tool input is a JSON object (the
/// accumulator takes blank input as `{}`; here only no input at all is).
fn check_closed_block(
    n: usize,
    block: Option<&Block>,
    tool_input: &ToolInput,
) -> Result<(), String> {
    match block {
        Some(Block::Text { text }) if text.is_empty() => {
            Err(format!("event {n}: empty text block"))
        }
        Some(Block::ToolUse { .. }) if tool_input.any && !tool_input.non_blank => {
            Err(format!("event {n}: tool input does not parse: it is blank"))
        }
        Some(Block::ToolUse { input, .. }) if !input.is_object() => {
            Err(format!("event {n}: tool input is not an object: {input}"))
        }
        _ => Ok(()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const USAGE: &str = r#"{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":1,"output_tokens":2}"#;

    /// A stream of `(name, data)` events, each terminated.
    fn stream(events: &[(&str, String)]) -> Vec<u8> {
        events
            .iter()
            .flat_map(|(name, data)| format!("event: {name}\ndata: {data}\n\n").into_bytes())
            .collect()
    }

    fn start() -> (&'static str, String) {
        (
            "message_start",
            format!(
                r#"{{"type":"message_start","message":{{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{USAGE}}}}}"#
            ),
        )
    }

    fn ev(name: &'static str, data: &str) -> (&'static str, String) {
        (name, data.to_owned())
    }

    fn tool_start() -> (&'static str, String) {
        ev(
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"Bash","input":{}}}"#,
        )
    }

    fn tool_piece(piece: &str) -> (&'static str, String) {
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": piece}})
            .to_string(),
        )
    }

    fn stop() -> (&'static str, String) {
        ev(
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        )
    }

    fn end() -> Vec<(&'static str, String)> {
        vec![
            (
                "message_delta",
                format!(
                    r#"{{"type":"message_delta","delta":{{"stop_reason":"tool_use","stop_sequence":null}},"usage":{USAGE}}}"#
                ),
            ),
            ev("message_stop", r#"{"type":"message_stop"}"#),
        ]
    }

    fn with_tool_input(pieces: &[&str]) -> Vec<u8> {
        let mut events = vec![start(), tool_start()];
        events.extend(pieces.iter().map(|p| tool_piece(p)));
        events.push(stop());
        events.extend(end());
        stream(&events)
    }

    #[test]
    fn a_well_formed_stream_is_the_non_streaming_message() {
        let message = validate(&with_tool_input(&["{\"command\"", ": \"ls\"}"]))
            .unwrap()
            .message();
        assert_eq!(
            message,
            json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash",
                    "input": {"command": "ls"}}],
                "stop_reason": "tool_use", "stop_sequence": null,
                "usage": serde_json::from_str::<Value>(USAGE).unwrap()})
        );
        let no_input = validate(&with_tool_input(&[])).unwrap().message();
        assert_eq!(no_input["content"][0]["input"], json!({}));
    }

    #[test]
    fn an_error_event_gives_the_partial_message_or_null_before_message_start() {
        let error = ev(
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        let outcome = validate(&stream(&[start(), tool_start(), error.clone()])).unwrap();
        let Outcome::Error {
            error_type,
            message,
            partial,
        } = outcome
        else {
            panic!("not an error: {outcome:?}");
        };
        assert_eq!(
            (error_type.as_str(), message.as_str()),
            ("overloaded_error", "Overloaded")
        );
        assert_eq!(partial["content"][0]["name"], "Bash");
        assert_eq!(partial["stop_reason"], Value::Null);
        assert!(matches!(
            validate(&stream(&[error])),
            Ok(Outcome::Error {
                partial: Value::Null,
                ..
            })
        ));
    }

    #[test]
    fn the_strict_rules_beyond_the_accumulator_are_kept() {
        let text_start = ev(
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        );
        let ping = ev("ping", r#"{"type":"ping"}"#);
        let mut unterminated = with_tool_input(&[]);
        unterminated.truncate(unterminated.len() - 1);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (with_tool_input(&[" \n "]), "tool input does not parse"),
            (with_tool_input(&["[1]"]), "tool input is not an object"),
            (
                with_tool_input(&["{\"a\":"]),
                "event 3: tool input does not parse (EOF",
            ),
            (
                stream(&[start(), text_start, stop()]),
                "event 2: empty text block",
            ),
            (
                stream(&[ping.clone(), start()]),
                "event 0 (ping) before message_start",
            ),
            (
                stream(&[start(), ev("ping", r#"{"type":"pong"}"#)]),
                "name ping but type pong",
            ),
            (
                stream(&[start(), ev("surprise", r#"{"type":"surprise"}"#)]),
                "unexpected event type surprise",
            ),
            (
                stream(&[
                    start(),
                    ev(
                        "content_block_start",
                        r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"bad id","name":"Bash","input":{}}}"#,
                    ),
                ]),
                "bad content_block",
            ),
            (
                stream(&[
                    start(),
                    tool_start(),
                    ev(
                        "content_block_delta",
                        r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta"}}"#,
                    ),
                ]),
                "event 2: citations_delta in a tool_use block",
            ),
            (
                stream(&[(
                    "message_start",
                    start().1.replace(r#","stop_sequence":null"#, ""),
                )]),
                "message_start lacks stop_sequence: null",
            ),
            (
                stream(&[(
                    "message_start",
                    start().1.replace(r#""output_tokens":2"#, r#""x":2"#),
                )]),
                "message_start usage: output_tokens missing",
            ),
            (
                stream(&[
                    start(),
                    ev(
                        "message_delta",
                        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}"#,
                    ),
                ]),
                "message_delta usage: input_tokens missing",
            ),
            (
                [with_tool_input(&[]), stream(&[ping])].concat(),
                "event 5 after the end of the stream",
            ),
            (unterminated, "event without terminating blank line"),
            (
                stream(&[start()]),
                "the stream ended without message_stop or error",
            ),
        ];
        for (bytes, expected) in cases {
            let problem = validate(&bytes).expect_err(expected);
            assert!(problem.contains(expected), "{problem} (wanted {expected})");
        }
    }
}
