//! Unit tests of the slave core's recovery state machine: what is
//! checkpointed, reconnecting executors, the reregistration timeout,
//! registering only once recovery is over, and `--recover=cleanup`.

use std::time::Duration;

use rmesos::messages::*;
use rmesos::task::{Reason, Task, TaskState, TaskStatus};
use rmesos::{ExecutorInfo, StatusUpdate, TaskInfo};
use uuid::Uuid;

use super::state::ExecutorState;
use super::tests::*;
use super::*;

const RUN: Uuid = Uuid::from_u128(77);

/// What a previous run left: task t1 RUNNING on executor t1 (registered at
/// `exec_pid()`, OS pid 4242), its RUNNING update (uuid 1) unacknowledged.
fn checkpointed(task_state: TaskState, executor_pid: bool) -> RecoveredState {
    let mut info = core().info().clone();
    info.id = Some(sid());
    let mut einfo = ExecutorInfo::new(eid(), CommandInfo::shell("x"));
    einfo.framework_id = Some(fid());
    let mut task = Task::new(&command_task("sleep"), fid(), task_state);
    task.executor_id = Some(eid());
    let st = TaskStatus::new(tid(), task_state);
    let u = StatusUpdate::new(fid(), Some(eid()), Some(sid()), st.clone(), 1.0, Some(Uuid::from_u128(1)));
    let mut updates = Vec::new();
    if task_state != TaskState::Staging {
        task.statuses.push(u.status.clone());
        updates.push(u);
    }
    RecoveredState {
        info,
        frameworks: vec![RecoveredFramework {
            info: framework(),
            pid: None,
            executors: vec![RecoveredExecutor {
                info: einfo,
                run: RUN,
                forked_pid: Some(4242),
                pid: executor_pid.then(exec_pid),
                tasks: vec![RecoveredTask { task, updates }],
            }],
        }],
    }
}

fn reregister_msg(tasks: Vec<TaskInfo>, updates: Vec<StatusUpdate>) -> ReregisterExecutorMessage {
    ReregisterExecutorMessage { executor_id: eid(), framework_id: fid(), tasks, updates }
}

fn fire_registration(c: &mut SlaveCore, a: &[Action]) -> Vec<Action> {
    let (_, t) = timers(a).into_iter().find(|(_, t)| matches!(t, Timer::Registration(_))).expect("registration timer");
    c.timer(t, now(10))
}

#[test]
fn only_checkpointing_frameworks_are_checkpointed() {
    let mut c = registered();
    let info = FrameworkInfo { id: Some(fid()), checkpoint: false, ..FrameworkInfo::new("u", "f") };
    let a = c.run_task(&master(), RunTaskMessage { framework: info, task: command_task("true"), pid: None }, now(2));
    assert!(a.iter().all(|a| !matches!(a, Action::Checkpoint(_))), "{a:?}");
    let mut c = registered();
    let a =
        c.run_task(&master(), RunTaskMessage { framework: framework(), task: command_task("true"), pid: None }, now(2));
    assert!(a.iter().any(|a| matches!(a, Action::Checkpoint(Checkpoint::Framework { .. }))));
    assert!(a.iter().any(|a| matches!(a, Action::Checkpoint(Checkpoint::Executor { .. }))));
}

#[test]
fn reconnect_waits_for_the_executor_then_reregisters_with_the_same_id_and_resends_updates() {
    let mut c = core();
    let a = c.recover(Some(checkpointed(TaskState::Running, true)), RecoverMode::Reconnect, now(0));
    assert_eq!(c.slave_id(), Some(&sid()));
    assert!(c.recovering());
    assert!(a.contains(&Action::Recover {
        framework_id: fid(),
        executor_id: eid(),
        run: RUN,
        forked_pid: Some(4242),
        kill: false
    }));
    assert!(sent(&a)
        .iter()
        .any(|(to, m)| *to == exec_pid() && matches!(m, Outgoing::ReconnectExecutor(r) if r.slave_id == sid())));
    assert!(timers(&a)
        .iter()
        .any(|(d, t)| *d == Duration::from_secs(2) && matches!(t, Timer::ExecutorReregistration { .. })));
    // The master is known, but the slave does not register while recovering.
    let a = c.master_detected(Some(master()), now(1));
    assert!(timers(&a).is_empty(), "{a:?}");

    let a = c.reregister_executor(&exec_pid(), reregister_msg(vec![], vec![]), now(1));
    assert!(a.contains(&Action::Link(exec_pid())));
    assert!(sent(&a)
        .iter()
        .any(|(to, m)| *to == exec_pid() && matches!(m, Outgoing::ExecutorReregistered(r) if r.slave_id == sid())));
    assert!(!c.recovering());
    assert_eq!(c.frameworks()[&fid()].executors[&eid()].state, ExecutorState::Running);
    let a = fire_registration(&mut c, &a);
    let (to, m) = sent(&a).remove(0);
    let Outgoing::ReregisterSlave(m) = m else { panic!("expected ReregisterSlave, got {m:?}") };
    assert_eq!(to, master());
    assert_eq!(m.slave.id, Some(sid()));
    assert_eq!(m.tasks.len(), 1);
    assert_eq!((m.tasks[0].state, m.tasks[0].status_update_state), (TaskState::Running, Some(TaskState::Running)));
    // Reregistered: the unacknowledged RUNNING is resent.
    let a = c.reregistered(
        &master(),
        SlaveReregisteredMessage { slave_id: sid(), reconciliations: vec![], connection: None },
        now(11),
    );
    let u = updates_to_master(&a);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].uuid, Some(Uuid::from_u128(1)));
    // Its acknowledgement reaches the reregistered executor.
    let a = c.acknowledge(&master(), ack(Uuid::from_u128(1)), now(12));
    assert!(sent(&a).iter().any(|(to, m)| *to == exec_pid() && matches!(m, Outgoing::Ack(_))));
}

#[test]
fn updates_the_executor_kept_are_taken_once_and_known_ones_are_not_resent() {
    let mut c = core();
    c.recover(Some(checkpointed(TaskState::Running, true)), RecoverMode::Reconnect, now(0));
    c.master_detected(Some(master()), now(0));
    // The executor still holds RUNNING (uuid 1, known) and FINISHED (uuid
    // 2, sent while the slave was down).
    let running = executor_update(TaskState::Running, 1).update;
    let finished = executor_update(TaskState::Finished, 2).update;
    c.reregister_executor(&exec_pid(), reregister_msg(vec![], vec![running, finished]), now(1));
    let pending: Vec<_> = c.sum.pending(&fid(), &tid()).iter().map(|u| u.uuid.unwrap()).collect();
    assert_eq!(pending, vec![Uuid::from_u128(1), Uuid::from_u128(2)]);
}

#[test]
fn an_acknowledged_update_the_executor_resends_is_acknowledged_to_it_not_forwarded() {
    let mut c = core();
    let mut state = checkpointed(TaskState::Running, true);
    state.frameworks[0].executors[0].tasks[0].updates.clear();
    c.recover(Some(state), RecoverMode::Reconnect, now(0));
    let running = executor_update(TaskState::Running, 1).update;
    let a = c.reregister_executor(&exec_pid(), reregister_msg(vec![], vec![running]), now(1));
    assert!(sent(&a)
        .iter()
        .any(|(to, m)| *to == exec_pid() && matches!(m, Outgoing::Ack(k) if k.uuid == Uuid::from_u128(1))));
    assert!(!c.sum.has_pending(&fid(), &tid()));
}

#[test]
fn a_staging_task_the_executor_never_got_is_lost() {
    let mut c = core();
    c.recover(Some(checkpointed(TaskState::Staging, true)), RecoverMode::Reconnect, now(0));
    c.reregister_executor(&exec_pid(), reregister_msg(vec![], vec![]), now(1));
    let pending = c.sum.pending(&fid(), &tid());
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].status.state, pending[0].status.reason), (TaskState::Lost, Some(Reason::SlaveRestarted)));
}

#[test]
fn an_executor_not_reregistering_in_time_is_killed_and_its_tasks_lost() {
    let mut c = core();
    let a = c.recover(Some(checkpointed(TaskState::Running, true)), RecoverMode::Reconnect, now(0));
    let (_, t) = timers(&a).remove(0);
    c.master_detected(Some(master()), now(0));
    let a = c.timer(t, now(2));
    assert!(a.contains(&Action::Kill { framework_id: fid(), executor_id: eid(), run: RUN }));
    assert!(!c.recovering(), "recovery is over: registration may start");
    assert!(timers(&a).iter().any(|(_, t)| matches!(t, Timer::Registration(_))));
    // A late reregistration is ignored.
    let late = c.reregister_executor(&exec_pid(), reregister_msg(vec![], vec![]), now(3));
    assert!(sent(&late).is_empty(), "{late:?}");
    c.executor_exited(&fid(), &eid(), RUN, -9, now(3));
    let pending = c.sum.pending(&fid(), &tid());
    let last = pending.last().unwrap();
    assert_eq!((last.status.state, last.status.reason), (TaskState::Lost, Some(Reason::ExecutorReregistrationTimeout)));
}

#[test]
fn a_recovered_executor_already_gone_ends_recovery_and_loses_its_tasks() {
    let mut c = core();
    c.recover(Some(checkpointed(TaskState::Running, true)), RecoverMode::Reconnect, now(0));
    let a = c.executor_exited(&fid(), &eid(), RUN, -1, now(0));
    assert!(sent(&a).is_empty(), "no master yet: {a:?}");
    assert!(!c.recovering());
    assert_eq!(c.sum.pending(&fid(), &tid()).last().unwrap().status.state, TaskState::Lost);
    // Once reregistered, the master hears of the executor's end and the TASK_LOST.
    let a = c.master_detected(Some(master()), now(1));
    fire_registration(&mut c, &a);
    let a = c.reregistered(
        &master(),
        SlaveReregisteredMessage { slave_id: sid(), reconciliations: vec![], connection: None },
        now(11),
    );
    assert!(sent(&a)
        .iter()
        .any(|(to, m)| *to == master() && matches!(m, Outgoing::ExitedExecutor(e) if e.executor_id == eid())));
    // The pending RUNNING goes first, telling the master how far the task is.
    let u = updates_to_master(&a);
    assert_eq!((u[0].status.state, u[0].latest_state), (TaskState::Running, Some(TaskState::Lost)));
}

#[test]
fn nothing_to_recover_registers_at_once() {
    let mut c = core();
    let a = c.recover(None, RecoverMode::Reconnect, now(0));
    assert!(a.is_empty());
    let a = c.master_detected(Some(master()), now(0));
    let a = fire_registration(&mut c, &a);
    assert!(matches!(&sent(&a)[0], (_, Outgoing::RegisterSlave(_))));
}

#[test]
fn cleanup_kills_the_executors_and_registers_a_new_slave_after_unregistering_the_old_one() {
    let mut c = core();
    let a = c.recover(Some(checkpointed(TaskState::Running, true)), RecoverMode::Cleanup, now(0));
    assert!(a.contains(&Action::Recover {
        framework_id: fid(),
        executor_id: eid(),
        run: RUN,
        forked_pid: Some(4242),
        kill: true
    }));
    assert!(a.contains(&Action::Checkpoint(Checkpoint::RemoveSlave(sid()))));
    assert_eq!(c.slave_id(), None);
    assert!(c.frameworks().is_empty());
    let a = c.master_detected(Some(master()), now(0));
    let a = fire_registration(&mut c, &a);
    let s = sent(&a);
    assert!(matches!(&s[0], (_, Outgoing::UnregisterSlave(m)) if m.slave_id == sid()), "{s:?}");
    assert!(matches!(&s[1], (_, Outgoing::RegisterSlave(m)) if m.slave.id.is_none()), "{s:?}");
    let new = SlaveID::new("m-S1").unwrap();
    c.registered(&master(), SlaveRegisteredMessage { slave_id: new.clone(), connection: None }, now(1));
    assert_eq!(c.slave_id(), Some(&new));
}
