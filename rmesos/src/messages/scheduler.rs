//! Messages between a framework's scheduler (driver) and the master:
//! registration, offers, launches, kills, reconciliation, framework
//! messages, and the master's notices of lost slaves and executors.

use libprocess::Upid;
use serde::{Deserialize, Serialize};

use crate::ids::{ExecutorID, FrameworkID, OfferID, SlaveID, TaskID};
use crate::info::{Filters, FrameworkInfo, MasterInfo, Offer, TaskInfo};
use crate::task::TaskStatus;

/// Scheduler -> master: register a new framework (`framework.id` unset).
/// Answered by [`FrameworkRegisteredMessage`] or [`FrameworkErrorMessage`].
/// The driver resends it with backoff until answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegisterFrameworkMessage {
    pub framework: FrameworkInfo,
}
libprocess::message!(RegisterFrameworkMessage, "rmesos.internal.RegisterFrameworkMessage");

/// Scheduler -> master: reregister a framework that has an id, after the
/// scheduler detected a new master (`failover = false`) or after the
/// scheduler process itself restarted (`failover = true`: the master replaces
/// the framework's old pid with the sender). Answered by
/// [`FrameworkReregisteredMessage`] (or `FrameworkRegisteredMessage` on
/// failover, as in Mesos) or [`FrameworkErrorMessage`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReregisterFrameworkMessage {
    pub framework: FrameworkInfo,
    pub failover: bool,
}
libprocess::message!(ReregisterFrameworkMessage, "rmesos.internal.ReregisterFrameworkMessage");

/// Master -> scheduler: the framework is registered under `framework_id`
/// (-> `Scheduler::registered`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkRegisteredMessage {
    pub framework_id: FrameworkID,
    pub master_info: MasterInfo,
}
libprocess::message!(FrameworkRegisteredMessage, "rmesos.internal.FrameworkRegisteredMessage");

/// Master -> scheduler: the framework is reregistered
/// (-> `Scheduler::reregistered`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkReregisteredMessage {
    pub framework_id: FrameworkID,
    pub master_info: MasterInfo,
}
libprocess::message!(FrameworkReregisteredMessage, "rmesos.internal.FrameworkReregisteredMessage");

/// Scheduler -> master: the framework is done (driver `stop(false)`); the
/// master kills its tasks and forgets it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnregisterFrameworkMessage {
    pub framework_id: FrameworkID,
}
libprocess::message!(UnregisterFrameworkMessage, "rmesos.internal.UnregisterFrameworkMessage");

/// Scheduler -> master: the scheduler is going away but will fail over
/// (driver `stop(true)` or `abort`); the master stops sending offers and
/// keeps the tasks for `failover_timeout`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeactivateFrameworkMessage {
    pub framework_id: FrameworkID,
}
libprocess::message!(DeactivateFrameworkMessage, "rmesos.internal.DeactivateFrameworkMessage");

/// Master -> scheduler: offers (-> `Scheduler::resource_offers`). `pids[i]`
/// is the pid of the slave of `offers[i]`, so that the driver can send
/// framework messages straight to slaves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceOffersMessage {
    pub offers: Vec<Offer>,
    #[serde(default)]
    pub pids: Vec<Upid>,
}
libprocess::message!(ResourceOffersMessage, "rmesos.internal.ResourceOffersMessage");

/// Master -> scheduler: an offer is no longer valid (its slave went away, or
/// the master took it back) (-> `Scheduler::offer_rescinded`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RescindResourceOfferMessage {
    pub offer_id: OfferID,
}
libprocess::message!(RescindResourceOfferMessage, "rmesos.internal.RescindResourceOfferMessage");

/// Scheduler -> master: launch `tasks` on the resources of `offer_ids` (all on
/// one slave); what the tasks do not use is declined with `filters`.
/// **Declining is this message with no tasks**, as in Mesos
/// ([`LaunchTasksMessage::decline`]). Invalid tasks get TASK_ERROR (bad
/// description) or TASK_DROPPED / TASK_LOST (bad offers) status updates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LaunchTasksMessage {
    pub framework_id: FrameworkID,
    #[serde(default)]
    pub tasks: Vec<TaskInfo>,
    #[serde(default)]
    pub filters: Filters,
    pub offer_ids: Vec<OfferID>,
}
libprocess::message!(LaunchTasksMessage, "rmesos.internal.LaunchTasksMessage");

impl LaunchTasksMessage {
    /// Declines `offer_ids` entirely, withholding them per `filters`.
    pub fn decline(framework_id: FrameworkID, offer_ids: Vec<OfferID>, filters: Filters) -> LaunchTasksMessage {
        LaunchTasksMessage { framework_id, tasks: Vec::new(), filters, offer_ids }
    }

    /// Whether this message only declines.
    pub fn is_decline(&self) -> bool {
        self.tasks.is_empty()
    }
}

/// Scheduler -> master: remove all the framework's filters and resume offers
/// if suppressed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviveOffersMessage {
    pub framework_id: FrameworkID,
}
libprocess::message!(ReviveOffersMessage, "rmesos.internal.ReviveOffersMessage");

/// Scheduler -> master: send no more offers until revived. (Mesos carries
/// this as a scheduler `Call`; rmesos gives it a message of its own.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuppressOffersMessage {
    pub framework_id: FrameworkID,
}
libprocess::message!(SuppressOffersMessage, "rmesos.internal.SuppressOffersMessage");

/// Kill a task. Scheduler -> master (which answers TASK_LOST / TASK_UNKNOWN
/// itself for a task it does not know), master -> slave, slave -> executor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KillTaskMessage {
    pub framework_id: FrameworkID,
    pub task_id: TaskID,
    /// Overrides the task's own `kill_policy` for this kill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<crate::info::KillPolicy>,
}
libprocess::message!(KillTaskMessage, "rmesos.internal.KillTaskMessage");

/// Scheduler -> master: report the latest state of these tasks (explicit
/// reconciliation) or, with no statuses, of all the framework's tasks
/// (implicit). The master answers with status updates without uuids
/// (reason REASON_RECONCILIATION). Also master -> slave inside
/// [`crate::messages::SlaveReregisteredMessage`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconcileTasksMessage {
    pub framework_id: FrameworkID,
    #[serde(default)]
    pub statuses: Vec<TaskStatus>,
    /// Set by the master in the reconciliations of a
    /// `SlaveReregisteredMessage` (as Mesos 1.1+): the slave answers a task
    /// it does not know TASK_DROPPED to a PARTITION_AWARE framework,
    /// TASK_LOST to others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<FrameworkInfo>,
}
libprocess::message!(ReconcileTasksMessage, "rmesos.internal.ReconcileTasksMessage");

/// Master -> scheduler: the framework is refused or removed (bad
/// FrameworkInfo, failover by another scheduler...) (-> `Scheduler::error`;
/// the driver aborts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkErrorMessage {
    pub message: String,
}
libprocess::message!(FrameworkErrorMessage, "rmesos.internal.FrameworkErrorMessage");

/// Scheduler -> master -> slave -> executor (or scheduler straight to the
/// slave): opaque framework data for one executor
/// (-> `Executor::framework_message`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkToExecutorMessage {
    pub slave_id: SlaveID,
    pub framework_id: FrameworkID,
    pub executor_id: ExecutorID,
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}
libprocess::message!(FrameworkToExecutorMessage, "rmesos.internal.FrameworkToExecutorMessage");

/// Executor -> slave -> master -> scheduler: opaque executor data for the
/// framework (-> `Scheduler::framework_message`). Best effort, not retried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutorToFrameworkMessage {
    pub slave_id: SlaveID,
    pub framework_id: FrameworkID,
    pub executor_id: ExecutorID,
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}
libprocess::message!(ExecutorToFrameworkMessage, "rmesos.internal.ExecutorToFrameworkMessage");

/// Master -> scheduler: a slave was removed (missed pings, shut down)
/// (-> `Scheduler::slave_lost`). Its tasks' TASK_LOST / TASK_UNREACHABLE
/// updates come separately.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LostSlaveMessage {
    pub slave_id: SlaveID,
}
libprocess::message!(LostSlaveMessage, "rmesos.internal.LostSlaveMessage");

/// Slave -> master -> scheduler: an executor exited with `status` (the wait
/// status; for the command executor its exit code) (-> `Scheduler::executor_lost`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExitedExecutorMessage {
    pub slave_id: SlaveID,
    pub framework_id: FrameworkID,
    pub executor_id: ExecutorID,
    pub status: i32,
}
libprocess::message!(ExitedExecutorMessage, "rmesos.internal.ExitedExecutorMessage");

/// Master -> slave: the framework failed over to a new scheduler `pid` (or
/// changed its info); the slave routes its executors' messages there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateFrameworkMessage {
    pub framework_id: FrameworkID,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<Upid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_info: Option<FrameworkInfo>,
}
libprocess::message!(UpdateFrameworkMessage, "rmesos.internal.UpdateFrameworkMessage");
