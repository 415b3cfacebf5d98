//! Everything claude-lb shows a person on a screen: the [`Printer`] for command output, tables,
//! progress and the wizard. (`tracing` logs are set up by [`crate::logging`].)
//!
//! Apart from the `tracing` logs, this is the only module that writes to the terminal. Data
//! (what a command answers) goes to stdout, diagnostics and logs go to stderr, so
//! `claude-lb ... | jq` and `2>/dev/null` work.

pub mod chart;
pub mod client_wizard;
pub mod printer;
pub mod progress;
pub mod table;
pub mod wizard;

pub use printer::Printer;

/// The complete command that starts Claude Code against claude-lb at `url`. Claude Code
/// will not start without a credential of its own (`Not logged in · Please run /login`);
/// without `clients:` claude-lb never forwards it, so any value works; with them
/// (`with_clients`), it must be one of their keys.
pub fn claude_code_command(url: &str, with_clients: bool) -> String {
    let key = if with_clients {
        "<a client key>"
    } else {
        "claude-lb"
    };
    format!("ANTHROPIC_BASE_URL={url} ANTHROPIC_API_KEY={key} claude")
}
