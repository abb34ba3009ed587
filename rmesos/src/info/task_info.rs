//! `TaskInfo`: a task as a framework describes it in a launch. A task runs
//! either a `command` (the slave starts the command executor for it) or under
//! a framework's `executor`, never both; [`TaskInfo::validate`] checks what can
//! be checked without the cluster's state (the master adds checks against
//! offers and existing tasks).

use serde::{Deserialize, Serialize};

use super::checks::{CheckInfo, HealthCheck, KillPolicy};
use super::command::{CommandInfo, CommandInfoError, ExecutorInfo};
use crate::ids::{IdError, SlaveID, TaskID};
use crate::resources::Resources;

/// A task to launch (Mesos's `TaskInfo`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    pub name: String,
    pub task_id: TaskID,
    /// The slave of the offer the task is launched on.
    pub slave_id: SlaveID,
    pub resources: Resources,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<ExecutorInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    /// Opaque bytes for the executor.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "serde_bytes")]
    pub data: Option<Vec<u8>>,
    /// Checked by the executor; failing it kills the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// Checked by the executor and reported; never kills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckInfo>,
    /// How the task is killed (a kill's own policy overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
}

/// Why a task description is invalid (the master answers TASK_ERROR).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskInfoError {
    #[error("invalid task id: {0}")]
    TaskId(IdError),
    #[error("invalid executor id: {0}")]
    ExecutorId(IdError),
    #[error("task has neither a command nor an executor")]
    NoCommandNorExecutor,
    #[error("task has both a command and an executor")]
    BothCommandAndExecutor,
    #[error("invalid command: {0}")]
    Command(CommandInfoError),
    #[error("task uses no resources")]
    NoResources,
}

impl TaskInfo {
    /// A task running `command` under the command executor.
    pub fn command(
        name: impl Into<String>,
        task_id: TaskID,
        slave_id: SlaveID,
        resources: Resources,
        command: CommandInfo,
    ) -> TaskInfo {
        TaskInfo {
            name: name.into(),
            task_id,
            slave_id,
            resources,
            executor: None,
            command: Some(command),
            data: None,
            health_check: None,
            check: None,
            kill_policy: None,
        }
    }

    /// A task run by the framework's own `executor`.
    pub fn with_executor(
        name: impl Into<String>,
        task_id: TaskID,
        slave_id: SlaveID,
        resources: Resources,
        executor: ExecutorInfo,
    ) -> TaskInfo {
        TaskInfo {
            name: name.into(),
            task_id,
            slave_id,
            resources,
            executor: Some(executor),
            command: None,
            data: None,
            health_check: None,
            check: None,
            kill_policy: None,
        }
    }

    /// Checks ids, command/executor exclusivity, the command and that the
    /// task uses some resources (Mesos refuses tasks with no resources at all).
    pub fn validate(&self) -> Result<(), TaskInfoError> {
        self.task_id.validate().map_err(TaskInfoError::TaskId)?;
        match (&self.command, &self.executor) {
            (None, None) => return Err(TaskInfoError::NoCommandNorExecutor),
            (Some(_), Some(_)) => return Err(TaskInfoError::BothCommandAndExecutor),
            (Some(c), None) => c.validate().map_err(TaskInfoError::Command)?,
            (None, Some(e)) => {
                e.executor_id.validate().map_err(TaskInfoError::ExecutorId)?;
                e.command.validate().map_err(TaskInfoError::Command)?;
            }
        }
        if self.resources.is_empty() && self.executor.as_ref().is_none_or(|e| e.resources.is_empty()) {
            return Err(TaskInfoError::NoResources);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ExecutorID;

    fn task() -> TaskInfo {
        TaskInfo::command(
            "echo",
            TaskID::new("t1").unwrap(),
            SlaveID::new("m-S0").unwrap(),
            Resources::parse("cpus:0.1;mem:32").unwrap(),
            CommandInfo::shell("echo hello"),
        )
    }

    #[test]
    fn valid_tasks_pass_and_round_trip() {
        let t = task();
        t.validate().unwrap();
        let j = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<TaskInfo>(&j).unwrap(), t);
        let e = ExecutorInfo::new(ExecutorID::new("e1").unwrap(), CommandInfo::shell("./exec"));
        let t2 = TaskInfo {
            data: Some(b"x".to_vec()),
            ..TaskInfo::with_executor("n", t.task_id.clone(), t.slave_id.clone(), t.resources.clone(), e)
        };
        t2.validate().unwrap();
        let b = rmp_serde::to_vec_named(&t2).unwrap();
        assert_eq!(rmp_serde::from_slice::<TaskInfo>(&b).unwrap(), t2);
    }

    #[test]
    fn invalid_tasks_are_refused_with_reasons() {
        let mut t = task();
        t.command = None;
        assert_eq!(t.validate(), Err(TaskInfoError::NoCommandNorExecutor));
        let mut t = task();
        t.executor = Some(ExecutorInfo::new(ExecutorID::new("e").unwrap(), CommandInfo::shell("x")));
        assert_eq!(t.validate(), Err(TaskInfoError::BothCommandAndExecutor));
        let mut t = task();
        t.task_id = serde_json::from_str("\"a/b\"").unwrap();
        assert!(matches!(t.validate(), Err(TaskInfoError::TaskId(_))));
        let mut t = task();
        t.resources = Resources::new();
        assert_eq!(t.validate(), Err(TaskInfoError::NoResources));
        let mut t = task();
        t.command = Some(CommandInfo::shell(""));
        assert!(matches!(t.validate(), Err(TaskInfoError::Command(_))));
        assert_eq!(TaskInfoError::BothCommandAndExecutor.to_string(), "task has both a command and an executor");
    }
}
