//! The text form of [`Resources`]: `cpus:4;mem:2048;ports:[31000-32000]`.
//!
//! Items are `name:value` separated by `;` (whitespace around anything is
//! ignored, an empty item such as a trailing `;` is skipped). A value is a
//! number (a scalar, rounded to 0.001) or `[a-b,c-d]` (ranges). `name(*)` is
//! accepted for Mesos compatibility (`*` is the only role rmesos knows).
//! Every mistake is a [`ResourcesError`] that names the offending item, so a
//! bad `--resources` flag produces one line that says what to fix.

use std::fmt;

use super::ranges::{Ranges, RangesError};
use super::scalar::{Scalar, ScalarError, MAX_SCALAR};
use super::{Resources, CPUS, DISK, MEM, PORTS};

/// Most distinct resource names in one parsed string: 128.
pub const MAX_RESOURCE_NAMES: usize = 128;

/// Why a `--resources` string (or a value for one resource) is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourcesError {
    #[error("resource '{item}' is not name:value (e.g. cpus:4;mem:2048;ports:[31000-32000])")]
    UnknownFormat { item: String },
    #[error("resource name '{name}' must be non-empty letters, digits, '_', '.' or '-'")]
    BadName { name: String },
    #[error("resource '{name}': '{value}' is not a number")]
    BadScalar { name: String, value: String },
    #[error("resource '{name}': {value} is negative")]
    Negative { name: String, value: String },
    #[error("resource '{name}': '{value}' is not a finite number")]
    NotFinite { name: String, value: String },
    #[error("resource '{name}': {value} is larger than {MAX_SCALAR}")]
    TooLarge { name: String, value: String },
    #[error("resource '{name}': '{value}' is not a range list: {reason}")]
    BadRanges { name: String, value: String, reason: String },
    #[error("resource '{name}': range {begin}-{end} ends before it begins")]
    ReversedRange { name: String, begin: u64, end: u64 },
    #[error("resource '{name}': ranges {}-{} and {}-{} overlap", .first.0, .first.1, .second.0, .second.1)]
    OverlappingRanges { name: String, first: (u64, u64), second: (u64, u64) },
    #[error("resource '{name}' is given more than once")]
    Duplicate { name: String },
    #[error("resource '{name}' must be {expected} (e.g. cpus:4, ports:[31000-32000])")]
    WrongKind { name: String, expected: &'static str },
    #[error("resource '{name}': set values {{a,b}} are not supported")]
    UnsupportedSet { name: String },
    #[error("resource '{name}': role '{role}' is not supported (only '*')")]
    UnsupportedRole { name: String, role: String },
    #[error("more than {MAX_RESOURCE_NAMES} resources")]
    TooMany,
}

pub(super) fn parse(s: &str) -> Result<Resources, ResourcesError> {
    let mut out = Resources::new();
    let mut seen = std::collections::BTreeSet::new();
    for item in s.split(';').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, value) =
            item.split_once(':').ok_or_else(|| ResourcesError::UnknownFormat { item: item.to_string() })?;
        let name = strip_role(name.trim())?;
        validate_name(name)?;
        if !seen.insert(name.to_string()) {
            return Err(ResourcesError::Duplicate { name: name.to_string() });
        }
        if seen.len() > MAX_RESOURCE_NAMES {
            return Err(ResourcesError::TooMany);
        }
        let value = value.trim();
        if value.starts_with('[') {
            if [CPUS, MEM, DISK].contains(&name) {
                return Err(ResourcesError::WrongKind { name: name.to_string(), expected: "a number" });
            }
            out.set_ranges(name, ranges_value(name, value)?);
        } else if value.starts_with('{') {
            return Err(ResourcesError::UnsupportedSet { name: name.to_string() });
        } else {
            if name == PORTS {
                return Err(ResourcesError::WrongKind { name: name.to_string(), expected: "ranges [begin-end,...]" });
            }
            let v: f64 = value
                .parse()
                .map_err(|_| ResourcesError::BadScalar { name: name.to_string(), value: value.to_string() })?;
            out.set_scalar(name, scalar_value(name, v, value)?);
        }
    }
    Ok(out)
}

/// `cpus(*)` -> `cpus`; any other role is refused.
fn strip_role(name: &str) -> Result<&str, ResourcesError> {
    match name.split_once('(') {
        None => Ok(name),
        Some((base, rest)) => match rest.strip_suffix(')') {
            Some("*") => Ok(base.trim()),
            Some(role) => Err(ResourcesError::UnsupportedRole { name: base.to_string(), role: role.to_string() }),
            None => Err(ResourcesError::BadName { name: name.to_string() }),
        },
    }
}

pub(super) fn validate_name(name: &str) -> Result<(), ResourcesError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if name.is_empty() || !name.chars().all(ok) {
        return Err(ResourcesError::BadName { name: name.to_string() });
    }
    Ok(())
}

/// A scalar for resource `name` from `v` (`text` is what the user wrote, for
/// the error message).
pub(super) fn scalar_value(name: &str, v: f64, text: &str) -> Result<Scalar, ResourcesError> {
    let (name, value) = (name.to_string(), text.to_string());
    Scalar::from_f64(v).map_err(|e| match e {
        ScalarError::Negative => ResourcesError::Negative { name, value },
        ScalarError::NotFinite => ResourcesError::NotFinite { name, value },
        ScalarError::TooLarge => ResourcesError::TooLarge { name, value },
    })
}

pub(super) fn ranges_value(name: &str, value: &str) -> Result<Ranges, ResourcesError> {
    let name = name.to_string();
    Ranges::parse(value).map_err(|e| match e {
        RangesError::Syntax(reason) => ResourcesError::BadRanges { name, value: value.to_string(), reason },
        RangesError::TooMany => ResourcesError::BadRanges {
            name,
            value: format!("{}...", value.chars().take(32).collect::<String>()),
            reason: format!("more than {} ranges", super::MAX_RANGES),
        },
        RangesError::Reversed { begin, end } => ResourcesError::ReversedRange { name, begin, end },
        RangesError::Overlap { first, second } => ResourcesError::OverlappingRanges { name, first, second },
    })
}

impl fmt::Display for Resources {
    /// `cpus:4;disk:1000;mem:2048;ports:[31000-32000]` (scalars then ranges,
    /// each by name), which [`Resources::parse`] reads back to an equal value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| {
            let r = if first { Ok(()) } else { f.write_str(";") };
            first = false;
            r
        };
        for (name, v) in self.scalars() {
            sep(f)?;
            write!(f, "{name}:{v}")?;
        }
        for (name, r) in self.all_ranges() {
            sep(f)?;
            write!(f, "{name}:{r}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Resources {
    type Err = ResourcesError;
    fn from_str(s: &str) -> Result<Resources, ResourcesError> {
        parse(s)
    }
}
