//! The command line: the clap types only. The dispatch to a command is `commands::run`, so
//! this module imports nothing from `commands` (each command imports its `*Args` from here).
//!
//! Adding a subcommand is one variant in [`Command`] (its doc comment is its `--help` line, its
//! man page and its completion description) and one arm in `commands::run` calling
//! `commands::<name>::run`. Then run `cargo run -- generate --out-dir .` to refresh
//! `completions/` and `man/`.

mod args;
mod client_args;

use clap::{CommandFactory, Parser, Subcommand};

pub use args::{AdminArgs, CheckArgs, ProvidersListArgs, RouteExplainArgs, TestArgs};
pub use args::{
    CompletionsArgs, DemoArgs, GenerateArgs, GlobalArgs, InitArgs, MockArgs, ServeArgs, UsageArgs,
    ValidateArgs,
};
pub use client_args::{CodeArgs, EnvArgs, HealthArgs, ShellArg, TopArgs};
// `providers add|remove|enable|disable`.
pub use args::{AddArgs, AuthTypeArg, KindArg, LogFormatArg, RemoveArgs, ToggleArgs};
// `clients add|list|remove`.
pub use args::{ClientsAddArgs, ClientsListArgs, ClientsRemoveArgs};
// `mock --type`.
pub use args::{UnknownKind, parse_mock_kind};

/// The binary's name, as completion scripts and man pages spell it.
pub const BIN_NAME: &str = "claude-lb";

const EXAMPLES: &str = "\
Examples:
  claude-lb serve                           Run the proxy on 127.0.0.1:8080
  claude-lb code                            Run Claude Code through claude-lb
  eval \"$(claude-lb env)\"                   Point this shell's Claude Code at claude-lb
  claude-lb demo --requests 20              Watch failover against simulated providers
  ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=claude-lb claude
  claude-lb config init                     Write a commented starter config
  claude-lb check                           Probe every enabled provider
  claude-lb providers list                  Show the configured providers
  claude-lb top                             Watch the running instance live
  claude-lb test                            Send one request through the pool
  claude-lb usage --since 7d --by provider  Tokens and cost of the last week, per provider
  claude-lb config validate                 Check the config exactly as `serve` would load it
  claude-lb providers add                   Add a provider, step by step
  claude-lb providers disable openrouter    Take a provider out without removing it
  claude-lb clients add alice               Make a client key (requests then need one)
  claude-lb --config team.yaml config validate
  claude-lb completions zsh > ~/.zfunc/_claude-lb

The config file is the first of: --config PATH, $CLAUDE_LB_CONFIG, ./providers.yaml,
~/.config/claude-lb/providers.yaml. Set CLAUDE_LB_LOG (e.g. debug) for detailed logs.";

const PROVIDERS_EXAMPLES: &str = "\
Examples:
  claude-lb providers list
  claude-lb providers list --remote http://127.0.0.1:8080
  claude-lb providers list --json
  claude-lb providers add                        A step-by-step wizard
  claude-lb providers add --name deepseek --type openai --auth-env DEEPSEEK_API_KEY \\
      --base-url https://api.deepseek.com --model '*=deepseek-chat' --yes
  claude-lb providers disable deepseek";

const CLIENTS_EXAMPLES: &str = "\
Examples:
  claude-lb clients add alice                    Print a new key for alice, store its SHA-256
  claude-lb clients add ci --providers deepseek --models 'claude-*haiku*' --rpm 60
  claude-lb clients list
  claude-lb clients remove alice";

/// A load balancer for Claude Code: failover, cooldown and Anthropic/OpenAI translation in one
/// binary.
#[derive(Debug, Parser)]
#[command(name = "claude-lb", version, propagate_version = true, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the proxy: Claude Code talks to it through `ANTHROPIC_BASE_URL`
    Serve(ServeArgs),
    /// Run a simulated provider (Anthropic or OpenAI type), for rehearsals and benchmarks
    Mock(MockArgs),
    /// Probe every enabled provider with a minimal real request and report which work
    Check(CheckArgs),
    /// List, add, remove, enable or disable providers; or show a running instance's providers
    #[command(subcommand, after_help = PROVIDERS_EXAMPLES)]
    Providers(ProvidersCommand),
    /// Add, list or remove the clients allowed to send requests, each with its own key
    #[command(subcommand, after_help = CLIENTS_EXAMPLES)]
    Clients(ClientsCommand),
    /// Send one real request through the pool (or a running instance) and show the answer
    Test(TestArgs),
    /// Run the proxy in front of three simulated providers: a tour with no key and no config
    Demo(DemoArgs),
    /// Check or create the configuration file
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Show which routing rule a request matches, and why
    #[command(subcommand)]
    Route(RouteCommand),
    /// Run Claude Code pointed at claude-lb, starting `serve` for as long as it runs if needed
    Code(CodeArgs),
    /// Print the lines that point a shell at claude-lb: eval "$(claude-lb env)"
    Env(EnvArgs),
    /// Exit 0 when the claude-lb at the configured address answers with a provider available
    Health(HealthArgs),
    /// Watch a running instance live: providers, cooldowns, traffic, latency, failovers
    Top(TopArgs),
    /// Show where tokens and money went: requests, failures, tokens and cost per group
    Usage(UsageArgs),
    /// Print the shell completion script for SHELL
    Completions(CompletionsArgs),
    /// Write the completion scripts and man pages into a directory (for packagers)
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// `claude-lb config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load the config exactly as `serve` would and report every problem at once
    Validate(ValidateArgs),
    /// Write a commented starter config to the default path (never overwrites)
    Init(InitArgs),
}

/// `claude-lb route ...`.
#[derive(Debug, Subcommand)]
pub enum RouteCommand {
    /// Read a request body and show the facts read, each rule and why it matches or not, and
    /// the plan: each provider in order with its state
    Explain(RouteExplainArgs),
}

/// `claude-lb providers ...`.
#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// List the providers of the config file, or with `--remote` their live state
    List(ProvidersListArgs),
    /// Add a provider: a step-by-step wizard, or fully scripted with flags
    Add(AddArgs),
    /// Remove a provider from the config file
    Remove(RemoveArgs),
    /// Enable a provider (`enabled: true`)
    Enable(ToggleArgs),
    /// Disable a provider (`enabled: false`) without removing it
    Disable(ToggleArgs),
}

/// `claude-lb clients ...`.
#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Add a client: print a new random key once and write only its SHA-256 to the config
    Add(ClientsAddArgs),
    /// List the clients of the config file (never their keys)
    List(ClientsListArgs),
    /// Remove a client from the config file (its key stops working)
    Remove(ClientsRemoveArgs),
}

/// The command line as users see it: [`Cli`] without its hidden subcommands, for completion
/// scripts and man pages (`clap_complete` would otherwise offer hidden subcommands too).
pub fn documented_command() -> clap::Command {
    let full = Cli::command();
    let visible: Vec<clap::Command> = full
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    // clap cannot remove a subcommand, so rebuild the root with only the visible ones.
    let mut root = clap::Command::new(BIN_NAME)
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommands(visible)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .propagate_version(true);
    if let Some(about) = full.get_about() {
        root = root.about(about.clone());
    }
    if let Some(after) = full.get_after_help() {
        root = root.after_help(after.clone());
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
        documented_command().debug_assert();
    }

    #[test]
    fn documented_command_hides_only_hidden_subcommands() {
        let names: Vec<String> = documented_command()
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        let visible: Vec<String> = Cli::command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name().to_owned())
            .collect();
        assert_eq!(names, visible);
        assert!(!names.iter().any(|n| n == "generate"));
    }
}
