//! Messages between an executor (driver) and its slave: registration,
//! reconnection after a slave restart, and shutdown. Tasks reach the executor
//! as [`crate::messages::RunTaskMessage`] and
//! [`crate::messages::KillTaskMessage`]; statuses leave as
//! [`crate::messages::StatusUpdateMessage`].

use serde::{Deserialize, Serialize};

use super::status::StatusUpdate;
use crate::ids::{ExecutorID, FrameworkID, SlaveID};
use crate::info::{ExecutorInfo, FrameworkInfo, SlaveInfo, TaskInfo};

/// Executor -> slave: the executor process started (the ids come from the
/// environment the slave set: `RMESOS_FRAMEWORK_ID`, `RMESOS_EXECUTOR_ID`).
/// Must arrive within `--executor_registration_timeout` or the executor is
/// killed and its tasks fail with REASON_EXECUTOR_REGISTRATION_TIMEOUT.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegisterExecutorMessage {
    pub framework_id: FrameworkID,
    pub executor_id: ExecutorID,
}
libprocess::message!(RegisterExecutorMessage, "rmesos.internal.RegisterExecutorMessage");

/// Slave -> executor: registered (-> `Executor::registered`); the slave then
/// sends the queued tasks as RunTaskMessages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutorRegisteredMessage {
    pub executor_info: ExecutorInfo,
    pub framework_id: FrameworkID,
    pub framework_info: FrameworkInfo,
    pub slave_id: SlaveID,
    pub slave_info: SlaveInfo,
}
libprocess::message!(ExecutorRegisteredMessage, "rmesos.internal.ExecutorRegisteredMessage");

/// Executor -> slave: reregister after a slave restart (in answer to
/// [`ReconnectExecutorMessage`]), reporting the tasks it runs and the updates
/// not yet acknowledged, so the recovered slave loses neither.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReregisterExecutorMessage {
    pub executor_id: ExecutorID,
    pub framework_id: FrameworkID,
    #[serde(default)]
    pub tasks: Vec<TaskInfo>,
    #[serde(default)]
    pub updates: Vec<StatusUpdate>,
}
libprocess::message!(ReregisterExecutorMessage, "rmesos.internal.ReregisterExecutorMessage");

/// Slave -> executor: reregistered (-> `Executor::reregistered`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutorReregisteredMessage {
    pub slave_id: SlaveID,
    pub slave_info: SlaveInfo,
}
libprocess::message!(ExecutorReregisteredMessage, "rmesos.internal.ExecutorReregisteredMessage");

/// Slave -> executor: a restarted slave recovered this executor from its
/// checkpoint; the executor answers with [`ReregisterExecutorMessage`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconnectExecutorMessage {
    pub slave_id: SlaveID,
}
libprocess::message!(ReconnectExecutorMessage, "rmesos.internal.ReconnectExecutorMessage");

/// Slave -> executor (-> `Executor::shutdown`): kill all tasks and exit
/// within `--executor_shutdown_grace_period`, after which the slave kills the
/// process group. The ids name the executor when the message reaches it
/// through a shared channel; both are optional as in Mesos.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ShutdownExecutorMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorID>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkID>,
}
libprocess::message!(ShutdownExecutorMessage, "rmesos.internal.ShutdownExecutorMessage");
