//! Loading configuration files: the seed file, the starter, and every bad input, each with the
//! exact messages (file, line, column, field, what to do).

use std::path::Path;
use std::time::Duration;

use claude_lb::config::{self, ConfigError, LogLevel, SecretOrigin};
use claude_lb::core::provider::{AuthType, ProviderKind};
use insta::assert_snapshot;
use proptest::prelude::*;

use crate::support::{env_of, no_env};

/// Every line `config validate` would print for `yaml`: errors, then warnings; `ok` first when
/// the file loads.
fn report_with(yaml: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let lines: Vec<String> = match config::load_str(yaml, "providers.yaml", env) {
        Ok(loaded) => std::iter::once("ok".to_owned())
            .chain(loaded.warnings.iter().map(ToString::to_string))
            .collect(),
        Err(ConfigError::Invalid { errors, warnings }) => errors
            .iter()
            .chain(&warnings)
            .map(ToString::to_string)
            .collect(),
        Err(other) => vec![other.to_string()],
    };
    lines.join("\n")
}

fn report(yaml: &str) -> String {
    report_with(yaml, &no_env)
}

const ONE: &str = "\
providers:
  - name: main
    type: anthropic
    auth_type: api_key
    auth_value: sk-ant-test
";

#[test]
fn seed_file_loads_unchanged_with_its_warnings() {
    let path = crate::support::private_fixture("seed-providers.yaml", "seed_loads");
    let loaded = config::load(&path, &no_env).unwrap();
    let c = &loaded.config;
    assert_eq!(c.source.as_deref(), Some(path.as_path()));
    let names: Vec<&str> = c.providers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        names,
        ["anthropic_official", "custom_provider", "openrouter"]
    );
    let kinds: Vec<_> = c.providers.iter().map(|p| (p.kind, p.auth_type)).collect();
    assert_eq!(
        kinds,
        [
            (ProviderKind::Anthropic, AuthType::ApiKey),
            (ProviderKind::Anthropic, AuthType::AuthToken),
            (ProviderKind::OpenAi, AuthType::ApiKey)
        ]
    );
    assert!(
        c.providers
            .iter()
            .all(|p| p.enabled && p.weight.get() == 1 && p.models.is_empty())
    );
    assert!(
        c.providers
            .iter()
            .all(|p| p.secret_origin == SecretOrigin::Literal)
    );
    assert_eq!(
        c.providers[0].secret.as_ref().unwrap().expose(),
        "sk-ant-your-key"
    );
    assert_eq!(
        c.providers[0].base_url.as_str(),
        "https://api.anthropic.com/"
    );
    assert_eq!(
        c.providers[2].base_url.as_str(),
        "https://api.openai.com/v1"
    );
    assert_eq!(c.settings.log_level, LogLevel::Debug);
    assert_eq!(c.settings.failure_cooldown, Duration::from_secs(60));
    assert_eq!(c.settings.request_timeout, Duration::from_secs(30));
    assert_eq!(c.settings.stream_idle_timeout, Duration::from_secs(120));
    assert!(!c.settings.resend_timed_out_answers);
    assert_eq!(c.settings.strategy, config::Strategy::Priority);
    assert_eq!(c.settings.listen.to_string(), "127.0.0.1:8080");
    let warnings: Vec<String> = loaded
        .warnings
        .iter()
        .map(|w| {
            w.to_string()
                .replace(&path.display().to_string(), "seed-providers.yaml")
        })
        .collect();
    assert_snapshot!(warnings.join("\n"));
}

#[test]
fn full_schema_with_env_and_defaults() {
    let yaml = r#"
providers:
  - name: relay.one
    type: anthropic
    auth_type: auth_token
    auth_value: "${RELAY_TOKEN}"
    base_url: "${RELAY_URL:-https://relay.example.com/api/}"
    weight: 3
    max_tokens: 8192
  - name: openrouter
    type: openai
    auth_type: api_key
    auth_value: "${OPENROUTER_API_KEY:-sk-or-fallback}"
    base_url: https://openrouter.ai/api/v1
    models:
      "claude-*haiku*": "deepseek/deepseek-chat"
      "*": " anthropic/claude-sonnet-4.5 "
    headers:
      HTTP-Referer: "https://example.com"
      X-Title: "${TITLE:-claude-lb}"
    enabled: false
settings:
  listen: "localhost:9090"
  strategy: weighted
  failure_cooldown: "1m30s"
  request_timeout: 2.5
  stream_idle_timeout: 2m
  log_level: Warn
"#;
    let env = env_of(&[("RELAY_TOKEN", "tok-123")]);
    let loaded = config::load_str(yaml, "x.yaml", &env).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    let relay = &c.providers[0];
    assert_eq!(relay.secret.as_ref().unwrap().expose(), "tok-123");
    assert_eq!(
        relay.secret_origin,
        SecretOrigin::Env {
            var: "RELAY_TOKEN".into(),
            from_default: false
        }
    );
    assert_eq!(relay.secret_origin.to_string(), "from $RELAY_TOKEN");
    assert_eq!(relay.base_url.as_str(), "https://relay.example.com/api");
    assert_eq!(relay.weight.get(), 3);
    assert_eq!(relay.max_tokens.map(std::num::NonZeroU32::get), Some(8192));
    let or = &c.providers[1];
    assert!(!or.enabled);
    assert_eq!(
        or.secret_origin,
        SecretOrigin::Env {
            var: "OPENROUTER_API_KEY".into(),
            from_default: true
        }
    );
    assert_eq!(
        or.models.map("claude-haiku-5-5"),
        Some("deepseek/deepseek-chat")
    );
    assert_eq!(
        or.models.map("claude-opus-5-5"),
        Some("anthropic/claude-sonnet-4.5")
    );
    let headers: Vec<(&str, &str)> = or
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
        .collect();
    assert_eq!(
        headers,
        [
            ("http-referer", "https://example.com"),
            ("x-title", "claude-lb")
        ]
    );
    assert_eq!(c.settings.listen.to_string(), "127.0.0.1:9090");
    assert_eq!(c.settings.strategy, config::Strategy::Weighted);
    assert_eq!(c.settings.failure_cooldown, Duration::from_secs(90));
    assert_eq!(c.settings.request_timeout, Duration::from_millis(2500));
    assert_eq!(c.settings.stream_idle_timeout, Duration::from_secs(120));
    assert_eq!(c.settings.log_level, LogLevel::Warn);
}

#[test]
fn starter_config_validates_once_its_key_is_set() {
    let starter = claude_lb::commands::config_init::STARTER;
    let env = env_of(&[("ANTHROPIC_API_KEY", "sk-ant-from-env")]);
    let loaded = config::load_str(starter, "providers.yaml", &env).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.config.providers.len(), 1);
    assert_snapshot!(report(starter), @r#"
ok
providers.yaml:18:17: warning: providers[0].auth_value: environment variable ANTHROPIC_API_KEY is not set, so provider "anthropic_official" is unusable (the other providers serve without it); export it in the shell that starts `claude-lb serve`, write "${ANTHROPIC_API_KEY:-default}", or set `enabled: false`
"#);
    // The committed example is the starter.
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.yaml"))
            .unwrap();
    assert_eq!(example, starter);
}

#[test]
fn secrets_never_appear_in_messages_or_debug() {
    let yaml = "\
providers:
  - name: main
    type: openai
    auth_type: api_key
    auth_value: sk-or-SUPERSECRET
    headers:
      X-Key: \"SUPERSECRET\"
      Authorization: \"Bearer SUPERSECRET\"
    weight: nope
";
    let text = report(yaml);
    assert!(!text.contains("SUPERSECRET"), "{text}");
    let ok = ONE.replace("sk-ant-test", "sk-ant-SUPERSECRET");
    let loaded = config::load_str(&ok, "p.yaml", &no_env).unwrap();
    assert!(!format!("{loaded:?}").contains("SUPERSECRET"));
}

// === Bad input: one test per kind, with the exact messages ===

#[test]
fn empty_file() {
    assert_snapshot!(report(""), @"providers.yaml:1:1: the file is empty (it needs a `providers:` list; `claude-lb config init` writes a starter)");
    assert_snapshot!(report("# only a comment\n\n"), @"providers.yaml:1:1: the file is empty (it needs a `providers:` list; `claude-lb config init` writes a starter)");
    assert_snapshot!(report("~\n"), @"providers.yaml:1:1: the document is empty (it needs a `providers:` list; `claude-lb config init` writes a starter)");
}

#[test]
fn not_yaml() {
    assert_snapshot!(report("providers: [unclosed\n"), @"providers.yaml:2:1: not valid YAML: while parsing a flow sequence, expected ',' or ']'");
    assert_snapshot!(report("providers:\n  - name: a\n    type: \"anthropic\n"), @"providers.yaml:3:11: not valid YAML: while scanning a quoted scalar, found unexpected end of stream");
    assert_snapshot!(report("a: b: c\n"), @r#"providers.yaml:1:5: not valid YAML: this `key: value` is indented deeper than the keys beside it, so it reads as part of the value above; line it up with those keys (or quote a value that contains ": ")"#);
}

#[test]
fn top_level_is_not_a_mapping() {
    assert_snapshot!(report("- name: main\n- name: other\n"), @"providers.yaml:1:1: expected a mapping with `providers:` and `settings:` at the top, found a list");
    assert_snapshot!(report("just some text\n"), @"providers.yaml:1:1: expected a mapping with `providers:` and `settings:` at the top, found a single value");
}

#[test]
fn tab_in_indentation() {
    assert_snapshot!(report("providers:\n\t- name: main\n"), @"providers.yaml:2:2: not valid YAML: tabs disallowed within this context (block indentation) (indent with spaces: YAML does not allow tabs in indentation)");
    assert_snapshot!(report(&ONE.replace("    type", "\ttype")), @"providers.yaml:2:11: not valid YAML: while scanning a plain scalar, found a tab (indent with spaces: YAML does not allow tabs in indentation)");
}

#[test]
fn duplicate_provider_names() {
    let yaml = format!("{ONE}{}", ONE.trim_start_matches("providers:\n"));
    assert_snapshot!(report(&yaml), @r#"providers.yaml:6:11: providers[1].name: duplicate provider name "main" (providers[0] already has it)"#);
}

#[test]
fn duplicate_keys() {
    assert_snapshot!(report(&format!("{ONE}    type: openai\n")), @"providers.yaml:6:5: not valid YAML: a key appears twice in the same mapping");
}

#[test]
fn invalid_provider_name() {
    assert_snapshot!(report(&ONE.replace("name: main", "name: my provider")), @r#"providers.yaml:2:11: providers[0].name: invalid provider name "my provider" (use only letters, digits, `_`, `.` and `-`, such as "my_relay")"#);
    assert_snapshot!(report(&ONE.replace("name: main", "name: \"\"")), @r#"providers.yaml:2:11: providers[0].name: invalid provider name "" (use only letters, digits, `_`, `.` and `-`, such as "my_relay")"#);
}

#[test]
fn unknown_provider_type() {
    assert_snapshot!(report(&ONE.replace("type: anthropic", "type: opneai")), @r#"providers.yaml:3:11: providers[0].type: unknown provider type "opneai" (expected anthropic or openai), did you mean "openai"?"#);
    assert_snapshot!(report(&ONE.replace("type: anthropic", "type: Anthropic")), @r#"providers.yaml:3:11: providers[0].type: unknown provider type "Anthropic" (expected anthropic or openai), did you mean "anthropic"?"#);
    assert_snapshot!(report(&ONE.replace("type: anthropic", "type: gemini")), @r#"providers.yaml:3:11: providers[0].type: unknown provider type "gemini" (expected anthropic or openai)"#);
    assert_snapshot!(report(&ONE.replace("auth_type: api_key", "auth_type: apikey")), @r#"providers.yaml:4:16: providers[0].auth_type: unknown auth type "apikey" (expected api_key or auth_token), did you mean "api_key"?"#);
}

#[test]
fn missing_required_keys() {
    assert_snapshot!(report(&ONE.replace("    auth_type: api_key\n", "")), @"providers.yaml:2:5: providers[0].auth_type: missing (api_key or auth_token)");
    assert_snapshot!(report("providers:\n  - enabled: true\n"), @r#"
providers.yaml:2:5: providers[0].name: missing (a unique name such as `openrouter`)
providers.yaml:2:5: providers[0].type: missing (anthropic or openai)
providers.yaml:2:5: providers[0].auth_type: missing (api_key or auth_token)
providers.yaml:2:5: providers[0].auth_value: missing (the key or token, "${VAR}" to read it from the environment, or `auth_value_file: PATH`)
"#);
    assert_snapshot!(report("settings:\n  strategy: priority\n"), @"providers.yaml:1:1: providers: missing (a list of providers; `claude-lb providers add` adds one)");
}

#[test]
fn base_url_not_http() {
    let with = |url: &str| report(&format!("{ONE}    base_url: \"{url}\"\n"));
    assert_snapshot!(with("ftp://relay.example.com"), @r#"providers.yaml:6:15: providers[0].base_url: "ftp://relay.example.com" is not an http or https URL; write one such as "https://relay.example.com""#);
    assert_snapshot!(with("relay.example.com"), @r#"providers.yaml:6:15: providers[0].base_url: "relay.example.com" is not a URL (relative URL without a base); write an http(s) URL such as "https://relay.example.com""#);
    assert_snapshot!(with("https://relay.example.com/?key=1"), @r#"providers.yaml:6:15: providers[0].base_url: "https://relay.example.com/?key=1" has a query or fragment (`?`, `#`); write the URL without it"#);
    assert_snapshot!(with("https://user:pw@relay.example.com"), @"providers.yaml:6:15: providers[0].base_url: has a user name or password in it; put the credential in `auth_value`");
}

#[test]
fn base_url_warnings() {
    let with = |url: &str| report(&format!("{ONE}    base_url: \"{url}\"\n"));
    assert_snapshot!(with("https://api.anthropic.com/v1/"), @"
ok
providers.yaml:6:15: warning: providers[0].base_url: ends in `/v1`, but for type anthropic the client's path (`/v1/messages`) is appended, giving `https://api.anthropic.com/v1/v1/messages`; remove the `/v1`
");
    assert_snapshot!(with("http://relay.example.com"), @"
ok
providers.yaml:6:15: warning: providers[0].base_url: http://relay.example.com/ is plain http to another machine, so the credential travels unencrypted; use https if the provider supports it
");
    assert_snapshot!(with("http://127.0.0.1:8000"), @"ok");
}

#[test]
fn unset_variable_in_enabled_provider_makes_it_unusable() {
    let yaml = ONE.replace("sk-ant-test", "\"${ANTHROPIC_API_KEY}\"");
    assert_snapshot!(report(&yaml), @r#"
ok
providers.yaml:5:17: warning: providers[0].auth_value: environment variable ANTHROPIC_API_KEY is not set, so provider "main" is unusable (the other providers serve without it); export it in the shell that starts `claude-lb serve`, write "${ANTHROPIC_API_KEY:-default}", or set `enabled: false`
"#);
    let loaded = config::load_str(&yaml, "providers.yaml", &no_env).unwrap();
    let main = &loaded.config.providers[0];
    assert!(main.enabled && !main.usable());
    assert_eq!(
        main.unusable().as_deref(),
        Some("missing $ANTHROPIC_API_KEY")
    );
    // Anything but the key still has to be there.
    assert_snapshot!(report(&format!("{yaml}    base_url: \"https://${{RELAY_HOST}}/api\"\n")), @r#"
providers.yaml:6:15: providers[0].base_url: environment variable RELAY_HOST is not set (needed by enabled provider "main"); set it, write "${RELAY_HOST:-default}", or set `enabled: false`
providers.yaml:5:17: warning: providers[0].auth_value: environment variable ANTHROPIC_API_KEY is not set, so provider "main" is unusable (the other providers serve without it); export it in the shell that starts `claude-lb serve`, write "${ANTHROPIC_API_KEY:-default}", or set `enabled: false`
"#);
    assert_snapshot!(report(&ONE.replace("sk-ant-test", "\"${ANTHROPIC_API_KEY\"")), @"providers.yaml:5:17: providers[0].auth_value: `${` at character 1 is never closed with `}`");
}

#[test]
fn unset_variable_in_disabled_provider_is_a_warning() {
    let disabled = "  - name: spare
    type: anthropic
    auth_type: api_key
    auth_value: \"${SPARE_KEY}\"
    enabled: false
";
    let yaml = format!("{ONE}{disabled}");
    assert_snapshot!(report(&yaml), @r#"
ok
providers.yaml:9:17: warning: providers[1].auth_value: environment variable SPARE_KEY is not set; provider "spare" is disabled, so it will need it only once enabled
"#);
    let loaded = config::load_str(&yaml, "p.yaml", &no_env).unwrap();
    let spare = &loaded.config.providers[1];
    assert!(spare.secret.is_none());
    assert_eq!(
        spare.secret_origin,
        SecretOrigin::Missing {
            var: "SPARE_KEY".into()
        }
    );
}

#[test]
fn durations_must_be_positive() {
    let with = |settings: &str| report(&format!("{ONE}settings:\n{settings}"));
    assert_snapshot!(with("  failure_cooldown: -5\n  request_timeout: 0\n  stream_idle_timeout: \"0s\"\n"), @r#"
providers.yaml:7:21: settings.failure_cooldown: must be more than zero, found "-5"
providers.yaml:8:20: settings.request_timeout: must be more than zero, found "0"
providers.yaml:9:24: settings.stream_idle_timeout: must be more than zero, found "0s"
"#);
    assert_snapshot!(with("  failure_cooldown: soon\n"), @r#"providers.yaml:7:21: settings.failure_cooldown: expected a number of seconds or a duration such as "90s", "2m" or "1h30m", found "soon""#);
}

#[test]
fn resend_timed_out_answers_is_true_or_false() {
    let c = config::load_str(
        &format!("{ONE}settings:\n  resend_timed_out_answers: true\n"),
        "providers.yaml",
        &no_env,
    )
    .unwrap()
    .config;
    assert!(c.settings.resend_timed_out_answers);
    assert_snapshot!(report(&format!("{ONE}settings:\n  resend_timed_out_answers: sometimes\n")), @r#"providers.yaml:7:29: settings.resend_timed_out_answers: expected true or false, found "sometimes""#);
}

#[test]
fn affinity_and_health_check_settings_are_read_and_checked() {
    let c = config::load_str(ONE, "providers.yaml", &no_env)
        .unwrap()
        .config;
    assert_eq!(c.settings.affinity, config::Affinity::Session);
    assert_eq!(c.settings.affinity_ttl, Duration::from_secs(3600));
    assert_eq!(
        c.settings.health_check,
        config::HealthCheckSettings {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            idle_providers: false,
        }
    );
    assert_eq!(c.providers[0].health_check, config::HealthCheckMode::Models);
    let c = config::load_str(
        &format!(
            "{ONE}    health_check: messages\nsettings:\n  affinity: none\n  affinity_ttl: 10m\n  health_check:\n    interval: 0\n    timeout: 2s\n    idle_providers: true\n"
        ),
        "providers.yaml",
        &no_env,
    )
    .unwrap()
    .config;
    assert_eq!(c.settings.affinity, config::Affinity::None);
    assert_eq!(c.settings.affinity_ttl, Duration::from_secs(600));
    assert_eq!(
        c.settings.health_check,
        config::HealthCheckSettings {
            interval: Duration::ZERO,
            timeout: Duration::from_secs(2),
            idle_providers: true,
        }
    );
    assert_eq!(
        c.providers[0].health_check,
        config::HealthCheckMode::Messages
    );
    assert_snapshot!(report(&format!(
        "{ONE}    health_check: model\nsettings:\n  affinity: sesion\n  affinity_ttl: 0\n  health_check:\n    interval: -1\n    timeout: 0\n    idle_providers: maybe\n    intervall: 5\n"
    )), @r#"
providers.yaml:6:19: providers[0].health_check: unknown health check "model" (expected models, messages or off), did you mean "models"?
providers.yaml:8:13: settings.affinity: unknown affinity "sesion" (expected session or none), did you mean "session"?
providers.yaml:9:17: settings.affinity_ttl: must be more than zero, found "0"
providers.yaml:11:15: settings.health_check.interval: must be more than zero, found "-1"
providers.yaml:12:14: settings.health_check.timeout: must be more than zero, found "0"
providers.yaml:13:21: settings.health_check.idle_providers: expected true or false, found "maybe"
providers.yaml:14:5: settings.health_check.intervall: unknown key "intervall", did you mean "interval"? (allowed here: interval, timeout, idle_providers)
"#);
    assert_snapshot!(report(&format!("{ONE}settings:\n  health_check: 30s\n")), @"providers.yaml:7:17: settings.health_check: expected a mapping (`key: value` lines), found a single value");
}

#[test]
fn weight_and_max_tokens_must_be_positive() {
    assert_snapshot!(report(&format!("{ONE}    weight: 0\n    max_tokens: -1\n")), @"
providers.yaml:6:13: providers[0].weight: must be at least 1, found 0
providers.yaml:7:17: providers[0].max_tokens: must be at least 1, found -1
");
    assert_snapshot!(report(&format!("{ONE}    weight: 1.5\n")), @r#"providers.yaml:6:13: providers[0].weight: expected a whole number of at least 1, found "1.5""#);
    assert_snapshot!(report(&format!("{ONE}    weight: 99999999999\n")), @"providers.yaml:6:13: providers[0].weight: is too large, found 99999999999 (at most 4294967295)");
}

#[test]
fn models_pattern_mapping_to_empty_name() {
    let yaml = format!(
        "{ONE}    models:\n      \"claude-*\": \"\"\n      \"*\": \"big\"\n      \"claude-opus-*\": \"never\"\n"
    );
    assert_snapshot!(report(&yaml), @r#"
providers.yaml:7:19: providers[0].models."claude-*": pattern "claude-*" maps to an empty model name; write the provider's model name
providers.yaml:9:7: warning: providers[0].models."claude-opus-*": never used: the earlier pattern "*" already matches every model (the first match wins)
"#);
    assert_snapshot!(report(&format!("{ONE}    models: {{}}\n")), @"providers.yaml:6:13: providers[0].models: is empty, so this provider would serve no model; remove `models` to serve every model under its own name, or add patterns");
    assert_snapshot!(report(&format!("{ONE}    models:\n      - a\n")), @r#"providers.yaml:7:7: providers[0].models: expected a mapping (`"pattern": "value"` lines), found a list"#);
}

#[test]
fn unknown_keys_at_any_depth() {
    assert_snapshot!(report(&format!("{ONE}setings:\n  strategy: priority\n")), @r#"providers.yaml:6:1: setings: unknown key "setings", did you mean "settings"? (allowed here: providers, clients, settings, routes)"#);
    assert_snapshot!(report(&format!("{ONE}    base_ulr: https://x.example.com\n")), @r#"providers.yaml:6:5: providers[0].base_ulr: unknown key "base_ulr", did you mean "base_url"? (allowed here: name, type, auth_type, auth_value, auth_value_file, base_url, enabled, weight, max_tokens, health_check, models, headers, pricing)"#);
    assert_snapshot!(report(&format!("{ONE}settings:\n  failure_cooldwn: 10\n  colour: blue\n")), @r#"
providers.yaml:7:3: settings.failure_cooldwn: unknown key "failure_cooldwn", did you mean "failure_cooldown"? (allowed here: listen, strategy, failure_cooldown, request_timeout, stream_idle_timeout, resend_timed_out_answers, log_level, log_format, admin_token, shared_state, shared_state_wait, allow_unauthenticated_public, max_connections, header_read_timeout, allowed_origins, allowed_hosts, affinity, affinity_ttl, health_check, usage)
providers.yaml:8:3: settings.colour: unknown key "colour" (allowed here: listen, strategy, failure_cooldown, request_timeout, stream_idle_timeout, resend_timed_out_answers, log_level, log_format, admin_token, shared_state, shared_state_wait, allow_unauthenticated_public, max_connections, header_read_timeout, allowed_origins, allowed_hosts, affinity, affinity_ttl, health_check, usage)
"#);
}

#[test]
fn wrong_kind_of_value() {
    assert_snapshot!(report("providers:\n  name: main\n"), @"providers.yaml:2:3: providers: expected a list of providers (`- name: ...` entries), found a mapping");
    assert_snapshot!(report(&format!("{ONE}    enabled: yes\n")), @r#"providers.yaml:6:14: providers[0].enabled: expected true or false, found "yes""#);
    assert_snapshot!(report(&format!("{ONE}    name2:\n")), @r#"providers.yaml:6:5: providers[0].name2: unknown key "name2", did you mean "name"? (allowed here: name, type, auth_type, auth_value, auth_value_file, base_url, enabled, weight, max_tokens, health_check, models, headers, pricing)"#);
    assert_snapshot!(report(&format!("{ONE}    base_url:\n")), @"providers.yaml:6:13: providers[0].base_url: no value (write one, or remove the key)");
    assert_snapshot!(report(&format!("{ONE}settings: [1, 2]\n")), @"providers.yaml:6:11: settings: expected a mapping (`key: value` lines), found a list");
    assert_snapshot!(report(&format!("{ONE}---\nproviders: []\n")), @"providers.yaml:7:1: a second YAML document (`---`): the config must be a single document");
}

#[test]
fn hostile_structure() {
    assert_snapshot!(report(&format!("{}x\n", "- ".repeat(50_000))), @"providers.yaml:1:65: nested more than 32 levels deep; a config never is");
    assert_snapshot!(report(&"[".repeat(10_000)), @"providers.yaml:1:256: not valid YAML: nested too deeply");
    let bomb: String = std::iter::once("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n".to_owned())
        .chain((1..12).map(|i| {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            format!("a{i}: &a{i} [{refs}]\n")
        }))
        .collect();
    assert_snapshot!(report(&bomb), @"providers.yaml:5:45: not valid YAML: alias expansion exceeded the maximum node budget (possible billion-laughs attack)");
}

#[test]
fn no_enabled_provider() {
    assert_snapshot!(report(&format!("{ONE}    enabled: false\n")), @"providers.yaml:2:3: providers: no enabled provider (set `enabled: true` on at least one, or `serve` has nowhere to send requests)");
    assert_snapshot!(report("providers: []\n"), @"providers.yaml:1:12: providers: no providers (add one with `claude-lb providers add`)");
    assert_snapshot!(report("providers:\n"), @"providers.yaml:1:1: providers: no providers (add one with `claude-lb providers add`)");
}

#[test]
fn settings_values() {
    let with = |settings: &str| report(&format!("{ONE}settings:\n{settings}"));
    assert_snapshot!(with("  strategy: round-robin\n  log_level: verbose\n  listen: \"localhost\"\n"), @r#"
providers.yaml:7:13: settings.strategy: unknown strategy "round-robin" (expected priority, round_robin, weighted or latency), did you mean "round_robin"?
providers.yaml:8:14: settings.log_level: unknown log level "verbose" (expected trace, debug, info, warn or error)
providers.yaml:9:11: settings.listen: expected an address and port such as "127.0.0.1:8080", "localhost:8080", ":8080" or "8080", found "localhost"
"#);
    for short in ["8080", ":8080", "localhost:8080"] {
        let loaded = config::load_str(
            &format!("{ONE}settings:\n  listen: \"{short}\"\n"),
            "providers.yaml",
            &no_env,
        )
        .unwrap();
        assert_eq!(loaded.config.settings.listen.to_string(), "127.0.0.1:8080");
    }
    assert_snapshot!(with("  listen: \"0.0.0.0:8080\"\n"), @"providers.yaml:7:11: settings.listen: 0.0.0.0:8080 accepts connections from other machines, and no `clients:` are configured, so anyone who can reach it would spend the providers' keys; add a client key (`claude-lb clients add NAME`), listen on 127.0.0.1, or set `settings.allow_unauthenticated_public: true` if the network around it is trusted");
    assert_snapshot!(with("  listen: \"0.0.0.0:8080\"\n  allow_unauthenticated_public: true\n"), @"
ok
providers.yaml:7:11: warning: settings.listen: 0.0.0.0:8080 accepts connections from other machines without client keys (`allow_unauthenticated_public: true`): anyone who reaches it spends the providers' keys
");
    assert_snapshot!(with(""), @"ok");
}

#[test]
fn openai_warnings() {
    let yaml = "\
providers:
  - name: or
    type: openai
    auth_type: api_key
    auth_value: sk-or-abc
  - name: local
    type: openai
    auth_type: api_key
    auth_value: none
    base_url: http://localhost:8000/v1/chat/completions
    models:
      \"*\": qwen
";
    assert_snapshot!(report(yaml), @r#"
providers.yaml:10:15: providers[1].base_url: ends in `/chat/completions`, the path claude-lb appends itself to every request; write `base_url: http://localhost:8000/v1`
providers.yaml:2:5: warning: providers[0]: openai provider "or" has no `models` map, so Claude model names such as claude-opus-5-5 would be sent to it as they are; add a map such as `models: {"claude-*haiku*": "SMALL_MODEL", "*": "LARGE_MODEL"}`
providers.yaml:5:17: warning: providers[0].auth_value: this looks like an OpenRouter key (it starts with "sk-or-") but it would be sent to https://api.openai.com/v1; set `base_url: https://openrouter.ai/api/v1`
"#);
}

#[test]
fn reserved_and_invalid_headers() {
    let yaml = format!(
        "{ONE}    headers:\n      Host: x\n      \"bad header\": y\n      X-Ok: \"line\\nbreak\"\n"
    );
    assert_snapshot!(report(&yaml), @r#"
providers.yaml:7:7: providers[0].headers."Host": "Host" is set by claude-lb itself (the credential comes from `auth_value`); remove it
providers.yaml:8:7: providers[0].headers."bad header": "bad header" is not a valid HTTP header name
providers.yaml:9:13: providers[0].headers."X-Ok": the value contains characters that cannot be sent in an HTTP header
"#);
}

#[test]
fn file_over_one_mebibyte() {
    let big = format!("{ONE}{}", "# padding\n".repeat(110_000));
    assert_snapshot!(report(&big), @"config file `providers.yaml` is larger than 1 MiB (1100097 bytes); is it the right file?");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    std::fs::write(&path, &big).unwrap();
    let err = config::load(&path, &no_env).unwrap_err();
    assert!(
        matches!(err, ConfigError::TooLarge { size, .. } if size == big.len() as u64),
        "{err}"
    );
}

#[test]
fn path_missing_or_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    let err = config::load(&missing, &no_env).unwrap_err();
    assert_eq!(
        err.to_string()
            .replace(&dir.path().display().to_string(), "[DIR]"),
        "cannot read config file `[DIR]/nope.yaml`: No such file or directory (os error 2)"
    );
    let err = config::load(dir.path(), &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    assert!(err.to_string().contains("Is a directory"), "{err}");
    let latin1 = dir.path().join("latin1.yaml");
    std::fs::write(&latin1, b"providers:\n  - name: caf\xe9\n").unwrap();
    let err = config::load(&latin1, &no_env).unwrap_err();
    assert_eq!(
        err.lines()
            .join("\n")
            .replace(&dir.path().display().to_string(), "[DIR]"),
        "[DIR]/latin1.yaml:2:14: the file is not UTF-8 text (save it as UTF-8)"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let yaml = "\
providers:
  - name: a b
    type: opneai
    auth_value: \"${NOPE}\"
    weight: 0
  - name: ok
    type: anthropic
    auth_type: api_key
    auth_value: k
    base_url: ftp://x
settings:
  failure_cooldown: 0
  strategy: fastest
";
    let err = config::load_str(yaml, "p.yaml", &no_env).unwrap_err();
    // An unset key makes a provider unusable, which is not an error.
    assert_eq!(err.diagnostics().len(), 7, "{err}");
    assert!(
        err.diagnostics()
            .windows(2)
            .all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column))
    );
    assert_snapshot!(err.to_string(), @r#"
invalid config (7 errors):
p.yaml:2:5: providers[0].auth_type: missing (api_key or auth_token)
p.yaml:2:11: providers[0].name: invalid provider name "a b" (use only letters, digits, `_`, `.` and `-`, such as "my_relay")
p.yaml:3:11: providers[0].type: unknown provider type "opneai" (expected anthropic or openai), did you mean "openai"?
p.yaml:5:13: providers[0].weight: must be at least 1, found 0
p.yaml:10:15: providers[1].base_url: "ftp://x" is not an http or https URL; write one such as "https://relay.example.com"
p.yaml:12:21: settings.failure_cooldown: must be more than zero, found "0"
p.yaml:13:13: settings.strategy: unknown strategy "fastest" (expected priority, round_robin, weighted or latency)
"#);
}

#[test]
fn windows_line_endings_and_byte_order_mark() {
    let yaml = format!("\u{feff}{}", ONE.replace('\n', "\r\n"));
    assert_snapshot!(report(&yaml), @"ok");
    let typo = format!("\u{feff}{}    tpye: x\r\n", ONE.replace('\n', "\r\n"));
    assert_snapshot!(report(&typo), @r#"providers.yaml:6:5: providers[0].tpye: unknown key "tpye", did you mean "type"? (allowed here: name, type, auth_type, auth_value, auth_value_file, base_url, enabled, weight, max_tokens, health_check, models, headers, pricing)"#);
}

/// The example in the README loads, given its variables.
#[test]
fn readme_example_loads() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("```yaml\n")
        .expect("a yaml block in the README")
        + 8;
    let len = readme[start..].find("```").unwrap();
    let env = env_of(&[
        ("ANTHROPIC_API_KEY", "sk-ant-a"),
        ("RELAY_TOKEN", "t"),
        ("OPENROUTER_API_KEY", "sk-or-b"),
    ]);
    let loaded = config::load_str(&readme[start..start + len], "README.md", &env).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.config.providers.len(), 3);
}

// === No panic on any input ===

/// Fragments that make random text look enough like a config to reach the validator.
fn yamlish() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("providers:\n".to_owned()),
        Just("settings:\n".to_owned()),
        Just("  - name: a\n".to_owned()),
        Just("    type: openai\n".to_owned()),
        Just("    auth_type: auth_token\n".to_owned()),
        Just("    auth_value: \"${K:-x}\"\n".to_owned()),
        Just("    base_url: http://[::1]:1/\n".to_owned()),
        Just("    models:\n      \"*\": m\n".to_owned()),
        Just("    headers: {a: b}\n".to_owned()),
        Just("  failure_cooldown: 1h\n".to_owned()),
        Just("  listen: \"[::]:0\"\n".to_owned()),
        Just("&x [*x]\n".to_owned()),
        Just("? [a]\n: b\n".to_owned()),
        Just("!!binary aGk=\n".to_owned()),
        "[ -~\t\n]{0,12}",
        "\\PC{0,6}",
    ];
    prop::collection::vec(fragment, 0..24).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = config::load_str(&text, "fuzz.yaml", &|_: &str| Some("v".to_owned()));
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC*") {
        let _ = config::load_str(&text, "fuzz.yaml", &no_env);
    }

    #[test]
    fn config_like_text_never_panics(text in yamlish()) {
        if let Err(err) = config::load_str(&text, "fuzz.yaml", &|_: &str| None) {
            for d in err.diagnostics() {
                prop_assert!(d.line >= 1 && d.column >= 1);
            }
        }
    }
}

#[test]
fn a_pool_that_serves_none_of_claude_codes_default_models_is_warned_about() {
    let only_haiku = "\
providers:
  - name: small
    type: anthropic
    auth_type: api_key
    auth_value: k
    models:
      \"claude-*haiku*\": cheap
  - name: off
    type: anthropic
    auth_type: api_key
    auth_value: k
    enabled: false
";
    let report = report(only_haiku);
    let warning = report
        .lines()
        .find(|l| l.contains("which Claude Code sends by default"))
        .unwrap_or_else(|| panic!("no warning:\n{report}"));
    for expected in [
        claude_lb::models::CLAUDE_OPUS,
        claude_lb::models::CLAUDE_SONNET,
        "\"claude-*haiku*\"",
        "providers.yaml:2:",
    ] {
        assert!(warning.contains(expected), "{expected} in {warning}");
    }
    // The disabled provider would serve everything, but it is off; Haiku is served.
    assert!(
        !warning.contains(claude_lb::models::CLAUDE_HAIKU),
        "{warning}"
    );
    // A pool that serves every default says nothing about them.
    assert!(!report_with(ONE, &no_env).contains("by default"));
}

#[cfg(unix)]
#[test]
fn auth_value_file_reads_the_key_and_checks_the_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("anthropic_key");
    std::fs::write(&key, "sk-ant-from-file\n").unwrap();
    let set_mode = |mode: u32| {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let yaml = |value: &str| {
        format!(
            "providers:\n  - name: main\n    type: anthropic\n    auth_type: api_key\n    auth_value_file: \"{value}\"\n"
        )
    };
    let shown = key.display().to_string();

    set_mode(0o600);
    let loaded = config::load_str(&yaml(&shown), "providers.yaml", &no_env).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let main = &loaded.config.providers[0];
    assert_eq!(main.secret.as_ref().unwrap().expose(), "sk-ant-from-file");
    assert_eq!(main.secret_origin.to_string(), format!("from file {shown}"));
    // `${VAR}` is expanded in the path.
    let env = env_of(&[("CREDENTIALS_DIRECTORY", dir.path().to_str().unwrap())]);
    let loaded = config::load_str(
        &yaml("${CREDENTIALS_DIRECTORY}/anthropic_key"),
        "providers.yaml",
        &env,
    )
    .unwrap();
    assert!(loaded.config.providers[0].usable());

    set_mode(0o644);
    let report = report(&yaml(&shown)).replace(&shown, "KEY");
    assert_snapshot!(report, @r#"
ok
providers.yaml:5:22: warning: providers[0].auth_value_file: `KEY` is readable by other users (mode 644); run `chmod 600 KEY`
"#);

    set_mode(0o666);
    let report = super::config::report(&yaml(&shown)).replace(&shown, "KEY");
    assert_snapshot!(report, @"providers.yaml:5:22: providers[0].auth_value_file: `KEY` is writable by every user (mode 666), so anyone could replace the key; run `chmod 600 KEY`");

    assert_snapshot!(super::config::report(&yaml("secrets/key")), @r#"providers.yaml:5:22: providers[0].auth_value_file: "secrets/key" is not an absolute path; write the whole path, such as "/run/secrets/anthropic_key""#);
    let both = format!("{}    auth_value: k\n", yaml(&shown));
    assert!(
        super::config::report(&both)
            .contains("either in `auth_value` or in `auth_value_file`, not both")
    );
    let missing = dir.path().join("nope").display().to_string();
    assert!(super::config::report(&yaml(&missing)).contains("cannot read"));
}

#[test]
fn indentation_errors_are_explained_in_words() {
    let deeper = "providers:\n  - name: a\n      type: anthropic\n";
    let shallower = "providers:\n  - name: a\n    type: anthropic\n   auth_value: x\n";
    let in_map = "providers:\n  - name: a\n    models:\n      \"*\": x\n     \"b\": y\n";
    for (yaml, position, words) in [
        (deeper, "3:11", "indented deeper than the keys beside it"),
        (shallower, "4:4", "lines up with nothing above it"),
        (
            in_map,
            "5:6",
            "indented differently from the keys of the mapping above it",
        ),
    ] {
        let report = report(yaml);
        assert!(
            report.starts_with(&format!("providers.yaml:{position}: not valid YAML: ")),
            "{report}"
        );
        assert!(report.contains(words), "{report}");
        assert!(!report.contains("expected key"), "{report}");
        assert!(!report.contains("indicator"), "{report}");
    }
}

#[test]
fn bare_dollar_variable_is_an_error_with_the_fix() {
    let yaml = ONE.replace("sk-ant-test", "$ANTHROPIC_API_KEY");
    assert_snapshot!(report(&yaml), @r#"providers.yaml:5:17: providers[0].auth_value: `$ANTHROPIC_API_KEY` would be sent as it is: only `${ANTHROPIC_API_KEY}` is read from the environment; write "${ANTHROPIC_API_KEY}""#);
}

#[test]
fn base_url_with_the_appended_path_is_an_error() {
    for (kind, url, fix) in [
        (
            "anthropic",
            "https://relay.example/v1/messages",
            "https://relay.example",
        ),
        (
            "openai",
            "https://x.example/v1/chat/completions/",
            "https://x.example/v1",
        ),
    ] {
        let yaml = format!(
            "providers:\n  - name: a\n    type: {kind}\n    auth_type: api_key\n    auth_value: k\n    base_url: {url}\n    models:\n      \"*\": m\n"
        );
        let report = report(&yaml);
        assert_eq!(
            report,
            format!(
                "providers.yaml:6:15: providers[0].base_url: ends in `{}`, the path claude-lb appends itself to every request; write `base_url: {fix}`",
                if kind == "openai" {
                    "/chat/completions"
                } else {
                    "/v1/messages"
                }
            ),
        );
    }
}

#[test]
fn names_differing_only_in_case_are_an_error() {
    let yaml = format!(
        "{ONE}{}",
        ONE.trim_start_matches("providers:\n")
            .replace("main", "Main")
            .replace("sk-ant-test", "other")
    );
    assert_snapshot!(report(&yaml), @r#"providers.yaml:6:11: providers[1].name: provider name "Main" differs only in case from the name of providers[0]; commands find providers by name, so give them names that differ in more than case"#);
}

#[test]
fn same_url_and_key_twice_is_a_warning() {
    let twin = ONE
        .trim_start_matches("providers:\n")
        .replace("main", "again");
    let yaml = format!("{ONE}{twin}");
    assert_snapshot!(report(&yaml), @r#"
ok
providers.yaml:6:5: warning: providers[1]: provider "again" has the same base_url and key as "main" (providers[0]), so failing over from one to the other only repeats the failure; remove one, or give it its own key
"#);
    // Another key: no warning.
    let yaml = format!("{ONE}{}", twin.replace("sk-ant-test", "sk-ant-other"));
    assert_snapshot!(report(&yaml), @"ok");
}

#[cfg(unix)]
mod permissions {
    //! The config file's mode: a key written out in a file others can read is warned about;
    //! a file others can write is refused, because it could point the keys anywhere.

    use std::os::unix::fs::PermissionsExt as _;
    use std::path::{Path, PathBuf};

    use claude_lb::config::{self, ConfigError};

    use crate::support::{env_of, no_env};

    const LITERAL: &str = "providers:\n  - name: main\n    type: anthropic\n    auth_type: api_key\n    auth_value: sk-ant-literal\n";
    const FROM_ENV: &str = "providers:\n  - name: main\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${KEY}\"\n";

    fn file(dir: &Path, text: &str, mode: u32) -> PathBuf {
        let path = dir.join("providers.yaml");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    fn mode_warnings(path: &Path) -> Vec<String> {
        config::load(path, &env_of(&[("KEY", "k")]))
            .unwrap()
            .warnings
            .iter()
            .map(ToString::to_string)
            .filter(|w| w.contains("other users can read it"))
            .collect()
    }

    #[test]
    fn a_literal_key_in_a_file_others_can_read_is_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        for (text, mode, warned) in [
            (LITERAL, 0o600, false),
            (LITERAL, 0o400, false),
            (LITERAL, 0o640, true),
            (LITERAL, 0o644, true),
            (FROM_ENV, 0o644, false),
        ] {
            let path = file(dir.path(), text, mode);
            let warnings = mode_warnings(&path);
            assert_eq!(
                warnings.len(),
                usize::from(warned),
                "{mode:o}: {warnings:?}"
            );
            if warned {
                assert_eq!(
                    warnings[0],
                    format!(
                        "{}:1:1: warning: the file holds 1 literal key written out and other users can read it (mode {mode:03o}); run `chmod 600 {}`, or read keys from the environment with \"${{VAR}}\"",
                        path.display(),
                        path.display()
                    )
                );
            }
        }
    }

    #[test]
    fn a_file_others_can_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o602, 0o666, 0o777] {
            let path = file(dir.path(), FROM_ENV, mode);
            let error = config::load(&path, &no_env).unwrap_err();
            assert!(
                matches!(error, ConfigError::WritableByOthers { mode: m, .. } if m == mode),
                "{mode:o}: {error}"
            );
            assert_eq!(
                error.to_string(),
                format!(
                    "config file `{0}` is writable by other users (mode {mode:03o}); refusing to load it (fix it with `chmod o-w {0}`)",
                    path.display()
                )
            );
        }
        // Writable by the group only is the owner's choice.
        let path = file(dir.path(), FROM_ENV, 0o660);
        assert!(config::load(&path, &env_of(&[("KEY", "k")])).is_ok());
    }

    #[test]
    fn the_mode_that_counts_is_the_target_of_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = file(dir.path(), FROM_ENV, 0o666);
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            config::load(&link, &no_env),
            Err(ConfigError::WritableByOthers { .. })
        ));
    }
}

#[test]
fn a_budget_without_a_ledger_is_warned_about() {
    let client = "clients:\n  - name: a\n    key: \"clb-0123456789abcdefghijkl\"\n    budget: { tokens_per_day: 1000 }\n";
    let off = report(&format!(
        "{ONE}{client}settings:\n  usage: {{ store: off }}\n"
    ));
    assert!(off.starts_with("ok"), "{off}");
    assert!(
        off.contains("warning: clients[0].budget: is not enforced"),
        "{off}"
    );
    let on = report(&format!("{ONE}{client}"));
    assert!(!on.contains("budget"), "{on}");
}

#[test]
fn shared_state_must_be_a_redis_url() {
    let with = |value: &str| {
        report(&format!(
            "{ONE}settings:\n  shared_state: \"{value}\"\n  usage:\n    store: \"off\"\n"
        ))
    };
    assert_snapshot!(with("redis://127.0.0.1:6379/0"), @"ok");
    assert_snapshot!(with("rediss://:secret@redis.internal:6380"), @"ok");
    assert_snapshot!(with("http://127.0.0.1:6379"), @r#"providers.yaml:7:17: settings.shared_state: must be a redis:// or rediss:// URL, found the scheme "http""#);
    assert_snapshot!(with("127.0.0.1:6379"), @"providers.yaml:7:17: settings.shared_state: is not a URL (relative URL without a base); expected redis://HOST:PORT/DB or rediss://... for TLS");
    assert_snapshot!(with("redis://127.0.0.1:6379/zero"), @r#"providers.yaml:7:17: settings.shared_state: the path "/zero" is not a database number; expected redis://HOST:PORT/DB, DB a number such as 0"#);
    assert_snapshot!(with("redis:///0"), @"providers.yaml:7:17: settings.shared_state: names no host; expected redis://HOST:PORT/DB");
    assert_snapshot!(with("redis://:${REDIS_PASSWORD}@127.0.0.1:6379/0"), @"providers.yaml:7:17: settings.shared_state: environment variable REDIS_PASSWORD is not set; export it in the shell that starts claude-lb, or remove `shared_state` to keep all state in this process");
    let env = crate::support::env_of(&[("REDIS_PASSWORD", "pw")]);
    let loaded = config::load_str(
        &format!(
            "{ONE}settings:\n  shared_state: \"redis://:${{REDIS_PASSWORD}}@127.0.0.1:6379/0\"\n"
        ),
        "providers.yaml",
        &env,
    )
    .unwrap();
    let url = loaded.config.settings.shared_state.unwrap();
    assert_eq!(url.expose(), "redis://:pw@127.0.0.1:6379/0");
    assert_eq!(format!("{url:?}"), "redis://:*****@127.0.0.1:6379/0");
}

#[test]
fn the_compose_config_is_valid_and_replicas_with_their_own_ledgers_are_warned() {
    let compose = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/compose.config.yaml"),
    )
    .unwrap();
    let env = env_of(&[
        ("ANTHROPIC_API_KEY", "sk-ant-x"),
        ("DEEPSEEK_API_KEY", "sk-x"),
        ("CLAUDE_LB_TEAM_KEY", "clb-a-team-key-long-enough-to-pass"),
        ("CLAUDE_LB_ADMIN_TOKEN", "admin"),
        ("PG_PASSWORD", "pw"),
    ]);
    let loaded = config::load_str(&compose, "providers.yaml", &env).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(loaded.config.settings.shared_state.is_some());
    let with_sqlite = format!("{ONE}settings:\n  shared_state: \"redis://127.0.0.1:6379/0\"\n");
    assert_snapshot!(report(&with_sqlite), @"
    ok
    providers.yaml:7:17: warning: settings.shared_state: the usage ledger is an SQLite file of this replica's own: `claude-lb usage` and `GET /usage` show only its requests, and a restarted replica counts budgets from its own rows; `settings.usage.store: postgres://...` gives all replicas one ledger
    ");
}
