//! Test support: helpers to build OpenAI streams and run them through the parser and the
//! translator.

#![allow(
    clippy::needless_pass_by_value,
    reason = "test support: helpers taking json! literals"
)]

use serde_json::{Value, json};

use crate::sse::SseParser;

use super::OpenAiToAnthropic;

/// The result of running an upstream byte stream through `SseParser` and the translator.
pub(crate) struct Translated {
    pub(crate) bytes: Vec<u8>,
    /// The first error the translator returned (the caller would then fail over or write an
    /// error event; this helper writes the error event, as the proxy does after commit).
    pub(crate) error: Option<super::TranslateError>,
}

/// Feeds `upstream` (an OpenAI SSE body) to the parser in the given chunk sizes (cycled) and
/// translates it.
pub(crate) fn translate_bytes(upstream: &[u8], chunk_sizes: &[usize]) -> Translated {
    let mut parser = SseParser::new();
    let mut translator = OpenAiToAnthropic::new("claude-sonnet-4-5", "msg_test".to_owned());
    let mut out = Vec::new();
    let mut error = None;
    let mut rest = upstream;
    let mut i = 0;
    let handle = |data: &str,
                  translator: &mut OpenAiToAnthropic,
                  out: &mut Vec<u8>,
                  error: &mut Option<_>| {
        if error.is_none()
            && let Err(e) = translator.push(data, out)
        {
            let (_, error_type, message) = super::TranslateError::to_anthropic(&e);
            translator.write_error(error_type, &message, out);
            *error = Some(e);
        }
    };
    while !rest.is_empty() {
        let size = chunk_sizes
            .get(i % chunk_sizes.len().max(1))
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        i += 1;
        parser.push(&rest[..size]);
        rest = &rest[size..];
        while let Some(event) = parser.next_event() {
            let event = event.expect("valid upstream SSE");
            handle(&event.data, &mut translator, &mut out, &mut error);
        }
    }
    if let Some(event) = parser.finish() {
        let event = event.expect("valid upstream SSE");
        handle(&event.data, &mut translator, &mut out, &mut error);
    }
    if error.is_none()
        && let Err(e) = translator.finish(&mut out)
    {
        let (_, error_type, message) = e.to_anthropic();
        translator.write_error(error_type, &message, &mut out);
        error = Some(e);
    }
    Translated { bytes: out, error }
}

/// Renders OpenAI chunks (JSON values, or `[DONE]`) as an SSE body.
pub(crate) fn sse_body(chunks: &[Value], done: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for chunk in chunks {
        body.extend_from_slice(b"data: ");
        body.extend_from_slice(chunk.to_string().as_bytes());
        body.extend_from_slice(b"\n\n");
    }
    if done {
        body.extend_from_slice(b"data: [DONE]\n\n");
    }
    body
}

/// A chunk with one choice whose delta is `delta`.
pub(crate) fn delta_chunk(delta: Value) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
}

/// A chunk that carries a `finish_reason` (and optionally usage).
pub(crate) fn finish_chunk(reason: &str, usage: Option<Value>) -> Value {
    let mut chunk = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]});
    if let Some(usage) = usage {
        chunk["usage"] = usage;
    }
    chunk
}

/// A `choices: []` usage chunk.
pub(crate) fn usage_chunk(usage: Value) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [], "usage": usage})
}
