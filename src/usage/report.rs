//! What `claude-lb usage` and `GET /usage` ask ([`Query`]) and answer ([`Report`]): totals per
//! group over a period. The JSON of a [`Report`] is the wire format of `GET /usage`, which
//! `usage --remote` reads back.

use serde::{Deserialize, Serialize};

use super::time;

/// A way to group rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Provider,
    /// The model sent upstream (the model requested when no provider answered).
    Model,
    Client,
    Route,
    /// The UTC day.
    Day,
    /// The UTC hour.
    Hour,
}

impl GroupBy {
    pub const ALL: [Self; 6] = [
        Self::Provider,
        Self::Model,
        Self::Client,
        Self::Route,
        Self::Day,
        Self::Hour,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Model => "model",
            Self::Client => "client",
            Self::Route => "route",
            Self::Day => "day",
            Self::Hour => "hour",
        }
    }

    /// Reads `provider,model` (several, comma-separated) into groupings.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some(by) = Self::ALL.iter().find(|b| b.as_str() == part) else {
                return Err(format!(
                    "cannot group by {part:?}: expected any of provider, model, client, route, day, hour (comma-separated)"
                ));
            };
            if !out.contains(by) {
                out.push(*by);
            }
        }
        Ok(out)
    }
}

/// A period and a grouping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// From this time (milliseconds since the epoch), included.
    pub since_ms: i64,
    /// Up to this time, excluded.
    pub until_ms: i64,
    pub by: Vec<GroupBy>,
}

/// The totals of one group (or of everything).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub requests: u64,
    /// Requests whose client got no answer (a status other than 2xx).
    pub failed: u64,
    /// Attempts that failed before another provider was tried.
    pub failovers: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_creation_tokens: u64,
    /// Cached input over all input (`cache_read / (input + cache_read + cache_creation)`);
    /// `None` with no input at all.
    pub cache_hit_ratio: Option<f64>,
    /// The estimated cost of the rows with a known price.
    pub cost_usd: f64,
    /// Rows with no known price, whose cost is not in `cost_usd`.
    pub unpriced: u64,
}

impl Totals {
    /// Sets `cache_hit_ratio` from the token counts.
    #[allow(clippy::cast_precision_loss)]
    pub fn finish(&mut self) {
        let all = self
            .input_tokens
            .saturating_add(self.cache_read_tokens)
            .saturating_add(self.cache_creation_tokens);
        self.cache_hit_ratio = (all > 0).then(|| self.cache_read_tokens as f64 / all as f64);
    }

    pub fn add(&mut self, other: &Self) {
        self.requests += other.requests;
        self.failed += other.failed;
        self.failovers += other.failovers;
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cache_read_tokens = self
            .cache_read_tokens
            .saturating_add(other.cache_read_tokens);
        self.cache_creation_tokens = self
            .cache_creation_tokens
            .saturating_add(other.cache_creation_tokens);
        self.cost_usd += other.cost_usd;
        self.unpriced += other.unpriced;
    }

    /// The totals of a group from the sums a store computed: requests, failed, failovers,
    /// input, output, cache-read and cache-creation tokens, unpriced rows; and the cost.
    pub fn from_sums(sums: [u64; 8], cost_usd: f64) -> Self {
        let [
            requests,
            failed,
            failovers,
            input_tokens,
            output_tokens,
            cache_read_tokens,
            cache_creation_tokens,
            unpriced,
        ] = sums;
        let mut totals = Self {
            requests,
            failed,
            failovers,
            input_tokens,
            output_tokens,
            cache_read_tokens,
            cache_creation_tokens,
            cache_hit_ratio: None,
            cost_usd,
            unpriced,
        };
        totals.finish();
        totals
    }

    /// Every token counted.
    pub fn tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.output_tokens)
            .saturating_add(self.cache_read_tokens)
            .saturating_add(self.cache_creation_tokens)
    }
}

/// One group: its key (one value per grouping, in the query's order) and its totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub key: Vec<String>,
    #[serde(flatten)]
    pub totals: Totals,
}

impl Group {
    /// A group from one row of a store's report query: `keys` key columns (NULL read as
    /// empty), then the eight sums of [`Totals::from_sums`] (NULL or negative read as 0), then
    /// the cost; `key`, `sum` and `cost` read the column at an index.
    pub fn from_columns<E>(
        keys: usize,
        key: impl Fn(usize) -> Result<Option<String>, E>,
        sum: impl Fn(usize) -> Result<Option<i64>, E>,
        cost: impl FnOnce(usize) -> Result<f64, E>,
    ) -> Result<Self, E> {
        let key = (0..keys)
            .map(|i| Ok(key(i)?.unwrap_or_default()))
            .collect::<Result<_, E>>()?;
        let mut sums = [0; 8];
        for (i, total) in sums.iter_mut().enumerate() {
            *total = sum(keys + i)?.map_or(0, |n| u64::try_from(n).unwrap_or(0));
        }
        Ok(Self {
            key,
            totals: Totals::from_sums(sums, cost(keys + 8)?),
        })
    }
}

/// The answer to a [`Query`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub since_ms: i64,
    pub until_ms: i64,
    pub by: Vec<GroupBy>,
    /// The groups, ordered by their key.
    pub groups: Vec<Group>,
    pub total: Totals,
}

impl Report {
    /// The answer to `query` from the totals of its groups as a store summed them (with no
    /// grouping, the one group of every row): the groups of no rows left out, the total added.
    pub fn of(query: &Query, groups: Vec<Group>) -> Self {
        let mut total = Totals::default();
        for group in &groups {
            total.add(&group.totals);
        }
        total.finish();
        Self {
            since_ms: query.since_ms,
            until_ms: query.until_ms,
            by: query.by.clone(),
            groups: if query.by.is_empty() {
                Vec::new()
            } else {
                groups
                    .into_iter()
                    .filter(|g| g.totals.requests > 0)
                    .collect()
            },
            total,
        }
    }
}

/// A client's spending, for budgets.
#[derive(Clone, Debug, PartialEq)]
pub struct Spent {
    pub client: String,
    pub tokens_today: u64,
    pub usd_this_month: f64,
}

/// Reads a point in time: a duration back from `now_ms` (`24h`, `7d`, `90m`) or a UTC date
/// (`2026-12-01`, its midnight).
pub fn parse_time(text: &str, now_ms: i64) -> Result<i64, String> {
    let text = text.trim();
    if let Some(ms) = time::parse_date(text) {
        return Ok(ms);
    }
    match crate::config::duration::parse(text) {
        Ok(ago) => Ok(now_ms.saturating_sub(i64::try_from(ago.as_millis()).unwrap_or(i64::MAX))),
        Err(_) => Err(format!(
            "expected a duration back from now (such as 24h, 7d) or a UTC date (such as 2026-12-01), found {text:?}"
        )),
    }
}

/// The query of `?since=..&until=..&by=..` (each optional; the last 24 hours by default).
pub fn query_from_params(params: &[(String, String)], now_ms: i64) -> Result<Query, String> {
    let mut query = Query {
        since_ms: now_ms - 24 * 3_600_000,
        until_ms: now_ms,
        by: Vec::new(),
    };
    for (name, value) in params {
        match name.as_str() {
            "since" => {
                query.since_ms = parse_time(value, now_ms).map_err(|e| format!("since: {e}"))?;
            }
            "until" => {
                query.until_ms = parse_time(value, now_ms).map_err(|e| format!("until: {e}"))?;
            }
            "by" => query.by = GroupBy::parse_list(value).map_err(|e| format!("by: {e}"))?,
            other => {
                return Err(format!(
                    "unknown parameter {other:?} (allowed: since, until, by)"
                ));
            }
        }
    }
    if query.until_ms <= query.since_ms {
        return Err("the period is empty: `until` must come after `since`".to_owned());
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_durations_back_or_utc_dates() {
        let now = time::parse_date("2026-12-06").unwrap() + 12 * 3_600_000;
        assert_eq!(parse_time("24h", now), Ok(now - 86_400_000));
        assert_eq!(parse_time("7d", now), Ok(now - 7 * 86_400_000));
        assert_eq!(
            parse_time("2026-12-01", now),
            Ok(time::parse_date("2026-12-01").unwrap())
        );
        assert!(
            parse_time("yesterday", now)
                .unwrap_err()
                .contains("\"yesterday\"")
        );
    }

    #[test]
    fn groupings_parse_from_a_list_and_refuse_unknown_names() {
        assert_eq!(
            GroupBy::parse_list("provider,model"),
            Ok(vec![GroupBy::Provider, GroupBy::Model])
        );
        assert!(
            GroupBy::parse_list("provider,week")
                .unwrap_err()
                .contains("\"week\"")
        );
    }

    #[test]
    fn params_build_a_query_and_refuse_an_empty_period() {
        let now = 1_000_000_000_000;
        let params = vec![
            ("since".to_owned(), "7d".to_owned()),
            ("by".to_owned(), "day".to_owned()),
        ];
        let query = query_from_params(&params, now).unwrap();
        assert_eq!(query.since_ms, now - 7 * 86_400_000);
        assert_eq!(query.by, vec![GroupBy::Day]);
        let params = vec![("until".to_owned(), "7d".to_owned())];
        assert!(query_from_params(&params, now).is_err());
        let params = vec![("sinse".to_owned(), "7d".to_owned())];
        assert!(
            query_from_params(&params, now)
                .unwrap_err()
                .contains("sinse")
        );
    }

    #[test]
    fn the_cache_hit_ratio_is_cached_input_over_all_input() {
        let mut totals = Totals {
            input_tokens: 100,
            cache_read_tokens: 300,
            cache_creation_tokens: 100,
            ..Totals::default()
        };
        totals.finish();
        assert_eq!(totals.cache_hit_ratio, Some(0.6));
        let mut empty = Totals::default();
        empty.finish();
        assert_eq!(empty.cache_hit_ratio, None);
    }
}
