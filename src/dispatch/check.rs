//! Background health checks: probing providers so that a cooling-down one comes back as soon
//! as it works again, and (with `idle_providers`) one that broke while idle is found before a
//! user's request is.
//!
//! [`Dispatcher::run_health_checks`] runs for the life of `serve`. Every tick it looks at the
//! running generation's providers: one that is usable, not `health_check: off`, and either
//! cooling down or (with `idle_providers`) available with no request for an interval, is due
//! for a probe one jittered interval after it became eligible or after its last probe ended.
//! The probe is `upstream::probe`'s, the code of `claude-lb check`: the model list for
//! `health_check: models`, a one-token Messages request for `messages`. At most one probe per
//! provider is in flight (the probes run inside this one task, so none outlives it), and a
//! probe is never counted as a request. What a probe finds goes to the health table as a
//! [`CheckVerdict`]: a pass ends a cooldown at once; a failure cools an available provider
//! down as a failed request would.
//!
//! The jitter (each wait is 75 % to 125 % of the interval) keeps the probes of many providers,
//! or of many replicas, from falling on the same instant.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::time::Instant;

use super::{Dispatcher, Generation};
use crate::config::HealthCheckMode;
use crate::core::classify::CooldownKind;
use crate::core::health::{CheckEffect, CheckVerdict, LastCheck};
use crate::core::num::{SPLITMIX_GAMMA, splitmix64};
use crate::core::provider::ProviderId;
use crate::upstream::probe::{self, ProbeOutcome, ProbeReport};

/// The longest pause between two looks at the providers, so that a reload that turns the
/// checks on, or a provider that starts cooling down, is noticed within about a second.
const MAX_TICK: Duration = Duration::from_secs(1);
/// The shortest pause between two looks.
const MIN_TICK: Duration = Duration::from_millis(20);

/// What a probe's outcome says about the provider, as failed requests are judged: a refused
/// key is a long cooldown, an unreachable, slow, overloaded or garbled provider a failure;
/// rate-limited, or a probe the provider cannot answer (no model list, no such model, a
/// request it refuses), proves neither.
pub(crate) fn verdict(outcome: &ProbeOutcome) -> CheckVerdict {
    const FAILURE: CooldownKind = CooldownKind::Failure { retry_after: None };
    match outcome {
        ProbeOutcome::Ok => CheckVerdict::Pass,
        ProbeOutcome::KeyRejected { .. } | ProbeOutcome::Refused { status: 402, .. } => {
            CheckVerdict::Fail(CooldownKind::Auth)
        }
        ProbeOutcome::Unreachable(_)
        | ProbeOutcome::Timeout(_)
        | ProbeOutcome::Overloaded { .. }
        | ProbeOutcome::ServerError { .. }
        | ProbeOutcome::InvalidAnswer(_)
        | ProbeOutcome::Refused {
            status: 408 | 409, ..
        } => CheckVerdict::Fail(FAILURE),
        ProbeOutcome::RateLimited { .. }
        | ProbeOutcome::LocalShortage(_)
        | ProbeOutcome::ModelNotFound { .. }
        | ProbeOutcome::EndpointNotFound { .. }
        | ProbeOutcome::Refused { .. } => CheckVerdict::Inconclusive,
    }
}

/// The metric label of a verdict.
fn label(verdict: CheckVerdict) -> &'static str {
    match verdict {
        CheckVerdict::Pass => "ok",
        CheckVerdict::Fail(_) => "failed",
        CheckVerdict::Inconclusive => "inconclusive",
    }
}

impl Dispatcher {
    /// Runs the background health checks until `shutdown` resolves (see the module
    /// documentation); probes in flight then are dropped.
    pub async fn run_health_checks(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut in_flight = FuturesUnordered::new();
        let mut busy: HashSet<ProviderId> = HashSet::new();
        let mut due: HashMap<ProviderId, Instant> = HashMap::new();
        let mut draws = self.id_seed;
        let mut jittered = |interval: Duration| {
            draws = draws.wrapping_add(SPLITMIX_GAMMA);
            // 0.75 to 1.25 of the interval, in 1/1024 steps.
            let step = u32::try_from(splitmix64(draws) % 513).unwrap_or(0);
            interval.mul_f64(0.75) + interval / 1024 * step
        };
        loop {
            let generation = self.generation();
            let settings = generation.config.settings.health_check;
            let now = Instant::now();
            if !settings.interval.is_zero() {
                for (index, provider) in generation.config.providers.iter().enumerate() {
                    let id = &provider.id;
                    if !provider.usable()
                        || provider.health_check == HealthCheckMode::Off
                        || busy.contains(id)
                    {
                        continue;
                    }
                    let cooling = !self.health.available(id, now);
                    let idle = settings.idle_providers
                        && !cooling
                        && self.health.last_request(id).is_none_or(|at| {
                            now.saturating_duration_since(at) >= settings.interval
                        });
                    if !cooling && !idle {
                        due.remove(id);
                        continue;
                    }
                    match due.get(id) {
                        None => {
                            due.insert(id.clone(), now + jittered(settings.interval));
                            continue;
                        }
                        Some(at) if *at > now => continue,
                        Some(_) => {}
                    }
                    busy.insert(id.clone());
                    in_flight.push(self.check_one(generation.clone(), index, settings.timeout));
                }
            }
            let tick = (settings.interval / 4).clamp(MIN_TICK, MAX_TICK);
            tokio::select! {
                () = &mut shutdown => break,
                Some(id) = in_flight.next(), if !in_flight.is_empty() => {
                    busy.remove(&id);
                    // The next probe of it waits a whole interval from the end of this one.
                    let interval = self.generation().config.settings.health_check.interval;
                    due.insert(id, Instant::now() + jittered(interval));
                }
                () = tokio::time::sleep(tick) => {}
            }
        }
    }

    /// Probes the provider at `index` of `generation` once and records what it found; returns
    /// the provider's id.
    async fn check_one(
        &self,
        generation: Arc<Generation>,
        index: usize,
        timeout: Duration,
    ) -> ProviderId {
        let provider = &generation.config.providers[index];
        let at = SystemTime::now();
        let report: ProbeReport = match provider.health_check {
            HealthCheckMode::Messages => probe::probe(&self.upstream, provider, timeout).await,
            HealthCheckMode::Models | HealthCheckMode::Off => {
                probe::probe_models(&self.upstream, provider, timeout).await
            }
        };
        let verdict = verdict(&report.outcome);
        let detail = super::clip_message(&report.outcome.to_string());
        let id = provider.id.clone();
        // A reload may have given the name to another endpoint meanwhile: its health is not
        // this probe's to judge.
        let current = self.generation();
        let same = current.config.providers.iter().any(|p| {
            p.id == id
                && p.kind == provider.kind
                && p.base_url == provider.base_url
                && p.auth_type == provider.auth_type
                && p.secret == provider.secret
        });
        if !same {
            return id;
        }
        self.metrics.record_check(&id, label(verdict));
        let check = LastCheck {
            at,
            ok: verdict == CheckVerdict::Pass,
            latency: report.latency,
            detail: detail.clone(),
        };
        let effect = self
            .health
            .record_check(&id, verdict, check, &current.policy, Instant::now());
        match effect {
            CheckEffect::Recovered => tracing::info!(
                provider = %id,
                latency_ms = super::millis(report.latency),
                "provider is available again: a health check passed ({detail})"
            ),
            CheckEffect::CooledDown(cooldown) => tracing::warn!(
                provider = %id,
                cooldown_s = cooldown.as_secs(),
                "provider cools down: a health check failed ({})",
                crate::logging::escape(&detail, crate::logging::TEXT_LIMIT)
            ),
            CheckEffect::Unchanged => tracing::debug!(
                provider = %id,
                check = label(verdict),
                "health check: {}",
                crate::logging::escape(&detail, crate::logging::TEXT_LIMIT)
            ),
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_judged_as_failed_requests_are() {
        let message = String::new;
        for (outcome, expect) in [
            (ProbeOutcome::Ok, "ok"),
            (
                ProbeOutcome::RateLimited { retry_after: None },
                "inconclusive",
            ),
            (ProbeOutcome::Unreachable("refused".into()), "failed"),
            // claude-lb out of descriptors says nothing about the provider.
            (ProbeOutcome::LocalShortage("EMFILE".into()), "inconclusive"),
            (ProbeOutcome::Timeout(Duration::from_secs(1)), "failed"),
            (
                ProbeOutcome::Overloaded {
                    status: 529,
                    message: message(),
                },
                "failed",
            ),
            (
                ProbeOutcome::EndpointNotFound {
                    url: "u".into(),
                    message: message(),
                },
                "inconclusive",
            ),
            (
                ProbeOutcome::Refused {
                    status: 400,
                    message: message(),
                },
                "inconclusive",
            ),
            (
                ProbeOutcome::Refused {
                    status: 408,
                    message: message(),
                },
                "failed",
            ),
        ] {
            assert_eq!(label(verdict(&outcome)), expect, "{outcome:?}");
        }
        assert_eq!(
            verdict(&ProbeOutcome::KeyRejected {
                status: 401,
                message: message()
            }),
            CheckVerdict::Fail(CooldownKind::Auth)
        );
    }
}
