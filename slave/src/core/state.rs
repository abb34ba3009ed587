//! The slave's bookkeeping: frameworks, their executors, and the tasks in
//! each executor (queued until the executor registers, launched, terminated
//! but not yet acknowledged, completed). Owned by the slave core; rebuilt
//! after a restart from the checkpoint (issue 6's recovery).

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use libprocess::Upid;
use rmesos::ids::{ExecutorID, FrameworkID, TaskID};
use rmesos::info::{ExecutorInfo, FrameworkInfo, TaskInfo};
use rmesos::task::{Reason, Task, TaskState, TaskStatus};
use uuid::Uuid;

/// Completed tasks kept per executor for `/state` (Mesos keeps 1000).
pub const MAX_COMPLETED_TASKS_PER_EXECUTOR: usize = 1000;
/// Completed executors kept per framework for `/state` (Mesos keeps 150).
pub const MAX_COMPLETED_EXECUTORS_PER_FRAMEWORK: usize = 150;
/// Completed frameworks kept for `/state` (Mesos keeps 50).
pub const MAX_COMPLETED_FRAMEWORKS: usize = 50;
/// Statuses kept in a task's history (the latest ones).
pub const MAX_STATUSES_PER_TASK: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameworkState {
    Running,
    /// Shut down by the master: executors are being shut down.
    Terminating,
}

#[derive(Debug, Clone)]
pub struct Framework {
    pub info: FrameworkInfo,
    pub id: FrameworkID,
    /// The scheduler's pid (for routing; informational here).
    pub pid: Option<Upid>,
    pub state: FrameworkState,
    pub executors: BTreeMap<ExecutorID, Executor>,
    pub completed_executors: VecDeque<Executor>,
}

impl Framework {
    pub fn new(id: FrameworkID, info: FrameworkInfo, pid: Option<Upid>) -> Framework {
        Framework {
            info,
            id,
            pid,
            state: FrameworkState::Running,
            executors: BTreeMap::new(),
            completed_executors: VecDeque::new(),
        }
    }

    /// The executor running (or queued to run) `task`.
    pub fn executor_of(&self, task: &TaskID) -> Option<&ExecutorID> {
        self.executors.iter().find(|(_, e)| e.has_task(task)).map(|(id, _)| id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutorState {
    /// Launched, waiting for RegisterExecutorMessage.
    Registering,
    /// Registered: tasks go to it directly.
    Running,
    /// Told to shut down (or being killed); waiting for the process to exit.
    Terminating,
    /// The process exited; waiting for its tasks' updates to be acknowledged.
    Terminated,
}

/// What the tasks still running become when the executor process ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Termination {
    pub state: TaskState,
    pub reason: Reason,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Executor {
    pub id: ExecutorID,
    pub info: ExecutorInfo,
    /// The run (Mesos's container id): a fresh uuid for every launch.
    pub run: Uuid,
    pub directory: PathBuf,
    pub state: ExecutorState,
    /// The executor driver's pid, once registered.
    pub pid: Option<Upid>,
    /// Whether this is the command executor (one task, id = task id).
    pub command_executor: bool,
    /// Tasks waiting for the executor to register.
    pub queued: BTreeMap<TaskID, TaskInfo>,
    /// Tasks given to the executor and not terminal.
    pub launched: BTreeMap<TaskID, Task>,
    /// Tasks terminal whose terminal update is not yet acknowledged.
    pub terminated: BTreeMap<TaskID, Task>,
    pub completed: VecDeque<Task>,
    /// Set when the slave itself ends the executor (e.g. registration timeout).
    pub termination: Option<Termination>,
}

impl Executor {
    pub fn new(info: ExecutorInfo, run: Uuid, directory: PathBuf, command_executor: bool) -> Executor {
        Executor {
            id: info.executor_id.clone(),
            info,
            run,
            directory,
            state: ExecutorState::Registering,
            pid: None,
            command_executor,
            queued: BTreeMap::new(),
            launched: BTreeMap::new(),
            terminated: BTreeMap::new(),
            completed: VecDeque::new(),
            termination: None,
        }
    }

    pub fn has_task(&self, task: &TaskID) -> bool {
        self.queued.contains_key(task) || self.launched.contains_key(task) || self.terminated.contains_key(task)
    }

    /// The task record of `task` (launched or terminated) for an update.
    pub fn task_mut(&mut self, task: &TaskID) -> Option<&mut Task> {
        match self.launched.get_mut(task) {
            Some(t) => Some(t),
            None => self.terminated.get_mut(task),
        }
    }

    /// Records `status` on the task's record; a terminal one moves it to
    /// `terminated`. Returns false if the executor does not know the task.
    pub fn update_task_state(&mut self, status: &TaskStatus) -> bool {
        let Some(task) = self.task_mut(&status.task_id) else { return false };
        task.state = status.state;
        task.statuses.push(status.clone());
        if task.statuses.len() > MAX_STATUSES_PER_TASK {
            task.statuses.remove(0);
        }
        if status.state.is_terminal() {
            if let Some(t) = self.launched.remove(&status.task_id) {
                self.terminated.insert(t.task_id.clone(), t);
            }
        }
        true
    }

    /// The terminal update of `task` was acknowledged: it is completed.
    pub fn complete_task(&mut self, task: &TaskID) {
        if let Some(t) = self.terminated.remove(task) {
            self.completed.push_back(t);
            if self.completed.len() > MAX_COMPLETED_TASKS_PER_EXECUTOR {
                self.completed.pop_front();
            }
        }
    }

    /// Whether the update `uuid` of `task` is in the task's record (the
    /// slave handled it; a record keeps its latest [`MAX_STATUSES_PER_TASK`]).
    pub fn recorded(&self, task: &TaskID, uuid: Uuid) -> bool {
        let has = |t: &Task| t.statuses.iter().any(|s| s.uuid == Some(uuid));
        self.launched.get(task).or_else(|| self.terminated.get(task)).is_some_and(has)
            || self.completed.iter().any(|t| t.task_id == *task && has(t))
    }

    /// Tasks not yet terminal (queued or launched).
    pub fn live_task_ids(&self) -> Vec<TaskID> {
        self.queued.keys().chain(self.launched.keys()).cloned().collect()
    }
}
