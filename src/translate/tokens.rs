//! A local `count_tokens` estimate, for when no Anthropic provider can answer it.
//!
//! Claude Code uses the number for context budgeting, so it must track the real prompt: a
//! constant (or 0) makes it compact too late and then hit "prompt is too long". The estimate
//! runs the `cl100k_base` BPE (embedded in `tiktoken-rs`, so it works offline; loaded once, on
//! first use) over everything the model reads: the system prompt, every text, thinking and
//! tool-result text, tool calls (name and input JSON), and the tool definitions (name,
//! description, schema JSON), plus a few tokens of framing per message, block and tool as the
//! chat template adds them. Images and PDFs count a fixed amount each, as their size is not
//! known without decoding them. Claude's own tokenizer differs from `cl100k_base`; the estimate
//! is typically within a few percent of it.

use std::sync::LazyLock;

use tiktoken_rs::CoreBPE;

use super::TranslateError;
use super::anthropic::{
    ContentBlock, CountTokensResponse, DocumentSource, MessageContent, MessagesRequest, System,
    ToolResultContent,
};

/// Framing tokens per message (role markers).
const PER_MESSAGE: u32 = 4;
/// Framing tokens per content block and per tool definition.
const PER_BLOCK: u32 = 3;
/// An image, whose dimensions are unknown here (Anthropic: about width × height / 750; a
/// typical screenshot is about 1 600).
const PER_IMAGE: u32 = 1_600;
/// A PDF page count is unknown here; a short document.
const PER_DOCUMENT: u32 = 3_000;

/// The shared encoder, built on first use (the BPE ranks are compiled into the binary).
static ENCODER: LazyLock<Option<CoreBPE>> = LazyLock::new(|| tiktoken_rs::cl100k_base().ok());

/// Estimates the input tokens of a `count_tokens` (or Messages) request body.
pub fn estimate(body: &[u8]) -> Result<u32, TranslateError> {
    let request: MessagesRequest =
        serde_json::from_slice(body).map_err(TranslateError::InvalidRequest)?;
    Ok(estimate_request(&request))
}

/// An upper bound of [`estimate`] for `body`, from its length alone: no parse, one byte search.
///
/// Every token of text is at least one byte of it, a text's JSON literal is at least as long as
/// the text, and the framing counted per message, block and tool is smaller than the JSON
/// around each of them; the fixed amounts of images and documents are added for each
/// occurrence of their type names. So a body whose bound is below a threshold is below it,
/// and routing on input tokens tokenizes only bodies that might reach it.
pub fn upper_bound(body: &[u8]) -> u64 {
    let count = |needle: &[u8]| memchr::memmem::find_iter(body, needle).count() as u64;
    let fixed = count(b"\"image\"").saturating_mul(u64::from(PER_IMAGE))
        + count(b"\"document\"").saturating_mul(u64::from(PER_DOCUMENT));
    (body.len() as u64).saturating_add(fixed)
}

/// The `count_tokens` response body: `{"input_tokens":N}`.
pub fn count_tokens_body(input_tokens: u32) -> Vec<u8> {
    // unwrap: a struct with one integer always serialises.
    serde_json::to_vec(&CountTokensResponse { input_tokens }).expect("body serialises")
}

/// Estimates the input tokens of a parsed request.
pub fn estimate_request(request: &MessagesRequest) -> u32 {
    let mut counter = Counter::default();
    match &request.system {
        Some(System::Text(text)) => counter.text(text),
        Some(System::Blocks(blocks)) => {
            for block in blocks {
                counter.text(&block.text);
            }
        }
        None => {}
    }
    for message in &request.messages {
        counter.fixed(PER_MESSAGE);
        match &message.content {
            MessageContent::Text(text) => counter.text(text),
            MessageContent::Blocks(blocks) => {
                for block in blocks {
                    counter.block(block);
                }
            }
        }
    }
    for tool in request.tools.iter().flatten() {
        counter.fixed(PER_BLOCK);
        counter.text(&tool.name);
        if let Some(description) = &tool.description {
            counter.text(description);
        }
        if let Some(schema) = &tool.input_schema {
            counter.text(schema.get());
        }
    }
    counter.total
}

#[derive(Default)]
struct Counter {
    total: u32,
}

impl Counter {
    fn fixed(&mut self, tokens: u32) {
        self.total = self.total.saturating_add(tokens);
    }

    fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let tokens = match ENCODER.as_ref() {
            Some(encoder) => encoder.encode_ordinary(text).len(),
            // Without the encoder (it cannot fail to load in practice): ~4 bytes per token.
            None => text.len().div_ceil(4),
        };
        self.fixed(u32::try_from(tokens).unwrap_or(u32::MAX));
    }

    fn block(&mut self, block: &ContentBlock) {
        self.fixed(PER_BLOCK);
        match block {
            ContentBlock::Text { text } => self.text(text),
            ContentBlock::Thinking { thinking, .. } => self.text(thinking),
            ContentBlock::ToolUse { name, input, .. } => {
                self.text(name);
                self.text(&input.to_string());
            }
            ContentBlock::ToolResult { content, .. } => match content {
                Some(ToolResultContent::Text(text)) => self.text(text),
                Some(ToolResultContent::Blocks(blocks)) => {
                    for block in blocks {
                        self.block(block);
                    }
                }
                None => {}
            },
            ContentBlock::Image { .. } => self.fixed(PER_IMAGE),
            ContentBlock::Document { source, .. } => match source {
                DocumentSource::Text { data } => self.text(data),
                DocumentSource::Content {
                    content: ToolResultContent::Text(text),
                } => self.text(text),
                DocumentSource::Content {
                    content: ToolResultContent::Blocks(blocks),
                } => {
                    for block in blocks {
                        self.block(block);
                    }
                }
                _ => self.fixed(PER_DOCUMENT),
            },
            ContentBlock::RedactedThinking { .. } | ContentBlock::Unknown => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{count_tokens_body, estimate};

    #[test]
    fn counts_real_tokens_not_a_constant() {
        let short =
            estimate(br#"{"model":"m","messages":[{"role":"user","content":"Hello, Claude"}]}"#)
                .expect("estimate");
        // "Hello, Claude" is 3 cl100k tokens (`Hello`, `,`, ` Claude`), plus the message framing.
        assert_eq!(short, 3 + 4);
        let long_text = "The quick brown fox jumps over the lazy dog. ".repeat(100);
        let body =
            serde_json::json!({"model": "m", "messages": [{"role": "user", "content": long_text}]});
        let long = estimate(body.to_string().as_bytes()).expect("estimate");
        assert!((1000..1100).contains(&long), "{long}");
    }

    #[test]
    fn counts_system_tools_and_every_block_kind() {
        let base =
            serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        let base_count = estimate(base.to_string().as_bytes()).expect("estimate");
        let cases = [
            (
                "system",
                serde_json::json!({"system": [{"type": "text", "text": "You are Claude Code, a CLI tool for software engineering."}]}),
            ),
            (
                "tools",
                serde_json::json!({"tools": [{"name": "Bash", "description": "Executes a shell command", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]}),
            ),
        ];
        for (what, extra) in cases {
            let mut body = base.clone();
            for (k, v) in extra.as_object().expect("object") {
                body[k] = v.clone();
            }
            let count = estimate(body.to_string().as_bytes()).expect("estimate");
            assert!(count > base_count + 5, "{what}: {count} vs {base_count}");
        }
        let blocks = serde_json::json!({"model": "m", "messages": [
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Let me think about this", "signature": "x"},
                {"type": "tool_use", "id": "t", "name": "Bash", "input": {"command": "ls -la"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "main.rs lib.rs"}, {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}]},
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "some document text"}},
            ]},
        ]});
        let count = estimate(blocks.to_string().as_bytes()).expect("estimate");
        assert!(count > 1_600 + 20, "{count}");
    }

    #[test]
    fn the_bound_is_never_below_the_estimate() {
        let text = "The quick brown fox jumps over the lazy dog. ".repeat(50);
        for body in [
            serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
            serde_json::json!({"model": "m", "messages": [{"role": "user", "content": text}]}),
            serde_json::json!({"model": "m", "system": "be brief", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "a"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA"}},
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "AA"}},
            ]}], "tools": [{"name": "Bash", "input_schema": {"type": "object"}}]}),
        ] {
            let bytes = body.to_string().into_bytes();
            let estimate = u64::from(estimate(&bytes).expect("estimate"));
            let bound = super::upper_bound(&bytes);
            assert!(bound >= estimate, "{bound} < {estimate} for {body}");
        }
        // Short text costs bytes, not tokens: the bound stays near the length.
        let short = br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#;
        assert_eq!(super::upper_bound(short), short.len() as u64);
    }

    #[test]
    fn rejects_bodies_that_are_not_requests_and_writes_the_answer() {
        assert!(estimate(b"{\"messages\": 3}").is_err());
        assert_eq!(count_tokens_body(14), br#"{"input_tokens":14}"#);
    }
}
