//! Frameworks: registration (the master assigns the FrameworkID),
//! re-registration (same id; a new scheduler pid is a failover), deactivation,
//! disconnection with its failover timeout, and removal.
//!
//! Choices, following Mesos:
//! - a scheduler that disconnects (its process exits or its node becomes
//!   unreachable) is deactivated at once (offers withdrawn) and removed after
//!   its `failover_timeout` (0 = at once) unless it reregisters first;
//! - a framework recovered from a slave's re-registration after a master
//!   restart has no failover timer: its tasks keep running until its
//!   scheduler reregisters (Mesos does the same);
//! - removal kills its tasks (ShutdownFrameworkMessage to every slave that
//!   runs some) and keeps it among the completed frameworks.

use libprocess::{Time, Upid};
use rmesos::messages::*;
use rmesos::{FrameworkID, Reason, Source, TaskState, TaskStatus};

use rmesos::auth::acls::Action as Action_;

use super::observe::task_updated;
use super::state::push_status;
use super::{Action, Framework, MasterCore, Observed, Outgoing};

/// Why an operator's teardown was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Teardown {
    /// No registered framework has that id.
    Unknown,
    /// `--acls` (`teardown_frameworks`) does not allow this principal.
    Forbidden,
}
use crate::core::state::MAX_COMPLETED_FRAMEWORKS;

impl MasterCore {
    /// `register_frameworks`: the framework's principal may use its role
    /// (Mesos authorizes FrameworkInfo.principal, which the master's gate
    /// has checked against the authenticated one).
    fn authorize_framework(&self, info: &rmesos::FrameworkInfo) -> Result<(), String> {
        let principal = info.principal.as_deref();
        if self.cfg.acls.allows(Action_::RegisterFrameworks, principal, Some(&info.role)) {
            return Ok(());
        }
        Err(format!(
            "Not authorized to use role '{}'{}",
            info.role,
            principal.map_or(String::new(), |p| format!(" (principal '{p}')"))
        ))
    }

    fn framework_error(&mut self, to: &Upid, message: String) {
        tracing::warn!(scheduler = %to, "refusing framework: {message}");
        self.send(to, Outgoing::FrameworkError(FrameworkErrorMessage { message }));
    }

    /// RegisterFrameworkMessage: a new framework.
    pub fn register_framework(&mut self, from: &Upid, msg: RegisterFrameworkMessage, now: Time) -> Vec<Action> {
        let mut info = msg.framework;
        if let Err(e) = info.validate() {
            self.framework_error(from, format!("Invalid FrameworkInfo: {e}"));
            return self.take();
        }
        if let Err(e) = self.authorize_framework(&info) {
            self.framework_error(from, e);
            return self.take();
        }
        if info.id.is_some() {
            self.framework_error(from, "Registering with 'id' already set".to_string());
            return self.take();
        }
        if let Some(fid) = self.frameworks_by_pid.get(from).cloned() {
            // The driver retries until it hears back: answer again.
            tracing::info!(framework = %fid, scheduler = %from, "framework already registered; resending acknowledgement");
            let master_info = self.cfg.info.clone();
            self.send(
                from,
                Outgoing::FrameworkRegistered(FrameworkRegisteredMessage { framework_id: fid, master_info }),
            );
            return self.take();
        }
        let id = FrameworkID::generate(&self.cfg.master_id, self.next_framework);
        self.next_framework += 1;
        info.id = Some(id.clone());
        tracing::info!(
            "Registered framework {id} ({}) at {from} (user {}, failover_timeout {}s, checkpoint {})",
            info.name,
            info.user,
            info.failover_timeout,
            info.checkpoint
        );
        let fw = Framework::new(id.clone(), info, Some(from.clone()), self.wall(now));
        self.frameworks.insert(id.clone(), fw);
        self.observe(|| Observed::FrameworkAdded(id.clone()));
        self.frameworks_by_pid.insert(from.clone(), id.clone());
        self.out.push(Action::Link(from.clone()));
        self.allocator.add_framework(&id, true);
        let master_info = self.cfg.info.clone();
        self.send(from, Outgoing::FrameworkRegistered(FrameworkRegisteredMessage { framework_id: id, master_info }));
        self.out.push(Action::Allocate);
        self.take()
    }

    /// ReregisterFrameworkMessage: a framework with an id comes back (after a
    /// master failover, a scheduler restart, or a disconnection).
    pub fn reregister_framework(&mut self, from: &Upid, msg: ReregisterFrameworkMessage, now: Time) -> Vec<Action> {
        let info = msg.framework;
        if let Err(e) = info.validate() {
            self.framework_error(from, format!("Invalid FrameworkInfo: {e}"));
            return self.take();
        }
        if let Err(e) = self.authorize_framework(&info) {
            self.framework_error(from, e);
            return self.take();
        }
        let Some(id) = info.id.clone() else {
            self.framework_error(from, "Framework reregistering without an 'id'".to_string());
            return self.take();
        };
        if let Err(e) = id.validate() {
            self.framework_error(from, format!("Invalid framework id: {e}"));
            return self.take();
        }
        if self.completed_frameworks.iter().any(|f| f.id == id) {
            self.framework_error(from, format!("Framework {id} has been removed"));
            return self.take();
        }
        // The same pid may not speak for two frameworks.
        if let Some(other) = self.frameworks_by_pid.get(from).filter(|f| **f != id).cloned() {
            self.framework_error(from, format!("Scheduler {from} is already registered as framework {other}"));
            return self.take();
        }
        let master_info = self.cfg.info.clone();
        let wall = self.wall(now);
        if !self.frameworks.contains_key(&id) {
            // Unknown id: the master restarted and no slave reported this
            // framework yet. Admit it under its id, as Mesos does.
            tracing::info!("Re-registered framework {id} ({}) at {from} (unknown to this master; admitted)", info.name);
            let mut fw = Framework::new(id.clone(), info, Some(from.clone()), wall);
            fw.reregistered_time = Some(wall);
            self.frameworks.insert(id.clone(), fw);
            self.observe(|| Observed::FrameworkAdded(id.clone()));
            self.frameworks_by_pid.insert(from.clone(), id.clone());
            self.out.push(Action::Link(from.clone()));
            self.allocator.add_framework(&id, true);
            self.send(
                from,
                Outgoing::FrameworkReregistered(FrameworkReregisteredMessage { framework_id: id, master_info }),
            );
            self.out.push(Action::Allocate);
            return self.take();
        }
        let old_pid = self.frameworks[&id].pid.clone();
        let failed_over = matches!(&old_pid, Some(old) if old != from);
        if failed_over && !msg.failover {
            // Another scheduler holds this framework; only a failover may take it.
            let held = old_pid.as_ref().map_or("none".to_string(), Upid::to_string);
            tracing::warn!("Refusing reregistration of framework {id} from {from}: it is held by {held}");
            let m = FrameworkErrorMessage { message: "Framework failed over".into() };
            self.send(from, Outgoing::FrameworkError(m));
            return self.take();
        }
        // The scheduler may have lost its offers with the old master or
        // connection, and a scheduler that takes over never had them: take
        // them back (as Mesos does, rescinding only to a scheduler that may
        // hold them) and offer afresh.
        let offers: Vec<_> = self.frameworks[&id].offers.iter().cloned().collect();
        for o in offers {
            self.remove_offer(&o, !failed_over, None, now);
        }
        let fw = self.frameworks.get_mut(&id).expect("checked above");
        fw.info = info;
        fw.pid = Some(from.clone());
        fw.connected = true;
        fw.active = true;
        fw.failover_epoch += 1;
        fw.reregistered_time = Some(wall);
        let name = fw.info.name.clone();
        let mut slaves: Vec<_> =
            fw.executors.keys().cloned().chain(fw.tasks.values().map(|t| t.slave_id.clone())).collect();
        slaves.sort();
        slaves.dedup();
        if let Some(old) = old_pid.as_ref().filter(|_| failed_over) {
            self.frameworks_by_pid.remove(old);
            self.out.push(Action::Unlink(old.clone()));
            let m = FrameworkErrorMessage { message: "Framework failed over".into() };
            self.send(old, Outgoing::FrameworkError(m));
        }
        self.frameworks_by_pid.insert(from.clone(), id.clone());
        self.out.push(Action::Link(from.clone()));
        // A failed-over or recovered framework: slaves route its executors'
        // messages to the new scheduler.
        if old_pid.as_ref() != Some(from) {
            for sid in slaves {
                if let Some(pid) = self.slaves.get(&sid).filter(|s| s.connected).map(|s| s.pid.clone()) {
                    let m = UpdateFrameworkMessage {
                        framework_id: id.clone(),
                        pid: Some(from.clone()),
                        framework_info: None,
                    };
                    self.send(&pid, Outgoing::UpdateFramework(m));
                }
            }
        }
        self.allocator.activate_framework(&id);
        self.observe(|| Observed::FrameworkUpdated(id.clone()));
        if failed_over {
            // Mesos answers a failover with FrameworkRegisteredMessage.
            let was = old_pid.as_ref().map_or("none".to_string(), Upid::to_string);
            tracing::info!("Framework {id} ({name}) failed over to {from} (was {was})");
            let m = FrameworkRegisteredMessage { framework_id: id, master_info };
            self.send(from, Outgoing::FrameworkRegistered(m));
        } else {
            tracing::info!("Re-registered framework {id} ({name}) at {from}");
            let m = FrameworkReregisteredMessage { framework_id: id, master_info };
            self.send(from, Outgoing::FrameworkReregistered(m));
        }
        self.out.push(Action::Allocate);
        self.take()
    }

    /// UnregisterFrameworkMessage: the framework is done.
    pub fn unregister_framework(&mut self, from: &Upid, msg: UnregisterFrameworkMessage, now: Time) -> Vec<Action> {
        if self.framework_from(from, &msg.framework_id, "UnregisterFrameworkMessage") {
            tracing::info!("Unregistering framework {} at {from}", msg.framework_id);
            self.remove_framework(&msg.framework_id, now);
        }
        self.take()
    }

    /// An operator's teardown (`POST /teardown frameworkId=`, as Mesos's
    /// `/master/teardown`): `principal` (the HTTP one, if authenticated) must
    /// be allowed `teardown_frameworks` on the framework's principal; the
    /// framework is then removed as if it had unregistered (its tasks killed
    /// on their slaves), and a connected scheduler is told why.
    pub fn teardown_framework(
        &mut self,
        principal: Option<&str>,
        id: &FrameworkID,
        now: Time,
    ) -> Result<Vec<Action>, Teardown> {
        let Some(fw) = self.frameworks.get(id) else { return Err(Teardown::Unknown) };
        if !self.cfg.acls.allows(Action_::TeardownFrameworks, principal, fw.info.principal.as_deref()) {
            tracing::warn!(?principal, framework = %id, "teardown of framework {id} refused by --acls (teardown_frameworks)");
            return Err(Teardown::Forbidden);
        }
        tracing::info!(?principal, "Processing TEARDOWN of framework {id} ({}) by an operator", fw.info.name);
        if let Some(pid) = fw.connected_pid().cloned() {
            let m = FrameworkErrorMessage { message: "Framework has been removed".into() };
            self.send(&pid, Outgoing::FrameworkError(m));
        }
        self.remove_framework(id, now);
        self.out.push(Action::Allocate);
        Ok(self.take())
    }

    /// DeactivateFrameworkMessage: no offers until it reregisters.
    pub fn deactivate_framework(&mut self, from: &Upid, msg: DeactivateFrameworkMessage, now: Time) -> Vec<Action> {
        if self.framework_from(from, &msg.framework_id, "DeactivateFrameworkMessage") {
            tracing::info!("Deactivating framework {} at {from}", msg.framework_id);
            self.deactivate(&msg.framework_id, true, now);
            self.observe(|| Observed::FrameworkUpdated(msg.framework_id.clone()));
        }
        self.take()
    }

    /// Withdraws the framework's offers and stops offering to it.
    fn deactivate(&mut self, id: &FrameworkID, rescind: bool, now: Time) {
        let Some(fw) = self.frameworks.get_mut(id) else { return };
        fw.active = false;
        let offers: Vec<_> = fw.offers.iter().cloned().collect();
        self.allocator.deactivate_framework(id);
        for o in offers {
            self.remove_offer(&o, rescind, None, now);
        }
    }

    /// The scheduler's process is gone: deactivate, start the failover timer.
    pub(crate) fn framework_disconnected(&mut self, id: &FrameworkID, now: Time) {
        let Some(fw) = self.frameworks.get_mut(id) else { return };
        if !fw.connected {
            return;
        }
        fw.connected = false;
        fw.failover_epoch += 1;
        // As Mesos: if the scheduler is in fact alive (a broken connection),
        // it learns it was dropped rather than waiting forever for offers.
        if let Some(pid) = fw.pid.clone() {
            let m = FrameworkErrorMessage { message: "Framework disconnected".into() };
            self.out.push(Action::Send(pid, Outgoing::FrameworkError(m)));
        }
        let fw = self.frameworks.get_mut(id).expect("present");
        let (epoch, after) = (fw.failover_epoch, fw.info.failover_timeout());
        let pid = fw.pid.as_ref().map_or("none".to_string(), Upid::to_string);
        tracing::info!(
            "Framework {id} ({}) at {pid} disconnected; removing it in {after:?} unless it reregisters",
            fw.info.name
        );
        self.deactivate(id, false, now);
        self.observe(|| Observed::FrameworkUpdated(id.clone()));
        self.out.push(Action::FailoverTimer { framework_id: id.clone(), epoch, after });
    }

    /// The failover timer set at disconnection fired.
    pub fn failover_expired(&mut self, id: &FrameworkID, epoch: u64, now: Time) -> Vec<Action> {
        if let Some(fw) = self.frameworks.get(id) {
            if !fw.connected && fw.failover_epoch == epoch {
                tracing::info!("Framework {id} ({}) failover timeout expired; removing it", fw.info.name);
                self.remove_framework(id, now);
            }
        }
        self.take()
    }

    /// Forgets a framework: offers withdrawn, tasks killed on their slaves,
    /// resources recovered, kept among the completed frameworks.
    pub(crate) fn remove_framework(&mut self, id: &FrameworkID, now: Time) {
        self.deactivate(id, false, now);
        let Some(mut fw) = self.frameworks.remove(id) else { return };
        let mut slaves = std::collections::BTreeSet::new();
        let mut tasks: Vec<_> = fw.tasks.drain().map(|(_, t)| t).collect();
        tasks.sort_by(|a, b| a.task_id.cmp(&b.task_id));
        for mut task in tasks {
            slaves.insert(task.slave_id.clone());
            if !task.state.is_terminal() {
                self.release(&fw.id, &task.slave_id, &task.resources, now);
                task.state = TaskState::Killed;
                self.counters.task_reached(TaskState::Killed);
                // As Mesos: the task's last status says why it ended.
                let status = TaskStatus::new(task.task_id.clone(), TaskState::Killed)
                    .with_source(Source::Master)
                    .with_reason(Reason::FrameworkRemoved)
                    .with_message(format!("Framework {id} removed"))
                    .with_slave_id(task.slave_id.clone())
                    .with_timestamp(self.wall(now));
                let last = task.statuses.last().map(|s| s.state);
                push_status(&mut task, status.clone());
                self.observed_change(task_updated(&task, last, &status));
            }
            if let Some(sl) = self.slaves.get_mut(&task.slave_id) {
                sl.forget_task(id, &task.task_id);
            }
            fw.archive_task(task);
        }
        for (sid, execs) in std::mem::take(&mut fw.executors) {
            slaves.insert(sid.clone());
            for e in execs.values() {
                self.release(&fw.id, &sid, &e.resources, now);
            }
            if let Some(sl) = self.slaves.get_mut(&sid) {
                sl.executors.remove(id);
            }
        }
        fw.used = rmesos::Resources::new();
        for sid in slaves {
            if let Some(pid) = self.slaves.get(&sid).map(|s| s.pid.clone()) {
                self.send(&pid, Outgoing::ShutdownFramework(ShutdownFrameworkMessage { framework_id: id.clone() }));
            }
        }
        if let Some(pid) = fw.pid.clone() {
            if self.frameworks_by_pid.get(&pid) == Some(id) {
                self.frameworks_by_pid.remove(&pid);
            }
            self.out.push(Action::Unlink(pid));
        }
        self.allocator.remove_framework(id);
        fw.connected = false;
        fw.active = false;
        fw.unregistered_time = Some(self.wall(now));
        tracing::info!("Removed framework {id} ({})", fw.info.name);
        self.counters.frameworks_removed += 1;
        if self.completed_frameworks.len() >= MAX_COMPLETED_FRAMEWORKS {
            self.completed_frameworks.pop_front();
        }
        self.observe(|| Observed::FrameworkRemoved(fw.info.clone()));
        self.completed_frameworks.push_back(fw);
    }
}
