//! Benchmarks of routing rules: what deciding a request's route costs per condition kind, on a
//! Claude Code-sized request (about 100 KB) and a small one (about 1 KB).
//!
//! `model_only` is the cost a request pays with only `model` rules (the claim: nothing beyond
//! the model is read, so it does not grow with the body). `min_input_tokens` runs the whole
//! token step as `serve` does (the length bound, then the tokenizer on the blocking pool when the
//! bound reaches the threshold).

use std::hint::black_box;

use bytes::Bytes;
use claude_lb::core::route::{Conditions, Pattern, Rule, Rules};
use claude_lb::dispatch::facts;
use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderMap;
use serde_json::json;
use tokio::sync::Semaphore;

/// A request of about `kib` KiB: tools and a long conversation, as Claude Code sends them.
fn request(kib: usize) -> Bytes {
    let para = "When the user asks for a change, read the relevant files first, keep the existing \
                style, prefer small focused edits, and run the tests before reporting back. ";
    let text = para.repeat((kib * 1024 / para.len()).max(1));
    let tools: Vec<_> = ["Bash", "Read", "Edit", "Write", "Grep", "WebFetch"]
        .iter()
        .map(|name| json!({"name": name, "description": "A tool.", "input_schema": {"type": "object"}}))
        .collect();
    let body = json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 32000,
        "stream": true,
        "thinking": {"type": "adaptive"},
        "system": [{"type": "text", "text": "You are Claude Code."}],
        "tools": tools,
        "messages": [{"role": "user", "content": text}],
    });
    Bytes::from(body.to_string())
}

fn rule(name: &str, when: Conditions) -> Rule {
    Rule {
        name: name.into(),
        when,
        providers: vec![0],
        model: None,
        fallback_any: false,
    }
}

fn model_rules() -> Rules {
    Rules::new(
        ["claude-*haiku*", "claude-opus-*", "gpt-*", "deepseek-*"]
            .iter()
            .map(|p| {
                rule(
                    p,
                    Conditions {
                        model: Some(Pattern::new(p)),
                        ..Conditions::default()
                    },
                )
            })
            .collect(),
    )
}

fn tokens_rule(min: u64) -> Rules {
    Rules::new(vec![rule(
        "long_context",
        Conditions {
            min_input_tokens: Some(min),
            ..Conditions::default()
        },
    )])
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let counts = Semaphore::new(2);
    let headers = HeaderMap::new();
    let mut group = c.benchmark_group("route");
    // A threshold above the body's length is decided by the bound alone; one below it makes
    // the tokenizer count.
    let rule_sets = [
        ("model_only", model_rules()),
        (
            "thinking_and_tool",
            Rules::new(vec![
                rule(
                    "thinking",
                    Conditions {
                        thinking: Some(true),
                        model: Some(Pattern::new("claude-opus-*")),
                        ..Conditions::default()
                    },
                ),
                rule(
                    "web_search",
                    Conditions {
                        tool: Some(Pattern::new("web_search*")),
                        ..Conditions::default()
                    },
                ),
            ]),
        ),
        ("min_input_tokens_bound", tokens_rule(200_000)),
        ("min_input_tokens_counted", tokens_rule(100)),
    ];
    for (label, body) in [("1KB", request(1)), ("100KB", request(100))] {
        for (name, rules) in &rule_sets {
            group.bench_function(format!("{name}/{label}"), |b| {
                b.iter(|| {
                    runtime.block_on(facts::route(
                        rules,
                        black_box("claude-sonnet-4-5"),
                        black_box(&body),
                        &headers,
                        &counts,
                    ))
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
