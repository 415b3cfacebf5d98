//! `claude-lb clients list`: the clients of the config file, as a table or with `--json` one
//! JSON array.
//!
//! A key is never shown, nor its digest: only how the file gives it (`sha256`, `key` written
//! in the file, or `${VAR}`). A `${VAR}` this shell does not export does not stop the listing.

use anyhow::Context as _;
use comfy_table::Cell;
use serde_json::json;

use crate::cli::{ClientsListArgs, GlobalArgs};
use crate::commands::ExitStatus;
use crate::config::save::lenient_env;
use crate::config::{self, Client, paths};
use crate::ui::{Printer, table};

pub fn run(
    global: &GlobalArgs,
    args: &ClientsListArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let path = paths::resolve_for_process(global.config.as_deref())?;
    let loaded = config::load(&path, &lenient_env(&crate::env::process))?;
    let clients = &loaded.config.clients;
    let out = if args.json {
        let list: Vec<serde_json::Value> = clients.iter().map(|c| client_json(c)).collect();
        serde_json::to_string_pretty(&list)?
    } else if clients.is_empty() {
        "no clients: every request is served without a key (add one with `claude-lb clients add NAME`)"
            .to_owned()
    } else {
        client_table(clients)
    };
    printer.line(out).context("writing the list")?;
    Ok(ExitStatus::Success)
}

fn client_table(clients: &[std::sync::Arc<Client>]) -> String {
    let mut out = table::new(&[
        "name",
        "key",
        "providers",
        "models",
        "max concurrent",
        "requests/min",
        "budget",
    ]);
    let limit = |n: Option<std::num::NonZeroU32>| n.map_or_else(|| table::dim("-"), Cell::new);
    for c in clients {
        out.add_row(vec![
            Cell::new(&*c.name),
            Cell::new(c.key_origin.to_string()),
            providers(c).map_or_else(|| table::dim("all"), |list| Cell::new(list.join(", "))),
            models(c).map_or_else(|| table::dim("any"), |list| Cell::new(list.join(", "))),
            limit(c.max_concurrent),
            limit(c.requests_per_minute),
            budget(c).map_or_else(|| table::dim("-"), Cell::new),
        ]);
    }
    // Provider and model lists are the free text; the rest keep their words whole.
    table::render(&out, &[2, 3])
}

/// A client's budget in words (`$200/month, 20000000 tokens/day`), `None` without one.
fn budget(c: &Client) -> Option<String> {
    let budget = c.budget.as_ref()?;
    let parts: Vec<String> = [
        budget.usd_per_month.map(|usd| format!("${usd}/month")),
        budget.tokens_per_day.map(|n| format!("{n} tokens/day")),
    ]
    .into_iter()
    .flatten()
    .collect();
    Some(parts.join(", "))
}

/// The providers a client may reach, `None` for all.
fn providers(c: &Client) -> Option<Vec<&str>> {
    let list = c.providers.as_ref()?;
    Some(
        list.iter()
            .map(crate::core::provider::ProviderId::as_str)
            .collect(),
    )
}

/// The model patterns a client may request, `None` for any.
fn models(c: &Client) -> Option<Vec<&str>> {
    let list = c.models.as_ref()?;
    Some(
        list.iter()
            .map(crate::core::provider::ModelPattern::as_str)
            .collect(),
    )
}

fn client_json(c: &Client) -> serde_json::Value {
    json!({
        "name": &*c.name,
        "key": c.key_origin.to_string(),
        "providers": providers(c),
        "models": models(c),
        "max_concurrent": c.max_concurrent.map(std::num::NonZeroU32::get),
        "requests_per_minute": c.requests_per_minute.map(std::num::NonZeroU32::get),
        "budget": c.budget.as_ref().map(|b| json!({
            "usd_per_month": b.usd_per_month,
            "tokens_per_day": b.tokens_per_day,
        })),
    })
}
