//! Messages between a slave and the master: registration, health checks
//! (ping/pong), and the master's orders (run a task, shut a framework down).

use std::time::Duration;

use libprocess::Upid;
use serde::{Deserialize, Serialize};

use super::scheduler::ReconcileTasksMessage;
use crate::ids::{FrameworkID, SlaveID};
use crate::info::{ExecutorInfo, FrameworkInfo, SlaveInfo, TaskInfo};
use crate::resources::Resources;
use crate::task::Task;

/// Slave -> master: register a slave that has no id yet (first start, or its
/// checkpointed id was lost). Resent with randomized backoff until answered by
/// [`SlaveRegisteredMessage`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegisterSlaveMessage {
    pub slave: SlaveInfo,
    /// Resources the slave checkpointed as reserved or persistent (empty in
    /// rmesos until reservations exist; kept for Mesos parity).
    #[serde(default)]
    pub checkpointed_resources: Resources,
    /// The slave's rmesos version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// This start of the slave process (see [`ReregisterSlaveMessage::incarnation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incarnation: Option<u64>,
}
libprocess::message!(RegisterSlaveMessage, "rmesos.internal.RegisterSlaveMessage");

/// A framework the slave ran and that is finished (Mesos's
/// `Archive.Framework`), reported in reregistration for the master's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArchivedFramework {
    pub framework_info: FrameworkInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<Upid>,
    #[serde(default)]
    pub tasks: Vec<Task>,
}

/// Slave -> master: reregister a slave that has an id (`slave.id` set), after
/// it detected a new master or restarted and recovered. Carries everything a
/// new master needs to rebuild its view of the slave: executors, tasks (with
/// their latest states) and the frameworks they belong to. Answered by
/// [`SlaveReregisteredMessage`], or [`ShutdownMessage`] if the master had
/// removed the slave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReregisterSlaveMessage {
    pub slave: SlaveInfo,
    #[serde(default)]
    pub checkpointed_resources: Resources,
    #[serde(default)]
    pub executor_infos: Vec<ExecutorInfo>,
    #[serde(default)]
    pub tasks: Vec<Task>,
    #[serde(default)]
    pub frameworks: Vec<FrameworkInfo>,
    #[serde(default)]
    pub completed_frameworks: Vec<ArchivedFramework>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A random id of this start of the slave process (not in Mesos): a
    /// registration from a known pid with another incarnation is a new
    /// process, whatever the master's view of the connection, so the slave
    /// registered there before is gone (its tasks lost) rather than the
    /// same slave retrying. `None` from a slave that does not send it (the
    /// master then follows Mesos's rule alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incarnation: Option<u64>,
}
libprocess::message!(ReregisterSlaveMessage, "rmesos.internal.ReregisterSlaveMessage");

/// Parameters of the master -> slave connection (Mesos's
/// `MasterSlaveConnection`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MasterSlaveConnection {
    /// `agent_ping_timeout x max_agent_ping_timeouts` in seconds: a slave that
    /// hears no ping for this long considers the master gone and re-detects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_ping_timeout_seconds: Option<f64>,
}

impl MasterSlaveConnection {
    pub fn new(total_ping_timeout: Duration) -> MasterSlaveConnection {
        MasterSlaveConnection { total_ping_timeout_seconds: Some(total_ping_timeout.as_secs_f64()) }
    }

    /// The total ping timeout, if given and valid.
    pub fn total_ping_timeout(&self) -> Option<Duration> {
        self.total_ping_timeout_seconds.filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
    }
}

/// Master -> slave: the slave is registered under `slave_id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaveRegisteredMessage {
    pub slave_id: SlaveID,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<MasterSlaveConnection>,
}
libprocess::message!(SlaveRegisteredMessage, "rmesos.internal.SlaveRegisteredMessage");

/// Master -> slave: the slave is reregistered. `reconciliations` lists, per
/// framework, tasks the master knows on this slave but the slave did not
/// report, so the slave can send their final updates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaveReregisteredMessage {
    pub slave_id: SlaveID,
    #[serde(default)]
    pub reconciliations: Vec<ReconcileTasksMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<MasterSlaveConnection>,
}
libprocess::message!(SlaveReregisteredMessage, "rmesos.internal.SlaveReregisteredMessage");

/// Slave -> master: the slave is shutting down for good (not a restart);
/// the master removes it at once instead of waiting for missed pings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnregisterSlaveMessage {
    pub slave_id: SlaveID,
}
libprocess::message!(UnregisterSlaveMessage, "rmesos.internal.UnregisterSlaveMessage");

/// Master -> slave, every `agent_ping_timeout`: are you there? `connected`
/// tells whether the master considers the slave registered (a slave that
/// hears `false` reregisters). Answered by [`PongSlaveMessage`]; after
/// `max_agent_ping_timeouts` unanswered pings the master removes the slave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PingSlaveMessage {
    pub connected: bool,
}
libprocess::message!(PingSlaveMessage, "rmesos.internal.PingSlaveMessage");

/// Slave -> master: answer to [`PingSlaveMessage`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PongSlaveMessage {}
libprocess::message!(PongSlaveMessage, "rmesos.internal.PongSlaveMessage");

/// Master -> slave: run `task` for `framework` (whose scheduler is at `pid`),
/// starting its executor (the command executor, or the task's own) if it is
/// not running yet. Also slave -> executor, once the executor registered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunTaskMessage {
    pub framework: FrameworkInfo,
    pub task: TaskInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<Upid>,
}
libprocess::message!(RunTaskMessage, "rmesos.internal.RunTaskMessage");

/// Master -> slave: the framework is gone (unregistered, or its failover
/// timeout expired); shut down its executors and kill its tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShutdownFrameworkMessage {
    pub framework_id: FrameworkID,
}
libprocess::message!(ShutdownFrameworkMessage, "rmesos.internal.ShutdownFrameworkMessage");

/// Master -> slave: shut down (the master removed this slave, e.g. after
/// missed pings, and refuses it back under the same id); the slave kills its
/// executors and exits, or starts over with a new id. `message` says why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShutdownMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
libprocess::message!(ShutdownMessage, "rmesos.internal.ShutdownMessage");
