//! A node: one address, its registry of processes, its clock and its
//! transport. It routes every message: to a local process without encoding,
//! or encoded into a frame for the transport; and it keeps the links.
//!
//! Links. `link(linker, target)` makes the linker's `exited(target)` run once,
//! when the first of these happens:
//! - the target stops (local: at once; remote: its node sends an
//!   `ExitedMessage` back over the wire);
//! - the target does not exist when the link is made (same paths);
//! - the target's node becomes unreachable: the connection to it is lost and
//!   not re-established within `MAX_RECONNECT_ATTEMPTS` (or never made);
//! - the target's node restarted: a handshake shows a new incarnation.
//!
//! How this compares with libprocess: libprocess's links are socket-based, so
//! a remote link only notices the socket to the peer closing (node death or a
//! network error, reported at once with no reconnect); a remote process that
//! exits while its node lives is never reported. rmesos also reports remote
//! process exit (the peer node keeps its linkers and tells them), rides out a
//! transient disconnect with a bounded reconnect before declaring the peer
//! gone, and detects a restarted peer by its incarnation even if no socket
//! error was ever seen. Like libprocess, a silent network partition (no
//! socket error) is not detected by links; protocols that need it (the
//! master's pings) time out on their own.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use bytes::BytesMut;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::fasthash::FastMap;
use crate::hook::Hook;
use crate::http::{Request, Response, Routes};
use crate::mailbox::{Mailbox, Undeliverable};
use crate::message::DecodeError;
use crate::message::{Body, Message};
use crate::metrics::{Counted, Metrics};
use crate::pid::{PidError, Upid};
use crate::sync::{lock, read, write};
use crate::tls::{Tls, TlsError};
use crate::transport::{tcp::TcpTransport, Transport};
use crate::wire::encode_frame_cached;

mod inbound;

/// Control message: the sender links to the receiver.
#[derive(Serialize, Deserialize)]
pub(crate) struct LinkMessage {}
crate::message!(LinkMessage, "libprocess.LinkMessage");
/// Control message: the sender unlinks from the receiver.
#[derive(Serialize, Deserialize)]
pub(crate) struct UnlinkMessage {}
crate::message!(UnlinkMessage, "libprocess.UnlinkMessage");
/// Control message: the sender (a process linked to) has stopped.
#[derive(Serialize, Deserialize)]
pub(crate) struct ExitedMessage {}
crate::message!(ExitedMessage, "libprocess.ExitedMessage");

/// Why a process could not be spawned.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error(transparent)]
    BadId(#[from] PidError),
    #[error("a process with id '{0}' already runs on this node")]
    IdTaken(String),
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot bind {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// A handle on a node; clones share it.
#[derive(Clone)]
pub struct Node {
    pub(crate) inner: Arc<NodeInner>,
}

pub(crate) struct Entry {
    mailbox: Box<dyn Mailbox>,
    /// Processes (local or remote) to tell when this one stops.
    linkers: Mutex<HashSet<Upid>>,
    /// Targets this process linked to (to clean up when it stops).
    links_out: Mutex<HashSet<Upid>>,
    kill: Mutex<Option<oneshot::Sender<()>>>,
}

/// Links from local processes to processes of one peer node.
#[derive(Default)]
struct PeerLinks {
    /// The incarnation these links were made against (None: not yet known).
    incarnation: Option<u64>,
    /// target -> local linkers
    targets: HashMap<Upid, HashSet<Upid>>,
}

pub(crate) struct NodeInner {
    address: SocketAddr,
    incarnation: u64,
    clock: Clock,
    metrics: Metrics,
    registry: RwLock<FastMap<Arc<str>, Arc<Entry>>>,
    remote_links: Mutex<HashMap<SocketAddr, PeerLinks>>,
    transport: Arc<dyn Transport>,
    default_http: RwLock<Option<String>>,
    stopped: AtomicBool,
    /// Checked on every delivery; empty unless a test installs its
    /// message filters (`testkit::filter`).
    pub(crate) hook: Arc<Hook>,
}

impl Node {
    /// Binds a TCP listener as `config` says and serves messages and HTTP on
    /// it, with a real clock. Must run inside an actix system.
    pub async fn bind(config: Config) -> Result<Node, NodeError> {
        Node::bind_with_clock(config, Clock::real()).await
    }

    /// As [`Node::bind`] with the given clock.
    pub async fn bind_with_clock(config: Config, clock: Clock) -> Result<Node, NodeError> {
        config.validate()?;
        let tls = Tls::load(&config.ssl)?;
        let want = SocketAddr::new(config.ip, config.port);
        let listener = tokio::net::TcpListener::bind(want).await.map_err(|e| NodeError::Bind(want, e))?;
        let bound = listener.local_addr().map_err(|e| NodeError::Bind(want, e))?;
        let address = config.advertised(bound);
        let incarnation = rand::random::<u64>();
        let security = match &tls {
            None => "plaintext",
            Some(t) if t.support_downgrade() => "TLS, plaintext accepted (downgrade)",
            Some(_) => "TLS only",
        };
        let transport = TcpTransport::<NodeInner>::new(address, incarnation, clock.clone(), tls);
        let node = Node::with_transport(address, incarnation, clock, transport.clone());
        transport.start(listener, node.inbound());
        tracing::info!(%address, incarnation, "libprocess node listening on {bound} ({security})");
        Ok(node)
    }

    /// A node on any transport (the simulated one uses this).
    pub fn with_transport(address: SocketAddr, incarnation: u64, clock: Clock, transport: Arc<dyn Transport>) -> Node {
        Node {
            inner: Arc::new(NodeInner {
                address,
                incarnation,
                clock,
                metrics: Metrics::default(),
                registry: RwLock::new(FastMap::default()),
                remote_links: Mutex::new(HashMap::new()),
                transport,
                default_http: RwLock::new(None),
                stopped: AtomicBool::new(false),
                hook: Arc::default(),
            }),
        }
    }

    pub(crate) fn downgrade(&self) -> WeakNode {
        WeakNode(Arc::downgrade(&self.inner))
    }

    /// What a transport reports to (held weakly: the node owns its transport).
    pub(crate) fn inbound(&self) -> Weak<NodeInner> {
        Arc::downgrade(&self.inner)
    }

    /// The address in this node's Upids (the advertised one).
    pub fn address(&self) -> SocketAddr {
        self.inner.address
    }

    /// Random id of this node start, sent in every handshake.
    pub fn incarnation(&self) -> u64 {
        self.inner.incarnation
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The Upid a process with `id` has (or would have) on this node.
    pub fn pid(&self, id: &str) -> Result<Upid, PidError> {
        Upid::new(id, self.inner.address)
    }

    /// Ids of the processes running on this node, sorted.
    pub fn processes(&self) -> Vec<String> {
        let mut v: Vec<String> = read(&self.inner.registry).keys().map(|k| k.to_string()).collect();
        v.sort();
        v
    }

    /// Registers the mailbox of a new process under `pid` and runs its
    /// actor (`run`) on the current arbiter until it ends or is terminated;
    /// then its links are cleaned up and its linkers told. Err if the id is
    /// taken (then `run` is dropped, never polled). `Node::spawn` (in
    /// `process`) builds both.
    pub(crate) fn register(
        &self,
        pid: &Upid,
        mailbox: Box<dyn Mailbox>,
        run: impl Future<Output = ()> + 'static,
    ) -> Result<(), SpawnError> {
        let (kill_tx, kill_rx) = oneshot::channel();
        let entry = Arc::new(Entry {
            mailbox,
            linkers: Mutex::default(),
            links_out: Mutex::default(),
            kill: Mutex::new(Some(kill_tx)),
        });
        {
            let mut reg = write(&self.inner.registry);
            if reg.contains_key(pid.id()) {
                return Err(SpawnError::IdTaken(pid.id().to_string()));
            }
            reg.insert(pid.id_arc().clone(), entry);
            REGISTRY_GENERATION.fetch_add(1, Ordering::Release);
        }
        let weak = self.downgrade();
        let exited = pid.clone();
        actix_rt::spawn(async move {
            // biased: no random branch order, so a simulation replays exactly.
            tokio::select! {
                biased;
                _ = kill_rx => {}
                _ = run => {}
            }
            if let Some(node) = weak.upgrade() {
                node.process_exited(&exited);
            }
        });
        Ok(())
    }

    /// True if a process with `id` runs on this node.
    pub(crate) fn runs(&self, id: &str) -> bool {
        read(&self.inner.registry).contains_key(id)
    }

    /// Stops a local process at once (its actor is dropped without running
    /// `stopping`; linkers get `Exited`). Returns false if there is none.
    pub fn terminate(&self, pid: &Upid) -> bool {
        if pid.addr() != self.inner.address {
            return false;
        }
        let entry = read(&self.inner.registry).get(pid.id()).cloned();
        match entry.and_then(|e| lock(&e.kill).take()) {
            Some(kill) => kill.send(()).is_ok(),
            None => false,
        }
    }

    /// Stops every process and the transport. The node's address is free
    /// once the runtime has run the listener's task to its end.
    pub fn shutdown(&self) {
        if self.inner.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        // In id order, so that a simulated run replays the same (HashMap order
        // is random per process).
        let mut entries: Vec<(Arc<str>, Arc<Entry>)> =
            read(&self.inner.registry).iter().map(|(k, e)| (k.clone(), e.clone())).collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, e) in entries {
            if let Some(kill) = lock(&e.kill).take() {
                let _ = kill.send(());
            }
        }
        self.inner.transport.shutdown();
        tracing::info!(address = %self.inner.address, "libprocess node shut down");
    }

    /// Resolves once every message sent to another node so far has left
    /// this one: written to the peer's socket (TCP; delivered, for the
    /// simulated transport) or dropped (peer unreachable, node shut down).
    /// A program that exits right after its last sends awaits this first;
    /// bound it with [`Clock::timeout`] (an unreachable peer is given up on
    /// only after the reconnect attempts).
    pub async fn flush(&self) {
        self.inner.transport.flush().await
    }

    /// Names the process whose routes also answer at `/<path>` (Mesos serves
    /// the master's `/master/state` at `/state` this way).
    pub fn set_default_http(&self, id: &str) {
        *write(&self.inner.default_http) = Some(id.to_string());
    }

    /// Answers an HTTP request for `path` in-process, as a connection to
    /// this node would (routes, default process, body limit; a streaming
    /// response comes back with its stream). No socket: deterministic tests
    /// call routes this way on the simulated network and paused clock.
    pub async fn http(&self, path: &str, req: Request) -> Response {
        crate::http::call(&*self.inner, path, req).await
    }

    /// Sends `msg` from `from` (normally a process of this node) to `to`.
    #[inline]
    pub fn send<M: Message>(&self, from: &Upid, to: &Upid, msg: M) {
        self.inner.send(from, to, msg)
    }

    /// Links `linker` (a local process) to `target`; see the module docs.
    pub fn link(&self, linker: &Upid, target: &Upid) {
        let inner = &self.inner;
        if let Some(e) = inner.entry(linker.id()) {
            lock(&e.links_out).insert(target.clone());
        }
        if target.addr() == inner.address {
            match inner.entry(target.id()) {
                Some(e) => {
                    lock(&e.linkers).insert(linker.clone());
                }
                None => inner.deliver_exited(linker, target.clone()),
            }
            return;
        }
        lock(&inner.remote_links)
            .entry(target.addr())
            .or_default()
            .targets
            .entry(target.clone())
            .or_default()
            .insert(linker.clone());
        inner.transport.watch(target.addr());
        self.send(linker, target, LinkMessage {});
    }

    /// Removes a link made by `link`.
    pub fn unlink(&self, linker: &Upid, target: &Upid) {
        let inner = &self.inner;
        if let Some(e) = inner.entry(linker.id()) {
            lock(&e.links_out).remove(target);
        }
        if target.addr() == inner.address {
            if let Some(e) = inner.entry(target.id()) {
                lock(&e.linkers).remove(linker);
            }
            return;
        }
        let mut links = lock(&inner.remote_links);
        if let Some(peer) = links.get_mut(&target.addr()) {
            if let Some(set) = peer.targets.get_mut(target) {
                set.remove(linker);
                if set.is_empty() {
                    peer.targets.remove(target);
                }
            }
        }
        drop(links);
        self.send(linker, target, UnlinkMessage {});
    }

    fn process_exited(&self, pid: &Upid) {
        let inner = &self.inner;
        let Some(entry) = write(&inner.registry).remove(pid.id()) else { return };
        REGISTRY_GENERATION.fetch_add(1, Ordering::Release);
        tracing::debug!(%pid, "process exited");
        for target in lock(&entry.links_out).drain() {
            if target.addr() == inner.address {
                if let Some(e) = inner.entry(target.id()) {
                    lock(&e.linkers).remove(pid);
                }
            } else if let Some(peer) = lock(&inner.remote_links).get_mut(&target.addr()) {
                if let Some(set) = peer.targets.get_mut(&target) {
                    set.remove(pid);
                }
            }
        }
        let mut linkers: Vec<Upid> = lock(&entry.linkers).drain().collect();
        linkers.sort(); // deterministic order (see `shutdown`)
        for linker in linkers {
            if linker.addr() == inner.address {
                inner.deliver_exited(&linker, pid.clone());
            } else {
                self.send(pid, &linker, ExitedMessage {});
            }
        }
    }
}

impl NodeInner {
    fn entry(&self, id: &str) -> Option<Arc<Entry>> {
        read(&self.registry).get(id).cloned()
    }

    /// `Node::send`.
    #[inline]
    fn send<M: Message>(&self, from: &Upid, to: &Upid, msg: M) {
        if to.addr() == self.address {
            Metrics::inc(&self.metrics.messages_sent_local);
            self.deliver(from, to.id(), M::NAME, Body::Local(&mut Some(msg)));
        } else {
            let mut encode = |buf: &mut BytesMut| encode_frame_cached(buf, from.id_arc(), to.id_arc(), &msg);
            match self.transport.send(to.addr(), &mut encode) {
                Ok(()) => Metrics::inc(&self.metrics.messages_sent_remote),
                Err(e) => tracing::debug!(%from, %to, name = M::NAME, error = %e, "message dropped"),
            }
        }
    }

    /// Hands a message to a local process, or drops it with a log line and
    /// a counter.
    fn deliver(&self, from: &Upid, to_id: &str, name: &str, body: Body) {
        let generation = REGISTRY_GENERATION.load(Ordering::Acquire);
        let node = self as *const NodeInner as usize;
        LAST_LOCAL_TARGET.with(|slot| {
            let Ok(mut slot) = slot.try_borrow_mut() else {
                // Re-entered (a decoder that sends): the plain path.
                return self.deliver_to(self.entry(to_id).as_deref(), from, to_id, name, body);
            };
            let hit = matches!(&*slot, Some((n, g, k, _)) if *n == node && *g == generation && &**k == to_id);
            let entry = match slot.as_ref().filter(|_| hit).and_then(|(.., e)| e.upgrade()) {
                Some(e) => Some(e),
                None => {
                    let found = read(&self.registry).get_key_value(to_id).map(|(k, e)| (k.clone(), e.clone()));
                    *slot = found.as_ref().map(|(k, e)| (node, generation, k.clone(), Arc::downgrade(e)));
                    found.map(|(_, e)| e)
                }
            };
            drop(slot);
            self.deliver_to(entry.as_deref(), from, to_id, name, body)
        })
    }

    /// As `deliver`, the receiver already looked up.
    fn deliver_to(&self, entry: Option<&Entry>, from: &Upid, to_id: &str, name: &str, body: Body) {
        let body = if self.hook.is_active() {
            match self.hook.check(from, to_id, self.address, name, body) {
                Some(body) => body,
                None => return,
            }
        } else {
            body
        };
        let Some(entry) = entry else {
            Metrics::inc(&self.metrics.dropped_unknown_process);
            tracing::debug!(%from, to = to_id, name, "dropped message for unknown process");
            return;
        };
        match entry.mailbox.message(from, name, body, self.clock.work()) {
            Ok(()) => {}
            Err(Undeliverable::UnknownName) => {
                Metrics::inc(&self.metrics.dropped_unknown_message);
                tracing::debug!(%from, to = to_id, name, "dropped message with no handler");
            }
            Err(Undeliverable::Malformed(e)) => {
                Metrics::inc(&self.metrics.dropped_malformed_body);
                tracing::warn!(%from, to = to_id, name, error = %e, "dropped malformed message");
            }
            Err(e) => {
                Metrics::inc(&self.metrics.dropped_unknown_process);
                tracing::debug!(%from, to = to_id, name, error = %e, "dropped message");
            }
        }
    }

    fn deliver_exited(&self, linker: &Upid, target: Upid) {
        if let Some(e) = self.entry(linker.id()) {
            lock(&e.links_out).remove(&target);
            if e.mailbox.exited(target, self.clock.work()).is_ok() {
                Metrics::inc(&self.metrics.exited_delivered);
            }
        }
    }

    /// The process serving an HTTP path: `/<id>/<route>`, else the default
    /// process's `/<route>`. None if nothing answers that path.
    fn http_target(&self, path: &str) -> Option<(Arc<Entry>, String)> {
        let path = path.trim_start_matches('/');
        if let Some((id, route)) = path.split_once('/') {
            if let Some(e) = self.entry(id).filter(|e| e.mailbox.has_route(route.trim_end_matches('/'))) {
                return Some((e, route.trim_end_matches('/').to_string()));
            }
        }
        let default = read(&self.default_http).clone()?;
        let route = path.trim_end_matches('/');
        self.entry(&default).filter(|e| e.mailbox.has_route(route)).map(|e| (e, route.to_string()))
    }
}

impl Counted for NodeInner {
    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

impl Routes for NodeInner {
    /// The process, and the node's clock (its request holds a work guard).
    type Target = (Arc<Entry>, Clock);

    fn find(&self, path: &str) -> Option<(Self::Target, String)> {
        self.http_target(path).map(|(e, route)| ((e, self.clock.clone()), route))
    }

    fn call((entry, clock): Self::Target, req: Request, reply: oneshot::Sender<Response>) -> bool {
        let route = req.route.clone();
        entry.mailbox.http(&route, req, reply, clock.work()).is_ok()
    }
}

/// Bumped on every change to any node's registry (spawn, exit): a cached
/// lookup (`FrameCache`, `LAST_LOCAL_TARGET`) is valid while it is unchanged.
/// One counter for all nodes, so that a cache cannot mistake a new node at a
/// reused address in memory for the one it was filled from.
static REGISTRY_GENERATION: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The receiver of this thread's last local send: (node, registry
    /// generation, id, entry). Actors mostly send to the same few peers in a
    /// row; a hit skips the registry's lock and hash. Weak: a cache must not
    /// keep a stopped process's mailbox (and its actor) alive.
    static LAST_LOCAL_TARGET: std::cell::RefCell<Option<LocalTarget>> = const { std::cell::RefCell::new(None) };
}

/// (node, registry generation, id, entry)
type LocalTarget = (usize, u64, Arc<str>, Weak<Entry>);

/// A process's handle on its node, held weakly (by the task that runs the
/// process, which must not keep its node alive).
#[derive(Clone)]
pub(crate) struct WeakNode(Weak<NodeInner>);

impl WeakNode {
    pub(crate) fn upgrade(&self) -> Option<Node> {
        self.0.upgrade().map(|inner| Node { inner })
    }

    /// A remote message's body did not decode (found on the actor, which
    /// decodes it): dropped, logged and counted.
    pub(crate) fn malformed(&self, from: &Upid, to: &Upid, name: &str, e: &DecodeError) {
        if let Some(inner) = self.0.upgrade() {
            Metrics::inc(&inner.metrics.dropped_malformed_body);
        }
        tracing::warn!(%from, %to, name, error = %e, "dropped malformed message");
    }
}
