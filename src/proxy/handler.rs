//! Routes one HTTP request (see docs/failover.md#routes) to the dispatcher or the admin API.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::json;
use tokio::time::Instant;

use super::AppState;
use super::admin::ProviderStatus;
use super::reload::ReloadError;
use super::response::{self, Body};
use crate::core::health::HealthState;
use crate::core::provider::ProviderKind;
use crate::dispatch::{AnswerBody, ClientRequest};
use crate::translate::anthropic::ErrorType;
use crate::upstream;

/// Answers one request. Never fails: every problem becomes an Anthropic-shaped error.
pub async fn handle(request: Request<Incoming>, state: &Arc<AppState>) -> Response<Body> {
    let path = request.uri().path();
    let method = request.method().clone();
    match (api_route(path), &method) {
        (Some(ApiRoute::Messages), &Method::POST) => return messages(request, state).await,
        (Some(ApiRoute::CountTokens), &Method::POST) => return count_tokens(request, state).await,
        (Some(ApiRoute::Models), &Method::GET) => return models(request, state).await,
        (Some(_), _) => {
            return response::error(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorType::InvalidRequest,
                &format!("method {method} is not allowed on {path}"),
            );
        }
        (None, _) => {}
    }
    match (path, &method) {
        ("/", &Method::GET | &Method::HEAD) => health(state, method == Method::HEAD),
        ("/providers", &Method::GET) => providers(state),
        ("/metrics", &Method::GET) => {
            let mut response = Response::new(response::full(state.dispatcher.metrics().render()));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            response
        }
        ("/providers/reload", &Method::POST) => reload(state).await,
        ("/usage", &Method::GET) => usage(request.uri().query(), state).await,
        (p @ ("/" | "/providers" | "/providers/reload" | "/metrics" | "/usage"), _) => {
            response::error(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorType::InvalidRequest,
                &format!("method {method} is not allowed on {p}"),
            )
        }
        (p, _) => response::error(
            StatusCode::NOT_FOUND,
            ErrorType::NotFound,
            &format!("no route for {method} {p}"),
        ),
    }
}

/// The Messages API routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiRoute {
    Messages,
    CountTokens,
    Models,
}

/// The API route of a request path: exactly `/v1/messages`, `/v1/messages/count_tokens` or
/// `/v1/models`, optionally behind a prefix of plain segments (a client's base URL such as
/// `http://host:port/lb/` keeps its `/lb`). A segment is plain when it is made of letters,
/// digits, `-`, `_`, `~` and `.` and is not `.` or `..`: no percent-encoding, no backslash, no
/// empty segment, so nothing in the path can be read as a step elsewhere by any later layer.
/// The prefix itself never travels upstream.
pub fn api_route(path: &str) -> Option<ApiRoute> {
    let (prefix, route) = [
        ("/v1/messages/count_tokens", ApiRoute::CountTokens),
        ("/v1/messages", ApiRoute::Messages),
        ("/v1/models", ApiRoute::Models),
    ]
    .into_iter()
    .find_map(|(suffix, route)| path.strip_suffix(suffix).map(|prefix| (prefix, route)))?;
    let plain = |segment: &str| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~' | b'.'))
    };
    if prefix.is_empty()
        || prefix
            .strip_prefix('/')
            .is_some_and(|p| p.split('/').all(plain))
    {
        Some(route)
    } else {
        None
    }
}

/// Reads the whole request body, within the size limit.
async fn client_request(
    request: Request<Incoming>,
    state: &AppState,
) -> Result<ClientRequest, Response<Body>> {
    let (parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let body = match Limited::new(body, state.body_limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            if error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return Err(response::error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorType::RequestTooLarge,
                    &format!(
                        "the request body is larger than {} MiB",
                        state.body_limit / (1024 * 1024)
                    ),
                ));
            }
            return Err(response::error(
                StatusCode::BAD_REQUEST,
                ErrorType::InvalidRequest,
                &format!("the request body could not be read: {error}"),
            ));
        }
    };
    Ok(ClientRequest {
        path_and_query,
        headers: parts.headers,
        body,
        // Requests are not yet told apart by client.
        client: None,
    })
}

async fn messages(request: Request<Incoming>, state: &AppState) -> Response<Body> {
    let request = match client_request(request, state).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    match state.dispatcher.send(request).await {
        Ok(answer) => response::answer(answer),
        Err(error) => response::dispatch_error(&error, state.local_addr.get()),
    }
}

async fn count_tokens(request: Request<Incoming>, state: &AppState) -> Response<Body> {
    let request = match client_request(request, state).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let body = request.body.clone();
    match state.dispatcher.count_tokens(request).await {
        Ok(Some(answer)) if matches!(answer.body, AnswerBody::Full(_)) => response::answer(answer),
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
/// own list. A provider that does not answer within two seconds is left out, because Claude
/// Code's discovery gives up after three.
async fn models(request: Request<Incoming>, state: &AppState) -> Response<Body> {
    let generation = state.dispatcher.generation();
    let mut names: BTreeSet<String> = generation
        .config
        .providers
        .iter()
        .filter(|p| p.usable())
        .flat_map(|p| p.models.entries().iter())
        .map(|(pattern, _)| pattern.as_str())
        .filter(|pattern| !pattern.contains('*'))
        .map(str::to_owned)
        .collect();
    let now = Instant::now();
    let open = generation.config.providers.iter().find(|p| {
        p.usable()
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
            names.extend(ids);
        }
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
    let mut response = response::json(
        code,
        &json!({
            "status": status,
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_s": state.started.elapsed().as_secs(),
            "providers": { "total": enabled.len(), "available": available },
        }),
    );
    if head {
        *response.body_mut() = response::empty();
    }
    response
}

/// `GET /providers`: the live state of every provider, without secrets.
fn providers(state: &AppState) -> Response<Body> {
    let generation = state.dispatcher.generation();
    let now = Instant::now();
    let list: Vec<ProviderStatus> = generation
        .config
        .providers
        .iter()
        .map(|provider| {
            let snapshot = state.dispatcher.health().snapshot(&provider.id, now);
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
            }
        })
        .collect();
    // Through a JSON value, whose keys are sorted, as every admin answer's are.
    match serde_json::to_value(&list) {
        Ok(value) => response::json(StatusCode::OK, &value),
        Err(error) => response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::Api,
            &format!("cannot describe the providers: {error}"),
        ),
    }
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
    let Some(path) = state.usage_db.clone() else {
        return response::error(
            StatusCode::NOT_FOUND,
            ErrorType::NotFound,
            "the usage ledger is off (settings.usage.store: off)",
        );
    };
    // SQLite blocks: off the async workers.
    let report = tokio::task::spawn_blocking(move || {
        use crate::usage::Store as _;
        crate::usage::sqlite::SqliteStore::open(&path)?.report(&query)
    })
    .await;
    match report {
        Ok(Ok(report)) => match serde_json::to_value(&report) {
            Ok(value) => response::json(StatusCode::OK, &value),
            Err(error) => response::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorType::Api,
                &format!("cannot describe the usage: {error}"),
            ),
        },
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
    fn only_exact_api_routes_behind_plain_prefixes_are_accepted() {
        for (path, expect) in [
            ("/v1/messages", Some(ApiRoute::Messages)),
            ("/v1/messages/count_tokens", Some(ApiRoute::CountTokens)),
            ("/v1/models", Some(ApiRoute::Models)),
            ("/lb/v1/messages", Some(ApiRoute::Messages)),
            ("/team-a/lb.v2/v1/models", Some(ApiRoute::Models)),
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
