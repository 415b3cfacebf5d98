use serde_json::{Value, json};

use super::{ReasoningStyle, RequestOptions, to_openai};

const NONE: RequestOptions<'static> = RequestOptions {
    model: "up-model",
    max_tokens_cap: None,
    reasoning: ReasoningStyle::None,
};

fn translate(request: &Value, opts: &RequestOptions<'_>) -> Value {
    let body = to_openai(request.to_string().as_bytes(), opts).expect("translates");
    serde_json::from_slice(&body).expect("json")
}

/// Checks the translated request against `expect`, field by field for the fields `expect`
/// names (so each case states only what it is about).
#[track_caller]
#[allow(
    clippy::needless_pass_by_value,
    reason = "cases read better with owned json! literals"
)]
fn check(request: Value, opts: &RequestOptions<'_>, expect: Value) {
    let got = translate(&request, opts);
    for (key, want) in expect.as_object().expect("object") {
        assert_eq!(
            got.get(key).unwrap_or(&Value::Null),
            want,
            "field {key} of {}",
            serde_json::to_string_pretty(&got).unwrap_or_default()
        );
    }
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "cases read better with owned json! literals"
)]
fn req(extra: Value) -> Value {
    let mut base = json!({"model": "claude-sonnet-4-5", "max_tokens": 1000, "messages": [{"role": "user", "content": "hi"}]});
    for (k, v) in extra.as_object().expect("object") {
        base[k] = v.clone();
    }
    base
}

#[test]
fn worked_example_of_a_claude_code_request_for_deepseek() {
    let request = json!({
      "model": "claude-sonnet-4-5-20250929",
      "max_tokens": 32000,
      "stream": true,
      "system": [
        {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.150.a1b; cc_entrypoint=cli;"},
        {"type": "text", "text": "You are Claude Code, an interactive CLI tool...", "cache_control": {"type": "ephemeral"}}
      ],
      "messages": [
        {"role": "user", "content": [{"type": "text", "text": "What is in src?"}]},
        {"role": "assistant", "content": [
          {"type": "text", "text": "I'll list the src directory first."},
          {"type": "tool_use", "id": "toolu_01Vb7mJc2QeZt5RkYw9nHs4a", "name": "Bash",
           "input": {"command": "ls -la src", "description": "List files in src"}}
        ]},
        {"role": "user", "content": [
          {"type": "tool_result", "tool_use_id": "toolu_01Vb7mJc2QeZt5RkYw9nHs4a",
           "content": [{"type": "text", "text": "main.rs\nlib.rs"}]},
          {"type": "text", "text": "<system-reminder>Todo list is empty.</system-reminder>",
           "cache_control": {"type": "ephemeral"}}
        ]}
      ],
      "tools": [
        {"name": "Bash", "description": "Executes a shell command",
         "input_schema": {"type": "object",
                          "properties": {"command": {"type": "string"}, "description": {"type": "string"}},
                          "required": ["command"], "additionalProperties": false,
                          "$schema": "http://json-schema.org/draft-07/schema#"}}
      ],
      "tool_choice": {"type": "auto"},
      "thinking": {"type": "enabled", "budget_tokens": 8000},
      "metadata": {"user_id": "{\"device_id\":\"3f9c...\",\"account_uuid\":\"\",\"session_id\":\"5b0e...\"}"}
    });
    let opts = RequestOptions {
        model: "deepseek-chat",
        max_tokens_cap: Some(8192),
        reasoning: ReasoningStyle::DeepSeek,
    };
    let expect = json!({
      "model": "deepseek-chat",
      "max_tokens": 8192,
      "stream": true,
      "stream_options": {"include_usage": true},
      "messages": [
        {"role": "system", "content": "You are Claude Code, an interactive CLI tool..."},
        {"role": "user", "content": "What is in src?"},
        {"role": "assistant", "content": "I'll list the src directory first.", "reasoning_content": "",
         "tool_calls": [{"id": "toolu_01Vb7mJc2QeZt5RkYw9nHs4a", "type": "function",
                         "function": {"name": "Bash",
                                      "arguments": "{\"command\":\"ls -la src\",\"description\":\"List files in src\"}"}}]},
        {"role": "tool", "tool_call_id": "toolu_01Vb7mJc2QeZt5RkYw9nHs4a", "content": "main.rs\nlib.rs"},
        {"role": "user", "content": "<system-reminder>Todo list is empty.</system-reminder>"}
      ],
      "tools": [{"type": "function", "function": {"name": "Bash", "description": "Executes a shell command",
                 "parameters": {"type": "object",
                                "properties": {"command": {"type": "string"}, "description": {"type": "string"}},
                                "required": ["command"], "additionalProperties": false}}}],
      "tool_choice": "auto",
      "thinking": {"type": "enabled"},
      "reasoning_effort": "medium"
    });
    // A thinking budget of 8000 buckets as `medium` (4096 <= budget < 16384), not `high`.
    assert_eq!(translate(&request, &opts), expect);
}

#[test]
fn system_prompt_forms() {
    check(
        req(json!({"system": "Be brief."})),
        &NONE,
        json!({"messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]}),
    );
    check(
        req(
            json!({"system": [{"type": "text", "text": "A"}, {"type": "text", "text": ""}, {"type": "text", "text": "B", "cache_control": {"type": "ephemeral"}}]}),
        ),
        &NONE,
        json!({"messages": [{"role": "system", "content": "A\n\nB"}, {"role": "user", "content": "hi"}]}),
    );
    // Only the attribution block: no system message at all.
    check(
        req(
            json!({"system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=1;"}]}),
        ),
        &NONE,
        json!({"messages": [{"role": "user", "content": "hi"}]}),
    );
}

#[test]
fn system_role_inside_messages_and_unknown_roles() {
    let request = req(json!({"messages": [
        {"role": "user", "content": "a"},
        {"role": "system", "content": [{"type": "text", "text": "mid-conversation rule"}], "output_config": {"effort": "low"}},
        {"role": "developer", "content": "treated as user"},
    ]}));
    let openrouter = RequestOptions {
        reasoning: ReasoningStyle::OpenRouter,
        ..NONE
    };
    check(
        request.clone(),
        &openrouter,
        json!({"messages": [
            {"role": "user", "content": "a"},
            {"role": "system", "content": "mid-conversation rule"},
            {"role": "user", "content": "treated as user"},
        ]}),
    );
    // A generic server gets it in front of the next user message.
    check(
        request,
        &NONE,
        json!({"messages": [
            {"role": "user", "content": "a"},
            {"role": "user", "content": "mid-conversation rule\n\ntreated as user"},
        ]}),
    );
}

#[test]
fn tool_results_come_before_user_text_and_parallel_calls_share_one_message() {
    check(
        req(json!({"messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "plan", "signature": "sig"},
                {"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "/a"}},
                {"type": "tool_use", "id": "t2", "name": "Read", "input": {"file_path": "/b"}},
            ]},
            {"role": "user", "content": [
                {"type": "text", "text": "reminder first in Anthropic order"},
                {"type": "tool_result", "tool_use_id": "t2", "content": "B"},
                {"type": "tool_result", "tool_use_id": "t1", "content": "A", "is_error": true},
            ]},
        ]})),
        &NONE,
        json!({"messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "Read", "arguments": "{\"file_path\":\"/a\"}"}},
                {"id": "t2", "type": "function", "function": {"name": "Read", "arguments": "{\"file_path\":\"/b\"}"}},
            ]},
            {"role": "tool", "tool_call_id": "t2", "content": "B"},
            {"role": "tool", "tool_call_id": "t1", "content": "[tool error] A"},
            {"role": "user", "content": "reminder first in Anthropic order"},
        ]}),
    );
}

#[test]
fn consistency_pass_answers_interrupted_calls_and_drops_orphan_results() {
    check(
        req(json!({"messages": [
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "orphan", "content": "x"}, {"type": "text", "text": "hello"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
            {"role": "user", "content": "never mind"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "only thoughts", "signature": ""}]},
            {"role": "assistant", "content": ""},
        ]})),
        &NONE,
        json!({"messages": [
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "Bash", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "(the tool call was interrupted and has no result)"},
            {"role": "user", "content": "never mind"},
        ]}),
    );
}

#[test]
fn images_base64_url_and_inside_tool_results() {
    check(
        req(json!({"messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Screenshot", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": [
                    {"type": "text", "text": "Screenshot taken"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
                ]},
                {"type": "text", "text": "What is this?"},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/d.png"}},
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"}, "title": "spec.pdf"},
                {"type": "tool_result", "tool_use_id": "t1", "content": []},
            ]},
        ]})),
        &NONE,
        json!({"messages": [
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "Screenshot", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "Screenshot taken\n[image: attached to the next user message]"},
            {"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}},
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/d.png"}},
                {"type": "file", "file": {"filename": "spec.pdf", "file_data": "data:application/pdf;base64,JVBER"}},
            ]},
        ]}),
    );
}

#[test]
fn empty_tool_results_get_a_placeholder() {
    check(
        req(json!({"messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "true"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]},
        ]})),
        &NONE,
        json!({"messages": [
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"true\"}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "(no output)"},
        ]}),
    );
}

#[test]
fn tools_and_tool_choice() {
    let tools = json!([
        {"name": "Bash", "description": "Run", "input_schema": {"type": "object", "properties": {}}, "cache_control": {"type": "ephemeral"}},
        {"type": "custom", "name": "Edit", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
    ]);
    let expect_tools = json!([
        {"type": "function", "function": {"name": "Bash", "description": "Run", "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {"name": "Edit", "parameters": {"type": "object"}}},
    ]);
    let cases = [
        (json!(null), Value::Null, Value::Null),
        (json!({"type": "auto"}), json!("auto"), Value::Null),
        (json!({"type": "any"}), json!("required"), Value::Null),
        (
            json!({"type": "any", "disable_parallel_tool_use": true}),
            json!("required"),
            json!(false),
        ),
        (
            json!({"type": "tool", "name": "Bash"}),
            json!({"type": "function", "function": {"name": "Bash"}}),
            Value::Null,
        ),
        (
            json!({"type": "tool", "name": "web_search"}),
            json!("auto"),
            Value::Null,
        ),
        (json!({"type": "none"}), json!("none"), Value::Null),
        (
            json!({"type": "auto", "disable_parallel_tool_use": false}),
            json!("auto"),
            Value::Null,
        ),
    ];
    for (choice, expect_choice, expect_parallel) in cases {
        let mut request = req(json!({"tools": tools}));
        if !choice.is_null() {
            request["tool_choice"] = choice.clone();
        }
        check(
            request,
            &NONE,
            json!({"tools": expect_tools, "tool_choice": expect_choice, "parallel_tool_calls": expect_parallel}),
        );
    }
    // Only server tools: no tools and no tool_choice at all.
    check(
        req(
            json!({"tools": [{"type": "web_search_20250305", "name": "web_search"}], "tool_choice": {"type": "any"}}),
        ),
        &NONE,
        json!({"tools": null, "tool_choice": null}),
    );
}

#[test]
fn schema_keeps_member_order_and_drops_only_top_level_dollar_schema() {
    let got = to_openai(
        br#"{"model":"m","max_tokens":1,"messages":[],"tools":[{"name":"T","input_schema":{"type":"object","$schema":"x","properties":{"z":{"$schema":"keep"},"a":{}}}}]}"#,
        &NONE,
    )
    .expect("translates");
    let text = String::from_utf8(got).expect("utf-8");
    assert!(
        text.contains(
            r#""parameters":{"type":"object","properties":{"z":{"$schema":"keep"},"a":{}}}"#
        ),
        "{text}"
    );
}

#[test]
fn sampling_stop_and_max_tokens() {
    check(
        req(
            json!({"temperature": 0.3, "top_p": 0.9, "top_k": 40, "stop_sequences": ["END", "STOP"], "max_tokens": 32000}),
        ),
        &RequestOptions {
            max_tokens_cap: Some(4096),
            ..NONE
        },
        json!({"temperature": 0.3, "top_p": 0.9, "top_k": null, "stop": ["END", "STOP"], "max_tokens": 4096, "stream": null, "stream_options": null}),
    );
    check(
        req(json!({"max_tokens": 0, "stop_sequences": []})),
        &NONE,
        json!({"max_tokens": 1, "stop": null}),
    );
    check(
        req(json!({"top_k": 40})),
        &RequestOptions {
            reasoning: ReasoningStyle::OpenRouter,
            ..NONE
        },
        json!({"top_k": 40}),
    );
    check(
        req(
            json!({"temperature": 0.3, "stop_sequences": ["a", "b", "c", "d", "e"], "max_tokens": 500}),
        ),
        &RequestOptions {
            reasoning: ReasoningStyle::OpenAiEffort,
            ..NONE
        },
        json!({"temperature": null, "stop": ["a", "b", "c", "d"], "max_tokens": null, "max_completion_tokens": 500}),
    );
    check(
        req(json!({"stream": false})),
        &NONE,
        json!({"stream": null, "stream_options": null}),
    );
}

#[test]
fn thinking_per_reasoning_style() {
    let budget = |b: u32| json!({"thinking": {"type": "enabled", "budget_tokens": b}});
    let adaptive = |effort: &str| json!({"thinking": {"type": "adaptive", "display": "omitted"}, "output_config": {"effort": effort}});
    let style = |reasoning| RequestOptions { reasoning, ..NONE };
    let cases = [
        (
            ReasoningStyle::None,
            budget(20000),
            json!({"reasoning_effort": null, "reasoning": null, "thinking": null}),
        ),
        (
            ReasoningStyle::OpenAiEffort,
            budget(2000),
            json!({"reasoning_effort": "low"}),
        ),
        (
            ReasoningStyle::OpenAiEffort,
            budget(8000),
            json!({"reasoning_effort": "medium"}),
        ),
        (
            ReasoningStyle::OpenAiEffort,
            budget(20000),
            json!({"reasoning_effort": "high"}),
        ),
        (
            ReasoningStyle::OpenAiEffort,
            adaptive("xhigh"),
            json!({"reasoning_effort": "high"}),
        ),
        (
            ReasoningStyle::OpenAiEffort,
            json!({"thinking": {"type": "disabled"}}),
            json!({"reasoning_effort": null}),
        ),
        (
            ReasoningStyle::DeepSeek,
            json!({}),
            json!({"thinking": {"type": "disabled"}, "reasoning_effort": null}),
        ),
        (
            ReasoningStyle::DeepSeek,
            json!({"thinking": {"type": "between_tools"}}),
            json!({"thinking": {"type": "disabled"}}),
        ),
        (
            ReasoningStyle::DeepSeek,
            adaptive("max"),
            json!({"thinking": {"type": "enabled"}, "reasoning_effort": "max"}),
        ),
        (
            ReasoningStyle::DeepSeek,
            budget(30000),
            json!({"thinking": {"type": "enabled"}, "reasoning_effort": "high"}),
        ),
        (
            ReasoningStyle::OpenRouter,
            budget(5000),
            json!({"reasoning": {"max_tokens": 5000}}),
        ),
        (
            ReasoningStyle::OpenRouter,
            adaptive("medium"),
            json!({"reasoning": {"effort": "medium"}}),
        ),
        (
            ReasoningStyle::OpenRouter,
            json!({"thinking": {"type": "disabled"}}),
            json!({"reasoning": null}),
        ),
    ];
    for (reasoning, extra, expect) in cases {
        check(req(extra), &style(reasoning), expect);
    }
}

#[test]
fn deepseek_gets_reasoning_content_back_on_assistant_turns() {
    let request = req(json!({"messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "I should list files.", "signature": ""},
            {"type": "redacted_thinking", "data": "abc"},
            {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}},
        ]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "a"}]},
    ]}));
    let deepseek = translate(
        &request,
        &RequestOptions {
            reasoning: ReasoningStyle::DeepSeek,
            ..NONE
        },
    );
    assert_eq!(
        deepseek["messages"][1]["reasoning_content"],
        "I should list files."
    );
    let other = translate(&request, &NONE);
    assert!(other["messages"][1].get("reasoning_content").is_none());
}

#[test]
fn deepseek_in_thinking_mode_gets_a_reasoning_content_on_every_tool_call_turn() {
    // A tool-call turn without thinking (served by another provider, or with thinking off):
    // DeepSeek in thinking mode refuses the request unless the turn has the field.
    let turns = json!([
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}},
        ]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "a"}]},
        {"role": "assistant", "content": "done"},
        {"role": "user", "content": "again"},
    ]);
    let deepseek = RequestOptions {
        reasoning: ReasoningStyle::DeepSeek,
        ..NONE
    };
    let thinking = translate(
        &req(json!({"messages": turns, "thinking": {"type": "adaptive"}})),
        &deepseek,
    );
    assert_eq!(thinking["messages"][1]["reasoning_content"], "");
    // A turn without tool calls does not need it.
    assert!(thinking["messages"][3].get("reasoning_content").is_none());
    // Thinking off: nothing added.
    let off = translate(&req(json!({"messages": turns})), &deepseek);
    assert!(off["messages"][1].get("reasoning_content").is_none());
}

#[test]
fn deepseek_in_thinking_mode_lets_the_model_choose_its_tool() {
    let tools = json!([{"name": "WebSearch", "input_schema": {"type": "object"}}]);
    let deepseek = RequestOptions {
        reasoning: ReasoningStyle::DeepSeek,
        ..NONE
    };
    for choice in [
        json!({"type": "any"}),
        json!({"type": "tool", "name": "WebSearch"}),
    ] {
        let thinking = translate(
            &req(json!({"tools": tools, "tool_choice": choice, "thinking": {"type": "adaptive"}})),
            &deepseek,
        );
        assert_eq!(thinking["tool_choice"], "auto", "{choice}");
        // Without thinking the choice is kept.
        let off = translate(
            &req(json!({"tools": tools, "tool_choice": choice})),
            &deepseek,
        );
        assert_ne!(off["tool_choice"], "auto", "{choice}");
    }
}

#[test]
fn a_generic_server_gets_its_system_messages_first() {
    let request = req(json!({
        "system": "You are Claude Code.",
        "messages": [
            {"role": "system", "content": "Also this."},
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": "ok"},
            {"role": "system", "content": "hook context"},
            {"role": "user", "content": [{"type": "text", "text": "next"}]},
            {"role": "system", "content": "at the end"},
        ],
    }));
    let chat = translate(&request, &NONE);
    assert_eq!(
        chat["messages"],
        json!([
            {"role": "system", "content": "You are Claude Code.\n\nAlso this."},
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "hook context\n\nnext"},
            {"role": "user", "content": "at the end"},
        ])
    );
    // OpenAI, OpenRouter and DeepSeek take a system message where it stands.
    let openrouter = translate(
        &request,
        &RequestOptions {
            reasoning: ReasoningStyle::OpenRouter,
            ..NONE
        },
    );
    assert_eq!(openrouter["messages"][4]["role"], "system");
}

#[test]
fn openai_gets_at_most_four_stop_sequences_whatever_the_model() {
    let stops = json!({"stop_sequences": ["a", "b", "c", "d", "e"]});
    for (host, model) in [("api.openai.com", "gpt-4.1"), ("api.openai.com", "o3")] {
        let opts = RequestOptions {
            model,
            reasoning: ReasoningStyle::guess(host, model),
            ..NONE
        };
        let chat = translate(&req(stops.clone()), &opts);
        assert_eq!(chat["stop"], json!(["a", "b", "c", "d"]), "{model}");
    }
    // Other servers get them all.
    let chat = translate(&req(stops), &NONE);
    assert_eq!(chat["stop"].as_array().unwrap().len(), 5);
}

#[test]
fn consecutive_assistant_turns_become_one_message_and_keep_their_results() {
    let request = req(json!({"messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "First."},
            {"type": "tool_use", "id": "a", "name": "Bash", "input": {"command": "ls"}},
        ]},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "b", "name": "Bash", "input": {"command": "pwd"}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "a", "content": "a.txt"},
            {"type": "tool_result", "tool_use_id": "b", "content": "/home"},
        ]},
    ]}));
    let chat = translate(&request, &NONE);
    let messages = chat["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4, "{chat}");
    assert_eq!(messages[1]["content"], "First.");
    assert_eq!(messages[1]["tool_calls"].as_array().unwrap().len(), 2);
    assert_eq!(
        (&messages[2]["tool_call_id"], &messages[2]["content"]),
        (&json!("a"), &json!("a.txt"))
    );
    assert_eq!(
        (&messages[3]["tool_call_id"], &messages[3]["content"]),
        (&json!("b"), &json!("/home"))
    );
}

#[test]
fn structured_output_and_dropped_fields() {
    check(
        req(json!({
            "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
            "metadata": {"user_id": "u"}, "context_management": {}, "cache_control": {"type": "ephemeral"},
        })),
        &NONE,
        json!({
            "response_format": {"type": "json_schema", "json_schema": {"name": "response", "schema": {"type": "object"}}},
            "metadata": null, "context_management": null, "cache_control": null, "user": null,
        }),
    );
}

#[test]
fn rejects_what_is_not_a_messages_request() {
    for body in [&b"not json"[..], b"{}", br#"{"model":"m","messages":"x"}"#] {
        let err = to_openai(body, &NONE).expect_err("invalid");
        assert!(
            err.to_string()
                .starts_with("the request body is not a valid Anthropic Messages request"),
            "{err}"
        );
    }
}

#[test]
fn guesses_reasoning_style_from_host_and_model() {
    let cases = [
        (
            "openrouter.ai",
            "deepseek/deepseek-r1",
            ReasoningStyle::OpenRouter,
        ),
        (
            "api.deepseek.com",
            "deepseek-chat",
            ReasoningStyle::DeepSeek,
        ),
        ("api.openai.com", "o3-mini", ReasoningStyle::OpenAiEffort),
        ("api.openai.com", "gpt-5.1", ReasoningStyle::OpenAiEffort),
        ("api.openai.com", "gpt-4o", ReasoningStyle::OpenAi),
        ("localhost", "deepseek-r1:14b", ReasoningStyle::None),
        ("notopenrouter.ai", "x", ReasoningStyle::None),
        ("openrouter.ai", "x", ReasoningStyle::OpenRouter),
        ("ai", "x", ReasoningStyle::None),
        ("", "x", ReasoningStyle::None),
        (
            "API.DeepSeek.com.",
            "deepseek-reasoner",
            ReasoningStyle::DeepSeek,
        ),
    ];
    for (host, model, expect) in cases {
        assert_eq!(ReasoningStyle::guess(host, model), expect, "{host} {model}");
    }
}
