//! `SlaveInfo`: who a slave is and what it has. Sent in (re)registration; the
//! master copies its hostname, resources and attributes into offers. The `id`
//! is unset until the master assigns one at first registration.

use serde::{Deserialize, Serialize};

use crate::attributes::Attributes;
use crate::ids::SlaveID;
use crate::resources::Resources;

/// The slave's default port.
pub const DEFAULT_SLAVE_PORT: u16 = 5051;

fn default_port() -> u32 {
    u32::from(DEFAULT_SLAVE_PORT)
}

/// A slave's description (Mesos's `SlaveInfo`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaveInfo {
    pub hostname: String,
    #[serde(default = "default_port")]
    pub port: u32,
    /// Everything the slave offers (`--resources`, or what it detected).
    #[serde(default)]
    pub resources: Resources,
    /// `--attributes`.
    #[serde(default)]
    pub attributes: Attributes,
    /// Assigned by the master at first registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<SlaveID>,
}

impl SlaveInfo {
    pub fn new(hostname: impl Into<String>, port: u16, resources: Resources, attributes: Attributes) -> SlaveInfo {
        SlaveInfo { hostname: hostname.into(), port: u32::from(port), resources, attributes, id: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_defaults() {
        let s = SlaveInfo::new(
            "h1",
            5051,
            Resources::parse("cpus:2;mem:1024").unwrap(),
            Attributes::parse("rack:r1").unwrap(),
        );
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(
            j,
            r#"{"hostname":"h1","port":5051,"resources":{"cpus":2.0,"mem":1024.0},"attributes":{"rack":"r1"}}"#
        );
        assert_eq!(serde_json::from_str::<SlaveInfo>(&j).unwrap(), s);
        let min: SlaveInfo = serde_json::from_str(r#"{"hostname":"h"}"#).unwrap();
        assert_eq!(min.port, 5051);
        assert!(min.resources.is_empty() && min.attributes.is_empty() && min.id.is_none());
    }
}
