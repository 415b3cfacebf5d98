//! The report: figures turned into `BENCHMARKS.md`, with the machine they were measured on.

use std::fmt::Write as _;
use std::time::Duration;

use crate::measure::Stats;
use crate::{CONNECTIONS, FULL, PAUSE, QUICK, REPETITIONS, Report};

pub(crate) fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub(crate) fn added(pair: (Stats, Stats), pick: fn(&Stats) -> Duration) -> f64 {
    us(pick(&pair.1)) - us(pick(&pair.0))
}

pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `a / b` as a ratio, or a dash when `b` is too small for the ratio to mean anything.
pub(crate) fn ratio(a: f64, b: f64) -> String {
    if b > 0.5 {
        format!("{:.2}×", a / b)
    } else {
        "—".to_owned()
    }
}

/// A row of the bookkeeping table from p50s measured for direct, the floor, claude-lb and
/// claude-lb without the bookkeeping: what each proxy adds, and the ratios to the floor.
fn added_p50(name: String, stats: [Stats; 4]) -> [String; 6] {
    let [direct, floor, lb, lean] = stats.map(|s| us(s.p50));
    [
        name,
        format!("{:+.0} µs", floor - direct),
        format!("{:+.0} µs", lb - direct),
        format!("{:+.0} µs", lean - direct),
        ratio(lb - direct, floor - direct),
        ratio(lean - direct, floor - direct),
    ]
}

pub(crate) fn met(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

impl Report {
    pub(crate) fn rows(&self) -> Vec<[String; 6]> {
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
            "CPU time per request (small passthrough, medians of the throughput runs)",
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

    /// The figures side by side with the floor (a bare hyper proxy, the least any proxy can do
    /// on this path) and with direct: each claude-lb figure as a ratio to both.
    pub(crate) fn floor_rows(&self) -> Vec<[String; 8]> {
        let mut rows: Vec<[String; 8]> = Vec::new();
        let mut row = |cells: [&str; 8]| rows.push(cells.map(str::to_owned));
        // Latency: the floor and claude-lb as what they add over direct (and the total), the
        // ratio to the floor of what they add, the ratio to direct of the totals.
        let latency = |row: &mut dyn FnMut([&str; 8]),
                       name: &str,
                       direct: Duration,
                       floor: Duration,
                       lb: Duration,
                       target: &str,
                       verdict: &str| {
            let floor_added = us(floor) - us(direct);
            let lb_added = us(lb) - us(direct);
            row([
                name,
                &format!("{:.0} µs", us(direct)),
                &format!("{floor_added:+.0} µs ({:.0} µs)", us(floor)),
                &format!("{lb_added:+.0} µs ({:.0} µs)", us(lb)),
                &ratio(lb_added, floor_added),
                &ratio(us(lb), us(direct)),
                target,
                verdict,
            ]);
        };
        let small_added = added(self.small, |s| s.p50);
        let floor_added = us(self.floor_small.p50) - us(self.small.0.p50);
        latency(
            &mut row,
            "Added latency p50, small passthrough, one connection",
            self.small.0.p50,
            self.floor_small.p50,
            self.small.1.p50,
            "≤ 1.2× floor",
            met(small_added <= 1.2 * floor_added),
        );
        latency(
            &mut row,
            "Added latency p99, small passthrough, one connection",
            self.small.0.p99,
            self.floor_small.p99,
            self.small.1.p99,
            "—",
            "—",
        );
        let [direct, floor, lb, _] = self.paced;
        latency(
            &mut row,
            &format!(
                "Added latency p50, small passthrough, {} ms of quiet before each request",
                PAUSE.as_millis()
            ),
            direct.p50,
            floor.p50,
            lb.p50,
            "—",
            "—",
        );
        let [direct, floor, lb, _] = self.fresh;
        latency(
            &mut row,
            "Added latency p50, small passthrough, a new connection per request",
            direct.p50,
            floor.p50,
            lb.p50,
            "—",
            "—",
        );
        let tr_added = added(self.translated, |s| s.p50);
        row([
            "Added latency p50, small translated (floor: its passthrough)",
            &format!("{:.0} µs", us(self.translated.0.p50)),
            &format!("{floor_added:+.0} µs"),
            &format!("{tr_added:+.0} µs ({:.0} µs)", us(self.translated.1.p50)),
            &ratio(tr_added, floor_added),
            &ratio(us(self.translated.1.p50), us(self.translated.0.p50)),
            "≤ 1.5× floor",
            met(tr_added <= 1.5 * floor_added),
        ]);
        let [direct, floor, lb] = self.first_byte.map(|s| s.p50);
        latency(
            &mut row,
            "Stream: added time to first content byte, p50 (read off the socket)",
            direct,
            floor,
            lb,
            "≤ floor + 30 µs",
            met(us(lb) - us(direct) <= us(floor) - us(direct) + 30.0),
        );
        latency(
            &mut row,
            "Stream: added time to first content event, p50 (`reqwest`, after the answer's head)",
            self.ttfe.0.p50,
            self.floor_ttfe.p50,
            self.ttfe.1.p50,
            "—",
            "—",
        );
        latency(
            &mut row,
            "Stream: gap between events, p50",
            self.gap.0.p50,
            self.floor_gap.p50,
            self.gap.1.p50,
            "—",
            "—",
        );
        row([
            "CPU time per stream event (a stream's CPU time over its events)",
            "—",
            &format!("{:.1} µs", self.floor_event_cpu_ns / 1000.0),
            &format!("{:.1} µs", self.event_cpu_ns / 1000.0),
            &ratio(self.event_cpu_ns, self.floor_event_cpu_ns),
            "—",
            "≤ floor",
            met(self.event_cpu_ns <= self.floor_event_cpu_ns),
        ]);
        row([
            &format!("Throughput at {CONNECTIONS} connections, small passthrough"),
            &format!("{:.0} req/s", self.rps_direct),
            &format!("{:.0} req/s", self.rps_floor),
            &format!("{:.0} req/s", self.rps_proxy),
            &ratio(self.rps_proxy, self.rps_floor),
            &ratio(self.rps_proxy, self.rps_direct),
            "≥ 0.85× floor",
            met(self.rps_proxy >= 0.85 * self.rps_floor),
        ]);
        row([
            &format!("Throughput at {CONNECTIONS} connections, small translated"),
            "—",
            &format!("{:.0} req/s (passthrough)", self.rps_floor),
            &format!("{:.0} req/s", self.rps_translated),
            &ratio(self.rps_translated, self.rps_floor),
            "—",
            "—",
            "—",
        ]);
        row([
            "CPU time per request, small passthrough (direct: the provider's)",
            &format!("{:.1} µs", self.cpu_us_mock),
            &format!("{:.1} µs", self.cpu_us_floor),
            &format!("{:.1} µs", self.cpu_us_proxy),
            &ratio(self.cpu_us_proxy, self.cpu_us_floor),
            &ratio(self.cpu_us_proxy, self.cpu_us_mock),
            "≤ 1.3× floor",
            met(self.cpu_us_proxy <= 1.3 * self.cpu_us_floor),
        ]);
        row([
            "CPU time per request, small translated (floor: its passthrough)",
            "—",
            &format!("{:.1} µs", self.cpu_us_floor),
            &format!("{:.1} µs", self.cpu_us_translated),
            &ratio(self.cpu_us_translated, self.cpu_us_floor),
            "—",
            "≤ 1.6× floor",
            met(self.cpu_us_translated <= 1.6 * self.cpu_us_floor),
        ]);
        row([
            "Idle RSS after start (direct: the provider's)",
            &format!("{:.1} MiB", mib(self.mock_rss_idle_kib)),
            &format!("{:.1} MiB", mib(self.floor_rss_idle_kib)),
            &format!("{:.1} MiB", mib(self.rss_idle_kib)),
            &ratio(mib(self.rss_idle_kib), mib(self.floor_rss_idle_kib)),
            &ratio(mib(self.rss_idle_kib), mib(self.mock_rss_idle_kib)),
            "≤ 8 MiB",
            met(self.rss_idle_kib <= 8 * 1024),
        ]);
        rows
    }

    /// The floor, claude-lb with its defaults and claude-lb without the per-request log line
    /// and ledger row, side by side.
    pub(crate) fn lean_rows(&self) -> Vec<[String; 6]> {
        let direct = us(self.small.0.p50);
        let floor_added = us(self.floor_small.p50) - direct;
        let lb_added = us(self.small.1.p50) - direct;
        let lean_added = us(self.lean_small.p50) - direct;
        vec![
            [
                "Added latency p50, small passthrough, one connection".to_owned(),
                format!("{floor_added:+.0} µs"),
                format!("{lb_added:+.0} µs"),
                format!("{lean_added:+.0} µs"),
                ratio(lb_added, floor_added),
                ratio(lean_added, floor_added),
            ],
            added_p50(
                format!(
                    "Added latency p50, small passthrough, {} ms of quiet before each request",
                    PAUSE.as_millis()
                ),
                self.paced,
            ),
            added_p50(
                "Added latency p50, small passthrough, a new connection per request".to_owned(),
                self.fresh,
            ),
            [
                format!("Throughput at {CONNECTIONS} connections, small passthrough"),
                format!("{:.0} req/s", self.rps_floor),
                format!("{:.0} req/s", self.rps_proxy),
                format!("{:.0} req/s", self.rps_lean),
                ratio(self.rps_proxy, self.rps_floor),
                ratio(self.rps_lean, self.rps_floor),
            ],
            [
                "CPU time per request, small passthrough".to_owned(),
                format!("{:.1} µs", self.cpu_us_floor),
                format!("{:.1} µs", self.cpu_us_proxy),
                format!("{:.1} µs", self.cpu_us_lean),
                ratio(self.cpu_us_proxy, self.cpu_us_floor),
                ratio(self.cpu_us_lean, self.cpu_us_floor),
            ],
            [
                "CPU time per stream event (a stream's CPU time over its events)".to_owned(),
                format!("{:.1} µs", self.floor_event_cpu_ns / 1000.0),
                format!("{:.1} µs", self.event_cpu_ns / 1000.0),
                format!("{:.1} µs", self.lean_event_cpu_ns / 1000.0),
                ratio(self.event_cpu_ns, self.floor_event_cpu_ns),
                ratio(self.lean_event_cpu_ns, self.floor_event_cpu_ns),
            ],
            [
                "Idle RSS after start".to_owned(),
                format!("{:.1} MiB", mib(self.floor_rss_idle_kib)),
                format!("{:.1} MiB", mib(self.rss_idle_kib)),
                format!("{:.1} MiB", mib(self.lean_rss_idle_kib)),
                ratio(mib(self.rss_idle_kib), mib(self.floor_rss_idle_kib)),
                ratio(mib(self.lean_rss_idle_kib), mib(self.floor_rss_idle_kib)),
            ],
        ]
    }

    pub(crate) fn markdown(&self, command: &str, quick: bool) -> String {
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
            "- Machine: {} cores ({}), {}; load average (1, 5, 15 min) {} before the run, {} \
             after: the machine is shared, so compare ratios measured in the same run rather \
             than absolute figures across runs.",
            nproc(),
            cpu_model(),
            kernel(),
            self.load.0,
            self.load.1,
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
            "- Method: each request is sent straight to the provider, through the floor proxy \
             (small passthrough requests and streams) and through claude-lb, taking turns in a \
             rotating order, on one connection each; \"added\" is the difference of the \
             percentiles. The throughput runs (direct, floor, claude-lb passthrough and \
             translated) are repeated in rotating order and each figure is the median of the \
             repetitions. The paced run sends the same small requests in turn with {} ms of quiet \
             before each (an interactive client's pace: every process on the path has gone idle \
             when a request comes), where the back-to-back runs keep them busy; the fresh-connection \
             run sends them back to back, each on a new connection. Streams: {} \
             events, 1 ms apart; the proxy holds `message_start` back until the first content \
             event (the commit point) and sends them together, answer head included. The time to \
             the first content event is measured twice: with `reqwest`, as an HTTP client sees \
             it (after parsing the answer's head, which the floor sends at once and claude-lb \
             sends with the first content), and on a raw connection, where the clock stops when \
             the bytes of `content_block_start` reach the client's socket.",
            PAUSE.as_millis(),
            self.streams_expected_each
        );
        let _ = writeln!(
            out,
            "- Samples: {} latency pairs per request kind, {} paced requests and as many on new \
             connections per target, {} with \
             a {} KiB body, {} streams per target ({} more on a raw connection), {:?} per \
             throughput run repeated {REPETITIONS} times (medians), {} requests for the memory \
             run ({:.1} s).\n",
            if quick { QUICK.latency } else { FULL.latency },
            if quick { QUICK.paced } else { FULL.paced },
            if quick { QUICK.big } else { FULL.big },
            self.big_size / 1024,
            if quick { QUICK.streams } else { FULL.streams },
            if quick {
                QUICK.raw_streams
            } else {
                FULL.raw_streams
            },
            if quick {
                QUICK.throughput
            } else {
                FULL.throughput
            },
            self.soak_requests,
            self.soak_secs,
        );
        let _ = writeln!(out, "## Against the floor\n");
        let _ = writeln!(
            out,
            "The floor is a bare hyper passthrough proxy (`benches/proxy_load/floor.rs`: accept, \
             forward the body to one upstream through a pooled `hyper-util` client, stream the \
             answer back; no routing, authentication, logging or metrics), run as its own \
             process in front of the same provider and measured in turn with direct and \
             claude-lb (which authenticates every request with a configured client key). It is \
             the least work any proxy can do on this path, so the ratio to the floor says how \
             much of claude-lb's cost is its own. Latency cells give what each adds over direct \
             (and the total); \"÷ floor\" divides what claude-lb adds by what the floor adds, \
             \"÷ direct\" divides the totals. The translated request has no floor of its own: \
             it is compared with the floor's passthrough.\n"
        );
        let _ = writeln!(
            out,
            "| Measure | Direct | Floor (bare hyper) | claude-lb | claude-lb ÷ floor | \
             claude-lb ÷ direct | Target | Met |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|---|");
        for r in &self.floor_rows() {
            let _ = writeln!(out, "| {} |", r.join(" | "));
        }
        let _ = writeln!(out, "\n## What the bookkeeping costs\n");
        let _ = writeln!(
            out,
            "A second claude-lb process with the same providers and client key, but without \
             the per-request bookkeeping that the floor does not do: log level `warn` (no \
             request log line) and no usage ledger, measured in the same rotations. The \
             difference between the two claude-lb columns is what the log line and the ledger \
             row cost; the second column is the proxy path alone (authentication, routing, \
             failover bookkeeping, metrics, usage read from the answer).\n"
        );
        let _ = writeln!(
            out,
            "| Measure | Floor (bare hyper) | claude-lb (defaults) | claude-lb (no log line, \
             no ledger) | Defaults ÷ floor | No log line, no ledger ÷ floor |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for r in &self.lean_rows() {
            let _ = writeln!(out, "| {} |", r.join(" | "));
        }
        let _ = writeln!(out, "\n## Against direct\n");
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

pub(crate) fn nproc() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

pub(crate) fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or_else(
        |_| "unknown kernel".to_owned(),
        |v| format!("Linux {}", v.trim()),
    )
}
