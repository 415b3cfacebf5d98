//! Argument groups: the global flags every subcommand takes, and each subcommand's own.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, ValueHint};
use clap_complete::Shell;

use crate::ui::logging::Verbosity;

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
    /// The logging flags, for [`crate::ui::logging::init`].
    pub fn verbosity(&self) -> Verbosity {
        Verbosity {
            verbose: self.verbose,
            quiet: self.quiet,
        }
    }
}

/// `config validate`.
#[derive(Clone, Debug, Default, Args)]
pub struct ValidateArgs {}

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
  ANTHROPIC_BASE_URL=http://127.0.0.1:8080 claude

The config is reloaded when its file changes, on SIGHUP, and on POST /providers/reload.
SIGINT or SIGTERM stops accepting and lets requests in flight finish.")]
pub struct ServeArgs {
    /// Listen on this address instead of `settings.listen` (default 127.0.0.1:8080)
    #[arg(long, value_name = "ADDR", env = crate::env::CLAUDE_LB_LISTEN)]
    pub listen: Option<SocketAddr>,
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
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: crate::mock::MockKind,
    /// Where to listen
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9001")]
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
    /// Print one JSON document (an array, one object per provider) instead of a table
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
}
