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

use std::sync::Arc;
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

/// One real-ensemble test at a time (tokio's mutex: held across awaits).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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

async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

#[actix_rt::test]
async fn real_contract_and_zkcli_reads_our_json() {
    let _serial = serial().await;
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

    // Digest credentials: anyone may read the member, only its creator may
    // change it (Mesos's ACL), so tools without credentials still find it.
    let authed: ZkUrl = format!("zk://alice:secret@{}/auth", ens.connect_string()).parse().unwrap();
    let (probe_pid, mut rx) = probe(&env.node, "auth-probe");
    let cfg =
        libprocess::zookeeper::GroupConfig { url: authed, label: LABEL.into(), session_timeout: TEST_SESSION_TIMEOUT };
    let pid = libprocess::zookeeper::LeaderContender::spawn(&env.node, "auth", env.backend(), cfg, probe_pid.clone())
        .unwrap();
    env.node.send(&probe_pid, &pid, libprocess::zookeeper::ContendMessage { data: b"secret-leader".to_vec() });
    let seq = elected(&env, &mut rx).await;
    let anonymous = RealZk::new().connect(&env.url("/auth"), TEST_SESSION_TIMEOUT).await.unwrap();
    let path = member_path("/auth", seq);
    assert_eq!(anonymous.get_data(&path).await.unwrap().as_deref(), Some(&b"secret-leader"[..]));
    assert_eq!(anonymous.delete(&path).await, Err(libprocess::zookeeper::ZkError::NoAuth));
}

/// SIGKILL of the ZooKeeper leader: clients move to another server within
/// their session, our leader stays elected. Then two of three servers down:
/// no service, the contender loses its candidacy after the session timeout
/// and the detector reports no leader. One server back: election resumes.
#[actix_rt::test]
async fn real_zookeeper_faults_bound_leadership() {
    let _serial = serial().await;
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

// ---------------------------------------------------------------- figures

/// Runs per figure; the median is printed.
const FIGURE_RUNS: usize = 5;

fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

/// Child side of figure (b): contends on `RMESOS_ZK_CHILD_URL` with
/// `RMESOS_ZK_CHILD_DATA` and holds the session until SIGKILLed. Does
/// nothing when run without those variables.
#[ignore]
#[actix_rt::test]
async fn zk_child_contender() {
    let (Ok(url), Ok(data)) = (std::env::var("RMESOS_ZK_CHILD_URL"), std::env::var("RMESOS_ZK_CHILD_DATA")) else {
        return;
    };
    let url: ZkUrl = url.parse().unwrap();
    let node = Node::bind(Config::loopback(0)).await.unwrap();
    let (probe, mut rx) = probe(&node, "child-probe");
    let cfg = libprocess::zookeeper::GroupConfig {
        url,
        label: LABEL.into(),
        session_timeout: libprocess::zookeeper::DEFAULT_ZK_SESSION_TIMEOUT,
    };
    let pid =
        libprocess::zookeeper::LeaderContender::spawn(&node, "child", Arc::new(RealZk::new()), cfg, probe.clone())
            .unwrap();
    node.send(&probe, &pid, libprocess::zookeeper::ContendMessage { data: data.into_bytes() });
    while let Some(ev) = rx.recv().await {
        println!("CHILD_EVENT {ev:?}");
    }
}

/// Prints `name value` lines: medians over FIGURE_RUNS runs of
/// (a) withdraw of the leader -> detector notified of the new leader,
/// (b) SIGKILL of the leader's process -> new leader seen (10 s sessions),
/// (c) SIGKILL of the ZooKeeper leader -> service back, and how many
///     times our leader changed (expected 0).
#[ignore]
#[actix_rt::test]
async fn real_failover_figures() {
    let _serial = serial().await;
    if !ensemble::require_zookeeper("real_failover_figures") {
        return;
    }
    let mut ens = Ensemble::start(3).await.unwrap();
    let env = Real::new(&ens, libprocess::zookeeper::DEFAULT_ZK_SESSION_TIMEOUT).await;
    let clock = Clock::real();

    let mut withdraw = Vec::new();
    for run in 0..FIGURE_RUNS {
        let path = format!("/fig/withdraw{run}");
        let mut d = detector(&env, &format!("fa-d{run}"), &path);
        let mut a = Contender::spawn(&env, &format!("fa-a{run}"), &path);
        let b = Contender::spawn(&env, &format!("fa-b{run}"), &path);
        a.contend(&env, "a");
        elected(&env, &mut a.rx).await;
        b.contend(&env, "b");
        wait_members(&env, &path, 2).await;
        detect(&env, &mut d, Some("a")).await;
        let t = clock.now();
        a.withdraw(&env);
        detect(&env, &mut d, Some("b")).await;
        withdraw.push(clock.now() - t);
    }
    println!("zk_withdraw_to_new_leader_ms {:.1}", median_ms(withdraw));

    let mut crash = Vec::new();
    for run in 0..FIGURE_RUNS {
        let path = format!("/fig/crash{run}");
        let mut d = detector(&env, &format!("fb-d{run}"), &path);
        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "zk_child_contender", "--ignored", "--nocapture", "--test-threads=1"])
            .env("RMESOS_ZK_CHILD_URL", env.url(&path).to_string())
            .env("RMESOS_ZK_CHILD_DATA", "child")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        detect(&env, &mut d, Some("child")).await;
        let b = Contender::spawn(&env, &format!("fb-b{run}"), &path);
        b.contend(&env, "b");
        wait_members(&env, &path, 2).await;
        let t = clock.now();
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        detect(&env, &mut d, Some("b")).await;
        crash.push(clock.now() - t);
    }
    println!("zk_contender_sigkill_to_new_leader_ms {:.1}", median_ms(crash));

    let mut d = detector(&env, "fc-d", "/fig/zk");
    let mut a = Contender::spawn(&env, "fc-a", "/fig/zk");
    a.contend(&env, "a");
    elected(&env, &mut a.rx).await;
    detect(&env, &mut d, Some("a")).await;
    let mut back = Vec::new();
    for _ in 0..FIGURE_RUNS {
        let leader = ens.leader().await.expect("a ZooKeeper leader");
        let t = clock.now();
        ens.kill(leader);
        ens.wait_serving(MAX_WAIT).await.unwrap();
        back.push(clock.now() - t);
        ens.restart(leader).unwrap();
        ens.wait_serving(MAX_WAIT).await.unwrap();
    }
    wait_members(&env, "/fig/zk", 1).await;
    let mut changes = 0;
    while d.try_recv().is_ok() {
        changes += 1;
    }
    let lost = std::iter::from_fn(|| a.rx.try_recv().ok()).count();
    println!("zk_leader_sigkill_to_serving_ms {:.1}", median_ms(back));
    println!("zk_leader_sigkill_our_leader_changes {changes}");
    println!("zk_leader_sigkill_our_candidacy_events {lost}");
}
