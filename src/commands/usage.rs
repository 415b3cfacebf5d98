//! `claude-lb usage`: where tokens and money went, per group, from the usage ledger the config
//! names (a file or a PostgreSQL database) or from a running instance (`--remote`, `GET /usage`).

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::cli::{GlobalArgs, UsageArgs};
use crate::commands::ExitStatus;
use crate::config::{self, ConfigError, UsageStore, paths};
use crate::ui::{Printer, chart, table};
use crate::upstream::{Upstream, remote};
use crate::usage::report::{GroupBy, Query, Report, Totals, parse_time};
use crate::usage::{StoreError, store, time};

/// How long `--remote` waits for the instance's answer.
const REMOTE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer `--remote` reads.
const REMOTE_LIMIT: usize = 16 * 1024 * 1024;

pub fn run(global: &GlobalArgs, args: &UsageArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let by = match GroupBy::parse_list(&args.by.join(",")) {
        Ok(by) => by,
        Err(message) => {
            printer.error(format_args!("--by: {message}"));
            return Ok(ExitStatus::Usage);
        }
    };
    // The period is checked here, also for `--remote`, so a mistake in it is a usage error
    // whichever ledger is asked.
    let now = time::now_ms();
    let since = match parse_time(&args.since, now) {
        Ok(ms) => ms,
        Err(message) => {
            printer.error(format_args!("--since: {message}"));
            return Ok(ExitStatus::Usage);
        }
    };
    let until = match args.until.as_deref().map(|t| parse_time(t, now)) {
        None => now,
        Some(Ok(ms)) => ms,
        Some(Err(message)) => {
            printer.error(format_args!("--until: {message}"));
            return Ok(ExitStatus::Usage);
        }
    };
    if until <= since {
        printer.error("the period is empty: --until must come after --since");
        return Ok(ExitStatus::Usage);
    }
    let report = if let Some(url) = &args.remote {
        remote_report(url, args, &by)?
    } else {
        let query = Query {
            since_ms: since,
            until_ms: until,
            by: by.clone(),
        };
        let Some(report) = local_report(global, &query)? else {
            printer.error("the usage ledger is off (settings.usage.store: off)");
            return Ok(ExitStatus::Failure);
        };
        report
    };
    let out = if args.json {
        serde_json::to_string_pretty(&report)?
    } else {
        render(&report)
    };
    printer.line(out.trim_end()).context("writing the report")?;
    Ok(ExitStatus::Success)
}

/// The report from the ledger the config names (the default file when there is no config);
/// `None` when the ledger is off.
fn local_report(global: &GlobalArgs, query: &Query) -> anyhow::Result<Option<Report>> {
    let store_setting = match paths::resolve_for_process(global.config.as_deref()) {
        Ok(path) => match config::load(&path, &crate::env::process) {
            Ok(loaded) => loaded.config.settings.usage.store,
            Err(ConfigError::Invalid { errors, .. }) => bail!(
                "{}: invalid config ({}); run `claude-lb config validate`",
                path.display(),
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Err(other) => return Err(other.into()),
        },
        // No config at all: the default ledger, which a `serve` with defaults writes.
        Err(ConfigError::NotFound { .. }) => UsageStore::DefaultSqlite,
        Err(other) => return Err(other.into()),
    };
    report_from(&store_setting, store::user_data_dir().as_deref(), query)
}

/// The report from the store `setting` names.
pub fn report_from(
    setting: &UsageStore,
    data_dir: Option<&std::path::Path>,
    query: &Query,
) -> anyhow::Result<Option<Report>> {
    match store::open_existing(setting, data_dir) {
        Ok(None) => Ok(None),
        Ok(Some(mut store)) => Ok(Some(store.report(query)?)),
        Err(StoreError::Missing(path)) => bail!(
            "there is no usage ledger at {} yet: `claude-lb serve` writes one as it answers requests",
            path.display()
        ),
        Err(error) => Err(error.into()),
    }
}

/// The report of a running instance (`GET /usage`), which reads the times itself.
fn remote_report(url: &str, args: &UsageArgs, by: &[GroupBy]) -> anyhow::Result<Report> {
    let base = remote::instance_url(url).map_err(anyhow::Error::msg)?;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("since", &args.since);
    if let Some(until) = &args.until {
        query.append_pair("until", until);
    }
    if !by.is_empty() {
        let names: Vec<&str> = by.iter().map(|b| b.as_str()).collect();
        query.append_pair("by", &names.join(","));
    }
    let url = format!("{}?{}", remote::join(&base, "/usage"), query.finish());
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let hint = "is `claude-lb serve` running there?";
    let (status, body) = runtime.block_on(async {
        let upstream = Upstream::new(&crate::env::process)?;
        super::instance::exchange(
            &url,
            REMOTE_TIMEOUT,
            REMOTE_LIMIT,
            remote::get(&upstream, &url, args.admin.admin_token.as_deref()),
        )
        .await
    })?;
    let text = String::from_utf8_lossy(&body);
    let excerpt: String = text.chars().take(300).collect();
    if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN {
        bail!(
            "{url} answered HTTP {}: give the instance's admin token with --admin-token or {} ({excerpt})",
            status.as_u16(),
            crate::env::CLAUDE_LB_ADMIN_TOKEN
        );
    }
    if !status.is_success() {
        bail!("{url} answered HTTP {} ({excerpt})", status.as_u16());
    }
    serde_json::from_slice(&body).map_err(|error| {
        anyhow::anyhow!(
            "{url} did not answer with a usage report ({error}; it sent {excerpt}); {hint}"
        )
    })
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ratio(totals: &Totals) -> String {
    totals
        .cache_hit_ratio
        .map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// Dollars with cents, or four decimals below a dollar (a few requests cost fractions of
/// a cent).
fn usd(amount: f64) -> String {
    if amount.abs() >= 1.0 || amount == 0.0 {
        format!("${amount:.2}")
    } else {
        format!("${amount:.4}")
    }
}

fn cost(totals: &Totals) -> String {
    if totals.unpriced == totals.requests && totals.requests > 0 {
        "?".to_owned()
    } else if totals.unpriced > 0 {
        format!("{}+?", usd(totals.cost_usd))
    } else {
        usd(totals.cost_usd)
    }
}

fn numbers(totals: &Totals) -> Vec<String> {
    vec![
        thousands(totals.requests),
        thousands(totals.failed),
        thousands(totals.failovers),
        thousands(totals.input_tokens),
        thousands(totals.output_tokens),
        thousands(totals.cache_read_tokens),
        ratio(totals),
        cost(totals),
    ]
}

/// The report as a table, a bar chart for `--by day` or `--by hour`, and a note on rows
/// without a price.
pub fn render(report: &Report) -> String {
    let mut header: Vec<&str> = report.by.iter().map(|b| b.as_str()).collect();
    header.extend([
        "requests",
        "failed",
        "failovers",
        "input",
        "output",
        "cache read",
        "cache hit",
        "cost",
    ]);
    let mut t = table::new(&header);
    let row = |key: Vec<String>, totals: &Totals| -> Vec<comfy_table::Cell> {
        key.into_iter()
            .map(comfy_table::Cell::new)
            .chain(numbers(totals).into_iter().map(|n| {
                comfy_table::Cell::new(n).set_alignment(comfy_table::CellAlignment::Right)
            }))
            .collect()
    };
    for group in &report.groups {
        t.add_row(row(group.key.clone(), &group.totals));
    }
    let mut total = vec![String::new(); report.by.len()];
    if let Some(first) = total.first_mut() {
        "total".clone_into(first);
    }
    t.add_row(row(total, &report.total));
    let mut out = format!(
        "{} to {} (UTC)\n{}\n",
        time::format_minute(report.since_ms),
        time::format_minute(report.until_ms),
        table::render(&t, &[])
    );
    if matches!(report.by.as_slice(), [GroupBy::Day | GroupBy::Hour]) && !report.groups.is_empty() {
        let by_cost = report.total.cost_usd > 0.0;
        #[allow(clippy::cast_precision_loss)]
        let bars: Vec<chart::Bar> = report
            .groups
            .iter()
            .map(|g| chart::Bar {
                label: g.key.first().cloned().unwrap_or_default(),
                value: if by_cost {
                    g.totals.cost_usd
                } else {
                    g.totals.tokens() as f64
                },
                shown: if by_cost {
                    usd(g.totals.cost_usd)
                } else {
                    format!("{} tokens", thousands(g.totals.tokens()))
                },
            })
            .collect();
        out.push_str(if by_cost { "\ncost\n" } else { "\ntokens\n" });
        out.push_str(&chart::render_for_stdout(&bars));
    }
    if report.total.unpriced > 0 {
        let _ = writeln!(
            out,
            "\n{} of {} requests have no known price (their cost is not counted; `?` above): add `pricing:` to their provider",
            thousands(report.total.unpriced),
            thousands(report.total.requests)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
