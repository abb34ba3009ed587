//! The event trace of a simulation: one line per simulated event, hashed.
//!
//! Every line goes into a running FNV-1a 64 hash (stable across Rust
//! versions and platforms, unlike `DefaultHasher`), so two runs with the same
//! seed can be compared by one number however long they are. Only the last
//! `MAX_TRACE_LINES` lines are kept, for printing when a test fails; the hash
//! covers all of them.

use std::collections::VecDeque;
use std::time::Duration;

/// Trace lines kept for display (the hash covers every line ever added).
pub const MAX_TRACE_LINES: usize = 100_000;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

pub(crate) struct Trace {
    lines: VecDeque<String>,
    hash: u64,
    count: u64,
}

impl Default for Trace {
    fn default() -> Self {
        Trace { lines: VecDeque::new(), hash: FNV_OFFSET, count: 0 }
    }
}

impl Trace {
    /// Appends `event` as it happened at simulated time `now`.
    pub(crate) fn push(&mut self, now: Duration, event: std::fmt::Arguments<'_>) {
        let line = format!("{:>9}.{:06} {event}", now.as_secs(), now.subsec_micros());
        for b in line.bytes().chain(std::iter::once(b'\n')) {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
        self.count += 1;
        if self.lines.len() == MAX_TRACE_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }

    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines.iter().cloned().collect()
    }

    pub(crate) fn tail(&self, n: usize) -> Vec<String> {
        self.lines.iter().skip(self.lines.len().saturating_sub(n)).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_every_line_and_its_order() {
        let mut a = Trace::default();
        let mut b = Trace::default();
        a.push(Duration::from_millis(1), format_args!("x"));
        a.push(Duration::from_millis(2), format_args!("y"));
        b.push(Duration::from_millis(2), format_args!("y"));
        b.push(Duration::from_millis(1), format_args!("x"));
        assert_ne!(a.hash(), b.hash());
        let mut c = Trace::default();
        c.push(Duration::from_millis(1), format_args!("x"));
        c.push(Duration::from_millis(2), format_args!("y"));
        assert_eq!(a.hash(), c.hash());
        assert_eq!(a.lines(), vec!["        0.001000 x", "        0.002000 y"]);
        assert_eq!(a.tail(1), vec!["        0.002000 y"]);
    }
}
