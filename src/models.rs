//! The model names that go out of date: the ones Claude Code sends by default, and the ones the
//! `providers add` presets map them to. Everything that names a current model (the presets,
//! `check`'s probe, `test`, `demo`, and the warning about a pool that serves none of Claude
//! Code's defaults) takes it from here, so a new model generation is one edit.
//!
//! Claude Code asks for one of three families: Opus (its main model), Sonnet (`--model sonnet`)
//! and Haiku (the small model of its session-title requests). A pool that serves none of these
//! names leaves Claude Code with `404` answers, so `config validate` and `serve` warn about any
//! of them that no provider serves. The names are those Claude Code 2.1.332 sends; older
//! releases send older names (2.1.197 sends `claude-opus-4-8`), which a `models` pattern such
//! as `claude-opus-*` serves too.

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

/// The family a Claude Code default belongs to (`Opus`, `Sonnet`, `Haiku`), for messages.
pub fn family(model: &str) -> &'static str {
    if model.contains("opus") {
        "Opus"
    } else if model.contains("sonnet") {
        "Sonnet"
    } else if model.contains("haiku") {
        "Haiku"
    } else {
        "Claude"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_distinct_claude_names_of_their_family() {
        for (i, name) in CLAUDE_DEFAULTS.iter().enumerate() {
            assert!(name.starts_with("claude-"), "{name}");
            assert!(!CLAUDE_DEFAULTS[..i].contains(name), "{name} twice");
        }
        assert_eq!(family(CLAUDE_OPUS), "Opus");
        assert_eq!(family(CLAUDE_SONNET), "Sonnet");
        assert_eq!(family(CLAUDE_HAIKU), "Haiku");
    }
}
