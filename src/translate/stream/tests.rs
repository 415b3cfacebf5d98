use proptest::prelude::*;
use serde_json::{Value, json};

use super::OpenAiToAnthropic;
use crate::translate::TranslateError;
use crate::translate::response::from_openai_with_id;
use crate::translate::testing::{
    delta_chunk, finish_chunk, sse_body, translate_bytes, usage_chunk,
};
use crate::translate::validate::{Outcome, validate};

/// Runs an upstream SSE body through the parser and translator in every chunk size from 1 to
/// 9 bytes and whole; checks that every run gives the same bytes, that they are a well-formed
/// Anthropic stream, and returns the outcome.
#[track_caller]
fn run(upstream: &[u8]) -> Outcome {
    let whole = translate_bytes(upstream, &[upstream.len()]);
    for size in 1..=9 {
        let chunked = translate_bytes(upstream, &[size]);
        assert_eq!(
            String::from_utf8_lossy(&chunked.bytes),
            String::from_utf8_lossy(&whole.bytes),
            "chunks of {size} bytes"
        );
    }
    match validate(&whole.bytes) {
        Ok(outcome) => outcome,
        Err(problem) => panic!(
            "malformed Anthropic stream: {problem}\n{}",
            String::from_utf8_lossy(&whole.bytes)
        ),
    }
}

#[test]
fn worked_example_matches_the_recorded_transcript() {
    // Text, then a tool call, usage after the finish chunk (with this test's id and model).
    let upstream = r#"data: {"id":"chatcmpl-9xYz","object":"chat.completion.chunk","created":1767225600,"model":"deepseek-chat","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}

data: {"id":"chatcmpl-9xYz","object":"chat.completion.chunk","created":1767225600,"model":"deepseek-chat","choices":[{"index":0,"delta":{"content":"I'll list"},"finish_reason":null}]}

data: {"id":"chatcmpl-9xYz","object":"chat.completion.chunk","created":1767225600,"model":"deepseek-chat","choices":[{"index":0,"delta":{"content":" the src directory first."},"finish_reason":null}]}

data: {"id":"chatcmpl-9xYz","object":"chat.completion.chunk","created":1767225600,"model":"deepseek-chat","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_0_5f2c","type":"function","function":{"name":"Bash","arguments":""}}]},"finish_reason":null}]}

data: {"id":"chatcmpl-9xYz","object":"chat.completion.chunk","created":1767225600,"model":"deepseek-chat","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"command\": \"ls -la src\""}}]},"finish_reason":null}]}

data: {"id":"chatcmpl-9xYz","object":"chat.completion.chunk","created":1767225600,"model":"deepseek-chat","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":", \"description\": \"List files in src\"}"}}]},"finish_reason":null}]}

data: {"id":"chatcmpl-9xYz","object":"chat.completion.chunk","created":1767225600,"model":"deepseek-chat","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

data: {"id":"chatcmpl-9xYz","object":"chat.completion.chunk","created":1767225600,"model":"deepseek-chat","choices":[],"usage":{"prompt_tokens":14122,"completion_tokens":58,"total_tokens":14180,"prompt_tokens_details":{"cached_tokens":12288}}}

data: [DONE]

"#;
    let expect = r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_test","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I'll list"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the src directory first."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_0_5f2c","name":"Bash","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"command\": \"ls -la src\""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":", \"description\": \"List files in src\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":1834,"cache_creation_input_tokens":0,"cache_read_input_tokens":12288,"output_tokens":58}}

event: message_stop
data: {"type":"message_stop"}

"#;
    let got = translate_bytes(upstream.as_bytes(), &[upstream.len()]);
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(String::from_utf8(got.bytes).expect("utf-8"), expect);
    run(upstream.as_bytes());
}

#[test]
fn deepseek_reasoning_content_and_cache_hit_tokens() {
    let upstream = sse_body(
        &[
            delta_chunk(json!({"role": "assistant", "content": null, "reasoning_content": ""})),
            delta_chunk(json!({"content": null, "reasoning_content": "The user"})),
            delta_chunk(json!({"content": null, "reasoning_content": " wants files."})),
            delta_chunk(json!({"content": "Here", "reasoning_content": null})),
            delta_chunk(json!({"content": " they are."})),
            finish_chunk(
                "stop",
                Some(
                    json!({"prompt_tokens": 1000, "completion_tokens": 40, "prompt_cache_hit_tokens": 600, "prompt_cache_miss_tokens": 400}),
                ),
            ),
        ],
        true,
    );
    let message = run(&upstream).message();
    assert_eq!(
        message["content"],
        json!([
            {"type": "thinking", "thinking": "The user wants files.", "signature": ""},
            {"type": "text", "text": "Here they are."},
        ])
    );
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(
        message["usage"],
        json!({"input_tokens": 400, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 600, "output_tokens": 40})
    );
}

#[test]
fn openrouter_reasoning_comments_and_usage_in_finish_chunk() {
    let mut upstream = b": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\n".to_vec();
    let chunks = [
        // OpenRouter sends the same reasoning in `reasoning` and `reasoning_details`.
        delta_chunk(
            json!({"role": "assistant", "content": "", "reasoning": "Think", "reasoning_details": [{"type": "reasoning.text", "text": "Think", "format": "unknown", "index": 0}]}),
        ),
        delta_chunk(
            json!({"content": "", "reasoning": "ing.", "reasoning_details": [{"type": "reasoning.text", "text": "ing.", "index": 0}]}),
        ),
        delta_chunk(
            json!({"content": "", "reasoning": null, "reasoning_details": [{"type": "reasoning.text", "text": " More."}]}),
        ),
        delta_chunk(json!({"content": "Answer."})),
        finish_chunk(
            "stop",
            Some(
                json!({"prompt_tokens": 50, "completion_tokens": 9, "total_tokens": 59, "prompt_tokens_details": {"cached_tokens": 0}}),
            ),
        ),
    ];
    for chunk in &chunks {
        upstream.extend_from_slice(
            format!("data: {chunk}\r\n\r\n: OPENROUTER PROCESSING\r\n\r\n").as_bytes(),
        );
    }
    upstream.extend_from_slice(b"data: [DONE]\r\n\r\n");
    let message = run(&upstream).message();
    assert_eq!(
        message["content"],
        json!([
            {"type": "thinking", "thinking": "Thinking. More.", "signature": ""},
            {"type": "text", "text": "Answer."},
        ])
    );
    assert_eq!(message["usage"]["input_tokens"], 50);
    assert_eq!(message["usage"]["output_tokens"], 9);
}

#[test]
fn ollama_whole_tool_call_in_one_chunk_with_stop_and_no_usage() {
    let upstream = sse_body(
        &[
            delta_chunk(json!({"role": "assistant", "content": "", "tool_calls": [
                {"id": "call_abc", "index": 0, "type": "function", "function": {"name": "Read", "arguments": "{\"file_path\":\"/tmp/a.rs\"}"}},
                {"id": "call_def", "index": 1, "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\"}"}},
            ]})),
            finish_chunk("stop", None),
        ],
        true,
    );
    let message = run(&upstream).message();
    assert_eq!(
        message["content"],
        json!([
            {"type": "tool_use", "id": "call_abc", "name": "Read", "input": {"file_path": "/tmp/a.rs"}},
            {"type": "tool_use", "id": "call_def", "name": "Bash", "input": {"command": "ls"}},
        ])
    );
    assert_eq!(message["stop_reason"], "tool_use");
    assert_eq!(
        message["usage"],
        json!({"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0})
    );
}

/// Splits `text` into pieces of 1, 2, 3, 1, 2, 3, … characters.
fn small_pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut pieces = Vec::new();
    let mut i = 0;
    let mut n = 1;
    while i < chars.len() {
        let end = (i + n).min(chars.len());
        pieces.push(chars[i..end].iter().collect());
        i = end;
        n = n % 3 + 1;
    }
    pieces
}

#[test]
fn argument_fragments_of_one_to_three_characters() {
    let args = r#"{"command":"grep -rn \"fn main\" src/ | head","description":"Find main — 日本"}"#;
    let mut chunks = vec![delta_chunk(
        json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "Bash", "arguments": ""}}]}),
    )];
    for piece in small_pieces(args) {
        chunks.push(delta_chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
        ));
    }
    chunks.push(finish_chunk("tool_calls", None));
    let message = run(&sse_body(&chunks, true)).message();
    let expected: Value = serde_json::from_str(args).expect("json");
    assert_eq!(message["content"][0]["input"], expected);
    assert_eq!(message["content"].as_array().map(Vec::len), Some(1));
}

#[test]
fn two_parallel_calls_interleaved_by_index() {
    let a = r#"{"file_path":"/a.rs"}"#;
    let b = r#"{"pattern":"TODO","path":"src"}"#;
    let mut chunks = vec![
        delta_chunk(json!({"content": "Looking."})),
        delta_chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "Read", "arguments": ""}}]}),
        ),
        delta_chunk(
            json!({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "Grep", "arguments": ""}}]}),
        ),
    ];
    let (pa, pb) = (small_pieces(a), small_pieces(b));
    for i in 0..pa.len().max(pb.len()) {
        if let Some(p) = pb.get(i) {
            chunks.push(delta_chunk(
                json!({"tool_calls": [{"index": 1, "function": {"arguments": p}}]}),
            ));
        }
        if let Some(p) = pa.get(i) {
            chunks.push(delta_chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}),
            ));
        }
    }
    chunks.push(finish_chunk("tool_calls", None));
    let message = run(&sse_body(&chunks, true)).message();
    assert_eq!(
        message["content"],
        json!([
            {"type": "text", "text": "Looking."},
            {"type": "tool_use", "id": "call_a", "name": "Read", "input": {"file_path": "/a.rs"}},
            {"type": "tool_use", "id": "call_b", "name": "Grep", "input": {"pattern": "TODO", "path": "src"}},
        ])
    );
}

#[test]
fn multi_byte_text_split_across_deltas_and_bytes() {
    let text = "Héllo wörld — 日本語のテキスト 🎉🦀 done";
    let mut chunks: Vec<Value> = small_pieces(text)
        .into_iter()
        .map(|p| delta_chunk(json!({"content": p})))
        .collect();
    chunks.push(finish_chunk("stop", None));
    let message = run(&sse_body(&chunks, true)).message();
    assert_eq!(message["content"], json!([{"type": "text", "text": text}]));
}

#[test]
fn cumulative_argument_snapshots_are_reduced_to_new_text() {
    let args = r#"{"command":"cargo test"}"#;
    let mut chunks = vec![delta_chunk(
        json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "Bash"}}]}),
    )];
    for end in [5, 12, 20, args.len(), args.len()] {
        chunks.push(delta_chunk(json!({"tool_calls": [{"index": 0, "id": "call_1", "function": {"arguments": &args[..end]}}]})));
    }
    chunks.push(finish_chunk("tool_calls", None));
    let message = run(&sse_body(&chunks, true)).message();
    assert_eq!(
        message["content"][0]["input"],
        json!({"command": "cargo test"})
    );
}

#[test]
fn parallel_calls_reported_under_one_index_with_different_ids() {
    let chunks = vec![
        delta_chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_x", "type": "function", "function": {"name": "Read", "arguments": "{\"file_path\":\"/x\"}"}}]}),
        ),
        delta_chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_y", "type": "function", "function": {"name": "Read", "arguments": "{\"file_path\":"}}]}),
        ),
        delta_chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"/y\"}"}}]})),
        finish_chunk("tool_calls", None),
    ];
    let message = run(&sse_body(&chunks, true)).message();
    assert_eq!(message["content"][0]["id"], "call_x");
    assert_eq!(message["content"][1]["id"], "call_y");
    assert_eq!(message["content"][1]["input"], json!({"file_path": "/y"}));
}

#[test]
fn missing_index_missing_id_and_foreign_ids() {
    let chunks = vec![
        delta_chunk(json!({"tool_calls": [
            {"type": "function", "function": {"name": "A", "arguments": "{}"}},
            {"id": "functions.Bash:1", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\"}"}},
        ]})),
        finish_chunk("tool_calls", None),
    ];
    let message = run(&sse_body(&chunks, true)).message();
    assert_eq!(message["content"][0]["id"], "toolu_test_0");
    assert_eq!(message["content"][1]["id"], "functions_Bash_1");
}

#[test]
fn tool_without_arguments_gets_an_empty_object_and_nameless_calls_are_dropped() {
    let chunks = vec![
        delta_chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "TodoRead"}}]}),
        ),
        delta_chunk(
            json!({"tool_calls": [{"index": 1, "id": "call_2", "type": "function", "function": {"arguments": "{}"}}]}),
        ),
        finish_chunk("tool_calls", None),
    ];
    let upstream = sse_body(&chunks, true);
    let message = run(&upstream).message();
    assert_eq!(
        message["content"],
        json!([{"type": "tool_use", "id": "call_1", "name": "TodoRead", "input": {}}])
    );
    let mut translator = OpenAiToAnthropic::new("m", "msg_1".to_owned());
    let mut out = Vec::new();
    for chunk in &chunks {
        translator.push(&chunk.to_string(), &mut out).expect("push");
    }
    assert_eq!(translator.dropped_tool_calls(), 1);
    let text = String::from_utf8(out).expect("utf-8");
    assert!(text.contains(r#""partial_json":"{}""#), "{text}");
}

#[test]
fn tool_arguments_are_bounded_even_for_a_call_that_never_gets_a_name() {
    let limit = crate::limits::MAX_TOOL_ARGUMENTS;
    // Two different pieces in turn, so that neither looks like a snapshot of what came before.
    let pieces = ["a".repeat(64 * 1024), "b".repeat(64 * 1024)];
    let chunks = pieces.clone().map(|piece| {
        delta_chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"arguments": piece}}]}),
        )
        .to_string()
    });
    let piece = &pieces[0];
    let chunk = &chunks[0];
    let mut translator = OpenAiToAnthropic::new("m", "msg_1".to_owned());
    let mut out = Vec::new();
    let mut sent = 0usize;
    let error = loop {
        match translator.push(&chunks[(sent / piece.len()) % 2], &mut out) {
            Ok(()) => sent += piece.len(),
            Err(error) => break error,
        }
        assert!(
            sent <= limit,
            "{sent} bytes of arguments taken past the bound"
        );
    };
    assert!(
        matches!(error, TranslateError::ToolArgumentsTooLarge { limit: l } if l == limit),
        "{error:?}"
    );
    assert!(error.to_string().contains("16 MiB"), "{error}");
    assert!(sent + piece.len() > limit);
    // Nothing more is written after the failure but the error event.
    let mark = out.len();
    translator.push(chunk, &mut out).expect("ignored");
    assert_eq!(out.len(), mark);
}

#[test]
fn arguments_cut_by_length_are_closed_so_they_parse() {
    let chunks = vec![
        delta_chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "Write", "arguments": "{\"file_path\":\"/a\",\"content\":\"fn main() {"}}]}),
        ),
        finish_chunk("length", None),
    ];
    let message = run(&sse_body(&chunks, true)).message();
    assert_eq!(message["stop_reason"], "max_tokens");
    assert_eq!(
        message["content"][0]["input"],
        json!({"file_path": "/a", "content": "fn main() {"})
    );
}

#[test]
fn text_after_a_tool_call_opens_a_new_block_and_late_reasoning_is_dropped() {
    let chunks = vec![
        delta_chunk(json!({"content": "First."})),
        delta_chunk(json!({"reasoning_content": "too late"})),
        delta_chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\"}"}}]}),
        ),
        delta_chunk(json!({"content": "Then."})),
        finish_chunk("stop", None),
    ];
    let message = run(&sse_body(&chunks, true)).message();
    let types: Vec<&str> = message["content"]
        .as_array()
        .expect("array")
        .iter()
        .map(|b| b["type"].as_str().expect("type"))
        .collect();
    assert_eq!(types, ["text", "tool_use", "text"]);
    assert_eq!(message["stop_reason"], "tool_use");
    let mut translator = OpenAiToAnthropic::new("m", "msg_1".to_owned());
    let mut out = Vec::new();
    for chunk in &chunks {
        translator.push(&chunk.to_string(), &mut out).expect("push");
    }
    assert_eq!(translator.dropped_reasoning_bytes(), "too late".len());
}

#[test]
fn commit_point_is_the_first_content_block() {
    let mut translator = OpenAiToAnthropic::new("m", "msg_1".to_owned());
    let mut out = Vec::new();
    translator
        .push(
            &delta_chunk(json!({"role": "assistant", "content": ""})).to_string(),
            &mut out,
        )
        .expect("push");
    assert!(!translator.committed());
    assert!(String::from_utf8_lossy(&out).starts_with("event: message_start\n"));
    translator
        .push(": not json but ignored\n", &mut out)
        .expect_err("garbage is an error");
    let mut translator = OpenAiToAnthropic::new("m", "msg_1".to_owned());
    let mut out = Vec::new();
    translator
        .push(&delta_chunk(json!({"content": "x"})).to_string(), &mut out)
        .expect("push");
    assert!(translator.committed());
}

#[test]
fn error_chunk_writes_nothing_and_write_error_ends_the_stream() {
    // Before anything: the caller can fail over, nothing was written.
    let mut translator = OpenAiToAnthropic::new("m", "msg_1".to_owned());
    let mut out = Vec::new();
    let err = translator
        .push(
            r#"{"error":{"message":"Rate limited","code":429}}"#,
            &mut out,
        )
        .expect_err("error chunk");
    assert!(out.is_empty());
    assert!(matches!(
        err,
        TranslateError::UpstreamError { status: 429, ref error_type, .. } if error_type == "rate_limit_error"
    ));

    // After commit: the caller writes the error event; nothing follows it.
    let mut translator = OpenAiToAnthropic::new("m", "msg_1".to_owned());
    let mut out = Vec::new();
    translator
        .push(
            &delta_chunk(json!({"content": "partial"})).to_string(),
            &mut out,
        )
        .expect("push");
    let before = out.len();
    let err = translator
        .push(
            r#"{"error":{"message":"The server had an error","type":"server_error"},"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"error"}]}"#,
            &mut out,
        )
        .expect_err("error chunk");
    assert_eq!(out.len(), before);
    let (_, error_type, message) = err.to_anthropic();
    assert_eq!(error_type, "api_error");
    translator.write_error(error_type, &message, &mut out);
    translator.write_error("api_error", "again", &mut out);
    translator
        .push(
            &delta_chunk(json!({"content": "more"})).to_string(),
            &mut out,
        )
        .expect("ignored");
    translator.finish(&mut out).expect("ignored");
    match validate(&out).expect("well formed") {
        Outcome::Error {
            error_type,
            message,
            partial,
        } => {
            assert_eq!(error_type, "api_error");
            assert_eq!(message, "The server had an error");
            assert_eq!(partial["content"][0]["text"], "partial");
        }
        Outcome::Message(m) => panic!("expected an error, got {m}"),
    }
    assert_eq!(
        String::from_utf8_lossy(&out)
            .matches("event: error")
            .count(),
        1
    );
}

#[test]
fn vllm_error_objects_and_failure_finish_reasons_are_errors() {
    let mut translator = OpenAiToAnthropic::new("m", "msg_1".to_owned());
    let mut out = Vec::new();
    let err = translator
        .push(
            r#"{"object":"error","message":"engine dead","type":"InternalServerError","code":500}"#,
            &mut out,
        )
        .expect_err("error");
    assert!(
        matches!(err, TranslateError::UpstreamError { ref message, .. } if message == "engine dead")
    );

    let mut translator = OpenAiToAnthropic::new("m", "msg_1".to_owned());
    let mut out = Vec::new();
    let mut chunk = delta_chunk(json!({"content": "x"}));
    chunk["choices"][0]["finish_reason"] = json!("insufficient_system_resource");
    let err = translator
        .push(&chunk.to_string(), &mut out)
        .expect_err("error");
    assert!(out.is_empty());
    assert!(!translator.committed(), "nothing reached the client");
    assert!(matches!(
        err,
        TranslateError::UpstreamError { status: 529, .. }
    ));
}

#[test]
fn a_stream_without_finish_reason_is_truncated_not_end_turn() {
    let chunks = [delta_chunk(json!({"content": "half an ans"}))];
    for done in [false, true] {
        let got = translate_bytes(&sse_body(&chunks, done), &[7]);
        assert!(
            matches!(got.error, Some(TranslateError::Truncated)),
            "done={done}"
        );
        let outcome = validate(&got.bytes).expect("well formed");
        assert!(
            matches!(outcome, Outcome::Error { .. }),
            "done={done}: {outcome:?}"
        );
        assert!(!String::from_utf8_lossy(&got.bytes).contains("end_turn"));
    }
    // And `finish` itself writes nothing when it fails.
    let mut translator = OpenAiToAnthropic::new("m", "msg_1".to_owned());
    let mut out = Vec::new();
    translator
        .push(&chunks[0].to_string(), &mut out)
        .expect("push");
    let before = out.len();
    assert!(matches!(
        translator.finish(&mut out),
        Err(TranslateError::Truncated)
    ));
    assert_eq!(out.len(), before);
}

#[test]
fn nothing_is_written_after_message_stop() {
    let mut translator = OpenAiToAnthropic::new("m", "msg_1".to_owned());
    let mut out = Vec::new();
    translator
        .push(&finish_chunk("stop", None).to_string(), &mut out)
        .expect("push");
    translator.push("[DONE]", &mut out).expect("done");
    assert!(translator.is_ended());
    let len = out.len();
    translator
        .push(
            &delta_chunk(json!({"content": "late"})).to_string(),
            &mut out,
        )
        .expect("ignored");
    translator.finish(&mut out).expect("idempotent");
    translator.write_error("api_error", "late", &mut out);
    assert_eq!(out.len(), len);
    // Zero content blocks are fine when a stop_reason is set.
    let message = validate(&out).expect("well formed").message();
    assert_eq!(message["content"], json!([]));
    assert_eq!(message["stop_reason"], "end_turn");
}

#[test]
fn ping_is_a_valid_event() {
    let mut out = Vec::new();
    OpenAiToAnthropic::write_ping(&mut out);
    assert_eq!(out, b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
}

/// A generated upstream answer, rendered both as a non-streaming response and as a stream.
#[derive(Debug, Clone)]
struct Answer {
    reasoning: Option<String>,
    text: Option<String>,
    tools: Vec<(String, Value, bool)>,
    finish: &'static str,
    usage: Option<(u64, u64, u64)>,
}

#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools, reason = "independent upstream quirks")]
struct Style {
    reasoning_field: usize,
    usage_in_finish: bool,
    done: bool,
    crlf: bool,
    comments: bool,
    cumulative: bool,
    interleave: bool,
    id_every_fragment: bool,
    piece_sizes: Vec<usize>,
    byte_chunks: Vec<usize>,
}

fn arb_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,\"\\\\\n\t{}é日本🎉—]{1,40}"
}

fn arb_args() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(
        "[a-z_]{1,6}",
        prop_oneof![
            "[a-zA-Z0-9 ./\"\\\\\néü日🎉-]{0,20}".prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
        ],
        0..4,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn arb_answer() -> impl Strategy<Value = Answer> {
    (
        proptest::option::of(arb_text()),
        proptest::option::of(arb_text()),
        proptest::collection::vec(("[A-Z][a-z]{1,8}", arb_args(), any::<bool>()), 0..4),
        0..3usize,
        proptest::option::of((0..100_000u64, 0..50_000u64, 0..5000u64)),
    )
        .prop_map(|(reasoning, text, tools, finish, usage)| {
            let finish = match (tools.is_empty(), finish) {
                (false, 0) => "tool_calls",
                (true, 0) | (_, 1) => "stop",
                _ => "length",
            };
            Answer {
                reasoning,
                text,
                tools,
                finish,
                usage: usage.map(|(p, c, cached)| (p + cached, c, cached)),
            }
        })
}

fn arb_style() -> impl Strategy<Value = Style> {
    (
        (
            0..3usize,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        proptest::collection::vec(1..6usize, 1..8),
        proptest::collection::vec(1..200usize, 1..8),
    )
        .prop_map(
            |(
                (reasoning_field, usage_in_finish, done, crlf, comments),
                (cumulative, interleave, id_every_fragment),
                piece_sizes,
                byte_chunks,
            )| Style {
                reasoning_field,
                usage_in_finish,
                done,
                crlf,
                comments,
                cumulative,
                interleave,
                id_every_fragment,
                piece_sizes,
                byte_chunks,
            },
        )
}

fn usage_json(usage: (u64, u64, u64)) -> Value {
    json!({"prompt_tokens": usage.0, "completion_tokens": usage.1, "total_tokens": usage.0 + usage.1, "prompt_tokens_details": {"cached_tokens": usage.2}})
}

fn non_streaming(answer: &Answer) -> Value {
    let mut message = json!({"role": "assistant", "content": answer.text});
    if let Some(reasoning) = &answer.reasoning {
        message["reasoning_content"] = json!(reasoning);
    }
    if !answer.tools.is_empty() {
        message["tool_calls"] = answer
            .tools
            .iter()
            .enumerate()
            .map(|(i, (name, args, has_id))| {
                let mut call = json!({"type": "function", "function": {"name": name, "arguments": args.to_string()}});
                if *has_id {
                    call["id"] = json!(format!("call_{i}"));
                }
                call
            })
            .collect();
    }
    let mut response = json!({"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": answer.finish}]});
    if let Some(usage) = answer.usage {
        response["usage"] = usage_json(usage);
    }
    response
}

/// Cuts `text` into pieces whose character counts cycle through `sizes`.
fn pieces(text: &str, sizes: &[usize]) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut n = 0;
    while i < chars.len() {
        let end = (i + sizes[n % sizes.len()]).min(chars.len());
        out.push(chars[i..end].iter().collect());
        i = end;
        n += 1;
    }
    out
}

fn streaming(answer: &Answer, style: &Style) -> Vec<u8> {
    let mut chunks = vec![delta_chunk(json!({"role": "assistant", "content": ""}))];
    if let Some(reasoning) = &answer.reasoning {
        for piece in pieces(reasoning, &style.piece_sizes) {
            chunks.push(delta_chunk(match style.reasoning_field {
                0 => json!({"reasoning_content": piece, "content": null}),
                1 => json!({"reasoning": piece, "reasoning_details": [{"type": "reasoning.text", "text": piece}]}),
                _ => json!({"reasoning_details": [{"type": "reasoning.text", "text": piece}]}),
            }));
        }
    }
    if let Some(text) = &answer.text {
        for piece in pieces(text, &style.piece_sizes) {
            chunks.push(delta_chunk(json!({"content": piece})));
        }
    }
    let mut per_tool: Vec<Vec<Value>> = Vec::new();
    for (i, (name, args, has_id)) in answer.tools.iter().enumerate() {
        let id = has_id.then(|| format!("call_{i}"));
        let mut fragments = vec![
            json!({"index": i, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}),
        ];
        let mut so_far = String::new();
        for piece in pieces(&args.to_string(), &style.piece_sizes) {
            so_far.push_str(&piece);
            let arguments = if style.cumulative {
                so_far.clone()
            } else {
                piece
            };
            let mut fragment = json!({"index": i, "function": {"arguments": arguments}});
            if style.id_every_fragment && *has_id {
                fragment["id"] = json!(format!("call_{i}"));
            }
            fragments.push(fragment);
        }
        per_tool.push(fragments);
    }
    if style.interleave {
        let longest = per_tool.iter().map(Vec::len).max().unwrap_or(0);
        for j in 0..longest {
            for fragments in &per_tool {
                if let Some(f) = fragments.get(j) {
                    chunks.push(delta_chunk(json!({"tool_calls": [f]})));
                }
            }
        }
    } else {
        for fragment in per_tool.into_iter().flatten() {
            chunks.push(delta_chunk(json!({"tool_calls": [fragment]})));
        }
    }
    let usage = answer.usage.map(usage_json);
    if style.usage_in_finish {
        chunks.push(finish_chunk(answer.finish, usage));
    } else {
        chunks.push(finish_chunk(answer.finish, None));
        if let Some(usage) = usage {
            chunks.push(usage_chunk(usage));
        }
    }
    let nl = if style.crlf { "\r\n" } else { "\n" };
    let mut body = Vec::new();
    for chunk in &chunks {
        if style.comments {
            body.extend_from_slice(format!(": OPENROUTER PROCESSING{nl}{nl}").as_bytes());
        }
        body.extend_from_slice(format!("data: {chunk}{nl}{nl}").as_bytes());
    }
    if style.done {
        body.extend_from_slice(format!("data: [DONE]{nl}{nl}").as_bytes());
    }
    body
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_chunking_of_a_valid_stream_reassembles_to_the_non_streaming_message(
        answer in arb_answer(),
        style in arb_style(),
    ) {
        let upstream = streaming(&answer, &style);
        let translated = translate_bytes(&upstream, &style.byte_chunks);
        prop_assert!(translated.error.is_none(), "error: {:?}", translated.error);
        let outcome = validate(&translated.bytes).map_err(|e| {
            TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&translated.bytes)))
        })?;
        let Outcome::Message(streamed) = outcome else {
            return Err(TestCaseError::fail(format!("error outcome: {outcome:?}")));
        };
        let body = non_streaming(&answer).to_string();
        let expected: Value = serde_json::from_slice(
            &from_openai_with_id(body.as_bytes(), "claude-sonnet-4-5", "msg_test".to_owned())
                .map_err(|e| TestCaseError::fail(e.to_string()))?,
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(streamed, expected);
    }
}

#[test]
fn a_whole_message_becomes_a_well_formed_stream_of_the_same_message() {
    let message = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-opus-5-5",
        "content": [
            {"type": "thinking", "thinking": "Look first.", "signature": ""},
            {"type": "text", "text": "Reading é ✓."},
            {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "a.rs"}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 9, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2, "output_tokens": 4}
    });
    let mut out = Vec::new();
    super::events_from_message(message.to_string().as_bytes(), &mut out).unwrap();
    let outcome = validate(&out).unwrap();
    assert_eq!(outcome.message(), message);
}
