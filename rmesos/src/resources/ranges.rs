//! `Ranges`: a set of integers held as sorted inclusive intervals, the Mesos
//! value type of `ports:[31000-32000,33000-34000]`.
//!
//! The intervals are kept sorted, disjoint and coalesced (`[1-2,3-4]` is
//! stored as `[1-4]`), so that equal sets have equal representations and the
//! set operations below are single linear merges.

use std::fmt;

/// Most intervals accepted in one parsed value: 4096 (a slave offering every
/// other port of a range is already absurd; the bound keeps a hostile string
/// from costing quadratic time).
pub const MAX_RANGES: usize = 4096;

/// A set of `u64` as sorted, disjoint, non-adjacent inclusive intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ranges(Vec<(u64, u64)>);

/// Why a `[a-b,...]` string is not a valid set of ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangesError {
    /// Not enclosed in `[` `]`, an empty item, or a bound that is not a number.
    Syntax(String),
    /// `b < a` in `a-b`.
    Reversed { begin: u64, end: u64 },
    /// Two intervals share a value.
    Overlap { first: (u64, u64), second: (u64, u64) },
    /// More than [`MAX_RANGES`] intervals.
    TooMany,
}

impl Ranges {
    pub fn new() -> Ranges {
        Ranges(Vec::new())
    }

    /// The set holding every value of the given inclusive intervals, in any
    /// order, possibly overlapping (overlaps merge). Intervals with
    /// `end < begin` are ignored.
    pub fn from_intervals(intervals: impl IntoIterator<Item = (u64, u64)>) -> Ranges {
        let mut v: Vec<(u64, u64)> = intervals.into_iter().filter(|(b, e)| b <= e).collect();
        v.sort_unstable();
        Ranges(coalesce(v))
    }

    /// One interval `[begin-end]`; empty if `end < begin`.
    pub fn interval(begin: u64, end: u64) -> Ranges {
        Ranges::from_intervals([(begin, end)])
    }

    /// Parses `[a-b,c-d]` (whitespace tolerant; a lone `n` means `n-n`).
    /// Unlike [`Ranges::from_intervals`], overlapping or reversed intervals are
    /// errors: in a flag they are a typo worth reporting.
    pub fn parse(s: &str) -> Result<Ranges, RangesError> {
        let s = s.trim();
        let inner = s
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .ok_or_else(|| RangesError::Syntax("expected [begin-end,...]".to_string()))?;
        if inner.trim().is_empty() {
            return Ok(Ranges::new());
        }
        let mut v = Vec::new();
        for item in inner.split(',') {
            if v.len() == MAX_RANGES {
                return Err(RangesError::TooMany);
            }
            let item = item.trim();
            let (b, e) = match item.split_once('-') {
                Some((b, e)) => (b.trim(), e.trim()),
                None => (item, item),
            };
            let num = |t: &str| {
                t.parse::<u64>()
                    .map_err(|_| RangesError::Syntax(format!("'{item}' is not begin-end with non-negative integers")))
            };
            let (b, e) = (num(b)?, num(e)?);
            if e < b {
                return Err(RangesError::Reversed { begin: b, end: e });
            }
            v.push((b, e));
        }
        v.sort_unstable();
        for w in v.windows(2) {
            if w[1].0 <= w[0].1 {
                return Err(RangesError::Overlap { first: w[0], second: w[1] });
            }
        }
        Ok(Ranges(coalesce(v)))
    }

    /// The intervals, sorted and disjoint.
    pub fn intervals(&self) -> &[(u64, u64)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many values the set holds.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|(b, e)| e - b + 1).fold(0u64, u64::saturating_add)
    }

    pub fn contains_value(&self, x: u64) -> bool {
        self.0.iter().any(|&(b, e)| b <= x && x <= e)
    }

    /// Whether every value of `other` is in `self`.
    pub fn contains(&self, other: &Ranges) -> bool {
        other.0.iter().all(|&(ob, oe)| self.0.iter().any(|&(b, e)| b <= ob && oe <= e))
    }

    /// The union of the two sets.
    pub fn union(&self, other: &Ranges) -> Ranges {
        Ranges::from_intervals(self.0.iter().chain(other.0.iter()).copied())
    }

    /// The values of `self` not in `other`.
    pub fn difference(&self, other: &Ranges) -> Ranges {
        let mut out = Vec::new();
        for &(b, e) in &self.0 {
            let mut cur = b;
            let mut done = false;
            for &(ob, oe) in &other.0 {
                if oe < cur || ob > e {
                    continue;
                }
                if ob > cur {
                    out.push((cur, ob - 1));
                }
                if oe >= e {
                    done = true;
                    break;
                }
                cur = oe + 1;
            }
            if !done {
                out.push((cur, e));
            }
        }
        Ranges(out)
    }
}

/// Merges overlapping and adjacent intervals of a sorted list.
fn coalesce(sorted: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(sorted.len());
    for (b, e) in sorted {
        match out.last_mut() {
            Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => out.push((b, e)),
        }
    }
    out
}

impl fmt::Display for Ranges {
    /// `[31000-32000,33000-34000]`, the form [`Ranges::parse`] reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, (b, e)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{b}-{e}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Ranges {
        Ranges::parse(s).unwrap()
    }

    #[test]
    fn parses_and_displays() {
        assert_eq!(r("[31000-32000]").intervals(), &[(31000, 32000)]);
        assert_eq!(r(" [ 21000 - 24000 , 30000-34000 ] ").to_string(), "[21000-24000,30000-34000]");
        assert_eq!(r("[30000-34000,21000-24000]").intervals(), &[(21000, 24000), (30000, 34000)]);
        assert_eq!(r("[1-2,3-4]").to_string(), "[1-4]");
        assert_eq!(r("[80]").to_string(), "[80-80]");
        assert!(r("[]").is_empty());
        assert_eq!(r("[1-10,20-20]").count(), 11);
    }

    #[test]
    fn rejects_bad_ranges() {
        assert!(matches!(Ranges::parse("31000-32000"), Err(RangesError::Syntax(_))));
        assert!(matches!(Ranges::parse("[31000-32000"), Err(RangesError::Syntax(_))));
        assert!(matches!(Ranges::parse("[a-b]"), Err(RangesError::Syntax(_))));
        assert!(matches!(Ranges::parse("[-1-5]"), Err(RangesError::Syntax(_))));
        assert!(matches!(Ranges::parse("[1-2,]"), Err(RangesError::Syntax(_))));
        assert_eq!(Ranges::parse("[5-1]"), Err(RangesError::Reversed { begin: 5, end: 1 }));
        assert_eq!(Ranges::parse("[1-10,5-20]"), Err(RangesError::Overlap { first: (1, 10), second: (5, 20) }));
        let many = format!("[{}]", (0..=MAX_RANGES as u64).map(|i| format!("{}", i * 2)).collect::<Vec<_>>().join(","));
        assert_eq!(Ranges::parse(&many), Err(RangesError::TooMany));
    }

    #[test]
    fn set_operations() {
        let a = r("[1-10,20-30]");
        assert_eq!(a.difference(&r("[5-25]")), r("[1-4,26-30]"));
        assert_eq!(a.difference(&r("[0-100]")), Ranges::new());
        assert_eq!(a.difference(&r("[11-19]")), a);
        assert_eq!(a.difference(&r("[1-1,10-10,30-30]")), r("[2-9,20-29]"));
        assert_eq!(a.union(&r("[11-19]")), r("[1-30]"));
        assert!(a.contains(&r("[2-3,25-30]")));
        assert!(!a.contains(&r("[9-11]")));
        assert!(a.contains(&Ranges::new()));
        assert!(a.contains_value(20) && !a.contains_value(15));
        assert_eq!(Ranges::interval(0, u64::MAX).difference(&r("[0-0]")).intervals(), &[(1, u64::MAX)]);
        assert_eq!(Ranges::from_intervals([(5, 1), (3, 4)]), r("[3-4]"));
    }
}
