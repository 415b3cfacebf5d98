// Tests may unwrap: a panic is a test failure with its location.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use super::*;

const FAIL: Outcome = Outcome::Failover {
    cooldown: CooldownKind::Failure { retry_after: None },
};
const RATE: Outcome = Outcome::Failover {
    cooldown: CooldownKind::RateLimited { retry_after: None },
};
const AUTH: Outcome = Outcome::Failover {
    cooldown: CooldownKind::Auth,
};
const CLIENT: Outcome = Outcome::ReturnToClient;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[track_caller]
fn check_status(code: u16, expect: Option<Outcome>) {
    assert_eq!(status(code, None), expect, "HTTP {code}");
    // The same status reported as a failure means the same thing.
    if let Some(outcome) = expect {
        assert_eq!(
            failure(&Failure::Status {
                status: code,
                retry_after: None
            }),
            outcome
        );
    }
}

#[test]
fn statuses() {
    check_status(100, Some(FAIL));
    check_status(101, Some(FAIL));
    check_status(200, None);
    check_status(201, None);
    check_status(204, None);
    check_status(299, None);
    check_status(301, Some(FAIL));
    check_status(302, Some(FAIL));
    check_status(304, Some(FAIL));
    check_status(307, Some(FAIL));
    check_status(400, Some(CLIENT));
    check_status(401, Some(AUTH));
    check_status(402, Some(AUTH));
    check_status(403, Some(AUTH));
    check_status(404, Some(CLIENT));
    check_status(405, Some(CLIENT));
    check_status(408, Some(FAIL));
    check_status(409, Some(FAIL));
    check_status(410, Some(CLIENT));
    check_status(413, Some(CLIENT));
    check_status(415, Some(CLIENT));
    check_status(422, Some(CLIENT));
    check_status(429, Some(RATE));
    check_status(451, Some(CLIENT));
    check_status(499, Some(CLIENT));
    check_status(500, Some(FAIL));
    check_status(501, Some(FAIL));
    check_status(502, Some(FAIL));
    check_status(503, Some(FAIL));
    check_status(504, Some(FAIL));
    check_status(529, Some(FAIL));
    check_status(599, Some(FAIL));
    check_status(0, Some(FAIL));
    check_status(99, Some(FAIL));
    check_status(600, Some(FAIL));
    check_status(999, Some(FAIL));
}

/// The failover rule stated once over the whole range, so no status falls between the cases above.
#[test]
fn every_status_follows_the_failover_rule() {
    for code in 100..=599_u16 {
        let expect = match code {
            200..=299 => None,
            401..=403 => Some(AUTH),
            429 => Some(RATE),
            408 | 409 => Some(FAIL),
            400..=499 => Some(CLIENT),
            _ => Some(FAIL),
        };
        check_status(code, expect);
    }
}

#[test]
fn retry_after_is_kept_where_it_matters() {
    let ra = Some(secs(30));
    let failover = |cooldown| Some(Outcome::Failover { cooldown });
    assert_eq!(
        status(429, ra),
        failover(CooldownKind::RateLimited { retry_after: ra })
    );
    assert_eq!(
        status(503, ra),
        failover(CooldownKind::Failure { retry_after: ra })
    );
    assert_eq!(
        status(529, ra),
        failover(CooldownKind::Failure { retry_after: ra })
    );
    assert_eq!(
        status(408, ra),
        failover(CooldownKind::Failure { retry_after: ra })
    );
    assert_eq!(
        status(401, ra),
        failover(CooldownKind::Auth),
        "auth has its own cooldown"
    );
    assert_eq!(status(400, ra), Some(CLIENT));
    assert_eq!(status(200, ra), None);
    // A 2xx that the dispatcher reports as a failure is blamed on the provider.
    assert_eq!(
        failure(&Failure::Status {
            status: 200,
            retry_after: ra
        }),
        Outcome::Failover {
            cooldown: CooldownKind::Failure { retry_after: ra }
        }
    );
}

#[track_caller]
fn check_failure(f: &Failure, expect: Outcome) {
    assert_eq!(failure(f), expect, "{f:?}");
}

fn stream_error(error_type: &str) -> Failure {
    Failure::StreamError {
        error_type: Some(error_type.to_owned()),
    }
}

#[test]
fn failures() {
    check_failure(&Failure::Connect, FAIL);
    check_failure(&Failure::Unreachable, FAIL);
    check_failure(&Failure::Timeout(TimeoutPhase::Headers), FAIL);
    check_failure(&Failure::Timeout(TimeoutPhase::FirstEvent), FAIL);
    check_failure(&Failure::Timeout(TimeoutPhase::Idle), FAIL);
    check_failure(&Failure::StreamEnded, FAIL);
    check_failure(&Failure::InvalidResponse, FAIL);
    check_failure(&Failure::TooLarge, FAIL);
    check_failure(&Failure::Timeout(TimeoutPhase::WholeAnswer), FAIL);
    check_failure(&Failure::StreamError { error_type: None }, FAIL);
    check_failure(&stream_error("overloaded_error"), FAIL);
    check_failure(&stream_error("api_error"), FAIL);
    check_failure(&stream_error("timeout_error"), FAIL);
    check_failure(&stream_error("rate_limit_error"), RATE);
    check_failure(&stream_error("authentication_error"), AUTH);
    check_failure(&stream_error("permission_error"), AUTH);
    check_failure(&stream_error("billing_error"), AUTH);
    check_failure(&stream_error("invalid_request_error"), CLIENT);
    check_failure(&stream_error("not_found_error"), CLIENT);
    check_failure(&stream_error("request_too_large"), CLIENT);
    check_failure(&stream_error("something_new"), FAIL);
    check_failure(&stream_error(""), FAIL);
    check_failure(
        &Failure::Status {
            status: 529,
            retry_after: None,
        },
        FAIL,
    );
    check_failure(
        &Failure::Status {
            status: 422,
            retry_after: None,
        },
        CLIENT,
    );
}

#[test]
fn only_a_timed_out_whole_answer_is_not_resent_unless_the_operator_opts_in() {
    let whole = Failure::Timeout(TimeoutPhase::WholeAnswer);
    assert!(!may_resend(&whole, false));
    assert!(may_resend(&whole, true));
    for other in [
        Failure::Connect,
        Failure::Timeout(TimeoutPhase::Headers),
        Failure::Timeout(TimeoutPhase::FirstEvent),
        Failure::Timeout(TimeoutPhase::Idle),
        Failure::StreamEnded,
        Failure::InvalidResponse,
        Failure::TooLarge,
        http(529),
    ] {
        assert!(may_resend(&other, false), "{other:?}");
    }
}

#[test]
fn failure_descriptions() {
    let cases = [
        (Failure::Connect, "connection failed"),
        (Failure::Unreachable, "unreachable"),
        (
            Failure::Timeout(TimeoutPhase::Headers),
            "no response headers within request_timeout",
        ),
        (
            Failure::Timeout(TimeoutPhase::FirstEvent),
            "no first event within request_timeout",
        ),
        (
            Failure::Timeout(TimeoutPhase::Idle),
            "stream silent for longer than stream_idle_timeout",
        ),
        (
            Failure::Status {
                status: 503,
                retry_after: None,
            },
            "HTTP 503",
        ),
        (
            Failure::Status {
                status: 429,
                retry_after: Some(Duration::from_millis(1500)),
            },
            "HTTP 429, retry after 2s",
        ),
        (
            stream_error("overloaded_error"),
            "the provider's error overloaded_error before any content",
        ),
        (
            Failure::StreamError { error_type: None },
            "the provider's error before any content",
        ),
        (
            Failure::StreamEnded,
            "stream ended before the first content",
        ),
        (Failure::InvalidResponse, "invalid response"),
        (Failure::TooLarge, "response larger than claude-lb's bounds"),
        (
            Failure::Timeout(TimeoutPhase::WholeAnswer),
            "no whole answer within its deadline",
        ),
    ];
    for (f, expect) in cases {
        assert_eq!(f.to_string(), expect);
    }
}

#[track_caller]
fn check_verdict(
    failures: &[Failure],
    earliest: Option<Duration>,
    (status, error_type, retry_after, should_retry): (u16, &str, u64, bool),
) {
    let verdict = all_failed(failures, earliest);
    assert_eq!(
        (
            verdict.status,
            verdict.error_type.as_str(),
            verdict.retry_after,
            verdict.should_retry
        ),
        (status, error_type, secs(retry_after), should_retry),
        "{failures:?} earliest {earliest:?}"
    );
}

fn http(status: u16) -> Failure {
    Failure::Status {
        status,
        retry_after: None,
    }
}

#[test]
fn verdicts() {
    let rate = Failure::Status {
        status: 429,
        retry_after: Some(secs(20)),
    };
    // Every provider rate-limited: 429, by status or by event.
    check_verdict(
        std::slice::from_ref(&rate),
        Some(secs(20)),
        (429, "rate_limit_error", 5, true),
    );
    check_verdict(
        &[rate.clone(), stream_error("rate_limit_error")],
        Some(secs(7)),
        (429, "rate_limit_error", 5, true),
    );
    // A mix is a broken pool: 503.
    check_verdict(
        &[rate.clone(), http(529)],
        Some(secs(20)),
        (503, "api_error", 5, true),
    );
    check_verdict(
        &[rate.clone(), http(401)],
        Some(secs(20)),
        (503, "api_error", 5, true),
    );
    check_verdict(
        &[Failure::Connect, http(500)],
        Some(secs(60)),
        (503, "api_error", 5, true),
    );
    // Never a 529, whatever the upstreams said.
    check_verdict(
        &[http(529), http(529)],
        Some(secs(45)),
        (503, "api_error", 5, true),
    );
    check_verdict(
        &[stream_error("overloaded_error")],
        Some(secs(3)),
        (503, "api_error", 3, true),
    );
    // Every credential refused: retrying cannot help.
    check_verdict(
        &[http(401), http(403), stream_error("billing_error")],
        Some(secs(300)),
        (503, "api_error", 5, false),
    );
    // Every provider unreachable, or unreachable and refusing the key: permanent for now, so
    // the client shows the message at once instead of retrying for minutes.
    check_verdict(
        &[Failure::Unreachable, Failure::Unreachable],
        Some(secs(30)),
        (503, "api_error", 5, false),
    );
    check_verdict(
        &[Failure::Unreachable, http(401)],
        Some(secs(30)),
        (503, "api_error", 5, false),
    );
    // One transient failure among them is worth a retry.
    for transient in [http(529), http(500), rate.clone(), Failure::Connect] {
        check_verdict(
            &[Failure::Unreachable, transient.clone()],
            Some(secs(2)),
            (503, "api_error", 2, true),
        );
    }
    check_verdict(
        &[Failure::Timeout(TimeoutPhase::Headers), http(403)],
        Some(secs(2)),
        (503, "api_error", 2, true),
    );
    // No attempts at all (nothing to blame) is still a transient 503.
    check_verdict(&[], None, (503, "api_error", 1, true));
}

#[test]
fn verdict_retry_after_bounds() {
    let f = [Failure::Connect];
    check_verdict(&f, None, (503, "api_error", 1, true));
    check_verdict(&f, Some(Duration::ZERO), (503, "api_error", 1, true));
    check_verdict(
        &f,
        Some(Duration::from_millis(1)),
        (503, "api_error", 1, true),
    );
    check_verdict(
        &f,
        Some(Duration::from_millis(1001)),
        (503, "api_error", 2, true),
    );
    check_verdict(&f, Some(secs(4)), (503, "api_error", 4, true));
    // Capped at a few seconds, however long the cooldown.
    check_verdict(&f, Some(secs(6)), (503, "api_error", 5, true));
    check_verdict(&f, Some(secs(600)), (503, "api_error", 5, true));
    check_verdict(&f, Some(Duration::MAX), (503, "api_error", 5, true));
}

#[test]
fn no_answer_is_a_connection_or_headers_that_never_came() {
    for failure in [
        Failure::Connect,
        Failure::Unreachable,
        Failure::Timeout(TimeoutPhase::Headers),
    ] {
        assert!(no_answer(&failure), "{failure}");
    }
    for failure in [
        Failure::Local,
        Failure::Timeout(TimeoutPhase::Idle),
        Failure::Status {
            status: 501,
            retry_after: None,
        },
        Failure::InvalidResponse,
        Failure::StreamEnded,
    ] {
        assert!(!no_answer(&failure), "{failure}");
    }
}
