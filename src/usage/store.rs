//! Where the ledger's rows are kept: the [`Store`] trait, and how `settings.usage.store`
//! becomes one ([`Location`]).

use std::path::{Path, PathBuf};

use super::Row;
use super::report::{Query, Report, Spent};
use crate::config::UsageStore;
use crate::config::postgres_url::PostgresUrl;

/// The file name of the default `SQLite` ledger, in the user's data directory.
pub const FILE_NAME: &str = "usage.db";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the usage ledger {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create the directory of the usage ledger {path}: {source}")]
    Directory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the usage ledger {ledger} has schema version {found}, newer than this claude-lb knows ({known}); use a newer claude-lb"
    )]
    TooNew {
        ledger: String,
        found: i64,
        known: i64,
    },
    #[error("the usage ledger failed: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The reasons of PostgreSQL errors are kept as text with their causes, since the client's
    /// errors say only their kind ("db error") and leave the reason to their source.
    #[error("cannot connect to the usage ledger {url}: {reason}")]
    Connect {
        /// The URL, its password masked.
        url: String,
        reason: String,
    },
    #[error("the usage ledger failed: {0}")]
    Postgres(String),
    #[error("there is no usage ledger at {0} yet (serve writes it on its first request)")]
    Missing(PathBuf),
    #[error("no user data directory is known on this system; set `settings.usage.store` to a path")]
    NoDataDir,
    #[error("cannot start the usage writer: {0}")]
    Thread(#[source] std::io::Error),
}

/// The columns a row is inserted into, in the order of its parameters, in every store.
pub const COLUMNS: &str =
    "time_ms, request_id, client, route, provider, failed_providers, failovers,
    model, upstream_model, stream, status, input_tokens, output_tokens, cache_read_tokens,
    cache_creation_tokens, first_token_ms, total_ms, cost_usd";
pub const COLUMN_COUNT: usize = 18;

/// `INSERT` of `rows` rows into `table`, its parameters numbered row after row and written
/// with `prefix` (`$` for PostgreSQL, `?` for `SQLite`): `VALUES ($1, .., $18), ($19, ..)`.
pub fn insert_sql(table: &str, rows: usize, prefix: char) -> String {
    use std::fmt::Write as _;
    let mut sql = format!("INSERT INTO {table} ({COLUMNS}) VALUES ");
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..COLUMN_COUNT {
            let sep = if column == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}{prefix}{}", row * COLUMN_COUNT + column + 1);
        }
        sql.push(')');
    }
    sql
}

/// A place that keeps ledger rows and answers questions about them.
///
/// Calls block: the writer calls them on its own thread, and readers off the async workers.
pub trait Store: Send {
    /// Inserts `rows`, all or none.
    fn insert(&mut self, rows: &[Row]) -> Result<(), StoreError>;
    /// Deletes the rows older than `before_ms`; returns how many.
    fn delete_before(&mut self, before_ms: i64) -> Result<u64, StoreError>;
    /// The totals per group that `claude-lb usage` shows.
    fn report(&mut self, query: &Query) -> Result<Report, StoreError>;
    /// Per client: tokens since `day_start_ms` and USD since `month_start_ms`, for budgets.
    fn spent(&mut self, day_start_ms: i64, month_start_ms: i64) -> Result<Vec<Spent>, StoreError>;
}

/// Where a ledger is: an `SQLite` file or a PostgreSQL database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(PostgresUrl),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => write!(f, "{url}"),
        }
    }
}

impl Location {
    /// Where `store` keeps the ledger: the path or URL given, or `usage.db` in `data_dir` for
    /// the default; `None` when the ledger is off.
    pub fn of(store: &UsageStore, data_dir: Option<&Path>) -> Result<Option<Self>, StoreError> {
        match store {
            UsageStore::Off => Ok(None),
            UsageStore::Sqlite(path) => Ok(Some(Self::Sqlite(path.clone()))),
            UsageStore::Postgres(url) => Ok(Some(Self::Postgres(url.clone()))),
            UsageStore::DefaultSqlite => data_dir
                .map(|dir| Some(Self::Sqlite(dir.join(FILE_NAME))))
                .ok_or(StoreError::NoDataDir),
        }
    }

    /// Opens the store, creating it (or its schema) when missing. Blocks; for PostgreSQL, call
    /// it off any async runtime (on the writer thread, in `spawn_blocking`, in a CLI command).
    pub fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(match self {
            Self::Sqlite(path) => Box::new(super::sqlite::SqliteStore::open(path)?),
            Self::Postgres(url) => Box::new(super::postgres::PostgresStore::connect(url)?),
        })
    }
}

/// Opens an existing store for reading; [`StoreError::Missing`] when no ledger file was
/// written yet.
pub fn open_existing(
    store: &UsageStore,
    data_dir: Option<&Path>,
) -> Result<Option<Box<dyn Store>>, StoreError> {
    match Location::of(store, data_dir)? {
        None => Ok(None),
        Some(Location::Sqlite(path)) if !path.exists() => Err(StoreError::Missing(path)),
        Some(location) => location.open().map(Some),
    }
}

/// The user's data directory for claude-lb (`~/.local/share/claude-lb` on Linux).
pub fn user_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "claude-lb").map(|d| d.data_dir().to_path_buf())
}

/// A store that opens its file or connection when first needed and again after a failure, so
/// a ledger that cannot be reached at start (a read-only directory, a full disk, a database
/// server that is down or restarting) counts the rows it loses and starts writing once it can.
pub struct Reopening {
    location: Location,
    store: Option<Box<dyn Store>>,
}

impl std::fmt::Debug for Reopening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reopening")
            .field("location", &self.location)
            .field("open", &self.store.is_some())
            .finish()
    }
}

impl Reopening {
    /// Tries to open `location` now; the error says why it could not (the store tries again
    /// on each write).
    pub fn new(location: Location) -> (Self, Option<StoreError>) {
        match location.open() {
            Ok(store) => (
                Self {
                    location,
                    store: Some(store),
                },
                None,
            ),
            Err(error) => (
                Self {
                    location,
                    store: None,
                },
                Some(error),
            ),
        }
    }

    /// Runs `call` on the store, opened first if need be; a failure closes it, so the next
    /// call opens it afresh (the file may have been replaced or repaired, the connection lost).
    fn with<T>(
        &mut self,
        call: impl FnOnce(&mut dyn Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let store = match &mut self.store {
            Some(store) => store,
            None => self.store.insert(self.location.open()?),
        };
        let result = call(store.as_mut());
        if result.is_err() {
            self.store = None;
        }
        result
    }
}

impl Store for Reopening {
    fn insert(&mut self, rows: &[Row]) -> Result<(), StoreError> {
        self.with(|store| store.insert(rows))
    }

    fn delete_before(&mut self, before_ms: i64) -> Result<u64, StoreError> {
        self.with(|store| store.delete_before(before_ms))
    }

    fn report(&mut self, query: &Query) -> Result<Report, StoreError> {
        self.with(|store| store.report(query))
    }

    fn spent(&mut self, day_start_ms: i64, month_start_ms: i64) -> Result<Vec<Spent>, StoreError> {
        self.with(|store| store.spent(day_start_ms, month_start_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insert_numbers_its_parameters_row_after_row() {
        let sql = insert_sql("usage", 2, '$');
        assert!(
            sql.starts_with("INSERT INTO usage (time_ms, request_id,"),
            "{sql}"
        );
        assert!(sql.ends_with(
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18), \
             ($19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36)"
        ), "{sql}");
        assert!(insert_sql("usage", 1, '?').ends_with("VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"));
        assert_eq!(COLUMNS.split(',').count(), COLUMN_COUNT);
    }
}
