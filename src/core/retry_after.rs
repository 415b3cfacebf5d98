//! Parsing an upstream's `retry-after` (and `retry-after-ms`) header into a bounded delay.
//!
//! `retry-after` is either delay-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`,
//! RFC 9110 10.2.3). Some OpenAI-compatible upstreams send a fractional number of seconds, so a
//! plain decimal (`1.5`) is accepted too. `retry-after-ms` (milliseconds, sent by `OpenAI` and
//! honoured by the Anthropic SDKs) is more precise and wins when both are present.
//!
//! Every result is capped at [`MAX`]: a provider asking for a day of silence must not take itself
//! out of the pool for a day because of one header. An HTTP-date in the past means "now"
//! (`Duration::ZERO`). A value that is neither form is ignored (`None`), never an error: a bad
//! header from an upstream must not fail a request that can still fail over.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue};

/// The longest delay any `retry-after` value can produce.
pub const MAX: Duration = Duration::from_secs(60 * 60);

/// The delay a `retry-after` header value asks for, capped at [`MAX`].
///
/// `now_system` is the wall-clock time an HTTP-date is measured from.
pub fn parse(value: &HeaderValue, now_system: SystemTime) -> Option<Duration> {
    parse_str(value.to_str().ok()?, now_system)
}

/// Like [`parse`], for a value that is already a string.
pub fn parse_str(value: &str, now_system: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Some(delay) = decimal(value, 1.0) {
        return Some(delay);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    let delay = date.duration_since(now_system).unwrap_or(Duration::ZERO);
    Some(delay.min(MAX))
}

/// The delay a `retry-after-ms` header value (milliseconds, possibly fractional) asks for, capped.
pub fn parse_ms(value: &HeaderValue) -> Option<Duration> {
    decimal(value.to_str().ok()?.trim(), 1e-3)
}

/// The delay an upstream response's headers ask for: `retry-after-ms` first, then `retry-after`.
///
/// A header that is present but unreadable is skipped, as if it were absent.
pub fn from_headers(headers: &HeaderMap, now_system: SystemTime) -> Option<Duration> {
    headers
        .get("retry-after-ms")
        .and_then(parse_ms)
        .or_else(|| {
            headers
                .get(http::header::RETRY_AFTER)
                .and_then(|v| parse(v, now_system))
        })
}

/// A non-negative decimal number (`12`, `0.5`) times `unit` seconds, capped at [`MAX`].
///
/// Only ASCII digits and at most one dot are accepted, so `-1`, `1e3`, `inf` and `NaN` are not
/// numbers here.
fn decimal(value: &str, unit: f64) -> Option<Duration> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let valid = match value.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(value),
    };
    if !valid {
        return None;
    }
    let number: f64 = value.parse().ok()?;
    // A number too large for a `Duration` is still a valid request for "a long time".
    Some(Duration::try_from_secs_f64(number * unit).map_or(MAX, |d| d.min(MAX)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A panic in a test is a failure with its location.
mod tests {
    use super::*;

    /// 2026-11-27 22:00:00 UTC, a fixed wall clock for HTTP-date cases.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_816_800)
    }

    #[track_caller]
    fn check(value: &str, expect: Option<Duration>) {
        assert_eq!(parse_str(value, now()), expect, "retry-after: {value:?}");
        let header = HeaderValue::from_str(value).unwrap();
        assert_eq!(
            parse(&header, now()),
            expect,
            "retry-after header: {value:?}"
        );
    }

    #[allow(clippy::unnecessary_wraps)] // It reads as the expected value in the tables below.
    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn clock_is_what_the_dates_below_assume() {
        assert_eq!(
            httpdate::fmt_http_date(now()),
            "Fri, 27 Nov 2026 22:00:00 GMT"
        );
    }

    #[test]
    fn delay_seconds() {
        check("0", secs(0));
        check("1", secs(1));
        check("120", secs(120));
        check(" 30 ", secs(30));
        check("3600", secs(3600));
        check("3601", Some(MAX));
        check("99999999999999999999999999", Some(MAX));
        check("1.5", Some(Duration::from_millis(1500)));
        check("0.25", Some(Duration::from_millis(250)));
    }

    #[test]
    fn http_date() {
        check("Fri, 27 Nov 2026 22:00:30 GMT", secs(30));
        check("Fri, 27 Nov 2026 22:00:00 GMT", secs(0));
        check("Fri, 27 Nov 2026 21:00:00 GMT", secs(0));
        check("Fri, 27 Nov 2026 23:30:00 GMT", Some(MAX));
        // The obsolete RFC 850 and asctime forms are still HTTP-dates.
        check("Friday, 27-Nov-26 22:01:00 GMT", secs(60));
        check("Fri Nov 27 22:02:00 2026", secs(120));
    }

    #[test]
    fn garbage_is_ignored() {
        for value in [
            "",
            "-1",
            "+5",
            "1e3",
            "inf",
            "NaN",
            ".5",
            "5.",
            "1.2.3",
            "soon",
            "30s",
            "0x10",
            "Fri, 32 Nov 2026 22:00:00 GMT",
        ] {
            check(value, None);
        }
    }

    #[test]
    fn non_ascii_header_is_ignored() {
        let header = HeaderValue::from_bytes(b"\xff30").unwrap();
        assert_eq!(parse(&header, now()), None);
        assert_eq!(parse_ms(&header), None);
    }

    #[test]
    fn milliseconds_header_wins() {
        let mut headers = HeaderMap::new();
        assert_eq!(from_headers(&headers, now()), None);
        headers.insert("retry-after", HeaderValue::from_static("20"));
        assert_eq!(from_headers(&headers, now()), secs(20));
        headers.insert("retry-after-ms", HeaderValue::from_static("1500.5"));
        assert_eq!(
            from_headers(&headers, now()),
            Some(Duration::from_micros(1_500_500))
        );
        headers.insert("retry-after-ms", HeaderValue::from_static("later"));
        assert_eq!(
            from_headers(&headers, now()),
            secs(20),
            "a bad -ms falls back"
        );
        headers.insert("retry-after-ms", HeaderValue::from_static("999999999"));
        assert_eq!(from_headers(&headers, now()), Some(MAX));
    }
}
