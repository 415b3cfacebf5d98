//! The configuration: where it is read from, what it may contain, and every way it can be wrong.
//!
//! `load` reads YAML into raw types, then validates them into [`Config`], collecting every
//! problem at once. `serve`, `config validate` and every other command call the same `load`,
//! so "validate passes" means "serve will start".

pub mod secret;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use url::Url;

pub use secret::Secret;

use crate::core::provider::{AuthType, ModelMap, ProviderId, ProviderKind};

/// A validated configuration: what `serve` runs on.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file this was loaded from, when it came from a file.
    pub source: Option<PathBuf>,
    /// Every provider in file order, enabled or not.
    pub providers: Vec<Provider>,
    pub settings: Settings,
}

/// One validated provider.
#[derive(Clone, Debug)]
pub struct Provider {
    pub id: ProviderId,
    pub kind: ProviderKind,
    pub auth_type: AuthType,
    /// The credential; `None` only for a disabled provider whose `${VAR}` is unset.
    pub secret: Option<Secret>,
    /// Where the credential came from, for display (`set`, `from $VAR`, `missing`).
    pub secret_origin: SecretOrigin,
    /// The provider's base URL, http or https, without a trailing slash in its path.
    pub base_url: Url,
    pub enabled: bool,
    pub weight: NonZeroU32,
    pub models: ModelMap,
    /// Extra headers sent to this provider on every request.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// An upper bound on `max_tokens` sent to this provider (`max_tokens:` in the config).
    pub max_tokens: Option<NonZeroU32>,
}

/// Where a provider's credential came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretOrigin {
    /// Written literally in the file.
    Literal,
    /// Taken from an environment variable (`${VAR}` or `${VAR:-default}`).
    Env { var: String, from_default: bool },
    /// Unset (only allowed for a disabled provider).
    Missing { var: String },
}

/// The `settings:` section, with defaults applied.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub strategy: Strategy,
    pub failure_cooldown: Duration,
    pub request_timeout: Duration,
    pub stream_idle_timeout: Duration,
    pub log_level: LogLevel,
}

/// The order in which candidates are tried (SPEC 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    Priority,
    RoundRobin,
    Weighted,
    Latency,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}
