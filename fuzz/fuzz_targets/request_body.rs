//! The body of the `request` fuzz target, shared with a property test in
//! `tests/it/hostile.rs` (which includes this file by path) so it also runs on stable.
//!
//! One input is a crafted client request: a path with its query, header lines and a body.
//! It goes through the same pure functions `serve` uses (the router, the body scan for
//! `model` and for the session in `metadata.user_id`, the header allowlist, the upstream URL) and the invariants that keep a request
//! where the config says must hold.

use std::sync::OnceLock;

use claude_lb::config::Provider;
use claude_lb::dispatch::scan;
use claude_lb::proxy::handler::api_route;
use claude_lb::upstream;
use http::{HeaderMap, HeaderName, HeaderValue};

/// The provider every input is sent to: a relay with a base path.
fn provider() -> &'static Provider {
    static PROVIDER: OnceLock<Provider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let yaml = "providers:\n  - name: p\n    type: anthropic\n    auth_type: api_key\n    auth_value: sk-fuzz-key\n    base_url: https://relay.example.com/api\n";
        let loaded = claude_lb::config::load_str(yaml, "fuzz.yaml", &|_| None)
            .unwrap_or_else(|e| panic!("the fuzz config is valid: {e}"));
        loaded.config.providers.into_iter().next().unwrap_or_else(|| panic!("one provider"))
    })
}

/// Splits `data` at the first two `\0` bytes into a path with query, header lines (`name:
/// value`, one a line) and a body, and checks every invariant. Panics on a violation.
pub(crate) fn run(data: &[u8]) {
    let mut parts = data.splitn(3, |b| *b == 0);
    let target = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let header_block = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    check_route(&target);
    check_headers(header_block);
    check_body(body);
    check_session(body);
}

/// An accepted path has no segment a later layer could read as a step elsewhere, and the
/// upstream URL is always the provider's base path plus a fixed suffix, on its own host,
/// with at most the `beta` parameter of the client's query.
fn check_route(target: &str) {
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    let provider = provider();
    if api_route(path).is_some() {
        assert!(path.starts_with('/'), "accepted {path:?}");
        for segment in path[1..].split('/') {
            assert!(
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && !segment.contains(['%', '\\']),
                "accepted {path:?} with segment {segment:?}"
            );
        }
    }
    let query = upstream::allowed_client_query(target);
    if let Some(query) = &query {
        assert!(
            query
                .split('&')
                .all(|pair| pair == "beta=true" || pair == "beta=false"),
            "{query:?} from {target:?}"
        );
    }
    for suffix in [
        upstream::MESSAGES_PATH,
        upstream::COUNT_TOKENS_PATH,
        upstream::MODELS_PATH,
    ] {
        let url = upstream::anthropic_url(provider, suffix, query.as_deref())
            .unwrap_or_else(|e| panic!("{target:?}: {e}"));
        assert_eq!(url.host(), Some("relay.example.com"), "{target:?}");
        assert_eq!(url.path(), format!("/api{suffix}"), "{target:?}");
        assert_eq!(url.query(), query.as_deref(), "{target:?}");
    }
}

/// Only allowlisted client headers travel, never one the client's `Connection` names, and
/// the credential is always the provider's.
fn check_headers(block: &[u8]) {
    let mut client = HeaderMap::new();
    for line in block.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        client.append(name, value);
    }
    let named_in_connection: Vec<String> = client
        .get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    let sent = upstream::anthropic_headers(provider(), &client);
    for (name, value) in &sent {
        let name = name.as_str();
        if name == "x-api-key" {
            assert_eq!(value, "sk-fuzz-key");
            continue;
        }
        assert!(
            name.starts_with("anthropic-")
                || name.starts_with("x-stainless-")
                || name.starts_with("x-claude-code-")
                || matches!(
                    name,
                    "content-type" | "accept" | "user-agent" | "x-app" | "x-client-request-id"
                ),
            "{name} travelled"
        );
        assert!(
            !named_in_connection.iter().any(|n| n == name) || name == "anthropic-version",
            "{name} is named in Connection and travelled"
        );
    }
    assert!(!sent.contains_key("authorization"));
    assert_eq!(sent.get_all("x-api-key").iter().count(), 1);
}

/// The session that affinity reads from `metadata.user_id` is the one a JSON parser reads
/// there: whenever a parser finds a session id, the scan finds the same one, and when the scan
/// finds one in a `user_id` that parses, the parser agrees.
fn check_session(body: &[u8]) {
    let scanned = scan::request(body)
        .metadata
        .and_then(|metadata| scan::metadata_session(body, metadata));
    let Ok(serde_json::Value::Object(parsed)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return;
    };
    let Some(user_id) = parsed
        .get("metadata")
        .and_then(|m| m.get("user_id"))
        .and_then(serde_json::Value::as_str)
    else {
        assert_eq!(
            scanned, None,
            "a session without a user_id string in {body:?}"
        );
        return;
    };
    let Ok(inner) = serde_json::from_str::<serde_json::Value>(user_id) else {
        return;
    };
    let parsed_session = inner
        .get("session_id")
        .and_then(serde_json::Value::as_str)
        .filter(|id| !id.is_empty() && id.len() <= scan::MAX_SESSION_ID);
    assert_eq!(scanned.as_deref(), parsed_session, "{body:?}");
}

/// The `model` that routes a body is the one every JSON parser upstream reads, or the body
/// is refused: a parser that keeps the last duplicate (`serde_json`, like Python, JavaScript and
/// Go) never sees another model than routing did.
fn check_body(body: &[u8]) {
    let scanned = scan::model(body);
    let Ok(serde_json::Value::Object(parsed)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return;
    };
    let upstream_model = parsed.get("model").and_then(serde_json::Value::as_str);
    match scanned {
        Ok(found) => {
            assert_eq!(Some(&*found.value), upstream_model, "{body:?}");
            assert_eq!(
                serde_json::from_slice::<String>(&body[found.span.clone()])
                    .ok()
                    .as_deref(),
                upstream_model
            );
        }
        Err(scan::ModelError::Missing) => {
            assert_eq!(upstream_model, None, "missed a model in {body:?}");
        }
        Err(scan::ModelError::Duplicate) => {}
    }
}
