//! Status updates and their acknowledgements: how a task's state reaches its
//! framework reliably.
//!
//! executor --StatusUpdateMessage--> slave --StatusUpdateMessage--> master
//! --StatusUpdateMessage--> scheduler; then scheduler
//! --StatusUpdateAcknowledgementMessage--> master --> slave (--> executor).
//! The slave's status-update manager resends an update until the framework
//! acknowledges its `uuid`, one update per task in flight. Updates made by the
//! master itself (TASK_LOST for a removed slave, TASK_ERROR for an invalid
//! launch, reconciliation) carry no uuid and need no acknowledgement.

use libprocess::Upid;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{ExecutorID, FrameworkID, SlaveID, TaskID};
use crate::task::{TaskState, TaskStatus};

/// One status of one task on its way to the framework (Mesos's `StatusUpdate`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub framework_id: FrameworkID,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorID>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slave_id: Option<SlaveID>,
    pub status: TaskStatus,
    /// Seconds since the Unix epoch when the update was made.
    pub timestamp: f64,
    /// Identifies the update for acknowledgement; `None` for master-made
    /// updates, which are not acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<Uuid>,
    /// The task's latest state at the slave when this (possibly older,
    /// retried) update was sent, so the master knows the task is further on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_state: Option<TaskState>,
}

impl StatusUpdate {
    /// An update for `status`, copying the ids, time and uuid into the status
    /// as well (as Mesos's `createStatusUpdate` does), so a scheduler reading
    /// only the `TaskStatus` has them.
    pub fn new(
        framework_id: FrameworkID,
        executor_id: Option<ExecutorID>,
        slave_id: Option<SlaveID>,
        mut status: TaskStatus,
        timestamp: f64,
        uuid: Option<Uuid>,
    ) -> StatusUpdate {
        status.timestamp = Some(timestamp);
        status.uuid = uuid;
        if status.slave_id.is_none() {
            status.slave_id = slave_id.clone();
        }
        if status.executor_id.is_none() {
            status.executor_id = executor_id.clone();
        }
        StatusUpdate { framework_id, executor_id, slave_id, status, timestamp, uuid, latest_state: None }
    }

    pub fn task_id(&self) -> &TaskID {
        &self.status.task_id
    }
}

/// A status update in transit. Sent by an executor to its slave, by the slave
/// to the master (retried until acknowledged), by the master to the
/// framework's scheduler, and by the master to a scheduler on its own behalf.
/// `pid` is the sender of the original update (the slave's pid once it left
/// the slave), so the acknowledgement can be routed back; `None` for master
/// made updates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdateMessage {
    pub update: StatusUpdate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<Upid>,
}
libprocess::message!(StatusUpdateMessage, "rmesos.internal.StatusUpdateMessage");

/// The framework has processed update `uuid` of `task_id`. Sent by the
/// scheduler driver (at once after the callback with implicit
/// acknowledgements, or when the framework calls acknowledge) to the master,
/// which forwards it to the slave; the slave stops retrying that update,
/// sends the next one queued for the task, and forwards the acknowledgement
/// to the executor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdateAcknowledgementMessage {
    pub slave_id: SlaveID,
    pub framework_id: FrameworkID,
    pub task_id: TaskID,
    pub uuid: Uuid,
}
libprocess::message!(StatusUpdateAcknowledgementMessage, "rmesos.internal.StatusUpdateAcknowledgementMessage");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_copies_ids_time_and_uuid_into_the_status() {
        let fid = FrameworkID::new("f").unwrap();
        let sid = SlaveID::new("s").unwrap();
        let eid = ExecutorID::new("e").unwrap();
        let st = TaskStatus::new(TaskID::new("t").unwrap(), TaskState::Running);
        let u = StatusUpdate::new(fid, Some(eid.clone()), Some(sid.clone()), st, 12.5, Some(Uuid::from_u128(1)));
        assert_eq!(u.status.timestamp, Some(12.5));
        assert_eq!(u.status.uuid, Some(Uuid::from_u128(1)));
        assert_eq!(u.status.slave_id, Some(sid));
        assert_eq!(u.status.executor_id, Some(eid));
        assert_eq!(u.task_id().as_str(), "t");
    }
}
