//! Executors on Mesos's v1 executor HTTP API: what the core makes of a
//! SUBSCRIBE (Mesos's `Slave::subscribe`) and which calls it takes at all
//! (the checks of Mesos's `Http::executor`).
//!
//! The shell (`crate::api`) turns each SUBSCRIBE stream into a subscriber
//! process and hands the subscription over as coming from its Upid, which
//! the core then knows the executor by, as it knows a driver executor by
//! its driver's Upid: tasks, kills, acknowledgements, framework messages
//! and shutdowns are sent there, the same messages as to a driver. So the
//! rest of the core has no HTTP case. A SUBSCRIBE is a registration, a
//! reconnection (a new stream for an executor already running: the stream
//! broke) or, while the slave recovers, a reregistration; in every case:
//! 1. the executor's unacknowledged updates are handled, each once (one the
//!    slave handled already and the framework acknowledged is acknowledged
//!    to the executor at once);
//! 2. a task still STAGING that the executor does not list among its
//!    unacknowledged tasks never reached it: TASK_LOST
//!    (REASON_SLAVE_RESTARTED), as Mesos decides;
//! 3. the executor is told it is subscribed (`ExecutorRegisteredMessage`:
//!    SUBSCRIBED on the stream), then given its queued tasks.
//!
//! An HTTP executor's Upid is not checkpointed (it is a stream of this
//! slave process, gone with it): after a restart the slave waits
//! `--executor_reregistration_timeout` for it to subscribe again, as for an
//! executor that never registered, and never sends it a reconnect message.

use libprocess::Upid;
use rmesos::ids::{ExecutorID, FrameworkID};
use rmesos::info::TaskInfo;
use rmesos::messages::*;
use rmesos::task::{Reason, Task, TaskState, TaskStatus};

use super::state::{ExecutorState, FrameworkState};
use super::{Action, Checkpoint, Now, Outgoing, RegState, SlaveCore};

/// An executor's SUBSCRIBE, as the shell hands it to the core.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscribeExecutor {
    pub framework_id: FrameworkID,
    pub executor_id: ExecutorID,
    /// Tasks the executor got and has no acknowledged update of.
    pub unacknowledged_tasks: Vec<TaskInfo>,
    /// Updates the executor sent and saw no ACKNOWLEDGED for.
    pub unacknowledged_updates: Vec<StatusUpdate>,
}

/// Why a call to `/api/v1/executor` is refused: Mesos's status and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub reason: String,
}

impl SlaveCore {
    /// Whether the slave takes a call of executor `eid` now (`subscribe`:
    /// the call is a SUBSCRIBE). As Mesos: 503 while recovering (but for
    /// SUBSCRIBE, how recovering executors come back), 400 for a framework
    /// or executor it does not know, 403 for an executor not subscribed.
    pub fn executor_call(&self, fid: &FrameworkID, eid: &ExecutorID, subscribe: bool) -> Result<(), Refused> {
        let refuse = |status, reason: &str| Err(Refused { status, reason: reason.to_string() });
        if self.recovering() && !subscribe {
            return refuse(503, "Agent has not finished recovery");
        }
        let Some(f) = self.frameworks.get(fid) else { return refuse(400, "Framework cannot be found") };
        let Some(e) = f.executors.get(eid) else { return refuse(400, "Executor cannot be found") };
        if !subscribe && (e.state == ExecutorState::Registering || e.pid.is_none()) {
            return refuse(403, "Executor is not subscribed");
        }
        Ok(())
    }

    /// The Upid an executor's calls are taken as coming from (its current
    /// stream's subscriber, or its driver).
    pub fn executor_pid(&self, fid: &FrameworkID, eid: &ExecutorID) -> Option<&Upid> {
        self.frameworks.get(fid)?.executors.get(eid)?.pid.as_ref()
    }

    /// The run of an executor (its container id).
    pub fn executor_run(&self, fid: &FrameworkID, eid: &ExecutorID) -> Option<uuid::Uuid> {
        Some(self.frameworks.get(fid)?.executors.get(eid)?.run)
    }

    /// An executor subscribed on the stream whose subscriber is `from`.
    pub fn subscribe_executor(&mut self, from: &Upid, msg: SubscribeExecutor, now: Now) -> Vec<Action> {
        let SubscribeExecutor { framework_id: fid, executor_id: eid, unacknowledged_tasks, unacknowledged_updates } =
            msg;
        let shutdown = ShutdownExecutorMessage { executor_id: Some(eid.clone()), framework_id: Some(fid.clone()) };
        let terminating = self.state == RegState::Terminating
            || self.frameworks.get(&fid).is_some_and(|f| f.state == FrameworkState::Terminating);
        let state = self.executor_mut(&fid, &eid).map(|e| e.state);
        let (Some(ExecutorState::Registering | ExecutorState::Running), false) = (state, terminating) else {
            tracing::warn!(%from, executor = %eid, framework = %fid, ?state, terminating,
                "Shutting down HTTP executor '{eid}' of framework {fid}: not expected to subscribe");
            self.send(from, Outgoing::ShutdownExecutor(shutdown));
            return self.take();
        };
        let Some(slave_id) = self.info.id.clone() else { return self.take() };
        let key = (fid.clone(), eid.clone());
        let awaited = self.recovering.as_ref().is_some_and(|w| w.contains(&key));
        if let Some(w) = self.recovering.as_mut() {
            w.remove(&key);
        }
        let finfo = self.frameworks[&fid].info.clone();
        let e = self.executor_mut(&fid, &eid).expect("checked above");
        let previous = e.pid.replace(from.clone());
        let how = match (awaited, e.state) {
            (true, _) => "resubscribed after the agent restarted",
            (false, ExecutorState::Running) => "resubscribed",
            (false, _) => "subscribed",
        };
        e.state = ExecutorState::Running;
        let (run, info) = (e.run, e.info.clone());
        // Tasks the executor has that the slave's record missed (it got
        // them just before the slave died): known again.
        let mut adopted = Vec::new();
        for t in &unacknowledged_tasks {
            if !e.has_task(&t.task_id) && !e.completed.iter().any(|c| c.task_id == t.task_id) {
                let mut record = Task::new(t, fid.clone(), TaskState::Staging);
                record.executor_id = Some(eid.clone());
                record.slave_id = slave_id.clone();
                e.launched.insert(t.task_id.clone(), record.clone());
                adopted.push(record);
            }
        }
        let never_arrived: Vec<_> = e
            .launched
            .values()
            .filter(|t| t.state == TaskState::Staging && !unacknowledged_tasks.iter().any(|k| k.task_id == t.task_id))
            .filter(|t| !unacknowledged_updates.iter().any(|u| u.task_id() == &t.task_id))
            .map(|t| t.task_id.clone())
            .collect();
        let queued: Vec<TaskInfo> = std::mem::take(&mut e.queued).into_values().collect();
        tracing::info!(executor = %eid, framework = %fid, stream = %from, tasks = unacknowledged_tasks.len(),
            updates = unacknowledged_updates.len(), "HTTP executor '{eid}' of framework {fid} {how} ({from})");
        if let Some(previous) = previous.filter(|p| p != from) {
            self.push(Action::Unlink(previous));
        }
        for task in adopted {
            self.push(Action::Checkpoint(Checkpoint::Task { executor_id: eid.clone(), run, task }));
        }
        self.send(
            from,
            Outgoing::ExecutorRegistered(ExecutorRegisteredMessage {
                executor_info: info,
                framework_id: fid.clone(),
                framework_info: finfo,
                slave_id: slave_id.clone(),
                slave_info: self.info.clone(),
            }),
        );
        self.resent_updates(from, &fid, &eid, &slave_id, unacknowledged_updates, now);
        for tid in never_arrived {
            let st = TaskStatus::new(tid, TaskState::Lost)
                .with_reason(Reason::SlaveRestarted)
                .with_message("Task launched during agent restart");
            self.slave_update(&fid, Some(&eid), st, now);
        }
        for task in queued {
            self.launch_on(&fid, &eid, run, from, task);
        }
        if awaited {
            self.recovered_executor_gone(&fid, &eid);
        }
        self.take()
    }
}
