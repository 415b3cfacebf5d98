//! Every environment variable claude-lb reads, as documented constants.
//!
//! Code never spells a variable name inline: it names one of these constants, so a grep for a
//! constant finds every reader. Reading the process environment happens only at the edge (the
//! binary's commands, through [`process`]); library code takes a lookup function instead, so
//! tests never touch the process environment.

/// The configuration file to use, when `--config` is not given.
pub const CLAUDE_LB_CONFIG: &str = "CLAUDE_LB_CONFIG";

/// A `tracing` filter (`debug`, `claude_lb=trace,hyper=warn`, ...) that overrides `-v`/`-q` and
/// the config's `log_level`.
pub const CLAUDE_LB_LOG: &str = "CLAUDE_LB_LOG";

/// Looks a variable up in the real process environment.
///
/// A variable that is unset, or whose value is not valid Unicode, reads as `None`. Pass this
/// function where a library function takes an `env` lookup; tests pass their own closure.
pub fn process(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The address `serve` listens on, when `--listen` is not given; wins over `settings.listen`.
pub const CLAUDE_LB_LISTEN: &str = "CLAUDE_LB_LISTEN";

/// The key `claude-lb code` and `claude-lb env` give Claude Code as `ANTHROPIC_API_KEY`, when
/// `--client-key` is not given: the key claude-lb knows a client by, never a provider's key.
pub const CLAUDE_LB_CLIENT_KEY: &str = "CLAUDE_LB_CLIENT_KEY";

/// The admin token the `--remote` commands and `top` send as `Authorization: Bearer`, when
/// `--admin-token` is not given.
pub const CLAUDE_LB_ADMIN_TOKEN: &str = "CLAUDE_LB_ADMIN_TOKEN";

/// Set (to anything) to turn colour off, in `top` as in every terminal program that follows
/// <https://no-color.org>.
pub const NO_COLOR: &str = "NO_COLOR";

/// The variables that point Claude Code (or any Anthropic SDK) at claude-lb.
pub const ANTHROPIC_BASE_URL: &str = "ANTHROPIC_BASE_URL";
/// The key Claude Code sends as `x-api-key`.
pub const ANTHROPIC_API_KEY: &str = "ANTHROPIC_API_KEY";
/// The token Claude Code sends as `Authorization: Bearer`.
pub const ANTHROPIC_AUTH_TOKEN: &str = "ANTHROPIC_AUTH_TOKEN";

/// A PEM file of certificate authorities trusted for provider connections in addition to the
/// built-in web PKI roots, and for a `rediss://` shared state in place of the system's roots.
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";

/// The user's login shell, which `claude-lb env` follows when `--shell` is not given.
pub const SHELL: &str = "SHELL";

/// The directories searched for `claude` by `claude-lb code`.
pub const PATH: &str = "PATH";

/// Every variable above with what it does, for the ENVIRONMENT section of the man page.
pub const DOCUMENTED: &[(&str, &str)] = &[
    (
        CLAUDE_LB_CONFIG,
        "The configuration file, when `--config` is not given.",
    ),
    (
        CLAUDE_LB_LISTEN,
        "The address `serve` listens on, when `--listen` is not given (wins over `settings.listen`).",
    ),
    (
        CLAUDE_LB_CLIENT_KEY,
        "The client key `code` and `env` give Claude Code as `ANTHROPIC_API_KEY`, when `--client-key` is not given.",
    ),
    (
        CLAUDE_LB_ADMIN_TOKEN,
        "The admin token `--remote` commands and `top` send as `Authorization: Bearer`, when `--admin-token` is not given.",
    ),
    (NO_COLOR, "When set, `top` draws without colour."),
    (
        ANTHROPIC_BASE_URL,
        "Read by `code` only to replace it: `code` points Claude Code at claude-lb.",
    ),
    (
        ANTHROPIC_API_KEY,
        "When set, `code` leaves Claude Code's key alone; otherwise it gives a placeholder (provider keys are claude-lb's, never the client's).",
    ),
    (
        ANTHROPIC_AUTH_TOKEN,
        "Like `ANTHROPIC_API_KEY`, for Claude Code's bearer token.",
    ),
    (
        SSL_CERT_FILE,
        "A PEM file of certificate authorities: provider connections trust them in addition to the built-in roots; a `rediss://` shared state trusts them instead of the system's roots.",
    ),
    (
        SHELL,
        "The shell `env` writes for, when `--shell` is not given.",
    ),
    (
        PATH,
        "Where `code` looks for `claude`, when `--claude` is not given.",
    ),
    (
        CLAUDE_LB_LOG,
        "A log filter (`debug`, `claude_lb=trace,hyper=info`) that overrides `-v`, `-q` and `log_level`.",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_variable_is_documented() {
        let source = include_str!("env.rs");
        let declared: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("pub const "))
            .filter_map(|l| l.split_once(": &str = "))
            .map(|(name, _)| name)
            .collect();
        assert!(declared.len() >= 3, "{declared:?}");
        let documented: Vec<&str> = super::DOCUMENTED.iter().map(|(n, _)| *n).collect();
        for name in &declared {
            assert!(documented.contains(name), "{name} is not in DOCUMENTED");
        }
        assert_eq!(declared.len(), documented.len());
    }
}
