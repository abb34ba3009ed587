//! The end of executors and frameworks: shutdown (ShutdownExecutor, then
//! SIGKILL of the process group after the grace period), launch failures,
//! executor exits (live tasks TASK_LOST or the slave's own reason,
//! ExitedExecutor to the master), and moving finished executors and
//! frameworks to the completed lists (Mesos's `shutdownFramework`,
//! `shutdownExecutor`, `executorTerminated`, `removeExecutor`).

use libprocess::Upid;
use rmesos::ids::{ExecutorID, FrameworkID, TaskID};
use rmesos::info::TaskInfo;
use rmesos::messages::*;
use rmesos::task::{Reason, Task, TaskState, TaskStatus};

use super::state::{
    ExecutorState, FrameworkState, Termination, MAX_COMPLETED_EXECUTORS_PER_FRAMEWORK, MAX_COMPLETED_FRAMEWORKS,
};
use super::{Action, Checkpoint, Now, Outgoing, RegState, SlaveCore, Timer};

impl SlaveCore {
    /// Master -> slave: the framework is gone.
    pub fn shutdown_framework(&mut self, from: &Upid, msg: ShutdownFrameworkMessage, _now: Now) -> Vec<Action> {
        if self.master.as_ref() != Some(from) {
            tracing::warn!(%from, "Ignoring shutdown framework not from the master");
            return self.take();
        }
        tracing::info!(framework = %msg.framework_id, "Asked to shut down framework {} by {from}", msg.framework_id);
        self.shutdown_framework_inner(&msg.framework_id);
        self.take()
    }

    pub(super) fn shutdown_framework_inner(&mut self, fid: &FrameworkID) {
        let Some(f) = self.frameworks.get_mut(fid) else { return };
        f.state = FrameworkState::Terminating;
        let eids: Vec<ExecutorID> = f.executors.keys().cloned().collect();
        // Nobody will acknowledge this framework's updates any more.
        for (f, t) in self.sum.cleanup(fid) {
            tracing::debug!(framework = %f, task = %t, "Dropping unacknowledged updates");
        }
        for eid in &eids {
            self.shutdown_executor_inner(fid, eid);
        }
        self.maybe_remove_framework(fid);
    }

    /// Master -> slave: shut one executor down.
    pub fn shutdown_executor(&mut self, from: &Upid, msg: ShutdownExecutorMessage, _now: Now) -> Vec<Action> {
        if self.master.as_ref() != Some(from) {
            tracing::warn!(%from, "Ignoring shutdown executor not from the master");
            return self.take();
        }
        if let (Some(fid), Some(eid)) = (msg.framework_id, msg.executor_id) {
            self.shutdown_executor_inner(&fid, &eid);
        }
        self.take()
    }

    /// Registered executor: ShutdownExecutorMessage, then SIGKILL after the
    /// grace period. Unregistered: killed at once.
    pub(super) fn shutdown_executor_inner(&mut self, fid: &FrameworkID, eid: &ExecutorID) {
        let grace = self.cfg.executor_shutdown_grace_period;
        let Some(e) = self.executor_mut(fid, eid) else { return };
        let run = e.run;
        match (e.state, e.pid.clone()) {
            (ExecutorState::Running, Some(pid)) => {
                e.state = ExecutorState::Terminating;
                tracing::info!(executor = %eid, framework = %fid, "Shutting down executor '{eid}' of framework {fid}");
                let m = ShutdownExecutorMessage { executor_id: Some(eid.clone()), framework_id: Some(fid.clone()) };
                self.send(&pid, Outgoing::ShutdownExecutor(m));
                self.push(Action::SetTimer(
                    grace,
                    Timer::ExecutorShutdown { framework_id: fid.clone(), executor_id: eid.clone(), run },
                ));
            }
            (ExecutorState::Registering, _) => {
                e.state = ExecutorState::Terminating;
                tracing::info!(executor = %eid, "Killing executor that has not registered");
                self.push(Action::Kill { framework_id: fid.clone(), executor_id: eid.clone(), run });
            }
            _ => {}
        }
    }

    /// The executor could not be started at all.
    pub fn launch_failed(
        &mut self,
        fid: &FrameworkID,
        eid: &ExecutorID,
        run: uuid::Uuid,
        error: &str,
        now: Now,
    ) -> Vec<Action> {
        self.launch_failed_with(fid, eid, run, &format!("Failed to launch executor: {error}"), now)
    }

    /// The launch failed before the executor started (e.g. `Failed to fetch
    /// '<uri>': <why>`): its tasks fail with `message`.
    pub fn launch_failed_with(
        &mut self,
        fid: &FrameworkID,
        eid: &ExecutorID,
        run: uuid::Uuid,
        message: &str,
        now: Now,
    ) -> Vec<Action> {
        if let Some(e) = self.executor_mut(fid, eid) {
            if e.run == run {
                tracing::error!(executor = %eid, framework = %fid, "{message}");
                e.termination = Some(Termination {
                    state: TaskState::Failed,
                    reason: Reason::ContainerLaunchFailed,
                    message: message.to_string(),
                });
            }
        }
        self.executor_exited(fid, eid, run, -1, now)
    }

    /// The executor process ended (`status`: its exit code, or -signal).
    pub fn executor_exited(
        &mut self,
        fid: &FrameworkID,
        eid: &ExecutorID,
        run: uuid::Uuid,
        status: i32,
        now: Now,
    ) -> Vec<Action> {
        let Some(framework) = self.frameworks.get(fid) else { return self.take() };
        let terminating = framework.state == FrameworkState::Terminating;
        let Some(e) = self.executor_mut(fid, eid) else { return self.take() };
        if e.run != run || e.state == ExecutorState::Terminated {
            return self.take();
        }
        tracing::info!(executor = %eid, framework = %fid, status, "Executor '{eid}' of framework {fid} exited with status {status}");
        let recovered = self.recovering.as_ref().is_some_and(|w| w.contains(&(fid.clone(), eid.clone())));
        let e = self.executor_mut(fid, eid).expect("checked above");
        e.state = ExecutorState::Terminated;
        let pid = e.pid.clone();
        let termination = e.termination.clone().unwrap_or(Termination {
            state: TaskState::Lost,
            reason: Reason::ExecutorTerminated,
            message: "Executor terminated".into(),
        });
        // Queued tasks become records so their final update has a task.
        let queued: Vec<TaskInfo> = std::mem::take(&mut e.queued).into_values().collect();
        for info in queued {
            let mut record = Task::new(&info, fid.clone(), TaskState::Staging);
            record.executor_id = Some(eid.clone());
            e.launched.insert(info.task_id.clone(), record);
        }
        let live: Vec<TaskID> = e.launched.keys().cloned().collect();
        if let Some(pid) = pid {
            self.push(Action::Unlink(pid));
        }
        for tid in live {
            if terminating {
                // The framework is gone: no one to tell; close the records.
                let e = self.executor_mut(fid, eid).expect("exists");
                e.update_task_state(&TaskStatus::new(tid.clone(), TaskState::Killed));
                e.complete_task(&tid);
            } else {
                let st = TaskStatus::new(tid, termination.state)
                    .with_reason(termination.reason)
                    .with_message(termination.message.clone());
                self.slave_update(fid, Some(eid), st, now);
            }
        }
        if let Some(slave_id) = self.info.id.clone() {
            let m = ExitedExecutorMessage { slave_id, framework_id: fid.clone(), executor_id: eid.clone(), status };
            match (self.master.clone(), self.state) {
                (Some(master), RegState::Running) => self.send(&master, Outgoing::ExitedExecutor(m)),
                // Told once (re)registered (e.g. an executor that did not
                // survive the slave's restart).
                _ => self.unreported_exits.push(m),
            }
        }
        self.maybe_remove_executor(fid, eid);
        if recovered {
            self.recovered_executor_gone(fid, eid);
        }
        self.take()
    }

    /// A terminated executor whose tasks' updates are all acknowledged is
    /// moved to the completed list; a terminating framework with no
    /// executors left is removed.
    pub(super) fn maybe_remove_executor(&mut self, fid: &FrameworkID, eid: &ExecutorID) {
        let Some(f) = self.frameworks.get_mut(fid) else { return };
        let done = f
            .executors
            .get(eid)
            .is_some_and(|e| e.state == ExecutorState::Terminated && e.launched.is_empty() && e.terminated.is_empty());
        if done {
            let e = f.executors.remove(eid).expect("checked");
            self.out.push(Action::Checkpoint(Checkpoint::RemoveExecutor {
                framework_id: fid.clone(),
                executor_id: eid.clone(),
            }));
            // Its sandboxes (every run: `.../executors/<eid>`) go after --gc_delay.
            if let Some(dir) = e.directory.parent().and_then(|runs| runs.parent()) {
                self.out.push(Action::ScheduleGc(dir.to_path_buf()));
            }
            f.completed_executors.push_back(e);
            if f.completed_executors.len() > MAX_COMPLETED_EXECUTORS_PER_FRAMEWORK {
                f.completed_executors.pop_front();
            }
        }
        if f.executors.is_empty() {
            self.maybe_remove_framework(fid);
        }
    }

    pub(super) fn maybe_remove_framework(&mut self, fid: &FrameworkID) {
        if self.frameworks.get(fid).is_some_and(|f| f.executors.is_empty()) {
            let f = self.frameworks.remove(fid).expect("checked");
            self.push(Action::Checkpoint(Checkpoint::RemoveFramework { framework_id: fid.clone() }));
            if let Some(sid) = &self.info.id {
                let dir = crate::paths::framework_sandbox(&self.cfg.work_dir, sid, fid);
                self.out.push(Action::ScheduleGc(dir));
            }
            tracing::info!(framework = %fid, "Cleaned up framework {fid}");
            self.completed_frameworks.push_back(f);
            if self.completed_frameworks.len() > MAX_COMPLETED_FRAMEWORKS {
                self.completed_frameworks.pop_front();
            }
        }
    }
}
