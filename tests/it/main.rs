//! Integration tests: the real library and binary against in-process mock providers.

// The `claude-lb` binary: exit codes, messages, generated completions and man pages.
mod cli;
// Loading and validating configuration files: every problem, with file, line and column.
mod config;
// Shared helpers: fixtures, env lookups, running the binary.
mod support;
