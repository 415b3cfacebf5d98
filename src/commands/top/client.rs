//! `top`'s side of the admin API: one poll reads every route it shows, and `r` asks for a
//! reload.
//!
//! `GET /providers` must answer (it is what `providers list --remote` reads, with the same
//! errors); every other route is optional: a route the instance does not have (404), refuses
//! (401, 403) or cannot answer leaves its panel empty and a note for the status line.

use std::time::Duration;

use bytes::Bytes;
use url::Url;

use super::stats::{Poll, parse_metrics};
use crate::commands::providers::list::{excerpt, fetch};
use crate::proxy::admin::EventEntry;
use crate::upstream::{Upstream, remote};

/// How long an optional route may take.
const ROUTE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a reload may take (the instance reads and validates its file).
const RELOAD_TIMEOUT: Duration = Duration::from_secs(15);

/// The largest answer read from one route.
const ROUTE_LIMIT: usize = 4 * 1024 * 1024;

/// A running instance's admin API.
#[derive(Debug)]
pub struct Client {
    upstream: Upstream,
    base: Url,
    token: Option<String>,
}

impl Client {
    pub fn new(base: Url, token: Option<String>) -> anyhow::Result<Self> {
        Ok(Self {
            upstream: Upstream::new(&crate::env::process)?,
            base,
            token,
        })
    }

    /// The instance's base URL, as shown in the title.
    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Reads every route once. Fails only when `GET /providers` cannot be read.
    pub async fn poll(&self) -> anyhow::Result<Poll> {
        let token = self.token.as_deref();
        let providers_url = remote::join(&self.base, "/providers");
        let (providers, metrics, events, usage, sessions) = tokio::join!(
            fetch(&self.upstream, &providers_url, token),
            self.optional("/metrics"),
            self.optional("/events"),
            self.optional("/usage?since=24h&by=provider"),
            self.optional("/sessions"),
        );
        let (_, providers) = providers?;
        let mut poll = Poll {
            providers,
            ..Poll::default()
        };
        let mut note = |route: &str, why: Missing| {
            poll.notes.push(match why {
                Missing::NotThere => format!("no {route}"),
                Missing::Other(why) => format!("{route}: {why}"),
            });
        };
        let metrics = metrics.map(|body| parse_metrics(&String::from_utf8_lossy(&body)));
        let events = events.and_then(|body| json::<Vec<EventEntry>>(&body));
        let usage = usage.and_then(|body| json::<serde_json::Value>(&body));
        let sessions = sessions.and_then(|body| json::<serde_json::Value>(&body));
        let metrics = metrics.map_err(|why| note("/metrics", why)).ok();
        let events = events.map_err(|why| note("/events", why)).ok();
        let cost = usage.map_err(|why| note("/usage", why)).ok();
        let sessions = sessions.map_err(|why| note("/sessions", why)).ok();
        poll.metrics = metrics;
        poll.events = events;
        poll.cost_today = cost.as_ref().and_then(super::stats::cost_of);
        poll.sessions = sessions.as_ref().and_then(super::stats::sessions_of);
        Ok(poll)
    }

    /// The body of `GET path`, or why there is none.
    async fn optional(&self, path: &str) -> Result<Bytes, Missing> {
        let url = remote::join(&self.base, path);
        let exchange = async {
            let response = remote::get(&self.upstream, &url, self.token.as_deref()).await?;
            let status = response.status;
            let body = response.collect(ROUTE_LIMIT).await?;
            Ok::<_, crate::upstream::UpstreamError>((status, body))
        };
        match tokio::time::timeout(ROUTE_TIMEOUT, exchange).await {
            Err(_) => Err(Missing::Other(format!(
                "no answer within {}s",
                ROUTE_TIMEOUT.as_secs()
            ))),
            Ok(Err(error)) => Err(Missing::Other(error.to_string())),
            Ok(Ok((status, body))) => match status.as_u16() {
                200..300 => Ok(body),
                404 => Err(Missing::NotThere),
                code @ (401 | 403) => Err(Missing::Other(format!(
                    "refused (HTTP {code}; admin token?)"
                ))),
                code => Err(Missing::Other(format!("HTTP {code}"))),
            },
        }
    }

    /// `POST /providers/reload`, in words for the status line.
    pub async fn reload(&self) -> String {
        let url = remote::join(&self.base, "/providers/reload");
        let headers = match remote::admin_headers(self.token.as_deref()) {
            Ok(headers) => headers,
            Err(error) => return format!("reload not sent: {error}"),
        };
        let exchange = async {
            let response = remote::post(&self.upstream, url, headers, Bytes::new()).await?;
            let status = response.status;
            let body = response.collect(ROUTE_LIMIT).await?;
            Ok::<_, crate::upstream::UpstreamError>((status, body))
        };
        match tokio::time::timeout(RELOAD_TIMEOUT, exchange).await {
            Err(_) => format!("reload: no answer within {}s", RELOAD_TIMEOUT.as_secs()),
            Ok(Err(error)) => format!("reload failed: {error}"),
            Ok(Ok((status, body))) => reload_outcome(status.as_u16(), &body),
        }
    }
}

/// Why an optional route gave nothing.
#[derive(Debug)]
enum Missing {
    /// The instance does not have it (404): an older or smaller instance.
    NotThere,
    /// It refused or failed, in words.
    Other(String),
}

/// A reload's answer in words.
pub fn reload_outcome(status: u16, body: &[u8]) -> String {
    let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    match status {
        200 => match value.as_ref().and_then(|v| v.get("providers")?.as_u64()) {
            Some(n) => format!("reloaded: {n} providers"),
            None => "reloaded".to_owned(),
        },
        401 | 403 => format!("reload refused: HTTP {status} (admin token?)"),
        _ => {
            let message = value
                .as_ref()
                .and_then(|v| v.pointer("/error/message")?.as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("HTTP {status}: {}", excerpt(body)));
            format!("reload failed: {message}")
        }
    }
}

fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Missing> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Missing::Other(format!("not JSON ({e})")))?;
    T::deserialize(&value).map_err(|e| Missing::Other(format!("unexpected shape ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reload_answers_in_words() {
        assert_eq!(
            reload_outcome(200, br#"{"reloaded":true,"providers":3}"#),
            "reloaded: 3 providers"
        );
        assert_eq!(
            reload_outcome(
                400,
                br#"{"type":"error","error":{"type":"invalid_request_error","message":"the config was not reloaded: line 3: bad"}}"#
            ),
            "reload failed: the config was not reloaded: line 3: bad"
        );
        assert_eq!(
            reload_outcome(403, b""),
            "reload refused: HTTP 403 (admin token?)"
        );
        assert_eq!(
            reload_outcome(502, b"<html>bad gateway</html>"),
            "reload failed: HTTP 502: `<html>bad gateway</html>`"
        );
    }
}
