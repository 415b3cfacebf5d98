//! Argument groups: the global flags every subcommand takes, and each subcommand's own.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, ValueHint};
use clap_complete::Shell;

use crate::core::provider::ProviderKind;
use crate::logging::Verbosity;

/// Flags accepted by every subcommand.
#[derive(Clone, Debug, Default, Args)]
pub struct GlobalArgs {
    /// Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then
    /// ./providers.yaml, then ~/.config/claude-lb/providers.yaml)
    #[arg(long, global = true, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub config: Option<PathBuf>,
    /// Log more (repeat for more: -v, -vv, -vvv)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Log only errors and hide notices
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

impl GlobalArgs {
    /// The logging flags, for [`crate::logging::init`].
    pub fn verbosity(&self) -> Verbosity {
        Verbosity {
            verbose: self.verbose,
            quiet: self.quiet,
        }
    }
}

/// `config validate`.
#[derive(Clone, Debug, Default, Args)]
pub struct ValidateArgs {
    /// Print the report as one JSON document: `file`, `valid`, `providers`, `enabled`, and
    /// `errors` and `warnings` as lists of `{line, column, path, message}`
    #[arg(long)]
    pub json: bool,
}

/// `config init`.
#[derive(Clone, Debug, Default, Args)]
pub struct InitArgs {}

/// `completions`.
#[derive(Clone, Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print the script for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `generate` (hidden).
#[derive(Clone, Debug, Args)]
pub struct GenerateArgs {
    /// The directory to write `completions/` and `man/` into (the repository root refreshes the
    /// committed copies)
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out_dir: PathBuf,
}

/// `serve`.
#[derive(Clone, Debug, Default, Args)]
#[command(after_help = "\
Examples:
  claude-lb serve
  claude-lb serve --listen 127.0.0.1:9000
  ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=claude-lb claude

The config is reloaded when its file changes, on SIGHUP, and on POST /providers/reload.
SIGINT or SIGTERM stops accepting and lets requests in flight finish.")]
pub struct ServeArgs {
    /// Listen on this address instead of `settings.listen` (default 127.0.0.1:8080); without
    /// it, `CLAUDE_LB_LISTEN` is used when set. `PORT`, `:PORT` and `localhost:PORT` mean
    /// 127.0.0.1:PORT
    #[arg(long, value_name = "ADDR", value_parser = crate::config::parse_listen)]
    pub listen: Option<SocketAddr>,
    /// Write log lines as `text` or `json` (one object per line), instead of
    /// `settings.log_format`
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<LogFormatArg>,
}

/// The values of `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

/// `mock`.
#[derive(Clone, Debug, Args)]
#[command(after_help = "\
Examples:
  claude-lb mock --type anthropic --listen 127.0.0.1:9001
  claude-lb mock --type openai --listen 127.0.0.1:9002 --latency-ms 200 --fail-rate 0.1

An OpenAI-type mock's base_url is http://ADDR/v1; an Anthropic-type one's is http://ADDR.")]
pub struct MockArgs {
    /// Which API to simulate: anthropic or openai
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_mock_kind)]
    pub kind: ProviderKind,
    /// Where to listen (`PORT`, `:PORT` and `localhost:PORT` mean 127.0.0.1:PORT)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9001", value_parser = crate::config::parse_listen)]
    pub listen: SocketAddr,
    /// Milliseconds before the response headers of every answer
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    /// Milliseconds between streamed events
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub event_gap_ms: u64,
    /// Share of requests that fail (529/503, 429 with retry-after, cut streams), 0 to 1
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Seed of the fault sequence, for a repeatable run
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
}

/// `check`.
#[derive(Clone, Debug, Default, Args)]
#[command(after_help = "\
Examples:
  claude-lb check                        Probe every enabled provider at once
  claude-lb check --provider openrouter  Probe one provider
  claude-lb check --json | jq '.[] | select(.ok | not)'

Each probe is one real, minimal request (max_tokens 1) for the model the provider's
`models` map names first (claude-haiku-5-5 when the map names none), sent exactly as
`serve` would send it. A rate-limited provider (HTTP 429) passes: it was reachable and
accepted the key. Exit 0 when every probed provider passes, 1 when any fails.
Probes do not change the cooldown state of a running `serve`.")]
pub struct CheckArgs {
    /// Probe only this provider (by its `name`)
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// Print one JSON document (an array, one object per provider) instead of a table
    #[arg(long)]
    pub json: bool,
}

/// The credential of the admin API, for the commands that read a running instance's.
#[derive(Clone, Debug, Default, Args)]
pub struct AdminArgs {
    /// The instance's admin token (`settings.admin_token`), sent as `Authorization: Bearer`;
    /// without it, an instance answers its admin routes to loopback clients only
    #[arg(
        long,
        value_name = "TOKEN",
        env = crate::env::CLAUDE_LB_ADMIN_TOKEN,
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
}

/// `providers list`.
#[derive(Clone, Debug, Default, Args)]
#[command(after_help = "\
Examples:
  claude-lb providers list                               The providers of the config file
  claude-lb providers list --remote http://127.0.0.1:8080  Live state of a running `serve`
  claude-lb providers list --json | jq '.[].name'

Secrets are never shown: the auth column says `set`, `from $VAR` or `missing`.")]
pub struct ProvidersListArgs {
    /// Show the live state of a running `claude-lb serve` at this URL instead of the config
    /// file (availability, cooldowns, failures, latency)
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub remote: Option<String>,
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Print one JSON document (an array, one object per provider) instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `route explain`.
#[derive(Clone, Debug, Default, Args)]
#[command(after_help = "\
Examples:
  claude-lb route explain request.json
  claude-lb route explain - < request.json
  claude-lb route explain request.json --header 'x-team: research'
  claude-lb route explain request.json --remote http://127.0.0.1:8080 --json

The request is a Messages API body, as Claude Code sends it to /v1/messages. Nothing is sent to
a provider. Without --remote the plan is made from the config file with every provider
available; with --remote, by the running instance, with its providers' live state. Exit 0 when
the request has a plan, 1 when no provider could take it.")]
pub struct RouteExplainArgs {
    /// The request body: a file, or `-` (the default) for standard input
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: Option<PathBuf>,
    /// A request header the rules may read, as `NAME: VALUE` (repeatable)
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Ask a running `claude-lb serve` at this URL instead of reading the config file
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub remote: Option<String>,
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Print one JSON document instead of text
    #[arg(long)]
    pub json: bool,
}

/// `test`.
#[derive(Clone, Debug, Default, Args)]
#[command(after_help = "\
Examples:
  claude-lb test                                   Say hello through the configured pool
  claude-lb test \"What is 2+2?\" --model claude-opus-5-5
  claude-lb test --provider openrouter --no-stream
  claude-lb test --remote http://127.0.0.1:8080    Through a running `serve`
  claude-lb test --json | jq .provider

The request goes through the same failover as `serve`: the footer names the provider that
answered and every failed attempt. The default model is claude-sonnet-5-5 when the pool
serves it, else the first model a `models` map names. Exit 0 on an answer, 1 when every
provider failed.")]
pub struct TestArgs {
    /// The user message to send
    #[arg(
        value_name = "PROMPT",
        default_value = "Say hello in one short sentence."
    )]
    pub prompt: String,
    /// Send only to this provider (by its `name`), as if it were the only one enabled
    #[arg(long, value_name = "NAME", conflicts_with = "remote")]
    pub provider: Option<String>,
    /// The client model to ask for (default: claude-sonnet-5-5 when the pool serves it)
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Ask for the whole answer at once (`stream: false`) instead of a stream
    #[arg(long)]
    pub no_stream: bool,
    /// Print one JSON document at the end instead of the streamed text and footer
    #[arg(long)]
    pub json: bool,
    /// Send the request through a running `claude-lb serve` at this URL
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub remote: Option<String>,
    /// With `--remote`: the client key to send as `x-api-key`, for an instance with `clients:`
    #[arg(
        long,
        value_name = "KEY",
        env = crate::env::CLAUDE_LB_CLIENT_KEY,
        hide_env_values = true,
        requires = "remote"
    )]
    pub client_key: Option<String>,
}

// ---- `providers add|remove|enable|disable` ----

/// A provider type, as `--type` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// The Anthropic Messages API (the official API or an Anthropic-compatible relay)
    Anthropic,
    /// An OpenAI-compatible Chat Completions API (translated)
    Openai,
}

/// An auth type, as `--auth-type` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthTypeArg {
    /// `x-api-key` for type anthropic (type openai always sends `Authorization: Bearer`)
    #[value(name = "api_key")]
    ApiKey,
    /// `Authorization: Bearer`, for Anthropic-compatible relays
    #[value(name = "auth_token")]
    AuthToken,
}

/// `providers add`.
#[derive(Clone, Debug, Default, Args)]
#[command(after_help = "\
Examples:
  claude-lb providers add                  Ask for everything, step by step
  claude-lb providers add --name deepseek --type openai --auth-env DEEPSEEK_API_KEY \\
      --base-url https://api.deepseek.com/v1 \\
      --model 'claude-*opus*=deepseek-reasoner' --model '*=deepseek-chat'
  claude-lb providers add --name relay --type anthropic --auth-type auth_token \\
      --auth-env RELAY_TOKEN --base-url https://relay.example.com --weight 2
  claude-lb providers add --name local --type openai --auth-value none \\
      --base-url http://127.0.0.1:11434/v1 --model '*=qwen2.5-coder:32b' --probe

With --name, --type and --auth-env (or --auth-value) it asks nothing; so it does without a
terminal, where a missing one is a usage error (exit 2). The file keeps its comments and
layout, the result is validated before it is written, and the write is atomic.")]
pub struct AddArgs {
    /// The provider's name: letters, digits, `_`, `.` and `-`
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Which API the provider speaks
    #[arg(long = "type", value_name = "TYPE", value_enum)]
    pub kind: Option<KindArg>,
    /// How the credential is sent (default `api_key`)
    #[arg(long, value_name = "AUTH_TYPE", value_enum)]
    pub auth_type: Option<AuthTypeArg>,
    /// The key or token itself, stored in plain text in the config (prefer --auth-env)
    #[arg(long, value_name = "SECRET", conflicts_with = "auth_env")]
    pub auth_value: Option<String>,
    /// The environment variable holding the key, read when the config is loaded (stored as
    /// `${VAR}`)
    #[arg(long, value_name = "VAR")]
    pub auth_env: Option<String>,
    /// The provider's base URL (default `https://api.anthropic.com` for type anthropic,
    /// `https://api.openai.com/v1` for type openai)
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub base_url: Option<String>,
    /// Map client models matching PATTERN (`*` matches anything) to MODEL; repeat, first match
    /// wins
    #[arg(long = "model", value_name = "PATTERN=MODEL")]
    pub models: Vec<String>,
    /// The weight for the `weighted` strategy (default 1)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub weight: Option<u32>,
    /// Add the provider disabled (`enabled: false`)
    #[arg(long)]
    pub disabled: bool,
    /// Send a real minimal request to the provider before saving; do not save if it fails
    #[arg(long)]
    pub probe: bool,
    /// Do not ask for confirmation before writing
    #[arg(short, long)]
    pub yes: bool,
}

/// `providers remove`.
#[derive(Clone, Debug, Args)]
#[command(after_help = "\
Examples:
  claude-lb providers remove openrouter
  claude-lb --config team.yaml providers remove old_relay

The provider's lines and the comment lines directly above it are removed; the rest of the
file stays as it is. A result that would not validate (no provider left) is not written.")]
pub struct RemoveArgs {
    /// The provider to remove
    #[arg(value_name = "NAME")]
    pub name: String,
}

/// `providers enable` and `providers disable`.
#[derive(Clone, Debug, Args)]
#[command(after_help = "\
Examples:
  claude-lb providers disable openrouter
  claude-lb providers enable openrouter

Only the provider's `enabled:` line changes (or `enabled: false` is added); a running
`claude-lb serve` picks the change up by itself.")]
pub struct ToggleArgs {
    /// The provider to enable or disable
    #[arg(value_name = "NAME")]
    pub name: String,
}

/// `demo`.
#[derive(Clone, Debug, Args)]
#[command(after_help = "\
Examples:
  claude-lb demo                          Serve on 127.0.0.1:8080 until Ctrl-C
  ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=claude-lb claude
  claude-lb demo --requests 20            Send 20 requests, show who served what, and exit
  claude-lb demo --listen 127.0.0.1:0 --requests 50 --interval-ms 0

The three providers are simulated in-process (sim_anthropic, sim_openai through a models map,
and sim_flaky, which fails half of the time with seeded faults); no key and no config file are
needed. The strategy is round_robin and a failed provider cools down for 2s.")]
pub struct DemoArgs {
    /// Listen on this address (port 0 picks a free one; `PORT`, `:PORT` and `localhost:PORT`
    /// mean 127.0.0.1:PORT)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = crate::config::parse_listen)]
    pub listen: SocketAddr,
    /// Send N requests through the proxy, show each one, print a summary and exit
    #[arg(long, value_name = "N")]
    pub requests: Option<usize>,
    /// Milliseconds to wait between two of the demo's requests
    #[arg(long, value_name = "MS", default_value_t = 100, requires = "requests")]
    pub interval_ms: u64,
}

/// `--type` of `mock`: `anthropic` or `openai`, as in the config's provider `type`.
pub fn parse_mock_kind(name: &str) -> Result<ProviderKind, UnknownKind> {
    match name {
        "anthropic" => Ok(ProviderKind::Anthropic),
        "openai" => Ok(ProviderKind::OpenAi),
        other => Err(UnknownKind(other.to_owned())),
    }
}

/// A mock kind name that is neither `anthropic` nor `openai`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown mock kind `{0}` (expected anthropic or openai)")]
pub struct UnknownKind(pub String);

// ---- `clients add|list|remove` ----

/// `clients add`.
#[derive(Clone, Debug, Default, Args)]
#[command(after_help = "\
Examples:
  claude-lb clients add alice
  claude-lb clients add ci --providers deepseek,local --models 'claude-*haiku*' --rpm 60
  claude-lb clients add build-box --max-concurrent 4 --yes
  claude-lb clients add                    Ask for the name and limits, step by step

The key is made from 32 random bytes and printed once, with the `export ANTHROPIC_API_KEY=...`
line to paste; only its SHA-256 is written (`key_sha256:`), so it cannot be shown again. With
NAME it asks nothing; without a terminal a missing NAME is a usage error (exit 2). The file
keeps its comments and layout, the result is validated before it is written, and the write
is atomic. The first client turns authentication on: from then on every request needs a key.")]
pub struct ClientsAddArgs {
    /// The client's name, shown in logs and metrics: letters, digits, `_`, `.` and `-`
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// The providers this client may reach, by name, comma-separated (default: all)
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub providers: Vec<String>,
    /// The model patterns it may request (`*` matches anything), comma-separated (default: any)
    #[arg(long, value_name = "PATTERN,...", value_delimiter = ',')]
    pub models: Vec<String>,
    /// The most requests it may send per minute (default: no limit)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rpm: Option<u32>,
    /// The most requests it may have in flight at once (default: no limit)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent: Option<u32>,
    /// Do not ask for confirmation before writing
    #[arg(short, long)]
    pub yes: bool,
}

/// `clients list`.
#[derive(Clone, Debug, Default, Args)]
#[command(after_help = "\
Examples:
  claude-lb clients list
  claude-lb clients list --json | jq '.[].name'

Keys are never shown, nor their digests: the key column says how the file gives it
(`sha256`, `key` written in the file, or `${VAR}`).")]
pub struct ClientsListArgs {
    /// Print one JSON document (an array, one object per client) instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `clients remove`.
#[derive(Clone, Debug, Args)]
#[command(after_help = "\
Examples:
  claude-lb clients remove alice

The client's lines and the comment lines directly above it are removed; the rest of the file
stays as it is, and its key stops working as soon as a running `claude-lb serve` reloads the
file. The last client is not removed: without `clients:` every request is served without a
key, so delete `clients:` by hand if that is really meant.")]
pub struct ClientsRemoveArgs {
    /// The client to remove
    #[arg(value_name = "NAME")]
    pub name: String,
}

/// `usage`.
#[derive(Clone, Debug, Default, Args)]
#[command(after_help = "\
Examples:
  claude-lb usage                                   Totals of the last 24 hours
  claude-lb usage --since 7d --by provider,model    Per provider and model, last 7 days
  claude-lb usage --since 2026-12-01 --by day       Per UTC day since a date, with a chart
  claude-lb usage --by client --json                One JSON document (as GET /usage)
  claude-lb usage --remote http://127.0.0.1:8080    Ask a running `serve`

Days and hours are UTC. Costs are estimates from built-in Anthropic prices and each provider's
`pricing:`; rows whose model has no known price are counted apart, not as zero.")]
pub struct UsageArgs {
    /// From when: a duration back from now (24h, 7d) or a UTC date (2026-12-01)
    #[arg(long, value_name = "WHEN", default_value = "24h")]
    pub since: String,
    /// Up to when (default: now): a duration back from now or a UTC date
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Group by provider, model, client, route, day or hour (several: comma-separated or
    /// repeated)
    #[arg(long, value_name = "GROUP", value_delimiter = ',')]
    pub by: Vec<String>,
    /// Print one JSON document (as `GET /usage` answers) instead of a table
    #[arg(long)]
    pub json: bool,
    /// Ask a running `claude-lb serve` at this URL (`GET /usage`) instead of reading the
    /// ledger file
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub remote: Option<String>,
    #[command(flatten)]
    pub admin: AdminArgs,
}
