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

/// A running `serve` process and its log lines.
struct Served {
    child: Child,
    url: String,
    log: mpsc::Receiver<String>,
    _cli: ClaudeLb,
}

impl Served {
    fn start(cli: ClaudeLb, config_path: &std::path::Path) -> Self {
        let mut cli = cli;
        cli.env("CLAUDE_LB_LOG", "info")
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
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
            _cli: cli,
        };
        let line = served.wait_for_log("listening on");
        let addr = line.rsplit("listening on ").next().unwrap();
        let addr = addr.split_whitespace().next().unwrap();
        served.url = format!("http://{addr}");
        served
    }

    fn wait_for_log(&mut self, needle: &str) -> String {
        loop {
            match self.log.recv_timeout(Duration::from_secs(10)) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(error) => panic!("no log line with {needle:?} within 10s: {error}"),
            }
        }
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

    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", served.url))
        .body(body("claude-opus-5-5", false))
        .send()
        .await
        .unwrap();
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
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", served.url))
        .body(body("m", true))
        .send()
        .await
        .unwrap();
    served.signal("TERM");
    served.wait_for_log("shutting down");
    let events = sse_events(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap().0, "message_stop");
    let status = served.child.wait().unwrap();
    assert!(status.success(), "{status}");
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
    let response = client
        .post(format!("{}/v1/messages", served.url))
        .body(body("m\nINFO forged line\r", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let line = served.wait_for_log("request_id=");
    assert!(line.contains(r"m\\nINFO forged line\\r"), "{line}");

    let huge = "x".repeat(4 * 1024 * 1024);
    let response = client
        .post(format!("{}/v1/messages", served.url))
        .body(body(&huge, false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let line = served.wait_for_log("request_id=");
    assert!(line.len() < 2048, "a log line of {} bytes", line.len());
    assert!(line.contains("bytes in all"), "{line}");
    // No line ever started with the forged text.
    while let Ok(line) = served.log.try_recv() {
        assert!(!line.starts_with("INFO forged"), "{line}");
    }
}
