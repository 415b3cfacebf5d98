//! Durations in the config: a number of seconds (`60`, `1.5`) or text with units (`"90s"`,
//! `"2m"`, `"1h30m"`, `"500ms"`, `"90d"`).
//!
//! A duration must be more than zero: a zero cooldown or timeout is always a mistake.

use std::time::Duration;

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error(
        "expected a number of seconds or a duration such as \"90s\", \"2m\" or \"1h30m\", found {0:?}"
    )]
    Invalid(String),
    #[error("must be more than zero, found {0:?}")]
    NotPositive(String),
    #[error("is too long, found {0:?}")]
    TooLong(String),
}

/// Parses `text` as a positive duration.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    let invalid = || DurationError::Invalid(text.to_owned());
    if trimmed.starts_with('-') {
        return Err(DurationError::NotPositive(text.to_owned()));
    }
    let seconds = if let Ok(n) = trimmed.parse::<f64>() {
        if !n.is_finite() {
            return Err(invalid());
        }
        n
    } else {
        with_units(trimmed).ok_or_else(invalid)?
    };
    if seconds <= 0.0 {
        return Err(DurationError::NotPositive(text.to_owned()));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| DurationError::TooLong(text.to_owned()))
}

/// Parses `text` as a duration that may be zero (`0` turns something off), never negative.
pub fn parse_or_zero(text: &str) -> Result<Duration, DurationError> {
    match parse(text) {
        Err(DurationError::NotPositive(_)) if !text.trim().starts_with('-') => Ok(Duration::ZERO),
        other => other,
    }
}

/// Sums `1h30m`-style parts into seconds; `None` when the text is not of that form.
fn with_units(text: &str) -> Option<f64> {
    let mut rest = text;
    let mut total = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    total.is_finite().then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn ok(text: &str, millis: u64) {
        assert_eq!(parse(text), Ok(Duration::from_millis(millis)), "{text}");
    }

    #[track_caller]
    fn err(text: &str, expect: &str) {
        assert_eq!(parse(text).unwrap_err().to_string(), expect, "{text}");
    }

    #[test]
    fn accepted() {
        ok("60", 60_000);
        ok("1.5", 1_500);
        ok("90s", 90_000);
        ok("2m", 120_000);
        ok("1h30m", 5_400_000);
        ok("1m30s", 90_000);
        ok("500ms", 500);
        ok("90d", 90 * 86_400_000);
        ok(" 30 ", 30_000);
    }

    #[test]
    fn refused() {
        err("0", "must be more than zero, found \"0\"");
        err("-5", "must be more than zero, found \"-5\"");
        err("0s", "must be more than zero, found \"0s\"");
        err("-1m", "must be more than zero, found \"-1m\"");
        assert_eq!(parse_or_zero("0"), Ok(Duration::ZERO));
        assert_eq!(parse_or_zero("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_or_zero("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(
            parse_or_zero("-1"),
            Err(DurationError::NotPositive("-1".to_owned()))
        );
        assert!(matches!(
            parse_or_zero("soon"),
            Err(DurationError::Invalid(_))
        ));
        err(
            "soon",
            "expected a number of seconds or a duration such as \"90s\", \"2m\" or \"1h30m\", found \"soon\"",
        );
        err(
            "10 parsecs",
            "expected a number of seconds or a duration such as \"90s\", \"2m\" or \"1h30m\", found \"10 parsecs\"",
        );
        err(
            "",
            "expected a number of seconds or a duration such as \"90s\", \"2m\" or \"1h30m\", found \"\"",
        );
        err(
            "inf",
            "expected a number of seconds or a duration such as \"90s\", \"2m\" or \"1h30m\", found \"inf\"",
        );
        err("1e300", "is too long, found \"1e300\"");
    }
}
