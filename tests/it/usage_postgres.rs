//! The usage ledger in a real PostgreSQL server: the same answers as `SQLite` for the same rows,
//! the schema created by replicas starting together, rows written by real `serve` processes
//! (two of them into one ledger) and read by `claude-lb usage` and `GET /usage`, budgets seen
//! across replicas, a server stopped mid-run, and the config's mistakes.

use std::time::Duration;

use claude_lb::config::postgres_url;
use claude_lb::core::price::Tokens;
use claude_lb::mock::{MockHandle, MockUpstream, Reply};
use claude_lb::usage::postgres::{PostgresStore, SCHEMA_VERSION};
use claude_lb::usage::report::{GroupBy, Query};
use claude_lb::usage::sqlite::SqliteStore;
use claude_lb::usage::{Row, Store as _, StoreError};

use crate::serve_bin::Served;
use crate::support::cli::ClaudeLb;
use crate::support::postgres::{self, PgServer};
use crate::support::proxy::body;

const SONNET: &str = "claude-sonnet-4-5-20250929";
const ALICE_KEY: &str = "clb-alice-0123456789abcdefghijklmnop";

fn url(text: &str) -> postgres_url::PostgresUrl {
    postgres_url::parse(text, &|_| None).unwrap()
}

fn connect(database: &str) -> PostgresStore {
    PostgresStore::connect(&url(database)).unwrap()
}

/// How many rows the ledger at `database` holds.
fn count(database: &str) -> i64 {
    postgres::off_runtime(|| {
        let mut client = ::postgres::Client::connect(database, ::postgres::NoTls).unwrap();
        client
            .query_one("SELECT COUNT(*) FROM claude_lb_usage", &[])
            .unwrap()
            .get(0)
    })
}

/// Waits until the ledger at `database` holds `n` rows.
async fn wait_for_rows(database: &str, n: i64) {
    let database = database.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut found = 0;
        for _ in 0..200 {
            found = count(&database);
            if found == n {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the ledger holds {found} rows, not {n}");
    })
    .await
    .unwrap();
}

/// A row of every kind the reports tell apart: clients or none, routes, failures, unpriced
/// rows, keys that sort differently by bytes and by a locale, times over days and hours.
fn varied_rows() -> Vec<Row> {
    let day = 86_400_000;
    let start = claude_lb::usage::time::parse_date("2026-11-01").unwrap();
    let providers = [Some("anthropic"), Some("Zeta"), Some("_relay"), None];
    let models = ["claude-sonnet-4-5", "Deepseek-chat", "gpt-5", "émoji-😀"];
    let clients = [Some("alice"), None, Some("Bob"), Some("bob")];
    let mut rows = Vec::new();
    for i in 0..120_i64 {
        let n = usize::try_from(i).unwrap();
        let failed = match i % 5 {
            0 => vec!["down".to_owned()],
            1 => vec!["down".to_owned(), "slow".to_owned()],
            _ => Vec::new(),
        };
        let status = if providers[n % 4].is_none() { 529 } else { 200 };
        rows.push(Row {
            time_ms: start + (i % 9) * day + (i * 7 % 24) * 3_600_000 + i,
            request_id: format!("req-{i}"),
            client: clients[n % 4].map(str::to_owned),
            route: (i % 3 == 0).then(|| "long-context".to_owned()),
            provider: providers[n % 4].map(str::to_owned),
            failed_providers: failed,
            model: models[n % 4].to_owned(),
            upstream_model: (i % 6 != 0).then(|| models[(n + 1) % 4].to_owned()),
            stream: i % 2 == 0,
            status,
            tokens: Tokens {
                input: 100 + u64::try_from(i).unwrap(),
                output: 50,
                cache_read: 300 * u64::try_from(i % 4).unwrap(),
                cache_creation: 10,
            },
            first_token_ms: (i % 4 != 1).then_some(300),
            total_ms: 1200,
            // Sums of quarters are exact in any order, so both stores' sums are equal.
            cost_usd: (i % 7 != 0).then(|| 0.25 * f64::from(u32::try_from(i % 5).unwrap())),
        });
    }
    rows
}

#[test]
fn postgres_and_sqlite_give_the_same_reports_and_spending_for_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut sqlite = SqliteStore::open(&dir.path().join("usage.db")).unwrap();
    let mut pg = connect(&postgres::database());
    let rows = varied_rows();
    sqlite.insert(&rows).unwrap();
    pg.insert(&rows).unwrap();
    let start = claude_lb::usage::time::parse_date("2026-11-01").unwrap();
    let mut groupings: Vec<Vec<GroupBy>> = vec![Vec::new()];
    for a in GroupBy::ALL {
        groupings.push(vec![a]);
        for b in GroupBy::ALL {
            if a != b {
                groupings.push(vec![a, b]);
            }
        }
    }
    for by in groupings {
        for (since_ms, until_ms) in [
            (start, start + 30 * 86_400_000),
            (start + 86_400_000 + 5, start + 3 * 86_400_000),
            (0, 1),
        ] {
            let query = Query {
                since_ms,
                until_ms,
                by: by.clone(),
            };
            let expected = sqlite.report(&query).unwrap();
            assert_eq!(pg.report(&query).unwrap(), expected, "{query:?}");
        }
    }
    let report = pg
        .report(&Query {
            since_ms: 0,
            until_ms: i64::MAX,
            by: vec![GroupBy::Provider],
        })
        .unwrap();
    let keys: Vec<&str> = report.groups.iter().map(|g| g.key[0].as_str()).collect();
    assert_eq!(
        keys,
        ["-", "Zeta", "_relay", "anthropic"],
        "sorted by bytes"
    );
    for (day, month) in [(start + 2 * 86_400_000, start), (start, start), (0, 0)] {
        assert_eq!(
            pg.spent(day, month).unwrap(),
            sqlite.spent(day, month).unwrap()
        );
    }
    let cutoff = start + 4 * 86_400_000;
    assert_eq!(
        pg.delete_before(cutoff).unwrap(),
        sqlite.delete_before(cutoff).unwrap()
    );
    let all = Query {
        since_ms: 0,
        until_ms: i64::MAX,
        by: vec![GroupBy::Day],
    };
    assert_eq!(pg.report(&all).unwrap(), sqlite.report(&all).unwrap());
}

#[test]
fn replicas_starting_together_create_the_schema_once_and_a_newer_one_is_refused() {
    let database = postgres::database();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let database = database.clone();
            std::thread::spawn(move || PostgresStore::connect(&url(&database)).map(|_| ()))
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    assert_eq!(connect(&database).schema_version().unwrap(), SCHEMA_VERSION);

    // An error of the server says what went wrong.
    let mut store = connect(&database);
    let mut client = ::postgres::Client::connect(&database, ::postgres::NoTls).unwrap();
    client
        .batch_execute("ALTER TABLE claude_lb_usage RENAME TO elsewhere")
        .unwrap();
    let named: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'claude-lb' AND datname = current_database()",
            &[],
        )
        .unwrap()
        .get(0);
    // (At least: the connections of the threads above may not have ended yet.)
    assert!(named >= 1, "the store's connection names itself");
    let error = store.spent(0, 0).unwrap_err().to_string();
    assert!(
        error.contains(r#"relation "claude_lb_usage" does not exist"#),
        "{error}"
    );
    client
        .batch_execute(
            "ALTER TABLE elsewhere RENAME TO claude_lb_usage;
             UPDATE claude_lb_schema SET version = version + 1",
        )
        .unwrap();
    let error = PostgresStore::connect(&url(&database)).unwrap_err();
    assert!(matches!(error, StoreError::TooNew { .. }), "{error}");
    assert!(
        error.to_string().contains("use a newer claude-lb"),
        "{error}"
    );
}

#[test]
fn a_server_that_is_not_there_is_a_clear_error_without_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = PostgresStore::connect(&url(&format!(
        "postgres://app:hunter2@127.0.0.1:{port}/ledger"
    )))
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("cannot connect to the usage ledger"),
        "{error}"
    );
    // The reason, not only the kind of error.
    assert!(error.contains("error connecting to server: "), "{error}");
    assert!(
        error.contains(&format!("app:*****@127.0.0.1:{port}")),
        "{error}"
    );
    assert!(!error.contains("hunter2"), "{error}");
}

fn provider(name: &str, mock: &MockHandle) -> String {
    format!(
        "  - name: {name}\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    base_url: {}\n",
        mock.base_url()
    )
}

/// A config with `providers` and the ledger at `database`, whose port is read from the
/// environment (`PG_PORT`), as a secret would be.
fn config(providers: &str, database: &str, rest: &str) -> String {
    let (head, tail) = database.rsplit_once('/').unwrap();
    let (host, port) = head.rsplit_once(':').unwrap();
    assert!(port.parse::<u16>().is_ok());
    format!(
        "providers:\n{providers}{rest}settings:\n  request_timeout: 5\n  usage:\n    store: \"{host}:${{PG_PORT}}/{tail}\"\n"
    )
}

fn port_of(database: &str) -> String {
    let head = database.rsplit_once('/').unwrap().0;
    head.rsplit_once(':').unwrap().1.to_owned()
}

fn serve(config_text: &str, database: &str) -> Served {
    let mut cli = ClaudeLb::new();
    let path = cli.write("providers.yaml", config_text);
    cli.env("PG_PORT", port_of(database));
    Served::start(cli, &path)
}

async fn send(served: &Served, key: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}/v1/messages", served.url))
        .header("content-type", "application/json")
        .body(body(SONNET, false));
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn two_replicas_write_one_ledger_that_usage_and_get_usage_read() {
    let database = postgres::database();
    let a = MockUpstream::anthropic().start().await;
    let b = MockUpstream::anthropic().start().await;
    let one = serve(&config(&provider("a", &a), &database, ""), &database);
    let two = serve(&config(&provider("b", &b), &database, ""), &database);
    for _ in 0..2 {
        assert_eq!(send(&one, None).await.status(), 200);
    }
    for _ in 0..3 {
        assert_eq!(send(&two, None).await.status(), 200);
    }
    wait_for_rows(&database, 5).await;

    // Either replica's `GET /usage` sees every row.
    let report: serde_json::Value = reqwest::get(format!("{}/usage?by=provider", one.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let groups: Vec<(String, u64)> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"][0].as_str().unwrap().to_owned(),
                g["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        [("a".to_owned(), 2), ("b".to_owned(), 3)],
        "{report}"
    );

    // `claude-lb usage` reads the same ledger, from the config.
    let usage = |args: &[&str]| {
        let mut cli = ClaudeLb::new();
        let path = cli.write("providers.yaml", &config(&provider("a", &a), &database, ""));
        cli.env("PG_PORT", port_of(&database))
            .args(["--config"])
            .arg_path(&path)
            .args(args.iter().copied())
            .run()
    };
    let run = usage(&["usage", "--by", "provider", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let cli_report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(cli_report["groups"], report["groups"], "{}", run.stdout);
    let run = usage(&["usage", "--by", "provider"]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines.iter().any(|l| l.contains(" a ") && l.contains(" 2 ")),
        "{}",
        run.stdout
    );
    assert!(
        lines.iter().any(|l| l.contains(" b ") && l.contains(" 3 ")),
        "{}",
        run.stdout
    );
}

fn message_of_many_tokens() -> serde_json::Value {
    serde_json::json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": SONNET,
        "content": [{"type": "text", "text": "Hello"}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": { "input_tokens": 1000, "output_tokens": 200 }
    })
}

#[tokio::test]
async fn a_budget_spent_through_one_replica_is_refused_by_a_replica_started_after() {
    let database = postgres::database();
    let mock = MockUpstream::anthropic()
        .reply(Reply::json(200, message_of_many_tokens()))
        .start()
        .await;
    let clients = format!(
        "clients:\n  - name: alice\n    key: \"{ALICE_KEY}\"\n    budget: {{ tokens_per_day: 1000 }}\n"
    );
    let text = config(&provider("main", &mock), &database, &clients);
    let one = serve(&text, &database);
    let first = send(&one, Some(ALICE_KEY)).await;
    assert_eq!(first.status(), 200);
    first.bytes().await.unwrap();
    wait_for_rows(&database, 1).await;

    let two = serve(&text, &database);
    let refused = send(&two, Some(ALICE_KEY)).await;
    assert_eq!(refused.status(), 402);
    let error: serde_json::Value = refused.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("1200 of 1000 tokens"), "{message}");
    assert_eq!(
        mock.request_count(),
        1,
        "the refused request reached the provider"
    );
    drop(one);
}

async fn dropped_rows(served: &Served) -> u64 {
    let text = reqwest::get(format!("{}/metrics", served.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("claude_lb_usage_rows_dropped_total "))
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn requests_succeed_while_the_server_is_down_and_rows_flow_again_when_it_is_back() {
    let mut server = tokio::task::spawn_blocking(PgServer::start).await.unwrap();
    let database = server.database();
    let mock = MockUpstream::anthropic().start().await;
    let replica = serve(&config(&provider("main", &mock), &database, ""), &database);
    assert_eq!(send(&replica, None).await.status(), 200);
    wait_for_rows(&database, 1).await;
    let mut server = tokio::task::spawn_blocking(move || {
        server.stop();
        server
    })
    .await
    .unwrap();

    for _ in 0..3 {
        let response = send(&replica, None).await;
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
    }
    let mut dropped = 0;
    for _ in 0..200 {
        dropped = dropped_rows(&replica).await;
        if dropped == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(dropped, 3, "the rows written while the server was down");

    // Back on the same port: the next batch connects again.
    let server = tokio::task::spawn_blocking(move || {
        server.run();
        server
    })
    .await
    .unwrap();
    assert_eq!(send(&replica, None).await.status(), 200);
    wait_for_rows(&database, 2).await;
    assert_eq!(dropped_rows(&replica).await, 3);
    drop(replica);
    drop(server);
}

fn validate(yaml: &str, env: &[(&str, &str)]) -> (i32, String) {
    let mut cli = ClaudeLb::new();
    cli.write("c.yaml", yaml);
    for (name, value) in env {
        cli.env(name, value);
    }
    let run = cli.args(["config", "validate", "--config", "c.yaml"]).run();
    (run.code, run.stdout)
}

fn with_store(store: &str) -> String {
    format!(
        "providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\nsettings:\n  usage:\n    store: \"{store}\"\n"
    )
}

#[test]
fn config_validate_names_each_mistake_in_a_ledger_url_where_it_is() {
    for (store, expected) in [
        (
            "postgres://app:${PG_PASSWORD}@db/ledger",
            "c.yaml:8:12: settings.usage.store: environment variable PG_PASSWORD is not set",
        ),
        (
            "postgress://app@db/ledger",
            "a URL must start with postgres:// or postgresql://, did you mean \"postgres\"?",
        ),
        (
            "postgres://app@db/ledger?sslmode=require",
            "sslmode=require: TLS is not supported for the usage ledger yet",
        ),
        (
            "postgres://app@db/ledger?sslmod=disable",
            "unknown parameter \"sslmod\", did you mean \"sslmode\"?",
        ),
        ("postgres://app@db:5432x/ledger", "is not a valid URL"),
        ("sqlit", "did you mean \"sqlite\"?"),
    ] {
        let (code, out) = validate(&with_store(store), &[]);
        assert_eq!(code, 1, "{store}: {out}");
        assert!(out.contains(expected), "{store}: {out}");
        assert!(out.contains("c.yaml:8:12: settings.usage.store: "), "{out}");
    }
    let (code, out) = validate(
        &with_store("postgres://app:${PG_PASSWORD}@db/ledger"),
        &[("PG_PASSWORD", "hunter2")],
    );
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("hunter2"), "{out}");
}
