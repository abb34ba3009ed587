//! A simulated cluster for tests: real masters, real slaves and frameworks
//! on the real scheduler driver, on one seeded [`Sim`] (paused clock,
//! simulated network), with the in-memory ZooKeeper ([`MemZk`], on the same
//! clock) when there are several masters.
//!
//! ```text
//! let mut c = SimCluster::builder().seed(7).masters(3).slaves(2).build();
//! let mut fw = c.framework(MyScheduler::default(), FrameworkInfo::new("me", "mine")).await;
//! c.wait_for(&mut fw, |e| matches!(e, SchedulerEvent::Registered(..))).await;
//! let old = c.crash_leader();                  // faults: faults.rs
//! c.until("a new leader", |c| c.leader().is_some_and(|l| l != old)).await;   // waits: wait.rs
//! ```
//!
//! Addresses: masters 10.0.0.1-N:5050, slaves 10.0.1.1-N:5051, frameworks
//! 10.0.2.1-N:5052, executors 10.1.x.y:5053 (one node per executor run,
//! never reused); ZooKeeper `zk://10.0.9.1:2181/rmesos`. Master `i` (from
//! 0) has hostname `m<i+1>` and id `m<i+1>-<starts>`; slave `i` hostname
//! `s<i+1>`, work directory `<work root>/slave<i+1>-<starts>` (a restarted
//! slave starts afresh), seed `seed ^ starts << 32 ^ i`. Executors are
//! in-process ([`rmesos_slave::containerizer::InProcess`]): the
//! [`TaskExecutor`] unless the builder is given another.
//!
//! The chaos run (`rmesos-tests`) is this cluster with 3 masters and 5
//! slaves, its own executor, and a supervisor on top.

mod faults;
mod wait;

use std::cell::Cell;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use libprocess::testkit::Sim;
use libprocess::zookeeper::MemZk;
use libprocess::Node;
use rmesos::executor::Executor;
use rmesos::scheduler::{Scheduler, SchedulerDriver};
use rmesos::{FrameworkInfo, MasterSpec, Resources};
use rmesos_master::{HaConfig, MasterOptions, RunningMaster};
use rmesos_slave::containerizer::InProcess;
use rmesos_slave::core::Launch;
use rmesos_slave::{Flags, Slave, SlaveOptions};

use crate::executor::TaskExecutor;
use crate::framework::{Framework, RecordingScheduler};
use crate::zk::NodeZk;

/// The ZooKeeper URL every component of a cluster with ZooKeeper uses.
pub const ZK: &str = "zk://10.0.9.1:2181/rmesos";
/// A slave's resources unless the builder says otherwise.
pub const SLAVE_RESOURCES: &str = "cpus:4;mem:2048;disk:4096;ports:[31000-32000]";
/// `--zk_session_timeout` of masters (and the sessions of everyone else).
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// Makes the executor of one in-process executor run, given the launch and
/// the address of the node it runs on.
pub type ExecutorFactory = Box<dyn FnMut(&Launch, SocketAddr) -> Box<dyn Executor>>;
type MasterHook = Box<dyn Fn(usize, &mut MasterOptions)>;
type SlaveHook = Box<dyn Fn(usize, &mut Flags)>;

/// Clusters made in this process (names their work directories).
static CLUSTERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Settings of a [`SimCluster`]; `SimCluster::builder()`.
pub struct ClusterBuilder {
    sim: Option<Rc<Sim>>,
    seed: Option<u64>,
    masters: usize,
    slaves: usize,
    zookeeper: Option<bool>,
    slave_resources: String,
    work_root: Option<PathBuf>,
    master_hook: Option<MasterHook>,
    slave_hook: Option<SlaveHook>,
    executors: Option<ExecutorFactory>,
}

impl ClusterBuilder {
    /// The simulation's seed (else `RMESOS_SEED`, else drawn and printed).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Runs the cluster on `sim` (made with settings of one's own).
    pub fn sim(mut self, sim: Rc<Sim>) -> Self {
        self.sim = Some(sim);
        self
    }

    /// How many masters (default 1). With more than one they elect a
    /// leader through the in-memory ZooKeeper.
    pub fn masters(mut self, n: usize) -> Self {
        self.masters = n;
        self
    }

    /// How many slaves (default 1).
    pub fn slaves(mut self, n: usize) -> Self {
        self.slaves = n;
        self
    }

    /// ZooKeeper for leader election and detection even with one master
    /// (on by default with several masters; off, a standalone master).
    pub fn zookeeper(mut self, on: bool) -> Self {
        self.zookeeper = Some(on);
        self
    }

    /// Each slave's `--resources` (default [`SLAVE_RESOURCES`]).
    pub fn slave_resources(mut self, resources: &str) -> Self {
        self.slave_resources = resources.to_string();
        self
    }

    /// Where slaves' work directories go (removed with the cluster).
    pub fn work_root(mut self, dir: PathBuf) -> Self {
        self.work_root = Some(dir);
        self
    }

    /// Changes master `i`'s options at each start (before ZooKeeper is set).
    pub fn master_options(mut self, f: impl Fn(usize, &mut MasterOptions) + 'static) -> Self {
        self.master_hook = Some(Box::new(f));
        self
    }

    /// Changes slave `i`'s flags at each start.
    pub fn slave_flags(mut self, f: impl Fn(usize, &mut Flags) + 'static) -> Self {
        self.slave_hook = Some(Box::new(f));
        self
    }

    /// The executor of each executor run (default: a [`TaskExecutor`]).
    pub fn executors(mut self, f: impl FnMut(&Launch, SocketAddr) -> Box<dyn Executor> + 'static) -> Self {
        self.executors = Some(Box::new(f));
        self
    }

    /// The cluster with every master and slave started (masters first).
    pub fn build(self) -> SimCluster {
        let mut c = self.build_stopped();
        for i in 0..c.masters.len() {
            c.start_master(i);
        }
        for i in 0..c.slaves.len() {
            c.start_slave(i);
        }
        c
    }

    /// The cluster with nothing started yet (`start_master`, `start_slave`).
    pub fn build_stopped(self) -> SimCluster {
        let sim = self.sim.unwrap_or_else(|| {
            Rc::new(match self.seed {
                Some(s) => Sim::builder().seed(s).build(),
                None => Sim::new(),
            })
        });
        let zk = MemZk::new(sim.clock().clone());
        let n = CLUSTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let work_root = self
            .work_root
            .unwrap_or_else(|| scratch_dir().join(format!("rmesos-sim-{:010}-{n:06}", std::process::id())));
        let factory: ExecutorFactory =
            self.executors.unwrap_or_else(|| Box::new(|_, _| Box::new(TaskExecutor::default())));
        SimCluster {
            masters: (0..self.masters).map(|i| Slot::new(format!("10.0.0.{}:5050", i + 1), &zk)).collect(),
            slaves: (0..self.slaves).map(|i| Slot::new(format!("10.0.1.{}:5051", i + 1), &zk)).collect(),
            zookeeper: self.zookeeper.unwrap_or(self.masters > 1),
            slave_total: Resources::parse(&self.slave_resources).expect("valid slave resources"),
            master_hook: self.master_hook,
            slave_hook: self.slave_hook,
            factory: Rc::new(std::cell::RefCell::new(factory)),
            next_executor: Rc::new(Cell::new(0)),
            frameworks: 0,
            work_root,
            sim,
            zk,
        }
    }
}

/// One master or slave of the cluster: its address, the running process
/// (None while it is down), its node's ZooKeeper links, how many times it
/// started.
pub struct Slot<P> {
    pub addr: String,
    pub running: Option<P>,
    pub zk: NodeZk,
    pub starts: u32,
}

impl<P> Slot<P> {
    fn new(addr: String, zk: &MemZk) -> Slot<P> {
        Slot { addr, running: None, zk: NodeZk::new(zk), starts: 0 }
    }
}

/// A master's slot.
pub type MasterSlot = Slot<RunningMaster>;
/// A slave's slot.
pub type SlaveSlot = Slot<Slave>;

/// The cluster (see the module doc).
pub struct SimCluster {
    pub sim: Rc<Sim>,
    /// The ZooKeeper ensemble (used when [`SimCluster::has_zookeeper`]).
    pub zk: MemZk,
    pub masters: Vec<MasterSlot>,
    pub slaves: Vec<SlaveSlot>,
    /// Every slave's `--resources`.
    pub slave_total: Resources,
    zookeeper: bool,
    master_hook: Option<MasterHook>,
    slave_hook: Option<SlaveHook>,
    factory: Rc<std::cell::RefCell<ExecutorFactory>>,
    next_executor: Rc<Cell<u32>>,
    /// Frameworks started with [`SimCluster::framework`] so far.
    frameworks: u32,
    work_root: PathBuf,
}

impl Drop for SimCluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work_root);
    }
}

impl SimCluster {
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder {
            sim: None,
            seed: None,
            masters: 1,
            slaves: 1,
            zookeeper: None,
            slave_resources: SLAVE_RESOURCES.to_string(),
            work_root: None,
            master_hook: None,
            slave_hook: None,
            executors: None,
        }
    }

    /// Whether masters elect a leader (and everyone detects it) through ZooKeeper.
    pub fn has_zookeeper(&self) -> bool {
        self.zookeeper
    }

    /// What `--master` a framework or slave is given: the ZooKeeper URL,
    /// or the first master's address.
    pub fn master_url(&self) -> String {
        match self.zookeeper {
            true => ZK.to_string(),
            false => self.masters[0].addr.clone(),
        }
    }

    /// A fresh node at `addr` (a new incarnation if one ran there).
    pub fn fresh_node(&self, addr: &str) -> Node {
        match self.sim.node_at(addr) {
            Some(_) => self.sim.restart(addr),
            None => self.sim.node(addr),
        }
    }

    /// Starts master `i` on a fresh node (it must be down).
    pub fn start_master(&mut self, i: usize) {
        let zookeeper = self.zookeeper;
        let slot = &mut self.masters[i];
        slot.starts += 1;
        let node = match self.sim.node_at(&slot.addr) {
            Some(_) => self.sim.restart(&slot.addr),
            None => self.sim.node(&slot.addr),
        };
        let mut opts = MasterOptions {
            hostname: format!("m{}", i + 1),
            master_id: Some(format!("m{}-{}", i + 1, slot.starts)),
            ..MasterOptions::default()
        };
        if let Some(hook) = &self.master_hook {
            hook(i, &mut opts);
        }
        if zookeeper {
            opts.ha = Some(HaConfig {
                backend: Arc::new(slot.zk.clone()),
                url: ZK.parse().expect("valid zk url"),
                session_timeout: SESSION_TIMEOUT,
            });
        }
        slot.running = Some(rmesos_master::spawn(&node, opts).expect("master starts"));
    }

    /// Starts slave `i` on a fresh node with a fresh work directory (it must be down).
    pub fn start_slave(&mut self, i: usize) {
        let addr = self.slaves[i].addr.clone();
        let node = self.fresh_node(&addr);
        let spec = MasterSpec::parse(&self.master_url()).expect("valid --master");
        let slot = &mut self.slaves[i];
        slot.starts += 1;
        let work_dir = self.work_root.join(format!("slave{}-{}", i + 1, slot.starts));
        let mut flags = Flags::local(spec, work_dir, Some(self.slave_total.clone()));
        flags.hostname = Some(format!("s{}", i + 1));
        if let Some(hook) = &self.slave_hook {
            hook(i, &mut flags);
        }
        let (sim, next, here) = (Rc::downgrade(&self.sim), self.next_executor.clone(), Rc::new(Cell::new(None)));
        let (factory, there) = (self.factory.clone(), here.clone());
        let containerizer = InProcess::new(
            move |_launch| {
                let n = next.replace(next.get() + 1);
                let addr: SocketAddr = format!("10.1.{}.{}:5053", n / 250, n % 250 + 1).parse().expect("valid address");
                here.set(Some(addr));
                sim.upgrade().expect("the simulation outlives its slaves").node(&addr)
            },
            move |launch| {
                let addr = there.take().expect("the node is made first");
                (factory.borrow_mut())(launch, addr)
            },
        );
        let seed = self.sim.seed() ^ u64::from(slot.starts) << 32 ^ i as u64;
        let zookeeper: Option<Arc<dyn libprocess::zookeeper::Backend>> = match self.zookeeper {
            true => Some(Arc::new(slot.zk.clone())),
            false => None,
        };
        let opts = SlaveOptions { flags, containerizer: Some(Box::new(containerizer)), seed, zookeeper };
        slot.running = Some(rmesos_slave::spawn(&node, opts).expect("slave starts"));
    }

    /// A scheduler driver (not started) for `scheduler` on `node`, detecting
    /// the leader through `zk` when the cluster has ZooKeeper.
    pub fn driver<S: Scheduler>(
        &self,
        node: Node,
        zk: &NodeZk,
        scheduler: S,
        info: FrameworkInfo,
        seed: u64,
    ) -> SchedulerDriver {
        let driver = SchedulerDriver::new(scheduler, info, self.master_url()).expect("valid framework");
        let driver = match self.zookeeper {
            true => driver.zookeeper_backend(Arc::new(zk.clone())),
            false => driver,
        };
        driver.with_node(node).seed(seed)
    }

    /// Starts `scheduler` as a framework on a node of its own (10.0.2.n),
    /// on the real scheduler driver; every callback is recorded (see
    /// [`Framework`]) and passed on to `scheduler`.
    pub async fn framework<S: Scheduler>(&mut self, scheduler: S, info: FrameworkInfo) -> Framework {
        self.frameworks += 1;
        let addr = format!("10.0.2.{}:5052", self.frameworks);
        let zk = NodeZk::new(&self.zk);
        let (recording, events) = RecordingScheduler::new(scheduler);
        let node = self.fresh_node(&addr);
        let seed = self.sim.seed() ^ u64::from(self.frameworks);
        let mut driver = self.driver(node, &zk, recording, info, seed);
        driver.start().await.expect("the driver starts");
        Framework::new(addr, driver, events, zk)
    }
}

/// Where slaves' work directories go: tmpfs when there is one (the slave
/// syncs its checkpoint to disk; a simulation need not wait for a disk).
pub fn scratch_dir() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}
