//! The scheduler driver's protocol, with no I/O: [`DriverCore`] takes events
//! (a message from the master, a detected master, a timer, a call from the
//! framework) and returns [`Action`]s (messages to send, links, timers,
//! callbacks to run). The actor in `driver.rs` performs them.
//!
//! It follows Mesos's `SchedulerProcess` (src/sched/sched.cpp):
//! - on a detected master: `disconnected()` if we were connected, link to the
//!   master, send `RegisterFramework` (or `ReregisterFramework` once the
//!   framework has an id) at once, then retry after a randomized, doubling
//!   backoff until the master answers;
//! - everything from a pid other than the current master is dropped, and so is
//!   everything but registration while disconnected;
//! - status updates carrying a uuid are acknowledged after the callback
//!   (implicit acknowledgements, the default) or when the framework calls
//!   `acknowledge_status_update` (explicit);
//! - `FrameworkError` aborts the driver, then runs `error()`.
//!
//! Beyond Mesos's standalone detector, a master that exits (its link fires)
//! disconnects the driver and makes it detect the master again (re-reading a
//! `--master` file), so a framework follows a restarted or moved master
//! without ZooKeeper. Detections are rate-limited by [`MIN_REDETECT_INTERVAL`].
//!
//! Who owns what: the framework id is the master's (learned on registration,
//! kept here for re-registration); saved offers and slave pids are a cache of
//! the current master's offers, dropped on disconnection; nothing here needs to
//! survive a scheduler restart except the framework id, which a restarted
//! framework passes back in its `FrameworkInfo` (failover).

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use libprocess::{Time, Upid};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::ids::{ExecutorID, FrameworkID, OfferID, SlaveID, TaskID};
use crate::info::{Filters, FrameworkInfo, KillPolicy, MasterInfo, Offer, TaskInfo};
use crate::messages::*;
use crate::task::{Reason, Source, TaskState, TaskStatus};

/// First registration retry bound: the first retry comes after a random delay
/// in `[factor / 2, factor]`. Mesos uses 2 s and a `[0, factor]` draw; rmesos
/// uses 1 s so that one lost attempt still re-registers within 2 s of
/// detection (issue 6), and a floor of half the bound so retries never
/// hammer a master.
pub const REGISTRATION_BACKOFF_FACTOR: Duration = Duration::from_secs(1);

/// The retry bound doubles per attempt up to this (Mesos's
/// `REGISTRATION_RETRY_INTERVAL_MAX`).
pub const REGISTRATION_RETRY_INTERVAL_MAX: Duration = Duration::from_secs(60);

/// Least time between two master detections after a master exits, so a
/// master that stays down is polled, not spun on.
pub const MIN_REDETECT_INTERVAL: Duration = Duration::from_secs(1);

/// Most offers whose slave pids are remembered (for framework messages sent
/// straight to slaves); beyond it, offers are still delivered but their pids
/// not saved, and messages go through the master.
pub const MAX_SAVED_OFFERS: usize = 100_000;

/// Mesos's driver status values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DriverStatus {
    NotStarted,
    Running,
    Aborted,
    Stopped,
}

impl DriverStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DriverStatus::NotStarted => "DRIVER_NOT_STARTED",
            DriverStatus::Running => "DRIVER_RUNNING",
            DriverStatus::Aborted => "DRIVER_ABORTED",
            DriverStatus::Stopped => "DRIVER_STOPPED",
        }
    }
}

impl fmt::Display for DriverStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `Scheduler` method to run, with its arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Callback {
    Registered(FrameworkID, MasterInfo),
    Reregistered(MasterInfo),
    Disconnected,
    ResourceOffers(Vec<Offer>),
    OfferRescinded(OfferID),
    /// After it runs, the shell calls [`DriverCore::after_status_update`]
    /// (the implicit acknowledgement).
    StatusUpdate(TaskStatus),
    FrameworkMessage(ExecutorID, SlaveID, Vec<u8>),
    SlaveLost(SlaveID),
    ExecutorLost(ExecutorID, SlaveID, i32),
    Error(String),
}

libprocess::outgoing! {
    /// A message the driver sends.
    #[derive(Clone, Debug, PartialEq)]
    pub enum Outgoing {
        Register(RegisterFrameworkMessage),
        Reregister(ReregisterFrameworkMessage),
        Unregister(UnregisterFrameworkMessage),
        Deactivate(DeactivateFrameworkMessage),
        Launch(LaunchTasksMessage),
        Kill(KillTaskMessage),
        Revive(ReviveOffersMessage),
        Suppress(SuppressOffersMessage),
        Reconcile(ReconcileTasksMessage),
        Ack(StatusUpdateAcknowledgementMessage),
        ToExecutor(FrameworkToExecutorMessage),
    }
}

/// What the shell must do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Send(Upid, Outgoing),
    Link(Upid),
    Unlink(Upid),
    /// Detect the master (standalone: parse and resolve `--master`) after
    /// `after`, then call [`DriverCore::detected`] or
    /// [`DriverCore::detection_failed`].
    Detect {
        after: Duration,
    },
    /// Call [`DriverCore::registration_timer`] with these after `after`.
    RegistrationTimer {
        after: Duration,
        generation: u64,
        backoff: Duration,
    },
    Callback(Callback),
    /// The driver stopped or aborted: wake `join()` and stop the actor.
    Finished(DriverStatus),
}

/// The scheduler driver's state machine.
pub struct DriverCore {
    framework: FrameworkInfo,
    implicit_acks: bool,
    backoff_factor: Duration,
    status: DriverStatus,
    master: Option<Upid>,
    connected: bool,
    /// Reregister with `failover = true`: the framework came with an id (a
    /// restarted scheduler taking over) and has not registered since.
    failover: bool,
    suppressed: bool,
    /// Bumped per detection so stale registration timers are ignored.
    generation: u64,
    last_detection: Option<Time>,
    /// The master whose link broke last, until another is detected: the
    /// detector may keep naming it (its ZooKeeper session outlives it), and
    /// each retry is then logged at debug, not as a new master.
    exited_master: Option<Upid>,
    /// offer -> (slave, slave pid), for the current master's outstanding offers.
    saved_offers: HashMap<OfferID, (SlaveID, Upid)>,
    /// slaves where this framework launched tasks -> their pids.
    saved_slave_pids: HashMap<SlaveID, Upid>,
    /// The status whose `status_update` callback is running, to acknowledge
    /// implicitly when it returns (or before a `stop` made inside it).
    unacked: Option<TaskStatus>,
    rng: ChaCha8Rng,
    /// The driver's own pid, shown in its log lines ("?" until known).
    me: String,
}

impl DriverCore {
    /// A core for `framework`; `seed` drives the registration backoff draws.
    pub fn new(framework: FrameworkInfo, implicit_acks: bool, seed: u64) -> DriverCore {
        let failover = framework.id.is_some();
        DriverCore {
            framework,
            implicit_acks,
            backoff_factor: REGISTRATION_BACKOFF_FACTOR,
            status: DriverStatus::NotStarted,
            master: None,
            connected: false,
            failover,
            suppressed: false,
            generation: 0,
            last_detection: None,
            exited_master: None,
            saved_offers: HashMap::new(),
            saved_slave_pids: HashMap::new(),
            unacked: None,
            rng: ChaCha8Rng::seed_from_u64(seed),
            me: "?".to_string(),
        }
    }

    /// The framework id for a log line ("none" before registration).
    fn id_text(&self) -> String {
        self.framework.id.as_ref().map_or("none".to_string(), FrameworkID::to_string)
    }

    /// The driver process's pid, for its log lines (`scheduler=<pid>`).
    pub fn set_pid(&mut self, pid: &Upid) {
        self.me = pid.to_string();
    }

    /// Overrides [`REGISTRATION_BACKOFF_FACTOR`] (Mesos's
    /// `--registration_backoff_factor` of the scheduler driver).
    pub fn set_backoff_factor(&mut self, factor: Duration) {
        self.backoff_factor = factor.max(Duration::from_millis(1));
    }

    /// Restarts the backoff draws from `seed`.
    pub fn reseed(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
    }

    /// Implicit (default) or explicit acknowledgements.
    pub fn set_implicit_acks(&mut self, implicit: bool) {
        self.implicit_acks = implicit;
    }

    pub fn status(&self) -> DriverStatus {
        self.status
    }

    pub fn is_running(&self) -> bool {
        self.status == DriverStatus::Running
    }

    pub fn connected(&self) -> bool {
        self.connected
    }

    pub fn master(&self) -> Option<&Upid> {
        self.master.as_ref()
    }

    pub fn framework_id(&self) -> Option<&FrameworkID> {
        self.framework.id.as_ref()
    }

    pub fn implicit_acks(&self) -> bool {
        self.implicit_acks
    }

    // ----- lifecycle -------------------------------------------------------

    /// `start()`: begin detecting the master.
    pub fn start(&mut self) -> Vec<Action> {
        if self.status != DriverStatus::NotStarted {
            return Vec::new();
        }
        self.status = DriverStatus::Running;
        tracing::info!(framework = %self.framework.name, "Scheduler driver started");
        vec![Action::Detect { after: Duration::ZERO }]
    }

    /// `stop(failover)`: without failover the master forgets the framework
    /// (tasks killed); with failover it only deactivates it, keeping its
    /// tasks for `failover_timeout`.
    pub fn stop(&mut self, failover: bool) -> Vec<Action> {
        if !matches!(self.status, DriverStatus::Running | DriverStatus::Aborted) {
            return Vec::new();
        }
        let was_running = self.is_running();
        // A stop made inside `status_update` acknowledges that update first:
        // the framework handled it (Mesos drops this acknowledgement, and
        // the slave then resends an update the framework already acted on).
        let mut out = self.after_status_update();
        self.status = DriverStatus::Stopped;
        tracing::info!(scheduler = %self.me, failover, "Stopping framework {}", self.id_text());
        if let (true, true, Some(master), Some(id)) = (was_running, self.connected, &self.master, &self.framework.id) {
            let msg = if failover {
                Outgoing::Deactivate(DeactivateFrameworkMessage { framework_id: id.clone() })
            } else {
                Outgoing::Unregister(UnregisterFrameworkMessage { framework_id: id.clone() })
            };
            out.push(Action::Send(master.clone(), msg));
        }
        out.push(Action::Finished(DriverStatus::Stopped));
        out
    }

    /// `abort()`: stop handling anything; the master deactivates the
    /// framework (its tasks keep running until `failover_timeout`).
    pub fn abort(&mut self) -> Vec<Action> {
        if !self.is_running() {
            return Vec::new();
        }
        self.status = DriverStatus::Aborted;
        self.unacked = None; // aborted while handling it: not acknowledged
        tracing::info!(scheduler = %self.me, "Aborting framework {}", self.id_text());
        let mut out = Vec::new();
        if let (true, Some(master), Some(id)) = (self.connected, &self.master, &self.framework.id) {
            let msg = DeactivateFrameworkMessage { framework_id: id.clone() };
            out.push(Action::Send(master.clone(), Outgoing::Deactivate(msg)));
        }
        out.push(Action::Finished(DriverStatus::Aborted));
        out
    }

    // ----- master detection and registration -------------------------------

    /// The detector found `master` (None: no master known now).
    pub fn detected(&mut self, master: Option<Upid>, now: Time) -> Vec<Action> {
        if !self.is_running() {
            return Vec::new();
        }
        self.last_detection = Some(now);
        let mut out = self.disconnect();
        if let Some(old) = self.master.take() {
            if Some(&old) != master.as_ref() {
                out.push(Action::Unlink(old));
            }
        }
        self.generation += 1;
        match master {
            Some(pid) => {
                if self.exited_master.as_ref() == Some(&pid) {
                    tracing::debug!(scheduler = %self.me, "Master {pid} exited but is still the detected one; retrying");
                } else {
                    self.exited_master = None;
                    tracing::info!(scheduler = %self.me, "New master detected at {pid}");
                }
                self.master = Some(pid.clone());
                out.push(Action::Link(pid));
                out.extend(self.register(self.backoff_factor));
            }
            None => {
                tracing::info!(scheduler = %self.me, "No master detected; detecting again in {MIN_REDETECT_INTERVAL:?}");
                out.push(Action::Detect { after: MIN_REDETECT_INTERVAL });
            }
        }
        out
    }

    /// Detection failed (unresolvable host, unreadable file...): try again.
    pub fn detection_failed(&mut self, error: &str, now: Time) -> Vec<Action> {
        if !self.is_running() {
            return Vec::new();
        }
        self.last_detection = Some(now);
        tracing::warn!("Failed to detect a master: {error}; detecting again in {MIN_REDETECT_INTERVAL:?}");
        vec![Action::Detect { after: MIN_REDETECT_INTERVAL }]
    }

    /// A linked process exited: if it is the master, disconnect and detect
    /// again (at once, unless the last detection was under
    /// [`MIN_REDETECT_INTERVAL`] ago).
    pub fn exited(&mut self, pid: &Upid, now: Time) -> Vec<Action> {
        if !self.is_running() || self.master.as_ref() != Some(pid) {
            return Vec::new();
        }
        if self.exited_master.as_ref() == Some(pid) {
            tracing::debug!(scheduler = %self.me, "Master {pid} still unreachable; detecting the master again");
        } else {
            tracing::info!(scheduler = %self.me, "Master {pid} exited; detecting the master again");
        }
        self.exited_master = Some(pid.clone());
        let mut out = self.disconnect();
        self.master = None;
        self.generation += 1;
        let after = match self.last_detection {
            Some(last) => (last + MIN_REDETECT_INTERVAL).saturating_since(now),
            None => Duration::ZERO,
        };
        out.push(Action::Detect { after });
        out
    }

    /// A registration retry timer fired.
    pub fn registration_timer(&mut self, generation: u64, backoff: Duration) -> Vec<Action> {
        if !self.is_running() || self.connected || self.master.is_none() || generation != self.generation {
            return Vec::new();
        }
        tracing::debug!("Retrying registration");
        self.register(backoff)
    }

    fn register(&mut self, backoff: Duration) -> Vec<Action> {
        let Some(master) = self.master.clone() else { return Vec::new() };
        let msg = match self.framework.id {
            Some(_) => Outgoing::Reregister(ReregisterFrameworkMessage {
                framework: self.framework.clone(),
                failover: self.failover,
            }),
            None => Outgoing::Register(RegisterFrameworkMessage { framework: self.framework.clone() }),
        };
        let mut bound = backoff.min(REGISTRATION_RETRY_INTERVAL_MAX);
        // Mesos: retry at least ten times within the failover timeout.
        let ft = self.framework.failover_timeout();
        if !ft.is_zero() {
            bound = bound.min(ft / 10).max(Duration::from_millis(1));
        }
        let after = bound.mul_f64(self.rng.gen_range(0.5..=1.0));
        vec![
            Action::Send(master, msg),
            Action::RegistrationTimer { after, generation: self.generation, backoff: bound.saturating_mul(2) },
        ]
    }

    fn disconnect(&mut self) -> Vec<Action> {
        self.saved_offers.clear();
        if self.connected {
            self.connected = false;
            let master = self.master.as_ref().map_or("none".to_string(), Upid::to_string);
            tracing::info!(scheduler = %self.me, framework_id = %self.id_text(), "Disconnected from master {master}");
            vec![Action::Callback(Callback::Disconnected)]
        } else {
            Vec::new()
        }
    }

    /// Whether a message from `from` comes from the current master (logs why not).
    fn is_master(&self, from: &Upid, what: &str) -> bool {
        if !self.is_running() {
            tracing::debug!("Ignoring {what}: the driver is not running");
            return false;
        }
        if self.master.as_ref() != Some(from) {
            tracing::warn!(%from, master = ?self.master, "Ignoring {what} from {from}: not the current master");
            return false;
        }
        true
    }

    /// Like [`Self::is_master`], and connected.
    fn is_connected_master(&self, from: &Upid, what: &str) -> bool {
        if !self.is_master(from, what) {
            return false;
        }
        if !self.connected {
            tracing::debug!("Ignoring {what}: the driver is disconnected");
        }
        self.connected
    }

    fn on_connected(&mut self) -> Vec<Action> {
        self.connected = true;
        self.exited_master = None;
        self.failover = false;
        match (self.suppressed, &self.master, &self.framework.id) {
            // The master forgets suppression with the framework: say it again.
            (true, Some(m), Some(id)) => {
                vec![Action::Send(m.clone(), Outgoing::Suppress(SuppressOffersMessage { framework_id: id.clone() }))]
            }
            _ => Vec::new(),
        }
    }

    pub fn framework_registered(&mut self, from: &Upid, msg: FrameworkRegisteredMessage) -> Vec<Action> {
        if !self.is_master(from, "framework registered message") || self.connected {
            return Vec::new();
        }
        tracing::info!(scheduler = %self.me, master = %from, "Framework registered with {}", msg.framework_id);
        self.framework.id = Some(msg.framework_id.clone());
        let mut out = self.on_connected();
        out.insert(0, Action::Callback(Callback::Registered(msg.framework_id, msg.master_info)));
        out
    }

    pub fn framework_reregistered(&mut self, from: &Upid, msg: FrameworkReregisteredMessage) -> Vec<Action> {
        if !self.is_master(from, "framework reregistered message") || self.connected {
            return Vec::new();
        }
        if self.framework.id.as_ref() != Some(&msg.framework_id) {
            tracing::warn!(framework_id = %msg.framework_id, "Ignoring reregistration under another framework id");
            return Vec::new();
        }
        tracing::info!(scheduler = %self.me, master = %from, "Framework reregistered with {}", msg.framework_id);
        let mut out = self.on_connected();
        out.insert(0, Action::Callback(Callback::Reregistered(msg.master_info)));
        out
    }

    // ----- master -> scheduler ----------------------------------------------

    pub fn resource_offers(&mut self, from: &Upid, msg: ResourceOffersMessage) -> Vec<Action> {
        if !self.is_connected_master(from, "resource offers") || msg.offers.is_empty() {
            return Vec::new();
        }
        for (offer, pid) in msg.offers.iter().zip(msg.pids.iter()) {
            if self.saved_offers.len() >= MAX_SAVED_OFFERS {
                tracing::warn!("{MAX_SAVED_OFFERS} offers outstanding; not saving more slave pids");
                break;
            }
            self.saved_offers.insert(offer.id.clone(), (offer.slave_id.clone(), pid.clone()));
        }
        vec![Action::Callback(Callback::ResourceOffers(msg.offers))]
    }

    pub fn offer_rescinded(&mut self, from: &Upid, msg: RescindResourceOfferMessage) -> Vec<Action> {
        if !self.is_connected_master(from, "rescind offer") {
            return Vec::new();
        }
        self.saved_offers.remove(&msg.offer_id);
        vec![Action::Callback(Callback::OfferRescinded(msg.offer_id))]
    }

    pub fn status_update(&mut self, from: &Upid, msg: StatusUpdateMessage) -> Vec<Action> {
        if !self.is_connected_master(from, "status update") {
            return Vec::new();
        }
        let update = msg.update;
        if self.framework.id.as_ref() != Some(&update.framework_id) {
            tracing::warn!(framework_id = %update.framework_id, "Ignoring status update for another framework");
            return Vec::new();
        }
        let mut status = update.status;
        // Only updates that went through a slave carry a uuid to acknowledge.
        status.uuid = if msg.pid.is_some() { update.uuid } else { None };
        if status.slave_id.is_none() {
            status.slave_id = update.slave_id;
        }
        if self.implicit_acks {
            self.unacked = Some(status.clone());
        }
        vec![Action::Callback(Callback::StatusUpdate(status))]
    }

    /// Runs after the `status_update` callback: the implicit acknowledgement
    /// (not sent if the callback aborted the driver; already sent if it
    /// stopped it).
    pub fn after_status_update(&mut self) -> Vec<Action> {
        match self.unacked.take() {
            Some(status) if self.is_running() => self.ack(&status),
            _ => Vec::new(),
        }
    }

    pub fn lost_slave(&mut self, from: &Upid, msg: LostSlaveMessage) -> Vec<Action> {
        if !self.is_connected_master(from, "lost slave") {
            return Vec::new();
        }
        self.saved_slave_pids.remove(&msg.slave_id);
        vec![Action::Callback(Callback::SlaveLost(msg.slave_id))]
    }

    pub fn exited_executor(&mut self, from: &Upid, msg: ExitedExecutorMessage) -> Vec<Action> {
        if !self.is_connected_master(from, "lost executor") {
            return Vec::new();
        }
        vec![Action::Callback(Callback::ExecutorLost(msg.executor_id, msg.slave_id, msg.status))]
    }

    /// From the master or straight from a slave (best effort, as in Mesos).
    pub fn framework_message(&mut self, msg: ExecutorToFrameworkMessage) -> Vec<Action> {
        if !self.is_running() {
            return Vec::new();
        }
        vec![Action::Callback(Callback::FrameworkMessage(msg.executor_id, msg.slave_id, msg.data))]
    }

    /// The master refused or removed the framework: abort, then `error()`.
    pub fn framework_error(&mut self, from: &Upid, msg: FrameworkErrorMessage) -> Vec<Action> {
        if !self.is_master(from, "framework error") {
            return Vec::new();
        }
        tracing::error!(scheduler = %self.me, master = %from, "Framework error from master: {}", msg.message);
        self.error(&msg.message)
    }

    /// An error the framework cannot go on after (the master refused it):
    /// abort, and tell the scheduler through `error(message)`.
    pub fn error(&mut self, message: &str) -> Vec<Action> {
        let mut out = self.abort();
        let finished = out.pop();
        out.push(Action::Callback(Callback::Error(message.to_string())));
        out.extend(finished);
        out
    }

    // ----- framework -> master ----------------------------------------------

    fn to_master(&self, what: &str) -> Option<(Upid, FrameworkID)> {
        if !self.is_running() {
            tracing::debug!("Ignoring {what}: the driver is not running");
            return None;
        }
        match (self.connected, &self.master, &self.framework.id) {
            (true, Some(m), Some(id)) => Some((m.clone(), id.clone())),
            _ => {
                tracing::info!("Ignoring {what}: the master is disconnected");
                None
            }
        }
    }

    /// Launches `tasks` on `offer_ids`. While disconnected, each task gets a
    /// TASK_LOST (TASK_DROPPED if partition-aware) update at once, as Mesos
    /// does, so the framework re-dispatches it.
    pub fn launch_tasks(&mut self, offer_ids: Vec<OfferID>, tasks: Vec<TaskInfo>, filters: Filters) -> Vec<Action> {
        if !self.is_running() {
            return Vec::new();
        }
        let Some((master, framework_id)) = self.to_master("launch tasks") else {
            let state = if self.framework.is_partition_aware() { TaskState::Dropped } else { TaskState::Lost };
            return tasks
                .into_iter()
                .map(|t| {
                    let status = TaskStatus::new(t.task_id, state)
                        .with_source(Source::Master)
                        .with_reason(Reason::MasterDisconnected)
                        .with_message("Master disconnected");
                    Action::Callback(Callback::StatusUpdate(status))
                })
                .collect();
        };
        for id in &offer_ids {
            match self.saved_offers.remove(id) {
                Some((slave_id, pid)) => {
                    if tasks.iter().any(|t| t.slave_id == slave_id) {
                        self.saved_slave_pids.insert(slave_id, pid);
                    }
                }
                None => tracing::warn!(offer = %id, "Attempting to use an unknown offer {id}"),
            }
        }
        let msg = LaunchTasksMessage { framework_id, tasks, filters, offer_ids };
        vec![Action::Send(master, Outgoing::Launch(msg))]
    }

    /// Declines an offer: a `LaunchTasksMessage` with no tasks (as Mesos).
    pub fn decline_offer(&mut self, offer_id: OfferID, filters: Filters) -> Vec<Action> {
        let Some((master, framework_id)) = self.to_master("decline offer") else { return Vec::new() };
        self.saved_offers.remove(&offer_id);
        let msg = LaunchTasksMessage::decline(framework_id, vec![offer_id], filters);
        vec![Action::Send(master, Outgoing::Launch(msg))]
    }

    pub fn kill_task(&mut self, task_id: TaskID) -> Vec<Action> {
        self.kill_task_with_policy(task_id, None)
    }

    /// A kill whose `kill_policy` overrides the task's own (Mesos's KILL call).
    pub fn kill_task_with_policy(&mut self, task_id: TaskID, kill_policy: Option<KillPolicy>) -> Vec<Action> {
        let Some((master, framework_id)) = self.to_master("kill task") else { return Vec::new() };
        vec![Action::Send(master, Outgoing::Kill(KillTaskMessage { framework_id, task_id, kill_policy }))]
    }

    pub fn revive_offers(&mut self) -> Vec<Action> {
        if !self.is_running() {
            return Vec::new();
        }
        self.suppressed = false;
        let Some((master, framework_id)) = self.to_master("revive offers") else { return Vec::new() };
        vec![Action::Send(master, Outgoing::Revive(ReviveOffersMessage { framework_id }))]
    }

    /// Suppresses offers; remembered and sent again after re-registration.
    pub fn suppress_offers(&mut self) -> Vec<Action> {
        if !self.is_running() {
            return Vec::new();
        }
        self.suppressed = true;
        let Some((master, framework_id)) = self.to_master("suppress offers") else { return Vec::new() };
        vec![Action::Send(master, Outgoing::Suppress(SuppressOffersMessage { framework_id }))]
    }

    /// Explicit (these statuses) or, with none, implicit reconciliation.
    pub fn reconcile_tasks(&mut self, statuses: Vec<TaskStatus>) -> Vec<Action> {
        let Some((master, framework_id)) = self.to_master("reconcile tasks") else { return Vec::new() };
        vec![Action::Send(
            master,
            Outgoing::Reconcile(ReconcileTasksMessage { framework_id, statuses, framework: None }),
        )]
    }

    /// Straight to the slave when one of its offers was used, else through
    /// the master.
    pub fn send_framework_message(&mut self, executor_id: ExecutorID, slave_id: SlaveID, data: Vec<u8>) -> Vec<Action> {
        let Some((master, framework_id)) = self.to_master("framework message") else { return Vec::new() };
        let to = self.saved_slave_pids.get(&slave_id).cloned().unwrap_or(master);
        let msg = FrameworkToExecutorMessage { slave_id, framework_id, executor_id, data };
        vec![Action::Send(to, Outgoing::ToExecutor(msg))]
    }

    /// Explicit acknowledgement (only with implicit acknowledgements off).
    pub fn acknowledge_status_update(&mut self, status: &TaskStatus) -> Vec<Action> {
        if self.implicit_acks {
            tracing::error!(
                task = %status.task_id,
                "acknowledge_status_update called with implicit acknowledgements enabled; ignored"
            );
            return Vec::new();
        }
        if !self.is_running() {
            return Vec::new();
        }
        self.ack(status)
    }

    fn ack(&self, status: &TaskStatus) -> Vec<Action> {
        let (Some(uuid), Some(slave_id)) = (status.uuid, status.slave_id.clone()) else {
            return Vec::new(); // master- or driver-made: nothing to acknowledge
        };
        let Some((master, framework_id)) = self.to_master("status update acknowledgement") else {
            return Vec::new();
        };
        let msg = StatusUpdateAcknowledgementMessage { slave_id, framework_id, task_id: status.task_id.clone(), uuid };
        vec![Action::Send(master, Outgoing::Ack(msg))]
    }
}
