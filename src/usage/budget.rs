//! Budgets: running totals per client (tokens today, USD this month, both in UTC), seeded from
//! the ledger when `serve` starts and kept in memory, so a budget spent before a restart stays
//! spent and checking one costs a short lock, not a query.

use std::collections::HashMap;

use parking_lot::Mutex;

use super::Row;
use super::report::Spent;
use super::time;

pub use crate::config::clients::Budget;

/// Which budget is spent, how much, and when it resets.
#[derive(Clone, Debug, PartialEq)]
pub enum Exceeded {
    TokensPerDay {
        limit: u64,
        spent: u64,
        resets_ms: i64,
    },
    UsdPerMonth {
        limit: f64,
        spent: f64,
        resets_ms: i64,
    },
}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TokensPerDay {
                limit,
                spent,
                resets_ms,
            } => write!(
                f,
                "the daily token budget of this client is spent: {spent} of {limit} tokens used today; it resets at {}",
                time::format_minute(*resets_ms)
            ),
            Self::UsdPerMonth {
                limit,
                spent,
                resets_ms,
            } => write!(
                f,
                "the monthly budget of this client is spent: ${spent:.2} of ${limit:.2} used this month; it resets at {}",
                time::format_minute(*resets_ms)
            ),
        }
    }
}

/// One client's running totals and the period they count in.
#[derive(Clone, Copy, Debug, Default)]
struct Totals {
    day_start_ms: i64,
    tokens_today: u64,
    month_start_ms: i64,
    usd_this_month: f64,
}

impl Totals {
    /// Starts a new day or month when `now_ms` is past the one counted.
    fn roll(&mut self, now_ms: i64) {
        let day = time::day_start(now_ms);
        if day != self.day_start_ms {
            self.day_start_ms = day;
            self.tokens_today = 0;
        }
        let month = time::month_start(now_ms);
        if month != self.month_start_ms {
            self.month_start_ms = month;
            self.usd_this_month = 0.0;
        }
    }
}

/// Told of what each finished request of a client adds to its totals, when replicas share
/// budget counters; it must not block.
pub trait SpendObserver: Send + Sync + std::fmt::Debug {
    fn spent(&self, client: &str, added: &Spent, day_start_ms: i64, month_start_ms: i64);
}

/// Running totals for every client.
#[derive(Debug, Default)]
pub struct Tracker {
    clients: Mutex<HashMap<String, Totals>>,
    observer: std::sync::OnceLock<std::sync::Arc<dyn SpendObserver>>,
}

impl Tracker {
    /// Totals seeded from what the ledger says each client spent today and this month (as of
    /// `now_ms`).
    pub fn seeded(spent: &[Spent], now_ms: i64) -> Self {
        let mut clients = HashMap::new();
        for s in spent {
            let mut totals = Totals::default();
            totals.roll(now_ms);
            totals.tokens_today = s.tokens_today;
            totals.usd_this_month = s.usd_this_month;
            clients.insert(s.client.clone(), totals);
        }
        Self {
            clients: Mutex::new(clients),
            observer: std::sync::OnceLock::new(),
        }
    }

    /// Tells `observer` of every request counted from now on; a tracker has at most one.
    pub fn observe(&self, observer: std::sync::Arc<dyn SpendObserver>) {
        let _ = self.observer.set(observer);
    }

    /// Raises `client`'s totals to what all replicas together spent in the day and month
    /// that start at `day_start_ms` and `month_start_ms` (totals of another period are left
    /// as they are). Totals only grow within a period, so the larger count is the truer one.
    pub fn raise(&self, shared: &Spent, day_start_ms: i64, month_start_ms: i64, now_ms: i64) {
        let mut clients = self.clients.lock();
        let totals = clients.entry(shared.client.clone()).or_default();
        totals.roll(now_ms);
        if totals.day_start_ms == day_start_ms {
            totals.tokens_today = totals.tokens_today.max(shared.tokens_today);
        }
        if totals.month_start_ms == month_start_ms {
            totals.usd_this_month = totals.usd_this_month.max(shared.usd_this_month);
        }
    }

    /// Counts a finished request of a client (a row with no client counts for no budget).
    pub fn add(&self, row: &Row) {
        self.add_at(row, time::now_ms());
    }

    fn add_at(&self, row: &Row, now_ms: i64) {
        let Some(client) = &row.client else { return };
        let tokens = row.tokens.total();
        let usd = row.cost_usd.unwrap_or(0.0);
        let add = |totals: &mut Totals| {
            totals.roll(now_ms);
            totals.tokens_today = totals.tokens_today.saturating_add(tokens);
            totals.usd_this_month += usd;
            (totals.day_start_ms, totals.month_start_ms)
        };
        let (day_start_ms, month_start_ms) = {
            let mut clients = self.clients.lock();
            // The name is copied only for a client seen for the first time.
            if let Some(totals) = clients.get_mut(client.as_str()) {
                add(totals)
            } else {
                let mut totals = Totals::default();
                let periods = add(&mut totals);
                clients.insert(client.clone(), totals);
                periods
            }
        };
        if let Some(observer) = self.observer.get() {
            let added = Spent {
                client: client.clone(),
                tokens_today: tokens,
                usd_this_month: usd,
            };
            observer.spent(client, &added, day_start_ms, month_start_ms);
        }
    }

    /// Whether `client` may send a request now: `Err` with the first budget it has spent.
    pub fn check(&self, client: &str, budget: &Budget, now_ms: i64) -> Result<(), Exceeded> {
        let mut clients = self.clients.lock();
        // A client with nothing counted yet has spent nothing: no entry is made for it.
        let mut nothing = Totals::default();
        let totals = clients.get_mut(client).unwrap_or(&mut nothing);
        totals.roll(now_ms);
        if let Some(limit) = budget.tokens_per_day {
            if totals.tokens_today >= limit {
                return Err(Exceeded::TokensPerDay {
                    limit,
                    spent: totals.tokens_today,
                    resets_ms: time::next_day(now_ms),
                });
            }
        }
        if let Some(limit) = budget.usd_per_month {
            if totals.usd_this_month >= limit {
                return Err(Exceeded::UsdPerMonth {
                    limit,
                    spent: totals.usd_this_month,
                    resets_ms: time::next_month(now_ms),
                });
            }
        }
        Ok(())
    }

    /// What `client` has spent: tokens today and USD this month, as of `now_ms`.
    pub fn spent(&self, client: &str, now_ms: i64) -> (u64, f64) {
        let mut clients = self.clients.lock();
        let Some(totals) = clients.get_mut(client) else {
            return (0, 0.0);
        };
        totals.roll(now_ms);
        (totals.tokens_today, totals.usd_this_month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::price::Tokens;

    fn row(client: &str, tokens: u64, cost: Option<f64>) -> Row {
        Row {
            time_ms: 0,
            request_id: "req".to_owned(),
            client: Some(client.to_owned()),
            route: None,
            provider: Some("a".to_owned()),
            failed_providers: Vec::new(),
            model: "m".to_owned(),
            upstream_model: None,
            stream: false,
            status: 200,
            tokens: Tokens {
                input: tokens,
                ..Tokens::default()
            },
            first_token_ms: None,
            total_ms: 1,
            cost_usd: cost,
        }
    }

    #[test]
    fn a_daily_token_budget_is_spent_then_resets_at_utc_midnight() {
        let day = time::parse_date("2026-12-06").unwrap();
        let noon = day + 12 * 3_600_000;
        let tracker = Tracker::default();
        let budget = Budget {
            tokens_per_day: Some(1000),
            usd_per_month: None,
        };
        tracker.add_at(&row("alice", 600, None), noon);
        assert_eq!(tracker.check("alice", &budget, noon), Ok(()));
        tracker.add_at(&row("alice", 400, None), noon);
        let exceeded = tracker.check("alice", &budget, noon).unwrap_err();
        assert_eq!(
            exceeded,
            Exceeded::TokensPerDay {
                limit: 1000,
                spent: 1000,
                resets_ms: day + 86_400_000
            }
        );
        assert!(
            exceeded.to_string().contains("1000 of 1000 tokens"),
            "{exceeded}"
        );
        assert!(
            exceeded.to_string().contains("2026-12-07 00:00Z"),
            "{exceeded}"
        );
        assert_eq!(tracker.check("bob", &budget, noon), Ok(()));
        assert_eq!(tracker.check("alice", &budget, day + 86_400_000), Ok(()));
    }

    #[test]
    fn a_monthly_usd_budget_counts_costs_across_days_and_resets_with_the_month() {
        let first = time::parse_date("2026-12-01").unwrap();
        let later = time::parse_date("2026-12-20").unwrap();
        let tracker = Tracker::default();
        let budget = Budget {
            usd_per_month: Some(10.0),
            tokens_per_day: None,
        };
        tracker.add_at(&row("alice", 1, Some(6.0)), first);
        tracker.add_at(&row("alice", 1, None), later);
        assert_eq!(tracker.check("alice", &budget, later), Ok(()));
        tracker.add_at(&row("alice", 1, Some(4.5)), later);
        let exceeded = tracker.check("alice", &budget, later).unwrap_err();
        assert!(
            matches!(exceeded, Exceeded::UsdPerMonth { spent, resets_ms, .. } if (spent - 10.5).abs() < 1e-9 && resets_ms == time::parse_date("2027-01-01").unwrap()),
            "{exceeded:?}"
        );
        assert!(
            exceeded.to_string().contains("$10.50 of $10.00"),
            "{exceeded}"
        );
        assert_eq!(
            tracker.check("alice", &budget, time::parse_date("2027-01-01").unwrap()),
            Ok(())
        );
    }

    #[test]
    fn seeded_totals_carry_what_the_ledger_counted_before_a_restart() {
        let now = time::parse_date("2026-12-06").unwrap() + 3_600_000;
        let tracker = Tracker::seeded(
            &[Spent {
                client: "alice".to_owned(),
                tokens_today: 5000,
                usd_this_month: 2.5,
            }],
            now,
        );
        let budget = Budget {
            tokens_per_day: Some(5000),
            usd_per_month: None,
        };
        assert!(tracker.check("alice", &budget, now).is_err());
        assert_eq!(tracker.spent("alice", now), (5000, 2.5));
        tracker.add_at(&row("-", 10, None), now);
        assert_eq!(tracker.spent("nobody", now), (0, 0.0));
    }
}
