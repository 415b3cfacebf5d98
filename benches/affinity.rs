//! Benchmarks of what session affinity adds to every request: finding the session in a
//! Claude Code-sized body (`metadata` sits at the end, after about 50 KB of tools and turns),
//! and the lookup and record in a table of 100,000 sessions.

use std::hint::black_box;
use std::time::Duration;

use claude_lb::core::affinity::{AffinityTable, MAX_SESSIONS};
use claude_lb::core::provider::ProviderId;
use claude_lb::dispatch::scan;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use tokio::time::Instant;

/// A body shaped like Claude Code's first turn: model first, about 50 KB of system prompt,
/// tools and turns, and `metadata.user_id` last.
fn claude_code_body() -> Vec<u8> {
    let text = "Read the relevant files first, keep the existing style, run the tests. ".repeat(40);
    let tools: Vec<_> = (0..12)
        .map(|i| {
            json!({
                "name": format!("Tool{i}"),
                "description": text,
                "input_schema": {"type": "object", "properties": {"a": {"type": "string", "description": text}}},
            })
        })
        .collect();
    let user_id = json!({
        "device_id": "6f1d0c2e9a",
        "account_uuid": "",
        "session_id": "2f0e4c1a-93b7-4d2e-8a61-0c5b7e9d1f20",
    })
    .to_string();
    json!({
        "model": "claude-opus-5-5",
        "max_tokens": 32000,
        "stream": true,
        "system": [{"type": "text", "text": text}],
        "tools": tools,
        "messages": [{"role": "user", "content": text}],
        "metadata": {"user_id": user_id},
    })
    .to_string()
    .into_bytes()
}

fn bench_scan(c: &mut Criterion) {
    let body = claude_code_body();
    let mut group = c.benchmark_group("scan");
    group.bench_function("model only", |b| {
        b.iter(|| scan::model(black_box(&body)).is_ok());
    });
    group.bench_function("model and session", |b| {
        b.iter(|| {
            let scanned = scan::request(black_box(&body));
            let session = scanned
                .metadata
                .and_then(|metadata| scan::metadata_session(&body, metadata));
            (scanned.model.is_ok(), session)
        });
    });
    group.finish();
}

fn bench_table(c: &mut Criterion) {
    const HOUR: Duration = Duration::from_secs(3600);
    let table = AffinityTable::default();
    let provider = ProviderId::new("main");
    let now = Instant::now();
    for n in 0..MAX_SESSIONS {
        table.record(
            table.key(&format!("session-{n}"), None),
            &provider,
            HOUR,
            now,
        );
    }
    let mut group = c.benchmark_group("affinity table of 100,000");
    group.bench_function("key, lookup and record of a known session", |b| {
        b.iter(|| {
            let key = table.key(black_box("2f0e4c1a-93b7-4d2e-8a61-0c5b7e9d1f20"), None);
            let found = table.lookup(key, HOUR, now);
            table.record(key, &provider, HOUR, now);
            found
        });
    });
    group.bench_function("a new session, evicting the oldest", |b| {
        let mut n = 0u64;
        b.iter(|| {
            n += 1;
            let key = table.key(&n.to_string(), None);
            let found = table.lookup(key, HOUR, now);
            table.record(key, &provider, HOUR, now);
            found
        });
    });
    group.finish();
}

criterion_group!(benches, bench_scan, bench_table);
criterion_main!(benches);
