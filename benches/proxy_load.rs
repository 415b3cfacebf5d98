//! How much `claude-lb serve` adds: latency, throughput, CPU and memory, each against calling
//! the simulated provider directly in the same run.
//!
//! Run it with `cargo bench --bench proxy_load` (about two minutes on 2 cores), or
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
//! two so that drift in the machine's load hits both alike.

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

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_claude-lb");

/// How much of each measurement to run.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    warmup: usize,
    latency: usize,
    big: usize,
    streams: usize,
    throughput: Duration,
    concurrent_streams: usize,
    soak: usize,
}

const FULL: Sizes = Sizes {
    warmup: 2_000,
    latency: 5_000,
    big: 400,
    streams: 500,
    throughput: Duration::from_secs(10),
    concurrent_streams: 1_000,
    soak: 100_000,
};

const QUICK: Sizes = Sizes {
    warmup: 200,
    latency: 300,
    big: 40,
    streams: 50,
    throughput: Duration::from_secs(2),
    concurrent_streams: 200,
    soak: 5_000,
};

/// The connections of the throughput and soak runs.
const CONNECTIONS: usize = 32;

fn main() -> anyhow::Result<()> {
    let mut quick = false;
    let mut out = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            // `cargo bench` passes `--bench` to every bench target.
            "--bench" => {}
            "--out" => out = PathBuf::from(args.next().context("--out needs a path")?),
            other => bail!("unknown argument `{other}` (expected --quick or --out PATH)"),
        }
    }
    let sizes = if quick { QUICK } else { FULL };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(run(sizes))?;
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

// ---------------------------------------------------------------------------------------------
// Processes.

/// A child process that is killed when dropped.
struct Process {
    child: Child,
    addr: SocketAddr,
}

impl Process {
    fn spawn(args: &[&str], addr: SocketAddr) -> anyhow::Result<Self> {
        let child = Command::new(BIN)
            .args(args)
            .env_remove("CLAUDE_LB_CONFIG")
            .env_remove("CLAUDE_LB_LOG")
            .env_remove("CLAUDE_LB_LISTEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {BIN}"))?;
        let mut process = Self { child, addr };
        let deadline = std::time::Duration::from_secs(15);
        let mut waited = Duration::ZERO;
        while TcpStream::connect(addr).is_err() {
            if let Some(status) = process.child.try_wait()? {
                bail!("`claude-lb {}` exited at start: {status}", args.join(" "));
            }
            if waited > deadline {
                bail!("`claude-lb {}` did not listen on {addr}", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(20));
            waited += Duration::from_millis(20);
        }
        Ok(process)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `VmRSS` and `VmHWM`, in KiB.
    fn memory(&self) -> anyhow::Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .with_context(|| format!("no {name} in /proc/PID/status"))
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// User plus system CPU time so far, in clock ticks.
    fn cpu_ticks(&self) -> anyhow::Result<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        // The command name may hold spaces; the fields after its closing parenthesis do not.
        let rest = &stat[stat.rfind(')').context("malformed /proc/PID/stat")? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after `) `.
        let utime: u64 = fields[11].parse()?;
        let stime: u64 = fields[12].parse()?;
        Ok(utime + stime)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

fn mock(kind: &str, extra: &[&str]) -> anyhow::Result<Process> {
    let addr = free_addr()?;
    let listen = addr.to_string();
    let mut args = vec!["mock", "--type", kind, "--listen", &listen];
    args.extend_from_slice(extra);
    Process::spawn(&args, addr)
}

// ---------------------------------------------------------------------------------------------
// Requests.

/// One kind of request, sent either straight to a provider or through the proxy.
#[derive(Clone)]
struct Target {
    url: String,
    headers: reqwest::header::HeaderMap,
    body: Bytes,
}

fn anthropic_target(base: &str, model: &str, content: &str, stream: bool) -> Target {
    let body = serde_json::json!({
        "model": model,
        "max_tokens": 256,
        "stream": stream,
        "messages": [{"role": "user", "content": content}],
    });
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("anthropic-version", "2023-06-01".parse().unwrap());
    headers.insert("x-api-key", "bench-key".parse().unwrap());
    Target {
        url: format!("{base}/v1/messages"),
        headers,
        body: Bytes::from(body.to_string()),
    }
}

fn openai_target(base: &str, model: &str, content: &str) -> Target {
    let body = serde_json::json!({
        "model": model,
        "max_completion_tokens": 256,
        "messages": [{"role": "user", "content": content}],
    });
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("authorization", "Bearer bench-key".parse().unwrap());
    Target {
        url: format!("{base}/v1/chat/completions"),
        headers,
        body: Bytes::from(body.to_string()),
    }
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(300))
        .build()?)
}

/// Sends one request and reads the whole answer; fails on anything but a 200.
async fn exchange(client: &reqwest::Client, target: &Target) -> anyhow::Result<Bytes> {
    let response = client
        .post(&target.url)
        .headers(target.headers.clone())
        .body(target.body.clone())
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    if status != 200 {
        bail!(
            "{} answered {status}: {}",
            target.url,
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    Ok(body)
}

// ---------------------------------------------------------------------------------------------
// Measurements.

/// Latencies of `n` requests to each of two targets, alternating, one connection each.
async fn paired_latency(
    client: &reqwest::Client,
    direct: &Target,
    proxied: &Target,
    n: usize,
) -> anyhow::Result<(Stats, Stats)> {
    let mut a = Vec::with_capacity(n);
    let mut b = Vec::with_capacity(n);
    for i in 0..n {
        // Alternate which goes first so neither always follows the other.
        let order = if i % 2 == 0 {
            [(direct, &mut a), (proxied, &mut b)]
        } else {
            [(proxied, &mut b), (direct, &mut a)]
        };
        for (target, into) in order {
            let started = Instant::now();
            exchange(client, target).await?;
            into.push(started.elapsed());
        }
    }
    Ok((Stats::of(a), Stats::of(b)))
}

/// Percentiles of a set of durations.
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    p50: Duration,
    p99: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Self {
            p50: at(0.50),
            p99: at(0.99),
        }
    }
}

/// Time to the first content event and the median gap between events of one stream.
#[derive(Debug, Default)]
struct StreamTiming {
    first_content: Vec<Duration>,
    gaps: Vec<Duration>,
}

/// Reads a stream, noting when each event arrived; returns the event names.
async fn timed_stream(
    client: &reqwest::Client,
    target: &Target,
    timing: &mut StreamTiming,
) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    let response = client
        .post(&target.url)
        .headers(target.headers.clone())
        .body(target.body.clone())
        .send()
        .await?;
    if response.status() != 200 {
        bail!("{} answered {}", target.url, response.status());
    }
    let mut body = response.bytes_stream();
    let mut buffer: Vec<u8> = Vec::new();
    let mut names = Vec::new();
    let mut last: Option<Instant> = None;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        let now = Instant::now();
        buffer.extend_from_slice(&chunk);
        while let Some(end) = find(&buffer, b"\n\n") {
            let event: Vec<u8> = buffer.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&event);
            let name = text
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or("")
                .to_owned();
            if name == "content_block_start" && last.is_none() {
                timing.first_content.push(now - started);
            }
            if name != "message_start" && name != "ping" {
                if let Some(previous) = last {
                    timing.gaps.push(now - previous);
                }
                last = Some(now);
            }
            names.push(name);
        }
    }
    Ok(names)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Requests per second over `duration` with `connections` concurrent keep-alive connections.
async fn throughput(
    target: &Target,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<(usize, Duration)> {
    let client = client()?;
    let done = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let target = target.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                exchange(&client, &target).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok((done.load(Ordering::Relaxed), started.elapsed()))
}

/// Sends exactly `total` requests over `connections` connections.
async fn fixed_load(target: &Target, connections: usize, total: usize) -> anyhow::Result<Duration> {
    let client = client()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let target = target.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < total {
                exchange(&client, &target).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(started.elapsed())
}

/// `count` streams at once, each on its own connection; returns how many arrived whole (every
/// event, ending with `message_stop`) and the most that were in flight at the same time.
async fn concurrent_streams(
    target: &Target,
    count: usize,
    expected_events: usize,
) -> anyhow::Result<(usize, usize, usize)> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()?;
    let open = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..count {
        let client = client.clone();
        let target = target.clone();
        let open = open.clone();
        let peak = peak.clone();
        tasks.push(tokio::spawn(async move {
            let now_open = open.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now_open, Ordering::SeqCst);
            let response = client
                .post(&target.url)
                .headers(target.headers.clone())
                .body(target.body.clone())
                .send()
                .await;
            let body = match response {
                Ok(response) => response.bytes().await,
                Err(error) => Err(error),
            };
            open.fetch_sub(1, Ordering::SeqCst);
            let body = body?;
            let text = String::from_utf8_lossy(&body);
            let events = text.matches("event: ").count();
            let whole = text
                .trim_end()
                .ends_with("data: {\"type\":\"message_stop\"}")
                || text.contains("event: message_stop");
            anyhow::Ok((events, whole))
        }));
    }
    let mut complete = 0;
    let mut events = 0;
    for task in tasks {
        let (n, whole) = task.await??;
        events += n;
        if whole && n == expected_events {
            complete += 1;
        }
    }
    Ok((complete, events, peak.load(Ordering::SeqCst)))
}

// ---------------------------------------------------------------------------------------------
// The run.

#[derive(Debug, Default)]
struct Report {
    small: (Stats, Stats),
    translated: (Stats, Stats),
    big: (Stats, Stats),
    big_size: usize,
    ttfe: (Stats, Stats),
    gap: (Stats, Stats),
    rps_direct: f64,
    rps_proxy: f64,
    cpu_us_proxy: f64,
    cpu_us_mock: f64,
    rss_idle_kib: u64,
    hwm_idle_kib: u64,
    hwm_load_kib: u64,
    hwm_final_kib: u64,
    soak_requests: usize,
    soak_before_kib: u64,
    soak_after_kib: u64,
    soak_secs: f64,
    streams: usize,
    streams_complete: usize,
    streams_events: usize,
    streams_expected_each: usize,
    streams_peak_open: usize,
}

async fn run(sizes: Sizes) -> anyhow::Result<Report> {
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
    std::fs::write(
        &config,
        format!(
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
settings:
  listen: {proxy_addr}
",
            fast = fast.addr,
            openai = openai.addr,
            streaming = streaming.addr,
            slow = slow.addr,
        ),
    )?;
    let proxy = Process::spawn(
        &["serve", "--config", config.to_str().context("temp path")?],
        proxy_addr,
    )?;
    let mut report = Report::default();
    (report.rss_idle_kib, report.hwm_idle_kib) = proxy.memory()?;

    let via = format!("http://{proxy_addr}");
    let hello = "Say hello in one short sentence.";
    let small_direct = anthropic_target(
        &format!("http://{}", fast.addr),
        "claude-bench",
        hello,
        false,
    );
    let small_proxied = anthropic_target(&via, "claude-bench", hello, false);
    let tr_direct = openai_target(&format!("http://{}", openai.addr), "gpt-bench", hello);
    let tr_proxied = anthropic_target(&via, "claude-bench-openai", hello, false);
    let st_direct = anthropic_target(
        &format!("http://{}", streaming.addr),
        "claude-bench-stream",
        hello,
        true,
    );
    let st_proxied = anthropic_target(&via, "claude-bench-stream", hello, true);
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
    paired_latency(&client, &small_direct, &small_proxied, sizes.warmup / 2).await?;
    paired_latency(&client, &tr_direct, &tr_proxied, sizes.warmup / 2).await?;

    eprintln!(
        "latency: small passthrough, translated ({} each)",
        sizes.latency
    );
    report.small = paired_latency(&client, &small_direct, &small_proxied, sizes.latency).await?;
    report.translated = paired_latency(&client, &tr_direct, &tr_proxied, sizes.latency).await?;

    eprintln!("streams: first content event and gaps ({})", sizes.streams);
    let mut direct_timing = StreamTiming::default();
    let mut proxied_timing = StreamTiming::default();
    let mut expected = Vec::new();
    for i in 0..sizes.streams {
        let names_direct;
        if i % 2 == 0 {
            names_direct = timed_stream(&client, &st_direct, &mut direct_timing).await?;
            timed_stream(&client, &st_proxied, &mut proxied_timing).await?;
        } else {
            timed_stream(&client, &st_proxied, &mut proxied_timing).await?;
            names_direct = timed_stream(&client, &st_direct, &mut direct_timing).await?;
        }
        expected = names_direct;
    }
    report.ttfe = (
        Stats::of(direct_timing.first_content),
        Stats::of(proxied_timing.first_content),
    );
    report.gap = (
        Stats::of(direct_timing.gaps),
        Stats::of(proxied_timing.gaps),
    );

    eprintln!(
        "throughput at {CONNECTIONS} connections ({:?} each)",
        sizes.throughput
    );
    let (n, took) = throughput(&small_direct, CONNECTIONS, sizes.throughput).await?;
    report.rps_direct = n as f64 / took.as_secs_f64();
    let proxy_cpu = proxy.cpu_ticks()?;
    let mock_cpu = fast.cpu_ticks()?;
    let (n, took) = throughput(&small_proxied, CONNECTIONS, sizes.throughput).await?;
    report.rps_proxy = n as f64 / took.as_secs_f64();
    let tick_us = 1e6 / clock_ticks_per_second() as f64;
    report.cpu_us_proxy = (proxy.cpu_ticks()? - proxy_cpu) as f64 * tick_us / n as f64;
    report.cpu_us_mock = (fast.cpu_ticks()? - mock_cpu) as f64 * tick_us / n as f64;
    report.hwm_load_kib = proxy.memory()?.1;

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

// ---------------------------------------------------------------------------------------------
// The report.

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn added(pair: (Stats, Stats), pick: fn(&Stats) -> Duration) -> f64 {
    us(pick(&pair.1)) - us(pick(&pair.0))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn met(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

impl Report {
    fn rows(&self) -> Vec<[String; 6]> {
        let small_50 = added(self.small, |s| s.p50);
        let big_50 = added(self.big, |s| s.p50);
        let growth_kib = i64::try_from(self.soak_after_kib).unwrap_or(i64::MAX)
            - i64::try_from(self.soak_before_kib).unwrap_or(i64::MAX);
        let mut rows: Vec<[String; 6]> = Vec::new();
        let mut row = |cells: [&str; 6]| rows.push(cells.map(str::to_owned));
        let lat = |row: &mut dyn FnMut([&str; 6]),
                   name: &str,
                   pair: (Stats, Stats),
                   target: &str,
                   verdict: &str,
                   added50: &str| {
            let a99 = added(pair, |s| s.p99);
            row([
                &format!("{name}, p50"),
                &format!("{:.0} µs", us(pair.0.p50)),
                &format!("{:.0} µs", us(pair.1.p50)),
                added50,
                target,
                verdict,
            ]);
            row([
                &format!("{name}, p99"),
                &format!("{:.0} µs", us(pair.0.p99)),
                &format!("{:.0} µs", us(pair.1.p99)),
                &format!("{a99:+.0} µs"),
                "—",
                "—",
            ]);
        };
        let tr_50 = added(self.translated, |s| s.p50);
        lat(
            &mut row,
            "Small passthrough request",
            self.small,
            "≤ +150 µs at p50",
            met(small_50 <= 150.0),
            &format!("{small_50:+.0} µs"),
        );
        lat(
            &mut row,
            "Small translated request (OpenAI type)",
            self.translated,
            "≤ +300 µs at p50",
            met(tr_50 <= 300.0),
            &format!("{tr_50:+.0} µs"),
        );
        let big_vs_small = big_50 - small_50;
        lat(
            &mut row,
            &format!("{} KiB passthrough request", self.big_size / 1024),
            self.big,
            "≤ 1 ms more than a small one",
            met(big_vs_small <= 1000.0),
            &format!("{big_50:+.0} µs ({big_vs_small:+.0} µs vs small)"),
        );
        let ttfe_50 = added(self.ttfe, |s| s.p50);
        lat(
            &mut row,
            "Stream: time to first content event",
            self.ttfe,
            "—",
            "—",
            &format!("{ttfe_50:+.0} µs"),
        );
        let gap_50 = added(self.gap, |s| s.p50);
        lat(
            &mut row,
            "Stream: gap between events",
            self.gap,
            "—",
            "—",
            &format!("{gap_50:+.0} µs"),
        );
        row([
            &format!("Throughput at {CONNECTIONS} connections"),
            &format!("{:.0} req/s", self.rps_direct),
            &format!("{:.0} req/s", self.rps_proxy),
            &format!("{:.0}% of direct", 100.0 * self.rps_proxy / self.rps_direct),
            "≥ 5,000 req/s",
            met(self.rps_proxy >= 5000.0),
        ]);
        row([
            "CPU time per request (small passthrough, during the throughput run)",
            &format!("{:.0} µs (provider)", self.cpu_us_mock),
            &format!("{:.0} µs (proxy)", self.cpu_us_proxy),
            "—",
            "—",
            "—",
        ]);
        row([
            "Proxy memory idle (RSS after start, before any request)",
            "—",
            &format!("{:.1} MiB", mib(self.rss_idle_kib)),
            "—",
            "≤ 15 MB",
            met(self.rss_idle_kib * 1024 <= 15_000_000),
        ]);
        row([
            &format!("Proxy peak memory (VmHWM) after the {CONNECTIONS}-connection run"),
            "—",
            &format!("{:.1} MiB", mib(self.hwm_load_kib)),
            "—",
            "—",
            "—",
        ]);
        row([
            &format!(
                "Proxy peak memory (VmHWM) after {} concurrent streams",
                self.streams
            ),
            "—",
            &format!("{:.1} MiB", mib(self.hwm_final_kib)),
            "—",
            "—",
            "—",
        ]);
        row([
            &format!("Proxy RSS over {} requests", self.soak_requests),
            "—",
            &format!(
                "{:.1} → {:.1} MiB",
                mib(self.soak_before_kib),
                mib(self.soak_after_kib)
            ),
            &format!("{growth_kib:+} KiB"),
            "no growth (≤ 1 MiB: allocator noise)",
            met(growth_kib <= 1024),
        ]);
        row([
            &format!("{} concurrent streams", self.streams),
            &format!("{} events each", self.streams_expected_each),
            &format!(
                "{}/{} whole, {} events, {} in flight at once",
                self.streams_complete, self.streams, self.streams_events, self.streams_peak_open
            ),
            "—",
            "every event delivered",
            met(self.streams_complete == self.streams
                && self.streams_events == self.streams * self.streams_expected_each),
        ]);
        rows
    }

    fn markdown(&self, command: &str, quick: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Benchmarks\n");
        let _ = writeln!(
            out,
            "How much `claude-lb serve` adds over calling a provider directly. Generated by \
             `{command}`, which rewrites this file{}.\n",
            if quick {
                " (a `--quick` smoke run: small samples, not figures to quote)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            out,
            "- Machine: {} cores ({}), {}",
            nproc(),
            cpu_model(),
            kernel()
        );
        let _ = writeln!(
            out,
            "- Setup: the release binary as separate processes on loopback: `claude-lb serve` in \
             front of `claude-lb mock` providers (no simulated latency except for the streams), \
             with the default settings (log level `info`, one log line per request to stderr, \
             here /dev/null). The load generator is the bench itself: one thread, `reqwest`, \
             keep-alive connections. Generator, proxy and providers share the machine's cores, \
             so the throughput figure is bounded by the one-thread generator as much as by the \
             proxy; the proxy's CPU time per request says what it would take alone."
        );
        let _ = writeln!(
            out,
            "- Method: each request is sent straight to the provider and through the proxy, \
             alternately, on one connection each; \"added\" is the difference of the two \
             percentiles. Streams: {} events, 1 ms apart; the proxy holds `message_start` back \
             until the first content event (the commit point) and sends them together.",
            self.streams_expected_each
        );
        let _ = writeln!(
            out,
            "- Samples: {} latency pairs per request kind, {} with a {} KiB body, {} streams, \
             {:?} per throughput run, {} requests for the memory run ({:.1} s).\n",
            if quick { QUICK.latency } else { FULL.latency },
            if quick { QUICK.big } else { FULL.big },
            self.big_size / 1024,
            if quick { QUICK.streams } else { FULL.streams },
            if quick {
                QUICK.throughput
            } else {
                FULL.throughput
            },
            self.soak_requests,
            self.soak_secs,
        );
        let _ = writeln!(
            out,
            "| Measure | Direct | Via claude-lb | Added | Target | Met |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---|---|");
        for r in &self.rows() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                r[0], r[1], r[2], r[3], r[4], r[5]
            );
        }
        out
    }
}

fn nproc() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or_else(
        |_| "unknown kernel".to_owned(),
        |v| format!("Linux {}", v.trim()),
    )
}
