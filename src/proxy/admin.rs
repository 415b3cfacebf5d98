//! The wire shapes of the admin API, shared by the server (`serve`) and its clients
//! (`providers list --remote`, `top`), so both read and write one type.

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
    /// Client sessions whose requests go to this provider first (`settings.affinity`).
    #[serde(default)]
    pub sessions: u64,
    /// Input tokens read from the provider's prompt cache, since the start.
    #[serde(default)]
    pub cache_read_tokens: u64,
    /// Input tokens written to the provider's prompt cache, since the start.
    #[serde(default)]
    pub cache_creation_tokens: u64,
    /// Input tokens neither read from nor written to the prompt cache, since the start.
    #[serde(default)]
    pub uncached_input_tokens: u64,
    /// The latest background health check, once there was one.
    #[serde(default)]
    pub last_check: Option<CheckStatus>,
}

/// A provider's latest background health check in `GET /providers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckStatus {
    /// When it started, in RFC 3339 (UTC, whole seconds).
    pub at: String,
    pub ok: bool,
    pub latency_ms: u64,
    /// What it found, in words.
    pub detail: String,
}

/// `time` in RFC 3339, UTC, to the second (`2026-12-06T23:39:48Z`).
pub fn rfc3339(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

impl ProviderStatus {
    /// The share of input tokens read from the prompt cache, when any input was counted.
    pub fn cache_hit_ratio(&self) -> Option<f64> {
        let total = self
            .cache_read_tokens
            .saturating_add(self.cache_creation_tokens)
            .saturating_add(self.uncached_input_tokens);
        #[expect(
            clippy::cast_precision_loss,
            reason = "a ratio shown to a person: 52 bits of token counts are plenty"
        )]
        (total > 0).then(|| self.cache_read_tokens as f64 / total as f64)
    }
}

/// `GET /sessions`: the client sessions that affinity keeps on each provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionsStatus {
    /// `session` or `none` (`settings.affinity`).
    pub affinity: String,
    /// `settings.affinity_ttl`, in seconds.
    pub ttl_s: u64,
    /// The most sessions remembered at once.
    pub capacity: u64,
    /// Sessions remembered now, over all providers.
    pub sessions: u64,
    /// One entry per provider that holds a session, by name.
    pub providers: Vec<ProviderSessionsStatus>,
}

/// The sessions of one provider in `GET /sessions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderSessionsStatus {
    pub name: String,
    pub sessions: u64,
    /// Seconds since the last request of the least recently used of them, to a tenth.
    pub oldest_last_use_s: f64,
    /// Seconds since the last request of the most recently used of them, to a tenth.
    pub newest_last_use_s: f64,
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

/// One element of `GET /events`: a failed attempt or a failed request, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEntry {
    /// When, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The provider it happened to; absent for a request no provider could answer.
    #[serde(default)]
    pub provider: Option<String>,
    /// `failover`, `cooldown` or `failed_request`; kept as text so a client shows a kind a
    /// newer server adds.
    pub kind: String,
    /// Why (`status_529`, `timeout`, ...), or empty.
    #[serde(default)]
    pub reason: String,
}

impl From<&crate::metrics::Event> for EventEntry {
    fn from(event: &crate::metrics::Event) -> Self {
        Self {
            at_unix_ms: event.at_unix_ms,
            provider: event.provider.as_ref().map(|p| p.as_str().to_owned()),
            kind: event.kind.as_str().to_owned(),
            reason: event.reason.to_owned(),
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
            sessions: 3,
            cache_read_tokens: 900,
            cache_creation_tokens: 50,
            uncached_input_tokens: 50,
            last_check: Some(CheckStatus {
                at: "2026-12-06T23:39:48Z".to_owned(),
                ok: false,
                latency_ms: 12,
                detail: "overloaded (HTTP 529)".to_owned(),
            }),
        };
        assert_eq!(status.cache_hit_ratio(), Some(0.9));
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
                "cache_creation_tokens",
                "cache_read_tokens",
                "consecutive_failures",
                "cooldown_remaining_s",
                "enabled",
                "failures",
                "last_check",
                "last_error",
                "latency_ms",
                "name",
                "requests",
                "sessions",
                "state",
                "type",
                "uncached_input_tokens",
                "unusable",
            ]
        );
        assert_eq!(
            serde_json::from_value::<ProviderStatus>(value).unwrap(),
            status
        );
        // An older server's answer, without the counters, still reads, with no ratio.
        let old = serde_json::json!({
            "name": "a", "type": "anthropic", "enabled": true, "state": "available",
            "cooldown_remaining_s": 0.0, "consecutive_failures": 0, "requests": 0,
            "failures": 0, "last_error": null, "latency_ms": null,
        });
        let old: ProviderStatus = serde_json::from_value(old).unwrap();
        assert_eq!(old.cache_hit_ratio(), None);
        assert_eq!(old.last_check, None);
    }

    #[test]
    fn rfc3339_writes_utc_dates() {
        let at = |secs: u64| rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_796_600_388), "2026-12-06T23:39:48Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
