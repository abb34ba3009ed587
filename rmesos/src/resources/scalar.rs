//! `Scalar`: a resource quantity in fixed point, thousandths of a unit.
//!
//! Mesos keeps `Value::Scalar` at three decimal digits of precision so that
//! adding and subtracting `0.1` cpus a thousand times comes back to exactly
//! the starting value. Floats drift (`0.1 + 0.2 != 0.3`); integers do not, so
//! quantities are stored as `i64` thousandths and only become `f64` at the
//! edges (JSON, display, shares). Inputs are rounded to the nearest 0.001.

use std::fmt;

/// Largest scalar accepted from input: 10^12 units (a terabyte of mem counted
/// in MB is 10^6; anything near the bound is a typo or an attack, and the
/// bound keeps every sum far from `i64` overflow).
pub const MAX_SCALAR: f64 = 1e12;

/// Thousandths per unit.
const SCALE: i64 = 1000;

/// A non-negative resource quantity with 0.001 precision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scalar(i64);

/// Why a number cannot be a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarError {
    Negative,
    NotFinite,
    TooLarge,
}

impl Scalar {
    pub const ZERO: Scalar = Scalar(0);

    /// `v` rounded to the nearest 0.001; negative, NaN, infinite and values
    /// above [`MAX_SCALAR`] are refused.
    pub fn from_f64(v: f64) -> Result<Scalar, ScalarError> {
        if !v.is_finite() {
            return Err(ScalarError::NotFinite);
        }
        if v < 0.0 {
            return Err(ScalarError::Negative);
        }
        if v > MAX_SCALAR {
            return Err(ScalarError::TooLarge);
        }
        Ok(Scalar((v * SCALE as f64).round() as i64))
    }

    /// A whole number of units.
    pub fn from_units(units: u32) -> Scalar {
        Scalar(i64::from(units) * SCALE)
    }

    /// A number of thousandths of a unit.
    pub fn from_milli(milli: u64) -> Scalar {
        Scalar(i64::try_from(milli).unwrap_or(i64::MAX))
    }

    /// The quantity in thousandths of a unit.
    pub fn milli(self) -> u64 {
        self.0 as u64
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn saturating_add(self, o: Scalar) -> Scalar {
        Scalar(self.0.saturating_add(o.0))
    }

    /// `self - o`, floored at zero.
    pub fn saturating_sub(self, o: Scalar) -> Scalar {
        Scalar((self.0 - o.0).max(0))
    }
}

impl fmt::Display for Scalar {
    /// The shortest exact decimal: `4`, `0.5`, `0.125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (units, frac) = (self.0 / SCALE, self.0 % SCALE);
        if frac == 0 {
            return write!(f, "{units}");
        }
        let digits = format!("{frac:03}");
        write!(f, "{units}.{}", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_thousandths_and_displays_exactly() {
        assert_eq!(Scalar::from_f64(0.1).unwrap().milli(), 100);
        assert_eq!(Scalar::from_f64(0.0004).unwrap(), Scalar::ZERO);
        assert_eq!(Scalar::from_f64(0.0005).unwrap().milli(), 1);
        assert_eq!(Scalar::from_f64(2048.0).unwrap().to_string(), "2048");
        assert_eq!(Scalar::from_f64(0.5).unwrap().to_string(), "0.5");
        assert_eq!(Scalar::from_f64(1.125).unwrap().to_string(), "1.125");
        assert_eq!(Scalar::from_f64(0.05).unwrap().to_string(), "0.05");
        assert_eq!(Scalar::from_units(3).as_f64(), 3.0);
    }

    #[test]
    fn no_drift_over_many_small_steps() {
        let step = Scalar::from_f64(0.1).unwrap();
        let mut s = Scalar::from_units(1);
        for _ in 0..10_000 {
            s = s.saturating_add(step);
        }
        for _ in 0..10_000 {
            s = s.saturating_sub(step);
        }
        assert_eq!(s, Scalar::from_units(1));
        assert_eq!(
            Scalar::from_f64(0.1).unwrap().saturating_add(Scalar::from_f64(0.2).unwrap()),
            Scalar::from_f64(0.3).unwrap()
        );
    }

    #[test]
    fn refuses_bad_numbers() {
        assert_eq!(Scalar::from_f64(-1.0), Err(ScalarError::Negative));
        assert_eq!(Scalar::from_f64(f64::NAN), Err(ScalarError::NotFinite));
        assert_eq!(Scalar::from_f64(f64::INFINITY), Err(ScalarError::NotFinite));
        assert_eq!(Scalar::from_f64(MAX_SCALAR * 2.0), Err(ScalarError::TooLarge));
        assert_eq!(Scalar::from_units(1).saturating_sub(Scalar::from_units(2)), Scalar::ZERO);
    }
}
