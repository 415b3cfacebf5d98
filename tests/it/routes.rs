//! Routing rules end to end: `serve` in front of mock providers, each request sent where its
//! rule says; the `PROVIDER,MODEL` model name; reload; `route explain`.

use std::fmt::Write as _;

use claude_lb::mock::{MockHandle, MockUpstream, Reply};
use serde_json::json;

use crate::support::proxy::{Proxy, body};

fn provider(name: &str, mock: &MockHandle) -> String {
    format!(
        "  - name: {name}\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n",
        mock.base_url()
    )
}

const ROUTES: &str = "\
routes:
  - name: background
    when: { model: \"claude-*haiku*\" }
    providers: [cheap]
  - name: long_context
    when: { min_input_tokens: 60000 }
    providers: [think]
    model: long-model
  - name: thinking
    when: { thinking: true }
    providers: [think]
  - name: web_search
    when: { tool: \"web_search*\" }
    providers: [cheap]
    fallback: any
";

struct Pool {
    proxy: Proxy,
    main: MockHandle,
    cheap: MockHandle,
    think: MockHandle,
}

/// `main` (first in the file, so it takes what no rule routes), `cheap` and `think`, with
/// [`ROUTES`]; each mock answers with scripted `replies` first.
async fn pool(cheap_replies: Vec<Reply>) -> Pool {
    let main = MockUpstream::anthropic().start().await;
    let mut cheap = MockUpstream::anthropic();
    for reply in cheap_replies {
        cheap = cheap.reply(reply);
    }
    let cheap = cheap.start().await;
    let think = MockUpstream::anthropic().start().await;
    let yaml = format!(
        "providers:\n{}{}{}settings:\n  request_timeout: 2\n  failure_cooldown: 60\n{ROUTES}",
        provider("main", &main),
        provider("cheap", &cheap),
        provider("think", &think),
    );
    Pool {
        proxy: Proxy::start(&yaml).await,
        main,
        cheap,
        think,
    }
}

/// Sends `request` and returns the status and the provider that answered (`-` for none).
async fn send(proxy: &Proxy, request: serde_json::Value) -> (u16, String) {
    let response = proxy.messages(request.to_string()).await;
    let status = response.status().as_u16();
    let provider = response
        .headers()
        .get("x-claude-lb-provider")
        .map_or("-".to_owned(), |v| v.to_str().unwrap().to_owned());
    (status, provider)
}

fn request(model: &str) -> serde_json::Value {
    serde_json::from_str(&body(model, false)).unwrap()
}

fn last_model(mock: &MockHandle) -> String {
    let requests = mock.requests();
    requests.last().unwrap().json.as_ref().unwrap()["model"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn each_kind_of_request_goes_to_its_route() {
    let p = pool(Vec::new()).await;
    // Haiku side requests: the background route.
    assert_eq!(
        send(&p.proxy, request("claude-haiku-4-5")).await,
        (200, "cheap".into())
    );
    assert_eq!(last_model(&p.cheap), "claude-haiku-4-5");
    // Nothing special: the whole pool, in priority order.
    assert_eq!(
        send(&p.proxy, request("claude-sonnet-4-5")).await,
        (200, "main".into())
    );
    // Thinking enabled (Claude Code's `adaptive` too).
    for thinking in [
        json!({"type": "enabled", "budget_tokens": 1024}),
        json!({"type": "adaptive"}),
    ] {
        let mut r = request("claude-opus-4-5");
        r["thinking"] = thinking;
        assert_eq!(send(&p.proxy, r).await, (200, "think".into()));
    }
    let mut disabled = request("claude-opus-4-5");
    disabled["thinking"] = json!({"type": "disabled"});
    assert_eq!(send(&p.proxy, disabled).await, (200, "main".into()));
    // The web search tool.
    let mut search = request("claude-opus-4-5");
    search["tools"] = json!([
        {"name": "Bash", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
    ]);
    assert_eq!(send(&p.proxy, search).await, (200, "cheap".into()));
    // A prompt of about 70k tokens: the long-context route, with the route's model upstream.
    let mut long = request("claude-sonnet-4-5");
    long["messages"][0]["content"] = json!("lorem ipsum dolor ".repeat(24_000));
    assert_eq!(send(&p.proxy, long).await, (200, "think".into()));
    assert_eq!(last_model(&p.think), "long-model");
    // Every request was counted under its route.
    let metrics = p
        .proxy
        .client
        .get(format!("{}/metrics", p.proxy.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "claude_lb_route_requests_total{route=\"background\"} 1",
        "claude_lb_route_requests_total{route=\"thinking\"} 2",
        "claude_lb_route_requests_total{route=\"web_search\"} 1",
        "claude_lb_route_requests_total{route=\"long_context\"} 1",
        "claude_lb_route_requests_total{route=\"-\"} 2",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert_eq!(p.main.request_count(), 2);
}

#[tokio::test]
async fn a_failing_route_fails_over_to_the_pool_only_with_fallback_any() {
    // `cheap` fails twice: once for the background route (no fallback), once for web search.
    let p = pool(vec![Reply::status(529), Reply::status(529)]).await;
    let response = p
        .proxy
        .messages(request("claude-haiku-4-5").to_string())
        .await;
    assert_eq!(response.status(), 503);
    let error: serde_json::Value = response.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("all 1 provider failed: cheap: "),
        "{message}"
    );
    assert!(
        message.contains("main: not in route \"background\"; think: not in route \"background\""),
        "{message}"
    );
    assert_eq!(p.main.request_count() + p.think.request_count(), 0);
    // `cheap` is cooling down now; with `fallback: any` the rest of the pool follows it.
    let mut search = request("claude-opus-4-5");
    search["tools"] = json!([{"type": "web_search_20250305", "name": "web_search"}]);
    assert_eq!(send(&p.proxy, search).await, (200, "main".into()));
}

#[tokio::test]
async fn a_route_fails_over_within_its_providers() {
    let main = MockUpstream::anthropic().start().await;
    let a = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .start()
        .await;
    let b = MockUpstream::anthropic().start().await;
    let yaml = format!(
        "providers:\n{}{}{}routes:\n  - name: background\n    when: {{ model: \"claude-*haiku*\" }}\n    providers: [a, b]\n",
        provider("main", &main),
        provider("a", &a),
        provider("b", &b),
    );
    let proxy = Proxy::start(&yaml).await;
    assert_eq!(
        send(&proxy, request("claude-haiku-4-5")).await,
        (200, "b".into())
    );
    assert_eq!((a.request_count(), main.request_count()), (1, 0));
}

#[tokio::test]
async fn provider_comma_model_picks_one_provider_and_sends_the_model_as_is() {
    let p = pool(vec![Reply::status(529)]).await;
    // `think,deepseek-chat`: only `think`, whatever the rules say, model sent as written.
    let (status, provider) = send(&p.proxy, request("think,deepseek-chat")).await;
    assert_eq!((status, provider.as_str()), (200, "think"));
    assert_eq!(last_model(&p.think), "deepseek-chat");
    // An unknown provider: 400 listing the providers; nothing sent.
    let response = p
        .proxy
        .messages(request("nope,deepseek-chat").to_string())
        .await;
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "invalid_request_error");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("unknown provider \"nope\""), "{message}");
    assert!(message.contains("main, cheap, think"), "{message}");
    // Nothing after the comma: 400 that says so; nothing sent.
    let response = p.proxy.messages(request("think, ").to_string()).await;
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("picks provider think but names no model after the comma"),
        "{message}"
    );
    assert_eq!(p.think.request_count(), 1);
    // The picked provider fails: a 503 that names it, and no failover; Claude Code comes
    // back when the provider's cooldown ends, as after any failure of every candidate.
    let response = p.proxy.messages(request("cheap,small").to_string()).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["x-should-retry"], "true");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // `cheap` cools down for 60 s: the longest wait an answer gives.
    assert_eq!(retry_after, 5);
    let error: serde_json::Value = response.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("provider cheap, picked by the model name \"cheap,small\", failed"),
        "{message}"
    );
    assert_eq!(p.main.request_count(), 0);
    assert_eq!(p.cheap.request_count(), 1);
    // Rate limited: a 429 that Claude Code waits out.
    p.think.push_reply(Reply::status(429).retry_after(3));
    let response = p.proxy.messages(request("think,small").to_string()).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["x-should-retry"], "true");
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "rate_limit_error", "{error}");
}

/// Sends `request` in the Claude Code session `session`; returns the provider that answered.
async fn send_in_session(proxy: &Proxy, session: &str, request: serde_json::Value) -> String {
    let response = proxy
        .client
        .post(format!("{}/v1/messages", proxy.url))
        .header("content-type", "application/json")
        .header("anthropic-version", "2023-06-01")
        .header("x-claude-code-session-id", session)
        .body(request.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.headers()["x-claude-lb-provider"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_routed_or_pinned_request_neither_follows_nor_moves_its_session() {
    let p = pool(Vec::new()).await;
    let (opus, haiku) = (request("claude-opus-5-5"), request("claude-haiku-4-5"));
    // Claude Code's first request of a session is often a background one: it goes to its
    // route's provider, and the session's main requests still go where the pool sends them.
    assert_eq!(send_in_session(&p.proxy, "s", haiku.clone()).await, "cheap");
    assert_eq!(send_in_session(&p.proxy, "s", opus.clone()).await, "main");
    // Interleaved, each kind stays where it is.
    for _ in 0..3 {
        assert_eq!(send_in_session(&p.proxy, "s", haiku.clone()).await, "cheap");
        assert_eq!(send_in_session(&p.proxy, "s", opus.clone()).await, "main");
    }
    // A provider picked by name serves that request only.
    let pinned = request("think,claude-opus-5-5");
    assert_eq!(send_in_session(&p.proxy, "s", pinned).await, "think");
    assert_eq!(send_in_session(&p.proxy, "s", opus).await, "main");
    // The session is held once per route it used.
    let (status, sessions) = p.proxy.get_json("/sessions").await;
    assert_eq!(status, 200);
    assert_eq!(sessions["sessions"], 2, "{sessions}");
}

#[tokio::test]
async fn a_route_whose_providers_are_all_disabled_says_so() {
    let main = MockUpstream::anthropic().start().await;
    let off = MockUpstream::anthropic().start().await;
    let yaml = format!(
        "providers:\n{}{}    enabled: false\nroutes:\n  - name: background\n    when: {{ model: \"claude-*haiku*\" }}\n    providers: [off]\n",
        provider("main", &main),
        provider("off", &off),
    );
    let proxy = Proxy::start(&yaml).await;
    let response = proxy
        .messages(request("claude-haiku-4-5").to_string())
        .await;
    assert_eq!(response.status(), 503);
    let error: serde_json::Value = response.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "route \"background\" matched, but none of its providers can take the request"
        ),
        "{message}"
    );
    assert!(message.contains("off is disabled"), "{message}");
}

// === Validation ===

/// Every line `config validate` would print for `yaml`, `ok` first when it loads.
fn report(yaml: &str) -> String {
    let lines: Vec<String> =
        match claude_lb::config::load_str(yaml, "providers.yaml", &crate::support::no_env) {
            Ok(loaded) => std::iter::once("ok".to_owned())
                .chain(loaded.warnings.iter().map(ToString::to_string))
                .collect(),
            Err(claude_lb::config::ConfigError::Invalid { errors, warnings }) => errors
                .iter()
                .chain(&warnings)
                .map(ToString::to_string)
                .collect(),
            Err(other) => vec![other.to_string()],
        };
    lines.join("\n")
}

const TWO: &str = "\
providers:
  - name: main
    type: anthropic
    auth_type: api_key
    auth_value: sk-ant-test
  - name: small
    type: openai
    auth_type: api_key
    auth_value: sk-test
    base_url: http://127.0.0.1:1/v1
    models: { \"claude-*haiku*\": small-model }
    enabled: false
";

#[test]
fn routes_load_in_order_with_their_providers() {
    let yaml = format!("{TWO}{ROUTES}")
        .replace("[cheap]", "[main]")
        .replace("[think]", "[main, small]");
    let loaded =
        claude_lb::config::load_str(&yaml, "providers.yaml", &crate::support::no_env).unwrap();
    let rules = loaded.config.routes.rules();
    let names: Vec<&str> = rules.iter().map(|r| &*r.name).collect();
    assert_eq!(
        names,
        ["background", "long_context", "thinking", "web_search"]
    );
    assert_eq!(rules[1].providers, [0, 1]);
    assert_eq!(rules[1].model.as_deref(), Some("long-model"));
    assert!(rules[3].fallback_any && !rules[0].fallback_any);
    assert_eq!(rules[1].when.min_input_tokens, Some(60_000));
}

#[test]
fn route_errors_name_the_spot() {
    let yaml = format!(
        "{TWO}routes:
  - name: a
    when: {{ modle: x, thinking: maybe, min_input_tokens: lots, header: {{\"bad header\": x}} }}
    providers: [mian, main, main]
    fallback: every
  - when: {{ model: \"\" }}
    providers: []
  - name: a
    providers: [main]
    colour: red
"
    );
    assert_eq!(
        report(&yaml),
        "\
providers.yaml:15:13: routes[0].when.modle: unknown key \"modle\", did you mean \"model\"? (allowed here: model, min_input_tokens, thinking, tool, header)
providers.yaml:15:33: routes[0].when.thinking: expected true or false, found \"maybe\"
providers.yaml:15:58: routes[0].when.min_input_tokens: expected a whole number of tokens of at least 1, such as 60000, found \"lots\"
providers.yaml:15:73: routes[0].when.header.\"bad header\": \"bad header\" is not a valid HTTP header name
providers.yaml:16:17: routes[0].providers[0]: unknown provider \"mian\", did you mean \"main\"? (the providers are: main, small)
providers.yaml:16:29: routes[0].providers[2]: \"main\" is listed twice
providers.yaml:17:15: routes[0].fallback: unknown fallback \"every\" (expected any, to try the rest of the pool after this route's providers, or none)
providers.yaml:18:5: routes[1].name: missing (a name such as `background`, shown in logs and metrics)
providers.yaml:18:20: routes[1].when.model: is an empty pattern (use \"*\" to match anything, or remove the condition)
providers.yaml:19:16: routes[1].providers: is empty (name at least one provider)
providers.yaml:20:11: routes[2].name: duplicate route name \"a\" (routes[0] already has it)
providers.yaml:22:5: routes[2].colour: unknown key \"colour\" (allowed here: name, when, providers, model, fallback)"
    );
}

#[test]
fn route_warnings_say_what_will_happen() {
    let yaml = format!(
        "{TWO}routes:
  - name: everything
    when: {{}}
    providers: [main]
  - name: background
    when: {{ model: \"claude-*haiku*\" }}
    providers: [small]
  - name: opus_small
    when: {{ model: \"claude-opus-*\" }}
    providers: [main, small]
"
    );
    let report = report(&yaml);
    assert!(report.starts_with("ok\n"), "{report}");
    for line in [
        "providers.yaml:15:11: warning: routes[0].when: route \"everything\" has no condition, so it matches every request and no route after it is ever reached (2 routes); move it last, or give it a condition",
        "providers.yaml:19:17: warning: routes[1].providers[0]: provider \"small\" is disabled, so route \"background\" never sends to it; with all of its providers disabled, its requests fail",
        "providers.yaml:22:23: warning: routes[2].providers[1]: provider \"small\" is disabled, so route \"opus_small\" never sends to it",
    ] {
        assert!(report.contains(line), "{line}\nin\n{report}");
    }
    // An enabled provider whose map serves none of the route's models.
    let enabled = yaml.replace("    enabled: false\n", "");
    let report = self::report(&enabled);
    assert!(
        report.contains("providers.yaml:21:23: warning: routes[2].providers[1]: provider \"small\" serves none of the models route \"opus_small\" matches (\"claude-opus-*\"; it serves \"claude-*haiku*\"), so those requests would fail there; add a pattern to its `models`, or give the route a `model`"),
        "{report}"
    );
    assert!(!report.contains("routes[1].providers"), "{report}");
    // Credentials are not routed on (`route explain` shows the headers it reads).
    let secret = format!(
        "{TWO}routes:\n  - name: k\n    when: {{ header: {{X-Api-Key: \"sk-*\"}} }}\n    providers: [main]\n"
    );
    assert_eq!(
        self::report(&secret),
        "providers.yaml:15:22: routes[0].when.header.\"X-Api-Key\": \"X-Api-Key\" carries a credential, which routing rules do not read"
    );
    // A last route without conditions is the default route: no warning.
    let last = format!("{TWO}routes:\n  - name: rest\n    providers: [main]\n");
    assert_eq!(self::report(&last), "ok");
}

// === `route explain` ===

use crate::check::run_bin;
use crate::support::cli::ClaudeLb;

/// A config with [`ROUTES`] over three providers nothing listens for (nothing is sent).
fn explain_config(lb: &ClaudeLb) -> std::path::PathBuf {
    let mut yaml = String::from("providers:\n");
    for (i, name) in ["main", "cheap", "think"].iter().enumerate() {
        let _ = write!(
            yaml,
            "  - name: {name}\n    type: anthropic\n    auth_type: api_key\n    auth_value: sk-ant-{i}\n    base_url: http://127.0.0.1:{}\n",
            9 + i
        );
    }
    yaml.push_str(ROUTES);
    lb.write("providers.yaml", &yaml)
}

fn explain(request: &serde_json::Value, extra: &[&str]) -> crate::support::cli::Run {
    let mut lb = ClaudeLb::new();
    let config = explain_config(&lb);
    let file = lb.write("request.json", &request.to_string());
    lb.args(["--config"])
        .arg_path(&config)
        .args(["route", "explain"])
        .arg_path(&file)
        .args(extra);
    lb.run()
}

#[test]
fn route_explain_shows_facts_rules_and_plan() {
    let mut search = request("claude-opus-4-5");
    search["tools"] = json!([{"type": "web_search_20250305", "name": "web_search"}]);
    let run = explain(&search, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.trim_end(),
        "\
model: claude-opus-4-5
facts: thinking off; tools: web_search (web_search_20250305); input tokens: at most 170 (from the body's length)
rules:
  1. background → cheap: not matched
       no  model: \"claude-*haiku*\": the model is \"claude-opus-4-5\"
  2. long_context → think; model long-model: not matched
       no  min_input_tokens: 60000: at most 170 input tokens (from the body's length; not tokenized)
  3. thinking → think: not matched
       no  thinking: true: thinking is not enabled
  4. web_search → cheap; then any: matched
       yes tool: \"web_search*\": tools: web_search (web_search_20250305)
route: web_search
plan:
  1. cheap (model claude-opus-4-5) available
  2. main (model claude-opus-4-5) available, fallback
  3. think (model claude-opus-4-5) available, fallback"
    );
    // A long prompt is tokenized, and the route's model is what its provider would get.
    let mut long = request("claude-sonnet-4-5");
    long["messages"][0]["content"] = json!("lorem ipsum dolor ".repeat(24_000));
    let run = explain(&long, &["--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let e: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(e["route"], "long_context");
    assert!(
        e["facts"]["input_tokens"]
            .as_str()
            .unwrap()
            .ends_with("(local estimate)"),
        "{e}"
    );
    assert_eq!(
        e["plan"],
        json!([{"provider": "think", "model": "long-model", "state": "available", "cooldown_remaining_s": 0.0, "fallback": false}])
    );
    assert_eq!(e["rules"][0]["result"], "not matched");
    assert_eq!(e["rules"][1]["result"], "matched");
    assert_eq!(e["rules"][2]["result"], "not reached");
    // No rule matches: the whole pool.
    let run = explain(&request("claude-sonnet-4-5"), &["--json"]);
    let e: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(e["route"], "-");
    let plan: Vec<&str> = e["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["provider"].as_str().unwrap())
        .collect();
    assert_eq!(plan, ["main", "cheap", "think"]);
}

#[test]
fn route_explain_pinned_and_its_errors() {
    let run = explain(&request("think,deepseek-chat"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("picked provider: think"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("route: pinned:think\nplan:\n  1. think (model deepseek-chat) available"),
        "{}",
        run.stdout
    );
    let run = explain(&request("nope,x"), &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("unknown provider \"nope\" in the model name \"nope,x\""),
        "{}",
        run.stderr
    );
    let run = explain(&json!({"messages": []}), &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("no \"model\" string"), "{}", run.stderr);
    // A malformed --header is a usage error.
    for header in ["nocolon", "bad name: v"] {
        let run = explain(&request("claude-opus-5-5"), &["--header", header]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("--header"), "{}", run.stderr);
    }
}

#[tokio::test]
async fn route_explain_remote_asks_the_running_instance() {
    // `cheap` fails once, so the instance has it cooling down.
    let p = pool(vec![Reply::status(529)]).await;
    assert_eq!(send(&p.proxy, request("claude-haiku-4-5")).await.0, 503);
    let mut lb = ClaudeLb::new();
    let file = lb.write("request.json", &request("claude-haiku-4-5").to_string());
    lb.args(["route", "explain"]).arg_path(&file).args([
        "--remote",
        &p.proxy.url,
        "--json",
        "-H",
        "x-team: a",
    ]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 0, "{run:?}");
    let e: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(e["route"], "background");
    assert_eq!(e["plan"][0]["provider"], "cheap");
    assert_eq!(e["plan"][0]["state"], "cooling_down");
    assert!(
        e["plan"][0]["cooldown_remaining_s"].as_f64().unwrap() > 50.0,
        "{e}"
    );
    // Explaining sends nothing to a provider.
    assert_eq!(p.cheap.request_count(), 1);
    // The admin route answers a bad request with the reason.
    let response = p
        .proxy
        .client
        .post(format!("{}/routes/explain", p.proxy.url))
        .body("{\"model\": \"nope,x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn reload_swaps_routes_and_an_invalid_route_keeps_the_old_ones() {
    let p = pool(Vec::new()).await;
    let path = p.proxy.config_path();
    let yaml = std::fs::read_to_string(&path).unwrap();
    let reload = || async {
        let response = p
            .proxy
            .client
            .post(format!("{}/providers/reload", p.proxy.url))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json::<serde_json::Value>().await.unwrap())
    };
    // A route naming a provider that does not exist: refused, the old rules stay.
    std::fs::write(
        &path,
        yaml.replacen("providers: [cheap]", "providers: [chaep]", 1),
    )
    .unwrap();
    let (status, answer) = reload().await;
    assert_eq!(status, 400, "{answer}");
    let problems = answer["problems"].to_string();
    assert!(
        problems.contains("routes[0].providers[0]: unknown provider \\\"chaep\\\""),
        "{problems}"
    );
    assert_eq!(
        send(&p.proxy, request("claude-haiku-4-5")).await,
        (200, "cheap".into())
    );
    // A valid change: Haiku now goes to `think`.
    std::fs::write(
        &path,
        yaml.replacen("providers: [cheap]", "providers: [think]", 1),
    )
    .unwrap();
    let (status, answer) = reload().await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        send(&p.proxy, request("claude-haiku-4-5")).await,
        (200, "think".into())
    );
    // `/v1/models` offers the route's model under its provider.
    let (_, list) = p.proxy.get_json("/v1/models").await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"think,long-model"), "{ids:?}");
}
