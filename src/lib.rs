//! `claude-lb`: a load balancer for Claude Code.
//!
//! Claude Code (or any Anthropic Messages API client) points `ANTHROPIC_BASE_URL` at
//! `claude-lb serve`, which forwards each request to one of several configured providers,
//! fails over when one fails, keeps a failed provider out for a cooldown, and translates
//! between the Anthropic Messages API and OpenAI Chat Completions where a provider needs it.
//!
//! # Layout
//!
//! - [`cli`]: the clap types and `run`, which dispatches to a command.
//! - [`commands`]: one module per subcommand.
//! - [`config`]: the YAML configuration, raw and validated, and every problem it can have.
//! - [`core`]: pure decisions: providers, selection plans, health and cooldown, classification.
//! - [`translate`]: pure Anthropic ⇄ OpenAI mapping, streaming included.
//! - [`sse`]: the server-sent events parser and writer.
//! - [`upstream`]: the only module that talks HTTP to providers.
//! - [`dispatch`]: the one entry point that sends a Messages request through the pool.
//! - [`proxy`]: the hyper server behind `claude-lb serve`.
//! - [`metrics`]: the counters behind `GET /metrics`.
//! - [`models`]: the Claude model names Claude Code sends, in one place.
//! - [`mock`]: simulated providers, for tests, rehearsals and the benchmark.
//! - [`ui`]: the only module that prints.
//! - [`logging`]: the `tracing` subscriber, the log format and the escaping of logged values.
//! - [`env`]: every environment variable claude-lb reads.
//! - [`limits`]: every bound on memory and time a provider answer or a request may use.
//! - [`usage`]: the usage ledger (one row per request, in `SQLite`), prices and budgets.
//! - [`shared`]: the state several replicas share through Redis.

pub mod access;
pub mod cli;
pub mod commands;
pub mod config;
pub mod core;
pub mod dispatch;
pub mod env;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod mock;
pub mod models;
pub mod proxy;
pub mod shared;
pub mod sse;
pub mod translate;
pub mod ui;
pub mod upstream;
pub mod usage;
