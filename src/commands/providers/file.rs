//! What `providers add`, `remove`, `enable` and `disable` (and `clients add` and `remove`) share: finding the config file,
//! reading it, and saving an edited text with every problem reported.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::cli::GlobalArgs;
use crate::commands::ExitStatus;
use crate::config::save::{SaveError, lenient_env};
use crate::config::{self, SecretOrigin, edit, paths};
use crate::ui::Printer;

/// The config file an edit applies to, found as `config::paths` resolves it; it must exist.
pub(crate) fn existing(global: &GlobalArgs) -> anyhow::Result<PathBuf> {
    Ok(paths::resolve_for_process(global.config.as_deref())?)
}

/// The config file `providers add` writes to: the one in use, or (when there is none yet)
/// `--config`, `CLAUDE_LB_CONFIG` or the user config directory's `providers.yaml`.
pub(crate) fn for_add(global: &GlobalArgs) -> anyhow::Result<PathBuf> {
    match paths::resolve_for_process(global.config.as_deref()) {
        Ok(path) => Ok(path),
        Err(config::ConfigError::NotFound { .. }) => paths::init_target(
            None,
            &crate::env::process,
            paths::user_config_dir().as_deref(),
        )
        .context(
            "cannot tell where your config directory is (is HOME set?); name a file with `--config PATH`",
        ),
        Err(e) => Err(e.into()),
    }
}

/// The existing config file, its text, and its text after `change`.
pub(crate) struct Edited {
    pub path: PathBuf,
    pub text: String,
    pub new_text: String,
}

/// Reads the existing config file and applies `change` to its text. A refused change is
/// reported here and given as the exit status: an unknown name is a mistake on the command
/// line (a usage error), as everywhere.
pub(crate) fn edit_existing(
    global: &GlobalArgs,
    printer: Printer,
    change: impl FnOnce(&str) -> Result<String, edit::EditError>,
) -> anyhow::Result<Result<Edited, ExitStatus>> {
    let path = existing(global)?;
    let Some(text) = read(&path)? else {
        bail!("`{}` does not exist", path.display());
    };
    match change(&text) {
        Ok(new_text) => Ok(Ok(Edited {
            path,
            text,
            new_text,
        })),
        Err(e) => {
            printer.error(format_args!("`{}`: {e}", path.display()));
            Ok(Err(if matches!(e, edit::EditError::NotFound { .. }) {
                ExitStatus::Usage
            } else {
                ExitStatus::Failure
            }))
        }
    }
}

/// The text of `path`, or `None` when it does not exist yet.
pub(crate) fn read(path: &Path) -> anyhow::Result<Option<String>> {
    let bytes = match config::read_file(path) {
        Ok(bytes) => bytes,
        Err(config::ConfigError::Read { reason, .. })
            if reason.kind() == io::ErrorKind::NotFound =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| anyhow::anyhow!("`{}` is not UTF-8 text; not editing it", path.display()))
}

/// Whether questions can be asked: stdin and stderr (where prompts go) are terminals.
pub(crate) fn can_ask() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

/// Validates and atomically writes `text` to `path`, which held `old`.
///
/// On success, prints the warnings about provider number `touched` (when given). Returns
/// `Err(status)` when nothing was written (the problems are printed).
pub(crate) fn save(
    path: &Path,
    old: &str,
    text: &str,
    touched: Option<usize>,
    printer: Printer,
) -> anyhow::Result<Result<(), ExitStatus>> {
    let prefix = touched.map(|index| format!("providers[{index}]"));
    save_warning_about(path, old, text, prefix.as_deref(), printer)
}

/// [`save`], printing the warnings whose key path starts with `prefix` (such as
/// `clients[2]`), when given.
pub(crate) fn save_warning_about(
    path: &Path,
    old: &str,
    text: &str,
    prefix: Option<&str>,
    printer: Printer,
) -> anyhow::Result<Result<(), ExitStatus>> {
    match config::save_edit(path, old, text, &lenient_env(&crate::env::process)) {
        Ok(warnings) => {
            if let Some(prefix) = prefix {
                for w in warnings.iter().filter(|w| w.path.starts_with(prefix)) {
                    printer.notice(w)?;
                }
            }
        }
        Err(e @ SaveError::Invalid { .. }) => {
            printer.error(e);
            let env = lenient_env(&crate::env::process);
            if !old.trim().is_empty() && config::load_str(old, "", &env).is_err() {
                printer.notice(
                    "note: the file already had errors before this change; fix them first (`claude-lb config validate` lists them)",
                )?;
            }
            return Ok(Err(ExitStatus::Failure));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Ok(()))
}

/// Says so when the saved config would not load with this shell's environment, or when a
/// provider misses its key in it (a `${VAR}` not exported yet), quoting what `serve` would
/// report; and, when an instance already runs at the configured address, that it cannot see a
/// variable exported after it started.
pub(crate) fn note_unset_variables(path: &Path, text: &str, printer: Printer) -> io::Result<()> {
    let loaded = match config::load_str(text, &path.display().to_string(), &crate::env::process) {
        Ok(loaded) => loaded,
        Err(e) => {
            return printer.notice(format_args!(
                "note: with this shell's environment `claude-lb serve` would refuse the config:\n{}",
                e.lines()
                    .iter()
                    .map(|l| format!("  {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    };
    let missing: Vec<(String, String)> = loaded
        .config
        .providers
        .iter()
        .filter(|p| p.enabled)
        .filter_map(|p| match &p.secret_origin {
            SecretOrigin::Missing { var } if p.secret.is_none() => {
                Some((p.id.as_str().to_owned(), var.clone()))
            }
            _ => None,
        })
        .collect();
    for (provider, var) in &missing {
        printer.notice(format_args!(
            "note: environment variable {var} is not set in this shell, so provider {provider:?} stays unusable until it is (the other providers serve)"
        ))?;
    }
    let listen = loaded.config.settings.listen;
    if let Some((_, var)) = missing.first() {
        if instance_answers(listen) {
            printer.notice(format_args!(
                "note: a claude-lb is running at http://{listen}; it cannot see a variable exported after it started: restart it from a shell where {var} is set (`export {var}=...; claude-lb serve`), or put the key in a file and write `auth_value_file: PATH`"
            ))?;
        }
    }
    Ok(())
}

/// Whether a claude-lb instance answers `GET /` at `listen` within a second.
fn instance_answers(listen: std::net::SocketAddr) -> bool {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return false;
    };
    runtime.block_on(async {
        let Ok(upstream) = crate::upstream::Upstream::new(&crate::env::process) else {
            return false;
        };
        let url = format!("http://{listen}/");
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(1),
            crate::upstream::remote::get(&upstream, &url, None),
        )
        .await;
        // `GET /` answers 200 while a provider is available and 503 when none is.
        matches!(answer, Ok(Ok(r)) if r.status.as_u16() == 200 || r.status.as_u16() == 503)
    })
}
