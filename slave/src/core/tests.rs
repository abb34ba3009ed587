//! Unit tests of the slave core: registration and backoff, pings, the task
//! lifecycle through an executor, executor exits and timeouts, shutdowns.

use std::path::PathBuf;
use std::time::Duration;

use libprocess::{Time, Upid};
use rmesos::ids::{ExecutorID, FrameworkID, SlaveID, TaskID};
use rmesos::info::{CommandInfo, FrameworkInfo, SlaveInfo, TaskInfo};
use rmesos::messages::*;
use rmesos::task::{Reason, TaskState, TaskStatus};
use rmesos::{Resources, StatusUpdate};
use uuid::Uuid;

use super::state::ExecutorState;
use super::*;

pub(super) fn master() -> Upid {
    "master@127.0.0.1:5050".parse().unwrap()
}
pub(super) fn me() -> Upid {
    "slave(1)@127.0.0.1:5051".parse().unwrap()
}
pub(super) fn exec_pid() -> Upid {
    "executor(1)@127.0.0.1:40001".parse().unwrap()
}
pub(super) fn now(s: u64) -> Now {
    Now { time: Time::default() + Duration::from_secs(s), unix: 1.7e9 + s as f64 }
}
pub(super) fn fid() -> FrameworkID {
    FrameworkID::new("m-0000").unwrap()
}
pub(super) fn sid() -> SlaveID {
    SlaveID::new("m-S0").unwrap()
}
pub(super) fn tid() -> TaskID {
    TaskID::new("t1").unwrap()
}
pub(super) fn eid() -> ExecutorID {
    ExecutorID::new("t1").unwrap()
}

pub(super) fn core() -> SlaveCore {
    let cfg = CoreConfig {
        work_dir: PathBuf::from("/w"),
        info: SlaveInfo::new("h", 5051, Resources::parse("cpus:2;mem:1024").unwrap(), Default::default()),
        command_executor: PathBuf::from("/bin/rmesos-executor"),
        registration_backoff_factor: Duration::from_secs(1),
        executor_registration_timeout: Duration::from_secs(60),
        executor_shutdown_grace_period: Duration::from_secs(5),
        recovery_timeout: Duration::from_secs(900),
        executor_reregistration_timeout: Duration::from_secs(2),
        switch_user: true,
        seed: 7,
        incarnation: 0x5eed,
    };
    SlaveCore::new(cfg, me())
}

pub(super) fn timers(a: &[Action]) -> Vec<(Duration, Timer)> {
    a.iter().filter_map(|a| if let Action::SetTimer(d, t) = a { Some((*d, t.clone())) } else { None }).collect()
}

pub(super) fn sent(a: &[Action]) -> Vec<(Upid, Outgoing)> {
    a.iter().filter_map(|a| if let Action::Send(to, m) = a { Some((to.clone(), m.clone())) } else { None }).collect()
}

pub(super) fn updates_to_master(a: &[Action]) -> Vec<StatusUpdate> {
    sent(a)
        .into_iter()
        .filter_map(|(to, m)| match m {
            Outgoing::StatusUpdate(m) if to == master() => Some(m.update),
            _ => None,
        })
        .collect()
}

/// A core registered with the master as m-S0.
pub(super) fn registered() -> SlaveCore {
    let mut c = core();
    let a = c.master_detected(Some(master()), now(0));
    let (_, t) = timers(&a).remove(0);
    c.timer(t, now(1));
    c.registered(&master(), SlaveRegisteredMessage { slave_id: sid(), connection: None }, now(1));
    c
}

pub(super) fn framework() -> FrameworkInfo {
    FrameworkInfo { id: Some(fid()), checkpoint: true, ..FrameworkInfo::new("u", "f") }
}

pub(super) fn command_task(cmd: &str) -> TaskInfo {
    TaskInfo::command("t", tid(), sid(), Resources::parse("cpus:0.1").unwrap(), CommandInfo::shell(cmd))
}

/// A registered core running task t1 on a registered command executor.
pub(super) fn running_task() -> (SlaveCore, Uuid) {
    let mut c = registered();
    let a =
        c.run_task(&master(), RunTaskMessage { framework: framework(), task: command_task("true"), pid: None }, now(2));
    let run = a.iter().find_map(|a| if let Action::Launch(l) = a { Some(l.run) } else { None }).unwrap();
    c.register_executor(&exec_pid(), RegisterExecutorMessage { framework_id: fid(), executor_id: eid() }, now(3));
    (c, run)
}

pub(super) fn executor_update(state: TaskState, n: u128) -> StatusUpdateMessage {
    let st = TaskStatus::new(tid(), state);
    StatusUpdateMessage {
        update: StatusUpdate::new(fid(), Some(eid()), None, st, 1.0, Some(Uuid::from_u128(n))),
        pid: Some(exec_pid()),
    }
}

pub(super) fn ack(uuid: Uuid) -> StatusUpdateAcknowledgementMessage {
    StatusUpdateAcknowledgementMessage { slave_id: sid(), framework_id: fid(), task_id: tid(), uuid }
}

#[test]
fn registration_retries_with_randomized_bounded_backoff() {
    let mut c = core();
    let a = c.master_detected(Some(master()), now(0));
    assert!(a.contains(&Action::Link(master())));
    let (first, t) = timers(&a).remove(0);
    assert!(first <= Duration::from_secs(1), "first delay within the backoff factor");
    let mut bound = Duration::from_secs(2);
    let mut t = t;
    for _ in 0..10 {
        let a = c.timer(t.clone(), now(1));
        assert!(matches!(&sent(&a)[0], (to, Outgoing::RegisterSlave(m)) if *to == master() && m.slave.hostname == "h"));
        let (d, next) = timers(&a).remove(0);
        assert!(d <= bound, "{d:?} within {bound:?}");
        bound = (bound * 2).min(REGISTER_RETRY_INTERVAL_MAX);
        t = next;
    }
    assert_eq!(bound, REGISTER_RETRY_INTERVAL_MAX);
    let a = c.registered(&master(), SlaveRegisteredMessage { slave_id: sid(), connection: None }, now(2));
    assert_eq!(c.state(), RegState::Running);
    assert!(a.contains(&Action::Checkpoint(Checkpoint::Slave(c.info().clone()))));
    assert!(c.timer(t, now(3)).is_empty(), "no retry once registered");
}

#[test]
fn registered_from_another_process_is_ignored_and_reregistration_carries_tasks() {
    let mut c = core();
    c.master_detected(Some(master()), now(0));
    let stranger: Upid = "master@127.0.0.9:5050".parse().unwrap();
    c.registered(&stranger, SlaveRegisteredMessage { slave_id: sid(), connection: None }, now(1));
    assert_eq!(c.state(), RegState::Disconnected);

    let (mut c, _) = running_task();
    let other: Upid = "master@127.0.0.2:5050".parse().unwrap();
    let a = c.master_detected(Some(other.clone()), now(10));
    let (_, t) = timers(&a).remove(0);
    let a = c.timer(t, now(11));
    let (to, Outgoing::ReregisterSlave(m)) = sent(&a).remove(0) else { panic!("{a:?}") };
    assert_eq!(to, other);
    assert_eq!(m.slave.id, Some(sid()));
    assert_eq!(m.tasks.len(), 1);
    assert_eq!(m.executor_infos[0].framework_id, Some(fid()));
    assert_eq!(m.frameworks.len(), 1);
    c.reregistered(
        &other,
        SlaveReregisteredMessage { slave_id: sid(), reconciliations: vec![], connection: None },
        now(12),
    );
    assert_eq!(c.state(), RegState::Running);
}

#[test]
fn pings_are_answered_and_their_absence_redetects_the_master() {
    let mut c = core();
    let a = c.master_detected(Some(master()), now(0));
    let (_, t) = timers(&a).remove(0);
    c.timer(t, now(1));
    let conn = MasterSlaveConnection::new(Duration::from_secs(30));
    let a = c.registered(&master(), SlaveRegisteredMessage { slave_id: sid(), connection: Some(conn) }, now(1));
    let (d, ping1) = timers(&a).into_iter().find(|(_, t)| matches!(t, Timer::Ping(_))).unwrap();
    assert_eq!(d, Duration::from_secs(30), "timeout from the master's connection info");
    let a = c.ping(&master(), PingSlaveMessage { connected: true }, now(5));
    assert_eq!(sent(&a), vec![(master(), Outgoing::Pong(PongSlaveMessage {}))]);
    let (_, ping2) = timers(&a).remove(0);
    assert!(c.timer(ping1, now(31)).is_empty(), "a ping resets the timer");
    assert_eq!(c.timer(ping2, now(35)), vec![Action::Redetect]);
    // A ping saying we are not connected makes us reregister.
    let a = c.ping(&master(), PingSlaveMessage { connected: false }, now(36));
    assert_eq!(c.state(), RegState::Disconnected);
    assert!(timers(&a).iter().any(|(_, t)| matches!(t, Timer::Registration(_))));
}

#[test]
fn a_command_task_launches_the_command_executor_and_runs_on_it() {
    let mut c = registered();
    let a = c.run_task(
        &master(),
        RunTaskMessage { framework: framework(), task: command_task("echo hi"), pid: None },
        now(2),
    );
    let launch = a.iter().find_map(|a| if let Action::Launch(l) = a { Some(l.clone()) } else { None }).unwrap();
    assert_eq!(launch.command.value.as_deref(), Some("/bin/rmesos-executor"));
    assert!(launch.directory.starts_with("/w/slaves/m-S0/frameworks/m-0000/executors/t1/runs/"));
    let env: std::collections::HashMap<_, _> = launch.env.iter().cloned().collect();
    assert_eq!(env["RMESOS_SLAVE_PID"], "slave(1)@127.0.0.1:5051");
    assert_eq!(env["RMESOS_EXECUTOR_ID"], "t1");
    assert_eq!(env["RMESOS_CHECKPOINT"], "1");
    assert_eq!(env["RMESOS_RECOVERY_TIMEOUT"], "15mins");
    assert_eq!(env["LIBPROCESS_IP"], "127.0.0.1");
    // Mesos's names, as its agent sets them.
    assert_eq!(env["MESOS_AGENT_ENDPOINT"], "127.0.0.1:5051");
    assert_eq!(env["MESOS_SLAVE_PID"], "slave(1)@127.0.0.1:5051");
    assert_eq!(env["MESOS_SLAVE_ID"], "m-S0");
    assert_eq!((env["MESOS_FRAMEWORK_ID"].as_str(), env["MESOS_EXECUTOR_ID"].as_str()), ("m-0000", "t1"));
    assert_eq!(env["MESOS_DIRECTORY"], launch.directory.to_str().unwrap());
    assert_eq!(env["MESOS_SANDBOX"], env["MESOS_DIRECTORY"]);
    assert_eq!((env["MESOS_CHECKPOINT"].as_str(), env["MESOS_HTTP_COMMAND_EXECUTOR"].as_str()), ("1", "0"));
    assert_eq!(env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"], "5secs");
    assert_eq!(env["MESOS_RECOVERY_TIMEOUT"], "15mins");
    assert_eq!(env["MESOS_SUBSCRIPTION_BACKOFF_MAX"], "2secs");
    assert!(timers(&a)
        .iter()
        .any(|(d, t)| *d == Duration::from_secs(60) && matches!(t, Timer::ExecutorRegistration { .. })));
    assert_eq!(c.frameworks()[&fid()].executors[&eid()].queued.len(), 1);

    let a =
        c.register_executor(&exec_pid(), RegisterExecutorMessage { framework_id: fid(), executor_id: eid() }, now(3));
    let s = sent(&a);
    assert!(matches!(&s[0], (to, Outgoing::ExecutorRegistered(m)) if *to == exec_pid() && m.slave_id == sid()));
    assert!(matches!(&s[1], (to, Outgoing::RunTask(m)) if *to == exec_pid() && m.task.task_id == tid()));
    assert!(a.contains(&Action::Link(exec_pid())));
    let e = &c.frameworks()[&fid()].executors[&eid()];
    assert_eq!((e.state, e.queued.len(), e.launched.len()), (ExecutorState::Running, 0, 1));
}

#[test]
fn updates_flow_in_order_one_at_a_time_and_acks_reach_the_executor() {
    let (mut c, _) = running_task();
    let a = c.status_update(&exec_pid(), executor_update(TaskState::Running, 1), now(4));
    let u = updates_to_master(&a);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].slave_id, Some(sid()));
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::Checkpoint(Checkpoint::Updates { updates, .. }) if updates.len() == 1)));
    let a = c.status_update(&exec_pid(), executor_update(TaskState::Finished, 2), now(5));
    assert!(updates_to_master(&a).is_empty(), "one in flight");
    // Retries come from the tick.
    assert_eq!(updates_to_master(&c.tick(now(14))).len(), 1);
    let a = c.acknowledge(&master(), ack(Uuid::from_u128(1)), now(15));
    assert_eq!(sent(&a)[0].0, master(), "the next update goes");
    assert!(sent(&a).iter().any(|(to, m)| *to == exec_pid() && matches!(m, Outgoing::Ack(_))));
    c.acknowledge(&master(), ack(Uuid::from_u128(2)), now(16));
    let e = &c.frameworks()[&fid()].executors[&eid()];
    assert_eq!(e.completed.len(), 1);
    assert_eq!(e.completed[0].state, TaskState::Finished);
    // An update from someone else is dropped.
    let stranger: Upid = "executor(1)@127.0.0.1:9".parse().unwrap();
    assert!(c.status_update(&stranger, executor_update(TaskState::Running, 3), now(17)).is_empty());
}

#[test]
fn executor_exit_loses_live_tasks_and_tells_the_master() {
    let (mut c, run) = running_task();
    c.status_update(&exec_pid(), executor_update(TaskState::Running, 1), now(4));
    c.acknowledge(&master(), ack(Uuid::from_u128(1)), now(5));
    let a = c.executor_exited(&fid(), &eid(), run, 9, now(6));
    let u = updates_to_master(&a);
    assert_eq!(u[0].status.state, TaskState::Lost);
    assert_eq!(u[0].status.reason, Some(Reason::ExecutorTerminated));
    assert!(sent(&a).iter().any(|(_, m)| matches!(m, Outgoing::ExitedExecutor(m) if m.status == 9)));
    assert!(a.contains(&Action::Unlink(exec_pid())));
    let lost = u[0].uuid.unwrap();
    c.acknowledge(&master(), ack(lost), now(7));
    assert!(c.frameworks().is_empty(), "executor and framework completed once acknowledged");
}

#[test]
fn executor_not_registering_in_time_is_killed_and_its_tasks_fail() {
    let mut c = registered();
    let a =
        c.run_task(&master(), RunTaskMessage { framework: framework(), task: command_task("true"), pid: None }, now(2));
    let (_, t) = timers(&a).into_iter().find(|(_, t)| matches!(t, Timer::ExecutorRegistration { .. })).unwrap();
    let a = c.timer(t, now(62));
    let Some(Action::Kill { run, .. }) = a.first().cloned() else { panic!("{a:?}") };
    let a = c.executor_exited(&fid(), &eid(), run, -9, now(63));
    let u = updates_to_master(&a);
    assert_eq!(u[0].status.state, TaskState::Failed);
    assert_eq!(u[0].status.reason, Some(Reason::ExecutorRegistrationTimeout));
}

#[test]
fn kill_and_shutdown_go_to_the_executor_then_its_group_is_killed() {
    let (mut c, run) = running_task();
    let a = c.kill_task(&master(), KillTaskMessage { framework_id: fid(), task_id: tid(), kill_policy: None }, now(4));
    assert!(matches!(&sent(&a)[0], (to, Outgoing::KillTask(_)) if *to == exec_pid()));
    let a = c.shutdown_framework(&master(), ShutdownFrameworkMessage { framework_id: fid() }, now(5));
    assert!(matches!(&sent(&a)[0], (to, Outgoing::ShutdownExecutor(_)) if *to == exec_pid()));
    let (d, t) = timers(&a).remove(0);
    assert_eq!(d, Duration::from_secs(5));
    assert_eq!(c.timer(t, now(10)), vec![Action::Kill { framework_id: fid(), executor_id: eid(), run }]);
    let a = c.executor_exited(&fid(), &eid(), run, -9, now(11));
    assert!(updates_to_master(&a).is_empty(), "a shut down framework gets no updates");
    assert!(c.frameworks().is_empty());
}

#[test]
fn killing_a_queued_task_kills_it_during_launch() {
    let mut c = registered();
    c.run_task(&master(), RunTaskMessage { framework: framework(), task: command_task("true"), pid: None }, now(2));
    let a = c.kill_task(&master(), KillTaskMessage { framework_id: fid(), task_id: tid(), kill_policy: None }, now(3));
    let u = updates_to_master(&a);
    assert_eq!(u[0].status.state, TaskState::Killed);
    assert_eq!(u[0].status.reason, Some(Reason::TaskKilledDuringLaunch));
    assert!(a.iter().any(|a| matches!(a, Action::Kill { .. })), "the unregistered executor is killed");
}

#[test]
fn updates_wait_while_disconnected_and_flow_on_reregistration() {
    let (mut c, _) = running_task();
    c.master_detected(None, now(4));
    let a = c.status_update(&exec_pid(), executor_update(TaskState::Running, 1), now(5));
    assert!(updates_to_master(&a).is_empty());
    let a = c.master_detected(Some(master()), now(6));
    let (_, t) = timers(&a).remove(0);
    c.timer(t, now(7));
    let a = c.reregistered(
        &master(),
        SlaveReregisteredMessage { slave_id: sid(), reconciliations: vec![], connection: None },
        now(8),
    );
    assert_eq!(updates_to_master(&a).len(), 1);
}

#[test]
fn registrations_carry_the_incarnation_and_unknown_reconciled_tasks_end_as_mesos_says() {
    // Every (re)registration names this start of the slave.
    let mut c = core();
    let a = c.master_detected(Some(master()), now(0));
    let (_, t) = timers(&a).remove(0);
    let a = c.timer(t, now(1));
    assert!(matches!(&sent(&a)[0], (_, Outgoing::RegisterSlave(m)) if m.incarnation == Some(0x5eed)), "{a:?}");
    let (mut c, _) = running_task();
    let a = c.master_detected(Some(master()), now(4));
    let (_, t) = timers(&a).remove(0);
    let a = c.timer(t, now(5));
    assert!(matches!(&sent(&a)[0], (_, Outgoing::ReregisterSlave(m)) if m.incarnation == Some(0x5eed)), "{a:?}");

    // The master asks about tasks it knows and we did not report: a task we
    // run is left alone; unknown ones end TASK_LOST, or TASK_DROPPED for a
    // partition-aware framework (as Mesos's slave).
    let other = FrameworkID::new("m-0001").unwrap();
    let mut aware = FrameworkInfo { id: Some(other.clone()), ..FrameworkInfo::new("u", "pa") };
    aware.capabilities.push(rmesos::info::FrameworkCapability::PartitionAware);
    let ask = |fid: &FrameworkID, task: &str, framework: Option<FrameworkInfo>| ReconcileTasksMessage {
        framework_id: fid.clone(),
        statuses: vec![TaskStatus::new(TaskID::new(task).unwrap(), TaskState::Running)],
        framework,
    };
    let reconciliations = vec![
        ask(&fid(), "t1", Some(framework())),
        ask(&fid(), "gone", Some(framework())),
        ask(&other, "gone2", Some(aware)),
        ask(&other, "gone3", None),
    ];
    let a = c.reregistered(
        &master(),
        SlaveReregisteredMessage { slave_id: sid(), reconciliations, connection: None },
        now(6),
    );
    let got: Vec<_> = updates_to_master(&a)
        .into_iter()
        .map(|u| (u.status.task_id.as_str().to_string(), u.status.state, u.status.reason, u.uuid.is_some()))
        .collect();
    let r = Some(Reason::Reconciliation);
    assert_eq!(
        got,
        vec![
            ("gone".into(), TaskState::Lost, r, true),
            ("gone2".into(), TaskState::Dropped, r, true),
            ("gone3".into(), TaskState::Lost, r, true),
        ],
        "{a:?}"
    );
}

#[test]
fn ids_that_would_escape_the_sandbox_are_refused() {
    let mut c = core();
    let a = c.master_detected(Some(master()), now(0));
    let (_, t) = timers(&a).remove(0);
    c.timer(t, now(1));
    let bad: SlaveID = serde_json::from_str("\"../../etc\"").unwrap();
    c.registered(&master(), SlaveRegisteredMessage { slave_id: bad, connection: None }, now(1));
    assert_eq!(c.state(), RegState::Disconnected);
    let mut c = registered();
    let bad_framework =
        FrameworkInfo { id: Some(serde_json::from_str("\"..\"").unwrap()), ..FrameworkInfo::new("u", "f") };
    let a = c.run_task(
        &master(),
        RunTaskMessage { framework: bad_framework, task: command_task("true"), pid: None },
        now(2),
    );
    assert!(a.is_empty() && c.frameworks().is_empty());
    let mut task = command_task("true");
    task.task_id = serde_json::from_str("\"a/b\"").unwrap();
    let a = c.run_task(&master(), RunTaskMessage { framework: framework(), task, pid: None }, now(3));
    assert!(!a.iter().any(|a| matches!(a, Action::Launch(_))));
}

#[test]
fn state_json_uses_mesos_field_names() {
    let (c, _) = running_task();
    let j = c.state_json();
    assert_eq!(j["id"], "m-S0");
    assert_eq!(j["pid"], "slave(1)@127.0.0.1:5051");
    assert_eq!(j["master_hostname"], "127.0.0.1");
    let e = &j["frameworks"][0]["executors"][0];
    assert_eq!(e["id"], "t1");
    assert_eq!(e["tasks"][0]["task_id"], "t1");
    assert!(e["directory"].as_str().unwrap().starts_with("/w/slaves/"));
    assert!(e["queued_tasks"].as_array().unwrap().is_empty());
}

#[test]
fn metrics_count_executors_tasks_and_used_resources() {
    let c = core();
    let m = c.metrics_json();
    assert_eq!((m["slave/registered"].as_f64(), m["slave/cpus_total"].as_f64()), (Some(0.0), Some(2.0)));
    let (mut c, _) = running_task();
    c.status_update(&exec_pid(), executor_update(TaskState::Running, 1), now(4));
    let m = c.metrics_json();
    assert_eq!(m["slave/registered"].as_f64(), Some(1.0));
    assert_eq!(m["slave/executors_running"].as_f64(), Some(1.0));
    assert_eq!(m["slave/tasks_running"].as_f64(), Some(1.0), "{m}");
    assert_eq!(m["slave/tasks_staging"].as_f64(), Some(0.0), "{m}");
    assert_eq!(m["slave/mem_total"].as_f64(), Some(1024.0));
    assert!(m["slave/cpus_used"].as_f64().unwrap() >= 0.1, "the task's cpus at least: {m}");
}
