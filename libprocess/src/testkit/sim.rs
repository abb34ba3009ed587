//! `Sim`: the world of a deterministic test. Nodes, faults, time and trace.
//!
//! One `Sim` owns one paused clock, one seeded RNG and one simulated network
//! (`transport::sim`); every node it starts shares them. All of it runs on
//! the current thread inside an actix system (`#[actix_rt::test]` or
//! `actix_rt::System::new().block_on(..)`): no thread, no socket, no wall
//! clock, so the run is a function of the seed and the test's own steps.
//!
//! Time moves only when the test moves it: [`Sim::advance`] (a fixed
//! amount, firing everything due on the way) or [`Sim::run_until`] (jumps
//! from event to event until a future completes, as FoundationDB's
//! simulator does). [`Sim::settle`] runs what is runnable without moving
//! time. Use the `Sim`'s methods rather than the clock's own `advance`: they
//! also put a line in the trace for each instant reached.
//!
//! Seeds: `Sim::new()` takes `RMESOS_SEED` from the environment if set,
//! else a random seed, and prints it (the test harness shows it for a
//! failing test); if the test panics, dropping the `Sim` prints the seed
//! again with the last lines of the trace.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use rand_chacha::ChaCha8Rng;

use super::filter::Pattern;
use crate::clock::{Clock, Time};
use crate::message::Message;
use crate::node::{Node, NodeInner};
use crate::pid::Upid;
use crate::sync::lock;
use crate::transport::sim::{FrameInfo, RuleAction, SimConfig, SimNetwork};

/// Simulated time [`Sim::run_until`] may spend before it gives up: 1 hour.
pub const DEFAULT_RUN_LIMIT: Duration = Duration::from_secs(3600);

/// Trace lines printed when a test fails.
const TRACE_TAIL_ON_FAILURE: usize = 40;

/// The seed of a new simulation: `RMESOS_SEED` if set, else a random one.
///
/// # Panics
/// If `RMESOS_SEED` is set but is not a `u64`: a replay with the wrong seed
/// would be worse than none.
pub fn seed_from_env() -> u64 {
    match std::env::var("RMESOS_SEED") {
        Ok(s) => s.trim().parse().unwrap_or_else(|_| panic!("RMESOS_SEED={s:?} is not a u64 seed")),
        Err(_) => rand::random(),
    }
}

/// Something that names a node's address: `"10.0.0.1:5050"`, a
/// `SocketAddr`, a `Node`, or a `Upid` (its node).
pub trait SimAddr {
    fn sim_addr(&self) -> SocketAddr;
}

impl SimAddr for str {
    /// # Panics
    /// If the string is not `ip:port` (a test's typo).
    fn sim_addr(&self) -> SocketAddr {
        self.parse().unwrap_or_else(|e| panic!("'{self}' is not an ip:port address: {e}"))
    }
}

impl SimAddr for String {
    fn sim_addr(&self) -> SocketAddr {
        self.as_str().sim_addr()
    }
}

impl SimAddr for SocketAddr {
    fn sim_addr(&self) -> SocketAddr {
        *self
    }
}

impl SimAddr for Node {
    fn sim_addr(&self) -> SocketAddr {
        self.address()
    }
}

impl SimAddr for Upid {
    fn sim_addr(&self) -> SocketAddr {
        self.addr()
    }
}

/// A drop or delay rule installed by [`Sim::drop_frames`] / [`Sim::delay_frames`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleId(u64);

/// Why [`Sim::run_for`] returned without the future's output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("the simulation went idle at {0:?} (no timer left) before the future completed")]
    Idle(Duration),
    #[error("the future did not complete within {0:?} of simulated time")]
    Limit(Duration),
}

/// A frame rule matching messages of type `M` from `from` to `to`, for
/// [`Sim::drop_frames`] and [`Sim::delay_frames`].
pub fn matching<M: Message>(
    from: impl Into<Pattern>,
    to: impl Into<Pattern>,
) -> impl Fn(&FrameInfo<'_>) -> bool + Send + Sync + 'static {
    let (from, to) = (from.into(), to.into());
    move |f: &FrameInfo<'_>| f.name == M::NAME && from.matches_pid(f.from) && to.matches_pid(f.to)
}

/// Settings of a new [`Sim`]; `Sim::builder().seed(7).build()`.
#[derive(Default)]
pub struct SimBuilder {
    seed: Option<u64>,
    cfg: SimConfig,
}

impl SimBuilder {
    /// A fixed seed (`RMESOS_SEED` is then ignored).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Bounds of a frame's one-way latency (each drawn from the seed).
    pub fn latency(mut self, min: Duration, max: Duration) -> Self {
        self.cfg.min_latency = min;
        self.cfg.max_latency = max;
        self
    }

    /// How long a partition lasts before the connections it cuts break and
    /// links start to notice; None makes partitions silent.
    pub fn partition_detection(mut self, after: Option<Duration>) -> Self {
        self.cfg.partition_detection = after;
        self
    }

    /// The whole network configuration at once.
    pub fn config(mut self, cfg: SimConfig) -> Self {
        self.cfg = cfg;
        self
    }

    /// # Panics
    /// If `min_latency > max_latency`.
    pub fn build(self) -> Sim {
        let seed = self.seed.unwrap_or_else(seed_from_env);
        eprintln!("libprocess sim: seed {seed} (replay with RMESOS_SEED={seed})");
        Sim { net: SimNetwork::new(Clock::paused(), seed, self.cfg), seed, nodes: Mutex::default() }
    }
}

/// A simulated world; see the module docs.
pub struct Sim {
    net: Arc<SimNetwork<NodeInner>>,
    seed: u64,
    /// Live nodes, kept alive here even if the test drops its handles.
    nodes: Mutex<BTreeMap<SocketAddr, Node>>,
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}

impl Sim {
    /// A world with the default network and the seed from [`seed_from_env`].
    pub fn new() -> Sim {
        Sim::builder().build()
    }

    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }

    /// The seed this world runs with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The paused clock every node of this world uses.
    pub fn clock(&self) -> &Clock {
        self.net.clock()
    }

    /// Simulated time since the world began.
    pub fn now(&self) -> Time {
        self.clock().now()
    }

    /// Starts a node at `addr` (any address: nothing is bound).
    ///
    /// # Panics
    /// If a live node already has this address, or outside an actix system.
    pub fn node(&self, addr: &(impl SimAddr + ?Sized)) -> Node {
        let addr = addr.sim_addr();
        let clock = self.clock().clone();
        let node = self
            .net
            .add_node(addr, |incarnation, transport| {
                let node = Node::with_transport(addr, incarnation, clock, transport);
                let inbound = node.inbound();
                (node, inbound)
            })
            .unwrap_or_else(|| panic!("a node already runs at {addr}"));
        lock(&self.nodes).insert(addr, node.clone());
        node
    }

    /// The live node at `addr`, if any.
    pub fn node_at(&self, addr: &(impl SimAddr + ?Sized)) -> Option<Node> {
        lock(&self.nodes).get(&addr.sim_addr()).cloned()
    }

    /// Kills the node at `addr`: its processes stop (without sending
    /// anything: a crash, not a goodbye), its connections close, and its
    /// peers notice as over TCP (reconnect, then `Exited` for their links).
    pub fn kill(&self, addr: &(impl SimAddr + ?Sized)) {
        let addr = addr.sim_addr();
        self.net.trace_event(format_args!("kill {addr}"));
        if let Some(node) = lock(&self.nodes).remove(&addr) {
            node.shutdown();
        }
    }

    /// Kills the node at `addr` if it runs, and starts a fresh one there
    /// with a new incarnation: peers that reconnect see the new incarnation
    /// and their links to the old node's processes fire.
    pub fn restart(&self, addr: &(impl SimAddr + ?Sized)) -> Node {
        let addr = addr.sim_addr();
        self.kill(&addr);
        self.net.trace_event(format_args!("restart {addr}"));
        self.node(&addr)
    }

    /// Cuts both directions between `a` and `b`.
    pub fn partition(&self, a: &(impl SimAddr + ?Sized), b: &(impl SimAddr + ?Sized)) {
        let (a, b) = (a.sim_addr(), b.sim_addr());
        self.net.partition(a, b);
        self.net.partition(b, a);
    }

    /// Cuts `from -> to` only: `to` still reaches `from`.
    pub fn partition_one_way(&self, from: &(impl SimAddr + ?Sized), to: &(impl SimAddr + ?Sized)) {
        self.net.partition(from.sim_addr(), to.sim_addr());
    }

    /// Restores both directions between `a` and `b`.
    pub fn heal(&self, a: &(impl SimAddr + ?Sized), b: &(impl SimAddr + ?Sized)) {
        let (a, b) = (a.sim_addr(), b.sim_addr());
        self.net.heal(a, b);
        self.net.heal(b, a);
    }

    /// Restores `from -> to` only.
    pub fn heal_one_way(&self, from: &(impl SimAddr + ?Sized), to: &(impl SimAddr + ?Sized)) {
        self.net.heal(from.sim_addr(), to.sim_addr());
    }

    /// Restores every cut direction.
    pub fn heal_all(&self) {
        for (from, to) in self.net.blocked_pairs() {
            self.net.heal(from, to);
        }
    }

    /// Drops (at send time) every frame `rule` matches, until removed. The
    /// rule runs with the network locked: it must not call into the `Sim`.
    /// For a drop of one message type between two processes on any
    /// transport, prefer the node filters ([`super::drop_messages`]).
    pub fn drop_frames(&self, rule: impl Fn(&FrameInfo<'_>) -> bool + Send + Sync + 'static) -> RuleId {
        RuleId(self.net.add_rule(Box::new(rule), RuleAction::Drop))
    }

    /// Drops each frame `rule` matches with probability `p` (a lossy link),
    /// drawn from the seed, until removed.
    ///
    /// # Panics
    /// If `p` is not within `0.0..=1.0`.
    pub fn lose_frames(&self, p: f64, rule: impl Fn(&FrameInfo<'_>) -> bool + Send + Sync + 'static) -> RuleId {
        assert!((0.0..=1.0).contains(&p), "a loss probability is within 0.0..=1.0, not {p}");
        RuleId(self.net.add_rule(Box::new(rule), RuleAction::Lose(p)))
    }

    /// Adds `extra` latency to every frame `rule` matches, until removed.
    /// Frames behind a delayed one on its connection wait for it (FIFO).
    pub fn delay_frames(
        &self,
        extra: Duration,
        rule: impl Fn(&FrameInfo<'_>) -> bool + Send + Sync + 'static,
    ) -> RuleId {
        RuleId(self.net.add_rule(Box::new(rule), RuleAction::Delay(extra)))
    }

    /// Removes a drop or delay rule.
    pub fn remove_rule(&self, rule: RuleId) {
        self.net.remove_rule(rule.0);
    }

    /// Runs everything runnable without moving time.
    pub async fn settle(&self) {
        self.clock().settle().await;
    }

    /// Moves time forward by `d`, stopping at each instant something is due
    /// (timers, frames) to run it; settled on return.
    pub async fn advance(&self, d: Duration) {
        let target = self.now() + d;
        loop {
            self.settle().await;
            match self.clock().next_timer() {
                Some(t) if t <= target => self.step_to(t).await,
                _ => break,
            }
        }
        let rest = target.saturating_since(self.now());
        self.clock().advance(rest).await;
    }

    async fn step_to(&self, t: Time) {
        self.clock().advance(t.saturating_since(self.now())).await;
        self.net.trace_event(format_args!("time"));
    }

    /// Runs the world, jumping from one due event to the next, until `fut`
    /// completes; returns its output.
    ///
    /// # Panics
    /// If nothing is left to run (the future can never complete) or
    /// [`DEFAULT_RUN_LIMIT`] of simulated time passes first: the test fails
    /// (and the seed is printed).
    pub async fn run_until<F: Future>(&self, fut: F) -> F::Output {
        match self.run_for(DEFAULT_RUN_LIMIT, fut).await {
            Ok(out) => out,
            Err(e) => panic!("Sim::run_until: {e}"),
        }
    }

    /// As [`Sim::run_until`], for at most `limit` of simulated time, with an
    /// error instead of a panic.
    pub async fn run_for<F: Future>(&self, limit: Duration, fut: F) -> Result<F::Output, RunError> {
        let deadline = self.now() + limit;
        let mut fut = std::pin::pin!(fut);
        loop {
            if let Poll::Ready(out) = futures::poll!(fut.as_mut()) {
                return Ok(out);
            }
            self.settle().await;
            if let Poll::Ready(out) = futures::poll!(fut.as_mut()) {
                return Ok(out);
            }
            match self.clock().next_timer() {
                Some(t) if t <= deadline => self.step_to(t).await,
                Some(_) => {
                    let rest = deadline.saturating_since(self.now());
                    self.clock().advance(rest).await;
                    return Err(RunError::Limit(limit));
                }
                None => return Err(RunError::Idle(self.now().since_origin())),
            }
        }
    }

    /// Adds a line of the test's own to the trace (e.g. a checkpoint).
    pub fn note(&self, event: impl fmt::Display) {
        self.net.trace_event(format_args!("note {event}"));
    }

    /// The retained trace lines (the last [`super::MAX_TRACE_LINES`]).
    pub fn trace(&self) -> Vec<String> {
        self.net.trace_lines()
    }

    /// Hash of every trace line so far: equal seeds give equal hashes.
    pub fn trace_hash(&self) -> u64 {
        self.net.trace_hash()
    }

    /// Number of events traced so far.
    pub fn trace_len(&self) -> u64 {
        self.net.trace_len()
    }

    /// Runs `f` on the world's seeded RNG: randomness a test draws here
    /// (fault schedules, workloads) replays with the seed.
    pub fn with_rng<R>(&self, f: impl FnOnce(&mut ChaCha8Rng) -> R) -> R {
        self.net.with_rng(f)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let seed = self.seed;
            let tail = self.net.trace_tail(TRACE_TAIL_ON_FAILURE);
            eprintln!("libprocess sim: test failed with seed {seed}; last {} trace lines:", tail.len());
            for line in tail {
                eprintln!("  {line}");
            }
            eprintln!("libprocess sim: replay with RMESOS_SEED={seed}");
        }
        // Stop every node so their processes do not outlive the world.
        let nodes = std::mem::take(&mut *lock(&self.nodes));
        for node in nodes.into_values() {
            node.shutdown();
        }
    }
}
