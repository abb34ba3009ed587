//! The driver's public face: [`SchedulerDriver`] (what a framework creates
//! and runs) and [`DriverHandle`] (what callbacks and other actors act
//! with). The libprocess process that performs the [`DriverCore`]'s actions
//! is in `process.rs`.
//!
//! Calls on a handle are queued to the process. Those made inside a callback
//! are applied as soon as the callback returns (the process drains the queue
//! after every callback), so a framework that launches from
//! `resource_offers` has its launch sent before the next message is handled.
//! Master detection: standalone, the `--master` value is parsed (re-reading
//! a file) and resolved at every detection; with `zk://...`, a
//! `LeaderDetector` (process `<driver id>-detector`) reports every change of
//! the leading master (see [`crate::detect_zk`]): the driver disconnects at
//! once when the leader is lost and registers with a new one as soon as it
//! is detected (retries on the randomized backoff).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libprocess::clock::WorkGuard;
use libprocess::{Clock, Config, Node, NodeError, SpawnError, Upid};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::{mpsc, watch};

use super::core::{DriverCore, DriverStatus};
use super::process::SchedulerProcess;
use super::Scheduler;
use crate::auth::{Authenticatee, Credential, MaybeAuthenticatee};
use crate::detect::{DetectError, MasterSpec};
use crate::detect_zk::{LeaderFollower, ZkDetect};
use crate::ids::{uuid_from, ExecutorID, FrameworkID, OfferID, SlaveID, TaskID};
use crate::info::{Filters, FrameworkInfo, FrameworkInfoError, TaskInfo};
use crate::task::TaskStatus;

/// How long `join` waits, on the node's clock, for the last messages to be
/// written once the driver finished (an unreachable master is not waited
/// for beyond this).
pub const JOIN_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a driver cannot be made or started.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("bad --master: {0}")]
    Master(#[from] DetectError),
    #[error("--master: {0}")]
    ZooKeeper(#[from] libprocess::zookeeper::ZkUrlError),
    #[error("invalid FrameworkInfo: {0}")]
    Framework(#[from] FrameworkInfoError),
    #[error("cannot start the libprocess node: {0}")]
    Node(#[from] NodeError),
    #[error("cannot spawn the scheduler process: {0}")]
    Spawn(#[from] SpawnError),
    #[error("the driver was already started")]
    AlreadyStarted,
}

/// A framework's request to its driver.
#[derive(Debug)]
pub(super) enum Command {
    Stop(bool),
    Abort,
    Launch(Vec<OfferID>, Vec<TaskInfo>, Filters),
    Decline(OfferID, Filters),
    Kill(TaskID, Option<crate::info::KillPolicy>),
    Revive,
    Suppress,
    Reconcile(Vec<TaskStatus>),
    Message(ExecutorID, SlaveID, Vec<u8>),
    Ack(TaskStatus),
    Detected(Option<Upid>),
}

/// A queued command with its work guard (so a paused clock's `settle`
/// waits for it).
pub(super) type Queued = (Command, Option<WorkGuard>);

/// State the process shares with handles.
pub(super) struct Shared {
    pub(super) status: Mutex<DriverStatus>,
    pub(super) framework_id: Mutex<Option<FrameworkID>>,
    pid: OnceLock<Upid>,
    clock: OnceLock<Clock>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A framework's handle on its driver: `Clone + Send`, callable from
/// callbacks, other actors and threads. Each call returns the driver's
/// status when it was made; the call only takes effect while it is
/// `DRIVER_RUNNING` (except `stop` after `abort`).
#[derive(Clone)]
pub struct DriverHandle {
    tx: mpsc::UnboundedSender<Queued>,
    pub(super) shared: Arc<Shared>,
}

impl DriverHandle {
    fn push(&self, cmd: Command) -> DriverStatus {
        let status = self.status();
        let allowed = match cmd {
            Command::Stop(_) => matches!(status, DriverStatus::Running | DriverStatus::Aborted),
            _ => status == DriverStatus::Running,
        };
        if allowed {
            let guard = self.shared.clock.get().map(Clock::work);
            let _ = self.tx.send((cmd, guard));
        }
        status
    }

    /// The driver's status now.
    pub fn status(&self) -> DriverStatus {
        *lock(&self.shared.status)
    }

    /// The framework id, once registered.
    pub fn framework_id(&self) -> Option<FrameworkID> {
        lock(&self.shared.framework_id).clone()
    }

    /// The driver process's pid, once started.
    pub fn pid(&self) -> Option<Upid> {
        self.shared.pid.get().cloned()
    }

    /// Stops the driver; without `failover` the framework is unregistered
    /// (the master kills its tasks).
    pub fn stop(&self, failover: bool) -> DriverStatus {
        self.push(Command::Stop(failover))
    }

    /// Aborts the driver: nothing more is handled; the master deactivates
    /// the framework.
    pub fn abort(&self) -> DriverStatus {
        self.push(Command::Abort)
    }

    /// Launches `tasks` on the resources of `offer_ids` (all on one slave).
    pub fn launch_tasks(&self, offer_ids: Vec<OfferID>, tasks: Vec<TaskInfo>, filters: Filters) -> DriverStatus {
        self.push(Command::Launch(offer_ids, tasks, filters))
    }

    pub fn decline_offer(&self, offer_id: OfferID, filters: Filters) -> DriverStatus {
        self.push(Command::Decline(offer_id, filters))
    }

    pub fn kill_task(&self, task_id: TaskID) -> DriverStatus {
        self.push(Command::Kill(task_id, None))
    }

    /// Kills the task with `kill_policy` instead of the task's own (its
    /// grace period between SIGTERM and SIGKILL).
    pub fn kill_task_with_policy(&self, task_id: TaskID, kill_policy: crate::info::KillPolicy) -> DriverStatus {
        self.push(Command::Kill(task_id, Some(kill_policy)))
    }

    pub fn revive_offers(&self) -> DriverStatus {
        self.push(Command::Revive)
    }

    pub fn suppress_offers(&self) -> DriverStatus {
        self.push(Command::Suppress)
    }

    /// Asks the latest state of these tasks (none: of all the framework's tasks).
    pub fn reconcile_tasks(&self, statuses: Vec<TaskStatus>) -> DriverStatus {
        self.push(Command::Reconcile(statuses))
    }

    pub fn send_framework_message(&self, executor_id: ExecutorID, slave_id: SlaveID, data: Vec<u8>) -> DriverStatus {
        self.push(Command::Message(executor_id, slave_id, data))
    }

    /// Acknowledges a status (only with implicit acknowledgements off).
    pub fn acknowledge_status_update(&self, status: TaskStatus) -> DriverStatus {
        self.push(Command::Ack(status))
    }

    /// Tells the driver the leading master changed (None: no leader now),
    /// for a detector outside the driver: the driver
    /// disconnects if connected and registers with the new master at once.
    pub fn master_detected(&self, master: Option<Upid>) -> DriverStatus {
        self.push(Command::Detected(master))
    }
}

/// Connects a [`Scheduler`] to the master. Build it, then `run()` (async,
/// inside an actix system), `run_blocking()` (own system), or
/// `start()` + `join()`.
pub struct SchedulerDriver {
    master: String,
    /// With `--master zk://...`: how to detect the leader.
    zk: Option<ZkDetect>,
    core: Option<DriverCore>,
    scheduler: Option<Box<dyn Scheduler>>,
    node: Option<Node>,
    /// The node was bound by `start` (not given): shut down on drop.
    owns_node: bool,
    handle: DriverHandle,
    commands: Option<mpsc::UnboundedReceiver<Queued>>,
    done_tx: Option<watch::Sender<DriverStatus>>,
    done: watch::Receiver<DriverStatus>,
    /// The uuid of the process id `scheduler-<uuid>`: random, or drawn
    /// from the seed given to [`SchedulerDriver::seed`].
    process_uuid: uuid::Uuid,
    /// What the driver authenticates with (Mesos's `Credential`), if any.
    credential: Option<Credential>,
}

impl SchedulerDriver {
    /// A driver for `framework` (set `framework.id` to fail over a previous
    /// scheduler instance) with master `master` in any `--master` form
    /// (`zk://` on the real ZooKeeper). Implicit acknowledgements.
    pub fn new(
        scheduler: impl Scheduler,
        framework: FrameworkInfo,
        master: impl Into<String>,
    ) -> Result<SchedulerDriver, DriverError> {
        let master = master.into();
        let zk = match MasterSpec::parse(&master)? {
            MasterSpec::ZooKeeper(url) => Some(ZkDetect::real(&url)?),
            MasterSpec::Standalone { .. } => None,
        };
        framework.validate()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (done_tx, done) = watch::channel(DriverStatus::NotStarted);
        let shared = Arc::new(Shared {
            status: Mutex::new(DriverStatus::NotStarted),
            framework_id: Mutex::new(framework.id.clone()),
            pid: OnceLock::new(),
            clock: OnceLock::new(),
        });
        Ok(SchedulerDriver {
            master,
            zk,
            core: Some(DriverCore::new(framework, true, rand::random())),
            scheduler: Some(Box::new(scheduler)),
            node: None,
            owns_node: false,
            handle: DriverHandle { tx, shared },
            commands: Some(rx),
            done_tx: Some(done_tx),
            done,
            process_uuid: uuid::Uuid::new_v4(),
            credential: None,
        })
    }

    /// Runs the driver's process on `node` instead of a node of its own
    /// (bound from `LIBPROCESS_IP`/`LIBPROCESS_PORT` at start).
    pub fn with_node(mut self, node: Node) -> SchedulerDriver {
        self.node = Some(node);
        self
    }

    /// Detects the leader on this ZooKeeper backend (e.g. the in-memory one
    /// of a simulation) when `--master` is a `zk://` URL.
    pub fn zookeeper_backend(mut self, backend: Arc<dyn libprocess::zookeeper::Backend>) -> SchedulerDriver {
        if let Some(zk) = self.zk.as_mut() {
            zk.backend = backend;
        }
        self
    }

    /// Implicit (default, as Mesos) or explicit acknowledgements.
    pub fn implicit_acknowledgements(mut self, implicit: bool) -> SchedulerDriver {
        if let Some(core) = self.core.as_mut() {
            core.set_implicit_acks(implicit);
        }
        self
    }

    /// Overrides the registration backoff factor (default
    /// [`super::REGISTRATION_BACKOFF_FACTOR`]).
    pub fn registration_backoff_factor(mut self, factor: std::time::Duration) -> SchedulerDriver {
        if let Some(core) = self.core.as_mut() {
            core.set_backoff_factor(factor);
        }
        self
    }

    /// Seeds the registration backoff draws and the process id (default:
    /// random), so a simulation replays exactly.
    pub fn seed(mut self, seed: u64) -> SchedulerDriver {
        if let Some(core) = self.core.as_mut() {
            core.reseed(seed);
        }
        self.process_uuid = uuid_from(&mut ChaCha8Rng::seed_from_u64(seed));
        self
    }

    /// Authenticates with every master (CRAM-MD5) before registering, as
    /// a master with `--authenticate_frameworks` requires.
    pub fn credential(mut self, credential: Credential) -> SchedulerDriver {
        self.credential = Some(credential);
        self
    }

    /// A handle to act on the driver from elsewhere (valid before start).
    pub fn handle(&self) -> DriverHandle {
        self.handle.clone()
    }

    pub fn status(&self) -> DriverStatus {
        self.handle.status()
    }

    /// Starts the driver's process (binding a node first if none was given).
    pub async fn start(&mut self) -> Result<DriverStatus, DriverError> {
        let (Some(core), Some(scheduler), Some(commands), Some(done)) =
            (self.core.take(), self.scheduler.take(), self.commands.take(), self.done_tx.take())
        else {
            return Err(DriverError::AlreadyStarted);
        };
        let node = match &self.node {
            Some(n) => n.clone(),
            None => {
                let config = Config::from_env().map_err(NodeError::from)?;
                let n = Node::bind(config).await?;
                self.node = Some(n.clone());
                self.owns_node = true;
                n
            }
        };
        let shared = self.handle.shared.clone();
        let _ = shared.clock.set(node.clock().clone());
        *lock(&shared.status) = DriverStatus::Running;
        let id = format!("scheduler-{}", self.process_uuid);
        let handle = self.handle.clone();
        let master = self.master.clone();
        // The detector reports to the driver's process, which runs once
        // spawned: spawn the detector first, subscribed to the pid to come.
        let follower = match &self.zk {
            Some(zk) => {
                let detector = zk.spawn(&node, &format!("{id}-detector"), node.pid(&id).map_err(SpawnError::from)?)?;
                Some(LeaderFollower::new(detector))
            }
            None => None,
        };
        let detector = follower.as_ref().map(|f| f.detector().clone());
        let credential = self.credential.clone();
        let seed = self.process_uuid.as_u128() as u64;
        let spawned = node
            .spawn(&id, move |me| SchedulerProcess {
                authee: MaybeAuthenticatee(credential.map(|c| Authenticatee::new(me.pid().clone(), c, seed))),
                core: {
                    let mut core = core;
                    core.set_pid(me.pid());
                    core
                },
                me,
                scheduler,
                handle,
                commands: Rc::new(RefCell::new(commands)),
                master,
                follower,
                done,
            })
            .inspect_err(|_| {
                if let Some(d) = &detector {
                    node.terminate(d);
                }
            })?;
        tracing::info!(pid = %spawned.pid, master = %self.master, "Scheduler driver process started");
        let _ = shared.pid.set(spawned.pid);
        Ok(DriverStatus::Running)
    }

    pub fn stop(&self, failover: bool) -> DriverStatus {
        self.handle.stop(failover)
    }

    pub fn abort(&self) -> DriverStatus {
        self.handle.abort()
    }

    /// Waits until the driver is stopped or aborted.
    pub async fn join(&mut self) -> DriverStatus {
        loop {
            let now = *self.done.borrow_and_update();
            if matches!(now, DriverStatus::Stopped | DriverStatus::Aborted) {
                // The last messages (acknowledgement, unregister) sit in the
                // transport's queue: have them written before a caller that
                // exits the process right after `join` drops it.
                if let Some(node) = &self.node {
                    if node.clock().timeout(JOIN_FLUSH_TIMEOUT, node.flush()).await.is_err() {
                        tracing::warn!("last messages not written within {JOIN_FLUSH_TIMEOUT:?}");
                    }
                }
                return now;
            }
            if self.done.changed().await.is_err() {
                // The process is gone without finishing (its node shut down).
                let last = *self.done.borrow();
                return if last == DriverStatus::Running { DriverStatus::Aborted } else { last };
            }
        }
    }

    /// `start()` then `join()`.
    pub async fn run(&mut self) -> Result<DriverStatus, DriverError> {
        self.start().await?;
        Ok(self.join().await)
    }

    /// `run()` on an actix system of its own, for plain Rust programs.
    pub fn run_blocking(self) -> Result<DriverStatus, DriverError> {
        actix_rt::System::new().block_on(async move {
            let mut driver = self;
            driver.run().await
        })
    }
}

impl Drop for SchedulerDriver {
    fn drop(&mut self) {
        if let (true, Some(node)) = (self.owns_node, &self.node) {
            node.shutdown();
        }
    }
}
