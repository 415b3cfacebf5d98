//! Access control: client keys and their limits, the admin routes, web pages, and clients
//! that are slow or greedy on purpose. Nothing refused here ever reaches a provider.

use std::time::Duration;

use claude_lb::mock::{MockHandle, MockUpstream, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::cli::ClaudeLb;
use crate::support::proxy::{Proxy, body};

const ALICE: &str = "clb-alice-0123456789abcdefghijklmnop";
const CI: &str = "clb-ci-0123456789abcdefghijklmnopqrs";
const ADMIN: &str = "adm-0123456789abcdefghijklmnopqrstu";

fn provider(name: &str, mock: &MockHandle) -> String {
    format!(
        "  - name: {name}\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {}\n",
        mock.base_url()
    )
}

/// Two providers `a` and `b`, the clients given, and `settings` lines.
fn config(a: &MockHandle, b: &MockHandle, clients: &str, settings: &str) -> String {
    format!(
        "providers:\n{}{}clients:\n{clients}settings:\n  request_timeout: 5\n{settings}",
        provider("a", a),
        provider("b", b)
    )
}

fn alice_and_ci(extra_ci: &str) -> String {
    format!(
        "  - name: alice\n    key_sha256: \"{}\"\n  - name: ci\n    key: \"{CI}\"\n{extra_ci}",
        claude_lb::config::KeyDigest::of(ALICE.as_bytes()).to_hex()
    )
}

async fn post(proxy: &Proxy, headers: &[(&str, &str)], body: String) -> reqwest::Response {
    let mut request = proxy
        .client
        .post(format!("{}/v1/messages", proxy.url))
        .header("content-type", "application/json")
        .header("anthropic-version", "2023-06-01");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(body).send().await.unwrap()
}

/// Whether the server closes `stream` within `within` (whatever it sends before).
async fn closed_by_server(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    tokio::time::timeout(within, async {
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                return;
            }
        }
    })
    .await
    .is_ok()
}

async fn error_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let json: serde_json::Value = response.json().await.unwrap();
    (
        status,
        json["error"]["type"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        json["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn each_client_key_works_by_either_header_and_nothing_else_does() {
    let (a, b) = (
        MockUpstream::anthropic().start().await,
        MockUpstream::anthropic().start().await,
    );
    let proxy = Proxy::start(&config(&a, &b, &alice_and_ci(""), "")).await;
    for headers in [
        vec![("x-api-key", ALICE)],
        vec![("authorization", &*format!("Bearer {ALICE}"))],
        vec![("x-api-key", CI)],
        vec![("authorization", &*format!("Bearer {CI}"))],
    ] {
        let response = post(&proxy, &headers, body("m", false)).await;
        assert_eq!(response.status(), 200, "{headers:?}");
    }
    assert_eq!(a.request_count(), 4);
    let last_char_differs = format!("{}X", &ALICE[..ALICE.len() - 1]);
    let bearer_wrong = format!("Bearer {last_char_differs}");
    for headers in [
        vec![],
        vec![("x-api-key", "clb-wrong")],
        vec![("x-api-key", &*last_char_differs)],
        vec![("authorization", &*bearer_wrong)],
    ] {
        let (status, kind, message) =
            error_of(post(&proxy, &headers, body("m", false)).await).await;
        assert_eq!(
            (status, kind.as_str()),
            (401, "authentication_error"),
            "{headers:?}"
        );
        // The words Claude Code reacts to, and no client's name.
        assert!(message.contains("invalid x-api-key"), "{message}");
        assert!(
            !message.contains("alice") && !message.contains("ci "),
            "{message}"
        );
    }
    // The same for the other API routes.
    let models = proxy
        .client
        .get(format!("{}/v1/models", proxy.url))
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 401);
    let count = proxy
        .client
        .post(format!("{}/v1/messages/count_tokens", proxy.url))
        .header("content-type", "application/json")
        .body(body("m", false))
        .send()
        .await
        .unwrap();
    assert_eq!(count.status(), 401);
    assert_eq!(
        a.request_count() + b.request_count(),
        4,
        "no refused request reached a provider"
    );
    let (_, metrics) = proxy.get_text("/metrics").await;
    assert!(
        metrics
            .contains("claude_lb_requests_total{provider=\"a\",client=\"alice\",status=\"200\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "claude_lb_refused_requests_total{client=\"unauthenticated\",reason=\"unknown_key\"} 3"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_clients_models_and_providers_narrow_what_it_gets() {
    let (a, b) = (
        MockUpstream::anthropic().start().await,
        MockUpstream::anthropic().start().await,
    );
    let clients = alice_and_ci("    models: [\"claude-*haiku*\"]\n    providers: [b]\n");
    let proxy = Proxy::start(&config(&a, &b, &clients, "")).await;
    let (status, kind, message) = error_of(
        post(
            &proxy,
            &[("x-api-key", CI)],
            body("claude-sonnet-5-5", false),
        )
        .await,
    )
    .await;
    assert_eq!((status, kind.as_str()), (403, "permission_error"));
    assert!(message.contains("claude-sonnet-5-5"), "{message}");
    // `a` is first and healthy, and `ci` may reach only `b`.
    let response = post(
        &proxy,
        &[("x-api-key", CI)],
        body("claude-haiku-5-5", false),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-claude-lb-provider"], "b");
    assert_eq!((a.request_count(), b.request_count()), (0, 1));
    // Alice is not narrowed.
    let response = post(
        &proxy,
        &[("x-api-key", ALICE)],
        body("claude-sonnet-5-5", false),
    )
    .await;
    assert_eq!(response.headers()["x-claude-lb-provider"], "a");
    // `/v1/models` lists only what the client may ask for.
    let models: serde_json::Value = proxy
        .client
        .get(format!("{}/v1/models", proxy.url))
        .header("x-api-key", CI)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(models["data"].as_array().is_some(), "{models}");
}

#[tokio::test]
async fn a_client_limited_to_a_provider_that_cannot_serve_gets_403() {
    let a = MockUpstream::anthropic().start().await;
    let b = MockUpstream::anthropic().start().await;
    let yaml = format!(
        "providers:\n{}  - name: b\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    base_url: {}\n    models:\n      \"claude-*haiku*\": small\nclients:\n  - name: ci\n    key: \"{CI}\"\n    providers: [b]\n",
        provider("a", &a),
        b.base_url()
    );
    let proxy = Proxy::start(&yaml).await;
    let (status, kind, message) =
        error_of(post(&proxy, &[("x-api-key", CI)], body("claude-opus-5-5", false)).await).await;
    assert_eq!(
        (status, kind.as_str()),
        (403, "permission_error"),
        "{message}"
    );
    assert!(
        message.contains("client ci may use providers b"),
        "{message}"
    );
    assert_eq!(a.request_count() + b.request_count(), 0);
}

#[tokio::test]
async fn max_concurrent_refuses_the_third_stream_until_one_ends_or_its_client_leaves() {
    let a = MockUpstream::anthropic()
        .reply(Reply::sim().stall_after(2))
        .reply(Reply::sim().stall_after(2))
        .start()
        .await;
    let b = MockUpstream::anthropic().start().await;
    let clients = alice_and_ci("    max_concurrent: 2\n");
    let proxy = Proxy::start(&config(&a, &b, &clients, "  stream_idle_timeout: 60\n")).await;
    let ci = [("x-api-key", CI)];
    let first = post(&proxy, &ci, body("m", true)).await;
    let mut second = post(&proxy, &ci, body("m", true)).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    // Both streams are open and stalled: the third is refused, and reaches no provider.
    let third = post(&proxy, &ci, body("m", true)).await;
    assert_eq!(third.status(), 429);
    assert_eq!(third.headers()["retry-after"], "1");
    let (_, kind, message) = error_of(third).await;
    assert_eq!(kind, "rate_limit_error");
    assert!(message.contains("max_concurrent"), "{message}");
    assert_eq!(a.request_count(), 2);
    // Another client is not held back by ci's limit.
    assert_eq!(
        post(&proxy, &[("x-api-key", ALICE)], body("m", false))
            .await
            .status(),
        200
    );
    // The first client goes away mid-stream: its slot is free again.
    drop(first);
    let mut served = None;
    for _ in 0..50 {
        let response = post(&proxy, &ci, body("m", false)).await;
        if response.status() == 200 {
            served = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let served = served.expect("a slot frees when a client disconnects");
    // That answer ended, so its slot is free again too; the second stream still holds one.
    served.text().await.unwrap();
    assert_eq!(post(&proxy, &ci, body("m", false)).await.status(), 200);
    let _ = second.chunk().await;
}

#[tokio::test]
async fn requests_per_minute_refuses_the_sixth_with_retry_after() {
    let (a, b) = (
        MockUpstream::anthropic().start().await,
        MockUpstream::anthropic().start().await,
    );
    let clients = alice_and_ci("    requests_per_minute: 5\n");
    let proxy = Proxy::start(&config(&a, &b, &clients, "")).await;
    for _ in 0..5 {
        assert_eq!(
            post(&proxy, &[("x-api-key", CI)], body("m", false))
                .await
                .status(),
            200
        );
    }
    let sixth = post(&proxy, &[("x-api-key", CI)], body("m", false)).await;
    assert_eq!(sixth.status(), 429);
    let wait: u64 = sixth.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=12).contains(&wait), "{wait}");
    assert_eq!(a.request_count(), 5);
}

#[tokio::test]
async fn admin_routes_need_the_admin_token_when_it_is_set() {
    let (a, b) = (
        MockUpstream::anthropic().start().await,
        MockUpstream::anthropic().start().await,
    );
    let proxy = Proxy::start(&config(
        &a,
        &b,
        &alice_and_ci(""),
        &format!("  admin_token: \"{ADMIN}\"\n"),
    ))
    .await;
    for (method, path) in [
        ("GET", "/providers"),
        ("GET", "/metrics"),
        ("POST", "/providers/reload"),
    ] {
        let request = |token: Option<&str>| {
            let mut r = proxy
                .client
                .request(method.parse().unwrap(), format!("{}{path}", proxy.url));
            if let Some(token) = token {
                r = r.bearer_auth(token);
            }
            r.send()
        };
        assert_eq!(request(None).await.unwrap().status(), 401, "{path}");
        assert_eq!(request(Some(ALICE)).await.unwrap().status(), 401, "{path}");
        assert_eq!(request(Some(ADMIN)).await.unwrap().status(), 200, "{path}");
    }
    // Health stays open and names no provider.
    let (status, health) = proxy.get_text("/").await;
    assert_eq!(status, 200);
    assert!(!health.contains("\"a\""), "{health}");
}

#[tokio::test]
async fn web_pages_and_foreign_host_names_are_refused_before_anything_else() {
    let (a, b) = (
        MockUpstream::anthropic().start().await,
        MockUpstream::anthropic().start().await,
    );
    // Without clients, as on a loopback single-user setup.
    let yaml = format!(
        "providers:\n{}{}settings:\n  allowed_origins: [\"https://dash.example.com\"]\n  allowed_hosts: [lb.internal]\n",
        provider("a", &a),
        provider("b", &b)
    );
    let proxy = Proxy::start(&yaml).await;
    let request = body("m", false);
    let raw = |host: &str, headers: &str, content_type: &str| {
        format!(
            "POST /v1/messages HTTP/1.1\r\nhost: {host}\r\ncontent-type: {content_type}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{request}",
            request.len()
        )
    };
    // A cross-site "simple request": text/plain, a foreign Origin.
    let (status, text) = proxy
        .raw(&raw(
            "127.0.0.1",
            "origin: https://evil.example\r\n",
            "text/plain",
        ))
        .await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("web pages"), "{text}");
    // The same page with JSON and its Origin.
    let (status, _) = proxy
        .raw(&raw(
            "127.0.0.1",
            "origin: https://evil.example\r\n",
            "application/json",
        ))
        .await;
    assert_eq!(status, 403);
    // DNS rebinding: the page's own name in Host, no Origin on a same-site GET.
    let (status, text) = proxy
        .raw("GET /providers HTTP/1.1\r\nhost: evil.example:8080\r\nconnection: close\r\n\r\n")
        .await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("DNS rebinding"), "{text}");
    let (status, _) = proxy
        .raw(&raw("evil.example", "", "application/json"))
        .await;
    assert_eq!(status, 403);
    // Without Origin but as text/plain: 415.
    let (status, _) = proxy.raw(&raw("localhost:1", "", "text/plain")).await;
    assert_eq!(status, 415);
    assert_eq!(
        a.request_count() + b.request_count(),
        0,
        "nothing reached a provider"
    );
    // What is listed passes, as do loopback names and addresses.
    for (host, headers) in [
        ("localhost:8080", ""),
        ("127.0.0.1", ""),
        ("[::1]:8080", ""),
        ("lb.internal", ""),
        ("127.0.0.1", "origin: https://dash.example.com\r\n"),
    ] {
        let (status, text) = proxy.raw(&raw(host, headers, "application/json")).await;
        assert_eq!(status, 200, "{host} {headers}: {text}");
    }
}

#[tokio::test]
async fn an_oversized_declared_body_is_refused_before_it_is_read() {
    let (a, b) = (
        MockUpstream::anthropic().start().await,
        MockUpstream::anthropic().start().await,
    );
    let yaml = format!("providers:\n{}{}", provider("a", &a), provider("b", &b));
    let proxy = Proxy::start(&yaml).await;
    let addr = proxy.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Headers only: the body is never sent, and the answer comes anyway.
    stream
        .write_all(
            b"POST /v1/messages HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 999999999\r\n\r\n",
        )
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("an answer without the body")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    // A header section over 64 KiB: 431.
    let big = format!(
        "GET / HTTP/1.1\r\nhost: localhost\r\nx-big: {}\r\nconnection: close\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let (status, text) = proxy.raw(&big).await;
    assert_eq!(status, 431, "{text}");
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_given_up_and_its_memory_freed() {
    let (a, b) = (
        MockUpstream::anthropic().start().await,
        MockUpstream::anthropic().start().await,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("providers.yaml");
    std::fs::write(
        &path,
        format!("providers:\n{}{}", provider("a", &a), provider("b", &b)),
    )
    .unwrap();
    let proxy = Proxy::start_tuned(path, Some(dir), |state| {
        state.body_deadline = Duration::from_millis(500);
    })
    .await;
    let addr = proxy.url.trim_start_matches("http://").to_owned();
    // Ten clients announce 31 MiB each, send 1 MiB of it and stop.
    let mut stalled = Vec::new();
    for _ in 0..10 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /v1/messages HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            31 * 1024 * 1024
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&vec![b' '; 1024 * 1024]).await.unwrap();
        stalled.push(stream);
    }
    for stream in &mut stalled {
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
            .await
            .expect("the server answers and closes a stalled body")
            .unwrap();
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains("did not arrive within"), "{text}");
    }
    assert_eq!(a.request_count() + b.request_count(), 0);
    assert_eq!(post(&proxy, &[], body("m", false)).await.status(), 200);
}

#[tokio::test]
async fn slow_and_silent_connections_are_closed_and_do_not_stop_others() {
    let (a, b) = (
        MockUpstream::anthropic().start().await,
        MockUpstream::anthropic().start().await,
    );
    let yaml = format!(
        "providers:\n{}{}settings:\n  header_read_timeout: 1\n",
        provider("a", &a),
        provider("b", &b)
    );
    let proxy = Proxy::start(&yaml).await;
    let addr = proxy.url.trim_start_matches("http://").to_owned();
    // 500 clients that send their headers one byte at a time, and 100 that send nothing.
    let mut slow = Vec::new();
    for i in 0..600 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        if i < 500 {
            stream.write_all(b"P").await.unwrap();
        }
        slow.push(stream);
    }
    let dribble = {
        let mut streams: Vec<_> = slow.drain(..500).collect();
        tokio::spawn(async move {
            for byte in b"OST /v1/messages HTTP/1.1\r\nhost: localhost\r\n" {
                tokio::time::sleep(Duration::from_millis(300)).await;
                for stream in &mut streams {
                    let _ = stream.write_all(&[*byte]).await;
                }
            }
            streams
        })
    };
    // A normal client is served meanwhile.
    let response =
        tokio::time::timeout(Duration::from_secs(10), post(&proxy, &[], body("m", false)))
            .await
            .expect("a normal client is served while 600 others stall");
    assert_eq!(response.status(), 200);
    // Every stalling connection is closed by the server after the header timeout.
    let mut streams = dribble.await.unwrap();
    streams.append(&mut slow);
    for stream in &mut streams {
        assert!(
            closed_by_server(stream, Duration::from_secs(5)).await,
            "a stalling connection stayed open"
        );
    }
}

/// `serve` on an address other machines reach: refused without clients, with the reason and
/// both ways out; started with them.
#[test]
fn a_public_listen_address_needs_clients() {
    let mut cli = ClaudeLb::new();
    let path = cli.write(
        "providers.yaml",
        "providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    base_url: http://127.0.0.1:9\n",
    );
    let run = cli
        .args(["serve", "--listen", "0.0.0.0:0", "--config"])
        .arg_path(&path)
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("no `clients:` are configured"),
        "{run:?}"
    );
    assert!(run.stderr.contains("clients add"), "{run:?}");
    assert!(
        run.stderr.contains("allow_unauthenticated_public"),
        "{run:?}"
    );
    let mut cli = ClaudeLb::new();
    let run = cli
        .env("CLAUDE_LB_LISTEN", "0.0.0.0:0")
        .args(["serve", "--config"])
        .arg_path(&path)
        .run();
    assert_eq!(run.code, 1, "{run:?}");

    let mut cli = ClaudeLb::new();
    let path = cli.write(
        "providers.yaml",
        &format!(
            "providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    base_url: http://127.0.0.1:9\nclients:\n  - name: ci\n    key: \"{CI}\"\n"
        ),
    );
    let mut child = cli
        .env("CLAUDE_LB_LOG", "info")
        .args(["serve", "--listen", "0.0.0.0:0", "--config"])
        .arg_path(&path)
        .spawn();
    let stderr = child.stderr.take().unwrap();
    let line = std::io::BufRead::lines(std::io::BufReader::new(stderr))
        .map_while(Result::ok)
        .find(|l| l.contains("listening on"));
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.is_some(), "serve started with clients on 0.0.0.0");
}

/// Every request of this file's kinds, at `trace`: no key, digest or admin token in any log
/// line, answer or admin document.
#[tokio::test]
async fn no_key_digest_or_admin_token_is_ever_shown() {
    let (a, b) = (
        MockUpstream::anthropic().start().await,
        MockUpstream::anthropic().start().await,
    );
    let mut cli = ClaudeLb::new();
    cli.env("TEST_SECRET", "sk-test-secret-value");
    let path = cli.write(
        "providers.yaml",
        &config(
            &a,
            &b,
            &alice_and_ci("    requests_per_minute: 2\n"),
            &format!("  admin_token: \"{ADMIN}\"\n"),
        ),
    );
    let mut served = crate::serve_bin::Served::start_logged(cli, &path, &[], "trace");
    let client = reqwest::Client::new();
    let near_miss = format!("{}X", &ALICE[..ALICE.len() - 1]);
    let mut seen = String::new();
    for (key, admin) in [
        (Some(ALICE), None),
        (Some(CI), None),
        (Some(CI), None),
        (Some(CI), None),
        (Some(&*near_miss), None),
        (None, Some(ADMIN)),
        (None, Some(&*near_miss)),
    ] {
        let mut messages = client
            .post(format!("{}/v1/messages", served.url))
            .header("content-type", "application/json")
            .body(body("m", true));
        if let Some(key) = key {
            messages = messages.header("x-api-key", key).bearer_auth(key);
        }
        let response = messages.send().await.unwrap();
        for value in response.headers().values() {
            seen.push_str(value.to_str().unwrap_or_default());
        }
        seen.push_str(&response.text().await.unwrap());
        for path in ["/providers", "/metrics", "/"] {
            let mut get = client.get(format!("{}{path}", served.url));
            if let Some(token) = admin {
                get = get.bearer_auth(token);
            }
            let response = get.send().await.unwrap();
            seen.push_str(&response.text().await.unwrap());
        }
    }
    assert!(
        seen.contains("claude_lb_requests_total"),
        "the admin routes answered"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = served.drain_log().join("\n");
    assert!(log.contains("request refused"), "{log}");
    assert!(
        log.contains("client=alice") || log.contains("client=\"alice\""),
        "{log}"
    );
    let digest = |key: &str| claude_lb::config::KeyDigest::of(key.as_bytes()).to_hex();
    for secret in [
        ALICE.to_owned(),
        CI.to_owned(),
        ADMIN.to_owned(),
        near_miss.clone(),
        digest(ALICE),
        digest(CI),
        digest(ADMIN),
        "sk-test-secret-value".to_owned(),
    ] {
        assert!(!log.contains(&secret), "a log line shows {secret}");
        assert!(!seen.contains(&secret), "an answer shows {secret}");
    }
}

/// `claude-lb serve` with `config` on a free loopback port, under `ulimit -n limit`, its log
/// read to the end by a thread of its own (a full pipe never stops it): the process and its
/// address.
fn serve_under_file_limit(
    limit: usize,
    config: &std::path::Path,
    home: &std::path::Path,
) -> (std::process::Child, String) {
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_claude-lb"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .env("TEST_SECRET", "sk-test-secret-value")
        .env("CLAUDE_LB_LOG", "info")
        .env("HOME", home)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let line = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("listening on"))
        .expect("serve starts");
    std::thread::spawn(move || for _ in lines {});
    let addr = line
        .rsplit("listening on ")
        .next()
        .and_then(|rest| rest.split(|c: char| c.is_whitespace() || c == '"').next())
        .unwrap()
        .to_owned();
    (child, addr)
}

/// Under a small file limit, hundreds of silent connections (plain and HTTP/2 with only the
/// preface) are closed at the header timeout, a normal client is still served, and memory
/// stays small.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn silent_sockets_under_a_small_file_limit_do_not_stop_a_normal_client() {
    let (a, b) = (
        MockUpstream::anthropic().start().await,
        MockUpstream::anthropic().start().await,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("providers.yaml");
    std::fs::write(
        &path,
        format!(
            "providers:\n{}{}settings:\n  header_read_timeout: 1\n",
            provider("a", &a),
            provider("b", &b)
        ),
    )
    .unwrap();
    let (mut child, addr) = serve_under_file_limit(256, &path, dir.path());
    let rss = |pid: u32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    let before = rss(child.id());
    let mut silent = Vec::new();
    for i in 0..360 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        if i >= 350 {
            // Half an HTTP/2 preface.
            stream.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
        } else if i >= 300 {
            // An HTTP/2 preface and an empty SETTINGS frame, then nothing.
            stream
                .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
                .await
                .unwrap();
        }
        silent.push(stream);
    }
    let response = tokio::time::timeout(
        Duration::from_secs(20),
        reqwest::Client::new()
            .post(format!("http://{addr}/v1/messages"))
            .header("content-type", "application/json")
            .body(body("m", false))
            .send(),
    )
    .await
    .expect("a normal client is served")
    .unwrap();
    assert_eq!(response.status(), 200);
    let during = rss(child.id());
    for stream in &mut silent {
        assert!(
            closed_by_server(stream, Duration::from_secs(10)).await,
            "a silent connection stayed open"
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        during < 64 * 1024,
        "RSS grew from {before} kB to {during} kB with 360 silent connections"
    );
}

/// One HTTP/1.1 exchange on an open keep-alive connection: the status and the body.
async fn exchange_on(stream: &mut tokio::net::TcpStream, request: &str) -> (u16, String) {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert!(
            n > 0,
            "the connection closed: {}",
            String::from_utf8_lossy(&buffer)
        );
        buffer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buffer).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .expect("a content-length");
        if body.len() >= length {
            let status = head.split(' ').nth(1).unwrap().parse().unwrap();
            return (status, body[..length].to_owned());
        }
    }
}

/// Out of file descriptors, claude-lb cannot open a connection to a provider: the client gets
/// a 503 that says so, and the provider, which did nothing wrong, is not cooled down: once
/// descriptors are free again, the next request is served.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn running_out_of_file_descriptors_blames_no_provider() {
    const LIMIT: usize = 64;
    let a = MockUpstream::anthropic().start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("providers.yaml");
    std::fs::write(
        &path,
        format!(
            "providers:\n{}settings:\n  usage:\n    store: off\n",
            provider("a", &a)
        ),
    )
    .unwrap();
    let (mut child, addr) = serve_under_file_limit(LIMIT, &path, dir.path());
    // Descriptors below the limit in use: a new one must be below it (inherited ones above it
    // do not count).
    let open_files = |pid: u32| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<usize>().ok())
            .filter(|fd| *fd < LIMIT)
            .count()
    };
    let request = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
        body("m", false).len(),
        body("m", false)
    );
    let status = format!("GET /providers HTTP/1.1\r\nhost: {addr}\r\n\r\n");
    let mut client = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Idle connections until the proxy holds as many descriptors as it may.
    let mut idle = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while open_files(child.id()) < LIMIT {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the proxy never reached its file limit"
        );
        for _ in 0..8 {
            idle.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (code, answer) = exchange_on(&mut client, &request).await;
    assert_eq!(code, 503, "{answer}");
    assert!(answer.contains("out of file descriptors"), "{answer}");
    assert!(answer.contains("not cooled down"), "{answer}");
    let (code, providers) = exchange_on(&mut client, &status).await;
    assert_eq!(code, 200, "{providers}");
    let providers: serde_json::Value = serde_json::from_str(&providers).unwrap();
    assert_eq!(providers[0]["state"], "available", "{providers:#}");
    assert_eq!(a.request_count(), 0);
    // Descriptors free again: served at once, no cooldown to wait out.
    drop(idle);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while open_files(child.id()) >= LIMIT - 8 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the proxy kept the closed connections"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (code, answer) = exchange_on(&mut client, &request).await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(a.request_count(), 1);
    let _ = child.kill();
    let _ = child.wait();
}

/// `--remote` commands: `providers list` sends `--admin-token` (or `CLAUDE_LB_ADMIN_TOKEN`) and
/// says what to do without it; `test` sends `--client-key` (or `CLAUDE_LB_CLIENT_KEY`).
#[tokio::test]
async fn remote_commands_send_the_admin_token_and_the_client_key() {
    use crate::check::run_bin;
    let (a, b) = (
        MockUpstream::anthropic().start().await,
        MockUpstream::anthropic().start().await,
    );
    let proxy = Proxy::start(&config(
        &a,
        &b,
        &alice_and_ci(""),
        &format!("  admin_token: \"{ADMIN}\"\n"),
    ))
    .await;
    let mut lb = ClaudeLb::new();
    lb.args(["providers", "list", "--remote", &proxy.url]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("HTTP 401"), "{run:?}");
    assert!(run.stderr.contains("--admin-token"), "{run:?}");
    let mut lb = ClaudeLb::new();
    lb.args([
        "providers",
        "list",
        "--json",
        "--remote",
        &proxy.url,
        "--admin-token",
        ADMIN,
    ]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("\"name\": \"a\""), "{run:?}");
    let mut lb = ClaudeLb::new();
    lb.env("CLAUDE_LB_ADMIN_TOKEN", ADMIN)
        .args(["providers", "list", "--remote", &proxy.url]);
    assert_eq!(run_bin(lb).await.code, 0);

    let mut lb = ClaudeLb::new();
    lb.args(["test", "--remote", &proxy.url, "--json"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("invalid x-api-key"), "{run:?}");
    let mut lb = ClaudeLb::new();
    lb.env("CLAUDE_LB_CLIENT_KEY", CI)
        .args(["test", "--remote", &proxy.url, "--json"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(a.request_count(), 1);
}
