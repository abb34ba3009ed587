//! Unit tests of the driver's pure core: events in, actions out, no runtime.

use std::time::Duration;

use libprocess::{Time, Upid};
use uuid::Uuid;

use super::core::*;
use crate::ids::{ExecutorID, FrameworkID, OfferID, SlaveID, TaskID};
use crate::info::{CommandInfo, Filters, FrameworkCapability, FrameworkInfo, MasterInfo, Offer, TaskInfo};
use crate::messages::*;
use crate::resources::Resources;
use crate::task::{Reason, TaskState, TaskStatus};

mod logs;

fn pid(s: &str) -> Upid {
    s.parse().unwrap()
}

fn master() -> Upid {
    pid("master@127.0.0.1:5050")
}

fn fid() -> FrameworkID {
    FrameworkID::new("m1-0000").unwrap()
}

fn at(secs: u64) -> Time {
    Time::default() + Duration::from_secs(secs)
}

fn info(of: &Upid) -> MasterInfo {
    MasterInfo::new("m1", of, None, None)
}

fn core() -> DriverCore {
    DriverCore::new(FrameworkInfo::new("u", "test"), true, 7)
}

/// A core registered with `master()`.
fn connected() -> DriverCore {
    let mut c = core();
    c.start();
    c.detected(Some(master()), at(0));
    c.framework_registered(&master(), FrameworkRegisteredMessage { framework_id: fid(), master_info: info(&master()) });
    assert!(c.connected());
    c
}

fn sends(actions: &[Action]) -> Vec<(Upid, Outgoing)> {
    actions
        .iter()
        .filter_map(|a| if let Action::Send(to, m) = a { Some((to.clone(), m.clone())) } else { None })
        .collect()
}

fn callbacks(actions: &[Action]) -> Vec<Callback> {
    actions.iter().filter_map(|a| if let Action::Callback(c) = a { Some(c.clone()) } else { None }).collect()
}

fn timer(actions: &[Action]) -> Option<(Duration, u64, Duration)> {
    actions.iter().find_map(|a| match a {
        Action::RegistrationTimer { after, generation, backoff } => Some((*after, *generation, *backoff)),
        _ => None,
    })
}

fn offer(id: &str, slave: &str) -> Offer {
    Offer {
        id: OfferID::new(id).unwrap(),
        framework_id: fid(),
        slave_id: SlaveID::new(slave).unwrap(),
        hostname: "h".into(),
        resources: Resources::parse("cpus:1;mem:128").unwrap(),
        attributes: Default::default(),
        executor_ids: vec![],
    }
}

fn task(id: &str, slave: &str) -> TaskInfo {
    TaskInfo::command(
        id,
        TaskID::new(id).unwrap(),
        SlaveID::new(slave).unwrap(),
        Resources::parse("cpus:0.1;mem:32").unwrap(),
        CommandInfo::shell("true"),
    )
}

fn update(task: &str, state: TaskState, uuid: Option<Uuid>, via_slave: bool) -> StatusUpdateMessage {
    let status = TaskStatus::new(TaskID::new(task).unwrap(), state);
    let slave = SlaveID::new("S0").unwrap();
    StatusUpdateMessage {
        update: StatusUpdate::new(fid(), None, Some(slave), status, 1.0, uuid),
        pid: via_slave.then(|| pid("slave(1)@127.0.0.1:5051")),
    }
}

#[test]
fn start_detects_then_registers_with_a_randomized_retry() {
    let mut c = core();
    assert_eq!(c.start(), vec![Action::Detect { after: Duration::ZERO }]);
    assert!(c.start().is_empty(), "a second start does nothing");
    let out = c.detected(Some(master()), at(0));
    assert_eq!(out[0], Action::Link(master()));
    let s = sends(&out);
    assert!(matches!(&s[..], [(to, Outgoing::Register(_))] if *to == master()));
    let (after, generation, backoff) = timer(&out).unwrap();
    assert!(after >= REGISTRATION_BACKOFF_FACTOR / 2 && after <= REGISTRATION_BACKOFF_FACTOR, "{after:?}");
    assert_eq!(backoff, REGISTRATION_BACKOFF_FACTOR * 2);

    // The timer resends with a doubled bound, capped at the maximum.
    let out = c.registration_timer(generation, backoff);
    assert!(matches!(&sends(&out)[..], [(_, Outgoing::Register(_))]));
    let (after, _, next) = timer(&out).unwrap();
    assert!(after >= backoff / 2 && after <= backoff);
    assert_eq!(next, backoff * 2);
    let out = c.registration_timer(generation, Duration::from_secs(1000));
    let (after, _, next) = timer(&out).unwrap();
    assert!(after <= REGISTRATION_RETRY_INTERVAL_MAX);
    assert_eq!(next, REGISTRATION_RETRY_INTERVAL_MAX * 2);

    // A stale timer (older detection) and a timer after registration do nothing.
    assert!(c.registration_timer(generation + 5, backoff).is_empty());
    let out = c.framework_registered(
        &master(),
        FrameworkRegisteredMessage { framework_id: fid(), master_info: info(&master()) },
    );
    assert_eq!(callbacks(&out), vec![Callback::Registered(fid(), info(&master()))]);
    assert!(c.registration_timer(generation, backoff).is_empty());
    assert_eq!(c.framework_id(), Some(&fid()));
}

#[test]
fn backoff_is_bounded_by_a_tenth_of_the_failover_timeout() {
    let mut f = FrameworkInfo::new("u", "test");
    f.failover_timeout = 2.0;
    let mut c = DriverCore::new(f, true, 1);
    c.start();
    let (after, _, backoff) = timer(&c.detected(Some(master()), at(0))).unwrap();
    assert!(after <= Duration::from_millis(200), "{after:?}");
    assert_eq!(backoff, Duration::from_millis(400));
}

#[test]
fn registration_answers_from_another_pid_are_ignored() {
    let mut c = core();
    c.start();
    c.detected(Some(master()), at(0));
    let other = pid("master@127.0.0.1:6060");
    let msg = FrameworkRegisteredMessage { framework_id: fid(), master_info: info(&other) };
    assert!(c.framework_registered(&other, msg.clone()).is_empty());
    assert!(!c.connected());
    assert!(!c.framework_registered(&master(), msg.clone()).is_empty());
    assert!(c.framework_registered(&master(), msg).is_empty(), "already connected");
}

#[test]
fn master_exit_disconnects_and_reregisters_without_failover() {
    let mut c = connected();
    let out = c.exited(&pid("slave(1)@127.0.0.1:5051"), at(10));
    assert!(out.is_empty(), "only the master's exit matters");
    let out = c.exited(&master(), at(10));
    assert_eq!(callbacks(&out), vec![Callback::Disconnected]);
    assert!(out.contains(&Action::Detect { after: Duration::ZERO }));
    assert!(!c.connected() && c.master().is_none());

    // A new master: reregister with the id, failover = false.
    let m2 = pid("master@127.0.0.1:6060");
    let out = c.detected(Some(m2.clone()), at(10));
    assert!(callbacks(&out).is_empty(), "disconnected() already ran");
    match &sends(&out)[..] {
        [(to, Outgoing::Reregister(r))] => {
            assert_eq!(*to, m2);
            assert_eq!(r.framework.id, Some(fid()));
            assert!(!r.failover);
        }
        other => panic!("{other:?}"),
    }
    // The old master's answers and offers are dropped.
    let late = FrameworkReregisteredMessage { framework_id: fid(), master_info: info(&master()) };
    assert!(c.framework_reregistered(&master(), late).is_empty());
    let out =
        c.framework_reregistered(&m2, FrameworkReregisteredMessage { framework_id: fid(), master_info: info(&m2) });
    assert_eq!(callbacks(&out), vec![Callback::Reregistered(info(&m2))]);
    let offers = ResourceOffersMessage { offers: vec![offer("o1", "S0")], pids: vec![pid("slave(1)@127.0.0.1:5051")] };
    assert!(c.resource_offers(&master(), offers.clone()).is_empty());
    assert_eq!(callbacks(&c.resource_offers(&m2, offers)).len(), 1);

    // A second exit soon after the last detection waits out the interval.
    let out = c.exited(&m2, at(10) + Duration::from_millis(300));
    assert!(out.contains(&Action::Detect { after: MIN_REDETECT_INTERVAL - Duration::from_millis(300) }));
}

#[test]
fn a_framework_given_an_id_fails_over_once() {
    let mut f = FrameworkInfo::new("u", "test");
    f.id = Some(fid());
    let mut c = DriverCore::new(f, true, 3);
    c.start();
    match &sends(&c.detected(Some(master()), at(0)))[..] {
        [(_, Outgoing::Reregister(r))] => assert!(r.failover),
        other => panic!("{other:?}"),
    }
    // Mesos's master answers a failover with FrameworkRegistered.
    let msg = FrameworkRegisteredMessage { framework_id: fid(), master_info: info(&master()) };
    assert_eq!(callbacks(&c.framework_registered(&master(), msg)).len(), 1);
    c.exited(&master(), at(5));
    match &sends(&c.detected(Some(master()), at(5)))[..] {
        [(_, Outgoing::Reregister(r))] => assert!(!r.failover),
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_master_detected_or_detection_failure_detects_again_later() {
    let mut c = core();
    c.start();
    assert_eq!(c.detected(None, at(0)), vec![Action::Detect { after: MIN_REDETECT_INTERVAL }]);
    assert_eq!(c.detection_failed("no such host", at(1)), vec![Action::Detect { after: MIN_REDETECT_INTERVAL }]);
}

#[test]
fn offers_are_dropped_while_disconnected_and_saved_pids_route_messages() {
    let mut c = core();
    c.start();
    c.detected(Some(master()), at(0));
    let slave = pid("slave(1)@127.0.0.1:5051");
    let msg =
        ResourceOffersMessage { offers: vec![offer("o1", "S0"), offer("o2", "S1")], pids: vec![slave.clone(); 2] };
    assert!(c.resource_offers(&master(), msg.clone()).is_empty(), "not registered yet");
    let mut c = connected();
    assert!(c.resource_offers(&pid("master@127.0.0.1:7070"), msg.clone()).is_empty());
    assert_eq!(callbacks(&c.resource_offers(&master(), msg)).len(), 1);
    assert!(c.resource_offers(&master(), ResourceOffersMessage { offers: vec![], pids: vec![] }).is_empty());

    let out = c.launch_tasks(vec![OfferID::new("o1").unwrap()], vec![task("t1", "S0")], Filters::default());
    match &sends(&out)[..] {
        [(to, Outgoing::Launch(l))] => {
            assert_eq!(*to, master());
            assert_eq!(l.tasks.len(), 1);
            assert_eq!(l.framework_id, fid());
        }
        other => panic!("{other:?}"),
    }
    // S0 ran a task: its messages go straight to it; S1's through the master.
    let e = ExecutorID::new("e").unwrap();
    let out = c.send_framework_message(e.clone(), SlaveID::new("S0").unwrap(), b"hi".to_vec());
    assert_eq!(sends(&out)[0].0, slave);
    let out = c.send_framework_message(e, SlaveID::new("S1").unwrap(), b"hi".to_vec());
    assert_eq!(sends(&out)[0].0, master());

    let out = c.decline_offer(OfferID::new("o2").unwrap(), Filters::refuse(Duration::from_secs(30)));
    match &sends(&out)[..] {
        [(_, Outgoing::Launch(l))] => {
            assert!(l.is_decline());
            assert_eq!(l.offer_ids, vec![OfferID::new("o2").unwrap()]);
            assert_eq!(l.filters.refuse_seconds, 30.0);
        }
        other => panic!("{other:?}"),
    }
    let out = c.offer_rescinded(&master(), RescindResourceOfferMessage { offer_id: OfferID::new("o9").unwrap() });
    assert_eq!(callbacks(&out), vec![Callback::OfferRescinded(OfferID::new("o9").unwrap())]);
}

#[test]
fn launch_while_disconnected_reports_each_task_lost_or_dropped() {
    let mut c = connected();
    c.exited(&master(), at(3));
    let out =
        c.launch_tasks(vec![OfferID::new("o1").unwrap()], vec![task("a", "S0"), task("b", "S0")], Filters::default());
    assert!(sends(&out).is_empty());
    let cbs = callbacks(&out);
    assert_eq!(cbs.len(), 2);
    for cb in cbs {
        let Callback::StatusUpdate(s) = cb else { panic!() };
        assert_eq!(s.state, TaskState::Lost);
        assert_eq!(s.reason, Some(Reason::MasterDisconnected));
        assert!(s.uuid.is_none());
    }
    let mut f = FrameworkInfo::new("u", "pa");
    f.capabilities.push(FrameworkCapability::PartitionAware);
    let mut c = DriverCore::new(f, true, 1);
    c.start();
    let out = c.launch_tasks(vec![], vec![task("a", "S0")], Filters::default());
    assert!(matches!(&callbacks(&out)[..], [Callback::StatusUpdate(s)] if s.state == TaskState::Dropped));
}

#[test]
fn implicit_acks_only_for_updates_with_a_uuid_from_a_slave() {
    let mut c = connected();
    let u = Uuid::from_u128(42);
    let out = c.status_update(&master(), update("t1", TaskState::Running, Some(u), true));
    let [Callback::StatusUpdate(status)] = &callbacks(&out)[..] else { panic!("{out:?}") };
    assert_eq!(status.uuid, Some(u));
    assert!(sends(&out).is_empty(), "the ack follows the callback");
    match &sends(&c.after_status_update())[..] {
        [(to, Outgoing::Ack(a))] => {
            assert_eq!(*to, master());
            assert_eq!((a.uuid, a.task_id.as_str(), a.slave_id.as_str()), (u, "t1", "S0"));
        }
        other => panic!("{other:?}"),
    }
    // A master-made update (no slave pid, no uuid) is not acknowledged.
    let out = c.status_update(&master(), update("t2", TaskState::Lost, None, false));
    let [Callback::StatusUpdate(status)] = &callbacks(&out)[..] else { panic!() };
    assert!(c.after_status_update().is_empty());
    // Nor one from another master, nor for another framework.
    assert!(c.status_update(&pid("master@127.0.0.1:1"), update("t1", TaskState::Running, Some(u), true)).is_empty());
    let mut other = update("t1", TaskState::Running, Some(u), true);
    other.update.framework_id = FrameworkID::new("x").unwrap();
    assert!(c.status_update(&master(), other).is_empty());
    // Explicit acknowledgement is refused in implicit mode.
    assert!(c.acknowledge_status_update(status).is_empty());
}

#[test]
fn explicit_acks() {
    let mut c = connected();
    c.set_implicit_acks(false);
    let u = Uuid::from_u128(7);
    let out = c.status_update(&master(), update("t1", TaskState::Finished, Some(u), true));
    let [Callback::StatusUpdate(status)] = &callbacks(&out)[..] else { panic!() };
    assert!(c.after_status_update().is_empty());
    assert!(matches!(&sends(&c.acknowledge_status_update(status))[..], [(_, Outgoing::Ack(a))] if a.uuid == u));
}

#[test]
fn framework_error_aborts_then_calls_error() {
    let mut c = connected();
    let out = c.framework_error(&pid("master@127.0.0.1:1"), FrameworkErrorMessage { message: "x".into() });
    assert!(out.is_empty(), "not from the master");
    let out = c.framework_error(&master(), FrameworkErrorMessage { message: "Framework failed over".into() });
    assert!(matches!(&out[0], Action::Send(_, Outgoing::Deactivate(_))));
    assert_eq!(out[1], Action::Callback(Callback::Error("Framework failed over".into())));
    assert_eq!(out[2], Action::Finished(DriverStatus::Aborted));
    assert_eq!(c.status(), DriverStatus::Aborted);
    let late = update("t", TaskState::Running, Some(Uuid::from_u128(1)), true);
    assert!(c.status_update(&master(), late).is_empty());
    assert!(c.kill_task(TaskID::new("t").unwrap()).is_empty());
    // stop after abort finishes as stopped, sending nothing.
    assert_eq!(c.stop(false), vec![Action::Finished(DriverStatus::Stopped)]);
}

#[test]
fn stop_inside_status_update_acknowledges_it_first_abort_does_not() {
    let mut c = connected();
    c.status_update(&master(), update("t1", TaskState::Finished, Some(Uuid::from_u128(9)), true));
    let out = c.stop(false);
    assert!(matches!(
        &out[..],
        [Action::Send(_, Outgoing::Ack(a)), Action::Send(_, Outgoing::Unregister(_)), Action::Finished(_)] if a.uuid == Uuid::from_u128(9)
    ));
    assert!(c.after_status_update().is_empty());
    let mut c = connected();
    c.status_update(&master(), update("t1", TaskState::Finished, Some(Uuid::from_u128(9)), true));
    assert!(sends(&c.abort()).iter().all(|(_, m)| !matches!(m, Outgoing::Ack(_))));
    assert!(c.after_status_update().is_empty());
}

#[test]
fn stop_unregisters_or_deactivates() {
    let mut c = connected();
    let out = c.stop(false);
    assert!(
        matches!(&out[..], [Action::Send(_, Outgoing::Unregister(u)), Action::Finished(DriverStatus::Stopped)] if u.framework_id == fid())
    );
    assert!(c.stop(false).is_empty());
    let mut c = connected();
    assert!(matches!(&c.stop(true)[..], [Action::Send(_, Outgoing::Deactivate(_)), Action::Finished(_)]));
    let mut c = connected();
    assert!(matches!(
        &c.abort()[..],
        [Action::Send(_, Outgoing::Deactivate(_)), Action::Finished(DriverStatus::Aborted)]
    ));
}

#[test]
fn suppression_is_repeated_after_reregistration() {
    let mut c = connected();
    assert!(matches!(&sends(&c.suppress_offers())[..], [(_, Outgoing::Suppress(_))]));
    c.exited(&master(), at(2));
    c.detected(Some(master()), at(2));
    let out = c.framework_reregistered(
        &master(),
        FrameworkReregisteredMessage { framework_id: fid(), master_info: info(&master()) },
    );
    assert!(matches!(&out[..], [Action::Callback(Callback::Reregistered(_)), Action::Send(_, Outgoing::Suppress(_))]));
    assert!(matches!(&sends(&c.revive_offers())[..], [(_, Outgoing::Revive(_))]));
}

#[test]
fn other_master_notices_become_callbacks() {
    let mut c = connected();
    let s0 = SlaveID::new("S0").unwrap();
    let e = ExecutorID::new("e").unwrap();
    let out = c.lost_slave(&master(), LostSlaveMessage { slave_id: s0.clone() });
    assert_eq!(callbacks(&out), vec![Callback::SlaveLost(s0.clone())]);
    let msg = ExitedExecutorMessage { slave_id: s0.clone(), framework_id: fid(), executor_id: e.clone(), status: 3 };
    assert_eq!(callbacks(&c.exited_executor(&master(), msg)), vec![Callback::ExecutorLost(e.clone(), s0.clone(), 3)]);
    let msg =
        ExecutorToFrameworkMessage { slave_id: s0.clone(), framework_id: fid(), executor_id: e.clone(), data: vec![1] };
    assert_eq!(callbacks(&c.framework_message(msg)), vec![Callback::FrameworkMessage(e, s0, vec![1])]);
    let out = c.reconcile_tasks(vec![]);
    assert!(matches!(&sends(&out)[..], [(_, Outgoing::Reconcile(r))] if r.statuses.is_empty()));
    assert!(matches!(&sends(&c.kill_task(TaskID::new("t").unwrap()))[..], [(_, Outgoing::Kill(_))]));
}
