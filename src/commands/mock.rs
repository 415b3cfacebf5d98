//! `claude-lb mock`: runs a simulated provider (Anthropic or `OpenAI`) until shutdown, for
//! rehearsals, demos and the benchmark baseline.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;

use crate::core::provider::ProviderKind;
use crate::mock::{FaultMix, MockHandle, MockUpstream, SimOptions};
use crate::ui::Printer;

/// What `claude-lb mock` was asked to run.
#[derive(Clone, Debug)]
pub struct MockArgs {
    /// Which API to simulate.
    pub kind: ProviderKind,
    /// Where to listen (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Milliseconds before the response headers of every answer.
    pub latency_ms: u64,
    /// Milliseconds between streamed events.
    pub event_gap_ms: u64,
    /// Share of generation requests that fail, 0 to 1.
    pub fail_rate: f64,
    /// Which faults, in which proportions.
    pub fault: FaultMix,
    /// Seed of the fault sequence.
    pub seed: u64,
    /// Words of generated text per answer.
    pub words: usize,
}

impl MockArgs {
    /// The defaults for `kind` on `listen`: no latency, no faults, 12 words.
    pub fn new(kind: ProviderKind, listen: SocketAddr) -> Self {
        let sim = SimOptions::default();
        Self {
            kind,
            listen,
            latency_ms: 0,
            event_gap_ms: 0,
            fail_rate: 0.0,
            fault: sim.fault,
            seed: sim.seed,
            words: sim.words,
        }
    }

    /// The simulation these arguments describe; requests are not recorded (a long run must
    /// not grow without bound).
    pub fn sim_options(&self) -> SimOptions {
        SimOptions {
            latency: Duration::from_millis(self.latency_ms),
            event_gap: Duration::from_millis(self.event_gap_ms),
            fail_rate: self.fail_rate,
            fault: self.fault,
            seed: self.seed,
            words: self.words,
            record: false,
            ..SimOptions::default()
        }
    }
}

/// Serves the simulated provider until `shutdown` completes.
pub async fn run(args: MockArgs, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    run_with(args, shutdown, |_| Ok(())).await
}

/// [`run`], calling `started` with the running mock first.
async fn run_with(
    args: MockArgs,
    shutdown: impl Future<Output = ()>,
    started: impl FnOnce(&MockHandle) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let handle = MockUpstream::of(args.kind)
        .sim(args.sim_options())
        .listen(args.listen)
        .try_start()
        .await
        .context("cannot start the mock provider")?;
    tracing::info!(
        kind = args.kind.as_str(),
        base_url = %handle.base_url(),
        "listening on {}",
        handle.addr()
    );
    started(&handle).context("writing the address")?;
    shutdown.await;
    let served = handle.request_count();
    handle.shutdown().await;
    tracing::info!(requests = served, "mock provider stopped");
    Ok(())
}

/// `claude-lb mock` from the command line: runs until SIGINT or SIGTERM.
pub fn run_cli(
    args: &crate::cli::MockArgs,
    printer: &Printer,
) -> anyhow::Result<super::ExitStatus> {
    let mut mock = MockArgs::new(args.kind, args.listen);
    mock.latency_ms = args.latency_ms;
    mock.event_gap_ms = args.event_gap_ms;
    mock.fail_rate = args.fail_rate;
    mock.seed = args.seed;
    mock.sim_options().validate()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let kind = args.kind.as_str();
    runtime.block_on(run_with(mock, super::serve::shutdown_signal(), |handle| {
        printer.line(format_args!(
            "mock {kind} provider listening on {}; use `type: {kind}` and `base_url: {}`",
            handle.addr(),
            handle.base_url()
        ))
    }))?;
    Ok(super::ExitStatus::Success)
}
