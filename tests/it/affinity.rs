//! Session affinity end to end: `serve` keeps the requests of one session on one provider.

use std::collections::BTreeMap;
use std::time::Duration;

use claude_lb::mock::{MockHandle, MockUpstream, Reply};

use crate::support::proxy::{Proxy, body};

fn provider(name: &str, mock: &MockHandle) -> String {
    format!(
        "  - name: {name}\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n",
        mock.base_url()
    )
}

/// A proxy with `round_robin` over `n` simulated Anthropic providers named `p0`, `p1`, ...
async fn pool(n: usize, settings: &str) -> (Proxy, Vec<MockHandle>) {
    let mut mocks = Vec::new();
    for _ in 0..n {
        mocks.push(MockUpstream::anthropic().start().await);
    }
    let providers: String = mocks
        .iter()
        .enumerate()
        .map(|(i, m)| provider(&format!("p{i}"), m))
        .collect();
    let yaml = format!(
        "providers:\n{providers}settings:\n  strategy: round_robin\n  request_timeout: 2\n  failure_cooldown: 60\n{settings}"
    );
    (Proxy::start(&yaml).await, mocks)
}

/// Sends one request with the session header (when given) and returns the provider that
/// answered.
async fn send(proxy: &Proxy, session: Option<&str>, body_text: String) -> String {
    let mut request = proxy
        .client
        .post(format!("{}/v1/messages?beta=true", proxy.url))
        .header("content-type", "application/json")
        .header("anthropic-version", "2023-06-01");
    if let Some(session) = session {
        request = request.header("x-claude-code-session-id", session);
    }
    let response = request.body(body_text).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let provider = response.headers()["x-claude-lb-provider"]
        .to_str()
        .unwrap()
        .to_owned();
    let _ = response.bytes().await.unwrap();
    provider
}

fn tally(names: &[String]) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    for name in names {
        *out.entry(name.as_str()).or_default() += 1;
    }
    out
}

/// A body with Claude Code's `metadata.user_id`: a JSON object encoded in a JSON string.
fn body_with_user_id(session: &str) -> String {
    let user_id = serde_json::json!({
        "device_id": "6f1d",
        "account_uuid": "",
        "session_id": session,
    })
    .to_string();
    serde_json::json!({
        "model": "claude-opus-5-5",
        "max_tokens": 64,
        "stream": true,
        "messages": [{"role": "user", "content": "Say hello"}],
        "metadata": {"user_id": user_id},
    })
    .to_string()
}

#[tokio::test]
async fn one_session_stays_on_one_provider_and_many_sessions_spread() {
    let (proxy, _mocks) = pool(3, "").await;
    let mut one = Vec::new();
    for _ in 0..30 {
        one.push(send(&proxy, Some("session-a"), body("claude-opus-5-5", false)).await);
    }
    assert_eq!(tally(&one).len(), 1, "one session on one provider: {one:?}");
    let mut many = Vec::new();
    for n in 0..30 {
        many.push(
            send(
                &proxy,
                Some(&format!("s-{n}")),
                body("claude-opus-5-5", false),
            )
            .await,
        );
    }
    assert_eq!(
        tally(&many).into_values().collect::<Vec<_>>(),
        [10, 10, 10],
        "new sessions are spread as round robin spreads them: {many:?}"
    );
    let (status, sessions) = proxy.get_json("/sessions").await;
    assert_eq!(status, 200);
    assert_eq!(sessions["sessions"], 31, "{sessions}");
    assert_eq!(sessions["affinity"], "session");
    assert_eq!(sessions["ttl_s"], 3600);
    let providers = sessions["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 3, "{sessions}");
    let held: u64 = providers
        .iter()
        .map(|p| p["sessions"].as_u64().unwrap())
        .sum();
    assert_eq!(held, 31);
    for p in providers {
        assert!(
            p["oldest_last_use_s"].as_f64().unwrap() >= p["newest_last_use_s"].as_f64().unwrap()
        );
        let listed = proxy.provider(p["name"].as_str().unwrap()).await;
        assert_eq!(listed["sessions"], p["sessions"]);
    }
}

#[tokio::test]
async fn within_a_route_a_session_stays_on_one_of_its_providers() {
    let routes = "routes:\n  - name: background\n    when: { model: \"claude-*haiku*\" }\n    providers: [p1, p2]\n";
    let (proxy, _mocks) = pool(3, routes).await;
    let (mut main, mut background) = (Vec::new(), Vec::new());
    for _ in 0..6 {
        main.push(send(&proxy, Some("s"), body("claude-opus-5-5", false)).await);
        background.push(send(&proxy, Some("s"), body("claude-haiku-4-5", false)).await);
    }
    assert_eq!(
        tally(&main).len(),
        1,
        "main requests on one provider: {main:?}"
    );
    assert_eq!(tally(&background).len(), 1, "{background:?}");
    assert!(
        ["p1", "p2"].contains(&background[0].as_str()),
        "{background:?}"
    );
    // New sessions of the route are spread over its providers by the strategy.
    let mut spread = Vec::new();
    for n in 0..4 {
        let session = format!("b-{n}");
        spread.push(send(&proxy, Some(&session), body("claude-haiku-4-5", false)).await);
    }
    assert_eq!(
        tally(&spread).into_values().collect::<Vec<_>>(),
        [2, 2],
        "{spread:?}"
    );
}

#[tokio::test]
async fn a_rules_request_follows_the_sessions_provider_when_the_rule_holds_it() {
    // Thinking on and off in one conversation: the rule's requests stay with the provider of
    // the session's other requests, which the rule holds, instead of starting a rotation of
    // their own.
    let routes =
        "routes:\n  - name: thinking\n    when: { thinking: true }\n    providers: [p0, p1, p2]\n";
    let (proxy, _mocks) = pool(3, routes).await;
    let mut served = Vec::new();
    for _ in 0..4 {
        served.push(send(&proxy, Some("s"), body("claude-opus-5-5", false)).await);
        served.push(send(&proxy, Some("s"), thinking_body()).await);
    }
    assert_eq!(
        tally(&served).len(),
        1,
        "one conversation on one provider: {served:?}"
    );
}

/// A small request with extended thinking on.
fn thinking_body() -> String {
    let mut thinking: serde_json::Value =
        serde_json::from_str(&body("claude-opus-5-5", false)).unwrap();
    thinking["thinking"] = serde_json::json!({"type": "enabled", "budget_tokens": 1024});
    thinking.to_string()
}

#[tokio::test]
async fn a_rules_request_that_fails_over_moves_the_conversation_with_it() {
    let a = MockUpstream::anthropic().start().await;
    let b = MockUpstream::anthropic().start().await;
    let yaml = format!(
        "providers:\n{}{}settings:\n  request_timeout: 2\n  failure_cooldown: 1\nroutes:\n  - name: thinking\n    when: {{ thinking: true }}\n    providers: [a, b]\n",
        provider("a", &a),
        provider("b", &b)
    );
    let proxy = Proxy::start(&yaml).await;
    assert_eq!(
        send(&proxy, Some("s"), body("claude-opus-5-5", false)).await,
        "a"
    );
    a.push_reply(Reply::status(529));
    assert_eq!(send(&proxy, Some("s"), thinking_body()).await, "b");
    // `a` is back, but the conversation's last answer came from `b`, which holds its cache.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(proxy.provider("a").await["state"], "available");
    assert_eq!(
        send(&proxy, Some("s"), body("claude-opus-5-5", false)).await,
        "b"
    );
}

#[tokio::test]
async fn without_a_session_or_with_affinity_off_requests_rotate() {
    let (proxy, _mocks) = pool(3, "").await;
    let mut names = Vec::new();
    for _ in 0..6 {
        names.push(send(&proxy, None, body("claude-opus-5-5", false)).await);
    }
    assert_eq!(tally(&names).into_values().collect::<Vec<_>>(), [2, 2, 2]);
    let (_, sessions) = proxy.get_json("/sessions").await;
    assert_eq!(sessions["sessions"], 0);

    let (proxy, _mocks) = pool(3, "  affinity: none\n").await;
    let mut names = Vec::new();
    for _ in 0..6 {
        names.push(send(&proxy, Some("session-a"), body("claude-opus-5-5", false)).await);
    }
    assert_eq!(tally(&names).into_values().collect::<Vec<_>>(), [2, 2, 2]);
    let (_, sessions) = proxy.get_json("/sessions").await;
    assert_eq!(sessions["affinity"], "none");
    assert_eq!(sessions["sessions"], 0);
}

#[tokio::test]
async fn a_session_whose_provider_fails_moves_and_then_stays() {
    let (proxy, mocks) = pool(3, "").await;
    let first = send(&proxy, Some("session-a"), body("claude-opus-5-5", false)).await;
    let index: usize = first[1..].parse().unwrap();
    // The session's provider starts answering 529.
    for _ in 0..3 {
        mocks[index].push_reply(Reply::status(529));
    }
    let moved = send(&proxy, Some("session-a"), body("claude-opus-5-5", false)).await;
    assert_ne!(moved, first);
    assert_eq!(proxy.provider(&first).await["state"], "cooling_down");
    for _ in 0..10 {
        assert_eq!(
            send(&proxy, Some("session-a"), body("claude-opus-5-5", false)).await,
            moved
        );
    }
    // The failing provider was tried once, by the request that moved the session.
    assert_eq!(mocks[index].request_count(), 2);
}

#[tokio::test]
async fn the_session_is_taken_from_metadata_user_id_and_the_body_travels_unchanged() {
    let (proxy, mocks) = pool(3, "").await;
    let body_text = body_with_user_id("2f0e-4c1a-session");
    let mut names = Vec::new();
    for _ in 0..9 {
        names.push(send(&proxy, None, body_text.clone()).await);
    }
    assert_eq!(tally(&names).len(), 1, "{names:?}");
    let index: usize = names[0][1..].parse().unwrap();
    let received = mocks[index].requests();
    assert_eq!(received.len(), 9);
    for request in &received {
        assert_eq!(
            request.body,
            body_text.as_bytes(),
            "the body is forwarded byte for byte"
        );
    }
    // The header wins over the body: a request of another session goes where that one is.
    let other = send(&proxy, Some("other-session"), body_text.clone()).await;
    for _ in 0..3 {
        assert_eq!(
            send(&proxy, Some("other-session"), body_text.clone()).await,
            other
        );
    }
    let (_, sessions) = proxy.get_json("/sessions").await;
    assert_eq!(sessions["sessions"], 2);
}

#[tokio::test]
async fn a_refused_request_does_not_move_the_session() {
    let (proxy, mocks) = pool(2, "").await;
    let first = send(&proxy, Some("s"), body("claude-opus-5-5", false)).await;
    let index: usize = first[1..].parse().unwrap();
    let error = serde_json::json!({"type":"error","error":{"type":"invalid_request_error","message":"bad"}});
    mocks[index].push_reply(Reply::json(400, error));
    let response = proxy
        .client
        .post(format!("{}/v1/messages", proxy.url))
        .header("content-type", "application/json")
        .header("x-claude-code-session-id", "s")
        .body(body("claude-opus-5-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    for _ in 0..3 {
        assert_eq!(
            send(&proxy, Some("s"), body("claude-opus-5-5", false)).await,
            first
        );
    }
}

#[tokio::test]
async fn a_session_is_forgotten_after_its_ttl() {
    let (proxy, _mocks) = pool(2, "  affinity_ttl: 300ms\n").await;
    let first = send(&proxy, Some("s"), body("claude-opus-5-5", false)).await;
    // Within the ttl the session stays, while other requests move the rotation on.
    assert_ne!(
        send(&proxy, None, body("claude-opus-5-5", false)).await,
        first
    );
    assert_eq!(
        send(&proxy, Some("s"), body("claude-opus-5-5", false)).await,
        first
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (_, sessions) = proxy.get_json("/sessions").await;
    assert_eq!(sessions["sessions"], 0, "{sessions}");
    // Planned afresh: round robin's rotation decides, which now starts at the other one.
    let fresh = send(&proxy, Some("s"), body("claude-opus-5-5", false)).await;
    assert_ne!(fresh, first);
}

#[tokio::test]
async fn cache_tokens_are_counted_per_provider() {
    let usage = r#"{"type":"message","id":"msg_1","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":30,"cache_read_input_tokens":960,"output_tokens":2}}"#;
    let mock = MockUpstream::anthropic()
        .reply(Reply::json(200, serde_json::from_str(usage).unwrap()))
        .start()
        .await;
    let yaml = format!("providers:\n{}", provider("only", &mock));
    let proxy = Proxy::start(&yaml).await;
    send(&proxy, Some("s"), body("claude-opus-5-5", false)).await;
    let listed = proxy.provider("only").await;
    assert_eq!(listed["cache_read_tokens"], 960);
    assert_eq!(listed["cache_creation_tokens"], 30);
    assert_eq!(listed["uncached_input_tokens"], 10);
    let metrics = proxy
        .client
        .get(format!("{}/metrics", proxy.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "claude_lb_cache_read_tokens_total{provider=\"only\"} 960",
        "claude_lb_cache_creation_tokens_total{provider=\"only\"} 30",
        "claude_lb_uncached_input_tokens_total{provider=\"only\"} 10",
    ] {
        assert!(metrics.contains(line), "missing {line}");
    }
}

#[tokio::test]
async fn sessions_survive_a_reload_for_providers_that_keep_their_identity() {
    let a = MockUpstream::anthropic().start().await;
    let b = MockUpstream::anthropic().start().await;
    let yaml = |b_key: &str| {
        format!(
            "providers:\n{}  - name: b\n    type: anthropic\n    auth_type: api_key\n    auth_value: {b_key}\n    base_url: {}\nsettings:\n  strategy: round_robin\n",
            provider("a", &a),
            b.base_url()
        )
    };
    let proxy = Proxy::start(&yaml("key-one")).await;
    let mut homes = BTreeMap::new();
    for n in 0..4 {
        let id = format!("s{n}");
        let home = send(&proxy, Some(&id), body("claude-opus-5-5", false)).await;
        homes.insert(id, home);
    }
    // b's key changes: its sessions start afresh, a's stay.
    std::fs::write(proxy.config_path(), yaml("key-two")).unwrap();
    let response = proxy
        .client
        .post(format!("{}/providers/reload", proxy.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, sessions) = proxy.get_json("/sessions").await;
    let on_a = homes.values().filter(|h| *h == "a").count();
    assert_eq!(sessions["sessions"], on_a, "{sessions}");
    for (id, home) in &homes {
        if home == "a" {
            assert_eq!(
                &send(&proxy, Some(id), body("claude-opus-5-5", false)).await,
                home
            );
        }
    }
}
