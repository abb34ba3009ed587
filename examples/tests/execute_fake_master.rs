//! The `rmesos-execute` binary as a real OS process against a fake master in
//! this test process: it registers, launches `--count 2` tasks on one offer,
//! prints each state change, unregisters, and exits with the failed task's
//! exit status parsed from "Command exited with status 3".

use std::process::Stdio;
use std::time::Duration;

use libprocess::{Actor, Config, Context, Handlers, Me, Node, Process, Upid};
use rmesos::messages::*;
use rmesos::{FrameworkID, MasterInfo, Offer, OfferID, Resources, SlaveID, TaskState, TaskStatus};
use tokio::sync::mpsc;
use uuid::Uuid;

struct FakeMaster {
    me: Me,
    unregistered: mpsc::UnboundedSender<FrameworkID>,
}

impl Actor for FakeMaster {
    type Context = Context<Self>;
}

fn fid() -> FrameworkID {
    FrameworkID::new("fake-0000").unwrap()
}

impl Process for FakeMaster {
    fn install(h: &mut Handlers<Self>) {
        h.install(FakeMaster::register).install(FakeMaster::launch).install(
            |m: &mut Self, _, msg: UnregisterFrameworkMessage, _| {
                let _ = m.unregistered.send(msg.framework_id);
            },
        );
    }
}

impl FakeMaster {
    fn register(&mut self, from: Upid, _msg: RegisterFrameworkMessage, _ctx: &mut Context<Self>) {
        let master_info = MasterInfo::new("fake", self.me.pid(), None, None);
        self.me.send(&from, FrameworkRegisteredMessage { framework_id: fid(), master_info });
        let offer = Offer {
            id: OfferID::new("fake-O1").unwrap(),
            framework_id: fid(),
            slave_id: SlaveID::new("fake-S0").unwrap(),
            hostname: "localhost".into(),
            resources: Resources::parse("cpus:1;mem:128").unwrap(),
            attributes: Default::default(),
            executor_ids: vec![],
        };
        let slave = self.me.pid().clone();
        self.me.send(&from, ResourceOffersMessage { offers: vec![offer], pids: vec![slave] });
    }

    fn launch(&mut self, from: Upid, msg: LaunchTasksMessage, _ctx: &mut Context<Self>) {
        for task in msg.tasks {
            let last = if task.task_id.as_str().ends_with("-2") {
                TaskStatus::new(task.task_id.clone(), TaskState::Failed).with_message("Command exited with status 3")
            } else {
                TaskStatus::new(task.task_id.clone(), TaskState::Finished)
            };
            for status in [TaskStatus::new(task.task_id.clone(), TaskState::Running), last] {
                let update =
                    StatusUpdate::new(fid(), None, Some(task.slave_id.clone()), status, 1.0, Some(Uuid::new_v4()));
                self.me.send(&from, StatusUpdateMessage { update, pid: Some(self.me.pid().clone()) });
            }
        }
    }
}

#[actix_rt::test]
async fn execute_runs_tasks_and_exits_with_the_failed_status() {
    let node = Node::bind(Config::loopback(0)).await.unwrap();
    let (tx, mut unregistered) = mpsc::unbounded_channel();
    let master = node.spawn("master", |me| FakeMaster { me, unregistered: tx }).unwrap().pid;

    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_rmesos-execute"))
        .args(["--master", &master.addr().to_string(), "--name", "job", "--command", "exit 3", "--count", "2"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await.expect("exits").unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    for expected in
        ["job-1 TASK_RUNNING", "job-1 TASK_FINISHED", "job-2 TASK_FAILED on fake-S0: Command exited with status 3"]
    {
        assert!(stdout.contains(expected), "missing '{expected}' in:\n{stdout}");
    }
    let id = tokio::time::timeout(Duration::from_secs(10), unregistered.recv()).await.expect("unregistered").unwrap();
    assert_eq!(id, fid());
    node.shutdown();
}
