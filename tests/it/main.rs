//! Integration tests: the real library and binary against in-process mock providers.

// Test code favours directness: an unwrap is an assertion, and a long table-driven test reads
// best whole.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::needless_pass_by_value,
    clippy::type_complexity
)]

// The `claude-lb` binary: exit codes, messages, generated completions and man pages.
mod cli;
// `claude-lb demo`: simulated providers, its own traffic, the summary.
mod demo;
// Loading and validating configuration files: every problem, with file, line and column.
mod config;
// `serve` against mock Anthropic-type providers: failover, cooldown, streams, reload, admin API.
mod failover;
// The mock provider: scripted replies, recording, simulated providers.
mod mock;
// `serve` with OpenAI-type providers: translation end to end.
mod openai_e2e;
// Shared helpers: fixtures, env lookups, running the binary, an in-process proxy.
mod support;
