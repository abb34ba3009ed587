//! The rmesos slave (Mesos's agent): registers with the master, launches
//! executors as child processes in sandboxes under `--work_dir`, relays
//! their status updates reliably, answers the master's health checks, and
//! after a restart recovers the executors still running (`--recover`).
//!
//! - [`core`]: the pure state machine (registration, pings, frameworks,
//!   executors, tasks) and [`status_update_manager`] (reliable updates);
//! - [`process`]: the `slave(1)` actor around them; [`containerizer`]
//!   (executor runs: child processes through [`launcher`] (sessions, kills),
//!   or in-process executors for simulations), [`checkpoint`] (state under
//!   `<work_dir>/meta`, see [`paths`]) and [`checkpoint::recover`] (reading it back when
//!   a restarted slave recovers: [`core::recovery`]), [`http`] (`/state`,
//!   `/health`, `/files/read`), [`api`] (Mesos's v1 executor API,
//!   `/api/v1/executor`);
//! - [`flags`] and [`machine`] (default resources).
//!
//! Binaries and embedders start a slave with [`start`] (binds its own node,
//! as `rmesos-slave` does) or [`spawn`] with [`SlaveOptions`] (an existing
//! node: rmesos-local runs several slaves in one process, one node each;
//! simulations choose the containerizer, the seed and the ZooKeeper). The command executor
//! binary `rmesos-executor` is looked up in `--launcher_dir`, by default the
//! directory of the running binary (cargo puts every workspace binary there).

pub mod api;
mod auth;
pub mod cgroups;
pub mod checkpoint;
pub mod containerizer;
pub mod core;
pub mod fetcher;
pub mod flags;
pub mod gc;
pub mod http;
pub use containerizer::launcher;
pub mod machine;
pub mod monitor;
pub mod paths;
pub mod process;
pub mod status_update_manager;

use std::path::PathBuf;

use actix::Addr;
use libprocess::{Config, Node, Upid};
use rmesos::detect_zk::ZkDetect;
use tokio::sync::watch;

pub use containerizer::Containerizer;
pub use flags::Flags;
use process::{SlaveProcess, Stop, SLAVE_PROCESS_ID};

/// The command executor's binary name.
pub const COMMAND_EXECUTOR: &str = "rmesos-executor";

/// Why a slave could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot use --work_dir {0}: {1}")]
    WorkDir(PathBuf, std::io::Error),
    #[error("--master: {0}")]
    Master(rmesos::DetectError),
    #[error("cannot start the slave's node: {0}")]
    Node(String),
    #[error("--master: {0}")]
    Zk(String),
    #[error("{0} (start with --strict=false to skip what cannot be read, or --recover=cleanup)")]
    Recovery(checkpoint::recover::RecoveryError),
    /// The isolators chosen cannot work on this machine.
    #[error("{0}")]
    Containerizer(String),
    #[error("--credential: {0}")]
    Credential(String),
    /// The fetcher cache directory cannot be prepared.
    #[error("--fetcher_cache_dir: {0}")]
    Fetcher(String),
}

/// A running slave.
pub struct Slave {
    pid: Upid,
    node: Node,
    addr: Addr<SlaveProcess>,
    stopped: watch::Receiver<Option<Stopped>>,
    owns_node: bool,
}

/// Why a slave stopped: what [`Slave::join`] returns, and `rmesos-slave`'s
/// exit code ([`Stopped::exit_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// [`Slave::stop`] (Ctrl+C, SIGTERM, an embedding program).
    Asked,
    /// The master shut it down (ShutdownMessage), after the grace period.
    Terminated,
    /// A master refused its `--credential`.
    AuthenticationRefused,
}

impl Stopped {
    /// 0 when asked to stop or shut down by the master (as Mesos's agent);
    /// 1 when the master refused its credential (Mesos's agent exits with
    /// EXIT_FAILURE "Master refused authentication"), so a supervisor sees
    /// a failure and an operator the reason.
    pub fn exit_code(self) -> i32 {
        match self {
            Stopped::Asked | Stopped::Terminated => 0,
            Stopped::AuthenticationRefused => 1,
        }
    }
}

impl Slave {
    /// `slave(1)@ip:port`.
    pub fn pid(&self) -> &Upid {
        &self.pid
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Waits until the slave stops, and says why (a slave whose actor is
    /// gone without saying counts as [`Stopped::Asked`]).
    pub async fn join(&self) -> Stopped {
        let mut rx = self.stopped.clone();
        loop {
            if let Some(why) = *rx.borrow_and_update() {
                return why;
            }
            if rx.changed().await.is_err() {
                return Stopped::Asked;
            }
        }
    }

    /// Stops the slave. With `kill_executors` every executor it started is
    /// killed (rmesos-local's Ctrl+C); without, they keep running as Mesos
    /// leaves them (executors of non-checkpointing frameworks then shut
    /// themselves down). A node started by [`start`] is shut down too.
    pub async fn stop(&self, kill_executors: bool) {
        self.addr.do_send(Stop { kill_executors });
        self.join().await;
        if self.owns_node {
            self.node.shutdown();
        }
    }
}

/// Binds a node as the flags say (`--ip`, else `LIBPROCESS_IP`, else
/// 127.0.0.1; `--port`) and starts the slave on it. Must run inside an actix
/// system.
pub async fn start(flags: Flags) -> Result<Slave, StartError> {
    let mut config = Config::from_env().map_err(|e| StartError::Node(e.to_string()))?;
    if let Some(ip) = flags.ip {
        config.ip = ip;
    }
    config.port = flags.port;
    let node = Node::bind(config).await.map_err(|e| StartError::Node(e.to_string()))?;
    let mut slave = spawn(&node, SlaveOptions::new(flags))?;
    slave.owns_node = true;
    Ok(slave)
}

/// How the slave's process finds the master.
pub(crate) enum MasterSource {
    Standalone(Upid),
    /// A ZooKeeper leader detector reporting to the slave.
    Detector(Upid),
}

/// How to start a slave on a node: its flags, and what a simulation or an
/// embedder chooses besides.
pub struct SlaveOptions {
    pub flags: Flags,
    /// How executor runs start: `None`, the Mesos containerizer the flags
    /// configure (`--isolation`, `--launcher`); or another, e.g.
    /// [`containerizer::InProcess`] in a simulation.
    pub containerizer: Option<Box<dyn Containerizer>>,
    /// Seed of the slave's random draws (registration backoff, run ids), so
    /// a simulation replays; random by default.
    pub seed: u64,
    /// With `--master zk://...`: the ZooKeeper to detect the leader on
    /// (e.g. a simulation's in-memory one); `None`, the real one.
    pub zookeeper: Option<std::sync::Arc<dyn libprocess::zookeeper::Backend>>,
}

impl SlaveOptions {
    /// `flags`, the containerizer they configure, a random seed, the real
    /// ZooKeeper.
    pub fn new(flags: Flags) -> SlaveOptions {
        SlaveOptions { flags, containerizer: None, seed: rand::random(), zookeeper: None }
    }
}

/// Starts the slave as `slave(1)` on `node` (which must not run one yet) and
/// makes it the node's default HTTP process (`/state`). With `--master
/// zk://...` it follows the leading master through ZooKeeper (detector
/// process `slave(1)-detector`).
pub fn spawn(node: &Node, opts: SlaveOptions) -> Result<Slave, StartError> {
    let SlaveOptions { flags, containerizer, seed, zookeeper: zk_backend } = opts;
    let containerizer: Box<dyn Containerizer> = match containerizer {
        Some(c) => c,
        None => Box::new(
            containerizer::Mesos::new(flags.containerizer(), node.clock().clone())
                .map_err(StartError::Containerizer)?,
        ),
    };
    let credential = match &flags.credential {
        Some(path) => Some(rmesos::auth::Credential::load(path).map_err(|e| StartError::Credential(e.to_string()))?),
        None => None,
    };
    std::fs::create_dir_all(&flags.work_dir).map_err(|e| StartError::WorkDir(flags.work_dir.clone(), e))?;
    let work_dir = flags.work_dir.canonicalize().map_err(|e| StartError::WorkDir(flags.work_dir.clone(), e))?;
    // The checkpoint of a previous run (cleanup reads what it can: it only
    // needs the executors to kill).
    let mode = flags.recover_mode();
    let strict = flags.strict && mode == core::RecoverMode::Reconnect;
    let recovered = checkpoint::recover::read(&work_dir, strict).map_err(StartError::Recovery)?;
    let master = match &flags.master {
        rmesos::MasterSpec::ZooKeeper(url) => {
            let mut zk = ZkDetect::real(url).map_err(|e| StartError::Zk(e.to_string()))?;
            if let Some(b) = zk_backend {
                zk.backend = b;
            }
            let me = node.pid(SLAVE_PROCESS_ID).map_err(|e| StartError::Node(e.to_string()))?;
            let detector = zk
                .spawn(node, &format!("{SLAVE_PROCESS_ID}-detector"), me)
                .map_err(|e| StartError::Node(e.to_string()))?;
            MasterSource::Detector(detector)
        }
        spec => MasterSource::Standalone(spec.resolve().map_err(StartError::Master)?),
    };
    let launcher_dir = flags.launcher_dir.clone().unwrap_or_else(default_launcher_dir);
    let command_executor = launcher_dir.join(COMMAND_EXECUTOR);
    if !command_executor.is_file() {
        tracing::warn!(path = %command_executor.display(), "The command executor is missing: command tasks will fail to launch (set --launcher_dir)");
    }
    let resources = machine::with_defaults(flags.resources.clone(), &work_dir);
    let hostname = flags.hostname.clone().unwrap_or_else(hostname);
    let info = rmesos::SlaveInfo::new(hostname, node.address().port(), resources, flags.attributes.clone());
    let cfg = core::CoreConfig {
        work_dir: work_dir.clone(),
        info,
        command_executor,
        registration_backoff_factor: flags.registration_backoff_factor,
        executor_registration_timeout: flags.executor_registration_timeout,
        executor_shutdown_grace_period: flags.executor_shutdown_grace_period,
        recovery_timeout: flags.recovery_timeout,
        executor_reregistration_timeout: flags.executor_reregistration_timeout,
        switch_user: flags.switch_user,
        seed,
        incarnation: incarnation(node, seed),
    };
    let collector = gc::Collector::new(
        gc::Gc::new(flags.gc_delay, flags.gc_disk_headroom),
        flags.disk_watch_interval,
        paths::sandboxes_root(&work_dir),
        Box::new(gc::Statvfs(work_dir.clone())),
    );
    let fetcher = fetcher::Fetcher::new(&flags.fetcher(), node.address().port(), node.clock().clone())
        .map_err(StartError::Fetcher)?;
    let (tx, rx) = watch::channel(None);
    let detector = match &master {
        MasterSource::Detector(d) => Some(d.clone()),
        MasterSource::Standalone(_) => None,
    };
    let spawned = node
        .spawn(SLAVE_PROCESS_ID, |me| {
            let core = core::SlaveCore::new(cfg, me.pid().clone());
            let authee = credential.map(|c| {
                rmesos::auth::Authenticatee::new(me.pid().clone(), c, seed ^ 0x5eed)
                    .with_timing(flags.authentication_backoff_factor, flags.authentication_timeout_min)
            });
            let mut p = SlaveProcess::new(me, core, work_dir, master, containerizer, tx, (recovered, mode), collector);
            if let Some(a) = authee {
                p.authee.0 = Some(a);
            }
            p.fetches.fetcher = Some(fetcher);
            p
        })
        .map_err(|e| {
            if let Some(d) = &detector {
                node.terminate(d);
            }
            StartError::Node(e.to_string())
        })?;
    node.set_default_http(SLAVE_PROCESS_ID);
    Ok(Slave { pid: spawned.pid, node: node.clone(), addr: spawned.addr, stopped: rx, owns_node: false })
}

/// The id of this start of the slave: the node's incarnation (new for each
/// node start) mixed with the slave's seed (random for each real start;
/// one per start in a simulation), so that two slaves started one after
/// the other at one address differ even on one node.
fn incarnation(node: &Node, seed: u64) -> u64 {
    use rand::Rng;
    use rand_chacha::rand_core::SeedableRng;
    rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ node.incarnation().rotate_left(32)).gen()
}

/// The directory of the running binary (where cargo also puts rmesos-executor).
fn default_launcher_dir() -> PathBuf {
    std::env::current_exe().ok().and_then(|p| p.parent().map(PathBuf::from)).unwrap_or_else(|| PathBuf::from("."))
}

/// The machine's hostname (Mesos reports the same by default).
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid for its length; gethostname NUL-terminates when it fits.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
