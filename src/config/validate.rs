//! From [`RawConfig`] to [`Config`]: every value checked, defaults applied, `${VAR}` expanded,
//! and every problem collected rather than stopping at the first.
//!
//! Errors make the configuration unusable; warnings flag a file that loads but probably does not
//! do what its author meant, each saying what will happen and what to write instead.
//! No message ever contains a credential: problems with `auth_value` or a header value name the
//! field or the variable, never the value.

mod routes;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use url::Url;

use super::diagnostic::{Pos, Problems, did_you_mean};
use super::expand::{Expanded, expand, expand_url};
use super::raw::{
    RawConfig, RawHealthCheck, RawPrice, RawProvider, RawSettings, RawUsage, Spanned, Text,
};
use super::{
    AccessSettings, Affinity, Config, DEFAULT_SHARED_STATE_WAIT, HealthCheckMode,
    HealthCheckSettings, LogFormat, LogLevel, Provider, SecretOrigin, Settings, SharedStateUrl,
    Strategy, UsageSettings, UsageStore, duration,
};
use crate::config::Secret;

use crate::core::provider::{AuthType, ModelMap, ModelPattern, ProviderId, ProviderKind};

/// The default `base_url` for type anthropic.
pub const DEFAULT_ANTHROPIC_URL: &str = "https://api.anthropic.com";
/// The default `base_url` for type openai.
pub const DEFAULT_OPENAI_URL: &str = "https://api.openai.com/v1";

/// The `base_url` a provider of type `kind` gets when its entry has none.
pub fn default_base_url(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Anthropic => DEFAULT_ANTHROPIC_URL,
        ProviderKind::OpenAi => DEFAULT_OPENAI_URL,
    }
}

/// Whether `name` is a valid provider name: `[A-Za-z0-9_.-]+`.
pub fn is_provider_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}
/// The default `settings.listen`.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);
/// The default `settings.failure_cooldown`.
pub const DEFAULT_FAILURE_COOLDOWN: Duration = Duration::from_secs(60);
/// The default `settings.request_timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The default `settings.header_read_timeout`.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default `settings.max_connections`.
pub const DEFAULT_MAX_CONNECTIONS: NonZeroU32 = NonZeroU32::new(4096).unwrap();
/// The default `settings.affinity_ttl`.
pub const DEFAULT_AFFINITY_TTL: Duration = Duration::from_secs(60 * 60);
/// The default `settings.stream_idle_timeout`.
pub const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The default `settings.usage.retention`: 90 days.
pub const DEFAULT_USAGE_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

const KINDS: &[(&str, ProviderKind)] = &[
    ("anthropic", ProviderKind::Anthropic),
    ("openai", ProviderKind::OpenAi),
];
const AUTH_TYPES: &[(&str, AuthType)] = &[
    ("api_key", AuthType::ApiKey),
    ("auth_token", AuthType::AuthToken),
];
const STRATEGIES: &[(&str, Strategy)] = &[
    ("priority", Strategy::Priority),
    ("round_robin", Strategy::RoundRobin),
    ("weighted", Strategy::Weighted),
    ("latency", Strategy::Latency),
];
const AFFINITIES: &[(&str, Affinity)] = &[("session", Affinity::Session), ("none", Affinity::None)];
const HEALTH_CHECK_MODES: &[(&str, HealthCheckMode)] = &[
    ("models", HealthCheckMode::Models),
    ("messages", HealthCheckMode::Messages),
    ("off", HealthCheckMode::Off),
];
const LOG_FORMATS: &[(&str, LogFormat)] = &[("text", LogFormat::Text), ("json", LogFormat::Json)];

const LOG_LEVELS: &[(&str, LogLevel)] = &[
    ("trace", LogLevel::Trace),
    ("debug", LogLevel::Debug),
    ("info", LogLevel::Info),
    ("warn", LogLevel::Warn),
    ("error", LogLevel::Error),
];

/// Headers that claude-lb sets itself for every request, which a provider may not override.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "authorization",
    "x-api-key",
];

/// Checks `raw` and builds the [`Config`], or records why it cannot.
///
/// Returns `None` when `problems` has at least one error.
pub(crate) fn validate(
    raw: &RawConfig,
    env: Env<'_>,
    source: Option<PathBuf>,
    problems: &mut Problems,
) -> Option<Config> {
    let providers = providers(raw, env, problems);
    let clients =
        super::clients::validate(raw.clients.as_ref(), providers.as_deref(), env, problems);
    let settings = settings(&raw.settings, env, problems);
    if let (Some(settings), Some(clients)) = (&settings, &clients) {
        let refusal = super::listen::public_listen_refusal(
            settings.listen,
            !clients.is_empty(),
            settings.access.allow_unauthenticated_public,
        );
        let at = raw.settings.listen.as_ref().map_or(Pos::START, |t| t.pos);
        if let Some(refusal) = refusal {
            problems.error(at, "settings.listen", refusal);
        } else if !settings.listen.ip().is_loopback() && clients.is_empty() {
            problems.warn(
                at,
                "settings.listen",
                format!(
                    "{} accepts connections from other machines without client keys (`allow_unauthenticated_public: true`): anyone who reaches it spends the providers' keys",
                    settings.listen
                ),
            );
        }
    }
    let routes = routes::routes(raw, providers.as_deref().unwrap_or(&[]), problems);
    if let Some(settings) = &settings
        && settings.usage.store == UsageStore::Off
    {
        // Budgets are counted from the ledger: without one, a budget would be a silent no-op.
        let budgets = raw
            .clients
            .iter()
            .flat_map(|list| list.value.iter().enumerate());
        for (index, client) in budgets {
            if let Some(budget) = &client.budget {
                problems.warn(
                    budget.pos,
                    &format!("clients[{index}].budget"),
                    "is not enforced: budgets are counted from the usage ledger, and `settings.usage.store` is `off`",
                );
            }
        }
    }
    if let Some(settings) = &settings
        && settings.shared_state.is_some()
        && matches!(
            settings.usage.store,
            UsageStore::DefaultSqlite | UsageStore::Sqlite(_)
        )
    {
        let at = raw
            .settings
            .shared_state
            .as_ref()
            .map_or(Pos::START, |t| t.pos);
        problems.warn(
            at,
            "settings.shared_state",
            "the usage ledger is an SQLite file of this replica's own: `claude-lb usage` and `GET /usage` show only its requests, and a restarted replica counts budgets from its own rows; `settings.usage.store: postgres://...` gives all replicas one ledger",
        );
    }
    if !problems.errors.is_empty() {
        return None;
    }
    Some(Config {
        source,
        providers: providers?,
        clients: clients?.into_iter().map(std::sync::Arc::new).collect(),
        settings: settings?,
        routes: routes?,
        content_hash: 0,
    })
}

fn providers(raw: &RawConfig, env: Env<'_>, problems: &mut Problems) -> Option<Vec<Provider>> {
    let Some(list) = &raw.providers else {
        if raw.providers_key.is_some() {
            // The key is there but its value is not a list: already reported.
            return None;
        }
        problems.error(
            Pos::START,
            "providers",
            "missing (a list of providers; `claude-lb providers add` adds one)",
        );
        return None;
    };
    if list.value.is_empty() {
        problems.error(
            list.pos,
            "providers",
            "no providers (add one with `claude-lb providers add`)",
        );
        return None;
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut folded: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(list.value.len());
    let mut indices = Vec::with_capacity(list.value.len());
    let mut any_enabled = false;
    for (index, rp) in list.value.iter().enumerate() {
        let path = format!("providers[{index}]");
        if let Some(name) = &rp.name {
            let first = *names.entry(&name.value).or_insert(index);
            let first_folded = *folded.entry(name.value.to_lowercase()).or_insert(index);
            if first != index {
                problems.error(
                    name.pos,
                    &format!("{path}.name"),
                    format!(
                        "duplicate provider name {:?} (providers[{first}] already has it)",
                        name.value
                    ),
                );
            } else if first_folded != index {
                problems.error(
                    name.pos,
                    &format!("{path}.name"),
                    format!(
                        "provider name {:?} differs only in case from the name of providers[{first_folded}]; commands find providers by name, so give them names that differ in more than case",
                        name.value
                    ),
                );
            }
        }
        // A provider whose `enabled` cannot be read counts as enabled, so that the error about
        // it is not followed by a second one about the pool.
        any_enabled |= rp
            .enabled
            .as_ref()
            .is_none_or(|e| !e.value.eq_ignore_ascii_case("false"));
        if let Some(p) = provider(rp, &path, env, problems) {
            out.push(p);
            indices.push(index);
        }
    }
    warn_about_twins(&out, &indices, list, problems);
    if !any_enabled {
        problems.error(
            list.pos,
            "providers",
            "no enabled provider (set `enabled: true` on at least one, or `serve` has nowhere to send requests)",
        );
    } else if out.len() == list.value.len() {
        warn_unserved_defaults(&out, list.pos, problems);
    }
    Some(out)
}

/// Warns about each model Claude Code sends by default that no enabled provider serves: those
/// requests would get a 404, and the user only finds out inside Claude Code.
fn warn_unserved_defaults(providers: &[Provider], pos: Pos, problems: &mut Problems) {
    let enabled = || providers.iter().filter(|p| p.enabled);
    let unserved: Vec<String> = crate::models::CLAUDE_DEFAULTS
        .iter()
        .filter(|model| enabled().all(|p| p.models.map(model).is_none()))
        .map(|model| format!("{model} ({})", crate::models::family(model)))
        .collect();
    if unserved.is_empty() {
        return;
    }
    let mut patterns: Vec<&str> = enabled()
        .flat_map(|p| p.models.entries().iter().map(|(k, _)| k.as_str()))
        .collect();
    patterns.dedup();
    problems.warn(
        pos,
        "providers",
        format!(
            "no enabled provider serves {}, which Claude Code sends by default, so those requests would fail with 404 (the enabled providers serve {}); add a pattern such as \"claude-*{}*\" or \"*\" to a provider's `models`",
            unserved.join(", "),
            patterns
                .iter()
                .map(|p| format!("\"{p}\""))
                .collect::<Vec<_>>()
                .join(", "),
            crate::models::family(unserved[0].as_str()).to_ascii_lowercase(),
        ),
    );
}

/// Two providers with the same URL and the same key are one provider twice: failing over from
/// one to the other only repeats the failure.
fn warn_about_twins(
    providers: &[Provider],
    indices: &[usize],
    list: &Spanned<Vec<RawProvider>>,
    problems: &mut Problems,
) {
    for (b, later) in providers.iter().enumerate() {
        let twin = providers[..b].iter().enumerate().find(|(_, earlier)| {
            earlier.id != later.id
                && earlier.base_url == later.base_url
                && matches!((&earlier.secret, &later.secret), (Some(x), Some(y)) if x.expose() == y.expose())
        });
        if let Some((a, earlier)) = twin {
            let index = indices[b];
            problems.warn(
                list.value[index].pos,
                &format!("providers[{index}]"),
                format!(
                    "provider {:?} has the same base_url and key as {:?} (providers[{}]), so failing over from one to the other only repeats the failure; remove one, or give it its own key",
                    later.id.as_str(),
                    earlier.id.as_str(),
                    indices[a]
                ),
            );
        }
    }
}

/// One provider; `None` when it has an error (all of its errors are recorded).
fn provider(
    raw: &RawProvider,
    path: &str,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<Provider> {
    let errors_before = problems.errors.len();
    let field = |key: &str| format!("{path}.{key}");

    let name = required(
        raw.name.as_ref(),
        raw.pos,
        &field("name"),
        "a unique name such as `openrouter`",
        problems,
    )
    .and_then(|t| provider_name(t, &field("name"), problems));
    let display = name.as_deref().unwrap_or(path);
    let enabled = raw
        .enabled
        .as_ref()
        .map_or(Some(true), |t| boolean(t, &field("enabled"), problems));
    let kind = required(
        raw.kind.as_ref(),
        raw.pos,
        &field("type"),
        "anthropic or openai",
        problems,
    )
    .and_then(|t| choice(t, &field("type"), "provider type", KINDS, false, problems));
    let auth_type = required(
        raw.auth_type.as_ref(),
        raw.pos,
        &field("auth_type"),
        "api_key or auth_token",
        problems,
    )
    .and_then(|t| {
        choice(
            t,
            &field("auth_type"),
            "auth type",
            AUTH_TYPES,
            false,
            problems,
        )
    });
    let is_enabled = enabled.unwrap_or(true);

    let secret = provider_secret(raw, path, display, is_enabled, env, problems);

    let base_url = match (&raw.base_url, kind) {
        (Some(t), _) => base_url(
            t,
            &field("base_url"),
            display,
            is_enabled,
            kind,
            env,
            problems,
        ),
        (None, Some(kind)) => Some(default_url(default_base_url(kind))),
        (None, None) => None,
    };
    let weight = raw.weight.as_ref().map_or(Some(NonZeroU32::MIN), |t| {
        positive(t, &field("weight"), problems)
    });
    let health_check =
        health_check_mode(raw.health_check.as_ref(), &field("health_check"), problems);
    let max_tokens = raw
        .max_tokens
        .as_ref()
        .map(|t| positive(t, &field("max_tokens"), problems));
    let models = raw.models.as_ref().map_or(Some(ModelMap::default()), |m| {
        models(m, &field("models"), problems)
    });
    let headers = raw.headers.as_ref().map_or(Some(Vec::new()), |h| {
        headers(h, &field("headers"), display, is_enabled, env, problems)
    });
    let pricing = raw.pricing.as_ref().map_or(Some(Vec::new()), |p| {
        pricing(p, &field("pricing"), problems)
    });

    if problems.errors.len() > errors_before {
        return None;
    }
    let (secret, secret_origin) = secret?;
    let (kind, auth_type) = (kind?, auth_type?);
    let credential = secret
        .as_ref()
        .and_then(|s| crate::core::provider::credential_header(kind, auth_type, s.expose()));
    let provider = Provider {
        id: ProviderId::new(&name?),
        kind,
        auth_type,
        secret,
        secret_origin,
        credential,
        base_url: base_url?,
        enabled: enabled?,
        weight: weight?,
        models: models?,
        headers: headers?,
        max_tokens: max_tokens.flatten(),
        health_check: health_check?,
        pricing: pricing?,
    };
    warn_about(&provider, raw, path, problems);
    Some(provider)
}

/// The warnings for a provider that loads but probably does not do what was meant.
fn warn_about(p: &Provider, raw: &RawProvider, path: &str, problems: &mut Problems) {
    let key = p.secret.as_ref().map_or("", Secret::expose);
    if p.kind == ProviderKind::OpenAi
        && key.starts_with("sk-or-")
        && p.base_url.host_str() == Some("api.openai.com")
    {
        let at = raw.auth_value.as_ref().map_or(raw.pos, |t| t.pos);
        problems.warn(
            at,
            &format!("{path}.auth_value"),
            format!(
                "this looks like an OpenRouter key (it starts with \"sk-or-\") but it would be sent to {}; set `base_url: https://openrouter.ai/api/v1`",
                p.base_url
            ),
        );
    }
    if p.kind == ProviderKind::Anthropic
        && p.auth_type == AuthType::AuthToken
        && raw.base_url.is_none()
    {
        problems.warn(
            raw.pos,
            path,
            format!(
                "`auth_type: auth_token` without `base_url`: provider {:?} would send its token to the official API ({DEFAULT_ANTHROPIC_URL}); set `base_url` to the relay's URL",
                p.id.as_str()
            ),
        );
    }
    if p.kind == ProviderKind::OpenAi && raw.models.is_none() {
        problems.warn(
            raw.pos,
            path,
            format!(
                "openai provider {:?} has no `models` map, so Claude model names such as claude-opus-5-5 would be sent to it as they are; add a map such as `models: {{\"claude-*haiku*\": \"SMALL_MODEL\", \"*\": \"LARGE_MODEL\"}}`",
                p.id.as_str()
            ),
        );
    }
}

// === Values ===

fn required<'t>(
    value: Option<&'t Text>,
    at: Pos,
    path: &str,
    what: &str,
    problems: &mut Problems,
) -> Option<&'t Text> {
    if value.is_none() {
        problems.error(at, path, format!("missing ({what})"));
    }
    value
}

fn provider_name(t: &Text, path: &str, problems: &mut Problems) -> Option<String> {
    if is_provider_name(&t.value) {
        Some(t.value.clone())
    } else {
        problems.error(
            t.pos,
            path,
            format!(
                "invalid provider name {:?} (use only letters, digits, `_`, `.` and `-`, such as \"my_relay\")",
                t.value
            ),
        );
        None
    }
}

fn boolean(t: &Text, path: &str, problems: &mut Problems) -> Option<bool> {
    match t.value.as_str() {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        other => {
            problems.error(
                t.pos,
                path,
                format!("expected true or false, found {other:?}"),
            );
            None
        }
    }
}

pub(super) fn positive(t: &Text, path: &str, problems: &mut Problems) -> Option<NonZeroU32> {
    let parsed = t.value.trim().parse::<i64>();
    match parsed {
        Ok(n) if n >= 1 => NonZeroU32::new(u32::try_from(n).unwrap_or(0)).or_else(|| {
            problems.error(
                t.pos,
                path,
                format!("is too large, found {n} (at most {})", u32::MAX),
            );
            None
        }),
        Ok(n) => {
            problems.error(t.pos, path, format!("must be at least 1, found {n}"));
            None
        }
        Err(_) => {
            problems.error(
                t.pos,
                path,
                format!("expected a whole number of at least 1, found {:?}", t.value),
            );
            None
        }
    }
}

fn choice<T: Copy>(
    t: &Text,
    path: &str,
    what: &str,
    choices: &[(&'static str, T)],
    case_insensitive: bool,
    problems: &mut Problems,
) -> Option<T> {
    let found = choices.iter().find(|(name, _)| {
        if case_insensitive {
            name.eq_ignore_ascii_case(&t.value)
        } else {
            *name == t.value
        }
    });
    if let Some((_, v)) = found {
        return Some(*v);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let expected = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    };
    problems.error(
        t.pos,
        path,
        format!(
            "unknown {what} {:?} (expected {expected}){}",
            t.value,
            did_you_mean(&t.value, &names)
        ),
    );
    None
}

/// `t` with its `${VAR}`s expanded, or `None` after reporting why it cannot be (a malformed
/// `${`). Unset variables are the caller's to judge: they are in `missing`.
pub(super) fn expanded(
    t: &Text,
    path: &str,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<Expanded> {
    expand(&t.value, env)
        .map_err(|e| problems.error(t.pos, path, e.to_string()))
        .ok()
}

/// Expands a value's `${VAR}`s: an unset variable is an error in an enabled provider and a
/// warning in a disabled one (`Ok(None)` then carries the first missing variable).
fn expand_field(
    t: &Text,
    path: &str,
    provider: &str,
    enabled: bool,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<Result<Expanded, String>> {
    let expanded = expanded(t, path, env, problems)?;
    let Some(var) = expanded.missing.first().cloned() else {
        return Some(Ok(expanded));
    };
    for var in &expanded.missing {
        if enabled {
            problems.error(
                t.pos,
                path,
                format!(
                    "environment variable {var} is not set (needed by enabled provider {provider:?}); set it, write \"${{{var}:-default}}\", or set `enabled: false`"
                ),
            );
        } else {
            problems.warn(
                t.pos,
                path,
                format!("environment variable {var} is not set; provider {provider:?} is disabled, so it will need it only once enabled"),
            );
        }
    }
    if enabled { None } else { Some(Err(var)) }
}

fn secret(
    t: &Text,
    path: &str,
    provider: &str,
    enabled: bool,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<(Option<Secret>, SecretOrigin)> {
    if let Some(var) = t.value.trim().strip_prefix('$')
        && super::expand::is_var_name(var)
    {
        problems.error(
            t.pos,
            path,
            format!(
                "`${var}` would be sent as it is: only `${{{var}}}` is read from the environment; write \"${{{var}}}\""
            ),
        );
        return None;
    }
    let expanded = expanded(t, path, env, problems)?;
    // An unset variable makes this one provider unusable, never the whole pool: the others
    // serve, and `providers list` and `check` can say what is missing.
    if let Some(var) = expanded.missing.first().cloned() {
        for var in &expanded.missing {
            let message = if enabled {
                format!(
                    "environment variable {var} is not set, so provider {provider:?} is unusable (the other providers serve without it); export it in the shell that starts `claude-lb serve`, write \"${{{var}:-default}}\", or set `enabled: false`"
                )
            } else {
                format!(
                    "environment variable {var} is not set; provider {provider:?} is disabled, so it will need it only once enabled"
                )
            };
            problems.warn(t.pos, path, message);
        }
        return Some((None, SecretOrigin::Missing { var }));
    }
    if expanded.value.trim().is_empty() {
        problems.error(
            t.pos,
            path,
            "is empty (write the key or token, or \"${VAR}\" to read it from the environment)",
        );
        return None;
    }
    if HeaderValue::from_str(&expanded.value).is_err() {
        problems.error(
            t.pos,
            path,
            "contains characters that cannot be sent in an HTTP header (such as a line break)",
        );
        return None;
    }
    let origin = match expanded.vars.first() {
        None => SecretOrigin::Literal,
        Some(v) => SecretOrigin::Env {
            var: v.name.clone(),
            from_default: v.from_default,
        },
    };
    Some((Some(Secret::new(expanded.value)), origin))
}

/// The credential from `auth_value` or `auth_value_file` (exactly one of them).
fn provider_secret(
    raw: &RawProvider,
    path: &str,
    display: &str,
    is_enabled: bool,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<(Option<Secret>, SecretOrigin)> {
    match (&raw.auth_value, &raw.auth_value_file) {
        (Some(_), Some(file)) => {
            problems.error(
                file.pos,
                &format!("{path}.auth_value_file"),
                "give the key either in `auth_value` or in `auth_value_file`, not both",
            );
            None
        }
        (None, Some(file)) => secret_file(file, &format!("{path}.auth_value_file"), env, problems),
        (_, None) => required(
            raw.auth_value.as_ref(),
            raw.pos,
            &format!("{path}.auth_value"),
            "the key or token, \"${VAR}\" to read it from the environment, or `auth_value_file: PATH`",
            problems,
        )
        .and_then(|t| secret(t, &format!("{path}.auth_value"), display, is_enabled, env, problems)),
    }
}

/// The largest key file read: a key is a line, anything bigger is surely not one.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// A key read from the file `auth_value_file` names (a systemd credential, a Docker secret):
/// an absolute path, `${VAR}` expanded (`${CREDENTIALS_DIRECTORY}/key`). Its permissions are
/// checked: writable by every user is refused (anyone could swap the key), readable by group
/// or others is a warning. Trailing line breaks and spaces are dropped.
fn secret_file(
    t: &Text,
    path: &str,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<(Option<Secret>, SecretOrigin)> {
    let expanded = expanded(t, path, env, problems)?;
    if let Some(var) = expanded.missing.first() {
        problems.error(
            t.pos,
            path,
            format!("environment variable {var} is not set, so the key file cannot be found"),
        );
        return None;
    }
    let file = PathBuf::from(&expanded.value);
    if !file.is_absolute() {
        problems.error(
            t.pos,
            path,
            format!(
                "{:?} is not an absolute path; write the whole path, such as \"/run/secrets/anthropic_key\"",
                expanded.value
            ),
        );
        return None;
    }
    let shown = file.display();
    let metadata = match std::fs::metadata(&file) {
        Ok(m) if m.is_file() => m,
        Ok(_) => {
            problems.error(t.pos, path, format!("`{shown}` is not a file"));
            return None;
        }
        Err(e) => {
            problems.error(t.pos, path, format!("cannot read `{shown}`: {e}"));
            return None;
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o002 != 0 {
            problems.error(
                t.pos,
                path,
                format!("`{shown}` is writable by every user (mode {mode:o}), so anyone could replace the key; run `chmod 600 {shown}`"),
            );
            return None;
        }
        if mode & 0o044 != 0 {
            problems.warn(
                t.pos,
                path,
                format!(
                    "`{shown}` is readable by other users (mode {mode:o}); run `chmod 600 {shown}`"
                ),
            );
        }
    }
    if metadata.len() > MAX_KEY_FILE_BYTES {
        problems.error(
            t.pos,
            path,
            format!("`{shown}` is {} bytes, too large for a key", metadata.len()),
        );
        return None;
    }
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) => {
            problems.error(t.pos, path, format!("cannot read `{shown}`: {e}"));
            return None;
        }
    };
    let key = text.trim_end_matches(['\n', '\r', ' ', '\t']);
    if key.trim().is_empty() {
        problems.error(
            t.pos,
            path,
            format!("`{shown}` is empty; write the key into it"),
        );
        return None;
    }
    if HeaderValue::from_str(key).is_err() {
        problems.error(
            t.pos,
            path,
            format!("`{shown}` holds characters that cannot be sent in an HTTP header (such as a line break inside the key)"),
        );
        return None;
    }
    Some((
        Some(Secret::new(key.to_owned())),
        SecretOrigin::File { path: file },
    ))
}

fn default_url(text: &str) -> Url {
    // unwrap: the defaults are valid URL constants, checked by a test.
    #[allow(clippy::unwrap_used)]
    Url::parse(text).unwrap()
}

fn base_url(
    t: &Text,
    path: &str,
    provider: &str,
    enabled: bool,
    kind: Option<ProviderKind>,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<Url> {
    let Ok(text) = expand_field(t, path, provider, enabled, env, problems)? else {
        // A disabled provider whose URL variable is unset keeps its type's default meanwhile.
        let kind = kind.unwrap_or(ProviderKind::Anthropic);
        return Some(default_url(default_base_url(kind)));
    };
    let text = text.value;
    let example = "such as \"https://relay.example.com\"";
    let mut url = match Url::parse(text.trim()) {
        Ok(url) => url,
        Err(e) => {
            problems.error(
                t.pos,
                path,
                format!(
                    "{:?} is not a URL ({e}); write an http(s) URL {example}",
                    t.value
                ),
            );
            return None;
        }
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        problems.error(
            t.pos,
            path,
            format!(
                "{:?} is not an http or https URL; write one {example}",
                t.value
            ),
        );
        return None;
    }
    if url.query().is_some() || url.fragment().is_some() {
        problems.error(
            t.pos,
            path,
            format!(
                "{:?} has a query or fragment (`?`, `#`); write the URL without it",
                t.value
            ),
        );
        return None;
    }
    if !url.username().is_empty() || url.password().is_some() {
        problems.error(
            t.pos,
            path,
            "has a user name or password in it; put the credential in `auth_value`",
        );
        return None;
    }
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);

    if url.scheme() == "http" && !is_loopback_host(&url) {
        problems.warn(
            t.pos,
            path,
            format!("{url} is plain http to another machine, so the credential travels unencrypted; use https if the provider supports it"),
        );
    }
    for tail in ["/v1/messages", "/chat/completions"] {
        if let Some(base) = url.as_str().trim_end_matches('/').strip_suffix(tail) {
            problems.error(
                t.pos,
                path,
                format!("ends in `{tail}`, the path claude-lb appends itself to every request; write `base_url: {base}`"),
            );
            return None;
        }
    }
    match kind {
        Some(ProviderKind::Anthropic) if url.path().ends_with("/v1") => problems.warn(
            t.pos,
            path,
            format!("ends in `/v1`, but for type anthropic the client's path (`/v1/messages`) is appended, giving `{}/v1/messages`; remove the `/v1`", url.as_str().trim_end_matches('/')),
        ),
        _ => {}
    }
    Some(url)
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn models(
    map: &Spanned<Vec<(Text, Text)>>,
    path: &str,
    problems: &mut Problems,
) -> Option<ModelMap> {
    if map.value.is_empty() {
        problems.error(
            map.pos,
            path,
            "is empty, so this provider would serve no model; remove `models` to serve every model under its own name, or add patterns",
        );
        return None;
    }
    let mut entries = Vec::with_capacity(map.value.len());
    let mut catch_all: Option<&str> = None;
    for (pattern, target) in &map.value {
        let here = format!("{path}.{:?}", pattern.value);
        if pattern.value.trim().is_empty() {
            problems.error(
                pattern.pos,
                path,
                "a pattern is empty (use \"*\" to match every model)",
            );
            continue;
        }
        if target.value.trim().is_empty() {
            problems.error(
                target.pos,
                &here,
                format!(
                    "pattern {:?} maps to an empty model name; write the provider's model name",
                    pattern.value
                ),
            );
            continue;
        }
        if let Some(all) = catch_all {
            problems.warn(
                pattern.pos,
                &here,
                format!("never used: the earlier pattern {all:?} already matches every model (the first match wins)"),
            );
        } else if pattern.value.chars().all(|c| c == '*') {
            catch_all = Some(&pattern.value);
        }
        entries.push((
            ModelPattern::new(&pattern.value),
            Box::from(target.value.trim()),
        ));
    }
    Some(ModelMap::new(entries))
}

fn headers(
    map: &Spanned<Vec<(Text, Text)>>,
    path: &str,
    provider: &str,
    enabled: bool,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<Vec<(HeaderName, HeaderValue)>> {
    let mut out = Vec::with_capacity(map.value.len());
    let mut failed = false;
    for (name, value) in &map.value {
        let here = format!("{path}.{:?}", name.value);
        let Ok(header) = HeaderName::from_bytes(name.value.as_bytes()) else {
            problems.error(
                name.pos,
                &here,
                format!("{:?} is not a valid HTTP header name", name.value),
            );
            failed = true;
            continue;
        };
        if RESERVED_HEADERS.contains(&header.as_str()) {
            problems.error(
                name.pos,
                &here,
                format!("{:?} is set by claude-lb itself (the credential comes from `auth_value`); remove it", name.value),
            );
            failed = true;
            continue;
        }
        let text = match expand_field(value, &here, provider, enabled, env, problems) {
            Some(Ok(e)) => e.value,
            Some(Err(_)) => continue,
            None => {
                failed = true;
                continue;
            }
        };
        if let Ok(v) = HeaderValue::from_str(&text) {
            out.push((header, v));
        } else {
            problems.error(
                value.pos,
                &here,
                "the value contains characters that cannot be sent in an HTTP header",
            );
            failed = true;
        }
    }
    (!failed).then_some(out)
}

// === Settings ===

fn settings(raw: &RawSettings, env: Env<'_>, problems: &mut Problems) -> Option<Settings> {
    let listen = raw
        .listen
        .as_ref()
        .map_or(Some(DEFAULT_LISTEN), |t| listen(t, problems));
    let strategy = raw.strategy.as_ref().map_or(Some(Strategy::Priority), |t| {
        choice(
            t,
            "settings.strategy",
            "strategy",
            STRATEGIES,
            false,
            problems,
        )
    });
    let log_level = raw.log_level.as_ref().map_or(Some(LogLevel::Info), |t| {
        choice(
            t,
            "settings.log_level",
            "log level",
            LOG_LEVELS,
            true,
            problems,
        )
    });
    let log_format = raw.log_format.as_ref().map_or(Some(LogFormat::Text), |t| {
        choice(
            t,
            "settings.log_format",
            "log format",
            LOG_FORMATS,
            true,
            problems,
        )
    });
    let dur = |t: Option<&Text>, key: &str, default: Duration, problems: &mut Problems| {
        let Some(t) = t else { return Some(default) };
        duration::parse(&t.value)
            .map_err(|e| problems.error(t.pos, &format!("settings.{key}"), e.to_string()))
            .ok()
    };
    let failure_cooldown = dur(
        raw.failure_cooldown.as_ref(),
        "failure_cooldown",
        DEFAULT_FAILURE_COOLDOWN,
        problems,
    );
    let request_timeout = dur(
        raw.request_timeout.as_ref(),
        "request_timeout",
        DEFAULT_REQUEST_TIMEOUT,
        problems,
    );
    let stream_idle_timeout = dur(
        raw.stream_idle_timeout.as_ref(),
        "stream_idle_timeout",
        DEFAULT_STREAM_IDLE_TIMEOUT,
        problems,
    );
    let resend_timed_out_answers = raw
        .resend_timed_out_answers
        .as_ref()
        .map_or(Some(false), |t| {
            boolean(t, "settings.resend_timed_out_answers", problems)
        });
    let access = access_settings(raw, env, problems);
    let (affinity, affinity_ttl) = affinity(raw, problems);
    let health_check = health_check(raw.health_check.as_ref(), problems);
    let usage = usage(&raw.usage, env, problems);
    let shared_state = raw
        .shared_state
        .as_ref()
        .map_or(Some(None), |t| shared_state(t, env, problems).map(Some));
    let shared_state_wait = raw
        .shared_state_wait
        .as_ref()
        .map_or(Some(DEFAULT_SHARED_STATE_WAIT), |t| {
            shared_state_wait(t, problems)
        });
    Some(Settings {
        access: access?,
        affinity: affinity?,
        affinity_ttl: affinity_ttl?,
        health_check: health_check?,
        listen: listen?,
        strategy: strategy?,
        failure_cooldown: failure_cooldown?,
        request_timeout: request_timeout?,
        stream_idle_timeout: stream_idle_timeout?,
        resend_timed_out_answers: resend_timed_out_answers?,
        log_level: log_level?,
        log_format: log_format?,
        usage: usage?,
        shared_state: shared_state?,
        shared_state_wait: shared_state_wait?,
    })
}

/// `shared_state_wait`: more than 0 (a request must be able to ask) and at most a second
/// (Redis is never worth more of a request's time).
fn shared_state_wait(t: &Text, problems: &mut Problems) -> Option<Duration> {
    let path = "settings.shared_state_wait";
    match duration::parse(&t.value) {
        Err(e) => {
            problems.error(t.pos, path, e.to_string());
            None
        }
        Ok(d) if d.is_zero() || d > Duration::from_secs(1) => {
            problems.error(
                t.pos,
                path,
                "must be more than 0 and at most 1s (such as `5ms`)",
            );
            None
        }
        Ok(d) => Some(d),
    }
}

/// The value of a setting with its `${VAR}`s replaced; a variable that is not set is an
/// error (a setting that vanished with it would change what claude-lb does unnoticed), whose
/// message ends with `otherwise`, the other way out.
fn expanded_set(
    t: &Text,
    path: &str,
    env: Env<'_>,
    problems: &mut Problems,
    otherwise: &str,
) -> Option<Expanded> {
    expanded_set_with(expand, t, path, env, problems, otherwise)
}

/// [`expanded_set`] with `expand` doing the expansion (say, [`expand_url`]).
fn expanded_set_with(
    expand: fn(&str, Env<'_>) -> Result<Expanded, super::expand::ExpandError>,
    t: &Text,
    path: &str,
    env: Env<'_>,
    problems: &mut Problems,
    otherwise: &str,
) -> Option<Expanded> {
    let expanded = expand(&t.value, env)
        .map_err(|e| problems.error(t.pos, path, e.to_string()))
        .ok()?;
    if let Some(var) = expanded.missing.first() {
        problems.error(
            t.pos,
            path,
            format!("environment variable {var} is not set; export it in the shell that starts claude-lb, or {otherwise}"),
        );
        return None;
    }
    Some(expanded)
}

/// `shared_state`: a `redis://` or `rediss://` URL with a host, literal or with `${VAR}` parts
/// (a password, say); an unset variable is an error, since the replicas would otherwise each
/// keep their own state without the operator knowing.
fn shared_state(t: &Text, env: Env<'_>, problems: &mut Problems) -> Option<SharedStateUrl> {
    let path = "settings.shared_state";
    // A variable inside the URL (a password) is inserted percent-encoded.
    let expanded = expanded_set_with(
        expand_url,
        t,
        path,
        env,
        problems,
        "remove `shared_state` to keep all state in this process",
    )?;
    let value = expanded.value.trim();
    let problem = match Url::parse(value) {
        Err(error) => Some(format!(
            "is not a URL ({error}); expected redis://HOST:PORT/DB or rediss://... for TLS"
        )),
        Ok(url) if !matches!(url.scheme(), "redis" | "rediss") => Some(format!(
            "must be a redis:// or rediss:// URL, found the scheme {:?}",
            url.scheme()
        )),
        Ok(url) if url.host_str().is_none_or(str::is_empty) => {
            Some("names no host; expected redis://HOST:PORT/DB".to_owned())
        }
        Ok(url)
            if !url.path().trim_start_matches('/').is_empty()
                && url.path().trim_start_matches('/').parse::<u16>().is_err() =>
        {
            Some(format!(
                "the path {:?} is not a database number; expected redis://HOST:PORT/DB, DB a number such as 0",
                url.path()
            ))
        }
        Ok(_) => None,
    };
    if let Some(problem) = problem {
        problems.error(t.pos, path, problem);
        return None;
    }
    Some(SharedStateUrl::new(value.to_owned()))
}

/// `settings.usage`: the ledger's store and how long its rows are kept.
fn usage(raw: &RawUsage, env: Env<'_>, problems: &mut Problems) -> Option<UsageSettings> {
    let store = match &raw.store {
        None => Some(UsageStore::DefaultSqlite),
        Some(t) => match t.value.trim() {
            "sqlite" => Some(UsageStore::DefaultSqlite),
            "off" => Some(UsageStore::Off),
            url if super::postgres_url::is_postgres_url(url)
                || (url.starts_with("${") && !url.contains('/')) =>
            {
                super::postgres_url::parse(url, env)
                    .map(UsageStore::Postgres)
                    .map_err(|e| problems.error(t.pos, "settings.usage.store", e))
                    .ok()
            }
            path if std::path::Path::new(path).is_absolute() => {
                Some(UsageStore::Sqlite(PathBuf::from(path)))
            }
            other => {
                let hint = match other.split_once("://") {
                    Some((scheme, _)) => format!(
                        "; a URL must start with postgres:// or postgresql://{}",
                        did_you_mean(scheme, &["postgres", "postgresql"])
                    ),
                    None => did_you_mean(other, &["sqlite", "off"]),
                };
                problems.error(
                    t.pos,
                    "settings.usage.store",
                    format!(
                        "expected `sqlite`, `off`, the absolute path of an SQLite file or a postgres:// URL, found {other:?}{hint}"
                    ),
                );
                None
            }
        },
    };
    let retention = match &raw.retention {
        None => Some(DEFAULT_USAGE_RETENTION),
        Some(t) => duration::parse(&t.value)
            .map_err(|e| problems.error(t.pos, "settings.usage.retention", e.to_string()))
            .ok(),
    };
    Some(UsageSettings {
        store: store?,
        retention: retention?,
    })
}

/// A provider's `pricing:`: model pattern → USD per million tokens.
fn pricing(
    map: &Spanned<Vec<(Text, RawPrice)>>,
    path: &str,
    problems: &mut Problems,
) -> Option<Vec<(ModelPattern, crate::core::price::Price)>> {
    let mut out = Vec::with_capacity(map.value.len());
    let mut failed = false;
    for (pattern, raw) in &map.value {
        let here = format!("{path}.{:?}", pattern.value);
        if pattern.value.trim().is_empty() {
            problems.error(
                pattern.pos,
                path,
                "a pattern is empty (use \"*\" to match every model)",
            );
            failed = true;
            continue;
        }
        let mut number = |t: Option<&Text>, key: &str, required: bool| -> Option<Option<f64>> {
            let Some(t) = t else {
                if required {
                    problems.error(
                        raw.pos,
                        &format!("{here}.{key}"),
                        "missing (USD per million tokens, such as 0.27)",
                    );
                    return None;
                }
                return Some(None);
            };
            match t.value.trim().parse::<f64>() {
                Ok(n) if n.is_finite() && n >= 0.0 => Some(Some(n)),
                _ => {
                    problems.error(
                        t.pos,
                        &format!("{here}.{key}"),
                        format!(
                            "expected a price in USD per million tokens (a number, 0 or more, such as 0.27), found {:?}",
                            t.value
                        ),
                    );
                    None
                }
            }
        };
        let input = number(raw.input.as_ref(), "input", true);
        let output = number(raw.output.as_ref(), "output", true);
        let cache_read = number(raw.cache_read.as_ref(), "cache_read", false);
        let cache_write = number(raw.cache_write.as_ref(), "cache_write", false);
        match (input, output, cache_read, cache_write) {
            (Some(Some(input)), Some(Some(output)), Some(cache_read), Some(cache_write)) => {
                out.push((
                    ModelPattern::new(pattern.value.trim()),
                    crate::core::price::Price {
                        input,
                        output,
                        cache_write,
                        cache_read,
                    },
                ));
            }
            _ => failed = true,
        }
    }
    (!failed).then_some(out)
}

/// The settings of [`AccessSettings`].
fn access_settings(
    raw: &RawSettings,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<AccessSettings> {
    let header_read_timeout = raw
        .header_read_timeout
        .as_ref()
        .map_or(Ok(DEFAULT_HEADER_READ_TIMEOUT), |t| {
            duration::parse(&t.value)
        })
        .map_err(|e| {
            if let Some(t) = &raw.header_read_timeout {
                problems.error(t.pos, "settings.header_read_timeout", e.to_string());
            }
        })
        .ok()
        .and_then(|d| {
            if d.is_zero() {
                if let Some(t) = &raw.header_read_timeout {
                    problems.error(
                        t.pos,
                        "settings.header_read_timeout",
                        "must be more than 0 (a client always needs some time to send its headers)",
                    );
                }
                return None;
            }
            Some(d)
        });
    let allow_unauthenticated_public = raw
        .allow_unauthenticated_public
        .as_ref()
        .map_or(Some(false), |t| {
            boolean(t, "settings.allow_unauthenticated_public", problems)
        });
    let max_connections = raw
        .max_connections
        .as_ref()
        .map_or(Some(DEFAULT_MAX_CONNECTIONS), |t| {
            positive(t, "settings.max_connections", problems)
        });
    let admin_token = raw
        .admin_token
        .as_ref()
        .map_or(Some(None), |t| admin_token(t, env, problems).map(Some));
    let allowed_origins = raw
        .allowed_origins
        .as_ref()
        .map_or(Some(Vec::new()), |list| origins(list, problems));
    let allowed_hosts = raw
        .allowed_hosts
        .as_ref()
        .map_or(Some(Vec::new()), |list| hosts(list, problems));
    Some(AccessSettings {
        admin_token: admin_token?,
        allow_unauthenticated_public: allow_unauthenticated_public?,
        max_connections: max_connections?,
        header_read_timeout: header_read_timeout?,
        allowed_origins: allowed_origins?,
        allowed_hosts: allowed_hosts?,
    })
}

/// `admin_token`: literal or `${VAR}`; unset or empty is an error, since the admin routes
/// would otherwise fall back to loopback-only without the operator knowing.
fn admin_token(t: &Text, env: Env<'_>, problems: &mut Problems) -> Option<Secret> {
    let path = "settings.admin_token";
    let expanded = expanded_set(
        t,
        path,
        env,
        problems,
        "remove `admin_token` to keep the admin routes loopback-only",
    )?;
    if expanded.value.trim().is_empty() {
        problems.error(t.pos, path, "is empty");
        return None;
    }
    if HeaderValue::from_str(&format!("Bearer {}", expanded.value)).is_err() {
        problems.error(
            t.pos,
            path,
            "contains characters that cannot be sent in an HTTP header",
        );
        return None;
    }
    Some(Secret::new(expanded.value))
}

/// `allowed_origins`: each `http(s)://host[:port]`, as browsers send it in `Origin`.
fn origins(list: &super::raw::TextList, problems: &mut Problems) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(list.value.len());
    let mut failed = false;
    for t in &list.value {
        let value = t.value.trim().trim_end_matches('/');
        let well_formed = Url::parse(value).is_ok_and(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some()
                && url.path() == "/"
                && url.query().is_none()
                && url.username().is_empty()
        }) && !value.contains('*');
        if well_formed {
            out.push(value.to_ascii_lowercase());
        } else {
            problems.error(
                t.pos,
                "settings.allowed_origins",
                format!(
                    "{:?} is not an origin: write the scheme, host and port a browser sends, such as \"https://dash.example.com\" (no path, no wildcard)",
                    t.value
                ),
            );
            failed = true;
        }
    }
    (!failed).then_some(out)
}

/// `allowed_hosts`: host names (no scheme, no port) a request's `Host` may give.
fn hosts(list: &super::raw::TextList, problems: &mut Problems) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(list.value.len());
    let mut failed = false;
    for t in &list.value {
        let value = t.value.trim();
        let well_formed = !value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if well_formed {
            out.push(value.to_ascii_lowercase());
        } else {
            problems.error(
                t.pos,
                "settings.allowed_hosts",
                format!(
                    "{:?} is not a host name: write the name clients put in their base URL, such as \"lb.internal\" (no scheme, no port, no wildcard)",
                    t.value
                ),
            );
            failed = true;
        }
    }
    (!failed).then_some(out)
}

/// A provider's `health_check`, by default `models`.
fn health_check_mode(
    t: Option<&Text>,
    path: &str,
    problems: &mut Problems,
) -> Option<HealthCheckMode> {
    let Some(t) = t else {
        return Some(HealthCheckMode::Models);
    };
    choice(t, path, "health check", HEALTH_CHECK_MODES, false, problems)
}

/// `settings.affinity` and `settings.affinity_ttl`, with their defaults.
fn affinity(raw: &RawSettings, problems: &mut Problems) -> (Option<Affinity>, Option<Duration>) {
    let affinity = raw.affinity.as_ref().map_or(Some(Affinity::Session), |t| {
        choice(
            t,
            "settings.affinity",
            "affinity",
            AFFINITIES,
            false,
            problems,
        )
    });
    let Some(t) = raw.affinity_ttl.as_ref() else {
        return (affinity, Some(DEFAULT_AFFINITY_TTL));
    };
    let ttl = duration::parse(&t.value)
        .map_err(|e| problems.error(t.pos, "settings.affinity_ttl", e.to_string()))
        .ok();
    (affinity, ttl)
}

/// `settings.health_check`, with its defaults.
fn health_check(
    raw: Option<&RawHealthCheck>,
    problems: &mut Problems,
) -> Option<HealthCheckSettings> {
    let defaults = HealthCheckSettings::default();
    let Some(raw) = raw else {
        return Some(defaults);
    };
    let dur = |t: Option<&Text>,
               key: &str,
               default: Duration,
               parse: fn(&str) -> Result<Duration, duration::DurationError>,
               problems: &mut Problems| {
        let Some(t) = t else { return Some(default) };
        parse(&t.value)
            .map_err(|e| {
                problems.error(
                    t.pos,
                    &format!("settings.health_check.{key}"),
                    e.to_string(),
                );
            })
            .ok()
    };
    // An interval of zero turns the checks off; a timeout of zero would fail every check.
    let interval = dur(
        raw.interval.as_ref(),
        "interval",
        defaults.interval,
        duration::parse_or_zero,
        problems,
    );
    let timeout = dur(
        raw.timeout.as_ref(),
        "timeout",
        defaults.timeout,
        duration::parse,
        problems,
    );
    let idle_providers = raw
        .idle_providers
        .as_ref()
        .map_or(Some(defaults.idle_providers), |t| {
            boolean(t, "settings.health_check.idle_providers", problems)
        });
    Some(HealthCheckSettings {
        interval: interval?,
        timeout: timeout?,
        idle_providers: idle_providers?,
    })
}

fn listen(t: &Text, problems: &mut Problems) -> Option<SocketAddr> {
    let addr = match super::parse_listen(&t.value) {
        Ok(addr) => addr,
        Err(e) => {
            problems.error(t.pos, "settings.listen", e);
            return None;
        }
    };
    Some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_urls_parse() {
        assert_eq!(
            default_url(DEFAULT_ANTHROPIC_URL).host_str(),
            Some("api.anthropic.com")
        );
        assert_eq!(default_url(DEFAULT_OPENAI_URL).path(), "/v1");
    }
}
