//! `claude-lb test`: one real request through the same dispatcher as `serve`, or through a
//! running instance, with the answer streamed and a footer that explains it.

use claude_lb::mock::{MockHandle, MockUpstream, Reply};

use crate::check::{SECRET, lb_with, provider, run_bin};
use crate::support::cli::ClaudeLb;
use crate::support::proxy::Proxy;

const START: &str = r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}"#;

/// An Anthropic stream that says `text` in two deltas.
fn hello(text: &str) -> Reply {
    let (a, b) = text.split_at(text.len() / 2);
    let delta = |t: &str| {
        serde_json::json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":t}})
            .to_string()
    };
    let (da, db) = (delta(a), delta(b));
    Reply::sse_events(&[
        ("message_start", START),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        ("content_block_delta", &da),
        ("content_block_delta", &db),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ])
}

async fn failover_pair() -> (MockHandle, MockHandle) {
    let first = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let second = MockUpstream::anthropic()
        .reply(hello("Hello from the second provider."))
        .start()
        .await;
    (first, second)
}

fn pair_config(first: &MockHandle, second: &MockHandle) -> ClaudeLb {
    lb_with(&[
        provider("first", "anthropic", &first.base_url(), ""),
        provider("second", "anthropic", &second.base_url(), ""),
    ])
}

#[tokio::test]
async fn test_streams_the_answer_and_names_every_attempt() {
    let (first, second) = failover_pair().await;
    let mut lb = pair_config(&first, &second);
    lb.args(["test", "Say hello"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET));
    assert!(
        run.stdout
            .starts_with("Hello from the second provider.\n\n"),
        "{run:?}"
    );
    assert!(run.stdout.contains("provider  second\n"), "{run:?}");
    assert!(run.stdout.contains("attempts  2 attempts\n"), "{run:?}");
    assert!(
        run.stdout
            .contains("          first failed: HTTP 529 overloaded_error"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("          second answered\n"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("model     claude-sonnet-5-5\n"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("time      first token after "),
        "{run:?}"
    );
    assert!(run.stdout.contains("tokens    12 in, 7 out\n"), "{run:?}");
    assert!(run.stdout.contains("stop      end_turn\n"), "{run:?}");
    // The request is the one asked for, streaming.
    let sent = second.requests()[0].json.clone().unwrap();
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["model"], "claude-sonnet-5-5");
    assert_eq!(sent["messages"][0]["content"], "Say hello");
}

#[tokio::test]
async fn test_json_is_one_document() {
    let (first, second) = failover_pair().await;
    let mut lb = pair_config(&first, &second);
    lb.args(["test", "--json", "--model", "claude-opus-5-5"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 0, "{run:?}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["provider"], "second");
    assert_eq!(doc["model"], "claude-opus-5-5");
    assert_eq!(doc["attempts"][0]["provider"], "first");
    assert!(
        doc["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 529")
    );
    assert_eq!(doc["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(doc["text"], "Hello from the second provider.");
    assert_eq!(doc["stop_reason"], "end_turn");
    assert_eq!(doc["usage"]["input_tokens"], 12);
    assert_eq!(doc["usage"]["output_tokens"], 7);
    assert!(doc["ttft_ms"].is_u64());
    assert!(doc["total_ms"].as_u64().unwrap() >= doc["ttft_ms"].as_u64().unwrap());
    assert_eq!(
        second.requests()[0].json.as_ref().unwrap()["model"],
        "claude-opus-5-5"
    );
}

#[tokio::test]
async fn test_no_stream_asks_for_the_whole_answer() {
    let only = MockUpstream::anthropic()
        .reply(Reply::json(
            200,
            serde_json::json!({
                "id": "msg_2", "type": "message", "role": "assistant", "model": "m",
                "content": [{"type": "text", "text": "A whole answer."}],
                "stop_reason": "end_turn", "stop_sequence": null,
                "usage": {"input_tokens": 5, "output_tokens": 4},
            }),
        ))
        .start()
        .await;
    let mut lb = lb_with(&[provider("only", "anthropic", &only.base_url(), "")]);
    lb.args(["test", "--no-stream"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("A whole answer.\n\n"), "{run:?}");
    assert!(run.stdout.contains("time      answer after "), "{run:?}");
    assert!(run.stdout.contains("tokens    5 in, 4 out"), "{run:?}");
    assert_eq!(only.requests()[0].json.as_ref().unwrap()["stream"], false);
}

#[tokio::test]
async fn test_fails_with_every_attempt_when_no_provider_answers() {
    let first = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let second = MockUpstream::anthropic()
        .reply(Reply::status(503))
        .start()
        .await;
    let mut lb = pair_config(&first, &second);
    lb.args(["test"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .starts_with("error: all 2 providers failed: first: HTTP 529"),
        "{run:?}"
    );
    assert!(run.stderr.contains("; second: HTTP 503"), "{run:?}");
    // The cooldowns of the command's own short-lived dispatcher mean nothing to the user.
    assert!(!run.stderr.contains("cooling down"), "{run:?}");
    // The dispatcher's own warning is not repeated at the default verbosity.
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
}

#[tokio::test]
async fn test_provider_restricts_the_pool_to_one() {
    let (first, second) = failover_pair().await;
    let mut lb = pair_config(&first, &second);
    lb.args(["test", "--provider", "second", "--json"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 0, "{run:?}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["provider"], "second");
    assert_eq!(doc["attempts"], serde_json::json!([]));
    assert_eq!(first.request_count(), 0);

    let mut lb = pair_config(&first, &second);
    lb.args(["test", "--provider", "first"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: all 1 provider failed: first: HTTP 529"),
        "{run:?}"
    );
    assert_eq!(second.request_count(), 1);
}

#[tokio::test]
async fn test_remote_goes_through_a_running_instance() {
    let (first, second) = failover_pair().await;
    let yaml = format!(
        "providers:\n  - name: first\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n  - name: second\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n",
        first.base_url(),
        second.base_url()
    );
    let proxy = Proxy::start(&yaml).await;
    let mut lb = ClaudeLb::new();
    lb.args(["test", "--remote", &proxy.url, "Hi"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with("Hello from the second provider.\n\n"),
        "{run:?}"
    );
    assert!(run.stdout.contains("provider  second\n"), "{run:?}");
    assert!(run.stdout.contains("attempts  2 attempts\n"), "{run:?}");
    assert!(
        run.stdout.contains("first failed: HTTP 529"),
        "the instance reports the failed attempt: {run:?}"
    );
    assert_eq!(first.request_count(), 1);
    assert_eq!(second.request_count(), 1);

    // With every provider now failing or cooling down, the instance's error is shown.
    first.push_reply(Reply::status(529));
    second.push_reply(Reply::status(529));
    let mut lb = ClaudeLb::new();
    lb.args(["test", "--remote", &proxy.url, "--json"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    assert!(doc["http_status"].as_u64().unwrap() >= 400);
    assert!(
        doc["error"].as_str().unwrap().contains("answered HTTP"),
        "{doc}"
    );
}

#[tokio::test]
async fn test_remote_says_when_no_instance_answers() {
    let gone = crate::check::unreachable();
    let url = gone.url.clone();
    let mut lb = ClaudeLb::new();
    lb.args(["test", "--remote", &url]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.starts_with(&format!(
            "error: cannot reach claude-lb at {url}/v1/messages: connection refused"
        )),
        "{run:?}"
    );
}

#[tokio::test]
async fn test_prints_no_key_a_provider_echoes() {
    let echo = MockUpstream::anthropic()
        .reply(
            Reply::json(
                400,
                serde_json::json!({"type": "error", "error": {"type": "invalid_request_error", "message": format!("{} bad key {SECRET}", "x".repeat(290))}}),
            )
            .header("x-echo", SECRET),
        )
        .start()
        .await;
    let mut lb = lb_with(&[provider("echo", "anthropic", &echo.base_url(), "")]);
    lb.args(["test", "--no-stream", "Say hello"]);
    let run = run_bin(lb).await;
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("bad key *****") || run.stderr.contains("bad key *****"),
        "{run:?}"
    );
    assert!(
        !run.stdout.contains("sk-test") && !run.stderr.contains("sk-test"),
        "{run:?}"
    );
}
