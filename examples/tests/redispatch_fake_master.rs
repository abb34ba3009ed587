//! redispatch's scheduler on the real driver against a fake master written
//! here (loopback TCP, the real messages): 12 tasks, 3 of which fail on their
//! first attempt and one is reported lost, all end FINISHED, 4 were
//! re-dispatched, every slave-made update was acknowledged, the store holds
//! the final state, and a second run over the same store has nothing to do.
//! A store that fails aborts the framework before it launches anything.
//! Waits on messages and the driver's end, never on sleeps.

use std::collections::HashSet;
use std::time::Duration;

use libprocess::{Actor, Config, Context, Handlers, Me, Node, Process, Upid};
use rmesos::messages::*;
use rmesos::scheduler::{DriverStatus, SchedulerDriver};
use rmesos::{
    FrameworkID, FrameworkInfo, MasterInfo, Offer, OfferID, Resources, SlaveID, TaskInfo, TaskState, TaskStatus,
};
use rmesos_examples::redispatch::{
    parse_task_list, FileStore, Outcome, Phase, Redispatch, RedispatchScheduler, StoreError, TaskRecord, TaskStore,
};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Keys whose first attempt fails, and the one whose first attempt is lost.
const FAIL_ONCE: [&str; 3] = ["task-0002", "task-0005", "task-0011"];
const LOST_ONCE: &str = "task-0007";

#[derive(Debug)]
enum Seen {
    Ack(Uuid),
    /// With the number of updates that carried a uuid.
    Unregister(u64),
}

/// Offers one slave's resources; runs each launched task at once: RUNNING,
/// then FINISHED (or FAILED / LOST on the chosen first attempts).
struct FakeMaster {
    me: Me,
    slave: Upid,
    offers: u64,
    seen: mpsc::UnboundedSender<Seen>,
    updates_with_uuid: u64,
}

impl Actor for FakeMaster {
    type Context = Context<Self>;
}

impl Process for FakeMaster {
    fn install(h: &mut Handlers<Self>) {
        h.install(FakeMaster::register)
            .install(FakeMaster::launch)
            .install(|m: &mut Self, from, _: ReviveOffersMessage, _| m.offer(&from))
            .install(|m: &mut Self, _, msg: StatusUpdateAcknowledgementMessage, _| {
                let _ = m.seen.send(Seen::Ack(msg.uuid));
            })
            .install(|m: &mut Self, _, _: UnregisterFrameworkMessage, _| {
                let _ = m.seen.send(Seen::Unregister(m.updates_with_uuid));
            });
    }
}

fn fid() -> FrameworkID {
    FrameworkID::new("fake-0000").unwrap()
}

impl FakeMaster {
    fn register(&mut self, from: Upid, _msg: RegisterFrameworkMessage, _ctx: &mut Context<Self>) {
        let master_info = MasterInfo::new("fake", self.me.pid(), None, None);
        self.me.send(&from, FrameworkRegisteredMessage { framework_id: fid(), master_info });
        self.offer(&from);
    }

    fn offer(&mut self, to: &Upid) {
        self.offers += 1;
        let offer = Offer {
            id: OfferID::new(format!("fake-O{}", self.offers)).unwrap(),
            framework_id: fid(),
            slave_id: SlaveID::new("fake-S0").unwrap(),
            hostname: "localhost".into(),
            resources: Resources::parse("cpus:0.4;mem:128").unwrap(),
            attributes: Default::default(),
            executor_ids: vec![],
        };
        self.me.send(to, ResourceOffersMessage { offers: vec![offer], pids: vec![self.slave.clone()] });
    }

    fn launch(&mut self, from: Upid, msg: LaunchTasksMessage, _ctx: &mut Context<Self>) {
        if msg.tasks.is_empty() {
            return; // a decline: offer again only when revived
        }
        for task in &msg.tasks {
            self.update(&from, task, TaskState::Running, None);
            let first = task.task_id.as_str().ends_with(".1");
            let (state, message) = match task.name.as_str() {
                k if first && FAIL_ONCE.contains(&k) => (TaskState::Failed, Some("Command exited with status 3")),
                k if first && k == LOST_ONCE => (TaskState::Lost, None),
                _ => (TaskState::Finished, None),
            };
            if state == TaskState::Lost {
                // As a master reports a removed slave's task: no uuid, no ack.
                let status = TaskStatus::new(task.task_id.clone(), state);
                let update = StatusUpdate::new(fid(), None, Some(task.slave_id.clone()), status, 1.0, None);
                self.me.send(&from, StatusUpdateMessage { update, pid: None });
            } else {
                self.update(&from, task, state, message);
            }
        }
        self.offer(&from);
    }

    fn update(&mut self, to: &Upid, task: &TaskInfo, state: TaskState, message: Option<&str>) {
        let mut status = TaskStatus::new(task.task_id.clone(), state);
        status.message = message.map(str::to_string);
        let update = StatusUpdate::new(fid(), None, Some(task.slave_id.clone()), status, 1.0, Some(Uuid::new_v4()));
        self.updates_with_uuid += 1;
        self.me.send(to, StatusUpdateMessage { update, pid: Some(self.slave.clone()) });
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("event within 20 s").expect("open")
}

#[actix_rt::test]
async fn all_tasks_finish_with_failed_and_lost_ones_redispatched() {
    let state_dir = std::env::temp_dir().join(format!("redispatch-fake-{}", Uuid::new_v4()));
    let list = parse_task_list(&(1..=12).map(|i| format!("echo {i}\n")).collect::<String>()).unwrap();
    let resources = Resources::parse("cpus:0.1;mem:32").unwrap();

    let master_node = Node::bind(Config::loopback(0)).await.unwrap();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let slave = Upid::new("slave(1)", master_node.address()).unwrap();
    let master = master_node
        .spawn("master", |me| FakeMaster { me, slave, offers: 0, seen: seen_tx, updates_with_uuid: 0 })
        .unwrap()
        .pid;

    let mut store = FileStore::open(&state_dir).unwrap();
    let (stored, stored_id) = store.load().unwrap();
    let (core, added) = Redispatch::new(list.clone(), stored, resources.clone());
    for k in &added {
        store.save(core.record(k).unwrap()).unwrap();
    }
    let scheduler = RedispatchScheduler::new(core, Box::new(store), stored_id);
    let outcome = scheduler.outcome();
    let sched_node = Node::bind(Config::loopback(0)).await.unwrap();
    let framework = FrameworkInfo::new("tester", "redispatch-test");
    let mut driver =
        SchedulerDriver::new(scheduler, framework, master.addr().to_string()).unwrap().with_node(sched_node.clone());
    assert_eq!(driver.run().await.unwrap(), DriverStatus::Stopped);
    assert_eq!(*outcome.lock().unwrap(), Outcome::Done);

    // Every slave-made update was acknowledged before the framework left:
    // 12 tasks x (RUNNING + final) + 3 failed first attempts x RUNNING/FAILED
    // + 1 lost first attempt x RUNNING (its LOST came from the master).
    let mut acks = HashSet::new();
    let sent = loop {
        match next(&mut seen).await {
            Seen::Ack(u) => assert!(acks.insert(u), "acknowledged twice"),
            Seen::Unregister(sent) => break sent,
        }
    };
    assert_eq!(sent, 12 * 2 + 3 * 2 + 1);
    assert_eq!(acks.len() as u64, sent);

    // The store holds the end state; a second run has nothing to do.
    let mut store = FileStore::open(&state_dir).unwrap();
    let (stored, id) = store.load().unwrap();
    assert_eq!(id, Some(fid()));
    assert_eq!(stored.len(), 12);
    assert!(stored.iter().all(|r| r.phase == Phase::Finished));
    let (again, added) = Redispatch::new(list, stored, resources);
    assert!(added.is_empty() && again.is_done());
    assert_eq!(again.summary(), "finished 12 of 12, re-dispatched 4");
    for r in again.records() {
        let expected = if FAIL_ONCE.contains(&r.key.as_str()) || r.key == LOST_ONCE { 2 } else { 1 };
        assert_eq!(r.attempts, expected, "{}", r.key);
    }
    sched_node.shutdown();
    master_node.shutdown();
    let _ = std::fs::remove_dir_all(&state_dir);
}

/// A store that fails from its `fail_from`-th save on.
struct FailingStore {
    saves: u32,
    fail_from: u32,
}

impl TaskStore for FailingStore {
    fn load(&mut self) -> Result<(Vec<TaskRecord>, Option<FrameworkID>), StoreError> {
        Ok((vec![], None))
    }
    fn save(&mut self, _: &TaskRecord) -> Result<(), StoreError> {
        self.saves += 1;
        if self.saves >= self.fail_from {
            let source = std::io::Error::other("disk full");
            return Err(StoreError::Io { path: "tasks/x.json".into(), source });
        }
        Ok(())
    }
    fn save_framework_id(&mut self, _: Option<&FrameworkID>) -> Result<(), StoreError> {
        Ok(())
    }
}

#[actix_rt::test]
async fn a_failing_store_aborts_the_framework_before_it_acts() {
    let master_node = Node::bind(Config::loopback(0)).await.unwrap();
    let (seen_tx, _seen) = mpsc::unbounded_channel();
    let slave = Upid::new("slave(1)", master_node.address()).unwrap();
    let master = master_node
        .spawn("master", |me| FakeMaster { me, slave, offers: 0, seen: seen_tx, updates_with_uuid: 0 })
        .unwrap()
        .pid;
    let list = parse_task_list("echo 1\necho 2\n").unwrap();
    let (core, _) = Redispatch::new(list, vec![], Resources::parse("cpus:0.1;mem:32").unwrap());
    // The launch of the first offer's tasks saves two records: the second fails.
    let scheduler = RedispatchScheduler::new(core, Box::new(FailingStore { saves: 0, fail_from: 2 }), None);
    let outcome = scheduler.outcome();
    let sched_node = Node::bind(Config::loopback(0)).await.unwrap();
    let mut driver = SchedulerDriver::new(scheduler, FrameworkInfo::new("t", "failing"), master.addr().to_string())
        .unwrap()
        .with_node(sched_node.clone());
    assert_eq!(driver.run().await.unwrap(), DriverStatus::Aborted);
    assert!(matches!(&*outcome.lock().unwrap(), Outcome::StoreFailed(e) if e.contains("disk full")));
    sched_node.shutdown();
    master_node.shutdown();
}
