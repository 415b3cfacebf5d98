//! The HTTP client side of a running `claude-lb serve`, for the commands that take `--remote`.
//!
//! `providers list --remote` and `top` read the admin API (`GET /providers`, with the admin
//! token when one is given) and `test --remote` sends a Messages request through the instance. Both go through the shared [`Upstream`] client, so
//! this module, like the rest of `upstream`, is the only one that knows `reqwest`.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http::{HeaderMap, StatusCode};
use url::Url;

use super::{BodyStream, Upstream, UpstreamError, UpstreamRequest};

/// An answer from a running instance, its body still to be read.
pub struct RemoteResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    body: BodyStream,
}

impl std::fmt::Debug for RemoteResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteResponse")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl RemoteResponse {
    fn new(response: reqwest::Response) -> Self {
        Self::from_response(super::from_reqwest(response))
    }

    fn from_response(response: super::Response) -> Self {
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// The next piece of the body, `None` at its end.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, UpstreamError> {
        match self.body.next().await {
            None => Ok(None),
            Some(Ok(chunk)) => Ok(Some(chunk)),
            Some(Err(error)) => Err(UpstreamError::Body(super::error_chain(&*error))),
        }
    }

    /// The whole body, refused when it grows past `limit` bytes.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes, UpstreamError> {
        let mut out = BytesMut::new();
        while let Some(chunk) = self.next_chunk().await? {
            if out.len() + chunk.len() > limit {
                return Err(UpstreamError::Body(format!(
                    "the answer is larger than {limit} bytes"
                )));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out.freeze())
    }
}

/// The base URL of an instance from what the user typed: `http://127.0.0.1:8080`, or
/// `127.0.0.1:8080` (http is assumed), without a trailing slash.
pub fn instance_url(text: &str) -> Result<Url, String> {
    let text = text.trim();
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| format!("`{text}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "`{text}` is not an http or https URL (such as http://127.0.0.1:8080)"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "`{text}` has no host (such as http://127.0.0.1:8080)"
        ));
    }
    // The URL Claude Code is given may carry the `/v1` of its requests; the instance is above it.
    let mut url = url;
    let path = url.path().trim_end_matches('/');
    if let Some(base) = path.strip_suffix("/v1") {
        let base = base.to_owned();
        url.set_path(&base);
    }
    Ok(url)
}

/// `base` followed by `path` (which starts with `/`).
pub fn join(base: &Url, path: &str) -> String {
    let mut out = base.as_str().trim_end_matches('/').to_owned();
    out.push_str(path);
    out
}

/// `GET url`, with the instance's admin token when there is one.
pub async fn get(
    upstream: &Upstream,
    url: &str,
    admin_token: Option<&str>,
) -> Result<RemoteResponse, UpstreamError> {
    upstream
        .get(url, admin_headers(admin_token)?)
        .await
        .map(RemoteResponse::new)
}

/// The headers of an admin request: `Authorization: Bearer TOKEN` when there is a token.
pub fn admin_headers(token: Option<&str>) -> Result<HeaderMap, UpstreamError> {
    let mut headers = HeaderMap::new();
    if let Some(token) = token {
        let mut value = http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            UpstreamError::Invalid(
                "the admin token has characters a header cannot carry".to_owned(),
            )
        })?;
        value.set_sensitive(true);
        headers.insert(http::header::AUTHORIZATION, value);
    }
    Ok(headers)
}

/// `POST url` with these headers and body.
pub async fn post(
    upstream: &Upstream,
    url: String,
    headers: HeaderMap,
    body: Bytes,
) -> Result<RemoteResponse, UpstreamError> {
    let invalid =
        |e: &dyn std::fmt::Display| UpstreamError::Invalid(format!("{url} is not a URL: {e}"));
    let parsed = url::Url::parse(&url).map_err(|e| invalid(&e))?;
    let url = http::Uri::try_from(parsed.as_str()).map_err(|e| invalid(&e))?;
    upstream
        .post(UpstreamRequest { url, headers, body })
        .await
        .map(RemoteResponse::from_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_urls() {
        assert_eq!(
            instance_url("127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            join(&instance_url("http://h:1/").unwrap(), "/providers"),
            "http://h:1/providers"
        );
        for with_v1 in ["http://h:1/v1", "http://h:1/v1/", "h:1/v1"] {
            assert_eq!(
                join(&instance_url(with_v1).unwrap(), "/providers"),
                "http://h:1/providers",
                "{with_v1}"
            );
        }
        assert!(instance_url("ftp://h").unwrap_err().contains("not an http"));
        assert!(instance_url("http://").is_err());
    }

    #[test]
    fn admin_headers_carry_the_token_as_a_bearer_only_when_given() {
        assert!(admin_headers(None).unwrap().is_empty());
        let headers = admin_headers(Some("tok-1")).unwrap();
        let value = &headers[http::header::AUTHORIZATION];
        assert_eq!(value, "Bearer tok-1");
        assert!(value.is_sensitive());
        assert!(admin_headers(Some("bad\ntoken")).is_err());
    }
}
