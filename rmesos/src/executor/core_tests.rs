//! Unit tests of the executor driver's protocol core.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::ids::{ExecutorID, FrameworkID};
use crate::info::CommandInfo;
use crate::resources::Resources;

fn env(checkpoint: bool) -> ExecutorEnv {
    ExecutorEnv {
        slave_pid: "slave(1)@127.0.0.1:5051".parse().unwrap(),
        slave_id: SlaveID::new("m-S0").unwrap(),
        framework_id: FrameworkID::new("m-0000").unwrap(),
        executor_id: ExecutorID::new("t1").unwrap(),
        directory: PathBuf::from("/tmp"),
        checkpoint,
        shutdown_grace_period: Duration::from_secs(5),
        recovery_timeout: Duration::from_secs(900),
    }
}

fn core(checkpoint: bool) -> (DriverCore, Upid) {
    let slave: Upid = "slave(1)@127.0.0.1:5051".parse().unwrap();
    (DriverCore::new(env(checkpoint), "executor(1)@127.0.0.1:40000".parse().unwrap()), slave)
}

fn task(id: &str) -> TaskInfo {
    TaskInfo::command(
        "t",
        TaskID::new(id).unwrap(),
        SlaveID::new("m-S0").unwrap(),
        Resources::parse("cpus:0.1").unwrap(),
        CommandInfo::shell("true"),
    )
}

fn sent_updates(actions: &[Action]) -> Vec<StatusUpdate> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(_, Outgoing::StatusUpdate(m)) => Some(m.update.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn registers_then_launches_and_tracks_updates_until_acknowledged() {
    let (mut c, slave) = core(false);
    let a = c.start();
    assert!(matches!(&a[1], Action::Send(to, Outgoing::Register(m)) if to == &slave && m.executor_id.as_str() == "t1"));
    let a = c.run_task(&slave, RunTaskMessage { framework: FrameworkInfo::new("u", "f"), task: task("t1"), pid: None });
    assert!(matches!(&a[0], Action::Callback(Callback::LaunchTask(_))));
    let a =
        c.send_status_update(TaskStatus::new(TaskID::new("t1").unwrap(), TaskState::Running), Uuid::from_u128(1), 5.0);
    let a = a.unwrap();
    let u = &sent_updates(&a)[0];
    assert_eq!(u.status.source, Some(Source::Executor));
    assert_eq!(u.executor_id.as_ref().unwrap().as_str(), "t1");
    assert_eq!(u.slave_id.as_ref().unwrap().as_str(), "m-S0");
    assert_eq!(c.unacknowledged(), 1);
    assert_eq!(
        c.send_status_update(TaskStatus::new(TaskID::new("t1").unwrap(), TaskState::Staging), Uuid::from_u128(2), 5.0),
        Err(SendError::Staging)
    );
    let ack = StatusUpdateAcknowledgementMessage {
        slave_id: SlaveID::new("m-S0").unwrap(),
        framework_id: FrameworkID::new("m-0000").unwrap(),
        task_id: TaskID::new("t1").unwrap(),
        uuid: Uuid::from_u128(1),
    };
    let stranger: Upid = "slave(1)@127.0.0.9:5051".parse().unwrap();
    assert!(c.acknowledged(&stranger, ack.clone()).is_empty(), "only our slave acknowledges");
    assert_eq!(c.acknowledged(&slave, ack), vec![Action::Acknowledged(Uuid::from_u128(1))]);
    assert_eq!(c.unacknowledged(), 0);
}

#[test]
fn reconnect_resends_unacknowledged_tasks_and_updates() {
    let (mut c, slave) = core(true);
    c.start();
    c.run_task(&slave, RunTaskMessage { framework: FrameworkInfo::new("u", "f"), task: task("t1"), pid: None });
    c.send_status_update(TaskStatus::new(TaskID::new("t1").unwrap(), TaskState::Running), Uuid::from_u128(1), 1.0)
        .unwrap();
    let a = c.slave_exited(&slave);
    assert_eq!(a, vec![Action::Callback(Callback::Disconnected), Action::RecoveryTimer(1)]);
    // While disconnected, updates are kept but not sent.
    let a = c
        .send_status_update(TaskStatus::new(TaskID::new("t1").unwrap(), TaskState::Finished), Uuid::from_u128(2), 2.0)
        .unwrap();
    assert!(sent_updates(&a).is_empty());
    // Another slave (another id) is not ours; ours may come back on another port.
    let other: Upid = "slave(1)@127.0.0.1:5051".parse().unwrap();
    assert!(c.reconnect(&other, ReconnectExecutorMessage { slave_id: SlaveID::new("m-S9").unwrap() }).is_empty());
    let restarted: Upid = "slave(1)@127.0.0.1:5099".parse().unwrap();
    let a = c.reconnect(&restarted, ReconnectExecutorMessage { slave_id: SlaveID::new("m-S0").unwrap() });
    assert_eq!(a[0], Action::Link(restarted.clone()));
    let Action::Send(_, Outgoing::Reregister(m)) = &a[1] else { panic!("{a:?}") };
    assert_eq!(m.tasks.len(), 1);
    assert_eq!(m.updates.iter().map(|u| u.uuid.unwrap().as_u128()).collect::<Vec<_>>(), [1, 2]);
    // A stale recovery timer does nothing once reregistered.
    c.reregistered(
        &restarted,
        ExecutorReregisteredMessage {
            slave_id: SlaveID::new("m-S0").unwrap(),
            slave_info: SlaveInfo::new("h", 5051, Resources::new(), Default::default()),
        },
    );
    assert!(c.recovery_timeout(1).is_empty());
}

#[test]
fn slave_exit_without_checkpoint_shuts_down_and_stops() {
    let (mut c, slave) = core(false);
    c.start();
    let a = c.slave_exited(&slave);
    assert_eq!(a, vec![Action::Callback(Callback::Shutdown), Action::StopTimer(Duration::from_secs(5))]);
    assert_eq!(c.state(), State::ShuttingDown);
    assert!(c
        .send_status_update(TaskStatus::new(TaskID::new("x").unwrap(), TaskState::Killed), Uuid::from_u128(9), 1.0)
        .is_err());
    // The executor stops first, or the grace period ends it.
    let mut c2 = DriverCore::new(env(false), "executor(1)@127.0.0.1:40000".parse().unwrap());
    c2.slave_exited(&slave);
    assert!(matches!(c2.stop_timer()[..], [Action::Stop(_)]));
    assert!(matches!(c.stop()[..], [Action::Stop(_)]));
    assert!(c.stop_timer().is_empty());
    assert_eq!(c.state(), State::Stopped);
    assert!(c
        .run_task(&slave, RunTaskMessage { framework: FrameworkInfo::new("u", "f"), task: task("x"), pid: None })
        .is_empty());
}
