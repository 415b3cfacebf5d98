//! The connection to Redis: commands bounded in time, the up/down state that decides whether
//! a request asks at all, and the task that reconnects with backoff and listens to the other
//! replicas.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use futures_util::StreamExt;
use parking_lot::Mutex;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, FromRedisValue, RedisError};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{Inner, channel, scripts};
use crate::config::SharedStateUrl;
use crate::metrics::Metrics;

/// The longest a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest a background command (not on a request's path) may take.
const BACKGROUND: Duration = Duration::from_secs(1);
/// The first wait before reconnecting, doubled after each failure up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long the link must stay up before a loss starts the backoff afresh: a Redis that
/// keeps failing soon after each connection is not reconnected to ten times a second.
const STEADY: Duration = Duration::from_secs(30);
/// How often a connected replica says it is alive and reads the shared budget counters.
pub(super) const HEARTBEAT: Duration = Duration::from_secs(1);
/// At most one warning about the shared state per this long; the state itself is always in
/// `GET /` and `/metrics`.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// After this many answers in a row that came too late or wrong, Redis counts as away:
/// requests stop asking until the supervisor finds it answering again.
const BAD_IN_A_ROW: u32 = 3;

const CONNECTING: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

#[derive(Debug)]
pub(super) struct Link {
    client: redis::Client,
    /// The URL with its password masked, for logs.
    url: String,
    /// How long a request waits for an answer (`settings.shared_state_wait`).
    wait: Duration,
    /// The connection; `None` while Redis is away.
    connection: ArcSwapOption<MultiplexedConnection>,
    /// Whether requests ask: up only once a connection is in step (after `converge`).
    state: AtomicU8,
    /// Answers that came too late or as errors since the last good one.
    bad: AtomicU32,
    /// Wakes the supervisor when a command finds the connection broken.
    lost: Notify,
    /// When a warning was last written.
    warned: Mutex<Option<Instant>>,
    metrics: Arc<Metrics>,
}

impl Link {
    pub(super) fn new(
        url: &SharedStateUrl,
        wait: Duration,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let client = redis::Client::open(url.expose())
            .map_err(|e| anyhow::anyhow!("settings.shared_state {}: {e}", url.redacted()))?;
        Ok(Self {
            client,
            url: url.redacted(),
            wait,
            connection: ArcSwapOption::empty(),
            state: AtomicU8::new(CONNECTING),
            bad: AtomicU32::new(0),
            lost: Notify::new(),
            warned: Mutex::new(None),
            metrics,
        })
    }

    pub(super) fn is_up(&self) -> bool {
        self.state.load(Ordering::Acquire) == UP
    }

    /// Runs a script for a request: `None`, at once, while Redis is away, or when it does
    /// not answer within the wait.
    pub(super) async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Option<T> {
        if !self.is_up() {
            return None;
        }
        let mut connection = self.connection()?;
        self.bounded(self.wait, invocation.invoke_async(&mut connection))
            .await
    }

    /// Runs a command for a request, as [`Link::invoke`].
    pub(super) async fn ask<T: FromRedisValue>(&self, command: &redis::Cmd) -> Option<T> {
        if !self.is_up() {
            return None;
        }
        let mut connection = self.connection()?;
        self.bounded(self.wait, command.query_async(&mut connection))
            .await
    }

    /// Runs a pipeline off the request path, whenever a connection exists (also while the
    /// supervisor brings a new one in step).
    pub(super) async fn pipeline_in_background<T: FromRedisValue>(
        &self,
        pipe: &redis::Pipeline,
    ) -> Option<T> {
        let mut connection = self.connection()?;
        self.bounded(BACKGROUND, pipe.query_async(&mut connection))
            .await
    }

    /// Runs a script off the request path, as [`Link::pipeline_in_background`].
    pub(super) async fn invoke_in_background<T: FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Option<T> {
        let mut connection = self.connection()?;
        self.bounded(BACKGROUND, invocation.invoke_async(&mut connection))
            .await
    }

    fn connection(&self) -> Option<MultiplexedConnection> {
        self.connection.load().as_deref().cloned()
    }

    /// Waits at most `limit` for `call`. A broken connection marks the link down, and so do
    /// [`BAD_IN_A_ROW`] answers in a row that came too late or as errors (a Redis that hangs
    /// or refuses would otherwise cost every request the whole wait, or a log line).
    async fn bounded<T>(
        &self,
        limit: Duration,
        call: impl Future<Output = Result<T, RedisError>>,
    ) -> Option<T> {
        let problem = match tokio::time::timeout(limit, call).await {
            Ok(Ok(value)) => {
                self.bad.store(0, Ordering::Relaxed);
                return Some(value);
            }
            Ok(Err(error))
                if error.is_io_error()
                    || error.is_connection_dropped()
                    || error.is_connection_refusal()
                    || error.is_unrecoverable_error() =>
            {
                self.down(&error.to_string());
                return None;
            }
            Ok(Err(error)) => format!("Redis answered with an error: {error}"),
            Err(_) => {
                if limit == self.wait {
                    self.metrics.count_shared_state_timeout();
                }
                format!("no answer within {}ms", limit.as_millis())
            }
        };
        if self.bad.fetch_add(1, Ordering::Relaxed) + 1 >= BAD_IN_A_ROW {
            self.down(&format!(
                "{BAD_IN_A_ROW} bad answers in a row, the last: {problem}"
            ));
        }
        None
    }

    /// Connects, loads the scripts and subscribes to the replicas' channel; requests do not
    /// ask yet (see [`Link::mark_up`]).
    async fn connect(&self) -> Result<redis::aio::PubSub, RedisError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(BACKGROUND));
        let mut connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await?;
        // Loaded now, so that the writer can send them by hash in its pipelines.
        scripts::RELEASE.load_async(&mut connection).await?;
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(channel()).await?;
        self.connection.store(Some(Arc::new(connection)));
        self.bad.store(0, Ordering::Relaxed);
        Ok(pubsub)
    }

    /// Lets requests ask, now that the shared state is in step.
    fn mark_up(&self) {
        if self.state.swap(UP, Ordering::AcqRel) != UP {
            tracing::info!("shared state connected: {}", self.url);
        }
        self.metrics.set_shared_state(Some(true));
    }

    /// Marks the link down: requests stop asking, and (at most once a minute) it says why.
    pub(super) fn down(&self, reason: &str) {
        self.connection.store(None);
        if self.state.swap(DOWN, Ordering::AcqRel) != DOWN && self.may_warn() {
            tracing::warn!(
                "shared state unavailable at {}: {reason}; this replica goes on with its own state and reconnects",
                self.url
            );
        }
        self.metrics.set_shared_state(Some(false));
        self.lost.notify_waiters();
    }

    fn may_warn(&self) -> bool {
        let mut warned = self.warned.lock();
        let now = Instant::now();
        if warned.is_some_and(|at| now.duration_since(at) < WARN_EVERY) {
            return false;
        }
        *warned = Some(now);
        true
    }
}

/// Keeps the link up: connects, brings the shared state in step, applies the other
/// replicas' messages, and reconnects with backoff whenever the connection is lost.
pub(super) async fn supervise(inner: Arc<Inner>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let reason = match tokio::time::timeout(CONNECT_TIMEOUT, inner.link.connect()).await {
            Ok(Ok(pubsub)) => {
                inner.converge().await;
                inner.link.mark_up();
                let since = Instant::now();
                let reason = listen(&inner, pubsub).await;
                if since.elapsed() >= STEADY {
                    backoff = MIN_BACKOFF;
                }
                reason
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()),
        };
        inner.link.down(&reason);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Applies the other replicas' messages until the connection is lost; returns why.
async fn listen(inner: &Inner, pubsub: redis::aio::PubSub) -> String {
    let mut messages = pubsub.into_on_message();
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = messages.next() => match message {
                Some(message) => inner.apply(message.get_payload_bytes()),
                None => return "the connection was closed".to_owned(),
            },
            () = inner.link.lost.notified() => return "a command failed".to_owned(),
            _ = beat.tick() => {
                if !inner.link.is_up() {
                    return "a command failed".to_owned();
                }
                inner.heartbeat().await;
            }
        }
    }
}
