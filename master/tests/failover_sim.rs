//! Master failover in a deterministic simulation (libprocess testkit: paused
//! clock, seeded network; the in-memory ZooKeeper on the same clock): three
//! masters elect one leader; slaves (fake ones written here, speaking the
//! real messages and following the leader with the real ZooKeeper detector)
//! and the real scheduler driver (`--master zk://...`) follow it. The
//! leader's node crashes: its sessions expire after the session timeout, a
//! standby is elected, recovers the registry, the slave and the scheduler
//! reregister, the task keeps running and the new leader knows it; a slave
//! that died with the leader is removed after `--agent_reregister_timeout`
//! and the framework hears `slave_lost`. The old leader comes back as a
//! standby. All masters down: slaves and scheduler keep looking and resume
//! when one comes back. Two of three crash: the last one leads. A ZooKeeper
//! outage shorter than the session timeout (the ensemble electing a new
//! leader) changes nothing. The scheduler's disconnected() then
//! reregistered() across a leader gone longer than the session timeout is
//! checked by the leader-crash test.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use libprocess::testkit::Sim;
use libprocess::zookeeper::{Backend, LeaderMessage, MemZk, ZkUrl};
use libprocess::{Actor, Context, Handlers, Me, Node, Process, Upid};
use rmesos::detect_zk::{LeaderFollower, ZkDetect};
use rmesos::messages::*;
use rmesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
use rmesos::*;
use rmesos_master::leader::Role;
use rmesos_master::{HaConfig, MasterOptions, MasterProcess, RunningMaster};
use tokio::sync::mpsc;

const ZK: &str = "zk://127.0.0.1:2181/rmesos";
const MASTERS: [&str; 3] = ["127.0.0.1:5051", "127.0.0.1:5052", "127.0.0.1:5053"];
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on simulated time for one awaited event.
const LIMIT: Duration = Duration::from_secs(120);
const STEP: Duration = Duration::from_millis(50);

// ---------- a master's role, read from the test ----------

struct Peek;
impl actix::Message for Peek {
    type Result = (Role, Option<String>, usize);
}
impl actix::Handler<Peek> for MasterProcess {
    type Result = actix::MessageResult<Peek>;
    fn handle(&mut self, _: Peek, _: &mut Context<Self>) -> Self::Result {
        let tasks = self.core().frameworks().map(|f| f.tasks.len()).sum();
        actix::MessageResult((self.ha().role(), self.ha().leader().map(|l| l.id.clone()), tasks))
    }
}

// ---------- a fake slave following the leader ----------

#[derive(Debug, PartialEq)]
enum SlaveEv {
    Registered(Upid),
    Reregistered(Upid),
    Running(TaskID),
}

struct FakeSlave {
    me: Me,
    info: SlaveInfo,
    follower: LeaderFollower,
    master: Option<Upid>,
    registered: bool,
    tasks: Vec<Task>,
    frameworks: Vec<FrameworkInfo>,
    tx: mpsc::UnboundedSender<SlaveEv>,
}

impl Actor for FakeSlave {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        let me = self.me.clone();
        me.every(ctx, Duration::from_millis(500), |s: &mut FakeSlave, _| s.try_register());
    }
}

impl FakeSlave {
    fn try_register(&mut self) {
        let (Some(master), false) = (self.master.clone(), self.registered) else { return };
        if self.info.id.is_none() {
            let msg = RegisterSlaveMessage {
                slave: self.info.clone(),
                checkpointed_resources: Resources::new(),
                version: None,
                incarnation: None,
            };
            self.me.send(&master, msg);
        } else {
            let msg = ReregisterSlaveMessage {
                slave: self.info.clone(),
                checkpointed_resources: Resources::new(),
                executor_infos: vec![],
                tasks: self.tasks.clone(),
                frameworks: self.frameworks.clone(),
                completed_frameworks: vec![],
                version: None,
                incarnation: None,
            };
            self.me.send(&master, msg);
        }
    }
}

impl Process for FakeSlave {
    fn install(h: &mut Handlers<Self>) {
        h.install(|s: &mut Self, from: Upid, m: LeaderMessage, _| {
            let me = s.me.pid().clone();
            if let Some(change) = s.follower.report(&from, m, &me) {
                s.master = change;
                s.registered = false;
                s.try_register();
            }
        })
        .install(|s: &mut Self, from: Upid, m: SlaveRegisteredMessage, _| {
            if Some(&from) == s.master.as_ref() && !s.registered {
                s.info.id = Some(m.slave_id);
                s.registered = true;
                let _ = s.tx.send(SlaveEv::Registered(from));
            }
        })
        .install(|s: &mut Self, from: Upid, _: SlaveReregisteredMessage, _| {
            if Some(&from) == s.master.as_ref() && !s.registered {
                s.registered = true;
                let _ = s.tx.send(SlaveEv::Reregistered(from));
            }
        })
        .install(|s: &mut Self, from: Upid, _: PingSlaveMessage, _| s.me.send(&from, PongSlaveMessage {}))
        .install(|s: &mut Self, from: Upid, m: RunTaskMessage, _| {
            let (Some(fid), Some(sid)) = (m.framework.id.clone(), s.info.id.clone()) else { return };
            let task = Task::new(&m.task, fid.clone(), TaskState::Running);
            s.tasks.push(task);
            if !s.frameworks.iter().any(|f| f.id == m.framework.id) {
                s.frameworks.push(m.framework.clone());
            }
            let status = TaskStatus::new(m.task.task_id.clone(), TaskState::Running);
            let uuid = uuid::Uuid::from_u128(s.tasks.len() as u128);
            let update = StatusUpdate::new(fid, None, Some(sid), status, 0.0, Some(uuid));
            s.me.send(&from, StatusUpdateMessage { update, pid: Some(s.me.pid().clone()) });
            let _ = s.tx.send(SlaveEv::Running(m.task.task_id));
        })
        .install(|_: &mut Self, _: Upid, _: StatusUpdateAcknowledgementMessage, _| {});
    }
}

fn start_slave(node: &Node, zk: &MemZk, host: &str) -> mpsc::UnboundedReceiver<SlaveEv> {
    let (tx, rx) = mpsc::unbounded_channel();
    let backend: Arc<dyn Backend> = Arc::new(zk.clone());
    let detect = ZkDetect::with_backend(backend, ZK).unwrap();
    let me = node.pid("slave(1)").unwrap();
    let detector = detect.spawn(node, "slave(1)-detector", me).unwrap();
    let info = SlaveInfo::new(
        host,
        node.address().port(),
        Resources::parse("cpus:4;mem:4096").unwrap(),
        Attributes::default(),
    );
    node.spawn("slave(1)", move |me| FakeSlave {
        me,
        info,
        follower: LeaderFollower::new(detector),
        master: None,
        registered: false,
        tasks: vec![],
        frameworks: vec![],
        tx,
    })
    .unwrap();
    rx
}

// ---------- a scheduler launching one task ----------

#[derive(Debug, PartialEq)]
enum SchedEv {
    Registered,
    Reregistered,
    Disconnected,
    Status(TaskID, TaskState),
    SlaveLost(SlaveID),
}

struct OneTask {
    launched: bool,
    tx: mpsc::UnboundedSender<SchedEv>,
}

impl Scheduler for OneTask {
    fn registered(&mut self, _: &DriverHandle, _: &FrameworkID, _: &MasterInfo) {
        let _ = self.tx.send(SchedEv::Registered);
    }
    fn reregistered(&mut self, _: &DriverHandle, _: &MasterInfo) {
        let _ = self.tx.send(SchedEv::Reregistered);
    }
    fn disconnected(&mut self, _: &DriverHandle) {
        let _ = self.tx.send(SchedEv::Disconnected);
    }
    fn resource_offers(&mut self, d: &DriverHandle, offers: Vec<Offer>) {
        for o in offers {
            if self.launched {
                d.decline_offer(o.id, Filters::default());
                continue;
            }
            self.launched = true;
            let res = Resources::parse("cpus:1;mem:128").unwrap();
            let task = TaskInfo::command(
                "t",
                TaskID::new("t1").unwrap(),
                o.slave_id.clone(),
                res,
                CommandInfo::shell("sleep 1000"),
            );
            d.launch_tasks(vec![o.id], vec![task], Filters::default());
        }
    }
    fn status_update(&mut self, _: &DriverHandle, s: TaskStatus) {
        let _ = self.tx.send(SchedEv::Status(s.task_id, s.state));
    }
    fn slave_lost(&mut self, _: &DriverHandle, id: &SlaveID) {
        let _ = self.tx.send(SchedEv::SlaveLost(id.clone()));
    }
}

// ---------- the cluster ----------

struct Cluster {
    sim: Sim,
    zk: MemZk,
    masters: [Option<RunningMaster>; 3],
    /// ZooKeeper sessions opened by each master node (to crash it: cut them).
    sessions: [Vec<u64>; 3],
    known: HashSet<u64>,
    incarnation: u32,
}

impl Cluster {
    fn new() -> Cluster {
        let sim = Sim::new();
        let zk = MemZk::new(sim.clock().clone());
        Cluster {
            sim,
            zk,
            masters: [None, None, None],
            sessions: Default::default(),
            known: HashSet::new(),
            incarnation: 0,
        }
    }

    /// Sessions opened since the last call belong to master `i`.
    async fn claim_sessions(&mut self, i: usize) {
        self.sim.settle().await;
        for s in self.zk.sessions() {
            if self.known.insert(s) {
                self.sessions[i].push(s);
            }
        }
    }

    async fn start_master(&mut self, i: usize) {
        self.incarnation += 1;
        let node = if self.sim.node_at(MASTERS[i]).is_some() {
            self.sim.restart(MASTERS[i])
        } else {
            self.sim.node(MASTERS[i])
        };
        let opts = MasterOptions {
            hostname: format!("m{i}"),
            master_id: Some(format!("m{i}-{}", self.incarnation)),
            ..MasterOptions::default()
        };
        let url: ZkUrl = ZK.parse().unwrap();
        let ha = HaConfig { backend: Arc::new(self.zk.clone()), url, session_timeout: SESSION_TIMEOUT };
        self.masters[i] =
            Some(rmesos_master::spawn(&node, rmesos_master::MasterOptions { ha: Some(ha), ..opts }).unwrap());
        self.claim_sessions(i).await;
    }

    /// A crash: the node's ZooKeeper connections go silent (the servers
    /// expire its sessions after the session timeout) and its processes stop.
    fn crash_master(&mut self, i: usize) {
        for s in std::mem::take(&mut self.sessions[i]) {
            self.zk.disconnect(s);
        }
        self.sim.kill(MASTERS[i]);
        self.masters[i] = None;
    }

    async fn peek(&self, i: usize) -> Option<(Role, Option<String>, usize)> {
        let m = self.masters[i].as_ref()?;
        m.addr.send(Peek).await.ok()
    }

    /// Waits (simulated time) until exactly one master leads and every
    /// other running master follows it; returns the leader's index.
    async fn one_leader(&mut self) -> usize {
        let start = self.sim.now();
        loop {
            let mut leaders = vec![];
            let mut ids = vec![];
            let mut standby_leaders = vec![];
            for i in 0..3 {
                let peeked = self.peek(i).await;
                // The published role (read without a message) agrees.
                if let (Some(p), Some(m)) = (&peeked, &self.masters[i]) {
                    assert_eq!(m.role(), p.0, "master {i}'s published role");
                }
                match peeked {
                    Some((Role::Leading, _, _)) => leaders.push(i),
                    Some((Role::Standby, known, _)) => standby_leaders.push(known),
                    Some((Role::Recovering, _, _)) | None => {}
                }
                ids.push(self.masters[i].as_ref().map(|m| m.id.clone()));
            }
            if let [l] = leaders[..] {
                if standby_leaders.iter().all(|k| k.as_ref() == ids[l].as_ref()) {
                    self.claim_sessions(l).await; // its registry session
                    return l;
                }
            }
            assert!(leaders.len() <= 1, "two masters lead: {leaders:?}");
            assert!(self.sim.now() - start < LIMIT, "no single leader within {LIMIT:?}");
            self.sim.advance(STEP).await;
        }
    }

    /// The `OneTask` framework's driver (node 127.0.0.1:7001, `zk://`), not
    /// started, and its events.
    fn scheduler(&self) -> (SchedulerDriver, mpsc::UnboundedReceiver<SchedEv>) {
        let (tx, sched) = mpsc::unbounded_channel();
        let driver = SchedulerDriver::new(OneTask { launched: false, tx }, FrameworkInfo::new("u", "ha"), ZK)
            .unwrap()
            .zookeeper_backend(Arc::new(self.zk.clone()))
            .with_node(self.sim.node("127.0.0.1:7001"))
            .seed(self.sim.seed());
        (driver, sched)
    }

    /// A slave registered with master `leader`, and the framework's task
    /// t1 running on it: the slave's events, the driver and its events.
    async fn slave_and_running_task(
        &mut self,
        leader: usize,
    ) -> (mpsc::UnboundedReceiver<SlaveEv>, SchedulerDriver, mpsc::UnboundedReceiver<SchedEv>) {
        let n1 = self.sim.node("127.0.0.1:6001");
        let mut s1 = start_slave(&n1, &self.zk, "s1");
        assert_eq!(self.next(&mut s1).await, SlaveEv::Registered(master_pid(leader)));
        let (mut driver, mut sched) = self.scheduler();
        driver.start().await.unwrap();
        assert_eq!(self.next(&mut sched).await, SchedEv::Registered);
        let task = TaskID::new("t1").unwrap();
        assert_eq!(self.next(&mut sched).await, SchedEv::Status(task, TaskState::Running));
        assert!(matches!(self.next(&mut s1).await, SlaveEv::Running(_)));
        (s1, driver, sched)
    }

    async fn next<T: std::fmt::Debug>(&self, rx: &mut mpsc::UnboundedReceiver<T>) -> T {
        self.next_within(rx, LIMIT).await
    }

    async fn next_within<T: std::fmt::Debug>(&self, rx: &mut mpsc::UnboundedReceiver<T>, limit: Duration) -> T {
        match self.sim.run_for(limit, rx.recv()).await {
            Ok(Some(ev)) => ev,
            other => panic!("no event within {limit:?} (simulated): {other:?}"),
        }
    }
}

fn master_pid(i: usize) -> Upid {
    format!("master@{}", MASTERS[i]).parse().unwrap()
}

#[actix_rt::test]
async fn leader_crash_standby_takes_over_tasks_survive_old_leader_returns_as_standby() {
    let mut c = Cluster::new();
    for i in 0..3 {
        c.start_master(i).await;
    }
    let first = c.one_leader().await;

    let n1 = c.sim.node("127.0.0.1:6001");
    let n2 = c.sim.node("127.0.0.1:6002");
    let mut s1 = start_slave(&n1, &c.zk, "s1");
    let mut s2 = start_slave(&n2, &c.zk, "s2");
    assert_eq!(c.next(&mut s1).await, SlaveEv::Registered(master_pid(first)));
    assert_eq!(c.next(&mut s2).await, SlaveEv::Registered(master_pid(first)));

    let (mut driver, mut sched) = c.scheduler();
    driver.start().await.unwrap();
    assert_eq!(c.next(&mut sched).await, SchedEv::Registered);
    let task = TaskID::new("t1").unwrap();
    assert_eq!(c.next(&mut sched).await, SchedEv::Status(task.clone(), TaskState::Running));
    // Which slave runs it: the other one will die with the leader.
    let (mut runner_rx, victim_node) = match s1.try_recv() {
        Ok(SlaveEv::Running(_)) => (s1, n2.clone()),
        _ => {
            assert_eq!(s2.try_recv(), Ok(SlaveEv::Running(task.clone())));
            (s2, n1.clone())
        }
    };

    // The leader's node crashes, and the idle slave with it.
    c.sim.kill(&victim_node);
    c.crash_master(first);
    let crashed = c.sim.now();
    assert_eq!(c.next(&mut sched).await, SchedEv::Disconnected);

    let second = c.one_leader().await;
    assert_ne!(second, first);
    let elected_after = c.sim.now() - crashed;
    assert!(elected_after >= SESSION_TIMEOUT, "a crashed leader is replaced only once its session expires");
    c.sim.note(format!("new leader {elected_after:?} after the crash"));

    // The surviving slave reregisters with the task, the scheduler too.
    assert_eq!(c.next(&mut runner_rx).await, SlaveEv::Reregistered(master_pid(second)));
    assert_eq!(c.next(&mut sched).await, SchedEv::Reregistered);
    let (_, _, tasks) = c.peek(second).await.unwrap();
    assert_eq!(tasks, 1, "the new leader rebuilt the task from the slave's reregistration");

    // The dead slave is removed after --agent_reregister_timeout (10 mins).
    let lost = c.next_within(&mut sched, Duration::from_secs(700)).await;
    assert!(matches!(lost, SchedEv::SlaveLost(_)), "{lost:?}");
    assert!(c.sim.now() - crashed >= Duration::from_secs(600));

    // The old leader comes back: a standby following the new leader.
    c.start_master(first).await;
    assert_eq!(c.one_leader().await, second);
    let (role, leader, _) = c.peek(first).await.unwrap();
    assert_eq!((role, leader), (Role::Standby, c.masters[second].as_ref().map(|m| m.id.clone())));

    // The task never ended.
    while let Ok(ev) = sched.try_recv() {
        assert!(!matches!(ev, SchedEv::Status(..)), "unexpected {ev:?}");
    }
    driver.stop(false);
}

#[actix_rt::test]
async fn all_masters_down_slave_and_scheduler_keep_looking_and_resume() {
    let mut c = Cluster::new();
    for i in 0..3 {
        c.start_master(i).await;
    }
    let first = c.one_leader().await;
    let (mut s1, driver, mut sched) = c.slave_and_running_task(first).await;

    for i in 0..3 {
        c.crash_master(i);
    }
    assert_eq!(c.next(&mut sched).await, SchedEv::Disconnected);
    // A minute with no master at all: nothing happens, nobody gives up.
    c.sim.advance(Duration::from_secs(60)).await;
    assert!(sched.try_recv().is_err() && s1.try_recv().is_err());

    c.start_master(2).await;
    assert_eq!(c.one_leader().await, 2);
    assert_eq!(c.next(&mut s1).await, SlaveEv::Reregistered(master_pid(2)));
    assert_eq!(c.next(&mut sched).await, SchedEv::Reregistered);
    let (_, _, tasks) = c.peek(2).await.unwrap();
    assert_eq!(tasks, 1);
    driver.stop(false);
}

#[actix_rt::test]
async fn graceful_leader_stop_hands_over_before_the_session_timeout() {
    let mut c = Cluster::new();
    for i in 0..3 {
        c.start_master(i).await;
    }
    let first = c.one_leader().await;
    let stopping = c.masters[first].take().unwrap();
    let t0 = c.sim.now();
    c.sim.run_until(stopping.stop()).await;
    c.sim.kill(MASTERS[first]);
    let second = c.one_leader().await;
    assert_ne!(second, first);
    let took = c.sim.now() - t0;
    assert!(took < SESSION_TIMEOUT, "the withdrawn znode hands over at once, not after {took:?}");
}

#[actix_rt::test]
async fn leader_whose_session_expires_stops_at_once_and_another_leads() {
    let mut c = Cluster::new();
    for i in 0..3 {
        c.start_master(i).await;
    }
    let first = c.one_leader().await;
    // The servers expire the leader's membership session (as after a
    // partition from ZooKeeper longer than the session timeout).
    c.sim.settle().await;
    let member = c.zk.children("/rmesos").into_iter().filter(|m| m.starts_with("json.info_")).min().unwrap();
    let owner = c.zk.owner(&format!("/rmesos/{member}")).unwrap();
    c.zk.expire(owner);
    c.sim.settle().await;
    assert!(c.peek(first).await.is_none(), "the old leader stopped acting at once");
    assert_eq!(c.masters[first].as_ref().unwrap().role(), Role::Standby, "its published role too");
    c.masters[first] = None;
    let second = c.one_leader().await;
    assert_ne!(second, first);
}

/// Twin of the real "ZooKeeper leader killed": while the ensemble elects a
/// new leader no server serves and every client sees `Disconnected`; the
/// election takes far less than the session timeout, so no session
/// expires. The leading master stays the leader, slave and scheduler see
/// nothing, and the task is still known.
#[actix_rt::test]
async fn zookeeper_outage_shorter_than_the_session_timeout_changes_nothing() {
    let mut c = Cluster::new();
    for i in 0..3 {
        c.start_master(i).await;
    }
    let first = c.one_leader().await;
    let (mut s1, driver, mut sched) = c.slave_and_running_task(first).await;

    c.zk.outage();
    c.sim.advance(SESSION_TIMEOUT / 2).await;
    c.zk.restore();
    // Well past the session timeout: nothing expired, nothing changed.
    c.sim.advance(SESSION_TIMEOUT * 2).await;
    assert_eq!(c.one_leader().await, first);
    for i in 0..3 {
        assert!(c.peek(i).await.is_some(), "master {i} stopped");
    }
    let (_, _, tasks) = c.peek(first).await.unwrap();
    assert_eq!(tasks, 1);
    assert!(sched.try_recv().is_err(), "the scheduler saw something");
    assert!(s1.try_recv().is_err(), "the slave saw something");
    driver.stop(false);
}

/// Twin of the real "two of three masters stopped": the leader and a
/// standby crash; the last master leads once their sessions expire, the
/// slave and the scheduler follow it and it knows the task.
#[actix_rt::test]
async fn two_of_three_masters_crash_the_last_leads_slave_and_scheduler_follow() {
    let mut c = Cluster::new();
    for i in 0..3 {
        c.start_master(i).await;
    }
    let first = c.one_leader().await;
    let (mut s1, driver, mut sched) = c.slave_and_running_task(first).await;

    let standby = (0..3).find(|i| *i != first).unwrap();
    let last = (0..3).find(|i| *i != first && *i != standby).unwrap();
    c.crash_master(first);
    c.crash_master(standby);
    assert_eq!(c.next(&mut sched).await, SchedEv::Disconnected);
    assert_eq!(c.one_leader().await, last);
    assert_eq!(c.next(&mut s1).await, SlaveEv::Reregistered(master_pid(last)));
    assert_eq!(c.next(&mut sched).await, SchedEv::Reregistered);
    let (_, _, tasks) = c.peek(last).await.unwrap();
    assert_eq!(tasks, 1, "the last master rebuilt the task from the slave's reregistration");
    driver.stop(false);
}

#[actix_rt::test]
async fn leader_cut_off_from_zookeeper_stops_leading_once_its_session_times_out() {
    let mut c = Cluster::new();
    for i in 0..3 {
        c.start_master(i).await;
    }
    let first = c.one_leader().await;
    let cut_at = c.sim.now();
    // Its links to ZooKeeper break; the process lives on (a partition).
    for s in c.sessions[first].clone() {
        c.zk.disconnect(s);
    }
    // Found by the chaos simulation: the registry's session never read its
    // events, and the unread Disconnected held the clock: nothing settled.
    let settled = tokio::time::timeout(Duration::from_secs(10), c.sim.settle()).await;
    assert!(settled.is_ok(), "the simulation settles with a cut-off leader");
    // It leads until its session times out (its detector cannot tell), then ends.
    c.sim.advance(SESSION_TIMEOUT - Duration::from_millis(100)).await;
    assert_eq!(c.peek(first).await.map(|p| p.0), Some(Role::Leading));
    c.sim.advance(Duration::from_millis(200)).await;
    assert!(c.peek(first).await.is_none(), "the cut-off leader ended itself");
    c.masters[first] = None;
    let second = c.one_leader().await;
    assert_ne!(second, first);
    assert!(c.sim.now() - cut_at >= SESSION_TIMEOUT);
}
