//! Per-provider health: cooldown after failures, the counters the admin API shows, and the
//! latency the `latency` strategy sorts by.
//!
//! # Policy
//!
//! A provider that fails is skipped for a while, its *cooldown*, so that the requests that follow
//! go straight to a provider that works instead of paying for the same failure again. The
//! cooldown grows with repeated failures and a success ends it:
//!
//! | failure | cooldown |
//! | --- | --- |
//! | the *n*th step of a failing streak | `base · 2^(n−1)`, at most `max` |
//! | with an upstream `retry-after` | the larger of that and the upstream's delay |
//! | credentials refused (401, 403, 402) | `auth`, fixed |
//!
//! [`CooldownPolicy::new`] derives the three from `failure_cooldown` (`base`): `max` is ten times
//! `base`, at most 30 minutes (but never below `base`), so a provider that is down for good is
//! retried a few times an hour rather than hammered or forgotten. `auth` is five times `base`,
//! between 5 minutes and an hour (but never below `base`): a bad key does not fix itself in a
//! minute, yet an operator who fixes it should not wait long. A `base` of zero turns cooldowns off
//! altogether, except for an upstream's own `retry-after`.
//!
//! **A burst counts once.** When a provider falls over, every request in flight to it fails at
//! about the same moment. Counting each of them as another step would turn one incident into the
//! maximum cooldown. So a failure recorded while the provider is already cooling down does not
//! lengthen the streak; it only extends the cooldown to what it would have set. The streak
//! advances when a failure arrives after the cooldown has ended: the provider was given another
//! chance and failed again.
//!
//! **A success resets everything.** The dispatcher records success at the commit point (the
//! response headers, or a stream's first content event), which is also the latency sample: the
//! time the user waits before anything happens, independent of how long the answer is. The latency
//! is an exponentially weighted moving average (weight [`LATENCY_WEIGHT`] for each new sample), so
//! one slow answer moves it without dominating it.
//!
//! **A client error proves nothing.** A 4xx returned to the client (the request was wrong) counts
//! as a request, but neither ends a cooldown nor adds to a streak nor feeds the latency: the
//! provider may reject bad requests quickly while it cannot serve good ones.
//!
//! **A health check is not a request.** A background check (`record_check`) counts nothing and
//! feeds no latency. A pass ends a cooldown at once and resets the streak, so the provider's
//! next failure counts from the start, except a cooldown a rate limit started: the provider
//! said when to come back, and a cheap check cannot tell whether its limit has passed. A failure
//! cools an available provider down as a failed request would, and leaves a cooldown in force
//! as it is.
//!
//! **No jitter.** Jitter spreads out independent clients that would otherwise retry in lockstep.
//! Here one table decides for every request of the process, so there is no herd to spread, and
//! exact cooldowns keep the `retry-after` the proxy sends and the admin API's figures exact.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use tokio::time::Instant;

use crate::core::classify::CooldownKind;
use crate::core::provider::ProviderId;

/// The weight of a new sample in the latency average.
pub const LATENCY_WEIGHT: f64 = 0.3;

const MAX_CAP: Duration = Duration::from_secs(30 * 60);
const AUTH_MIN: Duration = Duration::from_secs(5 * 60);
const AUTH_CAP: Duration = Duration::from_secs(60 * 60);
/// No cooldown is longer than this (about a year), however it was computed.
const COOLDOWN_LIMIT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// How long a failure keeps a provider out (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CooldownPolicy {
    /// The first step of a failing streak: `failure_cooldown`.
    pub base: Duration,
    /// The longest a failing streak keeps a provider out, unless `retry-after` asks for longer.
    pub max: Duration,
    /// The cooldown after refused credentials.
    pub auth: Duration,
}

impl CooldownPolicy {
    /// The policy for a `failure_cooldown` of `base`.
    pub fn new(base: Duration) -> Self {
        if base.is_zero() {
            return Self {
                base,
                max: Duration::ZERO,
                auth: Duration::ZERO,
            };
        }
        let max = base.saturating_mul(10).min(MAX_CAP).max(base);
        let auth = base.saturating_mul(5).clamp(AUTH_MIN, AUTH_CAP).max(base);
        Self { base, max, auth }
    }

    /// The cooldown for step `step` (1-based) of a failing streak: `base · 2^(step−1)`, capped.
    pub fn backoff(&self, step: u32) -> Duration {
        let doublings = step.saturating_sub(1).min(31);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }
}

/// Whether a provider may be tried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HealthState {
    #[default]
    Available,
    CoolingDown {
        remaining: Duration,
    },
}

/// One provider's health as the admin API shows it; the default is that of a provider never
/// used: available, nothing counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HealthSnapshot {
    pub state: HealthState,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Attempts sent to this provider: successes, failures and client errors.
    pub requests: u64,
    /// Attempts that failed and were blamed on this provider.
    pub failures: u64,
    /// What went wrong last, as the dispatcher described it (never a secret).
    pub last_error: Option<String>,
    /// The moving average of the time to the commit point, once there is a sample.
    pub latency: Option<Duration>,
    /// The latest background health check, once there was one.
    pub last_check: Option<LastCheck>,
}

/// A background health check's result, as the admin API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastCheck {
    /// When the check started (wall-clock time, for people).
    pub at: std::time::SystemTime,
    /// Whether the provider passed.
    pub ok: bool,
    /// How long the check took.
    pub latency: Duration,
    /// What the check found, in words (never a secret).
    pub detail: String,
}

/// What a background health check says about a provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckVerdict {
    /// The provider works: a cooling-down provider is available again at once.
    Pass,
    /// The provider fails: an available provider goes into cooldown as after a failed request.
    Fail(CooldownKind),
    /// Neither (rate-limited, or a probe the provider cannot answer): nothing changes.
    Inconclusive,
}

/// What a health check changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckEffect {
    /// The provider was cooling down and is available again.
    Recovered,
    /// The provider was available and now cools down for this long.
    CooledDown(Duration),
    /// Nothing changed.
    Unchanged,
}

impl HealthSnapshot {
    /// The latency in whole milliseconds, rounded to the nearest.
    pub fn latency_ms(&self) -> Option<u64> {
        self.latency
            .map(|l| u64::try_from((l.as_micros() + 500) / 1000).unwrap_or(u64::MAX))
    }
}

/// A change of a provider's availability that other replicas sharing state should apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HealthChange {
    /// The provider cools down until `until`, after `error`; `rate_limited` when the
    /// provider said it was over a limit (a passing health check does not end that).
    CoolingUntil {
        until: Instant,
        error: Box<str>,
        rate_limited: bool,
    },
    /// A cooldown in force ended early (a success, a passing check): the provider works again.
    Recovered,
}

/// Told of every [`HealthChange`] this process makes (never of one applied with
/// [`HealthTable::apply_shared`]), outside the table's lock; it must not block.
pub trait HealthObserver: Send + Sync + std::fmt::Debug {
    fn changed(&self, id: &ProviderId, change: HealthChange);
}

/// A cooldown extended by less than this is not worth telling other replicas again: a burst
/// of failures extends it by a few milliseconds each.
const NOTABLE_EXTENSION: Duration = Duration::from_secs(1);

/// The health of every provider, shared by all requests of a configuration lineage.
///
/// Providers are keyed by name. A provider that has never been used has no entry and is healthy.
#[derive(Debug, Default)]
pub struct HealthTable {
    /// Told of each change, when replicas share state.
    observer: OnceLock<Arc<dyn HealthObserver>>,
    /// Every provider's state. A blocking `parking_lot::Mutex`, not an async one: each critical
    /// section is a lookup and a few field updates with no `.await` inside, so the lock is held
    /// for well under a microsecond and never across a suspension point, where an async mutex
    /// would only add cost.
    providers: Mutex<HashMap<ProviderId, Health>>,
}

/// One provider's mutable state.
#[derive(Debug, Default)]
pub(super) struct Health {
    consecutive_failures: u32,
    /// The step of the current failing streak; it advances only outside a cooldown.
    streak: u32,
    /// When the latest cooldown ends (possibly in the past).
    cooldown_until: Option<Instant>,
    requests: u64,
    failures: u64,
    last_error: Option<Box<str>>,
    latency: Option<Duration>,
    /// When the latest attempt (of a request, not a check) was recorded.
    last_request: Option<Instant>,
    /// Whether the latest failure was a rate limit: a passing check does not end that
    /// cooldown, since a provider's limit is on requests, which a check does not measure.
    rate_limited: bool,
    /// Whether the cooldown in force came from another replica (not this one's failures).
    shared: bool,
    last_check: Option<LastCheck>,
}

impl Health {
    /// Ends a cooldown and the failing streak.
    fn recover(&mut self) {
        self.consecutive_failures = 0;
        self.streak = 0;
        self.cooldown_until = None;
        self.shared = false;
    }

    /// The change worth telling other replicas after a failure: the cooldown started, or it
    /// was extended notably beyond `before`, the end in force before the failure.
    fn notable(&self, before: Option<Instant>, now: Instant) -> Option<HealthChange> {
        let until = self.cooling_until(now)?;
        if before.is_some_and(|b| until < b + NOTABLE_EXTENSION) {
            return None;
        }
        Some(HealthChange::CoolingUntil {
            until,
            error: self.last_error.clone().unwrap_or_default(),
            rate_limited: self.rate_limited,
        })
    }

    /// The end of the cooldown in force at `now`, if any.
    pub(super) fn cooling_until(&self, now: Instant) -> Option<Instant> {
        self.cooldown_until.filter(|&end| end > now)
    }

    pub(super) fn latency(&self) -> Option<Duration> {
        self.latency
    }

    /// Counts a failure and starts or extends the cooldown; returns how long it now lasts.
    fn fail(
        &mut self,
        kind: &CooldownKind,
        reason: &str,
        policy: &CooldownPolicy,
        now: Instant,
    ) -> Duration {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.last_error = Some(reason.into());
        self.shared = false;
        self.rate_limited = matches!(kind, CooldownKind::RateLimited { .. });
        if self.cooling_until(now).is_none() {
            self.streak = self.streak.saturating_add(1);
        }
        let cooldown = match *kind {
            CooldownKind::Failure { retry_after } | CooldownKind::RateLimited { retry_after } => {
                policy
                    .backoff(self.streak)
                    .max(retry_after.unwrap_or_default())
            }
            CooldownKind::Auth => policy.auth,
        };
        // Bounded so that adding it to `now` cannot overflow, whatever the settings say.
        let end = now + cooldown.min(COOLDOWN_LIMIT);
        let end = self.cooldown_until.map_or(end, |current| current.max(end));
        self.cooldown_until = Some(end);
        end - now
    }
}

impl HealthTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Locks the table, for a caller that reads several providers at once (the selector).
    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<ProviderId, Health>> {
        self.providers.lock()
    }

    /// Whether `id` is not cooling down at `now`.
    pub fn available(&self, id: &ProviderId, now: Instant) -> bool {
        self.providers
            .lock()
            .get(id)
            .and_then(|h| h.cooling_until(now))
            .is_none()
    }

    /// When `id`'s latest cooldown ends; it may already have passed.
    pub fn cooldown_ends(&self, id: &ProviderId) -> Option<Instant> {
        self.providers.lock().get(id).and_then(|h| h.cooldown_until)
    }

    /// How long `id` is still cooling down at `now`, or `None` when it is available.
    pub fn cooldown_remaining(&self, id: &ProviderId, now: Instant) -> Option<Duration> {
        let end = self
            .providers
            .lock()
            .get(id)
            .and_then(|h| h.cooling_until(now))?;
        Some(end - now)
    }

    /// Records a successful attempt that reached its commit point after `latency`.
    ///
    /// Ends any cooldown and failing streak, and feeds the latency average.
    pub fn record_success(&self, id: &ProviderId, latency: Duration, now: Instant) {
        let recovered = self.update(id, |h| {
            let recovered = h.cooling_until(now).is_some();
            h.requests += 1;
            h.last_request = Some(now);
            h.recover();
            h.latency = Some(match h.latency {
                None => latency,
                Some(average) => {
                    average.mul_f64(1.0 - LATENCY_WEIGHT) + latency.mul_f64(LATENCY_WEIGHT)
                }
            });
            recovered
        });
        if recovered {
            self.notify(id, HealthChange::Recovered);
        }
    }

    /// Records a failed attempt and puts `id` in cooldown; returns how long it now cools down.
    ///
    /// `reason` is kept as the last error; the caller passes a description that holds no secret.
    /// A failure during a cooldown extends it but does not advance the streak (see the module
    /// documentation), and the returned duration is then the remaining cooldown.
    pub fn record_failure(
        &self,
        id: &ProviderId,
        kind: &CooldownKind,
        reason: &str,
        policy: &CooldownPolicy,
        now: Instant,
    ) -> Duration {
        let (remaining, change) = self.update(id, |h| {
            h.requests += 1;
            h.failures += 1;
            h.last_request = Some(now);
            let before = h.cooling_until(now);
            let remaining = h.fail(kind, reason, policy, now);
            (remaining, h.notable(before, now))
        });
        if let Some(change) = change {
            self.notify(id, change);
        }
        remaining
    }

    /// Records an attempt whose 4xx answer went back to the client: a request, not a failure.
    pub fn record_client_error(&self, id: &ProviderId, now: Instant) {
        self.update(id, |h| {
            h.requests += 1;
            h.last_request = Some(now);
        });
    }

    /// When the latest request attempt to `id` was recorded, if any was.
    pub fn last_request(&self, id: &ProviderId) -> Option<Instant> {
        self.providers.lock().get(id).and_then(|h| h.last_request)
    }

    /// Records a background health check of `id` and applies its verdict: a pass ends a
    /// cooldown (and the failing streak, so the next failure counts from the start), unless a
    /// rate limit started it (the provider said when to come back); a failure
    /// starts one for an available provider, as a failed request would (a provider already
    /// cooling down keeps its cooldown as it is). A check is never counted as a request.
    pub fn record_check(
        &self,
        id: &ProviderId,
        verdict: CheckVerdict,
        check: LastCheck,
        policy: &CooldownPolicy,
        now: Instant,
    ) -> CheckEffect {
        let (effect, change) = self.update(id, |h| {
            let cooling = h.cooling_until(now);
            let detail = check.detail.clone();
            h.last_check = Some(check);
            match verdict {
                CheckVerdict::Pass if cooling.is_some() && !h.rate_limited => {
                    h.recover();
                    (CheckEffect::Recovered, Some(HealthChange::Recovered))
                }
                CheckVerdict::Fail(kind) if cooling.is_none() => {
                    let remaining = h.fail(&kind, &detail, policy, now);
                    (CheckEffect::CooledDown(remaining), h.notable(cooling, now))
                }
                _ => (CheckEffect::Unchanged, None),
            }
        });
        if let Some(change) = change {
            self.notify(id, change);
        }
        effect
    }

    /// Applies a change another replica made; the observer is not told (it came from there).
    /// A cooldown only ever lengthens one in force; a recovery ends a cooldown unless a rate
    /// limit started it here. Returns whether anything changed.
    pub fn apply_shared(&self, id: &ProviderId, change: &HealthChange, now: Instant) -> bool {
        self.update(id, |h| match change {
            HealthChange::CoolingUntil {
                until,
                error,
                rate_limited,
            } => {
                if *until <= now || h.cooling_until(now).is_some_and(|end| end >= *until) {
                    return false;
                }
                h.cooldown_until = Some(*until);
                h.rate_limited = *rate_limited;
                h.last_error = Some(format!("{error} (on another replica)").into());
                h.shared = true;
                true
            }
            HealthChange::Recovered => {
                if h.cooling_until(now).is_none() || h.rate_limited {
                    return false;
                }
                h.recover();
                true
            }
        })
    }

    /// Ends `id`'s cooldown if it came from another replica (one that the shared state no
    /// longer holds: it ended there, or was lost with it and will be told again).
    pub fn end_shared_cooldown(&self, id: &ProviderId, now: Instant) -> bool {
        let mut providers = self.providers.lock();
        let Some(h) = providers.get_mut(id) else {
            return false;
        };
        if !h.shared || h.cooling_until(now).is_none() {
            return false;
        }
        h.recover();
        true
    }

    /// Every provider cooling down at `now` after a failure here (not one another replica
    /// told of): when its cooldown ends and its last error.
    pub fn cooling(&self, now: Instant) -> Vec<(ProviderId, HealthChange)> {
        self.providers
            .lock()
            .iter()
            .filter(|(_, h)| !h.shared)
            .filter_map(|(id, h)| {
                let until = h.cooling_until(now)?;
                let error = h.last_error.clone().unwrap_or_default();
                let change = HealthChange::CoolingUntil {
                    until,
                    error,
                    rate_limited: h.rate_limited,
                };
                Some((id.clone(), change))
            })
            .collect()
    }

    /// Tells `observer` of every change from now on; a table has at most one.
    pub fn observe(&self, observer: Arc<dyn HealthObserver>) {
        let _ = self.observer.set(observer);
    }

    fn notify(&self, id: &ProviderId, change: HealthChange) {
        if let Some(observer) = self.observer.get() {
            observer.changed(id, change);
        }
    }

    /// `id`'s health at `now`.
    pub fn snapshot(&self, id: &ProviderId, now: Instant) -> HealthSnapshot {
        let providers = self.providers.lock();
        let Some(h) = providers.get(id) else {
            return HealthSnapshot::default();
        };
        let state = match h.cooling_until(now) {
            Some(end) => HealthState::CoolingDown {
                remaining: end - now,
            },
            None => HealthState::Available,
        };
        HealthSnapshot {
            state,
            consecutive_failures: h.consecutive_failures,
            requests: h.requests,
            failures: h.failures,
            last_error: h.last_error.as_deref().map(str::to_owned),
            latency: h.latency,
            last_check: h.last_check.clone(),
        }
    }

    /// Keeps only the providers for which `keep` is true.
    ///
    /// On reload, the caller keeps the providers that still exist with the same endpoint, so a
    /// provider whose URL or key changed starts afresh.
    pub fn retain(&self, keep: impl Fn(&ProviderId) -> bool) {
        self.providers.lock().retain(|id, _| keep(id));
    }

    /// Applies `change` to `id`'s state, creating it if needed.
    fn update<R>(&self, id: &ProviderId, change: impl FnOnce(&mut Health) -> R) -> R {
        let mut providers = self.providers.lock();
        if let Some(h) = providers.get_mut(id) {
            return change(h);
        }
        change(providers.entry(id.clone()).or_default())
    }
}

#[cfg(test)]
mod tests;
