//! Bounds against a hostile or broken provider: every buffer has a limit, and a whole answer
//! that times out after it was sent is not sent again. Each test uses a mock that misbehaves
//! exactly so (an endless body, a flood of events, a tool call that never gets a name, a
//! listing without end) and checks which bound it hits and what the client gets.

use std::time::Duration;

use claude_lb::limits;
use claude_lb::mock::{MockHandle, MockUpstream, Reply, SseChunk};
use futures_util::StreamExt;

use crate::support::proxy::{Proxy, body, sse_events};

fn provider(name: &str, kind: &str, mock: &MockHandle) -> String {
    let models = if kind == "openai" {
        "    models:\n      \"*\": upstream-model\n"
    } else {
        ""
    };
    format!(
        "  - name: {name}\n    type: {kind}\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n{models}",
        mock.base_url()
    )
}

/// A proxy in front of `first` (of `kind`) and a well-behaved Anthropic-type `second`.
/// `request_timeout` is 2 s when `settings` does not set it: the tests of a bound set it long,
/// so that on a slow machine the bound, not the timeout, ends the attempt.
async fn pair(kind: &str, first: Reply, settings: &str) -> (Proxy, MockHandle, MockHandle) {
    let first = MockUpstream::of(claude_lb::cli::parse_mock_kind(kind).unwrap())
        .reply(first)
        .start()
        .await;
    let second = MockUpstream::anthropic().start().await;
    let yaml = format!(
        "providers:\n{}{}settings:\n  stream_idle_timeout: 2\n  failure_cooldown: 60\n{}",
        provider("first", kind, &first),
        provider("second", "anthropic", &second),
        if settings.contains("request_timeout") {
            settings.to_owned()
        } else {
            format!("  request_timeout: 2\n{settings}")
        },
    );
    (Proxy::start(&yaml).await, first, second)
}

/// Checks that the request failed over from `first` to `second` because `first` went past a
/// bound that `last_error` names.
#[track_caller]
fn assert_failed_over(response_provider: &str, first: &serde_json::Value, bound: &str) {
    assert_eq!(response_provider, "second");
    assert_eq!(first["state"], "cooling_down", "{first}");
    let last_error = first["last_error"].as_str().unwrap_or_default();
    assert!(
        last_error.contains(bound),
        "{bound:?} not in {last_error:?}"
    );
}

/// Settings for the tests of a bound: a `request_timeout` that a slow machine does not reach.
const LONG: &str = "  request_timeout: 120\n";

const MESSAGE_START: &str = r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":0}}}"#;

#[tokio::test]
async fn an_endless_whole_answer_fails_over_at_its_bound() {
    let endless = Reply::raw(200, "application/json", vec![b' '; 64 * 1024]).repeat_last(1);
    let (proxy, first, second) = pair("anthropic", endless, LONG).await;
    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.status(), 200);
    let served_by = response.headers()["x-claude-lb-provider"]
        .to_str()
        .unwrap()
        .to_owned();
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["type"], "message");
    let bound = format!(
        "larger than {}",
        limits::describe_bytes(limits::MAX_WHOLE_ANSWER)
    );
    assert_failed_over(&served_by, &proxy.provider("first").await, &bound);
    assert_eq!((first.request_count(), second.request_count()), (1, 1));
}

#[tokio::test]
async fn an_endless_error_body_fails_over_at_its_bound() {
    let endless = Reply::raw(400, "application/json", vec![b' '; 64 * 1024]).repeat_last(1);
    let (proxy, _first, _second) = pair("anthropic", endless, LONG).await;
    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.status(), 200);
    let served_by = response.headers()["x-claude-lb-provider"]
        .to_str()
        .unwrap()
        .to_owned();
    let bound = format!(
        "HTTP 400: the response body is larger than {}",
        limits::describe_bytes(limits::MAX_ERROR_BODY)
    );
    assert_failed_over(&served_by, &proxy.provider("first").await, &bound);
}

#[tokio::test]
async fn endless_pings_before_any_content_fail_over_at_the_event_count() {
    // A hundred pings a chunk, so the flood reaches the count well within request_timeout.
    let pings = "event: ping\ndata: {\"type\": \"ping\"}\n\n".repeat(100);
    let flood = Reply::sse(vec![
        SseChunk::event("message_start", MESSAGE_START),
        SseChunk::new(pings),
    ])
    .repeat_last(1);
    let (proxy, _first, _second) = pair("anthropic", flood, LONG).await;
    let response = proxy.messages(body("claude-opus-5-5", true)).await;
    assert_eq!(response.status(), 200);
    let served_by = response.headers()["x-claude-lb-provider"]
        .to_str()
        .unwrap()
        .to_owned();
    let events = sse_events(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap().0, "message_stop");
    let bound = format!(
        "{} events before the first content event",
        limits::MAX_EVENTS_BEFORE_COMMIT
    );
    assert_failed_over(&served_by, &proxy.provider("first").await, &bound);
}

#[tokio::test]
async fn large_pings_before_any_content_fail_over_at_the_held_bytes() {
    let ping = format!(r#"{{"type": "ping", "pad": "{}"}}"#, "x".repeat(16 * 1024));
    let flood = Reply::sse(vec![
        SseChunk::event("message_start", MESSAGE_START),
        SseChunk::event("ping", &ping),
    ])
    .repeat_last(1);
    let (proxy, _first, _second) = pair("anthropic", flood, LONG).await;
    let response = proxy.messages(body("claude-opus-5-5", true)).await;
    assert_eq!(response.status(), 200);
    let served_by = response.headers()["x-claude-lb-provider"]
        .to_str()
        .unwrap()
        .to_owned();
    let bound = format!(
        "more than {} of events before the first content event",
        limits::describe_bytes(limits::MAX_HELD_BYTES)
    );
    assert_failed_over(&served_by, &proxy.provider("first").await, &bound);
}

/// OpenAI chunks carrying argument text for a tool call that never gets a name, in two
/// alternating pieces so that neither looks like a snapshot of what came before.
fn nameless_tool_chunks() -> Vec<SseChunk> {
    ["a", "b"]
        .iter()
        .map(|fill| {
            let chunk = serde_json::json!({
                "id": "c1", "object": "chat.completion.chunk", "model": "upstream-model",
                "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "call_1", "type": "function", "function": {"arguments": fill.repeat(64 * 1024)}}]}, "finish_reason": null}],
            });
            SseChunk::data(&chunk.to_string())
        })
        .collect()
}

fn text_chunk(text: &str) -> SseChunk {
    let chunk = serde_json::json!({
        "id": "c1", "object": "chat.completion.chunk", "model": "upstream-model",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": null}],
    });
    SseChunk::data(&chunk.to_string())
}

#[tokio::test]
async fn a_nameless_tool_call_after_content_ends_a_slowly_read_stream_with_an_error_event() {
    let mut chunks = vec![text_chunk("Hello")];
    chunks.extend(nameless_tool_chunks());
    let (proxy, first, second) = pair("openai", Reply::sse(chunks).repeat_last(2), LONG).await;
    let response = proxy.messages(body("claude-opus-5-5", true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-claude-lb-provider"], "first");
    // A slow reader: the proxy may not buffer the provider's endless arguments meanwhile.
    let mut text = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        text.extend_from_slice(&chunk.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let events = sse_events(&String::from_utf8(text).unwrap());
    let (name, error) = events.last().unwrap();
    assert_eq!(name, "error");
    let message = error["error"]["message"].as_str().unwrap();
    let bound = limits::describe_bytes(limits::MAX_TOOL_ARGUMENTS);
    assert!(message.contains(&bound), "{message}");
    assert!(
        events
            .iter()
            .any(|(_, data)| data["delta"]["text"] == "Hello"),
        "{events:?}"
    );
    assert_eq!((first.request_count(), second.request_count()), (1, 0));
    assert_eq!(proxy.provider("first").await["state"], "cooling_down");
}

#[tokio::test]
async fn a_nameless_tool_call_before_any_content_fails_over_at_its_bound() {
    let (proxy, _first, _second) = pair(
        "openai",
        Reply::sse(nameless_tool_chunks()).repeat_last(2),
        LONG,
    )
    .await;
    let response = proxy.messages(body("claude-opus-5-5", true)).await;
    assert_eq!(response.status(), 200);
    let served_by = response.headers()["x-claude-lb-provider"]
        .to_str()
        .unwrap()
        .to_owned();
    let bound = limits::describe_bytes(limits::MAX_TOOL_ARGUMENTS);
    assert_failed_over(&served_by, &proxy.provider("first").await, &bound);
}

#[tokio::test]
async fn an_endless_model_listing_is_dropped_at_its_bound() {
    let endless = Reply::raw(200, "application/json", r#"{"data":[{"id":"m"},"#).repeat_last(1);
    // The listing repeats its opening forever: `{"data":[{"id":"m"},{"data":[...`.
    let mock = MockUpstream::anthropic().reply(endless).start().await;
    let yaml = format!("providers:\n{}", provider("only", "anthropic", &mock));
    let loaded = claude_lb::config::load_str(&yaml, "providers.yaml", &|name: &str| {
        (name == "TEST_SECRET").then(|| "sk-test".to_owned())
    })
    .unwrap();
    let upstream = claude_lb::upstream::Upstream::new(&|_| None).unwrap();
    // The guard only turns a hang into a failure; the bound ends the read long before it.
    let listed = tokio::time::timeout(
        Duration::from_secs(120),
        claude_lb::upstream::list_models(
            &upstream,
            &loaded.config.providers[0],
            &http::HeaderMap::new(),
        ),
    )
    .await
    .expect("the listing is read only up to its bound");
    assert_eq!(listed, None);
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_whole_answer_is_reported_not_resent() {
    let (proxy, first, second) = pair("anthropic", Reply::stall(), "").await;
    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.status(), 504);
    assert_eq!(response.headers()["x-should-retry"], "false");
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "timeout_error");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("may still be generating"), "{message}");
    assert!(message.contains("within 600s"), "{message}");
    assert_eq!((first.request_count(), second.request_count()), (1, 0));
    assert_eq!(proxy.provider("first").await["state"], "available");
    // A failed request, and no failover.
    let metrics = proxy
        .client
        .get(format!("{}/metrics", proxy.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("claude_lb_failed_requests_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("claude_lb_failovers_total 0"), "{metrics}");
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_whole_answer_is_resent_when_the_operator_opts_in() {
    let (proxy, first, second) = pair(
        "anthropic",
        Reply::stall(),
        "  resend_timed_out_answers: true\n",
    )
    .await;
    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-claude-lb-provider"], "second");
    assert_eq!((first.request_count(), second.request_count()), (1, 1));
    assert_eq!(proxy.provider("first").await["state"], "cooling_down");
}

#[tokio::test(start_paused = true)]
async fn a_whole_answer_slower_than_request_timeout_is_waited_for() {
    // request_timeout is 2 s; a long answer takes a minute and is not sent twice.
    let slow = Reply::sim().delay(Duration::from_secs(60));
    let (proxy, first, second) = pair("anthropic", slow, "").await;
    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-claude-lb-provider"], "first");
    assert_eq!((first.request_count(), second.request_count()), (1, 0));
    assert_eq!(proxy.provider("first").await["state"], "available");
}

#[tokio::test(start_paused = true)]
async fn a_stream_without_content_within_request_timeout_still_fails_over() {
    let (proxy, _first, second) = pair("anthropic", Reply::stall(), "").await;
    let response = proxy.messages(body("claude-opus-5-5", true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-claude-lb-provider"], "second");
    assert_eq!(second.request_count(), 1);
    assert_eq!(proxy.provider("first").await["state"], "cooling_down");
}

fn openai_only_proxy_yaml(mock: &MockHandle) -> String {
    format!("providers:\n{}", provider("oa", "openai", mock))
}

#[tokio::test]
async fn a_local_token_count_refuses_a_body_past_its_bound() {
    let mock = MockUpstream::openai().start().await;
    let proxy = Proxy::start(&openai_only_proxy_yaml(&mock)).await;
    let big = serde_json::json!({
        "model": "claude-opus-5-5",
        "messages": [{"role": "user", "content": "x".repeat(limits::MAX_LOCAL_COUNT_TOKENS_BODY)}],
    })
    .to_string();
    let response = proxy
        .client
        .post(format!("{}/v1/messages/count_tokens", proxy.url))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "request_too_large");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&limits::describe_bytes(limits::MAX_LOCAL_COUNT_TOKENS_BODY)),
        "{message}"
    );
}

#[tokio::test]
async fn local_token_counts_beyond_the_concurrency_bound_wait_their_turn() {
    let mock = MockUpstream::openai().start().await;
    let proxy = Proxy::start(&openai_only_proxy_yaml(&mock)).await;
    let request = serde_json::json!({
        "model": "claude-opus-5-5",
        "messages": [{"role": "user", "content": "x ".repeat(100_000)}],
    })
    .to_string();
    let sends = (0..4 * limits::MAX_CONCURRENT_LOCAL_COUNTS).map(|_| {
        proxy
            .client
            .post(format!("{}/v1/messages/count_tokens", proxy.url))
            .header("content-type", "application/json")
            .body(request.clone())
            .send()
    });
    for response in futures_util::future::join_all(sends).await {
        let response = response.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-claude-lb-estimate"], "true");
    }
    assert_eq!(
        proxy.state.local_counts.available_permits(),
        limits::MAX_CONCURRENT_LOCAL_COUNTS
    );
}
