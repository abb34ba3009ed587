//! Durations in Mesos's flag syntax: `15secs`, `10mins`, `500ms`, `2hrs`,
//! `1days`, `1weeks`, `100us`, `1ns`, plus the short forms `15s`, `10m`,
//! `1h`, `1d`, `1w`. Fractions are allowed (`1.5mins`), whitespace before the
//! unit too (`15 secs`).
//!
//! A unit is required: Mesos refuses `--agent_ping_timeout=15`, and so does
//! rmesos, because a bare number is ambiguous (seconds? milliseconds?) and a
//! wrong guess turns a 15 s timeout into 15 ms. The error says how to fix it.
//!
//! [`format_duration`] prints the Mesos long form with the largest unit that
//! divides the duration exactly (`90secs`, `10mins`, `1500ms`), so the text
//! always parses back to the same duration (Mesos would print `1.5mins`).
//! [`parse_duration`] fits clap's `value_parser`:
//!
//! ```
//! # use std::time::Duration;
//! assert_eq!(rmesos::duration::parse_duration("15secs").unwrap(), Duration::from_secs(15));
//! assert_eq!(rmesos::duration::format_duration(Duration::from_secs(600)), "10mins");
//! ```

use std::time::Duration;

const NS: u64 = 1;
const US: u64 = 1_000;
const MS: u64 = 1_000_000;
const SEC: u64 = 1_000_000_000;
const MIN: u64 = 60 * SEC;
const HOUR: u64 = 60 * MIN;
const DAY: u64 = 24 * HOUR;
const WEEK: u64 = 7 * DAY;

/// Accepted unit spellings and their length in nanoseconds.
const UNITS: &[(&str, u64)] = &[
    ("ns", NS),
    ("us", US),
    ("ms", MS),
    ("secs", SEC),
    ("s", SEC),
    ("mins", MIN),
    ("m", MIN),
    ("hrs", HOUR),
    ("h", HOUR),
    ("days", DAY),
    ("d", DAY),
    ("weeks", WEEK),
    ("w", WEEK),
];

/// The long forms used for display, largest first.
const DISPLAY_UNITS: &[(&str, u64)] =
    &[("weeks", WEEK), ("days", DAY), ("hrs", HOUR), ("mins", MIN), ("secs", SEC), ("ms", MS), ("us", US), ("ns", NS)];

/// Why a duration string is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration: expected a number and a unit, e.g. 15secs")]
    Empty,
    #[error("duration '{0}' has no unit: write e.g. {0}secs or {0}ms (units: ns us ms secs mins hrs days weeks, or s m h d w)")]
    MissingUnit(String),
    #[error("duration '{input}': unknown unit '{unit}' (units: ns us ms secs mins hrs days weeks, or s m h d w)")]
    UnknownUnit { input: String, unit: String },
    #[error("duration '{0}' does not start with a number")]
    BadNumber(String),
    #[error("duration '{0}' is negative")]
    Negative(String),
    #[error("duration '{0}' is too large")]
    TooLarge(String),
}

/// Parses a Mesos duration (see the module doc).
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s.starts_with('-') {
        return Err(DurationError::Negative(s.to_string()));
    }
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = (&s[..split], s[split..].trim());
    let value: f64 = number.parse().map_err(|_| DurationError::BadNumber(s.to_string()))?;
    if unit.is_empty() {
        return Err(DurationError::MissingUnit(number.to_string()));
    }
    let ns_per = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, n)| *n)
        .ok_or_else(|| DurationError::UnknownUnit { input: s.to_string(), unit: unit.to_string() })?;
    let ns = value * ns_per as f64;
    if !ns.is_finite() || ns >= u64::MAX as f64 {
        return Err(DurationError::TooLarge(s.to_string()));
    }
    Ok(Duration::from_nanos(ns.round() as u64))
}

/// Mesos's long form with the largest exact unit: `15secs`, `10mins`, `0ns`.
/// Durations beyond `u64` nanoseconds (584 years) print in whole seconds.
pub fn format_duration(d: Duration) -> String {
    let Ok(ns) = u64::try_from(d.as_nanos()) else {
        return format!("{}secs", d.as_secs());
    };
    if ns == 0 {
        return "0ns".to_string();
    }
    let (name, per) = DISPLAY_UNITS.iter().find(|(_, per)| ns % per == 0).copied().unwrap_or(("ns", NS));
    format!("{}{name}", ns / per)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_mesos_unit() {
        let cases = [
            ("15secs", Duration::from_secs(15)),
            ("10mins", Duration::from_secs(600)),
            ("500ms", Duration::from_millis(500)),
            ("2hrs", Duration::from_secs(7200)),
            ("1days", Duration::from_secs(86_400)),
            ("1weeks", Duration::from_secs(604_800)),
            ("100us", Duration::from_micros(100)),
            ("1ns", Duration::from_nanos(1)),
            ("15s", Duration::from_secs(15)),
            ("10m", Duration::from_secs(600)),
            ("1h", Duration::from_secs(3600)),
            ("1d", Duration::from_secs(86_400)),
            ("2w", Duration::from_secs(1_209_600)),
            ("1.5mins", Duration::from_secs(90)),
            (" 15 secs ", Duration::from_secs(15)),
            ("0secs", Duration::ZERO),
            ("0.5s", Duration::from_millis(500)),
        ];
        for (s, d) in cases {
            assert_eq!(parse_duration(s), Ok(d), "{s}");
        }
    }

    #[test]
    fn rejects_with_clear_errors() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("15"), Err(DurationError::MissingUnit("15".into())));
        assert!(parse_duration("15").unwrap_err().to_string().contains("15secs"));
        assert!(matches!(parse_duration("15parsecs"), Err(DurationError::UnknownUnit { .. })));
        assert!(matches!(parse_duration("15 SECS"), Err(DurationError::UnknownUnit { .. })));
        assert!(matches!(parse_duration("secs"), Err(DurationError::BadNumber(_))));
        assert!(matches!(parse_duration("1.2.3s"), Err(DurationError::BadNumber(_))));
        assert!(matches!(parse_duration("-5secs"), Err(DurationError::Negative(_))));
        assert!(matches!(parse_duration("1000000weeks"), Err(DurationError::TooLarge(_))));
    }

    #[test]
    fn formats_in_the_largest_exact_unit_and_round_trips() {
        let cases = [
            (Duration::from_secs(15), "15secs"),
            (Duration::from_secs(600), "10mins"),
            (Duration::from_secs(90), "90secs"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_secs(3600), "1hrs"),
            (Duration::from_secs(86_400 * 8), "8days"),
            (Duration::from_secs(604_800), "1weeks"),
            (Duration::from_nanos(1001), "1001ns"),
            (Duration::ZERO, "0ns"),
        ];
        for (d, s) in cases {
            assert_eq!(format_duration(d), s);
            assert_eq!(parse_duration(s), Ok(d));
        }
        assert_eq!(format_duration(Duration::from_secs(u64::MAX)), format!("{}secs", u64::MAX));
    }
}
