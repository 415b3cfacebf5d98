//! State that several replicas share through Redis (`settings.shared_state`): provider health
//! and cooldowns, session affinity, client limits and budget counters.
//!
//! # Never in the way
//!
//! Every replica keeps its own tables ([`HealthTable`], [`AffinityTable`], the access limits,
//! the budget [`Tracker`]) and decides from them; Redis only keeps them in step. Changes go out
//! through a bounded queue that one task writes in pipelined batches ([`Outgoing`]), and come
//! in on one pub/sub channel that the supervising task applies, so a request never waits for
//! either. At most two questions are asked on a request's path, each bounded by
//! `settings.shared_state_wait`: a client's limits (which must be counted in one place to mean
//! anything; one script for both) and the provider of a session this replica has not seen.
//! While Redis is away those are answered from local state at once, without trying: a broken
//! connection, or three late or wrong answers in a row, mark the link down, and only the
//! supervisor reconnects, with backoff.
//!
//! # Agreeing
//!
//! - A cooldown is published as its absolute end (milliseconds since the Unix epoch), so
//!   replicas agree on when it ends whenever they hear of it, and kept in a key that expires
//!   with it, so a replica that starts or reconnects reads the cooldowns in force. A recovery
//!   (a success or a passing health check during a cooldown) is published and the key deleted.
//! - A session that moves to a provider is published, and kept in a key that expires
//!   `affinity_ttl` after its last answer; a replica that has not seen a session asks for its
//!   key. Session keys are hashes of the id, the same in every replica
//!   ([`AffinityTable::shared`]).
//! - `requests_per_minute` is one GCRA instant per client in Redis, moved on Redis's clock;
//!   `max_concurrent` is a count per replica per client, summed over the replicas still alive
//!   (each refreshes a key every second, and rewrites its counts), so a replica that dies takes
//!   its slots with it. One script checks both and counts the request only if both allow it.
//! - Budgets: each request's tokens and cost are added to counters per client and day or
//!   month; every second each replica raises its totals to the counters.
//! - When the link comes back, and before requests ask again, each replica publishes the
//!   cooldowns its own failures started, applies those of the others, tells the recoveries they
//!   missed, ends the cooldowns it heard of that Redis no longer holds, and adds back what it
//!   spent meanwhile, so that state lost with a restarted Redis comes back.

mod link;
mod scripts;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::{Config, SharedStateUrl};
use crate::core::affinity::{AffinityTable, SessionKey};
use crate::core::health::{HealthChange, HealthObserver, HealthTable};
use crate::core::provider::ProviderId;
use crate::metrics::Metrics;
use crate::usage::budget::{SpendObserver, Tracker};
use crate::usage::report::Spent;
use crate::usage::time::{day_start, month_start};
use link::Link;

/// How many changes may wait to be written to Redis; more are dropped (the next reconnection
/// or change sets things right).
const OUTBOX: usize = 4096;

/// The prefix of every key and the channel.
const PREFIX: &str = "claude-lb";

/// What the running config says that the shared state needs.
#[derive(Debug, Default)]
struct Known {
    providers: Vec<ProviderId>,
    /// The clients with a budget.
    budgeted: Vec<String>,
    affinity_ttl: Duration,
}

/// The shared state of one replica: cheap to clone.
#[derive(Clone, Debug)]
pub struct Shared {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    link: Link,
    /// This replica's name among the others: random, new at each start.
    replica: Box<str>,
    outbox: mpsc::Sender<Outgoing>,
    health: Arc<HealthTable>,
    affinity: Arc<AffinityTable>,
    known: arc_swap::ArcSwap<Known>,
    budgets: std::sync::OnceLock<Arc<Tracker>>,
    metrics: Arc<Metrics>,
    /// This replica's requests holding a shared `max_concurrent` slot, per client.
    slots: Mutex<HashMap<Arc<str>, u32>>,
    /// The cooldowns this replica told the others of, and when they end; an entry stays
    /// until its recovery was written to Redis (or it ended), so that a recovery the others
    /// missed while Redis was away is told when it is back.
    announced: Mutex<HashMap<ProviderId, Instant>>,
    /// What each client spent here that Redis did not get (it was away, or the queue was
    /// full), in the period it was spent: added to the shared counters when Redis is back.
    unsent: Mutex<HashMap<String, Unsent>>,
}

/// Spending not yet added to the shared counters, with the day and month it counts in.
#[derive(Clone, Copy, Debug, Default)]
struct Unsent {
    day_start_ms: i64,
    tokens: u64,
    month_start_ms: i64,
    usd: f64,
}

/// A change to write to Redis.
#[derive(Debug)]
enum Outgoing {
    Health(ProviderId, HealthChange),
    Session {
        key: SessionKey,
        provider: ProviderId,
        ttl: Duration,
        /// Whether the session changed provider (else only its key's life is renewed).
        moved: bool,
    },
    Spent {
        added: Spent,
        day_start_ms: i64,
        month_start_ms: i64,
    },
    Release(Arc<str>),
}

/// What replicas tell each other on the channel.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Message {
    Cooldown {
        from: String,
        provider: String,
        until_ms: i64,
        error: String,
        /// A rate limit (a passing health check does not end it).
        #[serde(default)]
        rate_limited: bool,
    },
    Recovered {
        from: String,
        provider: String,
    },
    Session {
        from: String,
        key: String,
        provider: String,
    },
}

/// The value of a cooldown's key.
#[derive(Debug, Serialize, Deserialize)]
struct CooldownValue {
    /// The replica that wrote it.
    from: String,
    until_ms: i64,
    error: String,
    #[serde(default)]
    rate_limited: bool,
}

impl Shared {
    /// Connects this replica to the shared state at `url` (in the background: a Redis that
    /// is away now is only logged, and tried again with backoff), keeping `health` and
    /// `affinity` in step with the other replicas.
    pub fn start(
        url: &SharedStateUrl,
        config: &Config,
        health: &Arc<HealthTable>,
        affinity: Arc<AffinityTable>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let link = Link::new(url, config.settings.shared_state_wait, metrics.clone())?;
        let (outbox, queue) = mpsc::channel(OUTBOX);
        let shared = Self {
            inner: Arc::new(Inner {
                link,
                replica: replica_name().into(),
                outbox,
                health: health.clone(),
                affinity,
                known: arc_swap::ArcSwap::from_pointee(Known::default()),
                budgets: std::sync::OnceLock::new(),
                metrics,
                slots: Mutex::new(HashMap::new()),
                announced: Mutex::new(HashMap::new()),
                unsent: Mutex::new(HashMap::new()),
            }),
        };
        shared.set_config(config);
        shared.inner.metrics.set_shared_state(Some(false));
        health.observe(Arc::new(shared.clone()));
        tokio::spawn(write(shared.inner.clone(), queue));
        tokio::spawn(link::supervise(shared.inner.clone()));
        Ok(shared)
    }

    /// Takes the providers, budgets and affinity TTL of a new config.
    pub fn set_config(&self, config: &Config) {
        self.inner.known.store(Arc::new(Known {
            providers: config.providers.iter().map(|p| p.id.clone()).collect(),
            budgeted: config
                .clients
                .iter()
                .filter(|c| c.budget.is_some())
                .map(|c| c.name.to_string())
                .collect(),
            affinity_ttl: config.settings.affinity_ttl,
        }));
    }

    /// Shares the budget counters of `budgets`.
    pub fn share_budgets(&self, budgets: Arc<Tracker>) {
        budgets.observe(Arc::new(self.clone()));
        let _ = self.inner.budgets.set(budgets);
    }

    /// Whether Redis answers now.
    pub fn available(&self) -> bool {
        self.inner.link.is_up()
    }

    /// The provider another replica last served `session` with, if Redis knows it within
    /// `settings.shared_state_wait`.
    pub async fn session(&self, session: SessionKey) -> Option<ProviderId> {
        let mut command = redis::cmd("GET");
        command.arg(session_key(session));
        let provider: Option<String> = self.inner.link.ask(&command).await?;
        let provider = provider?;
        let known = self.inner.known.load();
        known
            .providers
            .iter()
            .find(|p| p.as_str() == provider)
            .cloned()
    }

    /// Keeps `session` on `provider` in Redis for `ttl` from now; when it `moved` there,
    /// tells the other replicas too.
    pub fn session_served(
        &self,
        session: SessionKey,
        provider: &ProviderId,
        ttl: Duration,
        moved: bool,
    ) {
        self.inner.send(Outgoing::Session {
            key: session,
            provider: provider.clone(),
            ttl,
            moved,
        });
    }

    /// Counts one request of `client` against its limits across all replicas, in one
    /// question: `None` when Redis did not answer in time (the caller decides locally), else
    /// the slot taken (when `max_concurrent` is given) or why the request may not go.
    pub async fn admit_limits(
        &self,
        client: &Arc<str>,
        max_concurrent: Option<NonZeroU32>,
        per_minute: Option<NonZeroU32>,
    ) -> Option<Result<Option<Slot>, Limited>> {
        let (interval_us, tolerance_us) = per_minute.map_or((0, 0), |n| {
            let interval = 60_000_000 / u64::from(n.get());
            (interval, interval * u64::from(n.get() - 1))
        });
        let mut invocation = scripts::LIMITS.prepare_invoke();
        invocation
            .key(slots_key(client))
            .key(format!("{PREFIX}:rate:{client}"))
            .arg(max_concurrent.map_or(0, NonZeroU32::get))
            .arg(&*self.inner.replica)
            .arg(format!("{PREFIX}:replica:"))
            .arg(interval_us)
            .arg(tolerance_us);
        let answer: i64 = self.inner.link.invoke(&invocation).await?;
        Some(match answer {
            0 if max_concurrent.is_some() => {
                *self.inner.slots.lock().entry(client.clone()).or_default() += 1;
                Ok(Some(Slot {
                    inner: self.inner.clone(),
                    client: client.clone(),
                }))
            }
            0 => Ok(None),
            -1 => Err(Limited::Busy),
            wait_us => Err(Limited::Wait(Duration::from_micros(wait_us.unsigned_abs()))),
        })
    }
}

/// Why a client's limits refuse a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limited {
    /// Every `max_concurrent` slot is taken.
    Busy,
    /// `requests_per_minute` lets one more go after this long.
    Wait(Duration),
}

/// A shared `max_concurrent` slot, given back when dropped (with the answer's body).
#[derive(Debug)]
pub struct Slot {
    inner: Arc<Inner>,
    client: Arc<str>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(n) = self.inner.slots.lock().get_mut(&self.client) {
            *n = n.saturating_sub(1);
        }
        self.inner.send(Outgoing::Release(self.client.clone()));
    }
}

impl HealthObserver for Shared {
    fn changed(&self, id: &ProviderId, change: HealthChange) {
        if let HealthChange::CoolingUntil { until, .. } = &change {
            self.inner.announced.lock().insert(id.clone(), *until);
        }
        self.inner.send(Outgoing::Health(id.clone(), change));
    }
}

impl SpendObserver for Shared {
    fn spent(&self, client: &str, added: &Spent, day_start_ms: i64, month_start_ms: i64) {
        let change = Outgoing::Spent {
            added: added.clone(),
            day_start_ms,
            month_start_ms,
        };
        if self.inner.send(change) {
            return;
        }
        let mut unsent = self.inner.unsent.lock();
        let entry = unsent.entry(client.to_owned()).or_default();
        if entry.day_start_ms != day_start_ms {
            entry.day_start_ms = day_start_ms;
            entry.tokens = 0;
        }
        if entry.month_start_ms != month_start_ms {
            entry.month_start_ms = month_start_ms;
            entry.usd = 0.0;
        }
        entry.tokens = entry.tokens.saturating_add(added.tokens_today);
        entry.usd += added.usd_this_month;
    }
}

impl Inner {
    /// Queues a change for Redis; returns whether it was queued. While Redis is away or the
    /// queue is full it is not (and counted when it is a loss): the reconnection sets things
    /// right.
    fn send(&self, change: Outgoing) -> bool {
        if !self.link.is_up() {
            return false;
        }
        let queued = self.outbox.try_send(change).is_ok();
        if !queued {
            self.metrics.count_shared_state_dropped();
        }
        queued
    }

    /// Applies a message of another replica.
    fn apply(&self, payload: &[u8]) {
        let Ok(message) = serde_json::from_slice::<Message>(payload) else {
            tracing::debug!("ignoring a shared-state message this claude-lb cannot read");
            return;
        };
        let known = self.known.load();
        let provider = |name: &str| known.providers.iter().find(|p| p.as_str() == name);
        match message {
            Message::Cooldown {
                from,
                provider: name,
                until_ms,
                error,
                rate_limited,
            } if from != *self.replica => {
                if let Some(id) = provider(&name) {
                    self.apply_cooldown(id, until_ms, error, rate_limited);
                }
            }
            Message::Recovered {
                from,
                provider: name,
            } if from != *self.replica => {
                if let Some(id) = provider(&name)
                    && self
                        .health
                        .apply_shared(id, &HealthChange::Recovered, Instant::now())
                {
                    tracing::info!(provider = %id, "provider recovered on another replica");
                }
            }
            Message::Session {
                from,
                key,
                provider: name,
            } if from != *self.replica => {
                if let (Some(id), Ok(bits)) = (provider(&name), u64::from_str_radix(&key, 16)) {
                    self.affinity.record(
                        SessionKey::from_bits(bits),
                        id,
                        known.affinity_ttl,
                        Instant::now(),
                    );
                }
            }
            _ => {}
        }
    }

    fn apply_cooldown(&self, id: &ProviderId, until_ms: i64, error: String, rate_limited: bool) {
        let now = Instant::now();
        let Some(until) = instant_of(until_ms, now) else {
            return;
        };
        let change = HealthChange::CoolingUntil {
            until,
            error: error.into(),
            rate_limited,
        };
        if self.health.apply_shared(id, &change, now) {
            tracing::info!(
                provider = %id,
                cooldown_s = until.saturating_duration_since(now).as_secs(),
                "provider cooling down, as another replica found"
            );
        }
    }
}

impl Inner {
    /// Brings the shared state in step after a (re)connection: publishes the cooldowns in
    /// force here, applies those in force elsewhere, and raises the shared slot counts and
    /// budget counters to what this replica knows (a restarted Redis lost them).
    async fn converge(&self) {
        self.heartbeat().await;
        let now = Instant::now();
        let mut pipe = redis::pipe();
        for (id, change) in self.health.cooling(now) {
            tell(&mut pipe, &self.replica, &id, &change);
        }
        if !pipe.is_empty() {
            let _: Option<()> = self.link.pipeline_in_background(&pipe).await;
        }
        self.read_cooldowns().await;
        self.restore_budgets().await;
    }

    /// Applies the cooldowns other replicas keep in Redis, ends those heard of that it no
    /// longer holds, and tells the recoveries the others missed while Redis was away.
    async fn read_cooldowns(&self) {
        let known = self.known.load();
        if known.providers.is_empty() {
            return;
        }
        let mut get = redis::cmd("MGET");
        for id in &known.providers {
            get.arg(cooldown_key(id));
        }
        let mut pipe = redis::pipe();
        pipe.add_command(get);
        let values: Option<(Vec<Option<String>>,)> = self.link.pipeline_in_background(&pipe).await;
        let now = Instant::now();
        let mut recovered = redis::pipe();
        for (id, value) in known
            .providers
            .iter()
            .zip(values.map(|v| v.0).unwrap_or_default())
        {
            match value.and_then(|v| serde_json::from_str::<CooldownValue>(&v).ok()) {
                Some(value) if value.from != *self.replica => {
                    self.apply_cooldown(id, value.until_ms, value.error, value.rate_limited);
                }
                // Told from here, and over here since: the recovery never reached Redis.
                Some(_) if self.health.available(id, now) => {
                    tell(&mut recovered, &self.replica, id, &HealthChange::Recovered);
                }
                Some(_) => {}
                // A cooldown heard of that Redis no longer holds: it ended, or it was lost
                // with a restarted Redis and its replica will tell it again.
                None => {
                    if self.health.end_shared_cooldown(id, now) {
                        tracing::info!(provider = %id, "provider available: the cooldown another replica told of is over");
                    }
                }
            }
        }
        self.announced.lock().retain(|id, until| {
            if *until <= now {
                return false;
            }
            if !self.health.available(id, now) {
                return true;
            }
            tell(&mut recovered, &self.replica, id, &HealthChange::Recovered);
            false
        });
        if !recovered.is_empty() {
            let _: Option<()> = self.link.pipeline_in_background(&recovered).await;
        }
    }

    /// Brings the budget counters back: adds what was spent here while Redis was away, or,
    /// when Redis lost a counter, sets it to what this replica knows.
    async fn restore_budgets(&self) {
        let Some(budgets) = self.budgets.get() else {
            return;
        };
        let now_ms = now_ms();
        let (day, month) = (day_start(now_ms), month_start(now_ms));
        let unsent = std::mem::take(&mut *self.unsent.lock());
        for client in &self.known.load().budgeted {
            let (tokens_today, usd_this_month) = budgets.spent(client, now_ms);
            let missed = unsent.get(client).copied().unwrap_or_default();
            let (tokens, usd) = budget_keys(client, day, month);
            let missed_tokens = if missed.day_start_ms == day {
                missed.tokens
            } else {
                0
            };
            let missed_usd = if missed.month_start_ms == month {
                missed.usd
            } else {
                0.0
            };
            for (key, missed, total) in [
                (tokens, missed_tokens.to_string(), tokens_today.to_string()),
                (usd, missed_usd.to_string(), usd_this_month.to_string()),
            ] {
                let mut invocation = scripts::RESTORE.prepare_invoke();
                invocation
                    .key(key)
                    .arg(missed)
                    .arg(total)
                    .arg(BUDGET_KEPT_MS);
                let _: Option<i64> = self.link.invoke_in_background(&invocation).await;
            }
        }
    }

    /// Says this replica is alive, writes how many shared slots it holds per client (so a
    /// slot whose release was lost is given back within a beat), and raises the budget
    /// totals to the shared counters.
    async fn heartbeat(&self) {
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(format!("{PREFIX}:replica:{}", self.replica))
            .arg(1)
            .arg("PX")
            .arg(millis(link::HEARTBEAT * 5))
            .ignore();
        self.slots.lock().retain(|client, n| {
            if *n == 0 {
                pipe.cmd("HDEL").arg(slots_key(client)).arg(&*self.replica);
            } else {
                pipe.cmd("HSET")
                    .arg(slots_key(client))
                    .arg(&*self.replica)
                    .arg(*n);
            }
            pipe.ignore();
            *n > 0
        });
        let known = self.known.load();
        let budgets = self.budgets.get().filter(|_| !known.budgeted.is_empty());
        let now_ms = now_ms();
        let (day, month) = (day_start(now_ms), month_start(now_ms));
        if budgets.is_some() {
            let mut get = redis::cmd("MGET");
            for client in &known.budgeted {
                let (tokens, usd) = budget_keys(client, day, month);
                get.arg(tokens).arg(usd);
            }
            pipe.add_command(get);
        }
        let answer: Option<Vec<Vec<Option<String>>>> =
            self.link.pipeline_in_background(&pipe).await;
        let (Some(budgets), Some(values)) = (budgets, answer.and_then(|a| a.into_iter().next()))
        else {
            return;
        };
        for (client, pair) in known.budgeted.iter().zip(values.chunks(2)) {
            let number = |i: usize| pair.get(i).cloned().flatten();
            let shared = Spent {
                client: client.clone(),
                tokens_today: number(0).and_then(|v| v.parse().ok()).unwrap_or(0),
                usd_this_month: number(1).and_then(|v| v.parse().ok()).unwrap_or(0.0),
            };
            budgets.raise(&shared, day, month, now_ms);
        }
    }
}

/// How many queued changes the writer sends in one pipeline.
const BATCH: usize = 256;

/// Writes queued changes to Redis while the link is up: those queued together in one
/// pipeline, one round trip.
async fn write(inner: Arc<Inner>, mut queue: mpsc::Receiver<Outgoing>) {
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        let mut recovered = Vec::new();
        for change in batch.drain(..) {
            match change {
                Outgoing::Health(id, change) => {
                    if matches!(change, HealthChange::Recovered) {
                        recovered.push(id.clone());
                    }
                    tell(&mut pipe, &inner.replica, &id, &change);
                }
                Outgoing::Session {
                    key,
                    provider,
                    ttl,
                    moved,
                } => {
                    pipe.cmd("SET")
                        .arg(session_key(key))
                        .arg(provider.as_str())
                        .arg("PX")
                        .arg(millis(ttl).max(1))
                        .ignore();
                    if moved {
                        publish(
                            &mut pipe,
                            &Message::Session {
                                from: inner.replica.to_string(),
                                key: format!("{:016x}", key.to_bits()),
                                provider: provider.to_string(),
                            },
                        );
                    }
                }
                Outgoing::Spent {
                    added,
                    day_start_ms,
                    month_start_ms,
                } => {
                    let (tokens, usd) = budget_keys(&added.client, day_start_ms, month_start_ms);
                    pipe.cmd("INCRBY")
                        .arg(&tokens)
                        .arg(added.tokens_today)
                        .ignore()
                        .cmd("PEXPIRE")
                        .arg(&tokens)
                        .arg(BUDGET_KEPT_MS)
                        .ignore()
                        .cmd("INCRBYFLOAT")
                        .arg(&usd)
                        .arg(added.usd_this_month)
                        .ignore()
                        .cmd("PEXPIRE")
                        .arg(&usd)
                        .arg(BUDGET_KEPT_MS)
                        .ignore();
                }
                Outgoing::Release(client) => {
                    // Loaded at each connection (`Link::connect`).
                    pipe.cmd("EVALSHA")
                        .arg(scripts::RELEASE.get_hash())
                        .arg(1)
                        .arg(slots_key(&client))
                        .arg(&*inner.replica)
                        .ignore();
                }
            }
        }
        if pipe.is_empty() {
            continue;
        }
        let written: Option<()> = inner.link.pipeline_in_background(&pipe).await;
        if written.is_some() && !recovered.is_empty() {
            // Told: forget them, unless a new cooldown started meanwhile.
            let now = Instant::now();
            let mut announced = inner.announced.lock();
            for id in recovered {
                if inner.health.available(&id, now) {
                    announced.remove(&id);
                }
            }
        }
    }
}

/// How long budget counters are kept: past the longest period they count (a month), so that
/// a replica that starts late in a month still finds the month's counter.
const BUDGET_KEPT_MS: u64 = 32 * 24 * 3600 * 1000;

/// Writes `change` of `id` to Redis and tells the other replicas: a cooldown is kept in its
/// key until it ends, a recovery deletes the key. A cooldown already over is left out.
fn tell(pipe: &mut redis::Pipeline, replica: &str, id: &ProviderId, change: &HealthChange) {
    match change {
        HealthChange::CoolingUntil {
            until,
            error,
            rate_limited,
        } => {
            let remaining = until.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return;
            }
            let until_ms = ms_of(*until);
            let value = CooldownValue {
                from: replica.to_owned(),
                until_ms,
                error: error.to_string(),
                rate_limited: *rate_limited,
            };
            pipe.cmd("SET")
                .arg(cooldown_key(id))
                .arg(serde_json::to_string(&value).unwrap_or_default())
                .arg("PX")
                .arg(millis(remaining).max(1))
                .ignore();
            publish(
                pipe,
                &Message::Cooldown {
                    from: replica.to_owned(),
                    provider: id.to_string(),
                    until_ms,
                    error: error.to_string(),
                    rate_limited: *rate_limited,
                },
            );
        }
        HealthChange::Recovered => {
            pipe.cmd("DEL").arg(cooldown_key(id)).ignore();
            publish(
                pipe,
                &Message::Recovered {
                    from: replica.to_owned(),
                    provider: id.to_string(),
                },
            );
        }
    }
}

fn publish(pipe: &mut redis::Pipeline, message: &Message) {
    pipe.cmd("PUBLISH")
        .arg(channel())
        .arg(serde_json::to_string(message).unwrap_or_default())
        .ignore();
}

fn channel() -> String {
    format!("{PREFIX}:events")
}

fn cooldown_key(id: &ProviderId) -> String {
    format!("{PREFIX}:cooldown:{id}")
}

fn session_key(session: SessionKey) -> String {
    format!("{PREFIX}:session:{:016x}", session.to_bits())
}

fn slots_key(client: &str) -> String {
    format!("{PREFIX}:slots:{client}")
}

/// The keys of `client`'s token count for the day and cost for the month starting at these.
fn budget_keys(client: &str, day_start_ms: i64, month_start_ms: i64) -> (String, String) {
    (
        format!("{PREFIX}:budget:{client}:tokens:{day_start_ms}"),
        format!("{PREFIX}:budget:{client}:usd:{month_start_ms}"),
    )
}

/// A random name for this replica.
fn replica_name() -> String {
    let mut bytes = [0u8; 8];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
        // No randomness: the process id and the time still tell replicas apart.
        bytes = (u64::from(std::process::id()) ^ now_ms().unsigned_abs()).to_be_bytes();
    }
    format!("{:016x}", u64::from_be_bytes(bytes))
}

fn now_ms() -> i64 {
    crate::usage::time::now_ms()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `instant` as milliseconds since the Unix epoch.
fn ms_of(instant: Instant) -> i64 {
    let now = Instant::now();
    let ahead = i64::try_from(millis(instant.saturating_duration_since(now))).unwrap_or(i64::MAX);
    now_ms().saturating_add(ahead)
}

/// The instant of `ms` since the Unix epoch, when it is still to come.
fn instant_of(ms: i64, now: Instant) -> Option<Instant> {
    let ahead = ms.checked_sub(now_ms()).filter(|d| *d > 0)?;
    now.checked_add(Duration::from_millis(ahead.unsigned_abs()))
}

#[cfg(test)]
mod tests;
