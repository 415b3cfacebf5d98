//! Routes one HTTP request (see docs/failover.md#routes) to the dispatcher or the admin API.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::json;
use tokio::time::Instant;

use super::AppState;
use super::admin::{
    CheckStatus, EventEntry, ProviderSessionsStatus, ProviderStatus, RouteExplanation,
    SessionsStatus,
};
use super::reload::ReloadError;
use super::response::{self, Body};
use crate::access;
use crate::config::Client;
use crate::core::health::HealthState;
use crate::core::provider::ProviderKind;
use crate::dispatch::{AnswerBody, ClientRequest};
use crate::translate::anthropic::ErrorType;
use crate::upstream;

/// Answers one request from `peer`. Never fails: every problem becomes an Anthropic-shaped
/// error.
///
/// Before anything else: web pages are refused (every route), then the API routes need a
/// client key when `clients:` exist, and the admin routes the admin token or a loopback peer.
/// `connection` is what the requests of its connection share: the log line of an answer
/// written whole goes to its `lines`, the client key's digest is remembered in its `keys`.
pub async fn handle(
    request: Request<Incoming>,
    state: &Arc<AppState>,
    peer: SocketAddr,
    connection: &super::Connection,
) -> Response<Body> {
    let lines = &connection.lines;
    let generation = state.dispatcher.generation();
    let settings = &generation.config.settings;
    if let Err(refusal) = access::browser::check(
        request.headers(),
        request.uri().authority().map(http::uri::Authority::as_str),
        &settings.access,
    ) {
        return refuse(state, &refusal, request.uri().path());
    }
    let path = request.uri().path();
    let method = request.method().clone();
    match (api_route(path), &method) {
        (Some(route @ (ApiRoute::Messages | ApiRoute::CountTokens)), &Method::POST) => {
            if let Err(refusal) = access::browser::require_json(request.headers()) {
                return refuse(state, &refusal, request.uri().path());
            }
            let admitted = admit(state, &request, connection, true).await;
            let admitted = match admitted {
                Ok(admitted) => admitted,
                Err(refusal) => return refuse(state, &refusal, request.uri().path()),
            };
            let (client, permit) = match admitted {
                Some(a) => (Some(a.client), a.permit),
                None => (None, None),
            };
            let response = if route == ApiRoute::Messages {
                messages(request, state, client, lines).await
            } else {
                count_tokens(request, state, client, lines).await
            };
            return match permit {
                Some(permit) => response::hold(response, permit),
                None => response,
            };
        }
        (Some(ApiRoute::Models), &Method::GET) => {
            // Listing models takes no place among the limits of the other replicas.
            let client = match admit(state, &request, connection, false).await {
                Ok(admitted) => admitted.map(|a| a.client),
                Err(refusal) => return refuse(state, &refusal, request.uri().path()),
            };
            return models(request, state, client.as_deref()).await;
        }
        (Some(_), _) => {
            return response::error(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorType::InvalidRequest,
                &format!("method {method} is not allowed on {path}"),
            );
        }
        (None, _) => {}
    }
    if path != "/"
        && let Err(refusal) = access::admin(request.headers(), peer.ip(), &settings.access)
    {
        return refuse(state, &refusal, request.uri().path());
    }
    match (path, &method) {
        ("/", &Method::GET | &Method::HEAD) => health(state, method == Method::HEAD),
        ("/providers", &Method::GET) => providers(state),
        ("/sessions", &Method::GET) => sessions(state),
        ("/metrics", &Method::GET) => {
            let mut response = Response::new(response::full(state.dispatcher.metrics().render()));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            response
        }
        ("/events", &Method::GET) => events(state),
        ("/providers/reload", &Method::POST) => reload(state).await,
        ("/routes/explain", &Method::POST) => explain(request, state).await,
        ("/usage", &Method::GET) => usage(request.uri().query(), state).await,
        (
            p @ ("/" | "/providers" | "/providers/reload" | "/metrics" | "/sessions" | "/events"
            | "/routes/explain" | "/usage"),
            _,
        ) => response::error(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorType::InvalidRequest,
            &format!("method {method} is not allowed on {p}"),
        ),
        (p, _) => response::error(
            StatusCode::NOT_FOUND,
            ErrorType::NotFound,
            &format!("no route for {method} {p}"),
        ),
    }
}

/// A refused request: one log line with the client's name (or `unauthenticated`) and the
/// reason, one count in `/metrics`, and the client's answer. No provider is involved.
fn refuse(state: &AppState, refusal: &access::Refusal, path: &str) -> Response<Body> {
    tracing::warn!(
        client = refusal.client.as_deref().unwrap_or("unauthenticated"),
        status = refusal.status.as_u16(),
        reason = refusal.reason,
        path = &*crate::logging::escape(path, 100),
        "request refused: {}",
        refusal.message
    );
    state
        .dispatcher
        .metrics()
        .record_refused(refusal.client.as_ref(), refusal.reason);
    response::refusal(refusal)
}

/// The Messages API routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiRoute {
    Messages,
    CountTokens,
    Models,
}

/// The API route of a request path: exactly `/v1/messages`, `/v1/messages/count_tokens` or
/// `/v1/models`, or the same behind one more `/v1` (what a client whose base URL already ends
/// in `/v1` sends). Nothing else: no other prefix, no percent-encoding, no dot segment, so
/// nothing in the path can be read as a step elsewhere by any later layer.
pub fn api_route(path: &str) -> Option<ApiRoute> {
    let path = path.strip_prefix("/v1/v1/").map_or(path, |_| &path[3..]);
    match path {
        "/v1/messages" => Some(ApiRoute::Messages),
        "/v1/messages/count_tokens" => Some(ApiRoute::CountTokens),
        "/v1/models" => Some(ApiRoute::Models),
        _ => None,
    }
}

/// The client of an API request, within its limits: counted `across_replicas` when they
/// share state, or by this process alone.
async fn admit(
    state: &AppState,
    request: &Request<Incoming>,
    connection: &super::Connection,
    across_replicas: bool,
) -> Result<Option<access::Admitted>, access::Refusal> {
    let (headers, now, keys) = (request.headers(), Instant::now(), &connection.keys);
    match state.dispatcher.shared().filter(|_| across_replicas) {
        Some(shared) => state.access.admit_shared(headers, now, keys, shared).await,
        None => state.access.admit(headers, now, keys),
    }
}

/// Reads the whole request body, within the size limit.
async fn client_request(
    request: Request<Incoming>,
    state: &AppState,
    client: Option<Arc<Client>>,
) -> Result<ClientRequest, Response<Body>> {
    let too_large = || {
        response::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorType::RequestTooLarge,
            &format!(
                "the request body is larger than {} MiB",
                state.body_limit / (1024 * 1024)
            ),
        )
    };
    // A declared length over the limit is refused before a byte of the body is read.
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.body_limit as u64) {
        return Err(too_large());
    }
    let (parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    // A body that stops arriving is given up at the deadline, not held for as long as the
    // client likes.
    let collected = read_body(body, state.body_limit, state.body_deadline).await;
    let body = match collected {
        Err(_) => {
            return Err(response::error(
                StatusCode::REQUEST_TIMEOUT,
                ErrorType::Timeout,
                &format!(
                    "the request body did not arrive within {}s",
                    state.body_deadline.as_secs()
                ),
            ));
        }
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) => {
            if error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return Err(too_large());
            }
            return Err(response::error(
                StatusCode::BAD_REQUEST,
                ErrorType::InvalidRequest,
                &format!("the request body could not be read: {error}"),
            ));
        }
    };
    if let Some(client) = &client
        && client.models.is_some()
    {
        // A body without a readable model is the dispatcher's to refuse, with its own words.
        if let Ok(model) = crate::dispatch::scan::model(&body)
            && let Err(refusal) = access::check_model(client, &model.value)
        {
            return Err(refuse(state, &refusal, parts.uri.path()));
        }
    }
    Ok(ClientRequest {
        path_and_query,
        headers: parts.headers,
        body,
        client,
    })
}

/// The outcome of reading a request body: `Err` when the deadline passed first.
type ReadBody = Result<
    Result<http_body_util::Collected<bytes::Bytes>, Box<dyn std::error::Error + Send + Sync>>,
    tokio::time::error::Elapsed,
>;

/// Reads a request's body, at most `limit` bytes within `deadline`, in a task of its own.
///
/// hyper hands an HTTP/1 body over from the connection's task, and taking each piece wakes that
/// task; read from inside it (where a handler runs), the connection's task wakes itself while
/// it runs, which tokio treats as a yield: it goes to the back of the queue and another worker
/// is woken to take it, so every request would cross threads. Read from a task of its own, the
/// wake-ups go between two tasks of the same worker and the request stays on one thread. The
/// task ends with the request: dropping the handler (the client went away) aborts it.
async fn read_body(body: Incoming, limit: usize, deadline: Duration) -> ReadBody {
    struct AbortOnDrop(tokio::task::JoinHandle<ReadBody>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut reading = AbortOnDrop(tokio::spawn(tokio::time::timeout(
        deadline,
        Limited::new(body, limit).collect(),
    )));
    match (&mut reading.0).await {
        Ok(read) => read,
        // The task neither panics nor is aborted while awaited here: reading a body is all it does.
        Err(error) => Ok(Err(Box::new(error))),
    }
}

async fn messages(
    request: Request<Incoming>,
    state: &AppState,
    client: Option<Arc<Client>>,
    lines: &super::LogLines,
) -> Response<Body> {
    if let Some(refused) = over_budget(client.as_deref(), state) {
        return refused;
    }
    let request = match client_request(request, state, client).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    match state.dispatcher.send(request).await {
        Ok(answer) => response::answer(answer, lines),
        Err(error) => response::dispatch_error(&error, state.local_addr.get()),
    }
}

/// 402 `billing_error` when `client` has spent one of its budgets: which one, how much was
/// spent, and when it resets. No provider is contacted.
fn over_budget(client: Option<&Client>, state: &AppState) -> Option<Response<Body>> {
    let client = client?;
    let budget = client.budget.as_ref()?;
    let budgets = state.budgets.as_ref()?;
    let exceeded = budgets
        .check(&client.name, budget, crate::usage::time::now_ms())
        .err()?;
    let refusal = access::Refusal {
        status: StatusCode::PAYMENT_REQUIRED,
        error_type: ErrorType::Billing,
        reason: "budget",
        message: format!("client {}: {exceeded}", client.name),
        retry_after: None,
        client: Some(client.name.clone()),
    };
    Some(refuse(state, &refusal, "/v1/messages"))
}

async fn count_tokens(
    request: Request<Incoming>,
    state: &AppState,
    client: Option<Arc<Client>>,
    lines: &super::LogLines,
) -> Response<Body> {
    let request = match client_request(request, state, client).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let body = request.body.clone();
    match state.dispatcher.count_tokens(request).await {
        Ok(Some(answer)) if matches!(answer.body, AnswerBody::Full(_)) => {
            response::answer(answer, lines)
        }
        // Tokenizing a large request takes milliseconds: off the async workers, so that a
        // burst of count_tokens (Claude Code's `/context` sends 27) stalls no stream; a few at
        // a time, and only up to a size, so that a flood of large ones cannot take every core
        // and a lot of memory.
        Ok(_) if body.len() > crate::limits::MAX_LOCAL_COUNT_TOKENS_BODY => response::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorType::RequestTooLarge,
            &format!(
                "no provider counted the tokens, and the request is larger than {}, the most \
                 claude-lb estimates locally",
                crate::limits::describe_bytes(crate::limits::MAX_LOCAL_COUNT_TOKENS_BODY)
            ),
        ),
        Ok(_) => {
            // The semaphore is never closed, so acquiring only waits.
            let Ok(_permit) = state.local_counts.acquire().await else {
                return response::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorType::Api,
                    "the server is shutting down",
                );
            };
            match tokio::task::spawn_blocking(move || crate::translate::tokens::estimate(&body))
                .await
            {
                Ok(Ok(tokens)) => {
                    let mut response = Response::new(response::full(
                        crate::translate::tokens::count_tokens_body(tokens),
                    ));
                    response
                        .headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    response
                        .headers_mut()
                        .insert("x-claude-lb-estimate", HeaderValue::from_static("true"));
                    response
                }
                Ok(Err(error)) => response::error(
                    StatusCode::BAD_REQUEST,
                    ErrorType::InvalidRequest,
                    &format!("cannot count tokens: {error}"),
                ),
                Err(error) => response::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorType::Api,
                    &format!("the token count failed: {error}"),
                ),
            }
        }
        Err(error) => response::dispatch_error(&error, state.local_addr.get()),
    }
}

/// `GET /v1/models`: the models the pool can serve, in the Anthropic list format: the literal
/// patterns of every enabled provider's `models` map, plus, when an Anthropic-type provider
/// without a map (which serves every model under its own name) is available, that provider's
/// own list; and the `PROVIDER,MODEL` names that pick one provider. A provider that does not
/// answer within two seconds is left out, because Claude Code's discovery gives up after three.
/// A client sees only the models it may ask for.
async fn models(
    request: Request<Incoming>,
    state: &AppState,
    client: Option<&Client>,
) -> Response<Body> {
    let generation = state.dispatcher.generation();
    let reachable =
        |p: &&crate::config::Provider| p.usable() && client.is_none_or(|c| c.may_reach(&p.id));
    let mut names: BTreeSet<String> = generation
        .config
        .providers
        .iter()
        .filter(reachable)
        .flat_map(|p| p.models.entries().iter())
        .map(|(pattern, _)| pattern.as_str())
        .filter(|pattern| !pattern.contains('*'))
        .map(str::to_owned)
        .collect();
    let now = Instant::now();
    let open = generation.config.providers.iter().find(|p| {
        reachable(p)
            && p.kind == ProviderKind::Anthropic
            && p.models.is_empty()
            && state.dispatcher.health().available(&p.id, now)
    });
    if let Some(provider) = open {
        let listed = tokio::time::timeout(
            Duration::from_secs(2),
            upstream::list_models(state.dispatcher.upstream(), provider, request.headers()),
        )
        .await;
        if let Ok(Some(ids)) = listed {
            names.extend(ids.iter().map(|id| format!("{},{id}", provider.id)));
            names.extend(ids);
        }
    }
    names.extend(pinned_names(&generation.config));
    if let Some(client) = client {
        // A `PROVIDER,MODEL` name is listed only when the client may reach that provider.
        names.retain(|name| {
            client.may_request(name)
                && name.split_once(',').is_none_or(|(provider, _)| {
                    client.may_reach(&crate::core::provider::ProviderId::new(provider))
                })
        });
    }
    let data: Vec<_> = names
        .iter()
        .map(|name| {
            json!({
                "type": "model",
                "id": name,
                "display_name": name,
                "created_at": "1970-01-01T00:00:00Z",
            })
        })
        .collect();
    response::json(
        StatusCode::OK,
        &json!({
            "data": data,
            "has_more": false,
            "first_id": names.iter().next(),
            "last_id": names.iter().next_back(),
        }),
    )
}

/// `POST /routes/explain`: the body is a Messages request; the answer says which routing rule
/// it matches and why, and the plan this instance would make for it now. Nothing is sent to a
/// provider.
async fn explain(request: Request<Incoming>, state: &AppState) -> Response<Body> {
    let request = match client_request(request, state, None).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    match state.dispatcher.explain(&request).await {
        Ok(explained) => {
            let explanation =
                RouteExplanation::new(&explained, state.dispatcher.health(), Instant::now());
            admin_json(&explanation, "route")
        }
        Err(error) => response::error(
            StatusCode::BAD_REQUEST,
            ErrorType::InvalidRequest,
            &error.to_string(),
        ),
    }
}

/// The `PROVIDER,MODEL` names that pick one provider, for clients that list models: each usable
/// provider with every model its `models` map sends and every `model` a route sends it.
fn pinned_names(config: &crate::config::Config) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (index, p) in config.providers.iter().enumerate() {
        if !p.usable() {
            continue;
        }
        let targets = p.models.entries().iter().map(|(_, target)| &**target);
        let routed = config
            .routes
            .rules()
            .iter()
            .filter(|rule| rule.providers.contains(&index))
            .filter_map(|rule| rule.model.as_deref());
        names.extend(
            targets
                .chain(routed)
                .map(|model| format!("{},{model}", p.id)),
        );
    }
    names
}

/// `GET /`: ok while every enabled provider is available, degraded while some are, down
/// (503) when none is.
fn health(state: &AppState, head: bool) -> Response<Body> {
    let generation = state.dispatcher.generation();
    let now = Instant::now();
    let enabled: Vec<_> = generation
        .config
        .providers
        .iter()
        .filter(|p| p.enabled)
        .collect();
    // A provider missing its credential is enabled but never available.
    let available = enabled
        .iter()
        .filter(|p| p.usable() && state.dispatcher.health().available(&p.id, now))
        .count();
    let status = if available == 0 {
        "down"
    } else if available < enabled.len() {
        "degraded"
    } else {
        "ok"
    };
    let code = if available == 0 {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let mut body = json!({
        "status": status,
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": state.started.elapsed().as_secs(),
        "providers": { "total": enabled.len(), "available": available },
    });
    // Whether the replicas' shared state answers; without it, every replica goes on alone.
    if let Some(shared) = state.dispatcher.shared() {
        body["shared_state"] = json!(if shared.available() {
            "ok"
        } else {
            "unavailable"
        });
    }
    let mut response = response::json(code, &body);
    if head {
        *response.body_mut() = response::empty();
    }
    response
}

/// `GET /providers`: the live state of every provider, without secrets.
fn providers(state: &AppState) -> Response<Body> {
    let generation = state.dispatcher.generation();
    let now = Instant::now();
    let sessions = state.dispatcher.sessions(now);
    let list: Vec<ProviderStatus> = generation
        .config
        .providers
        .iter()
        .map(|provider| {
            let snapshot = state.dispatcher.health().snapshot(&provider.id, now);
            let tokens = state.dispatcher.metrics().tokens(&provider.id);
            let unusable = provider.unusable().filter(|_| provider.enabled);
            let (state_name, remaining) = match (provider.enabled, &snapshot.state) {
                (false, _) => ("disabled", 0.0),
                (true, _) if unusable.is_some() => ("unusable", 0.0),
                (true, HealthState::Available) => ("available", 0.0),
                (true, HealthState::CoolingDown { remaining }) => {
                    ("cooling_down", remaining.as_secs_f64())
                }
            };
            ProviderStatus {
                name: provider.id.as_str().to_owned(),
                kind: provider.kind.as_str().to_owned(),
                enabled: provider.enabled,
                state: state_name.to_owned(),
                unusable,
                cooldown_remaining_s: (remaining * 10.0).round() / 10.0,
                consecutive_failures: snapshot.consecutive_failures,
                requests: snapshot.requests,
                failures: snapshot.failures,
                latency_ms: snapshot.latency_ms(),
                last_error: snapshot.last_error,
                sessions: sessions
                    .iter()
                    .find(|s| s.provider == provider.id)
                    .map_or(0, |s| s.sessions),
                cache_read_tokens: tokens.cache_read,
                cache_creation_tokens: tokens.cache_creation,
                uncached_input_tokens: tokens.uncached_input,
                last_check: snapshot.last_check.map(|check| CheckStatus {
                    at: super::admin::rfc3339(check.at),
                    ok: check.ok,
                    latency_ms: crate::core::num::millis(check.latency),
                    detail: check.detail,
                }),
            }
        })
        .collect();
    admin_json(&list, "providers")
}

/// An admin answer as JSON: through a JSON value, whose keys are sorted, as every admin
/// answer's are; `what` names it in the error should it not serialise.
fn admin_json(answer: &impl serde::Serialize, what: &str) -> Response<Body> {
    match serde_json::to_value(answer) {
        Ok(value) => response::json(StatusCode::OK, &value),
        Err(error) => response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::Api,
            &format!("cannot describe the {what}: {error}"),
        ),
    }
}

/// `GET /sessions`: how many client sessions affinity keeps on each provider, and how recently
/// they were used.
fn sessions(state: &AppState) -> Response<Body> {
    let generation = state.dispatcher.generation();
    let settings = &generation.config.settings;
    let now = Instant::now();
    let tenths = |d: Duration| (d.as_secs_f64() * 10.0).round() / 10.0;
    let providers: Vec<ProviderSessionsStatus> = state
        .dispatcher
        .sessions(now)
        .into_iter()
        .map(|p| ProviderSessionsStatus {
            name: p.provider.as_str().to_owned(),
            sessions: p.sessions,
            oldest_last_use_s: tenths(now.saturating_duration_since(p.oldest)),
            newest_last_use_s: tenths(now.saturating_duration_since(p.newest)),
        })
        .collect();
    let answer = SessionsStatus {
        affinity: match settings.affinity {
            crate::config::Affinity::Session => "session",
            crate::config::Affinity::None => "none",
        }
        .to_owned(),
        ttl_s: settings.affinity_ttl.as_secs(),
        capacity: crate::core::affinity::MAX_SESSIONS as u64,
        sessions: providers.iter().map(|p| p.sessions).sum(),
        providers,
    };
    admin_json(&answer, "sessions")
}

/// `GET /events`: the latest failed attempts and failed requests, newest first.
fn events(state: &AppState) -> Response<Body> {
    let list: Vec<EventEntry> = state
        .dispatcher
        .metrics()
        .events()
        .iter()
        .map(EventEntry::from)
        .collect();
    admin_json(&list, "events")
}

/// `GET /usage?since=..&until=..&by=..`: the usage ledger's totals, as `claude-lb usage --json`
/// prints them.
async fn usage(query: Option<&str>, state: &AppState) -> Response<Body> {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let query = match crate::usage::report::query_from_params(&params, crate::usage::time::now_ms())
    {
        Ok(query) => query,
        Err(message) => {
            return response::error(StatusCode::BAD_REQUEST, ErrorType::InvalidRequest, &message);
        }
    };
    let Some(ledger) = state.usage_ledger.clone() else {
        return response::error(
            StatusCode::NOT_FOUND,
            ErrorType::NotFound,
            "the usage ledger is off (settings.usage.store: off)",
        );
    };
    // The stores block: off the async workers.
    let report = tokio::task::spawn_blocking(move || ledger.open()?.report(&query)).await;
    match report {
        Ok(Ok(report)) => admin_json(&report, "usage"),
        Ok(Err(error)) => response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::Api,
            &error.to_string(),
        ),
        Err(error) => response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::Api,
            &format!("the usage query failed: {error}"),
        ),
    }
}

async fn reload(state: &Arc<AppState>) -> Response<Body> {
    // Reading and validating the file is blocking work: off the async workers.
    let task = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || super::reload::reload(&state))
    };
    let result = task
        .await
        .unwrap_or_else(|error| Err(ReloadError::Interrupted(error.to_string())));
    match result {
        Ok(providers) => response::json(
            StatusCode::OK,
            &json!({ "reloaded": true, "providers": providers }),
        ),
        Err(error) => {
            let problems = error.problems();
            let mut response = response::json(
                StatusCode::BAD_REQUEST,
                &json!({
                    "type": "error",
                    "error": {
                        "type": "invalid_request_error",
                        "message": format!("the config was not reloaded: {}", problems.join("; ")),
                    },
                    "reloaded": false,
                    "problems": problems,
                }),
            );
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_api_routes_are_accepted() {
        for (path, expect) in [
            ("/v1/messages", Some(ApiRoute::Messages)),
            ("/v1/messages/count_tokens", Some(ApiRoute::CountTokens)),
            ("/v1/models", Some(ApiRoute::Models)),
            ("/v1/v1/messages", Some(ApiRoute::Messages)),
            ("/v1/v1/models", Some(ApiRoute::Models)),
            ("/v1/v1/v1/messages", None),
            ("/lb/v1/messages", None),
            ("/team-a/lb.v2/v1/models", None),
            ("/anything/v1/messages", None),
            ("/v1/../../admin/secret/v1/messages", None),
            ("/v1/%2e%2e/%2E%2E/admin/v1/messages", None),
            ("/a\\..\\b/v1/messages", None),
            ("/./v1/messages", None),
            ("//v1/messages", None),
            ("v1/messages", None),
            ("/v1/messagesx", None),
            ("/v1/messages/", None),
        ] {
            assert_eq!(api_route(path), expect, "{path}");
        }
    }
}
