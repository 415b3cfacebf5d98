//! OpenAI Chat Completions wire types, named as the API names them.
//!
//! Requests are serialise-only and borrow from the parsed Anthropic request, so translating a
//! 50 KB Claude Code request copies little. Responses and chunks are deserialise-only and
//! tolerant: unknown fields are ignored, provider extensions (`reasoning_content`, `reasoning`,
//! `reasoning_details`, `prompt_cache_hit_tokens`) are optional, and `null` is accepted wherever
//! providers send it.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// A `POST /chat/completions` request body.
#[derive(Debug, Serialize)]
pub struct ChatCompletionRequest<'a> {
    pub model: &'a str,
    pub messages: Vec<ChatMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Not OpenAI proper; OpenRouter and vLLM accept it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ChatTool<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ChatToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<&'static str>,
    /// OpenRouter's reasoning parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<OpenRouterReasoning>,
    /// DeepSeek's thinking toggle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<DeepSeekThinking>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
}

/// `stream_options`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct StreamOptions {
    pub include_usage: bool,
}

/// OpenRouter `reasoning`: either a token budget or an effort.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct OpenRouterReasoning {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<&'static str>,
}

/// DeepSeek `thinking`: `{"type":"enabled"|"disabled"}`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct DeepSeekThinking {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// One message of a request.
#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage<'a> {
    System {
        content: Cow<'a, str>,
    },
    User {
        content: ChatContent<'a>,
    },
    Assistant {
        /// `null` when the message only makes tool calls.
        content: Option<Cow<'a, str>>,
        /// DeepSeek thinking mode: the reasoning of this turn, passed back.
        #[serde(skip_serializing_if = "Option::is_none")]
        reasoning_content: Option<Cow<'a, str>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: Cow<'a, str>,
    },
}

/// User message content: a string or content parts.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ChatContent<'a> {
    Text(Cow<'a, str>),
    Parts(Vec<ContentPart<'a>>),
}

/// A content part of a user message.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart<'a> {
    Text { text: Cow<'a, str> },
    ImageUrl { image_url: ImageUrl<'a> },
    File { file: FilePart<'a> },
}

/// `image_url` of an image part.
#[derive(Debug, Serialize)]
pub struct ImageUrl<'a> {
    pub url: Cow<'a, str>,
}

/// `file` of a file part (PDF as a data URL).
#[derive(Debug, Serialize)]
pub struct FilePart<'a> {
    pub filename: Cow<'a, str>,
    pub file_data: String,
}

/// A tool call of an assistant message in a request.
#[derive(Debug, Serialize)]
pub struct ToolCall<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCall<'a>,
}

/// `function` of a request tool call; `arguments` is a JSON string.
#[derive(Debug, Serialize)]
pub struct FunctionCall<'a> {
    pub name: &'a str,
    pub arguments: String,
}

/// One entry of `tools`.
#[derive(Debug, Serialize)]
pub struct ChatTool<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionDefinition<'a>,
}

/// `function` of a tool definition.
#[derive(Debug, Serialize)]
pub struct FunctionDefinition<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub parameters: Cow<'a, RawValue>,
}

/// `tool_choice`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ChatToolChoice<'a> {
    /// `"none"`, `"auto"` or `"required"`.
    Mode(&'static str),
    /// `{"type":"function","function":{"name":…}}`.
    Function {
        #[serde(rename = "type")]
        kind: &'static str,
        function: NamedFunction<'a>,
    },
}

/// `{"name": …}`.
#[derive(Debug, Serialize)]
pub struct NamedFunction<'a> {
    pub name: &'a str,
}

/// A non-streaming response body.
#[derive(Debug, Default, Deserialize)]
pub struct ChatCompletionResponse<'a> {
    #[serde(default, borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    pub usage: Option<CompletionUsage>,
    /// An error object some providers return with HTTP 200.
    #[serde(default)]
    pub error: Option<ErrorObject>,
}

/// One choice of a non-streaming response.
#[derive(Debug, Default, Deserialize)]
pub struct Choice<'a> {
    #[serde(default, borrow)]
    pub message: Option<ResponseMessage<'a>>,
    #[serde(default, borrow)]
    pub finish_reason: Option<Cow<'a, str>>,
}

/// `choices[].message`.
#[derive(Debug, Default, Deserialize)]
pub struct ResponseMessage<'a> {
    #[serde(default, borrow)]
    pub content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub refusal: Option<Cow<'a, str>>,
    /// DeepSeek reasoning.
    #[serde(default, borrow)]
    pub reasoning_content: Option<Cow<'a, str>>,
    /// OpenRouter reasoning (plain text).
    #[serde(default, borrow)]
    pub reasoning: Option<Cow<'a, str>>,
    /// OpenRouter structured reasoning.
    #[serde(default, borrow)]
    pub reasoning_details: Option<Vec<ReasoningDetail<'a>>>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ResponseToolCall>>,
}

/// A tool call of a non-streaming response.
#[derive(Debug, Default, Deserialize)]
pub struct ResponseToolCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<ResponseFunction>,
}

/// `function` of a response tool call.
#[derive(Debug, Default, Deserialize)]
pub struct ResponseFunction {
    #[serde(default)]
    pub name: Option<String>,
    /// A JSON string; some servers send an object instead, which is accepted too.
    #[serde(default)]
    pub arguments: Option<Value>,
}

/// An OpenRouter `reasoning_details` item.
#[derive(Debug, Default, Deserialize)]
pub struct ReasoningDetail<'a> {
    #[serde(rename = "type", default)]
    pub kind: Option<Cow<'a, str>>,
    /// `reasoning.text`.
    #[serde(default, borrow)]
    pub text: Option<Cow<'a, str>>,
    /// `reasoning.summary`.
    #[serde(default, borrow)]
    pub summary: Option<Cow<'a, str>>,
}

impl ReasoningDetail<'_> {
    /// The readable reasoning this item carries (none for `reasoning.encrypted`).
    pub fn readable(&self) -> Option<&str> {
        self.text
            .as_deref()
            .or(self.summary.as_deref())
            .filter(|t| !t.is_empty())
    }
}

/// Usage of a response or the final chunk of a stream.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CompletionUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// DeepSeek's cached prompt tokens.
    #[serde(default)]
    pub prompt_cache_hit_tokens: Option<u64>,
}

/// `usage.prompt_tokens_details`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PromptTokensDetails {
    #[serde(default)]
    pub cached_tokens: Option<u64>,
    #[serde(default)]
    pub cache_write_tokens: Option<u64>,
}

/// A streaming chunk (the `data` of one upstream SSE event).
#[derive(Debug, Default, Deserialize)]
pub struct ChatCompletionChunk<'a> {
    #[serde(default, borrow)]
    pub choices: Option<Vec<ChunkChoice<'a>>>,
    #[serde(default)]
    pub usage: Option<CompletionUsage>,
    /// A mid-stream error (OpenAI, OpenRouter).
    #[serde(default)]
    pub error: Option<ErrorObject>,
    /// `"error"` for vLLM-style error objects, which put `message` at the top level.
    #[serde(default)]
    pub object: Option<Cow<'a, str>>,
    #[serde(default)]
    pub message: Option<String>,
}

/// One choice of a chunk.
#[derive(Debug, Default, Deserialize)]
pub struct ChunkChoice<'a> {
    /// Which choice this is; only choice 0 is translated (Claude Code never asks for `n > 1`).
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default, borrow)]
    pub delta: Option<ChunkDelta<'a>>,
    #[serde(default)]
    pub finish_reason: Option<Cow<'a, str>>,
}

/// `choices[].delta`.
#[derive(Debug, Default, Deserialize)]
pub struct ChunkDelta<'a> {
    #[serde(default, borrow)]
    pub content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub reasoning_content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub reasoning: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub reasoning_details: Option<Vec<ReasoningDetail<'a>>>,
    #[serde(default, borrow)]
    pub tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

/// A tool call fragment of a chunk.
#[derive(Debug, Default, Deserialize)]
pub struct ToolCallDelta<'a> {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default, borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub function: Option<FunctionDelta<'a>>,
}

/// `function` of a tool call fragment.
#[derive(Debug, Default, Deserialize)]
pub struct FunctionDelta<'a> {
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    /// An argument fragment (or, from some servers, a cumulative snapshot or an object).
    #[serde(default, borrow)]
    pub arguments: Option<Arguments<'a>>,
}

/// Tool call arguments: a JSON string as the API says, or an object as some servers send.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Arguments<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Object(Value),
}

/// An OpenAI-style error object; `code` is a string (OpenAI) or a number (OpenRouter).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ErrorObject {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<Value>,
}
