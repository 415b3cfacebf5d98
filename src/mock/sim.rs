//! The simulated provider: answers Anthropic Messages and `OpenAI` Chat Completions requests
//! with generated, well-formed responses (streaming or not, text or a tool call), and injects
//! faults at a seeded, deterministic rate.
//!
//! Generation is a pure function of the request body, the options and a sequence number, so
//! the same request always gets the same answer. The request is parsed with a borrowed,
//! targeted parse (only the client's latest turn and the tools up to the one called are
//! decoded), because Claude Code bodies are large and this server is the benchmark's baseline.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::core::num::splitmix64;
use crate::core::provider::ProviderKind;

/// How the simulated provider behaves.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Wait before sending the response headers (zero: no timer at all).
    pub latency: Duration,
    /// Wait before each streamed event after the first (zero: the stream is sent in one write).
    pub event_gap: Duration,
    /// Share of generation requests (messages, chat completions) that get a fault, 0 to 1.
    pub fail_rate: f64,
    /// Which faults, in which proportions, when one is injected.
    pub fault: FaultMix,
    /// Seed of the fault sequence: the same seed gives the same faults for the same request
    /// numbers.
    pub seed: u64,
    /// Seconds sent in `retry-after` with an injected 429.
    pub retry_after_secs: u64,
    /// Words of generated text per answer (each word counts as one output token).
    pub words: usize,
    /// Record every request (turn off for long benchmark runs to bound memory).
    pub record: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            event_gap: Duration::ZERO,
            fail_rate: 0.0,
            fault: FaultMix::default(),
            seed: 0,
            retry_after_secs: 1,
            words: 12,
            record: true,
        }
    }
}

/// Relative shares of each fault kind; they need not add up to one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaultMix {
    /// HTTP 529 `overloaded_error` (Anthropic kind) or 503 `server_error` (`OpenAI` kind).
    pub overloaded: f64,
    /// HTTP 429 with `retry-after`.
    pub rate_limited: f64,
    /// A 200 whose body is cut halfway (after half the events when streaming).
    pub cut_stream: f64,
    /// Headers never sent (until shutdown).
    pub stall: f64,
}

impl Default for FaultMix {
    fn default() -> Self {
        Self {
            overloaded: 0.4,
            rate_limited: 0.3,
            cut_stream: 0.3,
            stall: 0.0,
        }
    }
}

/// One injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    Overloaded,
    RateLimited,
    CutStream,
    Stall,
}

/// Why a [`SimOptions`] cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SimError {
    #[error("fail rate {0} is outside 0..=1")]
    FailRate(f64),
    #[error("fault share `{name}` is {value}; a share must be a finite number, 0 or more")]
    Share { name: &'static str, value: f64 },
    #[error(
        "every fault share is 0 while the fail rate is {0}; give at least one fault kind a share"
    )]
    EmptyMix(f64),
}

impl SimOptions {
    /// Checks the rates and shares.
    pub fn validate(&self) -> Result<(), SimError> {
        if !(0.0..=1.0).contains(&self.fail_rate) {
            return Err(SimError::FailRate(self.fail_rate));
        }
        let FaultMix {
            overloaded,
            rate_limited,
            cut_stream,
            stall,
        } = self.fault;
        for (name, value) in [
            ("overloaded", overloaded),
            ("rate_limited", rate_limited),
            ("cut_stream", cut_stream),
            ("stall", stall),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(SimError::Share { name, value });
            }
        }
        if self.fail_rate > 0.0 && overloaded + rate_limited + cut_stream + stall <= 0.0 {
            return Err(SimError::EmptyMix(self.fail_rate));
        }
        Ok(())
    }

    /// The fault injected into generation request number `n` (counting from 0), if any.
    ///
    /// Deterministic: a function of the seed, the rate, the mix and `n` only.
    pub fn fault_for(&self, n: u64) -> Option<Fault> {
        if self.fail_rate <= 0.0 {
            return None;
        }
        let first = splitmix64(self.seed ^ n.wrapping_mul(0xA076_1D64_78BD_642F));
        if unit(first) >= self.fail_rate {
            return None;
        }
        let FaultMix {
            overloaded,
            rate_limited,
            cut_stream,
            stall,
        } = self.fault;
        let pick = unit(splitmix64(first)) * (overloaded + rate_limited + cut_stream + stall);
        let fault = if pick < overloaded {
            Fault::Overloaded
        } else if pick < overloaded + rate_limited {
            Fault::RateLimited
        } else if pick < overloaded + rate_limited + cut_stream || stall <= 0.0 {
            Fault::CutStream
        } else {
            Fault::Stall
        };
        Some(fault)
    }
}

/// Maps 53 random bits onto `[0, 1)`.
#[allow(clippy::cast_precision_loss)] // 53 bits fit an f64 mantissa exactly.
fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1_u64 << 53) as f64
}

/// A generated answer, ready to send.
#[derive(Debug)]
pub(crate) struct Generated {
    /// The whole body.
    pub(crate) body: Bytes,
    /// For a stream, the end offset of each event in `body`; empty for a JSON body.
    pub(crate) event_ends: Vec<usize>,
}

impl Generated {
    pub(crate) fn is_stream(&self) -> bool {
        !self.event_ends.is_empty()
    }

    /// The body split into one chunk per event (zero-copy).
    pub(crate) fn events(&self) -> Vec<Bytes> {
        let mut start = 0;
        self.event_ends
            .iter()
            .map(|&end| {
                let chunk = self.body.slice(start..end);
                start = end;
                chunk
            })
            .collect()
    }
}

/// Why a request cannot be answered.
#[derive(Debug)]
pub(crate) struct BadRequest(pub(crate) String);

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    max_tokens: Option<u64>,
    #[serde(default)]
    max_completion_tokens: Option<u64>,
    #[serde(borrow)]
    messages: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    tools: Vec<&'a RawValue>,
    #[serde(default)]
    tool_choice: Option<Value>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

#[derive(Deserialize)]
struct Message {
    role: String,
    #[serde(default)]
    content: Option<Content>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Blocks(Vec<Block>),
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    content: Option<Value>,
}

/// The tool the simulated model calls, in either wire format.
struct Tool {
    name: String,
    schema: Option<Value>,
}

/// What the simulated model decided to answer, independent of the wire format.
struct Answer {
    model: String,
    stream: bool,
    include_usage: bool,
    words: Vec<String>,
    /// The tool called and its input, serialised once.
    tool: Option<(Tool, String)>,
    truncated: bool,
    input_tokens: u64,
}

impl Answer {
    fn output_tokens(&self) -> u64 {
        let tool = if self.tool.is_some() { 8 } else { 0 };
        self.words.len() as u64 + tool
    }

    fn text(&self) -> String {
        self.words.join(" ")
    }
}

const FILLER: &[&str] = &[
    "this",
    "is",
    "a",
    "simulated",
    "answer",
    "from",
    "the",
    "claude-lb",
    "mock",
    "provider",
];

fn plan(kind: ProviderKind, body: &[u8], options: &SimOptions) -> Result<Answer, BadRequest> {
    let request: Request<'_> = serde_json::from_slice(body)
        .map_err(|e| BadRequest(format!("request body is not a valid request: {e}")))?;
    if request.messages.is_empty() {
        return Err(BadRequest(
            "messages: at least one message is required".into(),
        ));
    }
    let (source, after_tool) = latest_turn(kind, &request.messages)?;
    let tool_allowed = !after_tool && !tool_choice_none(request.tool_choice.as_ref());
    let tool = if tool_allowed {
        choose_tool(kind, &request)?
    } else {
        None
    };

    let mut words: Vec<String> = Vec::with_capacity(options.words + 4);
    match (&tool, after_tool) {
        (Some(tool), _) => words.extend(["Calling".to_string(), format!("{}.", tool.name)]),
        (None, true) => words.extend(["Tool".to_string(), "result:".to_string()]),
        (None, false) => {}
    }
    let echoed = source.split_whitespace().take(options.words);
    words.extend(echoed.map(str::to_string));
    let mut filler = 0;
    while words.len() < options.words.max(1) {
        words.push(FILLER[filler % FILLER.len()].to_string());
        filler += 1;
    }

    let limit = request.max_tokens.or(request.max_completion_tokens);
    let mut truncated = false;
    if let Some(limit) = limit.and_then(|l| usize::try_from(l).ok()) {
        if words.len() > limit.max(1) {
            words.truncate(limit.max(1));
            truncated = true;
        }
    }
    let tool = if truncated {
        None
    } else {
        tool.map(|tool| {
            let input = Value::Object(sample_object(tool.schema.as_ref())).to_string();
            (tool, input)
        })
    };
    Ok(Answer {
        model: request
            .model
            .map_or_else(|| "mock-model".to_string(), Cow::into_owned),
        stream: request.stream,
        include_usage: request.stream_options.is_some_and(|o| o.include_usage),
        words,
        tool,
        truncated,
        input_tokens: (body.len() as u64 / 4).max(1),
    })
}

/// The text to echo from the messages after the last assistant message (the client's
/// latest turn), and whether that turn carries a tool result. A turn can span several
/// messages: an `OpenAI` `tool` message followed by a `user` message, for instance.
fn latest_turn(kind: ProviderKind, messages: &[&RawValue]) -> Result<(String, bool), BadRequest> {
    let mut texts = Vec::new();
    let mut after_tool = false;
    for (i, raw) in messages.iter().enumerate().rev() {
        let message: Message = serde_json::from_str(raw.get())
            .map_err(|e| BadRequest(format!("messages[{i}] is not valid: {e}")))?;
        if message.role == "assistant" {
            break;
        }
        let (text, tool_result) = last_text(kind, &message);
        after_tool |= tool_result;
        texts.push(text);
    }
    texts.reverse();
    Ok((texts.join(" "), after_tool))
}

/// The text to echo from one message, and whether that message is a tool result.
fn last_text(kind: ProviderKind, message: &Message) -> (String, bool) {
    let openai_tool = kind == ProviderKind::OpenAi && message.role == "tool";
    match &message.content {
        None => (String::new(), openai_tool),
        Some(Content::Text(text)) => (text.clone(), openai_tool),
        Some(Content::Blocks(blocks)) => {
            let mut out = String::new();
            let mut tool_result = openai_tool;
            for block in blocks {
                if block.kind == "tool_result" {
                    tool_result = true;
                    match &block.content {
                        Some(Value::String(s)) => push_words(&mut out, s),
                        Some(Value::Array(parts)) => {
                            for part in parts {
                                if let Some(s) = part.get("text").and_then(Value::as_str) {
                                    push_words(&mut out, s);
                                }
                            }
                        }
                        _ => {}
                    }
                } else if let Some(text) = &block.text {
                    push_words(&mut out, text);
                }
            }
            (out, tool_result)
        }
    }
}

fn push_words(out: &mut String, text: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(text);
}

fn tool_choice_none(choice: Option<&Value>) -> bool {
    match choice {
        Some(Value::String(s)) => s == "none",
        Some(Value::Object(o)) => o.get("type").and_then(Value::as_str) == Some("none"),
        _ => false,
    }
}

/// Claude Code's tools that start a subagent. Claude Code offers `Agent` first, and a
/// simulated model that calls it would make every subagent start another one, without end;
/// so these are called only when `tool_choice` names them.
const AGENT_TOOLS: &[&str] = &["Agent", "Task"];

/// The tool named by `tool_choice` (Anthropic `{"type":"tool","name":..}`, `OpenAI`
/// `{"type":"function","function":{"name":..}}`), else the first tool offered that does not
/// start a subagent (see [`AGENT_TOOLS`]).
fn choose_tool(kind: ProviderKind, request: &Request<'_>) -> Result<Option<Tool>, BadRequest> {
    let named = request.tool_choice.as_ref().and_then(|choice| {
        choice
            .get("name")
            .or_else(|| choice.get("function")?.get("name"))?
            .as_str()
    });
    let mut first = None;
    for (i, raw) in request.tools.iter().enumerate() {
        let tool = parse_tool(kind, raw, i)?;
        match named {
            Some(name) if tool.name == name => return Ok(Some(tool)),
            None if !AGENT_TOOLS.contains(&tool.name.as_str()) => return Ok(Some(tool)),
            Some(_) if first.is_none() => first = Some(tool),
            None | Some(_) => {}
        }
    }
    Ok(first)
}

fn parse_tool(kind: ProviderKind, raw: &RawValue, index: usize) -> Result<Tool, BadRequest> {
    let value: Value = serde_json::from_str(raw.get())
        .map_err(|e| BadRequest(format!("tools[{index}] is not valid: {e}")))?;
    let (holder, schema_key) = match kind {
        ProviderKind::Anthropic => (&value, "input_schema"),
        ProviderKind::OpenAi => (value.get("function").unwrap_or(&value), "parameters"),
    };
    let name = holder
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| BadRequest(format!("tools[{index}]: a tool needs a `name`")))?
        .to_string();
    Ok(Tool {
        name,
        schema: holder.get(schema_key).cloned(),
    })
}

/// A small object that satisfies the `required` part of a JSON schema.
fn sample_object(schema: Option<&Value>) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    let Some(schema) = schema else { return out };
    let properties = schema.get("properties");
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = name.as_str() else { continue };
        let property = properties.and_then(|p| p.get(name));
        out.insert(name.to_string(), sample_value(name, property));
    }
    out
}

fn sample_value(name: &str, schema: Option<&Value>) -> Value {
    let Some(schema) = schema else {
        return json!("mock");
    };
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    let kind = match schema.get("type") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Array(kinds)) => kinds.first().and_then(Value::as_str).unwrap_or("string"),
        _ => "string",
    };
    match kind {
        "integer" | "number" => json!(1),
        "boolean" => json!(false),
        "array" => json!([]),
        "object" => Value::Object(sample_object(Some(schema))),
        "null" => Value::Null,
        // A shell tool gets a harmless command; every other string gets a plain word.
        _ if name == "command" => json!("echo claude-lb mock"),
        _ => json!("mock"),
    }
}

/// A body being built, event by event.
struct Events {
    buf: String,
    ends: Vec<usize>,
}

impl Events {
    fn new() -> Self {
        Self {
            buf: String::with_capacity(2048),
            ends: Vec::with_capacity(32),
        }
    }

    fn event(&mut self, name: &str, data: &Value) {
        write!(self.buf, "event: {name}\ndata: {data}\n\n")
            .expect("writing to a String cannot fail");
        self.ends.push(self.buf.len());
    }

    fn data(&mut self, data: &dyn std::fmt::Display) {
        write!(self.buf, "data: {data}\n\n").expect("writing to a String cannot fail");
        self.ends.push(self.buf.len());
    }

    fn finish(self) -> Generated {
        Generated {
            body: Bytes::from(self.buf),
            event_ends: self.ends,
        }
    }
}

/// Answers a generation request (`/v1/messages` or `/chat/completions`); `seq` numbers the
/// response ids.
pub(crate) fn generate(
    kind: ProviderKind,
    body: &[u8],
    options: &SimOptions,
    seq: u64,
) -> Result<Generated, BadRequest> {
    let answer = plan(kind, body, options)?;
    Ok(match (kind, answer.stream) {
        (ProviderKind::Anthropic, false) => anthropic_message(&answer, seq),
        (ProviderKind::Anthropic, true) => anthropic_stream(&answer, seq),
        (ProviderKind::OpenAi, false) => openai_completion(&answer, seq),
        (ProviderKind::OpenAi, true) => openai_stream(&answer, seq),
    })
}

fn stop_reason(answer: &Answer) -> &'static str {
    if answer.truncated {
        "max_tokens"
    } else if answer.tool.is_some() {
        "tool_use"
    } else {
        "end_turn"
    }
}

fn anthropic_message(answer: &Answer, seq: u64) -> Generated {
    let mut content = vec![json!({"type": "text", "text": answer.text()})];
    if let Some((tool, _)) = &answer.tool {
        let mut block = json!({
            "type": "tool_use", "id": format!("toolu_mock_{seq:016x}"), "name": tool.name,
        });
        block["input"] = Value::Object(sample_object(tool.schema.as_ref()));
        content.push(block);
    }
    let body = json!({
        "id": format!("msg_mock_{seq:016x}"),
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": content,
        "stop_reason": stop_reason(answer),
        "stop_sequence": null,
        "usage": {
            "input_tokens": answer.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": answer.output_tokens(),
        },
    });
    Generated {
        body: Bytes::from(body.to_string()),
        event_ends: Vec::new(),
    }
}

fn anthropic_stream(answer: &Answer, seq: u64) -> Generated {
    let mut events = Events::new();
    events.event(
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": format!("msg_mock_{seq:016x}"), "type": "message", "role": "assistant",
            "model": answer.model, "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": answer.input_tokens, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0, "output_tokens": 1},
        }}),
    );
    events.event(
        "content_block_start",
        &json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}),
    );
    events.event("ping", &json!({"type": "ping"}));
    for (i, word) in answer.words.iter().enumerate() {
        let text = if i == 0 {
            word.clone()
        } else {
            format!(" {word}")
        };
        events.event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": text}}),
        );
    }
    events.event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    );
    if let Some((tool, input)) = &answer.tool {
        events.event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 1, "content_block": {
                "type": "tool_use", "id": format!("toolu_mock_{seq:016x}"),
                "name": tool.name, "input": {},
            }}),
        );
        for piece in std::iter::once("").chain(fragments(input, 12)) {
            events.event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": 1,
                        "delta": {"type": "input_json_delta", "partial_json": piece}}),
            );
        }
        events.event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 1}),
        );
    }
    events.event(
        "message_delta",
        &json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason(answer), "stop_sequence": null},
                "usage": {"output_tokens": answer.output_tokens()}}),
    );
    events.event("message_stop", &json!({"type": "message_stop"}));
    events.finish()
}

/// Splits `s` into pieces of about `size` bytes, on character boundaries.
fn fragments(s: &str, size: usize) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = size.min(rest.len());
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

fn finish_reason(answer: &Answer) -> &'static str {
    if answer.truncated {
        "length"
    } else if answer.tool.is_some() {
        "tool_calls"
    } else {
        "stop"
    }
}

fn created() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn openai_usage(answer: &Answer) -> Value {
    let completion = answer.output_tokens();
    json!({"prompt_tokens": answer.input_tokens, "completion_tokens": completion,
           "total_tokens": answer.input_tokens + completion})
}

fn openai_completion(answer: &Answer, seq: u64) -> Generated {
    let mut message = json!({"role": "assistant", "content": answer.text()});
    if let Some((tool, input)) = &answer.tool {
        message["tool_calls"] = json!([{
            "id": format!("call_mock_{seq:016x}"), "type": "function",
            "function": {"name": tool.name, "arguments": input},
        }]);
    }
    let body = json!({
        "id": format!("chatcmpl-mock-{seq:016x}"),
        "object": "chat.completion",
        "created": created(),
        "model": answer.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(answer)}],
        "usage": openai_usage(answer),
    });
    Generated {
        body: Bytes::from(body.to_string()),
        event_ends: Vec::new(),
    }
}

fn openai_stream(answer: &Answer, seq: u64) -> Generated {
    let id = format!("chatcmpl-mock-{seq:016x}");
    let created = created();
    let chunk = |choices: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": created,
               "model": answer.model, "choices": choices})
    };
    let delta = |delta: Value| chunk(json!([{"index": 0, "delta": delta, "finish_reason": null}]));
    let mut events = Events::new();
    events.data(&delta(json!({"role": "assistant", "content": ""})));
    for (i, word) in answer.words.iter().enumerate() {
        let text = if i == 0 {
            word.clone()
        } else {
            format!(" {word}")
        };
        events.data(&delta(json!({"content": text})));
    }
    if let Some((tool, input)) = &answer.tool {
        events.data(&delta(json!({"tool_calls": [{
            "index": 0, "id": format!("call_mock_{seq:016x}"), "type": "function",
            "function": {"name": tool.name, "arguments": ""},
        }]})));
        for piece in fragments(input, 8) {
            events.data(&delta(json!({"tool_calls": [{
                "index": 0, "function": {"arguments": piece},
            }]})));
        }
    }
    events.data(&chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": finish_reason(answer)}]),
    ));
    if answer.include_usage {
        let mut last = chunk(json!([]));
        last["usage"] = openai_usage(answer);
        events.data(&last);
    }
    events.data(&"[DONE]");
    events.finish()
}

/// `{"input_tokens": N}` for a `count_tokens` body, with the same estimate the messages answer
/// uses (about four bytes of request body per token).
pub(crate) fn count_tokens(body: &[u8]) -> Bytes {
    Bytes::from(format!("{{\"input_tokens\":{}}}", (body.len() / 4).max(1)))
}

/// The model list of the simulated provider.
pub(crate) fn models(kind: ProviderKind) -> Bytes {
    let body = match kind {
        ProviderKind::Anthropic => json!({
            "data": [
                {"type": "model", "id": "claude-sonnet-4-5-20250929",
                 "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z",
                 "lifecycle": "active", "max_input_tokens": 200_000, "max_tokens": 64000},
                {"type": "model", "id": "claude-haiku-4-5-20251001",
                 "display_name": "Claude Haiku 4.5", "created_at": "2025-10-01T00:00:00Z",
                 "lifecycle": "active", "max_input_tokens": 200_000, "max_tokens": 64000},
            ],
            "has_more": false,
            "first_id": "claude-sonnet-4-5-20250929",
            "last_id": "claude-haiku-4-5-20251001",
        }),
        ProviderKind::OpenAi => json!({
            "object": "list",
            "data": [
                {"id": "mock-chat", "object": "model", "created": 1_767_225_600_u64,
                 "owned_by": "claude-lb-mock"},
                {"id": "mock-reasoner", "object": "model", "created": 1_767_225_600_u64,
                 "owned_by": "claude-lb-mock"},
            ],
        }),
    };
    Bytes::from(body.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fragments_cover_the_string_on_char_boundaries() {
        let s = "{\"a\":\"héllo wörld ünïcode\"}";
        let pieces: Vec<&str> = fragments(s, 3).collect();
        assert!(pieces.len() > 3);
        assert_eq!(pieces.concat(), s);
    }

    #[test]
    fn sample_object_fills_required_properties_by_type() {
        let schema = json!({
            "type": "object",
            "properties": {
                "command": {"type": "string"},
                "timeout": {"type": "number"},
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "optional": {"type": "string"},
            },
            "required": ["command", "timeout", "mode"],
        });
        let input = Value::Object(sample_object(Some(&schema)));
        assert_eq!(
            input,
            json!({"command": "echo claude-lb mock", "timeout": 1, "mode": "fast"})
        );
    }

    #[test]
    fn validate_names_the_bad_field() {
        let bad_rate = SimOptions {
            fail_rate: 1.5,
            ..SimOptions::default()
        };
        assert_eq!(bad_rate.validate(), Err(SimError::FailRate(1.5)));
        let bad_share = SimOptions {
            fault: FaultMix {
                stall: -1.0,
                ..FaultMix::default()
            },
            ..SimOptions::default()
        };
        assert_eq!(
            bad_share.validate(),
            Err(SimError::Share {
                name: "stall",
                value: -1.0
            })
        );
        let empty = SimOptions {
            fail_rate: 0.5,
            fault: FaultMix {
                overloaded: 0.0,
                rate_limited: 0.0,
                cut_stream: 0.0,
                stall: 0.0,
            },
            ..SimOptions::default()
        };
        assert_eq!(empty.validate(), Err(SimError::EmptyMix(0.5)));
        assert_eq!(SimOptions::default().validate(), Ok(()));
    }

    #[test]
    fn tool_choice_picks_the_named_tool() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"go"}],
            "tools":[{"name":"A"},{"name":"B"}],"tool_choice":{"type":"tool","name":"B"}}"#;
        let answer = plan(ProviderKind::Anthropic, body, &SimOptions::default()).unwrap();
        assert_eq!(answer.tool.unwrap().0.name, "B");
        let body = br#"{"model":"m","messages":[{"role":"user","content":"go"}],
            "tools":[{"type":"function","function":{"name":"A"}},
                     {"type":"function","function":{"name":"B"}}],
            "tool_choice":{"type":"function","function":{"name":"B"}}}"#;
        let answer = plan(ProviderKind::OpenAi, body, &SimOptions::default()).unwrap();
        assert_eq!(answer.tool.unwrap().0.name, "B");
        let body = br#"{"model":"m","messages":[{"role":"user","content":"go"}],
            "tools":[{"name":"A"}],"tool_choice":{"type":"none"}}"#;
        let answer = plan(ProviderKind::Anthropic, body, &SimOptions::default()).unwrap();
        assert!(answer.tool.is_none());
    }

    #[test]
    fn max_tokens_truncates_and_drops_the_tool() {
        let body = br#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"a b c"}],
            "tools":[{"name":"T","input_schema":{"type":"object"}}]}"#;
        let answer = plan(ProviderKind::Anthropic, body, &SimOptions::default()).unwrap();
        assert_eq!(answer.words.len(), 1);
        assert!(answer.truncated);
        assert!(answer.tool.is_none());
    }
}
