//! The cluster in one deterministic simulation (`libprocess::testkit::Sim`):
//! the real master (10.0.0.1), the real slave (10.0.0.2) and the real
//! scheduler driver (10.0.0.3) on simulated nodes, one paused clock, one
//! seed; executors are in-process [`Executor`]s driven by the real
//! executor driver, one simulated node each (10.0.1.x), launched by the
//! slave through `containerizer::InProcess`. Time moves only by
//! `run_until` / `advance`; no test sleeps.
//!
//! A test's executor does what its task's `data` says: `finish` (RUNNING,
//! then FINISHED), `fail` (RUNNING, then FAILED with a message), `run`
//! (RUNNING, then waits for a kill), `exit` (RUNNING, and once that is
//! acknowledged the executor stops: its process is gone).

use rmesos_slave::SlaveOptions;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use libprocess::testkit::{self, any, Sim};
use rmesos::executor::{Executor, ExecutorDriver};
use rmesos::messages::PongSlaveMessage;
use rmesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
use rmesos::{
    CommandInfo, ExecutorID, ExecutorInfo, Filters, FrameworkID, FrameworkInfo, MasterInfo, MasterSpec, Offer, Reason,
    Resources, SlaveID, TaskID, TaskInfo, TaskState, TaskStatus,
};
use rmesos_master::MasterOptions;
use rmesos_slave::containerizer::InProcess;
use tokio::sync::mpsc;

const MASTER: &str = "10.0.0.1:5050";
const SLAVE: &str = "10.0.0.2:5051";
const SCHEDULER: &str = "10.0.0.3:5052";
const SLAVE_RESOURCES: &str = "cpus:2;mem:1024;disk:1024;ports:[31000-32000]";
const TASK_RESOURCES: &str = "cpus:1;mem:128";
const PING_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_PING_TIMEOUTS: u32 = 5;

/// What the scheduler saw.
#[derive(Debug)]
enum Ev {
    Registered(FrameworkID),
    Offers(Vec<Offer>),
    Status(TaskStatus),
    SlaveLost(SlaveID),
    ExecutorLost(ExecutorID, i32),
    Reregistered,
    Error(String),
}

/// Forwards every callback to the test.
struct Probe(mpsc::UnboundedSender<Ev>);

impl Scheduler for Probe {
    fn registered(&mut self, _: &DriverHandle, id: &FrameworkID, _: &MasterInfo) {
        let _ = self.0.send(Ev::Registered(id.clone()));
    }
    fn resource_offers(&mut self, _: &DriverHandle, offers: Vec<Offer>) {
        let _ = self.0.send(Ev::Offers(offers));
    }
    fn status_update(&mut self, _: &DriverHandle, status: TaskStatus) {
        let _ = self.0.send(Ev::Status(status));
    }
    fn slave_lost(&mut self, _: &DriverHandle, slave_id: &SlaveID) {
        let _ = self.0.send(Ev::SlaveLost(slave_id.clone()));
    }
    fn executor_lost(&mut self, _: &DriverHandle, executor_id: &ExecutorID, _: &SlaveID, status: i32) {
        let _ = self.0.send(Ev::ExecutorLost(executor_id.clone(), status));
    }
    fn reregistered(&mut self, _: &DriverHandle, _: &MasterInfo) {
        let _ = self.0.send(Ev::Reregistered);
    }
    fn error(&mut self, _: &DriverHandle, message: &str) {
        let _ = self.0.send(Ev::Error(message.to_string()));
    }
}

/// The in-process executor (see the module doc). It ignores shutdown
/// requests, so the slave has to kill it; it tells the test when it is
/// dropped (its driver's process is gone).
struct TestExecutor {
    gone: mpsc::UnboundedSender<ExecutorID>,
    id: ExecutorID,
}

impl Drop for TestExecutor {
    fn drop(&mut self) {
        let _ = self.gone.send(self.id.clone());
    }
}

impl Executor for TestExecutor {
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let id = task.task_id.clone();
        let _ = driver.send_status_update(TaskStatus::new(id.clone(), TaskState::Running));
        match task.data.as_deref() {
            Some(b"finish") => {
                let _ = driver.send_status_update(TaskStatus::new(id, TaskState::Finished));
            }
            Some(b"fail") => {
                let mut failed = TaskStatus::new(id, TaskState::Failed);
                failed.message = Some("Command exited with status 3".into());
                let _ = driver.send_status_update(failed);
            }
            Some(b"exit") => {
                // Once RUNNING is acknowledged (so it is not lost with us).
                let driver = driver.clone();
                actix_rt::spawn(async move {
                    driver.flush(Duration::from_secs(60)).await;
                    driver.stop();
                });
            }
            _ => {}
        }
    }
    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: &TaskID) {
        let _ = driver.send_status_update(TaskStatus::new(task_id.clone(), TaskState::Killed));
    }
}

struct World {
    sim: Rc<Sim>,
    driver: DriverHandle,
    events: mpsc::UnboundedReceiver<Ev>,
    /// Executors whose process is gone.
    gone: mpsc::UnboundedReceiver<ExecutorID>,
    gone_tx: mpsc::UnboundedSender<ExecutorID>,
    work_dir: std::path::PathBuf,
    _scheduler: SchedulerDriver,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work_dir);
    }
}

/// Master, slave and a registered framework.
async fn world() -> World {
    world_with(FrameworkInfo::new("tester", "sim")).await
}

/// Master, slave and framework `info`, registered.
async fn world_with(info: FrameworkInfo) -> World {
    let sim = Rc::new(Sim::new());
    let seed = sim.seed();
    let master_node = sim.node(MASTER);
    let opts = MasterOptions {
        hostname: "master".into(),
        agent_ping_timeout: PING_TIMEOUT,
        max_agent_ping_timeouts: MAX_PING_TIMEOUTS,
        master_id: Some(format!("sim-{seed}")),
        ..MasterOptions::default()
    };
    rmesos_master::spawn(&master_node, opts).unwrap();

    let work_dir = std::env::temp_dir().join(format!("rmesos-sim-cluster-{}", uuid::Uuid::new_v4()));
    let (gone_tx, gone) = mpsc::unbounded_channel();
    start_slave(&sim, &sim.node(SLAVE), &work_dir, gone_tx.clone(), 1);

    let (tx, mut events) = mpsc::unbounded_channel();
    let mut scheduler =
        SchedulerDriver::new(Probe(tx), info, MASTER).unwrap().with_node(sim.node(SCHEDULER)).seed(seed);
    scheduler.start().await.unwrap();
    let driver = scheduler.handle();
    match sim.run_until(events.recv()).await.unwrap() {
        // Framework ids are the master's id, then a sequence number.
        Ev::Registered(id) => assert_eq!(id.as_str(), format!("sim-{seed}-0000")),
        other => panic!("expected registration, got {other:?}"),
    }
    World { sim, driver, events, gone, gone_tx, work_dir, _scheduler: scheduler }
}

/// The real slave on `node` (work dir `work_dir`), its executors on nodes
/// 10.0.1.<first_executor>, 10.0.1.<first_executor + 1>...
fn start_slave(
    sim: &Rc<Sim>,
    node: &libprocess::Node,
    work_dir: &std::path::Path,
    gone: mpsc::UnboundedSender<ExecutorID>,
    first_executor: u32,
) {
    let spec = MasterSpec::Standalone { host: "10.0.0.1".into(), port: 5050 };
    let mut flags =
        rmesos_slave::Flags::local(spec, work_dir.to_path_buf(), Some(Resources::parse(SLAVE_RESOURCES).unwrap()));
    flags.hostname = Some("slave".into());
    let next = Rc::new(Cell::new(first_executor));
    let world = Rc::downgrade(sim);
    let containerizer = InProcess::new(
        move |_launch| {
            let n = next.replace(next.get() + 1);
            world.upgrade().expect("the simulation outlives its slave").node(format!("10.0.1.{n}:5053").as_str())
        },
        move |launch| TestExecutor { gone: gone.clone(), id: launch.executor_id.clone() },
    );
    rmesos_slave::spawn(
        node,
        SlaveOptions { containerizer: Some(Box::new(containerizer)), seed: sim.seed(), ..SlaveOptions::new(flags) },
    )
    .unwrap();
}

/// A second scheduler (its own node at `addr`) for framework `info`,
/// started: its events and its driver.
async fn scheduler_at(sim: &Sim, addr: &str, info: FrameworkInfo) -> (SchedulerDriver, mpsc::UnboundedReceiver<Ev>) {
    let (tx, events) = mpsc::unbounded_channel();
    let mut d = SchedulerDriver::new(Probe(tx), info, MASTER).unwrap().with_node(sim.node(addr)).seed(sim.seed());
    d.start().await.unwrap();
    (d, events)
}

impl World {
    /// The next event (running the world until there is one).
    async fn next(&mut self) -> Ev {
        self.sim.run_until(self.events.recv()).await.expect("the scheduler is alive")
    }

    async fn offer(&mut self) -> Offer {
        match self.next().await {
            Ev::Offers(mut offers) => {
                assert_eq!(offers.len(), 1, "one slave, one offer: {offers:?}");
                offers.remove(0)
            }
            other => panic!("expected an offer, got {other:?}"),
        }
    }

    /// The next status update (other events are skipped).
    async fn status(&mut self) -> TaskStatus {
        loop {
            if let Ev::Status(s) = self.next().await {
                return s;
            }
        }
    }

    /// Launches task `id` (its own executor) doing `what` on `offer`.
    fn launch(&self, offer: &Offer, id: &str, what: &str, resources: &str) {
        let executor = ExecutorInfo::new(ExecutorID::new(id).unwrap(), CommandInfo::shell("in-process"));
        let mut task = TaskInfo::with_executor(
            id,
            TaskID::new(id).unwrap(),
            offer.slave_id.clone(),
            Resources::parse(resources).unwrap(),
            executor,
        );
        task.data = Some(what.as_bytes().to_vec());
        self.driver.launch_tasks(vec![offer.id.clone()], vec![task], Filters::default());
    }

    /// Launches `id` doing `what` on the next offer and waits until it runs.
    async fn running(&mut self, id: &str, what: &str) -> Offer {
        let offer = self.offer().await;
        self.launch(&offer, id, what, TASK_RESOURCES);
        let s = self.status().await;
        assert_eq!((s.task_id.as_str(), s.state), (id, TaskState::Running), "{s:?}");
        offer
    }

    /// Events already delivered, without running the world.
    fn pending(&mut self) -> Vec<Ev> {
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }
}

#[actix_rt::test]
async fn register_offer_launch_run_finish() {
    let mut w = world().await;
    let offer = w.running("t1", "finish").await;
    assert_eq!(offer.resources, Resources::parse(SLAVE_RESOURCES).unwrap());
    assert_eq!(offer.hostname, "slave");
    let s = w.status().await;
    assert_eq!((s.task_id.as_str(), s.state), ("t1", TaskState::Finished), "{s:?}");
    // The task's resources come back: the next offers add up to the whole slave again
    // (the first may come before the finished task's resources are recovered).
    let mut offered = Resources::default();
    while offered != Resources::parse(SLAVE_RESOURCES).unwrap() {
        let o = w.offer().await;
        offered = o.resources.clone();
        w.driver.decline_offer(o.id, Filters::refuse(Duration::ZERO));
    }
}

/// SEED 4: a task that fails is TASK_FAILED at the scheduler, with the
/// executor's message, through executor, slave and master; its resources
/// are offered again.
#[actix_rt::test]
async fn failed_task_is_task_failed_at_the_scheduler_with_its_message() {
    let mut w = world().await;
    w.running("t1", "fail").await;
    let s = w.status().await;
    assert_eq!((s.task_id.as_str(), s.state), ("t1", TaskState::Failed), "{s:?}");
    assert_eq!(s.message.as_deref(), Some("Command exited with status 3"));
    assert_eq!(s.slave_id.as_ref(), Some(&w.offer().await.slave_id));
}

#[actix_rt::test]
async fn declined_resources_come_back_after_refuse_seconds() {
    let mut w = world().await;
    let offer = w.offer().await;
    let refuse = Duration::from_secs(30);
    w.driver.decline_offer(offer.id, Filters::refuse(refuse));
    let declined_at = w.sim.now();
    // Many allocation intervals pass: nothing is offered while the filter holds.
    w.sim.advance(refuse - Duration::from_secs(2)).await;
    assert!(w.pending().is_empty(), "re-offered within refuse_seconds");
    let again = w.offer().await;
    assert_eq!(again.slave_id, offer.slave_id);
    assert!(
        w.sim.now().saturating_since(declined_at) >= refuse,
        "re-offered after {:?}",
        w.sim.now().saturating_since(declined_at)
    );
}

#[actix_rt::test]
async fn kill_task_is_task_killed() {
    let mut w = world().await;
    w.running("t1", "run").await;
    w.driver.kill_task(TaskID::new("t1").unwrap());
    let s = w.status().await;
    assert_eq!((s.task_id.as_str(), s.state), ("t1", TaskState::Killed), "{s:?}");
}

#[actix_rt::test]
async fn reconciliation_reports_running_and_unknown_tasks() {
    let mut w = world().await;
    let offer = w.running("t1", "run").await;
    // Implicit: every task the master knows.
    w.driver.reconcile_tasks(vec![]);
    let s = w.status().await;
    assert_eq!((s.task_id.as_str(), s.state, s.reason), ("t1", TaskState::Running, Some(Reason::Reconciliation)));
    // Explicit: a known task and one the master never saw (on a known slave: TASK_LOST).
    let unknown = TaskStatus::new(TaskID::new("nope").unwrap(), TaskState::Running).with_slave_id(offer.slave_id);
    w.driver.reconcile_tasks(vec![TaskStatus::new(TaskID::new("t1").unwrap(), TaskState::Staging), unknown]);
    let mut got = vec![w.status().await, w.status().await];
    got.sort_by(|a, b| a.task_id.as_str().cmp(b.task_id.as_str()));
    assert_eq!((got[0].task_id.as_str(), got[0].state), ("nope", TaskState::Lost), "{got:?}");
    assert_eq!((got[1].task_id.as_str(), got[1].state), ("t1", TaskState::Running), "{got:?}");
    assert!(got.iter().all(|s| s.reason == Some(Reason::Reconciliation)), "{got:?}");
}

#[actix_rt::test]
async fn slave_removed_after_missed_pongs_is_lost_with_its_tasks() {
    let mut w = world().await;
    let offer = w.running("t1", "run").await;
    let master_node = w.sim.node_at(MASTER).unwrap();
    let dropped = testkit::drop_messages::<PongSlaveMessage>(&master_node, any(), any());
    let silent_since = w.sim.now();
    let (mut lost, mut slave_lost) = (None, false);
    while lost.is_none() || !slave_lost {
        match w.next().await {
            Ev::Status(s) => {
                assert_eq!((s.task_id.as_str(), s.state), ("t1", TaskState::Lost), "{s:?}");
                lost = Some(s);
            }
            Ev::SlaveLost(sid) => {
                assert_eq!(sid, offer.slave_id);
                slave_lost = true;
            }
            Ev::Offers(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let lost = lost.unwrap();
    assert_eq!(lost.reason, Some(Reason::SlaveRemoved), "{lost:?}");
    let silence = w.sim.now().saturating_since(silent_since);
    assert!(silence >= PING_TIMEOUT * (MAX_PING_TIMEOUTS - 1), "removed after {silence:?}");
    assert!(dropped.dropped() >= u64::from(MAX_PING_TIMEOUTS - 1), "{} pongs dropped", dropped.dropped());
}

/// SEED 3.2 / 3.4: a slave killed (its node gone) is removed after the
/// missed health checks and its task is lost; the slave started again on
/// that machine (new node incarnation, fresh work dir) registers anew and
/// its resources are offered again, whole.
#[actix_rt::test]
async fn slave_killed_then_started_again_registers_and_is_offered_again() {
    let mut w = world().await;
    let first = w.running("t1", "run").await;
    w.sim.kill(SLAVE);
    loop {
        match w.next().await {
            Ev::Status(s) => assert_eq!((s.task_id.as_str(), s.state), ("t1", TaskState::Lost), "{s:?}"),
            Ev::SlaveLost(sid) => {
                assert_eq!(sid, first.slave_id);
                break;
            }
            Ev::Offers(_) | Ev::ExecutorLost(..) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let node = w.sim.restart(SLAVE);
    let work_dir = w.work_dir.join("again");
    start_slave(&w.sim, &node, &work_dir, w.gone_tx.clone(), 100);
    loop {
        match w.next().await {
            Ev::Offers(offers) => {
                let o = &offers[0];
                assert_ne!(o.slave_id, first.slave_id, "a new slave id: {o:?}");
                assert_eq!(o.resources, Resources::parse(SLAVE_RESOURCES).unwrap());
                break;
            }
            Ev::Status(s) => assert_eq!(s.state, TaskState::Lost, "{s:?}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Issue 11: a slave killed and started again at once at the same address
/// (a new incarnation, a fresh work dir, so no id), well within the time
/// the master waits for a disconnected slave to reregister. It is a new
/// slave: the old one is removed at its registration, its task (of a
/// checkpointing framework, so not lost at the disconnection) is
/// TASK_LOST with REASON_SLAVE_REMOVED, the framework hears `slave_lost`,
/// and the newcomer is offered whole under a new id. (It used to be given
/// the old id, and the master believed the old task still ran there.)
#[actix_rt::test]
async fn slave_restarted_at_once_with_a_fresh_work_dir_is_a_new_slave_and_its_old_tasks_are_lost() {
    let info = FrameworkInfo { checkpoint: true, ..FrameworkInfo::new("tester", "sim") };
    let mut w = world_with(info).await;
    let first = w.running("t1", "run").await;
    let restarted = w.sim.now();
    let node = w.sim.restart(SLAVE);
    start_slave(&w.sim, &node, &w.work_dir.join("again"), w.gone_tx.clone(), 100);
    let (mut lost, mut slave_lost) = (None, false);
    let offer = loop {
        match w.next().await {
            Ev::Status(s) => {
                assert_eq!((s.task_id.as_str(), s.state), ("t1", TaskState::Lost), "{s:?}");
                lost = Some(s);
            }
            Ev::SlaveLost(sid) => {
                assert_eq!(sid, first.slave_id);
                slave_lost = true;
            }
            Ev::Offers(offers) => {
                if let Some(o) = offers.into_iter().find(|o| o.slave_id != first.slave_id) {
                    break o;
                }
            }
            Ev::ExecutorLost(..) => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    let lost = lost.expect("TASK_LOST before the new slave is offered");
    assert_eq!(lost.reason, Some(Reason::SlaveRemoved), "{lost:?}");
    assert!(slave_lost, "the framework is told the old slave is lost");
    assert_eq!(offer.resources, Resources::parse(SLAVE_RESOURCES).unwrap(), "nothing of the old task is counted");
    let took = w.sim.now().saturating_since(restarted);
    assert!(took < PING_TIMEOUT, "at the registration, not after the health checks: {took:?}");
}

/// Issue 11 sweep (chaos seeds 40000436, 40001146, 40001861): the
/// master's RunTask is held on its connection to a slave cut off by a
/// partition; the partition lasts past `partition_detection` (the
/// connection breaks, the RunTask with it) and heals before the reconnect
/// attempts give up. The master's link to the slave fires at the break, so
/// the slave counts as disconnected and the task (of a framework that does
/// not checkpoint) is TASK_LOST at once. It used to stay STAGING forever:
/// no link fired, the slave never had the task, nothing resolved it.
#[actix_rt::test]
async fn a_launch_lost_with_a_connection_a_partition_broke_is_task_lost_though_the_reconnect_succeeds() {
    let mut w = world().await;
    let offer = w.offer().await;
    w.sim.partition(MASTER, SLAVE);
    w.launch(&offer, "t1", "run", TASK_RESOURCES);
    // Up to a second after the break (10 s into the partition).
    w.sim.advance(testkit::DEFAULT_PARTITION_DETECTION + Duration::from_secs(1)).await;
    let statuses: Vec<TaskStatus> = w
        .pending()
        .into_iter()
        .filter_map(|e| match e {
            Ev::Status(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    assert_eq!((statuses[0].task_id.as_str(), statuses[0].state), ("t1", TaskState::Lost), "{statuses:?}");
    assert_eq!(statuses[0].reason, Some(Reason::SlaveDisconnected), "{statuses:?}");
    // Healed within the reconnect window: the connection is made again to
    // the same slave process (never given up on), which never saw the task.
    w.sim.heal(MASTER, SLAVE);
    w.sim.advance(Duration::from_secs(5)).await;
    assert_eq!(w.sim.node_at(MASTER).unwrap().metrics().get("peers_lost"), Some(0));
    assert!(w.sim.node_at(MASTER).unwrap().metrics().get("connections_broken") >= Some(1));
}

#[actix_rt::test]
async fn executor_exit_is_task_lost_and_executor_lost() {
    let mut w = world().await;
    w.running("t1", "exit").await;
    let (mut lost, mut executor_lost) = (false, false);
    while !lost || !executor_lost {
        match w.next().await {
            Ev::Status(s) => {
                assert_eq!((s.task_id.as_str(), s.state), ("t1", TaskState::Lost), "{s:?}");
                lost = true;
            }
            Ev::ExecutorLost(eid, status) => {
                assert_eq!((eid.as_str(), status), ("t1", 0));
                executor_lost = true;
            }
            Ev::Offers(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[actix_rt::test]
async fn launch_beyond_the_offer_is_task_error_and_the_master_keeps_serving() {
    let mut w = world().await;
    let offer = w.offer().await;
    w.launch(&offer, "big", "finish", "cpus:64;mem:128");
    let s = w.status().await;
    assert_eq!((s.task_id.as_str(), s.state), ("big", TaskState::Error), "{s:?}");
    // The offer's resources come back and a task that fits runs.
    w.running("small", "finish").await;
    let s = w.status().await;
    assert_eq!((s.task_id.as_str(), s.state), ("small", TaskState::Finished), "{s:?}");
}

#[actix_rt::test]
async fn a_stopped_framework_s_executor_that_ignores_shutdown_is_killed_after_the_grace_period() {
    let mut w = world().await;
    w.running("t1", "run").await;
    let stopped_at = w.sim.now();
    w.driver.stop(false);
    let id = w.sim.run_until(w.gone.recv()).await.unwrap();
    assert_eq!(id.as_str(), "t1");
    // The slave asked it to shut down, waited its grace period, then killed the run.
    let waited = w.sim.now().saturating_since(stopped_at);
    assert!(waited >= rmesos::executor::env::DEFAULT_SHUTDOWN_GRACE_PERIOD, "killed after {waited:?}");
}

/// A framework that keeps its tasks for an hour without a scheduler.
fn failover_info(timeout: Duration) -> FrameworkInfo {
    let mut info = FrameworkInfo::new("tester", "sim");
    info.failover_timeout = timeout.as_secs_f64();
    info
}

#[actix_rt::test]
async fn new_scheduler_with_the_framework_id_takes_over_and_the_old_one_is_told_it_failed_over() {
    let mut w = world_with(failover_info(Duration::from_secs(3600))).await;
    w.running("t1", "run").await;
    let fid = w.driver.framework_id().expect("registered");
    let mut info = failover_info(Duration::from_secs(3600));
    info.id = Some(fid.clone());
    let (new, mut events) = scheduler_at(&w.sim, "10.0.0.4:5052", info).await;
    // The new instance is (re)registered as the same framework.
    match w.sim.run_until(events.recv()).await.unwrap() {
        Ev::Registered(id) => assert_eq!(id, fid),
        Ev::Reregistered => {}
        other => panic!("expected the new scheduler registered, got {other:?}"),
    }
    // The old one is told, and nothing else.
    loop {
        match w.next().await {
            Ev::Error(m) => {
                assert_eq!(m, "Framework failed over");
                break;
            }
            Ev::Offers(_) => {}
            other => panic!("old scheduler: unexpected {other:?}"),
        }
    }
    // The running task is the new instance's: it can kill it and hears so.
    new.handle().kill_task(TaskID::new("t1").unwrap());
    loop {
        match w.sim.run_until(events.recv()).await.unwrap() {
            // TASK_RUNNING again: the slave resends an update until it is
            // acknowledged, and the old scheduler's acknowledgement may
            // not have reached the master before the failover (some seeds).
            Ev::Status(s) if s.state == TaskState::Running => {}
            Ev::Status(s) => {
                assert_eq!((s.task_id.as_str(), s.state), ("t1", TaskState::Killed), "{s:?}");
                break;
            }
            Ev::Offers(_) => {}
            other => panic!("new scheduler: unexpected {other:?}"),
        }
    }
    let old: Vec<Ev> = w.pending().into_iter().filter(|e| !matches!(e, Ev::Offers(_))).collect();
    assert!(old.is_empty(), "the old scheduler hears nothing more: {old:?}");
}

#[actix_rt::test]
async fn framework_without_a_scheduler_past_its_failover_timeout_is_removed_and_its_tasks_killed() {
    const FAILOVER: Duration = Duration::from_secs(60);
    let mut w = world_with(failover_info(FAILOVER)).await;
    w.running("t1", "run").await;
    let fid = w.driver.framework_id().expect("registered");
    // The scheduler's node dies: the master notices (its link breaks).
    let gone_at = w.sim.now();
    w.sim.kill(SCHEDULER);
    // The executor (which ignores shutdown requests) is killed once the
    // framework is removed, not before the failover timeout.
    let eid = w.sim.run_until(w.gone.recv()).await.unwrap();
    assert_eq!(eid.as_str(), "t1");
    let waited = w.sim.now().saturating_since(gone_at);
    assert!(waited >= FAILOVER, "tasks killed after {waited:?}, before the failover timeout {FAILOVER:?}");
    // The framework is gone for good: its id is refused.
    let mut info = failover_info(FAILOVER);
    info.id = Some(fid.clone());
    let (_late, mut events) = scheduler_at(&w.sim, "10.0.0.4:5052", info).await;
    match w.sim.run_until(events.recv()).await.unwrap() {
        Ev::Error(m) => assert_eq!(m, format!("Framework {fid} has been removed")),
        other => panic!("expected the removed framework refused, got {other:?}"),
    }
}
