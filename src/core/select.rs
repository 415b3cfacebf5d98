//! Selection: the ordered list of providers a request tries, best first.
//!
//! # Policy
//!
//! Selection returns a *plan*, not one winner: the dispatcher tries each candidate at most once,
//! in order, until one succeeds. The candidates are the providers that are enabled, serve
//! the requested model (their `models` map matches it, or they have none), and are not cooling
//! down. The strategy orders them:
//!
//! - `priority`: file order. The first healthy provider gets everything; the rest are fallbacks.
//! - `round_robin`: file order rotated by one more step on every request, so load spreads evenly
//!   and a failed candidate's traffic moves to the next one in the file, not all to the first.
//! - `weighted`: one candidate is chosen first in proportion to its `weight`; the rest follow as
//!   fallbacks, heaviest first (a heavier provider has more capacity to absorb a failover). The
//!   choice is deterministic: request *k* picks the point `k·s mod W` on the line of total weight
//!   *W*, where the stride *s* is coprime with *W* and close to *W*/φ. Every run of *W* requests
//!   visits each point once, so the shares are exact over any *W* consecutive requests, and the
//!   golden-ratio stride interleaves them (weights 2 and 1 give A B A, not A A B) without keeping
//!   per-provider state that a reload or a cooldown would have to reset.
//! - `latency`: the lowest average time to the commit point first. A provider with no sample yet
//!   counts as the fastest, so every provider gets measured. Averages only move when a provider is
//!   used, so one request in [`EXPLORE_EVERY`] puts another candidate first (each in turn), which
//!   keeps a provider that was slow once from being judged on that sample forever.
//!
//! If every provider that serves the model is cooling down, the plan holds only the one whose
//! cooldown ends first: trying a provider that is probably still failing costs one attempt, while
//! refusing outright would fail requests that it could now serve. No serving provider at all is
//! [`PlanError::NoProviderServesModel`].
//!
//! Planning runs on every request, so it allocates one small `Vec`, borrows the model names from
//! the configuration, locks the health table once, and keeps its rotation counters in atomics.

use std::cmp::Reverse;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::time::Instant;

use crate::core::health::{Health, HealthTable};
use crate::core::provider::Routable;

/// Under the `latency` strategy, one request in this many tries a candidate other than the
/// fastest first.
pub const EXPLORE_EVERY: usize = 10;

/// The order in which candidates are tried (`settings.strategy`; see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    Priority,
    RoundRobin,
    Weighted,
    Latency,
}

impl Strategy {
    /// The name used in the config file (`strategy:`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Priority => "priority",
            Self::RoundRobin => "round_robin",
            Self::Weighted => "weighted",
            Self::Latency => "latency",
        }
    }
}

/// Chooses the order of candidates for each request; shared by all requests.
#[derive(Debug, Default)]
pub struct Selector {
    /// Requests planned under `round_robin`: the rotation of the next plan.
    rotation: AtomicUsize,
    /// Requests planned under `weighted`: *k* in the stride walk.
    weighted: AtomicU64,
    /// Requests planned under `latency`: decides when and whom to explore.
    explored: AtomicUsize,
}

/// One provider to try: where it is in the configuration and the model name to send it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// The provider's index in the `providers` slice the plan was made from.
    pub index: usize,
    /// The model name to send upstream, after the provider's `models` map.
    pub model: &'a str,
}

/// The candidates for one request, best first; never empty.
#[derive(Debug)]
pub struct Plan<'a> {
    slots: Vec<Slot<'a>>,
    all_cooling_down: bool,
}

/// A candidate and the number the strategy sorts it by.
#[derive(Debug)]
struct Slot<'a> {
    candidate: Candidate<'a>,
    key: u64,
}

/// Why no plan could be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// No enabled provider's `models` map matches the requested model.
    #[error("no enabled provider serves this model")]
    NoProviderServesModel,
}

impl Selector {
    pub fn new() -> Self {
        Self::default()
    }

    /// The candidates for a request for `model`, in the order to try them.
    ///
    /// `providers` is the configuration's provider list, in file order; every [`Candidate`]
    /// indexes into it. Only the providers whose index `admit` accepts are candidates (the
    /// ones a client may reach).
    pub fn plan<'a, P: Routable>(
        &self,
        providers: &'a [P],
        model: &'a str,
        admit: &dyn Fn(usize) -> bool,
        strategy: Strategy,
        health: &HealthTable,
        now: Instant,
    ) -> Result<Plan<'a>, PlanError> {
        let mut slots = Vec::with_capacity(providers.len());
        let mut earliest: Option<(Instant, Candidate<'a>)> = None;
        {
            let states = health.lock();
            for (index, provider) in providers.iter().enumerate() {
                // Disabled, missing its credential, or out of the request's reach.
                if !provider.usable() || !admit(index) {
                    continue;
                }
                let Some(upstream_model) = provider.models().map(model) else {
                    continue;
                };
                let candidate = Candidate {
                    index,
                    model: upstream_model,
                };
                let state = states.get(provider.id());
                if let Some(end) = state.and_then(|h| h.cooling_until(now)) {
                    if earliest.is_none_or(|(first, _)| end < first) {
                        earliest = Some((end, candidate));
                    }
                    continue;
                }
                let key = match strategy {
                    Strategy::Weighted => u64::from(provider.weight().get()),
                    // No sample yet sorts first, so that the provider gets measured.
                    Strategy::Latency => state.and_then(Health::latency).map_or(0, |latency| {
                        u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX)
                    }),
                    Strategy::Priority | Strategy::RoundRobin => 0,
                };
                slots.push(Slot { candidate, key });
            }
        }
        if slots.is_empty() {
            let (_, candidate) = earliest.ok_or(PlanError::NoProviderServesModel)?;
            slots.push(Slot { candidate, key: 0 });
            return Ok(Plan {
                slots,
                all_cooling_down: true,
            });
        }
        self.order(&mut slots, strategy);
        Ok(Plan {
            slots,
            all_cooling_down: false,
        })
    }

    /// Puts `slots`, in file order, in the strategy's order.
    fn order(&self, slots: &mut [Slot<'_>], strategy: Strategy) {
        let n = slots.len();
        match strategy {
            Strategy::Priority => {}
            Strategy::RoundRobin => {
                let start = self.rotation.fetch_add(1, Ordering::Relaxed) % n;
                slots.rotate_left(start);
            }
            Strategy::Weighted => {
                let total = slots.iter().map(|s| s.key).sum();
                let k = self.weighted.fetch_add(1, Ordering::Relaxed);
                // Walk the line: each slot spans `weight` points, in file order. The point is below
                // the total, so some slot contains it.
                let mut point = stride_point(k, total);
                let chosen = slots.iter().find_map(|s| {
                    if point < s.key {
                        return Some(s.candidate.index);
                    }
                    point -= s.key;
                    None
                });
                slots.sort_unstable_by_key(|s| (Reverse(s.key), s.candidate.index));
                if let Some(chosen) = chosen {
                    move_to_front(slots, |s| s.candidate.index == chosen);
                }
            }
            Strategy::Latency => {
                slots.sort_unstable_by_key(|s| (s.key, s.candidate.index));
                let k = self.explored.fetch_add(1, Ordering::Relaxed);
                if n > 1 && k % EXPLORE_EVERY == EXPLORE_EVERY - 1 {
                    let explore = 1 + (k / EXPLORE_EVERY) % (n - 1);
                    slots[..=explore].rotate_right(1);
                }
            }
        }
    }
}

impl<'a> Plan<'a> {
    /// The candidates, best first.
    pub fn iter(&self) -> PlanIter<'_, 'a> {
        PlanIter(self.slots.iter())
    }

    /// The first candidate to try.
    pub fn first(&self) -> Candidate<'a> {
        self.slots[0].candidate
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Always false: a plan that could not hold a candidate is a [`PlanError`].
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether every serving provider was cooling down, so that the plan holds only the one whose
    /// cooldown ends first.
    pub fn all_cooling_down(&self) -> bool {
        self.all_cooling_down
    }
}

/// The iterator over a [`Plan`]'s candidates, best first.
#[derive(Clone, Debug)]
pub struct PlanIter<'p, 'a>(std::slice::Iter<'p, Slot<'a>>);

impl<'a> Iterator for PlanIter<'_, 'a> {
    type Item = Candidate<'a>;

    fn next(&mut self) -> Option<Candidate<'a>> {
        self.0.next().map(|slot| slot.candidate)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for PlanIter<'_, '_> {}

impl<'p, 'a> IntoIterator for &'p Plan<'a> {
    type Item = Candidate<'a>;
    type IntoIter = PlanIter<'p, 'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Request `k`'s point on a line of length `total` (> 0): `k·s mod total`, `s` coprime with it.
#[expect(
    clippy::cast_possible_truncation,
    reason = "the remainder is below `total`, a u64"
)]
fn stride_point(k: u64, total: u64) -> u64 {
    // 0.618 ≈ 1/φ: consecutive points land far apart, so providers interleave.
    let mut stride = (total / 1000 * 618 + (total % 1000 * 618 + 500) / 1000).max(1);
    while gcd(stride, total) != 1 {
        stride += 1;
    }
    (u128::from(k % total) * u128::from(stride) % u128::from(total)) as u64
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Moves the first slot matching `is_it` to the front, keeping the others in order.
fn move_to_front(slots: &mut [Slot<'_>], is_it: impl Fn(&Slot<'_>) -> bool) {
    if let Some(position) = slots.iter().position(is_it) {
        slots[..=position].rotate_right(1);
    }
}

#[cfg(test)]
mod tests;
