//! `${VAR}` and `${VAR:-default}` in config values, read from an environment lookup that the
//! caller passes in (the process environment is never read or changed here).
//!
//! As in a shell, a variable that is set but empty counts as unset, and `${VAR:-default}` uses
//! `default` then. A `$` not followed by `{` is kept as written.

/// A variable that a value refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarUse {
    pub name: String,
    /// Whether the variable was unset and its `:-default` was used.
    pub from_default: bool,
}

/// A value with its variables replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expanded {
    /// The text with every reference replaced (an unset variable without default becomes empty).
    pub value: String,
    /// Every variable referred to, in order.
    pub vars: Vec<VarUse>,
    /// The variables that were unset and had no default.
    pub missing: Vec<String>,
}

/// Why a value's `${...}` could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("`${{` at character {at} is never closed with `}}`")]
    Unclosed { at: usize },
    #[error(
        "{name:?} is not a valid environment variable name (letters, digits and `_`, not starting with a digit)"
    )]
    BadName { name: String },
}

/// Replaces every `${VAR}` in a URL: a variable inside it is inserted percent-encoded (so a
/// password with `@` or `/` needs no care), and a value that is one variable alone
/// (`${DATABASE_URL}`) is read as a whole URL.
pub fn expand_url(
    input: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Expanded, ExpandError> {
    let whole = input.starts_with("${") && input.find('}') == Some(input.len() - 1);
    let encoded = |name: &str| env(name).map(|v| if whole { v } else { encode(&v) });
    expand(input, &encoded)
}

/// `text` percent-encoded but for the characters that mean nothing in a URL.
fn encode(text: &str) -> String {
    use std::fmt::Write as _;
    text.bytes()
        .fold(String::with_capacity(text.len()), |mut out, b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "%{b:02X}");
            }
            out
        })
}

/// Replaces every `${VAR}` and `${VAR:-default}` in `input`.
pub fn expand(input: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Expanded, ExpandError> {
    let mut out = Expanded {
        value: String::with_capacity(input.len()),
        vars: Vec::new(),
        missing: Vec::new(),
    };
    let mut rest = input;
    while let Some(start) = rest.find("${") {
        out.value.push_str(&rest[..start]);
        let body_start = start + 2;
        let Some(len) = rest[body_start..].find('}') else {
            let at = input.len() - rest.len() + start + 1;
            return Err(ExpandError::Unclosed {
                at: input[..at].chars().count(),
            });
        };
        let body = &rest[body_start..body_start + len];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        if !is_var_name(name) {
            return Err(ExpandError::BadName {
                name: name.to_owned(),
            });
        }
        let found = env(name).filter(|v| !v.is_empty());
        let from_default = found.is_none() && default.is_some();
        match (found, default) {
            (Some(v), _) => out.value.push_str(&v),
            (None, Some(d)) => out.value.push_str(d),
            (None, None) => out.missing.push(name.to_owned()),
        }
        out.vars.push(VarUse {
            name: name.to_owned(),
            from_default,
        });
        rest = &rest[body_start + len + 1..];
    }
    out.value.push_str(rest);
    Ok(out)
}

/// Whether `name` is an environment variable name `${...}` may read: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_names() {
        for good in ["KEY", "_K", "k_1", "ANTHROPIC_API_KEY"] {
            assert!(is_var_name(good), "{good}");
        }
        for bad in ["", "1KEY", "K-Y", "K Y", "KÉ"] {
            assert!(!is_var_name(bad), "{bad}");
        }
    }

    fn env(name: &str) -> Option<String> {
        match name {
            "KEY" => Some("sk-123".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn replaces_references() {
        let e = expand("${KEY}", &env).unwrap();
        assert_eq!(e.value, "sk-123");
        assert!(e.missing.is_empty());
        let e = expand("Bearer ${KEY} and ${NOPE:-x}", &env).unwrap();
        assert_eq!(e.value, "Bearer sk-123 and x");
        assert_eq!(
            e.vars[1],
            VarUse {
                name: "NOPE".into(),
                from_default: true
            }
        );
        let e = expand("${EMPTY:-fallback}", &env).unwrap();
        assert_eq!(e.value, "fallback");
        let e = expand("plain $HOME text", &env).unwrap();
        assert_eq!(e.value, "plain $HOME text");
        assert!(e.vars.is_empty());
    }

    #[test]
    fn reports_missing_and_malformed() {
        let e = expand("${NOPE}", &env).unwrap();
        assert_eq!(e.missing, ["NOPE"]);
        let e = expand("${EMPTY}", &env).unwrap();
        assert_eq!(e.missing, ["EMPTY"]);
        assert_eq!(
            expand("ab${KEY", &env),
            Err(ExpandError::Unclosed { at: 3 })
        );
        assert_eq!(
            expand("${1BAD}", &env),
            Err(ExpandError::BadName {
                name: "1BAD".into()
            })
        );
        assert_eq!(
            expand("${}", &env),
            Err(ExpandError::BadName {
                name: String::new()
            })
        );
    }
}
