//! `serve` end to end against mock Anthropic-type providers: routes, failover and cooldown.

use std::fmt::Write as _;
use std::time::Duration;

use claude_lb::mock::{MockHandle, MockUpstream, Reply};

use crate::support::proxy::{Proxy, body, sse_events};

const SECRET: &str = "sk-test-secret-value";

fn provider(name: &str, mock: &MockHandle, auth_type: &str) -> String {
    format!(
        "  - name: {name}\n    type: anthropic\n    auth_type: {auth_type}\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n",
        mock.base_url()
    )
}

fn config(providers: &[String], settings: &str) -> String {
    format!(
        "providers:\n{}settings:\n  request_timeout: 2\n  stream_idle_timeout: 2\n  failure_cooldown: 60\n{settings}",
        providers.concat()
    )
}

async fn two(first: MockHandle, second: MockHandle) -> (Proxy, MockHandle, MockHandle) {
    let yaml = config(
        &[
            provider("first", &first, "api_key"),
            provider("second", &second, "api_key"),
        ],
        "",
    );
    (Proxy::start(&yaml).await, first, second)
}

const OVERLOADED: &str =
    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;

#[tokio::test]
async fn fails_over_on_statuses_that_blame_the_provider() {
    for status in [408u16, 409, 429, 500, 502, 503, 504, 529, 401, 403] {
        let first = MockUpstream::anthropic()
            .reply(Reply::status(status))
            .start()
            .await;
        let second = MockUpstream::anthropic().start().await;
        let (proxy, first, second) = two(first, second).await;
        let response = proxy.messages(body("claude-opus-5-5", false)).await;
        assert_eq!(response.status(), 200, "status {status} fails over");
        assert_eq!(response.headers()["x-claude-lb-provider"], "second");
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(answer["type"], "message");
        assert_eq!(first.request_count(), 1);
        assert_eq!(second.request_count(), 1);
        let state = proxy.provider("first").await;
        assert_eq!(state["state"], "cooling_down", "status {status}");
        assert_eq!(state["consecutive_failures"], 1);
        assert!(
            state["last_error"]
                .as_str()
                .unwrap()
                .contains(&status.to_string())
        );
    }
}

#[tokio::test]
async fn client_errors_go_back_unchanged_and_do_not_blame_the_provider() {
    for status in [400u16, 404, 413, 422] {
        let error = format!(
            r#"{{"type":"error","error":{{"type":"invalid_request_error","message":"bad {status}"}}}}"#
        );
        let first = MockUpstream::anthropic()
            .reply(
                Reply::json(status, serde_json::from_str(&error).unwrap())
                    .header("request-id", "req_upstream"),
            )
            .start()
            .await;
        let second = MockUpstream::anthropic().start().await;
        let (proxy, first, second) = two(first, second).await;
        let response = proxy.messages(body("claude-opus-5-5", false)).await;
        assert_eq!(response.status(), status);
        assert_eq!(response.headers()["request-id"], "req_upstream");
        let text = response.text().await.unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            serde_json::from_str::<serde_json::Value>(&error).unwrap()
        );
        assert_eq!(first.request_count(), 1);
        assert_eq!(
            second.request_count(),
            0,
            "status {status} must not fail over"
        );
        assert_eq!(proxy.provider("first").await["state"], "available");
    }
}

#[tokio::test]
async fn retry_after_longer_than_the_cooldown_wins() {
    let first = MockUpstream::anthropic()
        .reply(Reply::status(429).retry_after(600))
        .start()
        .await;
    let second = MockUpstream::anthropic().start().await;
    let (proxy, _first, _second) = two(first, second).await;
    assert_eq!(proxy.messages(body("m", false)).await.status(), 200);
    let remaining = proxy.provider("first").await["cooldown_remaining_s"]
        .as_f64()
        .unwrap();
    assert!(remaining > 590.0, "{remaining}");
}

#[tokio::test]
async fn a_cooling_provider_is_skipped() {
    let first = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let second = MockUpstream::anthropic().start().await;
    let (proxy, first, second) = two(first, second).await;
    for _ in 0..3 {
        assert_eq!(proxy.messages(body("m", false)).await.status(), 200);
    }
    assert_eq!(first.request_count(), 1, "skipped while cooling down");
    assert_eq!(second.request_count(), 3);
}

#[tokio::test]
async fn connection_refused_and_stalls_fail_over() {
    let closed = crate::check::unreachable();
    let dead_url = closed.url.clone();
    let stalled = MockUpstream::anthropic()
        .reply(Reply::stall())
        .start()
        .await;
    let good = MockUpstream::anthropic().start().await;
    let yaml = config(
        &[
            format!(
                "  - name: dead\n    type: anthropic\n    auth_type: api_key\n    auth_value: x\n    base_url: {dead_url}\n"
            ),
            provider("stalled", &stalled, "api_key"),
            provider("good", &good, "api_key"),
        ],
        "",
    );
    let proxy = Proxy::start(&yaml).await;
    let response = proxy.messages(body("m", true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-claude-lb-provider"], "good");
    sse_events(&response.text().await.unwrap());
    assert!(
        proxy.provider("dead").await["last_error"]
            .as_str()
            .unwrap()
            .contains("connection refused")
    );
    assert!(
        proxy.provider("stalled").await["last_error"]
            .as_str()
            .unwrap()
            .contains("no response headers within 2s")
    );
}

#[tokio::test]
async fn all_failed_says_why_with_retry_after_and_never_529() {
    let first = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .reply(Reply::status(529))
        .start()
        .await;
    let second = MockUpstream::anthropic()
        .reply(Reply::status(500))
        .reply(Reply::status(500))
        .start()
        .await;
    let (proxy, _first, _second) = two(first, second).await;
    let response = proxy.messages(body("m", false)).await;
    assert_eq!(response.status(), 503);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Transient: a short wait, so the client's retry lands when a provider is back, not
    // the minute-long cooldown.
    assert!((1..=5).contains(&retry_after), "{retry_after}");
    assert_eq!(response.headers()["x-should-retry"], "true");
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "api_error");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("first: HTTP 529"), "{message}");
    assert!(message.contains("second: HTTP 500"), "{message}");
    assert!(
        message.ends_with(&format!(
            "More: claude-lb providers list --remote {}",
            proxy.url
        )),
        "{message}"
    );
    // Both cool down now: the next request tries only the one whose cooldown ends first,
    // and the message still says why the other one was not tried.
    let response = proxy.messages(body("m", false)).await;
    assert_eq!(response.status(), 503);
    let error: serde_json::Value = response.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("all 1 provider failed: "), "{message}");
    assert!(message.contains("; not tried: "), "{message}");
    assert!(
        message.contains(": cooling down ") && message.contains("s after: HTTP 5"),
        "{message}"
    );

    let first = MockUpstream::anthropic()
        .reply(Reply::status(429).retry_after(30))
        .start()
        .await;
    let second = MockUpstream::anthropic()
        .reply(Reply::status(429).retry_after(20))
        .start()
        .await;
    let (proxy, _first, _second) = two(first, second).await;
    let response = proxy.messages(body("m", false)).await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        retry_after, 5,
        "both cool down for failure_cooldown, 60s; the client is told a few seconds"
    );
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn every_provider_unreachable_or_refusing_the_key_is_not_worth_a_retry() {
    let closed = crate::check::unreachable();
    let dead_url = closed.url.clone();
    let refusing = MockUpstream::anthropic()
        .reply(Reply::status(401))
        .start()
        .await;
    let yaml = config(
        &[
            format!(
                "  - name: dead\n    type: anthropic\n    auth_type: api_key\n    auth_value: x\n    base_url: {dead_url}\n"
            ),
            provider("refusing", &refusing, "api_key"),
        ],
        "",
    );
    let proxy = Proxy::start(&yaml).await;
    let response = proxy.messages(body("m", false)).await;
    assert_eq!(response.status(), 503);
    // Claude Code then shows the message at once instead of retrying ten times.
    assert_eq!(response.headers()["x-should-retry"], "false");
    let error: serde_json::Value = response.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("dead: connection refused"), "{message}");
    assert!(message.contains("refusing: HTTP 401"), "{message}");
    assert!(
        message.ends_with(&format!(
            "More: claude-lb providers list --remote {}",
            proxy.url
        )),
        "{message}"
    );

    // Every provider that serves the model disabled: nothing could take it, so nothing to
    // retry either.
    let yaml = config(
        &[
            format!(
                "{}    models:\n      \"gpt-*\": \"x\"\n",
                provider("on", &refusing, "api_key")
            ),
            format!(
                "{}    enabled: false\n",
                provider("off", &refusing, "api_key")
            ),
        ],
        "",
    );
    let proxy = Proxy::start(&yaml).await;
    let response = proxy.messages(body("m", false)).await;
    assert_eq!(response.headers()["x-should-retry"], "false");
    let error: serde_json::Value = response.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("off is disabled"), "{message}");
    assert!(
        message.contains("claude-lb providers list --remote"),
        "{message}"
    );
}

#[tokio::test]
async fn every_provider_cooling_down_still_tries_the_one_that_ends_first() {
    let only = MockUpstream::anthropic()
        .reply(Reply::status(503))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("only", &only, "api_key")], "")).await;
    assert_eq!(proxy.messages(body("m", false)).await.status(), 503);
    assert_eq!(proxy.messages(body("m", false)).await.status(), 200);
    assert_eq!(only.request_count(), 2);
    assert_eq!(
        proxy.provider("only").await["state"],
        "available",
        "a success resets the cooldown"
    );
}

#[tokio::test]
async fn credentials_per_auth_type_and_the_clients_never_leak() {
    let key = MockUpstream::anthropic().start().await;
    let token = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let yaml = config(
        &[
            provider("token", &token, "auth_token"),
            provider("key", &key, "api_key"),
        ],
        "",
    );
    let proxy = Proxy::start(&yaml).await;
    assert_eq!(proxy.messages(body("m", false)).await.status(), 200);
    let sent = &token.requests()[0];
    assert_eq!(sent.headers["authorization"], format!("Bearer {SECRET}"));
    assert!(sent.headers.get("x-api-key").is_none());
    let sent = &key.requests()[0];
    assert_eq!(sent.headers["x-api-key"], SECRET);
    assert!(sent.headers.get("authorization").is_none());
    for request in token.requests().iter().chain(key.requests().iter()) {
        for (name, value) in &request.headers {
            let value = value.to_str().unwrap_or("");
            assert!(!value.contains("must-not-leak"), "{name}: {value}");
        }
    }
}

#[tokio::test]
async fn passthrough_is_byte_faithful() {
    let mock = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&config(&[provider("only", &mock, "api_key")], "")).await;
    // A 500 KB body with odd spacing and key order that a re-serialisation would change.
    let filler = "x".repeat(500 * 1024);
    let sent = format!(
        "{{\"model\" : \"claude-opus-5-5\",\"zeta\":1, \"max_tokens\":64,\"messages\":[{{\"role\":\"user\",\"content\":\"{filler}\"}}],\"alpha\":{{\"b\":2,\"a\":1}}}}"
    );
    let response = proxy.messages(sent.clone()).await;
    assert_eq!(response.status(), 200);
    let received = &mock.requests()[0];
    assert_eq!(received.body.as_ref(), sent.as_bytes());
    assert_eq!(received.path_and_query, "/v1/messages?beta=true");
    assert_eq!(received.headers["anthropic-version"], "2023-06-01");
    assert_eq!(
        received.headers["anthropic-beta"],
        "claude-code-20250219,interleaved-thinking-2025-05-14"
    );
}

#[tokio::test]
async fn a_models_map_renames_only_the_model() {
    let mock = MockUpstream::anthropic().start().await;
    let yaml = format!(
        "{}    models:\n      \"claude-*haiku*\": \"small-model\"\n      \"*\": \"big-model\"\n",
        provider("only", &mock, "api_key")
    );
    let proxy = Proxy::start(&config(&[yaml], "")).await;
    let sent = r#"{"max_tokens":64, "model":"claude-haiku-5-5","messages":[{"role":"user","content":"model"}]}"#;
    assert_eq!(proxy.messages(sent).await.status(), 200);
    let received = String::from_utf8(mock.requests()[0].body.to_vec()).unwrap();
    assert_eq!(received, sent.replace("claude-haiku-5-5", "small-model"));
}

#[tokio::test]
async fn a_model_no_provider_serves_is_a_404() {
    let mock = MockUpstream::anthropic().start().await;
    let yaml = format!(
        "{}    models:\n      \"gpt-*\": \"x\"\n",
        provider("only", &mock, "api_key")
    );
    let proxy = Proxy::start(&config(&[yaml], "")).await;
    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.status(), 404);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "not_found_error");
    // The message says which patterns the pool serves.
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(r#"no enabled provider serves model "claude-opus-5-5""#)
            && message.contains("only (gpt-*)"),
        "{message}"
    );
    assert_eq!(mock.request_count(), 0);
}

const START: &str = r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}"#;
const BLOCK_START: &str =
    r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#;
const DELTA: &str =
    r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#;
const BLOCK_STOP: &str = r#"{"type":"content_block_stop","index":0}"#;
const MESSAGE_DELTA: &str = r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}}"#;
const STOP: &str = r#"{"type":"message_stop"}"#;

fn full_stream() -> Vec<(&'static str, &'static str)> {
    vec![
        ("message_start", START),
        ("ping", r#"{"type":"ping"}"#),
        ("content_block_start", BLOCK_START),
        ("content_block_delta", DELTA),
        ("content_block_stop", BLOCK_STOP),
        ("message_delta", MESSAGE_DELTA),
        ("message_stop", STOP),
    ]
}

#[tokio::test]
async fn an_error_event_before_content_fails_over_without_a_second_message_start() {
    let first = MockUpstream::anthropic()
        .reply(Reply::sse_events(&[
            ("message_start", START),
            ("error", OVERLOADED),
        ]))
        .start()
        .await;
    let second = MockUpstream::anthropic()
        .reply(Reply::sse_events(&full_stream()))
        .start()
        .await;
    let (proxy, _first, second) = two(first, second).await;
    let response = proxy.messages(body("m", true)).await;
    assert_eq!(response.status(), 200);
    let events = sse_events(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap().0, "message_stop");
    assert_eq!(second.request_count(), 1);
    assert!(
        proxy.provider("first").await["last_error"]
            .as_str()
            .unwrap()
            .contains("overloaded_error")
    );
}

#[tokio::test]
async fn a_stream_that_ends_before_content_fails_over() {
    let first = MockUpstream::anthropic()
        .reply(Reply::sse_events(&[
            ("message_start", START),
            ("ping", r#"{"type":"ping"}"#),
        ]))
        .start()
        .await;
    let second = MockUpstream::anthropic()
        .reply(Reply::sse_events(&full_stream()))
        .start()
        .await;
    let (proxy, _first, _second) = two(first, second).await;
    let response = proxy.messages(body("m", true)).await;
    let events = sse_events(&response.text().await.unwrap());
    assert_eq!(
        events
            .iter()
            .filter(|(n, _)| n == "content_block_delta")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_stream_forwards_every_event_byte_for_byte() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::sse_events(&full_stream()).delay_each(Duration::from_millis(5)))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("only", &mock, "api_key")], "")).await;
    let response = proxy.messages(body("m", true)).await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    let mut expected = String::new();
    for (event, data) in full_stream() {
        write!(expected, "event: {event}\ndata: {data}\n\n").unwrap();
    }
    assert_eq!(text, expected);
}

#[tokio::test]
async fn a_stream_cut_after_the_commit_ends_with_one_error_event() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::sse_events(&full_stream()).cut_after(4))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("only", &mock, "api_key")], "")).await;
    let response = proxy.messages(body("m", true)).await;
    assert_eq!(response.status(), 200);
    let events = sse_events(&response.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "error"
        ]
    );
    assert_eq!(events[4].1["error"]["type"], "api_error");
    let state = proxy.provider("only").await;
    assert_eq!(
        state["state"], "cooling_down",
        "a failure after the commit still counts"
    );
}

#[tokio::test]
async fn an_error_event_after_the_commit_blames_the_provider_only_for_its_own_faults() {
    let invalid =
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"bad tool schema"}}"#;
    let mut mock = MockUpstream::anthropic();
    for error in [invalid, OVERLOADED] {
        let mut events = full_stream()[..4].to_vec();
        events.push(("error", error));
        mock = mock.reply(Reply::sse_events(&events));
    }
    let mock = mock.start().await;
    let proxy = Proxy::start(&config(&[provider("only", &mock, "api_key")], "")).await;
    for (error_type, state) in [
        ("invalid_request_error", "available"),
        ("overloaded_error", "cooling_down"),
    ] {
        let response = proxy.messages(body("m", true)).await;
        let events = sse_events(&response.text().await.unwrap());
        assert_eq!(events.last().unwrap().1["error"]["type"], error_type);
        assert_eq!(proxy.provider("only").await["state"], state, "{error_type}");
    }
}

#[tokio::test]
async fn a_stream_silent_past_the_idle_timeout_ends_with_an_error_event() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::sse_events(&full_stream()).stall_after(4))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("only", &mock, "api_key")], "")).await;
    let response = proxy.messages(body("m", true)).await;
    let events = sse_events(&response.text().await.unwrap());
    let (name, data) = events.last().unwrap();
    assert_eq!(name, "error");
    assert!(
        data["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing for 2s")
    );
}

#[tokio::test]
async fn a_stream_longer_than_the_idle_timeout_but_never_silent_that_long_is_whole() {
    // Events 400 ms apart: the stream after its commit point lasts longer than the 2 s idle
    // timeout, but is never silent for it.
    let mut events = full_stream();
    events.splice(3..4, std::iter::repeat_n(("content_block_delta", DELTA), 6));
    let mock = MockUpstream::anthropic()
        .reply(Reply::sse_events(&events).delay_each(Duration::from_millis(400)))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("only", &mock, "api_key")], "")).await;
    let started = tokio::time::Instant::now();
    let response = proxy.messages(body("m", true)).await;
    let received = sse_events(&response.text().await.unwrap());
    assert!(started.elapsed() > Duration::from_secs(4));
    let names: Vec<&str> = received.iter().map(|(n, _)| n.as_str()).collect();
    let sent: Vec<&str> = events.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, sent);
    assert_eq!(proxy.provider("only").await["state"], "available");
}

#[tokio::test]
async fn oversized_bodies_get_a_413() {
    let mock = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&config(&[provider("only", &mock, "api_key")], "")).await;
    let response = proxy.messages(vec![b' '; 33 * 1024 * 1024]).await;
    assert_eq!(response.status(), 413);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "request_too_large");
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test]
async fn admin_api_reports_state_without_secrets() {
    let first = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let second = MockUpstream::anthropic().start().await;
    let (proxy, _first, _second) = two(first, second).await;
    proxy.messages(body("m", false)).await;
    let (status, health) = proxy.get_json("/").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["providers"]["total"], 2);
    assert_eq!(health["providers"]["available"], 1);
    let (_, list) = proxy.get_json("/providers").await;
    let text = list.to_string();
    assert!(!text.contains(SECRET), "{text}");
    let second = &list[1];
    assert_eq!(second["requests"], 1);
    assert_eq!(second["failures"], 0);
    assert_eq!(second["state"], "available");
    assert!(second["latency_ms"].as_f64().is_some());
    let response = proxy
        .client
        .get(format!("{}/nope", proxy.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn health_is_down_when_every_provider_cools_down() {
    let only = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("only", &only, "api_key")], "")).await;
    proxy.messages(body("m", false)).await;
    let (status, health) = proxy.get_json("/").await;
    assert_eq!(status, 503);
    assert_eq!(health["status"], "down");
}

#[tokio::test]
async fn reload_applies_a_good_config_and_keeps_the_old_one_on_a_bad_one() {
    let first = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let second = MockUpstream::anthropic().start().await;
    let (proxy, first, second) = two(first, second).await;
    proxy.messages(body("m", false)).await;
    // Bad: nothing changes, every problem is listed.
    std::fs::write(
        proxy.config_path(),
        "providers:\n  - name: bad name\n    type: opneai\n",
    )
    .unwrap();
    let response = proxy
        .client
        .post(format!("{}/providers/reload", proxy.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["reloaded"], false);
    assert!(error["problems"].as_array().unwrap().len() >= 2, "{error}");
    assert_eq!(
        proxy
            .get_json("/providers")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Good: a third provider; `first` keeps its cooldown, being unchanged.
    let third = MockUpstream::anthropic().start().await;
    let yaml = config(
        &[
            provider("first", &first, "api_key"),
            provider("second", &second, "api_key"),
            provider("third", &third, "api_key"),
        ],
        "",
    );
    std::fs::write(proxy.config_path(), yaml).unwrap();
    let response = proxy
        .client
        .post(format!("{}/providers/reload", proxy.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"reloaded": true, "providers": 3})
    );
    assert_eq!(proxy.provider("first").await["state"], "cooling_down");
    assert_eq!(proxy.provider("third").await["state"], "available");
}

#[tokio::test]
async fn reload_under_load_loses_no_request() {
    let a = MockUpstream::anthropic().start().await;
    let b = MockUpstream::anthropic().start().await;
    let (proxy, a, b) = two(a, b).await;
    let proxy = std::sync::Arc::new(proxy);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let proxy = proxy.clone();
        tasks.push(tokio::spawn(async move {
            proxy
                .messages(body("m", i % 2 == 0))
                .await
                .status()
                .as_u16()
        }));
    }
    for i in 0..20 {
        let order = if i % 2 == 0 { [&b, &a] } else { [&a, &b] };
        let yaml = config(
            &[
                provider("a", order[0], "api_key"),
                provider("b", order[1], "api_key"),
            ],
            "",
        );
        std::fs::write(proxy.config_path(), yaml).unwrap();
        let response = proxy
            .client
            .post(format!("{}/providers/reload", proxy.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
}

#[tokio::test]
async fn shutdown_lets_a_stream_in_flight_finish() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::sse_events(&full_stream()).delay_each(Duration::from_millis(100)))
        .start()
        .await;
    let mut proxy = Proxy::start(&config(&[provider("only", &mock, "api_key")], "")).await;
    let response = proxy.messages(body("m", true)).await;
    let server = proxy.begin_shutdown();
    let events = sse_events(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap().0, "message_stop");
    server.await.unwrap().unwrap();
    assert!(
        reqwest::get(format!("{}/", proxy.url)).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn count_tokens_goes_to_an_anthropic_provider_or_is_estimated() {
    let mock = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&config(&[provider("only", &mock, "api_key")], "")).await;
    let response = proxy
        .client
        .post(format!("{}/v1/messages/count_tokens?beta=true", proxy.url))
        .header("content-type", "application/json")
        .body(body("m", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("x-claude-lb-estimate").is_none());
    assert_eq!(
        mock.requests()[0].path_and_query,
        "/v1/messages/count_tokens?beta=true"
    );

    let openai = MockUpstream::openai().start().await;
    let yaml = format!(
        "providers:\n  - name: oa\n    type: openai\n    auth_type: api_key\n    auth_value: k\n    base_url: {}\n    models:\n      \"*\": gpt-x\n",
        openai.base_url()
    );
    let proxy = Proxy::start(&yaml).await;
    let short = proxy
        .client
        .post(format!("{}/v1/messages/count_tokens", proxy.url))
        .header("content-type", "application/json")
        .body(body("m", false))
        .send()
        .await
        .unwrap();
    assert_eq!(short.headers()["x-claude-lb-estimate"], "true");
    let short: serde_json::Value = short.json().await.unwrap();
    let long_body = serde_json::json!({"model":"m","messages":[{"role":"user","content":"hello world ".repeat(200)}]}).to_string();
    let long: serde_json::Value = proxy
        .client
        .post(format!("{}/v1/messages/count_tokens", proxy.url))
        .header("content-type", "application/json")
        .body(long_body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (short, long) = (
        short["input_tokens"].as_u64().unwrap(),
        long["input_tokens"].as_u64().unwrap(),
    );
    assert!(short > 0 && long > short + 300, "{short} {long}");
    assert_eq!(openai.request_count(), 0);
}

#[tokio::test]
async fn a_token_count_refused_or_stalled_neither_cools_down_its_provider_nor_waits_long() {
    // `relay` does not count tokens (501), answers Messages, then stalls on a count after its
    // headers, then before them.
    let relay = MockUpstream::anthropic()
        .reply(Reply::status(501))
        .reply(Reply::sim())
        .reply(Reply::raw(200, "application/json", "{\"input_tokens\":").stall_after(1))
        .reply(Reply::stall())
        .start()
        .await;
    let backup = MockUpstream::anthropic().start().await;
    // A long idle timeout, so that only request_timeout (2 s) can end the stalled counts.
    let yaml = format!(
        "providers:\n{}{}settings:\n  request_timeout: 2\n  stream_idle_timeout: 60\n",
        provider("relay", &relay, "api_key"),
        provider("backup", &backup, "api_key"),
    );
    let proxy = Proxy::start(&yaml).await;
    let count = || {
        proxy
            .client
            .post(format!("{}/v1/messages/count_tokens", proxy.url))
            .header("content-type", "application/json")
            .body(body("m", false))
            .send()
    };
    let response = count().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-claude-lb-provider"], "backup");
    assert_eq!(
        proxy.provider("relay").await["state"],
        "available",
        "a refused count says nothing of the Messages path"
    );
    let response = proxy.messages(body("m", false)).await;
    assert_eq!(response.headers()["x-claude-lb-provider"], "relay");
    // A count whose body never comes, then one that gets no answer at all: each time the
    // next provider answers once request_timeout (2 s) is over, not after a whole answer's
    // deadline; `relay` answered the first, so only the second cools it down.
    for relay_after in ["available", "cooling_down"] {
        let started = tokio::time::Instant::now();
        let response = count().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-claude-lb-provider"], "backup");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(10), "{took:?}");
        assert_eq!(proxy.provider("relay").await["state"], relay_after);
    }
}

#[tokio::test]
async fn metrics_count_requests_failovers_cooldowns_and_tokens() {
    let first = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let second = MockUpstream::anthropic().start().await;
    let (proxy, _first, _second) = two(first, second).await;
    assert_eq!(proxy.messages(body("m", false)).await.status(), 200);
    let streamed = proxy.messages(body("m", true)).await.text().await.unwrap();
    sse_events(&streamed);
    let response = proxy
        .client
        .get(format!("{}/metrics", proxy.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    for line in [
        "claude_lb_requests_total{provider=\"second\",client=\"-\",status=\"200\"} 2",
        "claude_lb_failovers_total 1",
        "claude_lb_failed_attempts_total{provider=\"first\",reason=\"status_529\"} 1",
        "claude_lb_cooldowns_total{provider=\"first\"} 1",
        "claude_lb_request_duration_seconds_count{provider=\"second\"} 2",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(
        !text.contains("claude_lb_input_tokens_total{provider=\"second\"} 0"),
        "{text}"
    );
}

#[tokio::test]
async fn a_last_error_event_without_its_blank_line_is_the_only_error() {
    use claude_lb::mock::SseChunk;
    let mut chunks: Vec<SseChunk> = full_stream()[..4]
        .iter()
        .map(|(event, data)| SseChunk::event(event, data))
        .collect();
    chunks.push(SseChunk::new(format!("event: error\ndata: {OVERLOADED}")));
    let mock = MockUpstream::anthropic()
        .reply(Reply::sse(chunks))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("only", &mock, "api_key")], "")).await;
    let response = proxy.messages(body("m", true)).await;
    let events = sse_events(&response.text().await.unwrap());
    let errors = events.iter().filter(|(n, _)| n == "error").count();
    assert_eq!(errors, 1, "{events:?}");
    assert_eq!(
        events.last().unwrap().1["error"]["type"],
        "overloaded_error"
    );
}

#[tokio::test]
async fn all_failed_retry_after_counts_providers_skipped_while_cooling() {
    let a = MockUpstream::anthropic()
        .reply(Reply::status(503))
        .start()
        .await;
    let b = MockUpstream::anthropic()
        .reply(Reply::sim())
        .reply(Reply::status(429).retry_after(30))
        .start()
        .await;
    let yaml = format!(
        "providers:\n{}{}settings:\n  failure_cooldown: 1\n",
        provider("a", &a, "api_key"),
        provider("b", &b, "api_key")
    );
    let proxy = Proxy::start(&yaml).await;
    assert_eq!(proxy.messages(body("m", false)).await.status(), 200);
    // `a` cools down for 1s and is skipped; `b` is rate-limited for 30s.
    let response = proxy.messages(body("m", false)).await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after <= 2, "a is back within a second: {retry_after}");
}

#[tokio::test]
async fn reload_with_a_new_key_ends_the_old_keys_cooldown() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::status(401))
        .start()
        .await;
    let yaml = |key: &str| {
        format!(
            "providers:\n  - name: only\n    type: anthropic\n    auth_type: api_key\n    auth_value: {key}\n    base_url: {}\n",
            mock.base_url()
        )
    };
    let proxy = Proxy::start(&yaml("old-key")).await;
    assert_eq!(proxy.messages(body("m", false)).await.status(), 503);
    assert_eq!(proxy.provider("only").await["state"], "cooling_down");
    // The same key again keeps the cooldown; a new key starts afresh.
    std::fs::write(proxy.config_path(), yaml("old-key")).unwrap();
    let reload = format!("{}/providers/reload", proxy.url);
    assert_eq!(
        proxy.client.post(&reload).send().await.unwrap().status(),
        200
    );
    assert_eq!(proxy.provider("only").await["state"], "cooling_down");
    std::fs::write(proxy.config_path(), yaml("new-key")).unwrap();
    assert_eq!(
        proxy.client.post(&reload).send().await.unwrap().status(),
        200
    );
    assert_eq!(proxy.provider("only").await["state"], "available");
    assert_eq!(proxy.messages(body("m", false)).await.status(), 200);
    assert_eq!(mock.requests()[1].headers["x-api-key"], "new-key");
}

#[tokio::test]
async fn unsigned_thinking_from_a_translated_turn_never_reaches_an_anthropic_provider() {
    let mock = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&config(&[provider("only", &mock, "api_key")], "")).await;
    let sent = r#"{"model":"m","max_tokens":64,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"thinking","thinking":"from an OpenAI-type provider","signature":""},{"type":"text","text":"hello"}]},{"role":"user","content":"again"}]}"#;
    assert_eq!(proxy.messages(sent).await.status(), 200);
    let received = String::from_utf8(mock.requests()[0].body.to_vec()).unwrap();
    assert_eq!(
        received,
        sent.replace(
            r#"{"type":"thinking","thinking":"from an OpenAI-type provider","signature":""},"#,
            ""
        )
    );
}

#[tokio::test]
async fn a_provider_that_echoes_the_key_never_gets_it_into_logs_or_answers() {
    let echo = serde_json::json!({"type": "error", "error": {"type": "authentication_error", "message": format!("invalid x-api-key {SECRET}")}});
    let only = MockUpstream::anthropic()
        .reply(Reply::json(401, echo))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("only", &only, "api_key")], "")).await;
    let answer = proxy.messages(body("m", false)).await.text().await.unwrap();
    // Reworded: Claude Code shows its own "Invalid API key" for any message with
    // "x-api-key" in it, instead of this one, although its own key is fine.
    assert!(answer.contains("invalid API key *****"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("x-api-key"),
        "{answer}"
    );
    assert!(!answer.contains(SECRET), "{answer}");
    let state = proxy.provider("only").await.to_string();
    assert!(
        !state.contains(SECRET) && state.contains("*****"),
        "{state}"
    );
}

#[tokio::test]
async fn models_lists_mapped_names_and_what_an_open_anthropic_provider_serves() {
    let open = MockUpstream::anthropic().start().await;
    let oa = MockUpstream::openai().start().await;
    let yaml = format!(
        "providers:\n{}  - name: oa\n    type: openai\n    auth_type: api_key\n    auth_value: k\n    base_url: {}\n    models:\n      \"claude-*haiku*\": small\n      \"claude-opus-5-5\": big\n",
        provider("open", &open, "api_key"),
        oa.base_url()
    );
    let proxy = Proxy::start(&yaml).await;
    let (status, list) = proxy.get_json("/v1/models").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "claude-haiku-4-5-20251001",
            "claude-opus-5-5",
            "claude-sonnet-4-5-20250929",
            // `PROVIDER,MODEL` picks one provider and sends the model as it is.
            "oa,big",
            "oa,small",
            "open,claude-haiku-4-5-20251001",
            "open,claude-sonnet-4-5-20250929",
        ]
    );
    assert_eq!(list["data"][0]["type"], "model");
    let sent = &open.requests()[0];
    assert_eq!(sent.path_and_query, "/v1/models?limit=1000");
    assert_eq!(sent.headers["x-api-key"], SECRET);
}

#[tokio::test]
async fn one_kept_connection_carries_whole_answers_streams_and_errors_one_after_another() {
    // An Anthropic-type and an OpenAI-type provider, each answering in turn a whole answer, a
    // stream (read by claude-lb up to `message_stop`, before the body's last bytes) and an
    // error that goes back unchanged: every request after the first reuses the connection.
    // A gap between events, so that the body's last bytes come in a read of their own.
    let gaps = || claude_lb::mock::SimOptions {
        event_gap: Duration::from_millis(1),
        ..claude_lb::mock::SimOptions::default()
    };
    for mock in [
        MockUpstream::anthropic().sim(gaps()).start().await,
        MockUpstream::openai().sim(gaps()).start().await,
    ] {
        let kind = mock.kind().as_str();
        let yaml = format!(
            "providers:\n  - name: p\n    type: {kind}\n    auth_type: api_key\n    auth_value: k\n    base_url: {}\n    models:\n      \"*\": m\nsettings:\n  request_timeout: 5\n",
            mock.base_url()
        );
        let proxy = Proxy::start(&yaml).await;
        for _ in 0..2 {
            let whole = proxy.messages(body("claude-x", false)).await;
            assert_eq!(whole.status(), 200);
            whole.bytes().await.unwrap();
            let streamed = proxy.messages(body("claude-x", true)).await;
            assert_eq!(streamed.status(), 200);
            let events = sse_events(&streamed.text().await.unwrap());
            assert_eq!(events.last().map(|e| e.0.as_str()), Some("message_stop"));
            mock.push_reply(Reply::status(400));
            assert_eq!(proxy.messages(body("claude-x", false)).await.status(), 400);
        }
        assert_eq!(mock.request_count(), 6);
        assert_eq!(
            mock.connection_count(),
            1,
            "{kind}: one connection for six requests"
        );
    }
}
