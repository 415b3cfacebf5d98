//! Argument groups: the global flags every subcommand takes, and each subcommand's own.

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
