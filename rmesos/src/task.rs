//! A task's life: [`TaskState`] (Mesos's states, spelled as Mesos spells them),
//! [`TaskStatus`] (one observation of a task: state, why, by whom, when), and
//! [`Task`] (what a master or slave remembers about a launched task).
//!
//! Who owns what: the executor (or, when it cannot, the slave or the master)
//! produces statuses; the slave's status-update manager makes each one
//! reliable (retried until the framework acknowledges its `uuid`); the master
//! and the slave each keep a `Task` with its latest state, rebuilt after a
//! master failover from the slaves' reregistration.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{ExecutorID, FrameworkID, SlaveID, TaskID};
use crate::info::TaskInfo;
use crate::named_enum::named_enum;
use crate::resources::Resources;

named_enum! {
    /// A task's state (Mesos's `TaskState`).
    pub enum TaskState {
        /// Initial state, set by the master and slave; executors never send it.
        Staging = "TASK_STAGING",
        /// The executor is starting the task.
        Starting = "TASK_STARTING",
        Running = "TASK_RUNNING",
        /// The executor is killing the task (frameworks with TASK_KILLING_STATE).
        Killing = "TASK_KILLING",
        /// Terminal: the task finished successfully.
        Finished = "TASK_FINISHED",
        /// Terminal: the task failed to finish successfully.
        Failed = "TASK_FAILED",
        /// Terminal: the task was killed by the executor.
        Killed = "TASK_KILLED",
        /// Terminal: the task description contains an error (never launched).
        Error = "TASK_ERROR",
        /// Terminal: the task failed but can be rescheduled (its slave or
        /// executor was lost). SEED section 3 and 4: the framework re-dispatches.
        Lost = "TASK_LOST",
        /// Terminal: the task could not be launched (partition-aware frameworks).
        Dropped = "TASK_DROPPED",
        /// The task's slave is unreachable; it may come back (partition-aware).
        Unreachable = "TASK_UNREACHABLE",
        /// Terminal: the task is known to be gone (partition-aware).
        Gone = "TASK_GONE",
        /// Terminal: an operator declared the task's slave gone.
        GoneByOperator = "TASK_GONE_BY_OPERATOR",
        /// The master does not know the task (reconciliation, partition-aware).
        Unknown = "TASK_UNKNOWN",
    }
}

impl TaskState {
    /// Whether the task can no longer change state, as Mesos decides it
    /// (TASK_LOST is terminal; TASK_UNREACHABLE and TASK_UNKNOWN are not).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::Finished
                | TaskState::Failed
                | TaskState::Killed
                | TaskState::Error
                | TaskState::Lost
                | TaskState::Dropped
                | TaskState::Gone
                | TaskState::GoneByOperator
        )
    }
}

named_enum! {
    /// Who produced a status (Mesos's `TaskStatus.Source`).
    pub enum Source {
        Master = "SOURCE_MASTER",
        Slave = "SOURCE_SLAVE",
        Executor = "SOURCE_EXECUTOR",
    }
}

named_enum! {
    /// Why a status was produced (Mesos's `TaskStatus.Reason`, all values).
    pub enum Reason {
        CommandExecutorFailed = "REASON_COMMAND_EXECUTOR_FAILED",
        ContainerLaunchFailed = "REASON_CONTAINER_LAUNCH_FAILED",
        ContainerLimitation = "REASON_CONTAINER_LIMITATION",
        ContainerLimitationDisk = "REASON_CONTAINER_LIMITATION_DISK",
        ContainerLimitationMemory = "REASON_CONTAINER_LIMITATION_MEMORY",
        ContainerPreempted = "REASON_CONTAINER_PREEMPTED",
        ContainerUpdateFailed = "REASON_CONTAINER_UPDATE_FAILED",
        MaxCompletionTimeReached = "REASON_MAX_COMPLETION_TIME_REACHED",
        ExecutorRegistrationTimeout = "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
        ExecutorReregistrationTimeout = "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
        ExecutorTerminated = "REASON_EXECUTOR_TERMINATED",
        ExecutorUnregistered = "REASON_EXECUTOR_UNREGISTERED",
        FrameworkRemoved = "REASON_FRAMEWORK_REMOVED",
        GcError = "REASON_GC_ERROR",
        InvalidFrameworkId = "REASON_INVALID_FRAMEWORKID",
        InvalidOffers = "REASON_INVALID_OFFERS",
        IoSwitchboardExited = "REASON_IO_SWITCHBOARD_EXITED",
        MasterDisconnected = "REASON_MASTER_DISCONNECTED",
        Reconciliation = "REASON_RECONCILIATION",
        ResourcesUnknown = "REASON_RESOURCES_UNKNOWN",
        SlaveDisconnected = "REASON_SLAVE_DISCONNECTED",
        SlaveDraining = "REASON_SLAVE_DRAINING",
        SlaveRemoved = "REASON_SLAVE_REMOVED",
        SlaveRemovedByOperator = "REASON_SLAVE_REMOVED_BY_OPERATOR",
        SlaveReregistered = "REASON_SLAVE_REREGISTERED",
        SlaveRestarted = "REASON_SLAVE_RESTARTED",
        SlaveUnknown = "REASON_SLAVE_UNKNOWN",
        TaskKilledDuringLaunch = "REASON_TASK_KILLED_DURING_LAUNCH",
        TaskCheckStatusUpdated = "REASON_TASK_CHECK_STATUS_UPDATED",
        TaskHealthCheckStatusUpdated = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
        TaskGroupInvalid = "REASON_TASK_GROUP_INVALID",
        TaskGroupUnauthorized = "REASON_TASK_GROUP_UNAUTHORIZED",
        TaskInvalid = "REASON_TASK_INVALID",
        TaskUnauthorized = "REASON_TASK_UNAUTHORIZED",
        TaskUnknown = "REASON_TASK_UNKNOWN",
    }
}

/// One observation of a task (Mesos's `TaskStatus`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    pub task_id: TaskID,
    pub state: TaskState,
    /// Human-readable detail (e.g. `Command exited with status 3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Opaque bytes from the executor to the scheduler.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "serde_bytes")]
    pub data: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slave_id: Option<SlaveID>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorID>,
    /// Seconds since the Unix epoch when the status was produced (a wall-clock
    /// reading for humans; nothing orders events by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<f64>,
    /// The id of the status update carrying this status; the scheduler
    /// acknowledges it. Statuses made by the master (reconciliation, lost
    /// slave) have none and need no acknowledgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<Uuid>,
    /// The task's health check result, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy: Option<bool>,
    /// The last result of the task's check (`TaskInfo.check`), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_status: Option<crate::info::CheckStatusInfo>,
}

impl TaskStatus {
    /// A status with only a task id and a state.
    pub fn new(task_id: TaskID, state: TaskState) -> TaskStatus {
        TaskStatus {
            task_id,
            state,
            message: None,
            source: None,
            reason: None,
            data: None,
            slave_id: None,
            executor_id: None,
            timestamp: None,
            uuid: None,
            healthy: None,
            check_status: None,
        }
    }

    /// ` (REASON_...: message)`, ` (REASON_...)`, ` (message)` or nothing:
    /// the why of a log line about this status (master and redispatch).
    pub fn why(&self) -> String {
        let message = self.message.as_deref().filter(|m| !m.is_empty());
        match (self.reason, message) {
            (Some(r), Some(m)) => format!(" ({r}: {m})"),
            (Some(r), None) => format!(" ({r})"),
            (None, Some(m)) => format!(" ({m})"),
            (None, None) => String::new(),
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> TaskStatus {
        self.message = Some(message.into());
        self
    }

    pub fn with_source(mut self, source: Source) -> TaskStatus {
        self.source = Some(source);
        self
    }

    pub fn with_reason(mut self, reason: Reason) -> TaskStatus {
        self.reason = Some(reason);
        self
    }

    pub fn with_slave_id(mut self, slave_id: SlaveID) -> TaskStatus {
        self.slave_id = Some(slave_id);
        self
    }

    pub fn with_executor_id(mut self, executor_id: ExecutorID) -> TaskStatus {
        self.executor_id = Some(executor_id);
        self
    }

    pub fn with_timestamp(mut self, seconds: f64) -> TaskStatus {
        self.timestamp = Some(seconds);
        self
    }
}

/// What the master and the slave remember of a launched task (Mesos's `Task`):
/// sent by a reregistering slave so a new master can rebuild its view, and
/// shown in `/state`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub name: String,
    pub task_id: TaskID,
    pub framework_id: FrameworkID,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorID>,
    pub slave_id: SlaveID,
    /// The latest state known (possibly not yet delivered to the framework).
    pub state: TaskState,
    pub resources: Resources,
    /// Statuses seen so far, oldest first.
    #[serde(default)]
    pub statuses: Vec<TaskStatus>,
    /// State and uuid of the status update the slave is still trying to
    /// deliver, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_update_state: Option<TaskState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_update_uuid: Option<Uuid>,
}

impl Task {
    /// A task in `state` made from its description: the executor id is the
    /// custom executor's, if the task has one.
    pub fn new(info: &TaskInfo, framework_id: FrameworkID, state: TaskState) -> Task {
        Task {
            name: info.name.clone(),
            task_id: info.task_id.clone(),
            framework_id,
            executor_id: info.executor.as_ref().map(|e| e.executor_id.clone()),
            slave_id: info.slave_id.clone(),
            state,
            resources: info.resources.clone(),
            statuses: Vec::new(),
            status_update_state: None,
            status_update_uuid: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_use_mesos_names_and_terminality() {
        assert_eq!(TaskState::ALL.len(), 14);
        for s in TaskState::ALL {
            assert_eq!(s.as_str().parse::<TaskState>(), Ok(*s));
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{}\"", s.as_str()));
            assert!(s.as_str().starts_with("TASK_"));
        }
        let terminal: Vec<_> = TaskState::ALL.iter().filter(|s| s.is_terminal()).map(|s| s.as_str()).collect();
        assert_eq!(
            terminal,
            [
                "TASK_FINISHED",
                "TASK_FAILED",
                "TASK_KILLED",
                "TASK_ERROR",
                "TASK_LOST",
                "TASK_DROPPED",
                "TASK_GONE",
                "TASK_GONE_BY_OPERATOR"
            ]
        );
        assert!("TASK_BOGUS".parse::<TaskState>().unwrap_err().to_string().contains("TaskState"));
        assert!(serde_json::from_str::<TaskState>("\"RUNNING\"").is_err());
    }

    #[test]
    fn reasons_and_sources_use_mesos_names() {
        assert_eq!(Reason::ALL.len(), 35);
        for r in Reason::ALL {
            assert!(r.as_str().starts_with("REASON_"));
            assert_eq!(r.as_str().parse::<Reason>(), Ok(*r));
        }
        assert_eq!(Reason::SlaveRemoved.to_string(), "REASON_SLAVE_REMOVED");
        assert_eq!(Reason::InvalidFrameworkId.to_string(), "REASON_INVALID_FRAMEWORKID");
        assert_eq!(Source::Executor.to_string(), "SOURCE_EXECUTOR");
    }

    #[test]
    fn status_json_omits_unset_fields_and_round_trips() {
        let t = TaskID::new("t1").unwrap();
        let s = TaskStatus::new(t.clone(), TaskState::Lost);
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"task_id":"t1","state":"TASK_LOST"}"#);
        let full = TaskStatus {
            data: Some(vec![0, 1, 2]),
            uuid: Some(Uuid::from_u128(7)),
            healthy: Some(true),
            ..TaskStatus::new(t, TaskState::Failed)
                .with_message("Command exited with status 3")
                .with_source(Source::Executor)
                .with_reason(Reason::CommandExecutorFailed)
                .with_slave_id(SlaveID::new("m-S0").unwrap())
                .with_executor_id(ExecutorID::new("t1").unwrap())
                .with_timestamp(1.5e9)
        };
        let j = serde_json::to_string(&full).unwrap();
        assert_eq!(serde_json::from_str::<TaskStatus>(&j).unwrap(), full);
        let b = rmp_serde::to_vec_named(&full).unwrap();
        assert_eq!(rmp_serde::from_slice::<TaskStatus>(&b).unwrap(), full);
    }
}
