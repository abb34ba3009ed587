//! Real processes: the test plays the master (a libprocess node speaking the
//! real messages) and starts `rmesos-slave` as a child process, which
//! launches the real `rmesos-executor`. Every wait is on a message from the
//! slave (with a generous timeout as a safety net); nothing sleeps.

mod harness;

use std::process::Command;
use std::time::Duration;

use harness::*;
use rmesos::messages::*;
use rmesos::{CommandInfo, ExecutorID, ExecutorInfo, Reason, Resources, TaskID, TaskInfo, TaskState};

#[actix_rt::test]
async fn echo_hello_finishes_and_writes_to_the_sandbox_stdout() {
    let mut c = cluster("echo").await;
    c.run("hello", "echo hello");
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(c.update().await);
    }
    assert_eq!(states(&got), [TaskState::Starting, TaskState::Running, TaskState::Finished]);
    assert!(got.iter().all(|u| u.slave_id == Some(sid()) && u.executor_id.as_ref().unwrap().as_str() == "hello"));
    let exited = c.exited().await;
    assert_eq!((exited.executor_id.as_str(), exited.status), ("hello", 0));
    let runs = c.runs("hello");
    assert_eq!(runs.len(), 1);
    let stdout = std::fs::read_to_string(runs[0].join("stdout")).unwrap();
    assert!(stdout.lines().any(|l| l == "hello"), "stdout: {stdout}");
    // The same file through the operator endpoints.
    let state = c.get_json("/state").await;
    assert_eq!(state["id"], "fake-S0");
    assert_eq!(state["pid"], c.slave.to_string());
    let done = &state["completed_frameworks"][0]["completed_executors"][0];
    assert_eq!(done["completed_tasks"][0]["state"], "TASK_FINISHED");
    let path = runs[0].join("stdout");
    let read = c.get_json(&format!("/files/read?path={}&offset=0", path.display())).await;
    assert_eq!(read["data"], stdout.as_str());
    let metrics = c.get_json("/metrics/snapshot").await;
    assert_eq!(metrics["slave/registered"], 1.0, "{metrics}");
    assert_eq!(metrics["slave/tasks_running"], 0.0, "{metrics}");
    assert_eq!(metrics["slave/executors_running"], 0.0, "{metrics}");
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn a_failing_command_fails_with_its_exit_code() {
    let mut c = cluster("fail").await;
    c.run("fails", "echo oops >&2; exit 3");
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(c.update().await);
    }
    assert_eq!(states(&got), [TaskState::Starting, TaskState::Running, TaskState::Failed]);
    let msg = got[2].status.message.clone().unwrap_or_default();
    assert!(msg.contains("Command exited with status 3"), "{msg}");
    let stderr = std::fs::read_to_string(c.runs("fails")[0].join("stderr")).unwrap();
    assert!(stderr.contains("oops"), "{stderr}");
    assert_eq!(c.exited().await.status, 0, "the executor exits once the failure is acknowledged");
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn a_killed_executor_loses_its_task_and_is_reported_exited() {
    let mut c = cluster("lost").await;
    c.run("sleeper", "sleep 1000");
    assert_eq!(c.update().await.status.state, TaskState::Starting);
    assert_eq!(c.update().await.status.state, TaskState::Running);
    let pid = c.executor_pid("sleeper");
    // SAFETY: a plain kill of the executor process this test's slave started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    // Both come, in either order: the TASK_LOST update may wait behind the
    // acknowledgement of TASK_RUNNING (one update in flight per task).
    let (mut lost, mut exited) = (None, None);
    while lost.is_none() || exited.is_none() {
        match next(&mut c.events).await {
            Event::Update(_, m) => {
                let u = m.update;
                c.node.send(&c.master, &c.slave, ack_of(&u));
                lost = Some(u);
            }
            Event::Exited(m) => exited = Some(m),
            _ => {}
        }
    }
    let (lost, exited) = (lost.unwrap(), exited.unwrap());
    assert_eq!(lost.status.state, TaskState::Lost);
    assert_eq!(lost.status.reason, Some(Reason::ExecutorTerminated));
    assert_eq!((exited.executor_id.as_str(), exited.status), ("sleeper", -libc::SIGKILL));
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn a_killed_task_is_reported_killed() {
    let mut c = cluster("kill").await;
    c.run("victim", "sleep 1000");
    assert_eq!(c.update().await.status.state, TaskState::Starting);
    assert_eq!(c.update().await.status.state, TaskState::Running);
    c.node.send(
        &c.master,
        &c.slave,
        KillTaskMessage { framework_id: fid(), task_id: TaskID::new("victim").unwrap(), kill_policy: None },
    );
    assert_eq!(c.update().await.status.state, TaskState::Killed);
    assert_eq!(c.exited().await.status, 0, "the executor exits on its own once the kill is acknowledged");
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn an_executor_that_never_registers_is_killed_and_its_task_fails() {
    let mut c = cluster_with("regtimeout", &["--executor_registration_timeout", "300ms"]).await;
    let executor = ExecutorInfo::new(ExecutorID::new("silent").unwrap(), CommandInfo::shell("sleep 1000"));
    c.run_task(TaskInfo::with_executor(
        "t",
        TaskID::new("t").unwrap(),
        sid(),
        Resources::parse("cpus:0.1").unwrap(),
        executor,
    ));
    let (mut failed, mut exited) = (None, None);
    while failed.is_none() || exited.is_none() {
        match next(&mut c.events).await {
            Event::Update(_, m) => {
                c.node.send(&c.master, &c.slave, ack_of(&m.update));
                failed = Some(m.update);
            }
            Event::Exited(m) => exited = Some(m),
            _ => {}
        }
    }
    let failed = failed.unwrap();
    assert_eq!(failed.status.state, TaskState::Failed);
    assert_eq!(failed.status.reason, Some(Reason::ExecutorRegistrationTimeout));
    assert_eq!(exited.unwrap().status, -libc::SIGKILL);
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn shutting_a_framework_down_ends_its_executors() {
    let mut c = cluster_with("shutdown", &["--executor_shutdown_grace_period", "2secs"]).await;
    c.run("long", "sleep 1000");
    assert_eq!(c.update().await.status.state, TaskState::Starting);
    assert_eq!(c.update().await.status.state, TaskState::Running);
    let pid = c.executor_pid("long");
    c.node.send(&c.master, &c.slave, ShutdownFrameworkMessage { framework_id: fid() });
    let exited = c.exited().await;
    assert_eq!(exited.executor_id.as_str(), "long");
    // The executor's session is gone, task included.
    assert_ne!(unsafe { libc::kill(pid, 0) }, 0, "executor {pid} still alive");
    let state = c.get_json("/state").await;
    assert!(state["frameworks"].as_array().unwrap().is_empty(), "{state}");
    cleanup(&c.work_dir);
}

#[test]
fn bad_flags_exit_2_with_one_clear_line() {
    for (args, expected) in [
        (vec!["--master", "localhost", "--work_dir", "/tmp/x"], "has no port"),
        (vec!["--master", "zk://z1:2181/", "--work_dir", "/tmp/x"], "ZooKeeper path"),
        (vec!["--master", "127.0.0.1:5050", "--work_dir", "/tmp/x", "--resources", "cpus:-1"], "negative"),
        (vec!["--master", "127.0.0.1:5050", "--work_dir", "/tmp/x", "--attributes", "rack"], "name:value"),
        (
            vec!["--master", "127.0.0.1:5050", "--work_dir", "/tmp/x", "--executor_registration_timeout", "60"],
            "no unit",
        ),
    ] {
        let out = Command::new(slave_binary()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("error:") && first.contains(expected), "{args:?}: {stderr}");
    }
}

#[actix_rt::test]
async fn sandboxes_are_garbage_collected_after_the_gc_delay() {
    let mut c = cluster_with("gc", &["--gc_delay", "200ms"]).await;
    c.run("done", "echo done");
    loop {
        if c.update().await.status.state.is_terminal() {
            break;
        }
    }
    let run = c.runs("done").pop().expect("a sandbox");
    let executor_dir = run.parent().unwrap().parent().unwrap().to_path_buf();
    // Removed once the executor is over and its updates acknowledged, the
    // delay later (polled: the removal is the slave's own timer).
    let logged = || std::fs::read_to_string(c.work_dir.join("slave.log")).unwrap().contains("Garbage collected");
    let mut gone = false;
    for _ in 0..1000 {
        if !executor_dir.exists() && logged() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(gone, "{} was not garbage collected (and logged)", executor_dir.display());
    cleanup(&c.work_dir);
}
