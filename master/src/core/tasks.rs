//! Tasks and offers: launch (and decline) with Mesos's validation, status
//! updates forwarded to frameworks, acknowledgements forwarded to slaves,
//! kill, reconciliation, framework messages both ways, exited executors,
//! revive and suppress.
//!
//! Launch validation, as Mesos's master does it:
//! - the offers: at least one, no duplicates, each outstanding and this
//!   framework's, all on one slave that is still connected. Otherwise every
//!   task of the launch gets TASK_DROPPED (TASK_LOST for frameworks that are
//!   not PARTITION_AWARE) with REASON_INVALID_OFFERS, and the valid offers
//!   among them are taken back (their resources recovered with no filter);
//! - each task, in order, against what is left of the offers: a valid
//!   TaskInfo (ids, exactly one of command and executor, a command value,
//!   some resources), the offers' slave, a task id not in use by the
//!   framework, an executor compatible with the one of that id already on the
//!   slave, and resources (plus a new executor's) within what is left.
//!   Otherwise TASK_ERROR with REASON_TASK_INVALID and a message saying why;
//!   the other tasks are unaffected;
//! - what the valid tasks do not use is declined with the launch's filters
//!   (a launch with no tasks is a decline; refuse_seconds defaults to 5 s).

use std::collections::HashSet;

use libprocess::{Time, Upid};
use rmesos::messages::*;
use rmesos::{
    ExecutorID, ExecutorInfo, FrameworkID, OfferID, Reason, Resources, SlaveID, Task, TaskID, TaskInfo, TaskState,
};

use super::observe::task_updated;
use super::state::push_status;
use super::{Action, MasterCore, Observed, Outgoing};

/// Why one task of a launch is refused (TASK_ERROR, REASON_TASK_INVALID).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaskError {
    #[error("{0}")]
    Info(#[from] rmesos::info::TaskInfoError),
    #[error("Task uses agent {task} but its offers are on agent {offers}")]
    WrongSlave { task: SlaveID, offers: SlaveID },
    #[error("Task has duplicate ID: {0}")]
    DuplicateId(TaskID),
    #[error("ExecutorInfo for executor {0} is not compatible with the one the agent already runs")]
    IncompatibleExecutor(rmesos::ExecutorID),
    #[error("Task uses more resources {needed} than available {available}")]
    TooManyResources { needed: Resources, available: Resources },
    /// `run_tasks` denies the framework's principal this user
    /// (TASK_ERROR, REASON_TASK_UNAUTHORIZED).
    #[error("Not authorized to launch as user '{0}'")]
    Unauthorized(String),
}

impl TaskError {
    /// The reason of the TASK_ERROR this refusal sends.
    pub fn reason(&self) -> Reason {
        match self {
            TaskError::Unauthorized(_) => Reason::TaskUnauthorized,
            _ => Reason::TaskInvalid,
        }
    }
}

impl MasterCore {
    /// Checks the offers of a launch; Ok(slave) when they are usable.
    fn validate_offers(&self, fid: &FrameworkID, ids: &[OfferID]) -> Result<SlaveID, String> {
        if ids.is_empty() {
            return Err("No offers specified".into());
        }
        let mut seen = HashSet::new();
        let mut slave: Option<&SlaveID> = None;
        for id in ids {
            if !seen.insert(id) {
                return Err(format!("Duplicate offer {id} in offer list"));
            }
            let Some(offer) = self.offers.get(id) else {
                return Err(format!("Offer {id} is no longer valid"));
            };
            if offer.framework_id != *fid {
                return Err(format!("Offer {id} has invalid framework {} (expected {fid})", offer.framework_id));
            }
            match slave {
                Some(s) if *s != offer.slave_id => {
                    return Err(format!(
                        "Aggregated offers must belong to one single agent. Offer {id} uses agent {} and others use {s}",
                        offer.slave_id
                    ));
                }
                _ => slave = Some(&offer.slave_id),
            }
        }
        let slave = slave.expect("at least one offer").clone();
        match self.slaves.get(&slave) {
            Some(s) if s.connected => Ok(slave),
            _ => Err(format!("Agent {slave} is not connected")),
        }
    }

    /// Checks one task against the launch so far; Ok(resources it takes,
    /// and its executor if that is new on the slave).
    fn validate_task(
        &self,
        fid: &FrameworkID,
        sid: &SlaveID,
        task: &TaskInfo,
        available: &Resources,
        launched: &HashSet<TaskID>,
    ) -> Result<(Resources, Option<ExecutorInfo>), TaskError> {
        task.validate()?;
        let fw = &self.frameworks[fid];
        // The user the task runs as: its command's, its executor's, else the
        // framework's (as Mesos authorizes `run_tasks`).
        let user = task
            .command
            .as_ref()
            .and_then(|c| c.user.clone())
            .or_else(|| task.executor.as_ref().and_then(|e| e.command.user.clone()))
            .unwrap_or_else(|| fw.info.user.clone());
        let acls = &self.cfg.acls;
        if !acls.allows(rmesos::auth::acls::Action::RunTasks, fw.info.principal.as_deref(), Some(&user)) {
            return Err(TaskError::Unauthorized(user));
        }
        if task.slave_id != *sid {
            return Err(TaskError::WrongSlave { task: task.slave_id.clone(), offers: sid.clone() });
        }
        if fw.tasks.contains_key(&task.task_id) || launched.contains(&task.task_id) {
            return Err(TaskError::DuplicateId(task.task_id.clone()));
        }
        let mut needed = task.resources.clone();
        let mut new_executor = None;
        if let Some(e) = &task.executor {
            let running = self.slaves[sid].executors.get(fid).and_then(|m| m.get(&e.executor_id));
            match running {
                Some(r) if r.command != e.command || r.resources != e.resources => {
                    return Err(TaskError::IncompatibleExecutor(e.executor_id.clone()));
                }
                Some(_) => {}
                None => {
                    needed += &e.resources;
                    new_executor = Some(ExecutorInfo { framework_id: Some(fid.clone()), ..e.clone() });
                }
            }
        }
        if !available.contains(&needed) {
            return Err(TaskError::TooManyResources { needed, available: available.clone() });
        }
        Ok((needed, new_executor))
    }

    /// LaunchTasksMessage (a decline when it has no tasks).
    pub fn launch_tasks(&mut self, from: &Upid, msg: LaunchTasksMessage, now: Time) -> Vec<Action> {
        let fid = msg.framework_id.clone();
        if !self.framework_from(from, &fid, "LaunchTasksMessage") {
            return self.take();
        }
        let slave_id = match self.validate_offers(&fid, &msg.offer_ids) {
            Ok(s) => s,
            Err(why) => {
                tracing::warn!("Launch of {} task(s) by framework {fid} refused: {why}", msg.tasks.len());
                for id in &msg.offer_ids {
                    if self.offers.get(id).is_some_and(|o| o.framework_id == fid) {
                        self.remove_offer(id, false, None, now);
                    }
                }
                let pa = self.frameworks[&fid].info.is_partition_aware();
                let state = if pa { TaskState::Dropped } else { TaskState::Lost };
                for t in msg.tasks {
                    self.counters.task_reached(state);
                    let m = format!("Task launched with invalid offers: {why}");
                    self.master_update(&fid, t.task_id, Some(t.slave_id), state, Reason::InvalidOffers, m, now);
                }
                return self.take();
            }
        };
        // The offers are used up: their resources stay with the framework
        // until tasks release them or they are declined below.
        let mut available = Resources::new();
        for id in &msg.offer_ids {
            let offer = self.offers.remove(id).expect("validated");
            available += &offer.resources;
            let fw = self.frameworks.get_mut(&fid).expect("validated");
            fw.offers.remove(id);
            fw.offered -= &offer.resources;
            let sl = self.slaves.get_mut(&slave_id).expect("validated");
            sl.offers.remove(id);
            sl.offered -= &offer.resources;
        }
        if msg.tasks.is_empty() {
            self.counters.offers_declined += msg.offer_ids.len() as u64;
            tracing::debug!(framework = %fid, offers = msg.offer_ids.len(), "offers declined");
        }
        let mut launched = HashSet::new();
        for task in msg.tasks {
            match self.validate_task(&fid, &slave_id, &task, &available, &launched) {
                Err(e) => {
                    tracing::warn!("Task {} of framework {fid} is invalid: {e}", task.task_id);
                    self.counters.task_reached(TaskState::Error);
                    self.master_update(
                        &fid,
                        task.task_id,
                        Some(slave_id.clone()),
                        TaskState::Error,
                        e.reason(),
                        e.to_string(),
                        now,
                    );
                }
                Ok((needed, new_executor)) => {
                    available = available.checked_sub(&needed).expect("validated: contained");
                    launched.insert(task.task_id.clone());
                    self.add_launched_task(&fid, &slave_id, &task, &needed, new_executor);
                }
            }
        }
        let refuse = msg.filters.refuse_duration();
        self.allocator.recover(&fid, &slave_id, &available, Some(refuse), now);
        self.take()
    }

    fn add_launched_task(
        &mut self,
        fid: &FrameworkID,
        sid: &SlaveID,
        info: &TaskInfo,
        needed: &Resources,
        new_executor: Option<ExecutorInfo>,
    ) {
        let fw = self.frameworks.get_mut(fid).expect("validated");
        let sl = self.slaves.get_mut(sid).expect("validated");
        if let Some(e) = new_executor {
            fw.executors.entry(sid.clone()).or_default().insert(e.executor_id.clone(), e.clone());
            sl.executors.entry(fid.clone()).or_default().insert(e.executor_id.clone(), e);
        }
        fw.used += needed;
        sl.used += needed;
        let task = Task::new(info, fid.clone(), TaskState::Staging);
        let added = self.observed.then(|| Observed::TaskAdded(task.clone()));
        fw.tasks.insert(info.task_id.clone(), task);
        sl.tasks.entry(fid.clone()).or_default().insert(info.task_id.clone());
        tracing::info!(
            "Launching task {} of framework {fid} on slave {sid} at {} with {}",
            info.task_id,
            sl.pid,
            info.resources
        );
        let run = RunTaskMessage { framework: fw.info.clone(), task: info.clone(), pid: fw.pid.clone() };
        let pid = sl.pid.clone();
        self.counters.tasks_launched += 1;
        self.observed_change(added);
        self.send(&pid, Outgoing::RunTask(run));
    }

    /// StatusUpdateMessage from a slave: record, forward to the framework.
    pub fn status_update(&mut self, from: &Upid, msg: StatusUpdateMessage, now: Time) -> Vec<Action> {
        let Some(sid) = self.slave_from(from, "StatusUpdateMessage") else {
            self.counters.invalid_status_updates += 1;
            return self.take();
        };
        let update = msg.update;
        let fid = update.framework_id.clone();
        let tid = update.status.task_id.clone();
        let state = update.status.state;
        let Some(fw) = self.frameworks.get_mut(&fid) else {
            tracing::warn!(slave = %sid, framework = %fid, task = %tid, "dropping status update for unknown framework");
            self.counters.invalid_status_updates += 1;
            return self.take();
        };
        let mut released = None;
        let mut updated = None;
        if let Some(task) = fw.tasks.get_mut(&tid) {
            let latest = update.latest_state.unwrap_or(state);
            let was_terminal = task.state.is_terminal();
            if task.state != latest {
                let why = update.status.why();
                tracing::info!("Task {tid} of framework {fid} on slave {sid} at {from} is {latest}{why}");
            }
            task.state = latest;
            task.status_update_state = Some(state);
            task.status_update_uuid = update.uuid;
            let last = task.statuses.last().map(|s| s.state);
            push_status(task, update.status.clone());
            if self.observed {
                updated = task_updated(task, last, &update.status);
            }
            if latest.is_terminal() && !was_terminal {
                released = Some((task.resources.clone(), latest));
            }
        } else if let (Some(uuid), Some(ended)) =
            (update.uuid, fw.completed_tasks.iter().rev().find(|t| t.task_id == tid && t.slave_id == sid))
        {
            // The framework already has this task's end: the master declared
            // it (e.g. TASK_LOST when the slave disconnected, for a framework
            // that does not checkpoint) or the framework acknowledged it.
            // Forwarding a late update would report the task twice (LOST
            // then FINISHED: a re-dispatched task would finish twice). The
            // master acknowledges it for the framework so the slave stops
            // retrying it.
            tracing::info!(
                "Dropping status update {state} for task {tid} of framework {fid} on slave {sid}: \
                 the framework was told it ended ({}); acknowledging it to the slave",
                ended.state
            );
            self.counters.invalid_status_updates += 1;
            let ack = StatusUpdateAcknowledgementMessage { slave_id: sid, framework_id: fid, task_id: tid, uuid };
            self.send(from, Outgoing::StatusUpdateAcknowledgement(ack));
            return self.take();
        } else {
            tracing::info!(
                "Status update {state} for task {tid} of framework {fid} unknown to this master; forwarding"
            );
        }
        self.observed_change(updated);
        if let Some((res, latest)) = released {
            self.counters.task_reached(latest);
            self.release(&fid, &sid, &res, now);
        }
        // An update that will never be acknowledged (no uuid) ends the task now.
        if update.uuid.is_none() && state.is_terminal() {
            self.remove_task(&fid, &tid);
        }
        self.counters.valid_status_updates += 1;
        match self.frameworks.get(&fid).and_then(|f| f.connected_pid()).cloned() {
            Some(pid) => {
                self.send(&pid, Outgoing::StatusUpdate(StatusUpdateMessage { update, pid: Some(from.clone()) }))
            }
            None => tracing::info!(framework = %fid, task = %tid, "framework not connected; the slave will retry"),
        }
        self.take()
    }

    /// Moves a task whose end is known and acknowledged to the completed ones.
    fn remove_task(&mut self, fid: &FrameworkID, tid: &TaskID) {
        let Some(fw) = self.frameworks.get_mut(fid) else { return };
        let Some(task) = fw.tasks.remove(tid) else { return };
        if let Some(sl) = self.slaves.get_mut(&task.slave_id) {
            sl.forget_task(fid, tid);
        }
        fw.archive_task(task);
    }

    /// StatusUpdateAcknowledgementMessage from a scheduler: to the slave.
    pub fn acknowledge(&mut self, from: &Upid, msg: StatusUpdateAcknowledgementMessage) -> Vec<Action> {
        if !self.framework_from(from, &msg.framework_id, "StatusUpdateAcknowledgementMessage") {
            self.counters.invalid_status_update_acknowledgements += 1;
            return self.take();
        }
        let Some(pid) = self.slaves.get(&msg.slave_id).filter(|s| s.connected).map(|s| s.pid.clone()) else {
            tracing::warn!(slave = %msg.slave_id, task = %msg.task_id, "dropping acknowledgement for an unknown or disconnected slave");
            self.counters.invalid_status_update_acknowledgements += 1;
            return self.take();
        };
        let ends = self.frameworks[&msg.framework_id].tasks.get(&msg.task_id).is_some_and(|t| {
            t.status_update_uuid == Some(msg.uuid) && t.status_update_state.is_some_and(|s| s.is_terminal())
        });
        if ends {
            self.remove_task(&msg.framework_id, &msg.task_id);
        }
        self.counters.valid_status_update_acknowledgements += 1;
        self.send(&pid, Outgoing::StatusUpdateAcknowledgement(msg));
        self.take()
    }

    /// KillTaskMessage from a scheduler: to the task's slave, or a
    /// reconciliation answer (TASK_LOST / TASK_UNKNOWN) for a task the master
    /// does not know.
    ///
    /// A kill for a task on a *disconnected* slave is not dropped, as
    /// Mesos's `Master::kill` does it: the master remembers every kill in
    /// the slave's `killed_tasks` (also when it sends it: the message may be
    /// lost on a connection that is breaking), logs a warning, and when the
    /// slave reregisters still reporting the task as running, sends the kill
    /// again (see `reregister_slave`). If the slave never comes back, it is
    /// removed and the task reported TASK_LOST, which answers the kill. The
    /// scheduler needs no retry of its own; it hears the task's end either
    /// way. (A master failover forgets pending kills, as Mesos's does: the
    /// framework's reconciliation then shows the task still running.)
    pub fn kill_task(&mut self, from: &Upid, msg: KillTaskMessage, now: Time) -> Vec<Action> {
        if !self.framework_from(from, &msg.framework_id, "KillTaskMessage") {
            return self.take();
        }
        let fid = msg.framework_id.clone();
        let Some(task) = self.frameworks[&fid].tasks.get(&msg.task_id) else {
            tracing::warn!("Cannot kill task {} of framework {fid}: unknown; reconciling", msg.task_id);
            let status = rmesos::TaskStatus::new(msg.task_id, TaskState::Lost);
            self.reconcile_explicit(&fid, vec![status], now);
            return self.take();
        };
        let sid = task.slave_id.clone();
        let Some(sl) = self.slaves.get_mut(&sid) else {
            // Cannot happen: a task's slave is known until the task ends.
            tracing::error!("Cannot kill task {} of framework {fid}: its slave {sid} is unknown", msg.task_id);
            return self.take();
        };
        sl.killed_tasks.insert((fid.clone(), msg.task_id.clone()));
        if sl.connected {
            tracing::info!("Telling slave {sid} at {} to kill task {} of framework {fid}", sl.pid, msg.task_id);
            let pid = sl.pid.clone();
            self.send(&pid, Outgoing::KillTask(msg));
        } else {
            tracing::warn!(
                "Cannot kill task {} of framework {fid} because slave {sid} at {} is disconnected. \
                 Kill will be retried if the slave reregisters",
                msg.task_id,
                sl.pid
            );
        }
        self.take()
    }

    /// ReconcileTasksMessage: explicit (statuses given) or implicit (none).
    pub fn reconcile(&mut self, from: &Upid, msg: ReconcileTasksMessage, now: Time) -> Vec<Action> {
        if !self.framework_from(from, &msg.framework_id, "ReconcileTasksMessage") {
            return self.take();
        }
        let fid = msg.framework_id;
        if msg.statuses.is_empty() {
            // Implicit: every task the master knows for the framework, in the
            // state of its latest forwarded update (as Mesos does).
            let fw = &self.frameworks[&fid];
            let mut answers: Vec<_> = fw
                .tasks
                .values()
                .map(|t| (t.task_id.clone(), Some(t.slave_id.clone()), t.status_update_state.unwrap_or(t.state)))
                .collect();
            answers.sort_by(|a, b| a.0.cmp(&b.0));
            tracing::info!("Implicit reconciliation of framework {fid}: {} task(s)", answers.len());
            for (tid, sid, state) in answers {
                self.reconcile_answer(&fid, tid, sid, state, "Reconciliation: Latest task state", now);
            }
        } else {
            tracing::info!("Explicit reconciliation of framework {fid}: {} task(s)", msg.statuses.len());
            self.reconcile_explicit(&fid, msg.statuses, now);
        }
        self.take()
    }

    /// Explicit reconciliation, Mesos's cases: a known task -> its latest
    /// state; unknown on a registered slave -> TASK_GONE; unknown on an
    /// unreachable slave -> TASK_UNREACHABLE; otherwise TASK_UNKNOWN; each
    /// TASK_LOST instead for frameworks that are not PARTITION_AWARE.
    /// A task on a slave recovered from the registry and not reregistered
    /// yet gets no answer now (Mesos's case: it would be a guess), but is
    /// answered once that slave reregisters or is given up on
    /// (`answer_deferred_reconciliations`); Mesos never answers it, and a
    /// framework that asks only once (after its reregistration) would wait
    /// forever for a task whose launch the failed master sent into a
    /// partition.
    fn reconcile_explicit(&mut self, fid: &FrameworkID, statuses: Vec<rmesos::TaskStatus>, now: Time) {
        let pa = self.frameworks[fid].info.is_partition_aware();
        let pick = |aware: TaskState| if pa { aware } else { TaskState::Lost };
        for s in statuses {
            let fw = &self.frameworks[fid];
            let (sid, state, message) = if let Some(t) = fw.tasks.get(&s.task_id) {
                let state = t.status_update_state.unwrap_or(t.state);
                (Some(t.slave_id.clone()), state, "Reconciliation: Latest task state")
            } else {
                match s.slave_id {
                    // Recovered from the registry, not reregistered yet: no
                    // answer yet; the slave's return will tell.
                    Some(sid) if self.recovered.contains_key(&sid) => {
                        tracing::debug!(
                            "Reconciliation of task {} of framework {fid} deferred until slave {sid} reregisters",
                            s.task_id
                        );
                        self.deferred_reconciliations.entry(sid).or_default().insert((fid.clone(), s.task_id));
                        continue;
                    }
                    Some(sid) if self.slaves.contains_key(&sid) => {
                        (Some(sid), pick(TaskState::Gone), "Reconciliation: Task is unknown to the agent")
                    }
                    Some(sid) if self.unreachable.contains(&sid) => {
                        (Some(sid), pick(TaskState::Unreachable), "Reconciliation: Task is unreachable")
                    }
                    sid => (sid, pick(TaskState::Unknown), "Reconciliation: Task is unknown"),
                }
            };
            self.reconcile_answer(fid, s.task_id, sid, state, message, now);
        }
    }

    /// The explicit reconciliations deferred while slave `sid` was
    /// recovered (see `reconcile_explicit`), answered now that it
    /// reregistered (`returned`: a task it reported has its state, another
    /// is unknown to the agent) or was given up on (unreachable).
    pub(crate) fn answer_deferred_reconciliations(&mut self, sid: &SlaveID, returned: bool, now: Time) {
        let Some(asked) = self.deferred_reconciliations.remove(sid) else { return };
        tracing::info!(
            "Answering {} reconciliation(s) deferred until slave {sid} {}",
            asked.len(),
            if returned { "reregistered" } else { "was given up on" }
        );
        for (fid, tid) in asked {
            let Some(fw) = self.frameworks.get(&fid) else { continue };
            let pick = |aware: TaskState| if fw.info.is_partition_aware() { aware } else { TaskState::Lost };
            let (sid, state, message) = match fw.tasks.get(&tid) {
                Some(t) => (
                    Some(t.slave_id.clone()),
                    t.status_update_state.unwrap_or(t.state),
                    "Reconciliation: Latest task state",
                ),
                None if returned => {
                    (Some(sid.clone()), pick(TaskState::Gone), "Reconciliation: Task is unknown to the agent")
                }
                None => (Some(sid.clone()), pick(TaskState::Unreachable), "Reconciliation: Task is unreachable"),
            };
            self.reconcile_answer(&fid, tid, sid, state, message, now);
        }
    }

    fn reconcile_answer(
        &mut self,
        fid: &FrameworkID,
        tid: TaskID,
        sid: Option<SlaveID>,
        state: TaskState,
        message: &str,
        now: Time,
    ) {
        self.master_update(fid, tid, sid, state, Reason::Reconciliation, message.to_string(), now);
    }

    /// FrameworkToExecutorMessage from a scheduler: to the executor's slave.
    pub fn framework_to_executor(&mut self, from: &Upid, msg: FrameworkToExecutorMessage) -> Vec<Action> {
        if !self.framework_from(from, &msg.framework_id, "FrameworkToExecutorMessage") {
            return self.take();
        }
        match self.slaves.get(&msg.slave_id).filter(|s| s.connected).map(|s| s.pid.clone()) {
            Some(pid) => self.send(&pid, Outgoing::FrameworkToExecutor(msg)),
            None => {
                tracing::warn!(slave = %msg.slave_id, "dropping framework message for an unknown or disconnected slave");
                self.counters.dropped_messages += 1;
            }
        }
        self.take()
    }

    /// A scheduler asks for one of its executors to be shut down (the v1
    /// SHUTDOWN call): ShutdownExecutorMessage to its slave, which kills it
    /// after the executor's grace period, as Mesos's master does.
    pub fn shutdown_executor(
        &mut self,
        from: &Upid,
        fid: &FrameworkID,
        sid: &SlaveID,
        eid: &ExecutorID,
    ) -> Vec<Action> {
        if !self.framework_from(from, fid, "SHUTDOWN") {
            return self.take();
        }
        match self.slaves.get(sid).filter(|s| s.connected).map(|s| s.pid.clone()) {
            Some(pid) => {
                tracing::info!("Telling slave {sid} to shut down executor '{eid}' of framework {fid}");
                let m = ShutdownExecutorMessage { executor_id: Some(eid.clone()), framework_id: Some(fid.clone()) };
                self.send(&pid, Outgoing::ShutdownExecutor(m));
            }
            None => {
                tracing::warn!(slave = %sid, "dropping executor shutdown for an unknown or disconnected slave");
                self.counters.dropped_messages += 1;
            }
        }
        self.take()
    }

    /// ExecutorToFrameworkMessage from a slave: to the scheduler.
    pub fn executor_to_framework(&mut self, from: &Upid, msg: ExecutorToFrameworkMessage) -> Vec<Action> {
        if self.slave_from(from, "ExecutorToFrameworkMessage").is_none() {
            return self.take();
        }
        match self.frameworks.get(&msg.framework_id).and_then(|f| f.connected_pid()).cloned() {
            Some(pid) => self.send(&pid, Outgoing::ExecutorToFramework(msg)),
            None => {
                tracing::warn!(framework = %msg.framework_id, "dropping executor message for an unknown or disconnected framework");
                self.counters.dropped_messages += 1;
            }
        }
        self.take()
    }

    /// ExitedExecutorMessage from a slave: release its resources, tell the
    /// scheduler (`executor_lost`).
    pub fn exited_executor(&mut self, from: &Upid, msg: ExitedExecutorMessage, now: Time) -> Vec<Action> {
        let Some(sid) = self.slave_from(from, "ExitedExecutorMessage") else { return self.take() };
        let fid = msg.framework_id.clone();
        let removed =
            self.slaves.get_mut(&sid).and_then(|s| s.executors.get_mut(&fid)).and_then(|m| m.remove(&msg.executor_id));
        if let Some(sl) = self.slaves.get_mut(&sid) {
            if sl.executors.get(&fid).is_some_and(|m| m.is_empty()) {
                sl.executors.remove(&fid);
            }
        }
        if let Some(fw) = self.frameworks.get_mut(&fid) {
            if let Some(m) = fw.executors.get_mut(&sid) {
                m.remove(&msg.executor_id);
                if m.is_empty() {
                    fw.executors.remove(&sid);
                }
            }
        }
        if let Some(e) = removed {
            self.release(&fid, &sid, &e.resources, now);
        }
        tracing::info!(
            "Executor {} of framework {fid} on slave {sid} exited with status {}",
            msg.executor_id,
            msg.status
        );
        if let Some(pid) = self.frameworks.get(&fid).and_then(|f| f.connected_pid()).cloned() {
            self.send(&pid, Outgoing::ExitedExecutor(msg));
        }
        self.take()
    }

    /// ReviveOffersMessage: filters cleared, suppression lifted, allocate.
    pub fn revive(&mut self, from: &Upid, msg: ReviveOffersMessage) -> Vec<Action> {
        if self.framework_from(from, &msg.framework_id, "ReviveOffersMessage") {
            tracing::info!("Reviving offers for framework {}", msg.framework_id);
            self.allocator.revive(&msg.framework_id);
            self.out.push(Action::Allocate);
        }
        self.take()
    }

    /// SuppressOffersMessage: no offers until revived.
    pub fn suppress(&mut self, from: &Upid, msg: SuppressOffersMessage) -> Vec<Action> {
        if self.framework_from(from, &msg.framework_id, "SuppressOffersMessage") {
            tracing::info!("Suppressing offers for framework {}", msg.framework_id);
            self.allocator.suppress(&msg.framework_id);
        }
        self.take()
    }
}
