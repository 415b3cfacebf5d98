//! The hyper server behind `claude-lb serve`: the only module that knows hyper server types.
//!
//! [`serve`] accepts connections until `shutdown` resolves, then stops accepting and gives
//! the requests in flight (streams included) a grace period to finish. Every request goes
//! to [`handler::handle`].
//!
//! Slow or greedy clients cannot take the server down: at most `max_connections` are served at
//! once (the others wait in the kernel's accept queue, they are not refused); a connection
//! that sends no complete request within `header_read_timeout` of opening, or that has had no
//! request in flight for [`crate::limits::IDLE_CONNECTION_TIMEOUT`], is closed, over HTTP/1 and
//! HTTP/2 alike; headers are limited to [`crate::limits::MAX_HEADER_BYTES`] (431 beyond); a
//! request body must arrive within [`crate::limits::REQUEST_BODY_DEADLINE`].

pub mod admin;
pub mod handler;
pub mod reload;
pub mod response;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::time::Instant;

use crate::access::Access;
use crate::dispatch::{Dispatcher, LogLine};
use crate::limits::{IDLE_CONNECTION_TIMEOUT, MAX_HEADER_BYTES};

/// How long requests in flight may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The largest request body accepted (Anthropic's own limit for Messages).
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// An environment lookup, passed in so reloads and tests never touch the process env.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Everything a request handler needs.
pub struct AppState {
    pub dispatcher: Dispatcher,
    /// The clients and the state of their limits; swapped with the config on reload.
    pub access: Access,
    /// The config file, re-read on reload; `None` when the config did not come from a file.
    pub config_path: Option<PathBuf>,
    pub env: EnvLookup,
    pub started: Instant,
    /// Serialises reloads, so two at once cannot interleave their swaps. A std mutex: a
    /// reload reads a small file and never awaits while holding it.
    pub reload_lock: std::sync::Mutex<()>,
    pub body_limit: usize,
    /// How long a request body may take to arrive once the headers are in.
    pub body_deadline: Duration,
    /// The address [`serve`] listens on, once it does: error answers name it in the command
    /// that shows every provider's state.
    pub local_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Local token estimates running at once, at most
    /// [`crate::limits::MAX_CONCURRENT_LOCAL_COUNTS`]; the others wait their turn.
    pub local_counts: tokio::sync::Semaphore,
    /// Where the usage ledger is, which `GET /usage` reads; `None` when the ledger is off.
    pub usage_ledger: Option<crate::usage::store::Location>,
    /// What each client spent, for budgets; `None` when the ledger is off.
    pub budgets: Option<Arc<crate::usage::budget::Tracker>>,
}

impl AppState {
    pub fn new(dispatcher: Dispatcher, config_path: Option<PathBuf>, env: EnvLookup) -> Self {
        let access = Access::new(&dispatcher.generation().config.clients);
        Self {
            dispatcher,
            access,
            config_path,
            env,
            started: Instant::now(),
            reload_lock: std::sync::Mutex::new(()),
            body_limit: BODY_LIMIT,
            body_deadline: crate::limits::REQUEST_BODY_DEADLINE,
            local_addr: std::sync::OnceLock::new(),
            local_counts: tokio::sync::Semaphore::new(crate::limits::MAX_CONCURRENT_LOCAL_COUNTS),
            usage_ledger: None,
            budgets: None,
        }
    }
}

/// Serves connections from `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        let _ = state.local_addr.set(addr);
    }
    // Read once: a reload cannot change them, as it cannot change the listening address.
    let (max_connections, header_timeout) = {
        let generation = state.dispatcher.generation();
        let settings = &generation.config.settings;
        (
            settings.access.max_connections.get(),
            settings.access.header_read_timeout,
        )
    };
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .keep_alive(true)
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_HEADER_BYTES)
        .timer(hyper_util::rt::TokioTimer::new());
    builder
        .http2()
        .max_header_list_size(u32::try_from(MAX_HEADER_BYTES).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20))
        .timer(hyper_util::rt::TokioTimer::new());
    let slots = Arc::new(tokio::sync::Semaphore::new(
        usize::try_from(max_connections).unwrap_or(usize::MAX),
    ));
    // Tracks every connection so a shutdown can wait for the ones still serving.
    let graceful = GracefulShutdown::new();
    // The background health checks run until the server stops accepting; awaited below, so
    // no probe outlives `serve`.
    let (stop_checks, checks_stopped) = tokio::sync::oneshot::channel::<()>();
    let checks = {
        let state = state.clone();
        tokio::spawn(async move {
            state
                .dispatcher
                .run_health_checks(async move {
                    let _ = checks_stopped.await;
                })
                .await;
        })
    };
    tokio::pin!(shutdown);
    loop {
        // A free slot first, then the connection: beyond `max_connections`, new connections
        // wait in the accept queue.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Running out of file descriptors must not end the server.
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let service = {
            let state = state.clone();
            let activity = activity.clone();
            service_fn(move |request| {
                let state = state.clone();
                let in_flight = InFlight::start(&activity);
                async move {
                    let response =
                        handler::handle(request, &state, peer, &in_flight.0.connection).await;
                    Ok::<_, std::convert::Infallible>(response::hold(response, in_flight))
                }
            })
        };
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        // Safe to detach: `graceful` tracks the connection, and shutdown waits for it.
        tokio::spawn(watch_idle(connection, activity, header_timeout, peer, slot));
    }
    drop(listener);
    let _ = stop_checks.send(());
    let _ = checks.await;
    tracing::info!(
        connections = graceful.count(),
        "shutting down: waiting up to {}s for requests in flight",
        SHUTDOWN_GRACE.as_secs()
    );
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("grace period over: closing the remaining connections");
    }
    Ok(())
}

/// Runs one connection to its end, or closes it when it has been idle for too long (see
/// [`Activity::idle_until`]); `slot` is its place among `max_connections`.
async fn watch_idle<C, E>(
    connection: C,
    activity: Arc<Activity>,
    header_timeout: Duration,
    peer: std::net::SocketAddr,
    slot: tokio::sync::OwnedSemaphorePermit,
) where
    C: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let _slot = slot;
    let mut connection = std::pin::pin!(connection);
    // Each time the connection's task has done what it could (written the answers that were
    // ready, among others), the log lines of those answers.
    let mut connection = std::future::poll_fn(|cx| {
        let polled = connection.as_mut().poll(cx);
        activity.connection.lines.write();
        polled
    });
    let mut check_at = activity.started + header_timeout;
    loop {
        tokio::select! {
            result = &mut connection => {
                if let Err(error) = result {
                    tracing::debug!(%peer, "connection ended with an error: {error}");
                }
                return;
            }
            () = tokio::time::sleep_until(check_at) => {
                match activity.idle_until(header_timeout) {
                    Some(until) if until <= Instant::now() => {
                        tracing::debug!(%peer, "closing an idle connection");
                        return;
                    }
                    Some(until) => check_at = until,
                    None => check_at = Instant::now() + IDLE_CONNECTION_TIMEOUT,
                }
            }
        }
    }
}

/// What a connection has been doing: requests in flight, and when the last one ended.
struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    /// Requests started so far.
    requests: AtomicU64,
    /// When the last request ended, in milliseconds since `started`.
    last_end_ms: AtomicU64,
    /// What its requests share.
    connection: Connection,
}

/// What the requests of one connection share.
#[derive(Default)]
pub struct Connection {
    /// The log lines of its answers written whole.
    pub lines: LogLines,
    /// The digest of the client key it last presented.
    pub keys: crate::access::KeyMemo,
}

/// The log lines of a connection's answers written whole, written by [`watch_idle`] once the
/// connection's task has written those answers: a client never waits for its line.
#[derive(Default)]
pub struct LogLines {
    waiting: parking_lot::Mutex<Vec<LogLine>>,
    /// Where [`LogLines::write`] takes the waiting lines to, to write them outside the lock
    /// that requests push to (an HTTP/2 connection's requests run in tasks of their own).
    writing: parking_lot::Mutex<Vec<LogLine>>,
}

impl LogLines {
    /// Leaves `line` to be written once the connection has written its answer.
    pub fn push(&self, line: LogLine) {
        if !line.is_empty() {
            self.waiting.lock().push(line);
        }
    }

    /// Writes the lines waiting for their answers to be written.
    fn write(&self) {
        let mut batch = self.writing.lock();
        {
            let mut queue = self.waiting.lock();
            if queue.is_empty() {
                return;
            }
            std::mem::swap(&mut *queue, &mut *batch);
        }
        // Dropping a line writes it.
        batch.clear();
    }
}

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            last_end_ms: AtomicU64::new(0),
            connection: Connection::default(),
        }
    }

    /// When the connection is to be closed if nothing happens: `header_timeout` after it
    /// opened while no request ever came, the idle timeout after the last request ended;
    /// `None` while a request is in flight.
    fn idle_until(&self, header_timeout: Duration) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        if self.requests.load(Ordering::Acquire) == 0 {
            return Some(self.started + header_timeout);
        }
        let last = Duration::from_millis(self.last_end_ms.load(Ordering::Acquire));
        Some(self.started + last + IDLE_CONNECTION_TIMEOUT)
    }
}

/// One request of a connection, from the moment hyper hands it over to the end of its
/// answer's body (or the client going away).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: &Arc<Activity>) -> Self {
        activity.requests.fetch_add(1, Ordering::AcqRel);
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let since = u64::try_from(self.0.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.0.last_end_ms.fetch_max(since, Ordering::AcqRel);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}
