//! A committed stream: the answer's events from the commit point to the end.
//!
//! [`AnswerStream`] pulls the upstream body only as fast as the client reads, forwards
//! complete events only (so a cut mid-event never leaves half an event on the wire), sends
//! `ping` events while a translated upstream is silent, and ends every stream cleanly:
//! with the upstream's own last event, or with one Anthropic `error` event when the
//! upstream fails after the commit point. Nothing is ever sent after that.

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::StatusCode;
use tokio::time::Instant;

use super::Generation;
use super::context::Context;
use crate::core::classify::{self, Failure, Outcome};
use crate::core::health::HealthTable;
use crate::core::provider::ProviderId;
use crate::sse::SseParser;
use crate::translate;
use crate::translate::stream::OpenAiToAnthropic;
use crate::upstream::{BodyStream, Scrubber};

/// How long a translated upstream may be silent before the client gets a `ping`, so that
/// Claude Code's idle watchdog sees the stream alive (docs/claude-code.md#idle-watchdog).
const PING_INTERVAL: Duration = Duration::from_secs(10);

/// How upstream events become client events.
pub(super) enum Mode {
    /// Anthropic-type: events are forwarded byte for byte.
    Passthrough,
    /// OpenAI-type: chunks are translated into Anthropic events.
    Translate(Box<OpenAiToAnthropic>),
}

impl Mode {
    pub(super) fn translate(client_model: &str, message_id: String) -> Self {
        Self::Translate(Box::new(OpenAiToAnthropic::new(client_model, message_id)))
    }
}

/// Token counts seen in an answer, for the request log, the metrics and the usage ledger.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Usage {
    input: Option<u64>,
    output: Option<u64>,
    cache_read: Option<u64>,
    cache_creation: Option<u64>,
}

#[derive(serde::Deserialize)]
#[expect(
    clippy::struct_field_names,
    reason = "the field names of the Anthropic wire format"
)]
struct UsageFields {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
}

impl Usage {
    /// Reads usage from an Anthropic `message_start` or `message_delta` event. A
    /// `message_delta` carries the final counts of what it names; the others keep the
    /// `message_start` values.
    pub(super) fn observe(&mut self, event: &str, data: &str) {
        #[derive(serde::Deserialize)]
        struct Start {
            message: Option<WithUsage>,
        }
        #[derive(serde::Deserialize)]
        struct WithUsage {
            usage: Option<UsageFields>,
        }
        let fields = match event {
            "message_start" => serde_json::from_str::<Start>(data)
                .ok()
                .and_then(|s| s.message)
                .and_then(|m| m.usage),
            "message_delta" => serde_json::from_str::<WithUsage>(data)
                .ok()
                .and_then(|d| d.usage),
            _ => None,
        };
        if let Some(fields) = fields {
            self.take(&fields);
        }
    }

    fn take(&mut self, fields: &UsageFields) {
        self.input = fields.input_tokens.or(self.input);
        self.output = fields.output_tokens.or(self.output);
        self.cache_read = fields.cache_read_input_tokens.or(self.cache_read);
        self.cache_creation = fields.cache_creation_input_tokens.or(self.cache_creation);
    }

    /// The usage a translated stream reported to the client in its `message_delta`.
    pub(super) fn translated(translator: &OpenAiToAnthropic) -> Self {
        Self::reported(&translator.usage())
    }

    /// The usage a translated answer reports to the client (all four counts, always).
    pub(super) fn reported(usage: &translate::anthropic::Usage) -> Self {
        Self {
            input: Some(usage.input_tokens),
            output: Some(usage.output_tokens),
            cache_read: Some(usage.cache_read_input_tokens),
            cache_creation: Some(usage.cache_creation_input_tokens),
        }
    }

    /// Reads usage from a whole Anthropic Messages response body (where it is the last
    /// member, looked for from the end first).
    pub(super) fn from_message_body(body: &[u8]) -> Self {
        let Some(span) = super::scan::last_top_level_value(body, "usage")
            .or_else(|| super::scan::top_level_value(body, "usage"))
        else {
            return Self::default();
        };
        let mut usage = Self::default();
        if let Ok(fields) = serde_json::from_slice::<UsageFields>(&body[span]) {
            usage.take(&fields);
        }
        usage
    }

    /// The counts as the ledger keeps them (an unreported count is zero).
    pub(super) fn tokens(&self) -> crate::core::price::Tokens {
        crate::core::price::Tokens {
            input: self.input.unwrap_or(0),
            output: self.output.unwrap_or(0),
            cache_read: self.cache_read.unwrap_or(0),
            cache_creation: self.cache_creation.unwrap_or(0),
        }
    }
}

/// Says what a translated stream had to leave out (tool calls that never got a name,
/// reasoning that came after the text had started), so that nothing is lost silently.
fn warn_dropped(provider: &ProviderId, translator: &OpenAiToAnthropic) {
    let (calls, reasoning) = (
        translator.dropped_tool_calls(),
        translator.dropped_reasoning_bytes(),
    );
    if calls > 0 || reasoning > 0 {
        tracing::warn!(
            provider = %provider,
            dropped_tool_calls = calls,
            dropped_reasoning_bytes = reasoning,
            "the provider's stream had parts with no Anthropic equivalent; they were left out"
        );
    }
}

/// The fields of the one log line a request gets, gathered as it goes.
#[derive(Debug)]
pub(super) struct RequestLog {
    request_id: Arc<str>,
    provider: ProviderId,
    /// The client's name; `None` without `clients:`.
    client: Option<Arc<str>>,
    model: Box<str>,
    status: StatusCode,
    started: Instant,
    /// Time to the answer's headers, or to a stream's first content event.
    first: Duration,
    failed_attempts: String,
    attempts: usize,
    metrics: Arc<crate::metrics::Metrics>,
    /// The route that chose the providers, when routing rules exist or the model picked one.
    route: Option<Arc<str>>,
    /// What the usage ledger gets when the request ends.
    ledger: Box<LedgerEntry>,
}

/// The parts of a usage ledger row known when an answer starts.
#[derive(Debug)]
struct LedgerEntry {
    /// Off for token counts, which are not rows.
    recorder: crate::usage::Recorder,
    time_ms: i64,
    upstream_model: Box<str>,
    failed_providers: Vec<String>,
    stream: bool,
    price: Option<crate::core::price::Price>,
}

impl RequestLog {
    pub(super) fn new(ctx: &Context<'_>, status: StatusCode) -> Self {
        Self {
            request_id: ctx.request_id.clone(),
            provider: ctx.provider.id.clone(),
            client: ctx.request.client.as_ref().map(|c| c.name.clone()),
            // The client's words: escaped and cut before they reach a log line.
            model: crate::logging::escape(ctx.client_model, crate::logging::MODEL_LIMIT).into(),
            status,
            started: ctx.started,
            first: ctx.started.elapsed(),
            failed_attempts: String::new(),
            attempts: 1,
            metrics: ctx.metrics.clone(),
            route: ctx.route_label.cloned(),
            ledger: Box::new(LedgerEntry {
                recorder: if ctx.route == super::Route::Messages {
                    ctx.recorder.clone()
                } else {
                    crate::usage::Recorder::off()
                },
                time_ms: ctx.started_ms,
                // A `models` map that passes the client's model on makes it the client's
                // words too: escaped and cut like the model.
                upstream_model: crate::logging::escape(
                    ctx.upstream_model,
                    crate::logging::MODEL_LIMIT,
                )
                .into(),
                failed_providers: Vec::new(),
                stream: false,
                // Looked up only when a row will be written.
                price: if ctx.recorder.is_on() && ctx.route == super::Route::Messages {
                    ctx.prices.price(ctx.provider, ctx.upstream_model)
                } else {
                    None
                },
            }),
        }
    }

    /// Marks the answer as a stream, for the usage ledger.
    pub(super) fn set_stream(&mut self) {
        self.ledger.stream = true;
    }

    /// Adds the attempts that failed before this answer.
    pub(super) fn set_failed(&mut self, failed: &[super::AttemptRecord]) {
        self.attempts = failed.len() + 1;
        self.ledger.failed_providers = failed.iter().map(|a| a.provider.to_string()).collect();
        self.failed_attempts = failed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
    }

    pub(super) fn emit(&self, outcome: &str, usage: &Usage) {
        self.emit_at(outcome, usage, false);
    }

    /// The metrics, the usage row and the log line, the line as a warning when `failed`.
    pub(super) fn emit_at(&self, outcome: &str, usage: &Usage, failed: bool) {
        let total = self.record(usage);
        self.line(outcome, usage, failed, total);
    }

    /// The bookkeeping of an answer written whole: the metrics and the usage row now, the log
    /// line when the returned [`LogLine`] is dropped.
    pub(super) fn finish(self, outcome: &'static str, usage: Usage) -> LogLine {
        let total = self.record(&usage);
        LogLine(Some(Box::new(PendingLine {
            log: self,
            usage,
            outcome,
            total,
        })))
    }

    /// Counts the answer in the metrics and writes its usage row; returns its total time.
    fn record(&self, usage: &Usage) -> Duration {
        let total = self.started.elapsed();
        let tokens = usage.tokens();
        self.metrics.record_answer(
            &self.provider,
            self.client.as_ref(),
            self.status.as_u16(),
            total,
            &tokens,
        );
        if self.ledger.recorder.is_on() {
            let entry = &self.ledger;
            entry.recorder.record(crate::usage::Row {
                time_ms: entry.time_ms,
                // Copied as `str`s: `to_string` on an `Arc<str>` or a `ProviderId` would go
                // through the formatting machinery.
                request_id: String::from(&*self.request_id),
                client: self.client.as_deref().map(str::to_owned),
                route: self.route.as_deref().map(str::to_owned),
                provider: Some(self.provider.as_str().to_owned()),
                failed_providers: entry.failed_providers.clone(),
                model: self.model.to_string(),
                upstream_model: Some(entry.upstream_model.to_string()),
                stream: entry.stream,
                status: self.status.as_u16(),
                tokens,
                first_token_ms: Some(super::millis(self.first)),
                total_ms: super::millis(total),
                cost_usd: entry.price.map(|price| price.cost(&tokens)),
            });
        }
        total
    }

    /// Writes the log line of an answer that took `total`.
    fn line(&self, outcome: &str, usage: &Usage, failed: bool, total: Duration) {
        let failed_attempts = (!self.failed_attempts.is_empty())
            .then(|| crate::logging::escape(&self.failed_attempts, crate::logging::TEXT_LIMIT));
        let line = LineFields {
            request_id: &self.request_id,
            provider: self.provider.as_str(),
            client: self.client.as_deref().unwrap_or("-"),
            model: &self.model,
            route: self.route.as_deref(),
            status: self.status.as_u16(),
            attempts: self.attempts,
            failed_attempts: failed_attempts.as_deref(),
            first_ms: super::millis(self.first),
            latency_ms: super::millis(total),
            input_tokens: usage.input,
            output_tokens: usage.output,
            outcome: &crate::logging::escape(outcome, crate::logging::TEXT_LIMIT),
        };
        // A stream cut after its commit reached the client broken: that is a warning.
        if failed {
            line.emit::<true>();
        } else {
            line.emit::<false>();
        }
    }
}

/// What a request's log line says. The request id and the provider name are written as they
/// are (`%`): they are generated or validated, so they need no escaping. The client's model
/// and the free-text failures keep their quotes, and the failures appear only after a failover.
struct LineFields<'a> {
    request_id: &'a str,
    provider: &'a str,
    client: &'a str,
    /// Escaped and cut already ([`RequestLog::new`]).
    model: &'a str,
    route: Option<&'a str>,
    status: u16,
    attempts: usize,
    failed_attempts: Option<&'a str>,
    first_ms: u64,
    latency_ms: u64,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    /// The message, escaped.
    outcome: &'a str,
}

impl LineFields<'_> {
    /// Writes the line at `WARN` (when `FAILED`) or `INFO`: as plain text straight to the log
    /// when the log writes plain text, or else as a `tracing` event with these fields (JSON,
    /// a terminal's colours), which writes the same text.
    fn emit<const FAILED: bool>(&self) {
        let (level, enabled) = if FAILED {
            (
                tracing::Level::WARN,
                tracing::enabled!(tracing::Level::WARN),
            )
        } else {
            (
                tracing::Level::INFO,
                tracing::enabled!(tracing::Level::INFO),
            )
        };
        if enabled && crate::logging::plain_text() {
            self.plain(level).write();
        } else {
            self.event::<FAILED>();
        }
    }

    /// The line as a `tracing` event.
    fn event<const FAILED: bool>(&self) {
        macro_rules! event {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    request_id = %self.request_id,
                    provider = %self.provider,
                    client = %self.client,
                    model = self.model,
                    route = self.route,
                    status = self.status,
                    attempts = self.attempts,
                    failed_attempts = self.failed_attempts,
                    first_ms = self.first_ms,
                    latency_ms = self.latency_ms,
                    input_tokens = self.input_tokens,
                    output_tokens = self.output_tokens,
                    "{}",
                    self.outcome
                )
            };
        }
        if FAILED {
            event!(tracing::Level::WARN);
        } else {
            event!(tracing::Level::INFO);
        }
    }

    /// The line as plain text, in the order of the event's fields.
    fn plain(&self, level: tracing::Level) -> crate::logging::PlainLine {
        let mut line = crate::logging::PlainLine::new(level, self.outcome);
        line.display("request_id", self.request_id);
        line.display("provider", self.provider);
        line.display("client", self.client);
        line.string("model", self.model);
        if let Some(route) = self.route {
            line.string("route", route);
        }
        line.integer("status", u64::from(self.status));
        line.integer("attempts", u64::try_from(self.attempts).unwrap_or(u64::MAX));
        if let Some(failed) = self.failed_attempts {
            line.string("failed_attempts", failed);
        }
        line.integer("first_ms", self.first_ms);
        line.integer("latency_ms", self.latency_ms);
        if let Some(n) = self.input_tokens {
            line.integer("input_tokens", n);
        }
        if let Some(n) = self.output_tokens {
            line.integer("output_tokens", n);
        }
        line
    }
}

/// The log line of an answer written whole, written when this is dropped.
///
/// The proxy drops it once the connection has written the answer (`proxy::serve`), so the
/// client does not wait for the line's formatting and write. Dropped anywhere else (by a
/// command that dispatches directly, with a response that never reached a connection), the
/// line is written then: it is never lost.
#[derive(Debug, Default)]
#[must_use = "dropping the line writes it"]
pub struct LogLine(Option<Box<PendingLine>>);

#[derive(Debug)]
struct PendingLine {
    log: RequestLog,
    usage: Usage,
    outcome: &'static str,
    total: Duration,
}

impl LogLine {
    /// Whether dropping this writes nothing.
    pub const fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if let Some(pending) = self.0.take() {
            pending
                .log
                .line(pending.outcome, &pending.usage, false, pending.total);
        }
    }
}

/// The rest of a committed streaming answer.
pub struct AnswerStream {
    /// Everything held back until the commit point, sent first.
    first: Option<Bytes>,
    /// `None` once the stream has ended (cleanly or with an error event).
    live: Option<Box<Live>>,
    log: Box<RequestLog>,
    usage: Usage,
    /// Whether the stream reached its end; a stream dropped before that was abandoned by
    /// the client.
    ended: bool,
    /// Removes the provider's key from every chunk (chunks hold whole events, so a key is
    /// never split between two).
    scrubber: Scrubber,
}

impl std::fmt::Debug for AnswerStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerStream")
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

struct Live {
    upstream: BodyStream,
    parser: SseParser,
    mode: Mode,
    health: Arc<HealthTable>,
    generation: Arc<Generation>,
    provider: ProviderId,
    idle_timeout: Duration,
    /// When the upstream last sent a whole event (comments do not count);
    /// `stream_idle_timeout` counts from here.
    last_data: Instant,
    /// When the client last heard from the stream: the last events written to it, or the
    /// last ping of a translated stream.
    last_sign: Instant,
    /// Fires a tick after `last_sign`. Armed once and moved on only when it fires (an event
    /// just sets `last_data`), so an event costs no timer of its own.
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
    /// Removes the provider's key from the failure messages of the log and `/providers`.
    scrubber: Scrubber,
}

impl AnswerStream {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        first: Bytes,
        upstream: BodyStream,
        parser: SseParser,
        mode: Mode,
        usage: Usage,
        log: RequestLog,
        health: Arc<HealthTable>,
        generation: Arc<Generation>,
        provider: ProviderId,
        idle_timeout: Duration,
    ) -> Self {
        let now = Instant::now();
        let tick = Live::tick(&mode, idle_timeout);
        Self {
            first: Some(first),
            live: Some(Box::new(Live {
                upstream,
                parser,
                mode,
                health,
                generation,
                provider,
                idle_timeout,
                last_data: now,
                last_sign: now,
                timer: Box::pin(tokio::time::sleep_until(now + tick)),
                scrubber: Scrubber::default(),
            })),
            log: Box::new(log),
            usage,
            ended: false,
            scrubber: Scrubber::default(),
        }
    }

    /// A stream whose every byte is already known.
    pub(super) fn finished(all: Bytes, log: RequestLog) -> Self {
        Self {
            first: Some(all),
            live: None,
            log: Box::new(log),
            usage: Usage::default(),
            ended: false,
            scrubber: Scrubber::default(),
        }
    }

    /// Removes this provider's key from everything the stream says from now on.
    pub(super) fn set_scrubber(&mut self, scrubber: Scrubber) {
        if let Some(live) = self.live.as_mut() {
            live.scrubber = scrubber.clone();
        }
        self.scrubber = scrubber;
    }

    pub(super) fn set_failed(&mut self, failed: &[super::AttemptRecord]) {
        self.log.set_failed(failed);
    }

    /// The next bytes for the client, or `None` at the end of the stream.
    pub async fn next_chunk(&mut self) -> Option<Bytes> {
        std::future::poll_fn(|cx| self.poll_next_chunk(cx)).await
    }

    /// [`AnswerStream::next_chunk`] as a poll: the proxy's response body polls this directly,
    /// with no future or stream adapter between the connection and the upstream's body.
    fn poll_next_chunk(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Option<Bytes>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(self.scrubber.bytes(first)));
        }
        let Some(live) = self.live.as_mut() else {
            if !self.ended {
                self.ended = true;
                self.log.emit("ok", &self.usage);
            }
            return Poll::Ready(None);
        };
        let mut out = Vec::new();
        let Poll::Ready(end) = live.poll_fill(cx, &mut out, &mut self.usage) else {
            return Poll::Pending;
        };
        if let Some(end) = end {
            self.live = None;
            self.ended = true;
            match end {
                End::Clean => self.log.emit("ok", &self.usage),
                End::Failed(message) => {
                    self.log.emit_at(
                        &format!("stream failed after commit: {message}"),
                        &self.usage,
                        true,
                    );
                }
            }
        }
        Poll::Ready(if out.is_empty() {
            None
        } else {
            self.scrubber.vec(&mut out);
            Some(Bytes::from(out))
        })
    }
}

/// The stream as the body of a response: each chunk one data frame.
impl hyper::body::Body for AnswerStream {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        self.get_mut()
            .poll_next_chunk(cx)
            .map(|chunk| chunk.map(|bytes| Ok(hyper::body::Frame::data(bytes))))
    }
}

impl Drop for AnswerStream {
    fn drop(&mut self) {
        if !self.ended {
            self.log
                .emit("client closed the stream before its end", &self.usage);
        }
    }
}

enum End {
    Clean,
    Failed(String),
}

impl Live {
    /// How long the stream may be silent before the timer looks at it: the idle timeout for
    /// a passthrough stream; for a translated one, the ping interval, at least twice per idle
    /// period, so that a stall is seen on time even when pings are going out.
    fn tick(mode: &Mode, idle_timeout: Duration) -> Duration {
        match mode {
            Mode::Passthrough => idle_timeout,
            Mode::Translate(_) => PING_INTERVAL.min(idle_timeout / 2),
        }
    }

    /// Appends the next complete events to `out`; ready with how the stream ended, if it did,
    /// once `out` holds something or the stream has ended. Pending only with `out` empty.
    fn poll_fill(
        &mut self,
        cx: &mut std::task::Context<'_>,
        out: &mut Vec<u8>,
        usage: &mut Usage,
    ) -> Poll<Option<End>> {
        let tick = Self::tick(&self.mode, self.idle_timeout);
        loop {
            while let Some(event) = self.parser.next_event() {
                let end = match event {
                    Ok(event) => {
                        self.last_data = Instant::now();
                        self.take(&event, false, out, usage)
                    }
                    Err(error) => Some(self.fail(
                        out,
                        &format!("the provider sent a malformed event stream: {error}"),
                    )),
                };
                if end.is_some() {
                    return Poll::Ready(end);
                }
            }
            if !out.is_empty() {
                // What the client gets is what tells it the stream is alive.
                self.last_sign = self.last_data;
                return Poll::Ready(None);
            }
            let next = match self.upstream.poll_next_unpin(cx) {
                Poll::Ready(next) => next,
                Poll::Pending => {
                    if self.timer.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    let now = Instant::now();
                    // Silence is measured from the last event received, across calls: the
                    // pings sent meanwhile do not reset it, nor do comments (`: keep-alive`),
                    // which an endless provider could send for ever.
                    if now.duration_since(self.last_data) >= self.idle_timeout {
                        let message = format!(
                            "the provider sent nothing for {}s mid-stream",
                            self.idle_timeout.as_secs()
                        );
                        return Poll::Ready(Some(self.fail(out, &message)));
                    }
                    if now.duration_since(self.last_sign) < tick {
                        // The client got events since the timer was armed: it moves to a tick
                        // after them.
                        self.timer.as_mut().reset(self.last_sign + tick);
                        continue;
                    }
                    self.last_sign = now;
                    self.timer.as_mut().reset(now + tick);
                    if matches!(self.mode, Mode::Translate(_)) {
                        OpenAiToAnthropic::write_ping(out);
                        return Poll::Ready(None);
                    }
                    continue;
                }
            };
            match next {
                None => {
                    if let Some(Ok(event)) = self.parser.finish() {
                        // A last event without its blank line: treat it as complete.
                        if let Some(end) = self.take(&event, true, out, usage) {
                            return Poll::Ready(Some(end));
                        }
                    }
                    return Poll::Ready(Some(match &mut self.mode {
                        Mode::Passthrough => {
                            self.fail(out, "the provider's stream ended before message_stop")
                        }
                        Mode::Translate(translator) => match translator.finish(out) {
                            Ok(()) => {
                                *usage = Usage::translated(translator);
                                warn_dropped(&self.provider, translator);
                                End::Clean
                            }
                            Err(error) => {
                                let message = format!("the provider's stream ended early: {error}");
                                self.fail(out, &message)
                            }
                        },
                    }));
                }
                Some(Err(error)) => {
                    let message = format!(
                        "the provider's stream broke off ({})",
                        crate::upstream::error_chain(&*error)
                    );
                    return Poll::Ready(Some(self.fail(out, &message)));
                }
                Some(Ok(chunk)) => self.parser.push(&chunk),
            }
        }
    }

    /// Takes one complete upstream event; returns how the stream ended, if this ended it.
    /// `unterminated` marks a last event that came without its blank line.
    fn take(
        &mut self,
        event: &crate::sse::SseEvent,
        unterminated: bool,
        out: &mut Vec<u8>,
        usage: &mut Usage,
    ) -> Option<End> {
        match &mut self.mode {
            Mode::Passthrough => {
                let name = event.event.as_deref().unwrap_or("message");
                usage.observe(name, &event.data);
                out.extend_from_slice(&event.raw);
                if unterminated {
                    out.extend_from_slice(b"\n\n");
                }
                match name {
                    "message_stop" => Some(End::Clean),
                    "error" => {
                        // The provider's own error event ends the stream; nothing follows it.
                        let fields = translate::anthropic::ErrorFields::read(event.data.as_bytes())
                            .unwrap_or_default();
                        let message =
                            self.words(format!("error event mid-stream: {}", fields.summary()));
                        self.blame(fields.kind.as_deref(), &message);
                        Some(End::Failed(message))
                    }
                    _ => None,
                }
            }
            Mode::Translate(translator) => {
                match translator.push(&event.data, out) {
                    Ok(()) => {}
                    // The provider's own error chunk: the client gets its type and words.
                    Err(translate::TranslateError::UpstreamError {
                        error_type,
                        message,
                        ..
                    }) => return Some(self.fail_as(out, &error_type, &message)),
                    Err(error) => {
                        let message = format!("the provider's stream failed: {error}");
                        return Some(self.fail(out, &message));
                    }
                }
                // `[DONE]` (or a finish chunk with usage) wrote `message_stop`: the answer is
                // whole, whatever the connection does next.
                if translator.is_ended() {
                    *usage = Usage::translated(translator);
                    warn_dropped(&self.provider, translator);
                    return Some(End::Clean);
                }
                None
            }
        }
    }

    /// Ends the stream with one Anthropic `error` event and blames the provider.
    fn fail(&mut self, out: &mut Vec<u8>, message: &str) -> End {
        self.fail_as(out, translate::anthropic::ErrorType::Api.as_str(), message)
    }

    /// Ends the stream with one Anthropic `error` event of type `error_type`; blames the
    /// provider unless the type says the request was at fault (a prompt too long).
    fn fail_as(&mut self, out: &mut Vec<u8>, error_type: &str, message: &str) -> End {
        let message = &self.words(message.to_owned());
        match &mut self.mode {
            Mode::Passthrough => {
                let body = translate::error::anthropic_error_body(error_type, message);
                crate::sse::write_event(out, "error", &String::from_utf8_lossy(&body));
            }
            Mode::Translate(translator) => translator.write_error(error_type, message, out),
        }
        self.blame(Some(error_type), message);
        End::Failed(message.to_owned())
    }

    /// A failure message as the log and `/providers` may show it: without the key, then cut.
    fn words(&self, message: String) -> String {
        super::clip_message(&self.scrubber.text(message))
    }

    /// Cools the provider down as an error of type `error_type` before the commit point would
    /// (a rate limit as a rate limit, a refused key as one), unless the type says the request
    /// was at fault.
    fn blame(&self, error_type: Option<&str>, message: &str) {
        let failure = Failure::StreamError {
            error_type: error_type.map(str::to_owned),
        };
        let cooldown = match classify::failure(&failure) {
            Outcome::Failover { cooldown } => cooldown,
            Outcome::ReturnToClient | Outcome::NotTheProvider => return,
        };
        self.health.record_failure(
            &self.provider,
            &cooldown,
            message,
            &self.generation.policy,
            Instant::now(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_request_line_is_what_its_event_writes() {
        let all = LineFields {
            request_id: "req_0123456789abcdef",
            provider: "fast-1",
            client: "ci.bot",
            model: "claude \"x\" \\n é",
            route: Some("opus to the pool"),
            status: 529,
            attempts: 3,
            failed_attempts: Some("a: 529 overloaded; b: connect failed \"refused\""),
            first_ms: 0,
            latency_ms: 18_446_744_073_709_551_615,
            input_tokens: Some(30),
            output_tokens: Some(0),
            outcome: "failed over \\x1b é",
        };
        let fewest = LineFields {
            request_id: "req_1",
            provider: "p",
            client: "-",
            model: "claude-opus-5-5",
            route: None,
            status: 200,
            attempts: 1,
            failed_attempts: None,
            first_ms: 12,
            latency_ms: 340,
            input_tokens: None,
            output_tokens: None,
            outcome: "ok",
        };
        for fields in [&all, &fewest] {
            for failed in [false, true] {
                let traced = crate::logging::capture(|| {
                    if failed {
                        fields.event::<true>();
                    } else {
                        fields.event::<false>();
                    }
                });
                let level = if failed {
                    tracing::Level::WARN
                } else {
                    tracing::Level::INFO
                };
                let plain = fields.plain(level).finish();
                // Both start with the time (`2026-12-07T04:26:48.203872Z`), which differs.
                let time = "2026-12-07T04:26:48.203872Z".len();
                assert_eq!(plain.get(time..), traced.get(time..), "{traced}");
                assert_eq!(traced.lines().count(), 1, "{traced}");
            }
        }
    }

    #[test]
    fn a_translated_answer_reports_the_usage_its_body_says() {
        for upstream in [
            r#"{"id":"c","choices":[{"message":{"content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":10}}}"#,
            r#"{"choices":[{"message":{"content":"hi"}}]}"#,
        ] {
            let (body, usage) =
                translate::response::from_openai_with_usage(upstream.as_bytes(), "m").unwrap();
            assert_eq!(
                Usage::reported(&usage),
                Usage::from_message_body(&body),
                "{upstream}"
            );
        }
        let (_, usage) = translate::response::from_openai_with_usage(
            br#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":30,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":10}}}"#,
            "m",
        )
        .unwrap();
        assert_eq!(Usage::reported(&usage).tokens().output, 5);
    }
}
