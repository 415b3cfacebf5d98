//! Who may use this instance: client keys and their limits, the admin routes, and web pages.
//!
//! The proxy asks here before anything else happens to a request: [`browser::check`] for every
//! request, [`admin`] for the admin routes, [`Access::admit`] for the API routes. Each answer is
//! either a go-ahead or a [`Refusal`] that already says what the client is told; none of them
//! contacts or blames a provider.
//!
//! Keys are compared as SHA-256 digests, in constant time, against every client (no early exit
//! on a match), so neither the time of an answer nor anything in it tells which part of a key,
//! or which client's key, was close. Only names appear in logs and answers. A connection
//! remembers the digest of the last key it presented ([`KeyMemo`]): clients send the same key
//! with every request, so a kept-alive connection hashes it once.

pub mod browser;
pub mod rate;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use http::header::AUTHORIZATION;
use http::{HeaderMap, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::config::{AccessSettings, Client, KeyDigest};
use crate::core::error_type::ErrorType;
use crate::shared::{Limited, Shared};
use rate::RateLimiter;

/// How long a client told it has too many requests in flight should wait: one of them may end
/// at any moment, so the shortest a `retry-after` can say.
const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Why a request is refused, as the client will be told.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub error_type: ErrorType,
    /// A short, fixed label for logs and metrics (`missing_key`, `rate_limit`, ...).
    pub reason: &'static str,
    /// What the client is told; never a key or another client's name.
    pub message: String,
    /// For a limit: when to come back.
    pub retry_after: Option<Duration>,
    /// The client the request was authenticated as, when it was.
    pub client: Option<Arc<str>>,
}

impl Refusal {
    fn new(
        status: StatusCode,
        error_type: ErrorType,
        reason: &'static str,
        message: String,
    ) -> Self {
        Self {
            status,
            error_type,
            reason,
            message,
            retry_after: None,
            client: None,
        }
    }

    /// 403 `permission_error`.
    pub fn forbidden(reason: &'static str, message: String) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorType::Permission,
            reason,
            message,
        )
    }

    fn for_client(mut self, client: &Client) -> Self {
        self.client = Some(client.name.clone());
        self
    }
}

/// A request let in: its client, and the slot it holds among the client's `max_concurrent`
/// until its answer ends (drop the permit with the answer's body).
#[derive(Debug)]
pub struct Admitted {
    pub client: Arc<Client>,
    pub permit: Option<Permit>,
}

/// A slot among a client's `max_concurrent`: counted in this process, or across the replicas
/// that share state.
#[derive(Debug)]
pub enum Permit {
    Local(OwnedSemaphorePermit),
    Shared(crate::shared::Slot),
}

/// The clients of the running configuration, with the state of their limits. Shared by every
/// request; a reload swaps the clients and keeps the limit state of every client whose name
/// and limits did not change, so that a reload is no way around a limit.
#[derive(Debug, Default)]
pub struct Access {
    table: ArcSwap<Vec<Entry>>,
}

#[derive(Debug)]
struct Entry {
    client: Arc<Client>,
    rate: Option<Arc<RateLimiter>>,
    slots: Option<Arc<Semaphore>>,
}

impl Access {
    pub fn new(clients: &[Arc<Client>]) -> Self {
        let access = Self::default();
        access.replace(clients);
        access
    }

    /// Swaps in the clients of a new configuration.
    pub fn replace(&self, clients: &[Arc<Client>]) {
        let old = self.table.load();
        let table = clients
            .iter()
            .map(|client| {
                let kept = old.iter().find(|e| e.client.same_limits(client));
                Entry {
                    client: client.clone(),
                    rate: kept.and_then(|e| e.rate.clone()).or_else(|| {
                        client
                            .requests_per_minute
                            .map(|n| Arc::new(RateLimiter::per_minute(n)))
                    }),
                    slots: kept.and_then(|e| e.slots.clone()).or_else(|| {
                        client.max_concurrent.map(|n| {
                            Arc::new(Semaphore::new(usize::try_from(n.get()).unwrap_or(1)))
                        })
                    }),
                }
            })
            .collect();
        self.table.store(Arc::new(table));
    }

    /// Whether requests need a client key.
    pub fn required(&self) -> bool {
        !self.table.load().is_empty()
    }

    /// Authenticates a request by its `x-api-key` or `Authorization: Bearer` and takes its
    /// place within the client's limits. `Ok(None)` when no clients are configured. `keys` is
    /// the memo of the connection the request came on.
    pub fn admit(
        &self,
        headers: &HeaderMap,
        now: Instant,
        keys: &KeyMemo,
    ) -> Result<Option<Admitted>, Refusal> {
        let table = self.table.load();
        match authenticate(&table, headers, keys)? {
            Some(entry) => limit_locally(entry, now).map(Some),
            None => Ok(None),
        }
    }

    /// [`Access::admit`], with the limits counted across the replicas that share `shared`, in
    /// one question; when Redis is away or does not answer in time, they are decided here, as
    /// without it.
    pub async fn admit_shared(
        &self,
        headers: &HeaderMap,
        now: Instant,
        keys: &KeyMemo,
        shared: &Shared,
    ) -> Result<Option<Admitted>, Refusal> {
        let table = self.table.load();
        let Some(entry) = authenticate(&table, headers, keys)? else {
            return Ok(None);
        };
        let client = &entry.client;
        let max_concurrent = client.max_concurrent.filter(|_| entry.slots.is_some());
        let per_minute = client.requests_per_minute.filter(|_| entry.rate.is_some());
        if max_concurrent.is_none() && per_minute.is_none() {
            return Ok(Some(Admitted {
                client: client.clone(),
                permit: None,
            }));
        }
        let Some(answer) = shared
            .admit_limits(&client.name, max_concurrent, per_minute)
            .await
        else {
            return limit_locally(entry, now).map(Some);
        };
        let slot = match answer {
            Ok(slot) => slot,
            Err(Limited::Busy) => return Err(busy(client)),
            Err(Limited::Wait(wait)) => return Err(over_rate(client, wait)),
        };
        if let Some(rate) = &entry.rate {
            // Counted here too, so that this replica's own count is right if Redis goes
            // away.
            let _ = rate.admit(now);
        }
        let permit = slot.map(Permit::Shared);
        Ok(Some(Admitted {
            client: client.clone(),
            permit,
        }))
    }
}

/// The digest of the last client key presented on one connection, so that a connection
/// whose requests all carry the same key (a client's do) hashes it once. The key is compared
/// in constant time (a connection from a gateway in front may carry several clients' keys)
/// and kept no longer than the connection.
#[derive(Default)]
pub struct KeyMemo(parking_lot::Mutex<Option<(Box<[u8]>, KeyDigest)>>);

impl KeyMemo {
    /// The digest of `key`, remembered for the next request.
    fn digest(&self, key: &[u8]) -> KeyDigest {
        use subtle::ConstantTimeEq as _;
        let mut memo = self.0.lock();
        if let Some((known, digest)) = &*memo
            && bool::from(known.ct_eq(key))
        {
            return *digest;
        }
        let digest = KeyDigest::of(key);
        *memo = Some((key.into(), digest));
        digest
    }
}

/// The entry of the client whose key `headers` carry; `Ok(None)` when no clients are
/// configured.
fn authenticate<'t>(
    table: &'t [Entry],
    headers: &HeaderMap,
    keys: &KeyMemo,
) -> Result<Option<&'t Entry>, Refusal> {
    if table.is_empty() {
        return Ok(None);
    }
    // At most two keys, kept on the stack.
    let presented: [Option<KeyDigest>; 2] = [
        headers
            .get(crate::core::provider::X_API_KEY)
            .map(http::HeaderValue::as_bytes),
        headers
            .get(AUTHORIZATION)
            .and_then(|v| bearer(v.as_bytes())),
    ]
    .map(|key| {
        key.filter(|key| !key.is_empty())
            .map(|key| keys.digest(key))
    });
    if presented.iter().all(Option::is_none) {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            ErrorType::Authentication,
            "missing_key",
            "invalid x-api-key: this claude-lb needs a client key, sent as x-api-key (ANTHROPIC_API_KEY) or Authorization: Bearer (ANTHROPIC_AUTH_TOKEN)".to_owned(),
        ));
    }
    // Every client is compared with every key presented, whatever matches first.
    let mut found: Option<&Entry> = None;
    for entry in table {
        let mut matched = false;
        for key in presented.iter().flatten() {
            matched |= entry.client.key.ct_eq(key);
        }
        if matched && found.is_none() {
            found = Some(entry);
        }
    }
    match found {
        Some(entry) => Ok(Some(entry)),
        None => Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            ErrorType::Authentication,
            "unknown_key",
            "invalid x-api-key: the key is not one of this claude-lb's client keys".to_owned(),
        )),
    }
}

/// The client's limits as this process counts them.
fn limit_locally(entry: &Entry, now: Instant) -> Result<Admitted, Refusal> {
    let permit = match &entry.slots {
        Some(slots) => Some(Permit::Local(take_slot(entry, slots)?)),
        None => None,
    };
    if let Some(rate) = &entry.rate {
        rate.admit(now)
            .map_err(|wait| over_rate(&entry.client, wait))?;
    }
    Ok(Admitted {
        client: entry.client.clone(),
        permit,
    })
}

/// One of the client's `max_concurrent` slots in this process.
fn take_slot(entry: &Entry, slots: &Arc<Semaphore>) -> Result<OwnedSemaphorePermit, Refusal> {
    slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| busy(&entry.client))
}

/// 429: the client has `max_concurrent` requests in flight.
fn busy(client: &Client) -> Refusal {
    let mut refusal = Refusal::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorType::RateLimit,
        "max_concurrent",
        format!(
            "client {} already has {} requests in flight, its max_concurrent; retry when one ends",
            client.name,
            client.max_concurrent.map_or(0, std::num::NonZeroU32::get)
        ),
    )
    .for_client(client);
    refusal.retry_after = Some(BUSY_RETRY_AFTER);
    refusal
}

/// 429: the client sent its `requests_per_minute`; one more may go in `wait`.
fn over_rate(client: &Client, wait: Duration) -> Refusal {
    // Whole seconds, rounded up: `retry-after` has no fractions.
    let wait = Duration::from_secs(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
    let mut refusal = Refusal::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorType::RateLimit,
        "requests_per_minute",
        format!(
            "client {} sent its {} requests_per_minute; retry in {}s",
            client.name,
            client
                .requests_per_minute
                .map_or(0, std::num::NonZeroU32::get),
            wait.as_secs()
        ),
    )
    .for_client(client);
    refusal.retry_after = Some(wait);
    refusal
}

/// The credential of an `Authorization: Bearer ...` value.
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| rest.trim_ascii())
}

/// Whether a client may ask for `model`: 403 naming it otherwise.
pub fn check_model(client: &Client, model: &str) -> Result<(), Refusal> {
    if client.may_request(model) {
        return Ok(());
    }
    let patterns: Vec<&str> = client
        .models
        .iter()
        .flatten()
        .map(crate::core::provider::ModelPattern::as_str)
        .collect();
    Err(Refusal::forbidden(
        "model",
        format!(
            "client {} may not use model {} (its models: {})",
            client.name,
            crate::logging::escape(model, crate::logging::MODEL_LIMIT),
            patterns.join(", ")
        ),
    )
    .for_client(client))
}

/// The admin routes: with `admin_token`, `Authorization: Bearer` must carry it; without, only
/// loopback peers are answered.
pub fn admin(headers: &HeaderMap, peer: IpAddr, settings: &AccessSettings) -> Result<(), Refusal> {
    match &settings.admin_token {
        Some(token) => {
            let expected = KeyDigest::of(token.expose().as_bytes());
            let presented = headers
                .get(AUTHORIZATION)
                .and_then(|v| bearer(v.as_bytes()))
                .map(KeyDigest::of);
            if presented.is_some_and(|p| p.ct_eq(&expected)) {
                Ok(())
            } else {
                Err(Refusal::new(
                    StatusCode::UNAUTHORIZED,
                    ErrorType::Authentication,
                    "admin_token",
                    "the admin routes need Authorization: Bearer with settings.admin_token (`--admin-token` or CLAUDE_LB_ADMIN_TOKEN for --remote commands)".to_owned(),
                ))
            }
        }
        None if is_loopback(peer) => Ok(()),
        None => Err(Refusal::forbidden(
            "admin_remote",
            "the admin routes answer loopback clients only; set settings.admin_token to reach them from elsewhere".to_owned(),
        )),
    }
}

/// Whether `peer` is this machine (an IPv4 loopback address written as IPv6 included).
pub fn is_loopback(peer: IpAddr) -> bool {
    peer.to_canonical().is_loopback()
}

#[cfg(test)]
mod tests;
