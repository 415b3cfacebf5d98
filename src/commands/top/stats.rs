//! What `top` shows, computed from successive polls of the admin API: pure, so every rule is
//! tested without a terminal, a server or a clock.
//!
//! The instance keeps only counters (`/metrics`, in the Prometheus text format): a rate is the
//! difference of a counter between two polls divided by the time between them, and a latency
//! percentile is read from the difference of the histogram's cumulative buckets over a window,
//! interpolated inside the bucket where the rank falls (as Prometheus' `histogram_quantile`
//! does). A counter that went down means the instance restarted: its new value is the increase.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use crate::proxy::admin::{EventEntry, ProviderStatus};

/// How many rate samples each provider's sparkline keeps (four minutes at one poll a second).
pub const HISTORY: usize = 240;

/// The window latency percentiles and failure rates are read over.
pub const WINDOW: Duration = Duration::from_secs(60);

/// The counters of one provider in one `/metrics` scrape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counters {
    /// Answers sent to clients, every status.
    pub answers: u64,
    /// Answers with an error status (400 and above) that went to the client.
    pub error_answers: u64,
    /// Attempts that failed over.
    pub failed_attempts: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: Option<u64>,
    pub cache_creation_tokens: Option<u64>,
    /// The latency histogram: (upper bound in seconds, cumulative count), `+Inf` last.
    pub buckets: Vec<(f64, u64)>,
}

/// One `/metrics` scrape, read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scrape {
    pub providers: BTreeMap<String, Counters>,
    pub failed_requests: u64,
    pub failovers: u64,
}

/// Reads the Prometheus text that `GET /metrics` answers. Families it does not know are
/// skipped, so a newer instance's extra series change nothing; a line it cannot read is skipped
/// too (a dashboard shows what it can).
pub fn parse_metrics(text: &str) -> Scrape {
    let mut scrape = Scrape::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, labels_of(rest.trim_end_matches('}'))),
            None => (series, BTreeMap::new()),
        };
        // Counters are integers; the histogram's sum is the only float, and it is not read.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let count = if value.is_finite() && value >= 0.0 {
            value as u64
        } else {
            0
        };
        match name {
            "claude_lb_failed_requests_total" => scrape.failed_requests = count,
            "claude_lb_failovers_total" => scrape.failovers = count,
            _ => {}
        }
        let Some(provider) = labels.get("provider") else {
            continue;
        };
        let c = scrape.providers.entry(provider.clone()).or_default();
        match name {
            "claude_lb_requests_total" => {
                c.answers += count;
                if labels
                    .get("status")
                    .and_then(|s| s.parse::<u16>().ok())
                    .is_some_and(|s| s >= 400)
                {
                    c.error_answers += count;
                }
            }
            "claude_lb_failed_attempts_total" => c.failed_attempts += count,
            "claude_lb_input_tokens_total" => c.input_tokens += count,
            "claude_lb_output_tokens_total" => c.output_tokens += count,
            "claude_lb_cache_read_tokens_total" | "claude_lb_cache_read_input_tokens_total" => {
                *c.cache_read_tokens.get_or_insert(0) += count;
            }
            "claude_lb_cache_creation_tokens_total"
            | "claude_lb_cache_creation_input_tokens_total" => {
                *c.cache_creation_tokens.get_or_insert(0) += count;
            }
            "claude_lb_request_duration_seconds_bucket" => {
                let bound = match labels.get("le").map(String::as_str) {
                    Some("+Inf") => f64::INFINITY,
                    Some(le) => match le.parse::<f64>() {
                        Ok(bound) => bound,
                        Err(_) => continue,
                    },
                    None => continue,
                };
                c.buckets.push((bound, count));
            }
            _ => {}
        }
    }
    for c in scrape.providers.values_mut() {
        c.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    scrape
}

/// `a="x",b="y"` as a map; values are unescaped for `\"` and `\\`.
fn labels_of(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, ch)) = chars.next() {
            match ch {
                '\\' => {
                    if let Some((_, next)) = chars.next() {
                        value.push(if next == 'n' { '\n' } else { next });
                    }
                }
                '"' => {
                    end = i + 1;
                    break;
                }
                other => value.push(other),
            }
        }
        out.insert(key.trim().trim_start_matches(',').trim().to_owned(), value);
        rest = &after[end..];
    }
    out
}

/// How much a counter grew from `before` to `after`; a counter that went down was reset (the
/// instance restarted), so all of its new value is growth.
pub fn increase(before: u64, after: u64) -> u64 {
    if after >= before {
        after - before
    } else {
        after
    }
}

/// The `q` quantile (0 to 1) of the observations between two readings of a cumulative
/// histogram, in seconds; `None` when nothing was observed between them. An observation in the
/// `+Inf` bucket counts as the largest finite bound.
pub fn quantile(q: f64, before: &[(f64, u64)], after: &[(f64, u64)]) -> Option<f64> {
    // Reset (or no earlier reading): the later reading alone.
    let reset = before.len() != after.len()
        || before
            .iter()
            .zip(after)
            .any(|(b, a)| b.0.total_cmp(&a.0).is_ne() || a.1 < b.1);
    let delta: Vec<(f64, u64)> = if reset {
        after.to_vec()
    } else {
        before
            .iter()
            .zip(after)
            .map(|(b, a)| (a.0, a.1 - b.1))
            .collect()
    };
    let total = delta.last()?.1;
    if total == 0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let rank = q.clamp(0.0, 1.0) * total as f64;
    let mut lower_bound = 0.0;
    let mut lower_count = 0u64;
    for &(bound, count) in &delta {
        #[allow(clippy::cast_precision_loss)]
        if count as f64 >= rank && count > lower_count {
            if bound.is_infinite() {
                return Some(lower_bound);
            }
            let within = (rank - lower_count as f64) / (count - lower_count) as f64;
            return Some(lower_bound + (bound - lower_bound) * within);
        }
        if bound.is_finite() {
            lower_bound = bound;
        }
        lower_count = count;
    }
    Some(lower_bound)
}

/// The cooldown left now, from the `remaining` the instance reported `since` ago.
pub fn countdown(remaining_s: f64, since: Duration) -> Duration {
    let remaining = Duration::try_from_secs_f64(remaining_s.max(0.0)).unwrap_or(Duration::ZERO);
    remaining.saturating_sub(since)
}

/// A countdown in words, whole seconds rounded up: `9s`, `1m05s`, `2h00m`.
pub fn format_countdown(left: Duration) -> String {
    let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

/// Seconds as a latency: `850ms`, `1.2s`, `45s`.
pub fn format_latency(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0}ms", seconds * 1000.0)
    } else if seconds < 10.0 {
        format!("{seconds:.1}s")
    } else {
        format!("{seconds:.0}s")
    }
}

/// A poll interval: `1s`, `500ms`, `1m00s`.
pub fn format_interval(interval: Duration) -> String {
    if interval.subsec_millis() == 0 && interval >= Duration::from_secs(1) {
        format_countdown(interval)
    } else {
        format!("{}ms", interval.as_millis())
    }
}

/// A count in a few characters: `999`, `12.3k`, `4.5M`.
pub fn format_count(n: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", f / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1}M", f / 1e6),
        _ => format!("{:.1}G", f / 1e9),
    }
}

/// `HH:MM:SS` of a Unix time in milliseconds, in UTC.
pub fn clock_utc(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    format!(
        "{:02}:{:02}:{:02}",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}

/// The cost in dollars in a `GET /usage` answer, read leniently: a `total` object's
/// `cost_usd`, a top-level `cost_usd`, or the sum of the `cost_usd` of the rows of a list (the
/// answer itself, or its `rows`, `groups` or `data`). `None` when there is none.
pub fn cost_of(value: &serde_json::Value) -> Option<f64> {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(total) = map.get("total").and_then(cost_of) {
                return Some(total);
            }
            if let Some(cost) = map.get("cost_usd").and_then(Value::as_f64) {
                return Some(cost);
            }
            ["rows", "groups", "data"]
                .iter()
                .find_map(|key| map.get(*key).and_then(cost_of))
        }
        Value::Array(rows) => {
            let costs: Vec<f64> = rows
                .iter()
                .filter_map(|row| row.get("cost_usd")?.as_f64())
                .collect();
            (!costs.is_empty()).then(|| costs.iter().sum())
        }
        _ => None,
    }
}

/// The sessions each provider holds in a `GET /sessions` answer, read leniently: an object of
/// numbers by provider name, such an object under `providers`, or a list of objects with a
/// `provider` (or `name`) and `sessions` (or `count`).
pub fn sessions_of(value: &serde_json::Value) -> Option<BTreeMap<String, u64>> {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(inner) = map.get("providers").and_then(sessions_of) {
                return Some(inner);
            }
            let numbers: BTreeMap<String, u64> = map
                .iter()
                .filter_map(|(name, n)| Some((name.clone(), n.as_u64()?)))
                .collect();
            (!numbers.is_empty() && numbers.len() == map.len()).then_some(numbers)
        }
        Value::Array(rows) => {
            let numbers: BTreeMap<String, u64> = rows
                .iter()
                .filter_map(|row| {
                    let name = row.get("provider").or_else(|| row.get("name"))?.as_str()?;
                    let n = row.get("sessions").or_else(|| row.get("count"))?.as_u64()?;
                    Some((name.to_owned(), n))
                })
                .collect();
            (!numbers.is_empty()).then_some(numbers)
        }
        _ => None,
    }
}

/// The order of the providers panel; `s` moves to the next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    /// The order of the config file: the pool's priority.
    #[default]
    Pool,
    Name,
    /// Busiest first.
    Rate,
    /// Most failures first.
    Failures,
    /// Slowest (p95) first.
    Latency,
}

impl SortBy {
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            Self::Pool => Self::Name,
            Self::Name => Self::Rate,
            Self::Rate => Self::Failures,
            Self::Failures => Self::Latency,
            Self::Latency => Self::Pool,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pool => "pool order",
            Self::Name => "name",
            Self::Rate => "requests/s",
            Self::Failures => "failure rate",
            Self::Latency => "p95 latency",
        }
    }
}

/// One provider as the panel shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub kind: String,
    pub state: RowState,
    /// Answers per second over the last poll interval.
    pub rate: Option<f64>,
    /// Failed attempts and error answers over all attempts, over the window, 0 to 1.
    pub failure_rate: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    /// Cache reads over all input tokens, 0 to 1, when the instance reports cache tokens.
    pub cache_hit: Option<f64>,
    pub sessions: Option<u64>,
    pub last_error: Option<String>,
    /// Answers per second, one per poll, oldest first.
    pub history: Vec<f64>,
}

/// A provider's state, with its live countdown.
#[derive(Clone, Debug, PartialEq)]
pub enum RowState {
    Available,
    CoolingDown(Duration),
    Unusable(String),
    Disabled,
    /// A state a newer instance reports, shown as it is named.
    Other(String),
}

impl RowState {
    pub fn label(&self) -> String {
        match self {
            Self::Available => "available".to_owned(),
            Self::CoolingDown(left) => format!("cooling {}", format_countdown(*left)),
            Self::Unusable(_) => "unusable".to_owned(),
            Self::Disabled => "disabled".to_owned(),
            Self::Other(other) => other.clone(),
        }
    }
}

/// The totals line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub answers: u64,
    pub rate: Option<f64>,
    pub failed_requests: u64,
    pub failovers: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Today's cost in dollars, when the instance keeps a usage ledger.
    pub cost_today: Option<f64>,
}

/// What one poll of the admin API brought back. A route that could not be read leaves its
/// part `None` and says why in `notes`; `/providers` is the one route that must answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Poll {
    pub providers: Vec<ProviderStatus>,
    pub metrics: Option<Scrape>,
    pub events: Option<Vec<EventEntry>>,
    pub cost_today: Option<f64>,
    pub sessions: Option<BTreeMap<String, u64>>,
    /// One short note per route that could not be read: `/usage: not on this instance`.
    pub notes: Vec<String>,
}

/// Whether the instance answered the last poll.
#[derive(Clone, Debug, PartialEq)]
pub enum Link {
    /// Waiting for the first answer.
    Starting,
    Connected,
    /// The last poll failed, for this reason; the previous figures are still shown.
    Disconnected(String),
}

/// Everything `top` knows: the latest poll and the scrapes behind its rates.
#[derive(Debug)]
pub struct Dashboard {
    pub link: Link,
    pub sort: SortBy,
    last: Option<(Instant, Poll)>,
    /// Scrapes within the window, oldest first, with when each arrived.
    scrapes: VecDeque<(Instant, Scrape)>,
    /// Answers per second per provider, one per poll, oldest first.
    history: BTreeMap<String, VecDeque<f64>>,
}

impl Default for Dashboard {
    fn default() -> Self {
        Self::new()
    }
}

impl Dashboard {
    pub fn new() -> Self {
        Self {
            link: Link::Starting,
            sort: SortBy::default(),
            last: None,
            scrapes: VecDeque::new(),
            history: BTreeMap::new(),
        }
    }

    /// Takes in a poll that arrived at `now`.
    pub fn ingest(&mut self, poll: Poll, now: Instant) {
        self.link = Link::Connected;
        if let Some(scrape) = &poll.metrics {
            if let Some((then, previous)) = self.scrapes.back() {
                let seconds = now.saturating_duration_since(*then).as_secs_f64();
                if seconds > 0.0 {
                    for p in &poll.providers {
                        let after = scrape.providers.get(&p.name).map_or(0, |c| c.answers);
                        let before = previous.providers.get(&p.name).map_or(0, |c| c.answers);
                        #[allow(clippy::cast_precision_loss)]
                        let rate = increase(before, after) as f64 / seconds;
                        let history = self.history.entry(p.name.clone()).or_default();
                        if history.len() == HISTORY {
                            history.pop_front();
                        }
                        history.push_back(rate);
                    }
                }
            }
            self.scrapes.push_back((now, scrape.clone()));
            // Keep one scrape at or beyond the window's start, so the window is always full.
            while self.scrapes.len() > 2
                && self
                    .scrapes
                    .get(1)
                    .is_some_and(|(t, _)| now.saturating_duration_since(*t) >= WINDOW)
            {
                self.scrapes.pop_front();
            }
        }
        // Providers that left the config leave the sparklines too.
        self.history
            .retain(|name, _| poll.providers.iter().any(|p| &p.name == name));
        self.last = Some((now, poll));
    }

    /// The last poll failed: keep the figures, say why.
    pub fn disconnected(&mut self, reason: String) {
        self.link = Link::Disconnected(reason);
    }

    /// The latest poll, if any.
    pub fn poll(&self) -> Option<&Poll> {
        self.last.as_ref().map(|(_, poll)| poll)
    }

    /// The last two scrapes, which a rate is read from, with the seconds between them.
    fn last_pair(&self) -> Option<(f64, &Scrape, &Scrape)> {
        let n = self.scrapes.len();
        let (t0, s0) = self.scrapes.get(n.checked_sub(2)?)?;
        let (t1, s1) = self.scrapes.get(n - 1)?;
        let seconds = t1.saturating_duration_since(*t0).as_secs_f64();
        (seconds > 0.0).then_some((seconds, s0, s1))
    }

    /// The oldest and newest scrapes of the window.
    fn window_pair(&self) -> Option<(&Scrape, &Scrape)> {
        if self.scrapes.len() < 2 {
            return None;
        }
        Some((&self.scrapes.front()?.1, &self.scrapes.back()?.1))
    }

    /// The providers panel at `now`, in the chosen order.
    pub fn rows(&self, now: Instant) -> Vec<Row> {
        let Some((polled_at, poll)) = &self.last else {
            return Vec::new();
        };
        let since = now.saturating_duration_since(*polled_at);
        let (last, window) = (self.last_pair(), self.window_pair());
        let latest = self.scrapes.back().map(|(_, s)| s);
        let mut rows: Vec<Row> = poll
            .providers
            .iter()
            .map(|p| {
                let counters = |s: &Scrape| s.providers.get(&p.name).cloned().unwrap_or_default();
                let rate = last.map(|(seconds, a, b)| {
                    #[allow(clippy::cast_precision_loss)]
                    let n = increase(counters(a).answers, counters(b).answers) as f64;
                    n / seconds
                });
                let (failure_rate, p50, p95) = window.map_or((None, None, None), |(a, b)| {
                    let (a, b) = (counters(a), counters(b));
                    let failed = increase(a.failed_attempts, b.failed_attempts)
                        + increase(a.error_answers, b.error_answers);
                    let tries = increase(a.failed_attempts, b.failed_attempts)
                        + increase(a.answers, b.answers);
                    #[allow(clippy::cast_precision_loss)]
                    let failure_rate = (tries > 0).then(|| failed as f64 / tries as f64);
                    (
                        failure_rate,
                        quantile(0.5, &a.buckets, &b.buckets),
                        quantile(0.95, &a.buckets, &b.buckets),
                    )
                });
                let cache_hit = latest.map(counters).and_then(|c| {
                    let read = c.cache_read_tokens?;
                    let all = read + c.cache_creation_tokens.unwrap_or(0) + c.input_tokens;
                    #[allow(clippy::cast_precision_loss)]
                    (all > 0).then(|| read as f64 / all as f64)
                });
                let state = match (p.enabled, p.state.as_str()) {
                    (false, _) | (_, "disabled") => RowState::Disabled,
                    (_, "available") => RowState::Available,
                    (_, "cooling_down") => {
                        RowState::CoolingDown(countdown(p.cooldown_remaining_s, since))
                    }
                    (_, "unusable") => RowState::Unusable(
                        p.unusable
                            .clone()
                            .unwrap_or_else(|| "no credential".to_owned()),
                    ),
                    (_, other) => RowState::Other(other.to_owned()),
                };
                Row {
                    name: p.name.clone(),
                    kind: p.kind.clone(),
                    state,
                    rate,
                    failure_rate,
                    p50,
                    p95,
                    cache_hit,
                    sessions: poll.sessions.as_ref().and_then(|s| s.get(&p.name).copied()),
                    last_error: p.last_error.clone(),
                    history: self
                        .history
                        .get(&p.name)
                        .map(|h| h.iter().copied().collect())
                        .unwrap_or_default(),
                }
            })
            .collect();
        sort_rows(&mut rows, self.sort);
        rows
    }

    /// The totals line.
    pub fn totals(&self) -> Totals {
        let Some((_, poll)) = &self.last else {
            return Totals::default();
        };
        let mut totals = Totals {
            cost_today: poll.cost_today,
            ..Totals::default()
        };
        if let Some((_, scrape)) = self.scrapes.back() {
            totals.failed_requests = scrape.failed_requests;
            totals.failovers = scrape.failovers;
            for c in scrape.providers.values() {
                totals.answers += c.answers;
                totals.input_tokens = totals.input_tokens.saturating_add(c.input_tokens);
                totals.output_tokens = totals.output_tokens.saturating_add(c.output_tokens);
            }
        }
        if let Some((seconds, a, b)) = self.last_pair() {
            let sum = |s: &Scrape| s.providers.values().map(|c| c.answers).sum::<u64>();
            #[allow(clippy::cast_precision_loss)]
            let n = increase(sum(a), sum(b)) as f64;
            totals.rate = Some(n / seconds);
        }
        totals
    }
}

/// Orders the rows; ties keep the pool order (the sort is stable).
pub fn sort_rows(rows: &mut [Row], sort: SortBy) {
    let desc = |a: Option<f64>, b: Option<f64>| b.unwrap_or(-1.0).total_cmp(&a.unwrap_or(-1.0));
    match sort {
        SortBy::Pool => {}
        SortBy::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        SortBy::Rate => rows.sort_by(|a, b| desc(a.rate, b.rate)),
        SortBy::Failures => rows.sort_by(|a, b| desc(a.failure_rate, b.failure_rate)),
        SortBy::Latency => rows.sort_by(|a, b| desc(a.p95, b.p95)),
    }
}

/// A column of the providers panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Name,
    Kind,
    State,
    Rate,
    Failures,
    P50,
    P95,
    Cache,
    Sessions,
    LastError,
}

impl Column {
    pub fn title(self) -> &'static str {
        match self {
            Self::Name => "provider",
            Self::Kind => "type",
            Self::State => "state",
            Self::Rate => "req/s",
            Self::Failures => "fail%",
            Self::P50 => "p50",
            Self::P95 => "p95",
            Self::Cache => "cache",
            Self::Sessions => "sessions",
            Self::LastError => "last error",
        }
    }

    /// The width the column needs; the last error takes what is left, at least this.
    pub fn width(self) -> u16 {
        match self {
            Self::Name | Self::State => 14,
            Self::Kind => 9,
            Self::Rate | Self::P50 | Self::P95 => 6,
            Self::Failures | Self::Cache => 5,
            Self::Sessions => 8,
            Self::LastError => 20,
        }
    }
}

/// How the screen is divided at one size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The providers panel's columns, left to right.
    pub columns: Vec<Column>,
    /// The width of the name column (and of the sparklines' labels).
    pub name_width: u16,
    /// Rows of the providers table shown (the rest are counted below it).
    pub provider_rows: u16,
    /// Whether the sparklines panel is drawn (one line per provider).
    pub sparklines: bool,
    /// Lines of the failover ticker, 0 when it does not fit.
    pub ticker: u16,
}

/// The width of the name column: the longest name, from 8 to 24 characters.
pub fn name_width(rows: &[Row]) -> u16 {
    let longest = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    u16::try_from(longest.clamp(8, 24)).unwrap_or(24)
}

/// Every column, in the order they are dropped when the screen is too narrow: last first.
const COLUMNS_BY_NEED: [Column; 10] = [
    Column::Name,
    Column::State,
    Column::Rate,
    Column::Failures,
    Column::P95,
    Column::P50,
    Column::Cache,
    Column::Kind,
    Column::Sessions,
    Column::LastError,
];

/// The left-to-right order of the columns that fit.
const COLUMN_ORDER: [Column; 10] = [
    Column::Name,
    Column::Kind,
    Column::State,
    Column::Rate,
    Column::Failures,
    Column::P50,
    Column::P95,
    Column::Cache,
    Column::Sessions,
    Column::LastError,
];

/// Lines that are always drawn: the title, the totals and the status line.
const FIXED_LINES: u16 = 3;

/// The screen's division at `width` × `height` for `providers` providers. The providers panel
/// comes first; the sparklines need a line per provider and the ticker at least three lines,
/// each only when there is room. `sessions` says whether the instance reports sessions.
pub fn plan(width: u16, height: u16, providers: usize, sessions: bool, name_width: u16) -> Plan {
    // Borders of the table and the space between columns.
    let inner = width.saturating_sub(2);
    let mut chosen: Vec<Column> = Vec::new();
    let mut used: u16 = 0;
    for column in COLUMNS_BY_NEED {
        if column == Column::Sessions && !sessions {
            continue;
        }
        let own = if column == Column::Name {
            name_width
        } else {
            column.width()
        };
        let need = own + u16::from(!chosen.is_empty());
        if used + need <= inner {
            used += need;
            chosen.push(column);
        }
    }
    let columns: Vec<Column> = COLUMN_ORDER
        .into_iter()
        .filter(|c| chosen.contains(c))
        .collect();

    let providers = u16::try_from(providers).unwrap_or(u16::MAX).max(1);
    let body = height.saturating_sub(FIXED_LINES);
    // The table: two borders and a header line, then its rows.
    let table_rows = providers.min(body.saturating_sub(3).max(1));
    let mut left = body.saturating_sub(table_rows + 3);
    let sparklines = left >= providers + 2 + 3;
    if sparklines {
        left -= providers + 2;
    }
    let ticker = if left >= 3 { left } else { 0 };
    Plan {
        columns,
        name_width,
        provider_rows: table_rows,
        sparklines,
        ticker,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_read_from_what_get_sessions_answers() {
        use crate::proxy::admin::{ProviderSessionsStatus, SessionsStatus};
        let row = |name: &str, sessions| ProviderSessionsStatus {
            name: name.to_owned(),
            sessions,
            oldest_last_use_s: 30.0,
            newest_last_use_s: 0.5,
        };
        let answer = serde_json::to_value(SessionsStatus {
            affinity: "session".to_owned(),
            ttl_s: 3600,
            capacity: 100_000,
            sessions: 3,
            providers: vec![row("a", 2), row("b", 1)],
        })
        .unwrap();
        let read = sessions_of(&answer).unwrap();
        assert_eq!(read.get("a"), Some(&2));
        assert_eq!(read.get("b"), Some(&1));
    }

    const METRICS: &str = "\
# HELP claude_lb_requests_total Answers sent to clients, by provider and HTTP status.
# TYPE claude_lb_requests_total counter
claude_lb_requests_total{provider=\"main\",status=\"200\"} 40
claude_lb_requests_total{provider=\"main\",status=\"429\"} 2
claude_lb_failed_requests_total 3
claude_lb_failovers_total 7
claude_lb_failed_attempts_total{provider=\"flaky\",reason=\"status_529\"} 5
claude_lb_failed_attempts_total{provider=\"flaky\",reason=\"timeout\"} 2
claude_lb_input_tokens_total{provider=\"main\"} 1000
claude_lb_output_tokens_total{provider=\"main\"} 300
claude_lb_cache_read_tokens_total{provider=\"main\"} 3000
claude_lb_request_duration_seconds_bucket{provider=\"main\",le=\"0.1\"} 10
claude_lb_request_duration_seconds_bucket{provider=\"main\",le=\"1\"} 30
claude_lb_request_duration_seconds_bucket{provider=\"main\",le=\"+Inf\"} 42
claude_lb_request_duration_seconds_sum{provider=\"main\"} 12.5
claude_lb_request_duration_seconds_count{provider=\"main\"} 42
claude_lb_something_new{provider=\"main\",x=\"a \\\"quoted\\\" b\"} 9
not a metric line
";

    #[test]
    fn metrics_text_is_read_into_counters_per_provider() {
        let scrape = parse_metrics(METRICS);
        assert_eq!(scrape.failed_requests, 3);
        assert_eq!(scrape.failovers, 7);
        let main = &scrape.providers["main"];
        assert_eq!(main.answers, 42);
        assert_eq!(main.error_answers, 2);
        assert_eq!((main.input_tokens, main.output_tokens), (1000, 300));
        assert_eq!(main.cache_read_tokens, Some(3000));
        assert_eq!(main.cache_creation_tokens, None);
        assert_eq!(
            main.buckets,
            [(0.1, 10), (1.0, 30), (f64::INFINITY, 42)].to_vec()
        );
        assert_eq!(scrape.providers["flaky"].failed_attempts, 7);
    }

    #[test]
    fn labels_are_unescaped() {
        let labels = labels_of(r#"provider="a",x="say \"hi\" \\ now""#);
        assert_eq!(labels["provider"], "a");
        assert_eq!(labels["x"], r#"say "hi" \ now"#);
    }

    #[test]
    fn usage_and_sessions_are_read_leniently() {
        use serde_json::json;
        assert_eq!(cost_of(&json!({"total": {"cost_usd": 1.5}})), Some(1.5));
        assert_eq!(
            cost_of(&json!({"rows": [{"cost_usd": 1.0}, {"cost_usd": 0.25}, {"x": 1}]})),
            Some(1.25)
        );
        assert_eq!(cost_of(&json!([{"cost_usd": 2.0}])), Some(2.0));
        assert_eq!(cost_of(&json!({"rows": []})), None);
        assert_eq!(cost_of(&json!("free")), None);

        let expect: BTreeMap<String, u64> = [("a".to_owned(), 2), ("b".to_owned(), 0)].into();
        assert_eq!(sessions_of(&json!({"a": 2, "b": 0})), Some(expect.clone()));
        assert_eq!(
            sessions_of(&json!({"providers": {"a": 2, "b": 0}, "total": 2})),
            Some(expect.clone())
        );
        assert_eq!(
            sessions_of(&json!([{"provider": "a", "sessions": 2}, {"name": "b", "count": 0}])),
            Some(expect)
        );
        assert_eq!(sessions_of(&json!({"a": "two"})), None);
    }

    #[test]
    fn a_counter_that_went_down_was_reset() {
        assert_eq!(increase(10, 15), 5);
        assert_eq!(increase(10, 10), 0);
        assert_eq!(increase(10, 4), 4);
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket_of_the_rank() {
        let before = [(0.1, 0), (1.0, 0), (f64::INFINITY, 0)];
        let after = [(0.1, 50), (1.0, 100), (f64::INFINITY, 100)];
        // Rank 50 is the end of the first bucket; rank 75 half way through the second.
        let p50 = quantile(0.5, &before, &after).unwrap();
        assert!((p50 - 0.1).abs() < 1e-9, "{p50}");
        let p75 = quantile(0.75, &before, &after).unwrap();
        assert!((p75 - 0.55).abs() < 1e-9, "{p75}");
        // Only the difference counts: the 50 earlier fast answers are not in this window.
        let before = [(0.1, 50), (1.0, 50), (f64::INFINITY, 50)];
        let after = [(0.1, 50), (1.0, 60), (f64::INFINITY, 60)];
        let p50 = quantile(0.5, &before, &after).unwrap();
        assert!((p50 - 0.55).abs() < 1e-9, "{p50}");
        // Nothing observed: no percentile.
        assert_eq!(quantile(0.5, &after, &after), None);
        assert_eq!(quantile(0.5, &[], &[]), None);
    }

    #[test]
    fn quantiles_past_the_last_bound_and_after_a_reset() {
        let after = [(0.1, 0), (1.0, 1), (f64::INFINITY, 10)];
        assert_eq!(quantile(0.95, &[], &after), Some(1.0));
        // A reset (counts went down) reads the new histogram alone.
        let before = [(0.1, 90), (1.0, 95), (f64::INFINITY, 99)];
        let after = [(0.1, 4), (1.0, 4), (f64::INFINITY, 4)];
        let p50 = quantile(0.5, &before, &after).unwrap();
        assert!((p50 - 0.05).abs() < 1e-9, "{p50}");
    }

    #[test]
    fn countdowns_run_down_between_polls_and_stop_at_zero() {
        assert_eq!(
            countdown(12.5, Duration::from_secs(2)),
            Duration::from_millis(10_500)
        );
        assert_eq!(countdown(1.0, Duration::from_secs(3)), Duration::ZERO);
        assert_eq!(countdown(-4.0, Duration::ZERO), Duration::ZERO);
        assert_eq!(countdown(f64::NAN, Duration::ZERO), Duration::ZERO);
        for (left, text) in [
            (Duration::from_millis(10_500), "11s"),
            (Duration::ZERO, "0s"),
            (Duration::from_secs(65), "1m05s"),
            (Duration::from_secs(7200), "2h00m"),
        ] {
            assert_eq!(format_countdown(left), text);
        }
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(format_latency(0.0421), "42ms");
        assert_eq!(format_latency(1.25), "1.2s");
        assert_eq!(format_latency(42.0), "42s");
        assert_eq!(format_interval(Duration::from_secs(1)), "1s");
        assert_eq!(format_interval(Duration::from_millis(250)), "250ms");
        assert_eq!(format_interval(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(12_345), "12.3k");
        assert_eq!(format_count(4_500_000), "4.5M");
        assert_eq!(clock_utc(1_700_000_000_000 + 5_000), "22:13:25");
    }

    fn status(name: &str, state: &str, remaining: f64) -> ProviderStatus {
        ProviderStatus {
            name: name.to_owned(),
            kind: "anthropic".to_owned(),
            enabled: true,
            state: state.to_owned(),
            unusable: None,
            cooldown_remaining_s: remaining,
            consecutive_failures: 0,
            requests: 0,
            failures: 0,
            last_error: None,
            latency_ms: None,
            sessions: 0,
            cache_read_tokens: 0,
            cache_creation_tokens: 0,
            uncached_input_tokens: 0,
            last_check: None,
        }
    }

    fn scrape(answers: &[(&str, u64, u64)]) -> Scrape {
        let mut scrape = Scrape::default();
        for &(name, n, failed) in answers {
            scrape.providers.insert(
                name.to_owned(),
                Counters {
                    answers: n,
                    failed_attempts: failed,
                    buckets: vec![(0.5, n), (f64::INFINITY, n)],
                    ..Counters::default()
                },
            );
        }
        scrape
    }

    #[test]
    fn rates_come_from_the_difference_between_polls() {
        let start = Instant::now();
        let mut d = Dashboard::new();
        let providers = vec![
            status("main", "available", 0.0),
            status("flaky", "cooling_down", 30.0),
        ];
        let poll = |s: Scrape| Poll {
            providers: providers.clone(),
            metrics: Some(s),
            ..Poll::default()
        };
        d.ingest(poll(scrape(&[("main", 10, 0), ("flaky", 0, 0)])), start);
        // One poll: no rate yet.
        assert_eq!(d.rows(start)[0].rate, None);
        d.ingest(
            poll(scrape(&[("main", 30, 0), ("flaky", 2, 6)])),
            start + Duration::from_secs(2),
        );
        let rows = d.rows(start + Duration::from_secs(5));
        let main = &rows[0];
        assert_eq!(main.rate, Some(10.0));
        assert_eq!(main.failure_rate, Some(0.0));
        assert!((main.p95.unwrap() - 0.475).abs() < 1e-9);
        assert_eq!(main.history, [10.0]);
        let flaky = &rows[1];
        assert_eq!(flaky.rate, Some(1.0));
        // 6 failed attempts out of 8 tries.
        assert_eq!(flaky.failure_rate, Some(0.75));
        // The cooldown reported 3s before `now` has 27s left.
        assert_eq!(flaky.state, RowState::CoolingDown(Duration::from_secs(27)));
        assert_eq!(flaky.state.label(), "cooling 27s");
        let totals = d.totals();
        assert_eq!(totals.answers, 32);
        assert_eq!(totals.rate, Some(11.0));
    }

    #[test]
    fn the_window_keeps_one_scrape_at_its_start_and_sparklines_are_bounded() {
        let start = Instant::now();
        let mut d = Dashboard::new();
        for i in 0..(HISTORY as u64 + 10) {
            d.ingest(
                Poll {
                    providers: vec![status("main", "available", 0.0)],
                    metrics: Some(scrape(&[("main", i * 3, 0)])),
                    ..Poll::default()
                },
                start + Duration::from_secs(i),
            );
        }
        assert!(d.scrapes.len() <= 62, "{}", d.scrapes.len());
        let first = d.scrapes.front().unwrap().0;
        let last = d.scrapes.back().unwrap().0;
        assert!(last - first >= WINDOW);
        let rows = d.rows(last);
        assert_eq!(rows[0].history.len(), HISTORY);
        assert!(rows[0].history.iter().all(|r| (*r - 3.0).abs() < 1e-9));
    }

    #[test]
    fn disconnection_keeps_the_figures() {
        let start = Instant::now();
        let mut d = Dashboard::new();
        assert_eq!(d.link, Link::Starting);
        d.ingest(
            Poll {
                providers: vec![status("main", "available", 0.0)],
                ..Poll::default()
            },
            start,
        );
        d.disconnected("connection refused".to_owned());
        assert_eq!(d.link, Link::Disconnected("connection refused".to_owned()));
        assert_eq!(d.rows(start).len(), 1);
    }

    fn row(name: &str, rate: Option<f64>, failure: Option<f64>, p95: Option<f64>) -> Row {
        Row {
            name: name.to_owned(),
            kind: "anthropic".to_owned(),
            state: RowState::Available,
            rate,
            failure_rate: failure,
            p50: None,
            p95,
            cache_hit: None,
            sessions: None,
            last_error: None,
            history: Vec::new(),
        }
    }

    #[test]
    fn sort_orders() {
        let rows = vec![
            row("b", Some(1.0), Some(0.5), Some(2.0)),
            row("c", None, None, None),
            row("a", Some(5.0), Some(0.0), Some(0.1)),
        ];
        for (sort, expect) in [
            (SortBy::Pool, ["b", "c", "a"]),
            (SortBy::Name, ["a", "b", "c"]),
            (SortBy::Rate, ["a", "b", "c"]),
            (SortBy::Failures, ["b", "a", "c"]),
            (SortBy::Latency, ["b", "a", "c"]),
        ] {
            let mut sorted = rows.clone();
            sort_rows(&mut sorted, sort);
            let names: Vec<&str> = sorted.iter().map(|r| r.name.as_str()).collect();
            assert_eq!(names, expect, "{sort:?}");
        }
        let mut sort = SortBy::Pool;
        for _ in 0..5 {
            sort = sort.next();
        }
        assert_eq!(sort, SortBy::Pool, "s cycles through every order");
    }

    #[test]
    fn an_80_by_24_screen_keeps_the_essentials() {
        let plan = plan(80, 24, 3, false, 14);
        assert_eq!(
            plan.columns,
            [
                Column::Name,
                Column::Kind,
                Column::State,
                Column::Rate,
                Column::Failures,
                Column::P50,
                Column::P95,
                Column::Cache,
            ]
        );
        assert_eq!(plan.provider_rows, 3);
        assert!(plan.sparklines);
        // 24 - title, totals, status (3) - table (6) - sparklines (5).
        assert_eq!(plan.ticker, 10);
    }

    #[test]
    fn a_200_by_50_screen_shows_every_column_and_a_long_ticker() {
        let plan = plan(200, 50, 3, true, 14);
        assert_eq!(plan.columns, COLUMN_ORDER);
        assert!(plan.sparklines);
        assert_eq!(plan.ticker, 50 - 3 - 6 - 5);
    }

    #[test]
    fn a_crowded_or_narrow_screen_drops_panels_and_columns_first() {
        // Twenty providers on 24 lines: the table takes what there is, no sparklines, no ticker.
        let crowded = plan(80, 24, 20, false, 14);
        assert_eq!(crowded.provider_rows, 18);
        assert!(!crowded.sparklines);
        assert_eq!(crowded.ticker, 0);
        // Sixty columns: the state and the rates stay, the rest go.
        let narrow = plan(60, 24, 3, true, 14);
        assert_eq!(
            narrow.columns[..3],
            [Column::Name, Column::State, Column::Rate]
        );
        assert!(!narrow.columns.contains(&Column::LastError));
        // Long names widen the name column, and the type goes first to make room.
        let long = plan(80, 24, 3, false, 24);
        assert_eq!(long.name_width, 24);
        assert!(!long.columns.contains(&Column::Kind));
        assert!(long.columns.contains(&Column::Cache));
        let mut rows = vec![row("a", None, None, None)];
        assert_eq!(name_width(&rows), 8);
        rows.push(row("anthropic_official_eu", None, None, None));
        assert_eq!(name_width(&rows), 21);
        rows.push(row(&"x".repeat(40), None, None, None));
        assert_eq!(name_width(&rows), 24);
        // A tiny terminal still gets a plan, never a panic.
        let tiny = plan(10, 3, 3, false, 14);
        assert_eq!(tiny.provider_rows, 1);
    }
}
