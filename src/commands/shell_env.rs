//! `claude-lb env`: prints the lines that point a shell (and so Claude Code started from it) at
//! claude-lb, for `eval "$(claude-lb env)"`.
//!
//! It sets `ANTHROPIC_BASE_URL`, and `ANTHROPIC_API_KEY` only when a client key is given
//! (`--client-key` or `CLAUDE_LB_CLIENT_KEY`): a provider's key is never printed, since claude-lb
//! holds those itself.

use anyhow::Context as _;

use crate::cli::{EnvArgs, GlobalArgs, ShellArg};
use crate::commands::{ExitStatus, instance};
use crate::ui::Printer;

pub fn run(global: &GlobalArgs, args: &EnvArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let Some(listen) = instance::listen_address(args.listen, global, printer)? else {
        return Ok(ExitStatus::Failure);
    };
    let shell = args
        .shell
        .unwrap_or_else(|| login_shell(crate::env::process(crate::env::SHELL).as_deref()));
    let url = instance::client_url(listen);
    let mut vars = vec![(crate::env::ANTHROPIC_BASE_URL, url.as_str())];
    if let Some(key) = &args.client_key {
        vars.push((crate::env::ANTHROPIC_API_KEY, key.as_str()));
    }
    for line in lines(shell, &vars) {
        printer.line(line).context("writing the lines")?;
    }
    Ok(ExitStatus::Success)
}

/// The shell `$SHELL` names: fish and zsh by their program name, anything else (or nothing) as
/// bash, whose syntax every POSIX shell reads.
fn login_shell(shell: Option<&str>) -> ShellArg {
    let program = shell.and_then(|s| s.rsplit('/').next()).unwrap_or_default();
    match program {
        "fish" => ShellArg::Fish,
        "zsh" => ShellArg::Zsh,
        _ => ShellArg::Bash,
    }
}

/// One line per variable, in `shell`'s syntax, each value quoted so the shell takes it
/// literally.
pub fn lines(shell: ShellArg, vars: &[(&str, &str)]) -> Vec<String> {
    vars.iter()
        .map(|(name, value)| match shell {
            ShellArg::Bash | ShellArg::Zsh => {
                format!("export {name}='{}'", value.replace('\'', r"'\''"))
            }
            ShellArg::Fish => format!(
                "set -gx {name} '{}'",
                value.replace('\\', r"\\").replace('\'', r"\'")
            ),
            ShellArg::Powershell => format!("$env:{name} = '{}'", value.replace('\'', "''")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shell_gets_its_own_syntax_and_quoting() {
        let vars = [("A", "http://127.0.0.1:8080"), ("K", r"it's a \ key")];
        assert_eq!(
            lines(ShellArg::Bash, &vars),
            [
                "export A='http://127.0.0.1:8080'",
                r"export K='it'\''s a \ key'"
            ]
        );
        assert_eq!(lines(ShellArg::Zsh, &vars), lines(ShellArg::Bash, &vars));
        assert_eq!(
            lines(ShellArg::Fish, &vars),
            [
                "set -gx A 'http://127.0.0.1:8080'",
                r"set -gx K 'it\'s a \\ key'"
            ]
        );
        assert_eq!(
            lines(ShellArg::Powershell, &vars),
            [
                "$env:A = 'http://127.0.0.1:8080'",
                r"$env:K = 'it''s a \ key'"
            ]
        );
    }

    #[test]
    fn the_login_shell_picks_the_default_syntax() {
        assert_eq!(login_shell(Some("/usr/bin/fish")), ShellArg::Fish);
        assert_eq!(login_shell(Some("/bin/zsh")), ShellArg::Zsh);
        assert_eq!(login_shell(Some("/bin/bash")), ShellArg::Bash);
        assert_eq!(login_shell(Some("/bin/dash")), ShellArg::Bash);
        assert_eq!(login_shell(None), ShellArg::Bash);
    }
}
