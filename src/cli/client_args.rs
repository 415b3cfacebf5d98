//! The flags of the commands that point a client at claude-lb or watch it: `code`, `env`,
//! `health` and `top`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::args::AdminArgs;

use clap::{Args, ValueHint};

/// `code`.
#[derive(Clone, Debug, Default, Args)]
#[command(after_help = "\
Examples:
  claude-lb code                                 Claude Code through claude-lb
  claude-lb code -- -p \"say hi\" --output-format json
  claude-lb code --claude ~/.local/bin/claude -- --resume

When a claude-lb already answers at the configured `listen` address (or --listen), Claude Code
uses it; otherwise `serve` starts in the background, its log goes to a file in the temporary
directory, and it stops when Claude Code exits. ANTHROPIC_BASE_URL is set for Claude Code;
ANTHROPIC_API_KEY is set to --client-key when given, else to a placeholder when the environment
has neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN (Claude Code will not start without one;
claude-lb never forwards a client's key to a provider). Ctrl-C goes to Claude Code. The exit
code is Claude Code's.")]
pub struct CodeArgs {
    /// The Claude Code executable (default: `claude` on PATH)
    #[arg(long, value_name = "PATH", value_hint = ValueHint::ExecutablePath)]
    pub claude: Option<PathBuf>,
    /// Use (or start) claude-lb on this address instead of `settings.listen`
    #[arg(long, value_name = "ADDR", env = crate::env::CLAUDE_LB_LISTEN, value_parser = crate::config::parse_listen)]
    pub listen: Option<SocketAddr>,
    /// The key Claude Code sends to claude-lb (`ANTHROPIC_API_KEY`), when clients need one
    #[arg(long, value_name = "KEY", env = crate::env::CLAUDE_LB_CLIENT_KEY, hide_env_values = true)]
    pub client_key: Option<String>,
    /// Arguments for Claude Code, after `--`
    #[arg(last = true, value_name = "CLAUDE_ARGS")]
    pub claude_args: Vec<String>,
}

/// A shell, as `env --shell` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// `env`.
#[derive(Clone, Debug, Default, Args)]
#[command(after_help = "\
Examples:
  eval \"$(claude-lb env)\"                    bash or zsh
  claude-lb env --shell fish | source
  claude-lb env --shell powershell | Invoke-Expression
  claude-lb env --listen 127.0.0.1:9000

The address is --listen, else the config's `settings.listen` (an address listening on every
interface, such as 0.0.0.0:8080, is reached through loopback). The shell defaults to the one
named by $SHELL (fish and zsh are recognised; anything else gets bash syntax).")]
pub struct EnvArgs {
    /// The syntax to print: bash, zsh, fish or powershell
    #[arg(long, value_name = "SHELL", value_enum)]
    pub shell: Option<ShellArg>,
    /// Point at this address instead of `settings.listen`
    #[arg(long, value_name = "ADDR", env = crate::env::CLAUDE_LB_LISTEN, value_parser = crate::config::parse_listen)]
    pub listen: Option<SocketAddr>,
    /// Also set `ANTHROPIC_API_KEY` to this key (when clients need one)
    #[arg(long, value_name = "KEY", env = crate::env::CLAUDE_LB_CLIENT_KEY, hide_env_values = true)]
    pub client_key: Option<String>,
}

/// `health`.
#[derive(Clone, Debug, Default, Args)]
#[command(after_help = "\
Examples:
  claude-lb health                               The instance at `settings.listen`
  claude-lb health --listen 127.0.0.1:8080
  HEALTHCHECK CMD [\"claude-lb\", \"health\"]         In a Dockerfile

Exit 0 when claude-lb answers GET / with 200 (at least one provider available), 1 when it
answers 503 (none available), when something else answers, or when nothing does.")]
pub struct HealthArgs {
    /// Ask the instance on this address instead of `settings.listen`
    #[arg(long, value_name = "ADDR", env = crate::env::CLAUDE_LB_LISTEN, value_parser = crate::config::parse_listen)]
    pub listen: Option<SocketAddr>,
}

/// `top`.
#[derive(Clone, Debug, Args)]
#[command(after_help = "\
Examples:
  claude-lb top                                  The instance at `settings.listen`
  claude-lb top --remote http://10.0.0.5:8080 --admin-token \"$TOKEN\"
  claude-lb top --interval 5s

Keys: q or Ctrl-C quit, r reloads the instance's config (POST /providers/reload), s changes the
sort order, ? shows the keys. It reads only the admin API (GET /providers, /metrics, /events,
and /usage and /sessions where the instance has them); a route it cannot read is named in the
status line. When the instance goes away it shows \"disconnected, retrying\" and carries on
when it is back; an instance that cannot be read at start is an error (exit 1). NO_COLOR turns
colour off.")]
pub struct TopArgs {
    /// The running instance to watch (default: the configured `listen` address)
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub remote: Option<String>,
    /// How often to ask the instance, from 100ms to 1m
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,
    #[command(flatten)]
    pub admin: AdminArgs,
}

/// `--interval`: a duration such as `1s` or `500ms`, from 100ms to a minute.
fn parse_interval(text: &str) -> Result<Duration, String> {
    let interval = crate::config::duration::parse(text).map_err(|e| e.to_string())?;
    if interval < Duration::from_millis(100) || interval > Duration::from_secs(60) {
        return Err(format!("must be from 100ms to 1m, found {text:?}"));
    }
    Ok(interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_durations_within_bounds() {
        assert_eq!(parse_interval("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_interval("250ms"), Ok(Duration::from_millis(250)));
        assert!(
            parse_interval("10ms")
                .unwrap_err()
                .contains("from 100ms to 1m")
        );
        assert!(
            parse_interval("2m")
                .unwrap_err()
                .contains("from 100ms to 1m")
        );
        assert!(
            parse_interval("soon")
                .unwrap_err()
                .contains("expected a number")
        );
    }
}
