//! Responses to the client: answers from providers, and claude-lb's own errors in the
//! Anthropic error shape (`{"type":"error","error":{"type":…,"message":…}}`).

use std::convert::Infallible;

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
    response
}

/// The answer when no provider could serve the request (SPEC 5).
pub fn dispatch_error(error: &DispatchError) -> Response<Body> {
    let message = error.to_string();
    match error {
        DispatchError::NoModel | DispatchError::Untranslatable { .. } => {
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
