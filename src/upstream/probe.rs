//! Active health checks: one minimal real request to one provider, and what its answer means.
//!
//! [`probe`] sends the smallest request that proves a provider works end to end: a
//! non-streaming Messages request (`max_tokens: 1`, one short user message) for the model
//! that [`probe_model`] picks, through the same URL joining, auth headers and, for an
//! OpenAI-type provider, the same request translation that `serve` uses. The answer is
//! classified into a [`ProbeOutcome`] that says in words what went wrong: name not resolved,
//! connection refused, TLS error, key rejected, model not found, rate-limited, overloaded,
//! timeout.
//!
//! A probe never touches the health table: `claude-lb check` reports, it does not change
//! which providers `serve` would pick.
//!
//! A 429 counts as a pass: the provider was reachable and accepted the credential (rate
//! limits apply to an authenticated key), it is only busy right now. A 529 or 503 counts as
//! a failure: the provider cannot answer at the moment, whatever the reason.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use tokio::time::Instant;

use super::{Upstream, UpstreamRequest};
use crate::config::Provider;
use crate::core::provider::{ProviderId, ProviderKind};
use crate::translate;

/// The client model a probe asks for when a provider's `models` map names no literal model:
/// the small model Claude Code itself uses, the cheapest one to probe.
pub const DEFAULT_PROBE_MODEL: &str = crate::models::CLAUDE_HAIKU;

/// The user message of a probe.
const PROBE_PROMPT: &str = "ping";

/// How much of an error answer is kept to say what went wrong.
const MESSAGE_LIMIT: usize = 200;

/// The answer of one probe.
#[derive(Clone, Debug)]
pub struct ProbeReport {
    pub provider: ProviderId,
    pub kind: ProviderKind,
    /// The client model the probe asked for.
    pub client_model: String,
    /// The model sent upstream, after the provider's `models` map.
    pub upstream_model: String,
    pub outcome: ProbeOutcome,
    /// From sending the request to the whole answer (or the failure).
    pub latency: Duration,
}

impl ProbeReport {
    /// Whether the provider passed: it answered, or it was only rate-limited.
    pub fn passed(&self) -> bool {
        self.outcome.passed()
    }
}

/// What a probe found. Messages never contain the provider's credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The model answered.
    Ok,
    /// HTTP 429: reachable and the credential was accepted, but rate-limited right now.
    RateLimited { retry_after: Option<Duration> },
    /// No HTTP answer: name not resolved, connection refused, TLS error, ...
    Unreachable(String),
    /// claude-lb itself could not open a connection (out of file descriptors or memory): says
    /// nothing about the provider.
    LocalShortage(String),
    /// No whole answer within the time allowed.
    Timeout(Duration),
    /// HTTP 401 or 403: the credential was refused.
    KeyRejected { status: u16, message: String },
    /// HTTP 404, or a 400 that says so: the provider does not know the model.
    ModelNotFound { status: u16, message: String },
    /// HTTP 404 that is not about the model: the URL is probably wrong.
    EndpointNotFound { url: String, message: String },
    /// HTTP 529 or 503.
    Overloaded { status: u16, message: String },
    /// Another 5xx.
    ServerError { status: u16, message: String },
    /// Another non-success status (400, 402, 408, 422, ...).
    Refused { status: u16, message: String },
    /// A success status with a body that is not a Messages (or Chat Completions) answer.
    InvalidAnswer(String),
}

impl ProbeOutcome {
    /// Whether this outcome counts as a pass.
    pub fn passed(&self) -> bool {
        matches!(self, Self::Ok | Self::RateLimited { .. })
    }

    /// A short stable name, for `--json` (`ok`, `rate_limited`, `key_rejected`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unreachable(_) => "unreachable",
            Self::LocalShortage(_) => "local_shortage",
            Self::Timeout(_) => "timeout",
            Self::KeyRejected { .. } => "key_rejected",
            Self::ModelNotFound { .. } => "model_not_found",
            Self::EndpointNotFound { .. } => "endpoint_not_found",
            Self::Overloaded { .. } => "overloaded",
            Self::ServerError { .. } => "server_error",
            Self::Refused { .. } => "refused",
            Self::InvalidAnswer(_) => "invalid_answer",
        }
    }

    /// The HTTP status the provider answered with, when it answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Ok | Self::InvalidAnswer(_) => Some(200),
            Self::RateLimited { .. } => Some(429),
            Self::Unreachable(_) | Self::LocalShortage(_) | Self::Timeout(_) => None,
            Self::EndpointNotFound { .. } => Some(404),
            Self::KeyRejected { status, .. }
            | Self::ModelNotFound { status, .. }
            | Self::Overloaded { status, .. }
            | Self::ServerError { status, .. }
            | Self::Refused { status, .. } => Some(*status),
        }
    }
}

impl fmt::Display for ProbeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with = |f: &mut fmt::Formatter<'_>, head: String, message: &str| {
            if message.is_empty() {
                f.write_str(&head)
            } else {
                write!(f, "{head}: {message}")
            }
        };
        match self {
            Self::Ok => f.write_str("answered"),
            Self::RateLimited { retry_after: None } => {
                f.write_str("rate-limited (HTTP 429), but reachable and the key was accepted")
            }
            Self::RateLimited {
                retry_after: Some(after),
            } => write!(
                f,
                "rate-limited (HTTP 429, retry after {}s), but reachable and the key was accepted",
                after.as_secs()
            ),
            Self::Unreachable(reason) | Self::LocalShortage(reason) => f.write_str(reason),
            Self::Timeout(limit) => write!(f, "no answer within {}s", limit.as_secs()),
            Self::KeyRejected { status, message } => {
                with(f, format!("key rejected (HTTP {status})"), message)
            }
            Self::ModelNotFound { status, message } => {
                with(f, format!("model not found (HTTP {status})"), message)
            }
            Self::EndpointNotFound { url, message } => with(
                f,
                format!("HTTP 404 at {url}: is `base_url` right?"),
                message,
            ),
            Self::Overloaded { status, message } => {
                with(f, format!("overloaded (HTTP {status})"), message)
            }
            Self::ServerError { status, message } => {
                with(f, format!("server error (HTTP {status})"), message)
            }
            Self::Refused { status, message } => {
                with(f, format!("refused (HTTP {status})"), message)
            }
            Self::InvalidAnswer(why) => write!(f, "answered 200 but {why}"),
        }
    }
}

/// The client model a probe asks for, and the model sent upstream after the provider's map:
/// the first literal pattern of the `models` map (a model the author named), else
/// [`DEFAULT_PROBE_MODEL`] when the provider serves it, else the first pattern with its `*`
/// removed (which the pattern always matches).
pub fn probe_model(provider: &Provider) -> (String, String) {
    let entries = provider.models.entries();
    let client = entries
        .iter()
        .map(|(pattern, _)| pattern.as_str())
        .find(|pattern| !pattern.contains('*'))
        .map(str::to_owned)
        .or_else(|| {
            provider
                .models
                .map(DEFAULT_PROBE_MODEL)
                .map(|_| DEFAULT_PROBE_MODEL.to_owned())
        })
        .or_else(|| {
            entries
                .first()
                .map(|(pattern, _)| pattern.as_str().replace('*', ""))
        })
        .unwrap_or_else(|| DEFAULT_PROBE_MODEL.to_owned());
    let upstream = provider.models.map(&client).unwrap_or(&client).to_owned();
    (client, upstream)
}

/// Sends one minimal real request to `provider` and reports what happened within `timeout`.
pub async fn probe(upstream: &Upstream, provider: &Provider, timeout: Duration) -> ProbeReport {
    let (client_model, upstream_model) = probe_model(provider);
    let started = Instant::now();
    let outcome = match request(provider, &client_model, &upstream_model) {
        Ok(request) => {
            let url = request.url.clone();
            match tokio::time::timeout(timeout, exchange(upstream, request)).await {
                Err(_) => ProbeOutcome::Timeout(timeout),
                Ok(Err(outcome)) => outcome,
                Ok(Ok((status, mut headers, body))) => {
                    // The key goes before anything is cut to a message's length.
                    let scrubber = super::Scrubber::for_provider(provider);
                    scrubber.headers(&mut headers);
                    let body = scrubber.bytes(body);
                    classify(provider, &url.to_string(), status, &headers, &body)
                }
            }
        }
        Err(message) => ProbeOutcome::InvalidAnswer(message),
    };
    ProbeReport {
        provider: provider.id.clone(),
        kind: provider.kind,
        client_model,
        upstream_model,
        outcome: scrub_outcome(outcome, provider),
        latency: started.elapsed(),
    }
}

/// Asks `provider` for its model list (`GET /v1/models` for type anthropic, `GET
/// {base_url}/models` for type openai) and reports what happened within `timeout`: the
/// background health check's `models` mode, which costs nothing and proves the address and the
/// key. The list is read up to [`crate::limits::MAX_MODEL_LIST`].
pub async fn probe_models(
    upstream: &Upstream,
    provider: &Provider,
    timeout: Duration,
) -> ProbeReport {
    let started = Instant::now();
    let mut client = HeaderMap::new();
    client.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("claude-lb/", env!("CARGO_PKG_VERSION"), " (check)")),
    );
    let (url, headers) = match provider.kind {
        ProviderKind::Anthropic => (
            super::join(provider, super::MODELS_PATH, None),
            super::anthropic_headers(provider, &client),
        ),
        ProviderKind::OpenAi => (
            super::join(provider, "/models", None),
            super::openai_headers(provider, &client),
        ),
    };
    let exchange = async {
        let mut response = upstream
            .get(url.as_str(), headers)
            .await
            .map_err(|e| unreached(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            ProbeOutcome::Unreachable(format!(
                "the answer broke off ({})",
                super::innermost(&e).to_string().to_ascii_lowercase()
            ))
        })? {
            if body.len() + chunk.len() > crate::limits::MAX_MODEL_LIST {
                return Err(ProbeOutcome::Unreachable(format!(
                    "the model list is larger than {}",
                    crate::limits::describe_bytes(crate::limits::MAX_MODEL_LIST)
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, headers, Bytes::from(body)))
    };
    let outcome = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => ProbeOutcome::Timeout(timeout),
        Ok(Err(outcome)) => outcome,
        Ok(Ok((status, mut headers, body))) => {
            let scrubber = super::Scrubber::for_provider(provider);
            scrubber.headers(&mut headers);
            let body = scrubber.bytes(body);
            match status {
                200..=299 => {
                    let listed = serde_json::from_slice::<serde_json::Value>(&body)
                        .ok()
                        .is_some_and(|v| v.get("data").is_some_and(serde_json::Value::is_array));
                    if listed {
                        ProbeOutcome::Ok
                    } else {
                        ProbeOutcome::InvalidAnswer(format!(
                            "the body is not a model list ({})",
                            excerpt(&body)
                        ))
                    }
                }
                // A model list that is not there says nothing about the model.
                404 => ProbeOutcome::EndpointNotFound {
                    url: url.to_string(),
                    message: error_message(&body),
                },
                _ => classify(provider, url.as_str(), status, &headers, &body),
            }
        }
    };
    ProbeReport {
        provider: provider.id.clone(),
        kind: provider.kind,
        client_model: String::new(),
        upstream_model: String::new(),
        outcome: scrub_outcome(outcome, provider),
        latency: started.elapsed(),
    }
}

/// The probe request for this provider, exactly as `serve` would build it.
fn request(
    provider: &Provider,
    client_model: &str,
    upstream_model: &str,
) -> Result<UpstreamRequest, String> {
    // As in `serve`: an Anthropic-type provider gets the mapped model in the body, an
    // OpenAI-type one gets the client's request translated with the mapped model.
    let body_model = match provider.kind {
        ProviderKind::Anthropic => upstream_model,
        ProviderKind::OpenAi => client_model,
    };
    let body = serde_json::json!({
        "model": body_model,
        "max_tokens": 1,
        "messages": [{"role": "user", "content": PROBE_PROMPT}],
    })
    .to_string();
    let mut client = HeaderMap::new();
    client.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    client.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("claude-lb/", env!("CARGO_PKG_VERSION"), " (check)")),
    );
    match provider.kind {
        ProviderKind::Anthropic => Ok(UpstreamRequest {
            url: super::anthropic_url(provider, super::MESSAGES_PATH, None)
                .map_err(|e| e.to_string())?,
            headers: super::anthropic_headers(provider, &client),
            body: Bytes::from(body),
        }),
        ProviderKind::OpenAi => {
            let options = translate::request::RequestOptions {
                model: upstream_model,
                max_tokens_cap: provider.max_tokens.map(std::num::NonZeroU32::get),
                reasoning: translate::request::ReasoningStyle::guess(
                    provider.base_url.host_str().unwrap_or(""),
                    upstream_model,
                ),
            };
            let body = translate::request::to_openai(body.as_bytes(), &options)
                .map_err(|e| format!("the probe request cannot be translated: {e}"))?;
            Ok(UpstreamRequest {
                url: super::openai_url(provider).map_err(|e| e.to_string())?,
                headers: super::openai_headers(provider, &client),
                body: Bytes::from(body),
            })
        }
    }
}

/// Sends the request and reads the whole answer.
async fn exchange(
    upstream: &Upstream,
    request: UpstreamRequest,
) -> Result<(u16, HeaderMap, Bytes), ProbeOutcome> {
    let response = upstream.post(request).await.map_err(|e| unreached(&e))?;
    let (parts, mut body) = response.into_parts();
    let mut bytes = bytes::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ProbeOutcome::Unreachable(format!(
                "the answer broke off ({})",
                super::innermost(&*e).to_string().to_ascii_lowercase()
            ))
        })?;
        bytes.extend_from_slice(&chunk);
    }
    Ok((parts.status.as_u16(), parts.headers, bytes.freeze()))
}

/// A request that got no answer: claude-lb's own shortage, or the provider unreached.
fn unreached(error: &super::UpstreamError) -> ProbeOutcome {
    match error {
        super::UpstreamError::Connect(send)
            if send.failure == super::SendFailure::LocalResources =>
        {
            ProbeOutcome::LocalShortage(error.to_string())
        }
        _ => ProbeOutcome::Unreachable(error.to_string()),
    }
}

/// What an HTTP answer means.
fn classify(
    provider: &Provider,
    url: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> ProbeOutcome {
    let message = error_message(body);
    match status {
        200..=299 => match check_answer(provider.kind, body) {
            Ok(()) => ProbeOutcome::Ok,
            Err(why) => ProbeOutcome::InvalidAnswer(why),
        },
        429 => ProbeOutcome::RateLimited {
            retry_after: crate::core::retry_after::from_headers(
                headers,
                std::time::SystemTime::now(),
            ),
        },
        401 | 403 => ProbeOutcome::KeyRejected { status, message },
        404 if mentions_model(&message) => ProbeOutcome::ModelNotFound { status, message },
        404 => ProbeOutcome::EndpointNotFound {
            url: url.to_owned(),
            message,
        },
        400 | 422 if mentions_missing_model(&message) => {
            ProbeOutcome::ModelNotFound { status, message }
        }
        503 | 529 => ProbeOutcome::Overloaded { status, message },
        500..=599 => ProbeOutcome::ServerError { status, message },
        _ => ProbeOutcome::Refused { status, message },
    }
}

/// Checks that a success body is an answer of the provider's API.
fn check_answer(kind: ProviderKind, body: &[u8]) -> Result<(), String> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| format!("the body is not JSON ({})", excerpt(body)))?;
    let ok = match kind {
        ProviderKind::Anthropic => value.get("type").and_then(|t| t.as_str()) == Some("message"),
        ProviderKind::OpenAi => value
            .get("choices")
            .is_some_and(serde_json::Value::is_array),
    };
    if ok {
        Ok(())
    } else {
        let what = match kind {
            ProviderKind::Anthropic => "an Anthropic Messages response",
            ProviderKind::OpenAi => "an OpenAI Chat Completions response",
        };
        Err(format!("the body is not {what} ({})", excerpt(body)))
    }
}

/// Whether an error message is about the model.
fn mentions_model(message: &str) -> bool {
    message.to_ascii_lowercase().contains("model")
}

/// Whether a 400's message says the model does not exist or is not available.
fn mentions_missing_model(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("model")
        && [
            "not found",
            "not_found",
            "does not exist",
            "not exist",
            "unknown",
            "invalid model",
            "not a valid model",
            "no such",
            "not supported",
            "unavailable",
            "not available",
        ]
        .iter()
        .any(|needle| lower.contains(needle))
}

/// The error message of an error body, in the Anthropic or `OpenAI` shape, else an excerpt.
fn error_message(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return excerpt(body);
    };
    let error = value.get("error");
    let text = error
        .and_then(|e| e.get("message"))
        .and_then(serde_json::Value::as_str)
        .or_else(|| error.and_then(serde_json::Value::as_str))
        .or_else(|| value.get("message").and_then(serde_json::Value::as_str))
        .or_else(|| value.get("detail").and_then(serde_json::Value::as_str));
    let kind = error
        .and_then(|e| e.get("type"))
        .and_then(serde_json::Value::as_str);
    match (kind, text) {
        (Some(kind), Some(text)) => clip(&format!("{kind}: {text}")),
        (None, Some(text)) => clip(text),
        (Some(kind), None) => kind.to_owned(),
        (None, None) => excerpt(body),
    }
}

/// The start of a body as one line of text.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "empty body".to_owned();
    }
    clip(text)
}

/// One line, at most [`MESSAGE_LIMIT`] characters.
fn clip(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > MESSAGE_LIMIT {
        let mut out: String = one_line.chars().take(MESSAGE_LIMIT).collect();
        out.push('…');
        out
    } else {
        one_line
    }
}

/// Removes the provider's credential from every message, in case a provider echoes it.
fn scrub_outcome(outcome: ProbeOutcome, provider: &Provider) -> ProbeOutcome {
    let scrub = |text: String| super::scrub_secret(provider, text);
    match outcome {
        ProbeOutcome::Unreachable(m) => ProbeOutcome::Unreachable(scrub(m)),
        ProbeOutcome::LocalShortage(m) => ProbeOutcome::LocalShortage(scrub(m)),
        ProbeOutcome::KeyRejected { status, message } => ProbeOutcome::KeyRejected {
            status,
            message: scrub(message),
        },
        ProbeOutcome::ModelNotFound { status, message } => ProbeOutcome::ModelNotFound {
            status,
            message: scrub(message),
        },
        ProbeOutcome::EndpointNotFound { url, message } => ProbeOutcome::EndpointNotFound {
            url: scrub(url),
            message: scrub(message),
        },
        ProbeOutcome::Overloaded { status, message } => ProbeOutcome::Overloaded {
            status,
            message: scrub(message),
        },
        ProbeOutcome::ServerError { status, message } => ProbeOutcome::ServerError {
            status,
            message: scrub(message),
        },
        ProbeOutcome::Refused { status, message } => ProbeOutcome::Refused {
            status,
            message: scrub(message),
        },
        ProbeOutcome::InvalidAnswer(m) => ProbeOutcome::InvalidAnswer(scrub(m)),
        other
        @ (ProbeOutcome::Ok | ProbeOutcome::RateLimited { .. } | ProbeOutcome::Timeout(_)) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;

    #[test]
    fn a_shortage_of_claude_lbs_own_is_not_the_providers() {
        let send = |failure| {
            super::super::UpstreamError::Connect(super::super::SendError {
                failure,
                cause: "Too many open files (os error 24)".to_owned(),
            })
        };
        let outcome = unreached(&send(super::super::SendFailure::LocalResources));
        assert!(
            matches!(outcome, ProbeOutcome::LocalShortage(_)),
            "{outcome:?}"
        );
        assert_eq!(outcome.code(), "local_shortage");
        assert!(
            outcome.to_string().contains("out of file descriptors"),
            "{outcome}"
        );
        let outcome = unreached(&send(super::super::SendFailure::ConnectionRefused));
        assert!(
            matches!(outcome, ProbeOutcome::Unreachable(_)),
            "{outcome:?}"
        );
    }

    fn provider(yaml_extra: &str) -> Provider {
        let yaml = format!(
            "providers:\n  - name: p\n    type: openai\n    auth_type: api_key\n    auth_value: sk-secret-123\n    base_url: http://127.0.0.1:9/v1\n{yaml_extra}"
        );
        load_str(&yaml, "t.yaml", &|_| None)
            .unwrap()
            .config
            .providers
            .remove(0)
    }

    #[test]
    fn probe_model_prefers_a_literal_pattern_then_haiku() {
        let p = provider(
            "    models:\n      \"claude-*haiku*\": small\n      \"claude-opus-5-5\": big\n",
        );
        assert_eq!(probe_model(&p), ("claude-opus-5-5".into(), "big".into()));
        let p = provider("    models:\n      \"claude-*haiku*\": small\n      \"*\": big\n");
        assert_eq!(probe_model(&p), ("claude-haiku-5-5".into(), "small".into()));
        let p = provider("    models:\n      \"gpt-*\": g\n");
        assert_eq!(probe_model(&p), ("gpt-".into(), "g".into()));
        let p = provider("");
        assert_eq!(
            probe_model(&p),
            ("claude-haiku-5-5".into(), "claude-haiku-5-5".into())
        );
    }

    #[track_caller]
    fn check(status: u16, body: &str, code: &str, passed: bool) {
        let p = provider("");
        let outcome = classify(
            &p,
            "http://h/v1/chat/completions",
            status,
            &HeaderMap::new(),
            body.as_bytes(),
        );
        assert_eq!(outcome.code(), code, "{status} {body}: {outcome}");
        assert_eq!(outcome.passed(), passed);
    }

    #[test]
    fn classification_table() {
        check(200, r#"{"choices":[]}"#, "ok", true);
        check(200, r#"{"type":"message"}"#, "invalid_answer", false);
        check(200, "<html>", "invalid_answer", false);
        check(429, "", "rate_limited", true);
        check(
            401,
            r#"{"error":{"message":"bad key"}}"#,
            "key_rejected",
            false,
        );
        check(403, "", "key_rejected", false);
        check(
            404,
            r#"{"error":{"message":"The model `x` does not exist"}}"#,
            "model_not_found",
            false,
        );
        check(404, "Not Found", "endpoint_not_found", false);
        check(
            400,
            r#"{"error":{"message":"x is not a valid model ID"}}"#,
            "model_not_found",
            false,
        );
        check(
            400,
            r#"{"error":{"message":"max_tokens too large"}}"#,
            "refused",
            false,
        );
        check(529, "", "overloaded", false);
        check(503, "", "overloaded", false);
        check(500, "", "server_error", false);
        check(402, "", "refused", false);
    }

    #[test]
    fn messages_name_the_error_and_never_the_secret() {
        let p = provider("");
        let outcome = classify(
            &p,
            "u",
            401,
            &HeaderMap::new(),
            br#"{"error":{"type":"authentication_error","message":"invalid key sk-secret-123"}}"#,
        );
        let outcome = scrub_outcome(outcome, &p);
        let text = outcome.to_string();
        assert_eq!(
            text,
            "key rejected (HTTP 401): authentication_error: invalid key *****"
        );
    }
}
