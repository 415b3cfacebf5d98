//! `claude-lb check`: every provider probed with a real minimal request, and why one fails.

use claude_lb::mock::{MockHandle, MockUpstream, Reply};

use crate::support::cli::{ClaudeLb, Run};

/// A literal key written in the test configs; it must never appear in any output.
pub(crate) const SECRET: &str = "sk-test-literal-secret-4711";

/// Runs the binary off the async runtime, so the in-process mocks keep serving meanwhile.
pub(crate) async fn run_bin(mut lb: ClaudeLb) -> Run {
    tokio::task::spawn_blocking(move || lb.run()).await.unwrap()
}

/// An address where nothing listens, for as long as this lives: its port is held by a socket
/// that is bound but never listens, so a connection to it is refused, and no other test's
/// server can take the port meanwhile (as it could take a port only bound and released).
pub(crate) struct Unreachable {
    pub(crate) url: String,
    _held: tokio::net::TcpSocket,
}

pub(crate) fn unreachable() -> Unreachable {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let url = format!("http://{}", socket.local_addr().unwrap());
    Unreachable { url, _held: socket }
}

/// One provider block of a config; `extra` is more indented YAML lines.
pub(crate) fn provider(name: &str, kind: &str, base_url: &str, extra: &str) -> String {
    format!(
        "  - name: {name}\n    type: {kind}\n    auth_type: api_key\n    auth_value: {SECRET}\n    base_url: {base_url}\n{extra}"
    )
}

/// A `ClaudeLb` whose `./providers.yaml` holds these providers.
pub(crate) fn lb_with(providers: &[String]) -> ClaudeLb {
    let lb = ClaudeLb::new();
    lb.write(
        "providers.yaml",
        &format!(
            "providers:\n{}settings:\n  request_timeout: 5\n",
            providers.concat()
        ),
    );
    lb
}

#[track_caller]
fn assert_no_secret(run: &Run) {
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "the secret leaked: {run:?}"
    );
}

async fn three() -> (MockHandle, MockHandle, Unreachable) {
    let healthy = MockUpstream::anthropic().start().await;
    let rejecting = MockUpstream::anthropic()
        .reply(Reply::status(401))
        .start()
        .await;
    (healthy, rejecting, unreachable())
}

fn three_config(healthy: &MockHandle, rejecting: &MockHandle, gone: &str) -> ClaudeLb {
    lb_with(&[
        provider("healthy", "anthropic", &healthy.base_url(), ""),
        provider("rejecting", "anthropic", &rejecting.base_url(), ""),
        provider("gone", "anthropic", gone, ""),
    ])
}

#[tokio::test]
async fn check_names_each_failing_provider_and_why() {
    let (healthy, rejecting, gone) = three().await;
    let mut lb = three_config(&healthy, &rejecting, &gone.url);
    lb.args(["check"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_no_secret(&run);
    let row = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("no row for {name}: {}", run.stdout))
            .to_owned()
    };
    assert!(row("healthy").contains(" ok "), "{}", run.stdout);
    assert!(row("healthy").contains("answered"), "{}", run.stdout);
    assert!(row("rejecting").contains("FAIL"), "{}", run.stdout);
    assert!(
        row("rejecting").contains("key rejected (HTTP 401)"),
        "{}",
        run.stdout
    );
    assert!(row("gone").contains("FAIL"), "{}", run.stdout);
    assert!(row("gone").contains("connection refused"), "{}", run.stdout);
    assert!(
        run.stdout.contains("1 of 3 providers passed"),
        "{}",
        run.stdout
    );
    // Each reachable provider got exactly one probe.
    assert_eq!(healthy.request_count(), 1);
    assert_eq!(rejecting.request_count(), 1);
}

#[tokio::test]
async fn check_json_is_one_document_with_a_status_per_provider() {
    let (healthy, rejecting, gone) = three().await;
    let mut lb = three_config(&healthy, &rejecting, &gone.url);
    lb.args(["check", "--json"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_no_secret(&run);
    let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let by_name = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap()
    };
    let ok = by_name("healthy");
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["status"], "ok");
    assert_eq!(ok["type"], "anthropic");
    assert_eq!(ok["error"], serde_json::Value::Null);
    assert!(ok["latency_ms"].is_u64());
    let rejected = by_name("rejecting");
    assert_eq!(rejected["ok"], false);
    assert_eq!(rejected["status"], "key_rejected");
    assert_eq!(rejected["http_status"], 401);
    assert!(
        rejected["error"]
            .as_str()
            .unwrap()
            .starts_with("key rejected (HTTP 401)")
    );
    let gone = by_name("gone");
    assert_eq!(gone["ok"], false);
    assert_eq!(gone["status"], "unreachable");
    assert!(
        gone["error"]
            .as_str()
            .unwrap()
            .starts_with("connection refused")
    );
}

#[tokio::test]
async fn check_one_provider_probes_only_it() {
    let (healthy, rejecting, gone) = three().await;
    let mut lb = three_config(&healthy, &rejecting, &gone.url);
    lb.args(["check", "--provider", "healthy"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("1 of 1 provider passed"), "{run:?}");
    assert!(!run.stdout.contains("rejecting"), "{run:?}");
    assert_eq!(healthy.request_count(), 1);
    assert_eq!(rejecting.request_count(), 0);
}

#[tokio::test]
async fn check_refuses_an_unknown_or_disabled_provider() {
    let healthy = MockUpstream::anthropic().start().await;
    let mut lb = lb_with(&[
        provider("main", "anthropic", &healthy.base_url(), ""),
        provider(
            "spare",
            "anthropic",
            &healthy.base_url(),
            "    enabled: false\n",
        ),
    ]);
    lb.args(["check", "--provider", "nope"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: no provider named `nope` in `[HOME]/providers.yaml` (its providers: main, spare)"
        ),
        "{run:?}"
    );
    let mut lb = lb_with(&[provider("main", "anthropic", &healthy.base_url(), "")]);
    lb.args(["check", "--provider", "mian"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("(its providers: main), did you mean \"main\"?"),
        "{run:?}"
    );
    let mut lb = lb_with(&[
        provider("main", "anthropic", &healthy.base_url(), ""),
        provider(
            "spare",
            "anthropic",
            &healthy.base_url(),
            "    enabled: false\n",
        ),
    ]);
    lb.args(["check", "--provider", "spare"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("provider `spare` is disabled"),
        "{run:?}"
    );
    assert_eq!(healthy.request_count(), 0);
}

#[tokio::test]
async fn a_probe_is_the_request_serve_would_send() {
    let anthropic = MockUpstream::anthropic().start().await;
    let openai = MockUpstream::openai().start().await;
    let mut lb = lb_with(&[
        provider(
            "relay",
            "anthropic",
            &anthropic.base_url(),
            "    models:\n      \"claude-*haiku*\": relay-small\n      \"*\": relay-big\n",
        ),
        provider(
            "compat",
            "openai",
            &openai.base_url(),
            "    models:\n      \"claude-opus-5-5\": big-model\n",
        ),
    ]);
    lb.args(["check"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 0, "{run:?}");
    let sent = &anthropic.requests()[0];
    assert_eq!(sent.path(), "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(SECRET));
    let body = sent.json.as_ref().unwrap();
    assert_eq!(body["model"], "relay-small");
    assert_eq!(body["max_tokens"], 1);
    assert_ne!(body["stream"], true);
    let sent = &openai.requests()[0];
    assert_eq!(sent.path(), "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
    let body = sent.json.as_ref().unwrap();
    assert_eq!(body["model"], "big-model");
    assert!(body["messages"].is_array());
    assert!(run.stdout.contains("relay-small") && run.stdout.contains("big-model"));
}

#[tokio::test]
async fn a_rate_limited_provider_passes_and_an_overloaded_one_fails() {
    let limited = MockUpstream::anthropic()
        .reply(Reply::status(429).retry_after(30))
        .start()
        .await;
    let overloaded = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let mut lb = lb_with(&[
        provider("limited", "anthropic", &limited.base_url(), ""),
        provider("overloaded", "anthropic", &overloaded.base_url(), ""),
    ]);
    lb.args(["check", "--json"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(list[0]["status"], "rate_limited");
    assert_eq!(list[0]["ok"], true);
    assert!(
        list[0]["detail"]
            .as_str()
            .unwrap()
            .contains("retry after 30s")
    );
    assert_eq!(list[1]["status"], "overloaded");
    assert_eq!(list[1]["ok"], false);
}

#[tokio::test]
async fn a_silent_provider_times_out_and_an_unknown_model_is_named() {
    let silent = MockUpstream::anthropic()
        .reply(Reply::stall())
        .start()
        .await;
    let unknown = MockUpstream::anthropic()
        .reply(Reply::json(
            404,
            serde_json::json!({"type": "error", "error": {"type": "not_found_error", "message": "model: claude-haiku-5-5"}}),
        ))
        .start()
        .await;
    let lb = ClaudeLb::new();
    lb.write(
        "providers.yaml",
        &format!(
            "providers:\n{}{}settings:\n  request_timeout: 1\n",
            provider("silent", "anthropic", &silent.base_url(), ""),
            provider("unknown", "anthropic", &unknown.base_url(), ""),
        ),
    );
    let mut lb = lb;
    lb.args(["check", "--json"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(list[0]["status"], "timeout");
    assert_eq!(list[0]["error"], "no answer within 1s");
    assert!(list[0]["latency_ms"].as_u64().unwrap() >= 1000);
    assert_eq!(list[1]["status"], "model_not_found");
    assert_eq!(
        list[1]["error"],
        "model not found (HTTP 404): not_found_error: model: claude-haiku-5-5"
    );
}
