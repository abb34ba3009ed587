//! `Resources`: what a slave offers and a task consumes, as named scalars
//! (`cpus`, `mem` in MB, `disk` in MB, any other name) and named ranges
//! (`ports`).
//!
//! A `Resources` is a bag with set-like arithmetic: [`add`](Resources::add)
//! (union; scalars sum), [`checked_sub`](Resources::checked_sub) (only when
//! contained), [`saturating_sub`](Resources::saturating_sub),
//! [`contains`](Resources::contains) (is `other` a sub-bag of `self`).
//! Zero scalars and empty ranges are never stored, so equal bags compare equal.
//! Scalars are fixed point to 0.001 ([`Scalar`]) as in Mesos, so the
//! allocator's adds and subtracts never drift.
//!
//! Text form (`--resources`, see [`parse`](Resources::parse) and `Display`):
//! `cpus:4;mem:2048;disk:1000;ports:[31000-32000]`. JSON form (operator
//! endpoints and the wire): a map as Mesos's `/state` shows it,
//! `{"cpus":4.0,"mem":2048.0,"ports":"[31000-32000]"}`.
//!
//! Roles, reservations, volumes and revocable resources of Mesos are not
//! modelled: every resource belongs to the default role `*`.

mod parse;
mod ranges;
mod scalar;
mod serde_impl;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::ops::{Add, AddAssign, Sub, SubAssign};

pub use parse::{ResourcesError, MAX_RESOURCE_NAMES};
pub use ranges::{Ranges, RangesError, MAX_RANGES};
pub use scalar::{Scalar, ScalarError, MAX_SCALAR};

/// The names Mesos gives the standard resources.
pub const CPUS: &str = "cpus";
pub const MEM: &str = "mem";
pub const DISK: &str = "disk";
pub const PORTS: &str = "ports";

/// A bag of named scalar and range resources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    scalars: BTreeMap<String, Scalar>,
    ranges: BTreeMap<String, Ranges>,
}

impl Resources {
    /// No resources.
    pub fn new() -> Resources {
        Resources::default()
    }

    /// Parses the `--resources` form; see the module doc and [`ResourcesError`].
    pub fn parse(s: &str) -> Result<Resources, ResourcesError> {
        parse::parse(s)
    }

    /// `self` with scalar `name` set to `value` (0.001 precision; zero removes it).
    pub fn with_scalar(mut self, name: &str, value: f64) -> Result<Resources, ResourcesError> {
        let s = parse::scalar_value(name, value, &value.to_string())?;
        self.set_scalar(name, s);
        Ok(self)
    }

    /// `self` with range resource `name` set to `ranges` (empty removes it).
    pub fn with_ranges(mut self, name: &str, ranges: Ranges) -> Resources {
        self.set_ranges(name, ranges);
        self
    }

    /// Sets scalar `name` (zero removes it).
    pub fn set_scalar(&mut self, name: &str, value: Scalar) {
        if value.is_zero() {
            self.scalars.remove(name);
        } else {
            self.scalars.insert(name.to_string(), value);
        }
    }

    /// Sets range resource `name` (empty removes it).
    pub fn set_ranges(&mut self, name: &str, ranges: Ranges) {
        if ranges.is_empty() {
            self.ranges.remove(name);
        } else {
            self.ranges.insert(name.to_string(), ranges);
        }
    }

    /// Scalar `name`, zero when absent.
    pub fn scalar(&self, name: &str) -> Scalar {
        self.scalars.get(name).copied().unwrap_or(Scalar::ZERO)
    }

    /// Range resource `name`, if present.
    pub fn ranges(&self, name: &str) -> Option<&Ranges> {
        self.ranges.get(name)
    }

    pub fn cpus(&self) -> f64 {
        self.scalar(CPUS).as_f64()
    }

    /// Memory in MB.
    pub fn mem(&self) -> f64 {
        self.scalar(MEM).as_f64()
    }

    /// Disk in MB.
    pub fn disk(&self) -> f64 {
        self.scalar(DISK).as_f64()
    }

    /// The `ports` ranges (empty when absent).
    pub fn ports(&self) -> Ranges {
        self.ranges(PORTS).cloned().unwrap_or_default()
    }

    /// Every non-zero scalar, by name.
    pub fn scalars(&self) -> impl Iterator<Item = (&str, Scalar)> {
        self.scalars.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Every non-empty range resource, by name.
    pub fn all_ranges(&self) -> impl Iterator<Item = (&str, &Ranges)> {
        self.ranges.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn is_empty(&self) -> bool {
        self.scalars.is_empty() && self.ranges.is_empty()
    }

    /// Adds `other` into `self`: scalars sum (saturating), ranges unite.
    pub fn add(&mut self, other: &Resources) {
        for (name, v) in &other.scalars {
            let sum = self.scalar(name).saturating_add(*v);
            self.set_scalar(name, sum);
        }
        for (name, r) in &other.ranges {
            let u = match self.ranges.get(name) {
                Some(mine) => mine.union(r),
                None => r.clone(),
            };
            self.set_ranges(name, u);
        }
    }

    /// Whether `other` is a sub-bag of `self`: every scalar of `other` is at
    /// most `self`'s, every range of `other` is inside `self`'s.
    pub fn contains(&self, other: &Resources) -> bool {
        other.scalars.iter().all(|(name, v)| self.scalar(name) >= *v)
            && other.ranges.iter().all(|(name, r)| self.ranges.get(name).is_some_and(|mine| mine.contains(r)))
    }

    /// `self - other` if `self` contains `other`, else `None` (what a launch
    /// must check: a task may only use what its offers hold).
    pub fn checked_sub(&self, other: &Resources) -> Option<Resources> {
        self.contains(other).then(|| self.saturating_sub(other))
    }

    /// `self - other`, removing from each resource what `other` holds of it
    /// (scalars floor at zero; ranges lose the values `other` holds).
    pub fn saturating_sub(&self, other: &Resources) -> Resources {
        let mut out = self.clone();
        for (name, v) in &other.scalars {
            let rest = out.scalar(name).saturating_sub(*v);
            out.set_scalar(name, rest);
        }
        for (name, r) in &other.ranges {
            if let Some(mine) = out.ranges.get(name) {
                let rest = mine.difference(r);
                out.set_ranges(name, rest);
            }
        }
        out
    }

    /// The dominant share of `self` in `total`: the largest `self[r] /
    /// total[r]` over the scalar resources of `total`, 0 when nothing is
    /// shared. Dominant Resource Fairness offers next to the framework with
    /// the smallest dominant share. Ranges (ports) do not count, as in Mesos's
    /// DRF sorter.
    pub fn shares(&self, total: &Resources) -> f64 {
        total.scalars.iter().map(|(name, t)| self.scalar(name).as_f64() / t.as_f64()).fold(0.0, f64::max)
    }
}

impl AddAssign<&Resources> for Resources {
    fn add_assign(&mut self, o: &Resources) {
        Resources::add(self, o);
    }
}

impl Add<&Resources> for &Resources {
    type Output = Resources;
    fn add(self, o: &Resources) -> Resources {
        let mut out = self.clone();
        out += o;
        out
    }
}

/// Saturating: see [`Resources::saturating_sub`]; use
/// [`Resources::checked_sub`] when `other` must be contained.
impl SubAssign<&Resources> for Resources {
    fn sub_assign(&mut self, o: &Resources) {
        *self = self.saturating_sub(o);
    }
}

/// Saturating: see [`Resources::saturating_sub`].
impl Sub<&Resources> for &Resources {
    type Output = Resources;
    fn sub(self, o: &Resources) -> Resources {
        self.saturating_sub(o)
    }
}

impl std::iter::Sum<Resources> for Resources {
    fn sum<I: Iterator<Item = Resources>>(iter: I) -> Resources {
        iter.fold(Resources::new(), |mut acc, r| {
            acc += &r;
            acc
        })
    }
}

impl<'a> std::iter::Sum<&'a Resources> for Resources {
    fn sum<I: Iterator<Item = &'a Resources>>(iter: I) -> Resources {
        iter.fold(Resources::new(), |mut acc, r| {
            acc += r;
            acc
        })
    }
}
