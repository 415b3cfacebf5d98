//! Routing rules: which providers a request may go to, decided from a few facts about it.
//!
//! # Policy
//!
//! The `routes:` of a config are ordered rules; the first whose conditions all hold decides the
//! request's providers (and, optionally, the model sent to them). No match leaves the whole
//! pool, as without rules. A rule's conditions read *facts* about the request: its model,
//! whether it enables extended thinking, the names and types of its tools, some headers, and an
//! estimate of its input tokens.
//!
//! Facts cost different amounts, so each is extracted only when a rule needs it, and once per
//! request ([`Needs`] says which ones the configured rules read):
//!
//! - the model is read anyway, to plan: a rule set of `model` conditions alone reads nothing
//!   more of the body;
//! - headers are already parsed;
//! - thinking and tools are found by walking the body's top level and the `tools` array's
//!   elements with byte searches, never by parsing the whole body;
//! - input tokens need the local tokenizer, which costs milliseconds on a long prompt. They are
//!   extracted last and lazily: [`Rules::first_match`] asks for them only when it reaches a
//!   rule whose other conditions already hold, and the caller first tries an upper bound from
//!   the body's length ([`InputTokens::AtMost`]), so a request shorter than the smallest
//!   threshold is never tokenized.
//!
//! Matching is pure: the same rules and facts always give the same answer, which is what
//! `claude-lb route explain` shows.

use super::provider::ModelPattern;

/// A glob as in `models`: `*` matches any run of characters.
pub type Pattern = ModelPattern;

/// One `routes:` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The route's name, shown in logs, metrics and `route explain`.
    pub name: std::sync::Arc<str>,
    pub when: Conditions,
    /// The providers it sends to, as indexes into the configuration's provider list.
    pub providers: Vec<usize>,
    /// The model sent to its providers instead of what their `models` maps say.
    pub model: Option<Box<str>>,
    /// Whether the rest of the pool follows the route's providers in the plan.
    pub fallback_any: bool,
}

/// What must all hold for a rule to match; an empty set matches every request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    pub model: Option<Pattern>,
    pub min_input_tokens: Option<u64>,
    pub thinking: Option<bool>,
    /// Matches a tool whose name or type matches.
    pub tool: Option<Pattern>,
    /// Header names (lower case) and the pattern their value must match.
    pub headers: Vec<(Box<str>, Pattern)>,
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        self.model.is_none()
            && self.min_input_tokens.is_none()
            && self.thinking.is_none()
            && self.tool.is_none()
            && self.headers.is_empty()
    }
}

/// The facts the configured rules read beyond the model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub thinking: bool,
    pub tools: bool,
    /// The smallest `min_input_tokens` of any rule: a request whose bound is below it is never
    /// tokenized. `None`: no rule counts tokens.
    pub min_input_tokens: Option<u64>,
    /// The header names (lower case) some rule reads.
    pub headers: Vec<Box<str>>,
}

impl Needs {
    /// Whether the rules read anything of the body beyond its model.
    pub fn body(&self) -> bool {
        self.thinking || self.tools || self.min_input_tokens.is_some()
    }
}

/// One tool the request declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tool {
    pub name: Option<Box<str>>,
    /// The type of a server tool (`web_search_20250305`); `None` for a custom tool.
    pub kind: Option<Box<str>>,
}

/// What is known of a request's input tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputTokens {
    /// An upper bound from the body's length: enough to know it is below a threshold.
    AtMost(u64),
    /// The local tokenizer's estimate.
    Estimated(u64),
    /// The body could not be read as a Messages request.
    Unknown,
}

/// The facts about one request that rules read; those not extracted are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub model: Box<str>,
    pub thinking: Option<bool>,
    pub tools: Option<Vec<Tool>>,
    pub input_tokens: Option<InputTokens>,
    /// The values of the headers the rules read (lower-case name, value), present ones only.
    pub headers: Option<Vec<(Box<str>, Box<str>)>>,
}

/// The answer of [`Rules::first_match`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The rule at this index matches.
    Route(usize),
    /// No rule matches: the whole pool.
    NoRoute,
    /// The rule at this index needs the input tokens, and the rest of its conditions hold:
    /// extract them (a bound first) and ask again.
    NeedTokens(usize),
}

/// Whether one condition holds, and why, for `route explain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The condition as configured: `model: "claude-*haiku*"`.
    pub condition: String,
    /// `None` when the fact it reads was not extracted.
    pub holds: Option<bool>,
    /// The fact it read, in words.
    pub detail: String,
}

/// The ordered rules of one configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    rules: Vec<Rule>,
    needs: Needs,
}

impl Rules {
    pub fn new(rules: Vec<Rule>) -> Self {
        let mut needs = Needs::default();
        for rule in &rules {
            let when = &rule.when;
            needs.thinking |= when.thinking.is_some();
            needs.tools |= when.tool.is_some();
            if let Some(min) = when.min_input_tokens {
                needs.min_input_tokens = Some(needs.min_input_tokens.map_or(min, |m| m.min(min)));
            }
            for (name, _) in &when.headers {
                if !needs.headers.contains(name) {
                    needs.headers.push(name.clone());
                }
            }
        }
        Self { rules, needs }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn get(&self, index: usize) -> Option<&Rule> {
        self.rules.get(index)
    }

    /// Which facts the rules read: the caller extracts only these.
    pub fn needs(&self) -> &Needs {
        &self.needs
    }

    /// The first rule that matches `facts`, starting at rule `from` (0 at first; the index of
    /// a [`Decision::NeedTokens`] when asking again with the tokens known).
    pub fn first_match(&self, facts: &Facts, from: usize) -> Decision {
        for (index, rule) in self.rules.iter().enumerate().skip(from) {
            match holds(&rule.when, facts) {
                Some(true) => return Decision::Route(index),
                Some(false) => {}
                None => return Decision::NeedTokens(index),
            }
        }
        Decision::NoRoute
    }

    /// Each condition of rule `index` checked against `facts`, for `route explain`.
    pub fn explain(&self, index: usize, facts: &Facts) -> Vec<Check> {
        self.rules
            .get(index)
            .map(|rule| checks(&rule.when, facts))
            .unwrap_or_default()
    }
}

/// Whether every condition holds: `None` when they all hold as far as is known but the input
/// tokens are still unknown (the one fact extracted lazily). A fact the caller should have
/// extracted and did not counts as not holding.
fn holds(when: &Conditions, facts: &Facts) -> Option<bool> {
    let cheap = when.model.as_ref().is_none_or(|p| p.matches(&facts.model))
        && when
            .thinking
            .is_none_or(|want| facts.thinking.is_some_and(|on| on == want))
        && when.tool.as_ref().is_none_or(|p| {
            facts
                .tools
                .as_ref()
                .is_some_and(|tools| tools.iter().any(|t| tool_matches(p, t)))
        })
        && when.headers.iter().all(|(name, p)| {
            facts
                .headers
                .as_ref()
                .is_some_and(|h| header_values(h, name).any(|v| p.matches(v)))
        });
    if !cheap {
        return Some(false);
    }
    let Some(min) = when.min_input_tokens else {
        return Some(true);
    };
    match facts.input_tokens? {
        InputTokens::AtMost(bound) if bound < min => Some(false),
        // A bound at or above the threshold says nothing: count.
        InputTokens::AtMost(_) => None,
        InputTokens::Estimated(tokens) => Some(tokens >= min),
        InputTokens::Unknown => Some(false),
    }
}

fn tool_matches(pattern: &Pattern, tool: &Tool) -> bool {
    tool.name.as_deref().is_some_and(|n| pattern.matches(n))
        || tool.kind.as_deref().is_some_and(|k| pattern.matches(k))
}

fn header_values<'h>(
    headers: &'h [(Box<str>, Box<str>)],
    name: &'h str,
) -> impl Iterator<Item = &'h str> {
    headers
        .iter()
        .filter(move |(n, _)| &**n == name)
        .map(|(_, v)| &**v)
}

fn checks(when: &Conditions, facts: &Facts) -> Vec<Check> {
    let mut out = Vec::new();
    if when.is_empty() {
        out.push(Check {
            condition: "(no condition)".to_owned(),
            holds: Some(true),
            detail: "an empty `when` matches every request".to_owned(),
        });
    }
    if let Some(p) = &when.model {
        out.push(Check {
            condition: format!("model: {:?}", p.as_str()),
            holds: Some(p.matches(&facts.model)),
            detail: format!("the model is {:?}", &*facts.model),
        });
    }
    if let Some(min) = when.min_input_tokens {
        let (holds, detail) = match facts.input_tokens {
            None => (None, "input tokens not counted".to_owned()),
            Some(InputTokens::AtMost(bound)) if bound < min => (
                Some(false),
                format!("at most {bound} input tokens (from the body's length; not tokenized)"),
            ),
            Some(InputTokens::AtMost(bound)) => (
                None,
                format!("at most {bound} input tokens (from the body's length)"),
            ),
            Some(InputTokens::Estimated(tokens)) => (
                Some(tokens >= min),
                format!("{tokens} input tokens (local estimate)"),
            ),
            Some(InputTokens::Unknown) => (
                Some(false),
                "the body is not a Messages request, so its tokens cannot be counted".to_owned(),
            ),
        };
        out.push(Check {
            condition: format!("min_input_tokens: {min}"),
            holds,
            detail,
        });
    }
    if let Some(want) = when.thinking {
        out.push(Check {
            condition: format!("thinking: {want}"),
            holds: facts.thinking.map(|on| on == want),
            detail: match facts.thinking {
                Some(true) => "thinking is enabled".to_owned(),
                Some(false) => "thinking is not enabled".to_owned(),
                None => "thinking not read".to_owned(),
            },
        });
    }
    if let Some(p) = &when.tool {
        let (holds, detail) = match &facts.tools {
            None => (None, "tools not read".to_owned()),
            Some(tools) if tools.is_empty() => (Some(false), "no tools".to_owned()),
            Some(tools) => {
                let names: Vec<String> = tools
                    .iter()
                    .map(|t| match (&t.name, &t.kind) {
                        (Some(n), Some(k)) => format!("{n} ({k})"),
                        (Some(n), None) => n.to_string(),
                        (None, Some(k)) => format!("({k})"),
                        (None, None) => "(unnamed)".to_owned(),
                    })
                    .collect();
                let matching = tools.iter().any(|t| tool_matches(p, t));
                (Some(matching), format!("tools: {}", names.join(", ")))
            }
        };
        out.push(Check {
            condition: format!("tool: {:?}", p.as_str()),
            holds,
            detail,
        });
    }
    for (name, p) in &when.headers {
        let (holds, detail) = match &facts.headers {
            None => (None, "headers not read".to_owned()),
            Some(h) => {
                let values: Vec<&str> = header_values(h, name).collect();
                if values.is_empty() {
                    (Some(false), format!("no {name} header"))
                } else {
                    (
                        Some(values.iter().any(|v| p.matches(v))),
                        format!("{name}: {}", values.join(", ")),
                    )
                }
            }
        };
        out.push(Check {
            condition: format!("header {name}: {:?}", p.as_str()),
            holds,
            detail,
        });
    }
    out
}

/// A model name of the form `PROVIDER,MODEL`: that provider only, that model sent as it is.
///
/// Returns the provider's name and the model, or `None` for a plain model name.
pub fn pinned(model: &str) -> Option<(&str, &str)> {
    let (provider, upstream) = model.split_once(',')?;
    Some((provider.trim(), upstream.trim()))
}

#[cfg(test)]
mod tests;
