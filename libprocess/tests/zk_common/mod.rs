//! The election contract, written once and run against both ZooKeeper
//! backends: the in-memory ensemble on a paused clock (`zk_memory.rs`) and a
//! real 3-server ensemble (`zk_real.rs`). An [`Env`] hides how each backend
//! lists children, expires a session and waits for an event.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use libprocess::zookeeper::{
    Backend, CandidacyLostMessage, ContendMessage, ElectedMessage, GroupConfig, LeaderContender, LeaderDetector,
    LeaderMessage, Member, WithdrawMessage, WithdrawnMessage, ZkUrl,
};
use libprocess::{Actor, Context, Handlers, Me, Node, Process, Upid};
use tokio::sync::mpsc;

/// Label the contract tests use (Mesos masters' label).
pub const LABEL: &str = "json.info";

/// What a subscriber heard.
#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    Elected(u64),
    Lost(String),
    Withdrawn,
    Leader(Option<Member>),
}

impl Ev {
    /// The leader's data as a string, for Leader events.
    pub fn leader_data(&self) -> Option<Option<String>> {
        match self {
            Ev::Leader(l) => Some(l.as_ref().map(|m| String::from_utf8_lossy(&m.data).into_owned())),
            _ => None,
        }
    }
}

/// Forwards everything a contender or detector reports to a channel.
pub struct Probe {
    tx: mpsc::UnboundedSender<Ev>,
}

impl Actor for Probe {
    type Context = Context<Self>;
}

impl Process for Probe {
    fn install(h: &mut Handlers<Self>) {
        h.install(|p: &mut Probe, _, m: ElectedMessage, _| {
            let _ = p.tx.send(Ev::Elected(m.seq));
        })
        .install(|p: &mut Probe, _, m: CandidacyLostMessage, _| {
            let _ = p.tx.send(Ev::Lost(m.reason));
        })
        .install(|p: &mut Probe, _, _: WithdrawnMessage, _| {
            let _ = p.tx.send(Ev::Withdrawn);
        })
        .install(|p: &mut Probe, _, m: LeaderMessage, _| {
            let _ = p.tx.send(Ev::Leader(m.leader));
        });
    }
}

pub fn probe(node: &Node, id: &str) -> (Upid, mpsc::UnboundedReceiver<Ev>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let pid = node.spawn(id, move |_me: Me| Probe { tx }).unwrap().pid;
    (pid, rx)
}

/// A backend under test.
#[allow(async_fn_in_trait)]
pub trait Env {
    fn node(&self) -> &Node;
    fn backend(&self) -> Arc<dyn Backend>;
    fn url(&self, path: &str) -> ZkUrl;
    fn session_timeout(&self) -> Duration;
    /// Children of `path` now.
    async fn children(&self, path: &str) -> Vec<String>;
    /// Makes the servers expire the session owning ephemeral znode `path`.
    async fn expire_owner(&self, path: &str);
    /// The next event of `rx` (panics if none comes in a bounded time).
    async fn recv(&self, rx: &mut mpsc::UnboundedReceiver<Ev>) -> Ev;
    /// Lets queued work run (paused clock) before a check of "nothing".
    async fn settle(&self);

    fn cfg(&self, path: &str) -> GroupConfig {
        GroupConfig { url: self.url(path), label: LABEL.into(), session_timeout: self.session_timeout() }
    }
}

/// A contender with its probe.
pub struct Contender {
    pub pid: Upid,
    pub probe: Upid,
    pub rx: mpsc::UnboundedReceiver<Ev>,
}

impl Contender {
    pub fn spawn<E: Env>(env: &E, id: &str, path: &str) -> Contender {
        let (probe, rx) = probe(env.node(), &format!("{id}-probe"));
        let pid = LeaderContender::spawn(env.node(), id, env.backend(), env.cfg(path), probe.clone()).unwrap();
        Contender { pid, probe, rx }
    }

    pub fn contend<E: Env>(&self, env: &E, data: &str) {
        env.node().send(&self.probe, &self.pid, ContendMessage { data: data.as_bytes().to_vec() });
    }

    pub fn withdraw<E: Env>(&self, env: &E) {
        env.node().send(&self.probe, &self.pid, WithdrawMessage {});
    }
}

pub fn detector<E: Env>(env: &E, id: &str, path: &str) -> mpsc::UnboundedReceiver<Ev> {
    let (probe, rx) = probe(env.node(), &format!("{id}-probe"));
    LeaderDetector::spawn(env.node(), id, env.backend(), env.cfg(path), probe).unwrap();
    rx
}

/// Waits for an Elected event and returns its sequence.
pub async fn elected<E: Env>(env: &E, rx: &mut mpsc::UnboundedReceiver<Ev>) -> u64 {
    match env.recv(rx).await {
        Ev::Elected(seq) => seq,
        other => panic!("expected Elected, got {other:?}"),
    }
}

/// Waits until the detector reports `data` as the leader's (None: no
/// leader), skipping intermediate reports.
pub async fn detect<E: Env>(env: &E, rx: &mut mpsc::UnboundedReceiver<Ev>, data: Option<&str>) {
    loop {
        let ev = env.recv(rx).await;
        let got = ev.leader_data().unwrap_or_else(|| panic!("detector sent {ev:?}"));
        if got.as_deref() == data {
            return;
        }
    }
}

/// Waits until `path` has `n` member children.
pub async fn wait_members<E: Env>(env: &E, path: &str, n: usize) {
    for _ in 0..400 {
        let c = env.children(path).await;
        if c.iter().filter(|c| libprocess::zookeeper::members::parse_member(LABEL, c).is_some()).count() == n {
            return;
        }
        env.settle().await;
    }
    panic!("{path} never had {n} members: {:?}", env.children(path).await);
}

pub fn member_path(path: &str, seq: u64) -> String {
    format!("{path}/{}", libprocess::zookeeper::members::member_name(LABEL, seq))
}

// ---------------------------------------------------------------- contract

/// The first contender leads; later ones do not; the detector sees it.
pub async fn elects_lowest_member<E: Env>(env: &E, path: &str) {
    let mut d = detector(env, "elect-detector", path);
    detect(env, &mut d, None).await;
    let mut a = Contender::spawn(env, "elect-a", path);
    let mut b = Contender::spawn(env, "elect-b", path);
    let mut c = Contender::spawn(env, "elect-c", path);
    a.contend(env, "a");
    let seq_a = elected(env, &mut a.rx).await;
    detect(env, &mut d, Some("a")).await;
    b.contend(env, "b");
    c.contend(env, "c");
    wait_members(env, path, 3).await;
    env.settle().await;
    assert!(b.rx.try_recv().is_err(), "b must not be elected");
    assert!(c.rx.try_recv().is_err(), "c must not be elected");
    assert!(d.try_recv().is_err(), "the leader did not change");
    let children = env.children(path).await;
    assert!(children.contains(&libprocess::zookeeper::members::member_name(LABEL, seq_a)), "{children:?}");
}

/// Withdrawing the leader elects the next member; detectors follow.
pub async fn withdraw_elects_next<E: Env>(env: &E, path: &str) {
    let mut d = detector(env, "wd-detector", path);
    let mut a = Contender::spawn(env, "wd-a", path);
    let mut b = Contender::spawn(env, "wd-b", path);
    a.contend(env, "a");
    elected(env, &mut a.rx).await;
    b.contend(env, "b");
    wait_members(env, path, 2).await;
    detect(env, &mut d, Some("a")).await;
    a.withdraw(env);
    assert_eq!(env.recv(&mut a.rx).await, Ev::Withdrawn);
    elected(env, &mut b.rx).await;
    detect(env, &mut d, Some("b")).await;
}

/// The leader's session expires: it loses its candidacy, the next member
/// is elected and detectors see it.
pub async fn expiry_loses_candidacy<E: Env>(env: &E, path: &str) {
    let mut d = detector(env, "exp-detector", path);
    let mut a = Contender::spawn(env, "exp-a", path);
    let mut b = Contender::spawn(env, "exp-b", path);
    a.contend(env, "a");
    let seq_a = elected(env, &mut a.rx).await;
    b.contend(env, "b");
    wait_members(env, path, 2).await;
    detect(env, &mut d, Some("a")).await;
    env.expire_owner(&member_path(path, seq_a)).await;
    match env.recv(&mut a.rx).await {
        Ev::Lost(reason) => assert!(reason.contains("expired"), "{reason}"),
        other => panic!("expected CandidacyLost, got {other:?}"),
    }
    elected(env, &mut b.rx).await;
    detect(env, &mut d, Some("b")).await;
}

/// When every contender leaves, the detector reports no leader.
pub async fn no_leader_when_all_leave<E: Env>(env: &E, path: &str) {
    let mut d = detector(env, "none-detector", path);
    let mut a = Contender::spawn(env, "none-a", path);
    let mut b = Contender::spawn(env, "none-b", path);
    a.contend(env, "a");
    elected(env, &mut a.rx).await;
    b.contend(env, "b");
    wait_members(env, path, 2).await;
    detect(env, &mut d, Some("a")).await;
    b.withdraw(env);
    assert_eq!(env.recv(&mut b.rx).await, Ev::Withdrawn);
    a.withdraw(env);
    assert_eq!(env.recv(&mut a.rx).await, Ev::Withdrawn);
    detect(env, &mut d, None).await;
    wait_members(env, path, 0).await;
}
