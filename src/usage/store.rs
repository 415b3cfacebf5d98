//! Where the ledger's rows are kept: the [`Store`] trait, and how `settings.usage.store`
//! becomes one.

use std::path::{Path, PathBuf};

use super::Row;
use super::report::{Query, Report, Spent};
use crate::config::UsageStore;

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
        "the usage ledger {path} has schema version {found}, newer than this claude-lb knows ({known}); use a newer claude-lb"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("the usage ledger failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("there is no usage ledger at {0} yet (serve writes it on its first request)")]
    Missing(PathBuf),
    #[error("no user data directory is known on this system; set `settings.usage.store` to a path")]
    NoDataDir,
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

/// The `SQLite` file of `store`: the path given, or `usage.db` in `data_dir` for the default;
/// `None` when the ledger is off.
pub fn sqlite_path(
    store: &UsageStore,
    data_dir: Option<&Path>,
) -> Result<Option<PathBuf>, StoreError> {
    match store {
        UsageStore::Off => Ok(None),
        UsageStore::Sqlite(path) => Ok(Some(path.clone())),
        UsageStore::DefaultSqlite => data_dir
            .map(|dir| Some(dir.join(FILE_NAME)))
            .ok_or(StoreError::NoDataDir),
    }
}

/// Opens an existing store for reading; [`StoreError::Missing`] when no ledger was written yet.
pub fn open_existing(
    store: &UsageStore,
    data_dir: Option<&Path>,
) -> Result<Option<Box<dyn Store>>, StoreError> {
    match sqlite_path(store, data_dir)? {
        None => Ok(None),
        Some(path) if !path.exists() => Err(StoreError::Missing(path)),
        Some(path) => Ok(Some(Box::new(super::sqlite::SqliteStore::open(&path)?))),
    }
}

/// The user's data directory for claude-lb (`~/.local/share/claude-lb` on Linux).
pub fn user_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "claude-lb").map(|d| d.data_dir().to_path_buf())
}

/// An `SQLite` store that opens its file when first needed and again after a failure, so a
/// ledger whose file cannot be opened at start (a read-only directory, a full disk) counts the
/// rows it loses and starts writing once the file can be opened.
pub struct Reopening {
    path: PathBuf,
    store: Option<super::sqlite::SqliteStore>,
}

impl std::fmt::Debug for Reopening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reopening")
            .field("path", &self.path)
            .field("open", &self.store.is_some())
            .finish()
    }
}

impl Reopening {
    /// Tries to open `path` now; the error says why it could not (the store tries again on
    /// each write).
    pub fn new(path: PathBuf) -> (Self, Option<StoreError>) {
        match super::sqlite::SqliteStore::open(&path) {
            Ok(store) => (
                Self {
                    path,
                    store: Some(store),
                },
                None,
            ),
            Err(error) => (Self { path, store: None }, Some(error)),
        }
    }

    fn store(&mut self) -> Result<&mut super::sqlite::SqliteStore, StoreError> {
        if self.store.is_none() {
            self.store = Some(super::sqlite::SqliteStore::open(&self.path)?);
        }
        self.store.as_mut().ok_or(StoreError::NoDataDir)
    }
}

impl Store for Reopening {
    fn insert(&mut self, rows: &[Row]) -> Result<(), StoreError> {
        let result = self.store()?.insert(rows);
        if result.is_err() {
            // Open afresh next time: the file may have been replaced or repaired.
            self.store = None;
        }
        result
    }

    fn delete_before(&mut self, before_ms: i64) -> Result<u64, StoreError> {
        self.store()?.delete_before(before_ms)
    }

    fn report(&mut self, query: &Query) -> Result<Report, StoreError> {
        self.store()?.report(query)
    }

    fn spent(&mut self, day_start_ms: i64, month_start_ms: i64) -> Result<Vec<Spent>, StoreError> {
        self.store()?.spent(day_start_ms, month_start_ms)
    }
}
