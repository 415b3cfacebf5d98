//! The command line: clap types only, and [`run`], which dispatches to a command.
//!
//! Adding a subcommand is one variant in [`Command`] (its doc comment is its `--help` line, its
//! man page and its completion description) and one arm in [`run`] calling
//! `commands::<name>::run`. Then run `cargo run -- generate --out-dir .` to refresh
//! `completions/` and `man/`.

mod args;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use args::{CompletionsArgs, GenerateArgs, GlobalArgs, InitArgs, ValidateArgs};

use crate::commands::{self, ExitStatus};
use crate::ui::{Printer, logging};

const EXAMPLES: &str = "\
Examples:
  claude-lb config init                     Write a commented starter config
  claude-lb config validate                 Check the config exactly as `serve` would load it
  claude-lb --config team.yaml config validate
  claude-lb completions zsh > ~/.zfunc/_claude-lb

The config file is the first of: --config PATH, $CLAUDE_LB_CONFIG, ./providers.yaml,
~/.config/claude-lb/providers.yaml. Set CLAUDE_LB_LOG (e.g. debug) for detailed logs.";

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
    /// Check or create the configuration file
    #[command(subcommand)]
    Config(ConfigCommand),
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

/// Runs the command line and gives the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let printer = Printer::new(cli.global.quiet);
    logging::init(cli.global.verbosity(), None);
    let result = match cli.command {
        Command::Config(ConfigCommand::Validate(args)) => {
            commands::config_validate::run(&cli.global, &args, &printer)
        }
        Command::Config(ConfigCommand::Init(args)) => {
            commands::config_init::run(&cli.global, &args, &printer)
        }
        Command::Completions(args) => commands::completions::run(&args, &printer),
        Command::Generate(args) => commands::generate::run(&args, &printer),
    };
    ExitStatus::from_result(result, &printer).into()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
