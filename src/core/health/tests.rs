// Tests may unwrap: a panic is a test failure with its location.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tokio::time::Instant;

use super::*;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

const FAILURE: CooldownKind = CooldownKind::Failure { retry_after: None };

/// A table and a clock origin, with one-line steps for the scenarios below.
struct Scenario {
    table: HealthTable,
    policy: CooldownPolicy,
    t0: Instant,
    id: ProviderId,
}

impl Scenario {
    fn new(base: u64) -> Self {
        Self {
            table: HealthTable::new(),
            policy: CooldownPolicy::new(secs(base)),
            t0: Instant::now(),
            id: ProviderId::new("p"),
        }
    }

    fn at(&self, t: Duration) -> Instant {
        self.t0 + t
    }

    /// Records a failure of `kind` at `t` and checks the cooldown it reports.
    #[track_caller]
    fn fail(&self, t: Duration, kind: CooldownKind, expect_cooldown: Duration) {
        let applied =
            self.table
                .record_failure(&self.id, &kind, "HTTP 503", &self.policy, self.at(t));
        assert_eq!(
            applied, expect_cooldown,
            "cooldown after a failure at {t:?}"
        );
    }

    /// Checks the state at `t`: `None` for available, else the remaining cooldown.
    #[track_caller]
    fn check(&self, t: Duration, expect_remaining: Option<Duration>) {
        let now = self.at(t);
        let expect_state = match expect_remaining {
            None => HealthState::Available,
            Some(remaining) => HealthState::CoolingDown { remaining },
        };
        assert_eq!(
            self.table.snapshot(&self.id, now).state,
            expect_state,
            "state at {t:?}"
        );
        assert_eq!(
            self.table.available(&self.id, now),
            expect_remaining.is_none()
        );
        assert_eq!(
            self.table.cooldown_remaining(&self.id, now),
            expect_remaining
        );
    }
}

#[track_caller]
fn check_policy(base: u64, max: u64, auth: u64) {
    let policy = CooldownPolicy::new(secs(base));
    assert_eq!(
        (policy.base, policy.max, policy.auth),
        (secs(base), secs(max), secs(auth))
    );
}

#[test]
fn policy_from_failure_cooldown() {
    check_policy(0, 0, 0);
    check_policy(1, 10, 300);
    check_policy(10, 100, 300);
    check_policy(60, 600, 300);
    check_policy(90, 900, 450);
    check_policy(180, 1800, 900);
    check_policy(600, 1800, 3000);
    check_policy(1800, 1800, 3600);
    check_policy(7200, 7200, 7200);
}

#[test]
fn backoff_doubles_then_caps() {
    let policy = CooldownPolicy::new(secs(60));
    let steps: Vec<u64> = (0..=8).map(|step| policy.backoff(step).as_secs()).collect();
    assert_eq!(steps, [60, 60, 120, 240, 480, 600, 600, 600, 600]);
    assert_eq!(policy.backoff(u32::MAX), secs(600));
    let huge = CooldownPolicy::new(Duration::MAX);
    assert_eq!(
        huge.backoff(40),
        Duration::MAX,
        "saturates instead of overflowing"
    );
}

#[test]
fn cooldown_expires() {
    let s = Scenario::new(60);
    s.check(secs(0), None);
    s.fail(secs(0), FAILURE, secs(60));
    s.check(secs(0), Some(secs(60)));
    s.check(secs(59), Some(secs(1)));
    s.check(ms(59_999), Some(ms(1)));
    s.check(secs(60), None);
    s.check(secs(3600), None);
    assert_eq!(
        s.table.cooldown_ends(&s.id),
        Some(s.at(secs(60))),
        "the end stays readable"
    );
}

#[test]
fn repeated_failures_double_the_cooldown_up_to_the_cap() {
    let s = Scenario::new(60);
    let mut t = secs(0);
    for expect in [60, 120, 240, 480, 600, 600] {
        s.fail(t, FAILURE, secs(expect));
        s.check(t + ms(expect * 1000 - 1), Some(ms(1)));
        t += secs(expect);
    }
    assert_eq!(s.table.snapshot(&s.id, s.at(t)).consecutive_failures, 6);
}

#[test]
fn a_burst_of_failures_counts_once() {
    let s = Scenario::new(60);
    s.fail(secs(0), FAILURE, secs(60));
    // In-flight requests failing during the cooldown extend it to what they would set...
    s.fail(secs(1), FAILURE, secs(60));
    s.fail(secs(2), FAILURE, secs(60));
    s.check(secs(61), Some(secs(1)));
    // ...but the streak is still at its first step: the next failure after it doubles once.
    s.fail(secs(62), FAILURE, secs(120));
    let snap = s.table.snapshot(&s.id, s.at(secs(62)));
    assert_eq!(
        (snap.consecutive_failures, snap.failures, snap.requests),
        (4, 4, 4)
    );
}

#[test]
fn retry_after_longer_than_the_backoff_wins() {
    let s = Scenario::new(60);
    let limited = |r| CooldownKind::RateLimited {
        retry_after: Some(secs(r)),
    };
    s.fail(secs(0), limited(300), secs(300));
    s.check(secs(299), Some(secs(1)));
    s.check(secs(300), None);
    // Shorter than the backoff (now at its second step): the backoff wins.
    s.fail(
        secs(300),
        CooldownKind::Failure {
            retry_after: Some(secs(10)),
        },
        secs(120),
    );
    // A rate limit during a cooldown that asks for longer extends it.
    s.fail(secs(310), limited(200), secs(200));
    s.check(secs(310), Some(secs(200)));
    s.check(secs(510), None);
}

#[test]
fn success_resets_the_streak_and_the_cooldown() {
    let s = Scenario::new(60);
    s.fail(secs(0), FAILURE, secs(60));
    s.fail(secs(60), FAILURE, secs(120));
    // The fallback plan tried it while cooling down, and it answered.
    s.table.record_success(&s.id, ms(200), s.at(secs(100)));
    s.check(secs(100), None);
    let snap = s.table.snapshot(&s.id, s.at(secs(100)));
    assert_eq!(
        (snap.consecutive_failures, snap.failures, snap.requests),
        (0, 2, 3)
    );
    assert_eq!(
        snap.last_error.as_deref(),
        Some("HTTP 503"),
        "the last error stays visible"
    );
    s.fail(secs(101), FAILURE, secs(60));
}

#[test]
fn auth_cooldown_is_long_and_fixed() {
    let s = Scenario::new(60);
    s.fail(secs(0), CooldownKind::Auth, secs(300));
    s.check(secs(299), Some(secs(1)));
    s.check(secs(300), None);
    s.fail(secs(300), CooldownKind::Auth, secs(300));
    // A short failure cooldown does not shorten a running auth cooldown.
    s.fail(secs(310), FAILURE, secs(290));
    s.check(secs(310), Some(secs(290)));
}

#[test]
fn zero_base_disables_cooldown_except_retry_after() {
    let s = Scenario::new(0);
    s.fail(secs(0), FAILURE, Duration::ZERO);
    s.check(secs(0), None);
    s.fail(secs(0), CooldownKind::Auth, Duration::ZERO);
    s.check(secs(0), None);
    s.fail(
        secs(0),
        CooldownKind::RateLimited {
            retry_after: Some(secs(5)),
        },
        secs(5),
    );
    s.check(secs(4), Some(secs(1)));
}

#[test]
fn client_errors_count_requests_only() {
    let s = Scenario::new(60);
    s.fail(secs(0), FAILURE, secs(60));
    s.table.record_client_error(&s.id, s.at(secs(10)));
    s.check(secs(10), Some(secs(50)));
    let snap = s.table.snapshot(&s.id, s.at(secs(10)));
    assert_eq!(
        (snap.consecutive_failures, snap.failures, snap.requests),
        (1, 1, 2)
    );
    assert_eq!(snap.latency, None);
    let fresh = ProviderId::new("fresh");
    s.table.record_client_error(&fresh, s.at(secs(0)));
    assert_eq!(s.table.snapshot(&fresh, s.at(secs(0))).requests, 1);
}

#[test]
fn latency_is_a_moving_average() {
    let s = Scenario::new(60);
    assert_eq!(s.table.snapshot(&s.id, s.t0).latency_ms(), None);
    let mut expect = Vec::new();
    for sample in [100, 200, 200, 1000] {
        s.table.record_success(&s.id, ms(sample), s.t0);
        expect.push(s.table.snapshot(&s.id, s.t0).latency_ms().unwrap());
    }
    // 100, then 0.7·100 + 0.3·200 = 130, then 0.7·130 + 0.3·200 = 151, then 0.7·151 + 0.3·1000.
    assert_eq!(expect, [100, 130, 151, 406]);
    // 0.7·405.7 ms + 0.3·1.499 ms = 284.4397 ms, give or take the float rounding.
    s.table
        .record_success(&s.id, Duration::from_micros(1499), s.t0);
    let latency = s.table.snapshot(&s.id, s.t0).latency.unwrap();
    assert!(
        (284_439..=284_440).contains(&latency.as_micros()),
        "{latency:?}"
    );
}

#[test]
fn unknown_providers_are_healthy() {
    let table = HealthTable::new();
    let id = ProviderId::new("never-used");
    let now = Instant::now();
    assert!(table.available(&id, now));
    assert_eq!(table.cooldown_ends(&id), None);
    assert_eq!(
        table.snapshot(&id, now),
        HealthSnapshot {
            state: HealthState::Available,
            consecutive_failures: 0,
            requests: 0,
            failures: 0,
            last_error: None,
            latency: None,
            last_check: None,
        }
    );
}

#[test]
fn retain_drops_only_what_reload_removed() {
    let s = Scenario::new(60);
    let kept = ProviderId::new("kept");
    let changed = ProviderId::new("changed");
    for id in [&kept, &changed] {
        s.table
            .record_failure(id, &FAILURE, "connection failed", &s.policy, s.t0);
    }
    s.table.retain(|id| id == &kept);
    assert!(
        !s.table.available(&kept, s.t0),
        "a kept provider keeps its cooldown"
    );
    assert!(
        s.table.available(&changed, s.t0),
        "a changed provider starts afresh"
    );
    assert_eq!(s.table.snapshot(&changed, s.t0).failures, 0);
    assert_eq!(s.table.snapshot(&kept, s.t0).failures, 1);
}

#[test]
fn table_is_shareable() {
    fn shareable<T: Send + Sync>() {}
    shareable::<HealthTable>();
}

/// The same rules read from tokio's paused clock, the way the dispatcher reads time.
#[tokio::test(start_paused = true)]
async fn cooldown_and_retry_after_on_the_paused_clock() {
    let table = HealthTable::new();
    let policy = CooldownPolicy::new(secs(60));
    let id = ProviderId::new("p");
    let rate_limited = CooldownKind::RateLimited {
        retry_after: Some(secs(90)),
    };
    let applied = table.record_failure(&id, &rate_limited, "HTTP 429", &policy, Instant::now());
    assert_eq!(applied, secs(90));
    tokio::time::advance(secs(61)).await;
    assert!(
        !table.available(&id, Instant::now()),
        "retry-after 90s outlasts the 60s cooldown"
    );
    tokio::time::advance(secs(30)).await;
    assert!(table.available(&id, Instant::now()));
    // A second failure in a row, with no success between: the cooldown doubles.
    let applied = table.record_failure(&id, &FAILURE, "HTTP 503", &policy, Instant::now());
    assert_eq!(applied, secs(120));
    tokio::time::advance(secs(119)).await;
    assert!(!table.available(&id, Instant::now()));
    tokio::time::advance(secs(1)).await;
    assert!(
        table.available(&id, Instant::now()),
        "the cooldown ends on time"
    );
}

fn check(ok: bool, detail: &str) -> LastCheck {
    LastCheck {
        at: std::time::SystemTime::UNIX_EPOCH,
        ok,
        latency: ms(5),
        detail: detail.to_owned(),
    }
}

#[test]
fn a_passing_check_ends_a_cooldown_and_the_streak() {
    let s = Scenario::new(60);
    let cooled = s
        .table
        .record_failure(&s.id, &FAILURE, "HTTP 529", &s.policy, s.at(secs(0)));
    assert_eq!(cooled, secs(60));
    let effect = s.table.record_check(
        &s.id,
        CheckVerdict::Pass,
        check(true, "answered"),
        &s.policy,
        s.at(secs(5)),
    );
    assert_eq!(effect, CheckEffect::Recovered);
    let snapshot = s.table.snapshot(&s.id, s.at(secs(5)));
    assert_eq!(snapshot.state, HealthState::Available);
    assert_eq!(snapshot.consecutive_failures, 0);
    // Not a request: the counters are the failed request's only.
    assert_eq!((snapshot.requests, snapshot.failures), (1, 1));
    assert_eq!(snapshot.last_check, Some(check(true, "answered")));
    // The next failure counts from the start of a streak: the base cooldown, not twice it.
    let again = s
        .table
        .record_failure(&s.id, &FAILURE, "HTTP 529", &s.policy, s.at(secs(6)));
    assert_eq!(again, secs(60));
    // A pass on an available provider changes nothing but the last check.
    let t = HealthTable::new();
    assert_eq!(
        t.record_check(
            &s.id,
            CheckVerdict::Pass,
            check(true, "ok"),
            &s.policy,
            s.t0
        ),
        CheckEffect::Unchanged
    );
}

#[test]
fn a_failing_check_cools_an_available_provider_only() {
    let s = Scenario::new(60);
    let effect = s.table.record_check(
        &s.id,
        CheckVerdict::Fail(FAILURE),
        check(false, "connection refused"),
        &s.policy,
        s.t0,
    );
    assert_eq!(effect, CheckEffect::CooledDown(secs(60)));
    let snapshot = s.table.snapshot(&s.id, s.t0);
    assert_eq!(
        snapshot.state,
        HealthState::CoolingDown {
            remaining: secs(60)
        }
    );
    assert_eq!(snapshot.requests, 0);
    assert_eq!(snapshot.last_error.as_deref(), Some("connection refused"));
    // Already cooling down: a failed check neither extends nor lengthens it.
    let effect = s.table.record_check(
        &s.id,
        CheckVerdict::Fail(FAILURE),
        check(false, "connection refused"),
        &s.policy,
        s.at(secs(50)),
    );
    assert_eq!(effect, CheckEffect::Unchanged);
    assert_eq!(s.table.cooldown_ends(&s.id), Some(s.at(secs(60))));
    // Inconclusive changes nothing either way.
    assert_eq!(
        s.table.record_check(
            &s.id,
            CheckVerdict::Inconclusive,
            check(false, "rate-limited"),
            &s.policy,
            s.at(secs(51)),
        ),
        CheckEffect::Unchanged
    );
    assert_eq!(s.table.cooldown_ends(&s.id), Some(s.at(secs(60))));
    assert_eq!(s.table.last_request(&s.id), None);
    s.table.record_client_error(&s.id, s.at(secs(52)));
    assert_eq!(s.table.last_request(&s.id), Some(s.at(secs(52))));
}

#[test]
fn a_passing_check_leaves_a_rate_limit_in_place() {
    let s = Scenario::new(60);
    let limited = CooldownKind::RateLimited {
        retry_after: Some(secs(120)),
    };
    s.table
        .record_failure(&s.id, &limited, "HTTP 429", &s.policy, s.t0);
    let effect = s.table.record_check(
        &s.id,
        CheckVerdict::Pass,
        check(true, "answered"),
        &s.policy,
        s.at(secs(5)),
    );
    assert_eq!(effect, CheckEffect::Unchanged);
    assert_eq!(s.table.cooldown_ends(&s.id), Some(s.at(secs(120))));
}

/// Records every change the table tells its observer of.
#[derive(Debug, Default)]
struct Changes(parking_lot::Mutex<Vec<(ProviderId, HealthChange)>>);

impl HealthObserver for Changes {
    fn changed(&self, id: &ProviderId, change: HealthChange) {
        self.0.lock().push((id.clone(), change));
    }
}

#[test]
fn the_observer_hears_of_cooldowns_and_recoveries_but_not_of_shared_changes() {
    let s = Scenario::new(60);
    let changes = std::sync::Arc::new(Changes::default());
    s.table.observe(changes.clone());
    let t = s.at(secs(0));
    s.table
        .record_failure(&s.id, &FAILURE, "HTTP 529", &s.policy, t);
    // A burst extends the cooldown by a few milliseconds: not worth telling again.
    s.table
        .record_failure(&s.id, &FAILURE, "HTTP 529", &s.policy, s.at(ms(5)));
    s.table.record_success(&s.id, ms(100), s.at(secs(1)));
    // A success outside a cooldown changes nothing another replica needs to know.
    s.table.record_success(&s.id, ms(100), s.at(secs(2)));
    let heard = changes.0.lock().clone();
    assert_eq!(
        heard,
        vec![
            (
                s.id.clone(),
                HealthChange::CoolingUntil {
                    until: t + secs(60),
                    error: "HTTP 529".into(),
                    rate_limited: false,
                }
            ),
            (s.id.clone(), HealthChange::Recovered),
        ]
    );
    // Changes from another replica apply without being told back.
    let other = ProviderId::new("other");
    let until = s.at(secs(100));
    let cooling = HealthChange::CoolingUntil {
        until,
        error: "HTTP 500".into(),
        rate_limited: false,
    };
    assert!(s.table.apply_shared(&other, &cooling, s.at(secs(3))));
    assert!(!s.table.available(&other, s.at(secs(99))));
    assert!(s.table.available(&other, s.at(secs(100))));
    let shown = s.table.snapshot(&other, s.at(secs(3)));
    assert_eq!(
        shown.last_error.as_deref(),
        Some("HTTP 500 (on another replica)")
    );
    // A cooldown from elsewhere never shortens one in force, and a recovery ends it.
    let shorter = HealthChange::CoolingUntil {
        until: s.at(secs(50)),
        error: "HTTP 500".into(),
        rate_limited: false,
    };
    assert!(!s.table.apply_shared(&other, &shorter, s.at(secs(4))));
    assert!(
        s.table
            .apply_shared(&other, &HealthChange::Recovered, s.at(secs(5)))
    );
    assert!(s.table.available(&other, s.at(secs(5))));
    assert_eq!(changes.0.lock().len(), 2, "nothing shared was told back");
}

#[test]
fn a_recovery_from_elsewhere_leaves_a_rate_limit_cooldown_in_force() {
    let s = Scenario::new(60);
    let limited = CooldownKind::RateLimited {
        retry_after: Some(secs(30)),
    };
    s.table
        .record_failure(&s.id, &limited, "HTTP 429", &s.policy, s.at(secs(0)));
    assert!(
        !s.table
            .apply_shared(&s.id, &HealthChange::Recovered, s.at(secs(1)))
    );
    assert!(!s.table.available(&s.id, s.at(secs(1))));
}

#[test]
fn a_rate_limit_from_elsewhere_survives_a_recovery_told_from_elsewhere() {
    let s = Scenario::new(60);
    let limited = HealthChange::CoolingUntil {
        until: s.at(secs(30)),
        error: "HTTP 429".into(),
        rate_limited: true,
    };
    assert!(s.table.apply_shared(&s.id, &limited, s.at(secs(0))));
    assert!(
        !s.table
            .apply_shared(&s.id, &HealthChange::Recovered, s.at(secs(1)))
    );
    assert!(!s.table.available(&s.id, s.at(secs(1))));
}
