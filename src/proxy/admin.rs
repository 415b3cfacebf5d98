//! The wire shapes of the admin API, shared by the server (`serve`) and its clients
//! (`providers list --remote`), so both read and write one type.

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::core::health::{HealthState, HealthTable};
use crate::core::route::{Facts, InputTokens};
use crate::dispatch::Explained;

/// One provider as `GET /providers` describes it: its live state, never a secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderStatus {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub enabled: bool,
    /// `available`, `cooling_down`, `unusable` or `disabled`; kept as text so a client shows a
    /// state a newer server adds instead of refusing the whole list.
    pub state: String,
    /// Why an enabled provider cannot take requests (`missing $VAR`), when it cannot.
    #[serde(default)]
    pub unusable: Option<String>,
    /// Seconds of cooldown left, to a tenth.
    pub cooldown_remaining_s: f64,
    pub consecutive_failures: u32,
    pub requests: u64,
    pub failures: u64,
    pub last_error: Option<String>,
    pub latency_ms: Option<u64>,
}

/// `POST /routes/explain` (and `route explain` without `--remote`): which rule a request
/// matches and why, and the plan `serve` would make for it now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteExplanation {
    /// The model the request names.
    pub model: String,
    /// The provider a `PROVIDER,MODEL` model name picks (rules are then not consulted).
    pub pinned: Option<String>,
    /// The facts read, each `None` when no rule needed it.
    pub facts: ExplainedFacts,
    /// Every rule in file order.
    pub rules: Vec<ExplainedRule>,
    /// The route that decides: a rule's name, `pinned:PROVIDER`, `-` (no rule matched), or
    /// `None` without rules.
    pub route: Option<String>,
    /// The candidates, best first.
    pub plan: Vec<PlanStep>,
    /// Why no plan could be made.
    pub error: Option<String>,
}

/// The facts about a request that rules read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExplainedFacts {
    pub thinking: Option<bool>,
    /// Each tool as `name (type)`.
    pub tools: Option<Vec<String>>,
    /// `at most N (from the body's length)`, `N (local estimate)` or `unknown`.
    pub input_tokens: Option<String>,
    /// Each header read as `name: value`.
    pub headers: Option<Vec<String>>,
}

/// One rule and how it fared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExplainedRule {
    pub name: String,
    /// `matched`, `not matched`, or `not reached` (an earlier rule matched).
    pub result: String,
    pub providers: Vec<String>,
    pub model: Option<String>,
    pub fallback_any: bool,
    pub checks: Vec<ExplainedCheck>,
}

/// One condition of a rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExplainedCheck {
    pub condition: String,
    /// `None` when the fact it reads was not extracted (a cheaper condition decided first).
    pub holds: Option<bool>,
    pub detail: String,
}

/// One candidate of the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanStep {
    pub provider: String,
    /// The model it would be sent.
    pub model: String,
    /// `available`, or `cooling_down` with the seconds left.
    pub state: String,
    pub cooldown_remaining_s: f64,
    /// Whether it is there only through the route's `fallback: any`.
    pub fallback: bool,
}

impl ExplainedFacts {
    fn new(facts: &Facts) -> Self {
        Self {
            thinking: facts.thinking,
            tools: facts.tools.as_ref().map(|tools| {
                tools
                    .iter()
                    .map(|t| match (&t.name, &t.kind) {
                        (Some(n), Some(k)) => format!("{n} ({k})"),
                        (Some(n), None) => n.to_string(),
                        (None, Some(k)) => format!("({k})"),
                        (None, None) => "(unnamed)".to_owned(),
                    })
                    .collect()
            }),
            input_tokens: facts.input_tokens.map(|t| match t {
                InputTokens::AtMost(n) => format!("at most {n} (from the body's length)"),
                InputTokens::Estimated(n) => format!("{n} (local estimate)"),
                InputTokens::Unknown => "unknown".to_owned(),
            }),
            headers: facts
                .headers
                .as_ref()
                .map(|h| h.iter().map(|(n, v)| format!("{n}: {v}")).collect()),
        }
    }
}

impl RouteExplanation {
    /// Describes what the dispatcher found, with each candidate's state in `health` at `now`.
    pub fn new(explained: &Explained, health: &HealthTable, now: Instant) -> Self {
        let config = &explained.generation.config;
        let providers = &config.providers;
        let rules = &config.routes;
        let routing = explained.decided.routing.as_ref();
        let matched = routing.and_then(|r| r.rule);
        let empty = Facts::default();
        let facts = routing.map_or(&empty, |r| &r.facts);
        let name_of = |i: usize| providers[i].id.as_str().to_owned();
        let explained_rules = rules
            .rules()
            .iter()
            .enumerate()
            .map(|(i, rule)| ExplainedRule {
                name: rule.name.to_string(),
                result: match matched {
                    _ if routing.is_none() => "not reached",
                    Some(m) if m == i => "matched",
                    Some(m) if m < i => "not reached",
                    _ => "not matched",
                }
                .to_owned(),
                providers: rule.providers.iter().map(|&p| name_of(p)).collect(),
                model: rule.model.as_deref().map(str::to_owned),
                fallback_any: rule.fallback_any,
                checks: if routing.is_some() {
                    rules
                        .explain(i, facts)
                        .into_iter()
                        .map(|c| ExplainedCheck {
                            condition: c.condition,
                            holds: c.holds,
                            detail: c.detail,
                        })
                        .collect()
                } else {
                    Vec::new()
                },
            })
            .collect();
        let scope = explained.decided.scope(rules);
        let (plan, error) = match &explained.plan {
            Ok(steps) => (
                steps
                    .iter()
                    .map(|(index, model)| {
                        let p = &providers[*index];
                        let snapshot = health.snapshot(&p.id, now);
                        let (state, remaining) = match snapshot.state {
                            HealthState::Available => ("available", 0.0),
                            HealthState::CoolingDown { remaining } => {
                                ("cooling_down", remaining.as_secs_f64())
                            }
                        };
                        PlanStep {
                            provider: p.id.as_str().to_owned(),
                            model: model.clone(),
                            state: state.to_owned(),
                            cooldown_remaining_s: (remaining * 10.0).round() / 10.0,
                            fallback: scope.only.is_some_and(|only| !only.contains(index)),
                        }
                    })
                    .collect(),
                None,
            ),
            Err(error) => (Vec::new(), Some(error.to_string())),
        };
        Self {
            model: explained.model.clone(),
            pinned: explained
                .decided
                .pinned
                .as_ref()
                .map(|(index, _)| name_of(*index)),
            facts: ExplainedFacts::new(facts),
            rules: explained_rules,
            route: explained
                .decided
                .label(rules, providers)
                .map(|l| l.to_string()),
            plan,
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_status_has_the_documented_keys_and_reads_back() {
        let status = ProviderStatus {
            name: "main".to_owned(),
            kind: "anthropic".to_owned(),
            enabled: true,
            state: "cooling_down".to_owned(),
            unusable: None,
            cooldown_remaining_s: 12.5,
            consecutive_failures: 2,
            requests: 9,
            failures: 3,
            last_error: Some("HTTP 529 overloaded_error: Overloaded".to_owned()),
            latency_ms: Some(840),
        };
        let value = serde_json::to_value(&status).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "consecutive_failures",
                "cooldown_remaining_s",
                "enabled",
                "failures",
                "last_error",
                "latency_ms",
                "name",
                "requests",
                "state",
                "type",
                "unusable",
            ]
        );
        assert_eq!(
            serde_json::from_value::<ProviderStatus>(value).unwrap(),
            status
        );
    }
}
