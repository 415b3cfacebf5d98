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

/// `demo`.
#[derive(Clone, Debug, Args)]
#[command(after_help = "\
Examples:
  claude-lb demo                          Serve on 127.0.0.1:8080 until Ctrl-C
  ANTHROPIC_BASE_URL=http://127.0.0.1:8080 claude
  claude-lb demo --requests 20            Send 20 requests, show who served what, and exit
  claude-lb demo --listen 127.0.0.1:0 --requests 50 --interval-ms 0

The three providers are simulated in-process (sim_anthropic, sim_openai through a models map,
and sim_flaky, which fails half of the time with seeded faults); no key and no config file are
needed. The strategy is round_robin and a failed provider cools down for 2s.")]
pub struct DemoArgs {
    /// Listen on this address (port 0 picks a free one)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Send N requests through the proxy, show each one, print a summary and exit
    #[arg(long, value_name = "N")]
    pub requests: Option<usize>,
    /// Milliseconds to wait between two of the demo's requests
    #[arg(long, value_name = "MS", default_value_t = 100, requires = "requests")]
    pub interval_ms: u64,
}
