//! The `providers add` wizard: `dialoguer` prompts for whatever the command line left out.
//!
//! [`collect`] does the talking and nothing else: it turns a [`Prefill`] (the flags given) into
//! a complete [`NewProvider`], asking only for the missing fields. Editing the file is
//! [`crate::config::edit`]'s job, and the command decides what to do with the answers. Prompts
//! and explanations go to stderr, so stdout stays for the command's result.

use std::io;

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Password, Select};

use crate::config::edit::{NewProvider, is_valid_name};
use crate::config::presets::{PRESETS, Preset};
use crate::core::provider::{AuthType, ProviderKind};

/// Where a provider's credential comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// An environment variable, written as `${VAR}`.
    Env(String),
    /// The key itself, written in plain text.
    Literal(String),
}

impl Credential {
    /// The `auth_value` to write.
    pub fn auth_value(&self) -> String {
        match self {
            Self::Env(var) => format!("${{{var}}}"),
            Self::Literal(value) => value.clone(),
        }
    }
}

/// The answers already given as flags; `None` means "ask".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prefill {
    pub name: Option<String>,
    pub kind: Option<ProviderKind>,
    pub auth_type: Option<AuthType>,
    pub credential: Option<Credential>,
    pub base_url: Option<String>,
    /// `None` when no `--model` was given.
    pub models: Option<Vec<(String, String)>>,
    pub weight: Option<u32>,
    pub enabled: bool,
}

impl Prefill {
    /// The flags still needed before the provider can be written without asking anything.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.name.is_none() {
            missing.push("--name");
        }
        if self.kind.is_none() {
            missing.push("--type");
        }
        if self.credential.is_none() {
            missing.push("--auth-env (or --auth-value)");
        }
        missing
    }

    /// The provider, when nothing required is missing; optional fields take their defaults.
    pub fn complete(&self) -> Option<NewProvider> {
        Some(NewProvider {
            name: self.name.clone()?,
            kind: self.kind?,
            auth_type: self.auth_type.unwrap_or(AuthType::ApiKey),
            auth_value: self.credential.as_ref()?.auth_value(),
            base_url: self.base_url.clone(),
            models: self.models.clone().unwrap_or_default(),
            weight: self.weight.filter(|w| *w != 1),
            enabled: self.enabled,
        })
    }
}

/// Why `url` cannot be the `base_url` of a `kind` provider, said before anything is written.
pub fn check_base_url(kind: ProviderKind, url: &str) -> Result<(), String> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => return Err("expected an http:// or https:// URL".to_owned()),
    }
    let path = url.trim_end_matches('/');
    for tail in ["/v1/messages", "/chat/completions"] {
        if let Some(base) = path.strip_suffix(tail) {
            return Err(format!("claude-lb appends `{tail}` itself; enter {base}"));
        }
    }
    if kind == ProviderKind::Anthropic
        && let Some(base) = path.strip_suffix("/v1")
    {
        return Err(format!(
            "an anthropic-type base URL ends before `/v1` (claude-lb appends `/v1/messages`); enter {base}"
        ));
    }
    Ok(())
}

/// Parses one `PATTERN=MODEL` pair (split at the first `=`).
pub fn parse_model_pair(pair: &str) -> Result<(String, String), String> {
    match pair.split_once('=') {
        Some((pattern, model)) if !pattern.trim().is_empty() && !model.trim().is_empty() => {
            Ok((pattern.trim().to_owned(), model.trim().to_owned()))
        }
        _ => Err(format!(
            "{pair:?} is not PATTERN=MODEL (for example \"claude-*haiku*=deepseek-chat\" or \"*=gpt-4.1\")"
        )),
    }
}

/// A suggested environment variable name for a provider called `name`.
fn env_suggestion(name: &str) -> String {
    let mut var: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if var.starts_with(|c: char| c.is_ascii_digit()) {
        var.insert(0, '_');
    }
    var.push_str("_API_KEY");
    var
}

pub(super) fn to_io(e: dialoguer::Error) -> io::Error {
    match e {
        dialoguer::Error::IO(e) => e,
    }
}

pub(super) fn say(text: &str) -> io::Result<()> {
    dialoguer::console::Term::stderr().write_line(text)
}

/// Asks for every field `prefill` leaves out and returns the complete provider.
///
/// `taken` are the names already in the file, which the name prompt refuses.
pub fn collect(prefill: &Prefill, taken: &[String]) -> io::Result<NewProvider> {
    catch_ctrl_c();
    let theme = ColorfulTheme::default();
    say(
        "Add a provider to claude-lb. Press Ctrl-C at any time to stop; nothing is written until the end.",
    )?;

    let name = match &prefill.name {
        Some(name) => name.clone(),
        None => ask_name(&theme, taken)?,
    };
    let kind = match prefill.kind {
        Some(kind) => kind,
        None => ask_kind(&theme)?,
    };
    // A preset only fills in what the flags did not give.
    let preset = if prefill.base_url.is_some() && prefill.models.is_some() {
        None
    } else {
        Some(ask_preset(&theme, kind)?)
    };
    let auth_type = match (prefill.auth_type, kind) {
        (Some(auth_type), _) => auth_type,
        (None, ProviderKind::OpenAi) => {
            say(
                "  auth_type: api_key (an openai-type provider always gets `Authorization: Bearer KEY`, so there is nothing to choose)",
            )?;
            AuthType::ApiKey
        }
        (None, ProviderKind::Anthropic) => ask_auth_type(&theme, preset.as_ref())?,
    };
    let credential = match &prefill.credential {
        Some(credential) => credential.clone(),
        None => ask_credential(&theme, &name, preset.as_ref())?,
    };
    let base_url = match &prefill.base_url {
        Some(url) => url.clone(),
        None => ask_base_url(&theme, kind, preset.as_ref())?,
    };
    let models = match &prefill.models {
        Some(models) => models.clone(),
        None => ask_models(&theme, kind, preset.as_ref())?,
    };
    let weight = match prefill.weight {
        Some(weight) => weight,
        None => Input::<u32>::with_theme(&theme)
            .with_prompt("Weight (used by the `weighted` strategy)")
            .default(1)
            .validate_with(|w: &u32| if *w >= 1 { Ok(()) } else { Err("at least 1") })
            .interact_text()
            .map_err(to_io)?,
    };

    Ok(NewProvider {
        name,
        kind,
        auth_type,
        auth_value: credential.auth_value(),
        base_url: Some(base_url),
        models,
        weight: (weight != 1).then_some(weight),
        enabled: prefill.enabled,
    })
}

fn ask_name(theme: &ColorfulTheme, taken: &[String]) -> io::Result<String> {
    Input::<String>::with_theme(theme)
        .with_prompt("Name (letters, digits, _ . -)")
        .validate_with(|input: &String| -> Result<(), String> {
            if !is_valid_name(input) {
                Err("use letters, digits, `_`, `.` and `-` only".to_owned())
            } else if taken.iter().any(|t| t == input) {
                Err(format!("a provider named {input:?} already exists"))
            } else {
                Ok(())
            }
        })
        .interact_text()
        .map_err(to_io)
}

fn ask_kind(theme: &ColorfulTheme) -> io::Result<ProviderKind> {
    let pick = Select::with_theme(theme)
        .with_prompt("Type")
        .items([
            "anthropic: the Anthropic Messages API (Anthropic, OpenRouter, DeepSeek, Kimi, GLM, a relay)",
            "openai: an OpenAI-compatible API (OpenAI, Ollama, vLLM, ...), translated",
        ])
        .default(0)
        .interact()
        .map_err(to_io)?;
    Ok(if pick == 0 {
        ProviderKind::Anthropic
    } else {
        ProviderKind::OpenAi
    })
}

fn ask_preset(theme: &ColorfulTheme, kind: ProviderKind) -> io::Result<Preset> {
    let choices: Vec<&Preset> = PRESETS.iter().filter(|p| p.kind == kind).collect();
    let pick = Select::with_theme(theme)
        .with_prompt("Which service?")
        .items(choices.iter().map(|p| p.label))
        .default(0)
        .interact()
        .map_err(to_io)?;
    Ok(*choices[pick])
}

fn ask_auth_type(theme: &ColorfulTheme, preset: Option<&Preset>) -> io::Result<AuthType> {
    let default = usize::from(preset.is_some_and(|p| p.auth_type == AuthType::AuthToken));
    let pick = Select::with_theme(theme)
        .with_prompt("How is the credential sent?")
        .items([
            "api_key: `x-api-key: KEY` (the official Anthropic API)",
            "auth_token: `Authorization: Bearer TOKEN` (most relays)",
        ])
        .default(default)
        .interact()
        .map_err(to_io)?;
    Ok(if pick == 0 {
        AuthType::ApiKey
    } else {
        AuthType::AuthToken
    })
}

fn ask_base_url(
    theme: &ColorfulTheme,
    kind: ProviderKind,
    preset: Option<&Preset>,
) -> io::Result<String> {
    let mut input = Input::<String>::with_theme(theme)
        .with_prompt("Base URL")
        .validate_with(move |input: &String| check_base_url(kind, input));
    // A relay or another service has no sensible default: the user must type it.
    match preset {
        Some(Preset { base_url: None, .. }) => {}
        Some(Preset {
            base_url: Some(url),
            ..
        }) => input = input.default((*url).to_owned()),
        None => input = input.default(crate::config::validate::default_base_url(kind).to_owned()),
    }
    input.interact_text().map_err(to_io)
}

fn ask_credential(
    theme: &ColorfulTheme,
    name: &str,
    preset: Option<&Preset>,
) -> io::Result<Credential> {
    let local = preset.is_some_and(|p| p.ask_model.is_some());
    let mut items = vec![
        "an environment variable (recommended: the key stays out of the file)",
        "paste the key (stored in plain text in the config file)",
    ];
    if local {
        items.push("none (a local server that takes no key)");
    }
    let pick = Select::with_theme(theme)
        .with_prompt("Where is the key?")
        .items(&items)
        .default(if local { 2 } else { 0 })
        .interact()
        .map_err(to_io)?;
    match pick {
        0 => {
            let suggestion = preset
                .and_then(|p| p.env_var)
                .map_or_else(|| env_suggestion(name), str::to_owned);
            let var = Input::<String>::with_theme(theme)
                .with_prompt("Environment variable")
                .default(suggestion)
                .validate_with(|v: &String| {
                    if crate::config::expand::is_var_name(v.trim_start_matches('$')) {
                        Ok(())
                    } else {
                        Err("letters, digits and `_`, not starting with a digit")
                    }
                })
                .interact_text()
                .map_err(to_io)?;
            let var = var.trim_start_matches('$').to_owned();
            if crate::env::process(&var).is_none() {
                say(&format!(
                    "  note: ${var} is not set in this shell; export it before `claude-lb serve`"
                ))?;
            }
            Ok(Credential::Env(var))
        }
        1 => {
            let key = Password::with_theme(theme)
                .with_prompt("Key (hidden)")
                .interact()
                .map_err(to_io)?;
            say(
                "  note: the key will be stored in plain text; the file is kept readable by you only",
            )?;
            Ok(Credential::Literal(key))
        }
        _ => Ok(Credential::Literal("none".to_owned())),
    }
}

fn ask_models(
    theme: &ColorfulTheme,
    kind: ProviderKind,
    preset: Option<&Preset>,
) -> io::Result<Vec<(String, String)>> {
    if let Some(preset) = preset {
        if !preset.models.is_empty() {
            say(
                "  Suggested model map (client model pattern -> provider model, first match wins):",
            )?;
            for (pattern, model) in preset.models {
                say(&format!("    {pattern} -> {model}"))?;
            }
            let keep = Confirm::with_theme(theme)
                .with_prompt("Use this model map?")
                .default(true)
                .interact()
                .map_err(to_io)?;
            if keep {
                return Ok(preset
                    .models
                    .iter()
                    .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
                    .collect());
            }
        } else if let Some(suggested) = preset.ask_model {
            let model = Input::<String>::with_theme(theme)
                .with_prompt("Model served by it (every Claude model is mapped to it)")
                .default(suggested.to_owned())
                .interact_text()
                .map_err(to_io)?;
            return Ok(vec![("*".to_owned(), model)]);
        }
    }
    let (items, default): (&[&str], usize) = match kind {
        ProviderKind::Anthropic => (
            &[
                "none: send Claude model names unchanged (right for Anthropic-compatible services)",
                "custom PATTERN=MODEL pairs",
            ],
            0,
        ),
        ProviderKind::OpenAi => (
            &[
                "none: send Claude model names unchanged (only if the service knows them)",
                "custom PATTERN=MODEL pairs",
            ],
            1,
        ),
    };
    let pick = Select::with_theme(theme)
        .with_prompt("Model map")
        .items(items)
        .default(default)
        .interact()
        .map_err(to_io)?;
    if pick == 0 {
        return Ok(Vec::new());
    }
    say(
        "  Enter PATTERN=MODEL pairs, `*` matching anything, first match wins; an empty line ends.",
    )?;
    let mut pairs = Vec::new();
    loop {
        let line = Input::<String>::with_theme(theme)
            .with_prompt(if pairs.is_empty() {
                "Pair (e.g. claude-*haiku*=small-model)"
            } else {
                "Pair (empty to finish)"
            })
            .allow_empty(true)
            .validate_with(|l: &String| {
                if l.trim().is_empty() {
                    Ok(())
                } else {
                    parse_model_pair(l).map(|_| ())
                }
            })
            .interact_text()
            .map_err(to_io)?;
        if line.trim().is_empty() {
            if pairs.is_empty() {
                say("  No pair given: model names are sent unchanged.")?;
            }
            return Ok(pairs);
        }
        if let Ok(pair) = parse_model_pair(&line) {
            pairs.push(pair);
        }
    }
}

/// Shows the text that will be added and where.
pub fn show_preview(path: &str, block: &str) -> io::Result<()> {
    say(&format!("\nThis will be added to `{path}`:\n"))?;
    for line in block.trim_matches(['\r', '\n']).lines() {
        say(&format!("  | {line}"))?;
    }
    say("")
}

/// The block with the value of its `auth_value` line shown as `*****`.
pub fn mask_auth_value(block: &str) -> String {
    block
        .split_inclusive('\n')
        .map(|line| {
            let indent = line.len() - line.trim_start().len();
            match line.trim_start().strip_prefix("auth_value:") {
                Some(rest) => {
                    let eol = &rest[rest.trim_end_matches(['\r', '\n']).len()..];
                    format!("{}auth_value: \"*****\"{eol}", &line[..indent])
                }
                None => line.to_owned(),
            }
        })
        .collect()
}

/// Asks a yes/no question on the terminal.
pub fn confirm(question: &str, default: bool) -> io::Result<bool> {
    Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(question)
        .default(default)
        .interact()
        .map_err(to_io)
}

/// Shows the cursor again after Ctrl-C (a menu hides it while it is open).
pub fn restore_terminal() {
    let term = dialoguer::console::Term::stderr();
    // Best effort: the terminal may be gone already.
    let _ = term.show_cursor();
    let _ = term.write_line("");
}

/// Keeps Ctrl-C from killing the process while the wizard runs, so that it can show the cursor
/// again and say that nothing was written.
///
/// A prompt reads Ctrl-C as a key and then raises SIGINT; with a handler in place (tokio's,
/// which stays installed for the life of the process) the signal no longer kills, and the
/// prompt returns an `Interrupted` error the command turns into "cancelled". The probe waits
/// for Ctrl-C itself.
pub fn catch_ctrl_c() {
    #[cfg(unix)]
    if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        let _ = runtime.block_on(async {
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        });
    }
}

/// Prints one line of the wizard's commentary (a probe result, a note) on stderr.
pub fn note(text: &str) -> io::Result<()> {
    say(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_with_a_path_claude_lb_appends_are_refused() {
        let anthropic = ProviderKind::Anthropic;
        let openai = ProviderKind::OpenAi;
        assert_eq!(
            check_base_url(anthropic, "https://api.anthropic.com"),
            Ok(())
        );
        assert_eq!(check_base_url(openai, "https://api.openai.com/v1"), Ok(()));
        let err = check_base_url(anthropic, "https://relay.example/v1").unwrap_err();
        assert!(err.ends_with("enter https://relay.example"), "{err}");
        let err = check_base_url(anthropic, "https://relay.example/v1/messages").unwrap_err();
        assert!(err.ends_with("enter https://relay.example"), "{err}");
        let err = check_base_url(openai, "https://x.example/v1/chat/completions/").unwrap_err();
        assert!(err.ends_with("enter https://x.example/v1"), "{err}");
        assert!(check_base_url(openai, "ftp://x").is_err());
    }

    #[test]
    fn every_preset_base_url_passes_the_wizard_check() {
        for preset in PRESETS {
            if let Some(url) = preset.base_url {
                assert_eq!(check_base_url(preset.kind, url), Ok(()), "{}", preset.label);
            }
        }
    }

    #[test]
    fn mask_auth_value_hides_only_the_value() {
        let block = "  - name: r\r\n    auth_value: \"sk-1\"\r\n    base_url: u\n";
        assert_eq!(
            mask_auth_value(block),
            "  - name: r\r\n    auth_value: \"*****\"\r\n    base_url: u\n"
        );
    }

    #[test]
    fn prefill_lists_what_is_missing_and_completes_with_defaults() {
        let mut prefill = Prefill {
            enabled: true,
            ..Prefill::default()
        };
        assert_eq!(
            prefill.missing(),
            ["--name", "--type", "--auth-env (or --auth-value)"]
        );
        assert!(prefill.complete().is_none());
        prefill.name = Some("x".to_owned());
        prefill.kind = Some(ProviderKind::OpenAi);
        prefill.credential = Some(Credential::Env("X_KEY".to_owned()));
        prefill.weight = Some(1);
        assert!(prefill.missing().is_empty());
        let provider = prefill.complete().unwrap();
        assert_eq!(provider.auth_type, AuthType::ApiKey);
        assert_eq!(provider.auth_value, "${X_KEY}");
        assert_eq!(provider.weight, None, "the default weight is not written");
        assert!(provider.models.is_empty() && provider.base_url.is_none() && provider.enabled);
    }

    #[test]
    fn pairs_env_names_and_suggestions() {
        assert_eq!(
            parse_model_pair("claude-*haiku*=deepseek-chat").unwrap(),
            ("claude-*haiku*".to_owned(), "deepseek-chat".to_owned())
        );
        assert_eq!(
            parse_model_pair("*=a=b").unwrap(),
            ("*".to_owned(), "a=b".to_owned())
        );
        assert!(parse_model_pair("nomodel").is_err());
        assert!(parse_model_pair("=x").is_err());
        assert!(parse_model_pair("x=").is_err());
        let is_valid_env_name = crate::config::expand::is_var_name;
        assert!(is_valid_env_name("_A1"));
        assert!(!is_valid_env_name("1A"));
        assert!(!is_valid_env_name("A-B"));
        assert!(!is_valid_env_name(""));
        assert_eq!(env_suggestion("my-relay.2"), "MY_RELAY_2_API_KEY");
        assert_eq!(env_suggestion("9x"), "_9X_API_KEY");
    }
}
