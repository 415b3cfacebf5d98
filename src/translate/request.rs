//! Anthropic Messages request → OpenAI Chat Completions request (docs/translation.md).
//!
//! The body is parsed once into [`MessagesRequest`] and the Chat Completions body is written
//! from borrowed parts of it. Decisions the protocol leaves open:
//!
//! - **The attribution block is dropped.** Claude Code's first system block
//!   (`x-anthropic-billing-header: cc_version=…`) changes on every run, sits at the very start of
//!   the prompt and so defeats every upstream's prefix cache; it carries no instruction for the
//!   model, and `api.anthropic.com` strips it itself.
//! - **Tool results come first in a user turn**, as `tool` messages in block order, then one
//!   `user` message with the rest (text, images, and media lifted out of tool results, which a
//!   `tool` message cannot carry: the tool message then says where the media went).
//! - **A consistency pass** answers every tool call that has no result with a synthetic `tool`
//!   message, drops results that answer no call, and never emits an empty assistant message.
//! - **Thinking** becomes reasoning parameters per [`ReasoningStyle`]; for DeepSeek, the
//!   thinking text of an assistant turn is passed back as `reasoning_content`, which DeepSeek
//!   requires on tool-call turns.
//! - `cache_control`, `metadata`, `context_management` and every other field without an
//!   equivalent are dropped; server tools (`web_search_*`, …) are dropped, and a `tool_choice`
//!   that forces a dropped tool falls back to `auto`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::TranslateError;
use super::anthropic::{
    ContentBlock, DocumentSource, ImageSource, Message, MessageContent, MessagesRequest, Role,
    System, Tool, ToolChoice, ToolResultContent,
};
use super::openai::{
    ChatCompletionRequest, ChatContent, ChatMessage, ChatTool, ChatToolChoice, ContentPart,
    DeepSeekThinking, FilePart, FunctionCall, FunctionDefinition, ImageUrl, NamedFunction,
    OpenRouterReasoning, StreamOptions, ToolCall,
};

/// The prefix of Claude Code's per-run attribution block in `system`.
const ATTRIBUTION_PREFIX: &str = "x-anthropic-billing-header:";
/// The content of a `tool` message whose `tool_result` was empty.
const NO_OUTPUT: &str = "(no output)";
/// The content of the synthetic answer to a tool call that has no result in the history.
const INTERRUPTED: &str = "(the tool call was interrupted and has no result)";
/// The schema sent for a custom tool that has none.
const EMPTY_SCHEMA: &str = r#"{"type":"object","properties":{}}"#;
/// OpenAI proper accepts at most this many stop sequences.
const OPENAI_MAX_STOP: usize = 4;

/// What the translation needs to know about the provider it is for.
#[derive(Clone, Copy, Debug)]
pub struct RequestOptions<'a> {
    /// The upstream model, after the provider's model map.
    pub model: &'a str,
    /// The provider's output token limit; `max_tokens` is clamped to it.
    pub max_tokens_cap: Option<u32>,
    /// How thinking maps to this provider's reasoning parameters.
    pub reasoning: ReasoningStyle,
}

/// How Anthropic `thinking` maps to a provider's reasoning parameters (see
/// docs/translation.md#thinking-and-effort).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReasoningStyle {
    /// No reasoning parameters (generic OpenAI-compatible servers, non-reasoning models).
    None,
    /// OpenAI's other models: no reasoning parameters, at most four stop sequences.
    OpenAi,
    /// OpenAI reasoning models: `reasoning_effort`, `max_completion_tokens`, no sampling
    /// parameters, at most four stop sequences.
    OpenAiEffort,
    /// OpenRouter: `reasoning: {max_tokens}` or `reasoning: {effort}`; `top_k` is kept.
    OpenRouter,
    /// DeepSeek: `thinking: {type}` plus `reasoning_effort`, and `reasoning_content` passed
    /// back on assistant turns.
    DeepSeek,
}

impl ReasoningStyle {
    /// The style for a provider, from the host of its base URL and the upstream model.
    pub fn guess(base_url_host: &str, model: &str) -> ReasoningStyle {
        // `domain` itself or a name under it, whatever the case (without allocating: this runs
        // for every translated request).
        let host = base_url_host.trim_end_matches('.').as_bytes();
        let is = |domain: &str| {
            let domain = domain.as_bytes();
            host.len().checked_sub(domain.len()).is_some_and(|start| {
                host[start..].eq_ignore_ascii_case(domain)
                    && (start == 0 || host[start - 1] == b'.')
            })
        };
        if is("openrouter.ai") {
            ReasoningStyle::OpenRouter
        } else if is("deepseek.com") {
            ReasoningStyle::DeepSeek
        } else if is("openai.com") && is_openai_reasoning_model(model) {
            ReasoningStyle::OpenAiEffort
        } else if is("openai.com") {
            ReasoningStyle::OpenAi
        } else {
            ReasoningStyle::None
        }
    }
}

/// Whether an OpenAI model id names a reasoning model (`o1`, `o3`, `o4-mini`, `gpt-5`, …).
fn is_openai_reasoning_model(model: &str) -> bool {
    let model = model.strip_prefix("openai/").unwrap_or(model);
    let bytes = model.as_bytes();
    (bytes.len() >= 2 && bytes[0] == b'o' && bytes[1].is_ascii_digit())
        || model.starts_with("gpt-5")
}

/// Translates an Anthropic Messages request body into a Chat Completions request body.
pub fn to_openai(body: &[u8], opts: &RequestOptions<'_>) -> Result<Vec<u8>, TranslateError> {
    let request: MessagesRequest =
        serde_json::from_slice(body).map_err(TranslateError::InvalidRequest)?;
    let chat = build(&request, opts);
    Ok(super::to_json(&chat, body.len()))
}

/// Builds the Chat Completions request for a parsed Messages request.
pub fn build<'a>(
    request: &'a MessagesRequest,
    opts: &RequestOptions<'a>,
) -> ChatCompletionRequest<'a> {
    let style = opts.reasoning;
    let thinking = ThinkingMode::of(request);
    // DeepSeek in thinking mode refuses a request whose assistant turn made tool calls
    // without a `reasoning_content`, as a turn served by another provider (or with thinking
    // off) has none: such a turn gets an empty one.
    let reasoning = match style {
        ReasoningStyle::DeepSeek if !matches!(thinking, ThinkingMode::Off) => {
            AssistantReasoning::Always
        }
        ReasoningStyle::DeepSeek => AssistantReasoning::WhenThought,
        _ => AssistantReasoning::Never,
    };
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = system_text(request.system.as_ref()) {
        messages.push(ChatMessage::System { content: system });
    }
    for message in &request.messages {
        convert_message(message, reasoning, &mut messages);
    }
    let mut messages = answer_every_tool_call(merge_assistant_turns(messages));
    if style == ReasoningStyle::None {
        messages = system_first(messages);
    }

    let tools: Vec<ChatTool<'a>> = request.tools.iter().flatten().filter_map(tool).collect();
    let (tool_choice, parallel_tool_calls) = if tools.is_empty() {
        (None, None)
    } else {
        tool_choice(request.tool_choice.as_ref(), &tools)
    };

    let max_tokens = request
        .max_tokens
        .map(|m| opts.max_tokens_cap.map_or(m, |cap| m.min(cap)))
        .or(opts.max_tokens_cap)
        // OpenAI-compatible servers reject 0 (Anthropic's cache pre-warm); 1 is the closest.
        .map(|m| m.max(1));
    let (max_tokens, max_completion_tokens) = if style == ReasoningStyle::OpenAiEffort {
        (None, max_tokens)
    } else {
        (max_tokens, None)
    };

    let mut chat = ChatCompletionRequest {
        model: opts.model,
        messages,
        max_tokens,
        max_completion_tokens,
        temperature: request.temperature,
        top_p: request.top_p,
        top_k: None,
        stop: request.stop_sequences.as_deref().filter(|s| !s.is_empty()),
        stream: None,
        stream_options: None,
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice,
        parallel_tool_calls,
        reasoning_effort: None,
        reasoning: None,
        thinking: None,
        response_format: request
            .output_config
            .as_ref()
            .and_then(|c| c.format.as_ref())
            .and_then(response_format),
    };
    if request.stream == Some(true) {
        chat.stream = Some(true);
        chat.stream_options = Some(StreamOptions {
            include_usage: true,
        });
    }
    if matches!(style, ReasoningStyle::OpenAi | ReasoningStyle::OpenAiEffort) {
        chat.stop = chat.stop.map(|s| &s[..s.len().min(OPENAI_MAX_STOP)]);
    }
    match style {
        ReasoningStyle::None | ReasoningStyle::OpenAi => {}
        ReasoningStyle::OpenAiEffort => {
            // Reasoning models reject sampling parameters.
            chat.temperature = None;
            chat.top_p = None;
            chat.reasoning_effort = match thinking {
                ThinkingMode::Off => None,
                ThinkingMode::Budget(budget) => Some(effort_from_budget(budget)),
                ThinkingMode::Adaptive(effort) => Some(openai_effort(effort)),
            };
        }
        ReasoningStyle::DeepSeek => deepseek_thinking(&mut chat, thinking),
        ReasoningStyle::OpenRouter => {
            chat.top_k = request.top_k;
            chat.reasoning = match thinking {
                ThinkingMode::Off => None,
                ThinkingMode::Budget(budget) => Some(OpenRouterReasoning {
                    max_tokens: Some(budget),
                    effort: None,
                }),
                ThinkingMode::Adaptive(effort) => Some(OpenRouterReasoning {
                    max_tokens: None,
                    effort: Some(openrouter_effort(effort)),
                }),
            };
        }
    }
    chat
}

/// DeepSeek's thinking toggle and effort for the thinking the client asked for.
fn deepseek_thinking(chat: &mut ChatCompletionRequest<'_>, thinking: ThinkingMode<'_>) {
    let (kind, effort) = match thinking {
        ThinkingMode::Off => ("disabled", None),
        ThinkingMode::Budget(budget) => ("enabled", Some(effort_from_budget(budget))),
        ThinkingMode::Adaptive(effort) => ("enabled", Some(deepseek_effort(effort))),
    };
    chat.thinking = Some(DeepSeekThinking { kind });
    chat.reasoning_effort = effort;
    if effort.is_some() {
        // Thinking mode ignores sampling parameters, and refuses a forced tool choice
        // ("does not support this tool_choice"): the model is left to choose.
        chat.temperature = None;
        chat.top_p = None;
        if matches!(
            chat.tool_choice,
            Some(ChatToolChoice::Mode("required") | ChatToolChoice::Function { .. })
        ) {
            chat.tool_choice = Some(ChatToolChoice::Mode("auto"));
        }
    }
}

/// The thinking the client asked for.
#[derive(Clone, Copy, Debug)]
enum ThinkingMode<'a> {
    /// Absent, `disabled`, `between_tools` or unknown.
    Off,
    /// `enabled` with `budget_tokens`.
    Budget(u32),
    /// `adaptive` (or `enabled` without a budget), with `output_config.effort`.
    Adaptive(Option<&'a str>),
}

impl<'a> ThinkingMode<'a> {
    fn of(request: &'a MessagesRequest) -> Self {
        let effort = request
            .output_config
            .as_ref()
            .and_then(|c| c.effort.as_deref());
        match request.thinking.as_ref() {
            Some(t) if t.kind == "enabled" => {
                t.budget_tokens.map_or(Self::Adaptive(effort), Self::Budget)
            }
            Some(t) if t.kind == "adaptive" => Self::Adaptive(effort),
            _ => Self::Off,
        }
    }
}

/// Buckets a thinking budget into an effort: below 4096 low, below 16384 medium, else high.
fn effort_from_budget(budget: u32) -> &'static str {
    match budget {
        0..4096 => "low",
        4096..16384 => "medium",
        _ => "high",
    }
}

fn openai_effort(effort: Option<&str>) -> &'static str {
    match effort {
        Some("low" | "minimal") => "low",
        Some("high" | "xhigh" | "max") => "high",
        _ => "medium",
    }
}

fn deepseek_effort(effort: Option<&str>) -> &'static str {
    match effort {
        Some("low" | "minimal") => "low",
        Some("max") => "max",
        _ => "high",
    }
}

fn openrouter_effort(effort: Option<&str>) -> &'static str {
    match effort {
        Some("low" | "minimal") => "low",
        Some("high") => "high",
        Some("xhigh" | "max") => "xhigh",
        _ => "medium",
    }
}

/// The system prompt: the string, or the text blocks joined with a blank line, without the
/// attribution block.
fn system_text(system: Option<&System>) -> Option<Cow<'_, str>> {
    match system? {
        System::Text(text) => (!text.is_empty()).then_some(Cow::Borrowed(text.as_str())),
        System::Blocks(blocks) => join(
            blocks
                .iter()
                .filter(|b| b.kind == "text" && !b.text.starts_with(ATTRIBUTION_PREFIX))
                .map(|b| b.text.as_str()),
            "\n\n",
        ),
    }
}

/// Joins non-empty texts; borrows when there is exactly one.
fn join<'a>(texts: impl Iterator<Item = &'a str>, separator: &str) -> Option<Cow<'a, str>> {
    let mut result: Option<Cow<'a, str>> = None;
    for text in texts.filter(|t| !t.is_empty()) {
        result = Some(match result {
            None => Cow::Borrowed(text),
            Some(prev) => {
                let mut joined = prev.into_owned();
                joined.push_str(separator);
                joined.push_str(text);
                Cow::Owned(joined)
            }
        });
    }
    result
}

/// Which assistant turns carry `reasoning_content` (DeepSeek's thinking text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AssistantReasoning {
    /// Never (every upstream but DeepSeek).
    Never,
    /// The turns that have thinking blocks.
    WhenThought,
    /// Those, and every turn that made tool calls (empty when it has no thinking).
    Always,
}

fn convert_message<'a>(
    message: &'a Message,
    reasoning: AssistantReasoning,
    out: &mut Vec<ChatMessage<'a>>,
) {
    match message.role {
        Role::System => {
            let text = match &message.content {
                MessageContent::Text(text) => {
                    (!text.is_empty()).then_some(Cow::Borrowed(text.as_str()))
                }
                MessageContent::Blocks(blocks) => {
                    join(blocks.iter().filter_map(block_text), "\n\n")
                }
            };
            if let Some(content) = text {
                out.push(ChatMessage::System { content });
            }
        }
        Role::Assistant => convert_assistant(&message.content, reasoning, out),
        Role::User | Role::Unknown => convert_user(&message.content, out),
    }
}

fn block_text(block: &ContentBlock) -> Option<&str> {
    match block {
        ContentBlock::Text { text } => Some(text),
        _ => None,
    }
}

fn convert_assistant<'a>(
    content: &'a MessageContent,
    reasoning: AssistantReasoning,
    out: &mut Vec<ChatMessage<'a>>,
) {
    let blocks = match content {
        MessageContent::Text(text) => {
            if !text.is_empty() {
                out.push(ChatMessage::Assistant {
                    content: Some(Cow::Borrowed(text)),
                    reasoning_content: None,
                    tool_calls: Vec::new(),
                });
            }
            return;
        }
        MessageContent::Blocks(blocks) => blocks,
    };
    let content = join(blocks.iter().filter_map(block_text), "\n\n");
    let tool_calls: Vec<ToolCall<'a>> = blocks
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ToolUse { id, name, input } => Some(ToolCall {
                id,
                kind: "function",
                function: FunctionCall {
                    name,
                    arguments: arguments(input),
                },
            }),
            _ => None,
        })
        .collect();
    if content.is_none() && tool_calls.is_empty() {
        // Thinking-only or empty turns have nothing an OpenAI upstream accepts.
        return;
    }
    let reasoning_content = match reasoning {
        AssistantReasoning::Never => None,
        AssistantReasoning::WhenThought | AssistantReasoning::Always => join(
            blocks.iter().filter_map(|block| match block {
                ContentBlock::Thinking { thinking, .. } => Some(thinking.as_str()),
                _ => None,
            }),
            "\n\n",
        )
        .or_else(|| {
            (reasoning == AssistantReasoning::Always && !tool_calls.is_empty())
                .then_some(Cow::Borrowed(""))
        }),
    };
    out.push(ChatMessage::Assistant {
        content,
        reasoning_content,
        tool_calls,
    });
}

/// `input` as a compact, deterministic JSON string (object keys sorted).
fn arguments(input: &Value) -> String {
    match input {
        Value::Null => "{}".to_owned(),
        // unwrap: a `Value` always serialises.
        other => serde_json::to_string(other).expect("value serialises"),
    }
}

fn convert_user<'a>(content: &'a MessageContent, out: &mut Vec<ChatMessage<'a>>) {
    let blocks = match content {
        MessageContent::Text(text) => {
            out.push(ChatMessage::User {
                content: ChatContent::Text(Cow::Borrowed(text)),
            });
            return;
        }
        MessageContent::Blocks(blocks) => blocks,
    };
    let mut lifted = Vec::new();
    let mut parts = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => out.push(ChatMessage::Tool {
                tool_call_id: tool_use_id,
                content: tool_result_text(content.as_ref(), is_error.unwrap_or(false), &mut lifted),
            }),
            ContentBlock::Text { text } if !text.is_empty() => {
                parts.push(ContentPart::Text {
                    text: Cow::Borrowed(text),
                });
            }
            ContentBlock::Image { source } => parts.extend(image_part(source)),
            ContentBlock::Document { source, title } => {
                parts.extend(document_part(source, title.as_deref()));
            }
            // Thinking, tool_use in a user turn, server tool blocks and unknown blocks have no
            // user-message equivalent.
            _ => {}
        }
    }
    lifted.append(&mut parts);
    let content = match lifted.len() {
        0 => return,
        1 if matches!(lifted[0], ContentPart::Text { .. }) => match lifted.pop() {
            Some(ContentPart::Text { text }) => ChatContent::Text(text),
            _ => return,
        },
        _ => ChatContent::Parts(lifted),
    };
    out.push(ChatMessage::User { content });
}

/// The text of a `tool` message; media inside the result are moved to `lifted` (they go into
/// the user message that follows) and replaced by a note.
fn tool_result_text<'a>(
    content: Option<&'a ToolResultContent>,
    is_error: bool,
    lifted: &mut Vec<ContentPart<'a>>,
) -> Cow<'a, str> {
    let text: Cow<'a, str> = match content {
        None => Cow::Borrowed(""),
        Some(ToolResultContent::Text(text)) => Cow::Borrowed(text),
        Some(ToolResultContent::Blocks(blocks)) => {
            let mut pieces: Vec<Cow<'a, str>> = Vec::with_capacity(blocks.len());
            for block in blocks {
                match block {
                    ContentBlock::Text { text } => pieces.push(Cow::Borrowed(text)),
                    ContentBlock::Image { source } => {
                        if let Some(part) = image_part(source) {
                            lifted.push(part);
                            pieces
                                .push(Cow::Borrowed("[image: attached to the next user message]"));
                        }
                    }
                    ContentBlock::Document { source, title } => {
                        match document_part(source, title.as_deref()) {
                            Some(ContentPart::Text { text }) => pieces.push(text),
                            Some(part) => {
                                lifted.push(part);
                                pieces.push(Cow::Borrowed(
                                    "[document: attached to the next user message]",
                                ));
                            }
                            None => {}
                        }
                    }
                    _ => {}
                }
            }
            if pieces.len() == 1 {
                pieces.pop().unwrap_or_default()
            } else {
                Cow::Owned(pieces.join("\n"))
            }
        }
    };
    let text = if text.trim().is_empty() {
        Cow::Borrowed(NO_OUTPUT)
    } else {
        text
    };
    if is_error {
        Cow::Owned(format!("[tool error] {text}"))
    } else {
        text
    }
}

fn image_part(source: &ImageSource) -> Option<ContentPart<'_>> {
    let url = match source {
        ImageSource::Base64 { media_type, data } => {
            Cow::Owned(format!("data:{media_type};base64,{data}"))
        }
        ImageSource::Url { url } => Cow::Borrowed(url.as_str()),
        ImageSource::File { file_id } => {
            return Some(ContentPart::Text {
                text: Cow::Owned(format!(
                    "[image file {file_id}: Anthropic Files API content cannot be sent to this provider]"
                )),
            });
        }
        ImageSource::Unknown => return None,
    };
    Some(ContentPart::ImageUrl {
        image_url: ImageUrl { url },
    })
}

fn document_part<'a>(
    source: &'a DocumentSource,
    title: Option<&'a str>,
) -> Option<ContentPart<'a>> {
    let text = match source {
        DocumentSource::Base64 { media_type, data } => {
            return Some(ContentPart::File {
                file: FilePart {
                    filename: Cow::Borrowed(title.unwrap_or("document.pdf")),
                    file_data: format!("data:{media_type};base64,{data}"),
                },
            });
        }
        DocumentSource::Text { data } => Cow::Borrowed(data.as_str()),
        DocumentSource::Content { content } => match content {
            ToolResultContent::Text(text) => Cow::Borrowed(text.as_str()),
            ToolResultContent::Blocks(blocks) => join(blocks.iter().filter_map(block_text), "\n")?,
        },
        DocumentSource::Url { url } => Cow::Owned(format!("[document: {url}]")),
        DocumentSource::File { file_id } => Cow::Owned(format!(
            "[document file {file_id}: Anthropic Files API content cannot be sent to this provider]"
        )),
        DocumentSource::Unknown => return None,
    };
    let text = match title {
        Some(title) => Cow::Owned(format!("{title}\n\n{text}")),
        None => text,
    };
    Some(ContentPart::Text { text })
}

/// For generic servers (vLLM, llama.cpp, Ollama), whose chat templates refuse a system message
/// anywhere but first ("System message must be at the beginning"): the leading system messages
/// become one, and each later one (Claude Code sends hook context as `role: "system"` in the
/// middle of a conversation) goes in front of the next user message's text, or becomes a user
/// message when none follows.
fn system_first(messages: Vec<ChatMessage<'_>>) -> Vec<ChatMessage<'_>> {
    let is_system = |m: &ChatMessage<'_>| matches!(m, ChatMessage::System { .. });
    if !messages.iter().skip(1).any(is_system) {
        return messages;
    }
    let mut out: Vec<ChatMessage<'_>> = Vec::with_capacity(messages.len());
    let mut pending: Option<String> = None;
    for message in messages {
        match message {
            ChatMessage::System { content } => match out.as_mut_slice() {
                [] => out.push(ChatMessage::System { content }),
                [ChatMessage::System { content: first }] => {
                    *first = Cow::Owned(format!("{first}\n\n{content}"));
                }
                _ => {
                    let joined = match pending.take() {
                        Some(before) => format!("{before}\n\n{content}"),
                        None => content.into_owned(),
                    };
                    pending = Some(joined);
                }
            },
            ChatMessage::User { content } => {
                let content = match (pending.take(), content) {
                    (None, content) => content,
                    (Some(system), ChatContent::Text(text)) => {
                        ChatContent::Text(Cow::Owned(format!("{system}\n\n{text}")))
                    }
                    (Some(system), ChatContent::Parts(mut parts)) => {
                        parts.insert(
                            0,
                            ContentPart::Text {
                                text: Cow::Owned(system),
                            },
                        );
                        ChatContent::Parts(parts)
                    }
                };
                out.push(ChatMessage::User { content });
            }
            other => out.push(other),
        }
    }
    if let Some(system) = pending {
        out.push(ChatMessage::User {
            content: ChatContent::Text(Cow::Owned(system)),
        });
    }
    out
}

/// Joins assistant messages that follow each other into one. The Messages API merges
/// consecutive turns of one role, so a history may hold `assistant [call A]`, `assistant
/// [call B]`, `user [result A, result B]`; an OpenAI server wants each call's result right
/// after the message that made it, so both calls must be one message.
fn merge_assistant_turns(messages: Vec<ChatMessage<'_>>) -> Vec<ChatMessage<'_>> {
    fn joined<'a>(a: Option<Cow<'a, str>>, b: Option<Cow<'a, str>>) -> Option<Cow<'a, str>> {
        match (a, b) {
            (Some(a), Some(b)) if a.is_empty() => Some(b),
            (Some(a), Some(b)) if b.is_empty() => Some(a),
            (Some(a), Some(b)) => Some(Cow::Owned(format!("{a}\n\n{b}"))),
            (a, b) => a.or(b),
        }
    }
    let is_assistant = |m: &ChatMessage<'_>| matches!(m, ChatMessage::Assistant { .. });
    if !messages
        .windows(2)
        .any(|pair| is_assistant(&pair[0]) && is_assistant(&pair[1]))
    {
        return messages;
    }
    let mut out: Vec<ChatMessage<'_>> = Vec::with_capacity(messages.len());
    for message in messages {
        match (out.last_mut(), message) {
            (
                Some(ChatMessage::Assistant {
                    content,
                    reasoning_content,
                    tool_calls,
                }),
                ChatMessage::Assistant {
                    content: next_content,
                    reasoning_content: next_reasoning,
                    tool_calls: next_calls,
                },
            ) => {
                *content = joined(content.take(), next_content);
                *reasoning_content = joined(reasoning_content.take(), next_reasoning);
                tool_calls.extend(next_calls);
            }
            (_, message) => out.push(message),
        }
    }
    out
}

/// The consistency pass: every assistant tool call is answered by a `tool` message right after
/// it (a synthetic one when the history has none), and `tool` messages that answer nothing are
/// dropped.
fn answer_every_tool_call(messages: Vec<ChatMessage<'_>>) -> Vec<ChatMessage<'_>> {
    let mut out = Vec::with_capacity(messages.len());
    let mut iter = messages.into_iter().peekable();
    while let Some(message) = iter.next() {
        let ids: Vec<&str> = match &message {
            ChatMessage::Tool { .. } => continue,
            ChatMessage::Assistant { tool_calls, .. } if !tool_calls.is_empty() => {
                tool_calls.iter().map(|c| c.id).collect()
            }
            _ => {
                out.push(message);
                continue;
            }
        };
        out.push(message);
        let mut answered = vec![false; ids.len()];
        while let Some(ChatMessage::Tool { .. }) = iter.peek() {
            let Some(ChatMessage::Tool {
                tool_call_id,
                content,
            }) = iter.next()
            else {
                break;
            };
            if let Some(i) = ids
                .iter()
                .zip(&answered)
                .position(|(id, done)| *id == tool_call_id && !done)
            {
                answered[i] = true;
                out.push(ChatMessage::Tool {
                    tool_call_id,
                    content,
                });
            }
        }
        for (id, done) in ids.iter().zip(&answered) {
            if !done {
                out.push(ChatMessage::Tool {
                    tool_call_id: id,
                    content: Cow::Borrowed(INTERRUPTED),
                });
            }
        }
    }
    out
}

/// A custom tool as a function; `None` for server tools, which have no schema.
fn tool(tool: &Tool) -> Option<ChatTool<'_>> {
    if tool.kind.as_deref().is_some_and(|kind| kind != "custom") {
        return None;
    }
    Some(ChatTool {
        kind: "function",
        function: FunctionDefinition {
            name: &tool.name,
            description: tool.description.as_deref().filter(|d| !d.is_empty()),
            parameters: schema(tool.input_schema.as_deref()),
        },
    })
}

/// The parameters schema: forwarded as is, minus a top-level `$schema` (rejected by some
/// upstreams, meaningless to all).
fn schema(raw: Option<&RawValue>) -> Cow<'_, RawValue> {
    let Some(raw) = raw else {
        // unwrap: a constant valid JSON text.
        return Cow::Owned(RawValue::from_string(EMPTY_SCHEMA.to_owned()).expect("valid json"));
    };
    if !raw.get().contains("\"$schema\"") {
        return Cow::Borrowed(raw);
    }
    let Ok(mut object) = serde_json::from_str::<OrderedObject<'_>>(raw.get()) else {
        return Cow::Borrowed(raw);
    };
    object.0.retain(|(key, _)| key != "$schema");
    match serde_json::to_string(&object).map(RawValue::from_string) {
        Ok(Ok(value)) => Cow::Owned(value),
        _ => Cow::Borrowed(raw),
    }
}

/// A JSON object whose members keep their order and stay unparsed.
struct OrderedObject<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for OrderedObject<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = OrderedObject<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    members.push(entry);
                }
                Ok(OrderedObject(members))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

impl Serialize for OrderedObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// `tool_choice` and `parallel_tool_calls` (docs/translation.md#tools-and-tool-choice).
fn tool_choice<'a>(
    choice: Option<&'a ToolChoice>,
    tools: &[ChatTool<'a>],
) -> (Option<ChatToolChoice<'a>>, Option<bool>) {
    let Some(choice) = choice else {
        return (None, None);
    };
    let (mapped, disable_parallel) = match choice {
        ToolChoice::Auto {
            disable_parallel_tool_use,
        } => (ChatToolChoice::Mode("auto"), *disable_parallel_tool_use),
        ToolChoice::Any {
            disable_parallel_tool_use,
        } => (ChatToolChoice::Mode("required"), *disable_parallel_tool_use),
        ToolChoice::Tool {
            name,
            disable_parallel_tool_use,
        } => {
            let mapped = if tools.iter().any(|t| t.function.name == name) {
                ChatToolChoice::Function {
                    kind: "function",
                    function: NamedFunction { name },
                }
            } else {
                // The forced tool was a server tool that was dropped.
                ChatToolChoice::Mode("auto")
            };
            (mapped, *disable_parallel_tool_use)
        }
        ToolChoice::None => (ChatToolChoice::Mode("none"), None),
        ToolChoice::Unknown => return (None, None),
    };
    (
        Some(mapped),
        (disable_parallel == Some(true)).then_some(false),
    )
}

/// `output_config.format` (`{type:"json_schema", schema}`) as `response_format`.
fn response_format(format: &Value) -> Option<Value> {
    if format.get("type")?.as_str()? != "json_schema" {
        return None;
    }
    let schema = format.get("schema")?.clone();
    Some(serde_json::json!({
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": schema},
    }))
}

#[cfg(test)]
mod tests;
