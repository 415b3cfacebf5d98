//! OpenAI Chat Completions response → Anthropic Messages response (docs/translation.md).
//!
//! Content comes out in Anthropic's order: one `thinking` block (from `reasoning_content`,
//! `reasoning` or `reasoning_details`, in that order of preference, since OpenRouter sends the
//! same text in the last two), one `text` block if the text is not empty, then one `tool_use`
//! block per tool call. Thinking blocks carry an empty `signature` (there is no Anthropic
//! signature for foreign reasoning; Claude Code accepts and replays it). The mapping helpers
//! here ([`stop_reason`], [`map_usage`], [`tool_use_id`]) are shared with the streaming
//! translator so both paths agree.

use std::borrow::Cow;

use super::TranslateError;
use super::anthropic::{self, ContentBlock, MessagesResponse, Usage};
use super::openai::{ChatCompletionResponse, CompletionUsage, ReasoningDetail};
use super::{error, tool_args};

/// Translates a non-streaming Chat Completions response body into an Anthropic Messages
/// response body. The message id is derived from the upstream id (or, without one, from a
/// hash of the body); `model` is the client's model name.
pub fn from_openai(body: &[u8], client_model: &str) -> Result<Vec<u8>, TranslateError> {
    from_openai_with_usage(body, client_model).map(|(message, _)| message)
}

/// Like [`from_openai`], with the usage the translated message reports, so that the caller
/// does not read it back from the body it was just given.
pub fn from_openai_with_usage(
    body: &[u8],
    client_model: &str,
) -> Result<(Vec<u8>, Usage), TranslateError> {
    let response: ChatCompletionResponse<'_> =
        serde_json::from_slice(body).map_err(TranslateError::InvalidResponse)?;
    let id = message_id(response.id.as_deref(), body);
    let message = convert(response, client_model, id)?;
    Ok((super::to_json(&message, body.len()), message.usage))
}

/// Like [`from_openai`], with a message id chosen by the caller.
pub fn from_openai_with_id(
    body: &[u8],
    client_model: &str,
    message_id: String,
) -> Result<Vec<u8>, TranslateError> {
    let response: ChatCompletionResponse<'_> =
        serde_json::from_slice(body).map_err(TranslateError::InvalidResponse)?;
    let message = convert(response, client_model, message_id)?;
    Ok(super::to_json(&message, body.len()))
}

fn convert(
    response: ChatCompletionResponse<'_>,
    client_model: &str,
    id: String,
) -> Result<MessagesResponse, TranslateError> {
    if let Some(err) = response.error {
        let message = err
            .message
            .unwrap_or_else(|| "the upstream reported an error".to_owned());
        let mapped = error::map(None, err.kind.as_deref(), err.code.as_ref(), message);
        return Err(TranslateError::UpstreamError {
            status: mapped.status,
            error_type: mapped.error_type.to_owned(),
            message: mapped.message,
        });
    }
    let choice = response
        .choices
        .and_then(|choices| choices.into_iter().next())
        .ok_or(TranslateError::NoChoices)?;
    let message = choice.message.unwrap_or_default();

    let mut content = Vec::new();
    let reasoning = reasoning_text(
        message.reasoning_content.as_deref(),
        message.reasoning.as_deref(),
        message.reasoning_details.as_deref(),
    );
    if !reasoning.is_empty() {
        content.push(ContentBlock::Thinking {
            thinking: reasoning.into_owned(),
            signature: String::new(),
        });
    }
    let text = message
        .content
        .filter(|t| !t.is_empty())
        .or(message.refusal.filter(|t| !t.is_empty()));
    if let Some(text) = text {
        content.push(ContentBlock::Text {
            text: text.into_owned(),
        });
    }
    for call in message.tool_calls.into_iter().flatten() {
        let Some(function) = call.function else {
            continue;
        };
        let Some(name) = function.name.filter(|n| !n.is_empty()) else {
            // A call without a name cannot be a tool_use block.
            continue;
        };
        let input = match function.arguments {
            Some(serde_json::Value::String(args)) => tool_args::to_input(&args),
            Some(object @ serde_json::Value::Object(_)) => object,
            _ => serde_json::Value::Object(serde_json::Map::new()),
        };
        let index = u32::try_from(content.len()).unwrap_or(u32::MAX);
        content.push(ContentBlock::ToolUse {
            id: tool_use_id(call.id.as_deref(), &id, index),
            name,
            input,
        });
    }
    let has_tool_use = content
        .iter()
        .any(|b| matches!(b, ContentBlock::ToolUse { .. }));
    let stop_reason = stop_reason(choice.finish_reason.as_deref(), has_tool_use)?;
    Ok(MessagesResponse {
        id,
        kind: "message".to_owned(),
        role: "assistant".to_owned(),
        model: client_model.to_owned(),
        content,
        stop_reason: Some(stop_reason.to_owned()),
        stop_sequence: None,
        usage: map_usage(response.usage.as_ref()),
    })
}

/// The reasoning text of a message or delta: `reasoning_content` (DeepSeek), else `reasoning`
/// (OpenRouter), else the readable `reasoning_details` items joined.
pub(crate) fn reasoning_text<'a>(
    reasoning_content: Option<&'a str>,
    reasoning: Option<&'a str>,
    details: Option<&'a [ReasoningDetail<'a>]>,
) -> Cow<'a, str> {
    if let Some(text) = reasoning_content.filter(|t| !t.is_empty()) {
        return Cow::Borrowed(text);
    }
    if let Some(text) = reasoning.filter(|t| !t.is_empty()) {
        return Cow::Borrowed(text);
    }
    let mut readable = details
        .unwrap_or_default()
        .iter()
        .filter_map(ReasoningDetail::readable);
    match (readable.next(), readable.next()) {
        (None, _) => Cow::Borrowed(""),
        (Some(one), None) => Cow::Borrowed(one),
        (Some(first), Some(second)) => {
            let mut text = format!("{first}{second}");
            readable.for_each(|t| text.push_str(t));
            Cow::Owned(text)
        }
    }
}

/// Maps `finish_reason` to `stop_reason`. `stop` and `tool_calls` become
/// `tool_use` exactly when a `tool_use` block was produced (Ollama says `stop` with tool calls).
/// The finish reasons that mean an upstream failure are errors.
pub(crate) fn stop_reason(
    finish_reason: Option<&str>,
    has_tool_use: bool,
) -> Result<&'static str, TranslateError> {
    let natural = if has_tool_use { "tool_use" } else { "end_turn" };
    Ok(match finish_reason {
        Some("length") => "max_tokens",
        Some("content_filter") => "refusal",
        Some("insufficient_system_resource") => {
            return Err(TranslateError::UpstreamError {
                status: 529,
                error_type: anthropic::ErrorType::Overloaded.as_str().to_owned(),
                message: "the upstream ran out of capacity while generating (finish_reason insufficient_system_resource)".to_owned(),
            });
        }
        Some("error") => {
            return Err(TranslateError::UpstreamError {
                status: 500,
                error_type: anthropic::ErrorType::Api.as_str().to_owned(),
                message: "the upstream failed while generating (finish_reason error)".to_owned(),
            });
        }
        _ => natural,
    })
}

/// Maps OpenAI usage to Anthropic usage: cached prompt tokens are read
/// from `prompt_tokens_details.cached_tokens` or DeepSeek's `prompt_cache_hit_tokens`, and
/// `input_tokens` excludes them.
pub(crate) fn map_usage(usage: Option<&CompletionUsage>) -> Usage {
    let Some(usage) = usage else {
        return Usage::default();
    };
    let details = usage.prompt_tokens_details.as_ref();
    let cache_read = details
        .and_then(|d| d.cached_tokens)
        .or(usage.prompt_cache_hit_tokens)
        .unwrap_or(0);
    let cache_write = details.and_then(|d| d.cache_write_tokens).unwrap_or(0);
    Usage {
        input_tokens: usage
            .prompt_tokens
            .unwrap_or(0)
            .saturating_sub(cache_read)
            .saturating_sub(cache_write),
        cache_creation_input_tokens: cache_write,
        cache_read_input_tokens: cache_read,
        output_tokens: usage.completion_tokens.unwrap_or(0),
    }
}

/// A `tool_use` id matching Anthropic's `^[a-zA-Z0-9_-]+$`: the upstream id with other
/// characters replaced by `_`, or, when the upstream sent none, `toolu_` + the message id +
/// the block index (deterministic, so the same response always gets the same ids).
pub(crate) fn tool_use_id(upstream: Option<&str>, message_id: &str, index: u32) -> String {
    if let Some(id) = upstream.filter(|id| !id.is_empty()) {
        return id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
    }
    let base: String = message_id
        .strip_prefix("msg_")
        .unwrap_or(message_id)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    format!("toolu_{base}_{index}")
}

/// `msg_` + the upstream id's safe characters, or + a hash of the body when there is none.
fn message_id(upstream: Option<&str>, body: &[u8]) -> String {
    let upstream = upstream.unwrap_or_default();
    let mut id = String::with_capacity("msg_".len() + upstream.len());
    id.push_str("msg_");
    id.extend(
        upstream
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-'),
    );
    if id.len() == "msg_".len() {
        // Stable, good enough to tell responses apart.
        format!("msg_lb_{:016x}", crate::core::fnv::hash(body))
    } else {
        id
    }
}

#[cfg(test)]
mod tests;
