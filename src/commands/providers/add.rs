//! `claude-lb providers add`: add a provider to the config file, from flags, from the wizard's
//! answers, or both.
//!
//! The flags fill a [`Prefill`]. When they name everything required, nothing is asked; when
//! something is missing and there is a terminal, [`wizard::collect`] asks for the rest, shows
//! the exact block that will be written, offers to probe the provider and asks before writing.
//! Without a terminal a missing flag is a usage error (exit 2) listing what is missing. The
//! edit itself is [`edit::add_provider`] (the rest of the file is kept byte for byte), and the
//! result is validated and written atomically by [`crate::config::save_atomic`].

use std::time::Duration;

use anyhow::Context;

use crate::cli::{AddArgs, AuthTypeArg, GlobalArgs, KindArg};
use crate::commands::ExitStatus;
use crate::config::edit::{self, EditError, NewProvider};
use crate::config::{self, Provider};
use crate::core::provider::{AuthType, ProviderKind};
use crate::ui::Printer;
use crate::ui::wizard::{self, Credential, Prefill};
use crate::upstream::Upstream;

use super::file;

/// How long a probe may take in all before it counts as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(global: &GlobalArgs, args: &AddArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let prefill = match prefill(args) {
        Ok(p) => p,
        Err(message) => {
            printer.error(message);
            return Ok(ExitStatus::Usage);
        }
    };
    let path = file::for_add(global)?;
    let shown = path.display().to_string();
    let text = file::read(&path)?.unwrap_or_default();
    let taken = match edit::provider_names(&text) {
        Ok(names) => names,
        Err(e) => {
            printer.error(format_args!("cannot add a provider to `{shown}`: {e}"));
            return Ok(ExitStatus::Failure);
        }
    };

    let interactive = prefill.complete().is_none();
    let provider = match prefill.complete() {
        Some(provider) => provider,
        None if file::can_ask() => match wizard::collect(&prefill, &taken) {
            Ok(provider) => provider,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return cancelled(*printer),
            Err(e) => return Err(e).context("asking on the terminal"),
        },
        None => {
            printer.error(format_args!(
                "missing {} (there is no terminal to ask on); see `claude-lb providers add --help`",
                prefill.missing().join(", ")
            ));
            return Ok(ExitStatus::Usage);
        }
    };
    let new_text = match edit::add_provider(&text, &provider) {
        Ok(t) => t,
        Err(e @ (EditError::Duplicate { .. } | EditError::InvalidName { .. })) => {
            printer.error(format_args!("`{shown}`: {e}; nothing written"));
            return Ok(ExitStatus::Failure);
        }
        Err(e) => {
            printer.error(format_args!("cannot add a provider to `{shown}`: {e}"));
            return Ok(ExitStatus::Failure);
        }
    };

    let go_on = if interactive {
        match confirm_in_wizard(&shown, &text, &new_text, &provider, args.yes) {
            Ok(go_on) => go_on,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return cancelled(*printer),
            Err(e) => return Err(e).context("asking on the terminal"),
        }
    } else if args.probe {
        let Some(outcome) = probe_new(&provider) else {
            return cancelled(*printer);
        };
        printer.notice(format_args!("probe: {}", outcome.describe()))?;
        if !outcome.ok {
            printer.error(
                "not saved because the probe failed; fix the provider, or add it without --probe",
            );
        }
        outcome.ok
    } else {
        true
    };
    if !go_on {
        printer.notice("nothing written")?;
        return Ok(ExitStatus::Failure);
    }

    let created = !path.exists();
    if let Err(status) = file::save(&path, &text, &new_text, Some(taken.len()), *printer)? {
        return Ok(status);
    }
    printer.line(format_args!(
        "added provider {:?} to `{shown}`{}",
        provider.name,
        if created {
            " (new file, readable by you only)"
        } else {
            ""
        }
    ))?;
    file::note_unset_variables(&path, &new_text, *printer)?;
    if matches!(prefill.credential, Some(Credential::Literal(_))) {
        printer.notice(format_args!(
            "warning: the key given with --auth-value is stored in plain text in `{shown}`; prefer `--auth-env VAR` (stored as ${{VAR}} and read at load time)"
        ))?;
    }

    printer.notice(format_args!(
        "next: `claude-lb check --provider {}`",
        provider.name
    ))?;
    Ok(ExitStatus::Success)
}

/// Ctrl-C: put the terminal back and say that nothing was written.
fn cancelled(printer: Printer) -> anyhow::Result<ExitStatus> {
    wizard::restore_terminal();
    printer.notice("cancelled; nothing written")?;
    Ok(ExitStatus::Failure)
}

/// The wizard's last steps: show the block, offer a probe, ask before writing. Returns whether
/// to write.
fn confirm_in_wizard(
    shown: &str,
    text: &str,
    new_text: &str,
    provider: &NewProvider,
    yes: bool,
) -> std::io::Result<bool> {
    let block = inserted(text, new_text);
    if is_env_reference(&provider.auth_value) {
        wizard::show_preview(shown, block)?;
    } else {
        // A key typed hidden must not reach the screen (or its scrollback) in the preview.
        wizard::show_preview(shown, &wizard::mask_auth_value(block))?;
    }
    if wizard::confirm("Probe the provider now with a real minimal request?", true)? {
        let Some(outcome) = probe_new(provider) else {
            return Err(std::io::ErrorKind::Interrupted.into());
        };
        wizard::note(&format!("  {}", outcome.describe()))?;
        if !outcome.ok && !wizard::confirm("The probe failed. Save the provider anyway?", false)? {
            return Ok(false);
        }
    }
    Ok(yes || wizard::confirm(&format!("Write it to `{shown}`?"), true)?)
}

/// The answers the flags give, or a usage error.
fn prefill(args: &AddArgs) -> Result<Prefill, String> {
    if let Some(name) = args.name.as_deref().filter(|n| !edit::is_valid_name(n)) {
        return Err(format!(
            "invalid --name {name:?}: use letters, digits, `_`, `.` and `-` only"
        ));
    }
    let credential = match (&args.auth_env, &args.auth_value) {
        (Some(var), _) => {
            let var = var
                .strip_prefix("${")
                .and_then(|v| v.strip_suffix('}'))
                .unwrap_or(var.trim_start_matches('$'));
            if !crate::config::expand::is_var_name(var) {
                return Err(format!(
                    "invalid --auth-env {var:?}: an environment variable name has letters, digits and `_`, and does not start with a digit"
                ));
            }
            Some(Credential::Env(var.to_owned()))
        }
        (None, Some(value)) if value.is_empty() => {
            return Err("--auth-value is empty".to_owned());
        }
        (None, Some(value)) => Some(if is_env_reference(value) {
            Credential::Env(value[2..value.len() - 1].to_owned())
        } else {
            Credential::Literal(value.clone())
        }),
        (None, None) => None,
    };
    let models = if args.models.is_empty() {
        None
    } else {
        Some(
            args.models
                .iter()
                .map(|m| wizard::parse_model_pair(m).map_err(|e| format!("invalid --model: {e}")))
                .collect::<Result<Vec<_>, _>>()?,
        )
    };
    let kind = args.kind.map(|k| match k {
        KindArg::Anthropic => ProviderKind::Anthropic,
        KindArg::Openai => ProviderKind::OpenAi,
    });
    if let (Some(kind), Some(url)) = (kind, &args.base_url) {
        wizard::check_base_url(kind, url)
            .map_err(|e| format!("invalid --base-url {url:?}: {e}"))?;
    }
    Ok(Prefill {
        name: args.name.clone(),
        kind,
        auth_type: args.auth_type.map(|a| match a {
            AuthTypeArg::ApiKey => AuthType::ApiKey,
            AuthTypeArg::AuthToken => AuthType::AuthToken,
        }),
        credential,
        base_url: args.base_url.clone(),
        models,
        weight: args.weight,
        enabled: !args.disabled,
    })
}

/// Whether `value` is exactly `${VAR}`.
fn is_env_reference(value: &str) -> bool {
    value
        .strip_prefix("${")
        .and_then(|v| v.strip_suffix('}'))
        .is_some_and(crate::config::expand::is_var_name)
}

/// The text an edit inserted: `new` without what it shares with `old` at both ends, as whole
/// lines.
pub(crate) fn inserted<'a>(old: &str, new: &'a str) -> &'a str {
    let prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = old[prefix..]
        .bytes()
        .rev()
        .zip(new[prefix..].bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut start = prefix;
    // Show whole lines.
    while start > 0 && !new.is_char_boundary(start) {
        start -= 1;
    }
    let start = new[..start].rfind('\n').map_or(0, |i| i + 1);
    &new[start..new.len() - suffix]
}

/// What a probe found.
#[derive(Debug)]
pub struct ProbeOutcome {
    pub ok: bool,
    /// One line for a person: status and latency, or what went wrong.
    pub message: String,
}

impl ProbeOutcome {
    fn describe(&self) -> String {
        if self.ok {
            format!("probe ok: {}", self.message)
        } else {
            format!("probe failed: {}", self.message)
        }
    }
}

/// Probes the provider about to be added, with this shell's environment for its `${VAR}`.
/// `None` when Ctrl-C stopped it.
fn probe_new(provider: &NewProvider) -> Option<ProbeOutcome> {
    let failed = |message: String| Some(ProbeOutcome { ok: false, message });
    let text = format!("providers:\n{}", edit::render(provider, 2, 4, "\n"));
    let loaded = match config::load_str(&text, "the new provider", &crate::env::process) {
        Ok(loaded) => loaded,
        Err(e) => return failed(format!("cannot build it: {}", e.lines().join("; "))),
    };
    let Some(provider) = loaded.config.providers.into_iter().next() else {
        return failed("cannot build it".to_owned());
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return failed(format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async {
        tokio::select! {
            done = tokio::time::timeout(PROBE_TIMEOUT, probe(&provider)) => match done {
                Ok(outcome) => Some(outcome),
                Err(_) => failed(format!(
                    "no answer within {} seconds",
                    PROBE_TIMEOUT.as_secs()
                )),
            },
            _ = tokio::signal::ctrl_c() => None,
        }
    })
}

/// Probes `provider` the way `claude-lb check` does: one minimal real request built by the
/// same code `serve` uses.
pub async fn probe(provider: &Provider) -> ProbeOutcome {
    let upstream = match Upstream::new(&crate::env::process) {
        Ok(upstream) => upstream,
        Err(e) => {
            return ProbeOutcome {
                ok: false,
                message: e.to_string(),
            };
        }
    };
    let report = crate::upstream::probe::probe(&upstream, provider, PROBE_TIMEOUT).await;
    let ms = report.latency.as_millis();
    let message = match report.outcome {
        crate::upstream::probe::ProbeOutcome::Ok => format!("HTTP 200 in {ms} ms"),
        ref other => format!("{other} (after {ms} ms)"),
    };
    ProbeOutcome {
        ok: report.passed(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserted_is_the_whole_new_block() {
        let old = "providers:\n  - name: a\nsettings:\n";
        let new = "providers:\n  - name: a\n  - name: b\n    type: x\nsettings:\n";
        assert_eq!(inserted(old, new), "  - name: b\n    type: x\n");
        assert_eq!(inserted("", "providers:\n  - a\n"), "providers:\n  - a\n");
    }

    #[test]
    fn env_references() {
        assert!(is_env_reference("${A_B}"));
        assert!(!is_env_reference("${A-B}"));
        assert!(!is_env_reference("${A:-x}"));
        assert!(!is_env_reference("sk-123"));
    }
}
