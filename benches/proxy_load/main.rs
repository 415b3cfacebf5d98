//! How much `claude-lb serve` adds: latency, throughput, CPU and memory, each against calling
//! the simulated provider directly and against a bare hyper proxy (the floor: `floor.rs`) in
//! the same run.
//!
//! Run it with `cargo bench --bench proxy_load` (about three minutes on 2 cores), or
//! `cargo bench --bench proxy_load -- --quick` for a smoke run. It rewrites `BENCHMARKS.md` at
//! the repository root (`--out PATH` writes elsewhere).
//!
//! The proxy and the simulated providers are separate processes: the binary as shipped (the
//! `bench` profile is the `release` one: thin LTO, stripped), `claude-lb serve` and
//! `claude-lb mock`, so that the proxy's CPU time and memory (`/proc/PID/stat`,
//! `/proc/PID/status`) are its own and not the load generator's. To look inside the proxy with
//! `perf` while it runs, `cargo bench --profile profiling --bench proxy_load` uses the same
//! optimisations with symbols kept.
//! The load generator is this program: a single-threaded tokio runtime with `reqwest`
//! keep-alive connections, which leaves the machine's other core to the proxy and the
//! providers. Every figure through the proxy is measured in the same run, with the same client,
//! as the same request sent straight to the provider, and the requests alternate between the
//! two so that drift in the machine's load hits both alike. The floor takes its turn in the
//! same rotation, and the throughput runs are repeated (direct, floor, claude-lb, in rotating
//! order) with the median of the repetitions reported, so that ratios to the floor hold on a
//! machine whose load drifts.

#![allow(
    clippy::cast_possible_wrap,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::too_many_lines
)]

mod floor;
mod measure;
mod process;
mod report;
mod request;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::measure::{
    Stats, StreamTiming, concurrent_streams, first_content_bytes, fixed_load, interleaved_latency,
    paced_latency, paired_latency, throughput, timed_stream,
};
use crate::process::{Process, clock_ticks_per_second, floor, free_addr, mock};
use crate::request::{Target, anthropic_target, client, exchange, openai_target};

const BIN: &str = env!("CARGO_BIN_EXE_claude-lb");

/// How much of each measurement to run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizes {
    pub(crate) warmup: usize,
    pub(crate) latency: usize,
    /// Requests per target of the paced latency run ([`PAUSE`] before each).
    pub(crate) paced: usize,
    pub(crate) big: usize,
    pub(crate) streams: usize,
    /// Streams per target whose first content byte is timed on a raw connection.
    pub(crate) raw_streams: usize,
    pub(crate) throughput: Duration,
    pub(crate) concurrent_streams: usize,
    pub(crate) soak: usize,
}

pub(crate) const FULL: Sizes = Sizes {
    warmup: 2_000,
    latency: 5_000,
    paced: 400,
    big: 400,
    streams: 500,
    raw_streams: 300,
    throughput: Duration::from_secs(4),
    concurrent_streams: 1_000,
    soak: 100_000,
};

pub(crate) const QUICK: Sizes = Sizes {
    warmup: 200,
    latency: 300,
    paced: 40,
    big: 40,
    streams: 50,
    raw_streams: 30,
    throughput: Duration::from_secs(1),
    concurrent_streams: 200,
    soak: 5_000,
};

/// The pause before each request of the paced latency run: the pace of one interactive client
/// (Claude Code sends its next request after it has read an answer), where the proxy, the
/// provider and the client have each gone idle in between.
pub(crate) const PAUSE: Duration = Duration::from_millis(15);

/// The connections of the throughput and soak runs.
pub(crate) const CONNECTIONS: usize = 32;

/// How many times each throughput run is repeated; the median is reported.
pub(crate) const REPETITIONS: usize = 3;

fn main() -> anyhow::Result<()> {
    let mut quick = false;
    let mut out = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // The bench starts itself again as the floor proxy, in its own process.
            "--floor" => {
                let listen = args.next().context("--floor needs LISTEN and UPSTREAM")?;
                let upstream = args.next().context("--floor needs LISTEN and UPSTREAM")?;
                let listen = listen
                    .parse()
                    .with_context(|| format!("--floor: `{listen}` is not an address"))?;
                return floor::serve(listen, &upstream);
            }
            "--quick" => quick = true,
            // `cargo bench` passes `--bench` to every bench target.
            "--bench" => {}
            "--out" => out = PathBuf::from(args.next().context("--out needs a path")?),
            other => bail!(
                "unknown argument `{other}` (expected --quick, --out PATH or --floor LISTEN \
                 UPSTREAM)"
            ),
        }
    }
    let sizes = if quick { QUICK } else { FULL };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let load_before = load_average();
    let mut report = runtime.block_on(run(sizes))?;
    report.load = (load_before, load_average());
    let command = if quick {
        "cargo bench --bench proxy_load -- --quick"
    } else {
        "cargo bench --bench proxy_load"
    };
    let markdown = report.markdown(command, quick);
    std::fs::write(&out, &markdown).with_context(|| format!("cannot write {}", out.display()))?;
    println!("{markdown}");
    eprintln!("wrote {}", out.display());
    Ok(())
}

// The run.

#[derive(Debug, Default)]
pub(crate) struct Report {
    /// The 1-, 5- and 15-minute load averages before and after the run.
    pub(crate) load: (String, String),
    pub(crate) small: (Stats, Stats),
    pub(crate) floor_small: Stats,
    pub(crate) translated: (Stats, Stats),
    pub(crate) big: (Stats, Stats),
    pub(crate) big_size: usize,
    pub(crate) ttfe: (Stats, Stats),
    pub(crate) gap: (Stats, Stats),
    pub(crate) floor_ttfe: Stats,
    /// Time to the first content byte on a raw connection: direct, floor, claude-lb.
    pub(crate) first_byte: [Stats; 3],
    /// claude-lb without the per-request bookkeeping (log level `warn`, no usage ledger).
    pub(crate) lean_small: Stats,
    /// Small passthrough requests with [`PAUSE`] before each: direct, floor, claude-lb, and
    /// claude-lb without the bookkeeping.
    pub(crate) paced: [Stats; 4],
    /// Small passthrough requests, each on a new connection: direct, floor, claude-lb, and
    /// claude-lb without the bookkeeping.
    pub(crate) fresh: [Stats; 4],
    pub(crate) rps_lean: f64,
    pub(crate) cpu_us_lean: f64,
    pub(crate) lean_rss_idle_kib: u64,
    pub(crate) floor_gap: Stats,
    /// CPU time per stream event: each process's CPU time over the sequential streams it
    /// carried, divided by the events it delivered.
    pub(crate) floor_event_cpu_ns: f64,
    pub(crate) event_cpu_ns: f64,
    pub(crate) lean_event_cpu_ns: f64,
    /// Medians of the repeated throughput runs, and the CPU time per request of the process
    /// that answered (the provider for direct, the floor, claude-lb).
    pub(crate) rps_direct: f64,
    pub(crate) rps_floor: f64,
    pub(crate) rps_proxy: f64,
    pub(crate) rps_translated: f64,
    pub(crate) cpu_us_mock: f64,
    pub(crate) cpu_us_floor: f64,
    pub(crate) cpu_us_proxy: f64,
    pub(crate) cpu_us_translated: f64,
    pub(crate) rss_idle_kib: u64,
    pub(crate) floor_rss_idle_kib: u64,
    pub(crate) mock_rss_idle_kib: u64,
    pub(crate) hwm_idle_kib: u64,
    pub(crate) hwm_load_kib: u64,
    pub(crate) hwm_final_kib: u64,
    pub(crate) soak_requests: usize,
    pub(crate) soak_before_kib: u64,
    pub(crate) soak_after_kib: u64,
    pub(crate) soak_secs: f64,
    pub(crate) streams: usize,
    pub(crate) streams_complete: usize,
    pub(crate) streams_events: usize,
    pub(crate) streams_expected_each: usize,
    pub(crate) streams_peak_open: usize,
}

pub(crate) async fn run(sizes: Sizes) -> anyhow::Result<Report> {
    let fast = mock("anthropic", &[])?;
    let openai = mock("openai", &[])?;
    let streaming = mock("anthropic", &["--event-gap-ms", "1"])?;
    let slow = mock(
        "anthropic",
        &["--latency-ms", "1000", "--event-gap-ms", "20"],
    )?;
    let proxy_addr = free_addr()?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("providers.yaml");
    // The usage ledger writes to a file of the temporary directory, never the user's data
    // directory, and not beside the config, as by default: the reload watcher would wake for
    // each of its writes. `CLAUDE_LB_BENCH_USAGE=off` measures without it.
    let usage_store = match std::env::var("CLAUDE_LB_BENCH_USAGE").as_deref() {
        Ok("off") => "off".to_owned(),
        _ => dir
            .path()
            .join("data")
            .join("usage.db")
            .display()
            .to_string(),
    };
    // `CLAUDE_LB_BENCH_SHARED_STATE=redis://...` measures a replica sharing state there, and
    // `CLAUDE_LB_BENCH_CLIENT_LIMITS=on` gives the client limits (counted in Redis when state
    // is shared), which put a question to Redis on every request's path.
    let shared_state = std::env::var("CLAUDE_LB_BENCH_SHARED_STATE")
        .map(|url| format!("  shared_state: \"{url}\"\n"))
        .unwrap_or_default();
    let limits = match std::env::var("CLAUDE_LB_BENCH_CLIENT_LIMITS").as_deref() {
        Ok("on") => "    requests_per_minute: 100000000\n    max_concurrent: 100000\n",
        _ => "",
    };
    // The providers and clients, shared by both processes.
    let pool = format!(
        "providers:
  - name: fast
    type: anthropic
    auth_type: api_key
    auth_value: bench-key
    base_url: http://{fast}
    models: {{ claude-bench: claude-bench }}
  - name: openai
    type: openai
    auth_type: api_key
    auth_value: bench-key
    base_url: http://{openai}/v1
    models: {{ claude-bench-openai: gpt-bench }}
  - name: streaming
    type: anthropic
    auth_type: api_key
    auth_value: bench-key
    base_url: http://{streaming}
    models: {{ claude-bench-stream: claude-bench-stream }}
  - name: slow
    type: anthropic
    auth_type: api_key
    auth_value: bench-key
    base_url: http://{slow}
    models: {{ claude-bench-slow: claude-bench-slow }}
# Every request is authenticated, as on a shared instance: the key is the one requests send.
clients:
  - name: bench
    key: bench-key
{limits}",
        fast = fast.addr,
        openai = openai.addr,
        streaming = streaming.addr,
        slow = slow.addr,
    );
    std::fs::write(
        &config,
        format!(
            "{pool}settings:
  listen: {proxy_addr}
  usage:
    store: {usage_store}
{shared_state}"
        ),
    )?;
    let proxy = Process::spawn(
        &["serve", "--config", config.to_str().context("temp path")?],
        proxy_addr,
    )?;
    // The same pool without the per-request bookkeeping the floor does not do: no log line
    // (`warn`) and no usage ledger. It is measured beside the default, to say what that
    // bookkeeping costs and what the proxy path costs alone.
    let lean_addr = free_addr()?;
    let lean_config = dir.path().join("lean").join("providers.yaml");
    std::fs::create_dir_all(lean_config.parent().context("temp path")?)?;
    std::fs::write(
        &lean_config,
        format!(
            "{pool}settings:
  listen: {lean_addr}
  log_level: warn
  usage:
    store: off
{shared_state}"
        ),
    )?;
    let lean = Process::spawn(
        &[
            "serve",
            "--config",
            lean_config.to_str().context("temp path")?,
        ],
        lean_addr,
    )?;
    let floor_fast = floor(fast.addr)?;
    let floor_streaming = floor(streaming.addr)?;
    let mut report = Report::default();
    (report.rss_idle_kib, report.hwm_idle_kib) = proxy.memory()?;
    report.floor_rss_idle_kib = floor_fast.memory()?.0;
    report.lean_rss_idle_kib = lean.memory()?.0;
    report.mock_rss_idle_kib = fast.memory()?.0;

    let via = format!("http://{proxy_addr}");
    let hello = "Say hello in one short sentence.";
    let small_direct = anthropic_target(
        &format!("http://{}", fast.addr),
        "claude-bench",
        hello,
        false,
    );
    let small_proxied = anthropic_target(&via, "claude-bench", hello, false);
    let small_lean = anthropic_target(&format!("http://{lean_addr}"), "claude-bench", hello, false);
    let small_floor = anthropic_target(
        &format!("http://{}", floor_fast.addr),
        "claude-bench",
        hello,
        false,
    );
    let tr_direct = openai_target(&format!("http://{}", openai.addr), "gpt-bench", hello);
    let tr_proxied = anthropic_target(&via, "claude-bench-openai", hello, false);
    let st_direct = anthropic_target(
        &format!("http://{}", streaming.addr),
        "claude-bench-stream",
        hello,
        true,
    );
    let st_proxied = anthropic_target(&via, "claude-bench-stream", hello, true);
    let st_lean = anthropic_target(
        &format!("http://{lean_addr}"),
        "claude-bench-stream",
        hello,
        true,
    );
    let st_floor = anthropic_target(
        &format!("http://{}", floor_streaming.addr),
        "claude-bench-stream",
        hello,
        true,
    );
    let big_text = "lorem ipsum dolor sit amet ".repeat(512 * 1024 / 27 + 1);
    let big_direct = anthropic_target(
        &format!("http://{}", fast.addr),
        "claude-bench",
        &big_text,
        false,
    );
    let big_proxied = anthropic_target(&via, "claude-bench", &big_text, false);
    report.big_size = big_proxied.body.len();

    let client = client()?;
    eprintln!("warming up ({} requests)", sizes.warmup);
    let small = [&small_direct, &small_floor, &small_proxied, &small_lean];
    interleaved_latency(&client, &small, sizes.warmup / 2).await?;
    paired_latency(&client, &tr_direct, &tr_proxied, sizes.warmup / 2).await?;

    eprintln!(
        "latency: small passthrough (direct, floor, claude-lb, claude-lb without bookkeeping), \
         translated ({} each)",
        sizes.latency
    );
    let stats = interleaved_latency(&client, &small, sizes.latency).await?;
    report.small = (stats[0], stats[2]);
    report.floor_small = stats[1];
    report.lean_small = stats[3];
    eprintln!(
        "latency with {PAUSE:?} before each request ({} per target)",
        sizes.paced
    );
    let stats = paced_latency(&client, &small, sizes.paced, PAUSE).await?;
    report.paced = [stats[0], stats[1], stats[2], stats[3]];
    eprintln!(
        "latency with a new connection per request ({} per target)",
        sizes.paced
    );
    let stats = interleaved_latency(&request::fresh_client()?, &small, sizes.paced).await?;
    report.fresh = [stats[0], stats[1], stats[2], stats[3]];
    report.translated = paired_latency(&client, &tr_direct, &tr_proxied, sizes.latency).await?;

    eprintln!(
        "streams: first content event and gaps (direct, floor, claude-lb, claude-lb without \
         bookkeeping: {} each)",
        sizes.streams
    );
    let mut direct_timing = StreamTiming::default();
    let mut floor_timing = StreamTiming::default();
    let mut proxied_timing = StreamTiming::default();
    // Only its CPU time per event is reported.
    let mut lean_timing = StreamTiming::default();
    let mut expected = Vec::new();
    let (mut floor_events, mut proxied_events, mut lean_events) = (0usize, 0usize, 0usize);
    let floor_cpu = floor_streaming.cpu_ns()?;
    let proxy_cpu = proxy.cpu_ns()?;
    let lean_cpu = lean.cpu_ns()?;
    for i in 0..sizes.streams {
        for k in 0..4 {
            match (i + k) % 4 {
                0 => expected = timed_stream(&client, &st_direct, &mut direct_timing).await?,
                1 => {
                    floor_events += timed_stream(&client, &st_floor, &mut floor_timing)
                        .await?
                        .len();
                }
                2 => {
                    proxied_events += timed_stream(&client, &st_proxied, &mut proxied_timing)
                        .await?
                        .len();
                }
                _ => {
                    lean_events += timed_stream(&client, &st_lean, &mut lean_timing)
                        .await?
                        .len();
                }
            }
        }
    }
    report.floor_event_cpu_ns =
        (floor_streaming.cpu_ns()? - floor_cpu) as f64 / floor_events.max(1) as f64;
    report.event_cpu_ns = (proxy.cpu_ns()? - proxy_cpu) as f64 / proxied_events.max(1) as f64;
    report.lean_event_cpu_ns = (lean.cpu_ns()? - lean_cpu) as f64 / lean_events.max(1) as f64;
    report.ttfe = (
        Stats::of(direct_timing.first_content),
        Stats::of(proxied_timing.first_content),
    );
    report.gap = (
        Stats::of(direct_timing.gaps),
        Stats::of(proxied_timing.gaps),
    );
    report.floor_ttfe = Stats::of(floor_timing.first_content);
    eprintln!(
        "streams: first content byte on a raw connection ({} each)",
        sizes.raw_streams
    );
    let stats =
        first_content_bytes(&[&st_direct, &st_floor, &st_proxied], sizes.raw_streams).await?;
    report.first_byte = [stats[0], stats[1], stats[2]];
    report.floor_gap = Stats::of(floor_timing.gaps);
    drop(floor_streaming);

    eprintln!(
        "throughput at {CONNECTIONS} connections ({:?} each, direct, floor, claude-lb \
         passthrough and translated, claude-lb without bookkeeping, {REPETITIONS} times in \
         rotating order)",
        sizes.throughput
    );
    let runs: [(&Target, &Process); 5] = [
        (&small_direct, &fast),
        (&small_floor, &floor_fast),
        (&small_proxied, &proxy),
        (&tr_proxied, &proxy),
        (&small_lean, &lean),
    ];
    let mut loads: [Vec<Load>; 5] = Default::default();
    for rep in 0..REPETITIONS {
        for k in 0..runs.len() {
            let which = (rep + k) % runs.len();
            let (target, process) = runs[which];
            loads[which].push(measured_load(target, process, sizes.throughput).await?);
        }
    }
    let [direct, floor_load, passthrough, translated, lean_load] = loads.map(|l| Load::median(&l));
    report.rps_direct = direct.rps;
    report.cpu_us_mock = direct.cpu_us;
    report.rps_floor = floor_load.rps;
    report.cpu_us_floor = floor_load.cpu_us;
    report.rps_proxy = passthrough.rps;
    report.cpu_us_proxy = passthrough.cpu_us;
    report.rps_translated = translated.rps;
    report.cpu_us_translated = translated.cpu_us;
    report.rps_lean = lean_load.rps;
    report.cpu_us_lean = lean_load.cpu_us;
    report.hwm_load_kib = proxy.memory()?.1;
    drop(floor_fast);
    drop(lean);

    eprintln!("memory over {} requests", sizes.soak);
    report.soak_requests = sizes.soak;
    report.soak_before_kib = proxy.memory()?.0;
    report.soak_secs = fixed_load(&small_proxied, CONNECTIONS, sizes.soak)
        .await?
        .as_secs_f64();
    report.soak_after_kib = proxy.memory()?.0;

    eprintln!("512 KB bodies ({})", sizes.big);
    report.big = paired_latency(&client, &big_direct, &big_proxied, sizes.big).await?;

    eprintln!("{} concurrent streams", sizes.concurrent_streams);
    let slow_direct = anthropic_target(
        &format!("http://{}", slow.addr),
        "claude-bench-slow",
        hello,
        true,
    );
    let slow_proxied = anthropic_target(&via, "claude-bench-slow", hello, true);
    let one = exchange(&client, &slow_direct).await?;
    report.streams_expected_each = String::from_utf8_lossy(&one).matches("event: ").count();
    debug_assert_eq!(report.streams_expected_each, expected.len());
    report.streams = sizes.concurrent_streams;
    (
        report.streams_complete,
        report.streams_events,
        report.streams_peak_open,
    ) = concurrent_streams(
        &slow_proxied,
        sizes.concurrent_streams,
        report.streams_expected_each,
    )
    .await?;
    report.hwm_final_kib = proxy.memory()?.1;
    drop(proxy);
    Ok(report)
}

/// Requests per second of one throughput run and the CPU time per request of one process.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Load {
    pub(crate) rps: f64,
    pub(crate) cpu_us: f64,
}

impl Load {
    /// The median of each figure on its own.
    fn median(loads: &[Self]) -> Self {
        let median = |pick: fn(&Self) -> f64| {
            let mut values: Vec<f64> = loads.iter().map(pick).collect();
            values.sort_by(f64::total_cmp);
            values.get(values.len() / 2).copied().unwrap_or_default()
        };
        Self {
            rps: median(|l| l.rps),
            cpu_us: median(|l| l.cpu_us),
        }
    }
}

/// One throughput run against `target`, with the CPU time `process` spent on it.
async fn measured_load(
    target: &Target,
    process: &Process,
    duration: Duration,
) -> anyhow::Result<Load> {
    let tick_us = 1e6 / clock_ticks_per_second() as f64;
    let before = process.cpu_ticks()?;
    let (n, took) = throughput(target, CONNECTIONS, duration).await?;
    let ticks = process.cpu_ticks()? - before;
    Ok(Load {
        rps: n as f64 / took.as_secs_f64(),
        cpu_us: ticks as f64 * tick_us / n.max(1) as f64,
    })
}

/// The 1-, 5- and 15-minute load averages, as `/proc/loadavg` gives them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_owned(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}
