//! Fuzz target: a crafted client request (path and query, headers, body) through the router,
//! the header allowlist, the upstream URL and the body scan for `model`.
//!
//! Run with `cargo +nightly fuzz run request` from the repository root.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod request_body;

fuzz_target!(|data: &[u8]| request_body::run(data));
