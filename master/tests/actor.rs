//! The master actor over real loopback sockets: the master on one node, a
//! fake slave and a fake scheduler (the test kit's fake, speaking the real
//! messages) on another. Tests wait on messages, never on sleeps; time moves
//! only where a paused clock is advanced.

use std::time::Duration;

use libprocess::testkit::Recording;
use libprocess::{Clock, Config, Node, Upid};
use rmesos::messages::*;
use rmesos::*;
use rmesos_master::MasterOptions;
use rmesos_testkit::fakes::{answer_pings, fake};
use rmesos_testkit::Heard;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// The fake slave (answering pings when `pong` is set) or scheduler.
fn probe(node: &Node, id: &str, pong: bool) -> (Upid, Recording<Heard>) {
    match pong {
        true => answer_pings(fake()).spawn(node, id),
        false => fake().spawn(node, id),
    }
}

fn opts() -> MasterOptions {
    MasterOptions { hostname: "localhost".into(), master_id: Some("test-master".into()), ..MasterOptions::default() }
}

fn r(s: &str) -> Resources {
    Resources::parse(s).unwrap()
}

struct Cluster {
    master: Upid,
    agents: Node,
    slave: Upid,
    slave_rx: Recording<Heard>,
    sched: Upid,
    sched_rx: Recording<Heard>,
    sid: SlaveID,
    fid: FrameworkID,
}

async fn cluster(clock: Clock, opts: MasterOptions, pong: bool) -> Cluster {
    let mnode = Node::bind_with_clock(Config::loopback(0), clock.clone()).await.unwrap();
    let master = rmesos_master::spawn(&mnode, opts).unwrap().pid;
    let agents = Node::bind_with_clock(Config::loopback(0), clock).await.unwrap();
    let (slave, mut slave_rx) = probe(&agents, "slave(1)", pong);
    let (sched, mut sched_rx) = probe(&agents, "scheduler-1", false);
    let info = SlaveInfo::new("fakehost", slave.addr().port(), r("cpus:2;mem:1024"), Attributes::default());
    agents.send(
        &slave,
        &master,
        RegisterSlaveMessage { slave: info, checkpointed_resources: r(""), version: None, incarnation: None },
    );
    let sid = slave_rx
        .next_where(|e| match e {
            Heard::SlaveRegistered(_, m) => Some(m.slave_id),
            _ => None,
        })
        .await;
    assert_eq!(sid.as_str(), "test-master-S0");
    let mut fw = FrameworkInfo::new("tester", "actor-test");
    fw.failover_timeout = 3600.0;
    agents.send(&sched, &master, RegisterFrameworkMessage { framework: fw });
    let fid = sched_rx
        .next_where(|e| match e {
            Heard::FrameworkRegistered(from, m) => {
                assert_eq!(from.id(), "master");
                Some(m.framework_id)
            }
            _ => None,
        })
        .await;
    Cluster { master, agents, slave, slave_rx, sched, sched_rx, sid, fid }
}

impl Cluster {
    async fn offer(&mut self) -> Offer {
        let (mut offers, pids) = self
            .sched_rx
            .next_where(|e| match e {
                Heard::ResourceOffers(_, m) => Some((m.offers, m.pids)),
                _ => None,
            })
            .await;
        assert_eq!(pids, vec![self.slave.clone()]);
        assert_eq!(offers.len(), 1);
        offers.pop().unwrap()
    }

    fn task(&self, id: &str, res: &str) -> TaskInfo {
        TaskInfo::command("t", TaskID::new(id).unwrap(), self.sid.clone(), r(res), CommandInfo::shell("echo hello"))
    }

    fn launch(&self, offer: &Offer, tasks: Vec<TaskInfo>) {
        let msg = LaunchTasksMessage {
            framework_id: self.fid.clone(),
            tasks,
            filters: Filters::default(),
            offer_ids: vec![offer.id.clone()],
        };
        self.agents.send(&self.sched, &self.master, msg);
    }

    fn revive(&self) {
        self.agents.send(&self.sched, &self.master, ReviveOffersMessage { framework_id: self.fid.clone() });
    }

    async fn update(&mut self) -> StatusUpdateMessage {
        self.sched_rx
            .next_where(|e| match e {
                Heard::StatusUpdate(_, m) => Some(m),
                _ => None,
            })
            .await
    }
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// Register, offer, an invalid launch (TASK_ERROR, the master keeps
/// serving), a valid launch (RunTask at the slave), a status update (at the
/// scheduler), its acknowledgement (at the slave), /state and metrics.
#[actix_rt::test]
async fn task_lifecycle_through_the_master() {
    let mut c = cluster(Clock::real(), opts(), true).await;
    let offer = c.offer().await;
    assert_eq!(offer.resources, r("cpus:2;mem:1024"));
    assert_eq!(offer.hostname, "fakehost");

    // Beyond the offer: TASK_ERROR, nothing reaches the slave.
    c.launch(&offer, vec![c.task("huge", "cpus:64;mem:32")]);
    let err = c.update().await;
    assert_eq!(err.update.status.state, TaskState::Error);
    assert_eq!(err.update.status.reason, Some(Reason::TaskInvalid));
    assert!(err.update.status.message.as_deref().unwrap().contains("more resources"));
    assert_eq!(err.pid, None);

    // The master keeps serving: revive, new offer, valid launch.
    c.revive();
    let offer = c.offer().await;
    c.launch(&offer, vec![c.task("t1", "cpus:1;mem:128")]);
    let run = c
        .slave_rx
        .next_where(|e| match e {
            Heard::RunTask(from, m) => Some((from, m)),
            _ => None,
        })
        .await;
    assert_eq!(run.0, c.master);
    assert_eq!(run.1.task.task_id.as_str(), "t1");
    assert_eq!(run.1.pid.as_ref(), Some(&c.sched));
    assert_eq!(run.1.framework.id.as_ref(), Some(&c.fid));

    // The slave reports TASK_RUNNING; it reaches the scheduler.
    let uuid = Uuid::new_v4();
    let st = TaskStatus::new(TaskID::new("t1").unwrap(), TaskState::Running).with_source(Source::Executor);
    let update = StatusUpdate::new(c.fid.clone(), None, Some(c.sid.clone()), st, 1.0, Some(uuid));
    c.agents.send(&c.slave, &c.master, StatusUpdateMessage { update, pid: Some(c.slave.clone()) });
    let got = c.update().await;
    assert_eq!(got.update.status.state, TaskState::Running);
    assert_eq!(got.update.uuid, Some(uuid));
    assert_eq!(got.pid.as_ref(), Some(&c.slave));

    // The scheduler acknowledges; it reaches the slave.
    let ack = StatusUpdateAcknowledgementMessage {
        slave_id: c.sid.clone(),
        framework_id: c.fid.clone(),
        task_id: TaskID::new("t1").unwrap(),
        uuid,
    };
    c.agents.send(&c.sched, &c.master, ack.clone());
    let got = c
        .slave_rx
        .next_where(|e| match e {
            Heard::Ack(_, m) => Some(m),
            _ => None,
        })
        .await;
    assert_eq!(got, ack);

    // Kill goes to the slave.
    let kill = KillTaskMessage { framework_id: c.fid.clone(), task_id: TaskID::new("t1").unwrap(), kill_policy: None };
    c.agents.send(&c.sched, &c.master, kill.clone());
    let got = c
        .slave_rx
        .next_where(|e| match e {
            Heard::KillTask(_, m) => Some(m),
            _ => None,
        })
        .await;
    assert_eq!(got, kill);

    // Operator endpoints, on the master's port.
    let (status, body) = http_get(c.master.addr(), "/state").await;
    assert_eq!(status, 200);
    let state: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(state["id"], "test-master");
    assert_eq!(state["leader"], c.master.to_string());
    assert_eq!(state["activated_slaves"], 1);
    assert_eq!(state["slaves"][0]["id"], c.sid.as_str());
    assert_eq!(state["slaves"][0]["pid"], c.slave.to_string());
    assert_eq!(state["slaves"][0]["used_resources"]["cpus"], 1.0);
    let fw = &state["frameworks"][0];
    assert_eq!(
        (fw["id"].as_str(), fw["name"].as_str(), fw["active"].as_bool()),
        (Some(c.fid.as_str()), Some("actor-test"), Some(true))
    );
    assert_eq!(fw["tasks"][0]["id"], "t1");
    assert_eq!(fw["tasks"][0]["state"], "TASK_RUNNING");
    assert_eq!(fw["tasks"][0]["slave_id"], c.sid.as_str());
    assert_eq!(fw["tasks"][0]["statuses"][0]["state"], "TASK_RUNNING");

    let (status, body) = http_get(c.master.addr(), "/metrics/snapshot").await;
    assert_eq!(status, 200);
    let m: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(m["master/elected"], 1.0);
    assert_eq!(m["master/slaves_active"], 1.0);
    assert_eq!(m["master/frameworks_active"], 1.0);
    assert_eq!(m["master/tasks_running"], 1.0);
    assert_eq!(m["master/tasks_error"], 1.0);
    assert!(m["libprocess/messages_received_remote"].as_f64().unwrap() >= 5.0);

    assert_eq!(http_get(c.master.addr(), "/health").await.0, 200);
    let (status, _) = http_get(c.master.addr(), "/master/redirect").await;
    assert_eq!(status, 307);
}

/// Health checks on a paused clock: a slave that stops answering pings is
/// removed after 5 missed pings of 15 s; its task is TASK_LOST at the
/// scheduler, which also hears LostSlave and the rescind of the offer on it.
#[actix_rt::test]
async fn silent_slave_is_removed_after_missed_pings() {
    let clock = Clock::paused();
    let mut c = cluster(clock.clone(), opts(), false).await;
    let offer = c.offer().await;
    c.launch(&offer, vec![c.task("t1", "cpus:1;mem:128")]);
    c.slave_rx.next_where(|e| matches!(e, Heard::RunTask(..)).then_some(())).await;
    c.revive();
    let outstanding = c.offer().await;
    for k in 1..=5 {
        clock.advance(Duration::from_secs(15)).await;
        let ping = c
            .slave_rx
            .next_where(|e| match e {
                Heard::PingSlave(_, p) => Some(p),
                _ => None,
            })
            .await;
        assert!(ping.connected, "ping {k}");
    }
    clock.advance(Duration::from_secs(15)).await;
    // In order: the rescind of the offer on it, TASK_LOST, LostSlave.
    let mut seen = Vec::new();
    loop {
        let ev = c.sched_rx.next_where(Some).await;
        let done = matches!(ev, Heard::LostSlave(..));
        seen.push(ev);
        if done {
            break;
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(matches!(&seen[0], Heard::RescindResourceOffer(_, m) if m.offer_id == outstanding.id), "{seen:?}");
    let Heard::StatusUpdate(_, lost) = &seen[1] else { panic!("{seen:?}") };
    assert_eq!(lost.update.status.state, TaskState::Lost);
    assert_eq!(lost.update.status.reason, Some(Reason::SlaveRemoved));
    assert_eq!(lost.update.status.source, Some(Source::Master));
    assert_eq!(lost.update.status.task_id.as_str(), "t1");
    assert!(matches!(&seen[2], Heard::LostSlave(_, m) if m.slave_id == c.sid), "{seen:?}");
}

/// The master's /state once `pred` holds (polled; at most 10 s).
async fn state_until(master: &Upid, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let poll = async {
        loop {
            let (_, body) = http_get(master.addr(), "/master/state").await;
            let state: serde_json::Value = serde_json::from_str(&body).unwrap();
            if pred(&state) {
                return state;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), poll).await.expect("state reached within 10 s")
}

async fn outstanding_offers(master: &Upid) -> usize {
    let (status, body) = http_get(master.addr(), "/master/state").await;
    assert_eq!(status, 200);
    let state: serde_json::Value = serde_json::from_str(&body).unwrap();
    state["frameworks"][0]["offers"].as_array().unwrap().len()
}

/// A decline (refuse_seconds defaults to 5 s) keeps the slave away from the
/// framework until the filter expires; the periodic allocation (every 1 s on
/// the paused clock) then offers it again.
#[actix_rt::test]
async fn declined_resources_come_back_after_the_filter_on_the_allocation_timer() {
    let clock = Clock::paused();
    let mut c = cluster(clock.clone(), opts(), true).await;
    let offer = c.offer().await;
    c.agents.send(&c.sched, &c.master, LaunchTasksMessage::decline(c.fid.clone(), vec![offer.id], Filters::default()));
    // The decline is handled once the master has no offer left.
    state_until(&c.master, |s| s["frameworks"][0]["offers"].as_array().is_some_and(|o| o.is_empty())).await;
    clock.advance(Duration::from_secs(4)).await;
    assert_eq!(outstanding_offers(&c.master).await, 0, "filtered for 5 s");
    clock.advance(Duration::from_secs(1)).await;
    assert_eq!(outstanding_offers(&c.master).await, 1, "offered at the first cycle after 5 s");
    let again = c.offer().await;
    assert_eq!(again.resources, r("cpus:2;mem:1024"));
}

/// A scheduler whose process goes away is disconnected, then removed after
/// its failover timeout: its tasks are shut down on the slave.
#[actix_rt::test]
async fn framework_removed_after_failover_timeout() {
    let clock = Clock::paused();
    let mut c = cluster(clock.clone(), opts(), true).await;
    let offer = c.offer().await;
    c.launch(&offer, vec![c.task("t1", "cpus:1;mem:128")]);
    c.slave_rx.next_where(|e| matches!(e, Heard::RunTask(..)).then_some(())).await;
    assert!(c.agents.terminate(&c.sched));
    // The master sees the link break and arms the 3600 s failover timer.
    let state = state_until(&c.master, |s| s["frameworks"][0]["connected"] == false).await;
    assert_eq!(state["frameworks"][0]["active"], false);
    clock.advance(Duration::from_secs(3599)).await;
    let (_, body) = http_get(c.master.addr(), "/master/state").await;
    assert!(body.contains("actor-test") && body.contains("\"completed_frameworks\":[]"), "not removed yet");
    clock.advance(Duration::from_secs(1)).await;
    let shut = c
        .slave_rx
        .next_where(|e| match e {
            Heard::ShutdownFramework(_, m) => Some(m.framework_id),
            _ => None,
        })
        .await;
    assert_eq!(shut, c.fid);
}
