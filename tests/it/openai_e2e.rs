//! `serve` end to end with an OpenAI-type provider: translation both ways, streaming and
//! not, a tool round trip, and failover across provider types.

use std::time::Duration;

use claude_lb::mock::{MockHandle, MockUpstream, Reply, SseChunk};

use crate::support::proxy::{Proxy, body, sse_events};

fn openai(name: &str, mock: &MockHandle) -> String {
    format!(
        "  - name: {name}\n    type: openai\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n    models:\n      \"*\": upstream-model\n",
        mock.base_url()
    )
}

fn anthropic(name: &str, mock: &MockHandle) -> String {
    format!(
        "  - name: {name}\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n",
        mock.base_url()
    )
}

fn config(providers: &[String]) -> String {
    format!(
        "providers:\n{}settings:\n  request_timeout: 2\n  stream_idle_timeout: 2\n",
        providers.concat()
    )
}

fn with_tools(stream: bool, messages: serde_json::Value) -> String {
    serde_json::json!({
        "model": "claude-opus-5-5",
        "max_tokens": 256,
        "stream": stream,
        "system": [{"type": "text", "text": "You are Claude Code."}],
        "tools": [{
            "name": "Read",
            "description": "Reads a file",
            "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}
        }],
        "messages": messages,
    })
    .to_string()
}

#[tokio::test]
async fn non_streaming_answer_is_translated() {
    let mock = MockUpstream::openai().start().await;
    let proxy = Proxy::start(&config(&[openai("oa", &mock)])).await;
    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["type"], "message");
    assert_eq!(answer["role"], "assistant");
    assert_eq!(answer["model"], "claude-opus-5-5");
    assert_eq!(answer["content"][0]["type"], "text");
    assert!(answer["usage"]["input_tokens"].as_u64().is_some());
    let sent = &mock.requests()[0];
    assert_eq!(sent.path_and_query, "/v1/chat/completions");
    assert_eq!(sent.headers["authorization"], "Bearer sk-test-secret-value");
    assert!(sent.headers.get("anthropic-beta").is_none());
    let json = sent.json.as_ref().unwrap();
    assert_eq!(json["model"], "upstream-model");
    assert_eq!(json["messages"][0]["role"], "user");
}

#[tokio::test]
async fn streaming_tool_round_trip_is_well_formed() {
    let mock = MockUpstream::openai().start().await;
    let proxy = Proxy::start(&config(&[openai("oa", &mock)])).await;
    let first_turn = serde_json::json!([{"role": "user", "content": "Read main.rs"}]);
    let response = proxy.messages(with_tools(true, first_turn.clone())).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = sse_events(&response.text().await.unwrap());
    let tool_start = events
        .iter()
        .find(|(n, d)| n == "content_block_start" && d["content_block"]["type"] == "tool_use")
        .expect("a tool_use block");
    let tool_id = tool_start.1["content_block"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let index = tool_start.1["index"].clone();
    let input: String = events
        .iter()
        .filter(|(n, d)| n == "content_block_delta" && d["index"] == index)
        .map(|(_, d)| d["delta"]["partial_json"].as_str().unwrap().to_owned())
        .collect();
    let input: serde_json::Value = serde_json::from_str(&input).unwrap();
    assert!(input.is_object());
    let stop = events.iter().find(|(n, _)| n == "message_delta").unwrap();
    assert_eq!(stop.1["delta"]["stop_reason"], "tool_use");
    // Second turn: the tool result goes back and becomes a `tool` message.
    let mut turns = first_turn.as_array().unwrap().clone();
    turns.push(serde_json::json!({"role": "assistant", "content": [{"type": "tool_use", "id": tool_id, "name": "Read", "input": input}]}));
    turns.push(serde_json::json!({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": tool_id, "content": "fn main() {}"},
        {"type": "text", "text": "<system-reminder>go on</system-reminder>"}
    ]}));
    let response = proxy
        .messages(with_tools(false, serde_json::Value::Array(turns)))
        .await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["stop_reason"], "end_turn", "{answer}");
    let sent = mock.requests()[1].json.clone().unwrap();
    let roles: Vec<&str> = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "tool", "user"],
        "{sent}"
    );
    assert_eq!(sent["messages"][3]["tool_call_id"], tool_id);
}

#[tokio::test]
async fn upstream_errors_become_anthropic_errors() {
    let mock = MockUpstream::openai()
        .reply(Reply::json(400, serde_json::json!({"error": {"message": "This model's maximum context length is 8192 tokens", "type": "invalid_request_error", "code": "context_length_exceeded"}})))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[openai("oa", &mock)])).await;
    let response = proxy.messages(body("m", true)).await;
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("prompt is too long")
    );
}

#[tokio::test]
async fn an_error_object_in_a_200_answer_is_the_requests_fault_or_the_providers() {
    // A prompt too long, said in a 200 answer: the client gets the 400 Claude Code compacts
    // on, the provider is not blamed and nothing fails over.
    let overflow = serde_json::json!({"error": {"message": "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.", "code": "context_length_exceeded"}});
    let first = MockUpstream::openai()
        .reply(Reply::json(200, overflow))
        .start()
        .await;
    let second = MockUpstream::openai().start().await;
    let proxy = Proxy::start(&config(&[openai("oa", &first), openai("ob", &second)])).await;
    let response = proxy.messages(body("m", false)).await;
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "invalid_request_error", "{error}");
    assert_eq!(
        error["error"]["message"],
        "prompt is too long: 9000 tokens > 8192 maximum"
    );
    assert_eq!(proxy.provider("oa").await["state"], "available");
    assert_eq!(second.request_count(), 0);
    // The provider's own failure, said in a 200 answer: the next provider answers.
    first.push_reply(Reply::json(
        200,
        serde_json::json!({"error": {"message": "upstream model crashed", "type": "server_error"}}),
    ));
    let response = proxy.messages(body("m", false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-claude-lb-provider"], "ob");
    assert_eq!(proxy.provider("oa").await["state"], "cooling_down");
}

#[tokio::test]
async fn failover_crosses_provider_types_both_ways() {
    let anthropic_down = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let oa = MockUpstream::openai().start().await;
    let proxy = Proxy::start(&config(&[
        anthropic("a", &anthropic_down),
        openai("oa", &oa),
    ]))
    .await;
    let response = proxy.messages(body("claude-opus-5-5", true)).await;
    assert_eq!(response.headers()["x-claude-lb-provider"], "oa");
    let events = sse_events(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap().0, "message_stop");

    let oa_down = MockUpstream::openai()
        .reply(Reply::status(503))
        .start()
        .await;
    let a = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&config(&[openai("oa", &oa_down), anthropic("a", &a)])).await;
    let response = proxy.messages(body("claude-opus-5-5", true)).await;
    assert_eq!(response.headers()["x-claude-lb-provider"], "a");
    let events = sse_events(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap().0, "message_stop");
    // Claude Code's own model name reached the Anthropic provider, not the OpenAI mapping.
    assert_eq!(
        a.requests()[0].json.as_ref().unwrap()["model"],
        "claude-opus-5-5"
    );
}

#[tokio::test]
async fn an_openai_stream_cut_mid_way_ends_with_an_error_event() {
    let chunk = |content: &str| {
        format!(
            r#"{{"id":"c","object":"chat.completion.chunk","created":1,"model":"x","choices":[{{"index":0,"delta":{{"content":"{content}"}},"finish_reason":null}}]}}"#
        )
    };
    let chunks = [chunk("Hel"), chunk("lo"), chunk(" there")];
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let mock = MockUpstream::openai()
        .reply(Reply::sse_data(&refs).cut_after(2))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[openai("oa", &mock)])).await;
    let response = proxy.messages(body("m", true)).await;
    let events = sse_events(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap().0, "error");
    let text: String = events
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .map(|(_, d)| d["delta"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, "Hello");
}

fn text_chunk(content: &str) -> String {
    format!(
        r#"{{"id":"c","object":"chat.completion.chunk","created":1,"model":"x","choices":[{{"index":0,"delta":{{"content":"{content}"}},"finish_reason":null}}]}}"#
    )
}

const FINISH_CHUNK: &str = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#;

/// One streaming request through a proxy in front of one OpenAI-type provider that answers
/// with `reply`: the events the client got and how long the answer took.
struct Streamed {
    events: Vec<(String, serde_json::Value)>,
    took: std::time::Duration,
    proxy: Proxy,
    _mock: MockHandle,
}

async fn stream_through(reply: Reply) -> Streamed {
    let mock = MockUpstream::openai().reply(reply).start().await;
    let proxy = Proxy::start(&config(&[openai("oa", &mock)])).await;
    let started = tokio::time::Instant::now();
    let response = proxy.messages(body("m", true)).await;
    let events = sse_events(&response.text().await.unwrap());
    Streamed {
        events,
        took: started.elapsed(),
        proxy,
        _mock: mock,
    }
}

#[tokio::test]
async fn a_translated_stream_stalled_mid_way_gets_pings_then_fails_at_the_idle_timeout() {
    let first = text_chunk("Hel");
    let streamed =
        stream_through(Reply::sse_data(&[first.as_str(), "never sent"]).stall_after(1)).await;
    let events = &streamed.events;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"ping"), "pings while silent: {names:?}");
    let (last, data) = events.last().unwrap();
    assert_eq!(last, "error", "{names:?}");
    assert!(
        data["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing for 2s")
    );
    assert!(
        streamed.took < std::time::Duration::from_secs(5),
        "the pings must not keep the stall alive"
    );
    assert_eq!(streamed.proxy.provider("oa").await["state"], "cooling_down");
}

#[tokio::test]
async fn an_error_chunk_after_the_first_content_keeps_its_type_and_words() {
    let first = text_chunk("Hel");
    let overloaded = r#"{"error":{"message":"The model is overloaded","type":"overloaded_error"}}"#;
    let streamed = stream_through(Reply::sse_data(&[first.as_str(), overloaded])).await;
    let (last, data) = streamed.events.last().unwrap();
    assert_eq!(last, "error");
    assert_eq!(data["error"]["type"], "overloaded_error", "{data}");
    assert_eq!(data["error"]["message"], "The model is overloaded");
    assert_eq!(streamed.proxy.provider("oa").await["state"], "cooling_down");
    // The request's own fault: its type, and no cooldown.
    let invalid =
        r#"{"error":{"message":"tool schema is invalid","type":"invalid_request_error"}}"#;
    let streamed = stream_through(Reply::sse_data(&[first.as_str(), invalid])).await;
    let (last, data) = streamed.events.last().unwrap();
    assert_eq!(last, "error");
    assert_eq!(data["error"]["type"], "invalid_request_error", "{data}");
    assert_eq!(streamed.proxy.provider("oa").await["state"], "available");
}

#[tokio::test]
async fn keep_alive_comments_mid_stream_neither_stop_the_pings_nor_the_idle_timeout() {
    // A provider that goes on sending `: keep-alive` comments (OpenRouter's
    // `: OPENROUTER PROCESSING`) after its first content, 200 ms apart for 6 s: the client
    // hears nothing of them, so it gets pings, and the stream fails at the 2 s idle timeout
    // instead of lasting as long as the comments do.
    let first = text_chunk("Hel");
    let mut chunks = vec![SseChunk::data(&first)];
    for _ in 0..30 {
        chunks.push(SseChunk::new(": keep-alive\n\n").after(Duration::from_millis(200)));
    }
    let streamed = stream_through(Reply::sse(chunks).stall_after(31)).await;
    let names: Vec<&str> = streamed.events.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"ping"),
        "pings while only comments come: {names:?}"
    );
    let (last, data) = streamed.events.last().unwrap();
    assert_eq!(last, "error", "{names:?}");
    assert!(
        data["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing for 2s"),
        "{data}"
    );
    assert!(
        streamed.took < Duration::from_secs(5),
        "comments must not keep a stalled stream alive: {:?}",
        streamed.took
    );
}

#[tokio::test]
async fn a_translated_stream_with_chunks_closer_than_a_tick_gets_no_pings_and_ends_whole() {
    // Chunks 500 ms apart: half the 1 s tick of a 2 s idle timeout (a margin for a busy
    // machine), so no ping is due, and the stream outlasts the idle timeout after its commit
    // point (3 s) without being silent for it.
    let texts = ["H", "e", "l", "l", "o!"].map(text_chunk);
    let mut lines: Vec<&str> = texts.iter().map(String::as_str).collect();
    lines.extend([FINISH_CHUNK, "[DONE]"]);
    let streamed =
        stream_through(Reply::sse_data(&lines).delay_each(std::time::Duration::from_millis(500)))
            .await;
    let events = &streamed.events;
    assert!(streamed.took > std::time::Duration::from_millis(3400));
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert!(!names.contains(&"ping"), "{names:?}");
    assert_eq!(names.last(), Some(&"message_stop"), "{names:?}");
    let text: String = events
        .iter()
        .filter_map(|(_, data)| data["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Hello!");
}

#[tokio::test]
async fn a_translated_stream_ends_at_done_even_if_the_connection_stays_open() {
    let text = text_chunk("Hello");
    let streamed =
        stream_through(Reply::sse_data(&[text.as_str(), FINISH_CHUNK, "[DONE]"]).stall_after(3))
            .await;
    let events = &streamed.events;
    assert_eq!(events.last().unwrap().0, "message_stop");
    assert!(
        streamed.took < std::time::Duration::from_millis(1500),
        "ends at [DONE], not at the idle timeout"
    );
    assert!(!events.iter().any(|(n, _)| n == "ping"));
    assert_eq!(
        streamed.proxy.provider("oa").await["state"],
        "available",
        "a whole answer blames nobody"
    );
}

#[tokio::test]
async fn a_json_answer_to_a_streaming_request_still_reaches_the_client_as_a_stream() {
    let completion = serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "x",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "Reading it.",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "Read", "arguments": "{\"file_path\":\"main.rs\"}"}}]
        }}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
    });
    let mock = MockUpstream::openai()
        .reply(Reply::json(200, completion))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[openai("oa", &mock)])).await;
    let response = proxy.messages(body("m", true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = sse_events(&response.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(events[2].1["delta"]["text"], "Reading it.");
    assert_eq!(events[4].1["content_block"]["name"], "Read");
    let input: serde_json::Value =
        serde_json::from_str(events[5].1["delta"]["partial_json"].as_str().unwrap()).unwrap();
    assert_eq!(input, serde_json::json!({"file_path": "main.rs"}));
    assert_eq!(events[7].1["delta"]["stop_reason"], "tool_use");
    assert_eq!(events[7].1["usage"]["output_tokens"], 4);
}
