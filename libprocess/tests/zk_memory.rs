//! The election layer on the in-memory ZooKeeper with a paused clock:
//! the shared contract (zk_common) plus what only a simulation can do
//! cheaply: connection loss, local expiry after the session timeout, a
//! whole-ensemble outage, retries. Deterministic: time moves only when the
//! test advances it.

mod zk_common;

use std::sync::Arc;
use std::time::Duration;

use libprocess::zookeeper::{Backend, CreateMode, MemZk, ZkUrl, DEFAULT_ZK_SESSION_TIMEOUT};
use libprocess::{Clock, Config, Node};
use tokio::sync::mpsc;
use zk_common::*;

/// Bound on simulated time a test waits for one event.
const MAX_SIMULATED_WAIT: Duration = Duration::from_secs(120);
const STEP: Duration = Duration::from_millis(100);

struct Mem {
    node: Node,
    clock: Clock,
    zk: MemZk,
}

impl Mem {
    async fn new() -> Mem {
        let clock = Clock::paused();
        let node = Node::bind_with_clock(Config::loopback(0), clock.clone()).await.unwrap();
        Mem { node, zk: MemZk::new(clock.clone()), clock }
    }

    /// Session owning the member znode `seq` under `path`.
    fn owner(&self, path: &str, seq: u64) -> u64 {
        self.zk.owner(&member_path(path, seq)).expect("member znode has an owner")
    }
}

impl Env for Mem {
    fn node(&self) -> &Node {
        &self.node
    }
    fn backend(&self) -> Arc<dyn Backend> {
        Arc::new(self.zk.clone())
    }
    fn url(&self, path: &str) -> ZkUrl {
        format!("zk://127.0.0.1:2181{path}").parse().unwrap()
    }
    fn session_timeout(&self) -> Duration {
        DEFAULT_ZK_SESSION_TIMEOUT
    }
    async fn children(&self, path: &str) -> Vec<String> {
        self.clock.settle().await;
        self.zk.children(path)
    }
    async fn expire_owner(&self, path: &str) {
        self.clock.settle().await;
        self.zk.expire(self.zk.owner(path).expect("ephemeral znode"));
    }
    async fn recv(&self, rx: &mut mpsc::UnboundedReceiver<Ev>) -> Ev {
        let start = self.clock.now();
        loop {
            self.clock.settle().await;
            if let Ok(ev) = rx.try_recv() {
                return ev;
            }
            assert!(
                self.clock.now() - start < MAX_SIMULATED_WAIT,
                "no event within {MAX_SIMULATED_WAIT:?} (simulated)"
            );
            self.clock.advance(STEP).await;
        }
    }
    async fn settle(&self) {
        self.clock.settle().await;
    }
}

#[actix_rt::test]
async fn memory_elects_lowest_member() {
    elects_lowest_member(&Mem::new().await, "/mesos").await;
}

#[actix_rt::test]
async fn memory_withdraw_elects_next() {
    withdraw_elects_next(&Mem::new().await, "/mesos").await;
}

#[actix_rt::test]
async fn memory_expiry_loses_candidacy() {
    expiry_loses_candidacy(&Mem::new().await, "/mesos").await;
}

#[actix_rt::test]
async fn memory_no_leader_when_all_leave() {
    no_leader_when_all_leave(&Mem::new().await, "/a/b/mesos").await;
}

/// A leader cut off from ZooKeeper gives up leadership after the session
/// timeout by its own clock (local expiry), not when it reconnects; the
/// servers expire it at the same time and the next member is elected.
#[actix_rt::test]
async fn memory_connection_loss_expires_locally_after_session_timeout() {
    let env = Mem::new().await;
    let mut d = detector(&env, "d", "/mesos");
    let mut a = Contender::spawn(&env, "a", "/mesos");
    let mut b = Contender::spawn(&env, "b", "/mesos");
    a.contend(&env, "a");
    let seq_a = elected(&env, &mut a.rx).await;
    b.contend(&env, "b");
    wait_members(&env, "/mesos", 2).await;
    detect(&env, &mut d, Some("a")).await;

    let t0 = env.clock.now();
    env.zk.disconnect(env.owner("/mesos", seq_a));
    env.clock.settle().await; // the group hears of it at t0
    env.clock.advance(DEFAULT_ZK_SESSION_TIMEOUT - Duration::from_millis(1)).await;
    assert!(a.rx.try_recv().is_err(), "still the leader until the session timeout");
    env.clock.advance(Duration::from_millis(1)).await;
    assert_eq!(env.clock.now() - t0, DEFAULT_ZK_SESSION_TIMEOUT);
    match a.rx.try_recv() {
        Ok(Ev::Lost(reason)) => assert!(reason.contains("expired"), "{reason}"),
        other => panic!("expected CandidacyLost at the session timeout, got {other:?}"),
    }
    elected(&env, &mut b.rx).await;
    detect(&env, &mut d, Some("b")).await;
}

/// A short connection loss (shorter than the session timeout) changes
/// nothing: same session, same leader, no event.
#[actix_rt::test]
async fn memory_short_connection_loss_keeps_leadership() {
    let env = Mem::new().await;
    let mut d = detector(&env, "d", "/mesos");
    let mut a = Contender::spawn(&env, "a", "/mesos");
    a.contend(&env, "a");
    let seq_a = elected(&env, &mut a.rx).await;
    detect(&env, &mut d, Some("a")).await;
    let session = env.owner("/mesos", seq_a);
    env.zk.disconnect(session);
    env.clock.advance(DEFAULT_ZK_SESSION_TIMEOUT / 2).await;
    env.zk.reconnect(session);
    env.clock.advance(DEFAULT_ZK_SESSION_TIMEOUT * 2).await;
    assert!(a.rx.try_recv().is_err());
    assert!(d.try_recv().is_err());
    assert_eq!(env.zk.owner(&member_path("/mesos", seq_a)), Some(session));
}

/// The whole ensemble stops serving: after the session timeout contenders
/// lose their candidacy and detectors report no leader (split brain is
/// bounded); once it serves again, contending again elects a leader.
#[actix_rt::test]
async fn memory_outage_loses_leadership_then_election_resumes() {
    let env = Mem::new().await;
    let mut d = detector(&env, "d", "/mesos");
    let mut a = Contender::spawn(&env, "a", "/mesos");
    a.contend(&env, "a");
    elected(&env, &mut a.rx).await;
    detect(&env, &mut d, Some("a")).await;

    env.zk.outage();
    match env.recv(&mut a.rx).await {
        Ev::Lost(reason) => assert!(reason.contains("expired"), "{reason}"),
        other => panic!("expected CandidacyLost, got {other:?}"),
    }
    detect(&env, &mut d, None).await;

    env.zk.restore();
    a.contend(&env, "a2");
    elected(&env, &mut a.rx).await;
    detect(&env, &mut d, Some("a2")).await;
}

/// Joining while disconnected fails with connection loss and is retried
/// every RETRY_INTERVAL until the connection is back.
#[actix_rt::test]
async fn memory_join_is_retried_after_connection_loss() {
    let env = Mem::new().await;
    let mut a = Contender::spawn(&env, "a", "/mesos");
    env.clock.settle().await;
    let session = *env.zk.sessions().first().expect("the contender's group has a session");
    env.zk.disconnect(session);
    a.contend(&env, "a");
    env.clock.advance(libprocess::zookeeper::RETRY_INTERVAL * 2).await;
    assert!(env.zk.children("/mesos").is_empty());
    assert!(a.rx.try_recv().is_err());
    env.zk.reconnect(session);
    elected(&env, &mut a.rx).await;
}

/// Children that are not `<label>_<seq>` are ignored, and a member znode
/// deleted behind the contender's back is a lost candidacy.
#[actix_rt::test]
async fn memory_foreign_children_ignored_and_vanished_znode_loses() {
    let env = Mem::new().await;
    let url = env.url("/mesos");
    let other = env.zk.connect(&url, DEFAULT_ZK_SESSION_TIMEOUT).await.unwrap();
    other.ensure_path("/mesos/log_replicas").await.unwrap();
    other.create("/mesos/info_", b"x", CreateMode::EphemeralSequential).await.unwrap();
    let mut d = detector(&env, "d", "/mesos");
    detect(&env, &mut d, None).await;
    let mut a = Contender::spawn(&env, "a", "/mesos");
    a.contend(&env, "a");
    let seq_a = elected(&env, &mut a.rx).await;
    detect(&env, &mut d, Some("a")).await;
    other.delete(&member_path("/mesos", seq_a)).await.unwrap();
    match env.recv(&mut a.rx).await {
        Ev::Lost(reason) => assert!(reason.contains("vanished"), "{reason}"),
        other => panic!("expected CandidacyLost, got {other:?}"),
    }
    detect(&env, &mut d, None).await;
}

/// Stopping a contender closes its session: its znode goes at once.
#[actix_rt::test]
async fn memory_terminated_contender_leaves_at_once() {
    let env = Mem::new().await;
    let mut d = detector(&env, "d", "/mesos");
    let mut a = Contender::spawn(&env, "a", "/mesos");
    let mut b = Contender::spawn(&env, "b", "/mesos");
    a.contend(&env, "a");
    elected(&env, &mut a.rx).await;
    b.contend(&env, "b");
    wait_members(&env, "/mesos", 2).await;
    detect(&env, &mut d, Some("a")).await;
    env.node.terminate(&a.pid);
    env.clock.settle().await;
    let before = env.clock.now();
    elected(&env, &mut b.rx).await;
    detect(&env, &mut d, Some("b")).await;
    assert!(env.clock.now() - before < DEFAULT_ZK_SESSION_TIMEOUT);
}
