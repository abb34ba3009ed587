//! The environment a slave gives every executor it launches, and the
//! executor driver's reading of it. The slave is the only writer and the
//! driver the only reader, so both use the names here.
//!
//! | variable                                | meaning                                         |
//! |-----------------------------------------|-------------------------------------------------|
//! | `RMESOS_SLAVE_PID`                      | the slave's Upid (`slave(1)@ip:port`)           |
//! | `RMESOS_SLAVE_ID`                       | the slave's id                                  |
//! | `RMESOS_FRAMEWORK_ID`                   | the framework the executor runs for             |
//! | `RMESOS_EXECUTOR_ID`                    | the executor's id                               |
//! | `RMESOS_DIRECTORY`                      | the sandbox (also the working directory)        |
//! | `RMESOS_CHECKPOINT`                     | `1` if the framework checkpoints, else `0`      |
//! | `RMESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` | time to shut down before the slave kills us     |
//! | `RMESOS_RECOVERY_TIMEOUT`               | how long a checkpointing executor waits for a restarted slave |
//! | `LIBPROCESS_IP`                         | the IP the driver's node binds (the slave's)    |
//!
//! Executors written for Mesos (its v1 executor HTTP API: pymesos, mesos-go)
//! read Mesos's names instead, which the slave sets as well, with the values
//! Mesos's agent gives them (`executorEnvironment` in its `slave.cpp`):
//! [`mesos::FRAMEWORK_ID`], [`mesos::EXECUTOR_ID`], [`mesos::DIRECTORY`] and
//! [`mesos::SANDBOX`] (the same path: no container images here),
//! [`mesos::SLAVE_ID`], [`mesos::SLAVE_PID`], [`mesos::AGENT_ENDPOINT`]
//! (`ip:port` of the slave, where `/api/v1/executor` is served),
//! [`mesos::CHECKPOINT`] (`1`/`0`), [`mesos::HTTP_COMMAND_EXECUTOR`] (`0`:
//! the command executor speaks the driver protocol),
//! [`mesos::SHUTDOWN_GRACE_PERIOD`], and for checkpointing frameworks only
//! [`mesos::RECOVERY_TIMEOUT`] and [`mesos::SUBSCRIPTION_BACKOFF_MAX`]
//! (`--executor_reregistration_timeout`). Durations are written as Mesos
//! writes them (`5secs`, `15mins`).

use std::path::PathBuf;
use std::time::Duration;

use libprocess::Upid;

use crate::duration::parse_duration;
use crate::ids::{ExecutorID, FrameworkID, SlaveID};

pub const SLAVE_PID: &str = "RMESOS_SLAVE_PID";
pub const SLAVE_ID: &str = "RMESOS_SLAVE_ID";
pub const FRAMEWORK_ID: &str = "RMESOS_FRAMEWORK_ID";
pub const EXECUTOR_ID: &str = "RMESOS_EXECUTOR_ID";
pub const DIRECTORY: &str = "RMESOS_DIRECTORY";
pub const CHECKPOINT: &str = "RMESOS_CHECKPOINT";
pub const SHUTDOWN_GRACE_PERIOD: &str = "RMESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD";
pub const RECOVERY_TIMEOUT: &str = "RMESOS_RECOVERY_TIMEOUT";

/// Mesos's names for the same environment (see the module doc).
pub mod mesos {
    pub const FRAMEWORK_ID: &str = "MESOS_FRAMEWORK_ID";
    pub const EXECUTOR_ID: &str = "MESOS_EXECUTOR_ID";
    pub const DIRECTORY: &str = "MESOS_DIRECTORY";
    pub const SANDBOX: &str = "MESOS_SANDBOX";
    pub const SLAVE_ID: &str = "MESOS_SLAVE_ID";
    pub const SLAVE_PID: &str = "MESOS_SLAVE_PID";
    pub const AGENT_ENDPOINT: &str = "MESOS_AGENT_ENDPOINT";
    pub const CHECKPOINT: &str = "MESOS_CHECKPOINT";
    pub const HTTP_COMMAND_EXECUTOR: &str = "MESOS_HTTP_COMMAND_EXECUTOR";
    pub const SHUTDOWN_GRACE_PERIOD: &str = "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD";
    pub const RECOVERY_TIMEOUT: &str = "MESOS_RECOVERY_TIMEOUT";
    pub const SUBSCRIPTION_BACKOFF_MAX: &str = "MESOS_SUBSCRIPTION_BACKOFF_MAX";
}

/// Default of `RMESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` (Mesos's 5 s).
pub const DEFAULT_SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_secs(5);
/// Default of `RMESOS_RECOVERY_TIMEOUT` (Mesos's `--recovery_timeout`, 15 min).
pub const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// What an executor knows from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutorEnv {
    pub slave_pid: Upid,
    pub slave_id: SlaveID,
    pub framework_id: FrameworkID,
    pub executor_id: ExecutorID,
    pub directory: PathBuf,
    pub checkpoint: bool,
    pub shutdown_grace_period: Duration,
    pub recovery_timeout: Duration,
}

/// A missing or malformed variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("{0} is not set: an executor is started by a slave, which sets it")]
    Missing(&'static str),
    #[error("{var}='{value}' is invalid: {reason}")]
    Invalid { var: &'static str, value: String, reason: String },
}

impl ExecutorEnv {
    /// Reads the process environment.
    pub fn from_env() -> Result<ExecutorEnv, EnvError> {
        ExecutorEnv::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads variables through `get` (testable).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<ExecutorEnv, EnvError> {
        let need = |var: &'static str| get(var).ok_or(EnvError::Missing(var));
        let invalid = |var: &'static str, value: &str, reason: String| EnvError::Invalid {
            var,
            value: value.to_string(),
            reason,
        };
        let pid = need(SLAVE_PID)?;
        let slave_pid = pid.parse::<Upid>().map_err(|e| invalid(SLAVE_PID, &pid, e.to_string()))?;
        let duration = |var: &'static str, default: Duration| -> Result<Duration, EnvError> {
            match get(var) {
                None => Ok(default),
                Some(v) => parse_duration(&v).map_err(|e| invalid(var, &v, e.to_string())),
            }
        };
        let checkpoint = match get(CHECKPOINT).as_deref() {
            None | Some("0") | Some("") => false,
            Some("1") => true,
            Some(v) => return Err(invalid(CHECKPOINT, v, "expected 0 or 1".into())),
        };
        Ok(ExecutorEnv {
            slave_pid,
            slave_id: id(&get, SLAVE_ID, SlaveID::new)?,
            framework_id: id(&get, FRAMEWORK_ID, FrameworkID::new)?,
            executor_id: id(&get, EXECUTOR_ID, ExecutorID::new)?,
            directory: PathBuf::from(need(DIRECTORY)?),
            checkpoint,
            shutdown_grace_period: duration(SHUTDOWN_GRACE_PERIOD, DEFAULT_SHUTDOWN_GRACE_PERIOD)?,
            recovery_timeout: duration(RECOVERY_TIMEOUT, DEFAULT_RECOVERY_TIMEOUT)?,
        })
    }
}

/// Reads and validates an id variable.
fn id<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    make: fn(String) -> Result<T, crate::ids::IdError>,
) -> Result<T, EnvError> {
    let v = get(var).ok_or(EnvError::Missing(var))?;
    make(v.clone()).map_err(|e| EnvError::Invalid { var, value: v, reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    const GOOD: &[(&str, &str)] = &[
        (SLAVE_PID, "slave(1)@127.0.0.1:5051"),
        (SLAVE_ID, "m-S0"),
        (FRAMEWORK_ID, "m-0000"),
        (EXECUTOR_ID, "t1"),
        (DIRECTORY, "/tmp/sandbox"),
        (CHECKPOINT, "1"),
        (SHUTDOWN_GRACE_PERIOD, "3secs"),
    ];

    #[test]
    fn reads_what_the_slave_sets() {
        let e = ExecutorEnv::from_lookup(env(GOOD)).unwrap();
        assert_eq!(e.slave_pid.to_string(), "slave(1)@127.0.0.1:5051");
        assert_eq!(e.executor_id.as_str(), "t1");
        assert!(e.checkpoint);
        assert_eq!(e.shutdown_grace_period, Duration::from_secs(3));
        assert_eq!(e.recovery_timeout, DEFAULT_RECOVERY_TIMEOUT);
    }

    #[test]
    fn missing_or_bad_variables_are_clear_errors() {
        let e = ExecutorEnv::from_lookup(env(&GOOD[1..])).unwrap_err();
        assert_eq!(e, EnvError::Missing(SLAVE_PID));
        let mut bad = GOOD.to_vec();
        bad[3] = (EXECUTOR_ID, "a/b");
        assert!(matches!(ExecutorEnv::from_lookup(env(&bad)), Err(EnvError::Invalid { var: EXECUTOR_ID, .. })));
        bad[3] = (EXECUTOR_ID, "t1");
        bad[5] = (CHECKPOINT, "yes");
        assert!(ExecutorEnv::from_lookup(env(&bad)).unwrap_err().to_string().contains("RMESOS_CHECKPOINT='yes'"));
    }
}
