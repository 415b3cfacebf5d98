use serde_json::{Value, json};

use super::{from_openai, from_openai_with_id};
use crate::translate::TranslateError;

fn translate(response: &Value) -> Value {
    let body = from_openai_with_id(
        response.to_string().as_bytes(),
        "claude-sonnet-4-5",
        "msg_t".to_owned(),
    )
    .expect("translates");
    serde_json::from_slice(&body).expect("json")
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "cases read better with owned json! literals"
)]
fn response(message: Value, finish: &str, usage: Option<Value>) -> Value {
    let mut r = json!({"id": "chatcmpl-9xYz", "object": "chat.completion", "model": "deepseek-chat",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}]});
    if let Some(usage) = usage {
        r["usage"] = usage;
    }
    r
}

#[test]
fn protocol_6_2_example() {
    let upstream = response(
        json!({"role": "assistant", "content": "I'll list the src directory first.",
               "reasoning_content": "Need to list files.",
               "tool_calls": [{"id": "call_0_5f2c", "type": "function",
                               "function": {"name": "Bash", "arguments": "{\"command\": \"ls -la src\"}"}}]}),
        "tool_calls",
        Some(
            json!({"prompt_tokens": 14122, "completion_tokens": 58, "total_tokens": 14180,
                    "prompt_tokens_details": {"cached_tokens": 12288},
                    "completion_tokens_details": {"reasoning_tokens": 12}}),
        ),
    );
    let body =
        from_openai(upstream.to_string().as_bytes(), "claude-sonnet-4-5").expect("translates");
    let got: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        got,
        json!({
            "id": "msg_chatcmpl-9xYz",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [
                {"type": "thinking", "thinking": "Need to list files.", "signature": ""},
                {"type": "text", "text": "I'll list the src directory first."},
                {"type": "tool_use", "id": "call_0_5f2c", "name": "Bash", "input": {"command": "ls -la src"}},
            ],
            "stop_reason": "tool_use",
            "stop_sequence": null,
            "usage": {"input_tokens": 1834, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 12288, "output_tokens": 58},
        })
    );
}

#[test]
fn finish_reason_to_stop_reason() {
    let text = json!({"content": "x"});
    let tool = json!({"content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "Bash", "arguments": "{}"}}]});
    let cases = [
        (&text, "stop", "end_turn"),
        (&tool, "stop", "tool_use"),
        (&tool, "tool_calls", "tool_use"),
        (&tool, "function_call", "tool_use"),
        (&text, "tool_calls", "end_turn"),
        (&text, "length", "max_tokens"),
        (&text, "content_filter", "refusal"),
        (&text, "eos", "end_turn"),
    ];
    for (message, finish, expect) in cases {
        let got = translate(&response(message.clone(), finish, None));
        assert_eq!(got["stop_reason"], expect, "{finish}");
        assert_eq!(got["stop_sequence"], Value::Null);
    }
    for (finish, expect_type) in [
        ("insufficient_system_resource", "overloaded_error"),
        ("error", "api_error"),
    ] {
        let err = from_openai(
            response(text.clone(), finish, None).to_string().as_bytes(),
            "m",
        )
        .expect_err("failure finish");
        assert!(
            matches!(err, TranslateError::UpstreamError { ref error_type, .. } if error_type == expect_type)
        );
    }
}

#[test]
fn reasoning_sources_and_no_empty_blocks() {
    let cases = [
        (
            json!({"content": "a", "reasoning": "r1"}),
            json!([{"type": "thinking", "thinking": "r1", "signature": ""}, {"type": "text", "text": "a"}]),
        ),
        (
            json!({"content": "a", "reasoning": "same", "reasoning_details": [{"type": "reasoning.text", "text": "same"}]}),
            json!([{"type": "thinking", "thinking": "same", "signature": ""}, {"type": "text", "text": "a"}]),
        ),
        (
            json!({"content": "a", "reasoning_details": [{"type": "reasoning.summary", "summary": "S."}, {"type": "reasoning.encrypted", "data": "xx"}, {"type": "reasoning.text", "text": " T."}]}),
            json!([{"type": "thinking", "thinking": "S. T.", "signature": ""}, {"type": "text", "text": "a"}]),
        ),
        (json!({"content": "", "reasoning_content": ""}), json!([])),
        (
            json!({"content": null, "refusal": "I can't help with that."}),
            json!([{"type": "text", "text": "I can't help with that."}]),
        ),
    ];
    for (message, expect) in cases {
        assert_eq!(
            translate(&response(message.clone(), "stop", None))["content"],
            expect,
            "{message}"
        );
    }
}

#[test]
fn tool_arguments_in_every_shape() {
    let call = |id: Value, args: Value| json!({"id": id, "type": "function", "function": {"name": "T", "arguments": args}});
    let got = translate(&response(
        json!({"content": null, "tool_calls": [
            call(json!("call_1"), json!("{\"a\":1}")),
            call(json!(null), json!("")),
            call(json!("functions.T:2"), json!("{\"path\":\"/x\",\"content\":\"cut")),
            call(json!(""), json!({"already": "object"})),
            call(json!("c5"), json!("not json")),
            {"id": "c6", "type": "function", "function": {"arguments": "{}"}},
        ]}),
        "tool_calls",
        None,
    ));
    assert_eq!(
        got["content"],
        json!([
            {"type": "tool_use", "id": "call_1", "name": "T", "input": {"a": 1}},
            {"type": "tool_use", "id": "toolu_t_1", "name": "T", "input": {}},
            {"type": "tool_use", "id": "functions_T_2", "name": "T", "input": {"path": "/x", "content": "cut"}},
            {"type": "tool_use", "id": "toolu_t_3", "name": "T", "input": {"already": "object"}},
            {"type": "tool_use", "id": "c5", "name": "T", "input": {}},
        ])
    );
}

#[test]
fn usage_mapping_with_cached_tokens() {
    let cases = [
        (
            None,
            json!({"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0}),
        ),
        (
            Some(json!({"prompt_tokens": 100, "completion_tokens": 7})),
            json!({"input_tokens": 100, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 7}),
        ),
        (
            Some(
                json!({"prompt_tokens": 100, "completion_tokens": 7, "prompt_cache_hit_tokens": 64, "prompt_cache_miss_tokens": 36}),
            ),
            json!({"input_tokens": 36, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 64, "output_tokens": 7}),
        ),
        (
            Some(
                json!({"prompt_tokens": 100, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 50, "cache_write_tokens": 20}}),
            ),
            json!({"input_tokens": 30, "cache_creation_input_tokens": 20, "cache_read_input_tokens": 50, "output_tokens": 7}),
        ),
        (
            Some(
                json!({"prompt_tokens": null, "completion_tokens": 3, "prompt_tokens_details": null}),
            ),
            json!({"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 3}),
        ),
    ];
    for (usage, expect) in cases {
        assert_eq!(
            translate(&response(json!({"content": "x"}), "stop", usage.clone()))["usage"],
            expect,
            "{usage:?}"
        );
    }
}

#[test]
fn ids_and_errors() {
    // Without an upstream id the message id is derived from the body, so it is stable.
    let body = br#"{"choices":[{"message":{"content":"x"},"finish_reason":"stop"}]}"#;
    let a: Value = serde_json::from_slice(&from_openai(body, "m").expect("ok")).expect("json");
    let b: Value = serde_json::from_slice(&from_openai(body, "m").expect("ok")).expect("json");
    assert!(a["id"].as_str().expect("id").starts_with("msg_lb_"));
    assert_eq!(a["id"], b["id"]);
    // DeepSeek pads non-streaming bodies with blank lines while queued.
    assert!(
        from_openai(
            b"\n\n\n{\"choices\":[{\"message\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}",
            "m"
        )
        .is_ok()
    );
    assert!(matches!(
        from_openai(br#"{"choices":[]}"#, "m"),
        Err(TranslateError::NoChoices)
    ));
    assert!(matches!(
        from_openai(b"<html>", "m"),
        Err(TranslateError::InvalidResponse(_))
    ));
    let err = from_openai(br#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens","code":"context_length_exceeded"}}"#, "m")
        .expect_err("error body");
    assert!(
        matches!(err, TranslateError::UpstreamError { status: 400, ref message, .. } if message == "prompt is too long: 9000 tokens > 8192 maximum"),
        "{err:?}"
    );
}

#[test]
fn the_id_keeps_only_safe_characters_and_escaped_text_arrives_unescaped_once() {
    // Written by hand: an id with characters a message id may not carry, and text whose JSON
    // has escapes (read into an owned string) next to text without (borrowed from the body).
    let body = br#"{"id":"chat/cmpl 9:x\u00e9","choices":[{"message":{"content":"line\none \"quoted\" \u00e9\ud83d\ude00","reasoning_content":"plain"},"finish_reason":"stop"}]}"#;
    let got: Value =
        serde_json::from_slice(&from_openai(body, "claude-x").expect("translates")).expect("json");
    assert_eq!(got["id"], "msg_chatcmpl9x");
    assert_eq!(got["content"][0]["thinking"], "plain");
    assert_eq!(got["content"][1]["text"], "line\none \"quoted\" é😀");
    // An id with nothing safe in it is replaced by one derived from the body.
    let body = br#"{"id":"//","choices":[{"message":{"content":"x"},"finish_reason":"stop"}]}"#;
    let got: Value =
        serde_json::from_slice(&from_openai(body, "claude-x").expect("translates")).expect("json");
    assert!(
        got["id"].as_str().expect("id").starts_with("msg_lb_"),
        "{got}"
    );
}
