//! The election layer on a real 3-server ZooKeeper ensemble (Debian's
//! `zookeeper` package): the shared contract (zk_common), a non-Rust
//! client reading our znode, and faults only a real ensemble shows:
//! SIGKILL of the ZooKeeper leader, loss of the majority, recovery.
//!
//! Tests run one at a time (a mutex): three JVMs each are enough for two
//! cores. Waiting is on events (with generous bounds), never on sleeps.
//! Without ZooKeeper installed they skip loudly, or fail under CI=true.
//!
//! `real_failover_figures` (ignored) prints the closing-note figures:
//! `cargo test -p libprocess --test zk_real -- --ignored --nocapture real_failover_figures`

mod zk_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use libprocess::zookeeper::ensemble::{self, Ensemble};
use libprocess::zookeeper::{Backend, RealZk, ZkUrl};
use libprocess::{Clock, Config, Node};
use tokio::sync::mpsc;
use zk_common::*;

/// Session timeout of the tests: short, so losses show within seconds.
const TEST_SESSION_TIMEOUT: Duration = Duration::from_secs(4);
/// Bound on the wait for one event (a safety net, not a timing check).
const MAX_WAIT: Duration = Duration::from_secs(40);

static SERIAL: Mutex<()> = Mutex::new(());

struct Real {
    node: Node,
    zk: RealZk,
    servers: String,
    session_timeout: Duration,
}

impl Real {
    async fn new(ens: &Ensemble, session_timeout: Duration) -> Real {
        let node = Node::bind(Config::loopback(0)).await.unwrap();
        Real { node, zk: RealZk::with_session_log(), servers: ens.connect_string(), session_timeout }
    }
}

impl Env for Real {
    fn node(&self) -> &Node {
        &self.node
    }
    fn backend(&self) -> Arc<dyn Backend> {
        Arc::new(self.zk.clone())
    }
    fn url(&self, path: &str) -> ZkUrl {
        format!("zk://{}{path}", self.servers).parse().unwrap()
    }
    fn session_timeout(&self) -> Duration {
        self.session_timeout
    }
    async fn children(&self, path: &str) -> Vec<String> {
        self.zk.children(&self.url(path), path).await.unwrap_or_default()
    }
    async fn expire_owner(&self, path: &str) {
        let url = self.url(path);
        let owner = self.zk.ephemeral_owner(&url, path).await.unwrap().expect("ephemeral znode");
        self.zk.kill_session(&url, owner).await.unwrap();
    }
    async fn recv(&self, rx: &mut mpsc::UnboundedReceiver<Ev>) -> Ev {
        tokio::time::timeout(MAX_WAIT, rx.recv()).await.expect("no event in time").expect("probe gone")
    }
    async fn settle(&self) {
        // Polling a state on a real ensemble: give it a moment between looks.
        Clock::real().sleep(Duration::from_millis(20)).await;
    }
}

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[actix_rt::test]
async fn real_contract_and_zkcli_reads_our_json() {
    let _serial = serial();
    if !ensemble::require_zookeeper("real_contract_and_zkcli_reads_our_json") {
        return;
    }
    let ens = Ensemble::start(3).await.unwrap();
    let env = Real::new(&ens, TEST_SESSION_TIMEOUT).await;
    elects_lowest_member(&env, "/t/elect").await;
    withdraw_elects_next(&env, "/t/withdraw").await;
    expiry_loses_candidacy(&env, "/t/expire").await;
    no_leader_when_all_leave(&env, "/t/none").await;

    // A non-Rust client (Debian's zkCli, Java) reads what a contender wrote.
    let json = r#"{"id":"m1","pid":"master@127.0.0.1:5050","port":5050,"hostname":"localhost"}"#;
    let mut m = Contender::spawn(&env, "json", "/mesos");
    m.contend(&env, json);
    let seq = elected(&env, &mut m.rx).await;
    let path = member_path("/mesos", seq);
    assert!(path.starts_with("/mesos/json.info_"), "{path}");
    let read = ensemble::zkcli_get_json(ens.servers[0].client_addr(), &path).await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&read).unwrap();
    assert_eq!(v["id"], "m1");
    assert_eq!(v["pid"], "master@127.0.0.1:5050");
    assert_eq!(v["port"], 5050);
}

/// SIGKILL of the ZooKeeper leader: clients move to another server within
/// their session, our leader stays elected. Then two of three servers down:
/// no service, the contender loses its candidacy after the session timeout
/// and the detector reports no leader. One server back: election resumes.
#[actix_rt::test]
async fn real_zookeeper_faults_bound_leadership() {
    let _serial = serial();
    if !ensemble::require_zookeeper("real_zookeeper_faults_bound_leadership") {
        return;
    }
    let mut ens = Ensemble::start(3).await.unwrap();
    let env = Real::new(&ens, TEST_SESSION_TIMEOUT).await;
    let mut d = detector(&env, "d", "/mesos");
    let mut a = Contender::spawn(&env, "a", "/mesos");
    let mut b = Contender::spawn(&env, "b", "/mesos");
    a.contend(&env, "a");
    let seq_a = elected(&env, &mut a.rx).await;
    b.contend(&env, "b");
    wait_members(&env, "/mesos", 2).await;
    detect(&env, &mut d, Some("a")).await;
    let url = env.url("/mesos");
    let owner = env.zk.ephemeral_owner(&url, &member_path("/mesos", seq_a)).await.unwrap();

    // 1. SIGKILL the ZooKeeper leader.
    let leader = ens.leader().await.expect("the ensemble has a leader");
    ens.kill(leader);
    ens.wait_serving(MAX_WAIT).await.unwrap();
    ens.restart(leader).unwrap();
    ens.wait_serving(MAX_WAIT).await.unwrap();
    let c = Contender::spawn(&env, "c", "/mesos");
    c.contend(&env, "c");
    wait_members(&env, "/mesos", 3).await; // the ensemble serves our sessions again
    assert_eq!(env.zk.ephemeral_owner(&url, &member_path("/mesos", seq_a)).await.unwrap(), owner, "same session");
    assert!(a.rx.try_recv().is_err(), "the elected contender stays elected");
    assert!(d.try_recv().is_err(), "the detector saw no change");

    // 2. Two of three servers down: no quorum, no service.
    let survivor = (leader + 1) % 3;
    for i in 0..3 {
        if i != survivor {
            ens.kill(i);
        }
    }
    let mut polls = 0;
    while ens.serving().await > 0 {
        polls += 1;
        assert!(polls < 400, "the survivor keeps serving without a quorum");
        env.settle().await;
    }
    match env.recv(&mut a.rx).await {
        Ev::Lost(reason) => assert!(reason.contains("expired"), "{reason}"),
        other => panic!("expected CandidacyLost, got {other:?}"),
    }
    detect(&env, &mut d, None).await;
    assert!(matches!(env.recv(&mut b.rx).await, Ev::Lost(_)));

    // 3. One server back: service and election resume.
    ens.restart((survivor + 1) % 3).unwrap();
    ens.wait_serving(MAX_WAIT).await.unwrap();
    a.contend(&env, "a2");
    elected(&env, &mut a.rx).await;
    detect(&env, &mut d, Some("a2")).await;
}
