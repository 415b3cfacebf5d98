//! Pure Anthropic ⇄ OpenAI translation, streaming included.
//!
//! Everything here is a function of its inputs: no I/O, no clock, no async. The dispatcher
//! calls [`request::to_openai`] to turn a Claude Code request into a Chat Completions body,
//! [`response::from_openai`] or a [`stream::OpenAiToAnthropic`] to turn the answer back,
//! [`error::from_openai`] for upstream error bodies, and [`tokens::estimate`] for
//! `count_tokens`. The wire types live in [`anthropic`] and [`openai`], named as the APIs name
//! them. `docs/translation.md` describes the whole mapping; each choice it makes is explained
//! where it is made.

pub mod accumulate;
pub mod anthropic;
pub mod error;
pub mod openai;
pub mod request;
pub mod response;
pub mod stream;
pub mod tokens;
mod tool_args;
/// Test-only: the stream grammar checker, for tests and the fuzz target.
#[cfg(any(test, feature = "test-support"))]
pub mod validate;

#[cfg(test)]
pub(crate) mod testing;

pub use request::{ReasoningStyle, RequestOptions};
pub use stream::OpenAiToAnthropic;

/// A translated body as JSON, written once into a buffer about the size of the body it came
/// from (the two carry the same conversation or text), not one grown by doubling.
fn to_json(value: &impl serde::Serialize, source_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(source_len + 256);
    // unwrap: translated bodies are made of strings, numbers and already-valid JSON, written to
    // memory.
    serde_json::to_writer(&mut out, value).expect("a translated body serialises");
    out
}

/// Everything that can go wrong while translating.
#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    /// The client's body is not a Messages request.
    #[error("the request body is not a valid Anthropic Messages request: {0}")]
    InvalidRequest(serde_json::Error),
    /// The upstream's non-streaming body is not a Chat Completions response.
    #[error("the upstream response is not a valid Chat Completions response: {0}")]
    InvalidResponse(serde_json::Error),
    /// The upstream's non-streaming body has no choice to translate.
    #[error("the upstream response has no choices")]
    NoChoices,
    /// A streamed chunk is not a Chat Completions chunk.
    #[error("an upstream stream chunk is not valid JSON: {0}")]
    InvalidChunk(serde_json::Error),
    /// The upstream reported an error (an error object, or a `finish_reason` that means one).
    /// `status` and `error_type` are the Anthropic equivalents.
    #[error("upstream error ({error_type}): {message}")]
    UpstreamError {
        status: u16,
        error_type: String,
        message: String,
    },
    /// The upstream stream ended (EOF or `[DONE]`) before any `finish_reason`.
    #[error("the upstream stream ended without a finish_reason")]
    Truncated,
    /// Argument text arrived for a tool call whose block was already closed.
    #[error("the upstream sent arguments for tool call {index} after its block was closed")]
    LateToolArguments { index: u32 },
    /// The tool-call arguments of one stream went past the bound on what is buffered.
    #[error(
        "the upstream's tool-call arguments are larger than {}, claude-lb's bound",
        crate::limits::describe_bytes(*.limit)
    )]
    ToolArgumentsTooLarge { limit: usize },
}

impl TranslateError {
    /// The Anthropic status, error type and message to report this error with, either as an
    /// HTTP error (before a stream is committed) or as an `error` event (after).
    pub fn to_anthropic(&self) -> (u16, &str, String) {
        match self {
            Self::InvalidRequest(_) => (
                400,
                anthropic::ErrorType::InvalidRequest.as_str(),
                self.to_string(),
            ),
            Self::UpstreamError {
                status,
                error_type,
                message,
            } => (*status, error_type, message.clone()),
            Self::InvalidResponse(_)
            | Self::NoChoices
            | Self::InvalidChunk(_)
            | Self::Truncated
            | Self::LateToolArguments { .. }
            | Self::ToolArgumentsTooLarge { .. } => {
                (500, anthropic::ErrorType::Api.as_str(), self.to_string())
            }
        }
    }
}
