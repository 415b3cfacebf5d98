//! The requests sent, straight to a provider or through the proxy, and the HTTP client.

use std::time::Duration;

use anyhow::bail;
use bytes::Bytes;

/// One kind of request, sent either straight to a provider or through the proxy.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Bytes,
}

pub(crate) fn anthropic_target(base: &str, model: &str, content: &str, stream: bool) -> Target {
    let body = serde_json::json!({
        "model": model,
        "max_tokens": 256,
        "stream": stream,
        "messages": [{"role": "user", "content": content}],
    });
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("anthropic-version", "2023-06-01".parse().unwrap());
    headers.insert("x-api-key", "bench-key".parse().unwrap());
    Target {
        url: format!("{base}/v1/messages"),
        headers,
        body: Bytes::from(body.to_string()),
    }
}

pub(crate) fn openai_target(base: &str, model: &str, content: &str) -> Target {
    let body = serde_json::json!({
        "model": model,
        "max_completion_tokens": 256,
        "messages": [{"role": "user", "content": content}],
    });
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("authorization", "Bearer bench-key".parse().unwrap());
    Target {
        url: format!("{base}/v1/chat/completions"),
        headers,
        body: Bytes::from(body.to_string()),
    }
}

pub(crate) fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(300))
        .build()?)
}

/// A client that opens a new connection for every request (none is kept between them), as a
/// script or a client without a connection pool does.
pub(crate) fn fresh_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(0)
        .build()?)
}

/// Sends one request and reads the whole answer; fails on anything but a 200.
pub(crate) async fn exchange(client: &reqwest::Client, target: &Target) -> anyhow::Result<Bytes> {
    let response = client
        .post(&target.url)
        .headers(target.headers.clone())
        .body(target.body.clone())
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    if status != 200 {
        bail!(
            "{} answered {status}: {}",
            target.url,
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    Ok(body)
}
