//! Slave recovery in one deterministic simulation: the real master
//! (10.0.0.1), the real slave (10.0.0.2) and the real scheduler driver
//! (10.0.0.3) on simulated nodes; executors are in-process executors on
//! nodes of their own (10.0.1.x), so they outlive the slave's node. The
//! slave's node is killed and restarted (same `--work_dir`, a new
//! incarnation) and a new slave is started on it with the executors of the
//! previous one reachable (`InProcessRuns`), as a restarted `rmesos-slave`
//! finds its executor processes still running.
//!
//! - `--recover=reconnect`: the executor reregisters, the slave reregisters
//!   with the same SlaveID, the task keeps running and later finishes;
//!   FINISHED reaches the scheduler once and nothing is ever TASK_LOST.
//! - `--recover=cleanup`: the executor is killed, its task reported
//!   TASK_LOST, and the slave comes back under a new SlaveID.
//! - An executor that does not answer the reconnect within
//!   `--executor_reregistration_timeout` is killed and its task is lost.
//! - An update the executor sends while its slave is down is kept and
//!   reaches the scheduler once after recovery.

use rmesos_slave::SlaveOptions;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use libprocess::testkit::{self, any, Sim};
use rmesos::executor::{Executor, ExecutorDriver};
use rmesos::messages::{ReconnectExecutorMessage, ReregisterExecutorMessage, ReregisterSlaveMessage};
use rmesos::scheduler::{DriverHandle, SchedulerDriver};
use rmesos::{
    CommandInfo, ExecutorID, ExecutorInfo, Filters, FrameworkInfo, MasterSpec, Offer, Reason, Resources, TaskID,
    TaskInfo, TaskState, TaskStatus,
};
use rmesos_master::MasterOptions;
use rmesos_slave::containerizer::{InProcess, InProcessRuns};
use rmesos_slave::flags::RecoverMode;
use rmesos_testkit::{RecordingScheduler, SchedulerEvent as Ev};
use tokio::sync::mpsc;

const MASTER: &str = "10.0.0.1:5050";
const SLAVE: &str = "10.0.0.2:5051";
const SCHEDULER: &str = "10.0.0.3:5052";
const SLAVE_RESOURCES: &str = "cpus:2;mem:1024;disk:1024";
const TASK_RESOURCES: &str = "cpus:1;mem:128";

/// Runs every task (RUNNING) until the test finishes it through the
/// driver it left in `drivers`; tells the test when it is gone.
struct GatedExecutor {
    drivers: Rc<RefCell<HashMap<String, ExecutorDriver>>>,
    gone: mpsc::UnboundedSender<ExecutorID>,
    id: ExecutorID,
}

impl Drop for GatedExecutor {
    fn drop(&mut self) {
        let _ = self.gone.send(self.id.clone());
    }
}

impl Executor for GatedExecutor {
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let _ = driver.send_status_update(TaskStatus::new(task.task_id.clone(), TaskState::Running));
        self.drivers.borrow_mut().insert(task.task_id.to_string(), driver.clone());
    }
}

struct World {
    sim: Rc<Sim>,
    driver: DriverHandle,
    events: mpsc::UnboundedReceiver<Ev>,
    gone: mpsc::UnboundedReceiver<ExecutorID>,
    drivers: Rc<RefCell<HashMap<String, ExecutorDriver>>>,
    /// Executor runs alive, shared by every incarnation of the slave.
    runs: InProcessRuns,
    next_node: Rc<Cell<u32>>,
    gone_tx: mpsc::UnboundedSender<ExecutorID>,
    work_dir: std::path::PathBuf,
    /// Every status the scheduler got.
    statuses: Vec<TaskStatus>,
    _scheduler: SchedulerDriver,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work_dir);
    }
}

async fn world() -> World {
    let sim = Rc::new(Sim::new());
    let seed = sim.seed();
    let opts =
        MasterOptions { hostname: "master".into(), master_id: Some(format!("sim-{seed}")), ..MasterOptions::default() };
    rmesos_master::spawn(&sim.node(MASTER), opts).unwrap();
    let work_dir = std::env::temp_dir().join(format!("rmesos-sim-recovery-{}", uuid::Uuid::new_v4()));
    let (gone_tx, gone) = mpsc::unbounded_channel();
    let (probe, events) = RecordingScheduler::bare();
    let mut info = FrameworkInfo::new("tester", "sim");
    info.checkpoint = true;
    info.failover_timeout = 3600.0;
    let mut scheduler = SchedulerDriver::new(probe, info, MASTER).unwrap().with_node(sim.node(SCHEDULER)).seed(seed);
    scheduler.start().await.unwrap();
    let mut w = World {
        driver: scheduler.handle(),
        sim,
        events,
        gone,
        drivers: Rc::default(),
        runs: InProcessRuns::default(),
        next_node: Rc::new(Cell::new(1)),
        gone_tx,
        work_dir,
        statuses: Vec::new(),
        _scheduler: scheduler,
    };
    w.start_slave(RecoverMode::Reconnect);
    match w.next().await {
        Ev::Registered(..) => {}
        other => panic!("expected registration, got {other:?}"),
    }
    w
}

impl World {
    /// Starts a slave on the node at SLAVE (which must run) with `--recover=mode`.
    fn start_slave(&self, mode: RecoverMode) {
        self.start_slave_at(SLAVE, mode);
    }

    /// Starts a slave on the node at `addr` (made if needed) with `--recover=mode`.
    fn start_slave_at(&self, addr: &str, mode: RecoverMode) {
        let node = self.sim.node_at(addr).unwrap_or_else(|| self.sim.node(addr));
        let spec = MasterSpec::Standalone { host: "10.0.0.1".into(), port: 5050 };
        let mut flags =
            rmesos_slave::Flags::local(spec, self.work_dir.clone(), Some(Resources::parse(SLAVE_RESOURCES).unwrap()));
        flags.hostname = Some("slave".into());
        flags.recover = match mode {
            RecoverMode::Reconnect => "reconnect".into(),
            RecoverMode::Cleanup => "cleanup".into(),
        };
        let (next, world) = (self.next_node.clone(), Rc::downgrade(&self.sim));
        let (drivers, gone) = (self.drivers.clone(), self.gone_tx.clone());
        let containerizer = InProcess::new(
            move |_launch| {
                let n = next.replace(next.get() + 1);
                world.upgrade().expect("the simulation outlives its slave").node(format!("10.0.1.{n}:5053").as_str())
            },
            move |launch| GatedExecutor {
                drivers: drivers.clone(),
                gone: gone.clone(),
                id: launch.executor_id.clone(),
            },
        )
        .with_runs(self.runs.clone());
        rmesos_slave::spawn(
            &node,
            SlaveOptions {
                containerizer: Some(Box::new(containerizer)),
                seed: self.sim.seed(),
                ..SlaveOptions::new(flags)
            },
        )
        .unwrap();
    }

    /// Kills the slave's node (a SIGKILL: nothing is sent) and starts a new
    /// node there with a slave recovering with `mode`.
    fn restart_slave(&self, mode: RecoverMode) {
        self.sim.restart(SLAVE);
        self.start_slave(mode);
    }

    async fn next(&mut self) -> Ev {
        let ev = self.sim.run_until(self.events.recv()).await.expect("the scheduler is alive");
        if let Ev::StatusUpdate(s) = &ev {
            self.statuses.push(s.clone());
        }
        ev
    }

    async fn status(&mut self) -> TaskStatus {
        loop {
            if let Ev::StatusUpdate(s) = self.next().await {
                return s;
            }
        }
    }

    /// The next terminal status (a RUNNING not yet acknowledged when the
    /// slave died is resent after its recovery: at least once).
    async fn terminal(&mut self) -> TaskStatus {
        loop {
            let s = self.status().await;
            if s.state.is_terminal() {
                return s;
            }
        }
    }

    async fn offer(&mut self) -> Offer {
        loop {
            if let Ev::ResourceOffers(mut o) = self.next().await {
                return o.remove(0);
            }
        }
    }

    /// Launches `id` on the next offer and waits until it runs.
    async fn running(&mut self, id: &str) -> Offer {
        let offer = self.offer().await;
        let executor = ExecutorInfo::new(ExecutorID::new(id).unwrap(), CommandInfo::shell("in-process"));
        let task = TaskInfo::with_executor(
            id,
            TaskID::new(id).unwrap(),
            offer.slave_id.clone(),
            Resources::parse(TASK_RESOURCES).unwrap(),
            executor,
        );
        self.driver.launch_tasks(vec![offer.id.clone()], vec![task], Filters::default());
        let s = self.status().await;
        assert_eq!((s.task_id.as_str(), s.state), (id, TaskState::Running), "{s:?}");
        offer
    }

    /// Every status received so far, and those delivered by running the
    /// world for `d` more.
    async fn drain_for(&mut self, d: Duration) {
        self.sim.advance(d).await;
        while let Ok(ev) = self.events.try_recv() {
            if let Ev::StatusUpdate(s) = ev {
                self.statuses.push(s);
            }
        }
    }

    fn count(&self, id: &str, state: TaskState) -> usize {
        self.statuses.iter().filter(|s| s.task_id.as_str() == id && s.state == state).count()
    }
}

#[actix_rt::test]
async fn reconnect_keeps_the_task_running_and_it_finishes_once() {
    let mut w = world().await;
    let offer = w.running("t1").await;
    let master = w.sim.node_at(MASTER).unwrap();
    let reregistered = testkit::future_message::<ReregisterSlaveMessage>(&master, any(), any());

    w.restart_slave(RecoverMode::Reconnect);
    let m = w.sim.run_until(reregistered).await;
    assert_eq!(m.slave.id.as_ref(), Some(&offer.slave_id), "the same SlaveID");
    assert!(m.tasks.iter().any(|t| t.task_id.as_str() == "t1" && t.state == TaskState::Running), "{:?}", m.tasks);
    // The master still knows the task as running (reconciliation says so).
    w.driver.reconcile_tasks(vec![]);
    let s = w.status().await;
    assert_eq!((s.task_id.as_str(), s.state, s.reason), ("t1", TaskState::Running, Some(Reason::Reconciliation)));

    // The executor lives on and finishes its task through the new slave.
    let driver = w.drivers.borrow()["t1"].clone();
    driver.send_status_update(TaskStatus::new(TaskID::new("t1").unwrap(), TaskState::Finished)).unwrap();
    loop {
        let s = w.status().await;
        if s.state == TaskState::Finished {
            break;
        }
    }
    w.drain_for(Duration::from_secs(120)).await;
    assert_eq!(w.count("t1", TaskState::Finished), 1, "{:?}", w.statuses);
    assert_eq!(w.count("t1", TaskState::Lost), 0, "{:?}", w.statuses);
    assert!(w.gone.try_recv().is_err(), "the executor was never killed");
}

/// The slave comes back on another port (same work dir, so the same
/// SlaveID from its checkpoint): its executor accepts the reconnect (it
/// knows its slave by id, as Mesos's), and the task finishes once.
#[actix_rt::test]
async fn reconnect_from_another_port_is_accepted_and_the_task_finishes_once() {
    let mut w = world().await;
    let offer = w.running("t1").await;
    let master = w.sim.node_at(MASTER).unwrap();
    let reregistered = testkit::future_message::<ReregisterSlaveMessage>(&master, any(), any());
    w.sim.kill(SLAVE);
    w.start_slave_at("10.0.0.2:5061", RecoverMode::Reconnect);
    let m = w.sim.run_until(reregistered).await;
    assert_eq!(m.slave.id.as_ref(), Some(&offer.slave_id), "the same SlaveID");
    assert!(m.tasks.iter().any(|t| t.task_id.as_str() == "t1" && t.state == TaskState::Running), "{:?}", m.tasks);
    let driver = w.drivers.borrow()["t1"].clone();
    driver.send_status_update(TaskStatus::new(TaskID::new("t1").unwrap(), TaskState::Finished)).unwrap();
    while w.status().await.state != TaskState::Finished {}
    w.drain_for(Duration::from_secs(120)).await;
    assert_eq!(w.count("t1", TaskState::Finished), 1, "{:?}", w.statuses);
    assert_eq!(w.count("t1", TaskState::Lost), 0, "{:?}", w.statuses);
    assert!(w.gone.try_recv().is_err(), "the executor was never killed");
}

#[actix_rt::test]
async fn cleanup_kills_the_executor_loses_the_task_and_registers_a_new_slave() {
    let mut w = world().await;
    let offer = w.running("t1").await;
    w.restart_slave(RecoverMode::Cleanup);
    let gone = w.sim.run_until(w.gone.recv()).await.unwrap();
    assert_eq!(gone.as_str(), "t1");
    let s = w.terminal().await;
    assert_eq!((s.task_id.as_str(), s.state, s.reason), ("t1", TaskState::Lost, Some(Reason::SlaveRemoved)), "{s:?}");
    // The slave is back under a new id, with all its resources.
    loop {
        let o = w.offer().await;
        if o.slave_id != offer.slave_id {
            assert_eq!(o.resources, offer.resources, "all of the slave's resources");
            break;
        }
    }
}

#[actix_rt::test]
async fn an_executor_that_does_not_reregister_in_time_is_killed_and_its_task_lost() {
    let mut w = world().await;
    let offer = w.running("t1").await;
    let executor_node = w.sim.node_at("10.0.1.1:5053").expect("the executor's node");
    let _deaf = testkit::drop_messages::<ReconnectExecutorMessage>(&executor_node, any(), any());
    w.restart_slave(RecoverMode::Reconnect);
    let restarted_at = w.sim.now();
    let slave = w.sim.node_at(SLAVE).unwrap();
    let _none = testkit::expect_no_message::<ReregisterExecutorMessage>(&slave, any(), any());
    let gone = w.sim.run_until(w.gone.recv()).await.unwrap();
    assert_eq!(gone.as_str(), "t1");
    let waited = w.sim.now().saturating_since(restarted_at);
    assert!(waited >= Duration::from_secs(2), "killed after {waited:?}, before the reregistration timeout");
    let s = w.terminal().await;
    assert_eq!(
        (s.task_id.as_str(), s.state, s.reason),
        ("t1", TaskState::Lost, Some(Reason::ExecutorReregistrationTimeout)),
        "{s:?}"
    );
    assert_eq!(s.slave_id.as_ref(), Some(&offer.slave_id));
}

#[actix_rt::test]
async fn an_update_sent_while_the_slave_is_down_reaches_the_scheduler_once_after_recovery() {
    let mut w = world().await;
    w.running("t1").await;
    w.sim.kill(SLAVE);
    // The executor finishes its task while its slave is down: the driver
    // keeps the update (its slave's link is gone, or the send is lost).
    w.sim.advance(Duration::from_secs(5)).await;
    let driver = w.drivers.borrow()["t1"].clone();
    driver.send_status_update(TaskStatus::new(TaskID::new("t1").unwrap(), TaskState::Finished)).unwrap();
    w.sim.advance(Duration::from_secs(5)).await;
    w.restart_slave(RecoverMode::Reconnect);
    // The executor hands it to the recovered slave, which forwards it.
    let s = w.terminal().await;
    assert_eq!((s.task_id.as_str(), s.state), ("t1", TaskState::Finished), "{s:?}");
    w.drain_for(Duration::from_secs(120)).await;
    assert_eq!(w.count("t1", TaskState::Finished), 1, "{:?}", w.statuses);
    assert_eq!(w.count("t1", TaskState::Lost), 0, "{:?}", w.statuses);
}
