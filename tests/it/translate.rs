//! The streaming translator under grammar-aware fuzzing, on stable: the body of the
//! `sse_translate` cargo-fuzz target, fed by proptest with upstream bodies made of realistic
//! chunks, SSE framing pieces, comments and garbage, cut into arbitrary reads. Whatever comes
//! in, what goes out must be a well-formed Anthropic event stream.
//!
//! The number of cases follows proptest's `PROPTEST_CASES` (256 by default); a long local run
//! is `PROPTEST_CASES=100000 cargo test --test it translate::`.

use proptest::prelude::*;
use serde_json::json;

#[path = "../../fuzz/fuzz_targets/body.rs"]
mod fuzz_body;

/// One piece of an upstream body.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let text = "[a-zA-Z0-9 {}\":,é日🎉\\\\]{0,12}";
    let chunk = |delta: serde_json::Value| {
        json!({"choices": [{"index": 0, "delta": delta, "finish_reason": null}]}).to_string()
    };
    prop_oneof![
        4 => text.prop_map(move |t| chunk(json!({"content": t}))),
        2 => text.prop_map(move |t| chunk(json!({"reasoning_content": t}))),
        1 => text.prop_map(move |t| chunk(json!({"reasoning": t, "reasoning_details": [{"type": "reasoning.text", "text": t}]}))),
        4 => (0..3u32, proptest::option::of("call_[a-z0-9.:]{0,4}"), proptest::option::of("[A-Z][a-z]{0,5}"), text)
            .prop_map(move |(index, id, name, args)| chunk(json!({"tool_calls": [
                {"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": args}}]}))),
        1 => text.prop_map(move |args| chunk(json!({"tool_calls": [{"function": {"arguments": args}}]}))),
        2 => prop_oneof![Just("stop"), Just("tool_calls"), Just("length"), Just("content_filter"), Just("error"), Just("insufficient_system_resource"), Just("eos")]
            .prop_map(|reason| json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}).to_string()),
        1 => (0..100_000u64, 0..1000u64, 0..50_000u64).prop_map(|(p, c, cached)| json!({"choices": [],
            "usage": {"prompt_tokens": p, "completion_tokens": c, "prompt_tokens_details": {"cached_tokens": cached}, "prompt_cache_hit_tokens": cached}}).to_string()),
        1 => Just(r#"{"error":{"message":"boom","type":"server_error","code":null}}"#.to_owned()),
        1 => Just("[DONE]".to_owned()),
        1 => Just(r#"{"choices":[{"index":1,"delta":{"content":"other choice"}}]}"#.to_owned()),
    ]
    .prop_flat_map(|data| {
        let data = data.into_bytes();
        prop_oneof![
            12 => Just([b"data: ".as_slice(), &data, b"\n\n"].concat()),
            2 => Just([b"data:".as_slice(), &data, b"\r\n\r\n"].concat()),
            1 => Just([b"data: ".as_slice(), &data, b"\r\r"].concat()),
            1 => Just(b": OPENROUTER PROCESSING\n\n".to_vec()),
            1 => Just(b"event: x\n".to_vec()),
            1 => Just(b"\n".to_vec()),
            1 => proptest::collection::vec(any::<u8>(), 0..16),
        ]
    })
}

proptest! {
    #[test]
    fn translated_stream_is_well_formed_whatever_the_upstream_sends(
        sizes in proptest::collection::vec(any::<u8>(), 4),
        pieces in proptest::collection::vec(piece(), 0..40),
    ) {
        let mut data = sizes;
        for piece in pieces {
            data.extend_from_slice(&piece);
        }
        fuzz_body::run(&data);
    }

    #[test]
    fn translated_stream_is_well_formed_for_random_bytes(
        data in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        fuzz_body::run(&data);
    }
}
