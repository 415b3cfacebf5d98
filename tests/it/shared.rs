//! Several replicas on one Redis: two real `claude-lb serve` processes and a real
//! `redis-server`, with mock providers in this process.

use std::time::Duration;

use claude_lb::mock::{MockHandle, MockUpstream, Reply};
use http::Method;
use tokio::time::Instant;

use crate::serve_bin::Served;
use crate::support::cli::ClaudeLb;
use crate::support::proxy::body;
use crate::support::redis::RedisServer;
use crate::support::tls::TestCa;

const KEY: &str = "clb-shared-test-key";

fn provider(name: &str, mock: &MockHandle) -> String {
    format!(
        "  - name: {name}\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    base_url: {}\n",
        mock.base_url()
    )
}

/// A replica's config: `providers` in this order (strategy `priority`), sharing state at
/// `redis`, with `extra` lines appended under `settings:`.
fn config(providers: &[String], redis: &RedisServer, extra: &str) -> String {
    format!(
        "providers:\n{}settings:\n  request_timeout: 5\n  failure_cooldown: 60\n  shared_state: \"{}\"\n  shared_state_wait: 100ms\n{extra}",
        providers.concat(),
        redis.url()
    )
}

fn start(yaml: &str) -> Served {
    start_with(ClaudeLb::new(), yaml)
}

fn start_with(cli: ClaudeLb, yaml: &str) -> Served {
    let path = cli.home().join("claude-lb.yaml");
    std::fs::write(&path, yaml).unwrap();
    Served::start(cli, &path)
}

async fn get_json(url: &str) -> serde_json::Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Polls `GET /` until it reports `shared_state: want`, for at most `limit`.
async fn wait_for_shared_state(replica: &Served, want: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        let root = get_json(&format!("{}/", replica.url)).await;
        if root["shared_state"] == want {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "shared_state never became {want:?} within {limit:?}: {root}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `name`'s state as `GET /providers` shows it.
async fn state(replica: &Served, name: &str) -> String {
    let list = get_json(&format!("{}/providers", replica.url)).await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Polls `name`'s state until it is `want`; returns how long that took.
async fn wait_for_state(replica: &Served, name: &str, want: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if state(replica, name).await == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{name} never became {want} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn send(replica: &Served, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}/v1/messages", replica.url))
        .header("content-type", "application/json")
        .body(body("claude-opus-5-5", false));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn answered_by(response: &reqwest::Response) -> String {
    response.headers()["x-claude-lb-provider"]
        .to_str()
        .unwrap()
        .to_owned()
}

fn posts(mock: &MockHandle) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.method == Method::POST)
        .count()
}

/// Two replicas of `yaml`, both connected to the shared state.
async fn two_replicas(yaml: &str) -> (Served, Served) {
    let replicas = (start(yaml), start(yaml));
    wait_for_shared_state(&replicas.0, "ok", Duration::from_secs(10)).await;
    wait_for_shared_state(&replicas.1, "ok", Duration::from_secs(10)).await;
    replicas
}

/// Providers `a` and `b`, and replicas A and B sharing state on `redis`, both connected.
/// Only A runs health checks: a recovery B sees can only come from A.
async fn checked_by_a_only(redis: &RedisServer) -> (MockHandle, MockHandle, Served, Served) {
    let a = MockUpstream::anthropic().start().await;
    let b = MockUpstream::anthropic().start().await;
    let providers = [provider("a", &a), provider("b", &b)];
    let replica_a = start(&config(
        &providers,
        redis,
        "  health_check:\n    interval: 300ms\n    timeout: 1s\n",
    ));
    let replica_b = start(&config(
        &providers,
        redis,
        "  health_check:\n    interval: 0\n",
    ));
    wait_for_shared_state(&replica_a, "ok", Duration::from_secs(10)).await;
    wait_for_shared_state(&replica_b, "ok", Duration::from_secs(10)).await;
    (a, b, replica_a, replica_b)
}

#[tokio::test]
async fn a_failure_on_one_replica_is_skipped_by_the_other_and_a_recovery_found_by_its_checks_too() {
    let redis = RedisServer::start();
    let (a, _b, replica_a, replica_b) = checked_by_a_only(&redis).await;

    a.set_always(Some(Reply::status(529)));
    let response = send(&replica_a, &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(answered_by(&response), "b", "A failed over");
    assert_eq!(posts(&a), 1);

    // B hears of it within a second and goes straight to b: one attempt, a not contacted.
    let heard = wait_for_state(&replica_b, "a", "cooling_down", Duration::from_secs(1)).await;
    let response = send(&replica_b, &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(answered_by(&response), "b");
    assert_eq!(
        posts(&a),
        1,
        "B never tried a (heard of its failure after {heard:?})"
    );
    let listed = get_json(&format!("{}/providers", replica_b.url)).await;
    assert!(
        listed.to_string().contains("on another replica"),
        "B says where the failure was seen: {listed}"
    );

    // a recovers; A's health check finds it, and B follows without a check of its own.
    a.set_always(None);
    wait_for_state(&replica_a, "a", "available", Duration::from_secs(3)).await;
    wait_for_state(&replica_b, "a", "available", Duration::from_secs(1)).await;
    let response = send(&replica_b, &[]).await;
    assert_eq!(answered_by(&response), "a");
    let probes = a
        .requests()
        .iter()
        .filter(|r| r.method == Method::GET)
        .count();
    assert!(probes >= 1, "A's checks reached a");
}

#[tokio::test]
async fn a_session_served_through_one_replica_stays_on_its_provider_through_the_other() {
    let redis = RedisServer::start();
    let a = MockUpstream::anthropic().start().await;
    let b = MockUpstream::anthropic().start().await;
    // The replicas list the providers in opposite orders: on its own, B would send a new
    // session to b.
    let replica_a = start(&config(&[provider("a", &a), provider("b", &b)], &redis, ""));
    let replica_b = start(&config(&[provider("b", &b), provider("a", &a)], &redis, ""));
    wait_for_shared_state(&replica_a, "ok", Duration::from_secs(10)).await;
    wait_for_shared_state(&replica_b, "ok", Duration::from_secs(10)).await;

    let session = [("x-claude-code-session-id", "3f1c9a2e-session-one")];
    let response = send(&replica_a, &session).await;
    assert_eq!(answered_by(&response), "a");
    // A writes the session to Redis after answering: wait for it.
    wait_for_sessions(&redis, 1).await;
    for _ in 0..3 {
        let response = send(&replica_b, &session).await;
        assert_eq!(response.status(), 200);
        assert_eq!(answered_by(&response), "a", "B keeps the session on a");
    }
    // A session B has not seen from anywhere goes where B's own plan says.
    let other = [("x-claude-code-session-id", "3f1c9a2e-session-two")];
    assert_eq!(answered_by(&send(&replica_b, &other).await), "b");
    // And the other way round, once B has written it: B's session is A's too.
    wait_for_sessions(&redis, 2).await;
    assert_eq!(answered_by(&send(&replica_a, &other).await), "b");
}

/// Waits until `redis` holds `count` session keys (a replica writes one after its answer).
async fn wait_for_sessions(redis: &RedisServer, count: usize) {
    let start = Instant::now();
    while redis
        .command(&["KEYS", "claude-lb:session:*"])
        .map_or(0, |reply| reply.matches("claude-lb:session:").count())
        < count
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the replicas wrote fewer than {count} sessions"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_clients_requests_per_minute_count_across_replicas() {
    let redis = RedisServer::start();
    let a = MockUpstream::anthropic().start().await;
    let clients = format!(
        "clients:\n  - name: alice\n    key: {KEY}\n    requests_per_minute: 10\n    max_concurrent: 4\n"
    );
    let yaml = format!("{clients}{}", config(&[provider("a", &a)], &redis, ""));
    let (replica_a, replica_b) = two_replicas(&yaml).await;

    let key = [("x-api-key", KEY)];
    for i in 0..10 {
        let replica = if i % 2 == 0 { &replica_a } else { &replica_b };
        let response = send(replica, &key).await;
        assert_eq!(response.status(), 200, "request {i}");
    }
    // Each replica saw five: alone, each would let five more through.
    for replica in [&replica_a, &replica_b] {
        let response = send(replica, &key).await;
        assert_eq!(response.status(), 429);
        assert!(response.headers().contains_key("retry-after"));
        let text = response.text().await.unwrap();
        assert!(text.contains("requests_per_minute"), "{text}");
    }
    assert_eq!(posts(&a), 10);
}

#[tokio::test]
async fn a_clients_max_concurrent_and_budget_count_across_replicas() {
    let redis = RedisServer::start();
    // Each answer takes 600 input and 10 output tokens, and a moment.
    let answer = serde_json::json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-opus-5-5",
        "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 600, "output_tokens": 10}
    });
    let a = MockUpstream::anthropic().start().await;
    a.set_always(Some(
        Reply::json(200, answer).delay(Duration::from_millis(1500)),
    ));
    let clients = format!(
        "clients:\n  - name: alice\n    key: {KEY}\n    max_concurrent: 2\n    budget: {{ tokens_per_day: 1000 }}\n"
    );
    let yaml = format!("{clients}{}", config(&[provider("a", &a)], &redis, ""));
    let (replica_a, replica_b) = two_replicas(&yaml).await;

    // Two requests in flight through A take both of alice's slots: B refuses a third.
    let url = replica_a.url.clone();
    let in_flight: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(format!("{url}/v1/messages"))
                    .header("content-type", "application/json")
                    .header("x-api-key", KEY)
                    .body(body("claude-opus-5-5", false))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let start = Instant::now();
    while posts(&a) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "both requests reach a"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let busy = send(&replica_b, &[("x-api-key", KEY)]).await;
    assert_eq!(busy.status(), 429);
    let text = busy.text().await.unwrap();
    assert!(text.contains("max_concurrent"), "{text}");
    for request in in_flight {
        assert_eq!(request.await.unwrap(), 200);
    }
    // Together they spent 1,220 of the day's 1,000 tokens: once the counters have gone
    // round (each replica reads them every second), B refuses, though it served nothing.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let refused = send(&replica_b, &[("x-api-key", KEY)]).await;
    assert_eq!(refused.status(), 402);
    let text = refused.text().await.unwrap();
    assert!(text.contains("1220 of 1000 tokens"), "{text}");
    assert_eq!(posts(&a), 2, "B contacted no provider");
}

#[tokio::test]
async fn replicas_go_on_without_redis_and_converge_when_it_returns() {
    let mut redis = RedisServer::start();
    let a = MockUpstream::anthropic().start().await;
    let b = MockUpstream::anthropic().start().await;
    let clients = format!(
        "clients:\n  - name: alice\n    key: {KEY}\n    requests_per_minute: 100000\n    max_concurrent: 8\n"
    );
    let providers = [provider("a", &a), provider("b", &b)];
    let yaml = format!(
        "{clients}{}",
        config(&providers, &redis, "  health_check:\n    interval: 0\n")
    );
    let (replica_a, replica_b) = two_replicas(&yaml).await;

    redis.kill();
    let key = [("x-api-key", KEY)];
    for i in 0..200 {
        let replica = if i % 2 == 0 { &replica_a } else { &replica_b };
        let response = send(replica, &key).await;
        assert_eq!(response.status(), 200, "request {i} without Redis");
    }
    for replica in [&replica_a, &replica_b] {
        wait_for_shared_state(replica, "unavailable", Duration::from_secs(5)).await;
        let metrics = metrics(replica).await;
        assert!(metrics.contains("claude_lb_shared_state_up 0"), "{metrics}");
    }

    // While Redis is away, a fails through A: only A knows.
    a.set_always(Some(Reply::status(529)));
    let response = send(&replica_a, &key).await;
    assert_eq!(answered_by(&response), "b");
    assert_eq!(state(&replica_b, "a").await, "available");

    // Redis comes back empty: both reconnect, and A publishes the cooldown it kept.
    redis.restart();
    for replica in [&replica_a, &replica_b] {
        wait_for_shared_state(replica, "ok", Duration::from_secs(10)).await;
    }
    wait_for_state(&replica_b, "a", "cooling_down", Duration::from_secs(5)).await;
    let before = posts(&a);
    assert_eq!(answered_by(&send(&replica_b, &key).await), "b");
    assert_eq!(posts(&a), before, "B skips a after the reconvergence");
}

#[tokio::test]
async fn replicas_share_state_over_tls_with_a_ca_the_system_is_told_of() {
    let redis = RedisServer::start_tls();
    let a = MockUpstream::anthropic().start().await;
    let b = MockUpstream::anthropic().start().await;
    let yaml = config(&[provider("a", &a), provider("b", &b)], &redis, "");
    assert!(yaml.contains("rediss://"), "{yaml}");
    // Another CA, which did not sign the server's certificate.
    let stranger = TestCa::new();
    let replica = |trusted: bool| {
        let mut cli = ClaudeLb::new();
        // The system's roots, here a file holding only one CA.
        if trusted {
            cli.env("SSL_CERT_FILE", redis.tls_ca());
        } else {
            cli.env("SSL_CERT_FILE", stranger.file());
        }
        start_with(cli, &yaml)
    };
    let replica_a = replica(true);
    let replica_b = replica(true);
    wait_for_shared_state(&replica_a, "ok", Duration::from_secs(10)).await;
    wait_for_shared_state(&replica_b, "ok", Duration::from_secs(10)).await;
    a.set_always(Some(Reply::status(529)));
    assert_eq!(answered_by(&send(&replica_a, &[]).await), "b");
    wait_for_state(&replica_b, "a", "cooling_down", Duration::from_secs(1)).await;
    // A replica that does not trust the server's certificate shares nothing, and says so.
    let mut untrusting = replica(false);
    let line = untrusting.find_log("shared state unavailable");
    assert!(line.contains("rediss://127.0.0.1"), "{line}");
    wait_for_shared_state(&untrusting, "unavailable", Duration::from_secs(5)).await;
    assert_eq!(state(&untrusting, "a").await, "available");
}

#[tokio::test]
async fn a_redis_that_hangs_costs_requests_three_bounded_waits_then_none() {
    let redis = RedisServer::start();
    let a = MockUpstream::anthropic().start().await;
    let clients =
        format!("clients:\n  - name: alice\n    key: {KEY}\n    requests_per_minute: 100000\n");
    let yaml = format!("{clients}{}", config(&[provider("a", &a)], &redis, ""));
    let replica = start(&yaml);
    wait_for_shared_state(&replica, "ok", Duration::from_secs(10)).await;
    let key = [("x-api-key", KEY)];
    assert_eq!(send(&replica, &key).await.status(), 200);
    let before = timeouts(&replica).await;

    // Redis stops answering but keeps its connections open: each request's question about
    // alice's rate runs into the bound, until three in a row did and the replica stops asking.
    redis.pause();
    for i in 0..20 {
        assert_eq!(send(&replica, &key).await.status(), 200, "request {i}");
    }
    wait_for_shared_state(&replica, "unavailable", Duration::from_secs(5)).await;
    // At most three (fewer when a late answer just before the pause already counted).
    let waited = timeouts(&replica).await - before;
    assert!(
        (1..=3).contains(&waited),
        "{waited} requests waited for Redis"
    );
    redis.resume();
    wait_for_shared_state(&replica, "ok", Duration::from_secs(10)).await;
    assert_eq!(send(&replica, &key).await.status(), 200);
}

/// The `/metrics` text of `replica`.
async fn metrics(replica: &Served) -> String {
    reqwest::get(format!("{}/metrics", replica.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// `claude_lb_shared_state_timeouts_total` of `replica`.
async fn timeouts(replica: &Served) -> u64 {
    let metrics = metrics(replica).await;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("claude_lb_shared_state_timeouts_total "))
        .unwrap_or_else(|| panic!("no timeouts counter in {metrics}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_recovery_while_redis_was_away_reaches_the_others_when_it_returns() {
    let mut redis = RedisServer::start();
    let (a, _b, replica_a, replica_b) = checked_by_a_only(&redis).await;
    a.set_always(Some(Reply::status(529)));
    assert_eq!(answered_by(&send(&replica_a, &[]).await), "b");
    wait_for_state(&replica_b, "a", "cooling_down", Duration::from_secs(1)).await;

    // Redis goes away, and a recovers: only A's checks see it.
    redis.kill();
    a.set_always(None);
    wait_for_state(&replica_a, "a", "available", Duration::from_secs(3)).await;
    assert_eq!(state(&replica_b, "a").await, "cooling_down");

    // Redis comes back empty; A tells the recovery B missed, and B does not tell A's old
    // cooldown back as its own.
    redis.restart();
    wait_for_shared_state(&replica_a, "ok", Duration::from_secs(10)).await;
    wait_for_shared_state(&replica_b, "ok", Duration::from_secs(10)).await;
    wait_for_state(&replica_b, "a", "available", Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(state(&replica_a, "a").await, "available");
    assert_eq!(answered_by(&send(&replica_b, &[]).await), "a");
}

#[tokio::test]
async fn a_recovery_redis_never_got_is_told_when_it_answers_again() {
    let redis = RedisServer::start();
    let (a, _b, replica_a, replica_b) = checked_by_a_only(&redis).await;
    a.set_always(Some(Reply::status(529)));
    assert_eq!(answered_by(&send(&replica_a, &[]).await), "b");
    wait_for_state(&replica_b, "a", "cooling_down", Duration::from_secs(1)).await;

    // Redis hangs, keeping its data (a's cooldown key among it); both replicas give up on it.
    redis.pause();
    wait_for_shared_state(&replica_a, "unavailable", Duration::from_secs(10)).await;
    wait_for_shared_state(&replica_b, "unavailable", Duration::from_secs(10)).await;
    a.set_always(None);
    wait_for_state(&replica_a, "a", "available", Duration::from_secs(3)).await;

    // Redis answers again, with the old cooldown still in it: A tells the recovery, and
    // deletes the key, whichever replica reconnects first.
    redis.resume();
    wait_for_shared_state(&replica_a, "ok", Duration::from_secs(10)).await;
    wait_for_shared_state(&replica_b, "ok", Duration::from_secs(10)).await;
    wait_for_state(&replica_b, "a", "available", Duration::from_secs(5)).await;
    assert_eq!(
        redis
            .command(&["EXISTS", "claude-lb:cooldown:a"])
            .as_deref(),
        Some(":0\r\n")
    );
}
