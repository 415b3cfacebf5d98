//! `claude-lb completions SHELL`: print the shell completion script, generated from the CLI
//! definition at run time.

use anyhow::Context;

use crate::cli::{CompletionsArgs, documented_command};
use crate::commands::ExitStatus;
use crate::ui::Printer;

/// The binary name completions are generated for.
pub const BIN_NAME: &str = "claude-lb";

pub fn run(args: &CompletionsArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut documented_command(), BIN_NAME, &mut script);
    printer
        .bytes(&script)
        .context("writing the completion script")?;
    Ok(ExitStatus::Success)
}
