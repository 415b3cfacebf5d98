//! `claude-lb check`: probe every enabled provider (or one) with a minimal real request.
//!
//! The config is loaded exactly as `serve` loads it, then every selected provider is probed
//! at once through `upstream::probe`, with one spinner each on stderr. The report is a table
//! on stdout (provider, type, status, latency, model, detail), or with `--json` one JSON
//! array. Exit 0 when every probed provider passes, 1 when any fails, 2 when `--provider`
//! names no provider of the file.
//!
//! Probes never touch a health table: checking does not change what `serve` would do.

use std::time::Duration;

use anyhow::Context as _;
use futures_util::future::join_all;
use serde_json::json;

use crate::cli::{CheckArgs, GlobalArgs};
use crate::commands::ExitStatus;
use crate::config::{self, Config, Loaded, Provider, paths};
use crate::core::num::millis;
use crate::ui::progress::Spinners;
use crate::ui::{Printer, table};
use crate::upstream::Upstream;
use crate::upstream::probe::{self, ProbeReport};

/// `claude-lb check` from the command line.
pub fn run_cli(
    global: &GlobalArgs,
    args: &CheckArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let loaded = load_config(global, *printer)?;
    let config = &loaded.config;
    let selected: Vec<&Provider> = match &args.provider {
        Some(name) => match named_provider(config, name) {
            Ok(provider) => vec![provider],
            Err(refusal) => return Ok(refusal.report(*printer)),
        },
        None => config.providers.iter().filter(|p| p.enabled).collect(),
    };
    // A provider missing its credential cannot be probed: say so, and check the others.
    let mut unusable = false;
    let selected: Vec<&Provider> = selected
        .into_iter()
        .filter(|p| match p.unusable() {
            None => true,
            Some(why) => {
                printer.error(format_args!("{}: unusable: {why}", p.id));
                unusable = true;
                false
            }
        })
        .collect();
    if selected.is_empty() && unusable {
        return Ok(ExitStatus::Failure);
    }
    if selected.is_empty() {
        printer.error(format_args!(
            "{}: no enabled provider to check (add one with `claude-lb providers add`)",
            source_name(config)
        ));
        return Ok(ExitStatus::Failure);
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let spinners = Spinners::new(printer.is_quiet());
    let reports = runtime.block_on(probe_all(
        &selected,
        config.settings.request_timeout,
        &spinners,
    ))?;
    spinners.clear();
    if args.json {
        let list: Vec<serde_json::Value> = reports.iter().map(report_json).collect();
        printer
            .line(serde_json::to_string_pretty(&list)?)
            .context("writing the report")?;
    } else {
        printer
            .line(render_table(&reports))
            .context("writing the report")?;
        let passed = reports.iter().filter(|r| r.passed()).count();
        printer
            .line(format_args!(
                "{passed} of {} passed",
                config::plural(reports.len(), "provider")
            ))
            .context("writing the report")?;
    }
    Ok(if !unusable && reports.iter().all(ProbeReport::passed) {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// Probes every provider at once, one spinner each.
async fn probe_all(
    providers: &[&Provider],
    timeout: Duration,
    spinners: &Spinners,
) -> anyhow::Result<Vec<ProbeReport>> {
    let upstream = Upstream::new(&crate::env::process)?;
    let upstream = &upstream;
    let probes = providers.iter().map(|provider| {
        let (_, model) = probe::probe_model(provider);
        let bar = spinners.add(format!("{}: asking {model} for one token", provider.id));
        async move {
            let report = probe::probe(upstream, provider, timeout).await;
            let mark = if report.passed() { "✓" } else { "✗" };
            bar.finish_with_message(format!(
                "{mark} {}: {} ({} ms)",
                report.provider,
                report.outcome,
                millis(report.latency)
            ));
            report
        }
    });
    Ok(join_all(probes).await)
}

fn render_table(reports: &[ProbeReport]) -> String {
    let mut out = table::new(&["provider", "type", "status", "latency", "model", "detail"]);
    for report in reports {
        out.add_row(vec![
            comfy_table::Cell::new(report.provider.as_str()),
            comfy_table::Cell::new(report.kind.as_str()),
            table::verdict(report.passed()),
            comfy_table::Cell::new(table::millis(Some(millis(report.latency)))),
            comfy_table::Cell::new(&report.upstream_model),
            comfy_table::Cell::new(report.outcome.to_string()),
        ]);
    }
    // The detail is free text; the rest keep their words whole.
    table::render(&out, &[5])
}

fn report_json(report: &ProbeReport) -> serde_json::Value {
    let detail = report.outcome.to_string();
    json!({
        "name": report.provider.as_str(),
        "type": report.kind.as_str(),
        "ok": report.passed(),
        "status": report.outcome.code(),
        "http_status": report.outcome.http_status(),
        "latency_ms": millis(report.latency),
        "model": report.client_model,
        "upstream_model": report.upstream_model,
        "error": if report.passed() { None } else { Some(&detail) },
        "detail": detail,
    })
}

/// Finds the config as `serve` does and loads it; warnings go to stderr as notices.
///
/// Shared by the commands that read the config file (`check`, `test`, `providers list`).
pub(crate) fn load_config(global: &GlobalArgs, printer: Printer) -> anyhow::Result<Loaded> {
    let path = paths::resolve_for_process(global.config.as_deref())?;
    let loaded = config::load(&path, &crate::env::process)?;
    for warning in &loaded.warnings {
        printer.notice(warning).context("writing a warning")?;
    }
    Ok(loaded)
}

/// The config file's name, for messages.
pub(crate) fn source_name(config: &Config) -> String {
    config.source.as_ref().map_or_else(
        || "the config".to_owned(),
        |path| format!("`{}`", path.display()),
    )
}

/// Why `--provider NAME` cannot be used.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// No provider has that name: a usage error (exit 2).
    Unknown(String),
    /// The provider exists but is disabled (exit 1).
    Disabled(String),
}

impl Refusal {
    /// Prints the reason and gives the exit status.
    pub(crate) fn report(&self, printer: Printer) -> ExitStatus {
        match self {
            Self::Unknown(message) => {
                printer.error(message);
                ExitStatus::Usage
            }
            Self::Disabled(message) => {
                printer.error(message);
                ExitStatus::Failure
            }
        }
    }
}

/// The enabled provider called `name`.
pub(crate) fn named_provider<'a>(config: &'a Config, name: &str) -> Result<&'a Provider, Refusal> {
    match config.providers.iter().find(|p| p.id.as_str() == name) {
        Some(provider) if provider.enabled => match provider.unusable() {
            None => Ok(provider),
            Some(why) => Err(Refusal::Disabled(format!(
                "provider `{name}` is unusable: {why}; set it in the environment of this command (and of `claude-lb serve`)"
            ))),
        },
        Some(_) => Err(Refusal::Disabled(format!(
            "provider `{name}` is disabled in {}; enable it first (`enabled: true`, or `claude-lb providers enable {name}`)",
            source_name(config)
        ))),
        None => {
            let names: Vec<&str> = config.providers.iter().map(|p| p.id.as_str()).collect();
            Err(Refusal::Unknown(format!(
                "no provider named `{name}` in {} (its providers: {}){}",
                source_name(config),
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                },
                crate::config::diagnostic::did_you_mean(name, &names)
            )))
        }
    }
}
