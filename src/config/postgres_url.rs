//! `settings.usage.store: postgres://...`: the URL of a PostgreSQL ledger, checked when the
//! config is read and kept like a credential, since it may hold a password.

use std::fmt;

use super::diagnostic::did_you_mean;
use super::expand::expand_url;
use super::secret::Secret;

/// The parameters a ledger URL may carry after `?` (those of the PostgreSQL client).
const PARAMETERS: &[&str] = &[
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "sslmode",
    "host",
    "hostaddr",
    "port",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// The `sslmode` values that ask for TLS, which the ledger's client does not speak yet.
const TLS_MODES: &[&str] = &["require", "verify-ca", "verify-full"];

/// What the password of a URL is shown as.
const MASK: &str = "*****";

/// The URL of a PostgreSQL ledger. Its `Debug` and `Display` show it with the password
/// masked; [`PostgresUrl::expose`] gives it whole, to connect with.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    url: Secret,
    shown: String,
}

impl PostgresUrl {
    /// The URL with its password: call this only to connect.
    pub fn expose(&self) -> &str {
        self.url.expose()
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresUrl({:?})", self.shown)
    }
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Whether `text` is meant as a PostgreSQL URL (by its scheme).
pub fn is_postgres_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// Reads a ledger URL, `${VAR}`s expanded from `env`. A variable inside the URL is inserted
/// percent-encoded (so a password with `@` or `/` needs no care); a value that is a variable
/// alone (`${DATABASE_URL}`) is read as a whole URL. The error never contains the password.
pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<PostgresUrl, String> {
    let expanded = expand_url(text, env).map_err(|e| e.to_string())?;
    if let Some(var) = expanded.missing.first() {
        return Err(format!(
            "environment variable {var} is not set; export it in the shell that starts claude-lb, or write \"${{{var}:-default}}\""
        ));
    }
    let value = expanded.value;
    if !is_postgres_url(&value) {
        return Err("expected a URL starting with postgres:// or postgresql://".to_owned());
    }
    let url = url::Url::parse(&value).map_err(|e| format!("is not a valid URL: {e}"))?;
    let mut has_host = url.host_str().is_some_and(|h| !h.is_empty());
    for (name, value) in url.query_pairs() {
        if !PARAMETERS.contains(&name.as_ref()) {
            return Err(format!(
                "unknown parameter {name:?}{}",
                did_you_mean(&name, PARAMETERS)
            ));
        }
        if name == "sslmode" && TLS_MODES.contains(&value.as_ref()) {
            return Err(format!(
                "sslmode={value}: TLS is not supported for the usage ledger yet; use `sslmode=disable` on a trusted network, or reach the server through a TLS tunnel"
            ));
        }
        has_host |= name == "host" || name == "hostaddr";
    }
    if !has_host {
        return Err("names no host: write postgres://USER:PASSWORD@HOST:PORT/DATABASE".to_owned());
    }
    value
        .parse::<postgres::Config>()
        .map_err(|e| format!("is not a PostgreSQL URL claude-lb can use: {e}"))?;
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some(MASK));
    }
    if url.query_pairs().any(|(name, _)| name == "password") {
        let masked = url.query_pairs().map(|(name, value)| {
            let value = if name == "password" {
                MASK.into()
            } else {
                value
            };
            (name, value)
        });
        shown.query_pairs_mut().clear().extend_pairs(masked);
    }
    let shown = shown.to_string();
    Ok(PostgresUrl {
        url: Secret::new(value),
        shown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PGPASS" => Some("p@ss/w:rd".to_owned()),
            "DATABASE_URL" => Some("postgres://app:hunter2@db:5432/ledger".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn a_password_is_never_shown() {
        let url = parse("postgres://app:hunter2@db.internal:5432/ledger", &env).unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://app:*****@db.internal:5432/ledger"
        );
        assert!(!format!("{url:?}").contains("hunter2"));
        let store = super::super::UsageStore::Postgres(url.clone());
        assert!(!format!("{store:?}").contains("hunter2"), "{store:?}");
        assert_eq!(
            url.expose(),
            "postgres://app:hunter2@db.internal:5432/ledger"
        );
        let url = parse("postgresql://db/ledger?user=app&password=hunter2", &env).unwrap();
        assert!(!url.to_string().contains("hunter2"), "{url}");
        assert!(url.to_string().contains("user=app"), "{url}");
    }

    #[test]
    fn variables_inside_are_encoded_and_a_whole_one_is_a_url() {
        let url = parse("postgres://app:${PGPASS}@db/ledger", &env).unwrap();
        assert_eq!(url.expose(), "postgres://app:p%40ss%2Fw%3Ard@db/ledger");
        let config: postgres::Config = url.expose().parse().unwrap();
        assert_eq!(config.get_password(), Some(&b"p@ss/w:rd"[..]));
        let url = parse("${DATABASE_URL}", &env).unwrap();
        assert_eq!(url.expose(), "postgres://app:hunter2@db:5432/ledger");
        let error = parse("postgres://app:${NOPE}@db/ledger", &env).unwrap_err();
        assert!(error.contains("NOPE is not set"), "{error}");
    }

    #[test]
    fn mistakes_are_named() {
        let error = parse("postgres://db/ledger?sslmod=disable", &env).unwrap_err();
        assert!(
            error.contains("\"sslmod\", did you mean \"sslmode\"?"),
            "{error}"
        );
        let error = parse("postgres://db/ledger?sslmode=require", &env).unwrap_err();
        assert!(error.contains("TLS is not supported"), "{error}");
        let error = parse("postgres:///ledger", &env).unwrap_err();
        assert!(error.contains("names no host"), "{error}");
        let error = parse("postgres://db:99999/ledger", &env).unwrap_err();
        assert!(error.contains("not a valid URL"), "{error}");
        let error = parse("postgres://app:hunter2@db/ledger?sslmode=maybe", &env).unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(parse("postgres://db/ledger?host=/run/postgresql", &env).is_ok());
    }
}
