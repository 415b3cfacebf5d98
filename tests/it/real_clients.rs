//! Regressions found by driving `serve` with real clients (the `anthropic` Python SDK and the
//! Claude Code CLI, see `scripts/sdk_check.py`), each reproduced in-process with a mock reply
//! or a recorded request body.

use std::io::Write;
use std::sync::{Arc, Mutex};

use claude_lb::core::provider::ProviderKind;
use claude_lb::mock::{MockHandle, MockUpstream};

use crate::support::proxy::{Proxy, body, sse_events};

/// Every log line written while the guard lives on this thread. The tests run on tokio's
/// current-thread runtime, so the proxy's tasks log on the test's thread.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub(crate) fn install(&self) -> tracing::subscriber::DefaultGuard {
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

    pub(crate) fn lines(&self) -> Vec<String> {
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
        .find(|l| l.contains(" ok ") && l.contains("provider=oa "))
        .unwrap_or_else(|| panic!("no request line in {lines:#?}"));
    assert!(
        line.contains(&format!("output_tokens={output}")),
        "the log line shows the output tokens sent to the client: {line}"
    );
    assert!(line.contains("input_tokens="), "{line}");
}

fn anthropic_config(mock: &MockHandle) -> String {
    format!(
        "providers:\n  - name: an\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\nsettings:\n  request_timeout: 2\n  stream_idle_timeout: 2\n",
        mock.base_url()
    )
}

/// The first turn of `claude -p "say hi"` (Claude Code 2.1.332), cut down to the first two
/// of its twelve tools, with their recorded names, order and required inputs.
fn claude_code_first_turn(tools: &[&str]) -> String {
    let recorded = [
        serde_json::json!({"name": "Agent", "description": "Launch a new agent", "input_schema": {
            "type": "object", "required": ["description", "prompt"],
            "properties": {"description": {"type": "string"}, "prompt": {"type": "string"}}}}),
        serde_json::json!({"name": "Bash", "description": "Run a shell command", "input_schema": {
            "type": "object", "required": ["command"],
            "properties": {"command": {"type": "string"}}}}),
    ];
    let offered: Vec<_> = recorded
        .into_iter()
        .filter(|t| tools.contains(&t["name"].as_str().unwrap()))
        .collect();
    serde_json::json!({
        "model": "claude-opus-5-5",
        "max_tokens": 128_000,
        "stream": true,
        "thinking": {"type": "adaptive", "display": "omitted"},
        "system": [{"type": "text", "text": "You are a Claude agent."}],
        "tools": offered,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "<system-reminder>\nAttribution\n</system-reminder>"},
            {"type": "text", "text": "say hi"}]}],
    })
    .to_string()
}

/// What a simulated provider answered, through the proxy: the called tool's name, if any.
async fn called_tool(proxy: &Proxy, body: String) -> Option<String> {
    let response = proxy.messages(body).await;
    assert_eq!(response.status(), 200);
    let events = sse_events(&response.text().await.unwrap());
    events
        .iter()
        .find(|(n, d)| n == "content_block_start" && d["content_block"]["type"] == "tool_use")
        .map(|(_, d)| d["content_block"]["name"].as_str().unwrap().to_owned())
}

/// Claude Code offers `Agent` first. A simulated provider that called it made every
/// subagent start another one, so `claude -p "say hi"` never finished; it now calls the
/// first other tool, and answers a turn that offers only `Agent` with text.
#[tokio::test]
async fn simulated_providers_do_not_start_agents_without_end() {
    for mock in [
        MockUpstream::anthropic().start().await,
        MockUpstream::openai().start().await,
    ] {
        let config = match mock.kind() {
            ProviderKind::OpenAi => openai_config(&mock),
            ProviderKind::Anthropic => anthropic_config(&mock),
        };
        let proxy = Proxy::start(&config).await;
        let both = called_tool(&proxy, claude_code_first_turn(&["Agent", "Bash"])).await;
        assert_eq!(both.as_deref(), Some("Bash"), "{}", mock.base_url());
        let agent_only = called_tool(&proxy, claude_code_first_turn(&["Agent"])).await;
        assert_eq!(agent_only, None, "{}", mock.base_url());
    }
}
