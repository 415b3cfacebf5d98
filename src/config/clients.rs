//! `clients:`: who may send requests to `serve`, and within which limits.
//!
//! Without `clients:` every request is served (a loopback, single-user setup). With it, every
//! proxied request must carry one of the keys, and each client may be narrowed to some
//! providers and model patterns and held to a number of requests in flight and per minute.
//! Only a key's SHA-256 is kept in memory, whichever way the file gives it.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use super::diagnostic::{Pos, Problems, did_you_mean};
use super::raw::{RawClient, Spanned, Text, TextList};
use super::secret::KeyDigest;
use super::validate::{expanded, is_provider_name, positive};
use super::{Provider, Secret};
use crate::core::provider::{ModelPattern, ProviderId};

/// A key shorter than this is easy to guess: a warning.
const SHORT_KEY: usize = 20;

/// One validated client.
#[derive(Clone, Debug)]
pub struct Client {
    /// Shown in logs, metrics and usage, never the key.
    pub name: Arc<str>,
    /// The SHA-256 of the key.
    pub key: KeyDigest,
    /// How the file gives the key, for listings.
    pub key_origin: KeyOrigin,
    /// The providers this client may reach; `None`: all of them.
    pub providers: Option<Vec<ProviderId>>,
    /// The model patterns it may request; `None`: any.
    pub models: Option<Vec<ModelPattern>>,
    pub max_concurrent: Option<NonZeroU32>,
    pub requests_per_minute: Option<NonZeroU32>,
    /// Its spending limits, counted from the usage ledger; `None`: no limit.
    pub budget: Option<Budget>,
}

/// A client's spending limits (`budget: { usd_per_month, tokens_per_day }`), each optional.
/// Days and months are UTC.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Budget {
    pub usd_per_month: Option<f64>,
    pub tokens_per_day: Option<u64>,
}

/// How the file gives a client's key: what `clients list` shows instead of the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `key_sha256:`, the digest (what `claude-lb clients add` writes).
    Digest,
    /// `key:` with the key itself written in the file.
    Literal,
    /// `key: "${VAR}"`: the key read from this environment variable.
    Env(String),
}

impl std::fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Digest => f.write_str("sha256"),
            Self::Literal => f.write_str("key"),
            Self::Env(var) => write!(f, "${{{var}}}"),
        }
    }
}

impl KeyOrigin {
    /// The origin of a key written as `key: VALUE`.
    fn of_key(value: &str) -> Self {
        match value
            .trim()
            .strip_prefix("${")
            .and_then(|v| v.strip_suffix('}'))
        {
            Some(var) if super::expand::is_var_name(var) => Self::Env(var.to_owned()),
            _ => Self::Literal,
        }
    }
}

impl Client {
    /// Whether this client may ask for `model`.
    pub fn may_request(&self, model: &str) -> bool {
        self.models
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| p.matches(model)))
    }

    /// Whether this client may reach the provider `id`.
    pub fn may_reach(&self, id: &ProviderId) -> bool {
        self.providers
            .as_ref()
            .is_none_or(|allowed| allowed.contains(id))
    }

    /// Whether two versions of a client (before and after a reload) count against the same
    /// limits: same name and same limits.
    pub fn same_limits(&self, other: &Self) -> bool {
        self.name == other.name
            && self.max_concurrent == other.max_concurrent
            && self.requests_per_minute == other.requests_per_minute
    }
}

/// Checks `clients:`. `None` when it has an error; an absent list is `Some(empty)`.
pub(super) fn validate(
    list: Option<&Spanned<Vec<RawClient>>>,
    providers: Option<&[Provider]>,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<Vec<Client>> {
    let Some(list) = list else {
        return Some(Vec::new());
    };
    if list.value.is_empty() {
        problems.error(
            list.pos,
            "clients",
            "is empty, so every request would be refused; add a client (`claude-lb clients add NAME`), or remove `clients:` to serve without keys on loopback",
        );
        return None;
    }
    let mut out = Vec::with_capacity(list.value.len());
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut keys: Vec<(KeyDigest, String)> = Vec::new();
    let mut failed = false;
    for (index, raw) in list.value.iter().enumerate() {
        let path = format!("clients[{index}]");
        match client(raw, &path, providers, env, problems) {
            Some(client) => {
                if let Some(first) = names.insert(client.name.to_string(), index) {
                    problems.error(
                        raw.name.as_ref().map_or(raw.pos, |n| n.pos),
                        &format!("{path}.name"),
                        format!(
                            "duplicate client name {:?} (also clients[{first}]); names must be unique",
                            &*client.name
                        ),
                    );
                    failed = true;
                }
                if let Some((_, other)) = keys.iter().find(|(key, _)| key.ct_eq(&client.key)) {
                    let at = raw
                        .key
                        .as_ref()
                        .or(raw.key_sha256.as_ref())
                        .map_or(raw.pos, |t| t.pos);
                    problems.error(
                        at,
                        &path,
                        format!(
                            "has the same key as client {other:?}: a key must name one client (`claude-lb clients add` makes a new one)"
                        ),
                    );
                    failed = true;
                }
                keys.push((client.key, client.name.to_string()));
                out.push(client);
            }
            None => failed = true,
        }
    }
    (!failed).then_some(out)
}

fn client(
    raw: &RawClient,
    path: &str,
    providers: Option<&[Provider]>,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<Client> {
    let name = match &raw.name {
        None => {
            problems.error(
                raw.pos,
                &format!("{path}.name"),
                "missing (the client's name, shown in logs and metrics, such as \"alice\")",
            );
            None
        }
        Some(t) if !is_provider_name(&t.value) => {
            problems.error(
                t.pos,
                &format!("{path}.name"),
                format!(
                    "invalid client name {:?} (use only letters, digits, `_`, `.` and `-`)",
                    t.value
                ),
            );
            None
        }
        Some(t) => Some(Arc::<str>::from(t.value.as_str())),
    };
    let key_origin = match &raw.key {
        Some(key) => KeyOrigin::of_key(&key.value),
        None => KeyOrigin::Digest,
    };
    let key = match (&raw.key_sha256, &raw.key) {
        (Some(_), Some(key)) => {
            problems.error(
                key.pos,
                &format!("{path}.key"),
                "give either `key_sha256` or `key`, not both",
            );
            None
        }
        (Some(digest), None) => key_digest(digest, &format!("{path}.key_sha256"), problems),
        (None, Some(key)) => literal_key(key, &format!("{path}.key"), env, problems),
        (None, None) => {
            problems.error(
                raw.pos,
                &format!("{path}.key_sha256"),
                "missing: a client needs `key_sha256` (what `claude-lb clients add` writes) or `key` (the key itself, or \"${VAR}\")",
            );
            None
        }
    };
    let allowed_providers = raw
        .providers
        .as_ref()
        .map(|list| provider_list(list, &format!("{path}.providers"), providers, problems));
    let models = raw
        .models
        .as_ref()
        .map(|list| model_list(list, &format!("{path}.models"), problems));
    let number = |t: Option<&Text>, key: &str, problems: &mut Problems| {
        t.map(|t| positive(t, &format!("{path}.{key}"), problems))
    };
    let max_concurrent = number(raw.max_concurrent.as_ref(), "max_concurrent", problems);
    let requests_per_minute = number(
        raw.requests_per_minute.as_ref(),
        "requests_per_minute",
        problems,
    );
    let budget = raw
        .budget
        .as_ref()
        .map(|b| budget(b, &format!("{path}.budget"), problems));
    Some(Client {
        budget: budget.map_or(Some(None), |b| b.map(Some))?,
        name: name?,
        key: key?,
        key_origin,
        providers: allowed_providers.map_or(Some(None), |p| p.map(Some))?,
        models: models.map_or(Some(None), |m| m.map(Some))?,
        max_concurrent: max_concurrent.map_or(Some(None), |n| n.map(Some))?,
        requests_per_minute: requests_per_minute.map_or(Some(None), |n| n.map(Some))?,
    })
}

/// A client's `budget`: at least one limit, each a positive number.
fn budget(raw: &super::raw::RawBudget, path: &str, problems: &mut Problems) -> Option<Budget> {
    let mut failed = false;
    let usd_per_month =
        raw.usd_per_month
            .as_ref()
            .and_then(|t| match t.value.trim().parse::<f64>() {
                Ok(n) if n.is_finite() && n > 0.0 => Some(n),
                _ => {
                    problems.error(
                        t.pos,
                        &format!("{path}.usd_per_month"),
                        format!(
                            "expected an amount of US dollars more than 0, such as 200, found {:?}",
                            t.value
                        ),
                    );
                    failed = true;
                    None
                }
            });
    let tokens_per_day = raw.tokens_per_day.as_ref().and_then(|t| {
        match t.value.trim().replace('_', "").parse::<u64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                problems.error(
                    t.pos,
                    &format!("{path}.tokens_per_day"),
                    format!("expected a whole number of tokens more than 0, such as 20000000, found {:?}", t.value),
                );
                failed = true;
                None
            }
        }
    });
    if failed {
        return None;
    }
    if usd_per_month.is_none() && tokens_per_day.is_none() {
        problems.error(
            raw.pos,
            path,
            "is empty: give `usd_per_month`, `tokens_per_day` or both, or remove `budget`",
        );
        return None;
    }
    Some(Budget {
        usd_per_month,
        tokens_per_day,
    })
}

fn key_digest(t: &Text, path: &str, problems: &mut Problems) -> Option<KeyDigest> {
    let digest = KeyDigest::from_hex(t.value.trim());
    if digest.is_none() {
        problems.error(
            t.pos,
            path,
            format!(
                "expected the SHA-256 of the key as 64 hexadecimal digits, found {} characters (`claude-lb clients add` writes it; `printf %s \"$KEY\" | sha256sum` computes it)",
                t.value.trim().chars().count()
            ),
        );
    }
    digest
}

/// A key given in the file, literal or `${VAR}`: an unset or empty one is an error, since a
/// client without a key would be no client at all.
fn literal_key(
    t: &Text,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<KeyDigest> {
    let expanded = expanded(t, path, env, problems)?;
    if !expanded.missing.is_empty() {
        for var in &expanded.missing {
            problems.error(
                t.pos,
                path,
                format!(
                    "environment variable {var} is not set; export it in the shell that starts claude-lb, or write the key's digest in `key_sha256`"
                ),
            );
        }
        return None;
    }
    let key = Secret::new(expanded.value);
    if key.expose().trim().is_empty() {
        problems.error(t.pos, path, "is empty");
        return None;
    }
    if key.expose().chars().count() < SHORT_KEY {
        problems.warn(
            t.pos,
            path,
            format!(
                "is shorter than {SHORT_KEY} characters, which can be guessed; `claude-lb clients add` makes a 32-byte random key"
            ),
        );
    }
    Some(KeyDigest::of(key.expose().as_bytes()))
}

fn provider_list(
    list: &TextList,
    path: &str,
    providers: Option<&[Provider]>,
    problems: &mut Problems,
) -> Option<Vec<ProviderId>> {
    if list.value.is_empty() {
        return empty_list(list.pos, path, "provider", problems);
    }
    let known: Vec<&str> = providers
        .unwrap_or_default()
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    let mut out = Vec::with_capacity(list.value.len());
    let mut failed = false;
    for t in &list.value {
        // Unknown names are only checked when the providers themselves loaded.
        if providers.is_some() && !known.contains(&t.value.as_str()) {
            problems.error(
                t.pos,
                path,
                format!(
                    "no provider is named {:?}{} (providers: {})",
                    t.value,
                    did_you_mean(&t.value, &known),
                    known.join(", ")
                ),
            );
            failed = true;
            continue;
        }
        out.push(ProviderId::new(&t.value));
    }
    (!failed).then_some(out)
}

fn model_list(list: &TextList, path: &str, problems: &mut Problems) -> Option<Vec<ModelPattern>> {
    if list.value.is_empty() {
        return empty_list(list.pos, path, "model pattern", problems);
    }
    let mut out = Vec::with_capacity(list.value.len());
    for t in &list.value {
        if t.value.trim().is_empty() {
            problems.error(
                t.pos,
                path,
                "a pattern is empty (\"*\" matches every model)",
            );
            return None;
        }
        out.push(ModelPattern::new(t.value.trim()));
    }
    Some(out)
}

fn empty_list<T>(pos: Pos, path: &str, what: &str, problems: &mut Problems) -> Option<T> {
    problems.error(
        pos,
        path,
        format!(
            "is empty, so this client could use no {what} at all; remove the key to allow every {what}"
        ),
    );
    None
}
