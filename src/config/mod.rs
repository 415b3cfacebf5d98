//! The configuration: where it is read from, what it may contain, and every way it can be wrong.
//!
//! `load` reads YAML into raw types, then validates them into [`Config`], collecting every
//! problem at once. `serve`, `config validate` and every other command call the same `load`,
//! so "validate passes" means "serve will start".

pub mod clients;
pub mod diagnostic;
pub mod duration;
pub mod edit;
pub mod expand;
pub mod listen;
pub mod paths;
pub mod postgres_url;
pub mod presets;
pub mod raw;
pub mod reference;
pub mod save;
pub mod secret;
pub mod validate;
mod yaml;

use std::fmt;
use std::io::Read;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use url::Url;

pub use clients::Client;
pub use diagnostic::{Diagnostic, Pos, Severity};
pub use listen::parse_listen;
pub use save::{save_atomic, save_edit};
pub use secret::{KeyDigest, Secret};

pub use crate::core::select::Strategy;

use crate::core::health::CooldownPolicy;
use crate::core::provider::{AuthType, ModelMap, ProviderId, ProviderKind, Routable};
use crate::core::route::Rules;

/// A validated configuration: what `serve` runs on.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file this was loaded from, when it came from a file.
    pub source: Option<PathBuf>,
    /// Every provider in file order, enabled or not.
    pub providers: Vec<Provider>,
    /// Who may send requests (`clients:`); empty: everyone, without a key.
    pub clients: Vec<std::sync::Arc<Client>>,
    pub settings: Settings,
    /// The `routes:` rules, in file order (empty without them).
    pub routes: Rules,
    /// A hash of the text this was loaded from: a file watch compares it with the file's
    /// bytes to reload only when the content changed.
    pub content_hash: u64,
}

/// One validated provider.
#[derive(Clone, Debug)]
pub struct Provider {
    pub id: ProviderId,
    pub kind: ProviderKind,
    pub auth_type: AuthType,
    /// The credential; `None` when its `${VAR}` is unset, which makes the provider unusable.
    pub secret: Option<Secret>,
    /// Where the credential came from, for display (`set`, `from $VAR`, `missing`).
    pub secret_origin: SecretOrigin,
    /// The header that carries the credential upstream
    /// ([`crate::core::provider::credential_header`]), built once at load; `None` without one.
    pub credential: Option<(HeaderName, HeaderValue)>,
    /// The provider's base URL, http or https, without a trailing slash in its path.
    pub base_url: Url,
    pub enabled: bool,
    pub weight: NonZeroU32,
    pub models: ModelMap,
    /// Extra headers sent to this provider on every request.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// An upper bound on `max_tokens` sent to this provider (`max_tokens:` in the config).
    pub max_tokens: Option<NonZeroU32>,
    /// How the background health check probes this provider (`health_check:`).
    pub health_check: HealthCheckMode,
    /// `pricing:`: USD per million tokens by upstream model pattern, first match wins; these
    /// win over the built-in prices of the usage ledger.
    pub pricing: Vec<(
        crate::core::provider::ModelPattern,
        crate::core::price::Price,
    )>,
}

impl Provider {
    /// Why this enabled provider cannot take requests (`missing $VAR`), or `None` when it can.
    pub fn unusable(&self) -> Option<String> {
        match (&self.secret, &self.secret_origin) {
            (None, SecretOrigin::Missing { var }) => Some(format!("missing ${var}")),
            (None, _) => Some("no credential".to_owned()),
            (Some(_), _) => None,
        }
    }

    /// Whether requests may go to this provider: enabled, with its credential.
    pub fn usable(&self) -> bool {
        self.enabled && self.secret.is_some()
    }
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
        Provider::usable(self)
    }
}

/// Where a provider's credential came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretOrigin {
    /// Written literally in the file.
    Literal,
    /// Taken from an environment variable (`${VAR}` or `${VAR:-default}`).
    Env { var: String, from_default: bool },
    /// Unset: the provider is unusable until the variable is set.
    Missing { var: String },
    /// Read from the file `auth_value_file` names.
    File { path: PathBuf },
}

/// The `settings:` section, with defaults applied.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub strategy: Strategy,
    pub failure_cooldown: Duration,
    pub request_timeout: Duration,
    pub stream_idle_timeout: Duration,
    /// Whether a non-streaming request whose answer did not arrive within its deadline is
    /// sent to the next provider (and the slow one cooled down). Off by default: the first
    /// provider may still be generating, and billing, that answer.
    pub resend_timed_out_answers: bool,
    pub log_level: LogLevel,
    pub log_format: LogFormat,
    /// Who may use the instance, and how much of it.
    pub access: AccessSettings,
    /// Whether the requests of one client session stay on one provider.
    pub affinity: Affinity,
    /// How long after a session's last request its provider is forgotten.
    pub affinity_ttl: Duration,
    /// The background health checks (`settings.health_check`).
    pub health_check: HealthCheckSettings,
    pub usage: UsageSettings,
    /// The Redis server that several replicas share their state through; `None` keeps all
    /// state in this process.
    pub shared_state: Option<SharedStateUrl>,
    /// The longest a request waits for an answer from the shared state.
    pub shared_state_wait: Duration,
}

/// The default of `settings.shared_state_wait`.
pub const DEFAULT_SHARED_STATE_WAIT: Duration = Duration::from_millis(5);

/// `settings.shared_state`: a `redis://` or `rediss://` URL, which may hold a password, so it
/// is shown with the password masked.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedStateUrl(Secret);

impl SharedStateUrl {
    /// Wraps a URL that validation has checked.
    pub fn new(url: String) -> Self {
        Self(Secret::new(url))
    }

    /// The URL itself, password included: only to connect.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The URL with its password, if any, replaced by `*****`: for logs and messages.
    pub fn redacted(&self) -> String {
        match url::Url::parse(self.0.expose()) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("*****"));
                url.to_string()
            }
            Ok(url) => url.to_string(),
            Err(_) => "*****".to_owned(),
        }
    }
}

impl std::fmt::Debug for SharedStateUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Whether a session's requests stay on one provider (`settings.affinity`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Affinity {
    /// The provider that answered a session's last request goes first while it is available.
    #[default]
    Session,
    /// Every request is planned by the strategy alone.
    None,
}

/// The background health checks of `serve` (`settings.health_check`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthCheckSettings {
    /// Time between two checks of a provider; zero turns the checks off.
    pub interval: Duration,
    /// How long one probe may take before it counts as failed.
    pub timeout: Duration,
    /// Whether available providers that had no traffic for an interval are probed too.
    pub idle_providers: bool,
}

impl Default for HealthCheckSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            idle_providers: false,
        }
    }
}

/// How a health check probes a provider (a provider's `health_check:`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HealthCheckMode {
    /// Lists the provider's models: free, and proves the address and the key.
    #[default]
    Models,
    /// Sends a minimal Messages request (`max_tokens: 1`): proves the model answers, and costs
    /// a token.
    Messages,
    /// Never probed.
    Off,
}

impl HealthCheckMode {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Models => "models",
            Self::Messages => "messages",
            Self::Off => "off",
        }
    }
}

/// The settings that keep the instance from being an open relay or an easy target: the admin
/// token, the public-address rule, browser and `Host` checks, and connection limits.
#[derive(Clone, Debug)]
pub struct AccessSettings {
    /// The token the admin routes require as `Authorization: Bearer`; without it they answer
    /// loopback peers only.
    pub admin_token: Option<Secret>,
    /// Whether `serve` may listen on an address other machines reach without `clients:`.
    pub allow_unauthenticated_public: bool,
    /// Client connections open at once; more wait in the accept queue.
    pub max_connections: NonZeroU32,
    /// How long a client may take to send its request headers, and how long a new connection
    /// may stay silent.
    pub header_read_timeout: Duration,
    /// Browser origins (`https://host[:port]`) whose requests are served; any other request
    /// that carries an `Origin` header is refused.
    pub allowed_origins: Vec<String>,
    /// Host names, besides loopback names and addresses, a request's `Host` may give.
    pub allowed_hosts: Vec<String>,
}

/// `settings.usage`: where the usage ledger is kept and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageSettings {
    pub store: UsageStore,
    /// Rows older than this are deleted, once a day.
    pub retention: Duration,
}

/// Where the usage ledger is kept (`settings.usage.store`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageStore {
    /// `sqlite`, the default: the file `usage.db` in the user's data directory.
    DefaultSqlite,
    /// An `SQLite` file at this absolute path.
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://...`), which several replicas can write together.
    Postgres(postgres_url::PostgresUrl),
    /// `off`: no ledger.
    Off,
}

impl Settings {
    /// How long a failure keeps a provider out, from `failure_cooldown`.
    pub fn cooldown_policy(&self) -> CooldownPolicy {
        CooldownPolicy::new(self.failure_cooldown)
    }
}

/// How log lines are written (`settings.log_format`, `serve --log-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// The name used in the config file and in `tracing` filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for SecretOrigin {
    /// `set`, `from $VAR` (`from $VAR (default)` when its `:-default` was used) or `missing`:
    /// how `providers list` and `config validate` show a credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Literal => f.write_str("set"),
            Self::Env {
                var,
                from_default: false,
            } => write!(f, "from ${var}"),
            Self::Env {
                var,
                from_default: true,
            } => write!(f, "from ${var} (default)"),
            Self::Missing { var } => write!(f, "missing (${var} is not set)"),
            Self::File { path } => write!(f, "from file {}", path.display()),
        }
    }
}

/// The largest config file claude-lb reads: anything bigger is surely not a config.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// A configuration that loaded, and the warnings about it.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub config: Config,
    /// Things that load but probably do not do what was meant, in file order.
    pub warnings: Vec<Diagnostic>,
}

/// Why no configuration could be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No `--config`, no `CLAUDE_LB_CONFIG`, and no `providers.yaml` in the usual places.
    #[error(
        "no config file found; tried {}\n(create one with `claude-lb providers add` or `claude-lb config init`, or name one with `--config PATH` or ${})",
        .tried.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", "),
        crate::env::CLAUDE_LB_CONFIG
    )]
    NotFound { tried: Vec<PathBuf> },
    /// The file exists (or was named) but cannot be read.
    #[error("cannot read config file `{}`: {reason}", .path.display())]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    /// The file is larger than [`MAX_CONFIG_BYTES`].
    #[error("config file `{}` is larger than 1 MiB ({size} bytes); is it the right file?", .path.display())]
    TooLarge { path: PathBuf, size: u64 },
    /// Another local user may write the file, and so point the keys at a server of theirs.
    #[error(
        "config file `{}` is writable by other users (mode {mode:03o}); refusing to load it (fix it with `chmod o-w {}`)",
        .path.display(),
        .path.display()
    )]
    WritableByOthers { path: PathBuf, mode: u32 },
    /// The file was read but has errors: every one of them, in file order.
    #[error("{}", render_invalid(.errors))]
    Invalid {
        errors: Vec<Diagnostic>,
        /// The warnings found along the way, for `config validate` to show too.
        warnings: Vec<Diagnostic>,
    },
}

fn render_invalid(errors: &[Diagnostic]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!(
        "invalid config ({}):\n{}",
        plural(errors.len(), "error"),
        lines.join("\n")
    )
}

/// `1 error`, `2 errors`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

impl ConfigError {
    /// The errors found in the file (empty when the file could not be read at all).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Self::Invalid { errors, .. } => errors,
            _ => &[],
        }
    }

    /// Every problem as one line each: the diagnostics of an invalid file, or the one reason
    /// the file could not be found or read. Fits a log or a JSON array of strings.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Self::Invalid { errors, .. } => errors.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }
}

/// Reads and validates the configuration file at `path`, taking `${VAR}` values from `env`.
///
/// This is the one function `serve`, its reloads, `config validate` and every other command use,
/// so "validate passes" means "serve will start".
pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Loaded, ConfigError> {
    let (bytes, mode) = read_file_with_mode(path)?;
    let name = path.display().to_string();
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let text = String::from_utf8_lossy(valid);
            let mut problems = diagnostic::Problems::new(&name);
            problems.error(
                position_at_end(&text),
                "",
                "the file is not UTF-8 text (save it as UTF-8)",
            );
            return Err(ConfigError::Invalid {
                errors: problems.errors,
                warnings: Vec::new(),
            });
        }
    };
    let mut loaded = load_text(&text, &name, Some(path.to_path_buf()), env)?;
    let literal = loaded
        .config
        .providers
        .iter()
        .filter(|p| p.secret_origin == SecretOrigin::Literal)
        .count();
    if literal > 0 && mode & 0o044 != 0 {
        let mut problems = diagnostic::Problems::new(&name);
        problems.warn(
            Pos::new(1, 1),
            "",
            format!(
                "the file holds {} written out and other users can read it (mode {mode:03o}); run `chmod 600 {}`, or read keys from the environment with \"${{VAR}}\"",
                plural(literal, "literal key"),
                path.display()
            ),
        );
        loaded.warnings.splice(0..0, problems.warnings);
    }
    Ok(loaded)
}

/// The permission bits of an open file (`0` where the platform has none).
fn file_mode(file: &std::fs::File) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.metadata()
            .map_or(0, |m| m.permissions().mode() & 0o777)
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        0
    }
}

/// The bytes of the config file at `path`: the one way a config file is read, by [`load`] and
/// by the commands that edit the file. Reads at most [`MAX_CONFIG_BYTES`], so pointing
/// `--config` at a huge file fails fast with [`ConfigError::TooLarge`].
pub fn read_file(path: &Path) -> Result<Vec<u8>, ConfigError> {
    read_file_with_mode(path).map(|(bytes, _)| bytes)
}

/// [`read_file`], with the permission bits of the file read. A file other users can write is
/// refused: another local user could point the keys at a server of theirs.
fn read_file_with_mode(path: &Path) -> Result<(Vec<u8>, u32), ConfigError> {
    let read_error = |reason| ConfigError::Read {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    // The mode of the file opened (a symbolic link is followed), not of the name.
    let mode = file_mode(&file);
    if mode & 0o002 != 0 {
        return Err(ConfigError::WritableByOthers {
            path: path.to_path_buf(),
            mode,
        });
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        let size = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
        return Err(ConfigError::TooLarge {
            path: path.to_path_buf(),
            size,
        });
    }
    Ok((bytes, mode))
}

/// Validates configuration `text` as if read from a file called `file_name` (used in messages).
pub fn load_str(
    text: &str,
    file_name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, ConfigError> {
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            path: PathBuf::from(file_name),
            size: text.len() as u64,
        });
    }
    load_text(text, file_name, None, env)
}

fn load_text(
    text: &str,
    file_name: &str,
    source: Option<PathBuf>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, ConfigError> {
    let mut problems = diagnostic::Problems::new(file_name);
    let config = raw::parse(text, &mut problems)
        .and_then(|raw| validate::validate(&raw, env, source, &mut problems));
    problems.sort();
    match config {
        Some(mut config) if problems.errors.is_empty() => Ok(Loaded {
            config: {
                config.content_hash = content_hash(text.as_bytes());
                config
            },
            warnings: problems.warnings,
        }),
        _ => Err(ConfigError::Invalid {
            errors: problems.errors,
            warnings: problems.warnings,
        }),
    }
}

/// The hash of a config file's bytes that [`Config::content_hash`] holds.
pub fn content_hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// The position just after `text`.
fn position_at_end(text: &str) -> Pos {
    let line = text.matches('\n').count() + 1;
    let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Pos::new(line, column)
}

#[cfg(test)]
mod tests {
    // Tests may unwrap: a panic is a test failure with its location.
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn policy_reads_settings() {
        let settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            strategy: Strategy::Priority,
            failure_cooldown: secs(90),
            request_timeout: secs(30),
            stream_idle_timeout: secs(120),
            resend_timed_out_answers: false,
            log_level: LogLevel::Info,
            log_format: LogFormat::Text,
            access: AccessSettings {
                admin_token: None,
                allow_unauthenticated_public: false,
                max_connections: NonZeroU32::MIN,
                header_read_timeout: secs(30),
                allowed_origins: Vec::new(),
                allowed_hosts: Vec::new(),
            },
            affinity: Affinity::Session,
            affinity_ttl: secs(3600),
            health_check: HealthCheckSettings::default(),
            usage: UsageSettings {
                store: UsageStore::Off,
                retention: secs(86_400),
            },
            shared_state: None,
            shared_state_wait: DEFAULT_SHARED_STATE_WAIT,
        };
        assert_eq!(settings.cooldown_policy(), CooldownPolicy::new(secs(90)));
    }
}
