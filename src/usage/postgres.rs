//! The PostgreSQL store: one ledger that several replicas write together and any of them (or
//! `claude-lb usage`) reads. Same rows and same answers as the `SQLite` store.
//!
//! The schema is created on first use under a transaction-level advisory lock, so replicas
//! that start together take turns instead of failing on each other's `CREATE TABLE`. A batch
//! is one multi-row `INSERT` in one transaction. The client is the synchronous one, which
//! drives its connection on a small runtime of its own: call it off any async runtime (the
//! writer thread, `spawn_blocking`, a CLI command).

use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, NoTls};

use super::Row;
use super::report::{Group, GroupBy, Query, Report, Spent};
use super::store::{COLUMN_COUNT, Store, StoreError, insert_sql};
use crate::config::postgres_url::PostgresUrl;

/// The migrations, in order: the schema version of a database is how many of them it has had.
/// A released migration is never edited; a change is a new one at the end. The tables are
/// prefixed, since the database may be shared with other applications.
const MIGRATIONS: &[&str] = &[
    // 1: the ledger, indexed by time, and by client for budgets.
    "CREATE TABLE claude_lb_usage (
        id BIGSERIAL PRIMARY KEY,
        time_ms BIGINT NOT NULL,
        request_id TEXT NOT NULL,
        client TEXT,
        route TEXT,
        provider TEXT,
        failed_providers TEXT NOT NULL DEFAULT '',
        failovers INTEGER NOT NULL DEFAULT 0,
        model TEXT NOT NULL,
        upstream_model TEXT,
        stream BOOLEAN NOT NULL,
        status INTEGER NOT NULL,
        input_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL,
        cache_read_tokens BIGINT NOT NULL,
        cache_creation_tokens BIGINT NOT NULL,
        first_token_ms BIGINT,
        total_ms BIGINT NOT NULL,
        cost_usd DOUBLE PRECISION
    );
    CREATE INDEX claude_lb_usage_time ON claude_lb_usage (time_ms);
    CREATE INDEX claude_lb_usage_client_time ON claude_lb_usage (client, time_ms);",
];

/// The schema version this build writes.
#[allow(clippy::cast_possible_wrap)] // A handful of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The key of the advisory lock held while the schema is checked and created (`clb_usag` in ASCII).
const SCHEMA_LOCK: i64 = 0x636c_625f_7573_6167;

/// How long connecting may take when the URL gives no `connect_timeout`: the writer tries
/// again with its next batch, and a reader gives up with the reason.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a statement, or data the server has not acknowledged, may take when the URL says
/// nothing (`options`, `tcp_user_timeout`): a database that hangs rather than refuses cannot
/// hold the writer, and with it a graceful shutdown, for ever.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The most rows in one `INSERT` (PostgreSQL takes at most 65535 parameters in a statement).
const ROWS_PER_INSERT: usize = 512;

const _: () = assert!(ROWS_PER_INSERT * COLUMN_COUNT <= 65535);

/// A ledger in a PostgreSQL database.
pub struct PostgresStore {
    client: Client,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to `url` and brings the schema up to date.
    pub fn connect(url: &PostgresUrl) -> Result<Self, StoreError> {
        let connect = |error| StoreError::Connect {
            url: url.to_string(),
            reason: describe(&error),
        };
        let mut config: postgres::Config = url.expose().parse().map_err(connect)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(STALL_TIMEOUT);
        }
        if config.get_options().is_none() {
            config.options(&format!(
                "-c statement_timeout={}",
                STALL_TIMEOUT.as_millis()
            ));
        }
        if config.get_application_name().is_none() {
            config.application_name("claude-lb");
        }
        let mut client = config.connect(NoTls).map_err(connect)?;
        migrate(&mut client, url)?;
        Ok(Self { client })
    }

    /// The schema version of the database.
    pub fn schema_version(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .client
            .query_one("SELECT version FROM claude_lb_schema", &[])?
            .get(0))
    }
}

/// Applies the migrations the database has not had yet, in one transaction that first takes
/// the schema's advisory lock.
fn migrate(client: &mut Client, url: &PostgresUrl) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS claude_lb_schema (version BIGINT NOT NULL);
         INSERT INTO claude_lb_schema (version)
             SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM claude_lb_schema);",
    )?;
    let found: i64 = tx
        .query_one("SELECT version FROM claude_lb_schema", &[])?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            ledger: url.to_string(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (done, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.batch_execute(sql)?;
        tx.execute(
            "UPDATE claude_lb_schema SET version = $1",
            &[&i64::try_from(done + 1).unwrap_or(i64::MAX)],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// An error of the client with its causes: its own text says only its kind ("db error").
fn describe(error: &postgres::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<postgres::Error> for StoreError {
    fn from(error: postgres::Error) -> Self {
        Self::Postgres(describe(&error))
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: Option<i64>) -> u64 {
    n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

/// `text` as PostgreSQL can keep it: its text holds no NUL character, which a client could put
/// in a model name, and which would fail the whole batch.
fn text(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

/// A row's values as the columns take them, in [`super::store::COLUMNS`] order.
struct Values {
    time_ms: i64,
    request_id: String,
    client: Option<String>,
    route: Option<String>,
    provider: Option<String>,
    failed_providers: String,
    failovers: i32,
    model: String,
    upstream_model: Option<String>,
    stream: bool,
    status: i32,
    tokens: [i64; 4],
    first_token_ms: Option<i64>,
    total_ms: i64,
    cost_usd: Option<f64>,
}

impl Values {
    fn of(row: &Row) -> Self {
        Self {
            time_ms: row.time_ms,
            request_id: text(&row.request_id),
            client: row.client.as_deref().map(text),
            route: row.route.as_deref().map(text),
            provider: row.provider.as_deref().map(text),
            failed_providers: text(&row.failed_providers.join(",")),
            failovers: i32::try_from(row.failed_providers.len()).unwrap_or(i32::MAX),
            model: text(&row.model),
            upstream_model: row.upstream_model.as_deref().map(text),
            stream: row.stream,
            status: i32::from(row.status),
            tokens: [
                to_i64(row.tokens.input),
                to_i64(row.tokens.output),
                to_i64(row.tokens.cache_read),
                to_i64(row.tokens.cache_creation),
            ],
            first_token_ms: row.first_token_ms.map(to_i64),
            total_ms: to_i64(row.total_ms),
            cost_usd: row.cost_usd,
        }
    }

    fn params<'a>(&'a self, out: &mut Vec<&'a (dyn ToSql + Sync)>) {
        out.extend_from_slice(&[
            &self.time_ms,
            &self.request_id,
            &self.client,
            &self.route,
            &self.provider,
            &self.failed_providers,
            &self.failovers,
            &self.model,
            &self.upstream_model,
            &self.stream,
            &self.status,
            &self.tokens[0],
            &self.tokens[1],
            &self.tokens[2],
            &self.tokens[3],
            &self.first_token_ms,
            &self.total_ms,
            &self.cost_usd,
        ]);
    }
}

/// The SQL of a report's group key.
fn key_sql(by: GroupBy) -> &'static str {
    match by {
        GroupBy::Provider => "COALESCE(provider, '-')",
        GroupBy::Model => "COALESCE(upstream_model, model)",
        GroupBy::Client => "COALESCE(client, '-')",
        GroupBy::Route => "COALESCE(route, '-')",
        GroupBy::Day => "to_char(to_timestamp(time_ms / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        GroupBy::Hour => {
            "to_char(to_timestamp(time_ms / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:00')"
        }
    }
}

impl Store for PostgresStore {
    fn insert(&mut self, rows: &[Row]) -> Result<(), StoreError> {
        let mut tx = self.client.transaction()?;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let values: Vec<Values> = chunk.iter().map(Values::of).collect();
            let mut params = Vec::with_capacity(values.len() * COLUMN_COUNT);
            for v in &values {
                v.params(&mut params);
            }
            tx.execute(&insert_sql("claude_lb_usage", values.len(), '$'), &params)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn delete_before(&mut self, before_ms: i64) -> Result<u64, StoreError> {
        Ok(self.client.execute(
            "DELETE FROM claude_lb_usage WHERE time_ms < $1",
            &[&before_ms],
        )?)
    }

    fn report(&mut self, query: &Query) -> Result<Report, StoreError> {
        let keys: Vec<&str> = query.by.iter().map(|by| key_sql(*by)).collect();
        let select_keys: String = keys.iter().flat_map(|k| [k, ", "]).collect();
        // The keys sort by their bytes, as `SQLite` sorts them, whatever the database's locale.
        let group = if keys.is_empty() {
            String::new()
        } else {
            let n: Vec<String> = (1..=keys.len()).map(|i| i.to_string()).collect();
            let order: Vec<String> = keys
                .iter()
                .map(|k| format!("({k}) COLLATE \"C\""))
                .collect();
            format!("GROUP BY {} ORDER BY {}", n.join(", "), order.join(", "))
        };
        let sql = format!(
            "SELECT {select_keys} COUNT(*),
                SUM(CASE WHEN status < 200 OR status >= 300 THEN 1 ELSE 0 END),
                SUM(failovers), SUM(input_tokens)::BIGINT, SUM(output_tokens)::BIGINT,
                SUM(cache_read_tokens)::BIGINT, SUM(cache_creation_tokens)::BIGINT,
                SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END),
                COALESCE(SUM(cost_usd), 0)::DOUBLE PRECISION
             FROM claude_lb_usage WHERE time_ms >= $1 AND time_ms < $2 {group}"
        );
        let n = keys.len();
        let mut groups = Vec::new();
        for r in self
            .client
            .query(&sql, &[&query.since_ms, &query.until_ms])?
        {
            groups.push(Group::from_columns(
                n,
                |i| r.try_get(i),
                |i| r.try_get(i),
                |i| r.try_get(i),
            )?);
        }
        Ok(Report::of(query, groups))
    }

    fn spent(&mut self, day_start_ms: i64, month_start_ms: i64) -> Result<Vec<Spent>, StoreError> {
        let rows = self.client.query(
            "SELECT client,
                SUM(CASE WHEN time_ms >= $1
                    THEN input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens
                    ELSE 0 END)::BIGINT,
                COALESCE(SUM(cost_usd), 0)::DOUBLE PRECISION
             FROM claude_lb_usage WHERE client IS NOT NULL AND time_ms >= $2
             GROUP BY client ORDER BY client COLLATE \"C\"",
            &[&day_start_ms, &month_start_ms.min(day_start_ms)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Spent {
                    client: r.try_get(0)?,
                    tokens_today: to_u64(r.try_get(1)?),
                    usd_this_month: r.try_get(2)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_a_nul_is_kept_without_it() {
        assert_eq!(text("a\0b"), "a\u{FFFD}b");
    }
}
