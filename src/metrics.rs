//! Counters for `GET /metrics`, in the Prometheus text format.
//!
//! One [`Metrics`] lives beside the health table in the dispatcher and, like it, outlives
//! config reloads. It counts requests (by provider and status, or as failed when no provider
//! could answer), attempts that failed over, cooldowns entered, latencies to the answer's end
//! as a histogram, and tokens. Recording takes one short lock; rendering happens only when
//! `/metrics` is scraped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use parking_lot::Mutex;

use crate::core::provider::ProviderId;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

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
    /// Usage ledger rows lost to a full queue or a failing store.
    usage_rows_dropped: u64,
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
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// An answer from `provider` that went to the client, whole or streamed to its end.
    pub fn record_answer(
        &self,
        provider: &ProviderId,
        client: &std::sync::Arc<str>,
        status: u16,
        latency: Duration,
        tokens: (Option<u64>, Option<u64>),
    ) {
        let mut inner = self.inner.lock();
        let counters = inner.providers.entry(provider.clone()).or_default();
        *counters
            .requests
            .entry((status, client.clone()))
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
        counters.input_tokens = counters.input_tokens.saturating_add(tokens.0.unwrap_or(0));
        counters.output_tokens = counters.output_tokens.saturating_add(tokens.1.unwrap_or(0));
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

    /// A request that no provider could answer.
    pub fn record_failed_request(&self) {
        self.inner.lock().failed_requests += 1;
    }

    /// Usage ledger rows that were not written.
    pub fn record_usage_rows_dropped(&self, rows: u64) {
        let mut inner = self.inner.lock();
        inner.usage_rows_dropped = inner.usage_rows_dropped.saturating_add(rows);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let inner = self.inner.lock();
        let mut out = String::with_capacity(4096);
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
        let _ = writeln!(
            out,
            "# HELP claude_lb_usage_rows_dropped_total Usage ledger rows not written (queue full or store failing).\n# TYPE claude_lb_usage_rows_dropped_total counter\nclaude_lb_usage_rows_dropped_total {}",
            inner.usage_rows_dropped
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_with_its_counts() {
        let metrics = Metrics::new();
        let a = ProviderId::new("a");
        let b = ProviderId::new("b");
        metrics.record_failed_attempt(&a, "status_529", true);
        let alice: std::sync::Arc<str> = "alice".into();
        let none: std::sync::Arc<str> = "-".into();
        metrics.record_answer(
            &b,
            &alice,
            200,
            Duration::from_millis(30),
            (Some(10), Some(5)),
        );
        metrics.record_answer(&b, &alice, 200, Duration::from_secs(3), (Some(1), None));
        metrics.record_answer(&b, &none, 200, Duration::from_secs(3), (None, None));
        metrics.record_refused(None, "missing_key");
        metrics.record_refused(Some(&alice), "requests_per_minute");
        metrics.record_failed_request();
        metrics.record_usage_rows_dropped(3);
        let text = metrics.render();
        for line in [
            "claude_lb_requests_total{provider=\"b\",client=\"alice\",status=\"200\"} 2",
            "claude_lb_requests_total{provider=\"b\",client=\"-\",status=\"200\"} 1",
            "claude_lb_refused_requests_total{client=\"unauthenticated\",reason=\"missing_key\"} 1",
            "claude_lb_refused_requests_total{client=\"alice\",reason=\"requests_per_minute\"} 1",
            "claude_lb_failed_requests_total 1",
            "claude_lb_failovers_total 1",
            "claude_lb_usage_rows_dropped_total 3",
            "claude_lb_failed_attempts_total{provider=\"a\",reason=\"status_529\"} 1",
            "claude_lb_cooldowns_total{provider=\"a\"} 1",
            "claude_lb_input_tokens_total{provider=\"b\"} 11",
            "claude_lb_output_tokens_total{provider=\"b\"} 5",
            "claude_lb_request_duration_seconds_bucket{provider=\"b\",le=\"0.05\"} 1",
            "claude_lb_request_duration_seconds_bucket{provider=\"b\",le=\"5\"} 3",
            "claude_lb_request_duration_seconds_bucket{provider=\"b\",le=\"+Inf\"} 3",
            "claude_lb_request_duration_seconds_count{provider=\"b\"} 3",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn token_counters_saturate_instead_of_wrapping() {
        let metrics = Metrics::new();
        let a = ProviderId::new("a");
        let none: std::sync::Arc<str> = "-".into();
        metrics.record_answer(
            &a,
            &none,
            200,
            Duration::ZERO,
            (Some(u64::MAX - 1), Some(u64::MAX)),
        );
        metrics.record_answer(&a, &none, 200, Duration::ZERO, (Some(5), Some(7)));
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
