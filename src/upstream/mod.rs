//! The only module that talks HTTP to providers.
//!
//! One [`Upstream`] holds the shared connection pools for every provider, so keep-alive
//! connections are reused across requests and across config reloads. Messages requests
//! ([`Upstream::post`]) go through claude-lb's own connection pool (`pool`: hyper's connections,
//! HTTP/1.1, or HTTP/2 where the provider's TLS offers it, with `rustls`), so a request pays for
//! no layer it does not use; a provider that an `HTTP_PROXY`-style variable routes
//! through a proxy, and the GETs of probes and `--remote`, go through `reqwest`, which speaks to
//! proxies. It sends each provider's credential header (`x-api-key` or Bearer, built at load by
//! [`crate::core::provider::credential_header`]) and knows which client headers may travel
//! upstream; it knows nothing about failover, which is `dispatch`'s job.

mod pool;
pub mod probe;
pub mod remote;
mod trust;

pub use trust::{ExtraRoots, TrustError};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::proxy::matcher::Matcher;
use url::Url;

use crate::config::Provider;

pub use pool::ConnectTimedOut;
use pool::{CONNECT_TIMEOUT, IDLE_TIMEOUT};

/// How many times a request an HTTP/2 provider refused before starting it (`REFUSED_STREAM`, or
/// a graceful `GOAWAY`) is sent again, on top of the first time; nothing of it was processed.
const PROTOCOL_RESENDS: usize = 2;

/// The shared HTTP clients for every provider.
#[derive(Clone)]
pub struct Upstream {
    /// Messages requests: connections of claude-lb's own pool, TLS by rustls.
    direct: Arc<pool::Pool>,
    /// GETs (probes, model lists, `--remote`), and the requests a proxy from the environment
    /// routes.
    client: reqwest::Client,
    /// The proxies the environment names (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`,
    /// `NO_PROXY`), read once, as `reqwest` reads them.
    proxies: Arc<Matcher>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream").finish_non_exhaustive()
    }
}

/// Why an upstream exchange failed before a usable answer arrived.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The connection could not be made or broke before the response headers.
    #[error("{0}")]
    Connect(SendError),
    /// The response body broke off.
    #[error("response body failed: {0}")]
    Body(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    /// The certificate authorities named to trust cannot be used.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The provider's URL or a header could not be used.
    #[error("invalid request for provider: {0}")]
    Invalid(String),
}

/// An error of the transport, boxed: why a response body could not be read, or a connect failed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A response body as it arrives from a provider.
pub type BodyStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// A provider's answer, its body still to be read.
pub type Response = http::Response<BodyStream>;

/// One request ready to go to one provider.
#[derive(Debug)]
pub struct UpstreamRequest {
    /// Built from the parts of the provider's already parsed base URL ([`anthropic_url`]),
    /// so that no request parses a URL from text.
    pub url: http::Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Upstream {
    /// The clients, trusting the built-in roots and the authorities `SSL_CERT_FILE` names
    /// (looked up through `env`).
    pub fn new(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, UpstreamError> {
        let roots = ExtraRoots::from_env(env)?;
        let mut client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(IDLE_TIMEOUT)
            .tcp_nodelay(true)
            // Redirects are never followed: a provider that redirects is misconfigured, and
            // following one could carry the credential to another host.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(SystemResolver));
        for certificate in roots.certificates() {
            let certificate = reqwest::Certificate::from_der(certificate)
                .map_err(|e| UpstreamError::Build(error_chain(&e)))?;
            client = client.add_root_certificate(certificate);
        }
        let client = client
            .build()
            .map_err(|e| UpstreamError::Build(error_chain(&e)))?;
        Ok(Self {
            direct: Arc::new(pool::Pool::new(connector(&roots)?)),
            client,
            proxies: Arc::new(Matcher::from_system()),
        })
    }

    /// Sends a POST and returns once the response headers have arrived.
    ///
    /// Redirects are not followed (the redirect is the answer), and a request goes out with
    /// `accept: */*` unless it names what it accepts.
    pub async fn post(&self, request: UpstreamRequest) -> Result<Response, UpstreamError> {
        if self.proxies.intercept(&request.url).is_some() {
            return self.post_by_proxy(request).await;
        }
        let UpstreamRequest {
            url: uri,
            mut headers,
            body,
        } = request;
        if !headers.contains_key(header::ACCEPT) {
            headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        }
        // Only an https provider can speak HTTP/2 here (ALPN), and only HTTP/2 refuses a
        // request in a way that is safe to send again: only then is a copy of the headers kept.
        let mut resend = (uri.scheme() == Some(&http::uri::Scheme::HTTPS))
            .then(|| (headers.clone(), PROTOCOL_RESENDS));
        loop {
            let mut outgoing = http::Request::new(Full::new(body.clone()));
            *outgoing.method_mut() = http::Method::POST;
            *outgoing.uri_mut() = uri.clone();
            *outgoing.headers_mut() = headers;
            match self.direct.send(outgoing).await {
                Ok(response) => {
                    return Ok(response.map(|body| -> BodyStream { Box::pin(body) }));
                }
                Err(error) => match &mut resend {
                    Some((copy, left)) if *left > 0 && refused_before_start(&error) => {
                        *left -= 1;
                        headers = copy.clone();
                    }
                    _ => return Err(UpstreamError::Connect(SendError::direct(&error))),
                },
            }
        }
    }

    /// A POST through the proxy the environment names for its URL.
    async fn post_by_proxy(&self, request: UpstreamRequest) -> Result<Response, UpstreamError> {
        self.client
            .post(request.url.to_string())
            .headers(request.headers)
            .body(request.body)
            .send()
            .await
            .map(from_reqwest)
            .map_err(|e| UpstreamError::Connect(SendError::new(&e)))
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
            .map_err(|e| UpstreamError::Connect(SendError::new(&e)))
    }
}

/// A response from `reqwest` as the Messages client gives it.
pub(crate) fn from_reqwest(response: reqwest::Response) -> Response {
    let mut response = response;
    let status = response.status();
    let version = response.version();
    let headers = std::mem::take(response.headers_mut());
    let body: BodyStream = Box::pin(
        response
            .bytes_stream()
            .map_err(|e| -> BoxError { Box::new(e) }),
    );
    let mut answer = http::Response::new(body);
    *answer.status_mut() = status;
    *answer.version_mut() = version;
    *answer.headers_mut() = headers;
    answer
}

/// Whether an HTTP/2 provider refused the request before starting it: a `REFUSED_STREAM`
/// reset or a graceful `GOAWAY` (nothing of it was processed, so it may be sent again).
fn refused_before_start(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(h2) = error.downcast_ref::<h2::Error>() {
            return h2.is_remote()
                && ((h2.is_go_away() && h2.reason() == Some(h2::Reason::NO_ERROR))
                    || (h2.is_reset() && h2.reason() == Some(h2::Reason::REFUSED_STREAM)));
        }
        current = error.source();
    }
    false
}

/// The Messages client's connector: TLS by rustls with the web PKI roots and `roots` (TLS 1.2
/// and 1.3, ALPN `h2` then `http/1.1`), `TCP_NODELAY`, TCP keep-alive every 15 s; the pool bounds
/// the whole connect by [`CONNECT_TIMEOUT`].
fn connector(
    roots: &ExtraRoots,
) -> Result<hyper_rustls::HttpsConnector<HttpConnector<SystemResolver>>, UpstreamError> {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| UpstreamError::Build(e.to_string()))?
    .with_root_certificates(roots.store())
    .with_no_client_auth();
    let mut http = HttpConnector::new_with_resolver(SystemResolver);
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.set_keepalive(Some(Duration::from_secs(15)));
    http.set_keepalive_interval(Some(Duration::from_secs(15)));
    http.set_keepalive_retries(Some(3));
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http))
}

/// The Anthropic API version header.
const ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");

/// The upstream path of `POST /v1/messages`.
pub const MESSAGES_PATH: &str = "/v1/messages";
/// The upstream path of `POST /v1/messages/count_tokens`.
pub const COUNT_TOKENS_PATH: &str = "/v1/messages/count_tokens";
/// The upstream path of `GET /v1/models`.
pub const MODELS_PATH: &str = "/v1/models";

/// The URL of a Messages-API path on an Anthropic-type provider: the provider's base URL
/// followed by one of the fixed API paths above (never anything from the client's path, so a
/// request cannot reach another path on the provider's host with the operator's key), and a
/// query built by claude-lb or filtered by [`allowed_client_query`].
pub fn anthropic_url(
    provider: &Provider,
    path: &'static str,
    query: Option<&str>,
) -> Result<http::Uri, UpstreamError> {
    uri(provider, path, query)
}

/// The parts of a client's query string that may travel upstream: only the parameters the
/// Messages API defines (`beta=true`, which Claude Code adds to every request), each as the
/// client wrote it, in the client's order. Anything else stays behind.
pub fn allowed_client_query(path_and_query: &str) -> Option<std::borrow::Cow<'_, str>> {
    let (_, query) = path_and_query.split_once('?')?;
    let allowed = |pair: &&str| matches!(*pair, "beta=true" | "beta=false");
    if query.split('&').all(|pair| allowed(&pair)) {
        // Claude Code's `beta=true` alone, as it is.
        return Some(query.into());
    }
    let kept: Vec<&str> = query.split('&').filter(allowed).collect();
    (!kept.is_empty()).then(|| kept.join("&").into())
}

/// The Chat Completions URL of an OpenAI-type provider.
pub fn openai_url(provider: &Provider) -> Result<http::Uri, UpstreamError> {
    uri(provider, "/chat/completions", None)
}

/// [`join`] as the HTTP client takes it, made from the parts of the parsed base URL: the
/// scheme is one of two constants and only the host and the path are checked again.
fn uri(provider: &Provider, path: &str, query: Option<&str>) -> Result<http::Uri, UpstreamError> {
    let base = &provider.base_url;
    let base_path = base.path().trim_end_matches('/');
    let mut path_and_query =
        String::with_capacity(base_path.len() + path.len() + query.map_or(0, |q| q.len() + 1));
    path_and_query.push_str(base_path);
    path_and_query.push_str(path);
    if let Some(query) = query {
        path_and_query.push('?');
        path_and_query.push_str(query);
    }
    let invalid = |e: &dyn std::fmt::Display| UpstreamError::Invalid(format!("{base}: {e}"));
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(match base.scheme() {
        "https" => http::uri::Scheme::HTTPS,
        "http" => http::uri::Scheme::HTTP,
        other => return Err(invalid(&format_args!("unsupported scheme {other}"))),
    });
    parts.authority = Some(
        http::uri::Authority::try_from(&base[url::Position::BeforeHost..url::Position::AfterPort])
            .map_err(|e| invalid(&e))?,
    );
    parts.path_and_query =
        Some(http::uri::PathAndQuery::try_from(path_and_query).map_err(|e| invalid(&e))?);
    http::Uri::from_parts(parts).map_err(|e| invalid(&e))
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

/// Whether a client request header travels to an Anthropic-type provider: an allowlist of
/// what Claude Code and the Anthropic SDKs send (`anthropic-*` whatever the release adds,
/// the SDK's `x-stainless-*`, Claude Code's `x-claude-code-*` and `x-app`, the request id
/// they set, content negotiation and the user agent). Everything else stays behind: the
/// client's own credentials, hop-by-hop headers, proxy headers (`forwarded`,
/// `x-forwarded-*`), cookies, `expect`, and anything a client invents. Headers an operator
/// wants every request to carry go in the provider's `headers`.
fn is_forwarded_request_header(name: &HeaderName) -> bool {
    let name = name.as_str();
    name.starts_with("anthropic-")
        || name.starts_with("x-stainless-")
        || name.starts_with("x-claude-code-")
        || matches!(
            name,
            "content-type" | "accept" | "user-agent" | "x-app" | "x-client-request-id"
        )
}

/// The headers for a pass-through request to an Anthropic-type provider: the client headers
/// that pass [`is_forwarded_request_header`], except any the client's `Connection` header
/// names (those are hop-by-hop by its own declaration), then the provider's extra headers,
/// then its credential.
pub fn anthropic_headers(provider: &Provider, client: &HeaderMap) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(client.len() + provider.headers.len() + 2);
    let hop_by_hop: Vec<String> = client
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    for (name, value) in client {
        if is_forwarded_request_header(name) && !hop_by_hop.iter().any(|h| h == name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
    }
    if !headers.contains_key(ANTHROPIC_VERSION) {
        headers.insert(ANTHROPIC_VERSION, HeaderValue::from_static("2023-06-01"));
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
    // Built when the config was loaded. A secret that is not a valid header value was
    // rejected then; if one slips through, the request goes without it and the provider
    // answers 401, which fails over.
    if let Some((name, value)) = &provider.credential {
        headers.insert(name.clone(), value.clone());
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
    let url = join(provider, MODELS_PATH, Some("limit=1000"));
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
    let scrubber = Scrubber::for_provider(provider);
    Some(
        list.data
            .into_iter()
            .map(|entry| scrubber.text(entry.id))
            .collect(),
    )
}

/// `text` with the provider's credential replaced by `*****`: for messages built from what a
/// provider or the network said, which some providers fill with the key they refused.
pub fn scrub_secret(provider: &Provider, text: String) -> String {
    Scrubber::for_provider(provider).text(text)
}

/// Removes one provider's credential from what that provider said, wherever its words go next:
/// an answer's body and headers, a stream's events, a failure message for the log,
/// `/providers` and `claude-lb test`. It runs on whole values, before anything shortens them,
/// so no prefix of the key survives a cut.
#[derive(Clone, Debug, Default)]
pub struct Scrubber {
    /// The searcher for the key, built once per provider and config generation (a stream runs
    /// it on every chunk); cloning a scrubber shares it.
    finder: Option<std::sync::Arc<memchr::memmem::Finder<'static>>>,
}

/// What replaces the credential.
const SCRUBBED: &str = "*****";

/// The shortest credential that is scrubbed. A shorter one is a placeholder (a local model
/// server takes any key: `x`, `none`, `EMPTY`), not a secret, and replacing each of its
/// occurrences would corrupt answers: a one-letter key would break every event's JSON.
pub const MIN_SCRUBBED_LEN: usize = 8;

impl Scrubber {
    pub fn for_provider(provider: &Provider) -> Self {
        let finder = provider
            .secret
            .as_ref()
            .map(|secret| secret.expose().as_bytes())
            .filter(|key| key.len() >= MIN_SCRUBBED_LEN)
            .map(|key| std::sync::Arc::new(memchr::memmem::Finder::new(key).into_owned()));
        Self { finder }
    }

    pub fn text(&self, text: String) -> String {
        match self.replaced(text.as_bytes()) {
            // The key and the replacement are whole UTF-8 strings, so nothing is lost here.
            Some(clean) => String::from_utf8_lossy(&clean).into_owned(),
            None => text,
        }
    }

    /// `bytes` without the credential; the same buffer when it holds none (the usual case,
    /// found with one vectorised search).
    pub fn bytes(&self, bytes: Bytes) -> Bytes {
        match self.replaced(&bytes) {
            Some(clean) => Bytes::from(clean),
            None => bytes,
        }
    }

    /// Removes the credential from `buffer` in place.
    pub fn vec(&self, buffer: &mut Vec<u8>) {
        if let Some(clean) = self.replaced(buffer) {
            *buffer = clean;
        }
    }

    fn replaced(&self, haystack: &[u8]) -> Option<Vec<u8>> {
        let finder = self.finder.as_ref()?;
        let needle = finder.needle();
        let first = find(finder, haystack)?;
        let mut out = Vec::with_capacity(haystack.len());
        let mut rest = 0;
        let mut at = first;
        loop {
            out.extend_from_slice(&haystack[rest..at]);
            out.extend_from_slice(SCRUBBED.as_bytes());
            rest = at + needle.len();
            match finder.find(&haystack[rest..]) {
                Some(next) => at = rest + next,
                None => break,
            }
        }
        out.extend_from_slice(&haystack[rest..]);
        Some(out)
    }

    /// Header values without the credential; a header whose name holds it is dropped.
    pub fn headers(&self, headers: &mut HeaderMap) {
        let Some(finder) = &self.finder else {
            return;
        };
        if !headers.iter().any(|(name, value)| {
            find(finder, name.as_str().as_bytes()).is_some()
                || find(finder, value.as_bytes()).is_some()
        }) {
            return;
        }
        let old = std::mem::take(headers);
        let mut current: Option<HeaderName> = None;
        for (name, value) in old {
            if let Some(name) = name {
                current = Some(name);
            }
            let Some(name) = current.clone() else {
                continue;
            };
            if finder.find(name.as_str().as_bytes()).is_some() {
                continue;
            }
            let value = match self.replaced(value.as_bytes()) {
                Some(clean) => match HeaderValue::from_bytes(&clean) {
                    Ok(value) => value,
                    Err(_) => continue,
                },
                None => value,
            };
            headers.append(name, value);
        }
    }
}

/// Where `finder`'s needle first occurs in `haystack`: a haystack shorter than the needle (most
/// header values beside a key) is not searched at all.
fn find(finder: &memchr::memmem::Finder<'_>, haystack: &[u8]) -> Option<usize> {
    if haystack.len() < finder.needle().len() {
        return None;
    }
    finder.find(haystack)
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

/// Why a request got no response headers, read from the error's own kind and the types of
/// its causes (never from their text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendFailure {
    /// The connect or the whole exchange ran out of time.
    TimedOut,
    /// The provider's host name did not resolve.
    NameNotResolved,
    /// Nothing listens at the provider's address.
    ConnectionRefused,
    /// The provider's certificate is signed by an authority claude-lb does not trust.
    UnknownIssuer,
    /// The TLS handshake failed (certificate, protocol, a plain-HTTP server on an https URL).
    Tls,
    /// The connection closed or was reset before the response.
    Closed,
    /// claude-lb could not open a connection: it is out of file descriptors or memory.
    LocalResources,
    /// Anything else.
    Failed,
}

impl SendFailure {
    /// Classifies a failed send.
    pub fn of(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            return Self::TimedOut;
        }
        std::error::Error::source(error).map_or(Self::Failed, Self::of_causes)
    }

    /// Classifies a chain of causes, outermost first. When several causes say something, the
    /// order of the checks decides: name, refusal, TLS, then a closed connection.
    fn of_causes(first: &(dyn std::error::Error + 'static)) -> Self {
        let mut found = Self::Failed;
        let mut current = Some(first);
        while let Some(error) = current {
            let this = Self::of_one(error);
            if this.rank() < found.rank() {
                found = this;
            }
            current = error.source();
        }
        found
    }

    /// What one cause says by its type.
    fn of_one(error: &(dyn std::error::Error + 'static)) -> Self {
        if error.is::<ConnectTimedOut>() {
            return Self::TimedOut;
        }
        if let Some(hyper) = error.downcast_ref::<hyper::Error>()
            && hyper.is_timeout()
        {
            return Self::TimedOut;
        }
        if error.is::<NameNotResolved>() {
            return Self::NameNotResolved;
        }
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return match tls {
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => {
                    Self::UnknownIssuer
                }
                _ => Self::Tls,
            };
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            if is_out_of_local_resources(io) {
                return Self::LocalResources;
            }
            let by_kind = match io.kind() {
                std::io::ErrorKind::TimedOut => Self::TimedOut,
                std::io::ErrorKind::ConnectionRefused => Self::ConnectionRefused,
                std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof => Self::Closed,
                _ => Self::Failed,
            };
            // An I/O error's `source` skips the error it wraps (the TLS connector wraps the
            // TLS library's error that way, even twice), so the wrapped error is read here.
            let wrapped = io
                .get_ref()
                .map_or(Self::Failed, |inner| Self::of_causes(inner));
            return if wrapped.rank() < by_kind.rank() {
                wrapped
            } else {
                by_kind
            };
        }
        if let Some(hyper) = error.downcast_ref::<hyper::Error>() {
            if hyper.is_incomplete_message() || hyper.is_closed() || hyper.is_canceled() {
                return Self::Closed;
            }
        }
        Self::Failed
    }

    /// Which of two findings wins: the lower rank. A shortage of claude-lb's own comes first:
    /// whatever else the causes say, the provider was not reached.
    fn rank(self) -> u8 {
        match self {
            Self::LocalResources => 0,
            Self::TimedOut => 1,
            Self::NameNotResolved => 2,
            Self::ConnectionRefused => 3,
            Self::UnknownIssuer => 4,
            Self::Tls => 5,
            Self::Closed => 6,
            Self::Failed => 7,
        }
    }

    /// Whether the provider cannot be reached until someone fixes something (its name, its
    /// address, its certificate), as opposed to a connection that may work on the next try.
    pub fn is_unreachable(self) -> bool {
        matches!(
            self,
            Self::NameNotResolved | Self::ConnectionRefused | Self::UnknownIssuer | Self::Tls
        )
    }

    /// The words an operator needs.
    pub fn words(self) -> &'static str {
        match self {
            Self::TimedOut => "connection timed out",
            Self::NameNotResolved => "name not resolved",
            Self::ConnectionRefused => "connection refused",
            Self::UnknownIssuer => {
                "TLS error: the certificate is signed by an authority claude-lb does not trust \
                 (for a provider behind a CA of its own, name the CA's PEM file in SSL_CERT_FILE)"
            }
            Self::Tls => "TLS error",
            Self::Closed => "connection closed before the response",
            Self::LocalResources => {
                "claude-lb is out of file descriptors or memory (raise its open-file limit: \
                 `ulimit -n`, or `LimitNOFILE=` in a systemd unit)"
            }
            Self::Failed => "connection failed",
        }
    }
}

/// Whether an I/O error is claude-lb's own shortage (too many open files in the process or the
/// system, no memory) rather than anything the provider did.
fn is_out_of_local_resources(io: &std::io::Error) -> bool {
    if io.kind() == std::io::ErrorKind::OutOfMemory {
        return true;
    }
    #[cfg(unix)]
    {
        use rustix::io::Errno;
        if let Some(code) = io.raw_os_error() {
            return [Errno::MFILE, Errno::NFILE, Errno::NOBUFS, Errno::NOMEM]
                .iter()
                .any(|errno| errno.raw_os_error() == code);
        }
    }
    false
}

/// A failed send: what went wrong, and the innermost cause (what the operating system or the
/// TLS library saw; the layers above it, "error sending request", "client error (Connect)",
/// add nothing for a reader). Shown as `connection refused (Connection refused (os error 111))`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} ({cause})", failure.words())]
pub struct SendError {
    pub failure: SendFailure,
    pub cause: String,
}

impl SendError {
    pub fn new(error: &reqwest::Error) -> Self {
        Self {
            failure: SendFailure::of(error),
            cause: innermost(error).to_string(),
        }
    }

    /// A failed send of the Messages client.
    fn direct(error: &(dyn std::error::Error + 'static)) -> Self {
        Self {
            failure: SendFailure::of_causes(error),
            cause: innermost(error).to_string(),
        }
    }
}

/// The last of an error's causes (the error itself when it has none).
pub fn innermost<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> &'a (dyn std::error::Error + 'static) {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost
}

/// A host name the system resolver could not resolve: the cause a failed name lookup carries,
/// so [`SendFailure`] recognises it by type. Shown as the resolver's own words.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct NameNotResolved(std::io::Error);

/// Resolves names as the HTTP client's default resolver does (the system's `getaddrinfo`, on
/// a blocking thread), failing with [`NameNotResolved`]: for both clients.
#[derive(Clone, Copy, Debug)]
struct SystemResolver;

impl SystemResolver {
    async fn lookup(
        host: String,
    ) -> Result<std::vec::IntoIter<std::net::SocketAddr>, NameNotResolved> {
        match tokio::net::lookup_host((host.as_str(), 0)).await {
            Ok(addrs) => Ok(addrs.collect::<Vec<_>>().into_iter()),
            Err(error) => Err(NameNotResolved(error)),
        }
    }
}

impl reqwest::dns::Resolve for SystemResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let lookup = Self::lookup(name.as_str().to_owned());
        Box::pin(async move {
            match lookup.await {
                Ok(addrs) => Ok(Box::new(addrs) as reqwest::dns::Addrs),
                Err(error) => Err(Box::new(error) as BoxError),
            }
        })
    }
}

impl tower_service::Service<Name> for SystemResolver {
    type Response = std::vec::IntoIter<std::net::SocketAddr>;
    type Error = NameNotResolved;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, NameNotResolved>> + Send>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> Poll<Result<(), NameNotResolved>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        Box::pin(Self::lookup(name.as_str().to_owned()))
    }
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

    #[derive(Debug, thiserror::Error)]
    #[error("outer layer")]
    struct Layer(#[source] Box<dyn std::error::Error + Send + Sync>);

    fn layered(inner: impl std::error::Error + Send + Sync + 'static) -> Layer {
        Layer(Box::new(inner))
    }

    #[test]
    fn send_failures_are_read_from_the_types_of_the_causes() {
        use std::io::{Error, ErrorKind};
        let refused = layered(Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(
            SendFailure::of_causes(&refused),
            SendFailure::ConnectionRefused
        );
        let name = layered(NameNotResolved(Error::other(
            "failed to lookup address information: Name or service not known",
        )));
        assert_eq!(SendFailure::of_causes(&name), SendFailure::NameNotResolved);
        let tls = layered(Error::new(
            ErrorKind::InvalidData,
            rustls::Error::General("bad certificate".to_owned()),
        ));
        assert_eq!(SendFailure::of_causes(&tls), SendFailure::Tls);
        let unknown = layered(Error::new(
            ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        ));
        assert_eq!(SendFailure::of_causes(&unknown), SendFailure::UnknownIssuer);
        let reset = layered(Error::from(ErrorKind::ConnectionReset));
        assert_eq!(SendFailure::of_causes(&reset), SendFailure::Closed);
        // Words alone mean nothing: a cause that only says "connection refused" is not one.
        let words = layered(Error::other("connection refused, TLS error, dns error"));
        assert_eq!(SendFailure::of_causes(&words), SendFailure::Failed);
        // A refusal under a reset: the refusal says more.
        let both = layered(Error::new(
            ErrorKind::ConnectionReset,
            layered(Error::from(ErrorKind::ConnectionRefused)),
        ));
        assert_eq!(
            SendFailure::of_causes(&both),
            SendFailure::ConnectionRefused
        );
        // claude-lb's own shortage wins over anything else the causes say.
        let emfile = layered(Error::new(
            ErrorKind::ConnectionReset,
            layered(Error::from_raw_os_error(
                rustix::io::Errno::MFILE.raw_os_error(),
            )),
        ));
        assert_eq!(SendFailure::of_causes(&emfile), SendFailure::LocalResources);
        let memory = layered(Error::from(ErrorKind::OutOfMemory));
        assert_eq!(SendFailure::of_causes(&memory), SendFailure::LocalResources);
        for (failure, unreachable) in [
            (SendFailure::LocalResources, false),
            (SendFailure::NameNotResolved, true),
            (SendFailure::ConnectionRefused, true),
            (SendFailure::UnknownIssuer, true),
            (SendFailure::Tls, true),
            (SendFailure::Closed, false),
            (SendFailure::TimedOut, false),
            (SendFailure::Failed, false),
        ] {
            assert_eq!(failure.is_unreachable(), unreachable, "{failure:?}");
        }
    }

    /// The send error of a GET (`reqwest`) and of a POST (the Messages client) to `url`: both
    /// clients must say the same.
    async fn send_errors(url: &str) -> [SendError; 2] {
        let upstream = Upstream::new(&|_| None).unwrap();
        let get = upstream.get(url, HeaderMap::new()).await.map(drop);
        let post = upstream
            .post(UpstreamRequest {
                url: http::Uri::try_from(url).unwrap(),
                headers: HeaderMap::new(),
                body: Bytes::from_static(b"{}"),
            })
            .await
            .map(drop);
        [get, post].map(|result| match result {
            Err(UpstreamError::Connect(send)) => send,
            Err(error) => panic!("not a send error: {error}"),
            Ok(()) => panic!("{url} answered"),
        })
    }

    #[tokio::test]
    async fn a_real_refused_connection_is_unreachable_with_its_innermost_cause() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let [get, post] = send_errors(&format!("http://{addr}/v1/messages")).await;
        assert_eq!(get, post);
        assert_eq!(post.failure, SendFailure::ConnectionRefused);
        assert!(
            post.to_string().starts_with("connection refused ("),
            "{post}"
        );
        assert!(!post.cause.contains("error sending request"), "{post}");
    }

    #[tokio::test]
    async fn a_plain_http_server_behind_an_https_url_is_a_tls_error() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let [get, post] = send_errors(&format!("https://{addr}/v1/messages")).await;
        server.abort();
        assert_eq!(get, post);
        assert_eq!(post.failure, SendFailure::Tls, "{post}");
        assert!(post.to_string().starts_with("TLS error ("), "{post}");
    }

    #[tokio::test]
    async fn a_post_says_what_it_accepts_and_its_length_and_streams_the_answer_back() {
        use futures_util::StreamExt;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while !seen.ends_with(b"{\"a\":1}") {
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "the request ended early");
                seen.extend_from_slice(&buf[..n]);
            }
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-up: 1\r\n\r\nhello")
                .await
                .unwrap();
            String::from_utf8(seen).unwrap().to_ascii_lowercase()
        });
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_static("k"));
        let response = Upstream::new(&|_| None)
            .unwrap()
            .post(UpstreamRequest {
                url: http::Uri::try_from(format!("http://{addr}/v1/messages?beta=true")).unwrap(),
                headers,
                body: Bytes::from_static(b"{\"a\":1}"),
            })
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-up"], "1");
        let mut body = response.into_body();
        let mut got = Vec::new();
        while let Some(chunk) = body.next().await {
            got.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(got, b"hello");
        let request = server.await.unwrap();
        assert!(
            request.starts_with("post /v1/messages?beta=true http/1.1\r\n"),
            "{request}"
        );
        assert_eq!(request.matches("\r\nhost:").count(), 1, "{request}");
        for line in [
            "accept: */*",
            "x-api-key: k",
            "content-length: 7",
            &format!("host: {addr}"),
        ] {
            assert!(
                request.contains(&format!("\r\n{line}\r\n")),
                "{line} in {request}"
            );
        }
    }

    fn provider(base: &str) -> Provider {
        let yaml = format!(
            "providers:\n  - name: p\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    base_url: {base}\n"
        );
        let loaded = crate::config::load_str(&yaml, "test.yaml", &|_| None).unwrap();
        loaded.config.providers.into_iter().next().unwrap()
    }

    #[test]
    fn a_placeholder_key_is_not_scrubbed_and_a_real_one_is() {
        let event = r#"data: {"type":"content_block_delta","delta":{"text":"k"}}"#;
        // `k`: every letter k of every event would go.
        let placeholder = Scrubber::for_provider(&provider("http://x"));
        assert_eq!(placeholder.text(event.to_owned()), event);
        let with_key = |key: &str| {
            let yaml = format!(
                "providers:\n  - name: p\n    type: anthropic\n    auth_type: api_key\n    auth_value: {key}\n    base_url: http://x\n"
            );
            let loaded = crate::config::load_str(&yaml, "test.yaml", &|_| None).unwrap();
            Scrubber::for_provider(&loaded.config.providers[0])
        };
        let short = "k".repeat(MIN_SCRUBBED_LEN - 1);
        let text = format!("echo {short}");
        assert_eq!(with_key(&short).text(text.clone()), text);
        let key = "k".repeat(MIN_SCRUBBED_LEN);
        assert_eq!(with_key(&key).text(format!("echo {key}!")), "echo *****!");
    }

    #[test]
    fn urls_join_the_base_path_and_a_fixed_suffix() {
        for (base, path, query, expect) in [
            (
                "http://127.0.0.1:9001",
                MESSAGES_PATH,
                None,
                "http://127.0.0.1:9001/v1/messages",
            ),
            (
                "http://127.0.0.1:9001/",
                MESSAGES_PATH,
                Some("beta=true"),
                "http://127.0.0.1:9001/v1/messages?beta=true",
            ),
            (
                "https://relay.example.com/api/",
                COUNT_TOKENS_PATH,
                None,
                "https://relay.example.com/api/v1/messages/count_tokens",
            ),
            (
                "https://relay.example.com/api",
                MODELS_PATH,
                Some("limit=1000"),
                "https://relay.example.com/api/v1/models?limit=1000",
            ),
            // A default port is left out, as the URL's own text leaves it out.
            (
                "https://relay.example.com:443/api",
                MESSAGES_PATH,
                None,
                "https://relay.example.com/api/v1/messages",
            ),
            (
                "http://[::1]:11434/anthropic%20api/",
                MESSAGES_PATH,
                Some("beta=true"),
                "http://[::1]:11434/anthropic%20api/v1/messages?beta=true",
            ),
        ] {
            let provider = provider(base);
            let uri = anthropic_url(&provider, path, query).unwrap();
            assert_eq!(uri.to_string(), expect, "{base} + {path}");
            assert_eq!(join(&provider, path, query).as_str(), expect);
        }
        let uri = openai_url(&provider("https://openrouter.ai/api/v1")).unwrap();
        assert_eq!(
            uri.to_string(),
            "https://openrouter.ai/api/v1/chat/completions"
        );
    }

    #[test]
    fn only_the_beta_parameter_of_a_client_query_travels() {
        for (client, expect) in [
            ("/v1/messages", None),
            ("/v1/messages?beta=true", Some("beta=true")),
            ("/v1/messages?a=1&beta=true&b=2", Some("beta=true")),
            (
                "/v1/messages?beta=true&beta=false",
                Some("beta=true&beta=false"),
            ),
            ("/v1/messages?beta=true&", Some("beta=true")),
            ("/v1/messages?x=../../admin", None),
            ("/v1/messages?beta=true%26x=1", None),
            ("/v1/messages?", None),
        ] {
            assert_eq!(allowed_client_query(client).as_deref(), expect, "{client}");
        }
    }

    #[test]
    fn client_headers_travel_by_an_allowlist() {
        let mut client = HeaderMap::new();
        for (name, value) in [
            ("anthropic-version", "2023-06-01"),
            ("anthropic-beta", "a,b"),
            ("content-type", "application/json"),
            ("accept", "application/json"),
            ("user-agent", "claude-cli/2.1.332 (external, sdk-cli)"),
            ("x-app", "cli"),
            ("x-stainless-os", "Linux"),
            ("x-claude-code-session-id", "s"),
            ("x-client-request-id", "r"),
            ("x-api-key", "client-key"),
            ("authorization", "Bearer client-token"),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-host", "evil"),
            ("forwarded", "for=10.0.0.1"),
            ("cookie", "session=1"),
            ("expect", "100-continue"),
            ("connection", "keep-alive, x-stainless-arch"),
            ("x-stainless-arch", "x64"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("host", "localhost"),
            ("content-length", "10"),
            ("accept-encoding", "gzip"),
            ("x-custom", "1"),
        ] {
            client.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let sent = anthropic_headers(&provider("http://127.0.0.1:9"), &client);
        let mut names: Vec<&str> = sent.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "accept",
                "anthropic-beta",
                "anthropic-version",
                "content-type",
                "user-agent",
                "x-api-key",
                "x-app",
                "x-claude-code-session-id",
                "x-client-request-id",
                "x-stainless-os",
            ]
        );
        assert_eq!(sent["x-api-key"], "k");
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
