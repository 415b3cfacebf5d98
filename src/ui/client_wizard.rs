//! The `clients add` wizard: prompts for the name and limits the command line left out.
//!
//! Like the `providers add` wizard, it only talks: [`collect`] turns what the flags gave into a
//! complete [`NewClient`], and the command edits, validates and writes the file. Prompts go to
//! stderr, so stdout stays for the key.

use std::io;

use dialoguer::Input;
use dialoguer::theme::ColorfulTheme;

use super::wizard::{catch_ctrl_c, say, to_io};
use crate::config::edit::{NewClient, is_valid_name};

/// The answers the flags gave; `None` (or empty) is asked for.
#[derive(Clone, Debug, Default)]
pub struct ClientPrefill {
    pub name: Option<String>,
    pub providers: Vec<String>,
    pub models: Vec<String>,
    pub max_concurrent: Option<u32>,
    pub requests_per_minute: Option<u32>,
}

/// Asks for the name and every limit `prefill` leaves out and returns the client, keyed by
/// `key_sha256`. `taken` are the client names already in the file, `providers` the names of
/// its providers, which the prompts check answers against.
pub fn collect(
    prefill: &ClientPrefill,
    taken: &[String],
    providers: &[String],
    key_sha256: String,
) -> io::Result<NewClient> {
    catch_ctrl_c();
    let theme = ColorfulTheme::default();
    say(
        "Add a client to claude-lb. Press Ctrl-C at any time to stop; nothing is written until the end.",
    )?;
    let name = match &prefill.name {
        Some(name) => name.clone(),
        None => ask_name(&theme, taken)?,
    };
    let allowed = if prefill.providers.is_empty() {
        ask_list(
            &theme,
            "Providers it may use, comma-separated (empty: all)",
            |name| {
                if providers.iter().any(|p| p == name) {
                    Ok(())
                } else {
                    Err(format!(
                        "no provider is named {name:?} (providers: {})",
                        providers.join(", ")
                    ))
                }
            },
        )?
    } else {
        prefill.providers.clone()
    };
    let models = if prefill.models.is_empty() {
        ask_list(
            &theme,
            "Model patterns it may request, comma-separated, `*` matching anything (empty: any)",
            |_| Ok(()),
        )?
    } else {
        prefill.models.clone()
    };
    let max_concurrent = match prefill.max_concurrent {
        Some(n) => Some(n),
        None => ask_limit(&theme, "Requests in flight at once (empty: no limit)")?,
    };
    let requests_per_minute = match prefill.requests_per_minute {
        Some(n) => Some(n),
        None => ask_limit(&theme, "Requests per minute (empty: no limit)")?,
    };
    Ok(NewClient {
        name,
        key_sha256,
        providers: allowed,
        models,
        max_concurrent,
        requests_per_minute,
    })
}

fn ask_name(theme: &ColorfulTheme, taken: &[String]) -> io::Result<String> {
    Input::<String>::with_theme(theme)
        .with_prompt("Name, shown in logs and metrics (letters, digits, _ . -)")
        .validate_with(|input: &String| -> Result<(), String> {
            if !is_valid_name(input) {
                Err("use letters, digits, `_`, `.` and `-` only".to_owned())
            } else if taken.iter().any(|t| t == input) {
                Err(format!("a client named {input:?} already exists"))
            } else {
                Ok(())
            }
        })
        .interact_text()
        .map_err(to_io)
}

/// Splits a comma-separated answer into its trimmed, non-empty parts.
pub fn split_list(answer: &str) -> Vec<String> {
    answer
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn ask_list(
    theme: &ColorfulTheme,
    prompt: &str,
    check: impl Fn(&str) -> Result<(), String>,
) -> io::Result<Vec<String>> {
    let answer = Input::<String>::with_theme(theme)
        .with_prompt(prompt)
        .allow_empty(true)
        .validate_with(|input: &String| -> Result<(), String> {
            split_list(input).iter().try_for_each(|item| check(item))
        })
        .interact_text()
        .map_err(to_io)?;
    Ok(split_list(&answer))
}

fn ask_limit(theme: &ColorfulTheme, prompt: &str) -> io::Result<Option<u32>> {
    let answer = Input::<String>::with_theme(theme)
        .with_prompt(prompt)
        .allow_empty(true)
        .validate_with(|input: &String| -> Result<(), String> { parse_limit(input).map(|_| ()) })
        .interact_text()
        .map_err(to_io)?;
    // unwrap-free: the validator accepted it.
    Ok(parse_limit(&answer).unwrap_or(None))
}

/// An answer to a limit prompt: empty for no limit, else a whole number of at least 1.
fn parse_limit(answer: &str) -> Result<Option<u32>, String> {
    let answer = answer.trim();
    if answer.is_empty() {
        return Ok(None);
    }
    match answer.parse::<u32>() {
        Ok(0) => Err("at least 1 (leave it empty for no limit)".to_owned()),
        Ok(n) => Ok(Some(n)),
        Err(_) => Err(format!(
            "{answer:?} is not a whole number (leave it empty for no limit)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_limits_parse_as_typed() {
        assert_eq!(split_list(" a, b ,,c "), ["a", "b", "c"]);
        assert!(split_list("  ").is_empty());
        assert_eq!(parse_limit(""), Ok(None));
        assert_eq!(parse_limit(" 4 "), Ok(Some(4)));
        assert!(parse_limit("0").is_err());
        assert!(parse_limit("-1").unwrap_err().contains("whole number"));
        assert!(parse_limit("ten").is_err());
    }
}
