//! The master's pure core: frameworks, slaves, tasks and offers, and every
//! rule of Mesos's master about them. Events in (a message and its sender, an
//! `Exited`, a timer, "now"), [`Action`]s out (messages to send, links,
//! timers, "allocate soon"). No I/O, no actix, no clock reads; the actor in
//! `process.rs` performs the actions.
//!
//! Split by concern:
//! - [`state`]: what is remembered about frameworks and slaves, counters;
//! - `frameworks.rs`: framework (re)registration, failover, deactivation,
//!   removal;
//! - `slaves.rs`: slave (re)registration, health checks (ping/pong), removal
//!   (TASK_LOST / TASK_UNREACHABLE, LostSlave, rescinds);
//! - `recovery.rs`: slaves recovered from the registry after a failover;
//! - `tasks.rs`: offers out, launch validation, status updates and their
//!   acknowledgements, kill, reconciliation, framework messages both ways,
//!   exited executors;
//! - `observe.rs`: the state changes reported to operators who watch.
//!
//! How the state is rebuilt after a master restart: see [`state`].

mod frameworks;
pub mod observe;
mod recovery;
mod slaves;
pub mod state;
mod tasks;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use libprocess::{Time, Upid};
use rmesos::messages::*;
use rmesos::TaskStatus;
use rmesos::{
    FrameworkID, MasterInfo, Offer, OfferID, Reason, SlaveID, SlaveInfo, Source, StatusUpdate, TaskID, TaskState,
};

use crate::allocator::Allocator;
pub use frameworks::Teardown;
pub use observe::Observed;
pub use state::{Counters, Framework, Slave};

/// What the core needs to know about its master.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// The master's id (a UUID); generated ids derive from it.
    pub master_id: String,
    pub info: MasterInfo,
    pub agent_ping_timeout: Duration,
    pub max_agent_ping_timeouts: u32,
    /// How long a disconnected slave may take to reregister before it is
    /// removed (`--agent_reregister_timeout`).
    pub agent_reregister_timeout: Duration,
    /// Wall-clock seconds since the Unix epoch at clock time zero: master-made
    /// status updates carry `epoch_base + now` as their timestamp.
    pub epoch_base: f64,
    /// `--acls`: who may register in which role and run tasks as which
    /// user (default: everything permitted).
    pub acls: rmesos::auth::Acls,
}

libprocess::outgoing! {
    /// A message the master sends. (Variants differ in size as messages do;
    /// each value lives only from the core to the `send` that consumes it.)
    #[allow(clippy::large_enum_variant)]
    #[derive(Debug, Clone, PartialEq)]
    pub enum Outgoing {
        FrameworkRegistered(FrameworkRegisteredMessage),
        FrameworkReregistered(FrameworkReregisteredMessage),
        FrameworkError(FrameworkErrorMessage),
        ResourceOffers(ResourceOffersMessage),
        RescindResourceOffer(RescindResourceOfferMessage),
        StatusUpdate(StatusUpdateMessage),
        StatusUpdateAcknowledgement(StatusUpdateAcknowledgementMessage),
        LostSlave(LostSlaveMessage),
        ExitedExecutor(ExitedExecutorMessage),
        ExecutorToFramework(ExecutorToFrameworkMessage),
        FrameworkToExecutor(FrameworkToExecutorMessage),
        UpdateFramework(UpdateFrameworkMessage),
        SlaveRegistered(SlaveRegisteredMessage),
        SlaveReregistered(SlaveReregisteredMessage),
        PingSlave(PingSlaveMessage),
        RunTask(RunTaskMessage),
        KillTask(KillTaskMessage),
        ShutdownFramework(ShutdownFrameworkMessage),
        ShutdownExecutor(ShutdownExecutorMessage),
        Shutdown(ShutdownMessage),
    }
}

/// What the core asks its shell to do.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send(Upid, Outgoing),
    /// Write slave `info`'s admission to the registry, then send `reply`
    /// (its SlaveRegistered / SlaveReregistered) to `to`; nothing else is
    /// handled until the write completes (Mesos's registrar serializes
    /// too), and a failed write loses leadership.
    Admit {
        info: SlaveInfo,
        to: Upid,
        reply: Outgoing,
    },
    /// Drop this removed slave from the registry (a failed write loses
    /// leadership).
    Unadmit(SlaveID),
    /// Write to the registry that these tasks on this slave are reported
    /// lost, before performing the actions after this one.
    RecordLoss {
        slave_id: SlaveID,
        tasks: Vec<(FrameworkID, TaskID)>,
    },
    /// The slave reregistered without these lost tasks: forget them.
    ClearLoss {
        slave_id: SlaveID,
        tasks: Vec<(FrameworkID, TaskID)>,
    },
    /// Watch this process: `exited` when it goes away.
    Link(Upid),
    Unlink(Upid),
    /// Run an allocation cycle soon (the shell batches these).
    Allocate,
    /// Call [`MasterCore::failover_expired`] with these arguments after `after`.
    FailoverTimer {
        framework_id: FrameworkID,
        epoch: u64,
        after: Duration,
    },
    /// Call [`MasterCore::reregister_timeout`] with these arguments after `after`.
    ReregisterTimer {
        slave_id: SlaveID,
        epoch: u64,
        after: Duration,
    },
    /// A state change for the operator event stream (only while someone
    /// watches; see `observe.rs`).
    Observe(Observed),
}

/// Why a slave is removed; each says so in the log line "Removing slave
/// <id> at <pid> (<hostname>): <reason>" and in its tasks' TASK_LOST message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Missed `max_agent_ping_timeouts` pings ("health check timed out", as
    /// Mesos): it may come back (TASK_UNREACHABLE for partition-aware
    /// frameworks, else TASK_LOST).
    Unreachable,
    /// Disconnected and did not reregister within
    /// `--agent_reregister_timeout`: removed as unreachable.
    ReregisterTimeout,
    /// It said it is going away for good (UnregisterSlaveMessage).
    Unregistered,
    /// Another slave (a restart with a new id) reregistered at its pid.
    Replaced,
    /// A slave with no id registered at its pid while it was disconnected
    /// (Mesos's rule), or from another incarnation (a new process): the
    /// old one is gone.
    NewAtSameAddress,
}

/// The master's state machine; see the module doc.
pub struct MasterCore {
    pub(crate) cfg: CoreConfig,
    pub(crate) frameworks: HashMap<FrameworkID, Framework>,
    pub(crate) frameworks_by_pid: HashMap<Upid, FrameworkID>,
    pub(crate) completed_frameworks: VecDeque<Framework>,
    pub(crate) slaves: HashMap<SlaveID, Slave>,
    pub(crate) slaves_by_pid: HashMap<Upid, SlaveID>,
    /// Slaves removed as unreachable, oldest first (bounded).
    pub(crate) unreachable: state::UnreachableSlaves,
    /// Admitted slaves read from the registry that have not reregistered
    /// with this master yet (see `recovery.rs`).
    pub(crate) recovered: BTreeMap<SlaveID, SlaveInfo>,
    /// Frameworks whose tasks on a slave were reported lost when its
    /// connection broke (by this master or, from the registry, an earlier
    /// one), until the slave reregisters.
    pub(crate) lost_on_disconnect: BTreeMap<SlaveID, std::collections::BTreeSet<(FrameworkID, TaskID)>>,
    /// Explicit reconciliations of tasks this master does not know on a
    /// slave recovered from the registry, answered when that slave
    /// reregisters or is given up on (see `recovery.rs`).
    pub(crate) deferred_reconciliations: BTreeMap<SlaveID, std::collections::BTreeSet<(FrameworkID, TaskID)>>,
    pub(crate) offers: HashMap<OfferID, Offer>,
    /// The slaves the registry holds, as this master wrote or read them:
    /// an admission is written once per slave ([`Action::Admit`]); removed
    /// ones are dropped ([`Action::Unadmit`]).
    pub(crate) admitted: BTreeSet<SlaveID>,
    /// Slaves removed since the last batch of actions was taken; dropped
    /// from the registry at the end of that batch.
    removed: Vec<SlaveID>,
    pub(crate) allocator: Allocator,
    pub(crate) counters: Counters,
    next_framework: u64,
    next_slave: u64,
    next_offer: u64,
    /// Someone watches the operator event stream (see `observe.rs`).
    observed: bool,
    out: Vec<Action>,
}

impl MasterCore {
    pub fn new(cfg: CoreConfig) -> MasterCore {
        MasterCore {
            cfg,
            frameworks: HashMap::new(),
            frameworks_by_pid: HashMap::new(),
            completed_frameworks: VecDeque::new(),
            slaves: HashMap::new(),
            slaves_by_pid: HashMap::new(),
            unreachable: state::UnreachableSlaves::default(),
            recovered: BTreeMap::new(),
            lost_on_disconnect: BTreeMap::new(),
            deferred_reconciliations: BTreeMap::new(),
            offers: HashMap::new(),
            admitted: BTreeSet::new(),
            removed: Vec::new(),
            allocator: Allocator::new(),
            counters: Counters::default(),
            next_framework: 0,
            next_slave: 0,
            next_offer: 0,
            observed: false,
            out: Vec::new(),
        }
    }

    // ---- read access (endpoints, tests) ----

    pub fn config(&self) -> &CoreConfig {
        &self.cfg
    }
    pub fn info(&self) -> &MasterInfo {
        &self.cfg.info
    }
    pub fn frameworks(&self) -> impl Iterator<Item = &Framework> {
        self.frameworks.values()
    }
    pub fn framework(&self, id: &FrameworkID) -> Option<&Framework> {
        self.frameworks.get(id)
    }
    pub fn completed_frameworks(&self) -> impl Iterator<Item = &Framework> {
        self.completed_frameworks.iter()
    }
    pub fn slaves(&self) -> impl Iterator<Item = &Slave> {
        self.slaves.values()
    }
    pub fn slave(&self, id: &SlaveID) -> Option<&Slave> {
        self.slaves.get(id)
    }
    pub fn offer(&self, id: &OfferID) -> Option<&Offer> {
        self.offers.get(id)
    }
    pub fn offer_count(&self) -> usize {
        self.offers.len()
    }
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
    pub fn allocator(&self) -> &Allocator {
        &self.allocator
    }
    pub fn unreachable_count(&self) -> usize {
        self.unreachable.len()
    }
    pub fn is_unreachable(&self, id: &SlaveID) -> bool {
        self.unreachable.contains(id)
    }

    // ---- helpers shared by the handler files ----

    /// The actions of one event, ending with the registry removals of the
    /// slaves it removed.
    fn take(&mut self) -> Vec<Action> {
        for id in std::mem::take(&mut self.removed) {
            if !self.slaves.contains_key(&id) && !self.recovered.contains_key(&id) && self.admitted.remove(&id) {
                self.out.push(Action::Unadmit(id));
            }
        }
        std::mem::take(&mut self.out)
    }

    /// Sends a slave its SlaveRegistered / SlaveReregistered `reply`,
    /// admitting it in the registry first: always for a registration
    /// (rewriting an admission is harmless), once for a reregistration.
    fn admit_then_reply(&mut self, to: &Upid, id: &SlaveID, reply: Outgoing, always: bool) {
        match self.slaves.get(id) {
            Some(sl) if always || !self.admitted.contains(id) => {
                let info = sl.info.clone();
                self.admitted.insert(id.clone());
                self.out.push(Action::Admit { info, to: to.clone(), reply });
            }
            _ => self.send(to, reply),
        }
    }

    /// Slave `id` is gone from the cluster: dropped from the registry at
    /// the end of this event (unless it came back within it).
    fn removed(&mut self, id: &SlaveID) {
        self.removed.push(id.clone());
    }

    fn send(&mut self, to: &Upid, msg: Outgoing) {
        self.out.push(Action::Send(to.clone(), msg));
    }

    /// Wall-clock seconds for `now` (timestamps shown to humans and frameworks).
    pub fn wall(&self, now: Time) -> f64 {
        self.cfg.epoch_base + now.since_origin().as_secs_f64()
    }

    /// The framework if `from` is its scheduler; logs and counts a drop otherwise.
    fn framework_from(&mut self, from: &Upid, id: &FrameworkID, what: &str) -> bool {
        match self.frameworks.get(id) {
            Some(fw) if fw.pid.as_ref() == Some(from) => true,
            Some(fw) => {
                tracing::warn!(%from, framework = %id, expected = ?fw.pid, "dropping {what}: not from the framework's scheduler");
                self.counters.dropped_messages += 1;
                false
            }
            None => {
                tracing::warn!(%from, framework = %id, "dropping {what} for unknown framework");
                self.counters.dropped_messages += 1;
                false
            }
        }
    }

    /// The id of the slave at `from`, if it is registered; logs a drop otherwise.
    fn slave_from(&mut self, from: &Upid, what: &str) -> Option<SlaveID> {
        match self.slaves_by_pid.get(from) {
            Some(id) => Some(id.clone()),
            None => {
                tracing::warn!(%from, "dropping {what} from unknown slave");
                self.counters.dropped_messages += 1;
                None
            }
        }
    }

    /// A status update made by the master itself (no uuid, not acknowledged),
    /// sent to the framework if it is connected.
    #[allow(clippy::too_many_arguments)]
    fn master_update(
        &mut self,
        framework_id: &FrameworkID,
        task_id: TaskID,
        slave_id: Option<SlaveID>,
        state: TaskState,
        reason: Reason,
        message: String,
        now: Time,
    ) {
        let status =
            TaskStatus::new(task_id, state).with_source(Source::Master).with_reason(reason).with_message(message);
        let update = StatusUpdate::new(framework_id.clone(), None, slave_id, status, self.wall(now), None);
        if let Some(pid) = self.frameworks.get(framework_id).and_then(|f| f.connected_pid()).cloned() {
            self.send(&pid, Outgoing::StatusUpdate(StatusUpdateMessage { update, pid: None }));
        }
    }

    /// Resources used by a task or executor of `fid` on `sid` are free again.
    fn release(&mut self, fid: &FrameworkID, sid: &SlaveID, res: &rmesos::Resources, now: Time) {
        if let Some(fw) = self.frameworks.get_mut(fid) {
            fw.used -= res;
        }
        if let Some(sl) = self.slaves.get_mut(sid) {
            sl.used -= res;
        }
        self.allocator.recover(fid, sid, res, None, now);
    }

    /// Resources now used by a task or executor of `fid` on `sid` (adopted
    /// from a re-registering slave).
    fn claim(&mut self, fid: &FrameworkID, sid: &SlaveID, res: &rmesos::Resources) {
        if let Some(fw) = self.frameworks.get_mut(fid) {
            fw.used += res;
        }
        if let Some(sl) = self.slaves.get_mut(sid) {
            sl.used += res;
        }
        self.allocator.claim(fid, sid, res);
    }

    /// Takes an offer away: its resources go back to the allocator (with a
    /// refuse filter if given); with `rescind`, the framework is told.
    fn remove_offer(&mut self, id: &OfferID, rescind: bool, refuse: Option<Duration>, now: Time) {
        let Some(offer) = self.offers.remove(id) else { return };
        if let Some(fw) = self.frameworks.get_mut(&offer.framework_id) {
            fw.offers.remove(id);
            fw.offered -= &offer.resources;
        }
        if let Some(sl) = self.slaves.get_mut(&offer.slave_id) {
            sl.offers.remove(id);
            sl.offered -= &offer.resources;
        }
        self.allocator.recover(&offer.framework_id, &offer.slave_id, &offer.resources, refuse, now);
        if rescind {
            self.counters.offers_rescinded += 1;
            if let Some(pid) = self.frameworks.get(&offer.framework_id).and_then(|f| f.connected_pid()).cloned() {
                self.send(&pid, Outgoing::RescindResourceOffer(RescindResourceOfferMessage { offer_id: id.clone() }));
            }
        }
    }

    /// Runs one allocation cycle and sends the offers (one message per framework).
    pub fn allocate(&mut self, now: Time) -> Vec<Action> {
        let allocations = self.allocator.allocate(now);
        let mut batches: BTreeMap<FrameworkID, ResourceOffersMessage> = BTreeMap::new();
        for al in allocations {
            let (Some(fw), Some(sl)) = (self.frameworks.get_mut(&al.framework_id), self.slaves.get_mut(&al.slave_id))
            else {
                // Cannot happen: the allocator only knows what the core told it.
                tracing::error!(framework = %al.framework_id, slave = %al.slave_id, "allocation for unknown party");
                continue;
            };
            let id = OfferID::generate(&self.cfg.master_id, self.next_offer);
            self.next_offer += 1;
            let executor_ids = sl.executors.get(&fw.id).map(|e| e.keys().cloned().collect()).unwrap_or_default();
            let offer = Offer {
                id: id.clone(),
                framework_id: fw.id.clone(),
                slave_id: sl.id.clone(),
                hostname: sl.info.hostname.clone(),
                resources: al.resources,
                attributes: sl.info.attributes.clone(),
                executor_ids,
            };
            fw.offers.insert(id.clone());
            fw.offered += &offer.resources;
            sl.offers.insert(id.clone());
            sl.offered += &offer.resources;
            let batch = batches
                .entry(fw.id.clone())
                .or_insert_with(|| ResourceOffersMessage { offers: Vec::new(), pids: Vec::new() });
            batch.offers.push(offer.clone());
            batch.pids.push(sl.pid.clone());
            self.offers.insert(id, offer);
        }
        for (fid, msg) in batches {
            let Some(pid) = self.frameworks.get(&fid).and_then(|f| f.connected_pid()).cloned() else { continue };
            self.counters.offers_sent += msg.offers.len() as u64;
            tracing::debug!(framework = %fid, %pid, offers = msg.offers.len(), "sending offers");
            self.send(&pid, Outgoing::ResourceOffers(msg));
        }
        self.take()
    }

    /// A linked process went away: a scheduler (framework disconnected) or a
    /// slave (slave disconnected). See `frameworks.rs` and `slaves.rs`.
    pub fn exited(&mut self, pid: &Upid, now: Time) -> Vec<Action> {
        if let Some(fid) = self.frameworks_by_pid.get(pid).cloned() {
            self.framework_disconnected(&fid, now);
        }
        if let Some(sid) = self.slaves_by_pid.get(pid).cloned() {
            self.slave_disconnected(&sid, now);
        }
        self.take()
    }
}
