//! Anthropic-shaped error bodies, and the mapping of OpenAI-style errors to them.
//!
//! Claude Code decides retries and compaction from the HTTP status, the error `type` and words in
//! the message, so every error claude-lb sends is `{"type":"error","error":{"type","message"}}`
//! (built by [`anthropic_error_body`], the one place that writes it). Upstream errors map as
//! `docs/translation.md#error-mapping` says. A context-length error is always rewritten to a 400
//! `invalid_request_error` whose message starts with `prompt is too long`, the only wording that
//! makes Claude Code compact the conversation instead of resending it forever.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use super::anthropic::{ErrorObject, ErrorResponse, ErrorType};

/// How much of an unparseable upstream body is quoted in the message.
const MAX_QUOTED_BODY: usize = 300;

/// An Anthropic error body: `{"type":"error","error":{"type":error_type,"message":message}}`.
pub fn anthropic_error_body(error_type: &str, message: &str) -> Vec<u8> {
    let body = ErrorResponse {
        kind: Cow::Borrowed("error"),
        error: ErrorObject {
            kind: Cow::Borrowed(error_type),
            message: Cow::Borrowed(message),
        },
    };
    // unwrap: a struct of strings always serialises.
    serde_json::to_vec(&body).expect("error body serialises")
}

/// The HTTP status Anthropic gives an error type: the inverse of [`error_type_for_status`],
/// with 400 for a type it does not know.
pub fn status_for_error_type(error_type: &str) -> u16 {
    ErrorType::parse(error_type).map_or(400, ErrorType::status)
}

/// The Anthropic error type for an HTTP status claude-lb answers with.
pub fn error_type_for_status(status: u16) -> &'static str {
    ErrorType::for_status(status).as_str()
}

/// Maps an upstream OpenAI-style error response (any body, even garbage) to the Anthropic
/// status and error body to send to the client.
pub fn from_openai(status: u16, body: &[u8]) -> (u16, Vec<u8>) {
    let upstream = parse_error_body(body);
    let message = upstream.message.unwrap_or_else(|| quote_body(status, body));
    let mapped = map(
        Some(status),
        upstream.kind.as_deref(),
        upstream.code.as_ref(),
        message,
    );
    (
        mapped.status,
        anthropic_error_body(mapped.error_type, &mapped.message),
    )
}

/// An upstream error mapped to Anthropic terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapped {
    pub(crate) status: u16,
    pub(crate) error_type: &'static str,
    pub(crate) message: String,
}

/// Maps an upstream error from its HTTP status (absent mid-stream), its `type`, its `code` and
/// its message.
pub(crate) fn map(
    status: Option<u16>,
    kind: Option<&str>,
    code: Option<&Value>,
    message: String,
) -> Mapped {
    let code_str = code.and_then(Value::as_str);
    let code_num = code
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok());
    if is_context_overflow([kind, code_str], &message) {
        return Mapped {
            status: 400,
            error_type: ErrorType::InvalidRequest.as_str(),
            message: prompt_too_long(&message),
        };
    }
    let status = status
        .filter(|s| *s >= 400)
        .or(code_num.filter(|c| (400..600).contains(c)))
        .or_else(|| status_from_kind(kind.or(code_str)));
    let status = match status {
        Some(400 | 422) => 400,
        Some(408 | 504) => 504,
        Some(503 | 529) => 529,
        Some(s @ 400..=499) => s,
        // 502 and every other status: the upstream failed.
        _ => 500,
    };
    Mapped {
        status,
        error_type: error_type_for_status(status),
        message,
    }
}

/// Guesses a status from a mid-stream error's `type` or string `code`.
fn status_from_kind(kind: Option<&str>) -> Option<u16> {
    let kind = kind?.to_ascii_lowercase();
    let status = if kind.contains("rate_limit") || kind.contains("too_many") {
        429
    } else if kind.contains("overload") || kind.contains("unavailable") {
        529
    } else if kind.contains("timeout") {
        504
    } else if kind.contains("auth") {
        401
    } else if kind.contains("permission") {
        403
    } else if kind.contains("not_found") {
        404
    } else if kind.contains("invalid") || kind.contains("bad_request") {
        400
    } else {
        500
    };
    Some(status)
}

/// Whether an upstream error says the prompt did not fit the context window, by its `type` or
/// string `code` (`kinds`) or its words: OpenAI's, OpenRouter's, DeepSeek's, vLLM's (and the
/// servers that share its words: SGLang, Together) and llama.cpp's.
fn is_context_overflow(kinds: [Option<&str>; 2], message: &str) -> bool {
    if kinds.into_iter().flatten().any(|c| {
        matches!(
            c,
            "context_length_exceeded" | "string_above_max_length" | "exceed_context_size_error"
        )
    }) {
        return true;
    }
    let lower = message.to_ascii_lowercase();
    [
        "maximum context length",
        "context length exceeded",
        "context_length_exceeded",
        "context window",
        "prompt is too long",
        "input is too long",
        "too many tokens",
        "reduce the length of the messages",
        "longer than the model's context length",
        "exceeds the available context size",
    ]
    .iter()
    .any(|phrase| lower.contains(phrase))
}

/// The message Claude Code compacts on: `prompt is too long: N tokens > M maximum` when the
/// numbers can be read from the upstream message, else `prompt is too long` plus that message.
fn prompt_too_long(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    let limit = number_after(&lower, "maximum context length is")
        .or_else(|| number_after(&lower, "context length of"))
        .or_else(|| number_after(&lower, "maximum context length of"))
        .or_else(|| number_after(&lower, "the model's context length ("))
        .or_else(|| number_after(&lower, "available context size ("));
    let requested = number_after(&lower, "you requested")
        .or_else(|| number_after(&lower, "resulted in"))
        .or_else(|| number_after(&lower, "your request has"))
        .or_else(|| number_after(&lower, "the input ("))
        .or_else(|| number_after(&lower, "request ("));
    match (requested, limit) {
        (Some(requested), Some(limit)) => {
            format!("prompt is too long: {requested} tokens > {limit} maximum")
        }
        _ => format!("prompt is too long (upstream: {message})"),
    }
}

/// The first integer after `phrase` in `text`.
fn number_after(text: &str, phrase: &str) -> Option<u64> {
    let rest = &text[text.find(phrase)? + phrase.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The parts of an error body, whatever its shape.
#[derive(Default)]
struct UpstreamError {
    message: Option<String>,
    kind: Option<String>,
    code: Option<Value>,
}

fn parse_error_body(body: &[u8]) -> UpstreamError {
    /// `{"error":{…}}` (OpenAI, OpenRouter, DeepSeek), `{"error":"text"}`, or top-level
    /// `message`/`type`/`code` (vLLM), or `{"detail": …}` (FastAPI servers).
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        error: Option<Value>,
        #[serde(default)]
        message: Option<Value>,
        #[serde(rename = "type", default)]
        kind: Option<Value>,
        #[serde(default)]
        code: Option<Value>,
        #[serde(default)]
        detail: Option<Value>,
    }
    let Ok(body) = serde_json::from_slice::<Body>(body.trim_ascii()) else {
        return UpstreamError::default();
    };
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(v @ (Value::Object(_) | Value::Array(_))) => Some(v.to_string()),
        _ => None,
    };
    match body.error {
        Some(Value::Object(obj)) => UpstreamError {
            message: text(obj.get("message")),
            kind: obj.get("type").and_then(Value::as_str).map(str::to_owned),
            code: obj.get("code").cloned(),
        },
        Some(Value::String(s)) if !s.trim().is_empty() => UpstreamError {
            message: Some(s),
            kind: None,
            code: body.code,
        },
        _ => UpstreamError {
            message: text(body.message.as_ref()).or_else(|| text(body.detail.as_ref())),
            kind: body
                .kind
                .as_ref()
                .and_then(Value::as_str)
                .map(str::to_owned),
            code: body.code,
        },
    }
}

/// A message for an error body that is not JSON: the status and the start of the body.
fn quote_body(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return format!("upstream returned HTTP {status} with an empty body");
    }
    let mut end = text.len().min(MAX_QUOTED_BODY);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let ellipsis = if end < text.len() { "…" } else { "" };
    format!(
        "upstream returned HTTP {status}: {}{ellipsis}",
        &text[..end]
    )
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::{ErrorType, anthropic_error_body, from_openai, status_for_error_type};

    #[test]
    fn every_error_type_reads_back_from_its_name_and_its_status() {
        for error_type in ErrorType::ALL {
            assert_eq!(ErrorType::parse(error_type.as_str()), Some(error_type));
            assert_eq!(ErrorType::for_status(error_type.status()), error_type);
            assert_eq!(
                status_for_error_type(error_type.as_str()),
                error_type.status()
            );
        }
        assert_eq!(ErrorType::parse("teapot_error"), None);
        assert_eq!(status_for_error_type("teapot_error"), 400);
        assert_eq!(ErrorType::for_status(418), ErrorType::InvalidRequest);
        assert_eq!(ErrorType::for_status(502), ErrorType::Api);
    }

    #[track_caller]
    fn check(status: u16, body: &str, expect_status: u16, expect_type: &str, expect_msg: &str) {
        let (got_status, got_body) = from_openai(status, body.as_bytes());
        let got: Value = serde_json::from_slice(&got_body).expect("json");
        assert_eq!(got_status, expect_status, "status for {status} {body}");
        assert_eq!(got["type"], "error");
        assert_eq!(
            got["error"]["type"], expect_type,
            "type for {status} {body}"
        );
        assert_eq!(
            got["error"]["message"], expect_msg,
            "message for {status} {body}"
        );
    }

    #[test]
    fn maps_statuses_per_the_error_mapping_table() {
        let body = r#"{"error":{"message":"m","type":"x"}}"#;
        check(400, body, 400, "invalid_request_error", "m");
        check(422, body, 400, "invalid_request_error", "m");
        check(401, body, 401, "authentication_error", "m");
        check(402, body, 402, "billing_error", "m");
        check(403, body, 403, "permission_error", "m");
        check(404, body, 404, "not_found_error", "m");
        check(408, body, 504, "timeout_error", "m");
        check(504, body, 504, "timeout_error", "m");
        check(409, body, 409, "conflict_error", "m");
        check(413, body, 413, "request_too_large", "m");
        check(429, body, 429, "rate_limit_error", "m");
        check(500, body, 500, "api_error", "m");
        check(502, body, 500, "api_error", "m");
        check(503, body, 529, "overloaded_error", "m");
        check(418, body, 418, "invalid_request_error", "m");
        check(501, body, 500, "api_error", "m");
    }

    #[test]
    fn reads_every_error_body_shape() {
        check(
            400,
            r#"{"error":"plain"}"#,
            400,
            "invalid_request_error",
            "plain",
        );
        check(
            400,
            r#"{"object":"error","message":"vllm says no","type":"BadRequestError","code":400}"#,
            400,
            "invalid_request_error",
            "vllm says no",
        );
        check(
            422,
            r#"{"detail":"bad field"}"#,
            400,
            "invalid_request_error",
            "bad field",
        );
        check(
            429,
            r#"{"error":{"code":429,"message":"Rate limited","metadata":{}}}"#,
            429,
            "rate_limit_error",
            "Rate limited",
        );
    }

    #[test]
    fn quotes_garbage_bodies() {
        check(
            502,
            "<html>Bad Gateway</html>",
            500,
            "api_error",
            "upstream returned HTTP 502: <html>Bad Gateway</html>",
        );
        check(
            500,
            "",
            500,
            "api_error",
            "upstream returned HTTP 500 with an empty body",
        );
        let (_, body) = from_openai(500, &[0xff, 0xfe, b'x']);
        assert!(serde_json::from_slice::<Value>(&body).is_ok());
        let long = "é".repeat(400);
        let (_, body) = from_openai(500, long.as_bytes());
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert!(v["error"]["message"].as_str().expect("str").ends_with('…'));
    }

    #[test]
    fn context_overflow_says_prompt_is_too_long() {
        check(
            400,
            r#"{"error":{"message":"This model's maximum context length is 131072 tokens. However, you requested 230462 tokens (229000 in the messages, 1462 in the completion). Please reduce the length of the messages or completion.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
            400,
            "invalid_request_error",
            "prompt is too long: 230462 tokens > 131072 maximum",
        );
        check(
            413,
            r#"{"error":{"message":"Input is too long for requested model.","code":413}}"#,
            400,
            "invalid_request_error",
            "prompt is too long (upstream: Input is too long for requested model.)",
        );
        // Even a 5xx that says so must not make Claude Code retry the same prompt forever.
        check(
            500,
            r#"{"error":{"message":"maximum context length is 8192 tokens, however your messages resulted in 9000 tokens"}}"#,
            400,
            "invalid_request_error",
            "prompt is too long: 9000 tokens > 8192 maximum",
        );
        // llama.cpp's server, by its type and by its words.
        check(
            400,
            r#"{"error":{"code":400,"type":"exceed_context_size_error","message":"request (13392 tokens) exceeds the available context size (8192 tokens), try increasing it"}}"#,
            400,
            "invalid_request_error",
            "prompt is too long: 13392 tokens > 8192 maximum",
        );
        check(
            400,
            r#"{"error":{"code":400,"type":"other","message":"request (13392 tokens) exceeds the available context size (8192 tokens), try increasing it"}}"#,
            400,
            "invalid_request_error",
            "prompt is too long: 13392 tokens > 8192 maximum",
        );
        // vLLM, SGLang, Together.
        check(
            400,
            r#"{"object":"error","message":"The input (150000 tokens) is longer than the model's context length (131072 tokens).","type":"BadRequestError","param":null,"code":400}"#,
            400,
            "invalid_request_error",
            "prompt is too long: 150000 tokens > 131072 maximum",
        );
    }

    #[test]
    fn a_mid_stream_error_keeps_its_kind() {
        for (kind, status, error_type) in [
            ("overloaded_error", 529, "overloaded_error"),
            ("rate_limit_exceeded", 429, "rate_limit_error"),
            ("invalid_request_error", 400, "invalid_request_error"),
            ("server_error", 500, "api_error"),
        ] {
            let mapped = super::map(None, Some(kind), None, "m".to_owned());
            assert_eq!(
                (mapped.status, mapped.error_type),
                (status, error_type),
                "{kind}"
            );
        }
    }

    #[test]
    fn builds_anthropic_error_bodies() {
        let body = anthropic_error_body("overloaded_error", "quote \" and\nnewline");
        assert_eq!(
            String::from_utf8(body).expect("utf-8"),
            r#"{"type":"error","error":{"type":"overloaded_error","message":"quote \" and\nnewline"}}"#
        );
    }
}
