//! `claude-lb test`: one real Messages request through the pool, shown as it streams.
//!
//! Without `--remote`, the request goes through a [`Dispatcher`] built from the loaded config,
//! the very `Dispatcher::send` that `serve` runs, so a passing `test` means the proxy path
//! works, failover included; `--provider NAME` builds it from the config with only that
//! provider enabled. With `--remote URL`, the request goes to a running `claude-lb serve`
//! (`POST {URL}/v1/messages`), which names the provider that served it in its
//! `x-claude-lb-provider` header.
//!
//! The answer's text is printed on stdout as it arrives, then a footer: the provider that
//! served it, every failed attempt and why, the time to the first token and in all, the token
//! usage and the stop reason. `--json` prints one JSON document instead. Exit 0 on an answer,
//! 1 when every provider failed, the answer was an error, or the stream broke.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use indicatif::ProgressBar;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::cli::{GlobalArgs, TestArgs};
use crate::commands::ExitStatus;
use crate::commands::check::{load_config, named_provider};
use crate::config::{Config, LogLevel};
use crate::core::num::millis;
use crate::dispatch::{AnswerBody, ClientRequest, DispatchError, Dispatcher};
use crate::sse::{SseEvent, SseParser};
use crate::translate::accumulate::{AccumulateError, Accumulator};
use crate::ui::Printer;
use crate::ui::progress::Spinners;
use crate::upstream::{Upstream, remote};

/// The client model asked for when `--model` is not given and the pool serves it.
pub const DEFAULT_TEST_MODEL: &str = crate::models::CLAUDE_SONNET;

/// The answer's length limit: enough for a short answer, cheap on a paid provider.
const MAX_TOKENS: u32 = 256;

/// The largest non-streaming answer read from a remote instance.
const REMOTE_LIMIT: usize = 16 * 1024 * 1024;

/// `claude-lb test` from the command line.
pub fn run_cli(
    global: &GlobalArgs,
    args: &TestArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    // The footer reports every failed attempt itself; the dispatcher's own warning about a
    // failed request would say it twice. `-v` brings it back.
    crate::logging::set_config_level(LogLevel::Error);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    if let Some(url) = &args.remote {
        let base = remote::instance_url(url).map_err(anyhow::Error::msg)?;
        let model = args
            .model
            .clone()
            .unwrap_or_else(|| DEFAULT_TEST_MODEL.to_owned());
        let session = Session::new(args, model, printer);
        return runtime.block_on(session.run_remote(&remote::join(&base, "/v1/messages")));
    }
    let mut config = load_config(global, *printer)?.config;
    if let Some(name) = &args.provider {
        if let Err(refusal) = named_provider(&config, name) {
            return Ok(refusal.report(*printer));
        }
        for provider in &mut config.providers {
            provider.enabled = provider.id.as_str() == name;
        }
    }
    let model = args.model.clone().unwrap_or_else(|| default_model(&config));
    let session = Session::new(args, model, printer);
    runtime.block_on(session.run_local(config))
}

/// [`DEFAULT_TEST_MODEL`] when an enabled provider serves it, else the first model an enabled
/// provider's `models` map names literally, else [`DEFAULT_TEST_MODEL`] (and the dispatcher
/// then says that no provider serves it).
pub fn default_model(config: &Config) -> String {
    let enabled = || config.providers.iter().filter(|p| p.enabled);
    if enabled().any(|p| p.models.map(DEFAULT_TEST_MODEL).is_some()) {
        return DEFAULT_TEST_MODEL.to_owned();
    }
    enabled()
        .flat_map(|p| p.models.entries().iter())
        .map(|(pattern, _)| pattern.as_str())
        .find(|pattern| !pattern.contains('*'))
        .unwrap_or(DEFAULT_TEST_MODEL)
        .to_owned()
}

/// The failed attempts a running instance reports with an answer (`None` for an instance
/// that does not say).
fn remote_attempts(headers: &http::HeaderMap) -> Option<Vec<Attempt>> {
    headers.get("x-claude-lb-provider")?;
    let Some(value) = headers.get(crate::proxy::response::FAILED_ATTEMPTS_HEADER) else {
        return Some(Vec::new());
    };
    let list: Vec<Value> = serde_json::from_slice(value.as_bytes()).ok()?;
    Some(
        list.iter()
            .map(|item| Attempt {
                provider: item["provider"].as_str().unwrap_or("?").to_owned(),
                error: item["error"].as_str().unwrap_or("").to_owned(),
            })
            .collect(),
    )
}

/// One failed attempt, as the footer and `--json` show it.
#[derive(Debug)]
struct Attempt {
    provider: String,
    error: String,
}

/// One run of the command: what was asked, and how to show it.
struct Session<'a> {
    prompt: String,
    model: String,
    stream: bool,
    json: bool,
    remote: Option<String>,
    /// Sent as `x-api-key` through a remote instance with `clients:`.
    client_key: Option<String>,
    printer: &'a Printer,
    spinners: Spinners,
}

impl<'a> Session<'a> {
    fn new(args: &TestArgs, model: String, printer: &'a Printer) -> Self {
        Self {
            prompt: args.prompt.clone(),
            model,
            stream: !args.no_stream,
            json: args.json,
            remote: args.remote.clone(),
            client_key: args.client_key.clone(),
            printer,
            spinners: Spinners::new(printer.is_quiet()),
        }
    }

    fn body(&self) -> Bytes {
        Bytes::from(
            json!({
                "model": self.model,
                "max_tokens": MAX_TOKENS,
                "stream": self.stream,
                "messages": [{"role": "user", "content": self.prompt}],
            })
            .to_string(),
        )
    }

    fn headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("claude-lb/", env!("CARGO_PKG_VERSION"), " (test)")),
        );
        headers
    }

    /// Through the pool, with the dispatcher `serve` uses.
    async fn run_local(self, config: Config) -> anyhow::Result<ExitStatus> {
        let dispatcher = Dispatcher::new(config, Upstream::new(&crate::env::process)?);
        let bar = self.spinners.add(format!("asking for {}", self.model));
        let started = Instant::now();
        let request = ClientRequest {
            path_and_query: "/v1/messages".to_owned(),
            headers: Self::headers(),
            body: self.body(),
            client: None,
        };
        let mut answer = match dispatcher.send(request).await {
            Ok(answer) => answer,
            Err(error) => {
                bar.finish_and_clear();
                return self.all_failed(&error);
            }
        };
        // The request's log line (at `info`, shown with `-vv`) comes before the transcript.
        drop(std::mem::take(&mut answer.log_line));
        let mut transcript = Transcript::new(started);
        transcript.provider = Some(answer.provider.to_string());
        transcript.attempts = Some(
            answer
                .failed_attempts
                .iter()
                .map(|a| Attempt {
                    provider: a.provider.to_string(),
                    error: a.message.clone(),
                })
                .collect(),
        );
        bar.set_message(format!("{} is answering", answer.provider));
        if !answer.status.is_success() {
            let body = match answer.body {
                AnswerBody::Full(bytes) => bytes,
                AnswerBody::Stream(_) => Bytes::new(),
            };
            bar.finish_and_clear();
            transcript.refused(answer.status.as_u16(), &body);
            return self.finish(&transcript);
        }
        match answer.body {
            AnswerBody::Full(bytes) => {
                transcript.whole(&bytes);
                bar.finish_and_clear();
            }
            AnswerBody::Stream(mut stream) => {
                let mut bar = Some(bar);
                while let Some(chunk) = stream.next_chunk().await {
                    let text = transcript.push(&chunk);
                    self.show(&text, &mut bar)?;
                }
                transcript.end();
                if let Some(bar) = bar {
                    bar.finish_and_clear();
                }
            }
        }
        self.finish(&transcript)
    }

    /// Through a running instance.
    async fn run_remote(self, url: &str) -> anyhow::Result<ExitStatus> {
        let upstream = Upstream::new(&crate::env::process)?;
        let bar = self
            .spinners
            .add(format!("asking {url} for {}", self.model));
        let started = Instant::now();
        let mut headers = Self::headers();
        if let Some(key) = &self.client_key {
            let mut value = http::HeaderValue::from_str(key).map_err(|_| {
                anyhow::anyhow!("the client key has characters that cannot be sent in a header")
            })?;
            value.set_sensitive(true);
            headers.insert("x-api-key", value);
        }
        let mut response = match remote::post(&upstream, url.to_owned(), headers, self.body()).await
        {
            Ok(response) => response,
            Err(error) => {
                bar.finish_and_clear();
                anyhow::bail!(
                    "cannot reach claude-lb at {url}: {error}; is `claude-lb serve` running there?"
                );
            }
        };
        let mut transcript = Transcript::new(started);
        transcript.provider = response
            .headers
            .get("x-claude-lb-provider")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        transcript.attempts = remote_attempts(&response.headers);
        let is_stream = response
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !response.status.is_success() || !is_stream {
            let status = response.status.as_u16();
            let body = response.collect(REMOTE_LIMIT).await;
            bar.finish_and_clear();
            let body = body.with_context(|| format!("reading the answer of {url}"))?;
            if (200..300).contains(&status) {
                transcript.whole(&body);
            } else {
                transcript.refused(status, &body);
            }
            return self.finish(&transcript);
        }
        let mut bar = Some(bar);
        loop {
            match response.next_chunk().await {
                Ok(Some(chunk)) => {
                    let text = transcript.push(&chunk);
                    self.show(&text, &mut bar)?;
                }
                Ok(None) => break,
                Err(error) => {
                    transcript.error = Some(format!("the stream broke off: {error}"));
                    break;
                }
            }
        }
        transcript.end();
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        self.finish(&transcript)
    }

    /// Prints streamed text as it arrives (not with `--json`), clearing the spinner first.
    fn show(&self, text: &str, bar: &mut Option<ProgressBar>) -> anyhow::Result<()> {
        if text.is_empty() || self.json {
            return Ok(());
        }
        if let Some(bar) = bar.take() {
            bar.finish_and_clear();
        }
        self.printer
            .bytes(text.as_bytes())
            .context("writing the answer")
    }

    /// Every provider failed (or none serves the model).
    fn all_failed(&self, error: &DispatchError) -> anyhow::Result<ExitStatus> {
        let message = failure_message(error);
        if self.json {
            let attempts: Vec<Value> = match error {
                DispatchError::AllProvidersFailed { attempts, .. }
                | DispatchError::AnswerTimedOut { attempts, .. } => attempts
                    .iter()
                    .map(|a| json!({"provider": a.provider.as_str(), "error": a.message}))
                    .collect(),
                _ => Vec::new(),
            };
            let document = json!({
                "ok": false,
                "provider": null,
                "model": self.model,
                "attempts": attempts,
                "error": message,
            });
            self.printer
                .line(serde_json::to_string_pretty(&document)?)
                .context("writing the report")?;
        }
        self.printer.error(message);
        Ok(ExitStatus::Failure)
    }

    /// Prints the footer (or the JSON document) and gives the exit status.
    fn finish(&self, transcript: &Transcript) -> anyhow::Result<ExitStatus> {
        let total = transcript.started.elapsed();
        let status = if transcript.error.is_none() {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        };
        if self.json {
            let document = transcript.json(self, total);
            self.printer
                .line(serde_json::to_string_pretty(&document)?)
                .context("writing the report")?;
        } else {
            let mut out = String::new();
            if !self.stream && !transcript.text.is_empty() {
                out.push_str(&transcript.text);
            }
            if !transcript.text.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&transcript.footer(self, total));
            self.printer
                .bytes(out.as_bytes())
                .context("writing the report")?;
        }
        if let Some(error) = &transcript.error {
            self.printer.error(error);
        }
        Ok(status)
    }
}

/// What the answer said, gathered as it arrives.
#[derive(Debug)]
struct Transcript {
    started: Instant,
    parser: SseParser,
    /// The streamed message, put together event by event.
    stream: Accumulator,
    /// The provider that served the answer (unknown when a remote instance did not say).
    provider: Option<String>,
    /// The failed attempts before the answer (`None` when a remote instance does not say).
    attempts: Option<Vec<Attempt>>,
    text: String,
    stop_reason: Option<String>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    /// Time to the first content event of a stream, or to a whole answer.
    first_token: Option<Duration>,
    /// What went wrong: an error answer, an `error` event, a broken stream.
    error: Option<String>,
    /// The answer's HTTP status when it was an error.
    http_status: Option<u16>,
}

impl Transcript {
    fn new(started: Instant) -> Self {
        Self {
            started,
            parser: SseParser::new(),
            stream: Accumulator::new(),
            provider: None,
            attempts: None,
            text: String::new(),
            stop_reason: None,
            input_tokens: None,
            output_tokens: None,
            first_token: None,
            error: None,
            http_status: None,
        }
    }

    /// Takes one chunk of an Anthropic event stream; returns the new answer text in it.
    fn push(&mut self, chunk: &[u8]) -> String {
        self.parser.push(chunk);
        let mut new_text = String::new();
        while let Some(event) = self.parser.next_event() {
            let Ok(event) = event else {
                continue;
            };
            self.event(&event, &mut new_text);
        }
        self.text.push_str(&new_text);
        new_text
    }

    fn event(&mut self, event: &SseEvent, new_text: &mut String) {
        match self.stream.push(event.event.as_deref(), &event.data) {
            Ok(pushed) => {
                if pushed.first_content {
                    self.first_token = Some(self.started.elapsed());
                }
                new_text.push_str(&pushed.text);
            }
            Err(error) => {
                if self.error.is_none() {
                    self.error = Some(match error {
                        AccumulateError::ErrorEvent { body, .. } => format!(
                            "the stream failed after it started: {}",
                            serde_json::from_str::<Value>(&body)
                                .map_or_else(|_| body.clone(), |value| error_text(&value))
                        ),
                        other => format!("the answer is not a valid Anthropic stream: {other}"),
                    });
                }
            }
        }
        let message = self.stream.message();
        if message.stop_reason.is_some() {
            self.stop_reason.clone_from(&message.stop_reason);
        }
        if message.usage.input_tokens.is_some() {
            self.input_tokens = message.usage.input_tokens;
        }
        if message.usage.output_tokens.is_some() {
            self.output_tokens = message.usage.output_tokens;
        }
    }

    /// The stream ended: one without `message_stop` (or an error event) was cut short.
    fn end(&mut self) {
        if let Some(Ok(event)) = self.parser.finish() {
            let mut new_text = String::new();
            self.event(&event, &mut new_text);
            self.text.push_str(&new_text);
        }
        if !self.stream.stopped() && self.error.is_none() {
            self.error = Some("the stream ended before `message_stop`".to_owned());
        }
    }

    /// A whole (non-streaming) Messages answer.
    fn whole(&mut self, body: &[u8]) {
        self.first_token = Some(self.started.elapsed());
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            self.error = Some(format!(
                "the answer is not JSON: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ));
            return;
        };
        if value.get("type").and_then(Value::as_str) != Some("message") {
            self.error = Some(format!(
                "the answer is not a message: {}",
                error_text(&value)
            ));
            return;
        }
        if let Some(blocks) = value.get("content").and_then(Value::as_array) {
            for block in blocks {
                if let Some(text) = block.get("text").and_then(Value::as_str) {
                    self.text.push_str(text);
                }
            }
        }
        self.stop_reason = value
            .get("stop_reason")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(usage) = value.get("usage") {
            self.input_tokens = usage.get("input_tokens").and_then(Value::as_u64);
            self.output_tokens = usage.get("output_tokens").and_then(Value::as_u64);
        }
    }

    /// An error answer (a status the client would get).
    fn refused(&mut self, status: u16, body: &[u8]) {
        self.http_status = Some(status);
        let text = serde_json::from_slice::<Value>(body).map_or_else(
            |_| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
            |value| error_text(&value),
        );
        let who = self.provider.as_deref().unwrap_or("the instance");
        self.error = Some(format!("{who} answered HTTP {status}: {text}"));
    }

    fn footer(&self, session: &Session<'_>, total: Duration) -> String {
        let mut out = String::new();
        let provider = self.provider.as_deref().unwrap_or("(not reported)");
        let _ = writeln!(out, "provider  {provider}");
        match &self.attempts {
            None => {
                let _ = writeln!(
                    out,
                    "attempts  not reported by a remote instance (its log lists them)"
                );
            }
            Some(attempts) => {
                let _ = write!(
                    out,
                    "attempts  {}",
                    crate::config::plural(attempts.len() + 1, "attempt")
                );
                for attempt in attempts {
                    let _ = write!(
                        out,
                        "\n          {} failed: {}",
                        attempt.provider, attempt.error
                    );
                }
                let verdict = if self.error.is_some() {
                    "answered with an error"
                } else {
                    "answered"
                };
                let _ = writeln!(out, "\n          {provider} {verdict}");
            }
        }
        let _ = writeln!(
            out,
            "model     {}{}",
            session.model,
            session
                .remote
                .as_deref()
                .map(|url| format!(" (through {url})"))
                .unwrap_or_default()
        );
        let first = self
            .first_token
            .map_or_else(|| "-".to_owned(), |d| format!("{} ms", millis(d)));
        let label = if session.stream {
            "first token"
        } else {
            "answer"
        };
        let _ = writeln!(
            out,
            "time      {label} after {first}, {} ms in all",
            millis(total)
        );
        let tokens = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
        let _ = writeln!(
            out,
            "tokens    {} in, {} out",
            tokens(self.input_tokens),
            tokens(self.output_tokens)
        );
        if let Some(reason) = &self.stop_reason {
            let _ = writeln!(out, "stop      {reason}");
        }
        out
    }

    fn json(&self, session: &Session<'_>, total: Duration) -> Value {
        let attempts: Option<Vec<Value>> = self.attempts.as_ref().map(|list| {
            list.iter()
                .map(|a| json!({"provider": a.provider, "error": a.error}))
                .collect()
        });
        json!({
            "ok": self.error.is_none(),
            "provider": self.provider,
            "attempts": attempts,
            "model": session.model,
            "stream": session.stream,
            "remote": session.remote,
            "text": self.text,
            "stop_reason": self.stop_reason,
            "usage": {
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
            },
            "ttft_ms": self.first_token.map(millis),
            "total_ms": millis(total),
            "http_status": self.http_status,
            "error": self.error,
        })
    }
}

/// The dispatcher's message, without the cooldowns it mentions: they belong to this
/// command's own short-lived dispatcher, not to a running `serve`.
fn failure_message(error: &DispatchError) -> String {
    match error {
        DispatchError::AllProvidersFailed { attempts, .. } => {
            let list: Vec<String> = attempts
                .iter()
                .map(|a| format!("{}: {}", a.provider, a.message))
                .collect();
            format!(
                "all {} failed: {}",
                crate::config::plural(attempts.len(), "provider"),
                list.join("; ")
            )
        }
        other => other.to_string(),
    }
}

/// `type: message` of an Anthropic error body or event.
fn error_text(value: &Value) -> String {
    let kind = value.pointer("/error/type").and_then(Value::as_str);
    let message = value.pointer("/error/message").and_then(Value::as_str);
    match (kind, message) {
        (Some(kind), Some(message)) => format!("{kind}: {message}"),
        (None, Some(message)) => message.to_owned(),
        (Some(kind), None) => kind.to_owned(),
        (None, None) => value.to_string().chars().take(300).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript_of(events: &[(&str, &str)]) -> Transcript {
        let mut t = Transcript::new(Instant::now());
        let mut stream = String::new();
        for (name, data) in events {
            let _ = write!(stream, "event: {name}\ndata: {data}\n\n");
        }
        // Split mid-event to exercise the incremental parser.
        let (a, b) = stream.split_at(stream.len() / 2);
        let mut text = t.push(a.as_bytes());
        text.push_str(&t.push(b.as_bytes()));
        t.end();
        assert_eq!(text, t.text);
        t
    }

    #[test]
    fn a_stream_gives_text_usage_and_stop_reason() {
        let t = transcript_of(&[
            (
                "message_start",
                r#"{"type":"message_start","message":{"usage":{"input_tokens":12,"output_tokens":1}}}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there."}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":0}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}"#,
            ),
            ("message_stop", r#"{"type":"message_stop"}"#),
        ]);
        assert_eq!(t.text, "Hello there.");
        assert_eq!(t.stop_reason.as_deref(), Some("end_turn"));
        assert_eq!((t.input_tokens, t.output_tokens), (Some(12), Some(3)));
        assert!(t.first_token.is_some());
        assert_eq!(t.error, None);
    }

    #[test]
    fn an_error_event_or_a_cut_stream_is_an_error() {
        let t = transcript_of(&[
            ("message_start", r#"{"type":"message_start","message":{}}"#),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            ),
            (
                "error",
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ),
        ]);
        assert_eq!(
            t.error.as_deref(),
            Some("the stream failed after it started: overloaded_error: Overloaded")
        );
        let t = transcript_of(&[
            ("message_start", r#"{"type":"message_start","message":{}}"#),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            ),
        ]);
        assert_eq!(t.text, "Hi");
        assert_eq!(
            t.error.as_deref(),
            Some("the stream ended before `message_stop`")
        );
    }

    #[test]
    fn a_stream_out_of_order_is_an_error() {
        let t = transcript_of(&[
            ("message_start", r#"{"type":"message_start","message":{}}"#),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            ),
        ]);
        assert_eq!(
            t.error.as_deref(),
            Some(
                "the answer is not a valid Anthropic stream: event content_block_delta out of \
                 order: block 0 is not open"
            )
        );
        assert_eq!(t.first_token, None);
    }

    #[test]
    fn a_whole_answer() {
        let mut t = Transcript::new(Instant::now());
        t.whole(br#"{"type":"message","content":[{"type":"text","text":"Hi!"}],"stop_reason":"max_tokens","usage":{"input_tokens":5,"output_tokens":2}}"#);
        assert_eq!(t.text, "Hi!");
        assert_eq!(t.stop_reason.as_deref(), Some("max_tokens"));
        assert_eq!((t.input_tokens, t.output_tokens), (Some(5), Some(2)));
        let mut t = Transcript::new(Instant::now());
        t.provider = Some("p".into());
        t.refused(
            404,
            br#"{"type":"error","error":{"type":"not_found_error","message":"model: x"}}"#,
        );
        assert_eq!(
            t.error.as_deref(),
            Some("p answered HTTP 404: not_found_error: model: x")
        );
    }

    #[test]
    fn default_model_prefers_sonnet_then_a_named_model() {
        let load = |yaml: &str| {
            crate::config::load_str(yaml, "t.yaml", &|_| None)
                .unwrap()
                .config
        };
        let base = "providers:\n  - name: p\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n";
        assert_eq!(default_model(&load(base)), DEFAULT_TEST_MODEL);
        let named = format!("{base}    models:\n      \"gpt-*\": a\n      \"my-model\": b\n");
        assert_eq!(default_model(&load(&named)), "my-model");
    }
}
