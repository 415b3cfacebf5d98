//! The hyper plumbing of the mock: the accept loop, one HTTP/1.1 keep-alive connection task
//! per client, and the translation of an answer into bytes on the wire (or into a dropped
//! connection, a stall, a cut body).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::body::{End, SseChunk, error_body};
#[cfg(any(test, feature = "test-support"))]
use super::reply::{Body, Reply};
use super::sim::{self, Fault, Generated};
use super::{Recorded, Shared};
use crate::core::provider::ProviderKind;

/// The response body type of every mock answer.
type MockBody = UnsyncBoxBody<Bytes, Cut>;

/// The error that makes hyper drop a connection: a deliberate cut or drop.
#[derive(Debug, thiserror::Error)]
#[error("connection closed on purpose by the mock")]
pub(crate) struct Cut;

/// What answering a request fails with: a [`Cut`], or a scripted refusal.
type Failure = Box<dyn std::error::Error + Send + Sync>;

/// A scripted refusal: hyper resets the HTTP/2 stream with the reason it finds among an error's
/// causes, here `REFUSED_STREAM`.
#[cfg(any(test, feature = "test-support"))]
#[derive(Debug, thiserror::Error)]
#[error("stream refused on purpose by the mock")]
struct Refused(#[source] h2::Error);

const EVENT_STREAM: &str = "text/event-stream";
const JSON: &str = "application/json";

/// How long a cut body stays pending before failing, so the chunks before the cut reach the
/// socket.
const CUT_FLUSH: Duration = Duration::from_millis(5);

/// Accepts connections until `stop` fires (or its sender is dropped). Connection tasks live in
/// a `JoinSet`, so they are all aborted when this function returns.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    shared.connection_count.fetch_add(1, Ordering::Relaxed);
                    connections.spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                Err(e) => {
                    // Out of file descriptors or a similar transient failure: back off briefly.
                    tracing::debug!(error = %e, "mock accept failed");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    // Nagle would add delays between small SSE events; failure only costs latency.
    let _ = stream.set_nodelay(true);
    #[cfg(feature = "test-support")]
    if let Some(acceptor) = shared.tls.clone() {
        return serve_tls(&acceptor, stream, shared).await;
    }
    serve_http1(TokioIo::new(stream), shared).await;
}

async fn serve_http1<I>(io: I, shared: Arc<Shared>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |req| handle(Arc::clone(&shared), req));
    let result = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service)
        .await;
    if let Err(e) = result {
        tracing::trace!(error = %e, "mock connection ended");
    }
}

/// A TLS connection: HTTP/2 when the client chose it by ALPN, HTTP/1.1 otherwise.
#[cfg(feature = "test-support")]
async fn serve_tls(acceptor: &tokio_rustls::TlsAcceptor, stream: TcpStream, shared: Arc<Shared>) {
    let stream = match acceptor.accept(stream).await {
        Ok(stream) => stream,
        Err(e) => {
            tracing::trace!(error = %e, "mock TLS handshake failed");
            return;
        }
    };
    if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
        return serve_http1(TokioIo::new(stream), shared).await;
    }
    let service = service_fn(move |req| handle(Arc::clone(&shared), req));
    let result = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(e) = result {
        tracing::trace!(error = %e, "mock connection ended");
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, Failure> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|_| Cut)?.to_bytes();
    shared.request_count.fetch_add(1, Ordering::Relaxed);
    if shared.sim.record {
        let path_and_query = parts.uri.path_and_query().map_or_else(
            || parts.uri.path().to_string(),
            std::string::ToString::to_string,
        );
        shared.recorded.lock().push(Recorded {
            method: parts.method.clone(),
            version: parts.version,
            path_and_query,
            headers: parts.headers.clone(),
            json: serde_json::from_slice(&body).ok(),
            body: body.clone(),
        });
    }
    #[cfg(any(test, feature = "test-support"))]
    {
        let always = shared.always.lock().clone();
        let scripted = always.or_else(|| shared.script.lock().pop_front());
        if let Some(reply) = scripted {
            return scripted_reply(&shared, &parts.method, parts.uri.path(), &body, reply).await;
        }
    }
    Ok(simulate(&shared, &parts.method, parts.uri.path(), &body, None).await?)
}

#[cfg(any(test, feature = "test-support"))]
async fn scripted_reply(
    shared: &Shared,
    method: &Method,
    path: &str,
    body: &Bytes,
    reply: Reply,
) -> Result<Response<MockBody>, Failure> {
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let Reply {
        status,
        body: planned,
        headers,
        end,
        ..
    } = reply;
    let (content_type, chunks) = match planned {
        Body::Drop => return Err(Cut.into()),
        Body::Refuse => {
            return Err(Refused(h2::Error::from(h2::Reason::REFUSED_STREAM)).into());
        }
        Body::Stall => return Ok(stall().await?),
        Body::Sim => return Ok(simulate(shared, method, path, body, Some((headers, end))).await?),
        Body::KindError => (JSON, vec![SseChunk::new(error_body(shared.kind, status))]),
        Body::Whole {
            content_type,
            bytes,
        } => (content_type, vec![SseChunk::new(bytes)]),
        Body::Chunks(chunks) => (EVENT_STREAM, chunks),
    };
    let streamed = content_type == EVENT_STREAM;
    let mut response = if streamed || end != End::Complete {
        respond(status, content_type, streamed_body(chunks, end))
    } else {
        let bytes = chunks
            .into_iter()
            .next()
            .map(|c| c.bytes)
            .unwrap_or_default();
        respond(status, content_type, whole(bytes))
    };
    add_headers(&mut response, headers);
    Ok(response)
}

/// Answers as the simulated provider; `overrides` carries the headers and ending of a
/// scripted `Reply::sim()`.
async fn simulate(
    shared: &Shared,
    method: &Method,
    path: &str,
    body: &Bytes,
    overrides: Option<(Vec<(HeaderName, HeaderValue)>, End)>,
) -> Result<Response<MockBody>, Cut> {
    let options = &shared.sim;
    if !options.latency.is_zero() {
        tokio::time::sleep(options.latency).await;
    }
    let (headers, mut end) = overrides.unwrap_or((Vec::new(), End::Complete));
    let kind = shared.kind;
    let mut response = match route(kind, method, path) {
        Route::Generate => {
            let seq = shared.generation_seq.fetch_add(1, Ordering::Relaxed);
            match sim::generate(kind, body, options, seq) {
                Err(bad) => bad_request(kind, &bad.0),
                Ok(generated) => match options.fault_for(seq) {
                    None => generated_response(kind, generated, options.event_gap, end, seq),
                    Some(Fault::Stall) => return stall().await,
                    Some(Fault::Overloaded) => {
                        let status = match kind {
                            ProviderKind::Anthropic => {
                                StatusCode::from_u16(529).expect("529 is a valid status code")
                            }
                            ProviderKind::OpenAi => StatusCode::SERVICE_UNAVAILABLE,
                        };
                        kind_error(kind, status)
                    }
                    Some(Fault::RateLimited) => {
                        let mut r = kind_error(kind, StatusCode::TOO_MANY_REQUESTS);
                        r.headers_mut().insert(
                            http::header::RETRY_AFTER,
                            HeaderValue::from(options.retry_after_secs),
                        );
                        r
                    }
                    Some(Fault::CutStream) => {
                        let events = generated.event_ends.len();
                        end = End::CutAfter(if events == 0 { 1 } else { events / 2 });
                        generated_response(kind, generated, options.event_gap, end, seq)
                    }
                },
            }
        }
        Route::CountTokens => respond(StatusCode::OK, JSON, whole(sim::count_tokens(body))),
        Route::Models => respond(StatusCode::OK, JSON, whole(sim::models(kind))),
        Route::NotFound => {
            let mut r = kind_error(kind, StatusCode::NOT_FOUND);
            *r.body_mut() = whole(not_found_body(kind, method, path));
            r
        }
    };
    add_headers(&mut response, headers);
    Ok(response)
}

enum Route {
    Generate,
    CountTokens,
    Models,
    NotFound,
}

fn route(kind: ProviderKind, method: &Method, path: &str) -> Route {
    let path = path.trim_end_matches('/');
    match (kind, method) {
        (ProviderKind::Anthropic, &Method::POST) if path.ends_with("/v1/messages") => {
            Route::Generate
        }
        (ProviderKind::Anthropic, &Method::POST) if path.ends_with("/v1/messages/count_tokens") => {
            Route::CountTokens
        }
        (ProviderKind::Anthropic, &Method::GET) if path.ends_with("/v1/models") => Route::Models,
        (ProviderKind::OpenAi, &Method::POST) if path.ends_with("/chat/completions") => {
            Route::Generate
        }
        (ProviderKind::OpenAi, &Method::GET) if path.ends_with("/models") => Route::Models,
        _ => Route::NotFound,
    }
}

fn generated_response(
    kind: ProviderKind,
    generated: Generated,
    gap: Duration,
    end: End,
    seq: u64,
) -> Response<MockBody> {
    let streamed = generated.is_stream();
    let content_type = if streamed { EVENT_STREAM } else { JSON };
    let mut response = if end == End::Complete && gap.is_zero() {
        // The hot path: the whole answer in one write.
        respond(StatusCode::OK, content_type, whole(generated.body))
    } else if streamed {
        let chunks = generated
            .events()
            .into_iter()
            .enumerate()
            .map(|(i, bytes)| SseChunk {
                delay: if i == 0 { Duration::ZERO } else { gap },
                bytes,
            })
            .collect();
        respond(StatusCode::OK, content_type, streamed_body(chunks, end))
    } else {
        // A JSON body is sent in two halves, so that a cut lands in the middle of it.
        let half = generated.body.len() / 2;
        let chunks = vec![
            SseChunk::new(generated.body.slice(..half)),
            SseChunk::new(generated.body.slice(half..)),
        ];
        respond(StatusCode::OK, content_type, streamed_body(chunks, end))
    };
    let (name, value) = match kind {
        ProviderKind::Anthropic => ("request-id", format!("req_mock_{seq:016x}")),
        ProviderKind::OpenAi => ("x-request-id", format!("req_mock_{seq:016x}")),
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
    response
}

fn kind_error(kind: ProviderKind, status: StatusCode) -> Response<MockBody> {
    respond(status, JSON, whole(error_body(kind, status)))
}

fn bad_request(kind: ProviderKind, message: &str) -> Response<MockBody> {
    let body = match kind {
        ProviderKind::Anthropic => serde_json::json!({
            "type": "error",
            "error": {"type": "invalid_request_error", "message": message},
        }),
        ProviderKind::OpenAi => serde_json::json!({
            "error": {"message": message, "type": "invalid_request_error",
                      "param": null, "code": null},
        }),
    };
    respond(
        StatusCode::BAD_REQUEST,
        JSON,
        whole(Bytes::from(body.to_string())),
    )
}

fn not_found_body(kind: ProviderKind, method: &Method, path: &str) -> Bytes {
    let message = format!(
        "the mock {} provider has no route {method} {path}",
        kind.as_str()
    );
    let body = match kind {
        ProviderKind::Anthropic => serde_json::json!({
            "type": "error", "error": {"type": "not_found_error", "message": message},
        }),
        ProviderKind::OpenAi => serde_json::json!({
            "error": {"message": message, "type": "invalid_request_error",
                      "param": null, "code": "not_found"},
        }),
    };
    Bytes::from(body.to_string())
}

fn respond(status: StatusCode, content_type: &'static str, body: MockBody) -> Response<MockBody> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if content_type == EVENT_STREAM {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}

fn add_headers(response: &mut Response<MockBody>, headers: Vec<(HeaderName, HeaderValue)>) {
    for (name, value) in headers {
        response.headers_mut().insert(name, value);
    }
}

fn whole(bytes: Bytes) -> MockBody {
    Full::new(bytes)
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// A body that sends `chunks` (each after its delay), then ends as `end` says.
fn streamed_body(chunks: Vec<SseChunk>, end: End) -> MockBody {
    let limit = match end {
        End::Complete | End::RepeatLast(_) => chunks.len(),
        End::CutAfter(n) | End::StallAfter(n) => n.min(chunks.len()),
    };
    let repeated: Vec<Bytes> = match end {
        End::RepeatLast(n) => chunks[chunks.len().saturating_sub(n)..]
            .iter()
            .map(|c| c.bytes.clone())
            .collect(),
        _ => Vec::new(),
    };
    let repeated = repeated.into_iter().cycle();
    let state = (chunks.into_iter().take(limit), repeated, end, false);
    let stream =
        futures_util::stream::unfold(state, |(mut chunks, mut repeated, end, done)| async move {
            if done {
                return None;
            }
            if let Some(chunk) = chunks.next() {
                if !chunk.delay.is_zero() {
                    tokio::time::sleep(chunk.delay).await;
                }
                return Some((Ok(Frame::data(chunk.bytes)), (chunks, repeated, end, false)));
            }
            match end {
                End::Complete => None,
                End::RepeatLast(_) => {
                    // An endless body stays polite to the other tasks of the runtime.
                    tokio::task::yield_now().await;
                    let bytes = repeated.next()?;
                    Some((Ok(Frame::data(bytes)), (chunks, repeated, end, false)))
                }
                End::CutAfter(_) => {
                    // Let hyper flush what was sent before the cut: an error aborts the connection
                    // at once and would discard buffered frames (and possibly the headers). While
                    // the body is pending, hyper writes out its buffer as the socket allows.
                    tokio::time::sleep(CUT_FLUSH).await;
                    Some((Err(Cut), (chunks, repeated, end, true)))
                }
                End::StallAfter(_) => {
                    std::future::pending::<()>().await;
                    None
                }
            }
        });
    StreamBody::new(stream).boxed_unsync()
}

/// Never answers; the connection task is aborted when the mock shuts down.
async fn stall() -> Result<Response<MockBody>, Cut> {
    std::future::pending::<()>().await;
    Err(Cut)
}
