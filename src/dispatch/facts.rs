//! The facts about a request that routing rules read, extracted only as far as the rules need
//! them, and the rule they lead to.
//!
//! The model comes from `scan::model`, which planning reads anyway. Thinking and tools are
//! found with the same byte-level walk: the top-level `thinking` and `tools` members, and in
//! each tool only its `name` and `type`; nothing else of the body is parsed. Input tokens are
//! counted last and only when a rule whose other conditions hold asks for them: first an upper
//! bound from the body's length (no parse at all), and only when that bound reaches the rule's
//! threshold the local tokenizer, off the async workers and a few at a time.

use bytes::Bytes;
use http::HeaderMap;
use tokio::sync::Semaphore;

use super::scan;
use crate::core::route::{Decision, Facts, InputTokens, Needs, Rules, Tool};
use crate::limits::MAX_LOCAL_COUNT_TOKENS_BODY;

/// The facts of a request and the rule that matched (`None`: no rule, the whole pool).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Routing {
    pub facts: Facts,
    pub rule: Option<usize>,
}

/// The facts the rules need, except input tokens: cheap, extracted up front.
pub fn cheap_facts(needs: &Needs, model: &str, body: &[u8], headers: &HeaderMap) -> Facts {
    Facts {
        model: model.into(),
        thinking: needs.thinking.then(|| thinking(body)),
        tools: needs.tools.then(|| tools(body)),
        input_tokens: None,
        headers: (!needs.headers.is_empty()).then(|| {
            needs
                .headers
                .iter()
                .flat_map(|name| {
                    headers
                        .get_all(&**name)
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .map(|v| (name.clone(), Box::from(v)))
                })
                .collect()
        }),
    }
}

/// Whether the request enables extended thinking: a `thinking` member that is present, not
/// `null`, and not `{"type": "disabled"}` (Claude Code's `adaptive` counts as on).
pub fn thinking(body: &[u8]) -> bool {
    let Some(span) = scan::top_level_value(body, "thinking") else {
        return false;
    };
    if &body[span.clone()] == b"null" {
        return false;
    }
    let kind = scan::member(body, span.start, "type").and_then(|s| scan::string_at(body, s));
    kind.is_none_or(|k| k.value != "disabled")
}

/// The name and type of each tool in the top-level `tools` array.
pub fn tools(body: &[u8]) -> Vec<Tool> {
    let Some(span) = scan::top_level_value(body, "tools") else {
        return Vec::new();
    };
    let text = |element: usize, key: &str| {
        scan::member(body, element, key)
            .and_then(|s| scan::string_at(body, s))
            .map(|found| Box::from(&*found.value))
    };
    scan::elements(body, span.start)
        .unwrap_or_default()
        .into_iter()
        .map(|element| Tool {
            name: text(element.start, "name"),
            kind: text(element.start, "type"),
        })
        .collect()
}

/// The input tokens of `body` as far as deciding on `threshold` needs: the length bound when
/// it is below, else the local tokenizer's estimate.
pub async fn input_tokens(body: &Bytes, threshold: u64, counts: &Semaphore) -> InputTokens {
    let bound = crate::translate::tokens::upper_bound(body);
    if bound < threshold {
        return InputTokens::AtMost(bound);
    }
    if body.len() > MAX_LOCAL_COUNT_TOKENS_BODY {
        return InputTokens::Unknown;
    }
    // The semaphore is never closed, so acquiring only waits.
    let Ok(_permit) = counts.acquire().await else {
        return InputTokens::Unknown;
    };
    let body = body.clone();
    // Tokenizing a long prompt takes milliseconds: off the async workers, so that no stream
    // waits behind it.
    match tokio::task::spawn_blocking(move || crate::translate::tokens::estimate(&body)).await {
        Ok(Ok(tokens)) => InputTokens::Estimated(u64::from(tokens)),
        _ => InputTokens::Unknown,
    }
}

/// The facts of a request and the first rule that matches them.
pub async fn route(
    rules: &Rules,
    model: &str,
    body: &Bytes,
    headers: &HeaderMap,
    counts: &Semaphore,
) -> Routing {
    let mut facts = cheap_facts(rules.needs(), model, body, headers);
    let mut from = 0;
    loop {
        match rules.first_match(&facts, from) {
            Decision::Route(index) => {
                return Routing {
                    facts,
                    rule: Some(index),
                };
            }
            Decision::NoRoute => return Routing { facts, rule: None },
            Decision::NeedTokens(index) => {
                let threshold = rules
                    .get(index)
                    .and_then(|r| r.when.min_input_tokens)
                    .unwrap_or(0);
                // Never a bound at or above the threshold, so rule `index` is decided now; a
                // bound below it may leave a later rule with a lower threshold to count.
                facts.input_tokens = Some(input_tokens(body, threshold, counts).await);
                from = index;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinking_is_on_unless_absent_null_or_disabled() {
        for (body, expect) in [
            (r#"{"model":"m"}"#, false),
            (r#"{"model":"m","thinking":null}"#, false),
            (r#"{"model":"m","thinking":{"type":"disabled"}}"#, false),
            (
                r#"{"model":"m","thinking":{"type":"enabled","budget_tokens":1024}}"#,
                true,
            ),
            (r#"{"model":"m","thinking":{"type":"adaptive"}}"#, true),
            // Nested `thinking` blocks in messages are not the request's setting.
            (
                r#"{"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"x"}]}],"model":"m"}"#,
                false,
            ),
        ] {
            assert_eq!(thinking(body.as_bytes()), expect, "{body}");
        }
    }

    #[test]
    fn tools_are_read_by_name_and_type() {
        let body = br#"{"model":"m","tools":[{"name":"Bash","description":"run \"it\"","input_schema":{"type":"object","properties":{"name":{"type":"string"}}}},{"type":"web_search_20250305","name":"web_search","max_uses":5}]}"#;
        let tools = tools(body);
        assert_eq!(
            tools,
            [
                Tool {
                    name: Some("Bash".into()),
                    kind: None
                },
                Tool {
                    name: Some("web_search".into()),
                    kind: Some("web_search_20250305".into())
                },
            ]
        );
        assert!(super::tools(br#"{"model":"m"}"#).is_empty());
    }

    #[test]
    fn a_model_only_rule_set_reads_nothing_beyond_the_model() {
        use crate::core::route::{Conditions, Pattern, Rule};
        let rules = Rules::new(vec![Rule {
            name: "background".into(),
            when: Conditions {
                model: Some(Pattern::new("claude-*haiku*")),
                ..Conditions::default()
            },
            providers: vec![0],
            model: None,
            fallback_any: false,
        }]);
        // Not JSON past the model: any read of the body beyond it would find nothing sensible.
        let body = br#"{"model":"claude-haiku-4-5", this is not json"#;
        let facts = cheap_facts(rules.needs(), "claude-haiku-4-5", body, &HeaderMap::new());
        assert_eq!(
            facts,
            Facts {
                model: "claude-haiku-4-5".into(),
                ..Facts::default()
            }
        );
    }

    #[tokio::test]
    async fn short_requests_are_never_tokenized() {
        let counts = Semaphore::new(1);
        let short =
            Bytes::from_static(br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
        assert_eq!(
            input_tokens(&short, 1_000, &counts).await,
            InputTokens::AtMost(short.len() as u64)
        );
        // Above the bound, the tokenizer counts (a few tokens), and a body that is not a
        // request cannot be counted.
        assert!(matches!(
            input_tokens(&short, 10, &counts).await,
            InputTokens::Estimated(n) if n < 10
        ));
        let garbage = Bytes::from_static(b"{\"model\": 3, \"messages\": 4}");
        assert_eq!(
            input_tokens(&garbage, 1, &counts).await,
            InputTokens::Unknown
        );
    }
}
