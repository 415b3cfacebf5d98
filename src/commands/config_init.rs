//! `claude-lb config init`: write a commented starter config (`config.example.yaml`) to the
//! default path, creating its directory, readable by the owner only, never overwriting a file.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, bail};

use crate::cli::{GlobalArgs, InitArgs};
use crate::commands::ExitStatus;
use crate::config::paths;
use crate::ui::Printer;

/// The starter config: the repository's `config.example.yaml`, which a test keeps valid.
pub const STARTER: &str = include_str!("../../config.example.yaml");

pub fn run(global: &GlobalArgs, _args: &InitArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let Some(path) = paths::init_target(
        global.config.as_deref(),
        &crate::env::process,
        paths::user_config_dir().as_deref(),
    ) else {
        bail!(
            "cannot tell where your config directory is (is HOME set?); name a file with `--config PATH`"
        );
    };
    write_new(&path, STARTER)?;
    printer.line(format_args!(
        "wrote a starter config to `{}`",
        path.display()
    ))?;
    printer.notice(format_args!(
        "next: set ANTHROPIC_API_KEY (or edit `auth_value`), add providers, then run `claude-lb config validate`"
    ))?;
    Ok(ExitStatus::Success)
}

/// Creates `path` with `contents` and mode 0600, refusing to replace an existing file.
fn write_new(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => bail!(
            "`{}` already exists; not overwriting it (move it away first, or write elsewhere with `--config PATH`)",
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot create `{}`", path.display())),
    };
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))
}
