//! Every message: encoded as libprocess encodes it (msgpack map), decoded as a
//! handler decodes it, equal to the original; every name unique, prefixed
//! `rmesos.internal.`, ending in `Message`, and listed in [`NAMES`].

use std::collections::BTreeSet;

use libprocess::message::{encode, Body};
use libprocess::{Message, Upid};
use uuid::Uuid;

use super::*;
use crate::attributes::Attributes;
use crate::ids::*;
use crate::info::*;
use crate::resources::Resources;
use crate::task::{Reason, Source, Task, TaskState, TaskStatus};

fn fid() -> FrameworkID {
    FrameworkID::generate("m", 0)
}
fn sid() -> SlaveID {
    SlaveID::generate("m", 0)
}
fn eid() -> ExecutorID {
    ExecutorID::new("e1").unwrap()
}
fn tid() -> TaskID {
    TaskID::new("t1").unwrap()
}
fn pid() -> Upid {
    "slave(1)@127.0.0.1:5051".parse().unwrap()
}
fn res() -> Resources {
    Resources::parse("cpus:1;mem:128;ports:[31000-31010]").unwrap()
}
fn framework() -> FrameworkInfo {
    let mut f = FrameworkInfo::new("root", "fw");
    f.id = Some(fid());
    f.failover_timeout = 60.0;
    f.capabilities.push(FrameworkCapability::PartitionAware);
    f
}
fn slave_info() -> SlaveInfo {
    let mut s = SlaveInfo::new("h1", 5051, res(), Attributes::parse("rack:r1;level:2").unwrap());
    s.id = Some(sid());
    s
}
fn master_info() -> MasterInfo {
    MasterInfo::new("m", &"master@127.0.0.1:5050".parse().unwrap(), Some("h0".into()), Some("0.1.0".into()))
}
fn executor() -> ExecutorInfo {
    let mut e = ExecutorInfo::new(eid(), CommandInfo::shell("./exec").with_env("A", "1"));
    e.data = Some(vec![1, 2, 3]);
    e
}
fn task_info() -> TaskInfo {
    TaskInfo::command("t", tid(), sid(), res(), CommandInfo::shell("echo hello"))
}
fn status() -> TaskStatus {
    TaskStatus::new(tid(), TaskState::Failed)
        .with_message("Command exited with status 3")
        .with_source(Source::Executor)
        .with_reason(Reason::CommandExecutorFailed)
}
fn update() -> StatusUpdate {
    let mut u = StatusUpdate::new(fid(), Some(eid()), Some(sid()), status(), 1.7e9, Some(Uuid::from_u128(9)));
    u.latest_state = Some(TaskState::Failed);
    u
}
fn task() -> Task {
    let mut t = Task::new(&task_info(), fid(), TaskState::Running);
    t.statuses.push(status());
    t
}
fn offer() -> Offer {
    Offer {
        id: OfferID::generate("m", 3),
        framework_id: fid(),
        slave_id: sid(),
        hostname: "h1".into(),
        resources: res(),
        attributes: slave_info().attributes,
        executor_ids: vec![eid()],
    }
}

fn round_trip<M: Message + PartialEq + std::fmt::Debug>(msg: M, names: &mut BTreeSet<&'static str>) {
    let bytes = encode(&msg);
    assert!(!bytes.is_empty(), "{}", M::NAME);
    let back: M = Body::Wire(&bytes).decode().unwrap_or_else(|e| panic!("{}: {e}", M::NAME));
    assert_eq!(back, msg, "{}", M::NAME);
    assert!(M::NAME.starts_with(NAME_PREFIX) && M::NAME.ends_with("Message"), "{}", M::NAME);
    assert!(names.insert(M::NAME), "duplicate name {}", M::NAME);
}

#[test]
fn every_message_round_trips_with_a_unique_name() {
    let n = &mut BTreeSet::new();
    round_trip(RegisterFrameworkMessage { framework: framework() }, n);
    round_trip(ReregisterFrameworkMessage { framework: framework(), failover: true }, n);
    round_trip(FrameworkRegisteredMessage { framework_id: fid(), master_info: master_info() }, n);
    round_trip(FrameworkReregisteredMessage { framework_id: fid(), master_info: master_info() }, n);
    round_trip(UnregisterFrameworkMessage { framework_id: fid() }, n);
    round_trip(DeactivateFrameworkMessage { framework_id: fid() }, n);
    round_trip(ResourceOffersMessage { offers: vec![offer(), offer()], pids: vec![pid(), pid()] }, n);
    round_trip(RescindResourceOfferMessage { offer_id: offer().id }, n);
    round_trip(
        LaunchTasksMessage {
            framework_id: fid(),
            tasks: vec![task_info()],
            filters: Filters { refuse_seconds: 30.0 },
            offer_ids: vec![offer().id],
        },
        n,
    );
    round_trip(ReviveOffersMessage { framework_id: fid() }, n);
    round_trip(SuppressOffersMessage { framework_id: fid() }, n);
    round_trip(KillTaskMessage { framework_id: fid(), task_id: tid(), kill_policy: None }, n);
    round_trip(ReconcileTasksMessage { framework_id: fid(), statuses: vec![status()], framework: None }, n);
    round_trip(FrameworkErrorMessage { message: "bad".into() }, n);
    round_trip(
        FrameworkToExecutorMessage { slave_id: sid(), framework_id: fid(), executor_id: eid(), data: vec![0, 255] },
        n,
    );
    round_trip(
        ExecutorToFrameworkMessage { slave_id: sid(), framework_id: fid(), executor_id: eid(), data: vec![] },
        n,
    );
    round_trip(LostSlaveMessage { slave_id: sid() }, n);
    round_trip(ExitedExecutorMessage { slave_id: sid(), framework_id: fid(), executor_id: eid(), status: -9 }, n);
    round_trip(UpdateFrameworkMessage { framework_id: fid(), pid: Some(pid()), framework_info: Some(framework()) }, n);
    round_trip(
        RegisterSlaveMessage {
            slave: slave_info(),
            checkpointed_resources: Resources::new(),
            version: Some("0.1.0".into()),
            incarnation: Some(7),
        },
        n,
    );
    round_trip(
        ReregisterSlaveMessage {
            slave: slave_info(),
            checkpointed_resources: Resources::new(),
            executor_infos: vec![executor()],
            tasks: vec![task()],
            frameworks: vec![framework()],
            completed_frameworks: vec![ArchivedFramework {
                framework_info: framework(),
                pid: Some(pid()),
                tasks: vec![task()],
            }],
            version: None,
            incarnation: Some(u64::MAX),
        },
        n,
    );
    let conn = Some(MasterSlaveConnection::new(std::time::Duration::from_secs(75)));
    round_trip(SlaveRegisteredMessage { slave_id: sid(), connection: conn.clone() }, n);
    round_trip(
        SlaveReregisteredMessage {
            slave_id: sid(),
            reconciliations: vec![ReconcileTasksMessage {
                framework_id: fid(),
                statuses: vec![status()],
                framework: Some(framework()),
            }],
            connection: conn,
        },
        n,
    );
    round_trip(UnregisterSlaveMessage { slave_id: sid() }, n);
    round_trip(PingSlaveMessage { connected: true }, n);
    round_trip(PongSlaveMessage {}, n);
    round_trip(RunTaskMessage { framework: framework(), task: task_info(), pid: Some(pid()) }, n);
    round_trip(ShutdownFrameworkMessage { framework_id: fid() }, n);
    round_trip(ShutdownMessage { message: Some("removed".into()) }, n);
    round_trip(RegisterExecutorMessage { framework_id: fid(), executor_id: eid() }, n);
    round_trip(
        ExecutorRegisteredMessage {
            executor_info: executor(),
            framework_id: fid(),
            framework_info: framework(),
            slave_id: sid(),
            slave_info: slave_info(),
        },
        n,
    );
    round_trip(
        ReregisterExecutorMessage {
            executor_id: eid(),
            framework_id: fid(),
            tasks: vec![task_info()],
            updates: vec![update()],
        },
        n,
    );
    round_trip(ExecutorReregisteredMessage { slave_id: sid(), slave_info: slave_info() }, n);
    round_trip(ReconnectExecutorMessage { slave_id: sid() }, n);
    round_trip(ShutdownExecutorMessage { executor_id: Some(eid()), framework_id: None }, n);
    round_trip(StatusUpdateMessage { update: update(), pid: Some(pid()) }, n);
    round_trip(
        StatusUpdateAcknowledgementMessage {
            slave_id: sid(),
            framework_id: fid(),
            task_id: tid(),
            uuid: Uuid::from_u128(9),
        },
        n,
    );

    let listed: BTreeSet<&str> = NAMES.iter().copied().collect();
    assert_eq!(listed.len(), NAMES.len(), "NAMES has duplicates");
    assert_eq!(&listed, n, "NAMES and the tested messages differ");
}

#[test]
fn names_follow_mesos() {
    assert_eq!(RegisterSlaveMessage::NAME, "rmesos.internal.RegisterSlaveMessage");
    assert_eq!(PingSlaveMessage::NAME, "rmesos.internal.PingSlaveMessage");
    assert_eq!(StatusUpdateAcknowledgementMessage::NAME, "rmesos.internal.StatusUpdateAcknowledgementMessage");
    for name in NAMES {
        assert!(name.len() <= libprocess::limits::MAX_MESSAGE_NAME_LEN);
    }
}

#[test]
fn decline_is_launch_with_no_tasks() {
    let d = LaunchTasksMessage::decline(fid(), vec![offer().id], Filters::default());
    assert!(d.is_decline());
    assert_eq!(d.filters.refuse_seconds, 5.0);
    assert!(!LaunchTasksMessage { tasks: vec![task_info()], ..d }.is_decline());
}

#[test]
fn optional_fields_may_be_missing_on_the_wire() {
    // A peer that sends only the required fields (as an older or leaner
    // sender would) is understood, with Mesos's defaults.
    #[derive(serde::Serialize)]
    struct Lean {
        framework_id: FrameworkID,
        offer_ids: Vec<OfferID>,
    }
    let bytes = rmp_serde::to_vec_named(&Lean { framework_id: fid(), offer_ids: vec![] }).unwrap();
    let m: LaunchTasksMessage = Body::Wire(&bytes).decode().unwrap();
    assert!(m.tasks.is_empty());
    assert_eq!(m.filters, Filters::default());
    let bad = Body::Wire(b"\x81\xa1x\x01").decode::<LaunchTasksMessage>();
    assert!(bad.is_err());
}
