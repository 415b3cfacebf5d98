//! The one entry point that sends a Messages request through the pool.
//!
//! [`Dispatcher::send`] asks `core::select` for a plan, tries each candidate once in order,
//! classifies every attempt with `core::classify`, records it in the health table, and
//! returns the first answer that can go to the client. `serve`, `test` and `check` all go
//! through here, so a passing `claude-lb test` means the proxy path works.
//!
//! The commit rule lives in [`attempt`]: a streaming answer is returned only once
//! the upstream's first content event has arrived, so everything before it (an error
//! status, an `error` event, a silent or empty stream) still fails over. After the commit,
//! [`stream::AnswerStream`] owns the upstream and turns a failure into a clean Anthropic
//! `error` event.

mod attempt;
mod check;
mod context;
pub mod facts;
mod history;
pub mod scan;
mod stream;

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use tokio::time::Instant;

pub use stream::{AnswerStream, LogLine};

use crate::config::{Affinity, Config, Provider};
use crate::core::affinity::{AffinityTable, ProviderSessions, SessionKey};
use crate::core::classify::{self, Failure, Verdict};
use crate::core::health::{CooldownPolicy, HealthTable};
use crate::core::num::{SPLITMIX_GAMMA, millis, splitmix64};
use crate::core::provider::{ProviderId, ProviderKind};
use crate::core::route::{Rule, Rules};
use crate::core::select::{Scope, Selector};
use crate::logging as log;
use crate::metrics::Metrics;
use crate::upstream::{Scrubber, Upstream};

/// The request header that names a Claude Code session.
pub const SESSION_HEADER: &str = "x-claude-code-session-id";

/// The running configuration, swapped whole on reload.
#[derive(Debug)]
pub struct Generation {
    pub config: Config,
    pub policy: CooldownPolicy,
    /// One key scrubber per provider, in `config.providers` order, built with the generation
    /// so that no request pays for building one.
    pub scrubbers: Vec<Scrubber>,
    /// The prices of the models each provider maps to, in `config.providers` order, for the
    /// usage ledger.
    pub prices: Vec<crate::usage::price::ModelPrices>,
}

impl Generation {
    fn new(config: Config) -> Self {
        let policy = config.settings.cooldown_policy();
        let scrubbers = config
            .providers
            .iter()
            .map(Scrubber::for_provider)
            .collect();
        let prices = config
            .providers
            .iter()
            .map(crate::usage::price::ModelPrices::of)
            .collect();
        Self {
            config,
            policy,
            scrubbers,
            prices,
        }
    }
}

/// Shared state for sending requests: the current config generation, the health of every
/// provider, the selection counters and the HTTP client.
pub struct Dispatcher {
    /// The running config. Each request loads it once and keeps that snapshot to the end,
    /// so a reload never changes a request in flight.
    generation: ArcSwap<Generation>,
    /// Provider health survives reloads for providers whose identity is unchanged.
    health: Arc<HealthTable>,
    /// Counters for `/metrics`; like the health table, they outlive reloads.
    metrics: Arc<Metrics>,
    /// The provider of each recent client session; like the health table, it survives
    /// reloads for providers whose identity is unchanged.
    affinity: Arc<AffinityTable>,
    /// The state shared with other replicas, when `shared_state` is set.
    shared: Option<crate::shared::Shared>,
    selector: Selector,
    upstream: Upstream,
    /// Where each Messages request's usage row goes; off unless `serve` starts a ledger.
    recorder: crate::usage::Recorder,
    next_id: AtomicU64,
    id_seed: u64,
    /// Token counts for routing rules running at once, at most
    /// [`crate::limits::MAX_CONCURRENT_LOCAL_COUNTS`]; the others wait their turn.
    token_counts: tokio::sync::Semaphore,
}

/// What [`Dispatcher::explain`] found.
#[derive(Debug)]
pub struct Explained {
    /// The generation it was decided on (provider indexes point into it).
    pub generation: Arc<Generation>,
    pub model: String,
    pub decided: Decided,
    /// Each candidate's provider index and the model it would be sent, best first.
    pub plan: Result<Vec<(usize, String)>, DispatchError>,
}

/// What the routing rules and the model name decide for one request.
#[derive(Debug, Default)]
pub struct Decided {
    /// The facts read and the rule that matched; `None` when no rule was consulted.
    pub routing: Option<facts::Routing>,
    /// `PROVIDER,MODEL`: the provider's index and the model sent to it.
    pub pinned: Option<(usize, Box<str>)>,
}

impl Decided {
    /// The part of the pool the plan may hold.
    pub fn scope<'a>(&'a self, rules: &'a Rules) -> Scope<'a> {
        if let Some((index, model)) = &self.pinned {
            return Scope {
                only: Some(std::slice::from_ref(index)),
                model: Some(model),
                ..Scope::default()
            };
        }
        match self.rule(rules) {
            Some(rule) => Scope {
                only: Some(&rule.providers),
                model: rule.model.as_deref(),
                then_rest: rule.fallback_any,
                ..Scope::default()
            },
            None => Scope::default(),
        }
    }

    /// The rule that matched.
    pub fn rule<'a>(&self, rules: &'a Rules) -> Option<&'a Rule> {
        self.routing
            .as_ref()
            .and_then(|r| r.rule)
            .and_then(|i| rules.get(i))
    }

    /// The route's name for logs and metrics: the rule's, `pinned:PROVIDER`, `-` when rules
    /// exist and none matched; `None` when no rule was consulted.
    pub fn label(&self, rules: &Rules, providers: &[Provider]) -> Option<Arc<str>> {
        if let Some((index, _)) = &self.pinned {
            return Some(Arc::from(format!("pinned:{}", providers[*index].id)));
        }
        self.routing.as_ref()?;
        Some(match self.rule(rules) {
            Some(rule) => rule.name.clone(),
            None => Arc::from("-"),
        })
    }
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher").finish_non_exhaustive()
    }
}

/// A Messages request as the client sent it.
#[derive(Clone, Debug)]
pub struct ClientRequest {
    /// The path and query, e.g. `/v1/messages?beta=true`.
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The client the request was authenticated as; `None` without `clients:`. Its
    /// `providers` narrow the plan.
    pub client: Option<Arc<crate::config::Client>>,
}

impl ClientRequest {
    /// The client's name for logs and metrics: `-` without `clients:`.
    pub fn client_name(&self) -> &str {
        self.client.as_ref().map_or("-", |c| &c.name)
    }
}

/// One failed attempt, in the order it was made.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub provider: ProviderId,
    pub failure: Failure,
    /// What happened, in words, without secrets.
    pub message: String,
    /// How long the provider now cools down.
    pub cooldown: Duration,
}

impl fmt::Display for AttemptRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cooldown.is_zero() {
            // Not the provider's doing (or an answer not re-sent): nothing to wait out.
            return write!(f, "{}: {} (not cooled down)", self.provider, self.message);
        }
        write!(
            f,
            "{}: {} (cooling down {}s)",
            self.provider,
            self.message,
            self.cooldown.as_secs()
        )
    }
}

/// What goes back to the client.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: AnswerBody,
    /// The provider that answered.
    pub provider: ProviderId,
    /// The attempts that failed before this answer.
    pub failed_attempts: Vec<AttemptRecord>,
    pub request_id: Arc<str>,
    /// The request's log line (of an answer written whole; a stream writes its own at its
    /// end): written when dropped, so whoever writes the answer can let it go once the
    /// answer is on its way.
    pub log_line: LogLine,
}

#[derive(Debug)]
pub enum AnswerBody {
    Full(Bytes),
    Stream(AnswerStream),
}

/// Why no provider could answer.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(
        "client {client} may use providers {allowed}, and none of them serves model \"{model}\""
    )]
    ClientHasNoProvider {
        client: String,
        allowed: String,
        model: String,
    },
    #[error("the request has no \"model\" string at its top level")]
    NoModel,
    #[error("the request names \"model\" more than once at its top level")]
    DuplicateModel,
    #[error("no enabled provider serves model \"{model}\"; {pool}")]
    NoProviderServesModel {
        model: String,
        /// What each provider serves, or why it cannot serve at all.
        pool: String,
    },
    #[error("{}", all_failed_message(.attempts, .others))]
    AllProvidersFailed {
        attempts: Vec<AttemptRecord>,
        /// Every other provider and why it was not tried (`b: cooling down 42s (HTTP 529)`).
        others: Vec<String>,
        verdict: Verdict,
    },
    /// The model name `PROVIDER,MODEL` names a provider that does not exist.
    #[error(
        "unknown provider \"{name}\" in the model name \"{model}\" (PROVIDER,MODEL picks a provider; the providers are: {providers})"
    )]
    UnknownProvider {
        name: String,
        model: String,
        providers: String,
    },
    /// The model name `PROVIDER,MODEL` has nothing after its comma.
    #[error(
        "the model name \"{model}\" picks provider {provider} but names no model after the comma (PROVIDER,MODEL sends MODEL to PROVIDER as it is)"
    )]
    PinnedWithoutModel { provider: String, model: String },
    /// The provider a `PROVIDER,MODEL` model name picks could not answer; no other is tried.
    #[error(
        "provider {provider}, picked by the model name \"{model}\", {reason}; a request that picks its provider is not sent to another one"
    )]
    PinnedProviderFailed {
        provider: ProviderId,
        model: String,
        reason: String,
        /// How to answer, as for [`Self::AllProvidersFailed`], when the provider was tried or
        /// is cooling down; `None` when it is disabled or unusable, which waiting will not mend.
        verdict: Option<Verdict>,
    },
    /// The route that matched has no provider that can take the request.
    #[error("route \"{route}\" matched, but none of its providers can take the request: {pool}")]
    RouteUnavailable { route: String, pool: String },
    #[error("the request cannot be translated for provider {provider}: {message}")]
    Untranslatable {
        provider: ProviderId,
        message: String,
    },
    /// A whole (non-streaming) answer did not arrive in time, and the request was not sent
    /// to another provider: the provider may still be generating it, and billing for it.
    #[error(
        "provider {provider} did not finish the answer in time ({message}); it may still be \
         generating it and billing for it, so claude-lb did not send the request to another \
         provider"
    )]
    AnswerTimedOut {
        provider: ProviderId,
        message: String,
        /// Every failed attempt, this one last.
        attempts: Vec<AttemptRecord>,
    },
}

impl DispatchError {
    /// The HTTP status the client gets for this error.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::NoModel
            | Self::DuplicateModel
            | Self::Untranslatable { .. }
            | Self::UnknownProvider { .. }
            | Self::PinnedWithoutModel { .. } => 400,
            Self::ClientHasNoProvider { .. } => 403,
            // The one provider the request may go to, or every provider of its route, cannot
            // answer now: not the request's fault.
            Self::PinnedProviderFailed { verdict: None, .. } | Self::RouteUnavailable { .. } => 503,
            Self::NoProviderServesModel { .. } => 404,
            Self::AnswerTimedOut { .. } => 504,
            Self::AllProvidersFailed { verdict, .. }
            | Self::PinnedProviderFailed {
                verdict: Some(verdict),
                ..
            } => verdict.status,
        }
    }
}

fn all_failed_message(attempts: &[AttemptRecord], others: &[String]) -> String {
    let mut out = format!(
        "all {} provider{} failed: ",
        attempts.len(),
        if attempts.len() == 1 { "" } else { "s" }
    );
    for (i, attempt) in attempts.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(&attempt.to_string());
    }
    if !others.is_empty() {
        let _ = write!(out, "; not tried: {}", others.join("; "));
    }
    out
}

/// What the pool serves, for the answer to a model no provider serves: the model patterns of
/// each provider that can take the route, and why each other one cannot.
fn pool_summary(providers: &[Provider], route: Route) -> String {
    pool_summary_of(providers.iter(), route)
}

/// [`pool_summary`] of some of the providers.
fn pool_summary_of<'p>(providers: impl Iterator<Item = &'p Provider>, route: Route) -> String {
    let mut serving = Vec::new();
    let mut idle = Vec::new();
    for p in providers {
        if !p.enabled {
            idle.push(format!("{} is disabled", p.id));
        } else if let Some(why) = p.unusable() {
            idle.push(format!("{} is unusable: {why}", p.id));
        } else if route == Route::CountTokens && p.kind != ProviderKind::Anthropic {
            idle.push(format!("{} does not count tokens", p.id));
        } else if p.models.is_empty() {
            serving.push(format!("{} (any model)", p.id));
        } else {
            let patterns: Vec<&str> = p.models.entries().iter().map(|(k, _)| k.as_str()).collect();
            serving.push(format!("{} ({})", p.id, patterns.join(", ")));
        }
    }
    let mut out = if serving.is_empty() {
        "no provider can take it".to_owned()
    } else {
        format!("the providers serve: {}", serving.join("; "))
    };
    if !idle.is_empty() {
        let _ = write!(out, "; {}", idle.join(", "));
    }
    out
}

/// What a request is for: which providers may take it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// `POST /v1/messages`: every provider kind.
    Messages,
    /// `POST /v1/messages/count_tokens`: Anthropic-type providers only.
    CountTokens,
}

impl Dispatcher {
    /// A dispatcher for `config` that sends through `upstream`'s clients.
    pub fn new(config: Config, upstream: Upstream) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| {
                u64::try_from(d.as_nanos() % u128::from(u64::MAX)).unwrap_or(0)
            });
        // Replicas that share sessions must key them alike.
        let affinity = if config.settings.shared_state.is_some() {
            AffinityTable::shared(crate::core::affinity::MAX_SESSIONS)
        } else {
            AffinityTable::default()
        };
        Self {
            generation: ArcSwap::from_pointee(Generation::new(config)),
            health: Arc::new(HealthTable::new()),
            metrics: Arc::new(Metrics::new()),
            affinity: Arc::new(affinity),
            shared: None,
            selector: Selector::new(),
            upstream,
            recorder: crate::usage::Recorder::off(),
            next_id: AtomicU64::new(1),
            id_seed: seed,
            token_counts: tokio::sync::Semaphore::new(crate::limits::MAX_CONCURRENT_LOCAL_COUNTS),
        }
    }

    /// The running generation.
    pub fn generation(&self) -> Arc<Generation> {
        self.generation.load_full()
    }

    pub fn health(&self) -> &HealthTable {
        &self.health
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Connects this dispatcher to the state other replicas share at `url`.
    pub fn share_state(mut self, url: &crate::config::SharedStateUrl) -> anyhow::Result<Self> {
        let shared = crate::shared::Shared::start(
            url,
            &self.generation.load().config,
            &self.health,
            self.affinity.clone(),
            self.metrics.clone(),
        )?;
        self.shared = Some(shared);
        Ok(self)
    }

    /// The state shared with other replicas, when there is one.
    pub fn shared(&self) -> Option<&crate::shared::Shared> {
        self.shared.as_ref()
    }

    /// The metrics, shared: the usage ledger counts the rows it drops there.
    pub fn metrics_handle(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Where usage rows go.
    pub fn recorder(&self) -> &crate::usage::Recorder {
        &self.recorder
    }

    /// Sends a usage row for every Messages request to `recorder` from now on.
    #[must_use]
    pub fn with_recorder(mut self, recorder: crate::usage::Recorder) -> Self {
        self.recorder = recorder;
        self
    }

    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// The sessions each provider holds at `now`, under the running `affinity_ttl`.
    pub fn sessions(&self, now: Instant) -> Vec<ProviderSessions> {
        let ttl = self.generation.load().config.settings.affinity_ttl;
        self.affinity.by_provider(ttl, now)
    }

    /// The session of a request, when affinity is on: the `x-claude-code-session-id` header,
    /// else the `session_id` inside `metadata.user_id` (`metadata` is where the body scan
    /// found the request's `metadata`).
    fn session_id(
        request: &ClientRequest,
        metadata: Option<std::ops::Range<usize>>,
    ) -> Option<std::borrow::Cow<'_, str>> {
        let header = request
            .headers
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|id| !id.is_empty() && id.len() <= scan::MAX_SESSION_ID);
        if let Some(id) = header {
            return Some(std::borrow::Cow::Borrowed(id));
        }
        scan::metadata_session(&request.body, metadata?).map(std::borrow::Cow::Owned)
    }

    /// Swaps in a new, already validated config. Providers whose name, type, base URL and
    /// credential are unchanged keep their health; the others start afresh (a fixed key
    /// must not wait out the cooldown of the rejected one). Requests in flight keep
    /// the generation they started with.
    pub fn replace_config(&self, config: Config) {
        let old = self.generation.load();
        let same_identity = |id: &ProviderId| {
            let before = old.config.providers.iter().find(|p| &p.id == id);
            let after = config.providers.iter().find(|p| &p.id == id);
            matches!((before, after), (Some(a), Some(b)) if a.kind == b.kind && a.base_url == b.base_url && a.auth_type == b.auth_type && a.secret == b.secret)
        };
        self.health.retain(same_identity);
        self.affinity.retain(same_identity);
        if let Some(shared) = &self.shared {
            shared.set_config(&config);
        }
        self.generation.store(Arc::new(Generation::new(config)));
    }

    fn request_id(&self) -> Arc<str> {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        // A cheap, unique-per-process id with enough spread to be told apart in logs.
        // The splitmix64 sequence from the seed, at step n: every bit of the seed and the
        // counter reaches every bit of the id, so two processes started close together do not
        // mint look-alike ids.
        let mixed = splitmix64(
            self.id_seed
                .wrapping_add(n.wrapping_mul(SPLITMIX_GAMMA))
                .wrapping_sub(SPLITMIX_GAMMA),
        );
        let mut id = *b"req_0000000000000000";
        id[4..].copy_from_slice(&crate::core::num::hex16(mixed));
        // ASCII throughout.
        Arc::from(std::str::from_utf8(&id).unwrap_or("req_"))
    }

    /// What `route explain` shows for `request`: its model, the facts read and the rule that
    /// matched, and the plan `serve` would make now (each candidate's index and model). The
    /// plan comes from a selector of its own, so explaining moves no rotation of real traffic.
    pub async fn explain(&self, request: &ClientRequest) -> Result<Explained, DispatchError> {
        let generation = self.generation();
        let model: String = match scan::model(&request.body) {
            Ok(model) => model.value.into_owned(),
            Err(scan::ModelError::Missing) => return Err(DispatchError::NoModel),
            Err(scan::ModelError::Duplicate) => return Err(DispatchError::DuplicateModel),
        };
        let decided = self
            .decide(&generation, request, &model, Route::Messages)
            .await?;
        let rules = &generation.config.routes;
        let plan = Selector::new()
            .plan(
                &generation.config.providers,
                &model,
                generation.config.settings.strategy,
                decided.scope(rules),
                &self.health,
                Instant::now(),
            )
            .map(|plan| plan.iter().map(|c| (c.index, c.model.to_owned())).collect())
            .map_err(|_| unplanned(&generation, &decided, &model, Route::Messages));
        Ok(Explained {
            generation,
            model,
            decided,
            plan,
        })
    }

    /// Sends a Messages request through the pool (see docs/failover.md).
    pub async fn send(&self, request: ClientRequest) -> Result<Answer, DispatchError> {
        self.send_route(request, Route::Messages).await
    }

    /// Forwards a `count_tokens` request to an Anthropic-type provider that serves the
    /// model; `Ok(None)` when none could answer, so the caller estimates locally.
    pub async fn count_tokens(
        &self,
        request: ClientRequest,
    ) -> Result<Option<Answer>, DispatchError> {
        match self.send_route(request, Route::CountTokens).await {
            Ok(answer) if answer.status.is_success() => Ok(Some(answer)),
            Ok(_)
            | Err(
                DispatchError::AllProvidersFailed { .. }
                | DispatchError::NoProviderServesModel { .. }
                | DispatchError::PinnedProviderFailed { .. },
            ) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn send_route(
        &self,
        request: ClientRequest,
        route: Route,
    ) -> Result<Answer, DispatchError> {
        let started = Instant::now();
        let started_ms = crate::usage::time::now_ms();
        let request_id = self.request_id();
        let mut route_label = None;
        let result = self
            .run_plan(
                &request,
                route,
                started,
                started_ms,
                &request_id,
                &mut route_label,
            )
            .await;
        if let Err(error) = &result {
            self.metrics.record_failed_request();
            if route == Route::Messages {
                self.record_failure(
                    &request,
                    error,
                    started,
                    started_ms,
                    &request_id,
                    route_label.as_deref(),
                );
            }
            // Every request gets its log line; a successful answer logs its own when it ends.
            // The model and the failures are the client's and the providers' words: escaped
            // and cut, so that none of them can forge or flood a log line.
            let model = scan::top_level_string(&request.body, "model");
            let model = model.as_ref().map_or("", |m| &*m.value);
            tracing::warn!(
                request_id = &*request_id,
                client = request.client_name(),
                route = route_label.as_deref(),
                model = &*log::escape(model, log::MODEL_LIMIT),
                latency_ms = millis(started.elapsed()),
                "request failed: {}",
                log::escape(&error.to_string(), log::TEXT_LIMIT)
            );
        }
        result
    }

    /// What the model name and the routing rules decide for `request`, whose model is `model`.
    /// Only Messages requests follow the rules; a `PROVIDER,MODEL` name picks its provider for
    /// both routes.
    async fn decide(
        &self,
        generation: &Generation,
        request: &ClientRequest,
        model: &str,
        route: Route,
    ) -> Result<Decided, DispatchError> {
        let providers = &generation.config.providers;
        if let Some((name, upstream)) = crate::core::route::pinned(model) {
            let Some(index) = providers.iter().position(|p| p.id.as_str() == name) else {
                let names: Vec<&str> = providers.iter().map(|p| p.id.as_str()).collect();
                return Err(DispatchError::UnknownProvider {
                    name: log::escape(name, log::MODEL_LIMIT).into_owned(),
                    model: log::escape(model, log::MODEL_LIMIT).into_owned(),
                    providers: names.join(", "),
                });
            };
            if upstream.is_empty() {
                return Err(DispatchError::PinnedWithoutModel {
                    provider: providers[index].id.to_string(),
                    model: log::escape(model, log::MODEL_LIMIT).into_owned(),
                });
            }
            return Ok(Decided {
                routing: None,
                pinned: Some((index, upstream.into())),
            });
        }
        let rules = &generation.config.routes;
        if route != Route::Messages || rules.is_empty() {
            return Ok(Decided::default());
        }
        let routing = facts::route(
            rules,
            model,
            &request.body,
            &request.headers,
            &self.token_counts,
        )
        .await;
        Ok(Decided {
            routing: Some(routing),
            pinned: None,
        })
    }

    /// The usage row of a Messages request that got no answer from any provider.
    fn record_failure(
        &self,
        request: &ClientRequest,
        error: &DispatchError,
        started: Instant,
        started_ms: i64,
        request_id: &str,
        route: Option<&str>,
    ) {
        if !self.recorder.is_on() {
            return;
        }
        let model = scan::top_level_string(&request.body, "model");
        let attempts: &[AttemptRecord] = match error {
            DispatchError::AllProvidersFailed { attempts, .. }
            | DispatchError::AnswerTimedOut { attempts, .. } => attempts,
            _ => &[],
        };
        self.recorder.record(crate::usage::Row {
            time_ms: started_ms,
            request_id: request_id.to_owned(),
            client: request.client.as_ref().map(|c| c.name.to_string()),
            route: route.map(str::to_owned),
            provider: None,
            failed_providers: attempts.iter().map(|a| a.provider.to_string()).collect(),
            model: model
                .as_ref()
                .map(|m| log::escape(&m.value, log::MODEL_LIMIT).into_owned())
                .unwrap_or_default(),
            upstream_model: None,
            stream: scan::top_level_bool(&request.body, "stream") == Some(true),
            status: error.http_status(),
            tokens: crate::core::price::Tokens::default(),
            first_token_ms: None,
            total_ms: millis(started.elapsed()),
            // No provider answered, so nothing was billed.
            cost_usd: Some(0.0),
        });
    }

    #[allow(clippy::too_many_lines)] // The failover loop reads best in one piece.
    async fn run_plan(
        &self,
        request: &ClientRequest,
        route: Route,
        started: Instant,
        started_ms: i64,
        request_id: &Arc<str>,
        route_label_out: &mut Option<Arc<str>>,
    ) -> Result<Answer, DispatchError> {
        let generation = self.generation.load_full();
        let scanned = scan::request(&request.body);
        let model = match scanned.model {
            Ok(model) => model,
            Err(scan::ModelError::Missing) => return Err(DispatchError::NoModel),
            Err(scan::ModelError::Duplicate) => return Err(DispatchError::DuplicateModel),
        };
        let model_span = model.span.clone();
        let model: Box<str> = model.value.into();
        let whole_answer = crate::limits::whole_answer_deadline(
            scanned
                .max_tokens
                .and_then(|span| std::str::from_utf8(&request.body[span]).ok()?.parse().ok()),
        );
        let client = request.client.as_deref();
        let admitted = |provider: &Provider| client.is_none_or(|c| c.may_reach(&provider.id));
        let settings = &generation.config.settings;
        let decided = self.decide(&generation, request, &model, route).await?;
        let rules = &generation.config.routes;
        // Token counts are planned in file order, so they neither follow nor move a session;
        // nor does a request that names its provider (`PROVIDER,MODEL`). A session has a
        // provider per route (`session`; see `AffinityTable::key`), and the provider of its
        // requests that no rule took (`conversation`, for a request a rule took).
        let rule = decided.rule(rules);
        let (session, conversation) = match (route, settings.affinity, &decided.pinned) {
            (Route::Messages, Affinity::Session, None) => {
                match Self::session_id(request, scanned.metadata) {
                    Some(id) => (
                        Some(self.affinity.key(&id, rule.map(|r| &*r.name))),
                        rule.map(|_| self.affinity.key(&id, None)),
                    ),
                    None => (None, None),
                }
            }
            _ => (None, None),
        };
        let ttl = settings.affinity_ttl;
        let mut own = session.and_then(|s| self.affinity.lookup_used(s, ttl, started));
        // A session this replica has not seen may have been served by another.
        if let (None, Some(session), Some(shared)) = (&own, session, &self.shared) {
            if let Some(provider) = shared.session(session).await {
                self.affinity.record(session, &provider, ttl, started);
                own = Some((provider, started));
            }
        }
        // The session's provider in this route, which an answer from another one moves.
        let recorded = own.as_ref().map(|(provider, _)| provider.clone());
        // A rule's request may carry on the session's conversation (thinking on or off, a web
        // search tool): when the rule holds the provider of the session's other requests, that
        // provider goes first if it served the session more recently than the rule's own, and
        // an answer from another provider moves the conversation too (`carried`).
        let mut carried: Option<(SessionKey, ProviderId)> = None;
        if let (Some(rule), Some(conversation)) = (rule, conversation) {
            if let Some((provider, used)) = self.affinity.peek(conversation, ttl, started) {
                let providers = &generation.config.providers;
                if rule.providers.iter().any(|&i| providers[i].id == provider) {
                    if own.as_ref().is_none_or(|(_, own_used)| used > *own_used) {
                        own = Some((provider.clone(), used));
                    }
                    carried = Some((conversation, provider));
                }
            }
        }
        let preferred = own.map(|(provider, _)| provider);
        let route_label = decided.label(rules, &generation.config.providers);
        if let Some(label) = &route_label {
            self.metrics.record_route(label);
        }
        route_label_out.clone_from(&route_label);
        let Ok(plan) = self.selector.plan(
            &generation.config.providers,
            &model,
            // Token counts follow file order, so they neither move the rotation counters of
            // Messages requests nor depend on them.
            match route {
                Route::Messages => generation.config.settings.strategy,
                Route::CountTokens => crate::config::Strategy::Priority,
            },
            Scope {
                reach: client.and_then(|c| c.providers.as_deref()),
                preferred: preferred.as_ref(),
                ..decided.scope(rules)
            },
            &self.health,
            started,
        ) else {
            if let Some(client) = client.filter(|c| c.providers.is_some()) {
                return Err(DispatchError::ClientHasNoProvider {
                    client: client.name.to_string(),
                    allowed: client
                        .providers
                        .iter()
                        .flatten()
                        .map(ProviderId::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                    model: log::escape(&model, log::MODEL_LIMIT).into_owned(),
                });
            }
            return Err(unplanned(&generation, &decided, &model, route));
        };
        let mut failed: Vec<AttemptRecord> = Vec::new();
        let mut any_candidate = false;
        for candidate in &plan {
            let provider: &Provider = &generation.config.providers[candidate.index];
            let scrubber = &generation.scrubbers[candidate.index];
            let prices = &generation.prices[candidate.index];
            if route == Route::CountTokens && provider.kind != ProviderKind::Anthropic {
                continue;
            }
            any_candidate = true;
            let ctx = context::Context {
                provider,
                scrubber,
                prices,
                settings: &generation.config.settings,
                upstream: &self.upstream,
                health: &self.health,
                metrics: &self.metrics,
                generation: &generation,
                request,
                client_model: &model,
                model_span: model_span.clone(),
                upstream_model: candidate.model,
                request_id,
                started,
                started_ms,
                route,
                route_label: route_label.as_ref(),
                recorder: &self.recorder,
                whole_answer,
            };
            match attempt::run(ctx).await {
                attempt::AttemptOutcome::Answer(mut answer, pending) => {
                    // The provider that answers becomes the session's; a refused request
                    // (a 4xx going back to the client) proves nothing about it. When it already
                    // is the session's, the lookup has renewed it.
                    let moved = recorded.as_ref() != Some(&provider.id);
                    let served = session.filter(|_| answer.status.is_success());
                    if let Some(session) = served.filter(|_| moved) {
                        self.affinity.record(
                            session,
                            &provider.id,
                            settings.affinity_ttl,
                            Instant::now(),
                        );
                    }
                    if let (Some(session), Some(shared)) = (served, &self.shared) {
                        shared.session_served(session, &provider.id, settings.affinity_ttl, moved);
                    }
                    let carried_away = carried
                        .as_ref()
                        .filter(|(_, was)| *was != provider.id && served.is_some());
                    if let Some((conversation, _)) = carried_away {
                        let (conversation, ttl) = (*conversation, settings.affinity_ttl);
                        self.affinity
                            .record(conversation, &provider.id, ttl, Instant::now());
                        if let Some(shared) = &self.shared {
                            shared.session_served(conversation, &provider.id, ttl, true);
                        }
                    }
                    // The one place where a provider's answer becomes the client's: its key
                    // never goes along, in headers, a whole body or any event of a stream.
                    scrubber.headers(&mut answer.headers);
                    match &mut answer.body {
                        AnswerBody::Full(bytes) => {
                            *bytes = scrubber.bytes(std::mem::take(bytes));
                        }
                        AnswerBody::Stream(stream) => {
                            stream.set_failed(&failed);
                            stream.set_scrubber(scrubber.clone());
                        }
                    }
                    if let Some((mut log, usage, outcome)) = pending {
                        log.set_failed(&failed);
                        answer.log_line = log.finish(outcome, usage);
                    }
                    answer.failed_attempts = failed;
                    return Ok(*answer);
                }
                attempt::AttemptOutcome::Untranslatable(message) => {
                    return Err(DispatchError::Untranslatable {
                        provider: provider.id.clone(),
                        message,
                    });
                }
                attempt::AttemptOutcome::Failed { failure, message } => {
                    // What a provider said goes to logs, `/providers` and the client: never
                    // with the provider's key in it, and never at any length. The key goes
                    // first, so that the cut leaves no prefix of it.
                    let message = clip_message(&scrubber.text(message));
                    if !classify::may_resend(
                        &failure,
                        generation.config.settings.resend_timed_out_answers,
                    ) {
                        // Not a failover, so not counted as one: the request counts as failed.
                        tracing::debug!(
                            request_id = &**request_id,
                            provider = provider.id.as_str(),
                            "attempt timed out, not re-sent: {message}"
                        );
                        failed.push(AttemptRecord {
                            provider: provider.id.clone(),
                            failure,
                            message: message.clone(),
                            cooldown: Duration::ZERO,
                        });
                        return Err(DispatchError::AnswerTimedOut {
                            provider: provider.id.clone(),
                            message,
                            attempts: failed,
                        });
                    }
                    let now = Instant::now();
                    let was_available = self.health.available(&provider.id, now);
                    let outcome = classify::failure(&failure);
                    // A token count that the provider answered with an error says nothing of
                    // its Messages path (a relay may not count tokens at all): it fails over
                    // without a cooldown. Only a provider that cannot be reached is cooled down.
                    let counted_answer =
                        route == Route::CountTokens && !classify::no_answer(&failure);
                    let cooldown = match outcome {
                        classify::Outcome::Failover { .. } if counted_answer => Duration::ZERO,
                        classify::Outcome::Failover { cooldown } => self.health.record_failure(
                            &provider.id,
                            &cooldown,
                            &message,
                            &generation.policy,
                            now,
                        ),
                        classify::Outcome::ReturnToClient | classify::Outcome::NotTheProvider => {
                            Duration::ZERO
                        }
                    };
                    tracing::debug!(
                        request_id = &**request_id,
                        provider = provider.id.as_str(),
                        cooldown_s = cooldown.as_secs(),
                        "attempt failed: {}",
                        log::escape(&message, log::TEXT_LIMIT)
                    );
                    self.metrics.record_failed_attempt(
                        &provider.id,
                        failure.metric_label(),
                        was_available && !cooldown.is_zero(),
                    );
                    failed.push(AttemptRecord {
                        provider: provider.id.clone(),
                        failure,
                        message,
                        cooldown,
                    });
                }
            }
        }
        if !any_candidate {
            return Err(DispatchError::NoProviderServesModel {
                pool: pool_summary(&generation.config.providers, route),
                model: log::escape(&model, log::MODEL_LIMIT).into_owned(),
            });
        }
        let now = Instant::now();
        let failures: Vec<Failure> = failed.iter().map(|a| a.failure.clone()).collect();
        if let Some((index, _)) = &decided.pinned {
            let provider = &generation.config.providers[*index].id;
            // The client should come back when the one provider it picked is back.
            let back = self
                .health
                .cooldown_ends(provider)
                .map(|end| end.saturating_duration_since(now));
            let messages: Vec<String> = failed.iter().map(|a| a.message.clone()).collect();
            return Err(DispatchError::PinnedProviderFailed {
                provider: provider.clone(),
                model: log::escape(&model, log::MODEL_LIMIT).into_owned(),
                reason: format!("failed: {}", messages.join("; ")),
                verdict: Some(classify::all_failed(&failures, back)),
            });
        }
        // The client should come back when the first provider that serves this model is back,
        // whether it was tried now or skipped as already cooling down.
        let earliest = generation
            .config
            .providers
            .iter()
            .filter(|p| p.usable() && admitted(p) && p.models.map(&model).is_some())
            .filter(|p| route == Route::Messages || p.kind == ProviderKind::Anthropic)
            .filter_map(|p| self.health.cooldown_ends(&p.id))
            .min()
            .map(|end| end.saturating_duration_since(now));
        let verdict = classify::all_failed(&failures, earliest);
        let scope = decided.scope(rules);
        let others = generation
            .config
            .providers
            .iter()
            .enumerate()
            .filter(|(_, p)| admitted(p) && !failed.iter().any(|a| a.provider == p.id))
            .map(|(index, p)| {
                let outside = !scope.then_rest && scope.only.is_some_and(|o| !o.contains(&index));
                let why = if outside {
                    let route = decided.rule(rules).map_or("", |r| &*r.name);
                    format!("not in route \"{route}\"")
                } else if !p.enabled {
                    "disabled".to_owned()
                } else if let Some(why) = p.unusable() {
                    format!("unusable, {why}")
                } else if p.models.map(&model).is_none() {
                    "does not serve this model".to_owned()
                } else if let Some(end) = self.health.cooldown_ends(&p.id) {
                    let left = end.saturating_duration_since(now).as_secs();
                    match self.health.snapshot(&p.id, now).last_error {
                        Some(error) => format!("cooling down {left}s after: {error}"),
                        None => format!("cooling down {left}s"),
                    }
                } else {
                    "not tried".to_owned()
                };
                format!("{}: {why}", p.id)
            })
            .collect();
        Err(DispatchError::AllProvidersFailed {
            others,
            attempts: failed,
            verdict,
        })
    }
}

/// Why no plan could be made for a request that `decided` scoped.
fn unplanned(
    generation: &Generation,
    decided: &Decided,
    model: &str,
    route: Route,
) -> DispatchError {
    let providers = &generation.config.providers;
    if let Some((index, _)) = &decided.pinned {
        let p = &providers[*index];
        let reason = if p.enabled {
            format!(
                "is unusable ({})",
                p.unusable().unwrap_or_else(|| "no credential".to_owned())
            )
        } else {
            "is disabled".to_owned()
        };
        return DispatchError::PinnedProviderFailed {
            provider: p.id.clone(),
            model: log::escape(model, log::MODEL_LIMIT).into_owned(),
            reason,
            verdict: None,
        };
    }
    if let Some(rule) = decided.rule(&generation.config.routes) {
        return DispatchError::RouteUnavailable {
            route: rule.name.to_string(),
            pool: pool_summary_of(rule.providers.iter().map(|&i| &providers[i]), route),
        };
    }
    DispatchError::NoProviderServesModel {
        pool: pool_summary(providers, route),
        model: log::escape(model, log::MODEL_LIMIT).into_owned(),
    }
}

/// The most characters of a failure message that are kept (in the log, `/providers` and the
/// client's error); a provider's error text can be as long as it likes.
const MESSAGE_LIMIT: usize = 500;

/// `message`, cut to [`MESSAGE_LIMIT`] characters.
pub(crate) fn clip_message(message: &str) -> String {
    match message.char_indices().nth(MESSAGE_LIMIT) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message.to_owned(),
    }
}
