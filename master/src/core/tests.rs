//! Core tests: registration, offers, launch validation, status updates and
//! acknowledgements, kill, reconciliation, framework messages, health checks
//! and removal, failover timeouts. Pure: no runtime, time passed in.

use std::time::Duration;

use libprocess::{Time, Upid};
use rmesos::messages::*;
use rmesos::*;
use uuid::Uuid;

use super::*;

mod acls;
mod logs;
mod observe;
mod restarts;

const MASTER: &str = "m";

fn pid(s: &str) -> Upid {
    s.parse().unwrap()
}

fn r(s: &str) -> Resources {
    Resources::parse(s).unwrap()
}

fn at(secs: u64) -> Time {
    Time::default() + Duration::from_secs(secs)
}

fn core() -> MasterCore {
    let mpid = pid("master@127.0.0.1:5050");
    MasterCore::new(CoreConfig {
        master_id: MASTER.into(),
        info: MasterInfo::new(MASTER, &mpid, Some("localhost".into()), None),
        agent_ping_timeout: Duration::from_secs(15),
        max_agent_ping_timeouts: 5,
        agent_reregister_timeout: Duration::from_secs(600),
        epoch_base: 0.0,
        acls: Default::default(),
    })
}

/// Messages of type `pick` sent to `to` in `actions`.
fn sent<'a, T>(actions: &'a [Action], to: &Upid, pick: impl Fn(&'a Outgoing) -> Option<T>) -> Vec<T> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(p, m) if p == to => pick(m),
            // A slave's (re)registration reply, sent once its admission is written.
            Action::Admit { to: p, reply: m, .. } if p == to => pick(m),
            _ => None,
        })
        .collect()
}

fn updates(actions: &[Action], to: &Upid) -> Vec<StatusUpdate> {
    sent(actions, to, |m| match m {
        Outgoing::StatusUpdate(u) => Some(u.update.clone()),
        _ => None,
    })
}

fn offers(actions: &[Action], to: &Upid) -> Vec<Offer> {
    sent(actions, to, |m| match m {
        Outgoing::ResourceOffers(o) => Some(o.offers.clone()),
        _ => None,
    })
    .concat()
}

fn run_tasks(actions: &[Action], to: &Upid) -> Vec<RunTaskMessage> {
    sent(actions, to, |m| match m {
        Outgoing::RunTask(t) => Some(t.clone()),
        _ => None,
    })
}

struct World {
    m: MasterCore,
    sched: Upid,
    fid: FrameworkID,
    slave: Upid,
    sid: SlaveID,
}

fn register_slave(m: &mut MasterCore, p: &Upid, res: &str) -> SlaveID {
    let info = SlaveInfo::new("host1", p.addr().port(), r(res), Attributes::default());
    let first = !m.slaves_by_pid.contains_key(p);
    let acts = m.register_slave(
        p,
        RegisterSlaveMessage { slave: info, checkpointed_resources: r(""), version: None, incarnation: None },
        at(0),
    );
    assert_eq!(acts.contains(&Action::Link(p.clone())), first);
    let reg = sent(&acts, p, |m| match m {
        Outgoing::SlaveRegistered(s) => Some(s.clone()),
        _ => None,
    });
    assert_eq!(reg.len(), 1);
    assert_eq!(reg[0].connection.as_ref().and_then(|c| c.total_ping_timeout()), Some(Duration::from_secs(75)));
    reg[0].slave_id.clone()
}

fn register_framework(m: &mut MasterCore, p: &Upid, info: FrameworkInfo) -> FrameworkID {
    let acts = m.register_framework(p, RegisterFrameworkMessage { framework: info }, at(0));
    assert!(acts.contains(&Action::Link(p.clone())));
    assert!(acts.contains(&Action::Allocate));
    let reg = sent(&acts, p, |m| match m {
        Outgoing::FrameworkRegistered(f) => Some(f.clone()),
        _ => None,
    });
    assert_eq!(reg.len(), 1);
    assert_eq!(reg[0].master_info.id, MASTER);
    reg[0].framework_id.clone()
}

fn world_with(info: FrameworkInfo) -> World {
    let mut m = core();
    let slave = pid("slave(1)@127.0.0.1:5051");
    let sched = pid("scheduler-1@127.0.0.1:6000");
    let sid = register_slave(&mut m, &slave, "cpus:2;mem:1024");
    let fid = register_framework(&mut m, &sched, info);
    World { m, sched, fid, slave, sid }
}

fn world() -> World {
    world_with(FrameworkInfo::new("user", "test"))
}

impl World {
    fn offer(&mut self, now: Time) -> Offer {
        let acts = self.m.allocate(now);
        let mut o = offers(&acts, &self.sched);
        assert_eq!(o.len(), 1, "{acts:?}");
        o.pop().unwrap()
    }

    fn task(&self, id: &str, res: &str) -> TaskInfo {
        TaskInfo::command("t", TaskID::new(id).unwrap(), self.sid.clone(), r(res), CommandInfo::shell("echo hi"))
    }

    fn launch(&mut self, offer_ids: Vec<OfferID>, tasks: Vec<TaskInfo>) -> Vec<Action> {
        let msg = LaunchTasksMessage { framework_id: self.fid.clone(), tasks, filters: Filters::default(), offer_ids };
        self.m.launch_tasks(&self.sched.clone(), msg, at(1))
    }

    fn slave_update(&mut self, task: &str, state: TaskState, uuid: u128) -> Vec<Action> {
        let st = TaskStatus::new(TaskID::new(task).unwrap(), state);
        let u = StatusUpdate::new(self.fid.clone(), None, Some(self.sid.clone()), st, 1.0, Some(Uuid::from_u128(uuid)));
        self.m.status_update(
            &self.slave.clone(),
            StatusUpdateMessage { update: u, pid: Some(self.slave.clone()) },
            at(2),
        )
    }
}

#[test]
fn registration_assigns_mesos_ids_and_is_idempotent() {
    let mut w = world();
    assert_eq!(w.sid.as_str(), "m-S0");
    assert_eq!(w.fid.as_str(), "m-0000");
    // A retried RegisterSlave from the same pid gets the same id back.
    let again = register_slave(&mut w.m, &w.slave.clone(), "cpus:2;mem:1024");
    assert_eq!(again, w.sid);
    assert_eq!(w.m.slaves().count(), 1);
    let msg = RegisterFrameworkMessage { framework: FrameworkInfo::new("user", "test") };
    let acts = w.m.register_framework(&w.sched.clone(), msg, at(1));
    let again = sent(&acts, &w.sched, |m| match m {
        Outgoing::FrameworkRegistered(f) => Some(f.framework_id.clone()),
        _ => None,
    });
    assert_eq!(again, vec![w.fid.clone()]);
    assert_eq!(w.m.frameworks().count(), 1);
    assert_eq!(w.m.counters().slave_registrations, 1);
}

#[test]
fn bad_framework_info_is_refused_with_an_error() {
    let mut m = core();
    let p = pid("s@127.0.0.1:1");
    let acts = m.register_framework(&p, RegisterFrameworkMessage { framework: FrameworkInfo::new("u", "") }, at(0));
    let errs = sent(&acts, &p, |m| match m {
        Outgoing::FrameworkError(e) => Some(e.message.clone()),
        _ => None,
    });
    assert!(errs[0].contains("framework name is empty"), "{errs:?}");
    assert_eq!(m.frameworks().count(), 0);
}

#[test]
fn offers_go_to_the_scheduler_with_the_slave_pid() {
    let mut w = world();
    let acts = w.m.allocate(at(0));
    let msgs = sent(&acts, &w.sched, |m| match m {
        Outgoing::ResourceOffers(o) => Some(o.clone()),
        _ => None,
    });
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].pids, vec![w.slave.clone()]);
    let o = &msgs[0].offers[0];
    assert_eq!((o.id.as_str(), o.hostname.as_str()), ("m-O0", "host1"));
    assert_eq!(o.resources, r("cpus:2;mem:1024"));
    assert_eq!(w.m.offer_count(), 1);
}

#[test]
fn launch_sends_run_task_and_declines_the_rest_with_filters() {
    let mut w = world();
    let o = w.offer(at(0));
    let acts = w.launch(vec![o.id.clone()], vec![w.task("t1", "cpus:1;mem:256")]);
    let runs = run_tasks(&acts, &w.slave);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].task.task_id.as_str(), "t1");
    assert_eq!(runs[0].pid.as_ref(), Some(&w.sched));
    assert!(updates(&acts, &w.sched).is_empty());
    let fw = w.m.framework(&w.fid).unwrap();
    assert_eq!(fw.tasks[&TaskID::new("t1").unwrap()].state, TaskState::Staging);
    assert_eq!(fw.used, r("cpus:1;mem:256"));
    assert_eq!(w.m.offer_count(), 0);
    // The unused part is filtered for the default 5 s.
    assert!(offers(&w.m.allocate(at(2)), &w.sched).is_empty());
    let o2 = w.offer(at(6));
    assert_eq!(o2.resources, r("cpus:1;mem:768"));
}

#[test]
fn decline_is_a_launch_without_tasks() {
    let mut w = world();
    let o = w.offer(at(0));
    let msg = LaunchTasksMessage::decline(w.fid.clone(), vec![o.id], Filters::refuse(Duration::from_secs(30)));
    let acts = w.m.launch_tasks(&w.sched.clone(), msg, at(1));
    assert!(acts.is_empty(), "{acts:?}");
    assert_eq!(w.m.counters().offers_declined, 1);
    assert!(offers(&w.m.allocate(at(30)), &w.sched).is_empty());
    assert_eq!(offers(&w.m.allocate(at(31)), &w.sched).len(), 1);
}

fn one_error(acts: &[Action], to: &Upid, state: TaskState, reason: Reason) -> String {
    let u = updates(acts, to);
    assert_eq!(u.len(), 1, "{acts:?}");
    assert_eq!(u[0].status.state, state);
    assert_eq!(u[0].status.reason, Some(reason));
    assert_eq!(u[0].status.source, Some(Source::Master));
    assert_eq!(u[0].uuid, None);
    u[0].status.message.clone().unwrap()
}

#[test]
fn task_beyond_the_offer_gets_task_error_and_the_rest_launches() {
    let mut w = world();
    let o = w.offer(at(0));
    let tasks = vec![w.task("big", "cpus:4;mem:256"), w.task("ok", "cpus:1;mem:256")];
    let acts = w.launch(vec![o.id], tasks);
    let msg = one_error(&acts, &w.sched, TaskState::Error, Reason::TaskInvalid);
    assert!(msg.contains("more resources"), "{msg}");
    let runs = run_tasks(&acts, &w.slave);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].task.task_id.as_str(), "ok");
    assert_eq!(w.m.counters().tasks_error, 1);
    assert!(!w.m.framework(&w.fid).unwrap().tasks.contains_key(&TaskID::new("big").unwrap()));
}

#[test]
fn invalid_task_descriptions_get_task_error() {
    let mut w = world();
    let mut no_cmd = w.task("nocmd", "cpus:0.1;mem:32");
    no_cmd.command = None;
    let mut wrong_slave = w.task("wrongslave", "cpus:0.1;mem:32");
    wrong_slave.slave_id = SlaveID::new("m-S99").unwrap();
    let mut bad_id = w.task("x", "cpus:0.1;mem:32");
    bad_id.task_id = serde_json::from_str("\"a/b\"").unwrap();
    let cases = [
        (no_cmd, "neither a command nor an executor"),
        (wrong_slave, "Task uses agent m-S99"),
        (bad_id, "invalid task id"),
        (w.task("nores", ""), "uses no resources"),
    ];
    for (task, expect) in cases {
        let o = w.offer(at(0));
        let acts = w.launch(vec![o.id.clone()], vec![task]);
        let msg = one_error(&acts, &w.sched, TaskState::Error, Reason::TaskInvalid);
        assert!(msg.contains(expect), "{msg} !~ {expect}");
        assert!(run_tasks(&acts, &w.slave).is_empty());
        w.m.allocator.revive(&w.fid);
    }
}

#[test]
fn duplicate_task_ids_get_task_error() {
    let mut w = world();
    let o = w.offer(at(0));
    let acts = w.launch(vec![o.id], vec![w.task("t", "cpus:0.5;mem:32"), w.task("t", "cpus:0.5;mem:32")]);
    let msg = one_error(&acts, &w.sched, TaskState::Error, Reason::TaskInvalid);
    assert_eq!(msg, "Task has duplicate ID: t");
    assert_eq!(run_tasks(&acts, &w.slave).len(), 1);
    w.m.allocator.revive(&w.fid);
    let o = w.offer(at(1));
    let acts = w.launch(vec![o.id], vec![w.task("t", "cpus:0.5;mem:32")]);
    one_error(&acts, &w.sched, TaskState::Error, Reason::TaskInvalid);
}

#[test]
fn unknown_or_used_offers_drop_tasks_with_invalid_offers() {
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id.clone()], vec![w.task("first", "cpus:0.5;mem:32")]);
    // The offer was used: a second launch on it is refused.
    let acts = w.launch(vec![o.id.clone()], vec![w.task("second", "cpus:0.5;mem:32")]);
    let msg = one_error(&acts, &w.sched, TaskState::Lost, Reason::InvalidOffers);
    assert!(msg.contains("is no longer valid"), "{msg}");
    assert!(run_tasks(&acts, &w.slave).is_empty());
    // Partition-aware frameworks hear TASK_DROPPED.
    let mut info = FrameworkInfo::new("u", "pa");
    info.capabilities.push(FrameworkCapability::PartitionAware);
    let mut w = world_with(info);
    let acts = w.launch(vec![OfferID::new("nope").unwrap()], vec![w.task("t", "cpus:0.5;mem:32")]);
    one_error(&acts, &w.sched, TaskState::Dropped, Reason::InvalidOffers);
}

#[test]
fn offers_on_different_slaves_cannot_be_combined() {
    let mut w = world();
    let s2 = pid("slave(1)@127.0.0.1:5052");
    register_slave(&mut w.m, &s2, "cpus:2;mem:1024");
    let acts = w.m.allocate(at(0));
    let o = offers(&acts, &w.sched);
    assert_eq!(o.len(), 2);
    let acts = w.launch(o.iter().map(|o| o.id.clone()).collect(), vec![w.task("t", "cpus:3;mem:32")]);
    let msg = one_error(&acts, &w.sched, TaskState::Lost, Reason::InvalidOffers);
    assert!(msg.contains("one single agent"), "{msg}");
    // Both offers were taken back and are offered again.
    assert_eq!(w.m.offer_count(), 0);
    assert_eq!(offers(&w.m.allocate(at(1)), &w.sched).len(), 2);
}

#[test]
fn launches_from_another_pid_are_dropped() {
    let mut w = world();
    let o = w.offer(at(0));
    let msg = LaunchTasksMessage {
        framework_id: w.fid.clone(),
        tasks: vec![w.task("t", "cpus:1;mem:32")],
        filters: Filters::default(),
        offer_ids: vec![o.id],
    };
    let acts = w.m.launch_tasks(&pid("intruder@127.0.0.1:9"), msg, at(1));
    assert!(acts.is_empty());
    assert_eq!(w.m.offer_count(), 1);
}

#[test]
fn status_updates_reach_the_scheduler_and_acks_reach_the_slave() {
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    let acts = w.slave_update("t", TaskState::Running, 1);
    let fwd = sent(&acts, &w.sched, |m| match m {
        Outgoing::StatusUpdate(u) => Some(u.clone()),
        _ => None,
    });
    assert_eq!(fwd.len(), 1);
    assert_eq!(fwd[0].pid.as_ref(), Some(&w.slave), "the ack goes back through the slave's pid");
    assert_eq!(fwd[0].update.status.state, TaskState::Running);
    let tid = TaskID::new("t").unwrap();
    assert_eq!(w.m.framework(&w.fid).unwrap().tasks[&tid].state, TaskState::Running);
    let ack = StatusUpdateAcknowledgementMessage {
        slave_id: w.sid.clone(),
        framework_id: w.fid.clone(),
        task_id: tid.clone(),
        uuid: Uuid::from_u128(1),
    };
    let acts = w.m.acknowledge(&w.sched.clone(), ack.clone());
    assert_eq!(acts, vec![Action::Send(w.slave.clone(), Outgoing::StatusUpdateAcknowledgement(ack))]);
    // Finished: resources come back at once, the task leaves at the ack.
    w.slave_update("t", TaskState::Finished, 2);
    assert_eq!(w.m.framework(&w.fid).unwrap().used, Resources::new());
    assert_eq!(w.m.counters().tasks_finished, 1);
    assert!(w.m.framework(&w.fid).unwrap().tasks.contains_key(&tid));
    let ack = StatusUpdateAcknowledgementMessage {
        slave_id: w.sid.clone(),
        framework_id: w.fid.clone(),
        task_id: tid.clone(),
        uuid: Uuid::from_u128(2),
    };
    w.m.acknowledge(&w.sched.clone(), ack);
    let fw = w.m.framework(&w.fid).unwrap();
    assert!(!fw.tasks.contains_key(&tid));
    assert_eq!(fw.completed_tasks.back().unwrap().state, TaskState::Finished);
    assert!(w.m.slave(&w.sid).unwrap().tasks.is_empty());
}

#[test]
fn status_updates_from_unknown_slaves_are_dropped() {
    let mut w = world();
    let st = TaskStatus::new(TaskID::new("t").unwrap(), TaskState::Running);
    let u = StatusUpdate::new(w.fid.clone(), None, Some(w.sid.clone()), st, 1.0, Some(Uuid::from_u128(1)));
    let acts = w.m.status_update(&pid("stranger@127.0.0.1:1"), StatusUpdateMessage { update: u, pid: None }, at(1));
    assert!(acts.is_empty());
    assert_eq!(w.m.counters().invalid_status_updates, 1);
}

#[test]
fn kill_goes_to_the_slave_or_is_answered_for_unknown_tasks() {
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    let kill = KillTaskMessage { framework_id: w.fid.clone(), task_id: TaskID::new("t").unwrap(), kill_policy: None };
    let acts = w.m.kill_task(&w.sched.clone(), kill.clone(), at(1));
    assert_eq!(acts, vec![Action::Send(w.slave.clone(), Outgoing::KillTask(kill))]);
    let kill =
        KillTaskMessage { framework_id: w.fid.clone(), task_id: TaskID::new("ghost").unwrap(), kill_policy: None };
    let acts = w.m.kill_task(&w.sched.clone(), kill, at(1));
    one_error(&acts, &w.sched, TaskState::Lost, Reason::Reconciliation);
}

#[test]
fn reconciliation_explicit_and_implicit() {
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("a", "cpus:0.5;mem:32"), w.task("b", "cpus:0.5;mem:32")]);
    w.slave_update("a", TaskState::Running, 1);
    let implicit = ReconcileTasksMessage { framework_id: w.fid.clone(), statuses: vec![], framework: None };
    let acts = w.m.reconcile(&w.sched.clone(), implicit, at(3));
    let mut got: Vec<_> = updates(&acts, &w.sched).into_iter().map(|u| (u.status.task_id, u.status.state)).collect();
    got.sort_by(|x, y| x.0.cmp(&y.0));
    let t = |s: &str| TaskID::new(s).unwrap();
    assert_eq!(got, vec![(t("a"), TaskState::Running), (t("b"), TaskState::Staging)]);
    let explicit = ReconcileTasksMessage {
        framework_id: w.fid.clone(),
        statuses: vec![
            TaskStatus::new(t("a"), TaskState::Staging),
            TaskStatus::new(t("zzz"), TaskState::Running),
            TaskStatus::new(t("onslave"), TaskState::Running).with_slave_id(w.sid.clone()),
        ],
        framework: None,
    };
    let acts = w.m.reconcile(&w.sched.clone(), explicit, at(3));
    let u = updates(&acts, &w.sched);
    assert_eq!(u.len(), 3);
    assert_eq!(u[0].status.state, TaskState::Running);
    assert_eq!(u[1].status.state, TaskState::Lost, "unknown task, non partition-aware");
    assert_eq!(u[2].status.state, TaskState::Lost);
    assert!(u.iter().all(|u| u.status.reason == Some(Reason::Reconciliation) && u.uuid.is_none()));
}

#[test]
fn reconciliation_for_partition_aware_frameworks_uses_precise_states() {
    let mut info = FrameworkInfo::new("u", "pa");
    info.capabilities.push(FrameworkCapability::PartitionAware);
    let mut w = world_with(info);
    let t = |s: &str| TaskID::new(s).unwrap();
    let msg = ReconcileTasksMessage {
        framework_id: w.fid.clone(),
        statuses: vec![
            TaskStatus::new(t("x"), TaskState::Running),
            TaskStatus::new(t("y"), TaskState::Running).with_slave_id(w.sid.clone()),
        ],
        framework: None,
    };
    let u = updates(&w.m.reconcile(&w.sched.clone(), msg, at(1)), &w.sched);
    assert_eq!((u[0].status.state, u[1].status.state), (TaskState::Unknown, TaskState::Gone));
}

#[test]
fn framework_messages_are_routed_both_ways() {
    let mut w = world();
    let eid = ExecutorID::new("e").unwrap();
    let to_exec = FrameworkToExecutorMessage {
        slave_id: w.sid.clone(),
        framework_id: w.fid.clone(),
        executor_id: eid.clone(),
        data: b"hi".to_vec(),
    };
    let acts = w.m.framework_to_executor(&w.sched.clone(), to_exec.clone());
    assert_eq!(acts, vec![Action::Send(w.slave.clone(), Outgoing::FrameworkToExecutor(to_exec))]);
    let to_fw = ExecutorToFrameworkMessage {
        slave_id: w.sid.clone(),
        framework_id: w.fid.clone(),
        executor_id: eid,
        data: b"yo".to_vec(),
    };
    let acts = w.m.executor_to_framework(&w.slave.clone(), to_fw.clone());
    assert_eq!(acts, vec![Action::Send(w.sched.clone(), Outgoing::ExecutorToFramework(to_fw))]);
}

#[test]
fn exited_executor_is_forwarded_and_its_resources_released() {
    let mut w = world();
    let o = w.offer(at(0));
    let mut e = ExecutorInfo::new(ExecutorID::new("e").unwrap(), CommandInfo::shell("./exec"));
    e.resources = r("cpus:0.1;mem:32");
    let task = TaskInfo::with_executor("t", TaskID::new("t").unwrap(), w.sid.clone(), r("cpus:1;mem:256"), e);
    w.launch(vec![o.id], vec![task]);
    assert_eq!(w.m.framework(&w.fid).unwrap().used, r("cpus:1.1;mem:288"));
    let msg = ExitedExecutorMessage {
        slave_id: w.sid.clone(),
        framework_id: w.fid.clone(),
        executor_id: ExecutorID::new("e").unwrap(),
        status: 9,
    };
    let acts = w.m.exited_executor(&w.slave.clone(), msg.clone(), at(2));
    assert_eq!(acts, vec![Action::Send(w.sched.clone(), Outgoing::ExitedExecutor(msg))]);
    assert_eq!(w.m.framework(&w.fid).unwrap().used, r("cpus:1;mem:256"));
}

fn pong_all(m: &mut MasterCore, p: &Upid) {
    m.pong(p);
}

#[test]
fn slaves_that_miss_pings_are_removed_with_task_lost_and_lost_slave() {
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    w.slave_update("t", TaskState::Running, 1);
    // An offer outstanding on the slave at removal is rescinded.
    w.m.allocator.revive(&w.fid);
    let o2 = w.offer(at(1));
    // Answered pings keep it.
    for k in 1..=10 {
        let acts = w.m.ping_tick(at(15 * k));
        assert_eq!(sent(&acts, &w.slave, |m| matches!(m, Outgoing::PingSlave(_)).then_some(())).len(), 1);
        pong_all(&mut w.m, &w.slave.clone());
    }
    // Silence: four misses are tolerated, the fifth removes it.
    let mut removed = Vec::new();
    for k in 11..=16 {
        let acts = w.m.ping_tick(at(15 * k));
        if w.m.slave(&w.sid).is_none() {
            removed = acts;
            break;
        }
    }
    assert!(w.m.slave(&w.sid).is_none(), "removed after 5 missed pings");
    let u = updates(&removed, &w.sched);
    assert_eq!(u.len(), 1);
    assert_eq!((u[0].status.state, u[0].status.reason), (TaskState::Lost, Some(Reason::SlaveRemoved)));
    let lost = sent(&removed, &w.sched, |m| match m {
        Outgoing::LostSlave(l) => Some(l.slave_id.clone()),
        _ => None,
    });
    assert_eq!(lost, vec![w.sid.clone()]);
    let rescinded = sent(&removed, &w.sched, |m| match m {
        Outgoing::RescindResourceOffer(r) => Some(r.offer_id.clone()),
        _ => None,
    });
    assert_eq!(rescinded, vec![o2.id]);
    assert!(removed.contains(&Action::Unlink(w.slave.clone())));
    assert!(w.m.is_unreachable(&w.sid));
    assert_eq!(w.m.counters().tasks_lost, 1);
    assert_eq!(w.m.framework(&w.fid).unwrap().used, Resources::new());
    assert_eq!(w.m.allocator().total(), &Resources::new());
}

#[test]
fn partition_aware_frameworks_hear_task_unreachable() {
    let mut info = FrameworkInfo::new("u", "pa");
    info.capabilities.push(FrameworkCapability::PartitionAware);
    let mut w = world_with(info);
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    let mut all = Vec::new();
    for k in 1..=6 {
        all.extend(w.m.ping_tick(at(15 * k)));
    }
    let u = updates(&all, &w.sched);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].status.state, TaskState::Unreachable);
}

#[test]
fn unreachable_slave_comes_back_and_non_partition_aware_tasks_are_shut_down() {
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    for k in 1..=6 {
        w.m.ping_tick(at(15 * k));
    }
    assert!(w.m.slave(&w.sid).is_none());
    let fw_info = w.m.framework(&w.fid).unwrap().info.clone();
    let tinfo = w.task("t", "cpus:1;mem:256");
    let task = Task::new(&tinfo, w.fid.clone(), TaskState::Running);
    let msg = rereg(&w.sid, vec![task], vec![fw_info]);
    let acts = w.m.reregister_slave(&w.slave.clone(), msg, at(100));
    let shut = sent(&acts, &w.slave, |m| match m {
        Outgoing::ShutdownFramework(s) => Some(s.framework_id.clone()),
        _ => None,
    });
    assert_eq!(shut, vec![w.fid.clone()]);
    assert!(sent(&acts, &w.slave, |m| matches!(m, Outgoing::SlaveReregistered(_)).then_some(())).len() == 1);
    assert!(w.m.slave(&w.sid).is_some() && !w.m.is_unreachable(&w.sid));
    assert!(w.m.framework(&w.fid).unwrap().tasks.is_empty());
    // Its resources are offered again (SEED 3.4).
    assert_eq!(w.offer(at(101)).resources, r("cpus:2;mem:1024"));
}

#[test]
fn a_new_master_rebuilds_tasks_and_frameworks_from_reregistrations() {
    let mut m = core();
    let slave = pid("slave(1)@127.0.0.1:5051");
    let sched = pid("scheduler-1@127.0.0.1:6000");
    let fid = FrameworkID::new("old-0000").unwrap();
    let sid = SlaveID::new("old-S3").unwrap();
    let mut fw_info = FrameworkInfo::new("u", "survivor");
    fw_info.id = Some(fid.clone());
    let tinfo =
        TaskInfo::command("t", TaskID::new("t").unwrap(), sid.clone(), r("cpus:1;mem:256"), CommandInfo::shell("x"));
    let msg = rereg(&sid, vec![Task::new(&tinfo, fid.clone(), TaskState::Running)], vec![fw_info.clone()]);
    let acts = m.reregister_slave(&slave, msg, at(0));
    let rereg = sent(&acts, &slave, |m| match m {
        Outgoing::SlaveReregistered(s) => Some(s.slave_id.clone()),
        _ => None,
    });
    assert_eq!(rereg, vec![sid.clone()]);
    let fw = m.framework(&fid).unwrap();
    assert!(fw.pid.is_none() && !fw.active);
    assert_eq!(fw.tasks[&TaskID::new("t").unwrap()].state, TaskState::Running);
    assert_eq!(m.allocator().available(&sid), Some(&r("cpus:1;mem:768")));
    // No offers until the scheduler is back; then it keeps its id.
    assert!(m.allocate(at(1)).is_empty());
    let acts =
        m.reregister_framework(&sched, ReregisterFrameworkMessage { framework: fw_info, failover: false }, at(2));
    let rereg = sent(&acts, &sched, |m| match m {
        Outgoing::FrameworkReregistered(f) => Some(f.framework_id.clone()),
        _ => None,
    });
    assert_eq!(rereg, vec![fid.clone()]);
    assert_eq!(offers(&m.allocate(at(3)), &sched)[0].resources, r("cpus:1;mem:768"));
}

#[test]
fn known_slave_reregistering_gets_reconciliations_for_unreported_tasks() {
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    let msg = rereg(&w.sid, vec![], vec![]);
    let acts = w.m.reregister_slave(&w.slave.clone(), msg, at(1));
    let rec = sent(&acts, &w.slave, |m| match m {
        Outgoing::SlaveReregistered(s) => Some(s.reconciliations.clone()),
        _ => None,
    });
    assert_eq!(rec[0].len(), 1);
    assert_eq!(rec[0][0].statuses[0].task_id.as_str(), "t");
}

#[test]
fn disconnected_slave_loses_non_checkpointing_tasks_and_stops_offering() {
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    let acts = w.m.exited(&w.slave.clone(), at(1));
    let u = updates(&acts, &w.sched);
    assert_eq!((u[0].status.state, u[0].status.reason), (TaskState::Lost, Some(Reason::SlaveDisconnected)));
    assert!(w.m.slave(&w.sid).is_some(), "kept until the health checks decide");
    w.m.allocator.revive(&w.fid);
    assert!(w.m.allocate(at(2)).is_empty());
    // Pings tell it it is not connected; it reregisters and is offered again.
    let acts = w.m.ping_tick(at(15));
    assert_eq!(
        sent(&acts, &w.slave, |m| match m {
            Outgoing::PingSlave(p) => Some(p.connected),
            _ => None,
        }),
        vec![false]
    );
}

#[test]
fn disconnected_framework_is_removed_after_its_failover_timeout() {
    let mut info = FrameworkInfo::new("u", "f");
    info.failover_timeout = 60.0;
    let mut w = world_with(info);
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    let acts = w.m.exited(&w.sched.clone(), at(1));
    let timer = acts
        .iter()
        .find_map(|a| match a {
            Action::FailoverTimer { epoch, after, .. } => Some((*epoch, *after)),
            _ => None,
        })
        .unwrap();
    assert_eq!(timer.1, Duration::from_secs(60));
    assert!(!w.m.framework(&w.fid).unwrap().active);
    let acts = w.m.failover_expired(&w.fid.clone(), timer.0, at(61));
    assert_eq!(
        sent(&acts, &w.slave, |m| match m {
            Outgoing::ShutdownFramework(s) => Some(s.framework_id.clone()),
            _ => None,
        }),
        vec![w.fid.clone()]
    );
    assert!(w.m.framework(&w.fid).is_none());
    assert_eq!(w.m.completed_frameworks().count(), 1);
    assert_eq!(w.m.slave(&w.sid).unwrap().used, Resources::new());
}

#[test]
fn framework_failover_to_a_new_scheduler_keeps_its_tasks() {
    let mut info = FrameworkInfo::new("u", "f");
    info.failover_timeout = 60.0;
    let mut w = world_with(info.clone());
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    let acts = w.m.exited(&w.sched.clone(), at(1));
    let epoch = acts
        .iter()
        .find_map(|a| match a {
            Action::FailoverTimer { epoch, .. } => Some(*epoch),
            _ => None,
        })
        .unwrap();
    let new_sched = pid("scheduler-2@127.0.0.1:6001");
    info.id = Some(w.fid.clone());
    let acts =
        w.m.reregister_framework(&new_sched, ReregisterFrameworkMessage { framework: info, failover: true }, at(5));
    assert_eq!(
        sent(&acts, &new_sched, |m| match m {
            Outgoing::FrameworkRegistered(f) => Some(f.framework_id.clone()),
            _ => None,
        }),
        vec![w.fid.clone()]
    );
    assert!(sent(&acts, &w.slave, |m| matches!(m, Outgoing::UpdateFramework(_)).then_some(())).len() == 1);
    assert!(sent(&acts, &w.sched, |m| matches!(m, Outgoing::FrameworkError(_)).then_some(())).len() == 1);
    // The old timer is void.
    w.m.failover_expired(&w.fid.clone(), epoch, at(61));
    assert_eq!(w.m.framework(&w.fid).unwrap().tasks.len(), 1);
}

#[test]
fn a_scheduler_that_takes_over_is_offered_what_the_old_one_held() {
    let mut info = FrameworkInfo::new("u", "f");
    info.failover_timeout = 60.0;
    let mut w = world_with(info.clone());
    let o = w.offer(at(0));
    // A new scheduler takes over while the old one still holds the offer.
    let new_sched = pid("scheduler-2@127.0.0.1:6001");
    info.id = Some(w.fid.clone());
    w.m.reregister_framework(&new_sched, ReregisterFrameworkMessage { framework: info, failover: true }, at(1));
    assert!(w.m.offer(&o.id).is_none(), "the old scheduler's offer is taken back");
    let again = offers(&w.m.allocate(at(1)), &new_sched);
    assert_eq!(again.len(), 1, "and offered to the new scheduler");
}

#[test]
fn shutdown_executor_goes_to_its_slave() {
    let mut w = world();
    let eid = rmesos::ExecutorID::new("e").unwrap();
    let acts = w.m.shutdown_executor(&w.sched.clone(), &w.fid.clone(), &w.sid.clone(), &eid);
    let sent = sent(&acts, &w.slave, |m| match m {
        Outgoing::ShutdownExecutor(s) => Some(s.clone()),
        _ => None,
    });
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].executor_id.as_ref(), Some(&eid));
    // Not from the framework's scheduler: dropped.
    let stranger = pid("stranger@127.0.0.1:7000");
    assert!(w.m.shutdown_executor(&stranger, &w.fid.clone(), &w.sid.clone(), &eid).is_empty());
}

#[test]
fn unregister_removes_the_framework_and_kills_its_tasks() {
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    let acts =
        w.m.unregister_framework(&w.sched.clone(), UnregisterFrameworkMessage { framework_id: w.fid.clone() }, at(1));
    assert_eq!(sent(&acts, &w.slave, |m| matches!(m, Outgoing::ShutdownFramework(_)).then_some(())).len(), 1);
    assert!(w.m.framework(&w.fid).is_none());
    assert_eq!(w.m.counters().tasks_killed, 1);
    // It cannot come back under that id.
    let mut info = FrameworkInfo::new("user", "test");
    info.id = Some(w.fid.clone());
    let acts = w.m.reregister_framework(
        &w.sched.clone(),
        ReregisterFrameworkMessage { framework: info, failover: false },
        at(2),
    );
    assert!(sent(&acts, &w.sched, |m| matches!(m, Outgoing::FrameworkError(_)).then_some(())).len() == 1);
}

#[test]
fn suppress_and_revive_through_messages() {
    let mut w = world();
    w.m.suppress(&w.sched.clone(), SuppressOffersMessage { framework_id: w.fid.clone() });
    assert!(w.m.allocate(at(0)).is_empty());
    let acts = w.m.revive(&w.sched.clone(), ReviveOffersMessage { framework_id: w.fid.clone() });
    assert_eq!(acts, vec![Action::Allocate]);
    assert_eq!(offers(&w.m.allocate(at(0)), &w.sched).len(), 1);
}

#[test]
fn reregistration_from_another_pid_without_failover_is_refused() {
    let mut w = world();
    let mut info = FrameworkInfo::new("user", "test");
    info.id = Some(w.fid.clone());
    let other = pid("scheduler-9@127.0.0.1:6009");
    let acts = w.m.reregister_framework(
        &other,
        ReregisterFrameworkMessage { framework: info.clone(), failover: false },
        at(1),
    );
    let errs = sent(&acts, &other, |m| match m {
        Outgoing::FrameworkError(e) => Some(e.message.clone()),
        _ => None,
    });
    assert_eq!(errs, vec!["Framework failed over".to_string()]);
    assert_eq!(w.m.framework(&w.fid).unwrap().pid.as_ref(), Some(&w.sched));
    // The holder itself reregisters (e.g. after a master change): its
    // outstanding offers are rescinded and it is told it is reregistered.
    let o = w.offer(at(1));
    let acts = w.m.reregister_framework(
        &w.sched.clone(),
        ReregisterFrameworkMessage { framework: info, failover: false },
        at(2),
    );
    let rescinded = sent(&acts, &w.sched, |m| match m {
        Outgoing::RescindResourceOffer(r) => Some(r.offer_id.clone()),
        _ => None,
    });
    assert_eq!(rescinded, vec![o.id]);
    assert_eq!(sent(&acts, &w.sched, |m| matches!(m, Outgoing::FrameworkReregistered(_)).then_some(())).len(), 1);
}

/// Slave `sid` (host1:5051, cpus:2;mem:1024) reregistering with `tasks`
/// of `frameworks`.
fn rereg(sid: &SlaveID, tasks: Vec<Task>, frameworks: Vec<FrameworkInfo>) -> ReregisterSlaveMessage {
    let mut info = SlaveInfo::new("host1", 5051, r("cpus:2;mem:1024"), Attributes::default());
    info.id = Some(sid.clone());
    ReregisterSlaveMessage {
        slave: info,
        checkpointed_resources: r(""),
        executor_infos: vec![],
        tasks,
        frameworks,
        completed_frameworks: vec![],
        version: None,
        incarnation: None,
    }
}

/// The world's slave reregistering with `tasks` of the world's framework.
fn rereg_msg(w: &World, tasks: Vec<Task>) -> ReregisterSlaveMessage {
    rereg(&w.sid, tasks, vec![w.m.framework(&w.fid).unwrap().info.clone()])
}

/// The epoch of the ReregisterTimer among `acts` (a slave disconnected).
fn reregister_epoch(acts: &[Action]) -> u64 {
    acts.iter()
        .find_map(|a| match a {
            Action::ReregisterTimer { epoch, .. } => Some(*epoch),
            _ => None,
        })
        .expect("a ReregisterTimer")
}

#[test]
fn disconnected_slave_that_reregisters_has_its_lost_tasks_killed_and_is_offered_again() {
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    let acts = w.m.exited(&w.slave.clone(), at(1));
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::ReregisterTimer { after, .. } if *after == Duration::from_secs(600))));
    let running = Task::new(&w.task("t", "cpus:1;mem:256"), w.fid.clone(), TaskState::Running);
    let acts = w.m.reregister_slave(&w.slave.clone(), rereg_msg(&w, vec![running]), at(5));
    let kills = sent(&acts, &w.slave, |m| match m {
        Outgoing::KillTask(k) => Some(k.task_id.clone()),
        _ => None,
    });
    assert_eq!(kills, vec![TaskID::new("t").unwrap()], "the framework was told TASK_LOST");
    assert!(w.m.framework(&w.fid).unwrap().tasks.is_empty());
    assert!(w.m.slave(&w.sid).unwrap().connected);
    assert_eq!(w.offer(at(6)).resources, r("cpus:2;mem:1024"));
}

#[test]
fn a_late_update_of_a_task_the_master_declared_lost_is_acknowledged_not_forwarded() {
    // Found by the chaos simulation: the task finished on the slave just
    // before its connection broke; the master told the framework TASK_LOST
    // (the framework re-ran it elsewhere); the slave came back and retried
    // TASK_FINISHED. Forwarded, the framework would see the task end twice.
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    let acts = w.m.exited(&w.slave.clone(), at(1));
    let lost = updates(&acts, &w.sched);
    assert_eq!(lost.iter().map(|u| u.status.state).collect::<Vec<_>>(), vec![TaskState::Lost]);
    let finished = Task::new(&w.task("t", "cpus:1;mem:256"), w.fid.clone(), TaskState::Finished);
    w.m.reregister_slave(&w.slave.clone(), rereg_msg(&w, vec![finished]), at(5));
    let acts = w.slave_update("t", TaskState::Finished, 7);
    assert!(updates(&acts, &w.sched).is_empty(), "forwarded: {acts:?}");
    let acks = sent(&acts, &w.slave, |m| match m {
        Outgoing::StatusUpdateAcknowledgement(a) => Some((a.task_id.clone(), a.uuid)),
        _ => None,
    });
    assert_eq!(acks, vec![(TaskID::new("t").unwrap(), Uuid::from_u128(7))], "the slave stops retrying");
    // An update for a task the master never knew is still forwarded (as Mesos).
    let acts = w.slave_update("other", TaskState::Finished, 8);
    assert_eq!(updates(&acts, &w.sched).len(), 1);
}

#[test]
fn tasks_reported_lost_by_an_earlier_master_are_not_adopted_by_the_next() {
    // Found by the chaos simulation: the leader reported TASK_LOST when the
    // slave's connection broke (the task had just finished), then lost
    // leadership; the next leader adopted the finished task from the
    // reregistering slave and forwarded TASK_FINISHED.
    let mut w = world();
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    let acts = w.m.exited(&w.slave.clone(), at(1));
    let record = acts.iter().position(|a| matches!(a, Action::RecordLoss { .. })).expect("loss recorded");
    let lost = acts.iter().position(|a| matches!(a, Action::Send(_, Outgoing::StatusUpdate(_)))).expect("TASK_LOST");
    assert!(record < lost, "recorded before it is reported: {acts:?}");
    let t = (w.fid.clone(), TaskID::new("t").unwrap());
    assert_eq!(acts[record], Action::RecordLoss { slave_id: w.sid.clone(), tasks: vec![t.clone()] });

    // The next master: the registry's losses, the framework, then the slave.
    let mut next = core();
    next.recover_losses([(w.sid.clone(), [t.clone()].into())].into());
    let mut info = FrameworkInfo::new("user", "test");
    info.id = Some(w.fid.clone());
    next.reregister_framework(&w.sched, ReregisterFrameworkMessage { framework: info, failover: false }, at(2));
    let finished = Task::new(&w.task("t", "cpus:1;mem:256"), w.fid.clone(), TaskState::Finished);
    let acts = next.reregister_slave(&w.slave.clone(), rereg_msg(&w, vec![finished]), at(3));
    assert!(next.framework(&w.fid).unwrap().tasks.is_empty(), "not adopted");
    assert_eq!(updates(&acts, &w.sched).iter().map(|u| u.status.state).collect::<Vec<_>>(), vec![TaskState::Lost]);
    // The slave still has it (its update is pending): the record stays.
    assert!(!acts.iter().any(|a| matches!(a, Action::ClearLoss { .. })), "{acts:?}");
    assert!(next.lost_on_disconnect.contains_key(&w.sid));
    // Its late TASK_FINISHED is acknowledged, not forwarded.
    let st = TaskStatus::new(TaskID::new("t").unwrap(), TaskState::Finished);
    let u = StatusUpdate::new(w.fid.clone(), None, Some(w.sid.clone()), st, 1.0, Some(Uuid::from_u128(9)));
    let acts =
        next.status_update(&w.slave.clone(), StatusUpdateMessage { update: u, pid: Some(w.slave.clone()) }, at(4));
    assert!(updates(&acts, &w.sched).is_empty(), "forwarded: {acts:?}");
    // Back again without it: the record goes.
    let acts = next.reregister_slave(&w.slave.clone(), rereg_msg(&w, vec![]), at(5));
    assert!(acts.contains(&Action::ClearLoss { slave_id: w.sid.clone(), tasks: vec![t] }), "{acts:?}");
    assert!(!next.lost_on_disconnect.contains_key(&w.sid));
}

#[test]
fn disconnected_slave_that_never_reregisters_is_removed_at_the_reregister_timeout() {
    let mut w = world();
    let acts = w.m.exited(&w.slave.clone(), at(1));
    let epoch = reregister_epoch(&acts);
    let acts = w.m.reregister_timeout(&w.sid.clone(), epoch, at(601));
    assert!(w.m.slave(&w.sid).is_none());
    assert_eq!(sent(&acts, &w.sched, |m| matches!(m, Outgoing::LostSlave(_)).then_some(())).len(), 1);
}

#[test]
fn a_timer_of_an_older_disconnection_is_void() {
    let mut w = world();
    let acts = w.m.exited(&w.slave.clone(), at(1));
    let epoch = reregister_epoch(&acts);
    w.m.reregister_slave(&w.slave.clone(), rereg_msg(&w, vec![]), at(2));
    w.m.reregister_timeout(&w.sid.clone(), epoch, at(601));
    assert!(w.m.slave(&w.sid).is_some());
}

#[test]
fn a_disconnected_scheduler_is_told_so() {
    let mut w = world();
    let acts = w.m.exited(&w.sched.clone(), at(1));
    let errs = sent(&acts, &w.sched, |m| match m {
        Outgoing::FrameworkError(e) => Some(e.message.clone()),
        _ => None,
    });
    assert_eq!(errs, vec!["Framework disconnected".to_string()]);
    // Default failover_timeout 0: removed when the timer fires at once.
    assert!(acts.iter().any(|a| matches!(a, Action::FailoverTimer { after, .. } if after.is_zero())));
}

#[test]
fn unreachable_slaves_are_bounded_and_forget_the_oldest() {
    let mut u = state::UnreachableSlaves::default();
    let n = state::MAX_UNREACHABLE_SLAVES as u64;
    for i in 0..n + 10 {
        u.insert(SlaveID::generate("m", i));
    }
    assert_eq!(u.len(), state::MAX_UNREACHABLE_SLAVES);
    assert!(!u.contains(&SlaveID::generate("m", 9)));
    assert!(u.contains(&SlaveID::generate("m", 10)));
    assert!(u.remove(&SlaveID::generate("m", 10)));
    assert!(!u.contains(&SlaveID::generate("m", 10)));
    // Back and unreachable again: counted once.
    u.insert(SlaveID::generate("m", 11));
    assert_eq!(u.len(), state::MAX_UNREACHABLE_SLAVES - 1);
}

#[test]
fn a_restarted_slave_of_a_checkpointing_framework_keeps_its_tasks_and_its_new_pid_replaces_the_old() {
    let mut info = FrameworkInfo::new("user", "test");
    info.checkpoint = true;
    let mut w = world_with(info);
    let o = w.offer(at(0));
    w.launch(vec![o.id], vec![w.task("t", "cpus:1;mem:256")]);
    // The slave process dies: its checkpointing framework's task is kept.
    let acts = w.m.exited(&w.slave.clone(), at(1));
    assert!(!acts.iter().any(|a| matches!(a, Action::Send(_, Outgoing::StatusUpdate(_)))), "{acts:?}");
    // It comes back (recovered) at another pid, with the same id and task.
    let new = pid("slave(1)@127.0.0.1:5052");
    let running = Task::new(&w.task("t", "cpus:1;mem:256"), w.fid.clone(), TaskState::Running);
    let acts = w.m.reregister_slave(&new, rereg_msg(&w, vec![running]), at(5));
    assert_eq!(sent(&acts, &new, |m| matches!(m, Outgoing::SlaveReregistered(_)).then_some(())).len(), 1);
    assert!(sent(&acts, &new, |m| matches!(m, Outgoing::KillTask(_)).then_some(())).is_empty(), "{acts:?}");
    assert!(acts.contains(&Action::Link(new.clone())));
    let sl = w.m.slave(&w.sid).unwrap();
    assert!(sl.connected && sl.pid == new);
    assert!(!w.m.framework(&w.fid).unwrap().tasks[&TaskID::new("t").unwrap()].state.is_terminal());
    // Messages from the old pid are no longer the slave's.
    assert!(!w.m.slaves_by_pid.contains_key(&w.slave));
}

/// The registry follows the core's actions: an admission written before
/// the slave hears it is registered, none again for a reregistration of a
/// slave the registry holds, and a removal dropped at the end of its event.
#[test]
fn the_registry_is_written_by_admit_and_unadmit_actions() {
    let admits = |acts: &[Action]| acts.iter().filter(|a| matches!(a, Action::Admit { .. })).count();
    let mut w = world();
    assert!(w.m.admitted.contains(&w.sid));
    // Same master, same slave: already admitted, the reply goes out as is.
    w.m.exited(&w.slave.clone(), at(1));
    let acts = w.m.reregister_slave(&w.slave.clone(), rereg_msg(&w, vec![]), at(2));
    assert_eq!(admits(&acts), 0, "{acts:?}");
    assert_eq!(sent(&acts, &w.slave, |m| matches!(m, Outgoing::SlaveReregistered(_)).then_some(())).len(), 1);
    // Removed: the last action drops it from the registry.
    let acts = w.m.unregister_slave(&w.slave.clone(), UnregisterSlaveMessage { slave_id: w.sid.clone() }, at(3));
    assert_eq!(acts.last(), Some(&Action::Unadmit(w.sid.clone())), "{acts:?}");
    assert!(!w.m.admitted.contains(&w.sid));
    // Back again (a new master would not know it either): admitted anew.
    let acts = w.m.reregister_slave(&w.slave.clone(), rereg_msg(&w, vec![]), at(4));
    let admitted = acts.iter().any(|a| {
        matches!(a, Action::Admit { info, to, reply: Outgoing::SlaveReregistered(_) }
            if info.id.as_ref() == Some(&w.sid) && *to == w.slave)
    });
    assert!(admitted, "{acts:?}");

    // A slave read from the registry that never comes back is dropped from it.
    let mut m = core();
    let mut gone = SlaveInfo::new("host9", 5051, r("cpus:1"), Attributes::default());
    gone.id = Some(SlaveID::new("S9").unwrap());
    m.recover(vec![gone]);
    let (ids, acts) = m.recovered_timeout(at(600));
    assert_eq!(ids, vec![SlaveID::new("S9").unwrap()]);
    assert_eq!(acts.last(), Some(&Action::Unadmit(SlaveID::new("S9").unwrap())), "{acts:?}");
}
