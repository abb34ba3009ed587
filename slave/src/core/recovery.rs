//! Slave recovery, the pure half (Mesos's `Slave::recover`,
//! `reconnectExecutors`, `reregisterExecutor`, `reregisterExecutorTimeout`).
//!
//! A restarted slave is handed what its previous run checkpointed
//! ([`RecoveredState`], read by [`crate::checkpoint::recover`]) before it looks for a
//! master:
//! - `--recover=reconnect`: frameworks, executors, tasks and unacknowledged
//!   updates are rebuilt under the same SlaveID. Each executor that had
//!   registered gets a [`ReconnectExecutorMessage`] at its checkpointed pid
//!   and has `--executor_reregistration_timeout` to answer with
//!   [`ReregisterExecutorMessage`]; one that does not (or never registered)
//!   is killed and its tasks become TASK_LOST
//!   (REASON_EXECUTOR_REREGISTRATION_TIMEOUT). The exit of every recovered
//!   run is watched ([`Action::Recover`]). Only when no executor is left to
//!   wait for does the slave (re)register with the master, reporting the
//!   surviving tasks; unacknowledged updates are then resent.
//! - `--recover=cleanup`: every checkpointed executor is killed, the old
//!   checkpoint removed, and the slave registers as a new slave, first
//!   unregistering the old SlaveID so the master reports the old tasks
//!   TASK_LOST (REASON_SLAVE_REMOVED) at once. (Mesos kills the executors
//!   and exits instead; the next start then registers anew.)

use std::collections::BTreeSet;

use libprocess::Upid;
use rmesos::format_duration;
use rmesos::ids::{ExecutorID, FrameworkID, SlaveID};
use rmesos::info::{ExecutorInfo, FrameworkInfo, SlaveInfo};
use rmesos::messages::*;
use rmesos::task::{Reason, Task, TaskState, TaskStatus};
use uuid::Uuid;

use super::state::{Executor, ExecutorState, Framework, Termination};
use super::{Action, Checkpoint, Now, Outgoing, SlaveCore, Timer};
use crate::paths;

/// `--recover`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoverMode {
    Reconnect,
    Cleanup,
}

/// What a previous run of this slave checkpointed.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveredState {
    /// With its id.
    pub info: SlaveInfo,
    pub frameworks: Vec<RecoveredFramework>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecoveredFramework {
    pub info: FrameworkInfo,
    pub pid: Option<Upid>,
    pub executors: Vec<RecoveredExecutor>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecoveredExecutor {
    pub info: ExecutorInfo,
    /// The latest run.
    pub run: Uuid,
    /// The executor's OS pid (posix containerizer), if it was launched.
    pub forked_pid: Option<u32>,
    /// The executor driver's pid, if it had registered.
    pub pid: Option<Upid>,
    pub tasks: Vec<RecoveredTask>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecoveredTask {
    pub task: Task,
    /// Its updates not yet acknowledged, oldest first.
    pub updates: Vec<StatusUpdate>,
}

impl SlaveCore {
    /// Whether the slave still waits for recovered executors (and so does
    /// not register yet).
    pub fn recovering(&self) -> bool {
        self.recovering.is_some()
    }

    /// Called once, before the master is looked for. `None`: nothing was
    /// checkpointed (a fresh slave).
    pub fn recover(&mut self, state: Option<RecoveredState>, mode: RecoverMode, _now: Now) -> Vec<Action> {
        let Some(state) = state else { return self.take() };
        let Some(sid) = state.info.id.clone() else {
            tracing::warn!("Checkpointed slave info has no id; starting as a new slave");
            return self.take();
        };
        match mode {
            RecoverMode::Cleanup => self.recover_cleanup(sid, state),
            RecoverMode::Reconnect => self.recover_reconnect(sid, state),
        }
        self.take()
    }

    fn recover_cleanup(&mut self, sid: SlaveID, state: RecoveredState) {
        tracing::info!(slave_id = %sid, "Recovering with --recover=cleanup: killing the executors of slave {sid} and registering as a new slave");
        for f in state.frameworks {
            let Some(fid) = f.info.id.clone() else { continue };
            for e in f.executors {
                tracing::info!(executor = %e.info.executor_id, framework = %fid, "Killing recovered executor '{}' of framework {fid}", e.info.executor_id);
                self.push(Action::Recover {
                    framework_id: fid.clone(),
                    executor_id: e.info.executor_id.clone(),
                    run: e.run,
                    forked_pid: e.forked_pid,
                    kill: true,
                });
            }
        }
        self.push(Action::Checkpoint(Checkpoint::RemoveSlave(sid.clone())));
        self.unregister_first = Some(sid);
    }

    fn recover_reconnect(&mut self, sid: SlaveID, state: RecoveredState) {
        tracing::info!(slave_id = %sid, frameworks = state.frameworks.len(), "Recovering slave {sid} from its checkpoint");
        self.info.id = Some(sid.clone());
        // The SlaveInfo of this run (flags may have changed) under the old id.
        self.push(Action::Checkpoint(Checkpoint::Slave(self.info.clone())));
        let mut waiting = BTreeSet::new();
        let timeout = self.cfg.executor_reregistration_timeout;
        for f in state.frameworks {
            let Some(fid) = f.info.id.clone() else { continue };
            let mut framework = Framework::new(fid.clone(), f.info.clone(), f.pid.clone());
            for re in f.executors {
                let eid = re.info.executor_id.clone();
                let dir = paths::sandbox(&self.cfg.work_dir, &sid, &fid, &eid, re.run);
                let command = re.info.source.as_deref() == Some(eid.as_str())
                    && re.info.name.as_deref().is_some_and(|n| n.starts_with("Command Executor"));
                let mut e = Executor::new(re.info.clone(), re.run, dir, command);
                e.pid = re.pid.clone();
                for rt in re.tasks {
                    let tid = rt.task.task_id.clone();
                    let pending = !rt.updates.is_empty();
                    self.sum.recover(rt.updates);
                    match (rt.task.state.is_terminal(), pending) {
                        (false, _) => {
                            e.launched.insert(tid, rt.task);
                        }
                        (true, true) => {
                            e.terminated.insert(tid, rt.task);
                        }
                        (true, false) => e.completed.push_back(rt.task),
                    }
                }
                tracing::info!(executor = %eid, framework = %fid, run = %re.run, pid = ?re.pid.as_ref().map(|p| p.to_string()),
                    tasks = e.launched.len(), "Recovered executor '{eid}' of framework {fid}");
                self.push(Action::Recover {
                    framework_id: fid.clone(),
                    executor_id: eid.clone(),
                    run: re.run,
                    forked_pid: re.forked_pid,
                    kill: false,
                });
                match &re.pid {
                    Some(pid) => {
                        tracing::info!(executor = %eid, %pid, "Sending reconnect request to executor '{eid}' at {pid}");
                        let m = ReconnectExecutorMessage { slave_id: sid.clone() };
                        self.send(pid, Outgoing::ReconnectExecutor(m));
                    }
                    None => {
                        tracing::info!(executor = %eid, "Executor '{eid}' never registered; it gets the reregistration timeout")
                    }
                }
                waiting.insert((fid.clone(), eid.clone()));
                self.push(Action::SetTimer(
                    timeout,
                    Timer::ExecutorReregistration { framework_id: fid.clone(), executor_id: eid.clone(), run: re.run },
                ));
                framework.executors.insert(eid, e);
            }
            if framework.executors.is_empty() {
                self.push(Action::Checkpoint(Checkpoint::RemoveFramework { framework_id: fid }));
            } else {
                self.frameworks.insert(fid, framework);
            }
        }
        self.recovering = Some(waiting);
        self.maybe_finish_recovery();
    }

    /// Executor -> slave: it answers our reconnect request.
    pub fn reregister_executor(&mut self, from: &Upid, msg: ReregisterExecutorMessage, now: Now) -> Vec<Action> {
        let (fid, eid) = (msg.framework_id.clone(), msg.executor_id.clone());
        let key = (fid.clone(), eid.clone());
        let awaited = self.recovering.as_ref().is_some_and(|w| w.contains(&key));
        let Some(slave_id) = self.info.id.clone() else { return self.take() };
        if self.executor_mut(&fid, &eid).is_none() {
            tracing::warn!(%from, executor = %eid, framework = %fid, "Shutting down unknown executor that reregistered");
            let m = ShutdownExecutorMessage { executor_id: Some(eid), framework_id: Some(fid) };
            self.send(from, Outgoing::ShutdownExecutor(m));
            return self.take();
        }
        if !awaited {
            tracing::warn!(%from, executor = %eid, "Ignoring reregistration of executor '{eid}': not awaited (timed out or not recovered)");
            return self.take();
        }
        if let Some(w) = self.recovering.as_mut() {
            w.remove(&key);
        }
        let e = self.executor_mut(&fid, &eid).expect("checked above");
        e.state = ExecutorState::Running;
        e.pid = Some(from.clone());
        let run = e.run;
        // Tasks the executor has that our checkpoint missed (it got them
        // just before the slave died): known again.
        let mut new_tasks = Vec::new();
        for t in &msg.tasks {
            if !e.has_task(&t.task_id) && !e.completed.iter().any(|c| c.task_id == t.task_id) {
                let mut record = Task::new(t, fid.clone(), TaskState::Staging);
                record.executor_id = Some(eid.clone());
                record.slave_id = slave_id.clone();
                e.launched.insert(t.task_id.clone(), record.clone());
                new_tasks.push(record);
            }
        }
        // Tasks still STAGING that the executor does not know never reached
        // it (the slave died first): lost, as Mesos decides.
        let unknown: Vec<_> = e
            .launched
            .values()
            .filter(|t| t.state == TaskState::Staging && !msg.tasks.iter().any(|k| k.task_id == t.task_id))
            .filter(|t| !msg.updates.iter().any(|u| u.task_id() == &t.task_id))
            .map(|t| t.task_id.clone())
            .collect();
        tracing::info!(executor = %eid, framework = %fid, pid = %from, tasks = msg.tasks.len(), updates = msg.updates.len(),
            "Executor '{eid}' of framework {fid} reregistered at {from}");
        self.push(Action::Link(from.clone()));
        self.push(Action::Checkpoint(Checkpoint::ExecutorPid {
            framework_id: fid.clone(),
            executor_id: eid.clone(),
            run,
            pid: from.clone(),
        }));
        for task in new_tasks {
            self.push(Action::Checkpoint(Checkpoint::Task { executor_id: eid.clone(), run, task }));
        }
        let m = ExecutorReregisteredMessage { slave_id: slave_id.clone(), slave_info: self.info.clone() };
        self.send(from, Outgoing::ExecutorReregistered(m));
        self.resent_updates(from, &fid, &eid, &slave_id, msg.updates, now);
        for tid in unknown {
            let st = TaskStatus::new(tid, TaskState::Lost)
                .with_reason(Reason::SlaveRestarted)
                .with_message("Task launched during agent restart");
            self.slave_update(&fid, Some(&eid), st, now);
        }
        self.maybe_finish_recovery();
        self.take()
    }

    /// Updates an executor sends again after a disconnection (its
    /// unacknowledged ones): one the slave handled already is not handled
    /// twice, and if the framework acknowledged it meanwhile the executor
    /// is told so (`to`) at once; the others are handled as new.
    pub(super) fn resent_updates(
        &mut self,
        to: &Upid,
        fid: &FrameworkID,
        eid: &ExecutorID,
        slave_id: &SlaveID,
        updates: Vec<StatusUpdate>,
        now: Now,
    ) {
        for mut update in updates {
            let Some(uuid) = update.uuid else { continue };
            let tid = update.task_id().clone();
            if self.executor_mut(fid, eid).is_some_and(|e| e.recorded(&tid, uuid)) {
                // Already handled before the restart; if no longer pending,
                // the framework acknowledged it: tell the executor.
                if !self.sum.pending(fid, &tid).iter().any(|u| u.uuid == Some(uuid)) {
                    let ack = StatusUpdateAcknowledgementMessage {
                        slave_id: slave_id.clone(),
                        framework_id: fid.clone(),
                        task_id: tid,
                        uuid,
                    };
                    self.send(to, Outgoing::Ack(ack));
                }
                continue;
            }
            update.slave_id = Some(slave_id.clone());
            update.status.slave_id = Some(slave_id.clone());
            update.executor_id = Some(eid.clone());
            self.handle_update(update, now);
        }
    }

    /// `--executor_reregistration_timeout` after recovery.
    pub(super) fn reregistration_timeout_fired(&mut self, fid: FrameworkID, eid: ExecutorID, run: Uuid) {
        let key = (fid.clone(), eid.clone());
        if !self.recovering.as_ref().is_some_and(|w| w.contains(&key)) {
            return;
        }
        if let Some(w) = self.recovering.as_mut() {
            w.remove(&key);
        }
        let message =
            format!("Executor did not reregister within {}", format_duration(self.cfg.executor_reregistration_timeout));
        let end = Termination { state: TaskState::Lost, reason: Reason::ExecutorReregistrationTimeout, message };
        self.kill_if_still_registering(fid, eid, run, end);
        self.maybe_finish_recovery();
    }

    /// A recovered executor is no longer awaited (it exited).
    pub(super) fn recovered_executor_gone(&mut self, fid: &FrameworkID, eid: &ExecutorID) {
        if let Some(w) = self.recovering.as_mut() {
            w.remove(&(fid.clone(), eid.clone()));
        }
        self.maybe_finish_recovery();
    }

    /// Every recovered executor reregistered, exited or timed out: register
    /// with the master (if one is known already).
    fn maybe_finish_recovery(&mut self) {
        if !self.recovering.as_ref().is_some_and(|w| w.is_empty()) {
            return;
        }
        self.recovering = None;
        tracing::info!(slave_id = ?self.info.id.as_ref().map(|i| i.to_string()), "Finished recovery");
        if self.master.is_some() {
            self.schedule_registration();
        }
    }
}
