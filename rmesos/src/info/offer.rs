//! `Offer`: resources of one slave offered to one framework, and `Filters`:
//! how long resources a framework declines stay away from it.
//!
//! A framework answers an offer by launching tasks on it (using part of it;
//! the rest counts as declined) or by declining it, in both cases with
//! `Filters`: the master does not re-offer the declined resources of that
//! slave to that framework for `refuse_seconds` (default 5 s, as in Mesos;
//! negative means the default; at most 365 days).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::attributes::Attributes;
use crate::ids::{ExecutorID, FrameworkID, OfferID, SlaveID};
use crate::resources::Resources;

/// Mesos's default `refuse_seconds`.
pub const DEFAULT_REFUSE_SECONDS: f64 = 5.0;

/// Largest refusal honoured: 365 days (Mesos's bound).
pub const MAX_REFUSE_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// Resources of one slave offered to one framework (Mesos's `Offer`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    pub id: OfferID,
    pub framework_id: FrameworkID,
    pub slave_id: SlaveID,
    pub hostname: String,
    pub resources: Resources,
    #[serde(default)]
    pub attributes: Attributes,
    /// The framework's executors already running on the slave.
    #[serde(default)]
    pub executor_ids: Vec<ExecutorID>,
}

fn default_refuse() -> f64 {
    DEFAULT_REFUSE_SECONDS
}

/// How long declined resources are withheld (Mesos's `Filters`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    #[serde(default = "default_refuse")]
    pub refuse_seconds: f64,
}

impl Default for Filters {
    fn default() -> Filters {
        Filters { refuse_seconds: DEFAULT_REFUSE_SECONDS }
    }
}

impl Filters {
    /// Filters refusing for `d`.
    pub fn refuse(d: Duration) -> Filters {
        Filters { refuse_seconds: d.as_secs_f64() }
    }

    /// The refusal the master applies: the default for negative or NaN
    /// values, at most [`MAX_REFUSE_SECONDS`].
    pub fn refuse_duration(&self) -> Duration {
        let s = self.refuse_seconds;
        let s = if s.is_nan() || s < 0.0 { DEFAULT_REFUSE_SECONDS } else { s.min(MAX_REFUSE_SECONDS) };
        Duration::from_secs_f64(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_follow_mesos_semantics() {
        assert_eq!(Filters::default().refuse_duration(), Duration::from_secs(5));
        let f: Filters = serde_json::from_str("{}").unwrap();
        assert_eq!(f.refuse_seconds, 5.0);
        assert_eq!(Filters { refuse_seconds: -1.0 }.refuse_duration(), Duration::from_secs(5));
        assert_eq!(Filters { refuse_seconds: f64::NAN }.refuse_duration(), Duration::from_secs(5));
        assert_eq!(Filters { refuse_seconds: 0.0 }.refuse_duration(), Duration::ZERO);
        assert_eq!(Filters { refuse_seconds: 1e12 }.refuse_duration(), Duration::from_secs(365 * 86_400));
        assert_eq!(Filters::refuse(Duration::from_secs(60)).refuse_duration(), Duration::from_secs(60));
    }

    #[test]
    fn offer_round_trips() {
        let o = Offer {
            id: OfferID::generate("m", 1),
            framework_id: FrameworkID::generate("m", 0),
            slave_id: SlaveID::generate("m", 0),
            hostname: "h".into(),
            resources: Resources::parse("cpus:1;ports:[1-2]").unwrap(),
            attributes: Attributes::parse("rack:r1").unwrap(),
            executor_ids: vec![ExecutorID::new("e").unwrap()],
        };
        let j = serde_json::to_string(&o).unwrap();
        assert_eq!(serde_json::from_str::<Offer>(&j).unwrap(), o);
    }
}
