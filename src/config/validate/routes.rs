//! The `routes:` list: each rule checked against the providers it names.
//!
//! Errors: a route without a name or providers, a provider that does not exist, a condition
//! that is unknown or cannot be read. Warnings: an empty `when` before other rules (it matches
//! every request, so the rules after it never do), a route naming a disabled provider, a route
//! provider that serves none of the route's models (its requests would fail there).

use std::collections::HashMap;

use http::HeaderName;

use super::super::diagnostic::{Problems, did_you_mean};
use super::super::raw::{RawConfig, RawRoute, RawWhen, Text};
use super::{boolean, is_provider_name};
use crate::config::Provider;
use crate::core::route::{Conditions, Pattern, Rule, Rules};

/// The validated rules; `None` when one has an error (every error is recorded).
///
/// `providers` is the validated provider list (it holds every provider when there is no error
/// elsewhere); names that only failed validation there are not reported again here.
pub(super) fn routes(
    raw: &RawConfig,
    providers: &[Provider],
    problems: &mut Problems,
) -> Option<Rules> {
    let Some(list) = &raw.routes else {
        return Some(Rules::default());
    };
    let errors_before = problems.errors.len();
    let raw_names: Vec<&str> = raw
        .providers
        .iter()
        .flat_map(|l| l.value.iter())
        .filter_map(|p| p.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::with_capacity(list.value.len());
    let final_index = list.value.len().saturating_sub(1);
    for (index, rr) in list.value.iter().enumerate() {
        let path = format!("routes[{index}]");
        if let Some(name) = &rr.name {
            let first = *names.entry(&name.value).or_insert(index);
            if first != index {
                problems.error(
                    name.pos,
                    &format!("{path}.name"),
                    format!(
                        "duplicate route name {:?} (routes[{first}] already has it)",
                        name.value
                    ),
                );
            }
        }
        if let Some(rule) = route(rr, &path, providers, &raw_names, problems) {
            if rule.when.is_empty() && index != final_index {
                let at = rr.when.as_ref().map_or(rr.pos, |w| w.pos);
                problems.warn(
                    at,
                    &format!("{path}.when"),
                    format!(
                        "route {:?} has no condition, so it matches every request and no route after it is ever reached ({}); move it last, or give it a condition",
                        &*rule.name,
                        crate::config::plural(final_index - index, "route")
                    ),
                );
            }
            out.push(rule);
        }
    }
    (problems.errors.len() == errors_before).then(|| Rules::new(out))
}

fn route(
    raw: &RawRoute,
    path: &str,
    providers: &[Provider],
    raw_names: &[&str],
    problems: &mut Problems,
) -> Option<Rule> {
    let errors_before = problems.errors.len();
    let field = |key: &str| format!("{path}.{key}");
    let name = match &raw.name {
        None => {
            problems.error(
                raw.pos,
                &field("name"),
                "missing (a name such as `background`, shown in logs and metrics)",
            );
            None
        }
        Some(t) if !is_provider_name(&t.value) => {
            problems.error(
                t.pos,
                &field("name"),
                format!(
                    "invalid route name {:?} (use only letters, digits, `_`, `.` and `-`, such as \"long_context\")",
                    t.value
                ),
            );
            None
        }
        Some(t) => Some(t.value.clone()),
    };
    let when = raw.when.as_ref().map_or(Some(Conditions::default()), |w| {
        conditions(&w.value, &field("when"), problems)
    });
    let indexes = route_providers(raw, path, providers, raw_names, problems);
    let model = match &raw.model {
        Some(t) if t.value.trim().is_empty() => {
            problems.error(
                t.pos,
                &field("model"),
                "is empty (the model name to send this route's providers, or remove the key)",
            );
            None
        }
        Some(t) => Some(Some(Box::from(t.value.as_str()))),
        None => Some(None),
    };
    let fallback_any = match &raw.fallback {
        None => Some(false),
        Some(t) if t.value == "any" => Some(true),
        Some(t) if t.value == "none" => Some(false),
        Some(t) => {
            problems.error(
                t.pos,
                &field("fallback"),
                format!(
                    "unknown fallback {:?} (expected any, to try the rest of the pool after this route's providers, or none){}",
                    t.value,
                    did_you_mean(&t.value, &["any", "none"])
                ),
            );
            None
        }
    };
    if problems.errors.len() > errors_before {
        return None;
    }
    let rule = Rule {
        name: name?.into(),
        when: when?,
        providers: indexes,
        model: model?,
        fallback_any: fallback_any?,
    };
    warn_about(&rule, raw, path, providers, problems);
    Some(rule)
}

/// The indexes of the providers a route names, each checked to exist once.
fn route_providers(
    raw: &RawRoute,
    path: &str,
    providers: &[Provider],
    raw_names: &[&str],
    problems: &mut Problems,
) -> Vec<usize> {
    let field = |key: &str| format!("{path}.{key}");
    let mut indexes = Vec::new();
    match &raw.providers {
        None => problems.error(
            raw.pos,
            &field("providers"),
            "missing (the providers this route sends to, such as `[deepseek]`)",
        ),
        Some(list) if list.value.is_empty() => problems.error(
            list.pos,
            &field("providers"),
            "is empty (name at least one provider)",
        ),
        Some(list) => {
            for (i, t) in list.value.iter().enumerate() {
                let here = format!("{}[{i}]", field("providers"));
                match providers.iter().position(|p| p.id.as_str() == t.value) {
                    Some(index) if indexes.contains(&index) => {
                        problems.error(t.pos, &here, format!("{:?} is listed twice", t.value));
                    }
                    Some(index) => indexes.push(index),
                    // Named in the file but invalid: its own errors say why.
                    None if raw_names.contains(&t.value.as_str()) => {}
                    None => problems.error(
                        t.pos,
                        &here,
                        format!(
                            "unknown provider {:?}{} (the providers are: {})",
                            t.value,
                            did_you_mean(&t.value, raw_names),
                            raw_names.join(", ")
                        ),
                    ),
                }
            }
        }
    }
    indexes
}

fn conditions(raw: &RawWhen, path: &str, problems: &mut Problems) -> Option<Conditions> {
    let errors_before = problems.errors.len();
    let pattern = |t: &Text, key: &str, problems: &mut Problems| {
        if t.value.trim().is_empty() {
            problems.error(
                t.pos,
                &format!("{path}.{key}"),
                "is an empty pattern (use \"*\" to match anything, or remove the condition)",
            );
            None
        } else {
            Some(Pattern::new(&t.value))
        }
    };
    let model = raw
        .model
        .as_ref()
        .and_then(|t| pattern(t, "model", problems));
    let tool = raw.tool.as_ref().and_then(|t| pattern(t, "tool", problems));
    let thinking = raw
        .thinking
        .as_ref()
        .and_then(|t| boolean(t, &format!("{path}.thinking"), problems));
    let min_input_tokens = raw.min_input_tokens.as_ref().and_then(|t| {
        match t.value.trim().replace('_', "").parse::<u64>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                problems.error(
                    t.pos,
                    &format!("{path}.min_input_tokens"),
                    format!(
                        "expected a whole number of tokens of at least 1, such as 60000, found {:?}",
                        t.value
                    ),
                );
                None
            }
        }
    });
    let mut headers = Vec::new();
    if let Some(map) = &raw.header {
        if map.value.is_empty() {
            problems.error(
                map.pos,
                &format!("{path}.header"),
                "is empty (write `header: {x-name: \"pattern\"}`, or remove it)",
            );
        }
        for (name, value) in &map.value {
            let here = format!("{path}.header.{:?}", name.value);
            match HeaderName::from_bytes(name.value.as_bytes()) {
                // `route explain` shows the values of the headers rules read: never a credential.
                Ok(header)
                    if matches!(
                        header.as_str(),
                        "authorization" | "x-api-key" | "proxy-authorization" | "cookie"
                    ) =>
                {
                    problems.error(
                        name.pos,
                        &here,
                        format!(
                            "{:?} carries a credential, which routing rules do not read",
                            name.value
                        ),
                    );
                }
                Ok(header) => {
                    if let Some(p) = pattern(value, &format!("header.{:?}", name.value), problems) {
                        headers.push((Box::from(header.as_str()), p));
                    }
                }
                Err(_) => problems.error(
                    name.pos,
                    &here,
                    format!("{:?} is not a valid HTTP header name", name.value),
                ),
            }
        }
    }
    if problems.errors.len() > errors_before {
        return None;
    }
    Some(Conditions {
        model,
        min_input_tokens,
        thinking,
        tool,
        headers,
    })
}

/// The warnings for a route that loads but probably does not do what was meant.
fn warn_about(
    rule: &Rule,
    raw: &RawRoute,
    path: &str,
    providers: &[Provider],
    problems: &mut Problems,
) {
    let list = raw.providers.as_ref().map_or(&[][..], |l| &l.value[..]);
    let at = |name: &str| {
        list.iter()
            .position(|t| t.value == name)
            .map_or((raw.pos, format!("{path}.providers")), |i| {
                (list[i].pos, format!("{path}.providers[{i}]"))
            })
    };
    for &index in &rule.providers {
        let p = &providers[index];
        let (pos, here) = at(p.id.as_str());
        if !p.enabled {
            problems.warn(
                pos,
                &here,
                format!(
                    "provider {:?} is disabled, so route {:?} never sends to it{}",
                    p.id.as_str(),
                    &*rule.name,
                    if rule.providers.iter().all(|&i| !providers[i].enabled) && !rule.fallback_any {
                        "; with all of its providers disabled, its requests fail"
                    } else {
                        ""
                    }
                ),
            );
            continue;
        }
        // The route's own `model` is sent whatever the provider's map says.
        if rule.model.is_some() {
            continue;
        }
        if let Some(pattern) = &rule.when.model {
            if !may_serve(p, pattern) {
                let served: Vec<&str> =
                    p.models.entries().iter().map(|(k, _)| k.as_str()).collect();
                problems.warn(
                    pos,
                    &here,
                    format!(
                        "provider {:?} serves none of the models route {:?} matches ({:?}; it serves {}), so those requests would fail there; add a pattern to its `models`, or give the route a `model`",
                        p.id.as_str(),
                        &*rule.name,
                        pattern.as_str(),
                        served.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
    }
}

/// Whether `provider` may serve some model that `pattern` matches. Patterns cannot be
/// enumerated, so this is a likely answer: a map pattern that matches the route's pattern as
/// text (`*` matches `claude-*haiku*`), a route pattern that matches a map pattern's text, or
/// one of Claude Code's default models that both match.
fn may_serve(provider: &Provider, pattern: &Pattern) -> bool {
    let map = &provider.models;
    map.is_empty()
        || map
            .entries()
            .iter()
            .any(|(served, _)| served.matches(pattern.as_str()) || pattern.matches(served.as_str()))
        || crate::models::CLAUDE_DEFAULTS
            .iter()
            .any(|m| pattern.matches(m) && map.map(m).is_some())
}
