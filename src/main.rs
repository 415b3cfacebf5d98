//! The `claude-lb` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = claude_lb::cli::Cli::parse();
    claude_lb::commands::run(cli)
}
