//! redispatch's scheduler on the real driver against a fake master written
//! here (loopback TCP, the real messages): 12 tasks, 3 of which fail on their
//! first attempt and one is reported lost, all end FINISHED, 4 were
//! re-dispatched, every slave-made update was acknowledged, the store holds
//! the final state, and a second run over the same store has nothing to do.
//! A store that fails aborts the framework before it launches anything.
//! Waits on messages and the driver's end, never on sleeps.

use std::cell::Cell;
use std::collections::HashSet;
use std::rc::Rc;

use libprocess::testkit::Recording;
use libprocess::{Config, Me, Node, Upid};
use rmesos::messages::*;
use rmesos::scheduler::{DriverStatus, SchedulerDriver};
use rmesos::{FrameworkID, FrameworkInfo, MasterInfo, Resources, TaskState, TaskStatus};
use rmesos_examples::redispatch::{
    parse_task_list, FileStore, Outcome, Phase, Redispatch, RedispatchScheduler, StoreError, TaskRecord, TaskStore,
};
use rmesos_testkit::fakes::{fake, framework_id as fid, offer, status_update};
use rmesos_testkit::Heard;
use uuid::Uuid;

/// Keys whose first attempt fails, and the one whose first attempt is lost.
const FAIL_ONCE: [&str; 3] = ["task-0002", "task-0005", "task-0011"];
const LOST_ONCE: &str = "task-0007";

/// The fake master (the test kit's fake, answering as below) on `node`:
/// offers one slave's resources at registration, after each launch and on
/// revive; runs each launched task at once: RUNNING, then FINISHED (or
/// FAILED / LOST on the chosen first attempts). Counts the updates it made
/// with a uuid (each needs an acknowledgement) in the returned cell.
fn fake_master(node: &Node) -> (Upid, Recording<Heard>, Rc<Cell<u64>>) {
    let slave = Upid::new("slave(1)", node.address()).unwrap();
    let offers = Rc::new(Cell::new(0u64));
    let with_uuid = Rc::new(Cell::new(0u64));
    let offer_to = {
        let (offers, slave) = (offers.clone(), slave.clone());
        move |me: &Me, to: &Upid| {
            offers.set(offers.get() + 1);
            let o = offer(&format!("fake-O{}", offers.get()), "cpus:0.4;mem:128");
            me.send(to, ResourceOffersMessage { offers: vec![o], pids: vec![slave.clone()] });
        }
    };
    let (on_register, on_revive, on_launch) = (offer_to.clone(), offer_to.clone(), offer_to);
    let counted = with_uuid.clone();
    let (pid, heard) = fake()
        .on(move |me: &Me, from: &Upid, _: &RegisterFrameworkMessage| {
            let master_info = MasterInfo::new("fake", me.pid(), None, None);
            me.send(from, FrameworkRegisteredMessage { framework_id: fid(), master_info });
            on_register(me, from);
        })
        .on(move |me: &Me, from: &Upid, _: &ReviveOffersMessage| on_revive(me, from))
        .on(move |me: &Me, from: &Upid, msg: &LaunchTasksMessage| {
            if msg.tasks.is_empty() {
                return; // a decline: offer again only when revived
            }
            for task in &msg.tasks {
                let first = task.task_id.as_str().ends_with(".1");
                let (state, message) = match task.name.as_str() {
                    k if first && FAIL_ONCE.contains(&k) => (TaskState::Failed, Some("Command exited with status 3")),
                    k if first && k == LOST_ONCE => (TaskState::Lost, None),
                    _ => (TaskState::Finished, None),
                };
                for (state, message) in [(TaskState::Running, None), (state, message)] {
                    let status = TaskStatus::new(task.task_id.clone(), state);
                    let status = match message {
                        Some(m) => status.with_message(m),
                        None => status,
                    };
                    if state == TaskState::Lost {
                        // As a master reports a removed slave's task: no uuid, no ack.
                        let update = StatusUpdate::new(fid(), None, Some(task.slave_id.clone()), status, 1.0, None);
                        me.send(from, StatusUpdateMessage { update, pid: None });
                    } else {
                        counted.set(counted.get() + 1);
                        let update = status_update(fid(), task.slave_id.clone(), status);
                        me.send(from, StatusUpdateMessage { update, pid: Some(slave.clone()) });
                    }
                }
            }
            on_launch(me, from);
        })
        .spawn(node, "master");
    (pid, heard, with_uuid)
}

#[actix_rt::test]
async fn all_tasks_finish_with_failed_and_lost_ones_redispatched() {
    let state_dir = std::env::temp_dir().join(format!("redispatch-fake-{}", Uuid::new_v4()));
    let list = parse_task_list(&(1..=12).map(|i| format!("echo {i}\n")).collect::<String>()).unwrap();
    let resources = Resources::parse("cpus:0.1;mem:32").unwrap();

    let master_node = Node::bind(Config::loopback(0)).await.unwrap();
    let (master, mut heard, with_uuid) = fake_master(&master_node);

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
        match heard.next().await {
            Heard::Ack(_, m) => assert!(acks.insert(m.uuid), "acknowledged twice"),
            Heard::UnregisterFramework(..) => break with_uuid.get(),
            _ => {}
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
    let (master, _heard, _) = fake_master(&master_node);
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
