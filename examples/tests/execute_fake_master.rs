//! The `rmesos-execute` binary as a real OS process against a fake master in
//! this test process: it registers, launches `--count 2` tasks on one offer,
//! prints each state change, unregisters, and exits with the failed task's
//! exit status parsed from "Command exited with status 3".

use std::process::Stdio;
use std::time::Duration;

use libprocess::testkit::Recording;
use libprocess::{Config, Me, Node, Upid};
use rmesos::messages::*;
use rmesos::{MasterInfo, TaskState, TaskStatus};
use rmesos_testkit::fakes::{fake, framework_id as fid, offer, status_update};
use rmesos_testkit::Heard;

/// The fake master: registers the framework and offers it one slave's
/// resources; runs each launched task at once (RUNNING, then FINISHED, or
/// FAILED with exit status 3 for the second).
fn fake_master(node: &Node) -> (Upid, Recording<Heard>) {
    fake()
        .on(|me: &Me, from: &Upid, _: &RegisterFrameworkMessage| {
            let master_info = MasterInfo::new("fake", me.pid(), None, None);
            me.send(from, FrameworkRegisteredMessage { framework_id: fid(), master_info });
            let slave = me.pid().clone();
            me.send(
                from,
                ResourceOffersMessage { offers: vec![offer("fake-O1", "cpus:1;mem:128")], pids: vec![slave] },
            );
        })
        .on(|me: &Me, from: &Upid, msg: &LaunchTasksMessage| {
            for task in &msg.tasks {
                let last = if task.task_id.as_str().ends_with("-2") {
                    TaskStatus::new(task.task_id.clone(), TaskState::Failed)
                        .with_message("Command exited with status 3")
                } else {
                    TaskStatus::new(task.task_id.clone(), TaskState::Finished)
                };
                for status in [TaskStatus::new(task.task_id.clone(), TaskState::Running), last] {
                    let update = status_update(fid(), task.slave_id.clone(), status);
                    me.send(from, StatusUpdateMessage { update, pid: Some(me.pid().clone()) });
                }
            }
        })
        .spawn(node, "master")
}

#[actix_rt::test]
async fn execute_runs_tasks_and_exits_with_the_failed_status() {
    let node = Node::bind(Config::loopback(0)).await.unwrap();
    let (master, mut heard) = fake_master(&node);

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
    let id = heard
        .next_where(|e| match e {
            Heard::UnregisterFramework(_, m) => Some(m.framework_id),
            _ => None,
        })
        .await;
    assert_eq!(id, fid());
    node.shutdown();
}
