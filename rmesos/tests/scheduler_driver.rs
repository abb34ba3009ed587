//! The scheduler driver against a fake master written here, over loopback
//! TCP with the real messages: registration retried after the first attempt
//! is dropped, offers -> launch from inside the callback, status update ->
//! implicit acknowledgement at the master, master exit -> `disconnected()`,
//! a new master (the `--master` file rewritten) -> `reregistered()`, stop ->
//! unregister. Tests wait on messages, never on sleeps.

use std::path::PathBuf;
use std::time::Duration;

use libprocess::testkit::Recording;
use libprocess::{Config, Me, Node, Upid};
use rmesos::messages::*;
use rmesos::scheduler::{DriverError, DriverHandle, DriverStatus, Scheduler, SchedulerDriver};
use rmesos::{
    CommandInfo, FrameworkInfo, MasterInfo, Offer, OfferID, Resources, SlaveID, TaskID, TaskInfo, TaskState, TaskStatus,
};
use rmesos_testkit::fakes::{fake, framework_id as fid, offer};
use rmesos_testkit::{Heard, RecordingScheduler, SchedulerEvent as At};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Launches one task per offer, from inside the callback.
struct Launcher;

impl Scheduler for Launcher {
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
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
    fn status_update(&mut self, _d: &DriverHandle, _status: TaskStatus) {}
}

async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("event within 20 s").expect("open")
}

/// A fake master on a node of its own: answers registrations (ignoring the
/// first `drop_registrations`) and reregistrations, records everything.
async fn fake_master(drop_registrations: u32) -> (Node, Upid, Recording<Heard>) {
    let node = Node::bind(Config::loopback(0)).await.unwrap();
    let mut dropping = drop_registrations;
    let (pid, rx) = fake()
        .on(move |me: &Me, from: &Upid, _: &RegisterFrameworkMessage| {
            if dropping > 0 {
                dropping -= 1;
                return;
            }
            let master_info = MasterInfo::new("fake", me.pid(), None, None);
            me.send(from, FrameworkRegisteredMessage { framework_id: fid(), master_info });
        })
        .on(|me: &Me, from: &Upid, msg: &ReregisterFrameworkMessage| {
            let id = msg.framework.id.clone().expect("reregistration carries the id");
            me.send(
                from,
                FrameworkReregisteredMessage {
                    framework_id: id,
                    master_info: MasterInfo::new("fake", me.pid(), None, None),
                },
            );
        })
        .spawn(&node, "master");
    (node, pid, rx)
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
    let (recording, mut at_sched) = RecordingScheduler::new(Launcher);
    let framework = FrameworkInfo::new("tester", "driver-test");
    let mut driver = SchedulerDriver::new(recording, framework, file.0.display().to_string())
        .unwrap()
        .with_node(sched_node.clone())
        .registration_backoff_factor(Duration::from_millis(50));
    assert_eq!(driver.start().await.unwrap(), DriverStatus::Running);
    let pid = driver.handle().pid().unwrap();

    // The first RegisterFramework is dropped; the retry is answered.
    assert!(matches!(at_a.next().await, Heard::RegisterFramework(p, _) if p == pid));
    assert!(matches!(at_a.next().await, Heard::RegisterFramework(p, _) if p == pid));
    assert!(matches!(next(&mut at_sched).await, At::Registered(id, _) if id == fid()));
    assert_eq!(driver.handle().framework_id(), Some(fid()));

    // An offer: the scheduler launches on it from inside the callback.
    let slave = Upid::new("slave(1)", sched_node.address()).unwrap();
    let offer = offer("fake-O1", "cpus:1;mem:128");
    node_a.send(&master_a, &pid, ResourceOffersMessage { offers: vec![offer], pids: vec![slave.clone()] });
    assert!(matches!(next(&mut at_sched).await, At::ResourceOffers(o) if o.len() == 1));
    let Heard::LaunchTasks(_, launch) = at_a.next().await else { panic!("expected a launch") };
    assert_eq!(launch.offer_ids, vec![OfferID::new("fake-O1").unwrap()]);
    assert_eq!(launch.tasks[0].task_id.as_str(), "task-fake-O1");

    // A slave-made status update is acknowledged implicitly.
    let uuid = Uuid::new_v4();
    let task_id = TaskID::new("task-fake-O1").unwrap();
    let status = TaskStatus::new(task_id.clone(), TaskState::Running);
    let update = StatusUpdate::new(fid(), None, Some(SlaveID::new("fake-S0").unwrap()), status, 1.0, Some(uuid));
    node_a.send(&master_a, &pid, StatusUpdateMessage { update, pid: Some(slave) });
    assert!(
        matches!(next(&mut at_sched).await, At::StatusUpdate(s) if s.task_id == task_id && s.state == TaskState::Running)
    );
    let Heard::Ack(_, ack) = at_a.next().await else { panic!("expected an ack") };
    assert_eq!((ack.uuid, ack.task_id, ack.framework_id), (uuid, task_id, fid()));

    // The master exits; a new one runs elsewhere and the file says so.
    let (_node_b, master_b, mut at_b) = fake_master(0).await;
    file.point_at(&master_b);
    assert!(node_a.terminate(&master_a));
    assert_eq!(next(&mut at_sched).await, At::Disconnected);
    assert!(matches!(at_b.next().await, Heard::ReregisterFramework(p, m) if p == pid && !m.failover));
    assert!(matches!(next(&mut at_sched).await, At::Reregistered(m) if m.pid == Some(master_b.to_string())));

    driver.stop(false);
    assert_eq!(driver.join().await, DriverStatus::Stopped);
    assert!(matches!(at_b.next().await, Heard::UnregisterFramework(_, m) if m.framework_id == fid()));
    sched_node.shutdown();
    node_a.shutdown();
}

#[test]
fn bad_master_values_are_refused_up_front() {
    let sched = || Launcher;
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
    let (recording, mut at_sched) = RecordingScheduler::new(Launcher);
    let mut framework = FrameworkInfo::new("tester", "driver-test");
    framework.id = Some(fid()); // a restarted scheduler: fails over
    let mut driver =
        SchedulerDriver::new(recording, framework, master_a.addr().to_string()).unwrap().with_node(sched_node.clone());
    driver.start().await.unwrap();
    let pid = driver.handle().pid().unwrap();
    assert!(matches!(at_a.next().await, Heard::ReregisterFramework(p, m) if p == pid && m.failover));
    assert!(matches!(next(&mut at_sched).await, At::Reregistered(m) if m.pid == Some(master_a.to_string())));

    // A detector elsewhere (ZooKeeper's, later) reports a new leader.
    driver.handle().master_detected(Some(master_b.clone()));
    assert_eq!(next(&mut at_sched).await, At::Disconnected);
    assert!(matches!(at_b.next().await, Heard::ReregisterFramework(p, m) if p == pid && !m.failover));
    assert!(matches!(next(&mut at_sched).await, At::Reregistered(m) if m.pid == Some(master_b.to_string())));

    driver.abort();
    assert_eq!(driver.join().await, DriverStatus::Aborted);
    sched_node.shutdown();
}
