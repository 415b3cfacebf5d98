//! Fuzz target: arbitrary bytes, cut into arbitrary reads, through `SseParser` and
//! `OpenAiToAnthropic`; the output must always be a well-formed Anthropic event stream.
//!
//! Run with `cargo +nightly fuzz run sse_translate` from the repository root.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod body;

fuzz_target!(|data: &[u8]| body::run(data));
