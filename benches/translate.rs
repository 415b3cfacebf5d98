//! Benchmarks of the translation hot path: a Claude Code-sized request to OpenAI, and an
//! OpenAI stream back to Anthropic events (with and without the SSE parser).

use std::fmt::Write as _;
use std::hint::black_box;

use claude_lb::sse::SseParser;
use claude_lb::translate::request::{ReasoningStyle, RequestOptions, to_openai};
use claude_lb::translate::response::from_openai;
use claude_lb::translate::stream::OpenAiToAnthropic;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

/// A first-turn Claude Code request as docs/claude-code.md#request-body describes it: the
/// attribution block and a long system prompt, 12 tools with about 32 KB of JSON, a few turns
/// with a tool call and its result, thinking and `output_config`.
fn claude_code_request() -> Vec<u8> {
    let para = "When the user asks for a change, read the relevant files first, keep the existing \
                style, prefer small focused edits, and run the tests before reporting back. ";
    let tool_names = [
        "Bash",
        "Read",
        "Edit",
        "Write",
        "Glob",
        "Grep",
        "Task",
        "TodoWrite",
        "WebFetch",
        "NotebookEdit",
        "mcp__github__create_pull_request",
        "mcp__fs__list_directory",
    ];
    let tools: Vec<Value> = tool_names
        .iter()
        .map(|name| {
            let mut properties = serde_json::Map::new();
            for p in 0..8 {
                properties.insert(
                    format!("param_{p}"),
                    json!({"type": "string", "description": format!("Parameter {p} of {name}. {}", &para[..120])}),
                );
            }
            json!({
                "name": name,
                "description": para.repeat(8),
                "input_schema": {"type": "object", "properties": properties, "required": ["param_0"],
                                 "additionalProperties": false, "$schema": "http://json-schema.org/draft-07/schema#"},
            })
        })
        .collect();
    let request = json!({
        "model": "claude-opus-5-5",
        "max_tokens": 32000,
        "stream": true,
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332.a1b; cc_entrypoint=cli;"},
            {"type": "text", "text": format!("You are Claude Code, an interactive CLI tool. {}", para.repeat(60)), "cache_control": {"type": "ephemeral"}},
        ],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What is in src? Then fix the failing test in tests/it/translate.rs."}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "I should list the directory first.", "signature": "EqQBCgIYAhIM"},
                {"type": "text", "text": "I'll list the src directory first."},
                {"type": "tool_use", "id": "toolu_01Vb7mJc2QeZt5RkYw9nHs4a", "name": "Bash", "input": {"command": "ls -la src", "description": "List files in src"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01Vb7mJc2QeZt5RkYw9nHs4a", "content": "total 64\n-rw-r--r-- main.rs\n-rw-r--r-- lib.rs\n".repeat(20), "is_error": false, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "<system-reminder>Todo list is empty.</system-reminder>"},
            ]},
            {"role": "system", "content": "Mid-conversation instruction.", "output_config": {"effort": "low"}},
        ],
        "tools": tools,
        "tool_choice": {"type": "auto"},
        "thinking": {"type": "adaptive", "display": "omitted"},
        "output_config": {"effort": "medium"},
        "context_management": {"edits": []},
        "metadata": {"user_id": "{\"device_id\":\"3f9c\",\"account_uuid\":\"\",\"session_id\":\"5b0e\"}"},
    });
    request.to_string().into_bytes()
}

/// The `data` payloads of a realistic OpenRouter-style stream: reasoning, a long text answer in
/// small deltas, a tool call whose arguments arrive in small fragments, finish and usage.
fn stream_payloads() -> Vec<String> {
    let chunk = |delta: Value| {
        json!({"id": "gen-1", "object": "chat.completion.chunk", "model": "deepseek/deepseek-chat",
               "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
        .to_string()
    };
    let mut payloads = vec![chunk(json!({"role": "assistant", "content": ""}))];
    for i in 0..50 {
        payloads.push(chunk(json!({"reasoning": format!("step {i} of thinking "), "reasoning_details": [{"type": "reasoning.text", "text": format!("step {i} of thinking ")}]})));
    }
    for i in 0..300 {
        payloads.push(chunk(json!({"content": format!(" token{i} — é")})));
    }
    payloads.push(chunk(json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "Edit", "arguments": ""}}]})));
    let args = json!({"file_path": "/src/translate/stream.rs", "old_string": "fn a() {}\n".repeat(30), "new_string": "fn b() {}\n".repeat(30)}).to_string();
    let chars: Vec<char> = args.chars().collect();
    for piece in chars.chunks(7) {
        let piece: String = piece.iter().collect();
        payloads.push(chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
        ));
    }
    payloads.push(json!({"id": "gen-1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 14122, "completion_tokens": 900, "prompt_tokens_details": {"cached_tokens": 12288}}}).to_string());
    payloads.push("[DONE]".to_owned());
    payloads
}

fn sse_bytes(payloads: &[String]) -> Vec<u8> {
    let mut body = String::new();
    for (i, p) in payloads.iter().enumerate() {
        if i % 20 == 0 {
            body.push_str(": OPENROUTER PROCESSING\n\n");
        }
        // unwrap: writing to a String cannot fail.
        write!(body, "data: {p}\n\n").expect("write to string");
    }
    body.into_bytes()
}

fn bench_request(c: &mut Criterion) {
    let body = claude_code_request();
    let opts = RequestOptions {
        model: "deepseek-chat",
        max_tokens_cap: Some(8192),
        reasoning: ReasoningStyle::DeepSeek,
    };
    let mut group = c.benchmark_group("request");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function(format!("to_openai_{}kb", body.len() / 1024), |b| {
        b.iter(|| to_openai(black_box(&body), &opts).expect("translates"));
    });
    group.finish();
}

fn bench_stream(c: &mut Criterion) {
    let payloads = stream_payloads();
    let bytes = sse_bytes(&payloads);
    let mut group = c.benchmark_group("stream");
    group.throughput(Throughput::Elements(payloads.len() as u64));
    group.bench_function(format!("translate_{}_chunks", payloads.len()), |b| {
        b.iter(|| {
            let mut translator = OpenAiToAnthropic::new("claude-opus-5-5", "msg_bench".to_owned());
            let mut out = Vec::with_capacity(64 * 1024);
            for p in &payloads {
                translator.push(black_box(p), &mut out).expect("translates");
            }
            out
        });
    });
    group.bench_function(
        format!(
            "parse_and_translate_{}kb_in_1400b_reads",
            bytes.len() / 1024
        ),
        |b| {
            b.iter(|| {
                let mut parser = SseParser::new();
                let mut translator =
                    OpenAiToAnthropic::new("claude-opus-5-5", "msg_bench".to_owned());
                let mut out = Vec::with_capacity(64 * 1024);
                for read in black_box(&bytes).chunks(1400) {
                    parser.push(read);
                    while let Some(event) = parser.next_event() {
                        translator
                            .push(&event.expect("valid").data, &mut out)
                            .expect("translates");
                    }
                }
                out
            });
        },
    );
    group.finish();
}

fn bench_response(c: &mut Criterion) {
    let body = json!({"id": "chatcmpl-1", "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": "I'll edit the file. ".repeat(50), "reasoning_content": "Thinking. ".repeat(100),
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "Edit",
            "arguments": json!({"file_path": "/a.rs", "old_string": "x".repeat(2000), "new_string": "y".repeat(2000)}).to_string()}}]}}],
        "usage": {"prompt_tokens": 14122, "completion_tokens": 900}})
    .to_string()
    .into_bytes();
    c.bench_function("response/from_openai", |b| {
        b.iter(|| from_openai(black_box(&body), "claude-opus-5-5").expect("translates"));
    });
}

criterion_group!(benches, bench_request, bench_stream, bench_response);
criterion_main!(benches);
