//! The `SQLite` store: one file, in WAL mode, with a schema version table and migrations.
//!
//! WAL lets `claude-lb usage` read while `serve` writes. `synchronous = NORMAL` makes a commit
//! cost no fsync of its own: a committed batch survives the process crashing, and only a power
//! loss can take back the last few.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use rusqlite::{Connection, ToSql};

use super::Row;
use super::report::{Group, GroupBy, Query, Report, Spent};
use super::store::{COLUMN_COUNT, Store, StoreError, insert_sql};
use crate::core::price::Tokens;

/// The migrations, in order: the schema version of a file is how many of them it has had.
/// A released migration is never edited; a change is a new one at the end.
const MIGRATIONS: &[&str] = &[
    // 1: the ledger, indexed by time.
    "CREATE TABLE usage (
        id INTEGER PRIMARY KEY,
        time_ms INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        client TEXT,
        provider TEXT,
        failed_providers TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL,
        upstream_model TEXT,
        stream INTEGER NOT NULL,
        status INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cache_creation_tokens INTEGER NOT NULL,
        first_token_ms INTEGER,
        total_ms INTEGER NOT NULL,
        cost_usd REAL
    );
    CREATE INDEX usage_time ON usage (time_ms);",
    // 2: routes, the number of failed attempts, and the index budgets read by client.
    "ALTER TABLE usage ADD COLUMN route TEXT;
    ALTER TABLE usage ADD COLUMN failovers INTEGER NOT NULL DEFAULT 0;
    UPDATE usage SET failovers = length(failed_providers) - length(replace(failed_providers, ',', '')) + 1
        WHERE failed_providers <> '';
    CREATE INDEX usage_client_time ON usage (client, time_ms);",
];

/// The schema version this build writes.
#[allow(clippy::cast_possible_wrap)] // A handful of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// A ledger in one `SQLite` file.
pub struct SqliteStore {
    connection: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens `path` (creating it and its directory when missing) and brings its schema up to
    /// date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Directory {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let open = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut connection = Connection::open(path).map_err(open)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(open)?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(open)?;
        migrate(&mut connection, path)?;
        Ok(Self {
            connection,
            path: path.to_path_buf(),
        })
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .connection
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))?)
    }
}

/// Applies the migrations `connection` has not had yet, each in its own transaction with the
/// version it reaches.
fn migrate(connection: &mut Connection, path: &Path) -> Result<(), StoreError> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
         INSERT INTO schema_version (version)
             SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
    )?;
    let found: i64 =
        connection.query_row("SELECT version FROM schema_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            ledger: path.display().to_string(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (done, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let tx = connection.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "UPDATE schema_version SET version = ?1",
            [i64::try_from(done + 1).unwrap_or(i64::MAX)],
        )?;
        tx.commit()?;
    }
    Ok(())
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// How many rows one multi-row `INSERT` takes (`SQLite` takes 32,766 parameters).
const ROWS_PER_INSERT: usize = 32;

static INSERT_CHUNK: LazyLock<String> = LazyLock::new(|| insert_sql("usage", ROWS_PER_INSERT, '?'));
static INSERT_ONE: LazyLock<String> = LazyLock::new(|| insert_sql("usage", 1, '?'));

/// Binds `row` to the parameters after the first `offset`, in [`super::store::COLUMNS`] order.
fn bind(statement: &mut rusqlite::Statement<'_>, offset: usize, row: &Row) -> rusqlite::Result<()> {
    let values: [&dyn ToSql; COLUMN_COUNT] = [
        &row.time_ms,
        &row.request_id,
        &row.client,
        &row.route,
        &row.provider,
        &row.failed_providers.join(","),
        &i64::try_from(row.failed_providers.len()).unwrap_or(i64::MAX),
        &row.model,
        &row.upstream_model,
        &row.stream,
        &row.status,
        &to_i64(row.tokens.input),
        &to_i64(row.tokens.output),
        &to_i64(row.tokens.cache_read),
        &to_i64(row.tokens.cache_creation),
        &row.first_token_ms.map(to_i64),
        &to_i64(row.total_ms),
        &row.cost_usd,
    ];
    for (i, value) in values.into_iter().enumerate() {
        statement.raw_bind_parameter(offset + i + 1, value)?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn insert(&mut self, rows: &[Row]) -> Result<(), StoreError> {
        let tx = self.connection.transaction()?;
        {
            // Most of a row's cost is the statement around it: full chunks go in as one
            // multi-row statement, the rest one by one.
            let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
            if chunks.len() > 0 {
                let mut insert = tx.prepare_cached(&INSERT_CHUNK)?;
                for chunk in &mut chunks {
                    for (n, row) in chunk.iter().enumerate() {
                        bind(&mut insert, n * COLUMN_COUNT, row)?;
                    }
                    insert.raw_execute()?;
                }
            }
            let rest = chunks.remainder();
            if !rest.is_empty() {
                let mut insert = tx.prepare_cached(&INSERT_ONE)?;
                for row in rest {
                    bind(&mut insert, 0, row)?;
                    insert.raw_execute()?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn delete_before(&mut self, before_ms: i64) -> Result<u64, StoreError> {
        let n = self
            .connection
            .execute("DELETE FROM usage WHERE time_ms < ?1", [before_ms])?;
        Ok(n as u64)
    }

    fn report(&mut self, query: &Query) -> Result<Report, StoreError> {
        let keys: Vec<&str> = query
            .by
            .iter()
            .map(|by| match by {
                GroupBy::Provider => "COALESCE(provider, '-')",
                GroupBy::Model => "COALESCE(upstream_model, model)",
                GroupBy::Client => "COALESCE(client, '-')",
                GroupBy::Route => "COALESCE(route, '-')",
                GroupBy::Day => "strftime('%Y-%m-%d', time_ms / 1000, 'unixepoch')",
                GroupBy::Hour => "strftime('%Y-%m-%d %H:00', time_ms / 1000, 'unixepoch')",
            })
            .collect();
        let select_keys = if keys.is_empty() {
            String::new()
        } else {
            format!("{}, ", keys.join(", "))
        };
        let group = if keys.is_empty() {
            String::new()
        } else {
            let n: Vec<String> = (1..=keys.len()).map(|i| i.to_string()).collect();
            format!("GROUP BY {0} ORDER BY {0}", n.join(", "))
        };
        let sql = format!(
            "SELECT {select_keys} COUNT(*), SUM(status < 200 OR status >= 300), SUM(failovers),
                SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens),
                SUM(cache_creation_tokens), SUM(cost_usd IS NULL), TOTAL(cost_usd)
             FROM usage WHERE time_ms >= ?1 AND time_ms < ?2 {group}"
        );
        let mut statement = self.connection.prepare(&sql)?;
        let n = keys.len();
        let rows = statement.query_map([query.since_ms, query.until_ms], |r| {
            Group::from_columns(n, |i| r.get(i), |i| r.get(i), |i| r.get(i))
        })?;
        let groups = rows.collect::<Result<_, _>>()?;
        Ok(Report::of(query, groups))
    }

    fn spent(&mut self, day_start_ms: i64, month_start_ms: i64) -> Result<Vec<Spent>, StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT client,
                SUM(CASE WHEN time_ms >= ?1 THEN input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens ELSE 0 END),
                TOTAL(cost_usd)
             FROM usage WHERE client IS NOT NULL AND time_ms >= ?2 GROUP BY client",
        )?;
        let rows = statement.query_map([day_start_ms, month_start_ms.min(day_start_ms)], |r| {
            Ok(Spent {
                client: r.get(0)?,
                tokens_today: to_u64(r.get::<_, Option<i64>>(1)?.unwrap_or(0)),
                usd_this_month: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// A row read back, for tests and exports.
impl SqliteStore {
    /// Every row between `since_ms` and `until_ms`, oldest first.
    pub fn rows(&self, since_ms: i64, until_ms: i64) -> Result<Vec<Row>, StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT time_ms, request_id, client, route, provider, failed_providers, model,
                upstream_model, stream, status, input_tokens, output_tokens, cache_read_tokens,
                cache_creation_tokens, first_token_ms, total_ms, cost_usd
             FROM usage WHERE time_ms >= ?1 AND time_ms < ?2 ORDER BY time_ms, id",
        )?;
        let rows = statement.query_map([since_ms, until_ms], |r| {
            let failed: String = r.get(5)?;
            Ok(Row {
                time_ms: r.get(0)?,
                request_id: r.get(1)?,
                client: r.get(2)?,
                route: r.get(3)?,
                provider: r.get(4)?,
                failed_providers: failed
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                model: r.get(6)?,
                upstream_model: r.get(7)?,
                stream: r.get(8)?,
                status: r.get(9)?,
                tokens: Tokens {
                    input: to_u64(r.get(10)?),
                    output: to_u64(r.get(11)?),
                    cache_read: to_u64(r.get(12)?),
                    cache_creation: to_u64(r.get(13)?),
                },
                first_token_ms: r.get::<_, Option<i64>>(14)?.map(to_u64),
                total_ms: to_u64(r.get(15)?),
                cost_usd: r.get(16)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
