//! The only module that talks HTTP to providers.
//!
//! One [`Upstream`] holds one shared `reqwest` connection pool for every provider, so
//! keep-alive connections are reused across requests and across config reloads. It knows
//! how each provider is authenticated (SPEC 2.3) and which client headers may travel
//! upstream; it knows nothing about failover, which is `dispatch`'s job.

pub mod probe;
pub mod remote;

use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::config::Provider;
use crate::core::provider::{AuthType, ProviderKind};

/// How long a TCP connect plus TLS handshake may take before the attempt fails over.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The shared HTTP client for every provider.
#[derive(Clone, Debug)]
pub struct Upstream {
    client: reqwest::Client,
}

/// Why an upstream exchange failed before a usable answer arrived.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The connection could not be made or broke before the response headers.
    #[error("{0}")]
    Connect(String),
    /// The response body broke off.
    #[error("response body failed: {0}")]
    Body(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    /// The provider's URL or a header could not be used.
    #[error("invalid request for provider: {0}")]
    Invalid(String),
}

/// One request ready to go to one provider.
#[derive(Debug)]
pub struct UpstreamRequest {
    /// Built from the provider's already parsed base URL, so the HTTP client does not parse
    /// it again from text.
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Upstream {
    pub fn new() -> Result<Self, UpstreamError> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            // Redirects are never followed: a provider that redirects is misconfigured, and
            // following one could carry the credential to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| UpstreamError::Build(error_chain(&e)))?;
        Ok(Self { client })
    }

    /// Sends a POST and returns once the response headers have arrived.
    pub async fn post(&self, request: UpstreamRequest) -> Result<reqwest::Response, UpstreamError> {
        self.client
            .post(request.url)
            .headers(request.headers)
            .body(request.body)
            .send()
            .await
            .map_err(|e| UpstreamError::Connect(describe_send_error(&e)))
    }

    /// Sends a GET (used by probes and model listings).
    pub async fn get(
        &self,
        url: &str,
        headers: HeaderMap,
    ) -> Result<reqwest::Response, UpstreamError> {
        self.client
            .get(url)
            .headers(headers)
            .send()
            .await
            .map_err(|e| UpstreamError::Connect(describe_send_error(&e)))
    }
}

/// The URL of a Messages-API path on an Anthropic-type provider: the provider's base URL
/// followed by the client's path from `/v1/` on, and the client's query.
pub fn anthropic_url(provider: &Provider, path_and_query: &str) -> Url {
    let tail = path_and_query
        .find("/v1/")
        .map_or(path_and_query, |at| &path_and_query[at..]);
    match tail.split_once('?') {
        Some((path, query)) => join(provider, path, Some(query)),
        None => join(provider, tail, None),
    }
}

/// The Chat Completions URL of an OpenAI-type provider.
pub fn openai_url(provider: &Provider) -> Url {
    join(provider, "/chat/completions", None)
}

/// The provider's base URL with `path` appended to its path. The base URL was parsed and
/// checked at config load (no query, no fragment), so only the path is parsed here: the host
/// is not parsed again on every request.
fn join(provider: &Provider, path: &str, query: Option<&str>) -> Url {
    let mut url = provider.base_url.clone();
    let base = url.path().trim_end_matches('/');
    let mut joined = String::with_capacity(base.len() + path.len());
    joined.push_str(base);
    joined.push_str(path);
    url.set_path(&joined);
    url.set_query(query);
    url
}

/// Request headers that never travel from the client to a provider: hop-by-hop headers,
/// the client's own credentials, and headers the HTTP client sets itself.
fn is_dropped_request_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host"
            | "content-length"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authorization"
            | "proxy-authenticate"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "x-api-key"
            | "authorization"
            // claude-lb reads response bodies (to find the commit point of a stream), so it
            // asks for them uncompressed.
            | "accept-encoding"
    )
}

/// The headers for a pass-through request to an Anthropic-type provider: every end-to-end
/// client header (all `anthropic-*` included), then the provider's extra headers, then its
/// credential.
pub fn anthropic_headers(provider: &Provider, client: &HeaderMap) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(client.len() + provider.headers.len() + 2);
    for (name, value) in client {
        if !is_dropped_request_header(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    if !headers.contains_key("anthropic-version") {
        headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
    }
    apply_provider_headers(provider, &mut headers);
    headers
}

/// The headers for a translated request to an OpenAI-type provider. Anthropic headers mean
/// nothing there and are not sent.
pub fn openai_headers(provider: &Provider, client: &HeaderMap) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(provider.headers.len() + 4);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(agent) = client.get(header::USER_AGENT) {
        headers.insert(header::USER_AGENT, agent.clone());
    }
    apply_provider_headers(provider, &mut headers);
    headers
}

fn apply_provider_headers(provider: &Provider, headers: &mut HeaderMap) {
    for (name, value) in &provider.headers {
        headers.insert(name.clone(), value.clone());
    }
    let Some(secret) = &provider.secret else {
        return;
    };
    let bearer = matches!(
        (provider.kind, provider.auth_type),
        (ProviderKind::OpenAi, _) | (ProviderKind::Anthropic, AuthType::AuthToken)
    );
    let (name, value) = if bearer {
        (header::AUTHORIZATION, format!("Bearer {}", secret.expose()))
    } else {
        (
            HeaderName::from_static("x-api-key"),
            secret.expose().to_owned(),
        )
    };
    // A secret that is not a valid header value was rejected at config load; if one slips
    // through, the request goes without it and the provider answers 401, which fails over.
    if let Ok(mut value) = HeaderValue::from_str(&value) {
        value.set_sensitive(true);
        headers.insert(name, value);
    }
}

/// The model ids an Anthropic-type provider lists at `GET /v1/models`, or `None` when it
/// does not answer with a list.
pub async fn list_models(
    upstream: &Upstream,
    provider: &Provider,
    client: &HeaderMap,
) -> Option<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct List {
        data: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        id: String,
    }
    let url = anthropic_url(provider, "/v1/models?limit=1000");
    let response = upstream
        .get(url.as_str(), anthropic_headers(provider, client))
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    // An endless or huge listing is dropped at its bound rather than read whole.
    let mut body = Vec::new();
    let mut response = response;
    while let Some(chunk) = response.chunk().await.ok()? {
        if body.len() + chunk.len() > crate::limits::MAX_MODEL_LIST {
            tracing::warn!(
                provider = %provider.id,
                "the provider's model list is larger than {}, claude-lb's bound; it is left out",
                crate::limits::describe_bytes(crate::limits::MAX_MODEL_LIST)
            );
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    let list: List = serde_json::from_slice(&body).ok()?;
    Some(list.data.into_iter().map(|entry| entry.id).collect())
}

/// `text` with the provider's credential replaced by `*****`: for messages built from what a
/// provider or the network said, which some providers fill with the key they refused.
pub fn scrub_secret(provider: &Provider, text: String) -> String {
    match provider.secret.as_ref().map(crate::config::Secret::expose) {
        Some(secret) if !secret.is_empty() && text.contains(secret) => {
            text.replace(secret, "*****")
        }
        _ => text,
    }
}

/// Response headers that are not copied from a provider's answer to the client.
static DROPPED_RESPONSE_HEADERS: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::CONTENT_LENGTH,
    header::CONTENT_ENCODING,
];

/// Whether a provider's response header is not copied to the client.
pub fn is_dropped_response_header(name: &HeaderName) -> bool {
    DROPPED_RESPONSE_HEADERS.contains(name)
}

/// Removes, in place, the response headers that are not copied to the client.
pub fn strip_response_headers(headers: &mut HeaderMap) {
    for name in &DROPPED_RESPONSE_HEADERS {
        // `remove` drops every value of the name, not only the first.
        headers.remove(name);
    }
}

/// The words [`describe_send_error`] starts with for a provider that cannot be reached until
/// someone fixes something (its name, its address, its certificate), as opposed to a
/// connection that dropped and may work on the next try.
const UNREACHABLE: [&str; 3] = ["name not resolved", "connection refused", "TLS error"];

/// Whether a description from [`describe_send_error`] says the provider cannot be reached
/// at all (name not resolved, connection refused, TLS error).
pub fn is_unreachable(description: &str) -> bool {
    UNREACHABLE.iter().any(|w| description.starts_with(w))
}

/// A one-line description of a failed send, in the words an operator needs: name not
/// resolved, connection refused, TLS error, timeout.
pub fn describe_send_error(error: &reqwest::Error) -> String {
    let chain = error_chain(error);
    let lower = chain.to_ascii_lowercase();
    let what = if error.is_timeout() {
        "connection timed out"
    } else if lower.contains("dns error") || lower.contains("failed to lookup") {
        UNREACHABLE[0]
    } else if lower.contains("connection refused") {
        UNREACHABLE[1]
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        UNREACHABLE[2]
    } else if lower.contains("connection reset") || lower.contains("connection closed") {
        "connection closed before the response"
    } else {
        "connection failed"
    };
    // The innermost cause says what the operating system or the TLS library saw; the layers
    // above it ("error sending request", "client error (Connect)") add nothing for a reader.
    let mut innermost: &(dyn std::error::Error + 'static) = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    format!("{what} ({innermost})")
}

/// The error and its sources on one line, without the URL (which reqwest includes and
/// which may carry a query the operator did not mean to log).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        let text = text.split(" for url (").next().unwrap_or(&text).to_owned();
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
        current = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(base: &str) -> Provider {
        let yaml = format!(
            "providers:\n  - name: p\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    base_url: {base}\n"
        );
        let loaded = crate::config::load_str(&yaml, "test.yaml", &|_| None).unwrap();
        loaded.config.providers.into_iter().next().unwrap()
    }

    #[test]
    fn urls_join_the_base_path_and_keep_the_client_query() {
        for (base, client, expect) in [
            (
                "http://127.0.0.1:9001",
                "/v1/messages",
                "http://127.0.0.1:9001/v1/messages",
            ),
            (
                "http://127.0.0.1:9001/",
                "/v1/messages?beta=true",
                "http://127.0.0.1:9001/v1/messages?beta=true",
            ),
            (
                "https://relay.example.com/api/",
                "/v1/messages/count_tokens",
                "https://relay.example.com/api/v1/messages/count_tokens",
            ),
            (
                "https://relay.example.com/api",
                "/prefix/v1/messages?a=1&b=2",
                "https://relay.example.com/api/v1/messages?a=1&b=2",
            ),
        ] {
            assert_eq!(
                anthropic_url(&provider(base), client).as_str(),
                expect,
                "{base} + {client}"
            );
        }
        assert_eq!(
            openai_url(&provider("https://openrouter.ai/api/v1")).as_str(),
            "https://openrouter.ai/api/v1/chat/completions"
        );
    }

    #[test]
    fn stripping_response_headers_keeps_only_end_to_end_ones() {
        let mut headers = HeaderMap::new();
        headers.append("connection", HeaderValue::from_static("keep-alive"));
        headers.append("transfer-encoding", HeaderValue::from_static("chunked"));
        headers.append("content-length", HeaderValue::from_static("12"));
        headers.append("content-encoding", HeaderValue::from_static("gzip"));
        headers.append("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.append("keep-alive", HeaderValue::from_static("max=100"));
        headers.append("request-id", HeaderValue::from_static("req_1"));
        headers.append(
            "anthropic-ratelimit-requests-remaining",
            HeaderValue::from_static("9"),
        );
        headers.append("set-cookie", HeaderValue::from_static("a=1"));
        headers.append("set-cookie", HeaderValue::from_static("b=2"));
        strip_response_headers(&mut headers);
        let mut kept: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        kept.sort();
        assert_eq!(
            kept,
            [
                ("anthropic-ratelimit-requests-remaining".into(), "9".into()),
                ("request-id".into(), "req_1".into()),
                ("set-cookie".into(), "a=1".into()),
                ("set-cookie".into(), "b=2".into()),
            ]
        );
        assert!(is_dropped_response_header(&header::TRANSFER_ENCODING));
        assert!(!is_dropped_response_header(&header::CONTENT_TYPE));
    }
}
