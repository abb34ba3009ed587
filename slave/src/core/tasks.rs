//! Tasks through their executors: run, register the executor, status
//! updates and acknowledgements, kill, framework messages (Mesos's
//! `runTask`, `registerExecutor`, `statusUpdate`,
//! `statusUpdateAcknowledgement`, `killTask`). The end of executors and
//! frameworks is in [`super::lifecycle`].

use libprocess::Upid;
use rmesos::executor::env as exec_env;
use rmesos::ids::{ExecutorID, FrameworkID};
use rmesos::info::{CommandInfo, ExecutorInfo, TaskInfo};
use rmesos::messages::*;
use rmesos::task::{Reason, Source, Task, TaskState, TaskStatus};
use rmesos::{format_duration, StatusUpdate};

use super::state::{Executor, ExecutorState, Framework, FrameworkState, Termination};
use super::{containers, Action, Checkpoint, Launch, Now, Outgoing, RegState, SlaveCore, Timer};
use crate::paths;
use crate::status_update_manager::{Output, Received};
use uuid::Uuid;

impl SlaveCore {
    /// A timer came back.
    /// Run `run` of the executor has still not (re)registered: record why
    /// its tasks end (`end`, with a warning line) and kill it.
    pub(crate) fn kill_if_still_registering(
        &mut self,
        framework_id: FrameworkID,
        executor_id: ExecutorID,
        run: Uuid,
        end: Termination,
    ) {
        let Some(e) = self.executor_mut(&framework_id, &executor_id) else { return };
        if e.run != run || e.state != ExecutorState::Registering {
            return;
        }
        tracing::warn!(executor = %executor_id, framework = %framework_id,
            "Killing executor '{executor_id}' of framework {framework_id}: {}", end.message);
        e.termination = Some(end);
        e.state = ExecutorState::Terminating;
        self.push(Action::Kill { framework_id, executor_id, run });
    }

    pub fn timer(&mut self, timer: Timer, now: Now) -> Vec<Action> {
        match timer {
            Timer::Registration(g) => self.registration_attempt(g),
            Timer::Ping(g) => self.ping_timeout_fired(g),
            Timer::ExecutorRegistration { framework_id, executor_id, run } => {
                let message = format!(
                    "Executor did not register within {}",
                    format_duration(self.cfg.executor_registration_timeout)
                );
                let end =
                    Termination { state: TaskState::Failed, reason: Reason::ExecutorRegistrationTimeout, message };
                self.kill_if_still_registering(framework_id, executor_id, run, end);
            }
            Timer::ExecutorReregistration { framework_id, executor_id, run } => {
                self.reregistration_timeout_fired(framework_id, executor_id, run)
            }
            Timer::ExecutorShutdown { framework_id, executor_id, run } => {
                if let Some(e) = self.executor_mut(&framework_id, &executor_id) {
                    if e.run == run && e.state == ExecutorState::Terminating {
                        tracing::info!(executor = %executor_id, framework = %framework_id,
                            "Executor did not exit within the shutdown grace period; killing its process group");
                        self.push(Action::Kill { framework_id, executor_id, run });
                    }
                }
            }
        }
        let _ = now;
        self.take()
    }

    pub(super) fn executor_mut(&mut self, fid: &FrameworkID, eid: &ExecutorID) -> Option<&mut Executor> {
        self.frameworks.get_mut(fid)?.executors.get_mut(eid)
    }

    /// The ExecutorInfo of the command executor for a command task (Mesos
    /// builds the same: executor id = task id, source = task id).
    fn command_executor_info(&self, fid: &FrameworkID, task: &TaskInfo) -> ExecutorInfo {
        let path = self.cfg.command_executor.to_string_lossy().into_owned();
        let shown = task.command.as_ref().and_then(|c| c.value.clone()).unwrap_or_default();
        let mut command = CommandInfo::exec(path, vec!["rmesos-executor".into()]);
        // The command executor runs as its task's user (Mesos does the same).
        command.user = task.command.as_ref().and_then(|c| c.user.clone());
        // The task's URIs are fetched into the sandbox before the executor
        // starts (Mesos puts them on the command executor's command).
        command.uris = task.command.as_ref().map(|c| c.uris.clone()).unwrap_or_default();
        let mut info = ExecutorInfo::new(
            ExecutorID::new(task.task_id.as_str()).expect("a task id is a valid executor id"),
            command,
        );
        info.framework_id = Some(fid.clone());
        info.name = Some(format!("Command Executor (Task: {}) (Command: sh -c '{}')", task.task_id, shown));
        info.source = Some(task.task_id.to_string());
        info
    }

    /// A status update made by the slave itself (TASK_LOST, TASK_KILLED...).
    pub(super) fn slave_update(&mut self, fid: &FrameworkID, eid: Option<&ExecutorID>, status: TaskStatus, now: Now) {
        let uuid = self.uuid();
        let status = status.with_source(Source::Slave);
        let update = StatusUpdate::new(fid.clone(), eid.cloned(), self.info.id.clone(), status, now.unix, Some(uuid));
        self.handle_update(update, now);
    }

    /// Master -> slave: run a task.
    pub fn run_task(&mut self, from: &Upid, msg: RunTaskMessage, now: Now) -> Vec<Action> {
        if self.master.as_ref() != Some(from) || self.state != RegState::Running {
            tracing::warn!(%from, task = %msg.task.task_id, "Ignoring run task: not from the master we are registered with");
            return self.take();
        }
        let Some(fid) = msg.framework.id.clone() else {
            tracing::warn!(task = %msg.task.task_id, "Ignoring run task of a framework without an id");
            return self.take();
        };
        // Ids become sandbox path components: never trust them unchecked.
        if let Err(e) = fid.validate() {
            tracing::warn!(task = %msg.task.task_id, error = %e, "Ignoring run task with an invalid framework id");
            return self.take();
        }
        let task = msg.task;
        tracing::info!(task = %task.task_id, framework = %fid, "Got assigned task '{}' for framework {fid}", task.task_id);
        if let Err(e) = task.validate() {
            let st = TaskStatus::new(task.task_id.clone(), TaskState::Error)
                .with_reason(Reason::TaskInvalid)
                .with_message(e.to_string());
            self.framework_entry(&fid, &msg.framework, msg.pid.clone());
            self.slave_update(&fid, None, st, now);
            return self.take();
        }
        let framework = self.framework_entry(&fid, &msg.framework, msg.pid.clone());
        if framework.state == FrameworkState::Terminating {
            tracing::warn!(task = %task.task_id, framework = %fid, "Ignoring run task: framework is terminating");
            return self.take();
        }
        let executor_info = match &task.executor {
            Some(e) => {
                let mut e = e.clone();
                e.framework_id = Some(fid.clone());
                e
            }
            None => self.command_executor_info(&fid, &task),
        };
        let eid = executor_info.executor_id.clone();
        let existing = self.frameworks[&fid].executors.get(&eid).map(|e| (e.state, e.pid.clone(), e.run));
        match existing {
            Some((ExecutorState::Terminating | ExecutorState::Terminated, _, _)) => {
                let st = TaskStatus::new(task.task_id.clone(), TaskState::Lost)
                    .with_reason(Reason::ExecutorTerminated)
                    .with_message("Executor terminating");
                self.slave_update(&fid, Some(&eid), st, now);
            }
            Some((ExecutorState::Registering, _, _)) => {
                tracing::info!(task = %task.task_id, executor = %eid, "Queuing task for executor still registering");
                let e = self.executor_mut(&fid, &eid).expect("exists");
                e.queued.insert(task.task_id.clone(), task);
                self.update_container(&fid, &eid);
            }
            Some((ExecutorState::Running, pid, run)) => {
                let pid = pid.expect("a running executor has a pid");
                self.launch_on(&fid, &eid, run, &pid, task);
                self.update_container(&fid, &eid);
            }
            None => {
                let sid = self.info.id.clone().expect("running implies registered");
                let run = self.uuid();
                let dir = paths::sandbox(&self.cfg.work_dir, &sid, &fid, &eid, run);
                let command_executor = task.executor.is_none();
                let mut executor = Executor::new(executor_info.clone(), run, dir.clone(), command_executor);
                executor.queued.insert(task.task_id.clone(), task);
                let checkpoint = self.frameworks[&fid].info.checkpoint;
                self.frameworks.get_mut(&fid).expect("exists").executors.insert(eid.clone(), executor);
                let env = self.executor_env(&fid, &eid, &dir, checkpoint, &executor_info.command);
                tracing::info!(executor = %eid, framework = %fid, directory = %dir.display(),
                    "Launching executor '{eid}' of framework {fid} in sandbox {}", dir.display());
                self.push(Action::Checkpoint(Checkpoint::Executor {
                    framework_id: fid.clone(),
                    info: executor_info.clone(),
                    run,
                }));
                let user =
                    containers::launch_user(self.cfg.switch_user, &self.frameworks[&fid].info, &executor_info.command);
                let resources = containers::container_resources(&self.frameworks[&fid].executors[&eid]);
                self.push(Action::Launch(Launch {
                    framework_id: fid.clone(),
                    executor_id: eid.clone(),
                    run,
                    directory: dir,
                    command: executor_info.command,
                    env,
                    resources,
                    user,
                }));
                self.push(Action::SetTimer(
                    self.cfg.executor_registration_timeout,
                    Timer::ExecutorRegistration { framework_id: fid, executor_id: eid, run },
                ));
            }
        }
        self.take()
    }

    fn framework_entry(
        &mut self,
        fid: &FrameworkID,
        info: &rmesos::info::FrameworkInfo,
        pid: Option<Upid>,
    ) -> &Framework {
        if !self.frameworks.contains_key(fid) {
            self.frameworks.insert(fid.clone(), Framework::new(fid.clone(), info.clone(), pid.clone()));
            self.push(Action::Checkpoint(Checkpoint::Framework { info: info.clone(), pid }));
        }
        &self.frameworks[fid]
    }

    fn executor_env(
        &self,
        fid: &FrameworkID,
        eid: &ExecutorID,
        dir: &std::path::Path,
        checkpoint: bool,
        command: &CommandInfo,
    ) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> =
            command.environment.variables.iter().map(|v| (v.name.clone(), v.value.clone())).collect();
        let sid = self.info.id.as_ref().map(|s| s.to_string()).unwrap_or_default();
        for (k, v) in [
            (exec_env::SLAVE_PID, self.me.to_string()),
            (exec_env::SLAVE_ID, sid),
            (exec_env::FRAMEWORK_ID, fid.to_string()),
            (exec_env::EXECUTOR_ID, eid.to_string()),
            (exec_env::DIRECTORY, dir.to_string_lossy().into_owned()),
            (exec_env::CHECKPOINT, if checkpoint { "1" } else { "0" }.to_string()),
            (exec_env::SHUTDOWN_GRACE_PERIOD, format_duration(self.cfg.executor_shutdown_grace_period)),
            (exec_env::RECOVERY_TIMEOUT, format_duration(self.cfg.recovery_timeout)),
            ("LIBPROCESS_IP", self.me.addr().ip().to_string()),
        ] {
            env.push((k.to_string(), v));
        }
        // Mesos's names, for executors written for Mesos (its v1 HTTP API).
        let dir = dir.to_string_lossy().into_owned();
        let grace = format_duration(self.cfg.executor_shutdown_grace_period);
        for (k, v) in [
            (exec_env::mesos::FRAMEWORK_ID, fid.to_string()),
            (exec_env::mesos::EXECUTOR_ID, eid.to_string()),
            (exec_env::mesos::DIRECTORY, dir.clone()),
            (exec_env::mesos::SANDBOX, dir),
            (exec_env::mesos::SLAVE_ID, self.info.id.as_ref().map(|s| s.to_string()).unwrap_or_default()),
            (exec_env::mesos::SLAVE_PID, self.me.to_string()),
            (exec_env::mesos::AGENT_ENDPOINT, self.me.addr().to_string()),
            (exec_env::mesos::CHECKPOINT, if checkpoint { "1" } else { "0" }.to_string()),
            (exec_env::mesos::HTTP_COMMAND_EXECUTOR, "0".to_string()),
            (exec_env::mesos::SHUTDOWN_GRACE_PERIOD, grace),
        ] {
            env.push((k.to_string(), v));
        }
        if checkpoint {
            env.push((exec_env::mesos::RECOVERY_TIMEOUT.into(), format_duration(self.cfg.recovery_timeout)));
            let backoff = format_duration(self.cfg.executor_reregistration_timeout);
            env.push((exec_env::mesos::SUBSCRIPTION_BACKOFF_MAX.into(), backoff));
        }
        env
    }

    /// Gives a task to a registered executor.
    pub(super) fn launch_on(
        &mut self,
        fid: &FrameworkID,
        eid: &ExecutorID,
        run: uuid::Uuid,
        pid: &Upid,
        task: TaskInfo,
    ) {
        let framework = &self.frameworks[fid];
        let (info, fpid) = (framework.info.clone(), framework.pid.clone());
        let mut record = Task::new(&task, fid.clone(), TaskState::Staging);
        record.executor_id = Some(eid.clone());
        record.slave_id = self.info.id.clone().unwrap_or(record.slave_id);
        self.push(Action::Checkpoint(Checkpoint::Task { executor_id: eid.clone(), run, task: record.clone() }));
        let e = self.executor_mut(fid, eid).expect("exists");
        e.launched.insert(task.task_id.clone(), record);
        self.send(pid, Outgoing::RunTask(RunTaskMessage { framework: info, task, pid: fpid }));
    }

    /// Executor -> slave: it started.
    pub fn register_executor(&mut self, from: &Upid, msg: RegisterExecutorMessage, _now: Now) -> Vec<Action> {
        let (fid, eid) = (msg.framework_id, msg.executor_id);
        let shutdown = ShutdownExecutorMessage { executor_id: Some(eid.clone()), framework_id: Some(fid.clone()) };
        let Some(framework) = self.frameworks.get(&fid) else {
            tracing::warn!(%from, framework = %fid, "Shutting down executor of unknown framework");
            self.send(from, Outgoing::ShutdownExecutor(shutdown));
            return self.take();
        };
        let terminating = framework.state == FrameworkState::Terminating;
        let (finfo, slave_id) = (framework.info.clone(), self.info.id.clone());
        let Some(e) = self.executor_mut(&fid, &eid) else {
            tracing::warn!(%from, executor = %eid, "Shutting down unknown executor");
            self.send(from, Outgoing::ShutdownExecutor(shutdown));
            return self.take();
        };
        if e.state != ExecutorState::Registering || terminating {
            tracing::warn!(%from, executor = %eid, state = ?e.state, "Shutting down executor that registered when not expected");
            self.send(from, Outgoing::ShutdownExecutor(shutdown));
            return self.take();
        }
        e.state = ExecutorState::Running;
        e.pid = Some(from.clone());
        let (run, info) = (e.run, e.info.clone());
        let queued: Vec<TaskInfo> = std::mem::take(&mut e.queued).into_values().collect();
        tracing::info!(executor = %eid, framework = %fid, pid = %from, "Executor '{eid}' of framework {fid} registered at {from}");
        self.push(Action::Link(from.clone()));
        self.push(Action::Checkpoint(Checkpoint::ExecutorPid {
            framework_id: fid.clone(),
            executor_id: eid.clone(),
            run,
            pid: from.clone(),
        }));
        let Some(slave_id) = slave_id else { return self.take() };
        self.send(
            from,
            Outgoing::ExecutorRegistered(ExecutorRegisteredMessage {
                executor_info: info,
                framework_id: fid.clone(),
                framework_info: finfo,
                slave_id,
                slave_info: self.info.clone(),
            }),
        );
        for task in queued {
            self.launch_on(&fid, &eid, run, from, task);
        }
        self.take()
    }

    /// Executor -> slave: a task's status.
    pub fn status_update(&mut self, from: &Upid, msg: StatusUpdateMessage, now: Now) -> Vec<Action> {
        let mut update = msg.update;
        if update.uuid.is_none() {
            tracing::warn!(%from, task = %update.task_id(), "Ignoring status update without uuid");
            return self.take();
        }
        let fid = update.framework_id.clone();
        let eid = update.executor_id.clone().or_else(|| update.status.executor_id.clone());
        let Some(eid) = eid else {
            tracing::warn!(%from, task = %update.task_id(), "Ignoring status update without executor id");
            return self.take();
        };
        let known = self.executor_mut(&fid, &eid).is_some_and(|e| e.pid.as_ref() == Some(from));
        if !known {
            tracing::warn!(%from, task = %update.task_id(), executor = %eid, "Ignoring status update from an unknown executor");
            return self.take();
        }
        if self.frameworks.get(&fid).is_some_and(|f| f.state == FrameworkState::Terminating) {
            // As Mesos: nobody will acknowledge it; the executor is going away.
            tracing::warn!(task = %update.task_id(), framework = %fid, "Ignoring status update for a terminating framework");
            return self.take();
        }
        update.slave_id = self.info.id.clone();
        update.status.slave_id = self.info.id.clone();
        let mut update = self.limited(&fid, &eid, update);
        let terminal = update.status.state.is_terminal();
        update.executor_id = Some(eid.clone());
        self.handle_update(update, now);
        if terminal {
            self.update_container(&fid, &eid);
        }
        self.take()
    }

    /// Records an update on its task and hands it to the status-update manager.
    pub(super) fn handle_update(&mut self, update: StatusUpdate, now: Now) {
        let fid = update.framework_id.clone();
        let tid = update.task_id().clone();
        tracing::info!(task = %tid, framework = %fid, state = %update.status.state,
            "Handling status update {} for task {tid} of framework {fid}", update.status.state);
        let mut task_checkpoint = None;
        if let Some(eid) = &update.executor_id {
            if let Some(e) = self.executor_mut(&fid, eid) {
                if e.update_task_state(&update.status) {
                    let run = e.run;
                    if let Some(t) = e.task_mut(&tid) {
                        task_checkpoint = Some(Checkpoint::Task { executor_id: eid.clone(), run, task: t.clone() });
                    }
                }
            }
        }
        if let Some(c) = task_checkpoint {
            self.push(Action::Checkpoint(c));
        }
        match self.sum.update(update, now.time) {
            Ok((Received::Duplicate, _)) => tracing::debug!(task = %tid, "Duplicate status update ignored"),
            Ok((Received::New, out)) => self.apply_sum(out),
            Err(e) => tracing::warn!(task = %tid, error = %e, "Status update refused"),
        }
    }

    fn apply_sum(&mut self, out: Output) {
        self.forward_updates(out.forward);
        for (fid, tid) in out.changed {
            let updates = self.sum.pending(&fid, &tid);
            let Some(eid) = self.frameworks.get(&fid).and_then(|f| f.executor_of(&tid)).cloned() else { continue };
            let run = self.frameworks[&fid].executors[&eid].run;
            self.push(Action::Checkpoint(Checkpoint::Updates {
                executor_id: eid,
                run,
                framework_id: fid,
                task_id: tid,
                updates,
            }));
        }
    }

    /// Master -> slave: the framework acknowledged an update.
    pub fn acknowledge(&mut self, from: &Upid, msg: StatusUpdateAcknowledgementMessage, now: Now) -> Vec<Action> {
        if self.master.as_ref() != Some(from) {
            tracing::warn!(%from, "Ignoring acknowledgement not from the master");
            return self.take();
        }
        let (fid, tid) = (msg.framework_id.clone(), msg.task_id.clone());
        let acked = match self.sum.acknowledge(&fid, &tid, msg.uuid, now.time) {
            Ok((acked, out)) => {
                // Checkpoint the shortened stream before the task may complete.
                self.apply_sum(out);
                acked
            }
            Err(e) => {
                tracing::warn!(task = %tid, error = %e, "Acknowledgement ignored");
                return self.take();
            }
        };
        tracing::debug!(task = %tid, state = %acked.update.status.state, "Status update acknowledged");
        let eid = self.frameworks.get(&fid).and_then(|f| f.executor_of(&tid)).cloned();
        if let Some(eid) = eid {
            let e = self.executor_mut(&fid, &eid).expect("found above");
            if let (Some(pid), ExecutorState::Running | ExecutorState::Terminating) = (e.pid.clone(), e.state) {
                self.send(&pid, Outgoing::Ack(msg));
            }
            if acked.terminated {
                self.executor_mut(&fid, &eid).expect("found above").complete_task(&tid);
                self.maybe_remove_executor(&fid, &eid);
            }
        }
        self.take()
    }

    /// Master -> slave: kill a task.
    pub fn kill_task(&mut self, from: &Upid, msg: KillTaskMessage, now: Now) -> Vec<Action> {
        if self.master.as_ref() != Some(from) {
            tracing::warn!(%from, "Ignoring kill task not from the master");
            return self.take();
        }
        let (fid, tid) = (msg.framework_id.clone(), msg.task_id.clone());
        let Some(framework) = self.frameworks.get(&fid) else {
            tracing::warn!(task = %tid, framework = %fid, "Ignoring kill task: no such framework is running");
            return self.take();
        };
        let Some(eid) = framework.executor_of(&tid).cloned() else {
            tracing::warn!(task = %tid, "Cannot kill task: no executor runs it");
            let st = TaskStatus::new(tid, TaskState::Lost)
                .with_reason(Reason::ExecutorTerminated)
                .with_message("Cannot find executor");
            self.slave_update(&fid, None, st, now);
            return self.take();
        };
        let e = self.executor_mut(&fid, &eid).expect("found above");
        if let Some(info) = e.queued.remove(&tid) {
            tracing::info!(task = %tid, "Killing task before its executor registered");
            let mut record = Task::new(&info, fid.clone(), TaskState::Staging);
            record.executor_id = Some(eid.clone());
            e.launched.insert(tid.clone(), record);
            let empty = e.queued.is_empty() && e.launched.len() == 1;
            let st = TaskStatus::new(tid, TaskState::Killed)
                .with_reason(Reason::TaskKilledDuringLaunch)
                .with_message("Killed before delivery to the executor");
            self.slave_update(&fid, Some(&eid), st, now);
            if empty {
                self.shutdown_executor_inner(&fid, &eid);
            }
            return self.take();
        }
        match (e.state, e.pid.clone()) {
            (ExecutorState::Running, Some(pid)) => {
                tracing::info!(task = %tid, executor = %eid, "Asking executor to kill task {tid}");
                self.send(&pid, Outgoing::KillTask(msg));
            }
            (state, _) => tracing::warn!(task = %tid, ?state, "Ignoring kill task: executor is terminating"),
        }
        self.take()
    }

    /// Executor -> slave -> master: data for the scheduler.
    pub fn executor_message(&mut self, from: &Upid, msg: ExecutorToFrameworkMessage) -> Vec<Action> {
        let known =
            self.executor_mut(&msg.framework_id, &msg.executor_id).is_some_and(|e| e.pid.as_ref() == Some(from));
        match (&self.master, known, self.state) {
            (Some(master), true, RegState::Running) => {
                let master = master.clone();
                self.send(&master, Outgoing::ExecutorToFramework(msg));
            }
            _ => tracing::warn!(%from, "Dropping executor message (unknown executor or no master)"),
        }
        self.take()
    }

    /// Master (or the scheduler itself, which sends straight to a slave it
    /// knows from an offer, as Mesos's driver does) -> slave -> executor:
    /// data from the scheduler.
    pub fn framework_message(&mut self, from: &Upid, msg: FrameworkToExecutorMessage) -> Vec<Action> {
        let scheduler = self.frameworks.get(&msg.framework_id).and_then(|f| f.pid.as_ref());
        if self.master.as_ref() != Some(from) && scheduler != Some(from) {
            tracing::warn!(%from, framework = %msg.framework_id, "Dropping framework message: not from the master or the framework's scheduler");
            return self.take();
        }
        match self.executor_mut(&msg.framework_id, &msg.executor_id).map(|e| (e.state, e.pid.clone())) {
            Some((ExecutorState::Running, Some(pid))) => self.send(&pid, Outgoing::FrameworkToExecutor(msg)),
            _ => tracing::warn!(executor = %msg.executor_id, "Dropping framework message: executor not running"),
        }
        self.take()
    }

    /// Master -> slave: the framework's scheduler moved.
    pub fn update_framework(&mut self, from: &Upid, msg: UpdateFrameworkMessage) -> Vec<Action> {
        if self.master.as_ref() != Some(from) {
            return self.take();
        }
        if let Some(f) = self.frameworks.get_mut(&msg.framework_id) {
            if let Some(info) = msg.framework_info {
                f.info = info;
            }
            f.pid = msg.pid.or(f.pid.take());
            let (info, pid) = (f.info.clone(), f.pid.clone());
            self.push(Action::Checkpoint(Checkpoint::Framework { info, pid }));
        }
        self.take()
    }

    /// After reregistration: tasks the master knows and we do not get a
    /// final update, so the framework learns they are gone.
    pub(super) fn reconcile(&mut self, reconciliations: Vec<ReconcileTasksMessage>, now: Now) {
        for r in reconciliations {
            for status in r.statuses {
                let known =
                    self.frameworks.get(&r.framework_id).is_some_and(|f| f.executor_of(&status.task_id).is_some());
                if !known {
                    // As Mesos: TASK_DROPPED to a partition-aware framework
                    // (the master says which in `framework`), else TASK_LOST.
                    let aware = r.framework.as_ref().is_some_and(|f| f.is_partition_aware());
                    let state = if aware { TaskState::Dropped } else { TaskState::Lost };
                    tracing::warn!(
                        "Agent reconciling task {} of framework {} in state {state}: task unknown to the agent",
                        status.task_id,
                        r.framework_id
                    );
                    let st = TaskStatus::new(status.task_id, state)
                        .with_reason(Reason::Reconciliation)
                        .with_message("Reconciliation: task unknown to the agent");
                    self.slave_update(&r.framework_id, None, st, now);
                }
            }
        }
    }
}
