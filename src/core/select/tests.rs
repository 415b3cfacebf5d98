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
    let plan = selector.plan(
        providers,
        model,
        strategy,
        Scope::default(),
        &world.health,
        now,
    );
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
                    strategy,
                    Scope::default(),
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
                Strategy::Weighted,
                Scope::default(),
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
                Strategy::Latency,
                Scope::default(),
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

/// The plan for `strategy` with `preferred` first, as one line.
fn preferred_plan(
    selector: &Selector,
    providers: &[Provider],
    strategy: Strategy,
    preferred: &str,
    world: &World,
    now: Instant,
) -> String {
    let preferred = ProviderId::new(preferred);
    let scope = Scope {
        preferred: Some(&preferred),
        ..Scope::default()
    };
    let plan = selector.plan(providers, MODEL, strategy, scope, &world.health, now);
    render(plan, providers, MODEL)
}

#[test]
fn a_preferred_provider_goes_first_while_it_is_a_candidate() {
    let providers = [p("a"), p("b"), p("c")];
    let w = World::new().cool("c", 30);
    let selector = Selector::new();
    // The rest keep the strategy's order: round robin's rotation still moves.
    for expect in ["b a", "b a", "b a"] {
        assert_eq!(
            preferred_plan(&selector, &providers, Strategy::RoundRobin, "b", &w, w.t0),
            expect
        );
    }
    assert_eq!(
        preferred_plan(&selector, &providers, Strategy::Weighted, "b", &w, w.t0),
        "b a"
    );
    // Cooling down: not a candidate, so the strategy decides alone; back once it has cooled.
    assert_eq!(
        preferred_plan(&selector, &providers, Strategy::Priority, "c", &w, w.t0),
        "a b"
    );
    assert_eq!(
        preferred_plan(&selector, &providers, Strategy::Priority, "c", &w, w.at(31)),
        "c a b"
    );
    // Disabled, not serving the model, or unknown: ignored.
    let mixed = [p("a"), disabled("b"), mapped("c", &[("*haiku*", "small")])];
    for name in ["b", "c", "gone"] {
        assert_eq!(
            preferred_plan(&selector, &mixed, Strategy::Priority, name, &w, w.t0),
            "a"
        );
    }
    // Everything cooling down: the one that ends first, whoever the session preferred.
    let w = World::new().cool("a", 10).cool("b", 20);
    assert_eq!(
        preferred_plan(
            &selector,
            &[p("a"), p("b")],
            Strategy::Priority,
            "b",
            &w,
            w.t0
        ),
        "fallback: a"
    );
}

#[test]
fn priority_with_the_first_healthy_provider_preferred_plans_as_without() {
    let providers = [p("a"), p("b"), p("c")];
    for w in [World::new(), World::new().cool("a", 30)] {
        let first = if w.health.available(&ProviderId::new("a"), w.t0) {
            "a"
        } else {
            "b"
        };
        let selector = Selector::new();
        let without = render(
            selector.plan(
                &providers,
                MODEL,
                Strategy::Priority,
                Scope::default(),
                &w.health,
                w.t0,
            ),
            &providers,
            MODEL,
        );
        assert_eq!(
            preferred_plan(&selector, &providers, Strategy::Priority, first, &w, w.t0),
            without
        );
    }
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
            let plan = selector.plan(&providers, MODEL, strategy, Scope::default(), &world.health, world.t0);
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
fn only_reachable_providers_are_candidates_whatever_their_health() {
    let w = World::new();
    let providers = [p("a"), p("b"), p("c")];
    let b_and_c = [ProviderId::new("b"), ProviderId::new("c")];
    let scope = Scope {
        reach: Some(&b_and_c),
        ..Scope::default()
    };
    let plan = Selector::new()
        .plan(
            &providers,
            MODEL,
            Strategy::Priority,
            scope,
            &w.health,
            w.t0,
        )
        .unwrap();
    assert_eq!(render(Ok(plan), &providers, MODEL), "b c");
    // Not even a fallback to the rest of the pool reaches past it.
    let everything_after_a = Scope {
        only: Some(&[0]),
        then_rest: true,
        ..scope
    };
    let plan = Selector::new()
        .plan(
            &providers,
            MODEL,
            Strategy::Priority,
            everything_after_a,
            &w.health,
            w.t0,
        )
        .unwrap();
    assert_eq!(render(Ok(plan), &providers, MODEL), "b c");
    let none: [ProviderId; 0] = [];
    let nothing = Scope {
        reach: Some(&none),
        ..Scope::default()
    };
    assert_eq!(
        Selector::new()
            .plan(
                &providers,
                MODEL,
                Strategy::Priority,
                nothing,
                &w.health,
                w.t0
            )
            .unwrap_err(),
        PlanError::NoProviderServesModel
    );
}

#[track_caller]
fn check_scoped(
    providers: &[Provider],
    world: &World,
    strategy: Strategy,
    scope: Scope<'_>,
    expect: &str,
) {
    let plan = Selector::new().plan(providers, MODEL, strategy, scope, &world.health, world.t0);
    assert_eq!(render(plan, providers, MODEL), expect);
}

#[test]
fn a_scope_limits_the_plan_and_may_send_its_own_model() {
    let w = World::new();
    let pool = [p("a"), p("b"), p("c"), mapped("d", &[("*", "big")])];
    let only = |only| Scope {
        only: Some(only),
        ..Scope::default()
    };
    check_scoped(&pool, &w, Strategy::Priority, only(&[1, 3]), "b d→big");
    check_scoped(
        &pool,
        &w,
        Strategy::Priority,
        only(&[]),
        "error: no enabled provider serves this model",
    );
    // The scope's model beats the `models` map, also of a provider that does not serve the
    // client's model.
    let haiku_only = [p("a"), mapped("h", &[("*haiku*", "small")])];
    let forced = Scope {
        only: Some(&[1]),
        model: Some("gemini"),
        then_rest: false,
        ..Scope::default()
    };
    check_scoped(&haiku_only, &w, Strategy::Priority, forced, "h→gemini");
    // `then_rest`: the scope's providers first, then the rest with their own maps.
    let then_rest = Scope {
        only: Some(&[2, 3]),
        model: Some("m2"),
        then_rest: true,
        ..Scope::default()
    };
    check_scoped(&pool, &w, Strategy::Priority, then_rest, "c→m2 d→m2 a b");
    // A disabled provider stays out, in the scope or not.
    let with_disabled = [p("a"), disabled("b")];
    check_scoped(
        &with_disabled,
        &w,
        Strategy::Priority,
        only(&[1]),
        "error: no enabled provider serves this model",
    );
    // Everything in scope cooling down: the one that ends first, never one outside.
    let cooling = World::new().cool("b", 30).cool("c", 10);
    check_scoped(
        &pool,
        &cooling,
        Strategy::Priority,
        only(&[1, 2]),
        "fallback: c",
    );
    let rest_up = Scope {
        only: Some(&[1, 2]),
        model: None,
        then_rest: true,
        ..Scope::default()
    };
    check_scoped(&pool, &cooling, Strategy::Priority, rest_up, "a d→big");
}

#[test]
fn each_group_of_a_scope_is_ordered_by_the_strategy() {
    let w = World::new();
    let pool = [p("a"), p("b"), p("c"), p("d")];
    let selector = Selector::new();
    let scope = Scope {
        only: Some(&[2, 3]),
        model: None,
        then_rest: true,
        ..Scope::default()
    };
    let mut seen = Vec::new();
    for _ in 0..4 {
        let plan = selector
            .plan(&pool, MODEL, Strategy::RoundRobin, scope, &w.health, w.t0)
            .unwrap();
        seen.push(render(Ok(plan), &pool, MODEL));
    }
    // The route's providers rotate among themselves and always come first.
    for plan in &seen {
        assert!(plan.starts_with("c d") || plan.starts_with("d c"), "{plan}");
    }
    assert!(seen.iter().any(|p| p.starts_with('c')) && seen.iter().any(|p| p.starts_with('d')));
}

proptest! {
    /// A plan never holds a provider outside its scope, plus the rest of the pool when
    /// `then_rest`, and the scope's providers always come first.
    #[test]
    fn a_plan_stays_in_its_scope(
        specs in proptest::collection::vec((any::<bool>(), 1u32..4, 0u8..3, proptest::option::of(1u64..5)), 1..7),
        members in proptest::collection::vec(any::<bool>(), 7),
        then_rest in any::<bool>(),
        forced in any::<bool>(),
        strategy in prop_oneof![Just(Strategy::Priority), Just(Strategy::RoundRobin), Just(Strategy::Weighted), Just(Strategy::Latency)],
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
            if let Some(secs) = cooldown {
                world = world.cool(&name, secs * 100 + i as u64);
            }
        }
        let only: Vec<usize> = (0..specs.len()).filter(|&i| members[i]).collect();
        let scope = Scope { only: Some(&only), model: forced.then_some("forced"), then_rest, ..Scope::default() };
        let selector = Selector::new();
        for _ in 0..3 {
            let Ok(plan) = selector.plan(&providers, MODEL, strategy, scope, &world.health, world.t0) else {
                continue;
            };
            let mut in_scope = true;
            for candidate in &plan {
                let member = only.contains(&candidate.index);
                prop_assert!(member || then_rest, "{} is outside the scope", candidate.index);
                prop_assert!(specs[candidate.index].0, "{} is disabled", candidate.index);
                // Once the rest of the pool has started, no scope member follows.
                prop_assert!(!member || in_scope, "a scope member after the rest");
                in_scope &= member;
                if member && forced {
                    prop_assert_eq!(candidate.model, "forced");
                }
            }
        }
    }
}
