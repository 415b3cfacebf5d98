//! Integration tests: the real library and binary against in-process mock providers.

// Test code favours directness: an unwrap is an assertion, and a long table-driven test reads
// best whole.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::needless_pass_by_value,
    clippy::type_complexity
)]

// Client keys and limits, the admin token, web pages, slow and silent clients.
mod access;
// The dependency rule between modules, read from `src/`.
mod architecture;
// Bounds against hostile providers: endless bodies, event floods, whole-answer deadlines.
mod bounds;
// `claude-lb check`: probes, verdicts, exit codes.
mod check;
// `clients add|list|remove`: a printed key that authenticates, only its digest written.
mod clients;
// The `claude-lb` binary: exit codes, messages, generated completions and man pages.
mod cli;
// `claude-lb code`, `env` and `health` with a fake `claude` on PATH.
#[cfg(unix)]
mod code_env;
// `claude-lb demo`: simulated providers, its own traffic, the summary.
mod demo;
// Loading and validating configuration files: every problem, with file, line and column.
mod config;
// Background health checks: recovery, early detection, one probe in flight.
mod health_check;
// Session affinity: one session on one provider, moved by failover, forgotten after its ttl.
mod affinity;
// `serve` against mock Anthropic-type providers: failover, cooldown, streams, reload, admin API.
mod failover;
// The mock provider: scripted replies, recording, simulated providers.
mod mock;
// `serve` with OpenAI-type providers: translation end to end.
mod openai_e2e;
// A provider that echoes its key and a client that crafts its request.
mod hostile;
// `providers add|remove|enable|disable`: flags, safe edits, comments kept.
mod providers_add;
// Providers over TLS: HTTP/2 by ALPN, a CA of the provider's own, refused streams sent again.
mod provider_tls;
// `claude-lb providers list`: from the file, and from a running instance.
mod providers_list;
// The `providers add` wizard driven through a pseudo-terminal.
mod providers_wizard;
// Regressions found with real clients (the `anthropic` SDK, Claude Code), reproduced in-process.
mod real_clients;
// The real `serve` binary: log lines, reload by file watch and SIGHUP, graceful SIGTERM.
mod serve_bin;
/// Several replicas sharing state through a real `redis-server`.
mod shared;
// Routing rules: requests to the providers their rule names, `PROVIDER,MODEL`, `route explain`.
mod routes;
// Shared helpers: fixtures, env lookups, running the binary, an in-process proxy.
mod support;
// `claude-lb test`: one request through the pool or a running instance.
mod test_cmd;
mod top;
// The usage ledger: rows from a real proxy in SQLite, schema, retention, `GET /usage`, `usage`.
mod usage;
// The usage ledger in a real PostgreSQL server, written by several `serve` processes.
#[cfg(unix)]
mod usage_postgres;
// Streaming translation under grammar-aware fuzzing (the cargo-fuzz target's body).
mod translate;
