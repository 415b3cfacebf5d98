//! `claude-lb completions SHELL`: print the shell completion script, generated from the CLI
//! definition at run time.

use anyhow::Context;

use clap_complete::Shell;

use crate::cli::{BIN_NAME, CompletionsArgs, documented_command};
use crate::commands::ExitStatus;
use crate::ui::Printer;

pub fn run(args: &CompletionsArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let script = script(args.shell);
    printer
        .bytes(&script)
        .context("writing the completion script")?;
    Ok(ExitStatus::Success)
}

/// The completion script for `shell`, as `completions` prints it and `generate` writes it.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut documented_command(), BIN_NAME, &mut script);
    if shell == Shell::Bash {
        script = fix_bash(&String::from_utf8_lossy(&script)).into_bytes();
    }
    script
}

/// `clap_complete`'s bash script names the state of a subcommand of a hyphenated binary one
/// way where it walks the words (`claude__lb__subcmd__providers`) and another in the arms that
/// offer the candidates (`claude__subcmd__lb__subcmd__providers`), so nothing past the first
/// word completed. The arms get the name the walk uses.
///
/// It also completes provider names, read from `providers list --json` of the config the
/// command line names (or the default one), after `--provider` and after `providers remove`,
/// `enable` and `disable`.
fn fix_bash(script: &str) -> String {
    let walk = BIN_NAME.replace('-', "__");
    let arms = BIN_NAME.replace('-', "__subcmd__");
    let script = script
        .replace(&format!("{arms}__subcmd__"), &format!("{walk}__subcmd__"))
        .replace(
            &format!("complete -F _{walk} "),
            &format!("complete -F _{walk}__names "),
        );
    format!("{script}{NAMES}")
}

/// The bash function that completes provider names, then hands over to the generated one.
const NAMES: &str = r#"
_claude__lb__names() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" before=""
    if [[ ${COMP_CWORD} -ge 2 ]]; then
        before="${COMP_WORDS[COMP_CWORD-2]}"
    fi
    if [[ "${prev}" == "--provider" || ( "${before}" == "providers" && ( "${prev}" == "remove" || "${prev}" == "enable" || "${prev}" == "disable" ) ) ]]; then
        local i config=()
        for (( i = 1; i < COMP_CWORD; i++ )); do
            if [[ "${COMP_WORDS[i]}" == "--config" ]]; then
                config=(--config "${COMP_WORDS[i+1]}")
            fi
        done
        local names
        names=$("${COMP_WORDS[0]}" "${config[@]}" providers list --json 2>/dev/null | sed -n 's/^    "name": "\(.*\)",$/\1/p')
        COMPREPLY=($(compgen -W "${names}" -- "${cur}"))
        return 0
    fi
    _claude__lb "$@"
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_arms_use_the_names_the_walk_sets() {
        let script = String::from_utf8(script(Shell::Bash)).unwrap();
        assert!(script.contains("cmd=\"claude__lb__subcmd__providers\""));
        assert!(script.contains("\n        claude__lb__subcmd__providers)\n"));
        assert!(!script.contains("claude__subcmd__lb"));
    }
}
