//! The slave's pure core: registration with the master, health checks,
//! frameworks/executors/tasks bookkeeping and the status-update manager.
//! Events in (messages, timers, executor exits, each with `now`), [`Action`]s
//! out; the actor shell ([`crate::process`]) performs them. No I/O, no clock,
//! randomness from a seeded generator (deterministic tests).
//!
//! Message flow, after Mesos's `slave.cpp`:
//! - master detected -> RegisterSlave (or ReregisterSlave with executors and
//!   tasks once it has an id), retried with randomized backoff (first delay
//!   in `[0, backoff_factor]`, then doubling, capped at
//!   [`REGISTER_RETRY_INTERVAL_MAX`]) until SlaveRegistered/Reregistered;
//! - PingSlave -> PongSlave; no ping for the master's total ping timeout ->
//!   re-detect the master (and so reregister);
//! - RunTask -> launch the executor (or queue to / send to the existing one);
//!   RegisterExecutor -> ExecutorRegistered, then the queued RunTasks; an
//!   HTTP executor's SUBSCRIBE ([`subscribe`]) is the same, from the Upid
//!   of its stream's subscriber, and also how it comes back after a
//!   disconnection or a slave restart;
//! - executor StatusUpdate -> task state, status-update manager -> master;
//!   acknowledgement -> next update, forwarded to the executor;
//! - KillTask -> the executor; ShutdownFramework -> ShutdownExecutor, then
//!   the process group is killed after the grace period;
//! - executor exit -> its live tasks TASK_LOST (or the slave's own reason),
//!   ExitedExecutor to the master;
//! - restart: the checkpoint is recovered and executors reconnected before
//!   the slave reregisters under the same id ([`recovery`]).
//!
//! Checkpoints ([`Action::Checkpoint`]) are asked for the slave itself and
//! for frameworks with `FrameworkInfo.checkpoint` only, as Mesos does.

pub mod containers;
mod lifecycle;
pub mod recovery;
#[cfg(test)]
mod recovery_tests;
mod registration;
pub mod state;
pub mod subscribe;
mod tasks;
#[cfg(test)]
mod tests;
mod view;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use libprocess::{Time, Upid};
use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rmesos::ids::{ExecutorID, FrameworkID, SlaveID, TaskID};
use rmesos::info::{CommandInfo, ExecutorInfo, FrameworkInfo, SlaveInfo};
use rmesos::messages::*;
use rmesos::task::Task;
use uuid::Uuid;

use crate::status_update_manager::StatusUpdateManager;
use state::Framework;

pub use recovery::{RecoverMode, RecoveredExecutor, RecoveredFramework, RecoveredState, RecoveredTask};
pub use subscribe::{Refused, SubscribeExecutor};

/// Longest delay between registration attempts (Mesos's `REGISTER_RETRY_INTERVAL_MAX`).
pub const REGISTER_RETRY_INTERVAL_MAX: Duration = Duration::from_secs(60);
/// Ping timeout used until the master says otherwise: Mesos's defaults
/// `agent_ping_timeout` 15 s x `max_agent_ping_timeouts` 5.
pub const DEFAULT_MASTER_PING_TIMEOUT: Duration = Duration::from_secs(75);
/// How often the status-update manager's retries are checked.
pub const STATUS_UPDATE_TICK: Duration = Duration::from_secs(1);

/// "Now" on both clocks: the libprocess clock for timers, and Unix seconds
/// for the timestamps people read in status updates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    pub time: Time,
    pub unix: f64,
}

/// What the core is configured with (from the flags).
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub work_dir: PathBuf,
    /// hostname, port, resources, attributes (the id comes from the master).
    pub info: SlaveInfo,
    /// The command executor binary (`<launcher_dir>/rmesos-executor`).
    pub command_executor: PathBuf,
    pub registration_backoff_factor: Duration,
    pub executor_registration_timeout: Duration,
    pub executor_shutdown_grace_period: Duration,
    /// `--recovery_timeout`, passed to executors.
    pub recovery_timeout: Duration,
    /// `--executor_reregistration_timeout`.
    pub executor_reregistration_timeout: Duration,
    /// `--switch_user`: tasks run as their user (else as the slave's).
    pub switch_user: bool,
    /// Seed of the core's randomness (backoff jitter, run ids, uuids).
    pub seed: u64,
    /// This start of the slave, sent in every (re)registration: different
    /// for each start (see `ReregisterSlaveMessage::incarnation`).
    pub incarnation: u64,
}

/// The slave's registration state (Mesos's `Slave::State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegState {
    /// No master known, or one is known and we are (re)registering.
    Disconnected,
    /// Registered with the current master.
    Running,
    /// Shutting down for good.
    Terminating,
}

/// A timer the core asked for; it comes back to [`SlaveCore::timer`].
#[derive(Debug, Clone, PartialEq)]
pub enum Timer {
    Registration(u64),
    Ping(u64),
    ExecutorRegistration { framework_id: FrameworkID, executor_id: ExecutorID, run: Uuid },
    ExecutorShutdown { framework_id: FrameworkID, executor_id: ExecutorID, run: Uuid },
    ExecutorReregistration { framework_id: FrameworkID, executor_id: ExecutorID, run: Uuid },
}

libprocess::outgoing! {
    /// A message the slave sends. (Actions live for one call; boxing the
    /// larger messages would buy nothing.)
    #[allow(clippy::large_enum_variant)]
    #[derive(Debug, Clone, PartialEq)]
    pub enum Outgoing {
        RegisterSlave(RegisterSlaveMessage),
        UnregisterSlave(UnregisterSlaveMessage),
        ReregisterSlave(ReregisterSlaveMessage),
        Pong(PongSlaveMessage),
        StatusUpdate(StatusUpdateMessage),
        Ack(StatusUpdateAcknowledgementMessage),
        ExitedExecutor(ExitedExecutorMessage),
        ExecutorToFramework(ExecutorToFrameworkMessage),
        ExecutorRegistered(ExecutorRegisteredMessage),
        ExecutorReregistered(ExecutorReregisteredMessage),
        ReconnectExecutor(ReconnectExecutorMessage),
        RunTask(RunTaskMessage),
        KillTask(KillTaskMessage),
        FrameworkToExecutor(FrameworkToExecutorMessage),
        ShutdownExecutor(ShutdownExecutorMessage),
    }
}

/// Start an executor process.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    pub framework_id: FrameworkID,
    pub executor_id: ExecutorID,
    pub run: Uuid,
    pub directory: PathBuf,
    pub command: CommandInfo,
    /// The environment on top of the slave's (see `rmesos::executor::env`).
    pub env: Vec<(String, String)>,
    /// The container's resources (executor + tasks: [`containers`]).
    pub resources: rmesos::Resources,
    /// The user to run as (None: the slave's own; [`containers::launch_user`]).
    pub user: Option<String>,
}

#[allow(clippy::large_enum_variant)]
/// A piece of state to write under `<work_dir>/meta` (see [`crate::paths`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Checkpoint {
    Slave(SlaveInfo),
    Framework {
        info: FrameworkInfo,
        pid: Option<Upid>,
    },
    Executor {
        framework_id: FrameworkID,
        info: ExecutorInfo,
        run: Uuid,
    },
    ExecutorPid {
        framework_id: FrameworkID,
        executor_id: ExecutorID,
        run: Uuid,
        pid: Upid,
    },
    Task {
        executor_id: ExecutorID,
        run: Uuid,
        task: Task,
    },
    Updates {
        executor_id: ExecutorID,
        run: Uuid,
        framework_id: FrameworkID,
        task_id: TaskID,
        updates: Vec<StatusUpdate>,
    },
    /// The executor is over and its updates acknowledged: forget it.
    RemoveExecutor {
        framework_id: FrameworkID,
        executor_id: ExecutorID,
    },
    /// The framework has nothing left on this slave.
    RemoveFramework {
        framework_id: FrameworkID,
    },
    /// `--recover=cleanup`: the old slave's checkpoint goes.
    RemoveSlave(SlaveID),
}

impl Checkpoint {
    /// The framework the checkpoint is about (None: the slave's own).
    fn framework(&self) -> Option<&FrameworkID> {
        match self {
            Checkpoint::Slave(_) | Checkpoint::RemoveSlave(_) => None,
            Checkpoint::Framework { info, .. } => info.id.as_ref(),
            Checkpoint::Executor { framework_id, .. }
            | Checkpoint::ExecutorPid { framework_id, .. }
            | Checkpoint::Updates { framework_id, .. }
            | Checkpoint::RemoveExecutor { framework_id, .. }
            | Checkpoint::RemoveFramework { framework_id } => Some(framework_id),
            Checkpoint::Task { task, .. } => Some(&task.framework_id),
        }
    }
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send(Upid, Outgoing),
    Link(Upid),
    Unlink(Upid),
    SetTimer(Duration, Timer),
    Launch(Launch),
    /// SIGKILL the executor run's process group.
    Kill {
        framework_id: FrameworkID,
        executor_id: ExecutorID,
        run: Uuid,
    },
    Checkpoint(Checkpoint),
    /// The run's tasks changed: its limits become `resources` (Mesos's
    /// containerizer `update`).
    Update {
        framework_id: FrameworkID,
        executor_id: ExecutorID,
        run: Uuid,
        resources: rmesos::Resources,
    },
    /// The sandbox `path` is over (its executor or framework ended):
    /// remove it after `--gc_delay`, or sooner as the disk fills ([`crate::gc`]).
    ScheduleGc(PathBuf),
    /// Take over a run of the previous slave process (watch its exit; with
    /// `kill`, kill it at once and forget it: `--recover=cleanup`).
    Recover {
        framework_id: FrameworkID,
        executor_id: ExecutorID,
        run: Uuid,
        forked_pid: Option<u32>,
        kill: bool,
    },
    /// Look for the master again (pings stopped, or it said we are not connected).
    Redetect,
    /// The master told us to shut down: stop once executors are killed.
    Terminate(String),
}

/// The slave's state machine (see the module doc).
pub struct SlaveCore {
    cfg: CoreConfig,
    me: Upid,
    info: SlaveInfo,
    state: RegState,
    master: Option<Upid>,
    frameworks: BTreeMap<FrameworkID, Framework>,
    completed_frameworks: VecDeque<Framework>,
    sum: StatusUpdateManager,
    ping_timeout: Duration,
    /// Generation of the registration and ping timers (stale ones are ignored).
    registration_timer: u64,
    ping_timer: u64,
    /// Current upper bound of the registration backoff.
    backoff: Duration,
    rng: ChaCha8Rng,
    /// While recovering: the recovered executors not yet reregistered,
    /// exited or timed out (registration waits for them).
    recovering: Option<BTreeSet<(FrameworkID, ExecutorID)>>,
    /// `--recover=cleanup`: the old id, unregistered before registering.
    unregister_first: Option<SlaveID>,
    /// Executors that ended while not registered: told to the master once
    /// (re)registered (bounded by the executors this slave ran).
    unreported_exits: Vec<ExitedExecutorMessage>,
    out: Vec<Action>,
}

impl SlaveCore {
    /// A core for the slave process `me`.
    pub fn new(cfg: CoreConfig, me: Upid) -> SlaveCore {
        SlaveCore {
            info: cfg.info.clone(),
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            cfg,
            me,
            state: RegState::Disconnected,
            master: None,
            frameworks: BTreeMap::new(),
            completed_frameworks: VecDeque::new(),
            sum: StatusUpdateManager::new(),
            ping_timeout: DEFAULT_MASTER_PING_TIMEOUT,
            registration_timer: 0,
            ping_timer: 0,
            backoff: Duration::ZERO,
            recovering: None,
            unregister_first: None,
            unreported_exits: Vec::new(),
            out: Vec::new(),
        }
    }

    pub fn state(&self) -> RegState {
        self.state
    }

    pub fn master(&self) -> Option<&Upid> {
        self.master.as_ref()
    }

    pub fn slave_id(&self) -> Option<&SlaveID> {
        self.info.id.as_ref()
    }

    pub fn info(&self) -> &SlaveInfo {
        &self.info
    }

    pub fn frameworks(&self) -> &BTreeMap<FrameworkID, Framework> {
        &self.frameworks
    }

    /// Frameworks that ended, the latest [`state::MAX_COMPLETED_FRAMEWORKS`].
    pub fn completed_frameworks(&self) -> &VecDeque<Framework> {
        &self.completed_frameworks
    }

    /// The configuration the core was made with (from the flags).
    pub fn config(&self) -> &CoreConfig {
        &self.cfg
    }

    pub fn grace_period(&self) -> Duration {
        self.cfg.executor_shutdown_grace_period
    }

    pub fn ping_timeout(&self) -> Duration {
        self.ping_timeout
    }

    /// Periodic tick ([`STATUS_UPDATE_TICK`]): resend updates due for a retry.
    pub fn tick(&mut self, now: Now) -> Vec<Action> {
        let out = self.sum.tick(now.time);
        self.forward_updates(out.forward);
        self.take()
    }

    fn take(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.out)
    }

    fn push(&mut self, a: Action) {
        if let Action::Checkpoint(c) = &a {
            if let Some(fid) = c.framework() {
                if !self.checkpoints(fid, c) {
                    return;
                }
            }
        }
        self.out.push(a);
    }

    /// Whether state of framework `fid` is checkpointed (it asked for it).
    fn checkpoints(&self, fid: &FrameworkID, c: &Checkpoint) -> bool {
        match c {
            Checkpoint::Framework { info, .. } => info.checkpoint,
            // Removing what was never written is harmless (and the
            // framework may be gone from memory already).
            Checkpoint::RemoveExecutor { .. } | Checkpoint::RemoveFramework { .. } => true,
            _ => self.frameworks.get(fid).is_some_and(|f| f.info.checkpoint),
        }
    }

    fn send(&mut self, to: &Upid, m: Outgoing) {
        self.out.push(Action::Send(to.clone(), m));
    }

    fn uuid(&mut self) -> Uuid {
        Uuid::from_u128(self.rng.gen::<u128>() & !(0xF << 76) | (0x4 << 76))
    }

    /// A uniformly random duration in `[0, max]`.
    fn jitter(&mut self, max: Duration) -> Duration {
        max.mul_f64(self.rng.gen::<f64>())
    }

    /// Sends status updates to the master (the manager decided they go now).
    fn forward_updates(&mut self, updates: Vec<StatusUpdate>) {
        let Some(master) = self.master.clone() else { return };
        for update in updates {
            tracing::debug!(task = %update.task_id(), state = %update.status.state, %master, "forwarding status update");
            self.send(&master, Outgoing::StatusUpdate(StatusUpdateMessage { update, pid: Some(self.me.clone()) }));
        }
    }
}
