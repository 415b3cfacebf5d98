//! The Claude model names that Claude Code sends today, kept in this one place.
//!
//! Claude Code asks for one of three families: Opus (the largest, chosen with `/model opus`
//! or for planning), Sonnet (the default for most work) and Haiku (the small, fast model it
//! uses for background tasks such as titles and summaries). A pool that serves none of
//! these names leaves Claude Code with `404` answers, so `config validate` and `serve` warn
//! about any of them that no provider serves.
//!
//! The names are those of Claude Code 2.1.197: it sends `claude-opus-4-8` for a `claude -p`
//! run with an API key (seen on the wire), and `claude-sonnet-4-6` and `claude-haiku-4-5` are
//! the newest Sonnet and Haiku names it knows. When Claude Code moves to new models, change the
//! names here: presets, `check`, `test`, `demo` and the warnings all read them from this
//! module.

/// Claude Code's largest model.
pub const OPUS: &str = "claude-opus-4-8";

/// Claude Code's default model.
pub const SONNET: &str = "claude-sonnet-4-6";

/// The small model Claude Code uses for background tasks.
pub const HAIKU: &str = "claude-haiku-4-5";

/// The model names Claude Code sends by default, largest first.
pub const CLAUDE_CODE_DEFAULTS: [&str; 3] = [OPUS, SONNET, HAIKU];

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
    fn defaults_are_distinct_claude_names() {
        for (i, name) in CLAUDE_CODE_DEFAULTS.iter().enumerate() {
            assert!(name.starts_with("claude-"), "{name}");
            assert!(!CLAUDE_CODE_DEFAULTS[..i].contains(name), "{name} twice");
        }
        assert!(OPUS.contains("opus") && SONNET.contains("sonnet") && HAIKU.contains("haiku"));
    }
}
