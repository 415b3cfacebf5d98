//! Responses to the client: answers from providers, and claude-lb's own errors in the
//! Anthropic error shape (`{"type":"error","error":{"type":…,"message":…}}`).

use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full, combinators::UnsyncBoxBody};
use hyper::body::Frame;

use crate::dispatch::{Answer, AnswerBody, DispatchError};
use crate::translate::anthropic::ErrorType;

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
pub fn error(status: StatusCode, error_type: ErrorType, message: &str) -> Response<Body> {
    let body = crate::translate::error::anthropic_error_body(error_type.as_str(), message);
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A refused request: its status, error type, message and `retry-after`.
///
/// A refusal that a retry cannot change (a key, a permission) says so in `x-should-retry:
/// false`, so that Claude Code shows it at once instead of retrying for minutes; a limit says
/// when to come back instead.
pub fn refusal(refusal: &crate::access::Refusal) -> Response<Body> {
    let mut response = error(refusal.status, refusal.error_type, &refusal.message);
    let headers = response.headers_mut();
    match refusal.retry_after {
        Some(wait) => {
            headers.insert(RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        }
        None => {
            headers.insert("x-should-retry", HeaderValue::from_static("false"));
        }
    }
    response
}

/// `response` with `guard` kept alive until its body has been sent, or dropped because the
/// client went away: a client's slot among its `max_concurrent`, say.
pub fn hold<G: Send + Unpin + 'static>(response: Response<Body>, guard: G) -> Response<Body> {
    response.map(|inner| {
        Holding {
            inner,
            _guard: guard,
        }
        .boxed_unsync()
    })
}

/// A body that owns something until it ends.
struct Holding<G> {
    inner: Body,
    _guard: G,
}

impl<G: Unpin> hyper::body::Body for Holding<G> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// A provider's answer, streamed as it arrives when it is a stream; its log line goes to
/// `lines`, to be written once the connection has written the answer.
pub fn answer(answer: Answer, lines: &super::LogLines) -> Response<Body> {
    lines.push(answer.log_line);
    let body = match answer.body {
        AnswerBody::Full(bytes) => full(bytes),
        AnswerBody::Stream(stream) => stream.boxed_unsync(),
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

/// The answer when no provider could serve the request.
///
/// When no provider could take it, the message ends with the command that shows every
/// provider's state on this instance (at `local_addr`), so the user who reads it in Claude
/// Code knows where to look next.
pub fn dispatch_error(error: &DispatchError, local_addr: Option<&SocketAddr>) -> Response<Body> {
    let mut message = error.to_string();
    if matches!(
        error,
        DispatchError::AllProvidersFailed { .. } | DispatchError::PinnedProviderFailed { .. }
    ) {
        message = not_about_the_client(&message);
    }
    if let (
        DispatchError::NoProviderServesModel { .. }
        | DispatchError::AllProvidersFailed { .. }
        | DispatchError::PinnedProviderFailed { .. }
        | DispatchError::RouteUnavailable { .. },
        Some(addr),
    ) = (error, local_addr)
    {
        let _ = write!(
            message,
            ". More: claude-lb providers list --remote http://{addr}"
        );
    }
    match error {
        DispatchError::NoModel
        | DispatchError::DuplicateModel
        | DispatchError::Untranslatable { .. }
        | DispatchError::NoProviderServesModel { .. }
        | DispatchError::ClientHasNoProvider { .. }
        | DispatchError::UnknownProvider { .. }
        | DispatchError::PinnedWithoutModel { .. }
        | DispatchError::PinnedProviderFailed { verdict: None, .. }
        | DispatchError::RouteUnavailable { .. }
        | DispatchError::AnswerTimedOut { .. } => {
            let status =
                StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            let error_type = match error {
                DispatchError::ClientHasNoProvider { .. } => ErrorType::Permission,
                DispatchError::NoProviderServesModel { .. } => ErrorType::NotFound,
                DispatchError::PinnedProviderFailed { .. }
                | DispatchError::RouteUnavailable { .. } => ErrorType::Api,
                // A gateway timeout; the client should not send it again on its own either.
                DispatchError::AnswerTimedOut { .. } => ErrorType::Timeout,
                _ => ErrorType::InvalidRequest,
            };
            let mut response = self::error(status, error_type, &message);
            response
                .headers_mut()
                .insert("x-should-retry", HeaderValue::from_static("false"));
            response
        }
        DispatchError::AllProvidersFailed { verdict, .. }
        | DispatchError::PinnedProviderFailed {
            verdict: Some(verdict),
            ..
        } => {
            let status = StatusCode::from_u16(error.http_status())
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
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

/// Phrases in a provider's words that Claude Code takes as being about its own credential: it
/// then shows `Invalid API key · Fix external API key` (or its own credit message) instead of
/// claude-lb's message, although the client's key is fine and a provider's key was refused.
const CLIENT_TRIGGERS: [(&str, &str); 2] = [
    ("x-api-key", "API key"),
    ("credit balance is too low", "credit balance too low"),
];

/// `message` with [`CLIENT_TRIGGERS`] reworded (matched in any case), so the client shows it.
fn not_about_the_client(message: &str) -> String {
    let mut out = message.to_owned();
    for (phrase, instead) in CLIENT_TRIGGERS {
        while let Some(at) = out.to_ascii_lowercase().find(phrase) {
            out.replace_range(at..at + phrase.len(), instead);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_words_that_claude_code_takes_as_its_own_are_reworded() {
        assert_eq!(
            not_about_the_client(
                "a: HTTP 401: invalid X-API-Key; b: Your credit balance is too low"
            ),
            "a: HTTP 401: invalid API key; b: Your credit balance too low"
        );
        assert_eq!(not_about_the_client("a: HTTP 529"), "a: HTTP 529");
    }

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
