//! `claude-lb generate --out-dir DIR` (hidden): write `DIR/completions/` (one script per shell,
//! named as `clap_complete` names them) and `DIR/man/` (one page per subcommand).
//!
//! The repository commits the output of `cargo run -- generate --out-dir .`, and a test fails
//! when it differs from what the current CLI generates. Files from an earlier run that the CLI
//! no longer generates are removed, so a removed subcommand does not leave a stale page.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::Context;
use clap::ValueEnum;
use clap_complete::Generator;
use clap_complete::Shell;

use crate::cli::BIN_NAME;
use crate::cli::{GenerateArgs, documented_command};
use crate::commands::ExitStatus;
use crate::commands::completions;
use crate::config::reference;
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
    write_man_pages(&man)?;
    printer
        .notice(format_args!(
            "wrote `{}` and `{}`",
            completions.display(),
            man.display()
        ))
        .context("writing to stderr")?;
    Ok(ExitStatus::Success)
}

/// One page per command (as `clap_mangen` makes them), the main page with FILES, ENVIRONMENT,
/// EXIT STATUS and EXAMPLES sections added, and `claude-lb-config(5)`.
fn write_man_pages(dir: &Path) -> anyhow::Result<()> {
    fn pages(cmd: clap::Command, dir: &Path, root: bool) -> anyhow::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            pages(sub, dir, false)?;
        }
        let man = clap_mangen::Man::new(cmd);
        let path = dir.join(man.get_filename());
        let mut page = Vec::new();
        man.render(&mut page)?;
        if root {
            page.extend_from_slice(main_page_sections().as_bytes());
        }
        fs::write(&path, page).with_context(|| format!("writing `{}`", path.display()))
    }
    let mut cmd = documented_command().disable_help_subcommand(true);
    cmd.build();
    pages(cmd, dir, true)?;
    let path = dir.join(format!("{BIN_NAME}-config.5"));
    fs::write(&path, reference::man_page(env!("CARGO_PKG_VERSION")))
        .with_context(|| format!("writing `{}`", path.display()))
}

/// The sections of `claude-lb(1)` that clap does not know about.
fn main_page_sections() -> String {
    let r = reference::roff_text;
    let mut out = String::from(".SH FILES\n");
    for (file, what) in [
        (
            "./providers.yaml",
            "The configuration, when there is neither `--config` nor `$CLAUDE_LB_CONFIG`.",
        ),
        (
            "$XDG_CONFIG_HOME/claude-lb/providers.yaml",
            "Otherwise (`~/.config/claude-lb/providers.yaml` when `XDG_CONFIG_HOME` is unset); `config init` and `providers add` create it. Its keys are described in claude-lb-config(5).",
        ),
    ] {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR\n{}", r(file), r(what));
    }
    out.push_str(".SH ENVIRONMENT\n");
    for (var, what) in crate::env::DOCUMENTED {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR\n{}", r(var), r(what));
    }
    let _ = writeln!(
        out,
        ".SH \"EXIT STATUS\"\n.TP\n0\n{}\n.TP\n1\n{}\n.TP\n2\n{}",
        r("The command did what was asked, and the answer is yes."),
        r(
            "The command ran and the answer is no (an invalid config, no config found, a provider that fails its check, a test request that no provider answered), or it could not run."
        ),
        r("A usage error, including a provider name that is not in the config."),
    );
    out.push_str(".SH EXAMPLES\n.nf\n");
    for line in [
        "claude-lb providers add                 # a wizard: presets, a hidden key, a probe",
        "claude-lb config validate               # every problem at once, with FILE:LINE:COL",
        "claude-lb check                         # probe every enabled provider",
        "claude-lb serve                         # run the proxy on 127.0.0.1:8080",
        "ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=unused claude",
        "claude-lb providers list --remote http://127.0.0.1:8080",
        "claude-lb demo                          # simulated providers, no key needed",
    ] {
        out.push_str(&r(line));
        out.push('\n');
    }
    out.push_str(".fi\n.SH \"SEE ALSO\"\n\\fBclaude\\-lb\\-config\\fR(5)\n");
    out
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
