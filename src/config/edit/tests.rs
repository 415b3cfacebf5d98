use super::*;
use crate::config::{Config, load_str, save::lenient_env};

const SEED: &str = include_str!("../../../tests/fixtures/seed-providers.yaml");
const EXAMPLE: &str = include_str!("../../../config.example.yaml");

fn no_env(_: &str) -> Option<String> {
    None
}

fn deepseek() -> NewProvider {
    NewProvider {
        name: "deepseek".to_owned(),
        kind: ProviderKind::OpenAi,
        auth_type: AuthType::ApiKey,
        auth_value: "${DEEPSEEK_API_KEY}".to_owned(),
        base_url: Some("https://api.deepseek.com/v1".to_owned()),
        models: vec![
            ("claude-*haiku*".to_owned(), "deepseek-chat".to_owned()),
            ("*".to_owned(), "deepseek-reasoner".to_owned()),
        ],
        weight: Some(2),
        enabled: true,
    }
}

fn relay() -> NewProvider {
    NewProvider {
        name: "relay".to_owned(),
        kind: ProviderKind::Anthropic,
        auth_type: AuthType::AuthToken,
        auth_value: "${RELAY_TOKEN}".to_owned(),
        base_url: Some("https://relay.example.com".to_owned()),
        models: Vec::new(),
        weight: None,
        enabled: true,
    }
}

#[track_caller]
fn valid(text: &str) -> Config {
    match load_str(text, "t.yaml", &lenient_env(&no_env)) {
        Ok(loaded) => loaded.config,
        Err(e) => panic!("{e}\n---\n{text}"),
    }
}

fn names(config: &Config) -> Vec<String> {
    config
        .providers
        .iter()
        .map(|p| p.id.as_str().to_owned())
        .collect()
}

/// Asserts that `after` is `before` with exactly the lines `added` inserted in one place, and
/// returns where (the index of the first inserted line).
#[track_caller]
fn assert_only_inserted(before: &str, after: &str, added: &str) -> usize {
    let b: Vec<&str> = before.split_inclusive('\n').collect();
    let a: Vec<&str> = after.split_inclusive('\n').collect();
    let n: Vec<&str> = added.split_inclusive('\n').collect();
    assert_eq!(a.len(), b.len() + n.len(), "{after}");
    (0..=b.len())
        .find(|&at| {
            a[..at] == b[..at] && a[at..at + n.len()] == n[..] && a[at + n.len()..] == b[at..]
        })
        .unwrap_or_else(|| panic!("not an insertion of\n{added}\ninto\n{before}\ngiving\n{after}"))
}

#[test]
fn add_to_the_seed_keeps_every_byte_and_the_blank_line_style() {
    let after = add_provider(SEED, &deepseek()).unwrap();
    let block = "    \n  - name: deepseek\n    type: openai\n    auth_type: api_key\n    auth_value: \"${DEEPSEEK_API_KEY}\"\n    base_url: https://api.deepseek.com/v1\n    weight: 2\n    models:\n      \"claude-*haiku*\": \"deepseek-chat\"\n      \"*\": \"deepseek-reasoner\"\n";
    // The seed separates items with a line of four spaces; the new item copies that line.
    let added = block.replacen("    \n", "\n", 1);
    let at = assert_only_inserted(SEED, &after, &added);
    assert_eq!(at, 21, "after the last item's `enabled: true`");
    let config = valid(&after);
    assert_eq!(
        names(&config),
        [
            "anthropic_official",
            "custom_provider",
            "openrouter",
            "deepseek"
        ]
    );
    let new = &config.providers[3];
    assert_eq!(new.weight.get(), 2);
    assert_eq!(new.models.map("claude-3-5-haiku"), Some("deepseek-chat"));
    assert_eq!(new.models.map("claude-opus-4"), Some("deepseek-reasoner"));
    assert!(after.contains("# OpenRouter备用"));
}

#[test]
fn add_copies_indentation_and_crlf() {
    let before = "# team config\r\nproviders:\r\n- name: \"a\"   # first\r\n  type: anthropic\r\n  auth_type: api_key\r\n  auth_value: k\r\nsettings:\r\n  strategy: priority\r\n";
    let after = add_provider(before, &relay()).unwrap();
    assert_only_inserted(
        before,
        &after,
        "- name: relay\r\n  type: anthropic\r\n  auth_type: auth_token\r\n  auth_value: \"${RELAY_TOKEN}\"\r\n  base_url: https://relay.example.com\r\n",
    );
    assert_eq!(names(&valid(&after)), ["a", "relay"]);
}

#[test]
fn add_to_the_example_goes_after_the_real_item_and_its_commented_keys() {
    let after = add_provider(EXAMPLE, &relay()).unwrap();
    let at = assert_only_inserted(EXAMPLE, &after, &render(&relay(), 2, 4, "\n"));
    let lines: Vec<&str> = after.lines().collect();
    assert!(
        lines[at - 1].contains("# health_check: models"),
        "{}",
        lines[at - 1]
    );
    assert_eq!(names(&valid(&after)), ["anthropic_official", "relay"]);
}

#[test]
fn add_to_files_without_providers() {
    let cases: &[(&str, &str)] = &[
        ("", ""),
        ("# nothing yet\n", "# nothing yet\n"),
        ("# no newline", "# no newline\n"),
        (
            "settings:\n  strategy: weighted  # spread\n",
            "settings:\n  strategy: weighted  # spread\n\n",
        ),
        (
            "settings:\n  log_level: info",
            "settings:\n  log_level: info\n\n",
        ),
        ("providers:\nsettings:\n  listen: 127.0.0.1:9\n", ""),
        ("providers: []  # none yet\n", ""),
        ("providers: ~\n", ""),
    ];
    for (before, prefix) in cases {
        let after = add_provider(before, &relay()).unwrap();
        let config = valid(&after);
        assert_eq!(names(&config), ["relay"], "{before:?}\n{after}");
        if !prefix.is_empty() || before.is_empty() {
            assert_eq!(
                after,
                format!("{prefix}providers:\n{}", render(&relay(), 2, 4, "\n")),
                "{before:?}"
            );
        }
    }
    assert_eq!(
        add_provider("providers: []  # none yet\n", &relay()).unwrap(),
        format!("providers:  # none yet\n{}", render(&relay(), 2, 4, "\n"))
    );
    let after = add_provider("providers:\nsettings:\n  listen: 127.0.0.1:9\n", &relay()).unwrap();
    assert_eq!(
        after,
        format!(
            "providers:\n{}settings:\n  listen: 127.0.0.1:9\n",
            render(&relay(), 2, 4, "\n")
        )
    );
    let crlf = add_provider("settings:\r\n  log_level: info\r\n", &relay()).unwrap();
    assert!(!crlf.replace("\r\n", "").contains('\n'), "{crlf:?}");
}

#[test]
fn add_keeps_a_byte_order_mark() {
    let before = "\u{feff}providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n";
    let after = add_provider(before, &relay()).unwrap();
    assert!(after.starts_with(before));
    assert_eq!(names(&valid(&after)), ["a", "relay"]);
}

#[test]
fn add_refuses_duplicates_bad_names_and_unsafe_files() {
    let err = add_provider(
        SEED,
        &NewProvider {
            name: "openrouter".to_owned(),
            ..relay()
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        EditError::Duplicate {
            what: Section::Providers,
            name: "openrouter".to_owned(),
            line: 17
        }
    );
    assert!(
        err.to_string().contains("already exists (line 17)"),
        "{err}"
    );

    let err = add_provider(
        SEED,
        &NewProvider {
            name: "a b".to_owned(),
            ..relay()
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        EditError::InvalidName {
            what: Section::Providers,
            name: "a b".to_owned()
        }
    );

    let refused: &[(&str, &str)] = &[
        ("providers: [{name: a, type: anthropic}]\n", "flow style"),
        ("providers:\n  name: a\n", "not a list"),
        ("- a\n- b\n", "not a mapping"),
        ("{providers: []}\n", "flow style"),
        (
            "providers: []\n---\nproviders: []\n",
            "more than one YAML document",
        ),
        ("providers:\n  - name: a\n\tb: c\n", "not valid YAML"),
        ("providers:\n  - name: [a\n", "not valid YAML"),
        ("x: 1\rproviders: []\n", "lone carriage return"),
        ("base: &b {type: anthropic}\nproviders:\n  - *b\n", "alias"),
    ];
    for (text, expect) in refused {
        let err = add_provider(text, &relay()).unwrap_err().to_string();
        assert!(err.contains(expect), "{text:?}: {err}");
    }
}

#[test]
fn quoting_of_values() {
    assert_eq!(scalar("deepseek"), "deepseek");
    assert_eq!(scalar("https://a.example/v1"), "https://a.example/v1");
    assert_eq!(scalar("true"), "\"true\"");
    assert_eq!(scalar("1.5"), "\"1.5\"");
    assert_eq!(scalar("a: b"), "\"a: b\"");
    assert_eq!(scalar("-x"), "\"-x\"");
    assert_eq!(quoted("say \"hi\"\\\n"), "\"say \\\"hi\\\"\\\\\\n\"");
    // A literal secret with YAML-special characters survives the round trip.
    let tricky = NewProvider {
        auth_value: "sk-#: \"'{}[]*&!%@`|>".to_owned(),
        models: vec![("*".to_owned(), "a: b # c".to_owned())],
        ..relay()
    };
    let text = add_provider("", &tricky).unwrap();
    let config = valid(&text);
    assert_eq!(
        config.providers[0].secret.as_ref().unwrap().expose(),
        tricky.auth_value
    );
    assert_eq!(config.providers[0].models.map("x"), Some("a: b # c"));
}

#[test]
fn remove_takes_the_item_and_its_comments_only() {
    let cases: &[(&str, &[&str], Vec<usize>)] = &[
        // name, remaining providers, seed lines (1-based) removed
        (
            "anthropic_official",
            &["custom_provider", "openrouter"],
            (2..=8).collect(),
        ),
        (
            "custom_provider",
            &["anthropic_official", "openrouter"],
            (9..=15).collect(),
        ),
        (
            "openrouter",
            &["anthropic_official", "custom_provider"],
            (15..=21).collect(),
        ),
    ];
    let seed: Vec<&str> = SEED.split_inclusive('\n').collect();
    for (name, remaining, removed) in cases {
        let after = remove_provider(SEED, name).unwrap();
        let expect: String = seed
            .iter()
            .enumerate()
            .filter(|(i, _)| !removed.contains(&(i + 1)))
            .map(|(_, l)| *l)
            .collect();
        assert_eq!(after, expect, "{name}");
        assert_eq!(names(&valid(&after)), *remaining);
    }
    // Quoted names are found by their value.
    let quoted = "providers:\n  - name: 'a.b-c_1'\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n  - name: b\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n";
    assert_eq!(
        remove_provider(quoted, "a.b-c_1").unwrap(),
        "providers:\n  - name: b\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n"
    );
}

#[test]
fn remove_keeps_the_neighbours_comments_and_crlf() {
    let before = "providers:\r\n  # first\r\n  - name: a\r\n    type: anthropic\r\n    auth_type: api_key\r\n    auth_value: k\r\n    # weight: 3\r\n\r\n  # second\r\n  - name: b   # keep me\r\n    type: anthropic\r\n    auth_type: api_key\r\n    auth_value: k\r\n    models:\r\n      \"*\": x\r\n\r\n  # third\r\n  - {name: c, type: anthropic, auth_type: api_key, auth_value: k}\r\n\r\n# settings below\r\nsettings:\r\n  log_level: info\r\n";
    assert_eq!(
        remove_provider(before, "b").unwrap(),
        "providers:\r\n  # first\r\n  - name: a\r\n    type: anthropic\r\n    auth_type: api_key\r\n    auth_value: k\r\n    # weight: 3\r\n\r\n  # third\r\n  - {name: c, type: anthropic, auth_type: api_key, auth_value: k}\r\n\r\n# settings below\r\nsettings:\r\n  log_level: info\r\n"
    );
    assert_eq!(
        remove_provider(before, "a").unwrap(),
        before.replacen("  # first\r\n  - name: a\r\n    type: anthropic\r\n    auth_type: api_key\r\n    auth_value: k\r\n    # weight: 3\r\n\r\n", "", 1)
    );
    let without_c = remove_provider(before, "c").unwrap();
    assert_eq!(
        without_c,
        before.replacen("  # third\r\n  - {name: c, type: anthropic, auth_type: api_key, auth_value: k}\r\n\r\n", "", 1)
    );
    assert_eq!(names(&valid(&without_c)), ["a", "b"]);
}

#[test]
fn remove_reports_what_is_there() {
    let err = remove_provider(SEED, "nope").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no provider named \"nope\" in the file (it has: \"anthropic_official\", \"custom_provider\", \"openrouter\")"
    );
    let err = remove_provider("settings:\n  log_level: info\n", "a").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no provider named \"a\" in the file (it has none)"
    );
}

#[test]
fn an_enabled_that_is_an_alias_anchor_or_tag_is_left_for_the_user() {
    let base = "off: &off false\non: &on true\nproviders:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    enabled: VALUE\n";
    for value in ["*off", "*on", "&flag false", "!!bool true"] {
        let text = base.replace("VALUE", value);
        for enabled in [true, false] {
            let err = set_enabled(&text, "a", enabled).unwrap_err();
            assert!(
                err.to_string().contains("is a YAML alias, anchor or tag"),
                "{value}: {err}"
            );
        }
    }
}

#[test]
fn enable_and_disable() {
    // An existing `enabled:` value is rewritten in place, quotes and comment around it kept.
    let after = set_enabled(SEED, "custom_provider", false).unwrap();
    assert_eq!(
        after,
        SEED.replacen(
            "    enabled: true\n    \n  # Open",
            "    enabled: false\n    \n  # Open",
            1
        )
    );
    let config = valid(&after);
    assert!(!config.providers[1].enabled);
    assert!(config.providers[0].enabled && config.providers[2].enabled);
    assert_eq!(set_enabled(&after, "custom_provider", true).unwrap(), SEED);
    // Already so: the text comes back unchanged.
    assert_eq!(set_enabled(SEED, "openrouter", true).unwrap(), SEED);

    let quoted = "providers:\r\n  - name: a\r\n    enabled: \"true\"  # on\r\n    type: anthropic\r\n    auth_type: api_key\r\n    auth_value: k\r\n";
    assert_eq!(
        set_enabled(quoted, "a", false).unwrap(),
        quoted.replace("\"true\"", "false")
    );

    // Without the key, disabling adds `enabled: false` under the item's last line.
    let before = "providers:\n  - name: a   # main\n    type: openai\n    auth_type: api_key\n    auth_value: k\n    models:\n      \"*\": m   # all\n    # weight: 2\n  - name: b\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n";
    let after = set_enabled(before, "a", false).unwrap();
    assert_eq!(
        after,
        before.replacen("m   # all\n", "m   # all\n    enabled: false\n", 1)
    );
    assert!(!valid(&after).providers[0].enabled);
    assert_eq!(set_enabled(before, "a", true).unwrap(), before);
    // The last line of a file without a newline.
    let bare =
        "providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: k";
    assert_eq!(
        set_enabled(bare, "a", false).unwrap(),
        format!("{bare}\n    enabled: false\n")
    );

    let flow = "providers:\n  - {name: a, type: anthropic, auth_type: api_key, auth_value: k}\n";
    let err = set_enabled(flow, "a", false).unwrap_err().to_string();
    assert!(err.contains("flow style"), "{err}");
    let err = set_enabled(SEED, "x", false).unwrap_err();
    assert!(matches!(err, EditError::NotFound { .. }));
}

#[test]
fn round_trip_on_the_seed_gives_back_the_seed() {
    let added = add_provider(SEED, &deepseek()).unwrap();
    let disabled = set_enabled(&added, "deepseek", false).unwrap();
    assert!(!valid(&disabled).providers[3].enabled);
    let enabled = set_enabled(&disabled, "deepseek", true).unwrap();
    assert!(valid(&enabled).providers[3].enabled);
    let removed = remove_provider(&enabled, "deepseek").unwrap();
    assert_eq!(removed, SEED);
    assert_eq!(
        provider_names(SEED).unwrap(),
        ["anthropic_official", "custom_provider", "openrouter"]
    );
}

#[test]
fn names_are_checked() {
    for ok in ["a", "A-1", "x.y_z", "0"] {
        assert!(is_valid_name(ok), "{ok}");
    }
    for bad in ["", "a b", "é", "a/b", "a:b"] {
        assert!(!is_valid_name(bad), "{bad}");
    }
}

#[test]
fn unusual_but_valid_layouts() {
    // Column-0 items with column-0 comments, a dash alone on its line, quoted keys, a
    // trailing comment after the last value, tabs inside a comment.
    let before = "providers:\n# main\n- \"name\": a\n  'type': anthropic\n  auth_type: api_key\n  auth_value: k  # inline\n-\n  name: b\n  type: anthropic\n  auth_type: api_key\n  auth_value: k\t# tab\n# end of list\nsettings: {log_level: info}\n";
    let added = add_provider(before, &relay()).unwrap();
    assert_only_inserted(before, &added, &render(&relay(), 0, 2, "\n"));
    assert_eq!(names(&valid(&added)), ["a", "b", "relay"]);

    let removed = remove_provider(before, "a").unwrap();
    assert_eq!(
        removed,
        "providers:\n-\n  name: b\n  type: anthropic\n  auth_type: api_key\n  auth_value: k\t# tab\n# end of list\nsettings: {log_level: info}\n"
    );
    let removed = remove_provider(before, "b").unwrap();
    assert_eq!(names(&valid(&removed)), ["a"]);
    assert!(
        removed
            .ends_with("  auth_value: k  # inline\n# end of list\nsettings: {log_level: info}\n")
    );

    let disabled = set_enabled(before, "b", false).unwrap();
    assert_eq!(
        disabled,
        before.replacen("k\t# tab\n", "k\t# tab\n  enabled: false\n", 1)
    );
    assert!(!valid(&disabled).providers[1].enabled);
}

#[test]
fn every_item_of_the_example_can_be_removed_and_re_added() {
    // The example has a single provider: removing it is a clean edit (its comments go with
    // it, the commented-out examples stay), which validation then refuses.
    let none = remove_provider(EXAMPLE, "anthropic_official").unwrap();
    let start = EXAMPLE.find("  # The official Anthropic API").unwrap();
    let end = EXAMPLE
        .find("\n\n  # An Anthropic-compatible relay")
        .unwrap()
        + 1;
    assert_eq!(none, format!("{}{}", &EXAMPLE[..start], &EXAMPLE[end..]));
    let err = load_str(&none, "t.yaml", &no_env).unwrap_err().to_string();
    assert!(err.contains("providers: no providers"), "{err}");
    let two = add_provider(EXAMPLE, &relay()).unwrap();
    let back = remove_provider(&two, "relay").unwrap();
    assert_eq!(back, EXAMPLE);
    let without_official = remove_provider(&two, "anthropic_official").unwrap();
    assert!(
        without_official.contains("  # An Anthropic-compatible relay that takes a bearer token.")
    );
    assert!(!without_official.contains("# The official Anthropic API"));
    assert_eq!(names(&valid(&without_official)), ["relay"]);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn base(index: usize) -> String {
        let texts = [
            SEED.to_owned(),
            SEED.replace('\n', "\r\n"),
            EXAMPLE.to_owned(),
            String::new(),
            "settings:\n  log_level: info\n".to_owned(),
            "providers: []\n".to_owned(),
        ];
        texts[index % texts.len()].clone()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Adding providers one by one, toggling them, and removing them in any order gives
        /// back the file byte for byte, and every step in between validates.
        #[test]
        fn add_then_remove_in_any_order_is_the_identity(
            file in 0usize..6,
            count in 1usize..5,
            order in Just(()).prop_perturb(|(), mut rng| {
                let mut order: Vec<usize> = (0..4).collect();
                for i in (1..order.len()).rev() {
                    order.swap(i, rng.random_range(0..=i));
                }
                order
            }),
            disable in proptest::collection::vec(any::<bool>(), 4),
        ) {
            let original = base(file);
            let mut text = original.clone();
            for i in 0..count {
                let provider = NewProvider {
                    name: format!("added-{i}"),
                    models: if i % 2 == 0 { deepseek().models } else { Vec::new() },
                    ..relay()
                };
                text = add_provider(&text, &provider).unwrap();
                valid(&text);
            }
            for i in order.iter().copied().filter(|i| *i < count) {
                if disable[i] {
                    let off = set_enabled(&text, &format!("added-{i}"), false).unwrap();
                    prop_assert_ne!(&off, &text);
                    match load_str(&off, "t.yaml", &lenient_env(&no_env)) {
                        Ok(loaded) => {
                            let me = loaded.config.providers.iter().find(|p| p.id.as_str() == format!("added-{i}"));
                            prop_assert!(!me.unwrap().enabled);
                        }
                        // Disabling the only provider is a valid edit that validation refuses.
                        Err(e) => prop_assert!(e.to_string().contains("no enabled provider"), "{}", e),
                    }
                    text = set_enabled(&off, &format!("added-{i}"), true).unwrap();
                    prop_assert_eq!(text.len(), off.len() - 1, "false -> true");
                }
                text = remove_provider(&text, &format!("added-{i}")).unwrap();
            }
            // A file that had providers gets back every byte; one that had none keeps the
            // `providers:` key the first add wrote.
            let expected = if provider_names(&original).unwrap().is_empty() {
                let once = add_provider(&original, &relay()).unwrap();
                remove_provider(&once, "relay").unwrap()
            } else {
                original
            };
            prop_assert_eq!(text, expected);
        }
    }
}

fn client(name: &str, key: &str) -> NewClient {
    NewClient {
        name: name.to_owned(),
        key_sha256: crate::config::KeyDigest::of(key.as_bytes()).to_hex(),
        providers: Vec::new(),
        models: Vec::new(),
        max_concurrent: None,
        requests_per_minute: None,
    }
}

#[test]
fn clients_are_added_after_the_last_one_and_the_list_is_created_when_missing() {
    // No `clients:` yet: the list goes at the end, after a blank line.
    let first = add_client(SEED, &client("alice", "key-a")).unwrap();
    assert!(first.starts_with(SEED));
    assert_eq!(
        &first[SEED.len()..],
        format!(
            "\nclients:\n  - name: alice\n    key_sha256: \"{}\"\n",
            crate::config::KeyDigest::of(b"key-a").to_hex()
        )
    );
    assert_eq!(client_names(&first).unwrap(), ["alice"]);
    // The provider list is not touched by a client, nor the other way round.
    assert_eq!(
        provider_names(&first).unwrap(),
        provider_names(SEED).unwrap()
    );

    let limited = NewClient {
        providers: vec!["openrouter".to_owned(), "custom_provider".to_owned()],
        models: vec!["claude-*haiku*".to_owned()],
        max_concurrent: Some(2),
        requests_per_minute: Some(60),
        ..client("ci", "key-b")
    };
    let second = add_client(&first, &limited).unwrap();
    assert_only_inserted(&first, &second, &render_client(&limited, 2, 4, "\n"));
    let config = valid(&second);
    assert_eq!(config.clients.len(), 2);
    let ci = &config.clients[1];
    assert_eq!(&*ci.name, "ci");
    assert!(ci.key.ct_eq(&crate::config::KeyDigest::of(b"key-b")));
    assert!(ci.may_request("claude-haiku-4-5") && !ci.may_request("claude-sonnet-4-5"));
    assert_eq!(ci.max_concurrent.map(std::num::NonZeroU32::get), Some(2));
    assert_eq!(
        ci.requests_per_minute.map(std::num::NonZeroU32::get),
        Some(60)
    );

    assert_eq!(
        add_client(&second, &client("ci", "key-c")).unwrap_err(),
        EditError::Duplicate {
            what: Section::Clients,
            name: "ci".to_owned(),
            line: second.lines().position(|l| l == "  - name: ci").unwrap() + 1,
        }
    );
    assert!(matches!(
        add_client(&second, &client("c i", "key-c")),
        Err(EditError::InvalidName {
            what: Section::Clients,
            ..
        })
    ));

    // Removing gives the file back as it was.
    assert_eq!(remove_client(&second, "ci").unwrap(), first);
    let err = remove_client(&second, "cj").unwrap_err();
    assert!(err.to_string().contains("no client named \"cj\""), "{err}");
    assert!(err.to_string().contains("did you mean \"ci\""), "{err}");
}

#[test]
fn clients_copy_the_file_s_layout_and_refuse_a_flow_list() {
    let text = "providers:\r\n- name: a\r\n  type: anthropic\r\n  auth_type: api_key\r\n  auth_value: k\r\nclients:\r\n- name: one\r\n  key_sha256: \"00\"\r\n";
    let after = add_client(text, &client("two", "k2")).unwrap();
    assert!(after.starts_with(text));
    assert!(
        after[text.len()..].starts_with("- name: two\r\n  key_sha256: \""),
        "{after:?}"
    );
    assert_eq!(client_names(&after).unwrap(), ["one", "two"]);

    let flow = "providers:\n  - name: a\nclients: [{name: one, key: k}]\n";
    let err = add_client(flow, &client("two", "k2")).unwrap_err();
    assert!(
        err.to_string()
            .contains("`clients:` (line 3) is written in flow style"),
        "{err}"
    );
}
