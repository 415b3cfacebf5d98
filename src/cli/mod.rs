//! The command line: clap types only, and `run`, which dispatches to a command.

use clap::Parser;

/// Placeholder until the CLI surface lands.
#[derive(Parser, Debug)]
#[command(name = "claude-lb", version)]
pub struct Cli {}

pub fn run(_cli: Cli) -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
