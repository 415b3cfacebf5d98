//! Every environment variable claude-lb reads, as documented constants.
//!
//! Code never spells a variable name inline: it names one of these constants, so a grep for a
//! constant finds every reader. Reading the process environment happens only at the edge (the
//! binary's commands, through [`process`]); library code takes a lookup function instead, so
//! tests never touch the process environment.

/// The configuration file to use, when `--config` is not given (SPEC 2.1).
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
