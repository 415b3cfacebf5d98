//! Repairs a conversation history before it goes to an Anthropic-type provider.
//!
//! Reasoning from an OpenAI-type provider reaches Claude Code as thinking blocks with an
//! empty `signature` (there is no Anthropic signature for it), and Claude Code replays them
//! in later requests. An Anthropic-type provider verifies signatures and refuses such a
//! history with a 400, so a conversation that failed over from an OpenAI-type provider to an
//! Anthropic-type one would be stuck. This module drops those thinking blocks from assistant
//! messages, and leaves every other byte of the body as it was.
//!
//! Anthropic's own thinking blocks always carry a signature, so an empty one is foreign. The
//! check is one substring search; bodies without `"signature":""` are not touched at all.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

use super::scan;

/// The searcher for `"signature":""`, built once (building one costs more than searching a
/// small body).
static EMPTY_SIGNATURE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"signature\":\"\""));

/// The body without thinking blocks whose signature is empty, or `None` when it has none (or
/// is not shaped as a Messages request, in which case the provider judges it as it is).
pub(super) fn strip_unsigned_thinking(body: &[u8]) -> Option<Bytes> {
    EMPTY_SIGNATURE.find(body)?;
    let messages = scan::top_level_value(body, "messages")?;
    let mut cuts: Vec<Range<usize>> = Vec::new();
    let mut replacements: Vec<(Range<usize>, Vec<u8>)> = Vec::new();
    for message in scan::elements(body, messages.start)? {
        let Some(role) = scan::member(body, message.start, "role") else {
            continue;
        };
        if &body[role] != b"\"assistant\"" {
            continue;
        }
        let Some(content) = scan::member(body, message.start, "content") else {
            continue;
        };
        let Some(blocks) = scan::elements(body, content.start) else {
            continue;
        };
        let unsigned: Vec<usize> = blocks
            .iter()
            .enumerate()
            .filter(|(_, block)| is_unsigned_thinking(&body[(*block).clone()]))
            .map(|(i, _)| i)
            .collect();
        if unsigned.is_empty() {
            continue;
        }
        if unsigned.len() == blocks.len() {
            // Nothing but foreign thinking: keep the turn, as text, so the conversation still
            // alternates and its content is not lost.
            let text = blocks
                .iter()
                .filter_map(|b| thinking_text(&body[b.clone()]))
                .collect::<Vec<_>>()
                .join("\n\n");
            let block = serde_json::json!([{"type": "text", "text": text}]).to_string();
            replacements.push((content, block.into_bytes()));
            continue;
        }
        for &i in &unsigned {
            // Remove the block with the separator that joins it to its neighbour.
            let cut = if i + 1 < blocks.len() {
                blocks[i].start..blocks[i + 1].start
            } else {
                let previous = (0..i).rev().find(|j| !unsigned.contains(j));
                match previous {
                    Some(j) => blocks[j].end..blocks[i].end,
                    None => blocks[i].clone(),
                }
            };
            cuts.push(cut);
        }
    }
    if cuts.is_empty() && replacements.is_empty() {
        return None;
    }
    let mut edits: Vec<(Range<usize>, &[u8])> =
        cuts.iter().map(|c| (c.clone(), &b""[..])).collect();
    edits.extend(
        replacements
            .iter()
            .map(|(r, text)| (r.clone(), text.as_slice())),
    );
    edits.sort_by_key(|(range, _)| range.start);
    let mut out = BytesMut::with_capacity(body.len());
    let mut at = 0;
    for (range, text) in edits {
        if range.start < at {
            continue;
        }
        out.extend_from_slice(&body[at..range.start]);
        out.extend_from_slice(text);
        at = range.end;
    }
    out.extend_from_slice(&body[at..]);
    Some(out.freeze())
}

#[derive(serde::Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    signature: Option<String>,
    thinking: Option<String>,
}

fn is_unsigned_thinking(block: &[u8]) -> bool {
    matches!(
        serde_json::from_slice::<Block>(block),
        Ok(Block { kind, signature: Some(signature), .. }) if kind == "thinking" && signature.is_empty()
    )
}

fn thinking_text(block: &[u8]) -> Option<String> {
    serde_json::from_slice::<Block>(block).ok()?.thinking
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    #[allow(clippy::needless_pass_by_value)] // Table rows read best with `json!` inline.
    fn check(body: serde_json::Value, expect: Option<serde_json::Value>) {
        let text = body.to_string();
        let out = strip_unsigned_thinking(text.as_bytes());
        match (out, expect) {
            (None, None) => {}
            (Some(out), Some(expect)) => {
                let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
                assert_eq!(value, expect);
            }
            (out, expect) => panic!("{out:?} vs {expect:?}"),
        }
    }

    fn thinking(signature: &str) -> serde_json::Value {
        serde_json::json!({"type": "thinking", "thinking": "hmm", "signature": signature})
    }

    #[test]
    fn drops_only_unsigned_thinking_of_assistant_turns() {
        let text = serde_json::json!({"type": "text", "text": "hi"});
        let tool = serde_json::json!({"type": "tool_use", "id": "t", "name": "Read", "input": {}});
        let user = serde_json::json!({"role": "user", "content": [thinking(""), text.clone()]});
        check(
            serde_json::json!({"model": "m", "messages": [
                user.clone(),
                {"role": "assistant", "content": [thinking(""), text.clone(), tool.clone()]},
                {"role": "assistant", "content": [text.clone(), thinking("")]},
                {"role": "assistant", "content": [thinking("real-signature"), tool.clone()]},
            ]}),
            Some(serde_json::json!({"model": "m", "messages": [
                user,
                {"role": "assistant", "content": [text.clone(), tool.clone()]},
                {"role": "assistant", "content": [text.clone()]},
                {"role": "assistant", "content": [thinking("real-signature"), tool]},
            ]})),
        );
    }

    #[test]
    fn a_turn_of_only_foreign_thinking_becomes_text() {
        check(
            serde_json::json!({"messages": [{"role": "assistant", "content": [thinking(""), thinking("")]}]}),
            Some(
                serde_json::json!({"messages": [{"role": "assistant", "content": [{"type": "text", "text": "hmm\n\nhmm"}]}]}),
            ),
        );
    }

    #[test]
    fn leaves_other_bodies_alone() {
        check(
            serde_json::json!({"messages": [{"role": "assistant", "content": "text"}]}),
            None,
        );
        check(
            serde_json::json!({"messages": [{"role": "assistant", "content": [thinking("s")]}]}),
            None,
        );
        check(serde_json::json!({"metadata": {"signature": ""}}), None);
    }

    #[test]
    fn keeps_every_other_byte() {
        let body = r#"{ "model":"m" ,"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"x","signature":""}, {"type":"text","text":"a"}]}],"zeta" : 1}"#;
        let out = strip_unsigned_thinking(body.as_bytes()).unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{ "model":"m" ,"messages":[{"role":"assistant","content":[{"type":"text","text":"a"}]}],"zeta" : 1}"#
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let mut body = bytes.clone();
            body.extend_from_slice(EMPTY_SIGNATURE.needle());
            let _ = strip_unsigned_thinking(&body);
        }
    }
}
