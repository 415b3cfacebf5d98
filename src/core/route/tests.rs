// Tests may unwrap: a panic is a test failure with its location.
#![allow(clippy::unwrap_used)]

use super::*;

fn rule(name: &str, when: Conditions) -> Rule {
    Rule {
        name: name.into(),
        when,
        providers: vec![0],
        model: None,
        fallback_any: false,
    }
}

fn model(p: &str) -> Conditions {
    Conditions {
        model: Some(Pattern::new(p)),
        ..Conditions::default()
    }
}

fn thinking(on: bool) -> Conditions {
    Conditions {
        thinking: Some(on),
        ..Conditions::default()
    }
}

fn tool(p: &str) -> Conditions {
    Conditions {
        tool: Some(Pattern::new(p)),
        ..Conditions::default()
    }
}

fn tokens(min: u64) -> Conditions {
    Conditions {
        min_input_tokens: Some(min),
        ..Conditions::default()
    }
}

fn header(name: &str, p: &str) -> Conditions {
    Conditions {
        headers: vec![(name.into(), Pattern::new(p))],
        ..Conditions::default()
    }
}

/// Facts with every fact extracted: `model`, thinking off, no tools, no headers, few tokens.
fn facts(model: &str) -> Facts {
    Facts {
        model: model.into(),
        thinking: Some(false),
        tools: Some(Vec::new()),
        input_tokens: Some(InputTokens::Estimated(10)),
        headers: Some(Vec::new()),
    }
}

fn web_search() -> Tool {
    Tool {
        name: Some("web_search".into()),
        kind: Some("web_search_20250305".into()),
    }
}

fn bash() -> Tool {
    Tool {
        name: Some("Bash".into()),
        kind: None,
    }
}

/// The name of the rule that matches, or `-`.
#[track_caller]
fn check(rules: &Rules, facts: &Facts, expect: &str) {
    let got = match rules.first_match(facts, 0) {
        Decision::Route(i) => rules.rules()[i].name.to_string(),
        Decision::NoRoute => "-".to_owned(),
        Decision::NeedTokens(i) => format!("tokens? {}", rules.rules()[i].name),
    };
    assert_eq!(got, expect);
}

fn classic() -> Rules {
    Rules::new(vec![
        rule("background", model("claude-*haiku*")),
        rule("long_context", tokens(60_000)),
        rule("thinking", thinking(true)),
        rule("web_search", tool("web_search*")),
    ])
}

#[test]
fn each_condition_alone() {
    let rules = classic();
    check(&rules, &facts("claude-haiku-4-5"), "background");
    check(&rules, &facts("claude-sonnet-4-5"), "-");
    let long = Facts {
        input_tokens: Some(InputTokens::Estimated(70_000)),
        ..facts("claude-sonnet-4-5")
    };
    check(&rules, &long, "long_context");
    let exactly = Facts {
        input_tokens: Some(InputTokens::Estimated(60_000)),
        ..facts("claude-sonnet-4-5")
    };
    check(&rules, &exactly, "long_context");
    let think = Facts {
        thinking: Some(true),
        ..facts("claude-opus-4-5")
    };
    check(&rules, &think, "thinking");
    let search = Facts {
        tools: Some(vec![bash(), web_search()]),
        ..facts("claude-opus-4-5")
    };
    check(&rules, &search, "web_search");
    let only_bash = Facts {
        tools: Some(vec![bash()]),
        ..facts("claude-opus-4-5")
    };
    check(&rules, &only_bash, "-");
}

#[test]
fn the_first_match_wins_in_file_order() {
    let rules = classic();
    // A Haiku request with thinking and web search goes to the first rule that matches.
    let all = Facts {
        thinking: Some(true),
        tools: Some(vec![web_search()]),
        input_tokens: Some(InputTokens::Estimated(100_000)),
        ..facts("claude-haiku-4-5")
    };
    check(&rules, &all, "background");
    let not_haiku = Facts {
        model: "claude-opus-4-5".into(),
        ..all
    };
    check(&rules, &not_haiku, "long_context");
}

#[test]
fn all_conditions_of_a_rule_must_hold() {
    let both = Conditions {
        model: Some(Pattern::new("claude-opus-*")),
        thinking: Some(true),
        tool: Some(Pattern::new("web_search*")),
        headers: vec![("x-team".into(), Pattern::new("research-*"))],
        min_input_tokens: Some(1_000),
    };
    let rules = Rules::new(vec![rule("narrow", both)]);
    let ok = Facts {
        model: "claude-opus-4-5".into(),
        thinking: Some(true),
        tools: Some(vec![web_search()]),
        input_tokens: Some(InputTokens::Estimated(2_000)),
        headers: Some(vec![("x-team".into(), "research-ml".into())]),
    };
    check(&rules, &ok, "narrow");
    let miss: [fn(&mut Facts); 6] = [
        |f| f.model = "claude-sonnet-4-5".into(),
        |f| f.thinking = Some(false),
        |f| f.tools = Some(vec![bash()]),
        |f| f.input_tokens = Some(InputTokens::Estimated(999)),
        |f| f.headers = Some(vec![("x-team".into(), "sales".into())]),
        |f| f.headers = Some(Vec::new()),
    ];
    for change in miss {
        let mut f = ok.clone();
        change(&mut f);
        check(&rules, &f, "-");
    }
}

#[test]
fn thinking_false_matches_requests_without_it_and_an_empty_when_matches_all() {
    let rules = Rules::new(vec![
        rule("no_thinking", thinking(false)),
        rule("rest", Conditions::default()),
    ]);
    check(&rules, &facts("m"), "no_thinking");
    let think = Facts {
        thinking: Some(true),
        ..facts("m")
    };
    check(&rules, &think, "rest");
}

#[test]
fn a_tool_matches_by_name_or_type() {
    let by_type = Rules::new(vec![rule("t", tool("web_search_2025*"))]);
    let search = Facts {
        tools: Some(vec![web_search()]),
        ..facts("m")
    };
    check(&by_type, &search, "t");
    let renamed = Facts {
        tools: Some(vec![Tool {
            name: Some("search".into()),
            kind: Some("web_search_20250305".into()),
        }]),
        ..facts("m")
    };
    check(&by_type, &renamed, "t");
    let by_name = Rules::new(vec![rule("t", tool("Bash"))]);
    let with_bash = Facts {
        tools: Some(vec![bash()]),
        ..facts("m")
    };
    check(&by_name, &with_bash, "t");
}

#[test]
fn headers_match_any_of_their_values() {
    let rules = Rules::new(vec![rule("h", header("x-route", "fast"))]);
    let two = Facts {
        headers: Some(vec![
            ("x-route".into(), "slow".into()),
            ("x-route".into(), "fast".into()),
        ]),
        ..facts("m")
    };
    check(&rules, &two, "h");
}

#[test]
fn tokens_are_asked_for_only_when_the_rest_of_a_rule_holds() {
    let rules = Rules::new(vec![
        rule("background", model("claude-*haiku*")),
        rule(
            "long_opus",
            Conditions {
                model: Some(Pattern::new("claude-opus-*")),
                min_input_tokens: Some(60_000),
                ..Conditions::default()
            },
        ),
    ]);
    let unknown = |m: &str| Facts {
        input_tokens: None,
        ..facts(m)
    };
    // A Haiku request matches before the token rule; a Sonnet one fails its model condition:
    // neither needs the tokens.
    check(&rules, &unknown("claude-haiku-4-5"), "background");
    check(&rules, &unknown("claude-sonnet-4-5"), "-");
    check(&rules, &unknown("claude-opus-4-5"), "tokens? long_opus");
    // A bound below the threshold decides without counting; one above it does not.
    let below = Facts {
        input_tokens: Some(InputTokens::AtMost(1_000)),
        ..facts("claude-opus-4-5")
    };
    check(&rules, &below, "-");
    let above = Facts {
        input_tokens: Some(InputTokens::AtMost(100_000)),
        ..facts("claude-opus-4-5")
    };
    check(&rules, &above, "tokens? long_opus");
    assert_eq!(rules.first_match(&above, 1), Decision::NeedTokens(1));
    let counted = Facts {
        input_tokens: Some(InputTokens::Estimated(70_000)),
        ..facts("claude-opus-4-5")
    };
    assert_eq!(rules.first_match(&counted, 1), Decision::Route(1));
    let unreadable = Facts {
        input_tokens: Some(InputTokens::Unknown),
        ..facts("claude-opus-4-5")
    };
    check(&rules, &unreadable, "-");
}

#[test]
fn needs_name_only_the_facts_the_rules_read() {
    let model_only = Rules::new(vec![
        rule("a", model("claude-*haiku*")),
        rule("b", model("claude-opus-*")),
    ]);
    assert_eq!(model_only.needs(), &Needs::default());
    assert!(!model_only.needs().body());
    assert!(!Rules::default().needs().body());
    let needs = classic().needs().clone();
    assert!(needs.body());
    assert_eq!(
        needs,
        Needs {
            thinking: true,
            tools: true,
            min_input_tokens: Some(60_000),
            headers: Vec::new(),
        }
    );
    let two_thresholds = Rules::new(vec![
        rule("big", tokens(100_000)),
        rule("small", tokens(20_000)),
        rule("h", header("x-a", "*")),
        rule("h2", header("x-a", "b")),
    ]);
    assert_eq!(two_thresholds.needs().min_input_tokens, Some(20_000));
    assert_eq!(two_thresholds.needs().headers, vec![Box::from("x-a")]);
    assert!(!two_thresholds.needs().thinking && !two_thresholds.needs().tools);
}

#[test]
fn explain_says_why_each_condition_holds_or_not() {
    let rules = classic();
    let f = Facts {
        input_tokens: Some(InputTokens::AtMost(300)),
        tools: Some(vec![bash()]),
        ..facts("claude-sonnet-4-5")
    };
    let lines: Vec<String> = (0..4)
        .flat_map(|i| rules.explain(i, &f))
        .map(|c| format!("{} {:?} {}", c.condition, c.holds, c.detail))
        .collect();
    assert_eq!(
        lines,
        [
            "model: \"claude-*haiku*\" Some(false) the model is \"claude-sonnet-4-5\"",
            "min_input_tokens: 60000 Some(false) at most 300 input tokens (from the body's length; not tokenized)",
            "thinking: true Some(false) thinking is not enabled",
            "tool: \"web_search*\" Some(false) tools: Bash",
        ]
    );
    let empty = Rules::new(vec![rule("all", Conditions::default())]);
    assert_eq!(empty.explain(0, &f)[0].holds, Some(true));
}

#[test]
fn pinned_model_names() {
    assert_eq!(
        pinned("deepseek,deepseek-chat"),
        Some(("deepseek", "deepseek-chat"))
    );
    assert_eq!(
        pinned("or,anthropic/claude,x"),
        Some(("or", "anthropic/claude,x"))
    );
    assert_eq!(pinned("claude-opus-4-5"), None);
}
