//! The usage ledger end to end: rows written by a real proxy into a real `SQLite` file, the
//! store's schema and retention, `GET /usage`, and `claude-lb usage`.

use std::path::Path;
use std::time::Duration;

use claude_lb::core::price::Tokens;
use claude_lb::mock::{MockHandle, MockUpstream, Reply};
use claude_lb::usage::Store as _;
use claude_lb::usage::report::{GroupBy, Query};
use claude_lb::usage::sqlite::SqliteStore;
use claude_lb::usage::{Row, time};

use crate::support::cli::ClaudeLb;
use crate::support::proxy::{Proxy, body};

fn anthropic(name: &str, mock: &MockHandle) -> String {
    format!(
        "  - name: {name}\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n",
        mock.base_url()
    )
}

fn openai(name: &str, mock: &MockHandle) -> String {
    format!(
        "  - name: {name}\n    type: openai\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n    models:\n      \"*\": upstream-model\n",
        mock.base_url()
    )
}

fn config(providers: &[String]) -> String {
    format!(
        "providers:\n{}settings:\n  request_timeout: 2\n  stream_idle_timeout: 2\n",
        providers.concat()
    )
}

/// Every row of the ledger at `db`, oldest first.
fn rows(db: &Path) -> Vec<Row> {
    SqliteStore::open(db).unwrap().rows(0, i64::MAX).unwrap()
}

const SONNET: &str = "claude-sonnet-4-5-20250929";

fn message_with_cache() -> serde_json::Value {
    serde_json::json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": SONNET,
        "content": [{"type": "text", "text": "Hello"}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {
            "input_tokens": 1000, "output_tokens": 200,
            "cache_read_input_tokens": 50_000, "cache_creation_input_tokens": 4000
        }
    })
}

const START: &str = r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1,"cache_read_input_tokens":300}}}"#;
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
        ("content_block_start", BLOCK_START),
        ("content_block_delta", DELTA),
        ("content_block_stop", BLOCK_STOP),
        ("message_delta", MESSAGE_DELTA),
        ("message_stop", STOP),
    ]
}

#[tokio::test]
async fn an_answer_leaves_one_row_with_its_tokens_cache_and_cost() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usage.db");
    let mock = MockUpstream::anthropic()
        .reply(Reply::json(200, message_with_cache()))
        .start()
        .await;
    let proxy = Proxy::start_with_ledger(&config(&[anthropic("main", &mock)]), &db).await;
    let response = proxy.messages(body(SONNET, false)).await;
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-claude-lb-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    response.bytes().await.unwrap();
    // A token count is not a row.
    let counted = proxy
        .client
        .post(format!("{}/v1/messages/count_tokens", proxy.url))
        .header("content-type", "application/json")
        .body(body(SONNET, false))
        .send()
        .await
        .unwrap();
    assert_eq!(counted.status(), 200);
    counted.bytes().await.unwrap();
    proxy.shut_down().await;
    let rows = rows(&db);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    assert_eq!(row.request_id, request_id);
    assert_eq!(row.provider.as_deref(), Some("main"));
    assert!(row.failed_providers.is_empty());
    assert_eq!(row.model, SONNET);
    assert_eq!(row.upstream_model.as_deref(), Some(SONNET));
    assert!(!row.stream);
    assert_eq!(row.status, 200);
    assert_eq!(row.client, None);
    assert_eq!(
        row.tokens,
        Tokens {
            input: 1000,
            output: 200,
            cache_read: 50_000,
            cache_creation: 4000
        }
    );
    // Sonnet 4.5: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million.
    let expect = (1000.0 * 3.0 + 200.0 * 15.0 + 50_000.0 * 0.3 + 4000.0 * 3.75) / 1e6;
    let cost = row.cost_usd.unwrap();
    assert!((cost - expect).abs() < 1e-12, "{cost} != {expect}");
    assert!(row.first_token_ms.is_some());
    let now = time::now_ms();
    assert!(
        row.time_ms <= now && row.time_ms > now - 60_000,
        "{}",
        row.time_ms
    );
}

#[tokio::test]
async fn failovers_all_failed_and_cut_streams_each_leave_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usage.db");
    let first = MockUpstream::anthropic()
        // A failover to `second`.
        .reply(Reply::status(529))
        // Tried again when every provider is down, and down again.
        .reply(Reply::status(529))
        .start()
        .await;
    let second = MockUpstream::anthropic()
        .reply(Reply::sse_events(&full_stream()))
        // Cut after the commit: the client got the start of the answer.
        .reply(Reply::sse_events(&full_stream()).cut_after(3))
        .start()
        .await;
    let proxy = Proxy::start_with_ledger(
        &config(&[anthropic("first", &first), anthropic("second", &second)]),
        &db,
    )
    .await;
    let failover = proxy.messages(body(SONNET, true)).await;
    assert_eq!(failover.headers()["x-claude-lb-provider"], "second");
    failover.bytes().await.unwrap();
    let cut = proxy.messages(body(SONNET, true)).await;
    assert_eq!(cut.status(), 200);
    let text = cut.text().await.unwrap();
    assert!(text.contains("event: error"), "{text}");
    // Both providers are cooling down now: the request fails.
    let failed = proxy.messages(body(SONNET, false)).await;
    let failed_status = failed.status().as_u16();
    assert!(failed_status >= 500, "{failed_status}");
    failed.bytes().await.unwrap();
    proxy.shut_down().await;

    let rows = rows(&db);
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let (failover, cut, failed) = (&rows[0], &rows[1], &rows[2]);
    assert_eq!(failover.provider.as_deref(), Some("second"));
    assert_eq!(failover.failed_providers, ["first"]);
    assert!(failover.stream);
    assert_eq!(
        failover.tokens,
        Tokens {
            input: 12,
            output: 5,
            cache_read: 300,
            cache_creation: 0
        }
    );
    assert!(failover.cost_usd.unwrap() > 0.0);

    assert_eq!(cut.provider.as_deref(), Some("second"));
    assert!(cut.stream);
    assert_eq!(cut.status, 200);
    // What the provider said before the cut: the input of `message_start`.
    assert_eq!(cut.tokens.input, 12);

    assert_eq!(failed.provider, None);
    // The cut stream cooled `second` down too; with every provider cooling, the one back
    // soonest is tried, and fails.
    assert_eq!(failed.failed_providers, ["first"]);
    assert_eq!(failed.status, failed_status);
    assert_eq!(failed.tokens, Tokens::default());
    assert_eq!(failed.cost_usd, Some(0.0));
    assert!(!failed.stream);
}

#[tokio::test]
async fn a_translated_stream_counts_the_translated_usage_and_an_unknown_model_has_no_cost() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usage.db");
    let chunk = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"x","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}"#;
    let finish = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":25,"completion_tokens":7,"total_tokens":32,"prompt_tokens_details":{"cached_tokens":20}}}"#;
    let mock = MockUpstream::openai()
        .reply(Reply::sse_data(&[chunk, finish, "[DONE]"]))
        .start()
        .await;
    let proxy = Proxy::start_with_ledger(&config(&[openai("oai", &mock)]), &db).await;
    let response = proxy.messages(body(SONNET, true)).await;
    let text = response.text().await.unwrap();
    assert!(text.contains("message_stop"), "{text}");
    proxy.shut_down().await;
    let rows = rows(&db);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    assert_eq!(row.model, SONNET);
    assert_eq!(row.upstream_model.as_deref(), Some("upstream-model"));
    assert!(row.stream);
    // OpenAI counts cached tokens inside `prompt_tokens`; the Anthropic usage the client got
    // counts them apart.
    assert_eq!(
        row.tokens,
        Tokens {
            input: 5,
            output: 7,
            cache_read: 20,
            cache_creation: 0
        }
    );
    assert_eq!(row.cost_usd, None, "no price is known for upstream-model");
}

#[tokio::test]
async fn provider_pricing_wins_and_get_usage_reports_groups_with_unpriced_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usage.db");
    let priced = MockUpstream::anthropic()
        .reply(Reply::json(200, message_with_cache()))
        .start()
        .await;
    let unpriced = MockUpstream::openai().start().await;
    let yaml = format!(
        "providers:\n{}    pricing:\n      \"claude-sonnet-*\": {{ input: 1, output: 2 }}\n{}    enabled: false\n",
        anthropic("priced", &priced),
        openai("unpriced", &unpriced),
    );
    let proxy = Proxy::start_with_ledger(&yaml, &db).await;
    let response = proxy.messages(body(SONNET, false)).await;
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap();
    // Rows reach the file within moments; /usage reads the file.
    let mut report = serde_json::Value::Null;
    for _ in 0..100 {
        let (status, json) = proxy.get_json("/usage?since=1h&by=provider,model").await;
        assert_eq!(status, 200, "{json}");
        if json["total"]["requests"] == 1 {
            report = json;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        report["by"],
        serde_json::json!(["provider", "model"]),
        "{report}"
    );
    let group = &report["groups"][0];
    assert_eq!(group["key"], serde_json::json!(["priced", SONNET]));
    assert_eq!(group["requests"], 1);
    assert_eq!(group["cache_read_tokens"], 50_000);
    // The provider's price, cache tokens at the input price: (1000 + 50000 + 4000) * 1 + 200 * 2.
    let cost = group["cost_usd"].as_f64().unwrap();
    assert!((cost - 55_400.0 / 1e6).abs() < 1e-12, "{cost}");
    assert_eq!(group["unpriced"], 0);
    let (status, error) = proxy.get_json("/usage?by=week").await;
    assert_eq!(status, 400);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"week\""),
        "{error}"
    );
    proxy.shut_down().await;
}

#[tokio::test]
async fn an_unwritable_ledger_never_fails_a_request_and_counts_the_dropped_rows() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the ledger's directory should be: no file can be created under it, even
    // by root.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let db = blocker.join("usage.db");
    let mock = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start_with_ledger(&config(&[anthropic("main", &mock)]), &db).await;
    for _ in 0..3 {
        let response = proxy.messages(body(SONNET, false)).await;
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
    }
    let mut dropped = String::new();
    for _ in 0..100 {
        let text = proxy
            .client
            .get(format!("{}/metrics", proxy.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        dropped = text
            .lines()
            .find(|l| l.starts_with("claude_lb_usage_rows_dropped_total "))
            .unwrap()
            .to_owned();
        if dropped.ends_with(" 3") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(dropped, "claude_lb_usage_rows_dropped_total 3");
    proxy.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_rows_written_while_32_clients_stream_are_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usage.db");
    let mock = MockUpstream::anthropic().start().await;
    let proxy = std::sync::Arc::new(
        Proxy::start_with_ledger(&config(&[anthropic("main", &mock)]), &db).await,
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..32 {
        let (proxy, stop) = (proxy.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || n == 0 {
                let response = proxy.messages(body(SONNET, true)).await;
                assert_eq!(response.status(), 200);
                let text = response.text().await.unwrap();
                assert!(text.contains("message_stop"));
                n += 1;
            }
            n
        }));
    }
    // 10,000 more rows through the same recorder, in bursts, as a busy instance would make.
    let recorder = proxy.state.dispatcher.recorder();
    for burst in 0..200 {
        for i in 0..50 {
            recorder.record(Row {
                time_ms: 1_000 + burst * 50 + i,
                request_id: format!("synthetic-{burst}-{i}"),
                client: Some("load".to_owned()),
                route: None,
                provider: Some("main".to_owned()),
                failed_providers: Vec::new(),
                model: SONNET.to_owned(),
                upstream_model: Some(SONNET.to_owned()),
                stream: true,
                status: 200,
                tokens: Tokens {
                    input: 10,
                    output: 20,
                    cache_read: 0,
                    cache_creation: 0,
                },
                first_token_ms: Some(1),
                total_ms: 2,
                cost_usd: None,
            });
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut streamed = 0;
    for client in clients {
        streamed += client.await.unwrap();
    }
    let metrics = proxy.state.dispatcher.metrics().render();
    let proxy = std::sync::Arc::into_inner(proxy).unwrap();
    proxy.shut_down().await;
    assert!(
        metrics.contains("claude_lb_usage_rows_dropped_total 0"),
        "{metrics}"
    );
    let rows = rows(&db);
    let synthetic = rows
        .iter()
        .filter(|r| r.request_id.starts_with("synthetic-"))
        .count();
    assert_eq!(synthetic, 10_000);
    assert_eq!(rows.len() as u64, 10_000 + streamed, "streamed {streamed}");
}

fn row_at(time_ms: i64, provider: &str, model: &str, cost: Option<f64>) -> Row {
    Row {
        time_ms,
        request_id: format!("req-{time_ms}"),
        client: Some("alice".to_owned()),
        route: None,
        provider: Some(provider.to_owned()),
        failed_providers: Vec::new(),
        model: model.to_owned(),
        upstream_model: Some(model.to_owned()),
        stream: true,
        status: 200,
        tokens: Tokens {
            input: 100,
            output: 50,
            cache_read: 300,
            cache_creation: 100,
        },
        first_token_ms: Some(300),
        total_ms: 1200,
        cost_usd: cost,
    }
}

#[test]
fn a_batch_keeps_every_value_of_every_row_whatever_its_size() {
    // 70 rows: two statements of several rows each and six rows one by one.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usage.db");
    let rows: Vec<Row> = (0..70_u64)
        .map(|n| {
            let i = i64::try_from(n).unwrap();
            Row {
                time_ms: 1_000_000 + i,
                request_id: format!("req-{n}"),
                client: (n % 3 != 0).then(|| format!("client-{n}")),
                route: (n % 2 == 0).then(|| format!("route-{n}")),
                provider: (n % 5 != 0).then(|| format!("provider-{n}")),
                failed_providers: (0..n % 3).map(|k| format!("f{k}-{n}")).collect(),
                model: format!("model-{n}"),
                upstream_model: (n % 4 != 0).then(|| format!("up-{n}")),
                stream: n % 2 == 1,
                status: 200 + u16::try_from(n).unwrap(),
                tokens: Tokens {
                    input: n,
                    output: 1_000 + n,
                    cache_read: 2_000 + n,
                    cache_creation: 3_000 + n,
                },
                first_token_ms: (n % 3 != 1).then_some(4_000 + n),
                total_ms: 5_000 + n,
                cost_usd: (n % 2 == 0).then(|| f64::from(u32::try_from(n).unwrap()) / 8.0),
            }
        })
        .collect();
    SqliteStore::open(&db).unwrap().insert(&rows).unwrap();
    let connection = rusqlite::Connection::open(&db).unwrap();
    let mut select = connection
        .prepare(
            "SELECT time_ms, request_id, client, route, provider, failed_providers, failovers,
                model, upstream_model, stream, status, input_tokens, output_tokens,
                cache_read_tokens, cache_creation_tokens, first_token_ms, total_ms, cost_usd
             FROM usage ORDER BY id",
        )
        .unwrap();
    let read: Vec<String> = select
        .query_map([], |r| {
            Ok(format!(
                "{:?}",
                (
                    (
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, i64>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ),
                    (
                        r.get::<_, bool>(9)?,
                        r.get::<_, i64>(10)?,
                        r.get::<_, i64>(11)?,
                        r.get::<_, i64>(12)?,
                        r.get::<_, i64>(13)?,
                        r.get::<_, i64>(14)?,
                        r.get::<_, Option<i64>>(15)?,
                        r.get::<_, i64>(16)?,
                        r.get::<_, Option<f64>>(17)?,
                    ),
                )
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<String> = rows
        .iter()
        .map(|row| {
            let int = |n: u64| i64::try_from(n).unwrap();
            format!(
                "{:?}",
                (
                    (
                        row.time_ms,
                        row.request_id.clone(),
                        row.client.clone(),
                        row.route.clone(),
                        row.provider.clone(),
                        row.failed_providers.join(","),
                        i64::try_from(row.failed_providers.len()).unwrap(),
                        row.model.clone(),
                        row.upstream_model.clone(),
                    ),
                    (
                        row.stream,
                        i64::from(row.status),
                        int(row.tokens.input),
                        int(row.tokens.output),
                        int(row.tokens.cache_read),
                        int(row.tokens.cache_creation),
                        row.first_token_ms.map(int),
                        int(row.total_ms),
                        row.cost_usd,
                    ),
                )
            )
        })
        .collect();
    assert_eq!(read, expected);
}

#[test]
fn a_reopened_store_keeps_every_row_and_retention_deletes_only_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/dir/usage.db");
    let now = time::now_ms();
    let old = row_at(now - 100 * 86_400_000, "a", SONNET, Some(1.0));
    let recent = row_at(now - 3_600_000, "b", SONNET, None);
    {
        let mut store = SqliteStore::open(&db).unwrap();
        store.insert(&[old.clone(), recent.clone()]).unwrap();
    }
    let mut store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.rows(0, i64::MAX).unwrap(), vec![old, recent.clone()]);
    assert_eq!(store.delete_before(now - 90 * 86_400_000).unwrap(), 1);
    assert_eq!(store.rows(0, i64::MAX).unwrap(), vec![recent]);
    drop(store);

    // The writer applies the retention when it starts.
    let store = SqliteStore::open(&db).unwrap();
    let mut with_old = SqliteStore::open(&db).unwrap();
    with_old
        .insert(&[row_at(now - 10 * 86_400_000, "c", SONNET, None)])
        .unwrap();
    drop(with_old);
    let ledger = claude_lb::usage::Ledger::start(
        Box::new(store),
        Duration::from_secs(7 * 86_400),
        std::sync::Arc::new(claude_lb::metrics::Metrics::new()),
    )
    .unwrap();
    ledger.close();
    let left = SqliteStore::open(&db).unwrap().rows(0, i64::MAX).unwrap();
    assert_eq!(left.len(), 1, "{left:#?}");
    assert_eq!(left[0].provider.as_deref(), Some("b"));
}

/// A store that keeps the size of each batch it is given, and nothing else.
#[derive(Clone, Default)]
struct Batches(std::sync::Arc<std::sync::Mutex<Vec<usize>>>);

impl Batches {
    fn sizes(&self) -> Vec<usize> {
        self.0.lock().unwrap().clone()
    }
}

impl claude_lb::usage::Store for Batches {
    fn insert(&mut self, rows: &[Row]) -> Result<(), claude_lb::usage::StoreError> {
        self.0.lock().unwrap().push(rows.len());
        Ok(())
    }
    fn delete_before(&mut self, _: i64) -> Result<u64, claude_lb::usage::StoreError> {
        Ok(0)
    }
    fn report(
        &mut self,
        _: &Query,
    ) -> Result<claude_lb::usage::report::Report, claude_lb::usage::StoreError> {
        unreachable!("the writer asks for no report")
    }
    fn spent(
        &mut self,
        _: i64,
        _: i64,
    ) -> Result<Vec<claude_lb::usage::report::Spent>, claude_lb::usage::StoreError> {
        unreachable!("the writer asks for no spending")
    }
}

#[test]
fn a_sustained_load_faster_than_one_batch_per_tick_loses_no_row() {
    // Twice what one batch per tick can take (BATCH rows every TICK, about 20,000 a second),
    // for long enough to fill the queue several times over at that pace.
    let per_second =
        2 * claude_lb::usage::BATCH as u128 * 1000 / claude_lb::usage::TICK.as_millis();
    let rows = 3 * claude_lb::usage::QUEUE_CAPACITY;
    let batches = Batches::default();
    let metrics = std::sync::Arc::new(claude_lb::metrics::Metrics::new());
    let ledger = claude_lb::usage::Ledger::start(
        Box::new(batches.clone()),
        Duration::from_secs(86_400),
        metrics.clone(),
    )
    .unwrap();
    let recorder = ledger.recorder();
    let started = tokio::time::Instant::now();
    for n in 0..rows {
        // Paced, not as fast as the loop goes: a load a real instance can meet.
        let due = started
            + Duration::from_micros(u64::try_from(n as u128 * 1_000_000 / per_second).unwrap());
        if let Some(wait) = due.checked_duration_since(tokio::time::Instant::now()) {
            std::thread::sleep(wait);
        }
        recorder.record(row_at(i64::try_from(n).unwrap(), "a", SONNET, None));
    }
    ledger.close();
    let text = metrics.render();
    assert!(
        text.contains("claude_lb_usage_rows_dropped_total 0"),
        "{}",
        text.lines()
            .filter(|l| l.contains("dropped"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(batches.sizes().iter().sum::<usize>(), rows);
}

#[test]
fn rows_at_an_interactive_pace_are_committed_together_within_the_linger() {
    let batches = Batches::default();
    let ledger = claude_lb::usage::Ledger::start(
        Box::new(batches.clone()),
        Duration::from_secs(86_400),
        std::sync::Arc::new(claude_lb::metrics::Metrics::new()),
    )
    .unwrap();
    let recorder = ledger.recorder();
    // Five requests 20 ms apart, well within one linger: one commit, and it comes without
    // waiting for a sixth row or for the ledger to close.
    for n in 0..5 {
        recorder.record(row_at(n, "a", SONNET, None));
        std::thread::sleep(Duration::from_millis(20));
    }
    let deadline = tokio::time::Instant::now() + 5 * claude_lb::usage::LINGER;
    while batches.sizes().is_empty() && tokio::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(batches.sizes(), [5]);
    // A row on its own is committed too.
    recorder.record(row_at(5, "a", SONNET, None));
    let deadline = tokio::time::Instant::now() + 5 * claude_lb::usage::LINGER;
    while batches.sizes().len() < 2 && tokio::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(batches.sizes(), [5, 1]);
    ledger.close();
    assert_eq!(batches.sizes(), [5, 1]);
}

#[test]
fn a_version_1_ledger_is_migrated_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usage.db");
    {
        let connection = rusqlite::Connection::open(&db).unwrap();
        connection
            .execute_batch(include_str!("../fixtures/usage-v1.sql"))
            .unwrap();
    }
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        claude_lb::usage::sqlite::SCHEMA_VERSION
    );
    let rows = store.rows(0, i64::MAX).unwrap();
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(rows[0].failed_providers, ["a", "b"]);
    assert_eq!(rows[0].route, None);
    assert_eq!(rows[1].tokens.cache_read, 40);
    let mut store = store;
    let report = store
        .report(&Query {
            since_ms: 0,
            until_ms: i64::MAX,
            by: vec![GroupBy::Provider],
        })
        .unwrap();
    assert_eq!(report.total.requests, 2);
    // The failovers of version 1 rows are counted from their failed providers.
    assert_eq!(report.total.failovers, 2);
    assert_eq!(report.total.unpriced, 1);

    // A file from a newer claude-lb is refused, not damaged.
    let connection = rusqlite::Connection::open(&db).unwrap();
    connection
        .execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    drop(connection);
    let error = SqliteStore::open(&db).unwrap_err().to_string();
    assert!(error.contains("schema version 99"), "{error}");
}

/// A month of synthetic rows in a ledger file, for the command.
fn synthetic_month(db: &Path) -> i64 {
    let start = time::parse_date("2026-11-01").unwrap();
    let mut rows = Vec::new();
    for day in 0..30_i32 {
        for hour in [9, 14, 17] {
            let t = start + i64::from(day) * 86_400_000 + hour * 3_600_000;
            rows.push(row_at(
                t,
                "anthropic",
                SONNET,
                Some(0.5 + f64::from(day) / 10.0),
            ));
            rows.push(row_at(t + 60_000, "deepseek", "deepseek-chat", None));
        }
    }
    SqliteStore::open(db).unwrap().insert(&rows).unwrap();
    start
}

#[test]
fn the_usage_command_reports_a_ledger_file_by_provider_model_and_day() {
    let mut cli = ClaudeLb::new();
    let db = cli.home().join("ledger/usage.db");
    synthetic_month(&db);
    let config = cli.write(
        "providers.yaml",
        &format!(
            "providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\nsettings:\n  usage:\n    store: {}\n",
            db.display()
        ),
    );
    let run = cli
        .args(["--config"])
        .arg_path(&config)
        .args([
            "usage",
            "--since",
            "2026-11-01",
            "--until",
            "2026-12-01",
            "--by",
            "provider,model",
        ])
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let out = &run.stdout;
    for needle in [
        "provider",
        "cache hit",
        "anthropic",
        SONNET,
        "deepseek-chat",
        "90 of 180 requests have no known price",
        "total",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    // 30 days × 3 rows × (0.5 + day/10): 45 + 130.5.
    assert!(out.contains("$175.50"), "{out}");

    let mut cli2 = ClaudeLb::new();
    let run = cli2
        .args(["--config"])
        .arg_path(&config)
        .args([
            "usage",
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-04",
            "--by",
            "day",
        ])
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    let bars: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("2026-11-0") && l.contains('#'))
        .collect();
    assert_eq!(bars.len(), 3, "{}", run.stdout);
    assert!(
        bars[2].matches('#').count() > bars[0].matches('#').count(),
        "{}",
        run.stdout
    );

    let mut cli3 = ClaudeLb::new();
    let run = cli3
        .args(["--config"])
        .arg_path(&config)
        .args([
            "usage",
            "--since",
            "2026-11-01",
            "--until",
            "2026-12-01",
            "--by",
            "client",
            "--json",
        ])
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["groups"][0]["key"], serde_json::json!(["alice"]));
    assert_eq!(json["total"]["requests"], 180);
    assert_eq!(json["total"]["unpriced"], 90);

    let mut cli4 = ClaudeLb::new();
    let run = cli4
        .args(["--config"])
        .arg_path(&config)
        .args(["usage", "--by", "week"])
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("\"week\""), "{}", run.stderr);

    // A period that cannot be read is a usage error with `--remote` too, said before any
    // instance is asked (this address has none).
    for period in [&["--since", "7x"][..], &["--since", "1d", "--until", "2d"]] {
        let mut cli5 = ClaudeLb::new();
        let run = cli5
            .args(["usage", "--remote", "http://127.0.0.1:9"])
            .args(period.iter().copied())
            .run();
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("--"), "{}", run.stderr);
        assert!(!run.stderr.contains("127.0.0.1:9"), "{}", run.stderr);
    }
}

#[tokio::test]
async fn usage_remote_reads_a_running_instance() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usage.db");
    let mock = MockUpstream::anthropic()
        .reply(Reply::json(200, message_with_cache()))
        .start()
        .await;
    let proxy = Proxy::start_with_ledger(&config(&[anthropic("main", &mock)]), &db).await;
    proxy
        .messages(body(SONNET, false))
        .await
        .bytes()
        .await
        .unwrap();
    let url = proxy.url.clone();
    let mut last = None;
    for _ in 0..50 {
        let url = url.clone();
        let run = tokio::task::spawn_blocking(move || {
            ClaudeLb::new()
                .args(["usage", "--remote", &url, "--by", "provider", "--json"])
                .run()
        })
        .await
        .unwrap();
        assert_eq!(run.code, 0, "{run:?}");
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        if json["total"]["requests"] == 1 {
            last = Some(json);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let json = last.expect("the row reached the ledger");
    assert_eq!(json["groups"][0]["key"], serde_json::json!(["main"]));
    proxy.shut_down().await;
}

const ALICE_KEY: &str = "clb-alice-0123456789abcdefghijklmnop";

async fn as_alice(proxy: &Proxy) -> reqwest::Response {
    proxy
        .client
        .post(format!("{}/v1/messages", proxy.url))
        .header("content-type", "application/json")
        .header("x-api-key", ALICE_KEY)
        .body(body(SONNET, false))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_client_over_its_daily_tokens_gets_402_without_a_provider_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usage.db");
    let yaml = |mock: &MockHandle| {
        format!(
            "providers:\n{}clients:\n  - name: alice\n    key: \"{ALICE_KEY}\"\n    budget: {{ tokens_per_day: 1000 }}\n",
            anthropic("main", mock)
        )
    };
    // One answer of 55,200 tokens spends the day's 1,000 at once.
    let mock = MockUpstream::anthropic()
        .reply(Reply::json(200, message_with_cache()))
        .start()
        .await;
    let proxy = Proxy::start_with_ledger(&yaml(&mock), &db).await;
    let first = as_alice(&proxy).await;
    assert_eq!(first.status(), 200);
    first.bytes().await.unwrap();
    let refused = as_alice(&proxy).await;
    assert_eq!(refused.status(), 402);
    let error: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["type"], "billing_error", "{error}");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("alice")
            && message.contains("daily token budget")
            && message.contains("55200 of 1000 tokens")
            && message.contains("resets at"),
        "{message}"
    );
    assert_eq!(
        mock.request_count(),
        1,
        "the refused request reached the provider"
    );
    proxy.shut_down().await;
    let rows = rows(&db);
    assert_eq!(rows.len(), 1, "a refused request is not a row: {rows:#?}");
    assert_eq!(rows[0].client.as_deref(), Some("alice"));

    // A new process reads what alice spent from the ledger.
    let mock = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start_with_ledger(&yaml(&mock), &db).await;
    let refused = as_alice(&proxy).await;
    assert_eq!(refused.status(), 402);
    refused.bytes().await.unwrap();
    assert_eq!(mock.request_count(), 0);
    proxy.shut_down().await;
}

#[tokio::test]
async fn a_request_its_route_could_not_serve_leaves_a_row_with_the_route() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usage.db");
    let down = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let other = MockUpstream::anthropic().start().await;
    let yaml = format!(
        "{}routes:\n  - name: background\n    when: {{ model: \"claude-*haiku*\" }}\n    providers: [down]\n",
        config(&[anthropic("down", &down), anthropic("other", &other)])
    );
    let proxy = Proxy::start_with_ledger(&yaml, &db).await;
    let failed = proxy.messages(body("claude-haiku-5-5", false)).await;
    assert!(failed.status().as_u16() >= 500, "{}", failed.status());
    failed.bytes().await.unwrap();
    proxy.shut_down().await;
    let rows = rows(&db);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].route.as_deref(), Some("background"));
    assert_eq!(rows[0].provider, None);
    assert_eq!(rows[0].failed_providers, ["down"]);
    assert_eq!(
        other.request_count(),
        0,
        "the route kept it on its provider"
    );
}
