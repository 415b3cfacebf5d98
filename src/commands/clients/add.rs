//! `claude-lb clients add`: make a random key for a new client, print it once, and write only
//! its SHA-256 (with the client's limits) to the config file.
//!
//! With NAME nothing is asked, as with `providers add` given every required flag. Without it,
//! on a terminal, [`client_wizard::collect`] asks for the name and the limits the flags left
//! out, shows the block that will be written and asks before writing (`--yes` skips that);
//! without a terminal a missing NAME is a usage error (exit 2).

use anyhow::Context as _;

use crate::cli::{ClientsAddArgs, GlobalArgs};
use crate::commands::ExitStatus;
use crate::commands::providers::add::inserted;
use crate::commands::providers::file;
use crate::config::diagnostic::did_you_mean;
use crate::config::edit::{self, EditError, NewClient};
use crate::config::secret::new_client_key;
use crate::config::{KeyDigest, Secret};
use crate::ui::Printer;
use crate::ui::client_wizard::{self, ClientPrefill};
use crate::ui::wizard;

pub fn run(
    global: &GlobalArgs,
    args: &ClientsAddArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let prefill = match prefill(args) {
        Ok(prefill) => prefill,
        Err(message) => {
            printer.error(message);
            return Ok(ExitStatus::Usage);
        }
    };
    let path = file::existing(global)?;
    let shown = path.display().to_string();
    let Some(text) = file::read(&path)? else {
        anyhow::bail!("`{shown}` does not exist; add a provider first (`claude-lb providers add`)");
    };
    let (taken, providers) = match edit::client_names(&text)
        .and_then(|clients| Ok((clients, edit::provider_names(&text)?)))
    {
        Ok(names) => names,
        Err(e) => {
            printer.error(format_args!("cannot add a client to `{shown}`: {e}"));
            return Ok(ExitStatus::Failure);
        }
    };
    if let Some(unknown) = prefill.providers.iter().find(|p| !providers.contains(*p)) {
        let known: Vec<&str> = providers.iter().map(String::as_str).collect();
        printer.error(format_args!(
            "--providers: `{shown}` has no provider named {unknown:?}{} (its providers: {}); nothing written",
            did_you_mean(unknown, &known),
            known.join(", ")
        ));
        // A name that is not in the config is a mistake on the command line, as everywhere.
        return Ok(ExitStatus::Usage);
    }

    let key = new_client_key().map_err(|_| {
        anyhow::anyhow!("the system's random number generator failed; no key made, nothing written")
    })?;
    let key_sha256 = KeyDigest::of(key.expose().as_bytes()).to_hex();
    let interactive = prefill.name.is_none();
    let client = if !interactive {
        complete(&prefill, key_sha256)
    } else if file::can_ask() {
        match client_wizard::collect(&prefill, &taken, &providers, key_sha256) {
            Ok(client) => client,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return cancelled(*printer),
            Err(e) => return Err(e).context("asking on the terminal"),
        }
    } else {
        printer.error(
            "missing NAME (there is no terminal to ask on); see `claude-lb clients add --help`",
        );
        return Ok(ExitStatus::Usage);
    };
    let new_text = match edit::add_client(&text, &client) {
        Ok(t) => t,
        Err(e @ (EditError::Duplicate { .. } | EditError::InvalidName { .. })) => {
            printer.error(format_args!("`{shown}`: {e}; nothing written"));
            return Ok(ExitStatus::Failure);
        }
        Err(e) => {
            printer.error(format_args!("cannot add a client to `{shown}`: {e}"));
            return Ok(ExitStatus::Failure);
        }
    };
    if interactive && !args.yes {
        let go_on = wizard::show_preview(&shown, inserted(&text, &new_text))
            .and_then(|()| wizard::confirm(&format!("Write it to `{shown}`?"), true));
        match go_on {
            Ok(true) => {}
            Ok(false) => {
                printer.notice("nothing written")?;
                return Ok(ExitStatus::Failure);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return cancelled(*printer),
            Err(e) => return Err(e).context("asking on the terminal"),
        }
    }

    let prefix = format!("clients[{}]", taken.len());
    if let Err(status) = file::save_warning_about(&path, &text, &new_text, Some(&prefix), *printer)?
    {
        return Ok(status);
    }
    printer.line(announcement(&client.name, &shown, &key))?;
    if taken.is_empty() {
        printer.notice(format_args!(
            "note: `{shown}` had no clients until now, so authentication is now on: from now on every request to `claude-lb serve` must carry a client key (a running instance applies this when it reloads the file), and a request without one gets 401; `claude-lb code` sends one given with `--client-key KEY` or CLAUDE_LB_CLIENT_KEY"
        ))?;
    }
    file::note_unset_variables(&path, &new_text, *printer)?;
    Ok(ExitStatus::Success)
}

/// What stdout shows once the client is saved: the only time its key is ever shown.
fn announcement(name: &str, shown: &str, key: &Secret) -> String {
    format!(
        "added client {name:?} to `{shown}`\n\
         \n\
         Its key is shown this once only: claude-lb stores just its SHA-256 and cannot show it again.\n\
         Where Claude Code runs for {name:?}, set it with:\n\
         \n\
         \x20 export ANTHROPIC_API_KEY={}",
        key.expose()
    )
}

/// The flags' answers, or a usage error.
fn prefill(args: &ClientsAddArgs) -> Result<ClientPrefill, String> {
    if let Some(name) = args.name.as_deref().filter(|n| !edit::is_valid_name(n)) {
        return Err(format!(
            "invalid client name {name:?}: use letters, digits, `_`, `.` and `-` only"
        ));
    }
    let list = |values: &[String], flag: &str| -> Result<Vec<String>, String> {
        values
            .iter()
            .map(|v| {
                let v = v.trim();
                if v.is_empty() {
                    Err(format!(
                        "{flag} has an empty item; separate the names with single commas"
                    ))
                } else {
                    Ok(v.to_owned())
                }
            })
            .collect()
    };
    let providers = list(&args.providers, "--providers")?;
    if let Some(bad) = providers.iter().find(|p| !edit::is_valid_name(p)) {
        return Err(format!(
            "--providers: {bad:?} is not a provider name (letters, digits, `_`, `.` and `-`)"
        ));
    }
    Ok(ClientPrefill {
        name: args.name.clone(),
        providers,
        models: list(&args.models, "--models")?,
        max_concurrent: args.max_concurrent,
        requests_per_minute: args.rpm,
    })
}

/// The client the flags describe, when they give its name.
fn complete(prefill: &ClientPrefill, key_sha256: String) -> NewClient {
    NewClient {
        name: prefill.name.clone().unwrap_or_default(),
        key_sha256,
        providers: prefill.providers.clone(),
        models: prefill.models.clone(),
        max_concurrent: prefill.max_concurrent,
        requests_per_minute: prefill.requests_per_minute,
    }
}

/// Ctrl-C: put the terminal back and say that nothing was written.
fn cancelled(printer: Printer) -> anyhow::Result<ExitStatus> {
    wizard::restore_terminal();
    printer.notice("cancelled; nothing written")?;
    Ok(ExitStatus::Failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_announcement_has_the_line_to_paste_and_says_the_key_is_not_kept() {
        let key = Secret::new("clb-abc");
        let text = announcement("alice", "providers.yaml", &key);
        assert!(text.starts_with("added client \"alice\" to `providers.yaml`\n"));
        assert!(
            text.contains("\n  export ANTHROPIC_API_KEY=clb-abc"),
            "{text}"
        );
        assert!(text.contains("shown this once only"), "{text}");
        assert_eq!(text.matches("clb-abc").count(), 1, "{text}");
    }
}
