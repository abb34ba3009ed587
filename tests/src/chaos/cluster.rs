//! The chaos run's cluster, on one [`Sim`]: three masters electing a leader
//! through the in-memory ZooKeeper (`rmesos_master::spawn` with `MasterOptions::ha`), five real
//! slaves following the leader through it (`rmesos_slave::spawn` with `SlaveOptions`,
//! in-process [`ChaosExecutor`]s on nodes of their own), and the real
//! scheduler driver (`zk://`) running the redispatch framework.
//!
//! Addresses: masters 10.0.0.1-3:5050, slaves 10.0.1.1-5:5051, the
//! scheduler 10.0.2.1:5052, executors 10.1.x.y:5053 (one node per run,
//! never reused).
//!
//! A supervisor: a master or slave whose process ended by itself (a master
//! that lost leadership ends, as Mesos's does; a slave the master told to
//! shut down) is restarted after [`RESTART_DELAY`], as a process manager
//! would. A restarted slave starts with a fresh work directory.

use rmesos_slave::SlaveOptions;
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use libprocess::testkit::Sim;
use libprocess::zookeeper::MemZk;
use libprocess::{Node, Time};
use rmesos::scheduler::SchedulerDriver;
use rmesos::{FrameworkInfo, MasterSpec, Resources};
use rmesos_examples::redispatch::{parse_task_list, Outcome, Redispatch, RedispatchScheduler, TaskStore};
use rmesos_master::{HaConfig, MasterOptions, RunningMaster};
use rmesos_slave::containerizer::InProcess;

use super::executor::{ChaosExecutor, Shared};
use super::framework::{Log, MemStore, Recorder};
use super::zk::NodeZk;

/// The ZooKeeper URL every component uses (the in-memory ensemble).
pub const ZK: &str = "zk://10.0.9.1:2181/rmesos";
pub const MASTERS: [&str; 3] = ["10.0.0.1:5050", "10.0.0.2:5050", "10.0.0.3:5050"];
pub const SLAVES: [&str; 5] = ["10.0.1.1:5051", "10.0.1.2:5051", "10.0.1.3:5051", "10.0.1.4:5051", "10.0.1.5:5051"];
pub const SCHEDULER: &str = "10.0.2.1:5052";
pub const SLAVE_RESOURCES: &str = "cpus:4;mem:2048;disk:4096;ports:[31000-32000]";
pub const TASK_RESOURCES: &str = "cpus:1;mem:256";
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a crashed process stays down before its supervisor restarts it.
pub const RESTART_DELAY: Duration = Duration::from_secs(1);
/// How long the master keeps the tasks of a disconnected framework
/// (redispatch's default `--failover_timeout`).
pub const FAILOVER_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs started in this process (names their work directories).
static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// One supervised process slot (a master or a slave).
pub struct Slot<P> {
    pub addr: &'static str,
    pub running: Option<P>,
    pub zk: NodeZk,
    /// Starts so far (names the master id / work directory).
    pub starts: u32,
    /// Down on purpose (a fault) until then; else restarted when found dead.
    pub restart_at: Option<Time>,
}

impl<P> Slot<P> {
    fn new(addr: &'static str, zk: &MemZk) -> Slot<P> {
        Slot { addr, running: None, zk: NodeZk::new(zk), starts: 0, restart_at: None }
    }
}

pub struct Cluster {
    pub sim: Rc<Sim>,
    pub zk: MemZk,
    pub masters: Vec<Slot<RunningMaster>>,
    pub slaves: Vec<Slot<rmesos_slave::Slave>>,
    pub scheduler_zk: NodeZk,
    pub shared: Rc<Shared>,
    pub store: MemStore,
    pub log: Rc<RefCell<Log>>,
    pub outcome: Arc<std::sync::Mutex<Outcome>>,
    pub slave_total: Resources,
    driver: Option<SchedulerDriver>,
    tasks: usize,
    /// Runs of the framework so far (it is rerun after a framework error).
    pub framework_runs: u32,
    /// (Re)registrations seen when the current run started.
    registrations_at_start: u64,
    framework_restart_at: Option<Time>,
    next_executor: Rc<Cell<u32>>,
    work_root: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work_root);
    }
}

impl Cluster {
    /// The cluster with nothing started yet; `times` draws task run times.
    pub fn new(sim: Rc<Sim>, times: rand_chacha::ChaCha8Rng) -> Cluster {
        let zk = MemZk::new(sim.clock().clone());
        // Unique per run, and always as long: paths travel in messages, whose
        // lengths are in the trace.
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let work_root = scratch_dir().join(format!("rmesos-chaos-{:010}-{run:06}", std::process::id()));
        Cluster {
            masters: MASTERS.iter().map(|a| Slot::new(a, &zk)).collect(),
            slaves: SLAVES.iter().map(|a| Slot::new(a, &zk)).collect(),
            scheduler_zk: NodeZk::new(&zk),
            shared: Shared::new(times),
            store: MemStore::default(),
            log: Rc::default(),
            outcome: Arc::default(),
            slave_total: Resources::parse(SLAVE_RESOURCES).expect("valid resources"),
            driver: None,
            tasks: 0,
            framework_runs: 0,
            registrations_at_start: 0,
            framework_restart_at: None,
            next_executor: Rc::new(Cell::new(0)),
            work_root,
            sim,
            zk,
        }
    }

    /// A fresh node at `addr` (a new incarnation if one ran there).
    fn fresh_node(&self, addr: &str) -> Node {
        match self.sim.node_at(addr) {
            Some(_) => self.sim.restart(addr),
            None => self.sim.node(addr),
        }
    }

    pub fn start_master(&mut self, i: usize) {
        let slot = &mut self.masters[i];
        slot.starts += 1;
        slot.restart_at = None;
        let node = match self.sim.node_at(slot.addr) {
            Some(_) => self.sim.restart(slot.addr),
            None => self.sim.node(slot.addr),
        };
        let opts = MasterOptions {
            hostname: format!("m{}", i + 1),
            master_id: Some(format!("m{}-{}", i + 1, slot.starts)),
            ..MasterOptions::default()
        };
        let ha = HaConfig {
            backend: Arc::new(slot.zk.clone()),
            url: ZK.parse().expect("valid zk url"),
            session_timeout: SESSION_TIMEOUT,
        };
        slot.running = Some(
            rmesos_master::spawn(&node, rmesos_master::MasterOptions { ha: Some(ha), ..opts }).expect("master starts"),
        );
        self.sim.note(format!("chaos: master {} started (m{}-{})", slot.addr, i + 1, slot.starts));
    }

    pub fn start_slave(&mut self, i: usize) {
        let node = self.fresh_node(SLAVES[i]);
        let slot = &mut self.slaves[i];
        slot.starts += 1;
        slot.restart_at = None;
        let work_dir = self.work_root.join(format!("slave{}-{}", i + 1, slot.starts));
        let spec = MasterSpec::parse(ZK).expect("valid --master");
        let mut flags = rmesos_slave::Flags::local(spec, work_dir, Some(self.slave_total.clone()));
        flags.hostname = Some(format!("s{}", i + 1));
        let (sim, next, shared) = (Rc::downgrade(&self.sim), self.next_executor.clone(), self.shared.clone());
        let shared2 = self.shared.clone();
        let containerizer = InProcess::new(
            move |_launch| {
                let n = next.replace(next.get() + 1);
                let addr = format!("10.1.{}.{}:5053", n / 250, n % 250 + 1);
                shared.ledger.borrow_mut().add_node(addr.parse().expect("valid address"));
                sim.upgrade().expect("the simulation outlives its slaves").node(addr.as_str())
            },
            move |_launch| ChaosExecutor::new(shared2.clone()),
        );
        let seed = self.sim.seed() ^ u64::from(slot.starts) << 32 ^ i as u64;
        let backend = Arc::new(slot.zk.clone());
        let slave = rmesos_slave::spawn(
            &node,
            SlaveOptions { flags, containerizer: Some(Box::new(containerizer)), seed, zookeeper: Some(backend) },
        )
        .expect("slave starts");
        slot.running = Some(slave);
        self.sim.note(format!("chaos: slave {} started ({})", slot.addr, slot.starts));
    }

    /// Starts the redispatch framework with `tasks` tasks, from what its
    /// store holds (as `redispatch` run again resumes: the stored framework
    /// id fails over to the running framework).
    pub async fn start_scheduler(&mut self, tasks: usize) {
        self.tasks = tasks;
        self.framework_runs += 1;
        self.framework_restart_at = None;
        self.registrations_at_start = self.registrations();
        let list = parse_task_list(&(1..=tasks).map(|i| format!("work {i}\n")).collect::<String>())
            .expect("a valid task list");
        let resources = Resources::parse(TASK_RESOURCES).expect("valid resources");
        let mut store = self.store.clone();
        let (stored, framework_id) = store.load().expect("in-memory store");
        let (core, added) = Redispatch::new(list, stored, resources);
        for key in &added {
            let record = core.record(key).expect("just added");
            store.save(record).expect("in-memory store");
        }
        let inner = RedispatchScheduler::new(core, Box::new(store), framework_id.clone()).quiet();
        self.outcome = inner.outcome();
        let mut info = FrameworkInfo::new("chaos", "redispatch");
        info.failover_timeout = FAILOVER_TIMEOUT.as_secs_f64();
        info.id = framework_id;
        self.scheduler_zk.crash();
        let node = self.fresh_node(SCHEDULER);
        let mut driver = SchedulerDriver::new(Recorder::new(inner, self.log.clone()), info, ZK)
            .expect("valid framework")
            .zookeeper_backend(Arc::new(self.scheduler_zk.clone()))
            .with_node(node)
            .seed(self.sim.seed() ^ u64::from(self.framework_runs));
        driver.start().await.expect("the driver starts");
        self.driver = Some(driver);
        self.sim.note(format!("chaos: framework run {} started", self.framework_runs));
    }

    /// The framework's supervisor: redispatch ended with a framework error
    /// (its driver aborted, e.g. "Framework disconnected" after a
    /// partition) is run again after [`RESTART_DELAY`], as an operator or
    /// a process manager reruns it; like the `redispatch` binary, a run
    /// that was refused before it ever registered drops the stored
    /// framework id and registers anew. Returns whether it restarted it.
    pub async fn supervise_framework(&mut self, now: Time) -> bool {
        if self.framework_restart_at.is_none() {
            if let Outcome::FrameworkError(e) = self.outcome() {
                self.sim.note(format!("chaos: framework run {} ended: {e}", self.framework_runs));
                self.framework_restart_at = Some(now + RESTART_DELAY);
            }
        }
        if self.framework_restart_at.is_none_or(|t| t > now) {
            return false;
        }
        if let Some(d) = self.driver.take() {
            d.stop(true);
        }
        let refused =
            matches!(self.outcome(), Outcome::FrameworkError(_)) && self.registrations() == self.registrations_at_start;
        if refused {
            let mut store = self.store.clone();
            store.save_framework_id(None).expect("in-memory store");
        }
        self.start_scheduler(self.tasks).await;
        true
    }

    /// (Re)registrations the scheduler was told of so far.
    fn registrations(&self) -> u64 {
        let log = self.log.borrow();
        log.registered + log.reregistered
    }

    pub fn outcome(&self) -> Outcome {
        self.outcome.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Crashes master `i` (its ZooKeeper links go with it); restarted at `until`.
    pub fn kill_master(&mut self, i: usize, until: Time) {
        let slot = &mut self.masters[i];
        slot.zk.crash();
        self.sim.kill(slot.addr);
        slot.running = None;
        slot.restart_at = Some(until);
    }

    /// Crashes slave `i` (its executors live on, as processes would);
    /// restarted at `until`.
    pub fn kill_slave(&mut self, i: usize, until: Time) {
        let slot = &mut self.slaves[i];
        slot.zk.crash();
        self.sim.kill(slot.addr);
        slot.running = None;
        slot.restart_at = Some(until);
    }

    /// Crashes the scheduler (redispatch); run again at `until` (with its
    /// stored framework id: a failover). False if it is already down.
    pub fn kill_scheduler(&mut self, until: Time) -> bool {
        if self.framework_restart_at.is_some() || self.driver.is_none() {
            return false;
        }
        self.scheduler_zk.crash();
        self.sim.kill(SCHEDULER);
        self.driver = None;
        self.framework_restart_at = Some(until);
        true
    }

    /// The supervisor: restarts what is due, and schedules a restart for
    /// what ended by itself. Returns how many processes it restarted.
    pub fn supervise(&mut self, now: Time) -> u32 {
        let mut restarted = 0;
        for i in 0..self.masters.len() {
            let slot = &mut self.masters[i];
            if slot.running.as_ref().is_some_and(|m| !m.addr.connected()) {
                slot.running = None;
                slot.restart_at = Some(now + RESTART_DELAY);
            }
            if slot.running.is_none() && slot.restart_at.is_some_and(|t| t <= now) {
                self.start_master(i);
                restarted += 1;
            }
        }
        for i in 0..self.slaves.len() {
            let slot = &mut self.slaves[i];
            if slot.running.as_ref().is_some_and(|s| s.join().now_or_never().is_some()) {
                slot.running = None;
                slot.restart_at = Some(now + RESTART_DELAY);
            }
            if slot.running.is_none() && slot.restart_at.is_some_and(|t| t <= now) {
                self.start_slave(i);
                restarted += 1;
            }
        }
        restarted
    }

    /// The next instant the supervisor has something to do.
    pub fn next_restart(&self) -> Option<Time> {
        let m = self.masters.iter().filter(|s| s.running.is_none()).filter_map(|s| s.restart_at);
        let s = self.slaves.iter().filter(|s| s.running.is_none()).filter_map(|s| s.restart_at);
        m.chain(s).chain(self.framework_restart_at).min()
    }

    /// Stops the framework's driver (the run is over).
    pub fn stop_driver(&mut self) {
        if let Some(d) = self.driver.take() {
            d.stop(false);
        }
    }
}

/// Where slaves' work directories go: tmpfs when there is one (the slave
/// syncs its checkpoint to disk; a simulation need not wait for a disk).
fn scratch_dir() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}
