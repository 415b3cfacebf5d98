//! The usage ledger: one row per Messages request that reached the dispatcher, kept in a
//! store, so an operator can see where tokens and money went and budgets can be counted.
//!
//! Writing never slows or fails a request. The dispatcher hands each finished request's
//! [`Row`] to a [`Recorder`], which only tries to put it in a bounded queue; one writer thread
//! ([`Ledger`]) takes rows off the queue in batches and inserts each batch in one transaction.
//! A full queue or a failing store drops the row, counts it in
//! `claude_lb_usage_rows_dropped_total`, and logs at most once a minute. [`Ledger::close`]
//! (called by `serve` on a graceful shutdown) writes every row queued before it returns.
//!
//! A crash (not a graceful shutdown) loses the rows not yet committed: in practice those of
//! the last [`LINGER`], since the writer commits the rows that arrive within that long of the
//! first one together (sooner when [`BATCH`] of them have come).
//!
//! - [`store`]: the [`Store`] trait the writer and the reports use, and where a ledger is.
//! - [`sqlite`], [`postgres`]: the two stores, an `SQLite` file (the default) and a PostgreSQL
//!   database that several replicas write together.
//! - [`price`]: the built-in prices and the price of one answer.
//! - [`report`]: what `claude-lb usage` and `GET /usage` ask and answer.
//! - [`budget`]: running totals per client, for budgets.
//! - [`time`]: UTC days and months for reports and budgets, without a date crate.

pub mod budget;
pub mod postgres;
pub mod price;
pub mod report;
pub mod sqlite;
pub mod store;
pub mod time;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::Duration;

pub use store::{Store, StoreError};

use crate::core::price::Tokens;
use crate::metrics::Metrics;

/// How many rows may wait for the writer; more are dropped (and counted).
pub const QUEUE_CAPACITY: usize = 8192;

/// How long the writer gathers rows after the first before it commits them (unless [`BATCH`]
/// of them come sooner): the most that a crash can lose, and how late `claude-lb usage` may
/// see a row. A commit costs the writer a dozen system calls whatever it holds, so at an
/// interactive pace this is what makes a row cheap.
pub const LINGER: Duration = Duration::from_secs(1);

/// How often the writer takes the queued rows while it gathers them: the queue never holds
/// more than this long's rows, so a burst does not overflow it.
pub const TICK: Duration = Duration::from_millis(50);

/// The most rows the writer inserts in one transaction.
pub const BATCH: usize = 1024;

/// How often old rows are deleted.
const RETENTION_EVERY: Duration = Duration::from_secs(24 * 3600);

/// At most one log line per this long about dropped rows.
const WARN_EVERY_S: u64 = 60;

/// One Messages request, as the ledger keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// When the request arrived, in milliseconds since the Unix epoch (UTC).
    pub time_ms: i64,
    pub request_id: String,
    /// The client that sent it, when clients are configured.
    pub client: Option<String>,
    /// The routing rule that chose the providers, when one did.
    pub route: Option<String>,
    /// The provider that answered; `None` when none did.
    pub provider: Option<String>,
    /// The providers that failed before, in the order they were tried.
    pub failed_providers: Vec<String>,
    /// The model the client asked for.
    pub model: String,
    /// The model sent to the provider that answered (or was tried last).
    pub upstream_model: Option<String>,
    pub stream: bool,
    /// The HTTP status the client got.
    pub status: u16,
    pub tokens: Tokens,
    /// Time to the answer's headers, or to a stream's first content event.
    pub first_token_ms: Option<u64>,
    /// Time to the end of the answer.
    pub total_ms: u64,
    /// Estimated cost in USD; `None` when the model has no known price.
    pub cost_usd: Option<f64>,
}

impl Row {
    /// Whether the client got an answer (a 2xx status).
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// What the writer thread is told.
enum Message {
    Row(Box<Row>),
    /// Write everything before this, then stop.
    Close,
}

/// The request path's handle on the ledger: puts rows in the writer's queue, never waits.
/// Cheap to clone; [`Recorder::off`] records nothing.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    inner: Option<Arc<RecorderInner>>,
}

#[derive(Debug)]
struct RecorderInner {
    sender: SyncSender<Message>,
    dropped: Arc<Dropped>,
    budgets: Option<Arc<budget::Tracker>>,
}

impl Recorder {
    /// A recorder that records nothing (`settings.usage.store: off`).
    pub fn off() -> Self {
        Self::default()
    }

    pub fn is_on(&self) -> bool {
        self.inner.is_some()
    }

    /// Queues `row` for the writer. A full queue drops it, counted and logged.
    pub fn record(&self, row: Row) {
        let Some(inner) = &self.inner else { return };
        if let Some(budgets) = &inner.budgets {
            budgets.add(&row);
        }
        match inner.sender.try_send(Message::Row(Box::new(row))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => inner.dropped.add(1, "the usage queue is full"),
            Err(TrySendError::Disconnected(_)) => {
                inner.dropped.add(1, "the usage writer has stopped");
            }
        }
    }
}

/// Rows lost, counted in the metrics and logged at most once a minute.
#[derive(Debug)]
struct Dropped {
    metrics: Arc<Metrics>,
    started: tokio::time::Instant,
    /// Seconds since `started` of the last warning, plus one (0: never warned).
    last_warning: AtomicU64,
}

impl Dropped {
    fn add(&self, rows: u64, why: &str) {
        self.metrics.record_usage_rows_dropped(rows);
        let now = self.started.elapsed().as_secs() + 1;
        let last = self.last_warning.load(Ordering::Relaxed);
        if (last == 0 || now >= last + WARN_EVERY_S)
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                rows,
                "usage rows dropped: {why} (claude_lb_usage_rows_dropped_total counts them; this is said at most once a minute)"
            );
        }
    }
}

/// The writer thread and the handle to stop it.
pub struct Ledger {
    sender: SyncSender<Message>,
    thread: Option<std::thread::JoinHandle<()>>,
    dropped: Arc<Dropped>,
    budgets: Option<Arc<budget::Tracker>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").finish_non_exhaustive()
    }
}

impl Ledger {
    /// Starts the writer thread over `store`, deleting rows older than `retention` now and
    /// once a day. Dropped rows are counted in `metrics`.
    pub fn start(
        store: Box<dyn Store>,
        retention: Duration,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(QUEUE_CAPACITY);
        let dropped = Arc::new(Dropped {
            metrics,
            started: tokio::time::Instant::now(),
            last_warning: AtomicU64::new(0),
        });
        let thread = {
            let dropped = dropped.clone();
            std::thread::Builder::new()
                .name("usage-writer".to_owned())
                .spawn(move || write_rows(store, &receiver, retention, &dropped))?
        };
        Ok(Self {
            sender,
            thread: Some(thread),
            dropped,
            budgets: None,
        })
    }

    /// Keeps running budget totals from every row recorded from now on.
    #[must_use]
    pub fn with_budgets(mut self, budgets: Arc<budget::Tracker>) -> Self {
        self.budgets = Some(budgets);
        self
    }

    /// The running budget totals, seeded from the ledger when it started.
    pub fn budgets(&self) -> Option<&Arc<budget::Tracker>> {
        self.budgets.as_ref()
    }

    /// A handle for the request path.
    pub fn recorder(&self) -> Recorder {
        Recorder {
            inner: Some(Arc::new(RecorderInner {
                sender: self.sender.clone(),
                dropped: self.dropped.clone(),
                budgets: self.budgets.clone(),
            })),
        }
    }

    /// Writes every row queued so far and stops the writer. Blocks until it has: call it
    /// off the async workers.
    pub fn close(mut self) {
        // `send` waits for room, so the close comes after every row already queued.
        let _ = self.sender.send(Message::Close);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.sender.send(Message::Close);
        }
    }
}

/// Adds a queued message to `batch`; `false` for the message that closes the ledger.
fn take(message: Message, batch: &mut Vec<Row>) -> bool {
    match message {
        Message::Row(row) => {
            batch.push(*row);
            true
        }
        Message::Close => false,
    }
}

/// The writer thread: batches rows into transactions, and applies the retention daily.
fn write_rows(
    mut store: Box<dyn Store>,
    receiver: &Receiver<Message>,
    retention: Duration,
    dropped: &Dropped,
) {
    let mut next_retention = tokio::time::Instant::now();
    let mut batch: Vec<Row> = Vec::with_capacity(BATCH);
    // Whether the last batch was full: rows are then waiting, and waiting for more would only
    // let the queue fill up under a sustained load.
    let mut behind = false;
    loop {
        let now = tokio::time::Instant::now();
        if now >= next_retention {
            next_retention = now + RETENTION_EVERY;
            let cutoff =
                time::now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX / 2);
            match store.delete_before(cutoff) {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "usage rows past the retention deleted"),
                Err(error) => tracing::warn!("cannot delete old usage rows: {error}"),
            }
        }
        let first = match receiver.recv_timeout(next_retention.saturating_duration_since(now)) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        // The rows that come within `LINGER` of the first go into the same transaction, taken
        // off the queue every `TICK`; the writer sleeps in between instead of waking for each
        // row. One commit for a second of rows, which is most of what a row costs. Not after a
        // full batch: waiting then would hold the writer to `BATCH` rows per `TICK` (about
        // 20,000 rows a second), below what one instance serves, and the queue would fill up.
        let mut closing = !take(first, &mut batch);
        let commit_by = tokio::time::Instant::now() + LINGER;
        loop {
            while batch.len() < BATCH && !closing {
                match receiver.try_recv() {
                    Ok(message) => closing = !take(message, &mut batch),
                    Err(_) => break,
                }
            }
            if closing
                || behind
                || batch.len() == BATCH
                || tokio::time::Instant::now() + TICK > commit_by
            {
                break;
            }
            std::thread::sleep(TICK);
        }
        behind = batch.len() == BATCH;
        if !batch.is_empty() {
            if let Err(error) = store.insert(&batch) {
                dropped.add(
                    batch.len() as u64,
                    &format!("the usage store failed: {error}"),
                );
            }
            batch.clear();
        }
        if closing {
            return;
        }
    }
}

/// The ledger `settings.usage` asks for, started: `None` when it is off. A store that cannot
/// be opened now is not fatal: `serve` serves anyway, the writer counts the rows it cannot
/// write and tries the file or the database again with each batch.
///
/// Opening the store and reading what clients spent so far block (for PostgreSQL, on a
/// runtime of the client's own), so they run on a thread of their own, which also lets
/// `serve` call this from its async main.
pub fn start(
    settings: &crate::config::UsageSettings,
    data_dir: Option<&std::path::Path>,
    metrics: Arc<Metrics>,
) -> Result<Option<Ledger>, StoreError> {
    let Some(location) = store::Location::of(&settings.store, data_dir)? else {
        return Ok(None);
    };
    let retention = settings.retention;
    std::thread::scope(|scope| {
        scope
            .spawn(move || start_on(location, retention, metrics))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
    .map(Some)
}

/// [`start`], on a thread where blocking is fine.
fn start_on(
    location: store::Location,
    retention: Duration,
    metrics: Arc<Metrics>,
) -> Result<Ledger, StoreError> {
    let shown = location.to_string();
    let (mut store, error) = store::Reopening::new(location);
    let now = time::now_ms();
    let budgets = if let Some(error) = error {
        tracing::warn!(
            "{error}; serving anyway, without a usage ledger until it can be opened (tried again with each batch)"
        );
        budget::Tracker::default()
    } else {
        tracing::info!("usage ledger `{shown}`");
        match store.spent(time::day_start(now), time::month_start(now)) {
            Ok(spent) => budget::Tracker::seeded(&spent, now),
            Err(error) => {
                tracing::warn!("cannot read what clients spent so far: {error}");
                budget::Tracker::default()
            }
        }
    };
    Ok(Ledger::start(Box::new(store), retention, metrics)
        .map_err(StoreError::Thread)?
        .with_budgets(Arc::new(budgets)))
}
