//! Registration with the master and health checks (pings), as in Mesos's
//! `Slave::detected`, `doReliableRegistration`, `registered`,
//! `reregistered`, `ping` and `pingTimeout`.

use libprocess::Upid;
use rmesos::messages::*;
use rmesos::task::Task;
use rmesos::task::TaskState;

use super::{Action, Checkpoint, Now, Outgoing, RegState, SlaveCore, Timer, REGISTER_RETRY_INTERVAL_MAX};

impl SlaveCore {
    /// The master detector found `master` (or lost it: `None`). Pauses the
    /// status-update manager until registered; registers after a random
    /// delay in `[0, registration_backoff_factor]`.
    pub fn master_detected(&mut self, master: Option<Upid>, _now: Now) -> Vec<Action> {
        if self.state == RegState::Terminating {
            return self.take();
        }
        self.sum.pause();
        self.state = RegState::Disconnected;
        if let Some(old) = self.master.take() {
            self.push(Action::Unlink(old));
        }
        self.registration_timer += 1;
        self.ping_timer += 1;
        let Some(master) = master else {
            tracing::info!(slave = %self.me, "Lost leading master; waiting for a new one to be detected");
            return self.take();
        };
        tracing::info!(slave = %self.me, %master, "New master detected at {master}");
        self.master = Some(master.clone());
        self.push(Action::Link(master));
        if self.recovering() {
            tracing::info!("Will register with the master once recovery completes");
            return self.take();
        }
        self.schedule_registration();
        self.take()
    }

    /// The first registration attempt, after a random delay in
    /// `[0, registration_backoff_factor]`.
    pub(super) fn schedule_registration(&mut self) {
        self.registration_timer += 1;
        let factor = self.cfg.registration_backoff_factor;
        let delay = self.jitter(factor);
        self.backoff = factor * 2;
        self.push(Action::SetTimer(delay, Timer::Registration(self.registration_timer)));
    }

    /// One registration attempt, then the next one after a random delay in
    /// `[0, backoff]`, the backoff doubling up to a minute.
    pub(super) fn registration_attempt(&mut self, generation: u64) {
        if generation != self.registration_timer || self.state != RegState::Disconnected {
            return;
        }
        let Some(master) = self.master.clone() else { return };
        match self.info.id.clone() {
            None => {
                if let Some(old) = self.unregister_first.clone() {
                    tracing::info!(slave = %self.me, "Unregistering the old slave {old} (--recover=cleanup)");
                    self.send(&master, Outgoing::UnregisterSlave(UnregisterSlaveMessage { slave_id: old }));
                }
                tracing::info!(slave = %self.me, "Registering with master {master}");
                let msg = RegisterSlaveMessage {
                    slave: self.info.clone(),
                    checkpointed_resources: Default::default(),
                    version: Some(env!("CARGO_PKG_VERSION").to_string()),
                    incarnation: Some(self.cfg.incarnation),
                };
                self.send(&master, Outgoing::RegisterSlave(msg));
            }
            Some(id) => {
                tracing::info!(slave = %self.me, slave_id = %id, "Reregistering with master {master}");
                let msg = self.reregister_message();
                self.send(&master, Outgoing::ReregisterSlave(msg));
            }
        }
        let delay = self.jitter(self.backoff);
        self.backoff = (self.backoff * 2).min(REGISTER_RETRY_INTERVAL_MAX);
        self.push(Action::SetTimer(delay, Timer::Registration(generation)));
    }

    /// Everything a new master needs to rebuild its view of this slave.
    fn reregister_message(&self) -> ReregisterSlaveMessage {
        let mut executor_infos = Vec::new();
        let mut tasks = Vec::new();
        for (fid, framework) in &self.frameworks {
            for executor in framework.executors.values() {
                let mut info = executor.info.clone();
                info.framework_id = Some(fid.clone());
                executor_infos.push(info);
                for t in executor.queued.values() {
                    let mut task = Task::new(t, fid.clone(), TaskState::Staging);
                    task.executor_id = Some(executor.id.clone());
                    tasks.push(task);
                }
                for t in executor.launched.values().chain(executor.terminated.values()) {
                    let mut task = t.clone();
                    // The latest state not yet acknowledged, as Mesos reports it.
                    if let Some(last) = self.sum.pending(fid, &t.task_id).last() {
                        task.status_update_state = Some(last.status.state);
                        task.status_update_uuid = last.uuid;
                    }
                    tasks.push(task);
                }
            }
        }
        ReregisterSlaveMessage {
            slave: self.info.clone(),
            checkpointed_resources: Default::default(),
            executor_infos,
            tasks,
            frameworks: self.frameworks.values().map(|f| f.info.clone()).collect(),
            completed_frameworks: Vec::new(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
            incarnation: Some(self.cfg.incarnation),
        }
    }

    fn is_current_master(&self, from: &Upid, what: &str) -> bool {
        if self.master.as_ref() == Some(from) {
            return true;
        }
        tracing::warn!(%from, master = ?self.master.as_ref().map(|m| m.to_string()), "Ignoring {what} from {from}: not the current master");
        false
    }

    pub fn registered(&mut self, from: &Upid, msg: SlaveRegisteredMessage, now: Now) -> Vec<Action> {
        if !self.is_current_master(from, "SlaveRegisteredMessage") {
            return self.take();
        }
        if let Err(e) = msg.slave_id.validate() {
            tracing::error!(error = %e, "Ignoring registration under an invalid slave id");
            return self.take();
        }
        match (&self.info.id, self.state) {
            (Some(id), RegState::Running) if *id == msg.slave_id => {
                tracing::debug!("Ignoring duplicate SlaveRegisteredMessage");
                return self.take();
            }
            (Some(id), _) if *id != msg.slave_id => {
                tracing::error!(ours = %id, theirs = %msg.slave_id, "Registered with a different id than ours; ignoring");
                return self.take();
            }
            _ => {}
        }
        tracing::info!(slave = %self.me, master = %from, slave_id = %msg.slave_id,
            "Registered with master {from}; given agent ID {}", msg.slave_id);
        self.info.id = Some(msg.slave_id);
        self.unregister_first = None;
        self.push(Action::Checkpoint(Checkpoint::Slave(self.info.clone())));
        self.connected(msg.connection, now);
        self.take()
    }

    pub fn reregistered(&mut self, from: &Upid, msg: SlaveReregisteredMessage, now: Now) -> Vec<Action> {
        if !self.is_current_master(from, "SlaveReregisteredMessage") {
            return self.take();
        }
        if self.info.id.as_ref() != Some(&msg.slave_id) {
            tracing::error!(theirs = %msg.slave_id, "Reregistered under an id that is not ours; ignoring");
            return self.take();
        }
        if self.state == RegState::Running {
            tracing::debug!("Ignoring duplicate SlaveReregisteredMessage");
            return self.take();
        }
        tracing::info!(slave = %self.me, master = %from, slave_id = %msg.slave_id, "Re-registered with master {from}");
        self.connected(msg.connection, now);
        self.reconcile(msg.reconciliations, now);
        self.take()
    }

    /// Registered or reregistered: running, ping timer on, updates flow.
    fn connected(&mut self, connection: Option<MasterSlaveConnection>, now: Now) {
        self.state = RegState::Running;
        self.registration_timer += 1;
        if let Some(t) = connection.and_then(|c| c.total_ping_timeout()) {
            self.ping_timeout = t;
        }
        self.restart_ping_timer();
        if let Some(master) = self.master.clone() {
            for m in std::mem::take(&mut self.unreported_exits) {
                self.send(&master, Outgoing::ExitedExecutor(m));
            }
        }
        let out = self.sum.resume(now.time);
        self.forward_updates(out.forward);
    }

    fn restart_ping_timer(&mut self) {
        self.ping_timer += 1;
        self.push(Action::SetTimer(self.ping_timeout, Timer::Ping(self.ping_timer)));
    }

    pub fn ping(&mut self, from: &Upid, msg: PingSlaveMessage, now: Now) -> Vec<Action> {
        if !self.is_current_master(from, "PingSlaveMessage") {
            return self.take();
        }
        self.send(from, Outgoing::Pong(PongSlaveMessage {}));
        if !msg.connected && self.state == RegState::Running {
            tracing::info!(master = %from, "Master says this agent is not connected; reregistering");
            let master = self.master.clone();
            let mut a = self.take();
            a.extend(self.master_detected(master, now));
            return a;
        }
        if self.state == RegState::Running {
            self.restart_ping_timer();
        }
        self.take()
    }

    pub(super) fn ping_timeout_fired(&mut self, generation: u64) {
        if generation != self.ping_timer || self.state != RegState::Running {
            return;
        }
        tracing::warn!(master = ?self.master.as_ref().map(|m| m.to_string()), timeout = ?self.ping_timeout,
            "No pings from the master within {:?}; re-detecting the master", self.ping_timeout);
        self.push(Action::Redetect);
    }

    /// A link broke: the master's is only logged (the detector or the ping
    /// timeout decides), as Mesos does.
    pub fn exited(&mut self, pid: &Upid) -> Vec<Action> {
        if self.master.as_ref() == Some(pid) {
            tracing::warn!(master = %pid, "Master disconnected; waiting for pings or a new master");
        } else {
            tracing::info!(%pid, "Linked process exited");
        }
        self.take()
    }

    /// The master told us to shut down (it removed this slave).
    pub fn shutdown(&mut self, from: &Upid, msg: ShutdownMessage) -> Vec<Action> {
        if !self.is_current_master(from, "ShutdownMessage") {
            return self.take();
        }
        let why = msg.message.unwrap_or_else(|| "no reason given".into());
        tracing::warn!(master = %from, "Agent asked to shut down by {from}: {why}");
        let fids: Vec<_> = self.frameworks.keys().cloned().collect();
        for fid in fids {
            self.shutdown_framework_inner(&fid);
        }
        self.state = RegState::Terminating;
        self.sum.pause();
        self.push(Action::Terminate(why));
        self.take()
    }
}
