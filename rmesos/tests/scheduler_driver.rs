//! The scheduler driver against a fake master written here, over loopback
//! TCP with the real messages: registration retried after the first attempt
//! is dropped, offers -> launch from inside the callback, status update ->
//! implicit acknowledgement at the master, master exit -> `disconnected()`,
//! a new master (the `--master` file rewritten) -> `reregistered()`, stop ->
//! unregister. Tests wait on messages, never on sleeps.

use std::path::PathBuf;
use std::time::Duration;

use libprocess::{Actor, Config, Context, Handlers, Me, Node, Process, Upid};
use rmesos::messages::*;
use rmesos::scheduler::{DriverError, DriverHandle, DriverStatus, Scheduler, SchedulerDriver};
use rmesos::{
    CommandInfo, FrameworkID, FrameworkInfo, MasterInfo, Offer, OfferID, Resources, SlaveID, TaskID, TaskInfo,
    TaskState, TaskStatus,
};
use tokio::sync::mpsc;
use uuid::Uuid;

/// What the fake master saw.
#[derive(Debug)]
enum AtMaster {
    Register(Upid),
    Reregister(Upid, bool),
    Launch(LaunchTasksMessage),
    Ack(StatusUpdateAcknowledgementMessage),
    Unregister(FrameworkID),
}

struct FakeMaster {
    me: Me,
    /// Register messages to ignore before answering.
    drop_registrations: u32,
    events: mpsc::UnboundedSender<AtMaster>,
}

impl Actor for FakeMaster {
    type Context = Context<Self>;
}

impl Process for FakeMaster {
    fn install(h: &mut Handlers<Self>) {
        h.install(FakeMaster::register)
            .install(FakeMaster::reregister)
            .install(|m: &mut Self, _, msg: LaunchTasksMessage, _| {
                let _ = m.events.send(AtMaster::Launch(msg));
            })
            .install(|m: &mut Self, _, msg: StatusUpdateAcknowledgementMessage, _| {
                let _ = m.events.send(AtMaster::Ack(msg));
            })
            .install(|m: &mut Self, _, msg: UnregisterFrameworkMessage, _| {
                let _ = m.events.send(AtMaster::Unregister(msg.framework_id));
            });
    }
}

impl FakeMaster {
    fn info(&self) -> MasterInfo {
        MasterInfo::new("fake", self.me.pid(), None, None)
    }

    fn register(&mut self, from: Upid, _msg: RegisterFrameworkMessage, _ctx: &mut Context<Self>) {
        let _ = self.events.send(AtMaster::Register(from.clone()));
        if self.drop_registrations > 0 {
            self.drop_registrations -= 1;
            return;
        }
        self.me.send(&from, FrameworkRegisteredMessage { framework_id: fid(), master_info: self.info() });
    }

    fn reregister(&mut self, from: Upid, msg: ReregisterFrameworkMessage, _ctx: &mut Context<Self>) {
        let _ = self.events.send(AtMaster::Reregister(from.clone(), msg.failover));
        let id = msg.framework.id.expect("reregistration carries the id");
        self.me.send(&from, FrameworkReregisteredMessage { framework_id: id, master_info: self.info() });
    }
}

/// What the scheduler saw.
#[derive(Debug, PartialEq)]
enum AtScheduler {
    Registered(FrameworkID),
    Reregistered(String),
    Disconnected,
    Offers(usize),
    Status(TaskID, TaskState),
}

/// Launches one task per offer, from inside the callback.
struct TestScheduler {
    events: mpsc::UnboundedSender<AtScheduler>,
}

impl Scheduler for TestScheduler {
    fn registered(&mut self, _d: &DriverHandle, id: &FrameworkID, _m: &MasterInfo) {
        let _ = self.events.send(AtScheduler::Registered(id.clone()));
    }
    fn reregistered(&mut self, _d: &DriverHandle, m: &MasterInfo) {
        let _ = self.events.send(AtScheduler::Reregistered(m.pid.clone().unwrap_or_default()));
    }
    fn disconnected(&mut self, _d: &DriverHandle) {
        let _ = self.events.send(AtScheduler::Disconnected);
    }
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        let _ = self.events.send(AtScheduler::Offers(offers.len()));
        for o in offers {
            let t = TaskInfo::command(
                "t",
                TaskID::new(format!("task-{}", o.id)).unwrap(),
                o.slave_id.clone(),
                Resources::parse("cpus:0.1;mem:32").unwrap(),
                CommandInfo::shell("true"),
            );
            driver.launch_tasks(vec![o.id], vec![t], Default::default());
        }
    }
    fn status_update(&mut self, _d: &DriverHandle, status: TaskStatus) {
        let _ = self.events.send(AtScheduler::Status(status.task_id, status.state));
    }
}

fn fid() -> FrameworkID {
    FrameworkID::new("fake-0000").unwrap()
}

async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("event within 20 s").expect("open")
}

async fn fake_master(drop_registrations: u32) -> (Node, Upid, mpsc::UnboundedReceiver<AtMaster>) {
    let node = Node::bind(Config::loopback(0)).await.unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let s = node.spawn("master", |me| FakeMaster { me, drop_registrations, events: tx }).unwrap();
    (node, s.pid, rx)
}

/// A file under the temp dir holding the master's address, rewritten atomically.
struct MasterFile(PathBuf);

impl MasterFile {
    fn new() -> MasterFile {
        MasterFile(std::env::temp_dir().join(format!("rmesos-sched-test-{}-{}", std::process::id(), Uuid::new_v4())))
    }
    fn point_at(&self, master: &Upid) {
        let tmp = self.0.with_extension("tmp");
        std::fs::write(&tmp, format!("{}\n", master.addr())).unwrap();
        std::fs::rename(&tmp, &self.0).unwrap();
    }
}

impl Drop for MasterFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[actix_rt::test]
async fn registers_launches_acks_and_follows_a_new_master() {
    let (node_a, master_a, mut at_a) = fake_master(1).await;
    let file = MasterFile::new();
    file.point_at(&master_a);

    let sched_node = Node::bind(Config::loopback(0)).await.unwrap();
    let (tx, mut at_sched) = mpsc::unbounded_channel();
    let framework = FrameworkInfo::new("tester", "driver-test");
    let mut driver = SchedulerDriver::new(TestScheduler { events: tx }, framework, file.0.display().to_string())
        .unwrap()
        .with_node(sched_node.clone())
        .registration_backoff_factor(Duration::from_millis(50));
    assert_eq!(driver.start().await.unwrap(), DriverStatus::Running);
    let pid = driver.handle().pid().unwrap();

    // The first RegisterFramework is dropped; the retry is answered.
    assert!(matches!(next(&mut at_a).await, AtMaster::Register(p) if p == pid));
    assert!(matches!(next(&mut at_a).await, AtMaster::Register(p) if p == pid));
    assert_eq!(next(&mut at_sched).await, AtScheduler::Registered(fid()));
    assert_eq!(driver.handle().framework_id(), Some(fid()));

    // An offer: the scheduler launches on it from inside the callback.
    let slave = Upid::new("slave(1)", sched_node.address()).unwrap();
    let offer = Offer {
        id: OfferID::new("fake-O1").unwrap(),
        framework_id: fid(),
        slave_id: SlaveID::new("fake-S0").unwrap(),
        hostname: "localhost".into(),
        resources: Resources::parse("cpus:1;mem:128").unwrap(),
        attributes: Default::default(),
        executor_ids: vec![],
    };
    node_a.send(&master_a, &pid, ResourceOffersMessage { offers: vec![offer], pids: vec![slave.clone()] });
    assert_eq!(next(&mut at_sched).await, AtScheduler::Offers(1));
    let AtMaster::Launch(launch) = next(&mut at_a).await else { panic!("expected a launch") };
    assert_eq!(launch.offer_ids, vec![OfferID::new("fake-O1").unwrap()]);
    assert_eq!(launch.tasks[0].task_id.as_str(), "task-fake-O1");

    // A slave-made status update is acknowledged implicitly.
    let uuid = Uuid::new_v4();
    let task_id = TaskID::new("task-fake-O1").unwrap();
    let status = TaskStatus::new(task_id.clone(), TaskState::Running);
    let update = StatusUpdate::new(fid(), None, Some(SlaveID::new("fake-S0").unwrap()), status, 1.0, Some(uuid));
    node_a.send(&master_a, &pid, StatusUpdateMessage { update, pid: Some(slave) });
    assert_eq!(next(&mut at_sched).await, AtScheduler::Status(task_id.clone(), TaskState::Running));
    let AtMaster::Ack(ack) = next(&mut at_a).await else { panic!("expected an ack") };
    assert_eq!((ack.uuid, ack.task_id, ack.framework_id), (uuid, task_id, fid()));

    // The master exits; a new one runs elsewhere and the file says so.
    let (_node_b, master_b, mut at_b) = fake_master(0).await;
    file.point_at(&master_b);
    assert!(node_a.terminate(&master_a));
    assert_eq!(next(&mut at_sched).await, AtScheduler::Disconnected);
    assert!(matches!(next(&mut at_b).await, AtMaster::Reregister(p, false) if p == pid));
    assert_eq!(next(&mut at_sched).await, AtScheduler::Reregistered(master_b.to_string()));

    driver.stop(false);
    assert_eq!(driver.join().await, DriverStatus::Stopped);
    assert!(matches!(next(&mut at_b).await, AtMaster::Unregister(id) if id == fid()));
    sched_node.shutdown();
    node_a.shutdown();
}

#[test]
fn bad_master_values_are_refused_up_front() {
    let sched = || TestScheduler { events: mpsc::unbounded_channel().0 };
    let f = || FrameworkInfo::new("u", "n");
    assert!(SchedulerDriver::new(sched(), f(), "zk://127.0.0.1:2181/mesos").is_ok());
    let e = SchedulerDriver::new(sched(), f(), "zk://127.0.0.1:2181/").err().unwrap();
    assert!(matches!(e, DriverError::Master(_)), "{e}");
    assert!(e.to_string().contains("ZooKeeper path"), "{e}");
    let e = SchedulerDriver::new(sched(), f(), "127.0.0.1").err().unwrap();
    assert!(matches!(e, DriverError::Master(_)), "{e}");
    let e = SchedulerDriver::new(sched(), FrameworkInfo::new("u", ""), "127.0.0.1:5050").err().unwrap();
    assert!(matches!(e, DriverError::Framework(_)), "{e}");
}

#[actix_rt::test]
async fn an_outside_detector_moves_the_driver_to_a_new_master() {
    let (_node_a, master_a, mut at_a) = fake_master(0).await;
    let (_node_b, master_b, mut at_b) = fake_master(0).await;
    let sched_node = Node::bind(Config::loopback(0)).await.unwrap();
    let (tx, mut at_sched) = mpsc::unbounded_channel();
    let mut framework = FrameworkInfo::new("tester", "driver-test");
    framework.id = Some(fid()); // a restarted scheduler: fails over
    let mut driver = SchedulerDriver::new(TestScheduler { events: tx }, framework, master_a.addr().to_string())
        .unwrap()
        .with_node(sched_node.clone());
    driver.start().await.unwrap();
    let pid = driver.handle().pid().unwrap();
    assert!(matches!(next(&mut at_a).await, AtMaster::Reregister(p, true) if p == pid));
    assert_eq!(next(&mut at_sched).await, AtScheduler::Reregistered(master_a.to_string()));

    // A detector elsewhere (ZooKeeper's, later) reports a new leader.
    driver.handle().master_detected(Some(master_b.clone()));
    assert_eq!(next(&mut at_sched).await, AtScheduler::Disconnected);
    assert!(matches!(next(&mut at_b).await, AtMaster::Reregister(p, false) if p == pid));
    assert_eq!(next(&mut at_sched).await, AtScheduler::Reregistered(master_b.to_string()));

    driver.abort();
    assert_eq!(driver.join().await, DriverStatus::Aborted);
    sched_node.shutdown();
}
