//! The status-update manager: the slave's pure core for getting every status
//! update of every task to the framework, reliably and in order.
//!
//! One stream per task (framework id, task id). Updates enter in the order
//! the executor (or the slave itself) made them; only the front of a stream
//! is in flight. It is forwarded to the master at once, and resent after
//! [`RETRY_INTERVAL_MIN`] (10 s) doubling up to [`RETRY_INTERVAL_MAX`]
//! (10 min) until the framework acknowledges its uuid; then the next one
//! goes. A stream ends when its terminal update is acknowledged. While no
//! master is known the manager is paused (nothing sent, nothing retried);
//! resuming resends every stream's front at once with a fresh 10 s interval,
//! as Mesos's `TaskStatusUpdateManager` does on (re)registration.
//!
//! Pure: no I/O, no clock (callers pass `now`). Every change to a stream is
//! reported as a [`Change`] so the shell can checkpoint that stream's pending
//! updates (a restarted slave re-creates the manager with [`recover`]).
//!
//! [`recover`]: StatusUpdateManager::recover

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::Duration;

use libprocess::Time;
use rmesos::ids::{FrameworkID, TaskID};
use rmesos::StatusUpdate;
use uuid::Uuid;

/// First retry of an unacknowledged update (Mesos's `STATUS_UPDATE_RETRY_INTERVAL_MIN`).
pub const RETRY_INTERVAL_MIN: Duration = Duration::from_secs(10);
/// Longest retry interval (Mesos's `STATUS_UPDATE_RETRY_INTERVAL_MAX`).
pub const RETRY_INTERVAL_MAX: Duration = Duration::from_secs(600);
/// Updates one task's stream may hold unacknowledged; more are refused (an
/// executor flooding updates while the master is away must not exhaust memory).
pub const MAX_PENDING_UPDATES_PER_TASK: usize = 1_000;

/// A stream key: the task of a framework.
pub type StreamId = (FrameworkID, TaskID);

/// Why an update or an acknowledgement was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UpdateError {
    #[error("status update for task {0} has no uuid")]
    NoUuid(TaskID),
    #[error("task {0} already had its terminal update acknowledged")]
    StreamClosed(TaskID),
    #[error("task {0} has {MAX_PENDING_UPDATES_PER_TASK} unacknowledged updates already")]
    TooManyPending(TaskID),
    #[error("no pending status update for task {0}")]
    UnknownStream(TaskID),
    #[error("acknowledgement {uuid} for task {task} does not match the update in flight")]
    UnexpectedAck { task: TaskID, uuid: Uuid },
}

/// What an update did.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// A new update, queued (and forwarded if in the list).
    New,
    /// The same uuid was received before: ignored (the executor retried).
    Duplicate,
}

/// What an acknowledgement did.
#[derive(Debug, Clone, PartialEq)]
pub struct Acked {
    /// The acknowledged update.
    pub update: StatusUpdate,
    /// The stream ended: its terminal update was acknowledged.
    pub terminated: bool,
}

/// The effects of one call: updates to send to the master now, and streams
/// whose pending list changed (checkpoint them).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Output {
    pub forward: Vec<StatusUpdate>,
    pub changed: Vec<StreamId>,
}

#[derive(Debug, Default)]
struct Stream {
    pending: VecDeque<StatusUpdate>,
    /// Every uuid received on this stream (duplicates are ignored).
    seen: HashSet<Uuid>,
    /// When the front is next resent, and the interval that led there.
    retry: Option<(Time, Duration)>,
}

impl Stream {
    /// The front, stamped with the latest state of the stream (Mesos's
    /// `latest_state`), so the master knows how far the task really is.
    fn front(&self) -> Option<StatusUpdate> {
        let mut u = self.pending.front()?.clone();
        u.latest_state = self.pending.back().map(|b| b.status.state);
        Some(u)
    }
}

/// The manager (see the module doc).
#[derive(Debug, Default)]
pub struct StatusUpdateManager {
    streams: BTreeMap<StreamId, Stream>,
    paused: bool,
}

impl StatusUpdateManager {
    /// A manager that starts paused: nothing is sent before the slave is
    /// registered with a master.
    pub fn new() -> StatusUpdateManager {
        StatusUpdateManager { streams: BTreeMap::new(), paused: true }
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Takes in an update (from an executor, or made by the slave).
    pub fn update(&mut self, update: StatusUpdate, now: Time) -> Result<(Received, Output), UpdateError> {
        let task = update.task_id().clone();
        let uuid = update.uuid.ok_or_else(|| UpdateError::NoUuid(task.clone()))?;
        let key = (update.framework_id.clone(), task.clone());
        let paused = self.paused;
        let stream = self.streams.entry(key.clone()).or_default();
        if stream.seen.contains(&uuid) {
            return Ok((Received::Duplicate, Output::default()));
        }
        if stream.pending.back().is_some_and(|u| u.status.state.is_terminal()) {
            return Err(UpdateError::StreamClosed(task));
        }
        if stream.pending.len() >= MAX_PENDING_UPDATES_PER_TASK {
            return Err(UpdateError::TooManyPending(task));
        }
        stream.seen.insert(uuid);
        stream.pending.push_back(update);
        let mut out = Output { forward: Vec::new(), changed: vec![key] };
        if stream.pending.len() == 1 && !paused {
            out.forward.extend(stream.front());
            stream.retry = Some((now + RETRY_INTERVAL_MIN, RETRY_INTERVAL_MIN));
        }
        Ok((Received::New, out))
    }

    /// The framework acknowledged `uuid` of a task: the front leaves, the
    /// next update (if any) is forwarded.
    pub fn acknowledge(
        &mut self,
        framework_id: &FrameworkID,
        task_id: &TaskID,
        uuid: Uuid,
        now: Time,
    ) -> Result<(Acked, Output), UpdateError> {
        let key = (framework_id.clone(), task_id.clone());
        let paused = self.paused;
        let stream = self.streams.get_mut(&key).ok_or_else(|| UpdateError::UnknownStream(task_id.clone()))?;
        if stream.pending.front().and_then(|u| u.uuid) != Some(uuid) {
            return Err(UpdateError::UnexpectedAck { task: task_id.clone(), uuid });
        }
        let update = stream.pending.pop_front().expect("front checked above");
        let terminated = update.status.state.is_terminal();
        let mut out = Output { forward: Vec::new(), changed: vec![key.clone()] };
        stream.retry = None;
        if terminated {
            // Updates after a terminal one are refused, so nothing can follow.
            self.streams.remove(&key);
        } else if let Some(next) = stream.front() {
            if !paused {
                out.forward.push(next);
                stream.retry = Some((now + RETRY_INTERVAL_MIN, RETRY_INTERVAL_MIN));
            }
        }
        Ok((Acked { update, terminated }, out))
    }

    /// Resends every front whose retry time has come, doubling its interval.
    pub fn tick(&mut self, now: Time) -> Output {
        let mut out = Output::default();
        if self.paused {
            return out;
        }
        for stream in self.streams.values_mut() {
            let Some((due, interval)) = stream.retry else { continue };
            if due > now {
                continue;
            }
            let next = (interval * 2).min(RETRY_INTERVAL_MAX);
            stream.retry = Some((now + next, next));
            out.forward.extend(stream.front());
        }
        out
    }

    /// No master: stop sending until [`resume`](Self::resume).
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// A master is known again: resend every front now, retry from 10 s.
    pub fn resume(&mut self, now: Time) -> Output {
        self.paused = false;
        let mut out = Output::default();
        for stream in self.streams.values_mut() {
            if let Some(front) = stream.front() {
                out.forward.push(front);
                stream.retry = Some((now + RETRY_INTERVAL_MIN, RETRY_INTERVAL_MIN));
            }
        }
        out
    }

    /// Drops every stream of a framework (it was shut down: nobody will
    /// acknowledge). Returns the streams dropped.
    pub fn cleanup(&mut self, framework_id: &FrameworkID) -> Vec<StreamId> {
        let keys: Vec<StreamId> = self.streams.keys().filter(|(f, _)| f == framework_id).cloned().collect();
        for k in &keys {
            self.streams.remove(k);
        }
        keys
    }

    /// The unacknowledged updates of one task, oldest first (what a
    /// checkpoint holds).
    pub fn pending(&self, framework_id: &FrameworkID, task_id: &TaskID) -> Vec<StatusUpdate> {
        self.streams
            .get(&(framework_id.clone(), task_id.clone()))
            .map(|s| s.pending.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether the task still has unacknowledged updates.
    pub fn has_pending(&self, framework_id: &FrameworkID, task_id: &TaskID) -> bool {
        self.streams.get(&(framework_id.clone(), task_id.clone())).is_some_and(|s| !s.pending.is_empty())
    }

    /// The earliest retry time, if any stream waits for one.
    pub fn next_retry(&self) -> Option<Time> {
        self.streams.values().filter_map(|s| s.retry.map(|(t, _)| t)).min()
    }

    /// Re-creates a stream from a checkpoint (paused; `resume` sends it).
    pub fn recover(&mut self, updates: Vec<StatusUpdate>) {
        for u in updates {
            let Some(uuid) = u.uuid else { continue };
            let stream = self.streams.entry((u.framework_id.clone(), u.task_id().clone())).or_default();
            if stream.seen.insert(uuid) {
                stream.pending.push_back(u);
            }
        }
    }
}

#[cfg(test)]
#[path = "status_update_manager_tests.rs"]
mod tests;
