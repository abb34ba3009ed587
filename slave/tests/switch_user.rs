//! `--switch_user` with a real user the test creates (`useradd`) and
//! removes: the task runs as its `CommandInfo.user`, its sandbox owned by
//! that user; an unknown user is TASK_FAILED at launch with a message
//! naming it. Needs root (to create users and switch to them): under
//! `CI=true` it fails without, elsewhere it is skipped with a line.

mod harness;

use std::os::unix::fs::MetadataExt;
use std::process::Command;

use harness::*;
use rmesos::{CommandInfo, Reason, Resources, TaskID, TaskInfo, TaskState};

/// A user made for the test, removed when dropped.
struct TestUser {
    name: String,
}

impl TestUser {
    fn create() -> Option<TestUser> {
        let name = format!("rmt{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let made = root
            && Command::new("useradd")
                .args(["--no-create-home", "--shell", "/bin/sh", &name])
                .status()
                .is_ok_and(|s| s.success());
        if made {
            return Some(TestUser { name });
        }
        let why = if root { "useradd failed" } else { "not root" };
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("switch_user cannot be tested under CI=true: {why}");
        }
        eprintln!("skipped: {why}");
        None
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        // --force: the user's executor may still be exiting.
        let _ = Command::new("userdel").args(["--force", &self.name]).status();
    }
}

fn task_as(id: &str, user: &str, command: &str) -> TaskInfo {
    let mut cmd = CommandInfo::shell(command);
    cmd.user = Some(user.to_string());
    TaskInfo::command(id, TaskID::new(id).unwrap(), sid(), Resources::parse("cpus:0.1;mem:32").unwrap(), cmd)
}

async fn terminal(c: &mut Cluster, task: &str) -> rmesos::StatusUpdate {
    loop {
        let u = c.update().await;
        if u.task_id().as_str() == task && u.status.state.is_terminal() {
            return u;
        }
    }
}

#[actix_rt::test]
async fn a_task_runs_as_its_user_in_a_sandbox_it_owns() {
    let Some(user) = TestUser::create() else { return };
    let mut c = cluster("switch-user").await;
    c.run_task(task_as("who", &user.name, "id -un; touch mine"));
    let u = terminal(&mut c, "who").await;
    assert_eq!(u.status.state, TaskState::Finished, "{:?}", u.status);
    let run = c.runs("who").pop().unwrap();
    let stdout = std::fs::read_to_string(run.join("stdout")).unwrap();
    assert!(stdout.lines().any(|l| l == user.name), "the task ran as {}: {stdout}", user.name);
    let uid = std::fs::metadata(&run).unwrap().uid();
    assert_ne!(uid, 0, "the sandbox belongs to the task's user");
    assert_eq!(std::fs::metadata(run.join("mine")).unwrap().uid(), uid);

    c.run_task(task_as("ghost", "no-such-user-rmesos", "true"));
    let u = terminal(&mut c, "ghost").await;
    assert_eq!(u.status.state, TaskState::Failed);
    assert_eq!(u.status.reason, Some(Reason::ContainerLaunchFailed));
    let msg = u.status.message.unwrap_or_default();
    assert!(msg.contains("no-such-user-rmesos"), "{msg}");
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn without_switch_user_a_task_runs_as_the_slave() {
    let Some(user) = TestUser::create() else { return };
    let mut c = cluster_with("no-switch", &["--switch_user", "false"]).await;
    c.run_task(task_as("me", &user.name, "id -un"));
    let u = terminal(&mut c, "me").await;
    assert_eq!(u.status.state, TaskState::Finished, "{:?}", u.status);
    let stdout = std::fs::read_to_string(c.runs("me").pop().unwrap().join("stdout")).unwrap();
    assert!(stdout.lines().any(|l| l == this_user()), "{stdout}");
    cleanup(&c.work_dir);
}
