//! The changes the core reports to operators (`observe.rs`): none while
//! nobody watches; while someone does, each at the step that makes it, in
//! order, as Mesos sends them.

use super::*;

fn observed(acts: &[Action]) -> Vec<Observed> {
    acts.iter()
        .filter_map(|a| match a {
            Action::Observe(o) => Some(o.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn nothing_is_reported_while_nobody_watches() {
    let mut w = world();
    let o = w.offer(at(1));
    let acts = w.launch(vec![o.id], vec![w.task("t1", "cpus:1")]);
    assert!(observed(&acts).is_empty(), "{acts:?}");
    assert!(observed(&w.slave_update("t1", TaskState::Running, 1)).is_empty());
}

#[test]
fn a_watched_cluster_reports_every_change_in_order() {
    let mut m = core();
    m.set_observed(true);
    let slave = pid("slave(1)@127.0.0.1:5051");
    let sched = pid("scheduler-1@127.0.0.1:6000");
    let info = SlaveInfo::new("host1", 5051, r("cpus:2;mem:1024"), Attributes::default());
    let acts = m.register_slave(
        &slave,
        RegisterSlaveMessage { slave: info, checkpointed_resources: r(""), version: None, incarnation: None },
        at(0),
    );
    let sid = m.slaves_by_pid[&slave].clone();
    assert_eq!(observed(&acts), vec![Observed::AgentAdded(sid.clone())]);
    let acts =
        m.register_framework(&sched, RegisterFrameworkMessage { framework: FrameworkInfo::new("u", "f") }, at(0));
    let fid = m.frameworks_by_pid[&sched].clone();
    assert_eq!(observed(&acts), vec![Observed::FrameworkAdded(fid.clone())]);
    let mut w = World { m, sched, fid: fid.clone(), slave, sid: sid.clone() };

    // A launch: TASK_ADDED (staging); an offer alone is no event.
    let o = w.offer(at(1));
    let acts = w.launch(vec![o.id], vec![w.task("t1", "cpus:1")]);
    match &observed(&acts)[..] {
        [Observed::TaskAdded(t)] => assert_eq!((t.task_id.as_str(), t.state), ("t1", TaskState::Staging)),
        other => panic!("{other:?}"),
    }
    // RUNNING is an update; the same state again is not.
    let acts = w.slave_update("t1", TaskState::Running, 1);
    match &observed(&acts)[..] {
        [Observed::TaskUpdated { framework_id, status, state }] => {
            assert_eq!((framework_id, status.state, *state), (&fid, TaskState::Running, TaskState::Running));
        }
        other => panic!("{other:?}"),
    }
    assert!(observed(&w.slave_update("t1", TaskState::Running, 2)).is_empty());

    // The scheduler goes away: FRAMEWORK_UPDATED (disconnected); it
    // fails over to a new pid: FRAMEWORK_UPDATED again.
    let acts = w.m.exited(&w.sched.clone(), at(3));
    assert_eq!(observed(&acts), vec![Observed::FrameworkUpdated(fid.clone())]);
    let mut info = FrameworkInfo::new("u", "f");
    info.id = Some(fid.clone());
    let again = pid("scheduler-2@127.0.0.1:6001");
    let acts = w.m.reregister_framework(&again, ReregisterFrameworkMessage { framework: info, failover: true }, at(4));
    assert_eq!(observed(&acts), vec![Observed::FrameworkUpdated(fid.clone())]);

    // The slave is removed: its task is lost (TASK_UPDATED), then AGENT_REMOVED.
    let acts = w.m.unregister_slave(&w.slave.clone(), UnregisterSlaveMessage { slave_id: sid.clone() }, at(5));
    match &observed(&acts)[..] {
        [Observed::TaskUpdated { state: TaskState::Lost, .. }, Observed::AgentRemoved(s)] => assert_eq!(s, &sid),
        other => panic!("{other:?}"),
    }

    // TEARDOWN by an operator: FRAMEWORK_REMOVED; an unknown id is refused.
    let acts = w.m.teardown_framework(None, &fid, at(6)).unwrap();
    match &observed(&acts)[..] {
        [Observed::FrameworkRemoved(info)] => assert_eq!(info.id.as_ref(), Some(&fid)),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.m.teardown_framework(None, &fid, at(7)).unwrap_err(), Teardown::Unknown);
}

#[test]
fn a_removed_framework_reports_its_running_tasks_killed_first() {
    let mut w = world();
    let o = w.offer(at(1));
    w.launch(vec![o.id], vec![w.task("t1", "cpus:1")]);
    w.slave_update("t1", TaskState::Running, 1);
    w.m.set_observed(true);
    let fid = w.fid.clone();
    let acts = w.m.teardown_framework(None, &fid, at(2)).unwrap();
    match &observed(&acts)[..] {
        [Observed::TaskUpdated { status, state: TaskState::Killed, .. }, Observed::FrameworkRemoved(_)] => {
            assert_eq!(status.reason, Some(Reason::FrameworkRemoved));
            assert_eq!(status.source, Some(Source::Master));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_reregistering_slave_unknown_to_this_master_reports_agent_framework_then_tasks() {
    let mut m = core();
    m.set_observed(true);
    let slave = pid("slave(1)@127.0.0.1:5051");
    let sid = SlaveID::new("S-old").unwrap();
    let fid = FrameworkID::new("F-old").unwrap();
    let mut finfo = FrameworkInfo::new("u", "f");
    finfo.id = Some(fid.clone());
    let tinfo = TaskInfo::command("t", TaskID::new("t1").unwrap(), sid.clone(), r("cpus:1"), CommandInfo::shell("x"));
    let task = Task::new(&tinfo, fid.clone(), TaskState::Running);
    let acts = m.reregister_slave(&slave, rereg(&sid, vec![task], vec![finfo]), at(0));
    match &observed(&acts)[..] {
        [Observed::AgentAdded(s), Observed::FrameworkAdded(f), Observed::TaskAdded(t)] => {
            assert_eq!((s, f, t.task_id.as_str()), (&sid, &fid, "t1"));
        }
        other => panic!("{other:?}"),
    }
}
