//! A client's `requests_per_minute`, as the generic cell rate algorithm (GCRA).
//!
//! One instant per client, the *theoretical arrival time*: each admitted request pushes it one
//! emission interval (a minute divided by the rate) further. A request is admitted while that
//! instant is less than a burst's worth of intervals ahead of now, so a client may send its
//! whole minute's allowance at once, then one more each interval. This is a token bucket
//! kept in one number: no timer, no refill task, exact under any arrival pattern.

use std::num::NonZeroU32;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// The rate limit of one client.
#[derive(Debug)]
pub struct RateLimiter {
    /// A minute divided by the rate.
    interval: Duration,
    /// How far ahead of now the arrival time may run: the burst less one interval.
    tolerance: Duration,
    tat: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// `per_minute` requests a minute, all of them at once if the client likes.
    pub fn per_minute(per_minute: NonZeroU32) -> Self {
        let interval = Duration::from_secs(60) / per_minute.get();
        Self {
            interval,
            tolerance: interval * (per_minute.get() - 1),
            tat: Mutex::new(None),
        }
    }

    /// Admits one request at `now`, or says how long until one would be admitted.
    pub fn admit(&self, now: Instant) -> Result<(), Duration> {
        let mut tat = self.tat.lock();
        let arrival = tat.map_or(now, |t| t.max(now));
        let ahead = arrival.saturating_duration_since(now);
        if ahead > self.tolerance {
            return Err(ahead.saturating_sub(self.tolerance));
        }
        *tat = Some(arrival + self.interval);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minutes_allowance_passes_at_once_then_one_per_interval() {
        let limiter = RateLimiter::per_minute(NonZeroU32::new(5).unwrap());
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(limiter.admit(start), Ok(()));
        }
        // The sixth within the minute waits one interval (12 s).
        assert_eq!(limiter.admit(start), Err(Duration::from_secs(12)));
        let later = start + Duration::from_secs(5);
        assert_eq!(limiter.admit(later), Err(Duration::from_secs(7)));
        let after = start + Duration::from_secs(12);
        assert_eq!(limiter.admit(after), Ok(()));
        assert!(limiter.admit(after).is_err());
        // A quiet minute restores the whole allowance, and no more.
        let quiet = after + Duration::from_secs(60);
        for _ in 0..5 {
            assert_eq!(limiter.admit(quiet), Ok(()));
        }
        assert!(limiter.admit(quiet).is_err());
    }

    #[test]
    fn a_rate_of_one_admits_one_a_minute() {
        let limiter = RateLimiter::per_minute(NonZeroU32::MIN);
        let start = Instant::now();
        assert_eq!(limiter.admit(start), Ok(()));
        assert_eq!(limiter.admit(start), Err(Duration::from_secs(60)));
        assert_eq!(limiter.admit(start + Duration::from_secs(60)), Ok(()));
    }
}
