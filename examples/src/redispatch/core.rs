//! redispatch's decisions, with no I/O: the task table, which pending tasks
//! go on which offer (first fit), and what each status update does.
//!
//! Every task has a stable key (`task-0007`, its line in the task list) and
//! one Mesos task id per attempt (`task-0007.2`), so an update from an older
//! attempt (a late TASK_LOST after the task was re-dispatched) is told apart
//! and ignored. A task reported LOST, FAILED, ERROR, DROPPED, UNREACHABLE,
//! GONE, KILLED or UNKNOWN goes back to pending and is launched again on the
//! next offer that fits (SEED sections 3 and 4: every failed state is handled
//! the same way). FINISHED is final: such a task is never launched again.
//!
//! Each change returns the keys of the records to persist; the shell writes
//! them to the [`super::store::TaskStore`] before anything else happens, so
//! a restarted redispatch resumes from the last state it acted on.

use std::collections::BTreeMap;

use rmesos::{CommandInfo, FrameworkID, Offer, OfferID, Resources, SlaveID, TaskID, TaskInfo, TaskState, TaskStatus};
use serde::{Deserialize, Serialize};

/// Most tasks in one task list.
pub const MAX_TASKS: usize = 100_000;

/// Longest command line accepted from the task list.
pub const MAX_COMMAND_LEN: usize = 64 * 1024;

/// Most re-dispatched tasks named in the closing [`Redispatch::report`].
pub const MAX_REPORTED_TASKS: usize = 10;

/// Where a task is in its life, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Waiting for an offer (new, or re-dispatched).
    Pending,
    /// Launched as `task_id`; waiting for updates.
    Launched,
    /// Finished: never launched again.
    Finished,
}

/// One task as the store keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub key: String,
    pub command: String,
    pub phase: Phase,
    /// Launches so far.
    pub attempts: u32,
    /// Times it went back to pending after a failure report.
    pub redispatches: u32,
    /// The current attempt's Mesos task id (Launched and Finished).
    #[serde(default)]
    pub task_id: Option<TaskID>,
    #[serde(default)]
    pub slave_id: Option<SlaveID>,
    /// The last state reported for the current attempt.
    #[serde(default)]
    pub last_state: Option<TaskState>,
}

impl TaskRecord {
    pub fn new(key: String, command: String) -> TaskRecord {
        TaskRecord {
            key,
            command,
            phase: Phase::Pending,
            attempts: 0,
            redispatches: 0,
            task_id: None,
            slave_id: None,
            last_state: None,
        }
    }
}

/// Why a task list is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskListError {
    #[error("the task list has no commands (one shell command per line; blank lines and # comments are skipped)")]
    Empty,
    #[error("the task list has more than {MAX_TASKS} commands")]
    TooMany,
    #[error("line {0}: command longer than {MAX_COMMAND_LEN} bytes")]
    TooLong(usize),
}

/// Reads a task list: one shell command per line; blank lines and lines
/// starting with `#` are skipped. Keys are `task-NNNN` by command order.
pub fn parse_task_list(text: &str) -> Result<Vec<TaskRecord>, TaskListError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let cmd = line.trim();
        if cmd.is_empty() || cmd.starts_with('#') {
            continue;
        }
        if cmd.len() > MAX_COMMAND_LEN {
            return Err(TaskListError::TooLong(n + 1));
        }
        if out.len() == MAX_TASKS {
            return Err(TaskListError::TooMany);
        }
        out.push(TaskRecord::new(format!("task-{:04}", out.len() + 1), cmd.to_string()));
    }
    if out.is_empty() {
        return Err(TaskListError::Empty);
    }
    Ok(out)
}

/// What an update did.
#[derive(Debug, Default, PartialEq)]
pub struct UpdateOutcome {
    /// A progress line for a human (None: duplicate or stale update).
    pub progress: Option<String>,
    /// Record to persist.
    pub save: Option<String>,
    /// The task went back to pending: offers are wanted again.
    pub redispatched: bool,
}

/// The task table.
pub struct Redispatch {
    tasks: BTreeMap<String, TaskRecord>,
    resources: Resources,
}

impl Redispatch {
    /// The table from the task list merged with the stored records: a stored
    /// record wins (it carries the task's progress); list lines not yet
    /// stored are added as pending. Returns the keys to persist (the new ones).
    pub fn new(list: Vec<TaskRecord>, stored: Vec<TaskRecord>, resources: Resources) -> (Redispatch, Vec<String>) {
        let mut tasks: BTreeMap<String, TaskRecord> = stored.into_iter().map(|r| (r.key.clone(), r)).collect();
        let mut added = Vec::new();
        for r in list {
            match tasks.get(&r.key) {
                Some(s) if s.command != r.command => {
                    tracing::warn!(key = %r.key, "the task list changed this task's command; keeping the stored one");
                }
                Some(_) => {}
                None => {
                    added.push(r.key.clone());
                    tasks.insert(r.key.clone(), r);
                }
            }
        }
        (Redispatch { tasks, resources }, added)
    }

    pub fn record(&self, key: &str) -> Option<&TaskRecord> {
        self.tasks.get(key)
    }

    pub fn records(&self) -> impl Iterator<Item = &TaskRecord> {
        self.tasks.values()
    }

    pub fn total(&self) -> usize {
        self.tasks.len()
    }

    pub fn finished(&self) -> usize {
        self.tasks.values().filter(|r| r.phase == Phase::Finished).count()
    }

    pub fn pending(&self) -> usize {
        self.tasks.values().filter(|r| r.phase == Phase::Pending).count()
    }

    pub fn redispatched(&self) -> u32 {
        self.tasks.values().map(|r| r.redispatches).sum()
    }

    pub fn is_done(&self) -> bool {
        self.finished() == self.total()
    }

    /// `finished N of M, re-dispatched K`.
    pub fn summary(&self) -> String {
        format!("finished {} of {}, re-dispatched {}", self.finished(), self.total(), self.redispatched())
    }

    /// The closing report, printed before the summary: launches in all, and
    /// the tasks that needed more than one (at most [`MAX_REPORTED_TASKS`]
    /// named).
    pub fn report(&self) -> String {
        let launches: u64 = self.tasks.values().map(|r| u64::from(r.attempts)).sum();
        let again: Vec<&TaskRecord> = self.tasks.values().filter(|r| r.redispatches > 0).collect();
        let mut line = format!(
            "Done: {} of {} tasks finished after {launches} launches; {} task(s) re-dispatched",
            self.finished(),
            self.total(),
            again.len()
        );
        if !again.is_empty() {
            let named: Vec<String> =
                again.iter().take(MAX_REPORTED_TASKS).map(|r| format!("{} ({} attempts)", r.key, r.attempts)).collect();
            line.push_str(&format!(": {}", named.join(", ")));
            if again.len() > MAX_REPORTED_TASKS {
                line.push_str(&format!(" and {} more", again.len() - MAX_REPORTED_TASKS));
            }
        }
        line
    }

    /// The framework registered as `id`, having `previous` stored. Under a
    /// new id the old framework's tasks are gone with it: launched tasks go
    /// back to pending (re-dispatched). Returns the keys to persist.
    pub fn registered(&mut self, id: &FrameworkID, previous: Option<&FrameworkID>) -> Vec<String> {
        if previous == Some(id) {
            return Vec::new();
        }
        let mut changed = Vec::new();
        for r in self.tasks.values_mut().filter(|r| r.phase == Phase::Launched) {
            to_pending(r);
            changed.push(r.key.clone());
        }
        changed
    }

    /// Statuses of the launched tasks, for explicit reconciliation after
    /// (re)registration: the master answers with their latest states.
    pub fn reconcile_statuses(&self) -> Vec<TaskStatus> {
        self.tasks
            .values()
            .filter(|r| r.phase == Phase::Launched)
            .filter_map(|r| {
                let id = r.task_id.clone()?;
                let mut s = TaskStatus::new(id, r.last_state.unwrap_or(TaskState::Staging));
                s.slave_id = r.slave_id.clone();
                Some(s)
            })
            .collect()
    }

    /// Statuses of the tasks launched on `slave`, for explicit
    /// reconciliation when it is lost: a master that never knew them (it
    /// took over and the slave never came back) sends no TASK_LOST for
    /// them, but answers a reconciliation with it.
    pub fn reconcile_statuses_on(&self, slave: &SlaveID) -> Vec<TaskStatus> {
        let mut statuses = self.reconcile_statuses();
        statuses.retain(|s| s.slave_id.as_ref() == Some(slave));
        statuses
    }

    /// First fit: fills each offer with pending tasks in key order while
    /// their resources fit. Returns the launches (offer, tasks), the offers
    /// to decline, and the keys to persist (before launching).
    pub fn place(&mut self, offers: &[Offer]) -> Placement {
        let mut placement = Placement::default();
        let mut pending = self.tasks.values_mut().filter(|r| r.phase == Phase::Pending).peekable();
        for offer in offers {
            let mut left = offer.resources.clone();
            let mut tasks = Vec::new();
            while pending.peek().is_some() {
                let Some(rest) = left.checked_sub(&self.resources) else { break };
                let Some(r) = pending.next() else { break };
                left = rest;
                r.attempts += 1;
                let task_id = match TaskID::new(format!("{}.{}", r.key, r.attempts)) {
                    Ok(id) => id,
                    Err(e) => {
                        tracing::error!(key = %r.key, "cannot make a task id: {e}");
                        continue;
                    }
                };
                r.phase = Phase::Launched;
                r.task_id = Some(task_id.clone());
                r.slave_id = Some(offer.slave_id.clone());
                r.last_state = None;
                placement.save.push(r.key.clone());
                tasks.push(TaskInfo::command(
                    r.key.clone(),
                    task_id,
                    offer.slave_id.clone(),
                    self.resources.clone(),
                    CommandInfo::shell(r.command.clone()),
                ));
            }
            if tasks.is_empty() {
                placement.decline.push(offer.id.clone());
            } else {
                placement.launch.push((offer.id.clone(), tasks));
            }
        }
        placement
    }

    /// A status update for one of our tasks.
    pub fn update(&mut self, status: &TaskStatus) -> UpdateOutcome {
        let Some(key) = key_of(&status.task_id) else {
            tracing::warn!(task = %status.task_id, "update for a task id redispatch did not make; ignored");
            return UpdateOutcome::default();
        };
        let Some(r) = self.tasks.get_mut(key) else { return UpdateOutcome::default() };
        if r.phase != Phase::Launched || r.task_id.as_ref() != Some(&status.task_id) {
            tracing::debug!(task = %status.task_id, "stale or duplicate update ignored");
            return UpdateOutcome::default();
        }
        if r.last_state == Some(status.state) {
            return UpdateOutcome::default();
        }
        r.last_state = Some(status.state);
        let mut line = format!("{} (attempt {}) {}", r.key, r.attempts, status.state);
        if let Some(sid) = status.slave_id.as_ref().or(r.slave_id.as_ref()) {
            line.push_str(&format!(" on slave {sid}"));
        }
        line.push_str(&status.why());
        let mut redispatched = false;
        match status.state {
            TaskState::Finished => r.phase = Phase::Finished,
            s if needs_redispatch(s) => {
                to_pending(r);
                line.push_str(&format!("; re-dispatching (attempt {})", r.attempts + 1));
                redispatched = true;
            }
            _ => {}
        }
        let key = r.key.clone();
        line.push_str(&format!(" [{}]", self.summary()));
        UpdateOutcome { progress: Some(line), save: Some(key), redispatched }
    }
}

/// Launches and declines for a batch of offers.
#[derive(Debug, Default, PartialEq)]
pub struct Placement {
    pub launch: Vec<(OfferID, Vec<TaskInfo>)>,
    pub decline: Vec<OfferID>,
    pub save: Vec<String>,
}

/// The states after which a task is launched again.
pub fn needs_redispatch(state: TaskState) -> bool {
    matches!(
        state,
        TaskState::Lost
            | TaskState::Failed
            | TaskState::Error
            | TaskState::Dropped
            | TaskState::Unreachable
            | TaskState::Gone
            | TaskState::GoneByOperator
            | TaskState::Killed
            | TaskState::Unknown
    )
}

fn to_pending(r: &mut TaskRecord) {
    r.phase = Phase::Pending;
    r.redispatches += 1;
    r.task_id = None;
    r.slave_id = None;
}

/// `task-0007` of `task-0007.2`.
fn key_of(task_id: &TaskID) -> Option<&str> {
    task_id.as_str().rsplit_once('.').map(|(k, _)| k)
}
