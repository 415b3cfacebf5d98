//! Responses to the client: answers from providers, and claude-lb's own errors in the
//! Anthropic error shape (`{"type":"error","error":{"type":…,"message":…}}`).

use std::convert::Infallible;
use std::fmt::Write as _;

use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::Frame;

use crate::dispatch::{Answer, AnswerBody, DispatchError};

/// The body type of every response.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

pub fn empty() -> Body {
    Empty::new().boxed_unsync()
}

/// A JSON response.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(full(value.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// One of claude-lb's own errors.
pub fn error(status: StatusCode, error_type: &str, message: &str) -> Response<Body> {
    let body = crate::translate::error::anthropic_error_body(error_type, message);
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A provider's answer, streamed as it arrives when it is a stream.
pub fn answer(answer: Answer) -> Response<Body> {
    let body = match answer.body {
        AnswerBody::Full(bytes) => full(bytes),
        AnswerBody::Stream(stream) => StreamBody::new(
            stream
                .into_stream()
                .map(|chunk| Ok::<_, Infallible>(Frame::data(chunk))),
        )
        .boxed_unsync(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    if !answer.failed_attempts.is_empty() {
        let list: Vec<serde_json::Value> = answer
            .failed_attempts
            .iter()
            .map(|a| serde_json::json!({"provider": a.provider.as_str(), "error": a.message}))
            .collect();
        let json = ascii_json(&serde_json::Value::Array(list));
        if let Ok(value) = HeaderValue::from_str(&json) {
            response.headers_mut().insert(FAILED_ATTEMPTS_HEADER, value);
        }
    }
    response
}

/// The attempts that failed before an answer, as a JSON array of `{"provider","error"}`, so
/// that `claude-lb test --remote` can show them.
pub const FAILED_ATTEMPTS_HEADER: &str = "x-claude-lb-failed-attempts";

/// JSON with every character outside printable ASCII escaped, as a header value needs.
fn ascii_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out
}

/// The answer when no provider could serve the request (SPEC 5).
pub fn dispatch_error(error: &DispatchError) -> Response<Body> {
    let message = error.to_string();
    match error {
        DispatchError::NoModel
        | DispatchError::DuplicateModel
        | DispatchError::Untranslatable { .. } => {
            let mut response =
                self::error(StatusCode::BAD_REQUEST, "invalid_request_error", &message);
            response
                .headers_mut()
                .insert("x-should-retry", HeaderValue::from_static("false"));
            response
        }
        DispatchError::NoProviderServesModel { .. } => {
            let mut response = self::error(StatusCode::NOT_FOUND, "not_found_error", &message);
            response
                .headers_mut()
                .insert("x-should-retry", HeaderValue::from_static("false"));
            response
        }
        DispatchError::AllProvidersFailed { verdict, .. } => {
            let status =
                StatusCode::from_u16(verdict.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut response = self::error(status, verdict.error_type, &message);
            let headers = response.headers_mut();
            headers.insert(
                RETRY_AFTER,
                HeaderValue::from(verdict.retry_after.as_secs().max(1)),
            );
            headers.insert(
                "x-should-retry",
                HeaderValue::from_static(if verdict.should_retry {
                    "true"
                } else {
                    "false"
                }),
            );
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_json_is_printable_ascii_and_round_trips() {
        let value = serde_json::json!([{"provider": "a", "error": "é ✓ 😀 \"quoted\"\n"}]);
        let text = ascii_json(&value);
        assert!(text.bytes().all(|b| (0x20..0x7f).contains(&b)), "{text}");
        assert!(HeaderValue::from_str(&text).is_ok());
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
    }
}
