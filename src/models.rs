//! The model names that go out of date: the ones Claude Code sends by default, and the ones the
//! `providers add` presets map them to. Everything that names a current model (the presets,
//! `check`'s probe, `test`, `demo`) takes it from here, so a new model generation is one edit.

/// The model Claude Code asks for by default (its main model).
pub const CLAUDE_OPUS: &str = "claude-opus-5-5";
/// The model Claude Code asks for with `--model sonnet`.
pub const CLAUDE_SONNET: &str = "claude-sonnet-5-5";
/// Claude Code's small model (`--model haiku`, and its session-title requests).
pub const CLAUDE_HAIKU: &str = "claude-haiku-5-5";

/// Claude Code's current default models, largest first.
pub const CLAUDE_DEFAULTS: [&str; 3] = [CLAUDE_OPUS, CLAUDE_SONNET, CLAUDE_HAIKU];

/// Moonshot's Kimi model for coding, served on its Anthropic-compatible endpoint.
pub const KIMI: &str = "kimi-k2.5";
/// Zhipu's main GLM model, served on its Anthropic-compatible endpoint.
pub const GLM: &str = "glm-4.6";
/// Zhipu's small GLM model, for Claude Code's small-model requests.
pub const GLM_SMALL: &str = "glm-4.5-air";
/// OpenAI's model for coding, for the translated `OpenAI` preset.
pub const OPENAI: &str = "gpt-4.1";
/// OpenAI's small model, for Claude Code's small-model requests.
pub const OPENAI_SMALL: &str = "gpt-4.1-mini";
/// The model suggested for a local Ollama server.
pub const OLLAMA: &str = "qwen2.5-coder:32b";
/// The model suggested for a local vLLM or llama.cpp server.
pub const VLLM: &str = "Qwen/Qwen2.5-Coder-32B-Instruct";
