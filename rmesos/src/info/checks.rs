//! How a task is watched and stopped, as Mesos's `mesos.proto` describes
//! it: [`HealthCheck`] (the executor kills a task that fails it
//! `consecutive_failures` times), [`CheckInfo`] (only reported, in
//! [`CheckStatusInfo`]), and [`KillPolicy`] (how long SIGTERM may take
//! before SIGKILL). Field names and defaults are Mesos's, so the JSON of
//! the v1 API maps onto these one to one.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::command::CommandInfo;
use crate::named_enum::named_enum;

named_enum! {
    /// The kind of a check or health check (Mesos's `CheckInfo.Type` and `HealthCheck.Type`).
    pub enum CheckType {
        Unknown = "UNKNOWN",
        Command = "COMMAND",
        Http = "HTTP",
        Tcp = "TCP",
    }
}

/// Mesos's `DurationInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationInfo {
    pub nanoseconds: i64,
}

impl DurationInfo {
    pub fn from_duration(d: Duration) -> DurationInfo {
        DurationInfo { nanoseconds: i64::try_from(d.as_nanos()).unwrap_or(i64::MAX) }
    }

    /// Negative durations count as zero.
    pub fn duration(&self) -> Duration {
        Duration::from_nanos(self.nanoseconds.max(0) as u64)
    }
}

/// Mesos's `KillPolicy`: SIGTERM, then SIGKILL after `grace_period`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period: Option<DurationInfo>,
}

impl KillPolicy {
    pub fn grace(d: Duration) -> KillPolicy {
        KillPolicy { grace_period: Some(DurationInfo::from_duration(d)) }
    }
}

/// An HTTP health check: GET `scheme://127.0.0.1:port/path`; 200-399 is healthy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpCheckInfo {
    pub port: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `http` (default) or `https`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// For custom executors only (Mesos's default executors ignore it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<u32>,
}

/// A TCP check: a connection to `127.0.0.1:port` succeeds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpCheckInfo {
    pub port: u32,
}

/// Mesos's `HealthCheck`. The `Option`s are Mesos's optional fields; the
/// methods give their defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<CheckType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCheckInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpCheckInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_failures: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<f64>,
}

fn secs(v: Option<f64>, default: f64) -> Duration {
    Duration::try_from_secs_f64(v.unwrap_or(default).max(0.0)).unwrap_or(Duration::MAX)
}

impl HealthCheck {
    /// Wait before the first check after TASK_RUNNING (default 15 s).
    pub fn delay(&self) -> Duration {
        secs(self.delay_seconds, 15.0)
    }
    /// Between the end of a check and the next (default 10 s).
    pub fn interval(&self) -> Duration {
        secs(self.interval_seconds, 10.0)
    }
    /// A check taking longer fails (default 20 s; zero: no limit).
    pub fn timeout(&self) -> Duration {
        secs(self.timeout_seconds, 20.0)
    }
    /// Failures in a row that kill the task (default 3).
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures.unwrap_or(3)
    }
    /// From launch, failures before a first success are ignored (default 10 s).
    pub fn grace_period(&self) -> Duration {
        secs(self.grace_period_seconds, 10.0)
    }
}

/// A command check (Mesos's `CheckInfo.Command`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckCommand {
    pub command: CommandInfo,
}

/// An HTTP check (Mesos's `CheckInfo.Http`): GET `http://127.0.0.1:port/path`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckHttp {
    pub port: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// Mesos's `CheckInfo`: reported in [`CheckStatusInfo`], never kills.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckInfo {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<CheckType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CheckCommand>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<CheckHttp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpCheckInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
}

impl CheckInfo {
    pub fn delay(&self) -> Duration {
        secs(self.delay_seconds, 15.0)
    }
    pub fn interval(&self) -> Duration {
        secs(self.interval_seconds, 10.0)
    }
    pub fn timeout(&self) -> Duration {
        secs(self.timeout_seconds, 20.0)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandCheckStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpCheckStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpCheckStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succeeded: Option<bool>,
}

/// Mesos's `CheckStatusInfo`: the last result of a task's check (an empty
/// inner message: no result yet, or the check timed out).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStatusInfo {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<CheckType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandCheckStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCheckStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpCheckStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesos_defaults_and_json() {
        let h: HealthCheck = serde_json::from_str(r#"{"type":"HTTP","http":{"port":8080,"path":"/health"}}"#).unwrap();
        assert_eq!(h.kind, Some(CheckType::Http));
        assert_eq!(
            (h.delay(), h.interval(), h.timeout(), h.consecutive_failures(), h.grace_period()),
            (Duration::from_secs(15), Duration::from_secs(10), Duration::from_secs(20), 3, Duration::from_secs(10))
        );
        let k: KillPolicy = serde_json::from_str(r#"{"grace_period":{"nanoseconds":5000000000}}"#).unwrap();
        assert_eq!(k, KillPolicy::grace(Duration::from_secs(5)));
        assert_eq!(k.grace_period.unwrap().duration(), Duration::from_secs(5));
        assert_eq!(DurationInfo { nanoseconds: -1 }.duration(), Duration::ZERO);
        let c: CheckInfo = serde_json::from_str(r#"{"type":"TCP","tcp":{"port":1},"interval_seconds":0.5}"#).unwrap();
        assert_eq!((c.interval(), c.delay()), (Duration::from_millis(500), Duration::from_secs(15)));
        let s = CheckStatusInfo {
            kind: Some(CheckType::Command),
            command: Some(CommandCheckStatus { exit_code: Some(1) }),
            ..Default::default()
        };
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"type":"COMMAND","command":{"exit_code":1}}"#);
    }
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    #[test]
    fn a_task_with_checks_crosses_the_wire() {
        let mut t = crate::info::TaskInfo::command(
            "web",
            crate::TaskID::new("web").unwrap(),
            crate::SlaveID::new("S0").unwrap(),
            crate::Resources::parse("cpus:0.1;mem:64;ports:[31050-31050]").unwrap(),
            CommandInfo::shell("x"),
        );
        t.health_check = Some(HealthCheck {
            kind: Some(CheckType::Http),
            http: Some(HttpCheckInfo { port: 1, ..Default::default() }),
            delay_seconds: Some(0.0),
            ..Default::default()
        });
        t.check =
            Some(CheckInfo { kind: Some(CheckType::Tcp), tcp: Some(TcpCheckInfo { port: 1 }), ..Default::default() });
        t.kill_policy = Some(KillPolicy::grace(Duration::from_secs(1)));
        let b = rmp_serde::to_vec_named(&t).unwrap();
        assert_eq!(rmp_serde::from_slice::<crate::info::TaskInfo>(&b).unwrap(), t);
        let offer = crate::Resources::parse("cpus:4;mem:1024;disk:1024;ports:[31000-31100]").unwrap();
        assert!(offer.checked_sub(&t.resources).is_some());
    }
}
