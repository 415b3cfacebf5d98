//! Regressions found by driving `serve` with real clients (the `anthropic` Python SDK and the
//! Claude Code CLI, see `scripts/sdk_check.py`), each reproduced in-process with a mock reply
//! or a recorded request body.

use std::io::Write;
use std::sync::{Arc, Mutex};

use claude_lb::mock::{MockHandle, MockUpstream};

use crate::support::proxy::{Proxy, body, sse_events};

/// Every log line written while the guard lives on this thread. The tests run on tokio's
/// current-thread runtime, so the proxy's tasks log on the test's thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        // With a single scoped subscriber in the process, `tracing` decides whether a log
        // call site is enabled from the default subscriber of whichever thread reaches it
        // first, so a call site first reached by another test (whose thread has none) stays
        // disabled here too. A second, permanent subscriber makes `tracing` ask every
        // registered subscriber instead.
        static OTHER: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
        OTHER.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
        let sink = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn openai_config(mock: &MockHandle) -> String {
    format!(
        "providers:\n  - name: oa\n    type: openai\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n    models:\n      \"*\": upstream-model\nsettings:\n  request_timeout: 2\n  stream_idle_timeout: 2\n",
        mock.base_url()
    )
}

/// The request log line of a translated stream carries the token counts the client was
/// told, as the line of an Anthropic-type stream does.
#[tokio::test]
async fn translated_stream_logs_its_token_counts() {
    let logs = Captured::default();
    let _guard = logs.install();
    let mock = MockUpstream::openai().start().await;
    let proxy = Proxy::start(&openai_config(&mock)).await;

    let response = proxy.messages(body("claude-opus-5-5", true)).await;
    assert_eq!(response.status(), 200);
    let events = sse_events(&response.text().await.unwrap());
    let (_, delta) = events
        .iter()
        .find(|(name, _)| name == "message_delta")
        .expect("a message_delta");
    let output = delta["usage"]["output_tokens"].as_u64().unwrap();
    assert!(output > 0, "the mock reports usage: {delta}");

    let lines = logs.lines();
    let line = lines
        .iter()
        .find(|l| l.contains(" ok ") && l.contains("provider=\"oa\""))
        .unwrap_or_else(|| panic!("no request line in {lines:#?}"));
    assert!(
        line.contains(&format!("output_tokens={output}")),
        "the log line shows the output tokens sent to the client: {line}"
    );
    assert!(line.contains("input_tokens="), "{line}");
}
