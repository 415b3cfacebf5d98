//! The mock provider itself: every scripted `Reply` behaves as documented, requests are
//! recorded faithfully, and the simulated providers speak well-formed Anthropic and `OpenAI`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use claude_lb::cli::parse_mock_kind;
use claude_lb::commands::mock::{MockArgs, run};
use claude_lb::core::provider::ProviderKind;
use claude_lb::mock::{Fault, FaultMix, MockHandle, MockUpstream, Reply, SimOptions, SseChunk};
use claude_lb::translate::accumulate::{Accumulator, Block};
use serde_json::{Value, json};
use tokio::time::Instant;

/// JSON request bodies without reqwest's `json` feature.
trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }
}

/// JSON response bodies without reqwest's `json` feature.
trait JsonResponse {
    async fn json_value(self) -> Result<Value, String>;
}

impl JsonResponse for reqwest::Response {
    async fn json_value(self) -> Result<Value, String> {
        let bytes = self.bytes().await.map_err(|e| e.to_string())?;
        serde_json::from_slice(&bytes)
            .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&bytes)))
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn messages_url(mock: &MockHandle) -> String {
    format!("{}/v1/messages", mock.base_url())
}

fn chat_url(mock: &MockHandle) -> String {
    format!("{}/chat/completions", mock.base_url())
}

async fn post(url: &str, body: &Value) -> reqwest::Response {
    client().post(url).json_body(body).send().await.unwrap()
}

/// Reads a body chunk by chunk until it ends or fails; returns the bytes and the failure.
async fn read_until_error(mut response: reqwest::Response) -> (Vec<u8>, Option<reqwest::Error>) {
    let mut out = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => out.extend_from_slice(&chunk),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

/// Splits an SSE body into `(event name, data)` pairs.
fn parse_sse(body: &str) -> Vec<(Option<String>, String)> {
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut event = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event: ") {
                    event = Some(name.to_string());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                } else {
                    panic!("unexpected SSE line {line:?} in {block:?}");
                }
            }
            (event, data)
        })
        .collect()
}

fn user_request(text: &str, stream: bool) -> Value {
    json!({
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 1024,
        "stream": stream,
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
    })
}

fn bash_tool() -> Value {
    json!({
        "name": "Bash",
        "description": "Run a command",
        "input_schema": {
            "type": "object",
            "properties": {
                "command": {"type": "string"},
                "timeout": {"type": "number"},
                "description": {"type": "string"},
            },
            "required": ["command"],
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Scripted replies.

#[tokio::test]
async fn status_reply_has_a_kind_shaped_error_body_and_retry_after() {
    let anthropic = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .reply(Reply::status(429).retry_after(7))
        .start()
        .await;
    let first = post(&messages_url(&anthropic), &user_request("hi", false)).await;
    assert_eq!(first.status(), 529);
    let body: Value = first.json_value().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "overloaded_error");
    let second = post(&messages_url(&anthropic), &user_request("hi", false)).await;
    assert_eq!(second.status(), 429);
    assert_eq!(second.headers()["retry-after"], "7");
    let body: Value = second.json_value().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");

    let openai = MockUpstream::openai()
        .reply(Reply::status(401))
        .start()
        .await;
    let rsp = post(&chat_url(&openai), &json!({})).await;
    assert_eq!(rsp.status(), 401);
    let body: Value = rsp.json_value().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_api_key");
    assert!(
        body.get("type").is_none(),
        "OpenAI errors have no top-level type: {body}"
    );
}

#[tokio::test]
async fn json_and_raw_replies_carry_status_body_and_headers() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::json(418, json!({"teapot": true})).header("x-extra", "yes"))
        .reply(Reply::raw(200, "text/plain", "not json at all"))
        .start()
        .await;
    let rsp = post(&messages_url(&mock), &json!({})).await;
    assert_eq!(rsp.status(), 418);
    assert_eq!(rsp.headers()["x-extra"], "yes");
    assert_eq!(rsp.headers()["content-type"], "application/json");
    assert_eq!(rsp.json_value().await.unwrap(), json!({"teapot": true}));
    let rsp = post(&messages_url(&mock), &json!({})).await;
    assert_eq!(rsp.headers()["content-type"], "text/plain");
    assert_eq!(rsp.text().await.unwrap(), "not json at all");
}

#[tokio::test]
async fn sse_events_arrive_one_by_one_with_their_delays() {
    let gap = Duration::from_millis(60);
    let events = [
        ("message_start", "{\"a\":1}"),
        ("ping", "{}"),
        ("message_stop", "{}"),
    ];
    let mock = MockUpstream::anthropic()
        .reply(Reply::sse_events(&events).delay_each(gap))
        .start()
        .await;
    let start = Instant::now();
    let mut rsp = post(&messages_url(&mock), &json!({})).await;
    assert_eq!(rsp.headers()["content-type"], "text/event-stream");
    let mut arrivals = Vec::new();
    while let Some(chunk) = rsp.chunk().await.unwrap() {
        arrivals.push((start.elapsed(), chunk));
    }
    assert_eq!(arrivals.len(), 3, "one chunk per event: {arrivals:?}");
    for (i, (name, data)) in events.iter().enumerate() {
        assert_eq!(
            arrivals[i].1,
            Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
        );
        let due = gap * u32::try_from(i + 1).unwrap();
        assert!(
            arrivals[i].0 >= due,
            "event {i} came at {:?}, before {due:?}",
            arrivals[i].0
        );
    }
}

#[tokio::test]
async fn sse_data_lines_and_per_chunk_delays() {
    let mock = MockUpstream::openai()
        .reply(Reply::sse(vec![
            SseChunk::data("{\"x\":1}"),
            SseChunk::data("[DONE]").after(Duration::from_millis(80)),
        ]))
        .reply(Reply::sse_data(&["{\"y\":2}", "[DONE]"]))
        .start()
        .await;
    let start = Instant::now();
    let rsp = post(&chat_url(&mock), &json!({})).await;
    let body = rsp.text().await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(80));
    assert_eq!(body, "data: {\"x\":1}\n\ndata: [DONE]\n\n");
    let body = post(&chat_url(&mock), &json!({}))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        parse_sse(&body),
        vec![(None, "{\"y\":2}".into()), (None, "[DONE]".into())]
    );
}

#[tokio::test]
async fn cut_after_sends_n_events_then_fails_the_body() {
    let events = [
        ("message_start", "{}"),
        ("ping", "{}"),
        ("content_block_start", "{}"),
    ];
    let mock = MockUpstream::anthropic()
        .reply(Reply::sse_events(&events).cut_after(2))
        .reply(Reply::json(200, json!({"ok": 1})).cut_after(0))
        .start()
        .await;
    let rsp = post(&messages_url(&mock), &json!({})).await;
    assert_eq!(rsp.status(), 200);
    let (bytes, error) = read_until_error(rsp).await;
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "event: message_start\ndata: {}\n\nevent: ping\ndata: {}\n\n"
    );
    assert!(error.is_some(), "a cut stream must end with a body error");

    let rsp = post(&messages_url(&mock), &json!({})).await;
    assert_eq!(rsp.status(), 200);
    let (bytes, error) = read_until_error(rsp).await;
    assert!(bytes.is_empty());
    assert!(
        error.is_some(),
        "a cut JSON body must end with a body error"
    );
}

#[tokio::test]
async fn a_scripted_sim_reply_can_be_cut_or_delayed() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::sim().cut_after(3))
        .reply(Reply::sim().delay(Duration::from_millis(120)))
        .start()
        .await;
    let rsp = post(&messages_url(&mock), &user_request("cut me", true)).await;
    assert_eq!(rsp.status(), 200);
    let (bytes, error) = read_until_error(rsp).await;
    let events = parse_sse(std::str::from_utf8(&bytes).unwrap());
    let names: Vec<_> = events
        .iter()
        .map(|(name, _)| name.clone().unwrap())
        .collect();
    assert_eq!(names, ["message_start", "content_block_start", "ping"]);
    assert!(
        error.is_some(),
        "the simulated stream must be cut after 3 events"
    );

    let start = Instant::now();
    let rsp = post(&messages_url(&mock), &user_request("later", false)).await;
    assert!(start.elapsed() >= Duration::from_millis(120));
    check_anthropic_message(&rsp.json_value().await.unwrap());
}

#[tokio::test]
async fn simulated_latency_comes_before_the_headers() {
    let mock = MockUpstream::openai()
        .sim(SimOptions {
            latency: Duration::from_millis(120),
            ..SimOptions::default()
        })
        .start()
        .await;
    let start = Instant::now();
    let rsp = post(&chat_url(&mock), &openai_request(false, false)).await;
    assert!(start.elapsed() >= Duration::from_millis(120));
    assert_eq!(rsp.status(), 200);
}

#[tokio::test]
async fn drop_connection_fails_before_any_response() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::drop_connection())
        .start()
        .await;
    let err = client()
        .post(messages_url(&mock))
        .json_body(&json!({}))
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none());
    assert!(!err.is_timeout());
    assert!(
        err.is_request() || err.is_connect(),
        "unexpected error kind: {err:?}"
    );
    // The next request is served normally.
    let rsp = post(&messages_url(&mock), &user_request("again", false)).await;
    assert_eq!(rsp.status(), 200);
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn stall_never_sends_headers_so_the_client_times_out() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::stall())
        .start()
        .await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = client
        .post(messages_url(&mock))
        .json_body(&json!({}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "expected a timeout, got {err:?}");
    assert_eq!(mock.request_count(), 1);
    // Dropping the handle with a stalled request in flight must not hang the test.
}

#[tokio::test]
async fn stall_after_headers_and_after_n_events_go_silent() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::stall_after_headers())
        .reply(Reply::sse_events(&[("message_start", "{}"), ("ping", "{}")]).stall_after(1))
        .start()
        .await;
    let idle = Duration::from_millis(150);

    let mut rsp = post(&messages_url(&mock), &json!({})).await;
    assert_eq!(rsp.status(), 200);
    assert!(
        tokio::time::timeout(idle, rsp.chunk()).await.is_err(),
        "no event may arrive"
    );

    let mut rsp = post(&messages_url(&mock), &json!({})).await;
    let first = rsp.chunk().await.unwrap().unwrap();
    assert_eq!(first, Bytes::from("event: message_start\ndata: {}\n\n"));
    assert!(
        tokio::time::timeout(idle, rsp.chunk()).await.is_err(),
        "the stream must stall"
    );
}

#[tokio::test]
async fn delay_holds_the_headers_back() {
    let mock = MockUpstream::openai()
        .reply(Reply::json(200, json!({})).delay(Duration::from_millis(150)))
        .start()
        .await;
    let start = Instant::now();
    let rsp = post(&chat_url(&mock), &json!({})).await;
    assert_eq!(rsp.status(), 200);
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn script_is_consumed_in_order_then_the_simulation_answers() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::status(503))
        .reply(Reply::json(200, json!({"scripted": 2})))
        .reply(Reply::sim())
        .start()
        .await;
    mock.push_reply(Reply::status(500));
    let url = messages_url(&mock);
    let request = user_request("order please", false);
    assert_eq!(post(&url, &request).await.status(), 503);
    assert_eq!(
        post(&url, &request).await.json_value().await.unwrap()["scripted"],
        2
    );
    let sim: Value = post(&url, &request).await.json_value().await.unwrap();
    assert_eq!(sim["type"], "message");
    assert_eq!(post(&url, &request).await.status(), 500);
    for _ in 0..2 {
        let sim: Value = post(&url, &request).await.json_value().await.unwrap();
        assert_eq!(
            sim["type"], "message",
            "the simulation answers once the script is used up"
        );
    }
    assert_eq!(mock.request_count(), 6);
}

#[tokio::test]
async fn every_request_is_recorded_with_path_query_headers_and_exact_body() {
    let mock = MockUpstream::anthropic().start().await;
    let big_text = "x".repeat(500 * 1024);
    let body = serde_json::to_vec(&user_request(&big_text, false)).unwrap();
    let rsp = client()
        .post(format!("{}/v1/messages?beta=true", mock.url()))
        .header("x-api-key", "test-key")
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(rsp.status(), 200);
    client()
        .get(format!("{}/v1/models", mock.url()))
        .send()
        .await
        .unwrap();

    let recorded = mock.requests();
    assert_eq!(recorded.len(), 2);
    let first = &recorded[0];
    assert_eq!(first.method, http::Method::POST);
    assert_eq!(first.path_and_query, "/v1/messages?beta=true");
    assert_eq!(first.path(), "/v1/messages");
    assert_eq!(first.header("x-api-key"), Some("test-key"));
    assert_eq!(first.headers["anthropic-version"], "2023-06-01");
    assert_eq!(first.body.len(), body.len());
    assert!(
        first.body == body,
        "the body bytes must be recorded unchanged"
    );
    assert_eq!(
        first.json.as_ref().unwrap()["messages"][0]["content"][0]["text"]
            .as_str()
            .unwrap()
            .len(),
        500 * 1024
    );
    assert_eq!(recorded[1].method, http::Method::GET);
    assert_eq!(recorded[1].path_and_query, "/v1/models");
    assert!(recorded[1].json.is_none());
}

#[tokio::test]
async fn recording_can_be_turned_off_while_counting_continues() {
    let mock = MockUpstream::openai()
        .sim(SimOptions {
            record: false,
            ..SimOptions::default()
        })
        .start()
        .await;
    for _ in 0..3 {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        assert_eq!(post(&chat_url(&mock), &body).await.status(), 200);
    }
    assert!(mock.requests().is_empty());
    assert_eq!(mock.request_count(), 3);
}

// ---------------------------------------------------------------------------------------------
// Simulated Anthropic provider.

/// What a well-formed Anthropic stream accumulates to.
#[derive(Debug)]
struct Accumulated {
    model: String,
    blocks: Vec<Value>,
    stop_reason: String,
    input_tokens: u64,
    output_tokens: u64,
}

/// Checks the event grammar of an Anthropic stream (the order [`Accumulator`] enforces, plus
/// what the simulated provider promises about each event) and returns the accumulated message.
#[track_caller]
fn check_anthropic_stream(body: &str) -> Accumulated {
    let events = parse_sse(body);
    assert!(!events.is_empty(), "empty stream");
    let mut accumulator = Accumulator::new();
    for (i, (name, raw)) in events.iter().enumerate() {
        let name = name
            .as_deref()
            .unwrap_or_else(|| panic!("event {i} has no name: {raw}"));
        assert!(!accumulator.stopped(), "event {name} after message_stop");
        let data: Value = serde_json::from_str(raw).unwrap();
        assert_eq!(data["type"], name, "data.type must repeat the event name");
        match name {
            "message_start" => {
                assert_eq!(i, 0, "message_start must come first");
                let m = &data["message"];
                assert_eq!(m["type"], "message");
                assert_eq!(m["role"], "assistant");
                assert_eq!(m["content"], json!([]));
                assert!(m["stop_reason"].is_null());
                assert!(m["stop_sequence"].is_null());
                assert!(m["id"].as_str().unwrap().starts_with("msg_"));
                assert!(m["usage"]["input_tokens"].as_u64().unwrap() > 0);
            }
            "ping" => assert!(i > 0, "ping before message_start"),
            "content_block_start" => {
                let block = &data["content_block"];
                match block["type"].as_str().unwrap() {
                    "text" => assert_eq!(block["text"], "", "text goes in deltas"),
                    "tool_use" => {
                        assert!(block["id"].as_str().unwrap().starts_with("toolu_"));
                        assert_eq!(block["input"], json!({}));
                    }
                    other => panic!("unexpected block type {other}"),
                }
            }
            "content_block_delta" | "content_block_stop" | "message_stop" => {}
            "message_delta" => {
                assert!(data["delta"]["stop_reason"].is_string());
                assert!(data["delta"]["stop_sequence"].is_null());
                assert!(data["usage"]["output_tokens"].as_u64().is_some());
            }
            other => panic!("unexpected event {other}"),
        }
        accumulator
            .push(Some(name), raw)
            .unwrap_or_else(|e| panic!("event {i}: {e}"));
    }
    let message = accumulator
        .finish()
        .expect("the stream must end with message_stop");
    for block in &message.content {
        if let Block::ToolUse { input, .. } = block {
            assert!(input.is_object(), "tool input {input} is not an object");
        }
    }
    Accumulated {
        model: message.model,
        blocks: message.content.iter().map(Block::to_json).collect(),
        stop_reason: message.stop_reason.unwrap(),
        input_tokens: message.usage.input_tokens.unwrap(),
        output_tokens: message.usage.output_tokens.unwrap(),
    }
}

/// Checks a non-streaming Messages response and returns it as accumulated.
#[track_caller]
fn check_anthropic_message(body: &Value) -> Accumulated {
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert!(body["id"].as_str().unwrap().starts_with("msg_"));
    assert!(body.as_object().unwrap().contains_key("stop_sequence"));
    assert!(body["stop_sequence"].is_null());
    let usage = &body["usage"];
    for key in [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
    ] {
        assert!(usage[key].is_u64(), "usage.{key} missing: {usage}");
    }
    Accumulated {
        model: body["model"].as_str().unwrap().to_string(),
        blocks: body["content"].as_array().unwrap().clone(),
        stop_reason: body["stop_reason"].as_str().unwrap().to_string(),
        input_tokens: usage["input_tokens"].as_u64().unwrap(),
        output_tokens: usage["output_tokens"].as_u64().unwrap(),
    }
}

async fn anthropic_both_ways(mock: &MockHandle, mut request: Value) -> (Accumulated, Accumulated) {
    request["stream"] = json!(false);
    let rsp = post(&messages_url(mock), &request).await;
    assert_eq!(rsp.status(), 200);
    assert_eq!(rsp.headers()["content-type"], "application/json");
    let whole = check_anthropic_message(&rsp.json_value().await.unwrap());
    request["stream"] = json!(true);
    let rsp = post(&messages_url(mock), &request).await;
    assert_eq!(rsp.status(), 200);
    assert_eq!(rsp.headers()["content-type"], "text/event-stream");
    let streamed = check_anthropic_stream(&rsp.text().await.unwrap());
    (whole, streamed)
}

#[tokio::test]
async fn simulated_anthropic_text_answer_is_well_formed_streaming_or_not() {
    let mock = MockUpstream::anthropic().start().await;
    let request = user_request("please echo these words back", false);
    let (whole, streamed) = anthropic_both_ways(&mock, request).await;
    for answer in [&whole, &streamed] {
        assert_eq!(answer.model, "claude-sonnet-4-5-20250929");
        assert_eq!(answer.stop_reason, "end_turn");
        assert_eq!(answer.blocks.len(), 1);
        assert_eq!(answer.blocks[0]["type"], "text");
        assert!(
            answer.blocks[0]["text"]
                .as_str()
                .unwrap()
                .starts_with("please echo these words back")
        );
        assert!(answer.output_tokens > 0);
    }
    assert_eq!(
        whole.blocks, streamed.blocks,
        "streaming and not must say the same thing"
    );
    assert_eq!(whole.output_tokens, streamed.output_tokens);
    // The stream body is slightly larger (`"stream":true`), within a token or two.
    assert!(whole.input_tokens.abs_diff(streamed.input_tokens) <= 2);
}

#[tokio::test]
async fn simulated_anthropic_uses_the_first_tool_then_answers_its_result() {
    let mock = MockUpstream::anthropic().start().await;
    let mut request = user_request("list the files", false);
    request["tools"] = json!([bash_tool(), {"name": "Read", "input_schema": {"type": "object"}}]);
    let (whole, streamed) = anthropic_both_ways(&mock, request.clone()).await;
    for answer in [&whole, &streamed] {
        assert_eq!(answer.stop_reason, "tool_use");
        assert_eq!(answer.blocks.len(), 2, "{:?}", answer.blocks);
        assert_eq!(answer.blocks[0]["type"], "text");
        let tool = &answer.blocks[1];
        assert_eq!(tool["type"], "tool_use");
        assert_eq!(tool["name"], "Bash");
        assert!(
            tool["input"]["command"].is_string(),
            "required input present: {tool}"
        );
    }
    assert_eq!(whole.blocks[1]["input"], streamed.blocks[1]["input"]);

    // The tool round trip: the result comes back and the model ends its turn.
    let tool_use = whole.blocks[1].clone();
    request["messages"] = json!([
        {"role": "user", "content": "list the files"},
        {"role": "assistant", "content": whole.blocks},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use["id"],
                                      "content": "main.rs lib.rs"}]},
    ]);
    let (whole, streamed) = anthropic_both_ways(&mock, request).await;
    for answer in [&whole, &streamed] {
        assert_eq!(answer.stop_reason, "end_turn");
        assert_eq!(answer.blocks.len(), 1);
        assert!(
            answer.blocks[0]["text"]
                .as_str()
                .unwrap()
                .contains("main.rs lib.rs")
        );
    }
}

#[tokio::test]
async fn simulated_anthropic_respects_max_tokens_and_any_path_prefix() {
    let mock = MockUpstream::anthropic()
        .sim(SimOptions {
            words: 40,
            ..SimOptions::default()
        })
        .start()
        .await;
    let mut request = user_request("one two three", true);
    request["max_tokens"] = json!(3);
    let rsp = post(
        &format!("{}/relay/v1/messages?beta=true", mock.url()),
        &request,
    )
    .await;
    let answer = check_anthropic_stream(&rsp.text().await.unwrap());
    assert_eq!(answer.stop_reason, "max_tokens");
    assert_eq!(answer.output_tokens, 3);
    assert_eq!(answer.blocks[0]["text"], "one two three");
}

#[tokio::test]
async fn simulated_anthropic_streams_with_event_gaps() {
    let gap = Duration::from_millis(20);
    let mock = MockUpstream::anthropic()
        .sim(SimOptions {
            event_gap: gap,
            words: 3,
            ..SimOptions::default()
        })
        .start()
        .await;
    let start = Instant::now();
    let mut rsp = post(&messages_url(&mock), &user_request("a b c", true)).await;
    let mut chunks = 0;
    let mut body = Vec::new();
    while let Some(chunk) = rsp.chunk().await.unwrap() {
        chunks += 1;
        body.extend_from_slice(&chunk);
    }
    let answer = check_anthropic_stream(std::str::from_utf8(&body).unwrap());
    let events = parse_sse(std::str::from_utf8(&body).unwrap()).len();
    assert_eq!(chunks, events, "each event is its own chunk");
    assert!(start.elapsed() >= gap * u32::try_from(events - 1).unwrap());
    assert_eq!(answer.stop_reason, "end_turn");
}

#[tokio::test]
async fn simulated_anthropic_count_tokens_models_and_errors() {
    let mock = MockUpstream::anthropic().start().await;
    let small = post(
        &format!("{}/v1/messages/count_tokens", mock.url()),
        &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    let small: Value = small.json_value().await.unwrap();
    let big = post(
        &format!("{}/v1/messages/count_tokens", mock.url()),
        &json!({"model": "m", "messages": [{"role": "user", "content": "hi ".repeat(1000)}]}),
    )
    .await;
    let big: Value = big.json_value().await.unwrap();
    assert!(small["input_tokens"].as_u64().unwrap() > 0);
    assert!(big["input_tokens"].as_u64().unwrap() > small["input_tokens"].as_u64().unwrap() * 10);

    let models: Value = client()
        .get(format!("{}/v1/models?limit=1000", mock.url()))
        .send()
        .await
        .unwrap()
        .json_value()
        .await
        .unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|id| id.starts_with("claude")),
        "{ids:?}"
    );

    let rsp = client()
        .post(messages_url(&mock))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(rsp.status(), 400);
    let body: Value = rsp.json_value().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a valid request")
    );

    let rsp = client()
        .get(format!("{}/nowhere", mock.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(rsp.status(), 404);
    let body: Value = rsp.json_value().await.unwrap();
    assert_eq!(body["error"]["type"], "not_found_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("GET /nowhere")
    );
}

// ---------------------------------------------------------------------------------------------
// Simulated `OpenAI` provider.

fn openai_request(stream: bool, tools: bool) -> Value {
    let mut request = json!({
        "model": "deepseek-chat",
        "stream": stream,
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "list the files"}],
    });
    if stream {
        request["stream_options"] = json!({"include_usage": true});
    }
    if tools {
        request["tools"] = json!([{"type": "function", "function": {
            "name": "Bash", "description": "Run a command",
            "parameters": bash_tool()["input_schema"].clone(),
        }}]);
    }
    request
}

/// Parses an `OpenAI` stream; returns content text, (tool id, name, arguments), finish reason
/// and the usage chunk.
#[track_caller]
fn check_openai_stream(
    body: &str,
) -> (
    String,
    Option<(String, String, String)>,
    String,
    Option<Value>,
) {
    let events = parse_sse(body);
    assert_eq!(
        events.last().unwrap(),
        &(None, "[DONE]".to_string()),
        "must end with [DONE]"
    );
    let mut content = String::new();
    let mut tool: Option<(String, String, String)> = None;
    let mut finish = None;
    let mut usage = None;
    for (i, (name, data)) in events[..events.len() - 1].iter().enumerate() {
        assert!(name.is_none(), "OpenAI streams have no event names");
        let chunk: Value = serde_json::from_str(data).unwrap();
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], "deepseek-chat");
        let choices = chunk["choices"].as_array().unwrap();
        if choices.is_empty() {
            assert_eq!(i, events.len() - 2, "the usage chunk comes last");
            usage = Some(chunk["usage"].clone());
            continue;
        }
        assert!(finish.is_none(), "nothing but usage after finish_reason");
        let delta = &choices[0]["delta"];
        if i == 0 {
            assert_eq!(delta["role"], "assistant");
        }
        if let Some(text) = delta["content"].as_str() {
            content.push_str(text);
        }
        if let Some(calls) = delta["tool_calls"].as_array() {
            let call = &calls[0];
            assert_eq!(call["index"], 0);
            let arguments = call["function"]["arguments"].as_str().unwrap();
            match &mut tool {
                None => {
                    let id = call["id"].as_str().unwrap().to_string();
                    assert_eq!(call["type"], "function");
                    let name = call["function"]["name"].as_str().unwrap().to_string();
                    tool = Some((id, name, arguments.to_string()));
                }
                Some((_, _, args)) => {
                    assert!(
                        call.get("id").is_none(),
                        "later fragments carry only index and arguments"
                    );
                    args.push_str(arguments);
                }
            }
        }
        if let Some(reason) = choices[0]["finish_reason"].as_str() {
            finish = Some(reason.to_string());
        }
    }
    (content, tool, finish.expect("a finish_reason"), usage)
}

#[tokio::test]
async fn simulated_openai_stream_ends_with_done_and_streams_tool_calls() {
    let mock = MockUpstream::openai().start().await;
    let rsp = post(&chat_url(&mock), &openai_request(true, true)).await;
    assert_eq!(rsp.headers()["content-type"], "text/event-stream");
    let body = rsp.text().await.unwrap();
    let (content, tool, finish, usage) = check_openai_stream(&body);
    assert_eq!(finish, "tool_calls");
    let (id, name, arguments) = tool.expect("a tool call");
    assert!(id.starts_with("call_"));
    assert_eq!(name, "Bash");
    let arguments: Value = serde_json::from_str(&arguments).unwrap();
    assert!(arguments["command"].is_string());
    let fragments = body.matches("\"arguments\"").count();
    assert!(
        fragments > 2,
        "arguments arrive in several fragments ({fragments})"
    );
    assert!(content.contains("list the files"));
    let usage = usage.expect("include_usage asks for a usage chunk");
    let (prompt, completion) = (
        usage["prompt_tokens"].as_u64().unwrap(),
        usage["completion_tokens"].as_u64().unwrap(),
    );
    assert_eq!(usage["total_tokens"].as_u64().unwrap(), prompt + completion);

    let rsp = post(&chat_url(&mock), &json!({"model": "deepseek-chat", "stream": true, "messages": [{"role": "user", "content": "hi"}]})).await;
    let (content, tool, finish, usage) = check_openai_stream(&rsp.text().await.unwrap());
    assert!(content.starts_with("hi"));
    assert!(tool.is_none());
    assert_eq!(finish, "stop");
    assert!(usage.is_none(), "no usage chunk unless asked for");
}

#[tokio::test]
async fn simulated_openai_completion_with_and_without_tools() {
    let mock = MockUpstream::openai().start().await;
    let body: Value = post(&chat_url(&mock), &openai_request(false, true))
        .await
        .json_value()
        .await
        .unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "deepseek-chat");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "Bash");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert!(arguments["command"].is_string());
    assert!(body["usage"]["total_tokens"].as_u64().unwrap() > 0);

    // A tool result ends the turn with text.
    let mut request = openai_request(false, true);
    request["messages"] = json!([
        {"role": "user", "content": "list"},
        {"role": "assistant", "content": null, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "main.rs lib.rs"},
    ]);
    let mut with_reminder = request.clone();
    with_reminder["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "user", "content": "<system-reminder>go on</system-reminder>"}));
    let body: Value = post(&chat_url(&mock), &with_reminder)
        .await
        .json_value()
        .await
        .unwrap();
    assert_eq!(
        body["choices"][0]["finish_reason"], "stop",
        "a user message after the tool result is still the tool-result turn: {body}"
    );
    let body: Value = post(&chat_url(&mock), &request)
        .await
        .json_value()
        .await
        .unwrap();
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert!(body["choices"][0]["message"]["tool_calls"].is_null());
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("main.rs lib.rs")
    );

    let models: Value = client()
        .get(format!("{}/models", mock.base_url()))
        .send()
        .await
        .unwrap()
        .json_value()
        .await
        .unwrap();
    assert_eq!(models["object"], "list");
    assert!(!models["data"].as_array().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Fault injection.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Observed {
    Ok,
    Overloaded,
    RateLimited,
    Cut,
}

async fn observe(mock: &MockHandle, n: usize) -> Vec<Observed> {
    let client = client();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let rsp = client
            .post(messages_url(mock))
            .json_body(&user_request("fault?", true))
            .send()
            .await
            .unwrap();
        let observed = match rsp.status().as_u16() {
            200 => match read_until_error(rsp).await {
                (body, None) => {
                    check_anthropic_stream(std::str::from_utf8(&body).unwrap());
                    Observed::Ok
                }
                (_, Some(_)) => Observed::Cut,
            },
            529 => Observed::Overloaded,
            429 => {
                assert_eq!(rsp.headers()["retry-after"], "2");
                Observed::RateLimited
            }
            other => panic!("unexpected status {other}"),
        };
        out.push(observed);
    }
    out
}

fn faulty(seed: u64) -> SimOptions {
    SimOptions {
        fail_rate: 0.3,
        fault: FaultMix {
            overloaded: 1.0,
            rate_limited: 1.0,
            cut_stream: 1.0,
            stall: 0.0,
        },
        seed,
        retry_after_secs: 2,
        record: false,
        ..SimOptions::default()
    }
}

#[tokio::test]
async fn fault_injection_follows_the_seeded_plan() {
    const N: usize = 150;
    let options = faulty(42);
    let mock = MockUpstream::anthropic().sim(options.clone()).start().await;
    let observed = observe(&mock, N).await;
    let planned: Vec<Observed> = (0..N as u64)
        .map(|n| match options.fault_for(n) {
            None => Observed::Ok,
            Some(Fault::Overloaded) => Observed::Overloaded,
            Some(Fault::RateLimited) => Observed::RateLimited,
            Some(Fault::CutStream) => Observed::Cut,
            Some(Fault::Stall) => panic!("stall has no share"),
        })
        .collect();
    assert_eq!(observed, planned, "request n gets the fault planned for n");

    let mut counts: BTreeMap<Observed, usize> = BTreeMap::new();
    for o in &observed {
        *counts.entry(*o).or_default() += 1;
    }
    let faults = N - counts.get(&Observed::Ok).copied().unwrap_or(0);
    assert!(
        (25..=65).contains(&faults),
        "about 30% of {N} should fail, got {faults}: {counts:?}"
    );
    for kind in [Observed::Overloaded, Observed::RateLimited, Observed::Cut] {
        assert!(
            counts.get(&kind).copied().unwrap_or(0) >= 5,
            "{kind:?} under-represented: {counts:?}"
        );
    }

    // The same seed replays the same sequence; another seed gives another one.
    let again = MockUpstream::anthropic().sim(options).start().await;
    assert_eq!(observe(&again, N).await, observed);
    let other = faulty(7);
    let differs = (0..N as u64).any(|n| other.fault_for(n) != faulty(42).fault_for(n));
    assert!(differs, "a different seed must give a different plan");
}

#[tokio::test]
async fn fault_rates_at_the_extremes() {
    let never = SimOptions {
        fail_rate: 0.0,
        ..faulty(1)
    };
    assert!((0..1000).all(|n| never.fault_for(n).is_none()));
    let always = SimOptions {
        fail_rate: 1.0,
        ..faulty(1)
    };
    assert!((0..1000).all(|n| always.fault_for(n).is_some()));

    let stall_only = SimOptions {
        fail_rate: 1.0,
        fault: FaultMix {
            overloaded: 0.0,
            rate_limited: 0.0,
            cut_stream: 0.0,
            stall: 1.0,
        },
        ..SimOptions::default()
    };
    let mock = MockUpstream::openai().sim(stall_only).start().await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let err = client
        .post(chat_url(&mock))
        .json_body(&openai_request(true, false))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    // Model listing is never faulted.
    let rsp = client
        .get(format!("{}/models", mock.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(rsp.status(), 200);
}

#[tokio::test]
async fn invalid_sim_options_are_refused_at_start() {
    let err = MockUpstream::anthropic()
        .sim(SimOptions {
            fail_rate: -0.1,
            ..SimOptions::default()
        })
        .try_start()
        .await
        .unwrap_err();
    assert_eq!(
        format!("{:#}", anyhow::Error::from(err)),
        "invalid simulation options: fail rate -0.1 is outside 0..=1"
    );
}

// ---------------------------------------------------------------------------------------------
// Lifecycle and the `mock` command.

#[tokio::test]
async fn shutdown_closes_the_port_and_ends_stalled_requests() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::stall())
        .start()
        .await;
    let addr = mock.addr();
    let url = messages_url(&mock);
    let stalled =
        tokio::spawn(async move { client().post(url).json_body(&json!({})).send().await });
    while mock.request_count() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::timeout(Duration::from_secs(5), mock.shutdown())
        .await
        .expect("shutdown must not hang");
    let result = tokio::time::timeout(Duration::from_secs(5), stalled)
        .await
        .expect("the stalled request must end")
        .unwrap();
    assert!(
        result.is_err(),
        "a stalled request ends with an error at shutdown"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port must be closed"
    );
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let mock = MockUpstream::openai().start().await;
    let addr = mock.addr();
    drop(mock);
    let deadline = Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the port is still open after drop"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn mock_command_serves_until_shutdown() {
    // Pick a free port, then hand it to the command (which binds it itself).
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let args = MockArgs {
        latency_ms: 1,
        ..MockArgs::new(ProviderKind::Anthropic, addr)
    };
    let server = tokio::spawn(run(args, async move {
        let _ = stop_rx.await;
    }));
    let url = format!("http://{addr}/v1/messages");
    let mut answer = None;
    for _ in 0..200 {
        match client()
            .post(&url)
            .json_body(&user_request("from the command", false))
            .send()
            .await
        {
            Ok(rsp) => {
                answer = Some(rsp.json_value().await.unwrap());
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    let answer = answer.expect("the mock command never answered");
    check_anthropic_message(&answer);
    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();

    // A bad fail rate is reported, not served.
    let bad = MockArgs {
        fail_rate: 3.0,
        ..MockArgs::new(ProviderKind::OpenAi, "127.0.0.1:0".parse().unwrap())
    };
    let err = run(bad, std::future::pending()).await.unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "cannot start the mock provider: invalid simulation options: fail rate 3 is outside 0..=1"
    );
}

#[test]
fn mock_kind_parses_its_names_and_explains_a_bad_one() {
    assert_eq!(parse_mock_kind("anthropic"), Ok(ProviderKind::Anthropic));
    assert_eq!(parse_mock_kind("openai"), Ok(ProviderKind::OpenAi));
    let err = parse_mock_kind("opneai").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown mock kind `opneai` (expected anthropic or openai)"
    );
    assert_eq!(
        parse_mock_kind(ProviderKind::OpenAi.as_str()),
        Ok(ProviderKind::OpenAi)
    );
}

#[test]
fn mock_prints_its_address_and_the_base_url_to_use() {
    use std::io::BufRead;
    for (kind, path) in [("anthropic", ""), ("openai", "/v1")] {
        let mut cli = crate::support::cli::ClaudeLb::new();
        let mut child = cli.args(["mock", "--type", kind, "--listen", ":0"]).spawn();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let _ = child.kill();
        let _ = child.wait();
        let addr = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .unwrap_or_else(|| panic!("{line}"));
        assert!(addr.starts_with("127.0.0.1:"), "{line}");
        assert!(
            line.contains(&format!(
                "`type: {kind}` and `base_url: http://{addr}{path}`"
            )),
            "{line}"
        );
    }
}
