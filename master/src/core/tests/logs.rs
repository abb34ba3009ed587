//! The master's operator log lines (issue 6, "Logs an operator reads"), each
//! locked in with its Upids, ids and reason: slave registered, re-registered,
//! disconnected and removed (and why); task lost; framework disconnected,
//! re-registered and failed over; a kill for a task on a disconnected slave
//! (Mesos's behaviour: remembered and sent again when the slave
//! reregisters). docs/operations.md "What the logs say" lists the same lines.

use libprocess::testkit::LogCapture;

use super::*;

fn kills(acts: &[Action], to: &Upid) -> Vec<TaskID> {
    sent(acts, to, |m| match m {
        Outgoing::KillTask(k) => Some(k.task_id.clone()),
        _ => None,
    })
}

fn checkpointing() -> FrameworkInfo {
    let mut info = FrameworkInfo::new("user", "test");
    info.checkpoint = true;
    info.failover_timeout = 60.0;
    info
}

/// A world whose framework checkpoints (its tasks survive a slave
/// disconnection) with task `t` running on the slave.
fn running_world() -> World {
    let mut w = world_with(checkpointing());
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    w.slave_update("t", TaskState::Running, 1);
    w
}

fn running_task(w: &World) -> Task {
    Task::new(&w.task("t", "cpus:1;mem:256"), w.fid.clone(), TaskState::Running)
}

#[test]
fn slave_registered_disconnected_reregistered_and_removed_lines() {
    let cap = LogCapture::start();
    let mut w = world();
    let (sid, slave) = (w.sid.clone(), w.slave.clone());
    cap.line_at("INFO", &[&format!("Registered slave {sid} at {slave} (host1) with cpus:2;mem:1024")]);

    w.m.exited(&slave, at(1));
    cap.line_at("INFO", &[&format!("Slave {sid} at {slave} (host1) disconnected; waiting 600s for it to reregister")]);

    let o = {
        w.m.reregister_slave(&slave, rereg_msg(&w, vec![]), at(2));
        cap.line_at("INFO", &[&format!("Re-registered slave {sid} at {slave} (host1) with cpus:2;mem:1024")]);
        w.offer(at(3))
    };
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    w.slave_update("t", TaskState::Running, 1);

    // Silence: removed after five missed pings, its task lost.
    for k in 1..=6 {
        w.m.ping_tick(at(3 + 15 * k));
    }
    assert!(w.m.slave(&sid).is_none());
    cap.line_at("WARN", &[&format!("Slave {sid} at {slave} did not answer 5 consecutive pings (one every 15s)")]);
    cap.line_at("INFO", &[&format!("Removing slave {sid} at {slave} (host1): health check timed out")]);
    cap.line_at(
        "INFO",
        &[&format!(
            "Task t of framework {} on slave {sid} is TASK_LOST (REASON_SLAVE_REMOVED: Slave {sid} (host1) removed: \
             health check timed out)",
            w.fid
        )],
    );
}

#[test]
fn removal_reasons_other_than_health_checks_are_named() {
    let cap = LogCapture::start();
    // Disconnected and never back within --agent_reregister_timeout.
    let mut w = world();
    let acts = w.m.exited(&w.slave.clone(), at(1));
    let epoch = reregister_epoch(&acts);
    w.m.reregister_timeout(&w.sid.clone(), epoch, at(601));
    cap.line_at(
        "INFO",
        &[&format!("Removing slave {} at {} (host1): did not reregister within 600s of disconnecting", w.sid, w.slave)],
    );
    // Unregistered.
    let mut w = world();
    w.m.unregister_slave(&w.slave.clone(), UnregisterSlaveMessage { slave_id: w.sid.clone() }, at(1));
    cap.line_at("INFO", &[&format!("Removing slave {} at {} (host1): unregistered", w.sid, w.slave)]);
    // Admitted before a master failover, never back.
    let mut m = core();
    let mut info = SlaveInfo::new("host9", 5051, r("cpus:1"), Attributes::default());
    info.id = Some(SlaveID::new("old-S9").unwrap());
    m.recover(vec![info]);
    m.recovered_timeout(at(600));
    cap.line_at("INFO", &["Removing slave old-S9 (host9): did not reregister within 600s after master failover"]);
}

#[test]
fn task_lost_with_a_disconnected_slave_names_slave_and_reason() {
    let cap = LogCapture::start();
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    cap.line_at("INFO", &[&format!("Launching task t of framework {} on slave {} at {}", w.fid, w.sid, w.slave)]);
    w.m.exited(&w.slave.clone(), at(1));
    cap.line_at(
        "INFO",
        &[&format!(
            "Task t of framework {} on slave {} is TASK_LOST (REASON_SLAVE_DISCONNECTED: Slave {} disconnected)",
            w.fid, w.sid, w.sid
        )],
    );
}

#[test]
fn a_task_state_reported_by_a_slave_is_logged_with_its_reason() {
    let cap = LogCapture::start();
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    let st = TaskStatus::new(TaskID::new("t").unwrap(), TaskState::Lost)
        .with_reason(Reason::ExecutorTerminated)
        .with_message("Executor exited");
    let u = StatusUpdate::new(w.fid.clone(), None, Some(w.sid.clone()), st, 1.0, Some(Uuid::from_u128(7)));
    w.m.status_update(&w.slave.clone(), StatusUpdateMessage { update: u, pid: None }, at(2));
    cap.line_at(
        "INFO",
        &[&format!(
            "Task t of framework {} on slave {} at {} is TASK_LOST (REASON_EXECUTOR_TERMINATED: Executor exited)",
            w.fid, w.sid, w.slave
        )],
    );
}

#[test]
fn framework_disconnected_reregistered_and_failed_over_lines() {
    let cap = LogCapture::start();
    let mut w = running_world();
    let (fid, sched) = (w.fid.clone(), w.sched.clone());
    cap.line_at("INFO", &[&format!("Registered framework {fid} (test) at {sched}")]);

    w.m.exited(&sched, at(1));
    cap.line_at(
        "INFO",
        &[&format!("Framework {fid} (test) at {sched} disconnected; removing it in 60s unless it reregisters")],
    );

    let mut info = checkpointing();
    info.id = Some(fid.clone());
    let msg = ReregisterFrameworkMessage { framework: info.clone(), failover: false };
    w.m.reregister_framework(&sched, msg, at(2));
    cap.line_at("INFO", &[&format!("Re-registered framework {fid} (test) at {sched}")]);

    let new_sched = pid("scheduler-2@127.0.0.1:6001");
    w.m.reregister_framework(&new_sched, ReregisterFrameworkMessage { framework: info, failover: true }, at(3));
    cap.line_at("INFO", &[&format!("Framework {fid} (test) failed over to {new_sched} (was {sched})")]);
}

#[test]
fn a_kill_for_a_task_on_a_disconnected_slave_is_sent_when_the_slave_reregisters() {
    let cap = LogCapture::start();
    let mut w = running_world();
    let (fid, sid, slave, sched) = (w.fid.clone(), w.sid.clone(), w.slave.clone(), w.sched.clone());
    w.m.exited(&slave, at(1));
    assert_eq!(w.m.framework(&fid).unwrap().tasks.len(), 1, "a checkpointing framework's task is kept");

    // The kill cannot be sent now: nothing goes out, no answer is made up.
    let kill = KillTaskMessage { framework_id: fid.clone(), task_id: TaskID::new("t").unwrap(), kill_policy: None };
    let acts = w.m.kill_task(&sched, kill, at(2));
    assert!(acts.is_empty(), "{acts:?}");
    cap.line_at(
        "WARN",
        &[&format!(
            "Cannot kill task t of framework {fid} because slave {sid} at {slave} is disconnected. Kill will be \
             retried if the slave reregisters"
        )],
    );

    // The slave comes back still running it: killed now, after SlaveReregistered.
    let acts = w.m.reregister_slave(&slave, rereg_msg(&w, vec![running_task(&w)]), at(3));
    assert_eq!(kills(&acts, &slave), vec![TaskID::new("t").unwrap()]);
    let reregistered = acts.iter().position(|a| matches!(a, Action::Send(_, Outgoing::SlaveReregistered(_))));
    let killed = acts.iter().position(|a| matches!(a, Action::Send(_, Outgoing::KillTask(_))));
    assert!(reregistered < killed, "{acts:?}");
    cap.line_at(
        "WARN",
        &[&format!("Slave {sid} at {slave} has non-terminal task t of framework {fid} that is supposed to be killed. Killing it now!")],
    );
    assert_eq!(w.m.framework(&fid).unwrap().tasks.len(), 1, "the task ends when the slave says so");

    // A kill sent on a connection that then broke is sent again too.
    w.m.exited(&slave, at(4));
    let acts = w.m.reregister_slave(&slave, rereg_msg(&w, vec![running_task(&w)]), at(5));
    assert_eq!(kills(&acts, &slave), vec![TaskID::new("t").unwrap()]);

    // Once the task has ended, nothing is pending any more.
    w.slave_update("t", TaskState::Killed, 2);
    w.m.acknowledge(
        &sched,
        StatusUpdateAcknowledgementMessage {
            slave_id: sid.clone(),
            framework_id: fid.clone(),
            task_id: TaskID::new("t").unwrap(),
            uuid: Uuid::from_u128(2),
        },
    );
    assert!(w.m.framework(&fid).unwrap().tasks.is_empty());
    assert!(w.m.slave(&sid).unwrap().killed_tasks.is_empty());
}

#[test]
fn a_slave_reregistering_with_tasks_nobody_killed_keeps_them() {
    let mut w = running_world();
    let slave = w.slave.clone();
    w.m.exited(&slave, at(1));
    let acts = w.m.reregister_slave(&slave, rereg_msg(&w, vec![running_task(&w)]), at(2));
    assert!(kills(&acts, &slave).is_empty(), "{acts:?}");
    assert_eq!(w.m.framework(&w.fid).unwrap().tasks.len(), 1);
}
