//! The simulated answer in either wire format: an Anthropic message or event stream, an
//! `OpenAI` completion or chunk stream, and the `count_tokens` and model-list bodies.

use std::fmt::Write as _;

use bytes::Bytes;
use serde_json::{Value, json};

use super::SimOptions;
use super::answer::{Answer, BadRequest, plan, sample_object};
use crate::core::provider::ProviderKind;

/// A generated answer, ready to send.
#[derive(Debug)]
pub(crate) struct Generated {
    /// The whole body.
    pub(crate) body: Bytes,
    /// For a stream, the end offset of each event in `body`; empty for a JSON body.
    pub(crate) event_ends: Vec<usize>,
}

impl Generated {
    pub(crate) fn is_stream(&self) -> bool {
        !self.event_ends.is_empty()
    }

    /// The body split into one chunk per event (zero-copy).
    pub(crate) fn events(&self) -> Vec<Bytes> {
        let mut start = 0;
        self.event_ends
            .iter()
            .map(|&end| {
                let chunk = self.body.slice(start..end);
                start = end;
                chunk
            })
            .collect()
    }
}

/// A body being built, event by event.
struct Events {
    buf: String,
    ends: Vec<usize>,
}

impl Events {
    fn new() -> Self {
        Self {
            buf: String::with_capacity(2048),
            ends: Vec::with_capacity(32),
        }
    }

    fn event(&mut self, name: &str, data: &Value) {
        write!(self.buf, "event: {name}\ndata: {data}\n\n")
            .expect("writing to a String cannot fail");
        self.ends.push(self.buf.len());
    }

    fn data(&mut self, data: &dyn std::fmt::Display) {
        write!(self.buf, "data: {data}\n\n").expect("writing to a String cannot fail");
        self.ends.push(self.buf.len());
    }

    fn finish(self) -> Generated {
        Generated {
            body: Bytes::from(self.buf),
            event_ends: self.ends,
        }
    }
}

/// Answers a generation request (`/v1/messages` or `/chat/completions`); `seq` numbers the
/// response ids.
pub(crate) fn generate(
    kind: ProviderKind,
    body: &[u8],
    options: &SimOptions,
    seq: u64,
) -> Result<Generated, BadRequest> {
    let answer = plan(kind, body, options)?;
    Ok(match (kind, answer.stream) {
        (ProviderKind::Anthropic, false) => anthropic_message(&answer, seq),
        (ProviderKind::Anthropic, true) => anthropic_stream(&answer, seq),
        (ProviderKind::OpenAi, false) => openai_completion(&answer, seq),
        (ProviderKind::OpenAi, true) => openai_stream(&answer, seq),
    })
}

fn stop_reason(answer: &Answer) -> &'static str {
    if answer.truncated {
        "max_tokens"
    } else if answer.tool.is_some() {
        "tool_use"
    } else {
        "end_turn"
    }
}

fn anthropic_message(answer: &Answer, seq: u64) -> Generated {
    let mut content = vec![json!({"type": "text", "text": answer.text()})];
    if let Some((tool, _)) = &answer.tool {
        let mut block = json!({
            "type": "tool_use", "id": format!("toolu_mock_{seq:016x}"), "name": tool.name,
        });
        block["input"] = Value::Object(sample_object(tool.schema.as_ref()));
        content.push(block);
    }
    let body = json!({
        "id": format!("msg_mock_{seq:016x}"),
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": content,
        "stop_reason": stop_reason(answer),
        "stop_sequence": null,
        "usage": {
            "input_tokens": answer.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": answer.output_tokens(),
        },
    });
    Generated {
        body: Bytes::from(body.to_string()),
        event_ends: Vec::new(),
    }
}

fn anthropic_stream(answer: &Answer, seq: u64) -> Generated {
    let mut events = Events::new();
    events.event(
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": format!("msg_mock_{seq:016x}"), "type": "message", "role": "assistant",
            "model": answer.model, "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": answer.input_tokens, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0, "output_tokens": 1},
        }}),
    );
    events.event(
        "content_block_start",
        &json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}),
    );
    events.event("ping", &json!({"type": "ping"}));
    for (i, word) in answer.words.iter().enumerate() {
        let text = if i == 0 {
            word.clone()
        } else {
            format!(" {word}")
        };
        events.event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": text}}),
        );
    }
    events.event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    );
    if let Some((tool, input)) = &answer.tool {
        events.event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 1, "content_block": {
                "type": "tool_use", "id": format!("toolu_mock_{seq:016x}"),
                "name": tool.name, "input": {},
            }}),
        );
        for piece in std::iter::once("").chain(fragments(input, 12)) {
            events.event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": 1,
                        "delta": {"type": "input_json_delta", "partial_json": piece}}),
            );
        }
        events.event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 1}),
        );
    }
    events.event(
        "message_delta",
        &json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason(answer), "stop_sequence": null},
                "usage": {"output_tokens": answer.output_tokens()}}),
    );
    events.event("message_stop", &json!({"type": "message_stop"}));
    events.finish()
}

/// Splits `s` into pieces of about `size` bytes, on character boundaries.
fn fragments(s: &str, size: usize) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = size.min(rest.len());
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

fn finish_reason(answer: &Answer) -> &'static str {
    if answer.truncated {
        "length"
    } else if answer.tool.is_some() {
        "tool_calls"
    } else {
        "stop"
    }
}

fn created() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn openai_usage(answer: &Answer) -> Value {
    let completion = answer.output_tokens();
    json!({"prompt_tokens": answer.input_tokens, "completion_tokens": completion,
           "total_tokens": answer.input_tokens + completion})
}

fn openai_completion(answer: &Answer, seq: u64) -> Generated {
    let mut message = json!({"role": "assistant", "content": answer.text()});
    if let Some((tool, input)) = &answer.tool {
        message["tool_calls"] = json!([{
            "id": format!("call_mock_{seq:016x}"), "type": "function",
            "function": {"name": tool.name, "arguments": input},
        }]);
    }
    let body = json!({
        "id": format!("chatcmpl-mock-{seq:016x}"),
        "object": "chat.completion",
        "created": created(),
        "model": answer.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(answer)}],
        "usage": openai_usage(answer),
    });
    Generated {
        body: Bytes::from(body.to_string()),
        event_ends: Vec::new(),
    }
}

fn openai_stream(answer: &Answer, seq: u64) -> Generated {
    let id = format!("chatcmpl-mock-{seq:016x}");
    let created = created();
    let chunk = |choices: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": created,
               "model": answer.model, "choices": choices})
    };
    let delta = |delta: Value| chunk(json!([{"index": 0, "delta": delta, "finish_reason": null}]));
    let mut events = Events::new();
    events.data(&delta(json!({"role": "assistant", "content": ""})));
    for (i, word) in answer.words.iter().enumerate() {
        let text = if i == 0 {
            word.clone()
        } else {
            format!(" {word}")
        };
        events.data(&delta(json!({"content": text})));
    }
    if let Some((tool, input)) = &answer.tool {
        events.data(&delta(json!({"tool_calls": [{
            "index": 0, "id": format!("call_mock_{seq:016x}"), "type": "function",
            "function": {"name": tool.name, "arguments": ""},
        }]})));
        for piece in fragments(input, 8) {
            events.data(&delta(json!({"tool_calls": [{
                "index": 0, "function": {"arguments": piece},
            }]})));
        }
    }
    events.data(&chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": finish_reason(answer)}]),
    ));
    if answer.include_usage {
        let mut last = chunk(json!([]));
        last["usage"] = openai_usage(answer);
        events.data(&last);
    }
    events.data(&"[DONE]");
    events.finish()
}

/// `{"input_tokens": N}` for a `count_tokens` body, with the same estimate the messages answer
/// uses (about four bytes of request body per token).
pub(crate) fn count_tokens(body: &[u8]) -> Bytes {
    Bytes::from(format!("{{\"input_tokens\":{}}}", (body.len() / 4).max(1)))
}

/// The model list of the simulated provider.
pub(crate) fn models(kind: ProviderKind) -> Bytes {
    let body = match kind {
        ProviderKind::Anthropic => json!({
            "data": [
                {"type": "model", "id": "claude-sonnet-4-5-20250929",
                 "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z",
                 "lifecycle": "active", "max_input_tokens": 200_000, "max_tokens": 64000},
                {"type": "model", "id": "claude-haiku-4-5-20251001",
                 "display_name": "Claude Haiku 4.5", "created_at": "2025-10-01T00:00:00Z",
                 "lifecycle": "active", "max_input_tokens": 200_000, "max_tokens": 64000},
            ],
            "has_more": false,
            "first_id": "claude-sonnet-4-5-20250929",
            "last_id": "claude-haiku-4-5-20251001",
        }),
        ProviderKind::OpenAi => json!({
            "object": "list",
            "data": [
                {"id": "mock-chat", "object": "model", "created": 1_767_225_600_u64,
                 "owned_by": "claude-lb-mock"},
                {"id": "mock-reasoner", "object": "model", "created": 1_767_225_600_u64,
                 "owned_by": "claude-lb-mock"},
            ],
        }),
    };
    Bytes::from(body.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fragments_cover_the_string_on_char_boundaries() {
        let s = "{\"a\":\"héllo wörld ünïcode\"}";
        let pieces: Vec<&str> = fragments(s, 3).collect();
        assert!(pieces.len() > 3);
        assert_eq!(pieces.concat(), s);
    }
}
