//! The shape of a configuration file: YAML read into plain types that remember where each value
//! was written, with every structural problem (wrong kind of node, unknown key) collected.
//!
//! # Why saphyr, and why by hand
//!
//! `serde_yaml` is deprecated upstream. `saphyr` (with `saphyr-parser`) is its maintained
//! successor and gives a start marker for every node, so each value below keeps its line and
//! column. Walking that spanned tree by hand, rather than deserialising with serde, is what lets
//! one pass report *every* problem at once (serde stops at the first), with
//! `FILE:LINE:COL: field.path: message` for each. Scalars are loaded unparsed, so a value keeps
//! the exact text the user wrote (`007` stays `007`) and [`super::validate`] decides what it
//! means. [`super::yaml`] reads the YAML and is the only module that knows the YAML crates; this
//! module gives what it reads the config's shape.
//!
//! Nothing here interprets a value: names, URLs, numbers and durations stay text until
//! validation.

use super::diagnostic::{Pos, Problems, did_you_mean};
use super::yaml::{self, Node, describe, is_null, mapping, pos, scalar, sequence, untag};

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub pos: Pos,
}

/// A text value from the file, as written (quotes removed).
pub type Text = Spanned<String>;

/// An ordered `key: value` map of text, such as `models` or `headers`.
pub type TextMap = Vec<(Text, Text)>;

/// A list of text values, such as a client's `providers`.
pub type TextList = Spanned<Vec<Text>>;

/// The whole file, as written.
#[derive(Clone, Debug, Default)]
pub struct RawConfig {
    /// The `providers:` list, when present and a list.
    pub providers: Option<Spanned<Vec<RawProvider>>>,
    /// Where the `providers:` key is, when present (even if its value is not a list).
    pub providers_key: Option<Pos>,
    /// The `clients:` list, when present and a list.
    pub clients: Option<Spanned<Vec<RawClient>>>,
    pub settings: RawSettings,
    /// The `routes:` list, when present and a list.
    pub routes: Option<Spanned<Vec<RawRoute>>>,
}

/// One entry of `routes:`, as written.
#[derive(Clone, Debug, Default)]
pub struct RawRoute {
    /// Where the entry starts (its first key).
    pub pos: Pos,
    pub name: Option<Text>,
    pub when: Option<Spanned<RawWhen>>,
    pub providers: Option<Spanned<Vec<Text>>>,
    pub model: Option<Text>,
    pub fallback: Option<Text>,
}

/// A route's `when:` conditions, as written.
#[derive(Clone, Debug, Default)]
pub struct RawWhen {
    pub model: Option<Text>,
    pub min_input_tokens: Option<Text>,
    pub thinking: Option<Text>,
    pub tool: Option<Text>,
    pub header: Option<Spanned<TextMap>>,
}

/// One entry of `clients:`, as written.
#[derive(Clone, Debug, Default)]
pub struct RawClient {
    /// Where the entry starts (its first key).
    pub pos: Pos,
    pub name: Option<Text>,
    pub key_sha256: Option<Text>,
    pub key: Option<Text>,
    pub providers: Option<TextList>,
    pub models: Option<TextList>,
    pub max_concurrent: Option<Text>,
    pub requests_per_minute: Option<Text>,
    pub budget: Option<RawBudget>,
}

/// A client's `budget: { usd_per_month, tokens_per_day }`, as written.
#[derive(Clone, Debug, Default)]
pub struct RawBudget {
    pub pos: Pos,
    pub usd_per_month: Option<Text>,
    pub tokens_per_day: Option<Text>,
}

/// One entry of `providers:`, as written. Every key is optional here; validation decides which
/// ones are required.
#[derive(Clone, Debug, Default)]
pub struct RawProvider {
    /// Where the entry starts (its first key).
    pub pos: Pos,
    pub name: Option<Text>,
    /// `type:`.
    pub kind: Option<Text>,
    pub auth_type: Option<Text>,
    pub auth_value: Option<Text>,
    pub auth_value_file: Option<Text>,
    pub base_url: Option<Text>,
    pub enabled: Option<Text>,
    pub weight: Option<Text>,
    pub max_tokens: Option<Text>,
    pub health_check: Option<Text>,
    pub models: Option<Spanned<TextMap>>,
    pub headers: Option<Spanned<TextMap>>,
    /// `pricing:`: model pattern → prices, in file order.
    pub pricing: Option<Spanned<Vec<(Text, RawPrice)>>>,
}

/// One price of `pricing:` (`{ input: 0.27, output: 1.10, cache_read: 0.07 }`), as written.
#[derive(Clone, Debug, Default)]
pub struct RawPrice {
    pub pos: Pos,
    pub input: Option<Text>,
    pub output: Option<Text>,
    pub cache_read: Option<Text>,
    pub cache_write: Option<Text>,
}

/// `settings.usage`, as written.
#[derive(Clone, Debug, Default)]
pub struct RawUsage {
    pub store: Option<Text>,
    pub retention: Option<Text>,
}

/// The `settings:` section, as written.
#[derive(Clone, Debug, Default)]
pub struct RawSettings {
    pub listen: Option<Text>,
    pub strategy: Option<Text>,
    pub failure_cooldown: Option<Text>,
    pub request_timeout: Option<Text>,
    pub stream_idle_timeout: Option<Text>,
    pub resend_timed_out_answers: Option<Text>,
    pub log_level: Option<Text>,
    pub log_format: Option<Text>,
    pub usage: RawUsage,
    pub admin_token: Option<Text>,
    pub allow_unauthenticated_public: Option<Text>,
    pub max_connections: Option<Text>,
    pub header_read_timeout: Option<Text>,
    pub allowed_origins: Option<TextList>,
    pub allowed_hosts: Option<TextList>,
    pub affinity: Option<Text>,
    pub affinity_ttl: Option<Text>,
    /// `health_check:`, when present and a mapping.
    pub health_check: Option<RawHealthCheck>,
    pub shared_state: Option<Text>,
    pub shared_state_wait: Option<Text>,
}

/// `settings.health_check:`, as written.
#[derive(Clone, Debug, Default)]
pub struct RawHealthCheck {
    pub interval: Option<Text>,
    pub timeout: Option<Text>,
    pub idle_providers: Option<Text>,
}

/// The keys allowed at the top level.
pub const TOP_KEYS: &[&str] = &["providers", "clients", "settings", "routes"];

/// Where the value of a key goes in a raw struct: a single value, or a `key: value` map.
enum Slot<T> {
    Text(fn(&mut T) -> &mut Option<Text>),
    Map(fn(&mut T) -> &mut Option<Spanned<TextMap>>),
    /// A nested value with its own shape, read by the function given.
    Nested(fn(&mut T, &Node<'_>, &str, &mut Problems)),
    List(fn(&mut T) -> &mut Option<TextList>),
    /// A nested section, read by its own function.
    Section(fn(&mut T, &Node<'_>, &str, &mut Problems)),
}

/// The keys allowed in a provider, in the order messages list them, and where each goes.
const PROVIDER_FIELDS: &[(&str, Slot<RawProvider>)] = &[
    ("name", Slot::Text(|p| &mut p.name)),
    ("type", Slot::Text(|p| &mut p.kind)),
    ("auth_type", Slot::Text(|p| &mut p.auth_type)),
    ("auth_value", Slot::Text(|p| &mut p.auth_value)),
    ("auth_value_file", Slot::Text(|p| &mut p.auth_value_file)),
    ("base_url", Slot::Text(|p| &mut p.base_url)),
    ("enabled", Slot::Text(|p| &mut p.enabled)),
    ("weight", Slot::Text(|p| &mut p.weight)),
    ("max_tokens", Slot::Text(|p| &mut p.max_tokens)),
    ("health_check", Slot::Text(|p| &mut p.health_check)),
    ("models", Slot::Map(|p| &mut p.models)),
    ("headers", Slot::Map(|p| &mut p.headers)),
    ("pricing", Slot::Nested(pricing)),
];

/// The keys allowed in one price of `pricing:`.
const PRICE_FIELDS: &[(&str, Slot<RawPrice>)] = &[
    ("input", Slot::Text(|p| &mut p.input)),
    ("output", Slot::Text(|p| &mut p.output)),
    ("cache_read", Slot::Text(|p| &mut p.cache_read)),
    ("cache_write", Slot::Text(|p| &mut p.cache_write)),
];

/// The keys allowed in `settings.usage`.
const USAGE_FIELDS: &[(&str, Slot<RawUsage>)] = &[
    ("store", Slot::Text(|u| &mut u.store)),
    ("retention", Slot::Text(|u| &mut u.retention)),
];

/// The keys allowed in a route, other than `when` and `providers` (read apart).
const ROUTE_FIELDS: &[(&str, Slot<RawRoute>)] = &[
    ("name", Slot::Text(|r| &mut r.name)),
    ("model", Slot::Text(|r| &mut r.model)),
    ("fallback", Slot::Text(|r| &mut r.fallback)),
];

/// Every key allowed in a route, in the order messages list them.
pub const ROUTE_KEYS: &[&str] = &["name", "when", "providers", "model", "fallback"];

/// The conditions allowed in a route's `when:`, and where each goes.
const WHEN_FIELDS: &[(&str, Slot<RawWhen>)] = &[
    ("model", Slot::Text(|w| &mut w.model)),
    ("min_input_tokens", Slot::Text(|w| &mut w.min_input_tokens)),
    ("thinking", Slot::Text(|w| &mut w.thinking)),
    ("tool", Slot::Text(|w| &mut w.tool)),
    ("header", Slot::Map(|w| &mut w.header)),
];

/// The conditions allowed in a route's `when:`.
pub fn when_keys() -> Vec<&'static str> {
    keys(WHEN_FIELDS)
}

/// The keys allowed in `settings:`, in the order messages list them, and where each goes.
const SETTINGS_FIELDS: &[(&str, Slot<RawSettings>)] = &[
    ("listen", Slot::Text(|s| &mut s.listen)),
    ("strategy", Slot::Text(|s| &mut s.strategy)),
    ("failure_cooldown", Slot::Text(|s| &mut s.failure_cooldown)),
    ("request_timeout", Slot::Text(|s| &mut s.request_timeout)),
    (
        "stream_idle_timeout",
        Slot::Text(|s| &mut s.stream_idle_timeout),
    ),
    (
        "resend_timed_out_answers",
        Slot::Text(|s| &mut s.resend_timed_out_answers),
    ),
    ("log_level", Slot::Text(|s| &mut s.log_level)),
    ("log_format", Slot::Text(|s| &mut s.log_format)),
    ("admin_token", Slot::Text(|s| &mut s.admin_token)),
    ("shared_state", Slot::Text(|s| &mut s.shared_state)),
    (
        "shared_state_wait",
        Slot::Text(|s| &mut s.shared_state_wait),
    ),
    (
        "allow_unauthenticated_public",
        Slot::Text(|s| &mut s.allow_unauthenticated_public),
    ),
    ("max_connections", Slot::Text(|s| &mut s.max_connections)),
    (
        "header_read_timeout",
        Slot::Text(|s| &mut s.header_read_timeout),
    ),
    ("allowed_origins", Slot::List(|s| &mut s.allowed_origins)),
    ("allowed_hosts", Slot::List(|s| &mut s.allowed_hosts)),
    ("affinity", Slot::Text(|s| &mut s.affinity)),
    ("affinity_ttl", Slot::Text(|s| &mut s.affinity_ttl)),
    (
        "health_check",
        Slot::Section(|s, node, path, problems| {
            let mut raw = RawHealthCheck::default();
            if !is_null(untag(node)) {
                read_fields(node, path, HEALTH_CHECK_FIELDS, &mut raw, problems);
            }
            s.health_check = Some(raw);
        }),
    ),
    ("usage", Slot::Nested(usage)),
];

/// The keys allowed in `settings.health_check:`.
const HEALTH_CHECK_FIELDS: &[(&str, Slot<RawHealthCheck>)] = &[
    ("interval", Slot::Text(|h| &mut h.interval)),
    ("timeout", Slot::Text(|h| &mut h.timeout)),
    ("idle_providers", Slot::Text(|h| &mut h.idle_providers)),
];

/// The keys allowed in a client, in the order messages list them, and where each goes.
const CLIENT_FIELDS: &[(&str, Slot<RawClient>)] = &[
    ("name", Slot::Text(|c| &mut c.name)),
    ("key_sha256", Slot::Text(|c| &mut c.key_sha256)),
    ("key", Slot::Text(|c| &mut c.key)),
    ("providers", Slot::List(|c| &mut c.providers)),
    ("models", Slot::List(|c| &mut c.models)),
    ("max_concurrent", Slot::Text(|c| &mut c.max_concurrent)),
    (
        "requests_per_minute",
        Slot::Text(|c| &mut c.requests_per_minute),
    ),
    ("budget", Slot::Nested(budget)),
];

/// The keys allowed in a client's `budget`.
const BUDGET_FIELDS: &[(&str, Slot<RawBudget>)] = &[
    ("usd_per_month", Slot::Text(|b| &mut b.usd_per_month)),
    ("tokens_per_day", Slot::Text(|b| &mut b.tokens_per_day)),
];

fn keys<T>(table: &[(&'static str, Slot<T>)]) -> Vec<&'static str> {
    table.iter().map(|(key, _)| *key).collect()
}

/// The keys allowed in a provider.
pub fn provider_keys() -> Vec<&'static str> {
    keys(PROVIDER_FIELDS)
}

/// The keys allowed in a client.
pub fn client_keys() -> Vec<&'static str> {
    keys(CLIENT_FIELDS)
}

/// The keys allowed in `settings:`.
pub fn settings_keys() -> Vec<&'static str> {
    keys(SETTINGS_FIELDS)
}

/// The keys allowed in `settings.health_check:`.
pub fn health_check_keys() -> Vec<&'static str> {
    keys(HEALTH_CHECK_FIELDS)
}

/// The keys allowed in `settings.usage`.
pub fn usage_keys() -> Vec<&'static str> {
    keys(USAGE_FIELDS)
}

/// The keys allowed in one price of a provider's `pricing:`.
pub fn price_keys() -> Vec<&'static str> {
    keys(PRICE_FIELDS)
}

/// Reads `text` into a [`RawConfig`], recording every structural problem in `problems`.
///
/// Returns `None` when the text is not YAML, or not a mapping at the top, since nothing more can
/// be checked then.
pub(crate) fn parse(text: &str, problems: &mut Problems) -> Option<RawConfig> {
    let docs = yaml::documents(text, problems)?;
    let mut docs = docs.iter();
    let Some(root) = docs.next() else {
        problems.error(
            Pos::START,
            "",
            "the file is empty (it needs a `providers:` list; `claude-lb config init` writes a starter)",
        );
        return None;
    };
    if let Some(extra) = docs.next() {
        problems.error(
            pos(extra),
            "",
            "a second YAML document (`---`): the config must be a single document",
        );
    }
    let root = untag(root);
    if is_null(root) {
        problems.error(
            Pos::START,
            "",
            "the document is empty (it needs a `providers:` list; `claude-lb config init` writes a starter)",
        );
        return None;
    }
    if mapping(root).is_none() {
        problems.error(
            pos(root),
            "",
            format!(
                "expected a mapping with `providers:` and `settings:` at the top, found {}",
                describe(root)
            ),
        );
        return None;
    }
    let mut raw = RawConfig::default();
    for (key, key_pos, value) in fields(root, "", TOP_KEYS, problems) {
        match key {
            "providers" => {
                raw.providers_key = Some(key_pos);
                raw.providers = entries(value, "providers", key_pos, problems, provider);
            }
            "clients" => raw.clients = entries(value, "clients", key_pos, problems, client),
            "settings" => raw.settings = settings(value, problems),
            "routes" => raw.routes = entries(value, "routes", key_pos, problems, route),
            _ => {}
        }
    }
    Some(raw)
}

/// The keys of a struct-like mapping that are in `allowed`, with their values, in file order.
///
/// Unknown keys, and keys that are not plain names, are reported (with the closest allowed key
/// when one is near) and left out. A node that is not a mapping is reported and gives nothing.
fn fields<'n, 'a>(
    node: &'n Node<'a>,
    path: &str,
    allowed: &[&'static str],
    problems: &mut Problems,
) -> Vec<(&'static str, Pos, &'n Node<'a>)> {
    let node = untag(node);
    let Some(map) = mapping(node) else {
        problems.error(
            pos(node),
            path,
            format!(
                "expected a mapping (`key: value` lines), found {}",
                describe(node)
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        let Some(name) = scalar(key) else {
            problems.error(pos(key), path, "expected a key name here");
            continue;
        };
        let here = join(path, name);
        match allowed.iter().find(|k| **k == name) {
            Some(k) if out.iter().any(|(seen, _, _)| seen == k) => {
                problems.error(pos(key), &here, "duplicate key");
            }
            Some(k) => out.push((*k, pos(key), value)),
            None => problems.error(
                pos(key),
                &here,
                format!(
                    "unknown key {name:?}{} (allowed here: {})",
                    did_you_mean(name, allowed),
                    allowed.join(", ")
                ),
            ),
        }
    }
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A single value as text, or a reported problem.
fn text(node: &Node<'_>, path: &str, problems: &mut Problems) -> Option<Text> {
    let node = untag(node);
    if is_null(node) {
        problems.error(pos(node), path, "no value (write one, or remove the key)");
        return None;
    }
    let Some(value) = scalar(node) else {
        problems.error(
            pos(node),
            path,
            format!("expected a single value, found {}", describe(node)),
        );
        return None;
    };
    Some(Spanned {
        value: value.to_owned(),
        pos: pos(node),
    })
}

/// A `key: value` map of text (`models`, `headers`), in file order.
fn text_map(node: &Node<'_>, path: &str, problems: &mut Problems) -> Option<Spanned<TextMap>> {
    let node = untag(node);
    let Some(map) = mapping(node) else {
        problems.error(
            pos(node),
            path,
            format!(
                "expected a mapping (`\"pattern\": \"value\"` lines), found {}",
                describe(node)
            ),
        );
        return None;
    };
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        let Some(k) = text(key, path, problems) else {
            continue;
        };
        let here = format!("{path}.{:?}", k.value);
        if let Some(v) = text(value, &here, problems) {
            out.push((k, v));
        }
    }
    Some(Spanned {
        value: out,
        pos: pos(node),
    })
}

/// The list of entries (`- name: ...` lines) under the top-level `key`, each read by `entry`
/// with its path (`key[i]`). A key with no value is an empty list, which validation judges.
fn entries<T>(
    node: &Node<'_>,
    key: &str,
    key_pos: Pos,
    problems: &mut Problems,
    entry: impl Fn(&Node<'_>, &str, &mut Problems) -> T,
) -> Option<Spanned<Vec<T>>> {
    let node = untag(node);
    if is_null(node) {
        return Some(Spanned {
            value: Vec::new(),
            pos: key_pos,
        });
    }
    let Some(items) = sequence(node) else {
        problems.error(
            pos(node),
            key,
            format!(
                "expected a list of {key} (`- name: ...` entries), found {}",
                describe(node)
            ),
        );
        return None;
    };
    let list = items
        .iter()
        .enumerate()
        .map(|(i, item)| entry(item, &format!("{key}[{i}]"), problems))
        .collect();
    Some(Spanned {
        value: list,
        pos: pos(node),
    })
}

fn provider(node: &Node<'_>, path: &str, problems: &mut Problems) -> RawProvider {
    let mut raw = RawProvider {
        pos: pos(untag(node)),
        ..RawProvider::default()
    };
    read_fields(node, path, PROVIDER_FIELDS, &mut raw, problems);
    raw
}

fn route(node: &Node<'_>, path: &str, problems: &mut Problems) -> RawRoute {
    let mut raw = RawRoute {
        pos: pos(untag(node)),
        ..RawRoute::default()
    };
    for (key, _, value) in fields(node, path, ROUTE_KEYS, problems) {
        let here = join(path, key);
        match key {
            "when" => {
                let value = untag(value);
                let mut when = RawWhen::default();
                // `when:` with nothing after it is an empty set of conditions.
                if !is_null(value) {
                    read_fields(value, &here, WHEN_FIELDS, &mut when, problems);
                }
                raw.when = Some(Spanned {
                    value: when,
                    pos: pos(value),
                });
            }
            "providers" => raw.providers = text_list(value, &here, problems),
            _ => {
                if let Some((_, Slot::Text(slot))) = ROUTE_FIELDS.iter().find(|(k, _)| *k == key) {
                    *slot(&mut raw) = text(value, &here, problems);
                }
            }
        }
    }
    raw
}

fn client(node: &Node<'_>, path: &str, problems: &mut Problems) -> RawClient {
    let mut raw = RawClient {
        pos: pos(untag(node)),
        ..RawClient::default()
    };
    read_fields(node, path, CLIENT_FIELDS, &mut raw, problems);
    raw
}

/// A list of single values (`[a, b]` or `- a` lines).
fn text_list(node: &Node<'_>, path: &str, problems: &mut Problems) -> Option<TextList> {
    let node = untag(node);
    let Some(items) = sequence(node) else {
        problems.error(
            pos(node),
            path,
            format!("expected a list (`[a, b]`), found {}", describe(node)),
        );
        return None;
    };
    let list = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| text(item, &format!("{path}[{i}]"), problems))
        .collect();
    Some(Spanned {
        value: list,
        pos: pos(node),
    })
}

fn settings(node: &Node<'_>, problems: &mut Problems) -> RawSettings {
    let mut raw = RawSettings::default();
    if !is_null(untag(node)) {
        read_fields(node, "settings", SETTINGS_FIELDS, &mut raw, problems);
    }
    raw
}

/// Reads the keys of the mapping `node` into `raw`, each where `table` says.
fn read_fields<T>(
    node: &Node<'_>,
    path: &str,
    table: &[(&'static str, Slot<T>)],
    raw: &mut T,
    problems: &mut Problems,
) {
    for (key, _, value) in fields(node, path, &keys(table), problems) {
        let here = join(path, key);
        match table.iter().find(|(k, _)| *k == key).map(|(_, slot)| slot) {
            Some(Slot::Text(slot)) => *slot(raw) = text(value, &here, problems),
            Some(Slot::Map(slot)) => *slot(raw) = text_map(value, &here, problems),
            Some(Slot::Nested(read)) => read(raw, value, &here, problems),
            Some(Slot::List(slot)) => *slot(raw) = text_list(value, &here, problems),
            Some(Slot::Section(read)) => read(raw, value, &here, problems),
            None => {}
        }
    }
}

/// A client's `budget`: a mapping of its own keys.
fn budget(client: &mut RawClient, node: &Node<'_>, path: &str, problems: &mut Problems) {
    let mut raw = RawBudget {
        pos: pos(untag(node)),
        ..RawBudget::default()
    };
    read_fields(node, path, BUDGET_FIELDS, &mut raw, problems);
    client.budget = Some(raw);
}

/// `settings.usage`: a mapping of its own keys.
fn usage(settings: &mut RawSettings, node: &Node<'_>, path: &str, problems: &mut Problems) {
    if !is_null(untag(node)) {
        read_fields(node, path, USAGE_FIELDS, &mut settings.usage, problems);
    }
}

/// A provider's `pricing:`: model pattern → `{ input, output, cache_read, cache_write }`.
fn pricing(provider: &mut RawProvider, node: &Node<'_>, path: &str, problems: &mut Problems) {
    let node = untag(node);
    let Some(map) = mapping(node) else {
        problems.error(
            pos(node),
            path,
            format!(
                "expected a mapping (`\"model-pattern\": {{ input: 0.27, output: 1.10 }}` lines), found {}",
                describe(node)
            ),
        );
        return;
    };
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        let Some(k) = text(key, path, problems) else {
            continue;
        };
        let here = format!("{path}.{:?}", k.value);
        let mut price = RawPrice {
            pos: pos(untag(value)),
            ..RawPrice::default()
        };
        read_fields(value, &here, PRICE_FIELDS, &mut price, problems);
        out.push((k, price));
    }
    provider.pricing = Some(Spanned {
        value: out,
        pos: pos(node),
    });
}
