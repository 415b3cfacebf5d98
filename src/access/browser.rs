//! Keeping web pages out: a page the user opens must not be able to spend the providers' keys
//! or read the admin routes, even on loopback.
//!
//! - A browser sends `Origin` on every cross-site request (and on every `POST`); Claude Code and
//!   the SDKs never do. A request with an `Origin` that `allowed_origins` does not list is
//!   refused.
//! - DNS rebinding points a page's own host name at 127.0.0.1, so its requests are same-site
//!   and carry that name in `Host`. A `Host` must be a loopback name, an IP address (a page
//!   reached by address is not a rebinding: its requests carry `Origin` to anything else), or
//!   a name in `allowed_hosts`.
//! - `POST` routes take `content-type: application/json` only: a page can send `text/plain`
//!   without asking the server first (a CORS "simple request"), but JSON needs a preflight,
//!   which claude-lb never approves.

use std::net::IpAddr;

use http::HeaderMap;
use http::header::{CONTENT_TYPE, HOST, ORIGIN};

use super::Refusal;
use crate::config::AccessSettings;

/// Checks `Origin` and `Host` (or an HTTP/2 request's authority).
pub fn check(
    headers: &HeaderMap,
    authority: Option<&str>,
    settings: &AccessSettings,
) -> Result<(), Refusal> {
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("").trim_end_matches('/');
        let allowed = settings
            .allowed_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin));
        if !allowed {
            return Err(Refusal::forbidden(
                "browser",
                format!(
                    "requests from web pages are refused (Origin {}); add the origin to settings.allowed_origins if a page must reach claude-lb",
                    crate::logging::escape(origin, 100)
                ),
            ));
        }
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or(authority);
    if let Some(host) = host
        && !host_allowed(host, &settings.allowed_hosts)
    {
        return Err(Refusal::forbidden(
            "host",
            format!(
                "the Host {} is not a name this instance answers to (a protection against DNS rebinding); add it to settings.allowed_hosts if clients reach claude-lb by that name",
                crate::logging::escape(host, 100)
            ),
        ));
    }
    Ok(())
}

/// Whether a `Host` value (`name`, `name:port`, `1.2.3.4:port`, `[::1]:port`) may be served.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // An IPv6 literal; whatever follows `]` is the port.
        match rest.split_once(']') {
            Some((addr, _)) => return addr.parse::<IpAddr>().is_ok(),
            None => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    name.parse::<IpAddr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
}

/// Whether a `POST` body is declared as JSON (`application/json`, parameters allowed).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_loopback_addresses_and_listed_names_pass() {
        let allowed = vec!["lb.internal".to_owned()];
        for host in [
            "localhost",
            "localhost:8080",
            "LOCALHOST:1",
            "127.0.0.1:8080",
            "10.1.2.3",
            "[::1]:8080",
            "[::1]",
            "lb.internal:443",
            "LB.Internal",
        ] {
            assert!(host_allowed(host, &allowed), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.1.nip.io:8080",
            "[::1",
            "lb.internal.evil",
            "",
        ] {
            assert!(!host_allowed(host, &allowed), "{host}");
        }
    }

    #[test]
    fn only_json_is_json() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, value.parse().unwrap());
            is_json(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(!with("text/plain"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(!with("multipart/form-data; boundary=x"));
        assert!(!with("application/jsonx"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
