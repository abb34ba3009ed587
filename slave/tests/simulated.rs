//! The slave actor on a paused clock, with a fake master (the test kit's) on the same node:
//! registration retried until answered, and pings that stop make the slave
//! re-detect the master and reregister. Time moves only by `advance`.

use std::path::PathBuf;
use std::time::Duration;

use libprocess::testkit::Recording;
use libprocess::{Clock, Config, Node, Upid};
use rmesos::messages::*;
use rmesos::{
    CommandInfo, ExecutorID, ExecutorInfo, FrameworkID, FrameworkInfo, MasterSpec, Reason, Resources, SlaveID, TaskID,
    TaskInfo, TaskState,
};
use rmesos_slave::{spawn, Flags, SlaveOptions};
use rmesos_testkit::fakes::fake;
use rmesos_testkit::Heard;

struct Sim {
    node: Node,
    clock: Clock,
    master: Upid,
    events: Recording<Heard>,
    work_dir: PathBuf,
}

async fn sim(name: &str) -> Sim {
    let clock = Clock::paused();
    let node = Node::bind_with_clock(Config::loopback(0), clock.clone()).await.unwrap();
    let (master, events) = fake().spawn(&node, "master");
    let work_dir = std::env::temp_dir().join(format!("rmesos-sim-{name}-{}", uuid::Uuid::new_v4()));
    let spec = MasterSpec::Standalone { host: "127.0.0.1".into(), port: master.addr().port() };
    let flags = Flags::local(spec, work_dir.clone(), Some(Resources::parse("cpus:1;mem:64;disk:64").unwrap()));
    spawn(&node, SlaveOptions::new(flags)).unwrap();
    clock.settle().await;
    Sim { node, clock, master, events, work_dir }
}

impl Sim {
    /// Events already delivered (the clock is paused: after `settle`,
    /// everything due has happened).
    fn drain(&mut self) -> Vec<Heard> {
        self.events.drain()
    }
}

#[actix_rt::test]
async fn registration_is_retried_until_answered() {
    let mut s = sim("retry").await;
    // First attempt within the backoff factor (1 s), then retries with a
    // doubling bound: within 1 + 2 + 4 + 8 s there are at least 4 attempts.
    s.clock.advance(Duration::from_secs(15)).await;
    let attempts: Vec<Upid> =
        s.drain().into_iter().filter_map(|e| if let Heard::RegisterSlave(f, _) = e { Some(f) } else { None }).collect();
    assert!(attempts.len() >= 4, "{} attempts", attempts.len());
    let slave = attempts[0].clone();
    assert_eq!(slave.id(), "slave(1)");
    s.node.send(
        &s.master,
        &slave,
        SlaveRegisteredMessage { slave_id: SlaveID::new("sim-S0").unwrap(), connection: None },
    );
    s.clock.settle().await;
    s.clock.advance(Duration::from_secs(60)).await;
    assert!(s.drain().is_empty(), "no more registrations once registered");
    let _ = std::fs::remove_dir_all(&s.work_dir);
}

#[actix_rt::test]
async fn pings_that_stop_make_the_slave_reregister() {
    let mut s = sim("pings").await;
    s.clock.advance(Duration::from_secs(1)).await;
    let Some(Heard::RegisterSlave(slave, _)) = s.drain().into_iter().next() else { panic!("no registration") };
    let conn = MasterSlaveConnection::new(Duration::from_secs(30));
    s.node.send(
        &s.master,
        &slave,
        SlaveRegisteredMessage { slave_id: SlaveID::new("sim-S0").unwrap(), connection: Some(conn) },
    );
    s.clock.settle().await;
    s.drain();
    // Pings keep it registered.
    for _ in 0..3 {
        s.clock.advance(Duration::from_secs(20)).await;
        s.node.send(&s.master, &slave, PingSlaveMessage { connected: true });
        s.clock.settle().await;
        assert!(matches!(s.drain().as_slice(), [Heard::PongSlave(..)]));
    }
    // No ping for the 30 s the master announced: re-detect, reregister with the id.
    s.clock.advance(Duration::from_secs(31)).await;
    s.clock.advance(Duration::from_secs(1)).await;
    let events = s.drain();
    let Some(Heard::ReregisterSlave(from, msg)) = events.into_iter().next() else { panic!("no reregistration") };
    assert_eq!(from, slave);
    assert_eq!(msg.slave.id, Some(SlaveID::new("sim-S0").unwrap()));
    let _ = std::fs::remove_dir_all(&s.work_dir);
}

#[actix_rt::test]
async fn unacknowledged_updates_are_retried_from_10s_doubling_until_acknowledged() {
    let mut s = sim("retries").await;
    s.clock.advance(Duration::from_secs(1)).await;
    let Some(Heard::RegisterSlave(slave, _)) = s.drain().into_iter().next() else { panic!("no registration") };
    let sid = SlaveID::new("sim-S0").unwrap();
    // A long ping timeout: only the updates matter here.
    let connection = Some(MasterSlaveConnection::new(Duration::from_secs(7200)));
    s.node.send(&s.master, &slave, SlaveRegisteredMessage { slave_id: sid.clone(), connection });
    s.clock.settle().await;
    // An executor that cannot be started: the slave itself reports TASK_FAILED.
    let executor = ExecutorInfo::new(
        ExecutorID::new("missing").unwrap(),
        CommandInfo::exec("/nonexistent/rmesos-test-executor", vec!["x".into()]),
    );
    let fid = FrameworkID::new("sim-0000").unwrap();
    let task = TaskInfo::with_executor(
        "t",
        TaskID::new("t").unwrap(),
        sid.clone(),
        Resources::parse("cpus:0.1").unwrap(),
        executor,
    );
    let framework = FrameworkInfo { id: Some(fid.clone()), ..FrameworkInfo::new("u", "f") };
    s.node.send(&s.master, &slave, RunTaskMessage { framework, task, pid: None });
    s.clock.settle().await;
    let mut first = None;
    for e in s.drain() {
        match e {
            Heard::StatusUpdate(_, m) => first = Some(m.update),
            Heard::ExitedExecutor(_, m) => assert_eq!(m.status, -1),
            _ => {}
        }
    }
    let first = first.expect("TASK_FAILED forwarded at once");
    assert_eq!(first.status.state, TaskState::Failed);
    assert_eq!(first.status.reason, Some(Reason::ContainerLaunchFailed));
    // Resent after 10 s, then 20 s more, then 40 s more: the same update.
    for wait in [10, 20, 40] {
        s.clock.advance(Duration::from_secs(wait - 1)).await;
        assert!(s.drain().is_empty(), "not before {wait} s");
        s.clock.advance(Duration::from_secs(1)).await;
        let again: Vec<_> = s
            .drain()
            .into_iter()
            .filter_map(|e| if let Heard::StatusUpdate(_, m) = e { Some(m.update) } else { None })
            .collect();
        assert_eq!(again.len(), 1, "one resend after {wait} s");
        assert_eq!(again[0].uuid, first.uuid);
    }
    let ack = StatusUpdateAcknowledgementMessage {
        slave_id: sid,
        framework_id: fid,
        task_id: TaskID::new("t").unwrap(),
        uuid: first.uuid.unwrap(),
    };
    s.node.send(&s.master, &slave, ack);
    s.clock.settle().await;
    s.clock.advance(Duration::from_secs(1200)).await;
    assert!(s.drain().is_empty(), "acknowledged: no more resends");
    let _ = std::fs::remove_dir_all(&s.work_dir);
}
