//! `claude-lb providers list`: the providers of the config file, and the live state of a
//! running instance (`--remote`).

use claude_lb::mock::{MockUpstream, Reply};

use crate::check::{SECRET, run_bin, unreachable};
use crate::support::cli::ClaudeLb;
use crate::support::proxy::{Proxy, body};

const FILE: &str = "\
providers:
  - name: official
    type: anthropic
    auth_type: api_key
    auth_value: \"${TEST_LB_KEY}\"
  - name: relay
    type: anthropic
    auth_type: auth_token
    auth_value: sk-test-literal-secret-4711
    base_url: https://relay.example.com
    weight: 3
    headers:
      X-Relay-Auth: header-secret-value-99
  - name: router
    type: openai
    auth_type: api_key
    auth_value: sk-test-literal-secret-4711
    base_url: https://openrouter.ai/api/v1
    models:
      \"claude-*haiku*\": deepseek/deepseek-chat
      \"*\": anthropic/claude-sonnet-4.5
  - name: spare
    type: anthropic
    auth_type: api_key
    auth_value: \"${UNSET_SPARE_KEY}\"
    enabled: false
";

fn lb(args: &[&str]) -> ClaudeLb {
    let mut lb = ClaudeLb::new();
    lb.write("providers.yaml", FILE);
    lb.env("TEST_LB_KEY", "sk-ant-env-secret-1234").args(args);
    lb
}

#[track_caller]
fn assert_no_secrets(text: &str) {
    for secret in [SECRET, "sk-ant-env-secret-1234", "header-secret-value-99"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

#[test]
fn list_shows_the_file_without_secrets() {
    let run = lb(&["providers", "list"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_secrets(&run.stdout);
    assert_no_secrets(&run.stderr);
    let row = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("no row for {name}: {}", run.stdout))
            .to_owned()
    };
    assert!(row("official").contains("api_key (from $TEST_LB_KEY)"));
    assert!(row("official").contains("https://api.anthropic.com"));
    assert!(row("official").contains("every model, as named"));
    assert!(row("relay").contains("auth_token (set)"));
    assert!(row("relay").contains(" 3 "));
    assert!(row("router").contains("claude-*haiku* → deepseek/deepseek-chat"));
    assert!(run.stdout.contains("* → anthropic/claude-sonnet-4.5"));
    assert!(row("spare").contains("missing ($UNSET_SPARE_KEY is not set)"));
    assert!(row("spare").contains(" no "));
}

#[test]
fn list_json_is_one_document_without_secrets() {
    let run = lb(&["providers", "list", "--json"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_secrets(&run.stdout);
    let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["official", "relay", "router", "spare"]);
    assert_eq!(list[0]["secret"], "from $TEST_LB_KEY");
    // The URL as requests use it: the default filled in, no trailing slash.
    assert_eq!(list[0]["base_url"], "https://api.anthropic.com");
    assert_eq!(list[2]["base_url"], "https://openrouter.ai/api/v1");
    assert_eq!(list[0]["secret_set"], true);
    assert_eq!(list[1]["secret"], "set");
    assert_eq!(list[1]["auth_type"], "auth_token");
    assert_eq!(list[1]["weight"], 3);
    assert_eq!(list[1]["headers"], serde_json::json!(["x-relay-auth"]));
    assert_eq!(list[2]["type"], "openai");
    assert_eq!(
        list[2]["models"][0],
        serde_json::json!({"pattern": "claude-*haiku*", "model": "deepseek/deepseek-chat"})
    );
    assert_eq!(list[3]["enabled"], false);
    assert_eq!(list[3]["secret_set"], false);
}

fn proxy_config(first: &str, second: &str) -> String {
    format!(
        "providers:\n  - name: first\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {first}\n  - name: second\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {second}\nsettings:\n  failure_cooldown: 60\n"
    )
}

#[tokio::test]
async fn remote_shows_the_live_state_of_a_running_instance() {
    let first = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let second = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&proxy_config(&first.base_url(), &second.base_url())).await;
    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.status(), 200);

    let mut table = ClaudeLb::new();
    table.args(["providers", "list", "--remote", &proxy.url]);
    let run_table = run_bin(table).await;
    assert_eq!(run_table.code, 0, "{run_table:?}");
    let row = |name: &str| {
        run_table
            .stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("no row for {name}: {}", run_table.stdout))
            .to_owned()
    };
    assert!(
        row("first").contains("cooling down ("),
        "{}",
        run_table.stdout
    );
    assert!(row("first").contains("HTTP 529"), "{}", run_table.stdout);
    assert!(row("second").contains("available"), "{}", run_table.stdout);

    let mut json = ClaudeLb::new();
    json.args(["providers", "list", "--json", "--remote", &proxy.url]);
    let run_json = run_bin(json).await;
    assert_eq!(run_json.code, 0, "{run_json:?}");
    let list: serde_json::Value = serde_json::from_str(&run_json.stdout).unwrap();
    assert_eq!(list[0]["name"], "first");
    assert_eq!(list[0]["state"], "cooling_down");
    assert_eq!(list[0]["consecutive_failures"], 1);
    assert!(list[0]["cooldown_remaining_s"].as_f64().unwrap() > 0.0);
    assert_eq!(list[1]["state"], "available");
    assert_eq!(list[1]["requests"], 1);
    assert!(!run_json.stdout.contains("sk-test-secret-value"));
}

#[tokio::test]
async fn remote_says_when_no_instance_answers() {
    let gone = unreachable();
    let url = gone.url.clone();
    let mut lb = ClaudeLb::new();
    lb.args(["providers", "list", "--remote", &url]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "");
    let expect = format!("error: cannot reach claude-lb at {url}/providers: connection refused");
    assert!(run.stderr.starts_with(&expect), "{run:?}");
    assert!(run.stderr.contains("is `claude-lb serve` running there?"));
}

#[tokio::test]
async fn remote_sends_the_admin_token_and_says_when_it_is_refused() {
    let guarded = MockUpstream::anthropic()
        .reply(Reply::status(403))
        .start()
        .await;
    let mut lb = ClaudeLb::new();
    lb.env("CLAUDE_LB_ADMIN_TOKEN", "tok-from-env").args([
        "providers",
        "list",
        "--remote",
        &guarded.url(),
    ]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("answered HTTP 403"), "{run:?}");
    assert!(run.stderr.contains("--admin-token"), "{run:?}");
    assert!(!run.stderr.contains("tok-from-env"), "{run:?}");
    let seen = guarded.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].headers["authorization"], "Bearer tok-from-env");
}

#[tokio::test]
async fn remote_says_when_the_answer_is_not_a_provider_list() {
    let not_lb = MockUpstream::anthropic()
        .reply(Reply::raw(200, "text/html", "<html>hello</html>"))
        .reply(Reply::status(404))
        .start()
        .await;
    for expect in [
        "did not answer with claude-lb's provider list",
        "answered HTTP 404",
    ] {
        let mut lb = ClaudeLb::new();
        lb.args(["providers", "list", "--remote", &not_lb.url()]);
        let run = run_bin(lb).await;
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains(&not_lb.url()), "{run:?}");
        assert!(run.stderr.contains(expect), "{run:?}");
    }
}

#[test]
fn an_unset_key_variable_makes_one_provider_unusable_not_the_whole_file() {
    let mut lb = ClaudeLb::new();
    lb.write("providers.yaml", FILE);
    // TEST_LB_KEY is not set: `official` is unusable, the rest still list, check and serve.
    let run = lb.args(["providers", "list"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    let row = run
        .stdout
        .lines()
        .find(|l| l.contains(" official "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(row.contains("unusable: missing $TEST_LB_KEY"), "{row}");

    let mut validate = ClaudeLb::new();
    let path = validate.write("providers.yaml", FILE);
    let run = validate.args(["config", "validate"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("TEST_LB_KEY is not set, so provider \"official\" is unusable")
            && run.stdout.contains("1 unusable"),
        "{run:?}"
    );

    let mut check = ClaudeLb::new();
    check
        .args(["check", "--provider", "official", "--config"])
        .arg_path(&path);
    let run = check.run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("unusable: missing $TEST_LB_KEY"),
        "{run:?}"
    );
}

#[tokio::test]
async fn serve_refuses_only_when_no_provider_is_usable() {
    let only = "\
providers:
  - name: official
    type: anthropic
    auth_type: api_key
    auth_value: \"${TEST_LB_KEY}\"
";
    let mut lb = ClaudeLb::new();
    lb.write("providers.yaml", only);
    let run = lb.args(["serve", "--listen", "127.0.0.1:0"]).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("no provider is usable (official: missing $TEST_LB_KEY)"),
        "{run:?}"
    );
}

#[tokio::test]
async fn a_provider_missing_its_key_is_skipped_and_shown_as_unusable() {
    let good = MockUpstream::anthropic().start().await;
    let yaml = format!(
        "providers:\n  - name: keyless\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_LB_UNSET}}\"\n    base_url: {}\n  - name: good\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    base_url: {}\n",
        good.base_url(),
        good.base_url()
    );
    let proxy = Proxy::start(&yaml).await;
    let response = proxy.messages(body("claude-opus-4-8", false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-claude-lb-provider"], "good");
    assert_eq!(good.request_count(), 1, "the keyless provider got nothing");
    let keyless = proxy.provider("keyless").await;
    assert_eq!(keyless["state"], "unusable", "{keyless}");
    assert_eq!(keyless["unusable"], "missing $TEST_LB_UNSET", "{keyless}");

    let mut remote = ClaudeLb::new();
    remote.args(["providers", "list", "--remote", &proxy.url]);
    let run = run_bin(remote).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("unusable: missing $TEST_LB_UNSET"),
        "{run:?}"
    );
}

#[tokio::test]
async fn remote_shows_each_providers_sessions_and_cache_hit_ratio() {
    let answer = serde_json::json!({
        "type": "message", "id": "msg_1", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 50, "cache_creation_input_tokens": 50,
                  "cache_read_input_tokens": 900, "output_tokens": 2},
    });
    let first = MockUpstream::anthropic()
        .reply(Reply::json(200, answer))
        .start()
        .await;
    let second = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&proxy_config(&first.base_url(), &second.base_url())).await;
    let response = proxy
        .client
        .post(format!("{}/v1/messages", proxy.url))
        .header("content-type", "application/json")
        .header("x-claude-code-session-id", "session-1")
        .body(body("claude-opus-5-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let mut table = ClaudeLb::new();
    table.args(["providers", "list", "--remote", &proxy.url]);
    let run = run_bin(table).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("cache hit"), "{}", run.stdout);
    let row = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("no row for {name}: {}", run.stdout))
            .to_owned()
    };
    assert!(row("first").contains("90%"), "{}", run.stdout);
    assert!(!row("second").contains('%'), "{}", run.stdout);

    let mut json = ClaudeLb::new();
    json.args(["providers", "list", "--json", "--remote", &proxy.url]);
    let run = run_bin(json).await;
    let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(list[0]["sessions"], 1);
    assert_eq!(list[0]["cache_read_tokens"], 900);
    assert_eq!(list[1]["sessions"], 0);
}
