//! A provider that echoes its key, and a client that crafts its request: the key never
//! reaches a client, `/providers` or a log line, and a request goes only where the config
//! says, with only the headers, query and values claude-lb allows.

use claude_lb::mock::{MockHandle, MockUpstream, Reply};

use crate::support::proxy::{Proxy, body, sse_events};

const SECRET: &str = "sk-test-secret-value";

/// The start of the key: what a cut before the scrub used to leave behind.
const SECRET_PREFIX: &str = "sk-test";

fn provider(name: &str, mock: &MockHandle, extra: &str) -> String {
    format!(
        "  - name: {name}\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n{extra}",
        mock.base_url()
    )
}

fn config(providers: &[String]) -> String {
    format!(
        "providers:\n{}settings:\n  request_timeout: 2\n  stream_idle_timeout: 2\n  failure_cooldown: 60\n",
        providers.concat()
    )
}

const START: &str = r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}"#;
const BLOCK: &str =
    r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#;

fn error_json(kind: &str, message: &str) -> String {
    serde_json::json!({"type": "error", "error": {"type": kind, "message": message}}).to_string()
}

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET_PREFIX),
        "{what} carries (part of) the key: {text}"
    );
}

#[tokio::test]
async fn a_passed_through_client_error_carries_no_key_in_body_or_headers() {
    let echo = MockUpstream::anthropic()
        .reply(
            Reply::json(
                400,
                serde_json::json!({"type": "error", "error": {"type": "invalid_request_error", "message": format!("bad request for key {SECRET}")}}),
            )
            .header("x-echo-key", &format!("key={SECRET}"))
            .header("request-id", "req_upstream"),
        )
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("echo", &echo, "")])).await;
    let response = proxy.messages(body("m", false)).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["x-echo-key"], "key=*****");
    assert_eq!(response.headers()["request-id"], "req_upstream");
    for (name, value) in response.headers() {
        assert_clean(name.as_str(), value.to_str().unwrap());
    }
    let text = response.text().await.unwrap();
    assert!(text.contains("bad request for key *****"), "{text}");
    assert_clean("the body", &text);
}

#[tokio::test]
async fn an_error_event_before_content_carries_no_key() {
    // A client error (the request's own fault) goes back as it came, scrubbed.
    let echo = MockUpstream::anthropic()
        .reply(Reply::sse_events(&[
            ("message_start", START),
            (
                "error",
                &error_json("invalid_request_error", &format!("refused {SECRET}")),
            ),
        ]))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("echo", &echo, "")])).await;
    let response = proxy.messages(body("m", true)).await;
    assert_eq!(response.status(), 400);
    let text = response.text().await.unwrap();
    assert!(text.contains("refused *****"), "{text}");
    assert_clean("the answer", &text);

    // A provider's fault fails over: its words reach `/providers` and the final error.
    let echo = MockUpstream::anthropic()
        .reply(Reply::sse_events(&[
            ("message_start", START),
            (
                "error",
                &error_json("overloaded_error", &format!("busy {SECRET}")),
            ),
        ]))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("echo", &echo, "")])).await;
    let text = proxy.messages(body("m", true)).await.text().await.unwrap();
    assert!(text.contains("busy *****"), "{text}");
    assert_clean("the answer", &text);
    let state = proxy.provider("echo").await.to_string();
    assert!(state.contains("busy *****"), "{state}");
    assert_clean("/providers", &state);
}

#[tokio::test]
async fn a_mid_stream_error_carries_no_key_to_the_client_or_providers() {
    let echo = MockUpstream::anthropic()
        .reply(Reply::sse_events(&[
            ("message_start", START),
            ("content_block_start", BLOCK),
            (
                "content_block_delta",
                &serde_json::json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":format!("the key is {SECRET}")}}).to_string(),
            ),
            (
                "error",
                &error_json("api_error", &format!("crashed with {SECRET}")),
            ),
        ]))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("echo", &echo, "")])).await;
    let response = proxy.messages(body("m", true)).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let events = sse_events(&text);
    assert_eq!(events.last().unwrap().0, "error", "{text}");
    assert!(text.contains("the key is *****"), "{text}");
    assert_clean("the stream", &text);
    let state = proxy.provider("echo").await;
    assert!(
        state["last_error"]
            .as_str()
            .unwrap()
            .contains("crashed with *****"),
        "{state}"
    );
    assert_clean("/providers", &state.to_string());
}

#[tokio::test]
async fn a_key_past_the_cut_of_a_long_message_leaves_no_prefix() {
    // The key starts where a message used to be cut (300 characters in): removing it first
    // leaves nothing of it.
    let message = format!("{}{SECRET} and more", "x".repeat(295));
    let echo = MockUpstream::anthropic()
        .reply(Reply::json(
            529,
            serde_json::from_str(&error_json("overloaded_error", &message)).unwrap(),
        ))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("echo", &echo, "")])).await;
    let text = proxy.messages(body("m", false)).await.text().await.unwrap();
    assert!(text.contains("***** and more"), "{text}");
    assert_clean("the answer", &text);
    let state = proxy.provider("echo").await.to_string();
    assert_clean("/providers", &state);

    // A message longer than the limit is cut after the scrub, at the limit.
    let long = format!("{SECRET} {}", "y".repeat(10_000));
    let echo = MockUpstream::anthropic()
        .reply(Reply::json(
            529,
            serde_json::from_str(&error_json("overloaded_error", &long)).unwrap(),
        ))
        .start()
        .await;
    let proxy = Proxy::start(&config(&[provider("echo", &echo, "")])).await;
    let _ = proxy.messages(body("m", false)).await.text().await.unwrap();
    let last_error = proxy.provider("echo").await["last_error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(last_error.starts_with("HTTP 529 overloaded_error: *****"));
    assert!(last_error.chars().count() <= 501, "{}", last_error.len());
    assert!(last_error.ends_with('…'), "{last_error}");
}

async fn raw(proxy: &Proxy, request: &str) -> (u16, String) {
    proxy.raw(request).await
}

fn post(path: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nanthropic-version: 2023-06-01\r\n{extra_headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn only_exact_routes_reach_a_provider_and_only_at_fixed_paths() {
    let mock = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&config(&[provider("p", &mock, "")])).await;
    let request_body = body("m", false);
    for path in [
        "/v1/../../admin/secret/v1/messages",
        "/v1/%2e%2e/%2E%2E/admin/secret/v1/messages",
        "/v1/..%2f..%2fadmin/v1/messages",
        "/a\\..\\..\\admin/v1/messages",
        "/./v1/messages",
        "//v1/messages",
        "/v1/messages/../../admin",
        // Routes match exactly: no prefix, whatever it looks like.
        "/lb/v1/messages",
        "/anything/v1/messages",
        "/v1/v1/v1/messages",
    ] {
        let (status, text) = raw(&proxy, &post(path, "", &request_body)).await;
        assert_eq!(status, 404, "{path}: {text}");
    }
    assert_eq!(mock.request_count(), 0, "nothing reached the provider");

    // The one prefix accepted, a doubled `/v1` (a client's base URL ending in `/v1`), never
    // travels; of the query, only `beta` does.
    for (path, expect) in [
        ("/v1/messages?beta=true", "/v1/messages?beta=true"),
        ("/v1/v1/messages?beta=true", "/v1/messages?beta=true"),
        (
            "/v1/messages?x=/../../admin&beta=true&y=1",
            "/v1/messages?beta=true",
        ),
        ("/v1/messages?x=1", "/v1/messages"),
    ] {
        let (status, text) = raw(&proxy, &post(path, "", &request_body)).await;
        assert_eq!(status, 200, "{path}: {text}");
        let sent = mock.requests().pop().unwrap();
        assert_eq!(sent.path_and_query, expect, "{path}");
    }
}

#[tokio::test]
async fn a_body_with_two_models_is_refused() {
    let mock = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&config(&[provider(
        "p",
        &mock,
        "    models:\n      cheap: cheap-model\n",
    )]))
    .await;
    for request in [
        r#"{"model":"cheap","max_tokens":5,"messages":[],"model":"expensive"}"#,
        r#"{"model":"cheap","max_tokens":5,"messages":[],"mod\u0065l":"expensive"}"#,
    ] {
        let response = proxy.messages(request.to_owned()).await;
        assert_eq!(response.status(), 400, "{request}");
        assert_eq!(response.headers()["x-should-retry"], "false");
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["type"], "invalid_request_error");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("\"model\" more than once"),
            "{answer}"
        );
    }
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test]
async fn client_headers_reach_a_provider_only_through_the_allowlist() {
    let mock = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&config(&[provider("p", &mock, "")])).await;
    let headers = "anthropic-beta: claude-code-20250219\r\n\
        user-agent: claude-cli/2.1.332 (external, sdk-cli)\r\n\
        x-app: cli\r\n\
        x-stainless-lang: js\r\n\
        x-claude-code-session-id: 0f0e\r\n\
        x-api-key: client-key\r\n\
        authorization: Bearer client-token\r\n\
        x-forwarded-for: 10.0.0.1\r\n\
        x-forwarded-host: admin.internal\r\n\
        forwarded: for=10.0.0.1\r\n\
        cookie: session=1\r\n\
        x-custom-thing: 1\r\n\
        keep-alive: timeout=5\r\n\
        x-stainless-named-in-connection: 1\r\n\
        connection: x-stainless-named-in-connection\r\n";
    let (status, text) = raw(
        &proxy,
        &post("/v1/messages?beta=true", headers, &body("m", false)),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let sent = mock.requests().pop().unwrap();
    for (name, expect) in [
        ("anthropic-version", Some("2023-06-01")),
        ("anthropic-beta", Some("claude-code-20250219")),
        ("user-agent", Some("claude-cli/2.1.332 (external, sdk-cli)")),
        ("x-app", Some("cli")),
        ("x-stainless-lang", Some("js")),
        ("x-claude-code-session-id", Some("0f0e")),
        ("x-api-key", Some(SECRET)),
        ("authorization", None),
        ("x-forwarded-for", None),
        ("x-forwarded-host", None),
        ("forwarded", None),
        ("cookie", None),
        ("x-custom-thing", None),
        ("keep-alive", None),
        ("x-stainless-named-in-connection", None),
    ] {
        assert_eq!(sent.header(name), expect, "{name}");
    }

    // `expect: 100-continue` is answered by claude-lb and never forwarded.
    let (status, text) = raw(
        &proxy,
        &post(
            "/v1/messages",
            "expect: 100-continue\r\n",
            &body("m", false),
        ),
    )
    .await;
    assert!(text.contains("200 OK"), "{status}: {text}");
    assert_eq!(mock.requests().pop().unwrap().header("expect"), None);
}

#[tokio::test]
async fn max_tokens_is_capped_for_an_anthropic_provider_by_a_byte_splice() {
    let mock = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&config(&[provider(
        "p",
        &mock,
        "    max_tokens: 4096\n    models:\n      claude-opus-5-5: relay-opus\n",
    )]))
    .await;
    let request = r#"{"model":"claude-opus-5-5","max_tokens":128000,"stream":false,"messages":[{"role":"user","content":"max_tokens: 99999"}],"thinking":{"type":"adaptive"}}"#;
    let response = proxy.messages(request.to_owned()).await;
    assert_eq!(response.status(), 200);
    let sent = mock.requests().pop().unwrap();
    assert_eq!(
        std::str::from_utf8(&sent.body).unwrap(),
        r#"{"model":"relay-opus","max_tokens":4096,"stream":false,"messages":[{"role":"user","content":"max_tokens: 99999"}],"thinking":{"type":"adaptive"}}"#
    );

    // At or under the cap, only the model changes.
    let request = r#"{"model":"claude-opus-5-5", "max_tokens" : 100 ,"messages":[]}"#;
    let _ = proxy.messages(request.to_owned()).await;
    assert_eq!(
        std::str::from_utf8(&mock.requests().pop().unwrap().body).unwrap(),
        request.replace("claude-opus-5-5", "relay-opus")
    );
}

#[path = "../../fuzz/fuzz_targets/request_body.rs"]
mod fuzz_request;

mod request_fuzz {
    //! The body of the `request` cargo-fuzz target on stable, fed by proptest with requests
    //! made of the pieces an attacker would use: `..` and encoded segments, backslashes, extra
    //! query parameters, proxy and hop-by-hop headers, and bodies that name `model` twice or
    //! with escapes, or hide a session in `metadata.user_id` in every way that may mislead. `PROPTEST_CASES` sets the number of cases (256 by default).

    use proptest::prelude::*;

    fn path() -> impl Strategy<Value = String> {
        let segment = prop_oneof![
            Just("v1"),
            Just("messages"),
            Just("count_tokens"),
            Just("models"),
            Just(".."),
            Just("."),
            Just("%2e%2e"),
            Just("%2F"),
            Just("a\\..\\b"),
            Just(""),
            Just("lb"),
            Just("admin"),
        ];
        let query = prop_oneof![
            Just(""),
            Just("?beta=true"),
            Just("?x=1&beta=true"),
            Just("?beta=true&beta=false"),
            Just("?beta=../../x"),
            Just("?"),
        ];
        (
            proptest::collection::vec(segment, 0..6),
            prop_oneof![
                Just("/v1/messages"),
                Just("/v1/messages/count_tokens"),
                Just("/v1/models"),
                Just("")
            ],
            query,
        )
            .prop_map(|(segments, suffix, query)| {
                let prefix: String = segments.iter().flat_map(|s| ["/", s]).collect();
                format!("{prefix}{suffix}{query}")
            })
    }

    fn headers() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            Just("anthropic-beta: a,b"),
            Just("anthropic-version: 2023-06-01"),
            Just("x-stainless-os: Linux"),
            Just("x-forwarded-for: 10.0.0.1"),
            Just("forwarded: for=x"),
            Just("cookie: a=1"),
            Just("expect: 100-continue"),
            Just("authorization: Bearer c"),
            Just("x-api-key: c"),
            Just("connection: x-stainless-os, anthropic-beta"),
            Just("connection: close"),
            Just("x-app: cli"),
            Just("te: trailers"),
            Just("x-evil: 1"),
        ];
        proptest::collection::vec(line, 0..8).prop_map(|lines| lines.join("\n"))
    }

    fn body() -> impl Strategy<Value = String> {
        let member = prop_oneof![
            Just(r#""model":"a""#.to_owned()),
            Just(r#""model":"b""#.to_owned()),
            Just(r#""mod\u0065l":"c""#.to_owned()),
            Just(r#""model":42"#.to_owned()),
            Just(r#""max_tokens":64000"#.to_owned()),
            Just(r#""messages":[{"model":"inner","content":"\"model\":\"x\""}]"#.to_owned()),
            Just(r#""metadata":{"model":"m"}"#.to_owned()),
            Just(r#""metadata":{"user_id":"{\"session_id\":\"s1\"}"}"#.to_owned()),
            Just(r#""metadata":{"user_id":"{\"session_id\":\"s1\",\"session_id\":\"s2\"}","user_id":"{\"sess\\u0069on_id\":\"s3\"}"}"#.to_owned()),
            Just(r#""metadata":{"user_id":"{\"session_id\":42}"}"#.to_owned()),
            Just(r#""metadata":{"user_id":"{\"a\":{\"session_id\":\"nested\"}}"}"#.to_owned()),
            Just(r#""metadata":{"user_id":"{\"session_id\":\"\"}"}"#.to_owned()),
            Just(r#""metadata":{"user_id":"{\"session_id\":\"escaped-name\"}"}"#.to_owned()),
            Just(r#""metadata":{"user_id":"not json"}"#.to_owned()),
            "[a-z0-9-]{0,300}".prop_map(|id| format!(r#""metadata":{{"user_id":"{{\"session_id\":\"{id}\"}}"}}"#)),
            "[a-z]{1,6}".prop_map(|k| format!(r#""{k}":"v""#)),
        ];
        proptest::collection::vec(member, 0..6)
            .prop_map(|members| format!("{{{}}}", members.join(",")))
    }

    proptest! {
        #[test]
        fn crafted_requests_go_only_where_the_config_says(
            path in path(),
            headers in headers(),
            body in body(),
        ) {
            let input = [path.as_bytes(), b"\0", headers.as_bytes(), b"\0", body.as_bytes()].concat();
            super::fuzz_request::run(&input);
        }

        #[test]
        fn arbitrary_bytes_break_no_invariant(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            super::fuzz_request::run(&bytes);
        }
    }
}

#[tokio::test]
async fn a_probe_leaves_no_prefix_of_an_echoed_key_in_its_words() {
    // The key starts right where a probe's message is cut.
    let message = format!("{}{SECRET}", "z".repeat(170));
    let echo = MockUpstream::anthropic()
        .reply(Reply::json(
            401,
            serde_json::from_str(&error_json("authentication_error", &message)).unwrap(),
        ))
        .start()
        .await;
    let yaml = format!(
        "providers:\n  - name: echo\n    type: anthropic\n    auth_type: api_key\n    auth_value: {SECRET}\n    base_url: {}\n",
        echo.base_url()
    );
    let provider = claude_lb::config::load_str(&yaml, "p.yaml", &|_| None)
        .unwrap()
        .config
        .providers
        .remove(0);
    let upstream = claude_lb::upstream::Upstream::new(&|_| None).unwrap();
    let report =
        claude_lb::upstream::probe::probe(&upstream, &provider, std::time::Duration::from_secs(5))
            .await;
    let words = report.outcome.to_string();
    assert!(words.contains("zzz"), "{words}");
    assert_clean("the probe", &words);
}

#[tokio::test]
async fn a_translated_client_error_quotes_no_prefix_of_the_key() {
    // A plain-text error body is quoted up to 300 bytes; the key starts just before the cut.
    let text = format!("{}{SECRET} trailing", "w".repeat(290));
    let echo = MockUpstream::openai()
        .reply(Reply::raw(400, "text/plain", text))
        .start()
        .await;
    let yaml = format!(
        "providers:\n  - name: echo\n    type: openai\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n    models:\n      \"*\": gpt-x\n",
        echo.base_url()
    );
    let proxy = Proxy::start(&yaml).await;
    let response = proxy.messages(body("m", false)).await;
    assert_eq!(response.status(), 400);
    let text = response.text().await.unwrap();
    assert!(text.contains("wwww"), "{text}");
    assert_clean("the answer", &text);
}

#[tokio::test]
async fn a_placeholder_key_leaves_every_answer_whole() {
    // A local model server takes any key; `e` is in every event's JSON (`"type"`).
    let local = MockUpstream::anthropic().start().await;
    let yaml = format!(
        "providers:\n  - name: local\n    type: anthropic\n    auth_type: api_key\n    auth_value: e\n    base_url: {}\n",
        local.base_url()
    );
    let proxy = Proxy::start(&yaml).await;
    let whole = proxy.messages(body("m", false)).await;
    assert_eq!(whole.status(), 200);
    let message: serde_json::Value = whole.json().await.unwrap();
    assert_eq!(message["type"], "message", "{message}");
    let streamed = proxy.messages(body("m", true)).await;
    let text = streamed.text().await.unwrap();
    assert!(!text.contains("*****"), "{text}");
    let events = sse_events(&text);
    assert_eq!(
        events.last().map(|e| e.0.as_str()),
        Some("message_stop"),
        "{text}"
    );
}
