use std::num::NonZeroU32;

use super::*;
use crate::core::provider::ModelPattern;

fn client(name: &str, key: &str) -> Client {
    Client {
        name: Arc::from(name),
        key: KeyDigest::of(key.as_bytes()),
        key_origin: crate::config::clients::KeyOrigin::Digest,
        providers: None,
        models: None,
        max_concurrent: None,
        requests_per_minute: None,
        budget: None,
    }
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(*name, value.parse().unwrap());
    }
    headers
}

fn admitted_name(result: Result<Option<Admitted>, Refusal>) -> String {
    result.unwrap().unwrap().client.name.to_string()
}

#[test]
fn each_key_authenticates_its_client_by_either_header() {
    let access = Access::new(&[
        Arc::new(client("alice", "clb-alice-key-0123456789")),
        Arc::new(client("ci", "clb-ci-key-0123456789")),
    ]);
    let now = Instant::now();
    // One connection's memo for every request of the test, as a kept-alive connection has.
    let keys = KeyMemo::default();
    assert!(access.required());
    for (hs, name) in [
        (vec![("x-api-key", "clb-alice-key-0123456789")], "alice"),
        (
            vec![("authorization", "Bearer clb-ci-key-0123456789")],
            "ci",
        ),
        (
            vec![("authorization", "bearer  clb-ci-key-0123456789 ")],
            "ci",
        ),
        // Either header matching is enough, whatever the other one holds.
        (
            vec![
                ("x-api-key", "placeholder"),
                ("authorization", "Bearer clb-alice-key-0123456789"),
            ],
            "alice",
        ),
    ] {
        assert_eq!(admitted_name(access.admit(&headers(&hs), now, &keys)), name);
    }
    for (hs, reason) in [
        (vec![], "missing_key"),
        (vec![("x-api-key", "")], "missing_key"),
        (vec![("authorization", "Basic abc")], "missing_key"),
        (
            vec![("x-api-key", "clb-alice-key-012345678")],
            "unknown_key",
        ),
        (
            vec![("x-api-key", "clb-alice-key-0123456780")],
            "unknown_key",
        ),
        (
            vec![("authorization", "Bearer clb-alice-key-012345678X")],
            "unknown_key",
        ),
    ] {
        let refusal = access.admit(&headers(&hs), now, &keys).unwrap_err();
        assert_eq!(refusal.status, StatusCode::UNAUTHORIZED, "{hs:?}");
        assert_eq!(refusal.error_type, ErrorType::Authentication);
        assert_eq!(refusal.reason, reason, "{hs:?}");
        assert!(refusal.message.starts_with("invalid x-api-key"));
        assert!(!refusal.message.contains("alice"), "{}", refusal.message);
        assert!(refusal.client.is_none());
    }
}

#[test]
fn a_connection_remembers_a_key_but_admits_only_the_key_itself() {
    let access = Access::new(&[
        Arc::new(client("alice", "clb-alice-key-0123456789")),
        Arc::new(client("bob", "clb-bobby-key-0123456789")),
    ]);
    let keys = KeyMemo::default();
    let now = Instant::now();
    let admit = |key: &str| access.admit(&headers(&[("x-api-key", key)]), now, &keys);
    for _ in 0..2 {
        assert_eq!(admitted_name(admit("clb-alice-key-0123456789")), "alice");
        // The same length, one byte apart: refused, though the memo holds alice's key.
        assert_eq!(
            admit("clb-alice-key-0123456780").unwrap_err().reason,
            "unknown_key"
        );
        assert_eq!(admitted_name(admit("clb-alice-key-0123456789")), "alice");
        assert_eq!(admitted_name(admit("clb-bobby-key-0123456789")), "bob");
    }
}

#[test]
fn without_clients_everyone_is_admitted_without_a_client() {
    let access = Access::new(&[]);
    assert!(!access.required());
    assert!(
        access
            .admit(&HeaderMap::new(), Instant::now(), &KeyMemo::default())
            .unwrap()
            .is_none()
    );
}

#[test]
fn max_concurrent_holds_a_slot_until_the_permit_drops_and_survives_a_reload() {
    let mut limited = client("ci", "clb-ci-key-0123456789");
    limited.max_concurrent = NonZeroU32::new(2);
    let limited = Arc::new(limited);
    let access = Access::new(std::slice::from_ref(&limited));
    let hs = headers(&[("x-api-key", "clb-ci-key-0123456789")]);
    let now = Instant::now();
    // One connection's memo for every request of the test, as a kept-alive connection has.
    let keys = KeyMemo::default();
    let first = access.admit(&hs, now, &keys).unwrap().unwrap();
    let _second = access.admit(&hs, now, &keys).unwrap().unwrap();
    let refusal = access.admit(&hs, now, &keys).unwrap_err();
    assert_eq!(refusal.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refusal.error_type, ErrorType::RateLimit);
    assert_eq!(refusal.retry_after, Some(Duration::from_secs(1)));
    assert_eq!(refusal.client.as_deref(), Some("ci"));
    // A reload with the same limits keeps the slots taken.
    access.replace(std::slice::from_ref(&limited));
    assert!(access.admit(&hs, now, &keys).is_err());
    drop(first);
    assert!(access.admit(&hs, now, &keys).is_ok());
}

#[test]
fn requests_per_minute_refuses_the_sixth_with_when_to_come_back() {
    let mut limited = client("ci", "clb-ci-key-0123456789");
    limited.requests_per_minute = NonZeroU32::new(5);
    let access = Access::new(&[Arc::new(limited)]);
    let hs = headers(&[("x-api-key", "clb-ci-key-0123456789")]);
    let now = Instant::now();
    // One connection's memo for every request of the test, as a kept-alive connection has.
    let keys = KeyMemo::default();
    for _ in 0..5 {
        assert!(access.admit(&hs, now, &keys).is_ok());
    }
    let refusal = access.admit(&hs, now, &keys).unwrap_err();
    assert_eq!(refusal.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refusal.reason, "requests_per_minute");
    assert_eq!(refusal.retry_after, Some(Duration::from_secs(12)));
    assert!(
        refusal.message.contains("retry in 12s"),
        "{}",
        refusal.message
    );
    assert!(
        access
            .admit(&hs, now + Duration::from_secs(12), &keys)
            .is_ok()
    );
}

#[test]
fn a_client_limited_to_models_is_refused_others_by_name() {
    let mut limited = client("ci", "k");
    limited.models = Some(vec![ModelPattern::new("claude-*haiku*")]);
    assert!(check_model(&limited, "claude-haiku-5-5").is_ok());
    let refusal = check_model(&limited, "claude-sonnet-5-5").unwrap_err();
    assert_eq!(refusal.status, StatusCode::FORBIDDEN);
    assert_eq!(refusal.error_type, ErrorType::Permission);
    assert!(
        refusal.message.contains("claude-sonnet-5-5"),
        "{}",
        refusal.message
    );
    assert!(
        refusal.message.contains("claude-*haiku*"),
        "{}",
        refusal.message
    );
}

#[test]
fn admin_routes_need_the_token_or_a_loopback_peer() {
    let config = crate::config::load_str(
        "providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n",
        "test.yaml",
        &|_| None,
    )
    .unwrap()
    .config;
    let mut settings = config.settings.access;
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
    let remote: IpAddr = "192.0.2.7".parse().unwrap();
    let none = HeaderMap::new();
    assert!(admin(&none, loopback, &settings).is_ok());
    assert!(admin(&none, mapped, &settings).is_ok());
    let refusal = admin(&none, remote, &settings).unwrap_err();
    assert_eq!(refusal.status, StatusCode::FORBIDDEN);
    settings.admin_token = Some(crate::config::Secret::new("adm-0123456789abcdef"));
    for (hs, peer) in [
        (vec![], loopback),
        (
            vec![("authorization", "Bearer adm-0123456789abcdeF")],
            remote,
        ),
    ] {
        let refusal = admin(&headers(&hs), peer, &settings).unwrap_err();
        assert_eq!(refusal.status, StatusCode::UNAUTHORIZED);
        assert!(!refusal.message.contains("adm-0123"));
    }
    let good = headers(&[("authorization", "Bearer adm-0123456789abcdef")]);
    assert!(admin(&good, remote, &settings).is_ok());
}
