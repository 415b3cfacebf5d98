//! Anthropic Messages API wire types, named as the API names them.
//!
//! Requests are deserialised tolerantly: unknown fields are ignored, unknown content block
//! types become [`ContentBlock::Unknown`], unknown roles [`Role::Unknown`], so a new Claude Code
//! release does not break translation. Responses and stream events are serialised with every
//! key Claude Code expects (`stop_sequence: null`, all four usage counters).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// A `POST /v1/messages` (or `/v1/messages/count_tokens`) request body.
#[derive(Debug, Deserialize)]
pub struct MessagesRequest {
    pub model: String,
    pub messages: Vec<Message>,
    #[serde(default)]
    pub system: Option<System>,
    /// Required by `/v1/messages`, absent from `count_tokens`.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub top_k: Option<u32>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub tools: Option<Vec<Tool>>,
    #[serde(default)]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default)]
    pub thinking: Option<Thinking>,
    #[serde(default)]
    pub output_config: Option<OutputConfig>,
}

/// `system`: a string or an array of text blocks.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum System {
    Text(String),
    Blocks(Vec<SystemBlock>),
}

/// One block of an array `system`; only `text` blocks carry anything translatable.
#[derive(Debug, Deserialize)]
pub struct SystemBlock {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: String,
}

/// One entry of `messages`.
#[derive(Debug, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: MessageContent,
}

/// A message role. Claude Code also sends `system` messages inside `messages`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    System,
    /// A role this version does not know; translated like `user` so no content is lost.
    #[serde(other)]
    Unknown,
}

/// `content`: a string (one text block) or an array of blocks.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

/// A content block, in requests (both roles) and in responses.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    Text {
        text: String,
    },
    Image {
        source: ImageSource,
    },
    Document {
        source: DocumentSource,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<ToolResultContent>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_error: Option<bool>,
    },
    Thinking {
        thinking: String,
        #[serde(default)]
        signature: String,
    },
    RedactedThinking {
        data: String,
    },
    /// Any other block type (server tool blocks, `search_result`, newer types).
    #[serde(other)]
    Unknown,
}

/// `image.source`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource {
    Base64 {
        media_type: String,
        data: String,
    },
    Url {
        url: String,
    },
    File {
        file_id: String,
    },
    #[serde(other)]
    Unknown,
}

/// `document.source`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DocumentSource {
    Base64 {
        media_type: String,
        data: String,
    },
    Text {
        #[serde(default)]
        data: String,
    },
    Url {
        url: String,
    },
    Content {
        content: ToolResultContent,
    },
    File {
        file_id: String,
    },
    #[serde(other)]
    Unknown,
}

/// `tool_result.content` (and a `content` document source): a string or blocks.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ToolResultContent {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

/// One entry of `tools`: a custom tool (with `input_schema`) or a server tool (versioned
/// `type`, no schema).
#[derive(Debug, Deserialize)]
pub struct Tool {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Kept as raw JSON: a tool schema is forwarded, never interpreted.
    #[serde(default)]
    pub input_schema: Option<Box<RawValue>>,
}

/// `tool_choice`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    Auto {
        #[serde(default)]
        disable_parallel_tool_use: Option<bool>,
    },
    Any {
        #[serde(default)]
        disable_parallel_tool_use: Option<bool>,
    },
    Tool {
        name: String,
        #[serde(default)]
        disable_parallel_tool_use: Option<bool>,
    },
    None,
    #[serde(other)]
    Unknown,
}

/// `thinking`: `enabled` (with `budget_tokens`), `disabled`, `adaptive`, `between_tools`, ….
#[derive(Debug, Deserialize)]
pub struct Thinking {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub budget_tokens: Option<u32>,
}

/// `output_config`: effort and structured output format.
#[derive(Debug, Deserialize)]
pub struct OutputConfig {
    #[serde(default)]
    pub effort: Option<String>,
    #[serde(default)]
    pub format: Option<Value>,
}

/// A non-streaming Messages response (also the `message` of `message_start`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct MessagesResponse {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub role: String,
    pub model: String,
    pub content: Vec<ContentBlock>,
    /// `null` only in `message_start`.
    pub stop_reason: Option<String>,
    /// Always serialised, `null` when no custom stop sequence matched.
    pub stop_sequence: Option<String>,
    pub usage: Usage,
}

/// Token usage; all four counters are always present.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub output_tokens: u64,
}

/// A streaming event (the `data` of an SSE event whose name is the same `type`).
///
/// Text fields borrow where they can, so writing a delta does not copy its text.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent<'a> {
    MessageStart {
        message: MessagesResponse,
    },
    ContentBlockStart {
        index: u32,
        #[serde(borrow)]
        content_block: ContentBlockStart<'a>,
    },
    ContentBlockDelta {
        index: u32,
        #[serde(borrow)]
        delta: Delta<'a>,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        delta: MessageDeltaBody,
        usage: Usage,
    },
    MessageStop,
    Ping,
    Error {
        #[serde(borrow)]
        error: ErrorObject<'a>,
    },
    /// Event types this version does not know; consumers ignore them.
    #[serde(other)]
    Unknown,
}

impl StreamEvent<'_> {
    /// The SSE event name, equal to the JSON `type`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MessageStart { .. } => "message_start",
            Self::ContentBlockStart { .. } => "content_block_start",
            Self::ContentBlockDelta { .. } => "content_block_delta",
            Self::ContentBlockStop { .. } => "content_block_stop",
            Self::MessageDelta { .. } => "message_delta",
            Self::MessageStop => "message_stop",
            Self::Ping => "ping",
            Self::Error { .. } => "error",
            Self::Unknown => "unknown",
        }
    }
}

/// The `content_block` of `content_block_start`: always empty, content comes in deltas.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlockStart<'a> {
    Text {
        #[serde(borrow)]
        text: Cow<'a, str>,
    },
    Thinking {
        #[serde(borrow)]
        thinking: Cow<'a, str>,
        #[serde(borrow)]
        signature: Cow<'a, str>,
    },
    ToolUse {
        #[serde(borrow)]
        id: Cow<'a, str>,
        #[serde(borrow)]
        name: Cow<'a, str>,
        input: Value,
    },
    #[serde(other)]
    Unknown,
}

/// The `delta` of `content_block_delta`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Delta<'a> {
    TextDelta {
        #[serde(borrow)]
        text: Cow<'a, str>,
    },
    InputJsonDelta {
        #[serde(borrow)]
        partial_json: Cow<'a, str>,
    },
    ThinkingDelta {
        #[serde(borrow)]
        thinking: Cow<'a, str>,
    },
    SignatureDelta {
        #[serde(borrow)]
        signature: Cow<'a, str>,
    },
    #[serde(other)]
    Unknown,
}

/// The `delta` of `message_delta`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct MessageDeltaBody {
    pub stop_reason: Option<String>,
    pub stop_sequence: Option<String>,
}

/// The `error` object of an error body or `error` event.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ErrorObject<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow)]
    pub message: Cow<'a, str>,
}

/// An error response body: `{"type":"error","error":{"type":…,"message":…}}`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ErrorResponse<'a> {
    #[serde(rename = "type")]
    pub kind: Cow<'a, str>,
    #[serde(borrow)]
    pub error: ErrorObject<'a>,
}

pub use crate::core::error_type::ErrorType;

/// What an error body or `error` event says, read tolerantly: a provider may leave out either
/// field, and a body that is not this shape is simply not one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ErrorFields {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub message: Option<String>,
}

impl ErrorFields {
    /// The `error` object of `{"error":{"type":…,"message":…}}`, or `None` when the body is not
    /// JSON of that shape.
    pub fn read(body: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        struct Envelope {
            error: Option<ErrorFields>,
        }
        serde_json::from_slice::<Envelope>(body).ok()?.error
    }

    /// `overloaded_error: Overloaded`, or `unknown` for an error that names no type.
    pub fn summary(&self) -> String {
        let kind = self.kind.as_deref().unwrap_or("unknown");
        match &self.message {
            Some(message) => format!("{kind}: {message}"),
            None => kind.to_owned(),
        }
    }
}

/// The `count_tokens` response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct CountTokensResponse {
    pub input_tokens: u32,
}
