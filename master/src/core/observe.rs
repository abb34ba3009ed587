//! What operators watch: the state changes the core reports while someone
//! subscribes to the operator event stream (`POST /api/v1` SUBSCRIBE, see
//! `api/operator/`). Each is an [`Action::Observe`] the core returns at the
//! moment it makes the change, in the order it makes them, so a watcher that
//! applies them to the SUBSCRIBED snapshot keeps the master's state.
//!
//! When, as Mesos's master sends them:
//! - `TaskAdded`: a task launched, or adopted from a reregistering slave;
//! - `TaskUpdated`: a task's status changed state (a status with the same
//!   state as the last one is not an event), including the master's own
//!   TASK_LOST / TASK_KILLED at a slave's or framework's removal;
//! - `FrameworkAdded`: registered, or recovered from a slave (before its
//!   tasks' `TaskAdded`); `FrameworkUpdated`: reregistered or failed over,
//!   and (beyond Mesos, so a watcher sees `connected` / `active` change)
//!   disconnected or deactivated; `FrameworkRemoved`: removed;
//! - `AgentAdded`: registered, or reregistered unknown to this master
//!   (after a failover, back from unreachable); `AgentRemoved`: removed.
//!
//! Nobody watching, nothing is made: the shell says whether anyone watches
//! ([`MasterCore::set_observed`]), as Mesos checks for subscribers before
//! building an event. Frameworks and agents are named by id: the shell
//! describes them from the core's state right after the change; tasks and
//! statuses are carried (they may be archived in the same step).

use rmesos::{FrameworkID, FrameworkInfo, SlaveID, Task, TaskState, TaskStatus};

use super::{Action, MasterCore};

/// One state change an operator sees; see the module doc.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    TaskAdded(Task),
    TaskUpdated { framework_id: FrameworkID, status: TaskStatus, state: TaskState },
    FrameworkAdded(FrameworkID),
    FrameworkUpdated(FrameworkID),
    FrameworkRemoved(FrameworkInfo),
    AgentAdded(SlaveID),
    AgentRemoved(SlaveID),
}

impl MasterCore {
    /// Whether the core reports [`Observed`] changes (someone watches).
    pub fn set_observed(&mut self, on: bool) {
        self.observed = on;
    }

    pub fn is_observed(&self) -> bool {
        self.observed
    }

    /// Reports a change if someone watches; `what` is only made then.
    pub(crate) fn observe(&mut self, what: impl FnOnce() -> Observed) {
        if self.observed {
            self.out.push(Action::Observe(what()));
        }
    }

    /// Reports a change made already (`None`: nothing to report).
    pub(crate) fn observed_change(&mut self, what: Option<Observed>) {
        if let Some(e) = what.filter(|_| self.observed) {
            self.out.push(Action::Observe(e));
        }
    }
}

/// A task's new `status` (the task already updated): `TaskUpdated` when
/// its state differs from the task's previous last status (`last`), as
/// Mesos decides.
pub(crate) fn task_updated(task: &Task, last: Option<TaskState>, status: &TaskStatus) -> Option<Observed> {
    (last != Some(status.state)).then(|| Observed::TaskUpdated {
        framework_id: task.framework_id.clone(),
        status: status.clone(),
        state: task.state,
    })
}
