//! The well-known services `providers add` offers as presets: data only (the wizard in
//! `ui::wizard` asks the questions). Model names come from [`crate::models`].

use crate::core::provider::{AuthType, ProviderKind};
use crate::models;

/// A well-known service: its base URL and a model map that suits Claude Code.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    pub label: &'static str,
    pub kind: ProviderKind,
    /// `None`: ask for it.
    pub base_url: Option<&'static str>,
    pub auth_type: AuthType,
    /// The environment variable suggested for the key.
    pub env_var: Option<&'static str>,
    /// The model map; empty with `ask_model` set means "ask for one model name".
    pub models: &'static [(&'static str, &'static str)],
    /// A model name to suggest when the map is asked for (local servers).
    pub ask_model: Option<&'static str>,
}

/// The presets offered, per type, in menu order; the last of each type is "other".
///
/// Services that serve the Anthropic Messages API natively come as `anthropic` presets (nothing
/// is translated, so prompt caching and thinking stay intact); the `openai` presets are for what
/// only speaks Chat Completions. Their model names come from [`crate::models`].
pub const PRESETS: &[Preset] = &[
    Preset {
        label: "OpenRouter (openrouter.ai/api, Anthropic API, bearer token)",
        kind: ProviderKind::Anthropic,
        base_url: Some("https://openrouter.ai/api"),
        auth_type: AuthType::AuthToken,
        env_var: Some("OPENROUTER_API_KEY"),
        models: &[],
        ask_model: None,
    },
    Preset {
        label: "DeepSeek (api.deepseek.com/anthropic, maps Claude model names itself)",
        kind: ProviderKind::Anthropic,
        base_url: Some("https://api.deepseek.com/anthropic"),
        auth_type: AuthType::ApiKey,
        env_var: Some("DEEPSEEK_API_KEY"),
        models: &[],
        ask_model: None,
    },
    Preset {
        label: "Official Anthropic API (api.anthropic.com, no model map needed)",
        kind: ProviderKind::Anthropic,
        base_url: Some("https://api.anthropic.com"),
        auth_type: AuthType::ApiKey,
        env_var: Some("ANTHROPIC_API_KEY"),
        models: &[],
        ask_model: None,
    },
    Preset {
        label: "Moonshot Kimi (api.moonshot.ai/anthropic)",
        kind: ProviderKind::Anthropic,
        base_url: Some("https://api.moonshot.ai/anthropic"),
        auth_type: AuthType::AuthToken,
        env_var: Some("MOONSHOT_API_KEY"),
        models: &[("*", models::KIMI)],
        ask_model: None,
    },
    Preset {
        label: "Z.AI GLM (api.z.ai/api/anthropic)",
        kind: ProviderKind::Anthropic,
        base_url: Some("https://api.z.ai/api/anthropic"),
        auth_type: AuthType::AuthToken,
        env_var: Some("ZAI_API_KEY"),
        models: &[("claude-*haiku*", models::GLM_SMALL), ("*", models::GLM)],
        ask_model: None,
    },
    Preset {
        label: "Anthropic-compatible relay (bearer token, your relay's URL)",
        kind: ProviderKind::Anthropic,
        base_url: None,
        auth_type: AuthType::AuthToken,
        env_var: None,
        models: &[],
        ask_model: None,
    },
    Preset {
        label: "OpenAI (api.openai.com, translated)",
        kind: ProviderKind::OpenAi,
        base_url: Some("https://api.openai.com/v1"),
        auth_type: AuthType::ApiKey,
        env_var: Some("OPENAI_API_KEY"),
        models: &[
            ("claude-*haiku*", models::OPENAI_SMALL),
            ("*", models::OPENAI),
        ],
        ask_model: None,
    },
    Preset {
        label: "Local Ollama (http://127.0.0.1:11434/v1)",
        kind: ProviderKind::OpenAi,
        base_url: Some("http://127.0.0.1:11434/v1"),
        auth_type: AuthType::ApiKey,
        env_var: None,
        models: &[],
        ask_model: Some(models::OLLAMA),
    },
    Preset {
        label: "Local vLLM or llama.cpp server (http://127.0.0.1:8000/v1)",
        kind: ProviderKind::OpenAi,
        base_url: Some("http://127.0.0.1:8000/v1"),
        auth_type: AuthType::ApiKey,
        env_var: None,
        models: &[],
        ask_model: Some(models::VLLM),
    },
    Preset {
        label: "Another OpenAI-compatible service",
        kind: ProviderKind::OpenAi,
        base_url: None,
        auth_type: AuthType::ApiKey,
        env_var: None,
        models: &[],
        ask_model: None,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::edit::{self, NewProvider};

    #[test]
    fn native_anthropic_presets_come_first() {
        let anthropic: Vec<&Preset> = PRESETS
            .iter()
            .filter(|p| p.kind == ProviderKind::Anthropic)
            .collect();
        assert_eq!(anthropic[0].base_url, Some("https://openrouter.ai/api"));
        assert_eq!(anthropic[0].auth_type, AuthType::AuthToken);
        assert_eq!(
            anthropic[1].base_url,
            Some("https://api.deepseek.com/anthropic")
        );
    }

    #[test]
    fn every_preset_is_a_valid_provider() {
        for (i, preset) in PRESETS.iter().enumerate() {
            let provider = NewProvider {
                name: format!("p{i}"),
                kind: preset.kind,
                auth_type: preset.auth_type,
                auth_value: "k".to_owned(),
                base_url: Some(preset.base_url.unwrap_or("https://x.example").to_owned()),
                models: if preset.models.is_empty() && preset.kind == ProviderKind::OpenAi {
                    vec![("*".to_owned(), preset.ask_model.unwrap_or("m").to_owned())]
                } else {
                    preset
                        .models
                        .iter()
                        .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
                        .collect()
                },
                weight: None,
                enabled: true,
            };
            let text = edit::add_provider("", &provider).unwrap();
            let loaded = crate::config::load_str(&text, "t", &|_| None)
                .unwrap_or_else(|e| panic!("{}: {e}", preset.label));
            let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
            // Local servers are plain http on loopback, which is fine.
            assert!(warnings.is_empty(), "{}: {warnings:?}", preset.label);
        }
    }
}
