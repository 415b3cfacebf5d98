//! `claude-lb providers list`: the providers of the config file, or with `--remote` the live
//! state of a running `claude-lb serve` (its `GET /providers` admin route).
//!
//! Both show a table on stdout, or with `--json` one JSON array. Secrets are never shown: a
//! credential appears as `set`, `from $VAR` or `missing`. An unreachable instance, or one that
//! answers something other than claude-lb's provider list, is an error (exit 1) that names the
//! URL and the reason.

use std::time::Duration;

use anyhow::{Context as _, bail};
use comfy_table::Cell;
use serde::Deserialize as _;
use serde_json::json;

use crate::cli::{GlobalArgs, ProvidersListArgs};
use crate::commands::ExitStatus;
use crate::commands::check::load_config;
use crate::config::Provider;
use crate::proxy::admin::ProviderStatus;
use crate::ui::{Printer, table};
use crate::upstream::{Upstream, remote};

/// How long a running instance may take to answer `GET /providers`.
const REMOTE_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest admin answer read.
const REMOTE_LIMIT: usize = 4 * 1024 * 1024;

/// `claude-lb providers list` from the command line.
pub fn run_cli(
    global: &GlobalArgs,
    args: &ProvidersListArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    if let Some(url) = &args.remote {
        return run_remote(url, args.admin.admin_token.as_deref(), args.json, *printer);
    }
    let loaded = load_config(global, *printer)?;
    let providers = &loaded.config.providers;
    let out = if args.json {
        let list: Vec<serde_json::Value> = providers.iter().map(provider_json).collect();
        serde_json::to_string_pretty(&list)?
    } else if providers.is_empty() {
        "no providers (add one with `claude-lb providers add`)".to_owned()
    } else {
        local_table(providers)
    };
    printer.line(out).context("writing the list")?;
    Ok(ExitStatus::Success)
}

fn local_table(providers: &[Provider]) -> String {
    let mut out = table::new(&[
        "name", "type", "auth", "base URL", "enabled", "models", "weight",
    ]);
    for p in providers {
        let models = if p.models.is_empty() {
            table::dim("every model, as named")
        } else {
            Cell::new(
                p.models
                    .entries()
                    .iter()
                    .map(|(pattern, model)| format!("{} → {model}", pattern.as_str()))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        };
        out.add_row(vec![
            Cell::new(p.id.as_str()),
            Cell::new(p.kind.as_str()),
            Cell::new(format!("{} ({})", p.auth_type.as_str(), p.secret_origin)),
            Cell::new(p.base_url.as_str().trim_end_matches('/')),
            if let Some(why) = p.unusable().filter(|_| p.enabled) {
                Cell::new(format!("yes, unusable: {why}")).fg(comfy_table::Color::Yellow)
            } else if p.enabled {
                Cell::new("yes")
            } else {
                table::dim("no")
            },
            models,
            Cell::new(p.weight),
        ]);
    }
    // The model map is free text; the rest keep their words whole.
    table::render(&out, &[5])
}

fn provider_json(p: &Provider) -> serde_json::Value {
    let models: Vec<serde_json::Value> = p
        .models
        .entries()
        .iter()
        .map(|(pattern, model)| json!({ "pattern": pattern.as_str(), "model": &**model }))
        .collect();
    // Header values may be credentials too: only their names are shown.
    let headers: Vec<&str> = p.headers.iter().map(|(name, _)| name.as_str()).collect();
    json!({
        "name": p.id.as_str(),
        "type": p.kind.as_str(),
        "auth_type": p.auth_type.as_str(),
        "secret": p.secret_origin.to_string(),
        "secret_set": p.secret.is_some(),
        "base_url": p.base_url.as_str().trim_end_matches('/'),
        "enabled": p.enabled,
        "weight": p.weight.get(),
        "models": models,
        "headers": headers,
        "max_tokens": p.max_tokens.map(std::num::NonZeroU32::get),
    })
}

fn run_remote(
    url: &str,
    token: Option<&str>,
    json: bool,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let base = remote::instance_url(url).map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let upstream = Upstream::new(&crate::env::process)?;
    let (raw, list) =
        runtime.block_on(fetch(&upstream, &remote::join(&base, "/providers"), token))?;
    let out = if json {
        serde_json::to_string_pretty(&raw)?
    } else if list.is_empty() {
        "the instance has no providers".to_owned()
    } else {
        remote_table(&list)
    };
    printer.line(out).context("writing the list")?;
    Ok(ExitStatus::Success)
}

/// The instance's provider list as it sent it (for `--json`), checked to have the shape of
/// `ProviderStatus` (for the table). `top` reads it the same way, so both say the same when
/// the instance cannot be read.
pub async fn fetch(
    upstream: &Upstream,
    url: &str,
    token: Option<&str>,
) -> anyhow::Result<(serde_json::Value, Vec<ProviderStatus>)> {
    let hint = "is `claude-lb serve` running there?";
    let (status, body) = crate::commands::instance::exchange(
        url,
        REMOTE_TIMEOUT,
        REMOTE_LIMIT,
        remote::get(upstream, url, token),
    )
    .await?;
    if matches!(status.as_u16(), 401 | 403) {
        bail!(
            "{url} answered HTTP {} ({}): the admin API needs the instance's admin token \
             (`--admin-token` or CLAUDE_LB_ADMIN_TOKEN), or a loopback connection",
            status.as_u16(),
            excerpt(&body)
        );
    }
    if !status.is_success() {
        bail!(
            "{url} answered HTTP {} ({}), not claude-lb's provider list; {hint}",
            status.as_u16(),
            excerpt(&body)
        );
    }
    let not_a_list = |error: serde_json::Error| {
        anyhow::anyhow!(
            "{url} did not answer with claude-lb's provider list ({error}; it sent {}); {hint}",
            excerpt(&body)
        )
    };
    let raw: serde_json::Value = serde_json::from_slice(&body).map_err(not_a_list)?;
    let list = Vec::<ProviderStatus>::deserialize(&raw).map_err(not_a_list)?;
    Ok((raw, list))
}

fn remote_table(list: &[ProviderStatus]) -> String {
    let mut out = table::new(&[
        "name",
        "type",
        "state",
        "failures in a row",
        "requests",
        "failures",
        "latency",
        "sessions",
        "cache hit",
        "last error",
    ]);
    for p in list {
        let state = match (p.enabled, p.state.as_str()) {
            (false, _) | (_, "disabled") => table::dim("disabled"),
            (_, "available") => Cell::new("available").fg(comfy_table::Color::Green),
            (_, "unusable") => Cell::new(format!(
                "unusable: {}",
                p.unusable.as_deref().unwrap_or("no credential")
            ))
            .fg(comfy_table::Color::Yellow),
            (_, "cooling_down") => Cell::new(format!(
                "cooling down ({}s left)",
                p.cooldown_remaining_s.ceil()
            ))
            .fg(comfy_table::Color::Yellow),
            (_, other) => Cell::new(other),
        };
        out.add_row(vec![
            Cell::new(&p.name),
            Cell::new(&p.kind),
            state,
            Cell::new(p.consecutive_failures),
            Cell::new(p.requests),
            Cell::new(p.failures),
            Cell::new(table::millis(p.latency_ms)),
            Cell::new(p.sessions),
            p.cache_hit_ratio().map_or_else(
                || table::dim("-"),
                |ratio| Cell::new(format!("{:.0}%", ratio * 100.0)),
            ),
            p.last_error
                .as_deref()
                .map_or_else(|| table::dim("-"), Cell::new),
        ]);
    }
    // The last error is free text; the rest keep their words whole.
    table::render(&out, &[9])
}

/// The start of a body, on one line, for messages.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return "an empty body".to_owned();
    }
    let mut short: String = line.chars().take(120).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    format!("`{short}`")
}
