//! A slave that restarts (issue 11): a registration from the pid of a
//! registered slave is that slave retrying only while it is connected and
//! of the same incarnation; otherwise the old slave is removed (its tasks
//! TASK_LOST, REASON_SLAVE_REMOVED, frameworks told `slave_lost`) and the
//! newcomer admitted under a new id. And the reconciliations that cover
//! what a restart loses: tasks a reregistering slave does not report, and
//! explicit reconciliation deferred while a slave is recovered.

use super::*;

fn checkpointing() -> FrameworkInfo {
    FrameworkInfo { checkpoint: true, ..FrameworkInfo::new("user", "test") }
}

fn registration(incarnation: Option<u64>) -> RegisterSlaveMessage {
    RegisterSlaveMessage {
        slave: SlaveInfo::new("host1", 5051, r("cpus:2;mem:1024"), Attributes::default()),
        checkpointed_resources: r(""),
        version: None,
        incarnation,
    }
}

fn registered_id(acts: &[Action], to: &Upid) -> Vec<SlaveID> {
    sent(acts, to, |m| match m {
        Outgoing::SlaveRegistered(s) => Some(s.slave_id.clone()),
        _ => None,
    })
}

/// A world whose slave registered as incarnation 1, running task `t` of a
/// checkpointing framework (kept when the slave disconnects).
fn running(incarnation: Option<u64>) -> World {
    let mut m = core();
    let slave = pid("slave(1)@127.0.0.1:5051");
    let sched = pid("scheduler-1@127.0.0.1:6000");
    let sid = registered_id(&m.register_slave(&slave, registration(incarnation), at(0)), &slave).remove(0);
    let fid = register_framework(&mut m, &sched, checkpointing());
    let mut w = World { m, sched, fid, slave, sid };
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    w.slave_update("t", TaskState::Running, 1);
    w
}

/// The old slave was removed as "a new slave registered at the same
/// address" and the registration admitted a new one.
fn assert_replaced(w: &World, acts: &[Action]) {
    let u = updates(acts, &w.sched);
    assert_eq!(u.len(), 1, "{acts:?}");
    assert_eq!((u[0].status.state, u[0].status.reason), (TaskState::Lost, Some(Reason::SlaveRemoved)));
    assert!(u[0].status.message.as_deref().unwrap_or("").contains("a new slave registered at the same address"));
    let lost = sent(acts, &w.sched, |m| match m {
        Outgoing::LostSlave(l) => Some(l.slave_id.clone()),
        _ => None,
    });
    assert_eq!(lost, vec![w.sid.clone()]);
    let new = registered_id(acts, &w.slave);
    assert_eq!(new.len(), 1);
    assert_ne!(new[0], w.sid, "a new id");
    assert!(w.m.slave(&w.sid).is_none() && w.m.slave(&new[0]).is_some());
    assert!(w.m.framework(&w.fid).unwrap().tasks.is_empty(), "nothing left RUNNING");
    assert_eq!(w.m.slave(&new[0]).unwrap().used, Resources::new());
    assert_eq!(w.m.counters().slave_removals, 1);
}

#[test]
fn a_retried_registration_of_the_same_connected_incarnation_gets_its_id_again() {
    let mut w = running(Some(1));
    let acts = w.m.register_slave(&w.slave.clone(), registration(Some(1)), at(2));
    assert_eq!(registered_id(&acts, &w.slave), vec![w.sid.clone()]);
    assert!(updates(&acts, &w.sched).is_empty());
    assert_eq!(w.m.framework(&w.fid).unwrap().tasks.len(), 1);
}

#[test]
fn a_new_incarnation_at_a_registered_pid_replaces_the_old_slave_even_while_connected() {
    // The restart came before the master saw the old process go.
    let mut w = running(Some(1));
    let acts = w.m.register_slave(&w.slave.clone(), registration(Some(2)), at(2));
    assert_replaced(&w, &acts);
    let new = registered_id(&acts, &w.slave).remove(0);
    assert_eq!(w.m.slave(&new).unwrap().incarnation, Some(2));
    // Its resources are offered whole again.
    assert_eq!(w.offer(at(3)).resources, r("cpus:2;mem:1024"));
}

#[test]
fn a_registration_from_a_disconnected_slave_s_pid_removes_it_first_as_mesos_does() {
    // No incarnation on either side (a slave that does not send one):
    // Mesos's rule alone. The seed-25789026 case: the restarted slave's
    // handshake made the old one disconnected, then its RegisterSlave came.
    let mut w = running(None);
    let acts = w.m.exited(&w.slave.clone(), at(1));
    assert!(updates(&acts, &w.sched).is_empty(), "a checkpointing framework's task waits");
    let acts = w.m.register_slave(&w.slave.clone(), registration(None), at(2));
    assert_replaced(&w, &acts);
    // Unlinked from the old slave, then linked to the new one.
    let unlink = acts.iter().position(|a| *a == Action::Unlink(w.slave.clone())).expect("unlinked");
    let link = acts.iter().position(|a| *a == Action::Link(w.slave.clone())).expect("linked");
    assert!(unlink < link, "{acts:?}");
}

#[test]
fn reconciliations_sent_to_a_reregistering_slave_name_the_framework() {
    let mut w = running(Some(1));
    let msg = ReregisterSlaveMessage { incarnation: Some(2), ..rereg(&w.sid, vec![], vec![]) };
    // A recovered restart (same id, new incarnation) that lost task t.
    let acts = w.m.reregister_slave(&w.slave.clone(), msg, at(2));
    let rec = sent(&acts, &w.slave, |m| match m {
        Outgoing::SlaveReregistered(s) => Some(s.reconciliations.clone()),
        _ => None,
    })
    .remove(0);
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0].statuses[0].task_id.as_str(), "t");
    assert_eq!(rec[0].framework.as_ref(), Some(&w.m.framework(&w.fid).unwrap().info), "the slave picks LOST/DROPPED");
    assert_eq!(w.m.slave(&w.sid).unwrap().incarnation, Some(2));
    // The slave's answer ends the task at the master and the framework.
    let acts = w.slave_update("t", TaskState::Lost, 9);
    assert_eq!(updates(&acts, &w.sched)[0].status.state, TaskState::Lost);
    let t = &w.m.framework(&w.fid).unwrap().tasks[&TaskID::new("t").unwrap()];
    assert_eq!(t.state, TaskState::Lost, "not left RUNNING");
}

/// A new leader that recovered slave `old` from the registry, with the
/// framework reregistered and asking about tasks `a` and `b` there.
fn new_leader_asking() -> (MasterCore, Upid, FrameworkID, SlaveID, Vec<Action>) {
    let mut m = core();
    let old = SlaveID::new("m0-S0").unwrap();
    let mut info = SlaveInfo::new("host1", 5051, r("cpus:2;mem:1024"), Attributes::default());
    info.id = Some(old.clone());
    m.recover(vec![info]);
    let sched = pid("scheduler-1@127.0.0.1:6000");
    let fid = FrameworkID::new("m0-0000").unwrap();
    let fw = FrameworkInfo { id: Some(fid.clone()), ..FrameworkInfo::new("user", "test") };
    m.reregister_framework(&sched, ReregisterFrameworkMessage { framework: fw, failover: false }, at(1));
    let ask = |t: &str| TaskStatus::new(TaskID::new(t).unwrap(), TaskState::Running).with_slave_id(old.clone());
    let msg = ReconcileTasksMessage { framework_id: fid.clone(), statuses: vec![ask("a"), ask("b")], framework: None };
    let acts = m.reconcile(&sched, msg, at(2));
    (m, sched, fid, old, acts)
}

#[test]
fn reconciliation_deferred_while_a_slave_is_recovered_is_answered_when_it_reregisters() {
    // Seeds 25789169, 25789247, 25789252: the failed leader sent the launch
    // of `b` into a partition; the next leader never knew it, the slave
    // never had it, and the framework asked once, while the slave was
    // still recovered.
    let (mut m, sched, fid, old, acts) = new_leader_asking();
    assert!(updates(&acts, &sched).is_empty(), "no guess while the slave may still report them");
    let slave = pid("slave(1)@127.0.0.1:5051");
    let a = TaskInfo::command("t", TaskID::new("a").unwrap(), old.clone(), r("cpus:1"), CommandInfo::shell("x"));
    let msg = ReregisterSlaveMessage {
        incarnation: Some(3),
        ..rereg(
            &old,
            vec![Task::new(&a, fid.clone(), TaskState::Running)],
            vec![m.framework(&fid).unwrap().info.clone()],
        )
    };
    let acts = m.reregister_slave(&slave, msg, at(3));
    let got: Vec<_> = updates(&acts, &sched)
        .into_iter()
        .map(|u| (u.status.task_id.as_str().to_string(), u.status.state, u.status.reason, u.uuid))
        .collect();
    let r = Some(Reason::Reconciliation);
    assert_eq!(got, vec![("a".into(), TaskState::Running, r, None), ("b".into(), TaskState::Lost, r, None)]);
    // Answered once.
    assert!(updates(&m.recovered_timeout(at(600)).1, &sched).is_empty());
}

#[test]
fn reconciliation_deferred_while_a_slave_is_recovered_is_answered_when_it_is_given_up_on() {
    let (mut m, sched, _fid, old, _) = new_leader_asking();
    let (gone, acts) = m.recovered_timeout(at(600));
    assert_eq!(gone, vec![old.clone()]);
    let got: Vec<_> = updates(&acts, &sched).into_iter().map(|u| (u.status.state, u.slave_id)).collect();
    assert_eq!(got, vec![(TaskState::Lost, Some(old.clone())), (TaskState::Lost, Some(old))]);
}
