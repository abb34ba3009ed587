//! The chaos run's cluster: the test kit's [`SimCluster`] on the run's
//! [`Sim`] (three masters electing a leader through the in-memory
//! ZooKeeper, five real slaves following it, in-process [`ChaosExecutor`]s
//! on nodes of their own), and the real scheduler driver (`zk://`) running
//! the redispatch framework.
//!
//! Addresses (the kit's): masters 10.0.0.1-3:5050, slaves 10.0.1.1-5:5051,
//! the scheduler 10.0.2.1:5052, executors 10.1.x.y:5053 (one node per run,
//! never reused).
//!
//! A supervisor: a master or slave whose process ended by itself (a master
//! that lost leadership ends, as Mesos's does; a slave the master told to
//! shut down) is restarted after [`RESTART_DELAY`], as a process manager
//! would. A restarted slave starts with a fresh work directory.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use libprocess::testkit::Sim;
use libprocess::Time;
use rmesos::scheduler::SchedulerDriver;
use rmesos::{FrameworkInfo, Resources};
use rmesos_examples::redispatch::{parse_task_list, Outcome, Redispatch, RedispatchScheduler, TaskStore};
use rmesos_testkit::cluster::scratch_dir;
use rmesos_testkit::{NodeZk, SimCluster};

use super::executor::{ChaosExecutor, Shared};
use super::framework::{Log, MemStore, Recorder};

pub const MASTERS: [&str; 3] = ["10.0.0.1:5050", "10.0.0.2:5050", "10.0.0.3:5050"];
pub const SLAVES: [&str; 5] = ["10.0.1.1:5051", "10.0.1.2:5051", "10.0.1.3:5051", "10.0.1.4:5051", "10.0.1.5:5051"];
pub const SCHEDULER: &str = "10.0.2.1:5052";
pub const SLAVE_RESOURCES: &str = "cpus:4;mem:2048;disk:4096;ports:[31000-32000]";
pub const TASK_RESOURCES: &str = "cpus:1;mem:256";
/// How long a crashed process stays down before its supervisor restarts it.
pub const RESTART_DELAY: Duration = Duration::from_secs(1);
/// How long the master keeps the tasks of a disconnected framework
/// (redispatch's default `--failover_timeout`).
pub const FAILOVER_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs started in this process (names their work directories).
static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The cluster (its masters, slaves and ZooKeeper: `world`, which it
/// dereferences to), the framework, and the supervisor's schedule.
pub struct Cluster {
    pub world: SimCluster,
    /// Down on purpose (a fault) until then, per master; else restarted when found dead.
    master_restart_at: Vec<Option<Time>>,
    /// As `master_restart_at`, per slave.
    slave_restart_at: Vec<Option<Time>>,
    pub scheduler_zk: NodeZk,
    pub shared: Rc<Shared>,
    pub store: MemStore,
    pub log: Rc<RefCell<Log>>,
    pub outcome: Arc<std::sync::Mutex<Outcome>>,
    driver: Option<SchedulerDriver>,
    tasks: usize,
    /// Runs of the framework so far (it is rerun after a framework error).
    pub framework_runs: u32,
    /// (Re)registrations seen when the current run started.
    registrations_at_start: u64,
    framework_restart_at: Option<Time>,
}

impl Deref for Cluster {
    type Target = SimCluster;
    fn deref(&self) -> &SimCluster {
        &self.world
    }
}

impl DerefMut for Cluster {
    fn deref_mut(&mut self) -> &mut SimCluster {
        &mut self.world
    }
}

impl Cluster {
    /// The cluster with nothing started yet; `times` draws task run times.
    pub fn new(sim: Rc<Sim>, times: rand_chacha::ChaCha8Rng) -> Cluster {
        // Unique per run, and always as long: paths travel in messages, whose
        // lengths are in the trace.
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let work_root = scratch_dir().join(format!("rmesos-chaos-{:010}-{run:06}", std::process::id()));
        let shared = Shared::new(times);
        let for_executors = shared.clone();
        let world = SimCluster::builder()
            .sim(sim)
            .masters(MASTERS.len())
            .slaves(SLAVES.len())
            .slave_resources(SLAVE_RESOURCES)
            .work_root(work_root)
            .executors(move |_launch, addr| {
                for_executors.ledger.borrow_mut().add_node(addr);
                Box::new(ChaosExecutor::new(for_executors.clone()))
            })
            .build_stopped();
        debug_assert!(world.masters.iter().map(|m| m.addr.as_str()).eq(MASTERS));
        debug_assert!(world.slaves.iter().map(|s| s.addr.as_str()).eq(SLAVES));
        Cluster {
            master_restart_at: vec![None; MASTERS.len()],
            slave_restart_at: vec![None; SLAVES.len()],
            scheduler_zk: NodeZk::new(&world.zk),
            shared,
            store: MemStore::default(),
            log: Rc::default(),
            outcome: Arc::default(),
            driver: None,
            tasks: 0,
            framework_runs: 0,
            registrations_at_start: 0,
            framework_restart_at: None,
            world,
        }
    }

    pub fn start_master(&mut self, i: usize) {
        self.master_restart_at[i] = None;
        self.world.start_master(i);
        let slot = &self.world.masters[i];
        self.world.sim.note(format!("chaos: master {} started (m{}-{})", slot.addr, i + 1, slot.starts));
    }

    pub fn start_slave(&mut self, i: usize) {
        self.slave_restart_at[i] = None;
        self.world.start_slave(i);
        let slot = &self.world.slaves[i];
        self.world.sim.note(format!("chaos: slave {} started ({})", slot.addr, slot.starts));
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
        let seed = self.sim.seed() ^ u64::from(self.framework_runs);
        let recorder = Recorder::new(inner, self.log.clone());
        let mut driver = self.world.driver(node, &self.scheduler_zk, recorder, info, seed);
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
        self.world.crash_master(i);
        self.master_restart_at[i] = Some(until);
    }

    /// Crashes slave `i` (its executors live on, as processes would);
    /// restarted at `until`.
    pub fn kill_slave(&mut self, i: usize, until: Time) {
        self.world.crash_slave(i);
        self.slave_restart_at[i] = Some(until);
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
        for i in 0..self.world.masters.len() {
            let slot = &mut self.world.masters[i];
            if slot.running.as_ref().is_some_and(|m| !m.addr.connected()) {
                slot.running = None;
                self.master_restart_at[i] = Some(now + RESTART_DELAY);
            }
            if slot.running.is_none() && self.master_restart_at[i].is_some_and(|t| t <= now) {
                self.start_master(i);
                restarted += 1;
            }
        }
        for i in 0..self.world.slaves.len() {
            let slot = &mut self.world.slaves[i];
            if slot.running.as_ref().is_some_and(|s| s.join().now_or_never().is_some()) {
                slot.running = None;
                self.slave_restart_at[i] = Some(now + RESTART_DELAY);
            }
            if slot.running.is_none() && self.slave_restart_at[i].is_some_and(|t| t <= now) {
                self.start_slave(i);
                restarted += 1;
            }
        }
        restarted
    }

    /// The next instant the supervisor has something to do.
    pub fn next_restart(&self) -> Option<Time> {
        let down = |running: bool, at: &Option<Time>| if running { None } else { *at };
        let m =
            self.world.masters.iter().zip(&self.master_restart_at).filter_map(|(s, t)| down(s.running.is_some(), t));
        let s = self.world.slaves.iter().zip(&self.slave_restart_at).filter_map(|(s, t)| down(s.running.is_some(), t));
        m.chain(s).chain(self.framework_restart_at).min()
    }

    /// Stops the framework's driver (the run is over).
    pub fn stop_driver(&mut self) {
        if let Some(d) = self.driver.take() {
            d.stop(false);
        }
    }
}
