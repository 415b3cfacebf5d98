//! What the simulated model answers: the request read with a borrowed, targeted parse (only
//! the client's latest turn and the tools up to the one called are decoded), then the words,
//! the tool call and the token counts decided, independent of the wire format.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::SimOptions;
use crate::core::provider::ProviderKind;

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
pub(super) struct Tool {
    pub(super) name: String,
    pub(super) schema: Option<Value>,
}

/// What the simulated model decided to answer, independent of the wire format.
pub(super) struct Answer {
    pub(super) model: String,
    pub(super) stream: bool,
    pub(super) include_usage: bool,
    pub(super) words: Vec<String>,
    /// The tool called and its input, serialised once.
    pub(super) tool: Option<(Tool, String)>,
    pub(super) truncated: bool,
    pub(super) input_tokens: u64,
}

impl Answer {
    pub(super) fn output_tokens(&self) -> u64 {
        let tool = if self.tool.is_some() { 8 } else { 0 };
        self.words.len() as u64 + tool
    }

    pub(super) fn text(&self) -> String {
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

/// Reads the request and decides the answer.
pub(super) fn plan(
    kind: ProviderKind,
    body: &[u8],
    options: &SimOptions,
) -> Result<Answer, BadRequest> {
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
pub(super) fn sample_object(schema: Option<&Value>) -> serde_json::Map<String, Value> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
