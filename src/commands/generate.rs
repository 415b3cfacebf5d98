//! `claude-lb generate --out-dir DIR` (hidden): write `DIR/completions/` (one script per shell,
//! named as `clap_complete` names them) and `DIR/man/` (one page per subcommand).
//!
//! The repository commits the output of `cargo run -- generate --out-dir .`, and a test fails
//! when it differs from what the current CLI generates. Files from an earlier run that the CLI
//! no longer generates are removed, so a removed subcommand does not leave a stale page.

use std::fs;
use std::path::Path;

use anyhow::Context;
use clap::ValueEnum;
use clap_complete::Generator;
use clap_complete::Shell;

use crate::cli::{GenerateArgs, documented_command};
use crate::commands::ExitStatus;
use crate::commands::completions::{self, BIN_NAME};
use crate::ui::Printer;

pub fn run(args: &GenerateArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let completions = args.out_dir.join("completions");
    let man = args.out_dir.join("man");
    for dir in [&completions, &man] {
        clear_generated(dir)?;
        fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    }
    for shell in Shell::value_variants() {
        let path = completions.join(shell.file_name(BIN_NAME));
        fs::write(&path, completions::script(*shell))
            .with_context(|| format!("writing `{}`", path.display()))?;
    }
    clap_mangen::generate_to(documented_command(), &man).context("writing the man pages")?;
    printer
        .notice(format_args!(
            "wrote `{}` and `{}`",
            completions.display(),
            man.display()
        ))
        .context("writing to stderr")?;
    Ok(ExitStatus::Success)
}

/// Removes the files an earlier run generated in `dir` (and nothing else).
fn clear_generated(dir: &Path) -> anyhow::Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry
            .with_context(|| format!("reading `{}`", dir.display()))?
            .path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with(BIN_NAME) || name.starts_with(&format!("_{BIN_NAME}")) {
            fs::remove_file(&path).with_context(|| format!("removing `{}`", path.display()))?;
        }
    }
    Ok(())
}
