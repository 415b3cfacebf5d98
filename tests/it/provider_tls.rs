//! Providers over TLS: HTTP/2 by ALPN (or HTTP/1.1 where a server offers only that), a
//! provider behind a CA of its own trusted through `SSL_CERT_FILE`, and the refused HTTP/2
//! streams that are sent again.

use claude_lb::mock::{MockHandle, MockUpstream, Reply};
use claude_lb::upstream::{Upstream, UpstreamError, UpstreamRequest};
use futures_util::StreamExt as _;

use crate::check::run_bin;
use crate::serve_bin::Served;
use crate::support::cli::ClaudeLb;
use crate::support::env_of;
use crate::support::proxy::{body, sse_events};
use crate::support::tls::TestCa;

async fn tls_mock(ca: &TestCa, reply: Option<Reply>) -> MockHandle {
    let identity = ca.server();
    let mut mock = MockUpstream::anthropic().tls(identity.chain, identity.key);
    if let Some(reply) = reply {
        mock = mock.reply(reply);
    }
    mock.start().await
}

fn config(mock: &MockHandle) -> String {
    format!(
        "providers:\n  - name: relay\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    base_url: {}\nsettings:\n  request_timeout: 5\n  failure_cooldown: 60\n",
        mock.base_url()
    )
}

/// `claude-lb` with `SSL_CERT_FILE` naming `file` (when given) and this config.
fn lb(file: Option<&std::path::Path>, yaml: &str) -> (ClaudeLb, std::path::PathBuf) {
    let mut cli = ClaudeLb::new();
    if let Some(file) = file {
        cli.env("SSL_CERT_FILE", file);
    }
    let path = cli.write("claude-lb.yaml", yaml);
    (cli, path)
}

async fn send(served: &Served, stream: bool) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/v1/messages", served.url))
        .header("content-type", "application/json")
        .body(body("claude-opus-5-5", stream))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn serve_reaches_a_provider_behind_its_own_ca_over_http2_once_ssl_cert_file_names_it() {
    let ca = TestCa::new();
    let relay = tls_mock(&ca, None).await;
    assert!(
        relay.url().starts_with("https://127.0.0.1:"),
        "{}",
        relay.url()
    );
    let (cli, path) = lb(Some(&ca.file()), &config(&relay));
    let served = Served::start(cli, &path);

    let whole = send(&served, false).await;
    assert_eq!(whole.status(), 200);
    let answer: serde_json::Value = whole.json().await.unwrap();
    assert_eq!(answer["type"], "message", "{answer}");

    let streamed = send(&served, true).await;
    assert_eq!(streamed.status(), 200);
    let events = sse_events(&streamed.text().await.unwrap());
    assert_eq!(events.first().map(|e| e.0.as_str()), Some("message_start"));
    assert_eq!(events.last().map(|e| e.0.as_str()), Some("message_stop"));

    let requests = relay.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(relay.connection_count(), 1, "both on one HTTP/2 connection");
    for request in &requests {
        assert_eq!(request.version, http::Version::HTTP_2, "{request:?}");
        assert_eq!(request.header("x-api-key"), Some("k"));
    }
}

#[tokio::test]
async fn a_certificate_no_trusted_authority_signed_is_refused_and_the_log_says_how_to_trust_it() {
    let ca = TestCa::new();
    let relay = tls_mock(&ca, None).await;
    let (cli, path) = lb(None, &config(&relay));
    let mut served = Served::start(cli, &path);
    let refused = send(&served, false).await;
    assert_eq!(refused.status(), 503, "{:?}", refused.text().await);
    let line = served.find_log("relay");
    assert!(
        line.contains("signed by an authority claude-lb does not trust"),
        "{line}"
    );
    assert!(line.contains("SSL_CERT_FILE"), "{line}");
    assert_eq!(relay.request_count(), 0, "no request crossed the handshake");

    // A file holding another CA is no better: its authorities are added, not a wildcard.
    let stranger = TestCa::new();
    let (cli, path) = lb(Some(&stranger.file()), &config(&relay));
    let served = Served::start(cli, &path);
    assert_eq!(send(&served, false).await.status(), 503);
    assert_eq!(relay.request_count(), 0);
}

#[tokio::test]
async fn check_probes_a_provider_behind_its_own_ca_with_the_same_trust() {
    let ca = TestCa::new();
    let relay = tls_mock(&ca, None).await;
    let (mut trusting, _) = lb(Some(&ca.file()), &config(&relay));
    trusting.args(["check", "--config", "claude-lb.yaml"]);
    let run = run_bin(trusting).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains(" ok "), "{}", run.stdout);

    let (mut untrusting, _) = lb(None, &config(&relay));
    untrusting.args(["check", "--config", "claude-lb.yaml"]);
    let run = run_bin(untrusting).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("SSL_CERT_FILE"), "{}", run.stdout);
}

#[tokio::test]
async fn an_ssl_cert_file_that_cannot_serve_stops_serve_and_says_which_and_why() {
    let ca = TestCa::new();
    let relay = tls_mock(&ca, None).await;
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("notes.txt");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let cases = [
        (dir.path().join("missing.pem"), "which cannot be read"),
        (not_pem, "which holds no PEM certificate"),
    ];
    for (file, why) in cases {
        let (mut cli, path) = lb(Some(&file), &config(&relay));
        cli.args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg_path(&path);
        let run = run_bin(cli).await;
        assert_eq!(run.code, 1, "{run:?}");
        let said = format!("SSL_CERT_FILE names {}, {why}", file.display());
        assert!(run.stderr.contains(&said), "{said:?} not in {}", run.stderr);
    }
}

/// The Messages client alone, trusting `ca`.
fn upstream(ca: &TestCa) -> Upstream {
    let file = ca.file();
    Upstream::new(&env_of(&[("SSL_CERT_FILE", file.to_str().unwrap())])).unwrap()
}

async fn post(upstream: &Upstream, mock: &MockHandle) -> Result<u16, UpstreamError> {
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    let request = UpstreamRequest {
        url: format!("{}/v1/messages", mock.url()).parse().unwrap(),
        headers,
        body: body("m", false).into(),
    };
    let response = upstream.post(request).await?;
    let status = response.status().as_u16();
    // Read to the end, as `serve` does, so an HTTP/1.1 connection can be kept.
    let mut body = response.into_body();
    while let Some(chunk) = body.next().await {
        chunk.unwrap();
    }
    Ok(status)
}

#[tokio::test]
async fn a_refused_http2_stream_is_sent_again_twice_at_most() {
    let ca = TestCa::new();
    let upstream = upstream(&ca);

    // Refused twice, then answered: one answer, three requests seen, all over HTTP/2.
    let twice = tls_mock(&ca, Some(Reply::refuse_stream())).await;
    twice.push_reply(Reply::refuse_stream());
    assert_eq!(post(&upstream, &twice).await.unwrap(), 200);
    let requests = twice.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.iter().all(|r| r.version == http::Version::HTTP_2),
        "{requests:?}"
    );

    // Refused every time: the third refusal is the answer, and nothing more is sent.
    let always = tls_mock(&ca, None).await;
    always.set_always(Some(Reply::refuse_stream()));
    let error = post(&upstream, &always).await.unwrap_err();
    assert!(matches!(error, UpstreamError::Connect(_)), "{error:?}");
    assert_eq!(always.request_count(), 3);

    // A reset for any other reason may have been processed: it is never sent again.
    let cut = tls_mock(&ca, Some(Reply::drop_connection())).await;
    post(&upstream, &cut).await.unwrap_err();
    assert_eq!(cut.request_count(), 1);
}

#[tokio::test]
async fn a_tls_provider_that_offers_only_http1_is_spoken_to_in_http1() {
    let ca = TestCa::new();
    let identity = ca.server();
    let mock = MockUpstream::anthropic()
        .tls(identity.chain, identity.key)
        .without_http2()
        .start()
        .await;
    let upstream = upstream(&ca);
    for _ in 0..2 {
        assert_eq!(post(&upstream, &mock).await.unwrap(), 200);
    }
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        mock.connection_count(),
        1,
        "the connection is kept between them"
    );
    assert!(
        requests.iter().all(|r| r.version == http::Version::HTTP_11),
        "{requests:?}"
    );
}

#[tokio::test]
async fn concurrent_requests_share_the_http2_connection_once_it_is_up() {
    let ca = TestCa::new();
    let mock = tls_mock(&ca, None).await;
    let upstream = upstream(&ca);
    assert_eq!(post(&upstream, &mock).await.unwrap(), 200);
    let all = (0..32).map(|_| post(&upstream, &mock));
    for status in futures_util::future::join_all(all).await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(mock.request_count(), 33);
    assert_eq!(mock.connection_count(), 1);
    assert!(
        mock.requests()
            .iter()
            .all(|r| r.version == http::Version::HTTP_2)
    );
}
