//! Slaves: registration (the master assigns the SlaveID), re-registration
//! (rebuilding tasks and executors the master does not know), health checks,
//! disconnection and removal.
//!
//! A slave that restarts with a fresh work directory registers with no id
//! from the pid its old process had. That is a new slave: the old one is
//! removed first (its tasks TASK_LOST), unless the registration is the old
//! process retrying (connected, same incarnation): see `register_slave`.
//! One that restarts and recovers reregisters under its id, and the tasks
//! the master knows there that it does not report are reconciled through
//! it (it answers their loss).
//!
//! Health checks, as Mesos's slave observer: every `agent_ping_timeout` the
//! master pings each slave; a ping still unanswered at the next tick is a
//! miss; after `max_agent_ping_timeouts` consecutive misses the slave is
//! removed as unreachable: its non-terminal tasks become TASK_LOST
//! (TASK_UNREACHABLE for PARTITION_AWARE frameworks) with
//! REASON_SLAVE_REMOVED, every framework gets LostSlaveMessage, offers on it
//! are rescinded. An unreachable slave that comes back is admitted again
//! under its id; tasks of frameworks that were told TASK_LOST are shut down
//! there (ShutdownFrameworkMessage), those of partition-aware frameworks are
//! adopted again (Mesos 1.x).
//!
//! A slave whose process goes away (link `Exited`) is *disconnected*, not
//! removed: nothing on it is offered, the tasks of frameworks that do not
//! checkpoint are lost at once (TASK_LOST, REASON_SLAVE_DISCONNECTED), and
//! the health checks decide the rest (a restarted slave reregisters in time;
//! a dead one misses its pings). This is what Mesos does.

use std::collections::HashSet;

use libprocess::{Time, Upid};
use rmesos::messages::*;
use rmesos::{ExecutorInfo, FrameworkID, FrameworkInfo, Reason, SlaveID, SlaveInfo, Task, TaskState, TaskStatus};

use super::observe::task_updated;
use super::state::push_status;
use super::{Action, Framework, MasterCore, Observed, Outgoing, Removal, Slave};

impl MasterCore {
    fn connection(&self) -> Option<MasterSlaveConnection> {
        Some(MasterSlaveConnection::new(self.cfg.agent_ping_timeout * self.cfg.max_agent_ping_timeouts))
    }

    /// RegisterSlaveMessage: a slave with no id yet. From the pid of a
    /// registered slave it is a retry of that slave (the id is sent again)
    /// only while that slave is connected and of the same incarnation;
    /// otherwise the slave there is gone (a restart with a fresh work
    /// directory, or one that failed recovery): it is removed, its tasks
    /// TASK_LOST (REASON_SLAVE_REMOVED, as Mesos's "a new agent registered
    /// at the same address"), and the newcomer is admitted under a new id.
    pub fn register_slave(&mut self, from: &Upid, msg: RegisterSlaveMessage, now: Time) -> Vec<Action> {
        if let Some(id) = self.slaves_by_pid.get(from).cloned() {
            let sl = &self.slaves[&id];
            let new_incarnation = matches!((sl.incarnation, msg.incarnation), (Some(a), Some(b)) if a != b);
            if sl.connected && !new_incarnation {
                tracing::info!(slave = %id, pid = %from, "slave already registered; resending acknowledgement");
                let connection = self.connection();
                let reply = Outgoing::SlaveRegistered(SlaveRegisteredMessage { slave_id: id.clone(), connection });
                self.admit_then_reply(from, &id, reply, true);
                return self.take();
            }
            tracing::info!(
                "Removing old {} slave {id} at {from} because a registration attempt occurred{}",
                if sl.connected { "connected" } else { "disconnected" },
                if new_incarnation { " from a new incarnation" } else { "" }
            );
            self.remove_slave(&id, Removal::NewAtSameAddress, now);
        }
        let mut info = msg.slave;
        if info.hostname.trim().is_empty() {
            tracing::warn!(pid = %from, "refusing slave registration: empty hostname");
            self.send(
                from,
                Outgoing::Shutdown(ShutdownMessage { message: Some("SlaveInfo has an empty hostname".into()) }),
            );
            return self.take();
        }
        let id = SlaveID::generate(&self.cfg.master_id, self.next_slave);
        self.next_slave += 1;
        info.id = Some(id.clone());
        tracing::info!("Registered slave {id} at {from} ({}) with {}", info.hostname, info.resources);
        self.allocator.add_slave(&id, info.resources.clone(), &[]);
        let mut slave = Slave::new(id.clone(), info, from.clone(), msg.version, self.wall(now));
        slave.incarnation = msg.incarnation;
        self.slaves.insert(id.clone(), slave);
        self.observe(|| Observed::AgentAdded(id.clone()));
        self.slaves_by_pid.insert(from.clone(), id.clone());
        self.counters.slave_registrations += 1;
        self.out.push(Action::Link(from.clone()));
        let connection = self.connection();
        let reply = Outgoing::SlaveRegistered(SlaveRegisteredMessage { slave_id: id.clone(), connection });
        self.admit_then_reply(from, &id, reply, true);
        self.out.push(Action::Allocate);
        self.take()
    }

    /// ReregisterSlaveMessage: a slave with an id, its tasks and executors.
    pub fn reregister_slave(&mut self, from: &Upid, msg: ReregisterSlaveMessage, now: Time) -> Vec<Action> {
        let Some(id) = msg.slave.id.clone().filter(|id| id.validate().is_ok()) else {
            tracing::warn!(pid = %from, "dropping ReregisterSlaveMessage without a valid slave id");
            self.counters.dropped_messages += 1;
            return self.take();
        };
        if msg.slave.hostname.trim().is_empty() {
            tracing::warn!(pid = %from, slave = %id, "dropping ReregisterSlaveMessage with an empty hostname");
            self.counters.dropped_messages += 1;
            return self.take();
        }
        // Another slave at this pid (a restarted slave that got a new id)?
        if let Some(other) = self.slaves_by_pid.get(from).filter(|o| **o != id).cloned() {
            self.remove_slave(&other, Removal::Replaced, now);
        }
        let wall = self.wall(now);
        self.recovered_slave_returned(&id);
        let known = self.slaves.contains_key(&id);
        let was_unreachable = self.unreachable.remove(&id);
        let mut shutdown: HashSet<FrameworkID> = HashSet::new();
        let reported: HashSet<_> = msg.tasks.iter().map(|t| (t.framework_id.clone(), t.task_id.clone())).collect();
        // Tasks reported lost here earlier: those the slave still reports
        // stay recorded (a later leader must still refuse them).
        let lost = self.lost_on_disconnect.remove(&id).unwrap_or_default();
        let (still, gone): (Vec<_>, Vec<_>) = lost.iter().cloned().partition(|k| reported.contains(k));
        if !still.is_empty() {
            self.lost_on_disconnect.insert(id.clone(), still.into_iter().collect());
        }
        if !gone.is_empty() {
            self.out.push(Action::ClearLoss { slave_id: id.clone(), tasks: gone });
        }
        if known {
            let sl = self.slaves.get_mut(&id).expect("known");
            if sl.info.resources != msg.slave.resources {
                tracing::info!("Slave {id} now has {} (was {})", msg.slave.resources, sl.info.resources);
                let taken = &sl.used + &sl.offered;
                self.allocator.update_slave(&id, msg.slave.resources.clone(), &taken);
            }
            let sl = self.slaves.get_mut(&id).expect("known");
            let old_pid = std::mem::replace(&mut sl.pid, from.clone());
            sl.info = SlaveInfo { id: Some(id.clone()), ..msg.slave.clone() };
            sl.version = msg.version.clone();
            sl.incarnation = msg.incarnation;
            sl.connected = true;
            sl.active = true;
            sl.awaiting_pong = false;
            sl.pings_missed = 0;
            sl.reregistered_time = Some(wall);
            if old_pid != *from {
                self.slaves_by_pid.remove(&old_pid);
                self.out.push(Action::Unlink(old_pid));
            }
            self.allocator.activate_slave(&id);
            tracing::info!("Re-registered slave {id} at {from} ({}) with {}", msg.slave.hostname, msg.slave.resources);
        } else {
            let mut info = msg.slave.clone();
            info.id = Some(id.clone());
            tracing::info!(
                "Re-registered slave {id} at {from} ({}) with {} ({}; {} tasks reported)",
                info.hostname,
                info.resources,
                if was_unreachable { "back from unreachable" } else { "unknown to this master; admitted" },
                msg.tasks.len()
            );
            self.allocator.add_slave(&id, info.resources.clone(), &[]);
            let mut slave = Slave::new(id.clone(), info, from.clone(), msg.version.clone(), wall);
            slave.reregistered_time = Some(wall);
            slave.incarnation = msg.incarnation;
            self.slaves.insert(id.clone(), slave);
            self.observe(|| Observed::AgentAdded(id.clone()));
        }
        self.slaves_by_pid.insert(from.clone(), id.clone());
        self.out.push(Action::Link(from.clone()));
        self.counters.slave_reregistrations += 1;

        // Sent after SlaveReregistered (as Mesos does), once the slave is in.
        let mut kills = Vec::new();
        if known {
            // As Mesos: a known slave cannot bring tasks the master does not
            // know (their framework was told they were lost, e.g. when the
            // slave disconnected): they are killed there, never adopted.
            let killed = &self.slaves[&id].killed_tasks;
            for task in msg.tasks.iter().filter(|t| !t.state.is_terminal()) {
                let knows =
                    self.frameworks.get(&task.framework_id).is_some_and(|f| f.tasks.contains_key(&task.task_id));
                if knows && killed.contains(&(task.framework_id.clone(), task.task_id.clone())) {
                    // A kill sent while the slave was disconnected (or lost
                    // on the way): see `kill_task`.
                    tracing::warn!(
                        "Slave {id} at {from} has non-terminal task {} of framework {} that is supposed to be \
                         killed. Killing it now!",
                        task.task_id,
                        task.framework_id
                    );
                    kills.push(KillTaskMessage {
                        framework_id: task.framework_id.clone(),
                        task_id: task.task_id.clone(),
                        kill_policy: None,
                    });
                } else if !knows {
                    tracing::warn!(
                        "Slave {id} has task {} of framework {} unknown to the master; killing it",
                        task.task_id,
                        task.framework_id
                    );
                    kills.push(KillTaskMessage {
                        framework_id: task.framework_id.clone(),
                        task_id: task.task_id.clone(),
                        kill_policy: None,
                    });
                }
            }
            for fid in msg.tasks.iter().map(|t| &t.framework_id) {
                if self.completed_frameworks.iter().any(|f| f.id == *fid) {
                    shutdown.insert(fid.clone());
                }
            }
        } else {
            let mut tasks = msg.tasks;
            if !lost.is_empty() {
                for info in &msg.frameworks {
                    self.recover_framework(info, now, &mut shutdown);
                }
                let refused: Vec<Task>;
                (refused, tasks) =
                    tasks.into_iter().partition(|t| lost.contains(&(t.framework_id.clone(), t.task_id.clone())));
                kills.extend(self.refuse_lost(&id, refused, now));
            }
            let executors = msg.executor_infos;
            self.adopt_reported(&id, msg.frameworks, tasks, executors, was_unreachable, &mut shutdown, now);
        }
        self.answer_deferred_reconciliations(&id, true, now);
        // Tasks the master knows on this slave that the slave did not report:
        // the slave answers these reconciliations with their final updates.
        let mut reconciliations = Vec::new();
        if known {
            let sl = &self.slaves[&id];
            for (fid, tids) in &sl.tasks {
                let Some(fw) = self.frameworks.get(fid) else { continue };
                let statuses: Vec<TaskStatus> = tids
                    .iter()
                    .filter(|t| !reported.contains(&(fid.clone(), (*t).clone())))
                    .filter_map(|t| fw.tasks.get(t))
                    .map(|t| {
                        TaskStatus::new(t.task_id.clone(), t.status_update_state.unwrap_or(t.state))
                            .with_slave_id(id.clone())
                            .with_source(rmesos::Source::Master)
                            .with_reason(Reason::Reconciliation)
                            .with_message("Reconciliation request")
                            .with_timestamp(wall)
                    })
                    .collect();
                if !statuses.is_empty() {
                    tracing::warn!(
                        "{} task(s) of framework {fid} unknown to slave {id} during re-registration: reconciling \
                         with the slave",
                        statuses.len()
                    );
                    let framework = Some(fw.info.clone());
                    reconciliations.push(ReconcileTasksMessage { framework_id: fid.clone(), statuses, framework });
                }
            }
        }
        let connection = self.connection();
        let m = SlaveReregisteredMessage { slave_id: id.clone(), reconciliations, connection };
        self.admit_then_reply(from, &id, Outgoing::SlaveReregistered(m), false);
        for kill in kills {
            self.send(from, Outgoing::KillTask(kill));
        }
        let mut shutdown: Vec<_> = shutdown.into_iter().collect();
        shutdown.sort();
        for fid in shutdown {
            tracing::info!("Shutting down framework {fid} on reregistered slave {id}");
            self.send(from, Outgoing::ShutdownFramework(ShutdownFrameworkMessage { framework_id: fid }));
        }
        self.out.push(Action::Allocate);
        self.take()
    }

    /// Tasks a reregistering slave reports for frameworks that an earlier
    /// master reported lost there (see `registry.rs`): not adopted; the
    /// framework hears TASK_LOST (again, perhaps: a stale one is ignored)
    /// and late updates of them are acknowledged and dropped; the live
    /// ones are killed (returned).
    fn refuse_lost(&mut self, sid: &SlaveID, tasks: Vec<Task>, now: Time) -> Vec<KillTaskMessage> {
        let mut kills = Vec::new();
        for mut task in tasks {
            let (fid, tid) = (task.framework_id.clone(), task.task_id.clone());
            tracing::info!(
                "Slave {sid} reports task {tid} of framework {fid}, reported lost by an earlier master; not adopted"
            );
            if !task.state.is_terminal() {
                kills.push(KillTaskMessage { framework_id: fid.clone(), task_id: tid.clone(), kill_policy: None });
            }
            let message = "Slave disconnected from an earlier master".to_string();
            self.master_update(&fid, tid, Some(sid.clone()), TaskState::Lost, Reason::SlaveDisconnected, message, now);
            task.state = TaskState::Lost;
            task.slave_id = sid.clone();
            if let Some(fw) = self.frameworks.get_mut(&fid) {
                fw.archive_task(task);
            }
        }
        kills
    }

    /// Rebuilds what a slave unknown to this master reports (after a master
    /// restart, or back from unreachable): frameworks, tasks, executors.
    #[allow(clippy::too_many_arguments)]
    fn adopt_reported(
        &mut self,
        id: &SlaveID,
        frameworks: Vec<FrameworkInfo>,
        tasks: Vec<Task>,
        executors: Vec<ExecutorInfo>,
        was_unreachable: bool,
        shutdown: &mut HashSet<FrameworkID>,
        now: Time,
    ) {
        // Frameworks of the reported tasks: recover unknown ones; shut down
        // removed ones and, for a slave back from unreachable, those that
        // were told its tasks were lost.
        for info in &frameworks {
            self.recover_framework(info, now, shutdown);
        }
        for task in tasks {
            let fid = task.framework_id.clone();
            if shutdown.contains(&fid) || self.completed_frameworks.iter().any(|f| f.id == fid) {
                shutdown.insert(fid);
                continue;
            }
            let Some(fw) = self.frameworks.get(&fid) else {
                tracing::warn!(slave = %id, task = %task.task_id, framework = %fid, "reported task of a framework not reported; ignored");
                continue;
            };
            if was_unreachable && !fw.info.is_partition_aware() {
                shutdown.insert(fid);
                continue;
            }
            self.adopt_task(id, task);
        }
        for e in executors {
            let Some(fid) = e.framework_id.clone() else { continue };
            if shutdown.contains(&fid) || !self.frameworks.contains_key(&fid) {
                continue;
            }
            self.adopt_executor(id, &fid, e);
        }
    }

    /// A framework reported by a re-registering slave: known, removed (to be
    /// shut down), or recovered with no scheduler pid until it reregisters.
    fn recover_framework(&mut self, info: &FrameworkInfo, now: Time, shutdown: &mut HashSet<FrameworkID>) {
        let Some(fid) = info.id.clone().filter(|f| f.validate().is_ok()) else { return };
        if self.frameworks.contains_key(&fid) {
            return;
        }
        if self.completed_frameworks.iter().any(|f| f.id == fid) {
            shutdown.insert(fid);
            return;
        }
        tracing::info!(
            "Recovered framework {fid} ({}) from a reregistering slave; waiting for its scheduler",
            info.name
        );
        let fw = Framework::new(fid.clone(), info.clone(), None, self.wall(now));
        self.frameworks.insert(fid.clone(), fw);
        self.observe(|| Observed::FrameworkAdded(fid.clone()));
        self.allocator.add_framework(&fid, false);
    }

    fn adopt_task(&mut self, sid: &SlaveID, mut task: Task) {
        let fid = task.framework_id.clone();
        if task.task_id.validate().is_err() {
            return;
        }
        let Some(fw) = self.frameworks.get_mut(&fid) else { return };
        if fw.tasks.contains_key(&task.task_id) {
            return;
        }
        fw.completed_tasks.retain(|t| !(t.task_id == task.task_id && t.state == TaskState::Unreachable));
        task.slave_id = sid.clone();
        let res = task.resources.clone();
        let live = !task.state.is_terminal();
        let added = self.observed.then(|| Observed::TaskAdded(task.clone()));
        if let Some(sl) = self.slaves.get_mut(sid) {
            sl.tasks.entry(fid.clone()).or_default().insert(task.task_id.clone());
        }
        fw.tasks.insert(task.task_id.clone(), task);
        self.observed_change(added);
        if live {
            self.claim(&fid, sid, &res);
        }
    }

    fn adopt_executor(&mut self, sid: &SlaveID, fid: &FrameworkID, e: ExecutorInfo) {
        let Some(sl) = self.slaves.get_mut(sid) else { return };
        let execs = sl.executors.entry(fid.clone()).or_default();
        if execs.contains_key(&e.executor_id) {
            return;
        }
        execs.insert(e.executor_id.clone(), e.clone());
        let res = e.resources.clone();
        if let Some(fw) = self.frameworks.get_mut(fid) {
            fw.executors.entry(sid.clone()).or_default().insert(e.executor_id.clone(), e);
        }
        self.claim(fid, sid, &res);
    }

    /// UnregisterSlaveMessage: the slave leaves for good.
    pub fn unregister_slave(&mut self, from: &Upid, msg: UnregisterSlaveMessage, now: Time) -> Vec<Action> {
        match self.slaves.get(&msg.slave_id) {
            Some(sl) if sl.pid == *from => {
                self.remove_slave(&msg.slave_id, Removal::Unregistered, now);
            }
            _ => {
                tracing::warn!(%from, slave = %msg.slave_id, "dropping UnregisterSlaveMessage: not from that slave");
                self.counters.dropped_messages += 1;
            }
        }
        self.take()
    }

    /// PongSlaveMessage.
    pub fn pong(&mut self, from: &Upid) -> Vec<Action> {
        if let Some(sl) = self.slaves_by_pid.get(from).and_then(|id| self.slaves.get_mut(id)) {
            sl.awaiting_pong = false;
            sl.pings_missed = 0;
        }
        self.take()
    }

    /// Every `agent_ping_timeout`: count misses, remove the slaves that missed
    /// too many, ping the others.
    pub fn ping_tick(&mut self, now: Time) -> Vec<Action> {
        let max = self.cfg.max_agent_ping_timeouts.max(1);
        let mut remove = Vec::new();
        let mut pings = Vec::new();
        // In id order: a simulation replays only if no HashMap order decides
        // what is sent.
        let mut slaves: Vec<&mut Slave> = self.slaves.values_mut().collect();
        slaves.sort_by(|a, b| a.id.cmp(&b.id));
        for sl in slaves {
            if sl.awaiting_pong {
                sl.pings_missed += 1;
                if sl.pings_missed >= max {
                    remove.push(sl.id.clone());
                    continue;
                }
                tracing::debug!(slave = %sl.id, missed = sl.pings_missed, "slave missed a ping");
            }
            sl.awaiting_pong = true;
            pings.push((sl.pid.clone(), sl.connected));
        }
        for (pid, connected) in pings {
            self.send(&pid, Outgoing::PingSlave(PingSlaveMessage { connected }));
        }
        remove.sort();
        for id in remove {
            tracing::warn!(
                "Slave {id} at {} did not answer {max} consecutive pings (one every {:?})",
                self.slaves[&id].pid,
                self.cfg.agent_ping_timeout
            );
            self.remove_slave(&id, Removal::Unreachable, now);
        }
        self.take()
    }

    /// The slave's process is gone: see the module doc.
    pub(crate) fn slave_disconnected(&mut self, id: &SlaveID, now: Time) {
        let Some(sl) = self.slaves.get_mut(id) else { return };
        if !sl.connected {
            return;
        }
        sl.connected = false;
        sl.active = false;
        sl.disconnect_epoch += 1;
        let epoch = sl.disconnect_epoch;
        tracing::info!(
            "Slave {id} at {} ({}) disconnected; waiting {:?} for it to reregister",
            sl.pid,
            sl.info.hostname,
            self.cfg.agent_reregister_timeout
        );
        let after = self.cfg.agent_reregister_timeout;
        self.out.push(Action::ReregisterTimer { slave_id: id.clone(), epoch, after });
        let offers: Vec<_> = sl.offers.iter().cloned().collect();
        self.allocator.deactivate_slave(id);
        for o in offers {
            self.remove_offer(&o, true, None, now);
        }
        // Frameworks that do not checkpoint lose their tasks here: recorded
        // in the registry first, so a later leader does not adopt them.
        let sl = &self.slaves[id];
        let lost: Vec<(FrameworkID, rmesos::TaskID)> = sl
            .tasks
            .iter()
            .filter(|(f, _)| self.frameworks.get(*f).is_some_and(|fw| !fw.info.checkpoint))
            .flat_map(|(f, tids)| tids.iter().map(move |t| (f.clone(), t.clone())))
            .collect();
        if !lost.is_empty() {
            self.lost_on_disconnect.entry(id.clone()).or_default().extend(lost.iter().cloned());
            self.out.push(Action::RecordLoss { slave_id: id.clone(), tasks: lost });
        }
        let message = format!("Slave {id} disconnected");
        self.lose_tasks(id, |fw| !fw.info.checkpoint, |_| TaskState::Lost, Reason::SlaveDisconnected, &message, now);
    }

    /// The reregistration timer set at disconnection fired: a slave still
    /// disconnected (alive enough to answer pings, but not reregistering)
    /// is removed as unreachable, as Mesos does.
    pub fn reregister_timeout(&mut self, id: &SlaveID, epoch: u64, now: Time) -> Vec<Action> {
        if self.slaves.get(id).is_some_and(|s| !s.connected && s.disconnect_epoch == epoch) {
            self.remove_slave(id, Removal::ReregisterTimeout, now);
        }
        self.take()
    }

    /// Removes a slave; see the module doc.
    pub(crate) fn remove_slave(&mut self, id: &SlaveID, why: Removal, now: Time) {
        let Some(sl) = self.slaves.get(id) else { return };
        let (pid, hostname) = (sl.pid.clone(), sl.info.hostname.clone());
        let offers: Vec<_> = sl.offers.iter().cloned().collect();
        for o in offers {
            self.remove_offer(&o, true, None, now);
        }
        let reason = match why {
            Removal::Unreachable => "health check timed out".to_string(),
            Removal::ReregisterTimeout => {
                format!("did not reregister within {:?} of disconnecting", self.cfg.agent_reregister_timeout)
            }
            Removal::Unregistered => "unregistered".to_string(),
            Removal::Replaced => "replaced by a new slave at the same pid".to_string(),
            Removal::NewAtSameAddress => "a new slave registered at the same address".to_string(),
        };
        tracing::info!("Removing slave {id} at {pid} ({hostname}): {reason}");
        let message = format!("Slave {id} ({hostname}) removed: {reason}");
        let unreachable = matches!(why, Removal::Unreachable | Removal::ReregisterTimeout);
        let state = move |fw: &Framework| {
            if unreachable && fw.info.is_partition_aware() {
                TaskState::Unreachable
            } else {
                TaskState::Lost
            }
        };
        self.lose_tasks(id, |_| true, state, Reason::SlaveRemoved, &message, now);
        self.allocator.remove_slave(id);
        self.slaves.remove(id);
        if self.slaves_by_pid.get(&pid) == Some(id) {
            self.slaves_by_pid.remove(&pid);
        }
        self.out.push(Action::Unlink(pid.clone()));
        if unreachable {
            self.unreachable.insert(id.clone());
        }
        self.counters.slave_removals += 1;
        self.removed(id);
        self.observe(|| Observed::AgentRemoved(id.clone()));
        let mut pids: Vec<Upid> = self.frameworks.values().filter_map(|f| f.connected_pid().cloned()).collect();
        pids.sort();
        for p in pids {
            self.send(&p, Outgoing::LostSlave(LostSlaveMessage { slave_id: id.clone() }));
        }
    }

    /// The tasks on slave `sid` of the frameworks `which` selects end in the
    /// state `state` gives (reported by the master with `reason`), and those
    /// frameworks' executors there are forgotten.
    fn lose_tasks(
        &mut self,
        sid: &SlaveID,
        which: impl Fn(&Framework) -> bool,
        state: impl Fn(&Framework) -> TaskState,
        reason: Reason,
        message: &str,
        now: Time,
    ) {
        let Some(sl) = self.slaves.get(sid) else { return };
        let mut fids: Vec<FrameworkID> = sl.tasks.keys().chain(sl.executors.keys()).cloned().collect();
        fids.sort();
        fids.dedup();
        for fid in fids {
            let Some(fw) = self.frameworks.get(&fid) else { continue };
            if !which(fw) {
                continue;
            }
            let new_state = state(fw);
            let tids: Vec<_> =
                self.slaves[sid].tasks.get(&fid).map(|s| s.iter().cloned().collect()).unwrap_or_default();
            for tid in tids {
                let Some(mut task) = self.frameworks.get_mut(&fid).and_then(|f| f.tasks.remove(&tid)) else { continue };
                if let Some(sl) = self.slaves.get_mut(sid) {
                    sl.forget_task(&fid, &tid);
                }
                if !task.state.is_terminal() {
                    self.release(&fid, sid, &task.resources, now);
                    tracing::info!("Task {tid} of framework {fid} on slave {sid} is {new_state} ({reason}: {message})");
                    task.state = new_state;
                    let status = TaskStatus::new(tid.clone(), new_state)
                        .with_source(rmesos::Source::Master)
                        .with_reason(reason)
                        .with_message(message)
                        .with_slave_id(sid.clone())
                        .with_timestamp(self.wall(now));
                    let last = task.statuses.last().map(|s| s.state);
                    let updated = self.observed.then(|| task_updated(&task, last, &status)).flatten();
                    push_status(&mut task, status);
                    self.observed_change(updated);
                    self.counters.task_reached(new_state);
                    self.master_update(&fid, tid, Some(sid.clone()), new_state, reason, message.to_string(), now);
                }
                if let Some(fw) = self.frameworks.get_mut(&fid) {
                    fw.archive_task(task);
                }
            }
            let execs = self.slaves.get_mut(sid).and_then(|s| s.executors.remove(&fid)).unwrap_or_default();
            for e in execs.values() {
                self.release(&fid, sid, &e.resources, now);
            }
            if let Some(fw) = self.frameworks.get_mut(&fid) {
                fw.executors.remove(sid);
            }
        }
    }
}
