//! `FrameworkInfo`: who a framework is, sent when it registers and kept by the
//! master (and by slaves running its tasks).
//!
//! The `id` is empty at first registration and assigned by the master; a
//! framework that fails over reregisters with it. `failover_timeout` is how
//! long the master waits for a disconnected framework to come back before
//! killing its tasks (0 = at once). `checkpoint` asks slaves to checkpoint the
//! framework's tasks so a slave restart can recover them. A
//! `PARTITION_AWARE` framework hears TASK_UNREACHABLE instead of TASK_LOST
//! for tasks on a slave that stops answering.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ids::FrameworkID;
use crate::named_enum::named_enum;

/// The role every framework and resource has unless told otherwise.
pub const DEFAULT_ROLE: &str = "*";

named_enum! {
    /// Optional behaviours a framework opts into (Mesos's `FrameworkInfo.Capability.Type`).
    pub enum FrameworkCapability {
        RevocableResources = "REVOCABLE_RESOURCES",
        /// The framework understands TASK_KILLING.
        TaskKillingState = "TASK_KILLING_STATE",
        GpuResources = "GPU_RESOURCES",
        SharedResources = "SHARED_RESOURCES",
        /// The framework understands TASK_UNREACHABLE, TASK_DROPPED, TASK_GONE,
        /// TASK_UNKNOWN in place of TASK_LOST.
        PartitionAware = "PARTITION_AWARE",
        MultiRole = "MULTI_ROLE",
        ReservationRefinement = "RESERVATION_REFINEMENT",
        RegionAware = "REGION_AWARE",
    }
}

fn default_role() -> String {
    DEFAULT_ROLE.to_string()
}

/// A framework's description (Mesos's `FrameworkInfo`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkInfo {
    /// The Unix user tasks run as (empty: the slave's user).
    pub user: String,
    pub name: String,
    /// Assigned by the master at first registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<FrameworkID>,
    /// Seconds the master keeps a disconnected framework's tasks (default 0).
    #[serde(default)]
    pub failover_timeout: f64,
    /// Whether slaves checkpoint this framework's tasks (default false).
    #[serde(default)]
    pub checkpoint: bool,
    /// The framework's role (default `*`).
    #[serde(default = "default_role")]
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webui_url: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<FrameworkCapability>,
}

/// Why a FrameworkInfo is refused at registration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrameworkInfoError {
    #[error("framework name is empty")]
    EmptyName,
    #[error("failover_timeout {0} is not a non-negative number of seconds")]
    BadFailoverTimeout(f64),
    #[error("role '{0}' is not '*' nor letters, digits, '_', '.', '-' (and not '.' or '..')")]
    BadRole(String),
}

/// Longest failover timeout honoured: 365 days (larger values are clamped,
/// so that `Duration` arithmetic cannot overflow).
const MAX_FAILOVER_TIMEOUT_SECS: f64 = 365.0 * 24.0 * 3600.0;

impl FrameworkInfo {
    /// A framework named `name` running tasks as `user`, with Mesos's defaults.
    pub fn new(user: impl Into<String>, name: impl Into<String>) -> FrameworkInfo {
        FrameworkInfo {
            user: user.into(),
            name: name.into(),
            id: None,
            failover_timeout: 0.0,
            checkpoint: false,
            role: default_role(),
            hostname: None,
            principal: None,
            webui_url: None,
            capabilities: Vec::new(),
        }
    }

    pub fn has_capability(&self, c: FrameworkCapability) -> bool {
        self.capabilities.contains(&c)
    }

    /// Whether lost tasks are reported as TASK_UNREACHABLE (else TASK_LOST).
    pub fn is_partition_aware(&self) -> bool {
        self.has_capability(FrameworkCapability::PartitionAware)
    }

    /// `failover_timeout` as a duration (invalid values count as 0, values
    /// beyond 365 days as 365 days).
    pub fn failover_timeout(&self) -> Duration {
        let s = self.failover_timeout;
        if !s.is_finite() || s <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(s.min(MAX_FAILOVER_TIMEOUT_SECS))
    }

    /// Checks what the master checks before registering the framework.
    pub fn validate(&self) -> Result<(), FrameworkInfoError> {
        if self.name.trim().is_empty() {
            return Err(FrameworkInfoError::EmptyName);
        }
        if !self.failover_timeout.is_finite() || self.failover_timeout < 0.0 {
            return Err(FrameworkInfoError::BadFailoverTimeout(self.failover_timeout));
        }
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        let role = self.role.as_str();
        if role != DEFAULT_ROLE && (role.is_empty() || role == "." || role == ".." || !role.chars().all(ok)) {
            return Err(FrameworkInfoError::BadRole(self.role.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_mesos() {
        let f: FrameworkInfo = serde_json::from_str(r#"{"user":"u","name":"n"}"#).unwrap();
        assert_eq!(f, FrameworkInfo::new("u", "n"));
        assert_eq!(f.role, "*");
        assert_eq!(f.failover_timeout(), Duration::ZERO);
        assert!(!f.checkpoint && !f.is_partition_aware());
        f.validate().unwrap();
    }

    #[test]
    fn capabilities_and_failover() {
        let mut f = FrameworkInfo::new("u", "n");
        f.capabilities.push(FrameworkCapability::PartitionAware);
        f.failover_timeout = 1.5;
        f.id = Some(FrameworkID::new("m-0000").unwrap());
        let j = serde_json::to_string(&f).unwrap();
        assert!(j.contains(r#""capabilities":["PARTITION_AWARE"]"#), "{j}");
        let back: FrameworkInfo = serde_json::from_str(&j).unwrap();
        assert_eq!(back, f);
        assert!(back.is_partition_aware());
        assert_eq!(back.failover_timeout(), Duration::from_millis(1500));
        f.failover_timeout = 1e300;
        assert_eq!(f.failover_timeout(), Duration::from_secs(365 * 24 * 3600));
    }

    #[test]
    fn validation() {
        let mut f = FrameworkInfo::new("u", " ");
        assert_eq!(f.validate(), Err(FrameworkInfoError::EmptyName));
        f.name = "n".into();
        f.failover_timeout = -1.0;
        assert!(matches!(f.validate(), Err(FrameworkInfoError::BadFailoverTimeout(_))));
        f.failover_timeout = f64::NAN;
        assert!(matches!(f.validate(), Err(FrameworkInfoError::BadFailoverTimeout(_))));
        f.failover_timeout = 0.0;
        f.role = "a b".into();
        assert!(matches!(f.validate(), Err(FrameworkInfoError::BadRole(_))));
        f.role = "web-prod".into();
        f.validate().unwrap();
    }
}
