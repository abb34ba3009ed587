//! The simulated transport: every node of a test cluster in one process, on
//! one thread, over an in-memory network driven by a paused [`Clock`].
//!
//! The real framing code runs: a node encodes each frame with
//! `wire::encode_frame` into the buffer this transport hands it, exactly as
//! for TCP, and the network decodes it with `WireEnvelope::decode` and hands
//! it to the receiving node through the same [`Inbound`] calls the TCP
//! transport makes (`receive`, one frame at a time, `peer_hello`,
//! `peer_broken`, `peer_lost`). Nothing binds a
//! socket, so any address works (`10.0.0.1:5050`).
//!
//! The model, chosen to mirror what `tcp.rs` does so that a protocol that
//! passes here behaves the same over sockets:
//! - A *connection* per (source, destination) node, made lazily on the first
//!   send (or `watch`, for links). It starts with a handshake that tells both
//!   nodes the other's incarnation, and carries frames in FIFO order.
//! - Each frame (and handshake) takes a latency drawn from the seeded RNG in
//!   `[min_latency, max_latency]`, but never arrives before the frame sent
//!   before it on its connection: per-connection order is kept, as TCP does.
//!   Frames of different connections interleave by their random latencies.
//! - Delivery is scheduled on the paused clock: a frame due at `t` is handed
//!   over when the test advances the clock to `t` (`Clock::advance`, or the
//!   `Sim`'s `advance` / `run_until`). A frame due now (zero latency) holds a
//!   `clock.work()` guard until delivered, so `Clock::settle` waits for it.
//! - A connection that cannot be made (nobody at the address, or a
//!   partition) is retried with the TCP transport's backoff
//!   (`INITIAL_RECONNECT_BACKOFF`.. `MAX_RECONNECT_BACKOFF`); frames sent
//!   meanwhile queue (bounded by `MAX_QUEUED_MESSAGES_PER_PEER`). After
//!   `MAX_RECONNECT_ATTEMPTS` failures the sender's node gets `peer_lost`
//!   (its links to that node fire) and the queue is dropped. An attempt
//!   across a partition costs `HANDSHAKE_TIMEOUT` (no answer, like a SYN into
//!   a firewall); one to a dead node fails at once (refused).
//! - A killed node's connections break at once (the peer's writer sees EOF):
//!   peers reconnect as above, and either find a restarted node (a new
//!   incarnation in the handshake: their links fire) or give up (`peer_lost`).
//! - Partitions block one direction of one pair. Frames on a connection that
//!   is cut are *held*, not dropped, as TCP retransmits across a short
//!   outage (within the same queue bound): a heal releases them in order. If the partition lasts
//!   `partition_detection` (default [`DEFAULT_PARTITION_DETECTION`]), the
//!   connection breaks (the role of a TCP user timeout or keepalive), its
//!   held frames are lost, and reconnection begins. A break that lost
//!   frames (held by a partition, or in flight to a node that stopped)
//!   tells the sender's node at once (`peer_broken`: its links to that node
//!   fire, as libprocess's do when a socket closes), so a linker learns
//!   that what it sent may be missing even if the reconnect succeeds; a
//!   break that lost nothing is silent, and an idle partition is detected
//!   `partition_detection` + the reconnect window after it starts.
//!   With `partition_detection: None` a partition is silent (an idle TCP
//!   connection with no keepalive): links never notice, protocols must use
//!   their own heartbeats. The model treats the two directions as
//!   independent channels; real TCP would also starve the reverse path of
//!   acknowledgements.
//! - Drop, lose (drop with a probability, from the seed) and delay rules
//!   match frames at send time. A delayed frame delays the frames behind it
//!   on its connection (FIFO, as TCP). Rules run with the network locked: a
//!   rule must not call back into the `Sim`.
//!
//! Every event goes into the simulation's trace; all choices come from one
//! seeded ChaCha8 RNG, and events due at the same instant run in the order
//! they were scheduled, so one seed gives one trace.
//!
//! Why not turmoil (which runs actix actors unchanged at the socket level):
//! it simulates `TcpStream`s on tokio's own paused time, so `tcp.rs` would
//! need turmoil's types behind a cfg, and time would have two masters
//! (turmoil's and our `Clock`, which actors and `settle` rely on). The
//! `Transport` trait is already a seam at the frame level: simulating there
//! keeps the real frame encoding and decoding and the node's link logic,
//! shares the one `Clock`, and lets faults speak in the node's terms
//! (connections, incarnations, `peer_lost`) rather than in bytes.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::BytesMut;
use futures::future::BoxFuture;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::Notify;

use super::{Inbound, SendError, Transport};
use crate::clock::Clock;
use crate::limits::{
    HANDSHAKE_TIMEOUT, INITIAL_RECONNECT_BACKOFF, MAX_QUEUED_MESSAGES_PER_PEER, MAX_RECONNECT_ATTEMPTS,
    MAX_RECONNECT_BACKOFF,
};
use crate::metrics::Metrics;
use crate::pid::Upid;
use crate::sync::lock;
use crate::wire::{WireEnvelope, WireError};

mod trace;

use trace::Trace;
pub use trace::MAX_TRACE_LINES;

/// Default lower bound of a frame's one-way latency: 1 ms (a LAN).
pub const DEFAULT_MIN_LATENCY: Duration = Duration::from_millis(1);
/// Default upper bound of a frame's one-way latency: 10 ms.
pub const DEFAULT_MAX_LATENCY: Duration = Duration::from_millis(10);
/// Default time a partition must last before the connections it cuts break:
/// 10 s, standing in for a TCP user timeout / keepalive (Linux's defaults are
/// far longer; deployments that care set them near this).
pub const DEFAULT_PARTITION_DETECTION: Duration = Duration::from_secs(10);

/// How the simulated network behaves. `Default` gives the documented defaults.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Lower bound of a frame's one-way latency.
    pub min_latency: Duration,
    /// Upper bound of a frame's one-way latency (inclusive).
    pub max_latency: Duration,
    /// How long a partition lasts before the connections it cuts break
    /// (None: never; a partition is then silent, see the module docs).
    pub partition_detection: Option<Duration>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            min_latency: DEFAULT_MIN_LATENCY,
            max_latency: DEFAULT_MAX_LATENCY,
            partition_detection: Some(DEFAULT_PARTITION_DETECTION),
        }
    }
}

/// A frame as drop / delay rules see it.
#[derive(Debug)]
pub struct FrameInfo<'a> {
    pub from: &'a Upid,
    pub to: &'a Upid,
    /// The message name (`Message::NAME`).
    pub name: &'a str,
    /// Encoded size of the frame without its length prefix.
    pub len: usize,
}

/// What a rule does to the frames it matches.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RuleAction {
    Drop,
    /// Drop with this probability, drawn from the seeded RNG.
    Lose(f64),
    Delay(Duration),
}

pub(crate) type Matcher = Box<dyn Fn(&FrameInfo<'_>) -> bool + Send + Sync>;

/// The network every simulated node's transport sends into.
pub(crate) struct SimNetwork<N> {
    clock: Clock,
    state: Mutex<NetState<N>>,
    me: Weak<SimNetwork<N>>,
    /// Woken whenever frames may have left a queue (delivered or dropped).
    progress: Notify,
}

type Pair = (SocketAddr, SocketAddr);

struct NetState<N> {
    cfg: SimConfig,
    rng: ChaCha8Rng,
    /// Tie-breaker of events due at the same instant: scheduling order.
    seq: u64,
    /// Generation of connection states (a wake-up of an old one is ignored).
    next_gen: u64,
    next_rule: u64,
    endpoints: BTreeMap<SocketAddr, Endpoint<N>>,
    conns: BTreeMap<Pair, Conn>,
    /// Cut directions, with the partition's number (a `Break` of an older
    /// partition that was healed and cut again is ignored).
    blocked: BTreeMap<Pair, u64>,
    next_partition: u64,
    rules: Vec<(u64, Matcher, RuleAction)>,
    events: BTreeMap<(Duration, u64), Event>,
    trace: Trace,
    /// Number of the next frame queued (from 1).
    next_frame: u64,
}

struct Endpoint<N> {
    node: Weak<N>,
    incarnation: u64,
}

struct Conn {
    gen: u64,
    /// The destination's incarnation while connected; None while (re)connecting.
    up: Option<u64>,
    failures: u32,
    /// Deadline of the last frame scheduled (no frame may arrive before it).
    last: Duration,
    pending: VecDeque<Pending>,
}

struct Pending {
    /// Frames: their number in the network's send order (`flush` waits by
    /// it); 0 for a handshake.
    id: u64,
    deadline: Duration,
    extra: Duration,
    what: Carried,
}

enum Carried {
    Hello,
    Frame(WireEnvelope),
}

enum Event {
    /// Deliver what is due on a connection.
    Wake { pair: Pair, gen: u64 },
    /// Try to (re)connect.
    Retry { pair: Pair, gen: u64 },
    /// A partition has lasted `partition_detection`: break the connection.
    Break { pair: Pair, gen: u64, partition: u64 },
}

/// A call into a node, made after the network's lock is released (the node
/// may send, which re-enters the network).
enum Dispatch<N> {
    Frame(Weak<N>, SocketAddr, WireEnvelope),
    Hello(Weak<N>, SocketAddr, u64),
    Lost(Weak<N>, SocketAddr),
    Broken(Weak<N>, SocketAddr),
}

impl<N: Inbound> Dispatch<N> {
    fn run(self) {
        match self {
            Dispatch::Frame(node, peer, env) => {
                if let Some(node) = node.upgrade() {
                    node.frame(peer, env);
                }
            }
            Dispatch::Hello(node, peer, incarnation) => {
                if let Some(node) = node.upgrade() {
                    node.peer_hello(peer, incarnation);
                }
            }
            Dispatch::Lost(node, peer) => {
                if let Some(node) = node.upgrade() {
                    node.peer_lost(peer);
                }
            }
            Dispatch::Broken(node, peer) => {
                if let Some(node) = node.upgrade() {
                    node.peer_broken(peer);
                }
            }
        }
    }
}

fn backoff(failures: u32) -> Duration {
    INITIAL_RECONNECT_BACKOFF.saturating_mul(1 << failures.min(16)).min(MAX_RECONNECT_BACKOFF)
}

impl<N: Inbound> SimNetwork<N> {
    pub(crate) fn new(clock: Clock, seed: u64, cfg: SimConfig) -> Arc<SimNetwork<N>> {
        assert!(clock.is_paused(), "the simulated network runs on a paused clock");
        assert!(cfg.min_latency <= cfg.max_latency, "min_latency must not exceed max_latency");
        Arc::new_cyclic(|me| SimNetwork {
            clock,
            state: Mutex::new(NetState {
                cfg,
                rng: ChaCha8Rng::seed_from_u64(seed),
                seq: 0,
                next_gen: 1,
                next_rule: 0,
                endpoints: BTreeMap::new(),
                conns: BTreeMap::new(),
                blocked: BTreeMap::new(),
                next_partition: 0,
                rules: Vec::new(),
                events: BTreeMap::new(),
                trace: Trace::default(),
                next_frame: 1,
            }),
            progress: Notify::new(),
            me: me.clone(),
        })
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    fn now(&self) -> Duration {
        self.clock.now().since_origin()
    }

    /// Adds a node at `addr`, with an incarnation drawn from the seed:
    /// `make` builds it from that incarnation and its transport, and hands
    /// back the node with the handle the network reports to. None if a live
    /// node already has that address.
    pub(crate) fn add_node<T>(
        &self,
        addr: SocketAddr,
        make: impl FnOnce(u64, Arc<dyn Transport>) -> (T, Weak<N>),
    ) -> Option<T> {
        let net = self.me.upgrade()?;
        let mut st = lock(&self.state);
        if st.endpoints.contains_key(&addr) {
            return None;
        }
        let incarnation: u64 = st.rng.gen();
        let transport = Arc::new(SimTransport { net, addr, incarnation, down: AtomicBool::new(false) });
        let (node, inbound) = make(incarnation, transport);
        st.endpoints.insert(addr, Endpoint { node: inbound, incarnation });
        let now = self.now();
        st.trace.push(now, format_args!("node up {addr} incarnation {incarnation:016x}"));
        Some(node)
    }

    /// Runs `f` on the simulation's RNG (tests draw their own randomness here
    /// so that it follows the seed too).
    pub(crate) fn with_rng<R>(&self, f: impl FnOnce(&mut ChaCha8Rng) -> R) -> R {
        f(&mut lock(&self.state).rng)
    }

    pub(crate) fn trace_event(&self, event: std::fmt::Arguments<'_>) {
        let now = self.now();
        lock(&self.state).trace.push(now, event);
    }

    pub(crate) fn trace_hash(&self) -> u64 {
        lock(&self.state).trace.hash()
    }

    pub(crate) fn trace_len(&self) -> u64 {
        lock(&self.state).trace.count()
    }

    pub(crate) fn trace_lines(&self) -> Vec<String> {
        lock(&self.state).trace.lines()
    }

    pub(crate) fn trace_tail(&self, n: usize) -> Vec<String> {
        lock(&self.state).trace.tail(n)
    }

    /// Cuts the direction `from -> to`.
    pub(crate) fn partition(&self, from: SocketAddr, to: SocketAddr) {
        let mut st = lock(&self.state);
        let now = self.now();
        if st.blocked.contains_key(&(from, to)) {
            return;
        }
        let partition = st.next_partition;
        st.next_partition += 1;
        st.blocked.insert((from, to), partition);
        st.trace.push(now, format_args!("partition {from} -> {to}"));
        let detect = st.cfg.partition_detection;
        if let (Some(d), Some(c)) = (detect, st.conns.get(&(from, to))) {
            if c.up.is_some() {
                let gen = c.gen;
                self.schedule(&mut st, now + d, Event::Break { pair: (from, to), gen, partition });
            }
        }
    }

    /// Restores the direction `from -> to`; frames held on it move on.
    pub(crate) fn heal(&self, from: SocketAddr, to: SocketAddr) {
        let mut st = lock(&self.state);
        let now = self.now();
        if st.blocked.remove(&(from, to)).is_none() {
            return;
        }
        st.trace.push(now, format_args!("heal {from} -> {to}"));
        if st.conns.get(&(from, to)).is_some_and(|c| c.up.is_some()) {
            self.reschedule_pending(&mut st, now, (from, to));
        }
    }

    pub(crate) fn blocked_pairs(&self) -> Vec<Pair> {
        lock(&self.state).blocked.keys().copied().collect()
    }

    pub(crate) fn add_rule(&self, matcher: Matcher, action: RuleAction) -> u64 {
        let mut st = lock(&self.state);
        let id = st.next_rule;
        st.next_rule += 1;
        st.rules.push((id, matcher, action));
        let now = self.now();
        st.trace.push(now, format_args!("rule {id} added: {action:?}"));
        id
    }

    pub(crate) fn remove_rule(&self, id: u64) {
        let mut st = lock(&self.state);
        st.rules.retain(|(r, _, _)| *r != id);
        let now = self.now();
        st.trace.push(now, format_args!("rule {id} removed"));
    }

    /// Puts `ev` in the event queue and arranges for the queue to run at `at`.
    fn schedule(&self, st: &mut NetState<N>, at: Duration, ev: Event) {
        let seq = st.seq;
        st.seq += 1;
        st.events.insert((at, seq), ev);
        let Some(net) = self.me.upgrade() else { return };
        if tokio::runtime::Handle::try_current().is_err() {
            // The actix system has ended (a `Sim` dropped after it): the
            // world is over, nothing could run the event anyway.
            return;
        }
        let now = self.now();
        if at > now {
            // The timer is registered now, so `advance` sees it at once.
            let sleep = self.clock.sleep(at - now);
            actix_rt::spawn(async move {
                sleep.await;
                net.run_due();
            });
        } else {
            let guard = self.clock.work();
            actix_rt::spawn(async move {
                net.run_due();
                drop(guard);
            });
        }
    }

    /// Runs every event due by now, in (deadline, scheduling) order.
    fn run_due(&self) {
        loop {
            let dispatches = {
                let mut st = lock(&self.state);
                let now = self.now();
                let Some(entry) = st.events.first_entry() else { break };
                if entry.key().0 > now {
                    break;
                }
                let ev = entry.remove();
                self.handle(&mut st, now, ev)
            };
            for d in dispatches {
                d.run();
            }
        }
        self.progress.notify_waiters();
    }

    /// Resolves once every frame `src` has queued so far is delivered or
    /// dropped (the clock must move for that: the test drives it).
    async fn flush(&self, src: SocketAddr) {
        let upto = lock(&self.state).next_frame;
        loop {
            let progress = self.progress.notified();
            tokio::pin!(progress);
            progress.as_mut().enable();
            let waiting = lock(&self.state)
                .conns
                .range((src, SocketAddr::from(([0, 0, 0, 0], 0)))..)
                .take_while(|((s, _), _)| *s == src)
                .any(|(_, c)| c.pending.iter().any(|p| matches!(p.what, Carried::Frame(_)) && p.id < upto));
            if !waiting {
                return;
            }
            progress.await;
        }
    }

    fn handle(&self, st: &mut NetState<N>, now: Duration, ev: Event) -> Vec<Dispatch<N>> {
        match ev {
            Event::Wake { pair, gen } => self.wake(st, now, pair, gen),
            Event::Retry { pair, gen } => {
                let current = st.conns.get(&pair).is_some_and(|c| c.gen == gen && c.up.is_none());
                if current {
                    self.attempt(st, now, pair)
                } else {
                    Vec::new()
                }
            }
            Event::Break { pair, gen, partition } => {
                let current = st.conns.get(&pair).is_some_and(|c| c.gen == gen && c.up.is_some());
                if current && st.blocked.get(&pair) == Some(&partition) {
                    self.break_conn(st, now, pair, "partition detected")
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// Hands over what is due on a live, uncut connection.
    fn wake(&self, st: &mut NetState<N>, now: Duration, pair: Pair, gen: u64) -> Vec<Dispatch<N>> {
        let mut out = Vec::new();
        if st.blocked.contains_key(&pair) {
            return out; // held until heal or break
        }
        let (src, dst) = pair;
        let (Some(s), Some(d)) = (st.endpoints.get(&src), st.endpoints.get(&dst)) else { return out };
        let Some(c) = st.conns.get_mut(&pair).filter(|c| c.gen == gen && c.up.is_some()) else { return out };
        while c.pending.front().is_some_and(|p| p.deadline <= now) {
            let Some(p) = c.pending.pop_front() else { break };
            match p.what {
                Carried::Hello => {
                    st.trace.push(now, format_args!("hello {src} -> {dst}"));
                    out.push(Dispatch::Hello(s.node.clone(), dst, d.incarnation));
                    out.push(Dispatch::Hello(d.node.clone(), src, s.incarnation));
                }
                Carried::Frame(env) => {
                    st.trace.push(
                        now,
                        format_args!("deliver {}@{src} -> {}@{dst} {}", env.from_id(), env.to_id(), env.name()),
                    );
                    out.push(Dispatch::Frame(d.node.clone(), src, env));
                }
            }
        }
        out
    }

    /// One connection attempt on a connection that is down.
    fn attempt(&self, st: &mut NetState<N>, now: Duration, pair: Pair) -> Vec<Dispatch<N>> {
        let (src, dst) = pair;
        let cut = st.blocked.contains_key(&pair);
        if !cut && st.endpoints.contains_key(&dst) {
            self.go_up(st, now, pair);
            return Vec::new();
        }
        let Some(c) = st.conns.get_mut(&pair) else { return Vec::new() };
        c.failures += 1;
        let failures = c.failures;
        let why = if cut { "partitioned" } else { "nobody there" };
        st.trace.push(now, format_args!("connect {src} -> {dst} failed ({why}, {failures})"));
        if failures > MAX_RECONNECT_ATTEMPTS {
            let dropped = st.conns.remove(&pair).map_or(0, |c| frames_in(&c.pending));
            st.trace.push(now, format_args!("lost {src} -> {dst} (dropped {dropped})"));
            return match st.endpoints.get(&src) {
                Some(s) => {
                    count_dropped(&s.node, dropped);
                    vec![Dispatch::Lost(s.node.clone(), dst)]
                }
                None => Vec::new(),
            };
        }
        let cost = if cut { HANDSHAKE_TIMEOUT } else { Duration::ZERO };
        let gen = c.gen;
        self.schedule(st, now + cost + backoff(failures), Event::Retry { pair, gen });
        Vec::new()
    }

    /// Connects: a handshake first, then the queued frames, in order.
    fn go_up(&self, st: &mut NetState<N>, now: Duration, pair: Pair) {
        let Some(dst_inc) = st.endpoints.get(&pair.1).map(|e| e.incarnation) else { return };
        let gen = st.next_gen;
        st.next_gen += 1;
        let Some(c) = st.conns.get_mut(&pair) else { return };
        c.gen = gen;
        c.up = Some(dst_inc);
        c.failures = 0;
        c.last = now;
        c.pending.push_front(Pending { id: 0, deadline: now, extra: Duration::ZERO, what: Carried::Hello });
        st.trace.push(now, format_args!("connect {} -> {}", pair.0, pair.1));
        self.reschedule_pending(st, now, pair);
    }

    /// Gives every pending item of a live connection a deadline (latency
    /// from now, never before the previous one) and a wake-up.
    fn reschedule_pending(&self, st: &mut NetState<N>, now: Duration, pair: Pair) {
        let Some(c) = st.conns.get_mut(&pair) else { return };
        let mut pending = std::mem::take(&mut c.pending);
        let (gen, mut last) = (c.gen, now.max(c.last));
        for p in pending.iter_mut() {
            let lat = latency(&mut st.rng, &st.cfg);
            p.deadline = (now + lat + p.extra).max(last);
            last = p.deadline;
        }
        let deadlines: Vec<Duration> = pending.iter().map(|p| p.deadline).collect();
        if let Some(c) = st.conns.get_mut(&pair) {
            c.pending = pending;
            c.last = last;
        }
        for at in deadlines {
            self.schedule(st, at, Event::Wake { pair, gen });
        }
    }

    /// The connection is gone (EOF or a detected partition): what was in
    /// flight is lost, and reconnection starts after the first backoff. If
    /// frames were lost, the sender's node is told (`peer_broken`: its links
    /// to the destination fire), as a socket that closes under queued
    /// messages does; frames delivered before are known delivered here, so
    /// a break that lost nothing tells nobody.
    fn break_conn(&self, st: &mut NetState<N>, now: Duration, pair: Pair, why: &str) -> Vec<Dispatch<N>> {
        let gen = st.next_gen;
        st.next_gen += 1;
        let Some(c) = st.conns.get_mut(&pair) else { return Vec::new() };
        let dropped = frames_in(&c.pending);
        c.pending.clear();
        c.gen = gen;
        c.up = None;
        c.failures = 0;
        st.trace.push(now, format_args!("broken {} -> {} ({why}, dropped {dropped})", pair.0, pair.1));
        self.schedule(st, now + backoff(0), Event::Retry { pair, gen });
        match st.endpoints.get(&pair.0) {
            Some(s) if dropped > 0 => {
                count_dropped(&s.node, dropped);
                vec![Dispatch::Broken(s.node.clone(), pair.1)]
            }
            _ => Vec::new(),
        }
    }

    /// A frame from the node at `src` for the node at `dst`.
    fn send(&self, src: SocketAddr, dst: SocketAddr, env: WireEnvelope, len: usize) -> Result<(), SendError> {
        let mut guard = lock(&self.state);
        let st = &mut *guard;
        let now = self.now();
        st.trace
            .push(now, format_args!("send {}@{src} -> {}@{dst} {} ({len} B)", env.from_id(), env.to_id(), env.name()));
        let mut extra = Duration::ZERO;
        if !st.rules.is_empty() {
            if let (Ok(from), Ok(to)) = (Upid::new(env.from_id(), src), Upid::new(env.to_id(), dst)) {
                let info = FrameInfo { from: &from, to: &to, name: env.name(), len };
                let mut dropped_by = None;
                for (id, matcher, action) in &st.rules {
                    if matcher(&info) {
                        match action {
                            RuleAction::Drop => {
                                dropped_by = Some(*id);
                                break;
                            }
                            RuleAction::Lose(p) => {
                                if st.rng.gen_bool(*p) {
                                    dropped_by = Some(*id);
                                    break;
                                }
                            }
                            RuleAction::Delay(d) => extra += *d,
                        }
                    }
                }
                if let Some(id) = dropped_by {
                    st.trace.push(now, format_args!("drop (rule {id})"));
                    return Ok(());
                }
            }
        }
        let id = st.next_frame;
        st.next_frame += 1;
        let item = Pending { id, deadline: now, extra, what: Carried::Frame(env) };
        self.enqueue(st, now, (src, dst), Some(item))
    }

    /// Queues `item` (or nothing, for `watch`) on the connection `pair`,
    /// making the connection if there is none.
    fn enqueue(&self, st: &mut NetState<N>, now: Duration, pair: Pair, item: Option<Pending>) -> Result<(), SendError> {
        if let std::collections::btree_map::Entry::Vacant(slot) = st.conns.entry(pair) {
            // A fresh generation: no stale event of an earlier connection
            // between these two addresses can act on this one.
            let gen = st.next_gen;
            st.next_gen += 1;
            let pending = item.into_iter().collect();
            slot.insert(Conn { gen, up: None, failures: 0, last: now, pending });
            if !st.blocked.contains_key(&pair) && st.endpoints.contains_key(&pair.1) {
                self.go_up(st, now, pair);
            } else {
                // The first attempt fails now; let the event queue say so.
                self.schedule(st, now, Event::Retry { pair, gen });
            }
            return Ok(());
        }
        let Some(mut item) = item else { return Ok(()) };
        let lat = latency(&mut st.rng, &st.cfg);
        let Some(c) = st.conns.get_mut(&pair) else { return Ok(()) };
        // One bound for frames queued while connecting and frames held by a
        // partition, as the TCP transport bounds its per-peer queue.
        if c.pending.len() >= MAX_QUEUED_MESSAGES_PER_PEER {
            st.trace.push(now, format_args!("drop (queue to {} full)", pair.1));
            return Err(SendError::QueueFull(pair.1));
        }
        if c.up.is_none() {
            c.pending.push_back(item);
            return Ok(());
        }
        item.deadline = (now + lat + item.extra).max(c.last);
        c.last = item.deadline;
        let (at, gen) = (item.deadline, c.gen);
        c.pending.push_back(item);
        self.schedule(st, at, Event::Wake { pair, gen });
        Ok(())
    }

    fn watch(&self, src: SocketAddr, dst: SocketAddr) {
        let mut st = lock(&self.state);
        let now = self.now();
        let _ = self.enqueue(&mut st, now, (src, dst), None);
    }

    /// The node at `addr` (with `incarnation`) stopped: its connections are
    /// gone, and its peers' connections to it break (they see EOF).
    fn endpoint_down(&self, addr: SocketAddr, incarnation: u64) {
        let mut st = lock(&self.state);
        let now = self.now();
        if st.endpoints.get(&addr).is_none_or(|e| e.incarnation != incarnation) {
            return;
        }
        st.endpoints.remove(&addr);
        st.trace.push(now, format_args!("node down {addr} incarnation {incarnation:016x}"));
        st.conns.retain(|(src, _), _| *src != addr);
        let inbound: Vec<Pair> =
            st.conns.iter().filter(|((_, dst), c)| *dst == addr && c.up.is_some()).map(|(p, _)| *p).collect();
        let mut dispatches = Vec::new();
        for pair in inbound {
            dispatches.extend(self.break_conn(&mut st, now, pair, "peer closed"));
        }
        drop(st);
        for d in dispatches {
            d.run();
        }
        self.progress.notify_waiters();
    }
}

fn latency(rng: &mut ChaCha8Rng, cfg: &SimConfig) -> Duration {
    let (lo, hi) = (cfg.min_latency.as_nanos() as u64, cfg.max_latency.as_nanos() as u64);
    Duration::from_nanos(rng.gen_range(lo..=hi))
}

fn frames_in(pending: &VecDeque<Pending>) -> usize {
    pending.iter().filter(|p| matches!(p.what, Carried::Frame(_))).count()
}

fn count_dropped<N: Inbound>(node: &Weak<N>, n: usize) {
    if n == 0 {
        return;
    }
    if let Some(node) = node.upgrade() {
        Metrics::add(&node.metrics().dropped_peer_unreachable, n as u64);
    }
}

/// One node's handle on the simulated network.
pub(crate) struct SimTransport<N> {
    net: Arc<SimNetwork<N>>,
    addr: SocketAddr,
    incarnation: u64,
    down: AtomicBool,
}

impl<N: Inbound> Transport for SimTransport<N> {
    fn send(
        &self,
        peer: SocketAddr,
        encode: &mut dyn FnMut(&mut BytesMut) -> Result<(), WireError>,
    ) -> Result<(), SendError> {
        if self.down.load(Ordering::Acquire) {
            return Err(SendError::Shutdown);
        }
        let mut buf = BytesMut::new();
        encode(&mut buf)?;
        let frame = buf.freeze();
        // The length prefix the TCP codec would strip, checked the same way.
        let declared = frame.get(..4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
        if declared != Some(frame.len().saturating_sub(4)) {
            return Err(WireError::MalformedFrame("length prefix does not match the frame".into()).into());
        }
        let env = WireEnvelope::decode(frame.slice(4..))?;
        self.net.send(self.addr, peer, env, frame.len() - 4)
    }

    fn watch(&self, peer: SocketAddr) {
        if !self.down.load(Ordering::Acquire) {
            self.net.watch(self.addr, peer);
        }
    }

    fn flush(&self) -> BoxFuture<'static, ()> {
        let (net, addr) = (self.net.clone(), self.addr);
        Box::pin(async move { net.flush(addr).await })
    }

    fn shutdown(&self) {
        if !self.down.swap(true, Ordering::AcqRel) {
            self.net.endpoint_down(self.addr, self.incarnation);
        }
    }
}
