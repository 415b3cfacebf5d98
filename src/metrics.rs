//! Counters for `GET /metrics`, in the Prometheus text format.
//!
//! One [`Metrics`] lives beside the health table in the dispatcher and, like it, outlives
//! config reloads. It counts requests (by provider and status, or as failed when no provider
//! could answer), attempts that failed over, cooldowns entered, latencies to the answer's end
//! as a histogram, and tokens. Recording takes one short lock; rendering happens only when
//! `/metrics` is scraped.
//!
//! It also keeps the latest failed attempts and failed requests ([`Event`], at most
//! [`EVENTS_KEPT`], the oldest dropped first) for `GET /events`, which `claude-lb top` shows as
//! its ticker.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;

use crate::core::price::Tokens;
use crate::core::provider::ProviderId;

/// The `client` label of answers without `clients:`; shared, so recording one allocates nothing.
static NO_CLIENT: std::sync::LazyLock<std::sync::Arc<str>> =
    std::sync::LazyLock::new(|| std::sync::Arc::from("-"));

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// How many of the latest events are kept for `GET /events`.
pub const EVENTS_KEPT: usize = 100;

/// Something that went wrong, as `GET /events` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Milliseconds since the Unix epoch, by the wall clock when it was recorded.
    pub at_unix_ms: u64,
    /// The provider it happened to; `None` for a request that no provider could answer.
    pub provider: Option<ProviderId>,
    pub kind: EventKind,
    /// Why, as a metric label (`status_529`, `timeout`, ...), or empty.
    pub reason: &'static str,
}

/// What an [`Event`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// An attempt failed and its request moved on to the next candidate, if any.
    Failover,
    /// An attempt failed and its provider started cooling down.
    Cooldown,
    /// No provider could answer a request.
    FailedRequest,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failover => "failover",
            Self::Cooldown => "cooldown",
            Self::FailedRequest => "failed_request",
        }
    }
}

/// Every counter, keyed by provider name.
#[derive(Debug, Default)]
pub struct Metrics {
    /// One lock for all counters: it is held for a few additions, never across an await.
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    providers: BTreeMap<ProviderId, ProviderCounters>,
    /// Requests that no provider could answer.
    failed_requests: u64,
    /// Requests refused before any provider, by client (`unauthenticated` when none) and
    /// reason.
    refused: BTreeMap<(std::sync::Arc<str>, &'static str), u64>,
    /// Failed attempts, over all providers: each moves its request on to the next candidate.
    failovers: u64,
    /// Requests by route (a configured route's name, `pinned:PROVIDER`, or `-`).
    routes: BTreeMap<std::sync::Arc<str>, u64>,
    /// The latest events, oldest first, at most [`EVENTS_KEPT`].
    events: VecDeque<Event>,
    /// Usage ledger rows lost to a full queue or a failing store.
    usage_rows_dropped: u64,
    /// Whether the shared state answers; `None` without `shared_state`.
    shared_state_up: Option<bool>,
    /// Shared-state questions of requests that got no answer within the bound.
    shared_state_timeouts: u64,
    /// Changes for the shared state dropped because its queue was full.
    shared_state_dropped: u64,
}

impl Inner {
    fn push_event(&mut self, provider: Option<&ProviderId>, kind: EventKind, reason: &'static str) {
        if self.events.len() == EVENTS_KEPT {
            self.events.pop_front();
        }
        let at_unix_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.events.push_back(Event {
            at_unix_ms,
            provider: provider.cloned(),
            kind,
            reason,
        });
    }
}

#[derive(Debug, Default)]
struct ProviderCounters {
    /// Answers by HTTP status and client (`-` without `clients:`; only configured names).
    requests: BTreeMap<(u16, std::sync::Arc<str>), u64>,
    /// Attempts that failed over, by reason.
    failed_attempts: BTreeMap<&'static str, u64>,
    cooldowns: u64,
    latency_buckets: [u64; BUCKETS.len()],
    latency_count: u64,
    latency_sum: f64,
    input_tokens: u64,
    output_tokens: u64,
    cache_read_tokens: u64,
    cache_creation_tokens: u64,
    /// Health checks, by outcome (`ok`, `failed`, `inconclusive`).
    checks: BTreeMap<&'static str, u64>,
}

/// A provider's token totals since the start, for `/providers`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenTotals {
    /// Input tokens neither read from nor written to the prompt cache.
    pub uncached_input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_creation: u64,
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// An answer from `provider` that went to the client, whole or streamed to its end.
    pub fn record_answer(
        &self,
        provider: &ProviderId,
        client: Option<&std::sync::Arc<str>>,
        status: u16,
        latency: Duration,
        tokens: &Tokens,
    ) {
        let mut inner = self.inner.lock();
        let counters = inner.providers.entry(provider.clone()).or_default();
        *counters
            .requests
            .entry((
                status,
                client.map_or_else(|| NO_CLIENT.clone(), Clone::clone),
            ))
            .or_default() += 1;
        let seconds = latency.as_secs_f64();
        for (bucket, bound) in counters.latency_buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        counters.latency_count += 1;
        counters.latency_sum += seconds;
        // Token counts come from providers: a huge or hostile value stops the counter at its
        // maximum instead of wrapping it to a small number (or panicking in a debug build).
        let add = |counter: &mut u64, n: u64| *counter = counter.saturating_add(n);
        add(&mut counters.input_tokens, tokens.input);
        add(&mut counters.output_tokens, tokens.output);
        add(&mut counters.cache_read_tokens, tokens.cache_read);
        add(&mut counters.cache_creation_tokens, tokens.cache_creation);
    }

    /// `provider`'s token totals.
    pub fn tokens(&self, provider: &ProviderId) -> TokenTotals {
        let inner = self.inner.lock();
        inner
            .providers
            .get(provider)
            .map_or_else(TokenTotals::default, |c| TokenTotals {
                uncached_input: c.input_tokens,
                output: c.output_tokens,
                cache_read: c.cache_read_tokens,
                cache_creation: c.cache_creation_tokens,
            })
    }

    /// A background health check of `provider`, by outcome.
    pub fn record_check(&self, provider: &ProviderId, outcome: &'static str) {
        let mut inner = self.inner.lock();
        let counters = inner.providers.entry(provider.clone()).or_default();
        *counters.checks.entry(outcome).or_default() += 1;
    }

    /// An attempt that failed over; `cooled` when it started a cooldown.
    pub fn record_failed_attempt(&self, provider: &ProviderId, reason: &'static str, cooled: bool) {
        let mut inner = self.inner.lock();
        inner.failovers += 1;
        let counters = inner.providers.entry(provider.clone()).or_default();
        *counters.failed_attempts.entry(reason).or_default() += 1;
        if cooled {
            counters.cooldowns += 1;
        }
        let kind = if cooled {
            EventKind::Cooldown
        } else {
            EventKind::Failover
        };
        inner.push_event(Some(provider), kind, reason);
    }

    /// A request refused before any provider saw it (no key, a limit, a web page).
    pub fn record_refused(&self, client: Option<&std::sync::Arc<str>>, reason: &'static str) {
        let client = client
            .cloned()
            .unwrap_or_else(|| std::sync::Arc::from("unauthenticated"));
        *self
            .inner
            .lock()
            .refused
            .entry((client, reason))
            .or_default() += 1;
    }

    /// A request that routing rules, or a model name that picks a provider, sent to `route`.
    /// The label is bounded: only configured route names, `pinned:` and a provider's name, or
    /// `-` for none.
    pub fn record_route(&self, route: &std::sync::Arc<str>) {
        let mut inner = self.inner.lock();
        match inner.routes.get_mut(route) {
            Some(n) => *n += 1,
            None => {
                inner.routes.insert(route.clone(), 1);
            }
        }
    }

    /// A request that no provider could answer.
    pub fn record_failed_request(&self) {
        let mut inner = self.inner.lock();
        inner.failed_requests += 1;
        inner.push_event(None, EventKind::FailedRequest, "");
    }

    /// The latest events, newest first.
    pub fn events(&self) -> Vec<Event> {
        self.inner.lock().events.iter().rev().cloned().collect()
    }

    /// Usage ledger rows that were not written.
    /// Whether the shared state answers (`None`: not configured).
    pub fn set_shared_state(&self, up: Option<bool>) {
        self.inner.lock().shared_state_up = up;
    }

    /// A change for the shared state dropped: its queue was full.
    pub fn count_shared_state_dropped(&self) {
        let mut inner = self.inner.lock();
        inner.shared_state_dropped = inner.shared_state_dropped.saturating_add(1);
    }

    /// A request's question to the shared state that got no answer in time.
    pub fn count_shared_state_timeout(&self) {
        let mut inner = self.inner.lock();
        inner.shared_state_timeouts = inner.shared_state_timeouts.saturating_add(1);
    }

    pub fn record_usage_rows_dropped(&self, rows: u64) {
        let mut inner = self.inner.lock();
        inner.usage_rows_dropped = inner.usage_rows_dropped.saturating_add(rows);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let inner = self.inner.lock();
        let mut out = String::with_capacity(4096);
        render_requests(&inner, &mut out);
        let _ = writeln!(
            out,
            "# HELP claude_lb_failed_requests_total Requests that no provider could answer.\n# TYPE claude_lb_failed_requests_total counter\nclaude_lb_failed_requests_total {}",
            inner.failed_requests
        );
        let _ = writeln!(
            out,
            "# HELP claude_lb_failovers_total Failed attempts: each moves the request on to the next candidate, when there is one.\n# TYPE claude_lb_failovers_total counter\nclaude_lb_failovers_total {}",
            inner.failovers
        );
        if !inner.routes.is_empty() {
            let _ = writeln!(
                out,
                "# HELP claude_lb_route_requests_total Requests by the route that chose their providers (`-`: no rule matched).\n# TYPE claude_lb_route_requests_total counter"
            );
            for (route, n) in &inner.routes {
                let _ = writeln!(
                    out,
                    "claude_lb_route_requests_total{{route=\"{route}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP claude_lb_usage_rows_dropped_total Usage ledger rows not written (queue full or store failing).\n# TYPE claude_lb_usage_rows_dropped_total counter\nclaude_lb_usage_rows_dropped_total {}",
            inner.usage_rows_dropped
        );
        render_shared_state(&inner, &mut out);
        let _ = writeln!(
            out,
            "# HELP claude_lb_failed_attempts_total Failed attempts, by provider and reason.\n# TYPE claude_lb_failed_attempts_total counter"
        );
        for (id, c) in &inner.providers {
            for (reason, n) in &c.failed_attempts {
                let _ = writeln!(
                    out,
                    "claude_lb_failed_attempts_total{{provider=\"{id}\",reason=\"{reason}\"}} {n}"
                );
            }
        }
        let mut family = |name: &str, help: &str, value: &dyn Fn(&ProviderCounters) -> u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (id, c) in &inner.providers {
                let _ = writeln!(out, "{name}{{provider=\"{id}\"}} {}", value(c));
            }
        };
        family(
            "claude_lb_cooldowns_total",
            "Cooldowns started, by provider.",
            &|c| c.cooldowns,
        );
        family(
            "claude_lb_input_tokens_total",
            "Input tokens reported by providers.",
            &|c| c.input_tokens,
        );
        family(
            "claude_lb_output_tokens_total",
            "Output tokens reported by providers.",
            &|c| c.output_tokens,
        );
        family(
            "claude_lb_cache_read_tokens_total",
            "Input tokens read from the prompt cache, by provider.",
            &|c| c.cache_read_tokens,
        );
        family(
            "claude_lb_cache_creation_tokens_total",
            "Input tokens written to the prompt cache, by provider.",
            &|c| c.cache_creation_tokens,
        );
        family(
            "claude_lb_uncached_input_tokens_total",
            "Input tokens neither read from nor written to the prompt cache, by provider.",
            &|c| c.input_tokens,
        );
        render_checks(&inner, &mut out);
        let _ = writeln!(
            out,
            "# HELP claude_lb_request_duration_seconds Time from a request's arrival to the end of its answer, by provider.\n# TYPE claude_lb_request_duration_seconds histogram"
        );
        for (id, c) in &inner.providers {
            for (bound, n) in BUCKETS.iter().zip(c.latency_buckets) {
                let _ = writeln!(
                    out,
                    "claude_lb_request_duration_seconds_bucket{{provider=\"{id}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "claude_lb_request_duration_seconds_bucket{{provider=\"{id}\",le=\"+Inf\"}} {}\nclaude_lb_request_duration_seconds_sum{{provider=\"{id}\"}} {}\nclaude_lb_request_duration_seconds_count{{provider=\"{id}\"}} {}",
                c.latency_count, c.latency_sum, c.latency_count
            );
        }
        out
    }
}

/// The families of answers by provider, client and status, and of refused requests.
fn render_requests(inner: &Inner, out: &mut String) {
    let _ = writeln!(
        out,
        "# HELP claude_lb_requests_total Answers sent to clients, by provider, client and HTTP status.\n# TYPE claude_lb_requests_total counter"
    );
    for (id, c) in &inner.providers {
        for ((status, client), n) in &c.requests {
            let _ = writeln!(
                out,
                "claude_lb_requests_total{{provider=\"{id}\",client=\"{client}\",status=\"{status}\"}} {n}"
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP claude_lb_refused_requests_total Requests refused before any provider (a missing key, a limit, a web page), by client and reason.\n# TYPE claude_lb_refused_requests_total counter"
    );
    for ((client, reason), n) in &inner.refused {
        let _ = writeln!(
            out,
            "claude_lb_refused_requests_total{{client=\"{client}\",reason=\"{reason}\"}} {n}"
        );
    }
}

/// The `claude_lb_health_checks_total` family.
fn render_checks(inner: &Inner, out: &mut String) {
    let _ = writeln!(
        out,
        "# HELP claude_lb_health_checks_total Background health checks, by provider and outcome.\n# TYPE claude_lb_health_checks_total counter"
    );
    for (id, c) in &inner.providers {
        for (outcome, n) in &c.checks {
            let _ = writeln!(
                out,
                "claude_lb_health_checks_total{{provider=\"{id}\",outcome=\"{outcome}\"}} {n}"
            );
        }
    }
}

/// The shared state's gauge and timeouts, when `shared_state` is set.
fn render_shared_state(inner: &Inner, out: &mut String) {
    if let Some(up) = inner.shared_state_up {
        let _ = writeln!(
            out,
            "# HELP claude_lb_shared_state_up Whether the shared state (Redis) answers: 1 yes, 0 no (this replica uses its own state).\n# TYPE claude_lb_shared_state_up gauge\nclaude_lb_shared_state_up {}\n# HELP claude_lb_shared_state_timeouts_total Questions of requests to the shared state that got no answer in time (answered locally).\n# TYPE claude_lb_shared_state_timeouts_total counter\nclaude_lb_shared_state_timeouts_total {}\n# HELP claude_lb_shared_state_dropped_total Changes for the shared state dropped because its queue was full (set right when Redis is back or at the next change).\n# TYPE claude_lb_shared_state_dropped_total counter\nclaude_lb_shared_state_dropped_total {}",
            u8::from(up),
            inner.shared_state_timeouts,
            inner.shared_state_dropped
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: Option<u64>, output: Option<u64>) -> Tokens {
        Tokens {
            input: input.unwrap_or(0),
            output: output.unwrap_or(0),
            ..Tokens::default()
        }
    }

    #[test]
    fn renders_every_family_with_its_counts() {
        let metrics = Metrics::new();
        let a = ProviderId::new("a");
        let b = ProviderId::new("b");
        metrics.record_failed_attempt(&a, "status_529", true);
        let alice: std::sync::Arc<str> = "alice".into();
        metrics.record_answer(
            &b,
            Some(&alice),
            200,
            Duration::from_millis(30),
            &tokens(Some(10), Some(5)),
        );
        metrics.record_answer(
            &b,
            Some(&alice),
            200,
            Duration::from_secs(3),
            &Tokens {
                cache_read: 900,
                cache_creation: 40,
                ..tokens(Some(1), None)
            },
        );
        metrics.record_answer(&b, None, 200, Duration::from_secs(3), &tokens(None, None));
        metrics.record_refused(None, "missing_key");
        metrics.record_refused(Some(&alice), "requests_per_minute");
        metrics.record_failed_request();
        metrics.record_check(&a, "ok");
        metrics.record_check(&a, "failed");
        metrics.record_check(&a, "ok");
        assert_eq!(
            metrics.tokens(&b),
            TokenTotals {
                uncached_input: 11,
                output: 5,
                cache_read: 900,
                cache_creation: 40,
            }
        );
        assert_eq!(
            metrics.tokens(&ProviderId::new("c")),
            TokenTotals::default()
        );
        metrics.record_route(&std::sync::Arc::from("background"));
        metrics.record_route(&std::sync::Arc::from("background"));
        metrics.record_usage_rows_dropped(3);
        let text = metrics.render();
        for line in [
            "claude_lb_requests_total{provider=\"b\",client=\"alice\",status=\"200\"} 2",
            "claude_lb_requests_total{provider=\"b\",client=\"-\",status=\"200\"} 1",
            "claude_lb_refused_requests_total{client=\"unauthenticated\",reason=\"missing_key\"} 1",
            "claude_lb_refused_requests_total{client=\"alice\",reason=\"requests_per_minute\"} 1",
            "claude_lb_failed_requests_total 1",
            "claude_lb_route_requests_total{route=\"background\"} 2",
            "claude_lb_failovers_total 1",
            "claude_lb_usage_rows_dropped_total 3",
            "claude_lb_failed_attempts_total{provider=\"a\",reason=\"status_529\"} 1",
            "claude_lb_cooldowns_total{provider=\"a\"} 1",
            "claude_lb_input_tokens_total{provider=\"b\"} 11",
            "claude_lb_output_tokens_total{provider=\"b\"} 5",
            "claude_lb_cache_read_tokens_total{provider=\"b\"} 900",
            "claude_lb_cache_creation_tokens_total{provider=\"b\"} 40",
            "claude_lb_uncached_input_tokens_total{provider=\"b\"} 11",
            "claude_lb_health_checks_total{provider=\"a\",outcome=\"ok\"} 2",
            "claude_lb_health_checks_total{provider=\"a\",outcome=\"failed\"} 1",
            "claude_lb_request_duration_seconds_bucket{provider=\"b\",le=\"0.05\"} 1",
            "claude_lb_request_duration_seconds_bucket{provider=\"b\",le=\"5\"} 3",
            "claude_lb_request_duration_seconds_bucket{provider=\"b\",le=\"+Inf\"} 3",
            "claude_lb_request_duration_seconds_count{provider=\"b\"} 3",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn events_are_listed_newest_first_and_only_the_latest_are_kept() {
        let metrics = Metrics::new();
        let a = ProviderId::new("a");
        metrics.record_failed_attempt(&a, "status_529", true);
        metrics.record_failed_attempt(&a, "timeout", false);
        metrics.record_failed_request();
        let events = metrics.events();
        let seen: Vec<(Option<&str>, EventKind, &str)> = events
            .iter()
            .map(|e| {
                (
                    e.provider.as_ref().map(ProviderId::as_str),
                    e.kind,
                    e.reason,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (None, EventKind::FailedRequest, ""),
                (Some("a"), EventKind::Failover, "timeout"),
                (Some("a"), EventKind::Cooldown, "status_529"),
            ]
        );
        assert!(events[0].at_unix_ms >= events[2].at_unix_ms);
        assert!(
            events[0].at_unix_ms > 1_600_000_000_000,
            "a wall-clock time"
        );

        for _ in 0..EVENTS_KEPT {
            metrics.record_failed_attempt(&a, "status_500", false);
        }
        let events = metrics.events();
        assert_eq!(events.len(), EVENTS_KEPT);
        assert!(events.iter().all(|e| e.reason == "status_500"));
    }

    #[test]
    fn token_counters_saturate_instead_of_wrapping() {
        let metrics = Metrics::new();
        let a = ProviderId::new("a");
        metrics.record_answer(
            &a,
            None,
            200,
            Duration::ZERO,
            &tokens(Some(u64::MAX - 1), Some(u64::MAX)),
        );
        metrics.record_answer(&a, None, 200, Duration::ZERO, &tokens(Some(5), Some(7)));
        let text = metrics.render();
        for line in [
            format!(
                "claude_lb_input_tokens_total{{provider=\"a\"}} {}",
                u64::MAX
            ),
            format!(
                "claude_lb_output_tokens_total{{provider=\"a\"}} {}",
                u64::MAX
            ),
        ] {
            assert!(text.contains(&line), "missing {line:?} in\n{text}");
        }
    }
}
