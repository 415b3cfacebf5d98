//! One attempt against one provider, up to the commit point.
//!
//! An attempt ends in one of three ways: an answer that goes to the client (a success, or a
//! client error the next provider would give too), a failure that fails over, or a request
//! that cannot be translated for this provider at all.

use std::ops::Range;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use tokio::time::{Instant, timeout_at};

use super::context::Context;
use super::stream::{AnswerStream, Mode, RequestLog, Usage};
use super::{Answer, AnswerBody, scan};
use crate::core::classify::{self, Failure, TimeoutPhase};
use crate::core::provider::ProviderKind;
use crate::sse::{SseEvent, SseParser};
use crate::translate;
use crate::upstream::{self, BodyStream, UpstreamRequest};

/// The log line of a whole answer, emitted by the caller once it knows the failed attempts
/// that came before; a streaming answer logs itself when it ends.
pub(super) type PendingLog = Option<(RequestLog, Usage, &'static str)>;

/// How one attempt ended.
pub(super) enum AttemptOutcome {
    Answer(Box<Answer>, PendingLog),
    Failed { failure: Failure, message: String },
    Untranslatable(String),
}

/// How a whole body could not be read.
type ReadFailure = (Failure, String);

fn failed(failure: Failure, message: impl Into<String>) -> AttemptOutcome {
    AttemptOutcome::Failed {
        failure,
        message: message.into(),
    }
}

pub(super) async fn run(ctx: Context<'_>) -> AttemptOutcome {
    let attempt_started = Instant::now();
    // One deadline per attempt covers the response headers and, for a stream, its first
    // content event: a later attempt gets the full time again.
    let deadline = attempt_started + ctx.settings.request_timeout;
    let (upstream_request, mode) = match prepare(&ctx) {
        Ok(prepared) => prepared,
        Err(message) => return AttemptOutcome::Untranslatable(message),
    };
    let request = ctx.upstream.post(upstream_request);
    tokio::pin!(request);
    let outcome = match timeout_at(deadline, &mut request).await {
        Ok(outcome) => outcome,
        // A non-streaming request gets its headers only when the whole answer is done: it has
        // the longer deadline of a whole answer. A token count has no answer to generate.
        Err(_) if ctx.route == super::Route::Messages && !is_streaming(&ctx) => {
            let total = ctx.whole_answer;
            match timeout_at(attempt_started + total, &mut request).await {
                Ok(outcome) => outcome,
                Err(_) => return whole_answer_timed_out(total),
            }
        }
        Err(_) => {
            return failed(
                Failure::Timeout(TimeoutPhase::Headers),
                format!(
                    "no response headers within {}s",
                    ctx.settings.request_timeout.as_secs()
                ),
            );
        }
    };
    let response = match outcome {
        Err(error) => {
            let failure = match &error {
                upstream::UpstreamError::Connect(send) if send.failure.is_unreachable() => {
                    Failure::Unreachable
                }
                upstream::UpstreamError::Connect(send)
                    if send.failure == upstream::SendFailure::LocalResources =>
                {
                    Failure::Local
                }
                _ => Failure::Connect,
            };
            return failed(failure, error.to_string());
        }
        Ok(response) => response,
    };
    let status = response.status();
    if !status.is_success() {
        return unsuccessful(&ctx, response, &mode).await;
    }
    let is_event_stream = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let (parts, body) = response.into_parts();
    let headers = client_headers(&ctx, parts.headers, &mode);
    if is_event_stream {
        peek(ctx, status, headers, body, mode, deadline, attempt_started).await
    } else {
        complete(ctx, status, headers, body, &mode, attempt_started).await
    }
}

/// Whether the client asked for a stream (`"stream": true`).
fn is_streaming(ctx: &Context<'_>) -> bool {
    scan::top_level_bool(&ctx.request.body, "stream") == Some(true)
}

fn whole_answer_timed_out(total: std::time::Duration) -> AttemptOutcome {
    failed(
        Failure::Timeout(TimeoutPhase::WholeAnswer),
        format!(
            "the whole answer did not arrive within {}s",
            total.as_secs()
        ),
    )
}

/// Builds the upstream request for this provider: pass-through for Anthropic-type
/// providers, a translated body for OpenAI-type ones.
fn prepare(ctx: &Context<'_>) -> Result<(UpstreamRequest, Mode), String> {
    match ctx.provider.kind {
        ProviderKind::Anthropic => {
            let mut body = edit_passthrough(ctx);
            // Thinking from an OpenAI-type provider has no signature an Anthropic-type
            // provider would accept (see `history`).
            if let Some(repaired) = super::history::strip_unsigned_thinking(&body) {
                body = repaired;
            }
            let request = UpstreamRequest {
                url: upstream::anthropic_url(
                    ctx.provider,
                    match ctx.route {
                        super::Route::Messages => upstream::MESSAGES_PATH,
                        super::Route::CountTokens => upstream::COUNT_TOKENS_PATH,
                    },
                    upstream::allowed_client_query(&ctx.request.path_and_query).as_deref(),
                )
                .map_err(|e| e.to_string())?,
                headers: upstream::anthropic_headers(ctx.provider, &ctx.request.headers),
                body,
            };
            Ok((request, Mode::Passthrough))
        }
        ProviderKind::OpenAi => {
            let options = translate::request::RequestOptions {
                model: ctx.upstream_model,
                max_tokens_cap: ctx.provider.max_tokens.map(std::num::NonZeroU32::get),
                reasoning: translate::request::ReasoningStyle::guess(
                    ctx.provider.base_url.host_str().unwrap_or(""),
                    ctx.upstream_model,
                ),
            };
            let body = translate::request::to_openai(&ctx.request.body, &options)
                .map_err(|e| e.to_string())?;
            let request = UpstreamRequest {
                url: upstream::openai_url(ctx.provider).map_err(|e| e.to_string())?,
                headers: upstream::openai_headers(ctx.provider, &ctx.request.headers),
                body: Bytes::from(body),
            };
            let message_id = format!("msg_{}", ctx.request_id.trim_start_matches("req_"));
            Ok((request, Mode::translate(ctx.client_model, message_id)))
        }
    }
}

/// The pass-through body with the only two values claude-lb may change replaced in place,
/// every other byte unchanged: the top-level `model` where a `models` map renames it, and
/// every top-level `max_tokens` above the provider's `max_tokens` cap, which becomes the cap.
/// The same body when neither applies (no copy).
fn edit_passthrough(ctx: &Context<'_>) -> Bytes {
    let body = &ctx.request.body;
    let mut edits: Vec<(Range<usize>, Vec<u8>)> = Vec::new();
    if ctx.upstream_model != ctx.client_model {
        let literal = serde_json::to_string(ctx.upstream_model)
            .unwrap_or_else(|_| format!("\"{}\"", ctx.upstream_model));
        edits.push((ctx.model_span.clone(), literal.into_bytes()));
    }
    if let Some(cap) = ctx.provider.max_tokens {
        edits.extend(max_tokens_edits(body, cap.get()));
    }
    splice(body, edits)
}

/// The edits that lower every top-level `max_tokens` above `cap` to `cap`. A value that is not
/// a plain non-negative integer is left for the provider to refuse.
fn max_tokens_edits(body: &[u8], cap: u32) -> Vec<(Range<usize>, Vec<u8>)> {
    scan::top_level_values(body, "max_tokens")
        .into_iter()
        .filter(|span| {
            let digits = &body[span.clone()];
            !digits.is_empty()
                && digits.iter().all(u8::is_ascii_digit)
                && std::str::from_utf8(digits)
                    .ok()
                    .is_none_or(|text| text.parse::<u64>().map_or(true, |n| n > u64::from(cap)))
        })
        .map(|span| (span, cap.to_string().into_bytes()))
        .collect()
}

/// `body` with each range replaced by its bytes (ranges do not overlap).
fn splice(body: &Bytes, mut edits: Vec<(Range<usize>, Vec<u8>)>) -> Bytes {
    if edits.is_empty() {
        return body.clone();
    }
    edits.sort_by_key(|(range, _)| range.start);
    let extra: usize = edits.iter().map(|(_, bytes)| bytes.len()).sum();
    let mut out = BytesMut::with_capacity(body.len() + extra);
    let mut at = 0;
    for (range, bytes) in edits {
        out.extend_from_slice(&body[at..range.start]);
        out.extend_from_slice(&bytes);
        at = range.end;
    }
    out.extend_from_slice(&body[at..]);
    out.freeze()
}

/// The headers that go to the client with an answer, made from the upstream's own header map
/// (taken, not copied): pass-through answers keep its end-to-end headers, translated ones
/// start empty.
fn client_headers(ctx: &Context<'_>, mut upstream: HeaderMap, mode: &Mode) -> HeaderMap {
    let mut headers = match mode {
        Mode::Passthrough => {
            upstream::strip_response_headers(&mut upstream);
            upstream
        }
        Mode::Translate(_) => HeaderMap::with_capacity(4),
    };
    // Static names: a name given as text would be copied into a new allocation each time.
    if let Ok(value) = HeaderValue::from_str(ctx.provider.id.as_str()) {
        headers.insert(HeaderName::from_static("x-claude-lb-provider"), value);
    }
    if let Ok(value) = HeaderValue::from_str(ctx.request_id) {
        headers.insert(HeaderName::from_static("x-claude-lb-request-id"), value);
    }
    headers
}

/// A non-2xx answer: fail over, or hand it to the client as it came.
async fn unsuccessful(
    ctx: &Context<'_>,
    response: upstream::Response,
    mode: &Mode,
) -> AttemptOutcome {
    let status = response.status();
    let retry_after =
        crate::core::retry_after::from_headers(response.headers(), std::time::SystemTime::now());
    let outcome = classify::status(status.as_u16(), retry_after);
    let (parts, mut body) = response.into_parts();
    let upstream_headers = parts.headers;
    match outcome {
        Some(classify::Outcome::ReturnToClient) | None => {
            let bytes = match read_all(
                &mut body,
                ctx.settings.stream_idle_timeout,
                crate::limits::MAX_ERROR_BODY,
                None,
            )
            .await
            {
                Ok(bytes) => bytes,
                Err((failure, message)) => {
                    return failed(failure, format!("HTTP {}: {message}", status.as_u16()));
                }
            };
            // The key goes before a translation quotes only the start of the body.
            let bytes = ctx.scrubber.bytes(bytes);
            ctx.health
                .record_client_error(&ctx.provider.id, Instant::now());
            let (status, headers, bytes) = match mode {
                Mode::Passthrough => {
                    let headers = client_headers(ctx, upstream_headers, mode);
                    (status, headers, bytes)
                }
                Mode::Translate(_) => {
                    let (code, body) = translate::error::from_openai(status.as_u16(), &bytes);
                    let mut headers = client_headers(ctx, HeaderMap::new(), mode);
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    (
                        StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
                        headers,
                        Bytes::from(body),
                    )
                }
            };
            client_error(ctx, status, headers, bytes)
        }
        // A status always comes from the provider: `NotTheProvider` is never a status's.
        Some(classify::Outcome::Failover { .. } | classify::Outcome::NotTheProvider) => {
            let excerpt = read_excerpt(&mut body).await;
            failed(
                Failure::Status {
                    status: status.as_u16(),
                    retry_after,
                },
                describe_status(status, &excerpt),
            )
        }
    }
}

/// `HTTP 529 overloaded_error: Overloaded`, from whatever error body the provider sent.
fn describe_status(status: StatusCode, body: &[u8]) -> String {
    let mut out = format!("HTTP {}", status.as_u16());
    if let Some(detail) = translate::anthropic::ErrorFields::read(body) {
        if let Some(kind) = detail.kind {
            out.push(' ');
            out.push_str(&kind);
        }
        if let Some(message) = detail.message {
            // Whole: the caller removes the key and only then shortens the message.
            out.push_str(": ");
            out.push_str(&message);
        }
    } else if let Some(reason) = status.canonical_reason() {
        out.push(' ');
        out.push_str(reason);
    }
    out
}

/// A non-streaming success: read it whole, translate it if needed.
async fn complete(
    ctx: Context<'_>,
    status: StatusCode,
    mut headers: HeaderMap,
    mut body: BodyStream,
    mode: &Mode,
    attempt_started: Instant,
) -> AttemptOutcome {
    // A token count is generated by no model: all of it comes within `request_timeout`, and
    // one that does not is sent to the next provider.
    let counting = ctx.route == super::Route::CountTokens;
    let (idle, total) = if counting {
        (ctx.settings.request_timeout, ctx.settings.request_timeout)
    } else {
        (ctx.settings.stream_idle_timeout, ctx.whole_answer)
    };
    let bytes = match read_all(
        &mut body,
        idle,
        crate::limits::MAX_WHOLE_ANSWER,
        Some(attempt_started + total),
    )
    .await
    {
        Ok(bytes) => bytes,
        Err((Failure::Timeout(TimeoutPhase::WholeAnswer), _)) if counting => {
            return failed(
                Failure::Timeout(TimeoutPhase::Idle),
                format!("the token count did not arrive within {}s", total.as_secs()),
            );
        }
        Err((Failure::Timeout(TimeoutPhase::WholeAnswer), _)) => {
            return whole_answer_timed_out(total);
        }
        Err((failure, message)) => return failed(failure, message),
    };
    let (bytes, usage) = match mode {
        Mode::Passthrough => {
            let usage = Usage::from_message_body(&bytes);
            (bytes, usage)
        }
        Mode::Translate(_) => {
            match translate::response::from_openai_with_usage(&bytes, ctx.client_model) {
                Ok((body, usage)) => {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    (Bytes::from(body), Usage::reported(&usage))
                }
                // An `error` object in a 200 answer is judged like the same error in a stream:
                // the request's own fault (a prompt too long) goes back to the client, and
                // the provider is blamed only for its own.
                Err(translate::TranslateError::UpstreamError {
                    error_type,
                    message,
                    ..
                }) => {
                    let body = Bytes::from(translate::error::anthropic_error_body(
                        &error_type,
                        &message,
                    ));
                    return rejected(
                        &ctx,
                        Rejection {
                            body,
                            message: format!("error in a 200 answer: {error_type}: {message}"),
                            failure: Failure::StreamError {
                                error_type: Some(error_type),
                            },
                        },
                    );
                }
                Err(error) => {
                    return failed(
                        Failure::InvalidResponse,
                        format!("the response cannot be translated: {error}"),
                    );
                }
            }
        }
    };
    // A provider that answered a streaming request with one JSON body: the client still gets
    // the event stream it asked for. (The translated body was parsed whole already, so one
    // more look at its `stream` flag costs little; pass-through bodies are not scanned.)
    let bytes = if matches!(mode, Mode::Translate(_))
        && scan::top_level_bool(&ctx.request.body, "stream") == Some(true)
    {
        let mut events = Vec::with_capacity(bytes.len() + 1024);
        if let Err(error) = translate::stream::events_from_message(&bytes, &mut events) {
            return failed(
                Failure::InvalidResponse,
                format!("the response cannot be turned into a stream: {error}"),
            );
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        Bytes::from(events)
    } else {
        bytes
    };
    record_success(&ctx, attempt_started);
    let mut log = RequestLog::new(&ctx, status);
    if headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
    {
        log.set_stream();
    }
    answer(
        &ctx,
        status,
        headers,
        AnswerBody::Full(bytes),
        Some((log, usage, "ok")),
    )
}

/// A streaming success: wait for the first content event before committing.
#[allow(clippy::too_many_lines)] // One loop with the commit rule in one place reads best whole.
async fn peek(
    ctx: Context<'_>,
    status: StatusCode,
    mut headers: HeaderMap,
    mut body: BodyStream,
    mut mode: Mode,
    deadline: Instant,
    attempt_started: Instant,
) -> AttemptOutcome {
    if matches!(mode, Mode::Translate(_)) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let mut parser = SseParser::new();
    let mut held: Vec<u8> = Vec::new();
    let mut usage = Usage::default();
    let mut events = 0usize;
    loop {
        // Complete events already parsed come first.
        while let Some(event) = parser.next_event() {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    return failed(
                        Failure::InvalidResponse,
                        format!("malformed event stream: {error}"),
                    );
                }
            };
            events += 1;
            match mode.before_commit(&event, &mut held, &mut usage) {
                Ok(Step::Hold) if held.len() > crate::limits::MAX_HELD_BYTES => {
                    return failed(
                        Failure::TooLarge,
                        format!(
                            "more than {} of events before the first content event",
                            crate::limits::describe_bytes(crate::limits::MAX_HELD_BYTES)
                        ),
                    );
                }
                Ok(Step::Hold) if events >= crate::limits::MAX_EVENTS_BEFORE_COMMIT => {
                    return failed(
                        Failure::TooLarge,
                        format!(
                            "{} events before the first content event",
                            crate::limits::MAX_EVENTS_BEFORE_COMMIT
                        ),
                    );
                }
                Ok(Step::Hold) => {}
                Ok(Step::Commit) => {
                    record_success(&ctx, attempt_started);
                    let mut log = RequestLog::new(&ctx, status);
                    log.set_stream();
                    let stream = AnswerStream::new(
                        Bytes::from(held),
                        body,
                        parser,
                        mode,
                        usage,
                        log,
                        ctx.health.clone(),
                        ctx.generation.clone(),
                        ctx.provider.id.clone(),
                        ctx.settings.stream_idle_timeout,
                    );
                    return answer(&ctx, status, headers, AnswerBody::Stream(stream), None);
                }
                Err(rejection) => return rejected(&ctx, rejection),
            }
        }
        match timeout_at(deadline, body.next()).await {
            Err(_) => {
                return failed(
                    Failure::Timeout(TimeoutPhase::FirstEvent),
                    format!(
                        "no content event within {}s",
                        ctx.settings.request_timeout.as_secs()
                    ),
                );
            }
            Ok(None) => {
                if let Some(Ok(event)) = parser.finish() {
                    if let Err(rejection) = mode.before_commit(&event, &mut held, &mut usage) {
                        return rejected(&ctx, rejection);
                    }
                }
                if let Mode::Translate(translator) = &mut mode {
                    // A complete answer with no content at all is still an answer.
                    if translator.finish(&mut held).is_ok() {
                        let mut log = RequestLog::new(&ctx, status);
                        log.set_stream();
                        let stream = AnswerStream::finished(Bytes::from(held), log);
                        record_success(&ctx, attempt_started);
                        return answer(&ctx, status, headers, AnswerBody::Stream(stream), None);
                    }
                }
                return failed(
                    Failure::StreamEnded,
                    "the stream ended before its first content event",
                );
            }
            Ok(Some(Err(error))) => {
                return failed(
                    Failure::Connect,
                    format!(
                        "the stream broke before its first content event ({})",
                        upstream::error_chain(&*error)
                    ),
                );
            }
            Ok(Some(Ok(chunk))) => parser.push(&chunk),
        }
    }
}

/// Records a success at the commit point. A token count proves little about a provider's
/// Messages path and is much faster, so it neither resets a failure streak nor feeds the
/// latency average.
fn record_success(ctx: &Context<'_>, attempt_started: Instant) {
    if ctx.route == super::Route::Messages {
        ctx.health
            .record_success(&ctx.provider.id, attempt_started.elapsed(), Instant::now());
    }
}

/// An answer from this attempt's provider.
fn answer(
    ctx: &Context<'_>,
    status: StatusCode,
    headers: HeaderMap,
    body: AnswerBody,
    log: PendingLog,
) -> AttemptOutcome {
    AttemptOutcome::Answer(
        Box::new(Answer {
            status,
            headers,
            body,
            provider: ctx.provider.id.clone(),
            failed_attempts: Vec::new(),
            request_id: ctx.request_id.clone(),
            log_line: super::LogLine::default(),
        }),
        log,
    )
}

/// What one event before the commit point does to the attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Not yet at the commit point: the event is held back.
    Hold,
    /// The commit point: the held events go to the client and the stream is committed.
    Commit,
}

/// An error event before the commit point: why, and the Anthropic error body to give the
/// client if the error is the request's own fault.
struct Rejection {
    failure: Failure,
    message: String,
    body: Bytes,
}

/// Fails over, or, when the error event says the request itself is wrong (another provider
/// would refuse it too), answers the client with that error as an HTTP error; nothing has
/// been sent yet, so it can still have its proper status.
fn rejected(ctx: &Context<'_>, rejection: Rejection) -> AttemptOutcome {
    let Rejection {
        failure,
        message,
        body,
    } = rejection;
    let Failure::StreamError {
        error_type: Some(error_type),
    } = &failure
    else {
        return failed(failure, message);
    };
    if classify::failure(&failure) != classify::Outcome::ReturnToClient {
        return failed(failure, message);
    }
    let status = StatusCode::from_u16(translate::error::status_for_error_type(error_type))
        .unwrap_or(StatusCode::BAD_REQUEST);
    ctx.health
        .record_client_error(&ctx.provider.id, Instant::now());
    let mut headers = client_headers(ctx, HeaderMap::new(), &Mode::Passthrough);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    client_error(ctx, status, headers, body)
}

/// An error that is the request's own fault, answered whole with the provider's body: the
/// next provider would refuse it too.
fn client_error(
    ctx: &Context<'_>,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
) -> AttemptOutcome {
    let log = RequestLog::new(ctx, status);
    answer(
        ctx,
        status,
        headers,
        AnswerBody::Full(body),
        Some((log, Usage::default(), "client error")),
    )
}

impl Mode {
    /// Takes one upstream event before the commit point. [`Step::Commit`] means the commit
    /// point has been reached: `held` then holds everything to send first.
    fn before_commit(
        &mut self,
        event: &SseEvent,
        held: &mut Vec<u8>,
        usage: &mut Usage,
    ) -> Result<Step, Rejection> {
        match self {
            Mode::Passthrough => {
                let name = event.event.as_deref().unwrap_or("message");
                if name == "error" {
                    let fields = translate::anthropic::ErrorFields::read(event.data.as_bytes())
                        .unwrap_or_default();
                    return Err(Rejection {
                        message: format!("error event before any content: {}", fields.summary()),
                        failure: Failure::StreamError {
                            error_type: fields.kind,
                        },
                        body: Bytes::copy_from_slice(event.data.as_bytes()),
                    });
                }
                usage.observe(name, &event.data);
                held.extend_from_slice(&event.raw);
                Ok(if is_content_event(name) {
                    Step::Commit
                } else {
                    Step::Hold
                })
            }
            Mode::Translate(translator) => match translator.push(&event.data, held) {
                // A whole answer (`[DONE]` seen) commits even when it has no content at all.
                Ok(()) if translator.committed() || translator.is_ended() => Ok(Step::Commit),
                Ok(()) => Ok(Step::Hold),
                Err(translate::TranslateError::UpstreamError {
                    error_type,
                    message,
                    ..
                }) => Err(Rejection {
                    body: Bytes::from(translate::error::anthropic_error_body(
                        &error_type,
                        &message,
                    )),
                    message: format!("error chunk before any content: {error_type}: {message}"),
                    failure: Failure::StreamError {
                        error_type: Some(error_type),
                    },
                }),
                Err(error @ translate::TranslateError::ToolArgumentsTooLarge { .. }) => {
                    Err(Rejection {
                        failure: Failure::TooLarge,
                        message: error.to_string(),
                        body: Bytes::new(),
                    })
                }
                Err(error) => Err(Rejection {
                    failure: Failure::InvalidResponse,
                    message: format!("the stream cannot be translated: {error}"),
                    body: Bytes::new(),
                }),
            },
        }
    }
}

/// Whether an Anthropic event is at or past the commit point: the first content event.
fn is_content_event(name: &str) -> bool {
    matches!(
        name,
        "content_block_start"
            | "content_block_delta"
            | "content_block_stop"
            | "message_delta"
            | "message_stop"
    )
}

/// Reads a whole body of at most `limit` bytes, failing when the provider goes silent for
/// `idle` or the body is not complete by `deadline`.
async fn read_all(
    body: &mut BodyStream,
    idle: std::time::Duration,
    limit: usize,
    deadline: Option<Instant>,
) -> Result<Bytes, ReadFailure> {
    let mut out = BytesMut::new();
    loop {
        let wait = match deadline {
            Some(deadline) => deadline.min(Instant::now() + idle),
            None => Instant::now() + idle,
        };
        match timeout_at(wait, body.next()).await {
            Err(_) if deadline.is_some_and(|d| Instant::now() >= d) => {
                return Err((
                    Failure::Timeout(TimeoutPhase::WholeAnswer),
                    "the whole answer did not arrive within its deadline".to_owned(),
                ));
            }
            Err(_) => {
                return Err((
                    Failure::InvalidResponse,
                    format!("the response body stalled for {}s", idle.as_secs()),
                ));
            }
            Ok(None) => return Ok(out.freeze()),
            Ok(Some(Err(error))) => {
                return Err((
                    Failure::InvalidResponse,
                    format!(
                        "the response body broke off ({})",
                        upstream::error_chain(&*error)
                    ),
                ));
            }
            Ok(Some(Ok(chunk))) => {
                if out.len() + chunk.len() > limit {
                    return Err((
                        Failure::TooLarge,
                        format!(
                            "the response body is larger than {}, claude-lb's bound",
                            crate::limits::describe_bytes(limit)
                        ),
                    ));
                }
                out.extend_from_slice(&chunk);
            }
        }
    }
}

/// The start of a failed answer's body, for the attempt's message; bounded in size and
/// time so a provider cannot hold up failover.
async fn read_excerpt(body: &mut BodyStream) -> Bytes {
    let mut out = BytesMut::new();
    let deadline = Instant::now() + std::time::Duration::from_secs(2);
    while out.len() < 16 * 1024 {
        match timeout_at(deadline, body.next()).await {
            Ok(Some(Ok(chunk))) => out.extend_from_slice(&chunk),
            _ => break,
        }
    }
    out.freeze()
}
