//! `Proxy`: a real `serve` in-process on `127.0.0.1:0`, in front of mock providers.

use std::path::PathBuf;
use std::sync::Arc;

use claude_lb::dispatch::Dispatcher;
use claude_lb::proxy::{self, AppState};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running proxy. Dropping it stops the server.
pub(crate) struct Proxy {
    pub(crate) url: String,
    pub(crate) state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    pub(crate) client: reqwest::Client,
    /// The usage ledger's writer, when the proxy keeps one.
    ledger: Option<claude_lb::usage::Ledger>,
    _dir: Option<tempfile::TempDir>,
}

/// A Messages request body as Claude Code would send it, small.
pub(crate) fn body(model: &str, stream: bool) -> String {
    serde_json::json!({
        "model": model,
        "max_tokens": 64,
        "stream": stream,
        "messages": [{"role": "user", "content": "Say hello"}],
    })
    .to_string()
}

impl Proxy {
    /// Starts a proxy on a config written to a temp file (so reload works).
    pub(crate) async fn start(yaml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("providers.yaml");
        std::fs::write(&path, yaml).unwrap();
        Self::start_at(path, Some(dir)).await
    }

    pub(crate) async fn start_at(path: PathBuf, dir: Option<tempfile::TempDir>) -> Self {
        Self::start_inner(path, dir, None, |_| {}).await
    }

    /// Starts a proxy whose state `tune` adjusts first (a shorter deadline, say).
    pub(crate) async fn start_tuned(
        path: PathBuf,
        dir: Option<tempfile::TempDir>,
        tune: impl FnOnce(&mut AppState),
    ) -> Self {
        Self::start_inner(path, dir, None, tune).await
    }

    /// Starts a proxy that keeps a usage ledger in the `SQLite` file `db`.
    pub(crate) async fn start_with_ledger(yaml: &str, db: &std::path::Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("providers.yaml");
        std::fs::write(&path, yaml).unwrap();
        Self::start_inner(path, Some(dir), Some(db), |_| {}).await
    }

    async fn start_inner(
        path: PathBuf,
        dir: Option<tempfile::TempDir>,
        db: Option<&std::path::Path>,
        tune: impl FnOnce(&mut AppState),
    ) -> Self {
        let env: proxy::EnvLookup = Arc::new(|name: &str| match name {
            "TEST_SECRET" => Some("sk-test-secret-value".to_owned()),
            _ => None,
        });
        let loaded = claude_lb::config::load(&path, &*env).expect("test config is valid");
        let mut dispatcher = Dispatcher::new(
            loaded.config,
            claude_lb::upstream::Upstream::new(&*env).unwrap(),
        );
        let ledger = db.map(|db| {
            let settings = claude_lb::config::UsageSettings {
                store: claude_lb::config::UsageStore::Sqlite(db.to_path_buf()),
                retention: std::time::Duration::from_secs(90 * 86_400),
            };
            claude_lb::usage::start(&settings, None, dispatcher.metrics_handle())
                .unwrap()
                .unwrap()
        });
        if let Some(ledger) = &ledger {
            dispatcher = dispatcher.with_recorder(ledger.recorder());
        }
        let mut state = AppState::new(dispatcher, Some(path), env);
        state.usage_ledger =
            db.map(|db| claude_lb::usage::store::Location::Sqlite(db.to_path_buf()));
        state.budgets = ledger.as_ref().and_then(|l| l.budgets().cloned());
        tune(&mut state);
        let state = Arc::new(state);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(proxy::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        Self {
            url,
            state,
            shutdown: Some(tx),
            task: Some(task),
            client: reqwest::Client::new(),
            ledger,
            _dir: dir,
        }
    }

    /// Shuts the server down gracefully, as `serve` does on SIGTERM, and writes the usage rows
    /// still queued.
    pub(crate) async fn shut_down(mut self) {
        let task = self.begin_shutdown();
        task.await.unwrap().unwrap();
        if let Some(ledger) = self.ledger.take() {
            tokio::task::spawn_blocking(move || ledger.close())
                .await
                .unwrap();
        }
    }

    /// Sends raw bytes to the proxy (so that nothing normalises the path or the headers on the
    /// way) and returns the status and the whole answer.
    pub(crate) async fn raw(&self, request: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.url.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.unwrap();
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    /// The config file path.
    pub(crate) fn config_path(&self) -> PathBuf {
        self.state.config_path.clone().unwrap()
    }

    /// `POST /v1/messages?beta=true` with Claude Code's headers.
    pub(crate) async fn messages(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/messages?beta=true", self.url))
            .header("content-type", "application/json")
            .header("anthropic-version", "2023-06-01")
            .header(
                "anthropic-beta",
                "claude-code-20250219,interleaved-thinking-2025-05-14",
            )
            .header("x-api-key", "client-key-must-not-leak")
            .header("authorization", "Bearer client-token-must-not-leak")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub(crate) async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let (status, text) = self.get_text(path).await;
        (status, serde_json::from_str(&text).unwrap())
    }

    /// The admin API's entry for one provider.
    pub(crate) async fn provider(&self, name: &str) -> serde_json::Value {
        let (_, list) = self.get_json("/providers").await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap()
    }

    /// Sends the shutdown signal without waiting.
    pub(crate) fn begin_shutdown(&mut self) -> JoinHandle<anyhow::Result<()>> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.take().unwrap()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Parses an Anthropic SSE body into (event, data) pairs and checks that it is well formed:
/// one `message_start` first, and exactly one terminal event (`message_stop`, or an `error`)
/// with nothing after it.
#[track_caller]
pub(crate) fn sse_events(text: &str) -> Vec<(String, serde_json::Value)> {
    let mut events = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut name = String::new();
        let mut data = String::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                v.trim().clone_into(&mut name);
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
        let value: serde_json::Value = serde_json::from_str(&data)
            .unwrap_or_else(|e| panic!("event {name} carries invalid JSON {data:?}: {e}"));
        events.push((name, value));
    }
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"), "stream: {names:?}");
    assert_eq!(
        names.iter().filter(|n| **n == "message_start").count(),
        1,
        "one message_start: {names:?}"
    );
    let terminal = names
        .iter()
        .position(|n| *n == "message_stop" || *n == "error")
        .unwrap_or_else(|| panic!("no terminal event: {names:?}"));
    assert_eq!(
        terminal,
        names.len() - 1,
        "nothing after the end: {names:?}"
    );
    events
}
