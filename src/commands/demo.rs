//! `claude-lb demo`: the proxy in front of three simulated providers, with no key and no file.
//!
//! The demo starts three in-process simulated providers (an Anthropic-type one, an
//! OpenAI-type one reached through a `models` map, and a flaky Anthropic-type one with seeded
//! faults), builds a [`Dispatcher`] from an embedded config (`round_robin`, a short
//! `failure_cooldown`) and serves it with [`proxy::serve`], exactly as `serve` would. With
//! `--requests N` it sends the traffic itself, one request at a time, and reports after each
//! one which provider served it and which providers failed over or went into cooldown; then it
//! prints a summary and exits. Without `--requests` it serves until Ctrl-C, for Claude Code.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::cli::DemoArgs;
use crate::commands::ExitStatus;
use crate::config::{self, LogLevel};
use crate::core::health::{HealthSnapshot, HealthState};
use crate::core::provider::ProviderId;
use crate::dispatch::Dispatcher;
use crate::mock::{FaultMix, MockHandle, MockUpstream, SimOptions};
use crate::models;
use crate::proxy::{self, AppState};
use crate::ui::Printer;

/// The seed of the flaky provider's fault sequence: its first answer succeeds, its second
/// fails, and the next two succeed again, so even a short demo shows it serving, failing over,
/// cooling down and coming back (and the test is repeatable).
pub const FLAKY_SEED: u64 = 1;

/// The flaky provider's share of failed requests.
const FLAKY_FAIL_RATE: f64 = 0.5;

/// The demo's config, with `{anthropic}`, `{openai}` and `{flaky}` standing for the simulated
/// providers' base URLs. The cooldown is short so that providers come back during the demo.
const DEMO_CONFIG: &str = "\
providers:
  - name: sim_anthropic
    type: anthropic
    auth_type: api_key
    auth_value: demo-key-anthropic
    base_url: {anthropic}
  - name: sim_openai
    type: openai
    auth_type: api_key
    auth_value: demo-key-openai
    base_url: {openai}
    models:
      \"claude-*haiku*\": gpt-4o-mini
      \"*\": gpt-4o
  - name: sim_flaky
    type: anthropic
    auth_type: api_key
    auth_value: demo-key-flaky
    base_url: {flaky}
settings:
  strategy: round_robin
  failure_cooldown: 2s
  request_timeout: 10s
";

/// The three simulated providers, in config order.
struct Providers {
    anthropic: MockHandle,
    openai: MockHandle,
    flaky: MockHandle,
}

impl Providers {
    async fn start() -> anyhow::Result<Self> {
        let steady = |latency_ms: u64, seed: u64| SimOptions {
            latency: Duration::from_millis(latency_ms),
            event_gap: Duration::from_millis(2),
            seed,
            words: 16,
            record: false,
            ..SimOptions::default()
        };
        let flaky = SimOptions {
            fail_rate: FLAKY_FAIL_RATE,
            fault: FaultMix {
                overloaded: 0.5,
                rate_limited: 0.3,
                cut_stream: 0.2,
                stall: 0.0,
            },
            ..steady(15, FLAKY_SEED)
        };
        let start = |builder: crate::mock::MockBuilder| async move {
            builder
                .try_start()
                .await
                .context("cannot start a simulated provider")
        };
        Ok(Self {
            anthropic: start(MockUpstream::anthropic().sim(steady(25, 1))).await?,
            openai: start(MockUpstream::openai().sim(steady(40, 2))).await?,
            flaky: start(MockUpstream::anthropic().sim(flaky)).await?,
        })
    }

    fn config_text(&self) -> String {
        DEMO_CONFIG
            .replace("{anthropic}", &self.anthropic.base_url())
            .replace("{openai}", &self.openai.base_url())
            .replace("{flaky}", &self.flaky.base_url())
    }

    async fn shutdown(self) {
        self.anthropic.shutdown().await;
        self.openai.shutdown().await;
        self.flaky.shutdown().await;
    }
}

/// `claude-lb demo` from the command line.
pub fn run_cli(args: &DemoArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run(args, printer))
}

async fn run(args: &DemoArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let started_ms = crate::usage::time::now_ms();
    let providers = Providers::start().await?;
    let no_env = |_: &str| None;
    let loaded = config::load_str(&providers.config_text(), "(demo config)", &no_env)
        .context("the embedded demo config is invalid")?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener
        .local_addr()
        .context("cannot read the listening address")?;
    // Its providers are local and plain HTTP: nothing of the environment applies.
    let dispatcher = Dispatcher::new(loaded.config, crate::upstream::Upstream::new(&no_env)?);
    // A usage ledger of its own, in a temporary file, so the summary can end with it.
    let ledger_dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let ledger_db = ledger_dir.path().join("usage.db");
    let ledger = crate::usage::start(
        &config::UsageSettings {
            store: config::UsageStore::Sqlite(ledger_db.clone()),
            retention: Duration::from_secs(86_400),
        },
        None,
        dispatcher.metrics_handle(),
    )
    .context("cannot start the demo's usage ledger")?;
    let dispatcher = match &ledger {
        Some(ledger) => dispatcher.with_recorder(ledger.recorder()),
        None => dispatcher,
    };
    let mut state = AppState::new(dispatcher, None, Arc::new(no_env));
    state.usage_ledger = Some(crate::usage::store::Location::Sqlite(ledger_db.clone()));
    let state = Arc::new(state);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(proxy::serve(listener, state.clone(), async move {
        let _ = stop_rx.await;
    }));

    printer.line(format_args!(
        "claude-lb demo: the proxy on http://{addr} in front of 3 simulated providers \
         (sim_anthropic, sim_openai, sim_flaky), strategy round_robin"
    ))?;
    printer.line(format_args!(
        "Point Claude Code at it:  {}",
        crate::ui::claude_code_command(&super::instance::client_url(addr), false)
    ))?;
    printer.line(format_args!(
        "Provider state:           curl http://{addr}/providers"
    ))?;

    let status = if let Some(count) = args.requests {
        let mut traffic = Traffic::new(addr, &state, printer)?;
        let outcome = traffic
            .run(count, Duration::from_millis(args.interval_ms))
            .await;
        let _ = stop_tx.send(());
        outcome?;
        if traffic.summary.errors == 0 {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    } else {
        crate::logging::set_config_level(LogLevel::Info);
        printer.line("Serving until Ctrl-C; each request is logged on stderr.")?;
        super::serve::shutdown_signal().await;
        let _ = stop_tx.send(());
        ExitStatus::Success
    };
    server
        .await
        .context("the proxy task failed")?
        .context("the proxy failed")?;
    providers.shutdown().await;
    if let Some(ledger) = ledger {
        tokio::task::spawn_blocking(move || ledger.close())
            .await
            .context("the usage ledger did not close")?;
    }
    if args.requests.is_some() {
        let query = crate::usage::report::Query {
            since_ms: started_ms,
            until_ms: crate::usage::time::now_ms() + 1,
            by: vec![
                crate::usage::report::GroupBy::Provider,
                crate::usage::report::GroupBy::Model,
            ],
        };
        let report = tokio::task::spawn_blocking(move || {
            super::usage::report_from(&config::UsageStore::Sqlite(ledger_db), None, &query)
        })
        .await
        .context("the usage report failed")??;
        if let Some(report) = report {
            printer.line(format_args!(
                "\nUsage ledger (`claude-lb usage --by provider,model` shows the same for `serve`):\n{}",
                super::usage::render(&report).trim_end()
            ))?;
        }
    }
    Ok(status)
}

/// The request the demo sends: request `n` asks for a stream when `n` is even, and for a
/// Haiku model every third time (which the `OpenAI` provider maps to another model).
fn demo_request(n: usize) -> (bool, &'static str, Bytes) {
    let stream = n % 2 == 0;
    let model = if n % 3 == 2 {
        models::CLAUDE_HAIKU
    } else {
        models::CLAUDE_SONNET
    };
    let body = format!(
        r#"{{"model":"{model}","max_tokens":256,"stream":{stream},"messages":[{{"role":"user","content":"Request {n} from claude-lb demo: say something short."}}]}}"#
    );
    (stream, model, Bytes::from(body))
}

/// How one demo request ended, as the client saw it.
#[derive(Debug)]
struct Seen {
    status: u16,
    provider: Option<String>,
    /// Streamed events received (0 for a JSON answer).
    events: usize,
    /// Whether the stream ended with an Anthropic `error` event (a cut after the commit).
    error_event: bool,
}

/// Totals for the summary.
#[derive(Debug, Default)]
struct Summary {
    requests: usize,
    ok: usize,
    after_failover: usize,
    cut_streams: usize,
    errors: usize,
    served: Vec<(ProviderId, usize)>,
}

/// The demo's own client and the state it reports.
struct Traffic<'a> {
    client: reqwest::Client,
    url: String,
    state: &'a AppState,
    printer: &'a Printer,
    ids: Vec<(ProviderId, &'static str)>,
    terminal: bool,
    /// Lines of the live table currently on screen (terminal only).
    drawn: usize,
    summary: Summary,
}

impl<'a> Traffic<'a> {
    fn new(addr: SocketAddr, state: &'a AppState, printer: &'a Printer) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .context("cannot build the demo's HTTP client")?;
        let generation = state.dispatcher.generation();
        let ids: Vec<(ProviderId, &'static str)> = generation
            .config
            .providers
            .iter()
            .map(|p| (p.id.clone(), p.kind.as_str()))
            .collect();
        let served = ids.iter().map(|(id, _)| (id.clone(), 0)).collect();
        Ok(Self {
            client,
            url: format!("http://{addr}/v1/messages"),
            state,
            printer,
            ids,
            terminal: std::io::stdout().is_terminal(),
            drawn: 0,
            summary: Summary {
                served,
                ..Summary::default()
            },
        })
    }

    fn snapshots(&self) -> Vec<HealthSnapshot> {
        let now = Instant::now();
        self.ids
            .iter()
            .map(|(id, _)| self.state.dispatcher.health().snapshot(id, now))
            .collect()
    }

    async fn run(&mut self, count: usize, interval: Duration) -> anyhow::Result<()> {
        self.printer.line(format_args!(
            "Sending {count} requests, one at a time (streams and JSON, Sonnet and Haiku):"
        ))?;
        let started = Instant::now();
        for n in 1..=count {
            let before = self.snapshots();
            let (stream, model, body) = demo_request(n);
            let sent = Instant::now();
            let seen = self.send(body).await;
            let took = sent.elapsed();
            let after = self.snapshots();
            let line = self.record(n, stream, model, &seen, took, &before, &after);
            self.show(&line, &after)?;
            if n < count && !interval.is_zero() {
                tokio::time::sleep(interval).await;
            }
        }
        self.clear_live()?;
        self.print_summary(started.elapsed())
    }

    async fn send(&self, body: Bytes) -> Seen {
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("anthropic-version", "2023-06-01")
            .body(body)
            .send()
            .await;
        let Ok(response) = response else {
            return Seen {
                status: 0,
                provider: None,
                events: 0,
                error_event: false,
            };
        };
        let status = response.status().as_u16();
        let provider = response
            .headers()
            .get("x-claude-lb-provider")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let is_stream = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let body = response.bytes().await.unwrap_or_default();
        let (events, error_event) = if is_stream {
            let text = String::from_utf8_lossy(&body);
            (
                text.matches("\nevent: ").count() + usize::from(text.starts_with("event: ")),
                text.contains("event: error"),
            )
        } else {
            (0, false)
        };
        Seen {
            status,
            provider,
            events,
            error_event,
        }
    }

    /// Updates the totals and describes one request in one line (plus the failovers and
    /// cooldown changes it caused).
    #[allow(clippy::too_many_arguments)] // One call site; a struct would only rename them.
    fn record(
        &mut self,
        n: usize,
        stream: bool,
        model: &str,
        seen: &Seen,
        took: Duration,
        before: &[HealthSnapshot],
        after: &[HealthSnapshot],
    ) -> String {
        self.summary.requests += 1;
        let mut line = format!(
            "#{n:<3} {:<6} {model:<18} ",
            if stream { "stream" } else { "json" }
        );
        let mut notes = Vec::new();
        for (((id, _), was), now) in self.ids.iter().zip(before).zip(after) {
            if now.failures > was.failures {
                let why = now.last_error.as_deref().unwrap_or("failed");
                let cooling = match now.state {
                    HealthState::CoolingDown { remaining } => {
                        format!(", cooling down {:.1}s", remaining.as_secs_f64())
                    }
                    HealthState::Available => String::new(),
                };
                notes.push(format!("{id} failed: {why}{cooling}"));
            } else if matches!(was.state, HealthState::CoolingDown { .. })
                && now.state == HealthState::Available
            {
                notes.push(format!("{id} is back from cooldown"));
            }
        }
        let failed_over = seen.status == 200
            && self
                .ids
                .iter()
                .zip(before.iter().zip(after))
                .any(|(_, (was, now))| now.failures > was.failures);
        match (&seen.provider, seen.status) {
            (Some(provider), 200) => {
                self.summary.ok += 1;
                if failed_over {
                    self.summary.after_failover += 1;
                }
                if let Some((_, served)) = self
                    .summary
                    .served
                    .iter_mut()
                    .find(|(id, _)| id.as_str() == provider)
                {
                    *served += 1;
                }
                let _ = write!(line, "-> {provider:<14} 200");
                if stream {
                    let _ = write!(line, " {:>3} events", seen.events);
                } else {
                    line.push_str("    (json)");
                }
                if seen.error_event {
                    self.summary.cut_streams += 1;
                    notes.push(
                        "the stream broke after its first event: the client got an error event"
                            .to_owned(),
                    );
                }
            }
            (provider, status) => {
                self.summary.errors += 1;
                let _ = write!(
                    line,
                    "-> {:<14} {}",
                    provider.as_deref().unwrap_or("(none)"),
                    if status == 0 {
                        "no answer".to_owned()
                    } else {
                        status.to_string()
                    }
                );
            }
        }
        let _ = write!(line, " {:>5} ms", took.as_millis());
        if failed_over {
            line.push_str("  after failover");
        }
        for note in notes {
            line.push_str("\n       ");
            line.push_str(&note);
        }
        line
    }

    /// Prints a request's line; on a terminal, redraws the live provider table under it.
    fn show(&mut self, line: &str, health: &[HealthSnapshot]) -> anyhow::Result<()> {
        self.clear_live()?;
        self.printer.line(line)?;
        if self.terminal {
            let table = self.table(health).to_string();
            self.drawn = table.lines().count();
            self.printer.line(table)?;
        }
        Ok(())
    }

    /// Removes the live table from a terminal, so the next line replaces it.
    fn clear_live(&mut self) -> anyhow::Result<()> {
        if self.drawn > 0 {
            // Cursor up over the table, then clear to the end of the screen.
            self.printer
                .bytes(format!("\x1b[{}A\x1b[J", self.drawn).as_bytes())?;
            self.drawn = 0;
        }
        Ok(())
    }

    /// Every provider: what it served, how often it failed, and its state now.
    fn table(&self, health: &[HealthSnapshot]) -> Table {
        let mut table = Table::new();
        // Fitted to the terminal's width, so that the live table's line count (which the
        // redraw moves the cursor over) is the number of lines on screen.
        table
            .load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(vec![
                "Provider",
                "Type",
                "Served",
                "Failed",
                "State",
                "Last error",
            ]);
        for (((id, kind), snapshot), (_, served)) in
            self.ids.iter().zip(health).zip(&self.summary.served)
        {
            let state = match snapshot.state {
                HealthState::Available => "available".to_owned(),
                HealthState::CoolingDown { remaining } => {
                    format!("cooling down {:.1}s", remaining.as_secs_f64())
                }
            };
            table.add_row(vec![
                Cell::new(id),
                Cell::new(kind),
                Cell::new(served).set_alignment(CellAlignment::Right),
                Cell::new(snapshot.failures).set_alignment(CellAlignment::Right),
                Cell::new(state),
                Cell::new(snapshot.last_error.as_deref().unwrap_or("")),
            ]);
        }
        table
    }

    fn print_summary(&self, took: Duration) -> anyhow::Result<()> {
        let s = &self.summary;
        self.printer.line("")?;
        self.printer.line("Summary:")?;
        self.printer.line(self.table(&self.snapshots()))?;
        self.printer.line(format_args!(
            "{} requests in {:.1}s: {} answered ({} after a failover, {} streams cut after their first event), {} failed",
            s.requests,
            took.as_secs_f64(),
            s.ok,
            s.after_failover,
            s.cut_streams,
            s.errors
        ))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flaky_seed_gives_a_success_then_a_failure() {
        let sim = SimOptions {
            fail_rate: FLAKY_FAIL_RATE,
            seed: FLAKY_SEED,
            ..SimOptions::default()
        };
        let faults: Vec<bool> = (0..4).map(|n| sim.fault_for(n).is_some()).collect();
        assert_eq!(faults, [false, true, false, false]);
    }

    #[test]
    fn demo_requests_mix_streams_and_models() {
        let requests: Vec<_> = (1..=6).map(demo_request).collect();
        assert!(requests.iter().any(|(stream, _, _)| *stream));
        assert!(requests.iter().any(|(stream, _, _)| !*stream));
        assert!(requests.iter().any(|(_, m, _)| m.contains("haiku")));
        for (stream, model, body) in requests {
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["model"], model);
            assert_eq!(json["stream"], stream);
        }
    }
}
