//! The pieces of a mock answer on the wire, shared by the simulated provider and (with the
//! `test-support` feature) scripted replies: streamed chunks, how a body ends, and the error
//! body of each provider type.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use crate::core::provider::ProviderKind;

/// One piece of a streamed body, sent after waiting `delay`.
#[derive(Clone, Debug)]
pub struct SseChunk {
    /// How long to wait before sending these bytes.
    pub delay: Duration,
    /// The raw bytes, sent as one body frame.
    pub bytes: Bytes,
}

impl SseChunk {
    /// Raw bytes, sent without delay.
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Self {
            delay: Duration::ZERO,
            bytes: bytes.into(),
        }
    }

    /// An Anthropic-style event: `event: NAME\ndata: DATA\n\n`.
    pub fn event(name: &str, data: &str) -> Self {
        Self::new(format!("event: {name}\ndata: {data}\n\n"))
    }

    /// An OpenAI-style data line: `data: DATA\n\n`.
    pub fn data(data: &str) -> Self {
        Self::new(format!("data: {data}\n\n"))
    }

    /// Waits `delay` before sending this chunk.
    #[must_use]
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// How a body ends once its chunks have been sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(any(test, feature = "test-support")),
    allow(
        dead_code,
        reason = "only scripted replies stall or repeat; the simulation cuts"
    )
)]
pub(crate) enum End {
    /// Every chunk is sent and the body ends normally.
    Complete,
    /// After this many chunks the connection is closed abruptly, without the terminating chunk.
    CutAfter(usize),
    /// After this many chunks nothing more is sent until the mock shuts down.
    StallAfter(usize),
    /// After every chunk has been sent, the last this many are sent again, in turn, forever
    /// (an endless body, as fast as the reader takes it).
    RepeatLast(usize),
}

/// The error body a provider of `kind` sends with `status`.
pub(crate) fn error_body(kind: ProviderKind, status: StatusCode) -> Bytes {
    let message = status.canonical_reason().unwrap_or(match status.as_u16() {
        529 => "Overloaded",
        _ => "Mock error",
    });
    let body = match kind {
        ProviderKind::Anthropic => {
            let kind = crate::translate::error::error_type_for_status(status.as_u16());
            serde_json::json!({
                "type": "error",
                "error": {"type": kind, "message": message},
                "request_id": "req_mock",
            })
        }
        ProviderKind::OpenAi => {
            let (kind, code) = match status.as_u16() {
                401 => ("invalid_request_error", Some("invalid_api_key")),
                403 => (
                    "invalid_request_error",
                    Some("unsupported_country_region_territory"),
                ),
                404 => ("invalid_request_error", Some("model_not_found")),
                429 => ("requests", Some("rate_limit_exceeded")),
                s if s >= 500 => ("server_error", None),
                _ => ("invalid_request_error", None),
            };
            serde_json::json!({
                "error": {"message": message, "type": kind, "param": null, "code": code},
            })
        }
    };
    Bytes::from(body.to_string())
}
