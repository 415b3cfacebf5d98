//! `claude-lb config validate`: load the config exactly as `serve` would and report every
//! problem at once.
//!
//! Output (stdout): each error line, then each warning line, then a one-line summary such as
//! `providers.yaml: valid, 3 providers (3 enabled), 3 warnings`. Exit 0 when the config is
//! valid (warnings included), 1 when it is invalid or cannot be found or read, or when no
//! provider is usable (every enabled one misses its key), which `serve` refuses too.

use anyhow::Context;

use crate::cli::{GlobalArgs, ValidateArgs};
use crate::commands::ExitStatus;
use crate::config::{self, ConfigError, paths};
use crate::ui::Printer;

pub fn run(
    global: &GlobalArgs,
    args: &ValidateArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let path = paths::resolve_for_process(global.config.as_deref())?;
    let file = path.display().to_string();
    let loaded = config::load(&path, &crate::env::process);
    if args.json {
        return json_report(&file, loaded, *printer);
    }
    match loaded {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                printer.line(warning).context("writing the report")?;
            }
            let providers = &loaded.config.providers;
            let enabled = providers.iter().filter(|p| p.enabled).count();
            if !providers.iter().any(config::Provider::usable) {
                printer
                    .line(format_args!(
                        "{file}: no provider is usable (each enabled one misses its key), so `serve` would not start"
                    ))
                    .context("writing the report")?;
                return Ok(ExitStatus::Failure);
            }
            let unusable = providers
                .iter()
                .filter(|p| p.enabled && !p.usable())
                .count();
            let enabled = if unusable == 0 {
                format!("{enabled} enabled")
            } else {
                format!("{enabled} enabled, {unusable} unusable")
            };
            printer
                .line(format_args!(
                    "{file}: valid, {} ({enabled}), {}",
                    config::plural(providers.len(), "provider"),
                    count(loaded.warnings.len(), "warning"),
                ))
                .context("writing the report")?;
            Ok(ExitStatus::Success)
        }
        Err(ConfigError::Invalid { errors, warnings }) => {
            for line in errors.iter().chain(&warnings) {
                printer.line(line).context("writing the report")?;
            }
            printer
                .line(format_args!(
                    "{file}: invalid, {}, {}",
                    config::plural(errors.len(), "error"),
                    count(warnings.len(), "warning"),
                ))
                .context("writing the report")?;
            Ok(ExitStatus::Failure)
        }
        Err(other) => Err(other.into()),
    }
}

/// `--json`: the same report as one JSON document.
fn json_report(
    file: &str,
    loaded: Result<config::Loaded, ConfigError>,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let list = |items: &[config::Diagnostic]| -> Vec<serde_json::Value> {
        items
            .iter()
            .map(|d| {
                serde_json::json!({
                    "line": d.line,
                    "column": d.column,
                    "path": d.path,
                    "message": d.message,
                })
            })
            .collect()
    };
    // A mistake that has no place in the file (none of the providers is usable, the file
    // cannot be read) is still one JSON document, its error without a line.
    let unplaced = |message: String, warnings: Vec<serde_json::Value>| {
        serde_json::json!({
            "file": file,
            "valid": false,
            "errors": [{"line": null, "column": null, "path": null, "message": message}],
            "warnings": warnings,
        })
    };
    let (document, status) = match loaded {
        Ok(loaded) if !loaded.config.providers.iter().any(config::Provider::usable) => (
            unplaced(
                "no provider is usable (each enabled one misses its key), so `serve` would not start"
                    .to_owned(),
                list(&loaded.warnings),
            ),
            ExitStatus::Failure,
        ),
        Ok(loaded) => {
            let providers = &loaded.config.providers;
            (
                serde_json::json!({
                    "file": file,
                    "valid": true,
                    "providers": providers.len(),
                    "enabled": providers.iter().filter(|p| p.enabled).count(),
                    "errors": [],
                    "warnings": list(&loaded.warnings),
                }),
                ExitStatus::Success,
            )
        }
        Err(ConfigError::Invalid { errors, warnings }) => (
            serde_json::json!({
                "file": file,
                "valid": false,
                "errors": list(&errors),
                "warnings": list(&warnings),
            }),
            ExitStatus::Failure,
        ),
        Err(other) => (unplaced(other.to_string(), Vec::new()), ExitStatus::Failure),
    };
    printer
        .line(serde_json::to_string_pretty(&document)?)
        .context("writing the report")?;
    Ok(status)
}

/// `no warnings`, `1 warning`, `2 warnings`.
fn count(n: usize, word: &str) -> String {
    if n == 0 {
        format!("no {word}s")
    } else {
        config::plural(n, word)
    }
}
