//! Background health checks end to end: `serve` probes cooling-down (and idle) providers of
//! mock upstreams whose answers change while the test runs.

use std::time::Duration;

use claude_lb::mock::{MockHandle, MockUpstream, Reply};
use http::Method;
use tokio::time::Instant;

use crate::support::proxy::{Proxy, body};

fn provider(name: &str, mock: &MockHandle, extra: &str) -> String {
    format!(
        "  - name: {name}\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n{extra}",
        mock.base_url()
    )
}

fn config(providers: &[String], health_check: &str) -> String {
    format!(
        "providers:\n{}settings:\n  request_timeout: 2\n  failure_cooldown: 60\n  health_check:\n{health_check}",
        providers.concat()
    )
}

/// How many requests of `method` the mock received.
fn count(mock: &MockHandle, method: &Method) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.method == *method)
        .count()
}

async fn state(proxy: &Proxy, name: &str) -> String {
    proxy.provider(name).await["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Polls `name`'s state every 20 ms until it is `want`, for at most `limit`; returns how long
/// that took, or `None`.
async fn wait_for(proxy: &Proxy, name: &str, want: &str, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if state(proxy, name).await == want {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

async fn metrics(proxy: &Proxy) -> String {
    proxy
        .client
        .get(format!("{}/metrics", proxy.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_cooling_provider_comes_back_as_soon_as_a_check_passes() {
    let first = MockUpstream::anthropic().start().await;
    let second = MockUpstream::anthropic().start().await;
    let idle = MockUpstream::anthropic().start().await;
    let disabled = MockUpstream::anthropic().start().await;
    let yaml = config(
        &[
            provider("first", &first, ""),
            provider("second", &second, ""),
            provider("off", &idle, "    health_check: off\n"),
            provider("disabled", &disabled, "    enabled: false\n"),
        ],
        "    interval: 300ms\n    timeout: 1s\n",
    );
    let logs = crate::real_clients::Captured::default();
    let _guard = logs.install();
    let proxy = Proxy::start(&yaml).await;
    first.set_always(Some(Reply::status(529)));
    // A user's request finds `first` down and fails over; `first` cools down for 60 s.
    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.headers()["x-claude-lb-provider"], "second");
    assert_eq!(state(&proxy, "first").await, "cooling_down");
    // While it is down, checks fail and it stays out; no user request reaches it.
    tokio::time::sleep(Duration::from_millis(900)).await;
    for _ in 0..3 {
        let response = proxy.messages(body("claude-opus-5-5", false)).await;
        assert_eq!(response.headers()["x-claude-lb-provider"], "second");
    }
    assert_eq!(state(&proxy, "first").await, "cooling_down");
    assert_eq!(count(&first, &Method::POST), 1, "only the first request");
    let probes_while_down = count(&first, &Method::GET);
    assert!(probes_while_down >= 1, "probed while down");
    let listed = proxy.provider("first").await;
    assert_eq!(listed["last_check"]["ok"], false, "{listed}");
    assert!(
        listed["last_check"]["detail"]
            .as_str()
            .unwrap()
            .contains("529"),
        "{listed}"
    );
    assert_eq!(listed["requests"], 1, "a check is not a request: {listed}");
    // It recovers: the next check brings it back, within about two intervals.
    first.set_always(None);
    let back = wait_for(&proxy, "first", "available", Duration::from_secs(3)).await;
    let back = back.expect("the provider came back before its 60 s cooldown ended");
    assert!(back < Duration::from_millis(1200), "back after {back:?}");
    let listed = proxy.provider("first").await;
    assert_eq!(listed["last_check"]["ok"], true, "{listed}");
    assert_eq!(listed["consecutive_failures"], 0, "{listed}");
    let at = listed["last_check"]["at"].as_str().unwrap();
    assert!(at.len() == 20 && at.ends_with('Z'), "{at}");
    assert!(listed["last_check"]["latency_ms"].is_u64(), "{listed}");
    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.headers()["x-claude-lb-provider"], "first");
    // The log says why it came back.
    let back_lines: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|l| l.contains("provider is available again: a health check passed"))
        .collect();
    assert_eq!(back_lines.len(), 1, "{:?}", logs.lines());
    assert!(
        back_lines[0].contains("provider=first"),
        "{}",
        back_lines[0]
    );
    let text = metrics(&proxy).await;
    for line in [
        "claude_lb_health_checks_total{provider=\"first\",outcome=\"ok\"} 1",
        "claude_lb_health_checks_total{provider=\"first\",outcome=\"failed\"}",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    // Available providers are not probed without `idle_providers`; `off` and disabled ones
    // never are.
    assert_eq!(count(&second, &Method::GET), 0);
    assert_eq!(idle.request_count(), 0);
    assert_eq!(disabled.request_count(), 0);
}

#[tokio::test]
async fn with_interval_zero_a_cooling_provider_waits_out_its_cooldown() {
    let first = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let second = MockUpstream::anthropic().start().await;
    let yaml = config(
        &[
            provider("first", &first, ""),
            provider("second", &second, ""),
        ],
        "    interval: 0\n    idle_providers: true\n",
    );
    let proxy = Proxy::start(&yaml).await;
    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.headers()["x-claude-lb-provider"], "second");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(state(&proxy, "first").await, "cooling_down");
    assert_eq!(first.request_count(), 1, "never probed");
    assert_eq!(second.request_count(), 1, "never probed");
    assert!(proxy.provider("first").await["last_check"].is_null());
}

#[tokio::test]
async fn an_idle_provider_that_breaks_is_found_before_a_user_request() {
    let first = MockUpstream::anthropic().start().await;
    let second = MockUpstream::anthropic().start().await;
    let yaml = config(
        &[
            provider("first", &first, ""),
            provider("second", &second, ""),
        ],
        "    interval: 200ms\n    timeout: 1s\n    idle_providers: true\n",
    );
    let proxy = Proxy::start(&yaml).await;
    // Idle and healthy: probed, and still available.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(count(&first, &Method::GET) >= 1);
    assert_eq!(state(&proxy, "first").await, "available");
    assert_eq!(proxy.provider("first").await["last_check"]["ok"], true);
    // It breaks while nobody uses it.
    first.set_always(Some(Reply::status(503)));
    let found = wait_for(&proxy, "first", "cooling_down", Duration::from_secs(2)).await;
    assert!(
        found.is_some(),
        "a check put the broken provider in cooldown"
    );
    // The next user request goes straight to the other provider: one attempt.
    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-claude-lb-provider"], "second");
    assert!(
        response
            .headers()
            .get("x-claude-lb-failed-attempts")
            .is_none(),
        "one attempt, not two"
    );
    assert_eq!(count(&first, &Method::POST), 0);
    let listed = proxy.provider("first").await;
    assert_eq!(listed["requests"], 0, "{listed}");
    assert!(
        listed["last_error"].as_str().unwrap().contains("503"),
        "{listed}"
    );
}

#[tokio::test]
async fn at_most_one_probe_per_provider_is_in_flight() {
    let first = MockUpstream::anthropic().start().await;
    let second = MockUpstream::anthropic().start().await;
    let yaml = config(
        &[
            provider("first", &first, ""),
            provider("second", &second, ""),
        ],
        "    interval: 100ms\n    timeout: 10s\n",
    );
    let proxy = Proxy::start(&yaml).await;
    first.set_always(Some(Reply::status(529)));
    proxy.messages(body("claude-opus-5-5", false)).await;
    // Every probe now stalls for 1.5 s, fifteen intervals.
    first.set_always(Some(
        Reply::json(200, serde_json::json!({"data": []})).delay(Duration::from_millis(1500)),
    ));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count(&first, &Method::GET), 1, "one probe in flight");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let probes = count(&first, &Method::GET);
    assert!(probes <= 2, "{probes} probes in 2 s of 1.5 s stalls");
    // The stalled probe passed in the end: the provider is back.
    assert_eq!(state(&proxy, "first").await, "available");
}

#[tokio::test]
async fn the_messages_mode_sends_a_one_token_request() {
    let first = MockUpstream::anthropic().start().await;
    let second = MockUpstream::anthropic().start().await;
    let yaml = config(
        &[
            provider("first", &first, "    health_check: messages\n"),
            provider("second", &second, ""),
        ],
        "    interval: 100ms\n",
    );
    let proxy = Proxy::start(&yaml).await;
    first.set_always(Some(Reply::status(500)));
    proxy.messages(body("claude-opus-5-5", false)).await;
    first.set_always(None);
    let back = wait_for(&proxy, "first", "available", Duration::from_secs(2)).await;
    assert!(back.is_some());
    let probes: Vec<_> = first
        .requests()
        .into_iter()
        .skip(1)
        .filter(|r| r.method == Method::POST)
        .collect();
    assert!(!probes.is_empty());
    let probe = &probes[0];
    assert_eq!(probe.path(), "/v1/messages");
    assert_eq!(probe.json.as_ref().unwrap()["max_tokens"], 1);
    assert_eq!(count(&first, &Method::GET), 0);
}
