// Tests may unwrap: a panic is a test failure with its location.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::num::NonZeroU32;
use std::time::Duration;

use proptest::prelude::{Just, any};
use proptest::{prop_assert, prop_assert_eq, prop_oneof, proptest};
use tokio::time::Instant;

use super::*;
use crate::core::classify::CooldownKind;
use crate::core::health::CooldownPolicy;
use crate::core::provider::{ModelMap, ModelPattern, ProviderId};

const MODEL: &str = "claude-opus-5-5";

/// The facts selection reads about a provider; `enabled: false` stands for any reason a
/// provider is unusable (disabled, or missing its credential).
#[derive(Clone, Debug)]
struct Provider {
    id: ProviderId,
    enabled: bool,
    weight: NonZeroU32,
    models: ModelMap,
}

impl Routable for Provider {
    fn id(&self) -> &ProviderId {
        &self.id
    }

    fn models(&self) -> &ModelMap {
        &self.models
    }

    fn weight(&self) -> NonZeroU32 {
        self.weight
    }

    fn usable(&self) -> bool {
        self.enabled
    }
}

/// An enabled provider of weight 1 that serves every model.
fn p(name: &str) -> Provider {
    Provider {
        id: ProviderId::new(name),
        enabled: true,
        weight: NonZeroU32::MIN,
        models: ModelMap::default(),
    }
}

fn disabled(name: &str) -> Provider {
    Provider {
        enabled: false,
        ..p(name)
    }
}

fn weighted(name: &str, weight: u32) -> Provider {
    Provider {
        weight: NonZeroU32::new(weight).unwrap(),
        ..p(name)
    }
}

fn mapped(name: &str, models: &[(&str, &str)]) -> Provider {
    let entries = models
        .iter()
        .map(|&(from, to)| (ModelPattern::new(from), to.into()))
        .collect();
    Provider {
        models: ModelMap::new(entries),
        ..p(name)
    }
}

/// A health table and a clock origin; providers are put in cooldown or measured at `t0`.
struct World {
    health: HealthTable,
    t0: Instant,
}

impl World {
    fn new() -> Self {
        Self {
            health: HealthTable::new(),
            t0: Instant::now(),
        }
    }

    /// Puts `name` in cooldown for `secs` seconds from `t0`.
    fn cool(self, name: &str, secs: u64) -> Self {
        let kind = CooldownKind::RateLimited {
            retry_after: Some(Duration::from_secs(secs)),
        };
        let policy = CooldownPolicy::new(Duration::from_secs(1));
        self.health
            .record_failure(&ProviderId::new(name), &kind, "HTTP 429", &policy, self.t0);
        self
    }

    /// Gives `name` a latency sample of `ms` milliseconds.
    fn measured(self, name: &str, ms: u64) -> Self {
        let latency = Duration::from_millis(ms);
        self.health
            .record_success(&ProviderId::new(name), latency, self.t0);
        self
    }

    fn at(&self, secs: u64) -> Instant {
        self.t0 + Duration::from_secs(secs)
    }
}

/// A plan as one line: candidates best first, `name→model` where the model was renamed,
/// `fallback:` before a plan made while everything was cooling down.
fn render(plan: Result<Plan<'_>, PlanError>, providers: &[Provider], model: &str) -> String {
    let plan = match plan {
        Ok(plan) => plan,
        Err(error) => return format!("error: {error}"),
    };
    let mut out = String::new();
    if plan.all_cooling_down() {
        out.push_str("fallback:");
    }
    for candidate in &plan {
        let name = providers[candidate.index].id.as_str();
        let sep = if out.is_empty() { "" } else { " " };
        if candidate.model == model {
            write!(out, "{sep}{name}").unwrap();
        } else {
            write!(out, "{sep}{name}→{}", candidate.model).unwrap();
        }
    }
    assert_eq!(plan.iter().len(), plan.len());
    assert_eq!(plan.iter().next(), Some(plan.first()));
    assert!(!plan.is_empty());
    out
}

#[track_caller]
fn check_plan_for(
    selector: &Selector,
    providers: &[Provider],
    model: &str,
    strategy: Strategy,
    world: &World,
    now: Instant,
    expect: &str,
) {
    let plan = selector.plan(providers, model, &|_| true, strategy, &world.health, now);
    assert_eq!(render(plan, providers, model), expect);
}

#[track_caller]
fn check_plan(providers: &[Provider], world: &World, now: Instant, expect: &str) {
    check_plan_for(
        &Selector::new(),
        providers,
        MODEL,
        Strategy::Priority,
        world,
        now,
        expect,
    );
}

/// The first candidate of each of `requests` consecutive plans, joined.
fn firsts(
    selector: &Selector,
    providers: &[Provider],
    strategy: Strategy,
    world: &World,
    requests: usize,
) -> String {
    let names: Vec<&str> = (0..requests)
        .map(|_| {
            let plan = selector
                .plan(
                    providers,
                    MODEL,
                    &|_| true,
                    strategy,
                    &world.health,
                    world.t0,
                )
                .unwrap();
            providers[plan.first().index].id.as_str()
        })
        .collect();
    names.join(" ")
}

#[test]
fn priority_is_file_order_of_serving_enabled_providers() {
    let w = World::new();
    check_plan(&[p("a"), p("b"), p("c")], &w, w.t0, "a b c");
    check_plan(&[disabled("a"), p("b"), p("c")], &w, w.t0, "b c");
    check_plan(
        &[
            mapped("haiku-only", &[("claude-*haiku*", "small")]),
            mapped("renames", &[("claude-*haiku*", "small"), ("*", "big")]),
            p("plain"),
            mapped("exact", &[(MODEL, "opus")]),
        ],
        &w,
        w.t0,
        "renames→big plain exact→opus",
    );
}

#[test]
fn no_serving_provider_is_an_error() {
    let w = World::new();
    let expect = "error: no enabled provider serves this model";
    check_plan(&[], &w, w.t0, expect);
    check_plan(&[disabled("a"), disabled("b")], &w, w.t0, expect);
    check_plan(
        &[mapped("a", &[("gpt-*", "x")]), disabled("b")],
        &w,
        w.t0,
        expect,
    );
    // A disabled provider is not a fallback, even when the only enabled one is cooling down.
    let w = World::new().cool("a", 60);
    check_plan(&[p("a"), disabled("b")], &w, w.t0, "fallback: a");
}

#[test]
fn cooling_providers_are_skipped_until_the_cooldown_ends() {
    let w = World::new().cool("a", 60).cool("c", 300);
    let providers = [p("a"), p("b"), p("c")];
    check_plan(&providers, &w, w.t0, "b");
    check_plan(&providers, &w, w.at(59), "b");
    check_plan(&providers, &w, w.at(60), "a b");
    check_plan(&providers, &w, w.at(299), "a b");
    check_plan(&providers, &w, w.at(300), "a b c");
}

#[test]
fn all_cooling_down_tries_the_one_that_ends_first() {
    let w = World::new()
        .cool("a", 300)
        .cool("b", 30)
        .cool("c", 60)
        .cool("other", 1);
    let providers = [p("a"), p("b"), p("c"), mapped("other", &[("gpt-*", "x")])];
    check_plan(&providers, &w, w.t0, "fallback: b");
    check_plan(&providers, &w, w.at(29), "fallback: b");
    check_plan(&providers, &w, w.at(30), "b");
    check_plan(&providers, &w, w.at(31), "b");
    check_plan(&providers, &w, w.at(60), "b c");
    // The fallback keeps the model mapping.
    let w = World::new().cool("a", 10).cool("b", 5);
    let providers = [p("a"), mapped("b", &[("*", "renamed")])];
    check_plan(&providers, &w, w.t0, "fallback: b→renamed");
    // Every strategy falls back the same way.
    for strategy in [Strategy::RoundRobin, Strategy::Weighted, Strategy::Latency] {
        let s = Selector::new();
        check_plan_for(
            &s,
            &providers,
            MODEL,
            strategy,
            &w,
            w.t0,
            "fallback: b→renamed",
        );
    }
}

#[test]
fn round_robin_rotates_the_start_per_request() {
    let s = Selector::new();
    let w = World::new();
    let providers = [p("a"), p("b"), p("c")];
    for expect in ["a b c", "b c a", "c a b", "a b c"] {
        check_plan_for(
            &s,
            &providers,
            MODEL,
            Strategy::RoundRobin,
            &w,
            w.t0,
            expect,
        );
    }
    // A cooling provider drops out of the rotation; the others still alternate.
    let s = Selector::new();
    let w = World::new().cool("b", 60);
    assert_eq!(
        firsts(&s, &providers, Strategy::RoundRobin, &w, 4),
        "a c a c"
    );
}

#[test]
fn weighted_interleaves_by_weight_with_heaviest_fallbacks() {
    let w = World::new();
    let s = Selector::new();
    let two_one = [weighted("a", 2), weighted("b", 1)];
    assert_eq!(
        firsts(&s, &two_one, Strategy::Weighted, &w, 6),
        "a b a a b a"
    );
    let s = Selector::new();
    let providers = [
        weighted("a", 5),
        weighted("b", 3),
        weighted("c", 1),
        weighted("d", 1),
    ];
    assert_eq!(
        firsts(&s, &providers, Strategy::Weighted, &w, 10),
        "a b a a c b a d b a"
    );
    // Whoever goes first, the rest follow heaviest first, ties in file order.
    let s = Selector::new();
    for expect in ["a b c d", "b a c d", "a b c d", "a b c d", "c a b d"] {
        check_plan_for(&s, &providers, MODEL, Strategy::Weighted, &w, w.t0, expect);
    }
}

#[track_caller]
fn check_weighted_shares(weights: &[u32], requests: usize) {
    let names: Vec<String> = (0..weights.len()).map(|i| format!("p{i}")).collect();
    let providers: Vec<Provider> = names
        .iter()
        .zip(weights)
        .map(|(name, &weight)| weighted(name, weight))
        .collect();
    let w = World::new();
    let s = Selector::new();
    let mut counts = vec![0_usize; providers.len()];
    for _ in 0..requests {
        let plan = s
            .plan(
                &providers,
                MODEL,
                &|_| true,
                Strategy::Weighted,
                &w.health,
                w.t0,
            )
            .unwrap();
        counts[plan.first().index] += 1;
        assert_eq!(plan.len(), providers.len());
    }
    let total: u32 = weights.iter().sum();
    let expect: Vec<usize> = weights
        .iter()
        .map(|&weight| requests * weight as usize / total as usize)
        .collect();
    assert_eq!(
        counts, expect,
        "weights {weights:?} over {requests} requests"
    );
}

#[test]
fn weighted_shares_are_exact_over_whole_rounds() {
    check_weighted_shares(&[1], 7);
    check_weighted_shares(&[1, 1], 10);
    check_weighted_shares(&[2, 1], 300);
    check_weighted_shares(&[5, 3, 1, 1], 1000);
    check_weighted_shares(&[1, 100], 1010);
    check_weighted_shares(&[7, 11, 13], 31 * 4);
}

#[test]
fn latency_prefers_the_fastest_and_measures_the_unmeasured() {
    let w = World::new()
        .measured("slow", 300)
        .measured("fast", 100)
        .measured("mid", 200);
    let providers = [p("slow"), p("fast"), p("new"), p("mid")];
    let s = Selector::new();
    check_plan_for(
        &s,
        &providers,
        MODEL,
        Strategy::Latency,
        &w,
        w.t0,
        "new fast mid slow",
    );
    // Once measured, the newcomer takes its place by speed.
    let w = w.measured("new", 250);
    check_plan_for(
        &s,
        &providers,
        MODEL,
        Strategy::Latency,
        &w,
        w.t0,
        "fast mid new slow",
    );
    // Equal latencies keep file order.
    let w = World::new().measured("b", 100).measured("a", 100);
    let s = Selector::new();
    check_plan_for(
        &s,
        &[p("a"), p("b")],
        MODEL,
        Strategy::Latency,
        &w,
        w.t0,
        "a b",
    );
}

#[test]
fn latency_explores_another_candidate_one_request_in_ten() {
    let w = World::new()
        .measured("a", 100)
        .measured("b", 200)
        .measured("c", 300);
    let providers = [p("a"), p("b"), p("c")];
    let s = Selector::new();
    let mut explored = Vec::new();
    for request in 1..=40 {
        let plan = s
            .plan(
                &providers,
                MODEL,
                &|_| true,
                Strategy::Latency,
                &w.health,
                w.t0,
            )
            .unwrap();
        let line = render(Ok(plan), &providers, MODEL);
        if line != "a b c" {
            explored.push(format!("{request}: {line}"));
        }
    }
    assert_eq!(
        explored,
        ["10: b a c", "20: c a b", "30: b a c", "40: c a b"]
    );
    // With one candidate there is nothing to explore.
    let s = Selector::new();
    assert_eq!(
        firsts(&s, &[p("a")], Strategy::Latency, &w, 20),
        ["a"; 20].join(" ")
    );
}

#[test]
fn reload_keeps_health_only_for_unchanged_providers() {
    let w = World::new()
        .cool("same", 60)
        .cool("moved", 60)
        .cool("gone", 60);
    // After a reload "moved" has a new base URL and "gone" no longer exists.
    let reloaded = [p("same"), p("moved"), p("new")];
    w.health.retain(|id| id.as_str() == "same");
    check_plan(&reloaded, &w, w.t0, "moved new");
    assert!(!w.health.available(&ProviderId::new("same"), w.t0));
    assert!(w.health.available(&ProviderId::new("gone"), w.t0));
}

#[test]
fn selector_is_shareable() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Selector>();
    shareable::<Plan<'static>>();
}

#[test]
fn stride_points_visit_every_point_once_per_round() {
    for total in 1..=64_u64 {
        let mut seen: Vec<u64> = (0..total)
            .map(|k| stride_point(k + 3 * total, total))
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..total).collect::<Vec<_>>(), "total {total}");
    }
    let big = u64::from(u32::MAX) * 8;
    assert!(stride_point(u64::MAX, big) < big);
}

fn arb_provider() -> impl proptest::strategy::Strategy<Value = (bool, u32, u8, Option<u64>)> {
    // Enabled, weight, which models it serves (0 all, 1 haiku only, 2 opus renamed), cooldown.
    (
        any::<bool>(),
        1..5_u32,
        0..3_u8,
        proptest::option::of(1..100_u64),
    )
}

proptest! {
    /// Whatever the providers, health and strategy: a plan holds each serving, enabled, available
    /// provider exactly once, or else only the serving provider whose cooldown ends first.
    #[test]
    fn plans_hold_each_available_provider_once(
        specs in proptest::collection::vec(arb_provider(), 0..8),
        strategy in prop_oneof![
            Just(Strategy::Priority),
            Just(Strategy::RoundRobin),
            Just(Strategy::Weighted),
            Just(Strategy::Latency),
        ],
        requests in 1..25_usize,
    ) {
        let mut world = World::new();
        let mut providers = Vec::new();
        for (i, &(enabled, weight, models, cooldown)) in specs.iter().enumerate() {
            let name = format!("p{i}");
            let provider = match models {
                0 => weighted(&name, weight),
                1 => Provider { weight: NonZeroU32::new(weight).unwrap(), ..mapped(&name, &[("*haiku*", "small")]) },
                _ => Provider { weight: NonZeroU32::new(weight).unwrap(), ..mapped(&name, &[("*", "big")]) },
            };
            providers.push(Provider { enabled, ..provider });
            world = world.measured(&name, u64::from(weight) * 10);
            if let Some(secs) = cooldown {
                // Distinct ends, so that "ends first" is well defined.
                world = world.cool(&name, secs * 100 + i as u64);
            }
        }
        let serving = |i: usize| specs[i].0 && specs[i].2 != 1;
        let available: Vec<usize> =
            (0..specs.len()).filter(|&i| serving(i) && specs[i].3.is_none()).collect();
        let earliest = (0..specs.len())
            .filter(|&i| serving(i))
            .min_by_key(|&i| specs[i].3.map(|secs| secs * 100 + i as u64));
        let selector = Selector::new();
        for _ in 0..requests {
            let plan = selector.plan(&providers, MODEL, &|_| true, strategy, &world.health, world.t0);
            match (plan, earliest) {
                (Err(PlanError::NoProviderServesModel), None) => {}
                (Ok(plan), Some(first)) if available.is_empty() => {
                    prop_assert!(plan.all_cooling_down());
                    let indices: Vec<usize> = plan.iter().map(|c| c.index).collect();
                    prop_assert_eq!(indices, vec![first]);
                }
                (Ok(plan), Some(_)) => {
                    prop_assert!(!plan.all_cooling_down());
                    let mut indices: Vec<usize> = plan.iter().map(|c| c.index).collect();
                    indices.sort_unstable();
                    prop_assert_eq!(&indices, &available);
                    for candidate in &plan {
                        let expect = if specs[candidate.index].2 == 2 { "big" } else { MODEL };
                        prop_assert_eq!(candidate.model, expect);
                    }
                }
                (plan, earliest) => prop_assert!(false, "{:?} with earliest {:?}", plan, earliest),
            }
        }
    }
}

#[test]
fn only_admitted_providers_are_candidates_whatever_their_health() {
    let w = World::new();
    let providers = [p("a"), p("b"), p("c")];
    let only_b_and_c = |index: usize| index != 0;
    let plan = Selector::new()
        .plan(
            &providers,
            MODEL,
            &only_b_and_c,
            Strategy::Priority,
            &w.health,
            w.t0,
        )
        .unwrap();
    assert_eq!(render(Ok(plan), &providers, MODEL), "b c");
    let nothing = |_: usize| false;
    assert_eq!(
        Selector::new()
            .plan(
                &providers,
                MODEL,
                &nothing,
                Strategy::Priority,
                &w.health,
                w.t0
            )
            .unwrap_err(),
        PlanError::NoProviderServesModel
    );
}
