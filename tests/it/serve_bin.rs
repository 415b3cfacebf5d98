//! The real `claude-lb serve` binary: start-up, the per-request log line, reload by file
//! watch and by `SIGHUP`, and graceful shutdown on `SIGTERM` with a stream in flight.

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc;
use std::time::Duration;

use claude_lb::mock::{MockHandle, MockUpstream, Reply};

use crate::support::cli::ClaudeLb;
use crate::support::proxy::{body, sse_events};

fn provider(name: &str, mock: &MockHandle) -> String {
    format!(
        "  - name: {name}\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    base_url: {}\n",
        mock.base_url()
    )
}

fn config(providers: &[String]) -> String {
    format!(
        "providers:\n{}settings:\n  request_timeout: 5\n",
        providers.concat()
    )
}

/// Sends a Messages request to `url` with `body`, as JSON.
async fn messages(client: &reqwest::Client, url: &str, body: String) -> reqwest::Response {
    client
        .post(format!("{url}/v1/messages"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A running `serve` process and its log lines.
pub(crate) struct Served {
    pub(crate) child: Child,
    pub(crate) url: String,
    log: mpsc::Receiver<String>,
    /// Every line [`Served::wait_for_log`] has read.
    seen: Vec<String>,
    _cli: ClaudeLb,
}

impl Served {
    pub(crate) fn start(cli: ClaudeLb, config_path: &std::path::Path) -> Self {
        Self::start_with(cli, config_path, &[])
    }

    pub(crate) fn start_with(cli: ClaudeLb, config_path: &std::path::Path, args: &[&str]) -> Self {
        Self::start_logged(cli, config_path, args, "info")
    }

    /// Started with this `CLAUDE_LB_LOG` filter.
    pub(crate) fn start_logged(
        cli: ClaudeLb,
        config_path: &std::path::Path,
        args: &[&str],
        log: &str,
    ) -> Self {
        let mut cli = cli;
        cli.env("CLAUDE_LB_LOG", log)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .args(["--config"])
            .arg_path(config_path);
        let mut child = cli.spawn();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Reads the log until the process ends; the thread ends with it.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut served = Self {
            child,
            url: String::new(),
            log: rx,
            seen: Vec::new(),
            _cli: cli,
        };
        let line = served.wait_for_log("listening on");
        let addr = line.rsplit("listening on ").next().unwrap();
        // The first word after it, in a text line or a JSON one.
        let addr = addr
            .split(|c: char| c.is_whitespace() || c == '"')
            .next()
            .unwrap();
        served.url = format!("http://{addr}");
        served
    }

    pub(crate) fn wait_for_log(&mut self, needle: &str) -> String {
        loop {
            match self.log.recv_timeout(Duration::from_secs(10)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(error) => panic!("no log line with {needle:?} within 10s: {error}"),
            }
        }
    }

    /// The first log line with `needle`, among those already read or the next ones.
    pub(crate) fn find_log(&mut self, needle: &str) -> String {
        match self.seen.iter().find(|line| line.contains(needle)) {
            Some(line) => line.clone(),
            None => self.wait_for_log(needle),
        }
    }

    /// Every log line written so far and not yet read.
    pub(crate) fn drain_log(&mut self) -> Vec<String> {
        self.log.try_iter().collect()
    }

    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    async fn provider_names(&self) -> Vec<String> {
        let list: serde_json::Value = reqwest::get(format!("{}/providers", self.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn wait_for_providers(&self, expect: &[&str]) {
        for _ in 0..100 {
            if self.provider_names().await == expect {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "providers never became {expect:?}: {:?}",
            self.provider_names().await
        );
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn serve_logs_each_request_and_reloads_on_file_change_and_sighup() {
    let a = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let b = MockUpstream::anthropic().start().await;
    let cli = ClaudeLb::new();
    // The config is reached through a symlink: writing the target file is invisible to the
    // directory watch, so the second reload below can only come from SIGHUP.
    let elsewhere = tempfile::tempdir().unwrap();
    let real = elsewhere.path().join("providers.yaml");
    std::fs::write(&real, config(&[provider("a", &a), provider("b", &b)])).unwrap();
    let link = cli.home().join("providers.yaml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let mut served = Served::start(cli, &link);

    let response = messages(
        &reqwest::Client::new(),
        &served.url,
        body("claude-opus-5-5", false),
    )
    .await;
    assert_eq!(response.status(), 200);
    let log_line = served.wait_for_log("request_id=");
    for field in [
        "provider=b ",
        r#"model="claude-opus-5-5""#,
        "status=200",
        "attempts=2",
        "a: HTTP 529",
        "input_tokens=",
    ] {
        assert!(log_line.contains(field), "{field} in {log_line}");
    }

    // File watch: replacing the file the config path names reloads it.
    std::fs::remove_file(&link).unwrap();
    std::fs::write(&link, config(&[provider("b", &b)])).unwrap();
    served.wait_for_providers(&["b"]).await;

    // SIGHUP: point the path at the other file again, then change that file unseen.
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    served.wait_for_providers(&["a", "b"]).await;
    // Let the watch's debounced events for the new link settle first.
    tokio::time::sleep(Duration::from_millis(800)).await;
    std::fs::write(&real, config(&[provider("c", &a), provider("b", &b)])).unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        served.provider_names().await,
        ["a", "b"],
        "no reload without a signal"
    );
    served.signal("HUP");
    served.wait_for_providers(&["c", "b"]).await;
}

#[tokio::test]
async fn reading_or_rewriting_the_config_unchanged_never_reloads_it() {
    let a = MockUpstream::anthropic().start().await;
    let b = MockUpstream::anthropic().start().await;
    let cli = ClaudeLb::new();
    let text = config(&[provider("a", &a), provider("b", &b)]);
    let path = cli.write("providers.yaml", &text);
    let mut served = Served::start(cli, &path);
    let banner = served.wait_for_log("point Claude Code at it");
    assert!(
        banner.contains(&format!(
            "ANTHROPIC_BASE_URL={} ANTHROPIC_API_KEY=",
            served.url
        )),
        "{banner}"
    );

    for _ in 0..20 {
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
    for _ in 0..3 {
        let mut validate = ClaudeLb::new();
        let run = validate
            .args(["config", "validate", "--config"])
            .arg_path(&path)
            .run();
        assert_eq!(run.code, 0, "{run:?}");
    }
    // Written again with the same bytes: a modify event, but nothing changed.
    std::fs::write(&path, &text).unwrap();
    // Past the watch's debounce, several times over.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let reloads = |lines: &[String]| {
        lines
            .iter()
            .filter(|l| l.contains("config reloaded"))
            .count()
    };
    let log = served.drain_log();
    assert_eq!(reloads(&log), 0, "{log:#?}");

    std::fs::write(&path, config(&[provider("b", &b)])).unwrap();
    served.wait_for_providers(&["b"]).await;
    // The reload reads the file it reloads: that read must not make another.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let log = served.drain_log();
    assert_eq!(reloads(&log), 1, "{log:#?}");
}

#[tokio::test]
async fn with_clients_the_banner_asks_for_a_client_key() {
    let a = MockUpstream::anthropic().start().await;
    let cli = ClaudeLb::new();
    let text = format!(
        "{}clients:\n  - name: alice\n    key: clb-alice-key-0123456789\n",
        config(&[provider("a", &a)])
    );
    let path = cli.write("providers.yaml", &text);
    let mut served = Served::start(cli, &path);
    let banner = served.wait_for_log("point Claude Code at it");
    assert!(
        banner.contains(&format!(
            "ANTHROPIC_BASE_URL={} ANTHROPIC_API_KEY=<a client key> claude",
            served.url
        )),
        "{banner}"
    );
}

/// The request log line follows the config's `log_level`, as it is reloaded, both ways: the
/// line is written without `tracing`'s dispatch when the log is plain text, so its filter must
/// still be the log's.
#[tokio::test]
async fn the_request_line_follows_log_level_across_reloads() {
    let a = MockUpstream::anthropic().start().await;
    let b = MockUpstream::anthropic().start().await;
    let cli = ClaudeLb::new();
    let path = cli.home().join("providers.yaml");
    let with_level = |level: &str, providers: &[String]| {
        format!(
            "providers:\n{}settings:\n  request_timeout: 5\n  log_level: {level}\n",
            providers.concat()
        )
    };
    std::fs::write(&path, with_level("info", &[provider("a", &a)])).unwrap();
    // An empty `CLAUDE_LB_LOG` is ignored: the config's `log_level` decides.
    let mut served = Served::start_logged(cli, &path, &[], "");
    let client = reqwest::Client::new();
    let url = served.url.clone();
    let send = || messages(&client, &url, body("claude-opus-5-5", false));
    assert_eq!(send().await.status(), 200);
    served.wait_for_log("request_id=");

    std::fs::write(
        &path,
        with_level("warn", &[provider("a", &a), provider("b", &b)]),
    )
    .unwrap();
    served.wait_for_providers(&["a", "b"]).await;
    let _ = served.drain_log();
    assert_eq!(send().await.status(), 200);
    // A worker writes its kept lines as soon as it runs out of work.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let quiet = served.drain_log();
    assert!(
        quiet.iter().all(|line| !line.contains("request_id=")),
        "{quiet:#?}"
    );

    std::fs::write(&path, with_level("info", &[provider("b", &b)])).unwrap();
    served.wait_for_providers(&["b"]).await;
    assert_eq!(send().await.status(), 200);
    let line = served.wait_for_log("request_id=");
    assert!(
        line.contains(" INFO ok ") && line.contains("provider=b "),
        "{line}"
    );
}

#[tokio::test]
async fn sigterm_lets_the_stream_in_flight_finish() {
    let events = [
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"slow"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":1}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ];
    let mock = MockUpstream::anthropic()
        .reply(Reply::sse_events(&events).delay_each(Duration::from_millis(300)))
        .start()
        .await;
    let cli = ClaudeLb::new();
    let path = cli.write("providers.yaml", &config(&[provider("only", &mock)]));
    let mut served = Served::start(cli, &path);
    let response = messages(&reqwest::Client::new(), &served.url, body("m", true)).await;
    served.signal("TERM");
    served.wait_for_log("shutting down");
    let events = sse_events(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap().0, "message_stop");
    let status = served.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn a_port_held_by_a_running_claude_lb_is_named_with_what_to_do() {
    let mock = MockUpstream::anthropic().start().await;
    let cli = ClaudeLb::new();
    let path = cli.write("p.yaml", &config(&[provider("main", &mock)]));
    let served = Served::start(cli, &path);
    let addr = served.url.trim_start_matches("http://").to_owned();
    let second = tokio::task::spawn_blocking(move || {
        ClaudeLb::new()
            .args(["serve", "--listen", &addr, "--config"])
            .arg_path(&path)
            .run()
    })
    .await
    .unwrap();
    assert_eq!(second.code, 1, "{second:?}");
    assert!(
        second.stderr.contains(&format!(
            "{} is already in use by a running claude-lb {}",
            served.url.trim_start_matches("http://"),
            env!("CARGO_PKG_VERSION")
        )),
        "{second:?}"
    );
    assert!(second.stderr.contains("--listen 127.0.0.1:0"), "{second:?}");

    // Another program on the port: said so, without a claude-lb to point at.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = other.local_addr().unwrap().to_string();
    let cli = ClaudeLb::new();
    let path = cli.write("p.yaml", &config(&[provider("main", &mock)]));
    let run = tokio::task::spawn_blocking(move || {
        let mut cli = cli;
        cli.args(["serve", "--listen", &addr, "--config"])
            .arg_path(&path)
            .run()
    })
    .await
    .unwrap();
    drop(other);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("in use by another program"), "{run:?}");
}

#[test]
fn a_bad_listen_address_names_where_it_came_from() {
    let mut cli = ClaudeLb::new();
    let path = cli.write(
        "p.yaml",
        "providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n",
    );
    let run = cli
        .env("CLAUDE_LB_LISTEN", "localhost")
        .args(["serve", "--config"])
        .arg_path(&path)
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("CLAUDE_LB_LISTEN: expected an address and port"),
        "{run:?}"
    );
    for command in [&["serve"][..], &["mock", "--type", "anthropic"], &["demo"]] {
        let run = ClaudeLb::new()
            .args(command)
            .args(["--listen", "nowhere"])
            .run();
        assert_eq!(run.code, 2, "{command:?}: {run:?}");
        assert!(run.stderr.contains("--listen"), "{command:?}: {run:?}");
        assert!(
            run.stderr.contains("expected an address and port"),
            "{command:?}: {run:?}"
        );
    }
}

#[tokio::test]
async fn a_stream_cut_after_the_commit_is_logged_as_a_warning() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::sim().cut_after(4))
        .start()
        .await;
    let cli = ClaudeLb::new();
    let path = cli.write("p.yaml", &config(&[provider("main", &mock)]));
    let mut served = Served::start(cli, &path);
    let response = messages(
        &reqwest::Client::new(),
        &served.url,
        body("claude-opus-5-5", true),
    )
    .await;
    assert_eq!(response.status(), 200);
    let _ = response.bytes().await;
    let line = served.wait_for_log("request_id=");
    assert!(line.contains("stream failed after commit"), "{line}");
    assert!(line.contains("WARN"), "{line}");
    assert!(!line.contains("INFO"), "{line}");
}

#[tokio::test]
async fn log_format_json_writes_one_object_per_line_and_the_flag_wins() {
    let mock = MockUpstream::anthropic().start().await;
    let yaml = format!(
        "providers:\n{}settings:\n  log_format: json\n",
        provider("main", &mock)
    );
    let cli = ClaudeLb::new();
    let path = cli.write("p.yaml", &yaml);
    let mut served = Served::start(cli, &path);
    messages(
        &reqwest::Client::new(),
        &served.url,
        body("claude-opus-5-5", false),
    )
    .await;
    let line = served.wait_for_log("request_id");
    let json: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(json["level"], "INFO", "{line}");
    assert_eq!(json["provider"], "main", "{line}");
    assert_eq!(json["status"], 200, "{line}");
    assert_eq!(json["message"], "ok", "{line}");
    drop(served);

    let cli = ClaudeLb::new();
    let path = cli.write("p.yaml", &yaml);
    let mut served = Served::start_with(cli, &path, &["--log-format", "text"]);
    messages(
        &reqwest::Client::new(),
        &served.url,
        body("claude-opus-5-5", false),
    )
    .await;
    let line = served.wait_for_log("request_id");
    assert!(
        serde_json::from_str::<serde_json::Value>(&line).is_err(),
        "{line}"
    );
    assert!(line.contains("request_id="), "{line}");
}

#[cfg(unix)]
#[tokio::test]
async fn serve_warns_about_a_readable_key_and_refuses_a_writable_file_on_reload() {
    use std::os::unix::fs::PermissionsExt as _;
    let b = MockUpstream::anthropic().start().await;
    let cli = ClaudeLb::new();
    let path = cli.write(
        "providers.yaml",
        &config(&[provider("b", &b).replace("auth_value: k", "auth_value: sk-literal-key-1")]),
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut served = Served::start(cli, &path);
    // The warning comes before the server listens, so it is among the lines read already or
    // the next ones: look from the start.
    served.signal("HUP");
    served.wait_for_log("other users can read it (mode 644)");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    served.signal("HUP");
    let line = served.wait_for_log("config not reloaded");
    assert!(
        line.contains("writable by other users (mode 666)"),
        "{line}"
    );
    assert_eq!(served.provider_names().await, ["b"]);
}

#[tokio::test]
async fn log_lines_escape_and_cap_what_the_client_sent() {
    let b = MockUpstream::anthropic().start().await;
    let cli = ClaudeLb::new();
    let path = cli.write("providers.yaml", &config(&[provider("b", &b)]));
    let mut served = Served::start(cli, &path);
    let client = reqwest::Client::new();
    let response = messages(&client, &served.url, body("m\nINFO forged line\r", false)).await;
    assert_eq!(response.status(), 200);
    let line = served.wait_for_log("request_id=");
    assert!(line.contains(r"m\\nINFO forged line\\r"), "{line}");

    let huge = "x".repeat(4 * 1024 * 1024);
    let response = messages(&client, &served.url, body(&huge, false)).await;
    assert_eq!(response.status(), 200);
    let line = served.wait_for_log("request_id=");
    assert!(line.len() < 2048, "a log line of {} bytes", line.len());
    assert!(line.contains("bytes in all"), "{line}");
    // No line ever started with the forged text.
    while let Ok(line) = served.log.try_recv() {
        assert!(!line.starts_with("INFO forged"), "{line}");
    }
}

#[tokio::test]
async fn the_usage_ledger_goes_to_the_data_directory_and_sigterm_writes_every_row() {
    let mock = MockUpstream::anthropic()
        .reply(Reply::sim())
        .reply(Reply::sim().delay(Duration::from_millis(500)))
        .start()
        .await;
    let cli = ClaudeLb::new();
    let db = cli.home().join(".local/share/claude-lb/usage.db");
    let path = cli.write("providers.yaml", &config(&[provider("only", &mock)]));
    let mut served = Served::start(cli, &path);
    let client = reqwest::Client::new();
    let first = messages(&client, &served.url, body("claude-sonnet-4-5", false)).await;
    assert_eq!(first.status(), 200);
    first.bytes().await.unwrap();
    // In flight when the signal comes: its row is written before the process exits.
    let second = tokio::spawn(
        client
            .post(format!("{}/v1/messages", served.url))
            .header("content-type", "application/json")
            .body(body("claude-sonnet-4-5", false))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    served.signal("TERM");
    let second = second.await.unwrap().unwrap();
    assert_eq!(second.status(), 200);
    second.bytes().await.unwrap();
    let status = served.child.wait().unwrap();
    assert!(status.success(), "{status}");
    let rows = claude_lb::usage::sqlite::SqliteStore::open(&db)
        .unwrap()
        .rows(0, i64::MAX)
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(rows.iter().all(|r| r.provider.as_deref() == Some("only")));
    assert!(rows.iter().all(|r| r.cost_usd.is_some()), "{rows:#?}");
}

/// The log line of an answer written whole is the answer's to let go: the proxy drops it once
/// the answer is on its way, so a client never waits for it, and it is written exactly once.
#[tokio::test]
async fn the_log_line_of_a_whole_answer_is_written_when_the_answer_lets_it_go() {
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let text = || String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    // This test's runtime runs on this thread only, so every event of the request comes here.
    let _guard = tracing::subscriber::set_default(subscriber);

    let a = MockUpstream::anthropic().start().await;
    let cli = ClaudeLb::new();
    let path = cli.write("providers.yaml", &config(&[provider("a", &a)]));
    let loaded = claude_lb::config::load(&path, &crate::support::no_env).unwrap();
    let dispatcher = claude_lb::dispatch::Dispatcher::new(
        loaded.config,
        claude_lb::upstream::Upstream::new(&crate::support::no_env).unwrap(),
    );
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    let mut answer = dispatcher
        .send(claude_lb::dispatch::ClientRequest {
            path_and_query: "/v1/messages".to_owned(),
            headers,
            body: body("claude-opus-5-5", false).into(),
            client: None,
        })
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert!(!text().contains("request_id="), "{}", text());

    drop(std::mem::take(&mut answer.log_line));
    let lines = text();
    assert_eq!(lines.matches("request_id=").count(), 1, "{lines}");
    for field in [
        " ok request_id=",
        "provider=a ",
        "status=200",
        "output_tokens=12",
    ] {
        assert!(lines.contains(field), "{field} in {lines}");
    }
    drop(answer);
    assert_eq!(text().matches("request_id=").count(), 1, "{}", text());
}

/// `serve` writes the line of an answer after the answer, on the connection that carried it:
/// while that connection stays open for the next request, each answer's line is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_lines_of_many_concurrent_requests_are_all_written_while_the_server_idles() {
    let a = MockUpstream::anthropic().start().await;
    let cli = ClaudeLb::new();
    let path = cli.write("providers.yaml", &config(&[provider("a", &a)]));
    let mut served = Served::start(cli, &path);
    // Eight clients (eight connections) sending at once, so that the server's workers run
    // many requests between two idle moments and keep their lines meanwhile.
    let sent = futures_util::future::join_all((0..8).map(|_| {
        let url = served.url.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut ids = Vec::new();
            for _ in 0..25 {
                let response = messages(&client, &url, body("claude-opus-5-5", false)).await;
                assert_eq!(response.status(), 200);
                let id = response.headers()["x-claude-lb-request-id"]
                    .to_str()
                    .unwrap();
                ids.push(id.to_owned());
                response.bytes().await.unwrap();
            }
            ids
        })
    }))
    .await;
    let ids: std::collections::HashSet<String> =
        sent.into_iter().flat_map(Result::unwrap).collect();
    assert_eq!(ids.len(), 200);
    // The server is idle now and still running: every line is out, each once.
    let mut written = Vec::new();
    while written.len() < ids.len() {
        let line = served.wait_for_log("request_id=");
        written.push(line);
    }
    std::thread::sleep(Duration::from_millis(200));
    written.extend(
        served
            .drain_log()
            .into_iter()
            .filter(|l| l.contains("request_id=")),
    );
    let logged: Vec<&str> = written
        .iter()
        .filter_map(|line| line.split("request_id=").nth(1)?.split(' ').next())
        .collect();
    assert_eq!(logged.len(), 200, "one line per request");
    assert!(logged.iter().all(|id| ids.contains(*id)));
    assert_eq!(
        logged
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        200
    );
}

#[tokio::test]
async fn each_answer_on_a_kept_alive_connection_gets_its_log_line_while_the_connection_waits() {
    let a = MockUpstream::anthropic().start().await;
    let cli = ClaudeLb::new();
    let path = cli.write("providers.yaml", &config(&[provider("a", &a)]));
    let mut served = Served::start(cli, &path);
    // One client, so one kept-alive connection, open until the end of the test.
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = messages(&client, &served.url, body("claude-opus-5-5", false)).await;
        assert_eq!(response.status(), 200);
        let id = response.headers()["x-claude-lb-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        response.bytes().await.unwrap();
        let line = served.wait_for_log(&format!("request_id={id}"));
        assert!(line.contains("status=200"), "{line}");
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
    drop(client);
}
