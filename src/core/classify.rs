//! What an attempt's outcome means: fail over (and how long to cool the provider down), or hand
//! the answer back to the client; and what to tell the client when every candidate failed.
//!
//! # Policy
//!
//! The question for every failed attempt is "would another provider do better?"
//!
//! - **The provider is at fault, fail over**: a connection error, a timeout, HTTP 408, 409, 429,
//!   every 5xx and 529, a 3xx or a status outside 100..=599 (the base URL points at something
//!   that is not this API), and, before a stream's commit point, an `error` event or an early end.
//!   429 and a `rate_limit_error` event cool the provider down as rate-limited, which decides the
//!   final verdict's status.
//! - **The provider's credentials are at fault, fail over with the long cooldown**: 401, 403, and
//!   402 (`billing_error`: the account behind this key has run out, which says nothing about the
//!   request; it follows the same reasoning as 401 and 403, "a bad key on one
//!   provider must not stop the others").
//! - **The request is at fault, return to the client**: every other 4xx (400, 404, 413, 422, ...).
//!   Another provider would refuse it too, and the provider is not blamed.
//!
//! A stream `error` event before the commit point is judged by its `error.type`, the same way as
//! the status it stands for: `overloaded_error`, `api_error`,
//! `timeout_error` fail over; `rate_limit_error` fails over as rate-limited;
//! `authentication_error`, `permission_error`, `billing_error` fail over with the long cooldown.
//! `invalid_request_error`, `not_found_error` and `request_too_large` return to the client: an
//! upstream that accepted the request and then found it wrong (a context overflow detected late,
//! for example) would be followed by every other provider finding it wrong too, and turning it into
//! "all providers failed" would make Claude Code resend the same request forever instead of
//! compacting it. Nothing has reached the client before the commit point, so the dispatcher can
//! answer with the error as an HTTP error of the matching status. An event with no readable type,
//! or one not listed here, fails over: it is the upstream misbehaving.

use std::fmt;
use std::time::Duration;

use super::error_type::ErrorType;

/// Why one attempt failed, as the dispatcher observed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The connection closed or reset before response headers: it may work on the next try.
    Connect,
    /// The provider cannot be reached until someone fixes something: its name does not
    /// resolve, it refuses connections, or its TLS fails.
    Unreachable,
    /// claude-lb itself could not open a connection: it is out of file descriptors or memory.
    /// Not the provider's doing.
    Local,
    /// The upstream was silent for too long.
    Timeout(TimeoutPhase),
    /// The upstream answered with a non-2xx status.
    Status {
        status: u16,
        /// The upstream's `retry-after`, parsed with [`crate::core::retry_after`].
        retry_after: Option<Duration>,
    },
    /// The provider's own error in a successful answer: a stream's `error` event before the
    /// commit point, or an `error` object in a translated 200 answer (metrics: `stream_error`).
    StreamError {
        /// The error's `type`, when it could be read.
        error_type: Option<String>,
    },
    /// The stream ended before the commit point.
    StreamEnded,
    /// The response could not be parsed or translated.
    InvalidResponse,
    /// The response went past one of the memory bounds of [`crate::limits`].
    TooLarge,
}

/// Which wait ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// No response headers within `request_timeout`.
    Headers,
    /// Headers came, but no first event within `request_timeout`.
    FirstEvent,
    /// A stream was silent for longer than `stream_idle_timeout`.
    Idle,
    /// A whole (non-streaming) answer did not arrive within its total deadline
    /// ([`crate::limits::whole_answer_deadline`]).
    WholeAnswer,
}

/// What the dispatcher does with an attempt that did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Try the next candidate, and cool this provider down.
    Failover { cooldown: CooldownKind },
    /// The request itself is wrong: give the upstream's answer to the client, blame no one.
    ReturnToClient,
    /// claude-lb itself failed ([`Failure::Local`]): try the next candidate, cool no one down.
    NotTheProvider,
}

/// The kind of cooldown a failure earns (see [`crate::core::health`] for the durations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CooldownKind {
    /// The provider failed: exponential backoff, or the upstream's `retry-after` when longer.
    Failure { retry_after: Option<Duration> },
    /// The provider is rate-limiting us: as `Failure`, and it counts toward a 429 verdict.
    RateLimited { retry_after: Option<Duration> },
    /// The provider refused our credentials: the long, fixed cooldown.
    Auth,
}

/// What a response status means, or `None` for a 2xx success.
///
/// A 2xx whose body turns out to be unusable is the dispatcher's [`Failure::InvalidResponse`].
pub fn status(status: u16, retry_after: Option<Duration>) -> Option<Outcome> {
    let cooldown = match status {
        200..=299 => return None,
        401..=403 => CooldownKind::Auth,
        429 => CooldownKind::RateLimited { retry_after },
        408 | 409 | 500..=599 => CooldownKind::Failure { retry_after },
        400..=499 => return Some(Outcome::ReturnToClient),
        // 1xx, 3xx or not a status at all: this endpoint is not speaking the API.
        _ => CooldownKind::Failure { retry_after },
    };
    Some(Outcome::Failover { cooldown })
}

/// Whether a failed attempt may be sent to the next provider.
///
/// Every failure may, except a whole (non-streaming) answer that did not arrive within its
/// deadline: that request reached the provider, which may still be generating the answer and
/// billing for it, so sending it again would pay for it twice. The client is told instead, and
/// the provider is not cooled down for it, unless the operator opts in
/// (`settings.resend_timed_out_answers`). Every other failure is safe to re-send: nothing was
/// generated (a refused connection, an error status, an `error` event before any content), or
/// what was generated was unusable and never reached the client (a stream that showed no
/// content within `request_timeout`, an answer that broke off or went past a bound).
pub fn may_resend(failure: &Failure, resend_timed_out_answers: bool) -> bool {
    resend_timed_out_answers || *failure != Failure::Timeout(TimeoutPhase::WholeAnswer)
}

/// Whether the provider gave no answer at all: no connection, or no response headers in time.
/// (Anything else is an answer, if a bad one.)
pub fn no_answer(failure: &Failure) -> bool {
    matches!(
        failure,
        Failure::Connect | Failure::Unreachable | Failure::Timeout(TimeoutPhase::Headers)
    )
}

/// What a failed attempt means.
pub fn failure(failure: &Failure) -> Outcome {
    let cooldown = match failure {
        Failure::Local => return Outcome::NotTheProvider,
        Failure::Connect
        | Failure::Unreachable
        | Failure::Timeout(_)
        | Failure::StreamEnded
        | Failure::InvalidResponse
        | Failure::TooLarge => CooldownKind::Failure { retry_after: None },
        // A 2xx reported as a failure is a success the dispatcher could not use.
        Failure::Status {
            status: code,
            retry_after,
        } => {
            return status(*code, *retry_after).unwrap_or(Outcome::Failover {
                cooldown: CooldownKind::Failure {
                    retry_after: *retry_after,
                },
            });
        }
        Failure::StreamError { error_type } => {
            match error_type.as_deref().and_then(ErrorType::parse) {
                Some(
                    ErrorType::InvalidRequest | ErrorType::NotFound | ErrorType::RequestTooLarge,
                ) => {
                    return Outcome::ReturnToClient;
                }
                Some(ErrorType::RateLimit) => CooldownKind::RateLimited { retry_after: None },
                Some(ErrorType::Authentication | ErrorType::Permission | ErrorType::Billing) => {
                    CooldownKind::Auth
                }
                _ => CooldownKind::Failure { retry_after: None },
            }
        }
    };
    Outcome::Failover { cooldown }
}

impl Failure {
    /// A short, fixed label for metrics (`/metrics` `reason`).
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Connect | Self::Unreachable => "connect",
            Self::Local => "local",
            Self::Timeout(_) => "timeout",
            Self::Status { status: 429, .. } => "status_429",
            Self::Status { status: 529, .. } => "status_529",
            Self::Status {
                status: 401 | 403, ..
            } => "status_auth",
            Self::Status {
                status: 500..=599, ..
            } => "status_5xx",
            Self::Status { .. } => "status_other",
            Self::StreamError { .. } => "stream_error",
            Self::StreamEnded => "stream_ended",
            Self::InvalidResponse => "invalid_response",
            Self::TooLarge => "too_large",
        }
    }
}

impl fmt::Display for Failure {
    /// A short description for logs, the admin API and the all-failed message; never a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect => f.write_str("connection failed"),
            Self::Unreachable => f.write_str("unreachable"),
            Self::Local => f.write_str("claude-lb out of file descriptors or memory"),
            Self::Timeout(TimeoutPhase::Headers) => {
                f.write_str("no response headers within request_timeout")
            }
            Self::Timeout(TimeoutPhase::FirstEvent) => {
                f.write_str("no first event within request_timeout")
            }
            Self::Timeout(TimeoutPhase::Idle) => {
                f.write_str("stream silent for longer than stream_idle_timeout")
            }
            Self::Timeout(TimeoutPhase::WholeAnswer) => {
                f.write_str("no whole answer within its deadline")
            }
            Self::Status {
                status,
                retry_after: None,
            } => write!(f, "HTTP {status}"),
            Self::Status {
                status,
                retry_after: Some(delay),
            } => {
                write!(f, "HTTP {status}, retry after {}s", ceil_secs(*delay))
            }
            Self::StreamError {
                error_type: Some(kind),
            } => {
                write!(f, "the provider's error {kind} before any content")
            }
            Self::StreamError { error_type: None } => {
                f.write_str("the provider's error before any content")
            }
            Self::StreamEnded => f.write_str("stream ended before the first content"),
            Self::InvalidResponse => f.write_str("invalid response"),
            Self::TooLarge => f.write_str("response larger than claude-lb's bounds"),
        }
    }
}

/// The longest `retry-after` the proxy itself sends when every failure was transient.
///
/// Short, so that the client's next try lands soon after the first provider can be back (a
/// provider in cooldown is still tried when it is the one whose cooldown ends first), and so
/// that a client that waits as long as it is told does not sit silent for minutes.
pub const VERDICT_RETRY_AFTER_MAX: Duration = Duration::from_secs(5);

/// What the client is told when every candidate failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// 429 or 503, never 529 (Claude Code gives up after three quick tries on a 529).
    pub status: u16,
    /// The Anthropic `error.type`: `rate_limit_error` or `api_error`.
    pub error_type: ErrorType,
    /// Whole seconds, 1 to [`VERDICT_RETRY_AFTER_MAX`], for the `retry-after` header.
    pub retry_after: Duration,
    /// The `x-should-retry` header.
    pub should_retry: bool,
}

/// The verdict when every candidate failed.
///
/// - 429 `rate_limit_error` when every failure was a rate limit (a 429 or a `rate_limit_error`
///   event), so that the client is told the truth: it is sending more than the pool accepts.
///   One rate-limited provider among crashed ones is a broken pool, not a rate limit: 503
///   `api_error`. Claude Code backs off the same way for both.
/// - `x-should-retry: false` when every failure is permanent for now: a refused credential
///   (401, 403, 402) or a provider that cannot be reached (name not resolved, connection
///   refused, TLS error). Retrying cannot help until someone fixes something, and a client that
///   retries (Claude Code does ten times, over minutes) only delays the message the user needs
///   to read. Every other failure (429, 529, 5xx, timeouts, a dropped connection) is transient
///   and worth retrying.
/// - `retry-after` is the time until the earliest cooldown ends (`earliest_cooldown_end`, from
///   now), rounded up to whole seconds, at least 1 s, at most [`VERDICT_RETRY_AFTER_MAX`].
pub fn all_failed(failures: &[Failure], earliest_cooldown_end: Option<Duration>) -> Verdict {
    let mut all_rate_limited = !failures.is_empty();
    let mut all_lasting = !failures.is_empty();
    for one in failures {
        match failure(one) {
            Outcome::Failover {
                cooldown: CooldownKind::RateLimited { .. },
            } => all_lasting = false,
            Outcome::Failover {
                cooldown: CooldownKind::Auth,
            } => all_rate_limited = false,
            _ if *one == Failure::Unreachable => all_rate_limited = false,
            _ => (all_rate_limited, all_lasting) = (false, false),
        }
    }
    let (status, error_type) = if all_rate_limited {
        (429, ErrorType::RateLimit)
    } else {
        (503, ErrorType::Api)
    };
    let wait = earliest_cooldown_end.unwrap_or(Duration::ZERO);
    let retry_after =
        Duration::from_secs(ceil_secs(wait)).clamp(Duration::from_secs(1), VERDICT_RETRY_AFTER_MAX);
    Verdict {
        status,
        error_type,
        retry_after,
        should_retry: !all_lasting,
    }
}

/// `delay` in whole seconds, rounded up.
fn ceil_secs(delay: Duration) -> u64 {
    delay
        .as_secs()
        .saturating_add(u64::from(delay.subsec_nanos() > 0))
}

#[cfg(test)]
mod tests;
