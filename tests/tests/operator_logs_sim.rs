//! The operator's log lines (issue 6, "Logs an operator reads") in a
//! deterministic simulation of the whole cluster: the real master(s), the
//! real slave and the real scheduler driver on simulated nodes, one paused
//! clock, the in-memory ZooKeeper (the HA test runs on the test kit's
//! `SimCluster`). All of them log on the test's thread, into one
//! [`LogCapture`]; each assertion names the process by its Upid in
//! the line, so "the right line from the right process" is what is checked.
//! docs/operations.md "What the logs say" lists the same lines. One test
//! also follows a kill made while the task's slave is disconnected (cut off
//! by a partition) to the TASK_KILLED the framework hears once the slave is
//! back (Mesos's behaviour: the master sends the kill again when the slave
//! reregisters).
//!
//! Time moves only in [`STEP`]s until the awaited line appears (bounded by
//! [`LIMIT`] of simulated time); no test sleeps.

use rmesos_slave::SlaveOptions;
use std::rc::Rc;
use std::time::Duration;

use libprocess::testkit::{self, any, LogCapture, Sim};
use rmesos::executor::{Executor, ExecutorDriver};
use rmesos::messages::PongSlaveMessage;
use rmesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
use rmesos::{
    CommandInfo, ExecutorID, ExecutorInfo, Filters, FrameworkInfo, MasterSpec, Offer, Resources, TaskID, TaskInfo,
    TaskState, TaskStatus,
};
use rmesos_master::MasterOptions;
use rmesos_slave::containerizer::InProcess;
use rmesos_testkit::SimCluster;

/// Simulated time one awaited line may take.
const LIMIT: Duration = Duration::from_secs(900);
const STEP: Duration = Duration::from_millis(100);
const SLAVE_RESOURCES: &str = "cpus:2;mem:1024";

/// Launches one task `t1` on the first offer, declines the others.
struct OneTask {
    launched: bool,
}

impl Scheduler for OneTask {
    fn resource_offers(&mut self, d: &DriverHandle, offers: Vec<Offer>) {
        for o in offers {
            if self.launched {
                d.decline_offer(o.id, Filters::default());
                continue;
            }
            self.launched = true;
            let executor = ExecutorInfo::new(ExecutorID::new("t1").unwrap(), CommandInfo::shell("in-process"));
            let res = Resources::parse("cpus:1;mem:128").unwrap();
            let task = TaskInfo::with_executor("t1", TaskID::new("t1").unwrap(), o.slave_id.clone(), res, executor);
            d.launch_tasks(vec![o.id], vec![task], Filters::default());
        }
    }
    fn status_update(&mut self, _: &DriverHandle, _: TaskStatus) {}
}

/// Runs its task until killed.
struct Runs;

impl Executor for Runs {
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let _ = driver.send_status_update(TaskStatus::new(task.task_id, TaskState::Running));
    }
    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: &TaskID) {
        let _ = driver.send_status_update(TaskStatus::new(task_id.clone(), TaskState::Killed));
    }
}

/// Moves simulated time until a captured line contains every one of
/// `parts`; returns it.
async fn wait_line(sim: &Sim, cap: &LogCapture, parts: &[&str]) -> String {
    let start = sim.now();
    loop {
        sim.settle().await;
        if let Some(l) = cap.matching(parts).into_iter().next() {
            return l;
        }
        assert!(
            sim.now().saturating_since(start) < LIMIT,
            "no line with {parts:?} within {LIMIT:?}; captured:\n{}",
            cap.lines().join("\n")
        );
        sim.advance(STEP).await;
    }
}

/// Starts the real slave at `addr` following `master` (host:port),
/// executors in process on nodes 10.0.9.x.
fn start_slave(sim: &Rc<Sim>, addr: &str, master: MasterSpec) -> std::path::PathBuf {
    let node = sim.node(addr);
    let work_dir = std::env::temp_dir().join(format!("rmesos-oplogs-sim-{}", uuid::Uuid::new_v4()));
    let mut flags =
        rmesos_slave::Flags::local(master, work_dir.clone(), Some(Resources::parse(SLAVE_RESOURCES).unwrap()));
    flags.hostname = Some("slave-host".into());
    let world = Rc::downgrade(sim);
    let next = std::cell::Cell::new(1u32);
    let containerizer = InProcess::new(
        move |_launch| {
            let n = next.replace(next.get() + 1);
            world.upgrade().expect("the simulation outlives its slave").node(format!("10.0.9.{n}:5053").as_str())
        },
        |_launch| Runs,
    );
    rmesos_slave::spawn(
        &node,
        SlaveOptions { flags, containerizer: Some(Box::new(containerizer)), seed: sim.seed(), zookeeper: None },
    )
    .unwrap();
    work_dir
}

/// Removes a directory when dropped.
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[actix_rt::test]
async fn registration_removal_task_lost_and_framework_lines_name_their_processes() {
    let cap = LogCapture::start();
    let sim = Rc::new(Sim::new());
    let opts = MasterOptions {
        hostname: "master-host".into(),
        agent_ping_timeout: Duration::from_secs(15),
        max_agent_ping_timeouts: 5,
        master_id: Some("m1".into()),
        ..MasterOptions::default()
    };
    rmesos_master::spawn(&sim.node("10.0.0.1:5050"), opts).unwrap();
    let master = "master@10.0.0.1:5050";
    let spec = MasterSpec::Standalone { host: "10.0.0.1".into(), port: 5050 };
    let _dir = Cleanup(start_slave(&sim, "10.0.0.2:5051", spec));
    let slave = "slave(1)@10.0.0.2:5051";

    // Registered: both sides say so, with both pids.
    let line = wait_line(&sim, &cap, &["Registered slave ", &format!("at {slave} (slave-host) with cpus:2")]).await;
    let sid = line.split("Registered slave ").nth(1).unwrap().split(' ').next().unwrap().to_string();
    let line = wait_line(&sim, &cap, &[&format!("Registered with master {master}; given agent ID {sid}")]).await;
    assert!(line.contains(&format!("slave={slave}")), "{line}");
    let line = wait_line(&sim, &cap, &[&format!("New master detected at {master}"), &format!("slave={slave}")]).await;
    assert!(line.contains(" INFO "), "{line}");

    // A framework registers, its task runs.
    let mut info = FrameworkInfo::new("tester", "oplogs");
    info.failover_timeout = 3600.0;
    let mut first = SchedulerDriver::new(OneTask { launched: false }, info.clone(), "10.0.0.1:5050")
        .unwrap()
        .with_node(sim.node("10.0.0.3:5052"))
        .seed(sim.seed());
    first.start().await.unwrap();
    let line = wait_line(&sim, &cap, &["Registered framework ", "(oplogs) at scheduler-"]).await;
    let fid = line.split("Registered framework ").nth(1).unwrap().split(' ').next().unwrap().to_string();
    let sched = first.handle().pid().expect("started").to_string();
    assert!(line.contains(&format!("at {sched} ")), "{line}");
    wait_line(&sim, &cap, &[&format!("New master detected at {master}"), &format!("scheduler={sched}")]).await;
    wait_line(&sim, &cap, &[&format!("Framework registered with {fid}"), &format!("scheduler={sched}")]).await;
    wait_line(&sim, &cap, &[&format!("Task t1 of framework {fid} on slave {sid} at {slave} is TASK_RUNNING")]).await;

    // A new scheduler process takes the framework over.
    info.id = Some(rmesos::FrameworkID::new(fid.clone()).unwrap());
    let mut second = SchedulerDriver::new(OneTask { launched: true }, info, "10.0.0.1:5050")
        .unwrap()
        .with_node(sim.node("10.0.0.4:5052"))
        .seed(sim.seed());
    second.start().await.unwrap();
    let new_sched = second.handle().pid().expect("started").to_string();
    wait_line(&sim, &cap, &[&format!("Framework {fid} (oplogs) failed over to {new_sched} (was {sched})")]).await;
    wait_line(&sim, &cap, &["Framework error from master: Framework failed over", &format!("scheduler={sched}")]).await;

    // The new scheduler's node dies: the master sees the framework disconnect.
    sim.kill("10.0.0.4:5052");
    wait_line(
        &sim,
        &cap,
        &[&format!("Framework {fid} (oplogs) at {new_sched} disconnected; removing it in 3600s unless it reregisters")],
    )
    .await;

    // The slave stops answering pings: removed, with its reason; its task lost.
    let master_node = sim.node_at("10.0.0.1:5050").unwrap();
    let _silence = testkit::drop_messages::<PongSlaveMessage>(&master_node, any(), any());
    let line =
        wait_line(&sim, &cap, &[&format!("Removing slave {sid} at {slave} (slave-host): health check timed out")])
            .await;
    assert!(line.contains(" INFO "), "{line}");
    wait_line(
        &sim,
        &cap,
        &[&format!(
            "Task t1 of framework {fid} on slave {sid} is TASK_LOST (REASON_SLAVE_REMOVED: Slave {sid} (slave-host) \
             removed: health check timed out)"
        )],
    )
    .await;
    drop((first, second));
}

#[actix_rt::test]
async fn leader_lines_elected_following_detected_lost_and_no_leader() {
    let cap = LogCapture::start();
    // Two masters electing through the in-memory ZooKeeper, one slave (the
    // test kit's cluster, started one by one).
    let mut c = SimCluster::builder()
        .masters(2)
        .slave_resources(SLAVE_RESOURCES)
        .master_options(|i, opts| opts.master_id = Some(format!("m{}", i + 1)))
        .slave_flags(|_, flags| flags.hostname = Some("slave-host".into()))
        .executors(|_, _| Box::new(Runs))
        .build_stopped();
    let (m1, m2) = (format!("master@{}", c.masters[0].addr), format!("master@{}", c.masters[1].addr));

    c.start_master(0);
    wait_line(&c.sim, &cap, &[&format!("Elected as the leading master! (master m1 at {m1})")]).await;
    wait_line(&c.sim, &cap, &[&format!("Master m1 at {m1} leads: recovered the registry")]).await;
    c.start_master(1);
    wait_line(&c.sim, &cap, &[&format!("Following leader {m1} (m1) as a standby (this master: {m2})")]).await;

    c.start_slave(0);
    let slave = format!("slave(1)@{}", c.slaves[0].addr);
    wait_line(&c.sim, &cap, &[&format!("{slave}: Detected a new leader: {m1}")]).await;
    wait_line(&c.sim, &cap, &[&format!("Registered with master {m1}"), &format!("slave={slave}")]).await;

    let fw = c.framework(OneTask { launched: true }, FrameworkInfo::new("u", "ha")).await;
    let sched = fw.driver.handle().pid().expect("started").to_string();
    wait_line(&c.sim, &cap, &[&format!("{sched}: Detected a new leader: {m1}")]).await;
    wait_line(&c.sim, &cap, &["Framework registered with ", &format!("scheduler={sched}")]).await;

    // The leader crashes: its sessions expire, m2 is elected, everyone follows.
    c.crash_master(0);
    wait_line(&c.sim, &cap, &[&format!("Elected as the leading master! (master m2 at {m2}")]).await;
    wait_line(&c.sim, &cap, &[&format!("Master m2 at {m2} leads: recovered the registry")]).await;
    wait_line(&c.sim, &cap, &[&format!("{slave}: Detected a new leader: {m2}")]).await;
    wait_line(&c.sim, &cap, &[&format!("{sched}: Detected a new leader: {m2}")]).await;
    // Each says the old leader is gone (on that line, or on a "no leader"
    // line if its detector saw none for a moment).
    let m2_elected = format!("(master m2 at {m2}; previous leader {m1} (m1) is gone)");
    let m2_waits = format!("{m2} waits as a standby; previous leader {m1} (m1) is gone");
    assert!(
        !cap.matching(&[&m2_elected]).is_empty() || !cap.matching(&[&m2_waits]).is_empty(),
        "m2 did not log the loss of {m1}:\n{}",
        cap.lines().join("\n")
    );
    for who in [&slave, &sched] {
        let lost = cap.matching(&[&format!("{who}: "), &format!("(previous leader {m1} is gone)")]);
        assert!(!lost.is_empty(), "{who} did not log the loss of {m1}:\n{}", cap.lines().join("\n"));
    }
    wait_line(&c.sim, &cap, &[&format!("Disconnected from master {m1}"), &format!("scheduler={sched}")]).await;
    wait_line(&c.sim, &cap, &["Re-registered slave ", &format!("at {slave} (slave-host)")]).await;
    wait_line(&c.sim, &cap, &[&format!("Re-registered with master {m2}"), &format!("slave={slave}")]).await;
    wait_line(&c.sim, &cap, &["Re-registered framework ", &format!("(ha) at {sched}")]).await;
    wait_line(&c.sim, &cap, &["Framework reregistered with ", &format!("scheduler={sched}")]).await;

    // m2's ZooKeeper sessions expire: it gives up leadership and says why;
    // slave and scheduler are left with no leader.
    assert!(!c.expire_sessions(&c.masters[1].addr).is_empty());
    let line =
        wait_line(&c.sim, &cap, &["Lost leadership (", &format!("committing suicide! (master m2 at {m2})")]).await;
    assert!(line.starts_with("ERROR"), "{line}");
    wait_line(&c.sim, &cap, &[&format!("{slave}: No leader detected")]).await;
    wait_line(&c.sim, &cap, &["Lost leading master; waiting for a new one", &format!("slave={slave}")]).await;
    wait_line(&c.sim, &cap, &[&format!("{sched}: No leader detected")]).await;
    wait_line(&c.sim, &cap, &["No master detected", &format!("scheduler={sched}")]).await;
    drop(fw);
}

/// Launches task `t1` on the first offer and reports every status.
struct Reporting {
    launched: bool,
    tx: tokio::sync::mpsc::UnboundedSender<TaskStatus>,
}

impl Scheduler for Reporting {
    fn resource_offers(&mut self, d: &DriverHandle, offers: Vec<Offer>) {
        OneTask { launched: self.launched }.resource_offers(d, offers);
        self.launched = true;
    }
    fn status_update(&mut self, _: &DriverHandle, s: TaskStatus) {
        let _ = self.tx.send(s);
    }
}

#[actix_rt::test]
async fn a_kill_while_the_slave_is_disconnected_is_delivered_when_it_reregisters() {
    let cap = LogCapture::start();
    let sim = Rc::new(Sim::new());
    let opts =
        MasterOptions { hostname: "master-host".into(), master_id: Some("m1".into()), ..MasterOptions::default() };
    rmesos_master::spawn(&sim.node("10.0.0.1:5050"), opts).unwrap();
    let spec = MasterSpec::Standalone { host: "10.0.0.1".into(), port: 5050 };
    let _dir = Cleanup(start_slave(&sim, "10.0.0.2:5051", spec));
    let slave = "slave(1)@10.0.0.2:5051";

    // A checkpointing framework: its task outlives a slave disconnection.
    let mut info = FrameworkInfo::new("tester", "kills");
    info.checkpoint = true;
    let (tx, mut statuses) = tokio::sync::mpsc::unbounded_channel();
    let mut driver = SchedulerDriver::new(Reporting { launched: false, tx }, info, "10.0.0.1:5050")
        .unwrap()
        .with_node(sim.node("10.0.0.3:5052"))
        .seed(sim.seed());
    driver.start().await.unwrap();
    let running = sim.run_until(statuses.recv()).await.unwrap();
    assert_eq!(running.state, TaskState::Running, "{running:?}");

    // The slave is cut off until the master sees it disconnect; the kill
    // made meanwhile waits for it.
    sim.partition("10.0.0.2:5051", "10.0.0.1:5050");
    let line = wait_line(&sim, &cap, &["Slave ", &format!("at {slave} (slave-host) disconnected")]).await;
    let sid = line.split("Slave ").nth(1).unwrap().split(' ').next().unwrap().to_string();
    driver.handle().kill_task(TaskID::new("t1").unwrap());
    wait_line(
        &sim,
        &cap,
        &["Cannot kill task t1 of framework ", &format!("because slave {sid} at {slave} is disconnected")],
    )
    .await;
    assert!(statuses.try_recv().is_err(), "no answer while the slave is away");

    // Healed: the slave reregisters, the kill goes out, the task is killed.
    sim.heal("10.0.0.2:5051", "10.0.0.1:5050");
    wait_line(&sim, &cap, &[&format!("Re-registered slave {sid} at {slave}")]).await;
    wait_line(
        &sim,
        &cap,
        &[&format!("Slave {sid} at {slave} has non-terminal task t1 of framework "), "Killing it now!"],
    )
    .await;
    // (An update the partition left unacknowledged may come again first.)
    let mut killed = sim.run_until(statuses.recv()).await.unwrap();
    while killed.state == TaskState::Running {
        killed = sim.run_until(statuses.recv()).await.unwrap();
    }
    assert_eq!((killed.task_id.as_str(), killed.state), ("t1", TaskState::Killed), "{killed:?}");
    drop(driver);
}
