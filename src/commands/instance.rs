//! claude-lb seen from the client side, for `code`, `env` and `health`: the URL a client uses
//! for a `listen` address, whether what answers there is claude-lb, and the config those
//! commands read the address from.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::GlobalArgs;
use crate::config::{self, ConfigError, Loaded, paths};
use crate::ui::Printer;

/// How long one `GET /` may take before the answer counts as "not claude-lb".
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The URL a client on this machine uses to reach a `serve` listening on `listen`.
///
/// An address that listens on every interface (`0.0.0.0`, `::`) is not one a client can
/// connect to: it is reached through loopback.
pub fn client_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, listen.port()))
}

/// What answered `GET /` at an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// claude-lb's health answer: `status` is `ok`, `degraded` or `down`; `available` is whether
    /// it answered 200 (at least one provider available) rather than 503.
    ClaudeLb {
        status: String,
        version: String,
        available: bool,
    },
    /// Something holds the address but is not claude-lb; the words say what it did.
    Other(String),
    /// Nothing accepts connections there.
    Nothing,
}

/// Asks `GET {url}/` and says whether claude-lb answered.
///
/// claude-lb is recognised by its health answer: a JSON object with a `status` of `ok`,
/// `degraded` or `down`, a `version` and an `uptime_s`.
pub async fn probe(url: &str) -> Answer {
    let client = match reqwest::Client::builder()
        .no_proxy()
        .timeout(PROBE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(error) => return Answer::Other(format!("cannot build an HTTP client: {error}")),
    };
    let response = match client.get(format!("{url}/")).send().await {
        Ok(response) => response,
        Err(error) if error.is_connect() => return Answer::Nothing,
        Err(error) if error.is_timeout() => {
            return Answer::Other(format!(
                "no HTTP answer to GET / within {}s",
                PROBE_TIMEOUT.as_secs()
            ));
        }
        Err(_) => return Answer::Other("it does not speak HTTP".to_owned()),
    };
    let code = response.status();
    let Ok(body) = response.bytes().await else {
        return Answer::Other(format!("GET / answered {code} and then broke off"));
    };
    recognise(code.as_u16(), &body)
}

/// Reads a `GET /` answer: claude-lb's health object, or something else.
fn recognise(code: u16, body: &[u8]) -> Answer {
    let other = || {
        Answer::Other(format!(
            "GET / answered {code}, not claude-lb's health object"
        ))
    };
    let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(body) else {
        return other();
    };
    let status = object.get("status").and_then(serde_json::Value::as_str);
    let version = object.get("version").and_then(serde_json::Value::as_str);
    let uptime = object.get("uptime_s").and_then(serde_json::Value::as_u64);
    match (status, version, uptime, code) {
        (Some(status @ ("ok" | "degraded" | "down")), Some(version), Some(_), 200 | 503) => {
            Answer::ClaudeLb {
                status: status.to_owned(),
                version: version.to_owned(),
                available: code == 200,
            }
        }
        _ => other(),
    }
}

/// Loads the config as `serve` would. When it does not load, every problem is reported on
/// stderr (as `config validate` lists them) and the answer is `None`.
pub fn load_config(
    global: &GlobalArgs,
    printer: &Printer,
) -> anyhow::Result<Option<(PathBuf, Loaded)>> {
    let path = paths::resolve_for_process(global.config.as_deref())?;
    match config::load(&path, &crate::env::process) {
        Ok(loaded) => Ok(Some((path, loaded))),
        Err(ConfigError::Invalid { errors, warnings }) => {
            for line in errors.iter().chain(&warnings) {
                printer.error(line);
            }
            printer.error(format_args!(
                "{}: invalid config, {} (fix it and check with `claude-lb config validate`)",
                path.display(),
                config::plural(errors.len(), "error"),
            ));
            Ok(None)
        }
        Err(other) => Err(other.into()),
    }
}

/// The address to use: `--listen` when given, else the config's `settings.listen`. `None`
/// when the config does not load (already reported).
pub fn listen_address(
    flag: Option<SocketAddr>,
    global: &GlobalArgs,
    printer: &Printer,
) -> anyhow::Result<Option<SocketAddr>> {
    if let Some(addr) = flag {
        return Ok(Some(addr));
    }
    Ok(load_config(global, printer)?.map(|(_, loaded)| loaded.config.settings.listen))
}

/// What `claude-lb serve` at `url` answered to `request`, read whole up to `limit` bytes within
/// `timeout`; the error says that no instance answered, in the same words for every `--remote`
/// command.
pub async fn exchange(
    url: &str,
    timeout: Duration,
    limit: usize,
    request: impl std::future::Future<
        Output = Result<crate::upstream::remote::RemoteResponse, crate::upstream::UpstreamError>,
    >,
) -> anyhow::Result<(http::StatusCode, bytes::Bytes)> {
    let hint = "is `claude-lb serve` running there?";
    let answer = async {
        let response = request.await?;
        let status = response.status;
        let body = response.collect(limit).await?;
        Ok::<_, crate::upstream::UpstreamError>((status, body))
    };
    match tokio::time::timeout(timeout, answer).await {
        Err(_) => anyhow::bail!(
            "cannot reach claude-lb at {url}: no answer within {}s; {hint}",
            timeout.as_secs()
        ),
        Ok(Err(error)) => anyhow::bail!("cannot reach claude-lb at {url}: {error}; {hint}"),
        Ok(Ok(answer)) => Ok(answer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_url_reaches_unspecified_addresses_through_loopback() {
        let cases = [
            ("127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("0.0.0.0:8080", "http://127.0.0.1:8080"),
            ("[::]:9000", "http://[::1]:9000"),
            ("[::1]:9000", "http://[::1]:9000"),
            ("192.168.1.5:80", "http://192.168.1.5:80"),
        ];
        for (listen, url) in cases {
            assert_eq!(client_url(listen.parse().unwrap()), url, "{listen}");
        }
    }

    #[test]
    fn recognise_knows_claude_lb_by_its_health_object() {
        let health = br#"{"status":"degraded","version":"0.1.0","uptime_s":3,"providers":{"total":2,"available":1}}"#;
        assert_eq!(
            recognise(200, health),
            Answer::ClaudeLb {
                status: "degraded".into(),
                version: "0.1.0".into(),
                available: true
            }
        );
        let down = br#"{"status":"down","version":"0.1.0","uptime_s":3}"#;
        assert!(matches!(
            recognise(503, down),
            Answer::ClaudeLb {
                available: false,
                ..
            }
        ));
        for (code, body) in [
            (200, &b"<html>hello</html>"[..]),
            (200, br#"{"status":"ok"}"#),
            (404, br#"{"status":"ok","version":"1","uptime_s":1}"#),
            (200, br#"{"status":"fine","version":"1","uptime_s":1}"#),
            (200, b"[]"),
        ] {
            assert!(
                matches!(recognise(code, body), Answer::Other(_)),
                "{code} {}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
