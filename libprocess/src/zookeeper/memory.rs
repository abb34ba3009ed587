//! An in-memory ZooKeeper ensemble for deterministic tests.
//!
//! One [`MemZk`] is "the ensemble"; every client in the process connects to
//! it through [`Backend::connect`]. It keeps a znode tree with persistent and
//! ephemeral sequential nodes, sessions, child and data watches, and it
//! expires sessions on the given [`Clock`] (paused in tests), so a test can
//! jump over a 10 s session timeout in a millisecond.
//!
//! Session model (as a real ensemble behaves):
//! - A session is *connected* while the ensemble serves, its link is up, and
//!   its client still holds it. Losing any of these sends the client
//!   `Disconnected` (unless the client is gone).
//! - While the ensemble serves and a session is not connected (link down or
//!   client gone), the servers expire it after its timeout: its ephemeral
//!   znodes are deleted and the watches on their parents fire.
//! - A client learns of its expiry only when it can hear the servers: at
//!   once if connected (the [`MemZk::expire`] hook), else on reconnect.
//! - A client hears its session's events from the moment it asks for them
//!   ([`Session::events`]), as a real client's state watcher; none is
//!   queued before (a session used only for reads and writes, like the
//!   master's registry, would otherwise keep unread events holding work).
//! - During a whole-ensemble outage no session expires (a real ensemble that
//!   lost quorum expires nothing); when it serves again, every session that
//!   is still disconnected gets a fresh full timeout.
//!
//! Watches and session events carry held work of the clock (see
//! [`super::store`]): a test that keeps a fired watch or an event unread
//! keeps [`Clock::settle`] waiting, as it should.
//!
//! Test hooks: [`MemZk::disconnect`], [`MemZk::reconnect`],
//! [`MemZk::expire`], [`MemZk::outage`], [`MemZk::restore`], and readers of
//! the tree ([`MemZk::children`], [`MemZk::data`], [`MemZk::owner`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::FutureExt;
use tokio::sync::{mpsc, oneshot};

use super::store::{Backend, CreateMode, Held, Session, SessionEvent, Watch, ZkError, ZkFuture};
use super::url::ZkUrl;
use crate::clock::{Clock, WorkGuard};

/// The in-memory ensemble; clones share it.
#[derive(Clone)]
pub struct MemZk {
    inner: Arc<Mutex<Server>>,
    clock: Clock,
}

struct Server {
    nodes: BTreeMap<String, ZNode>,
    sessions: HashMap<u64, Sess>,
    next_session: u64,
    up: bool,
    child_watches: HashMap<String, Vec<(u64, oneshot::Sender<WorkGuard>)>>,
    data_watches: HashMap<String, Vec<(u64, oneshot::Sender<WorkGuard>)>>,
}

struct ZNode {
    data: Vec<u8>,
    owner: Option<u64>,
    /// Next sequence number for sequential children.
    next_child_seq: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Alive {
    Open,
    Expired,
    Closed,
}

struct Sess {
    timeout: Duration,
    alive: Alive,
    link_down: bool,
    abandoned: bool,
    /// Bumped whenever an expiry timer is (re)started or made stale.
    epoch: u64,
    /// The client has been told of its expiry.
    told_expired: bool,
    /// The client asked for its events ([`Session::events`]): events are
    /// delivered from then on, as a real client's state watcher does.
    /// Before, none is queued (an unread event would hold clock work and
    /// keep `settle` waiting forever, e.g. for a session used only for
    /// reads and writes).
    subscribed: bool,
    events: mpsc::UnboundedSender<(SessionEvent, Held)>,
}

impl MemZk {
    /// An empty ensemble (only `/`) that serves, timing sessions on `clock`.
    pub fn new(clock: Clock) -> MemZk {
        let mut nodes = BTreeMap::new();
        nodes.insert("/".to_string(), ZNode { data: Vec::new(), owner: None, next_child_seq: 0 });
        let server = Server {
            nodes,
            sessions: HashMap::new(),
            next_session: 1,
            up: true,
            child_watches: HashMap::new(),
            data_watches: HashMap::new(),
        };
        MemZk { inner: Arc::new(Mutex::new(server)), clock }
    }

    fn lock(&self) -> MutexGuard<'_, Server> {
        // Every update below leaves the tree consistent before it can panic.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ----- test hooks -----

    /// Cuts the link of `session`: its client sees `Disconnected` and the
    /// servers expire the session after its timeout unless it reconnects.
    pub fn disconnect(&self, session: u64) {
        let mut s = self.lock();
        let was = s.connected(session);
        if let Some(x) = s.sessions.get_mut(&session) {
            x.link_down = true;
        }
        self.went_down(&mut s, session, was);
    }

    /// Restores the link of `session`: `Connected`, or `Expired` if the
    /// servers expired it meanwhile.
    pub fn reconnect(&self, session: u64) {
        let mut s = self.lock();
        if let Some(x) = s.sessions.get_mut(&session) {
            x.link_down = false;
            x.epoch += 1;
        }
        self.came_up(&mut s, session);
    }

    /// Expires `session` now, as the servers do after its timeout.
    pub fn expire(&self, session: u64) {
        let mut s = self.lock();
        self.expire_locked(&mut s, session);
    }

    /// The whole ensemble stops serving (quorum lost): every connected
    /// client sees `Disconnected`; no session expires until [`MemZk::restore`].
    pub fn outage(&self) {
        let mut s = self.lock();
        let ids: Vec<u64> = s.sessions.keys().copied().collect();
        let was: Vec<bool> = ids.iter().map(|id| s.connected(*id)).collect();
        s.up = false;
        for (id, was) in ids.into_iter().zip(was) {
            if let Some(x) = s.sessions.get_mut(&id) {
                x.epoch += 1; // stale: no expiry while down
            }
            if was {
                self.tell(&s, id, SessionEvent::Disconnected);
            }
        }
    }

    /// The ensemble serves again: clients reconnect; sessions still not
    /// connected get a fresh expiry timer.
    pub fn restore(&self) {
        let mut s = self.lock();
        s.up = true;
        let ids: Vec<u64> = s.sessions.keys().copied().collect();
        for id in ids {
            self.came_up(&mut s, id);
        }
    }

    /// Ids of the sessions the servers consider open.
    pub fn sessions(&self) -> Vec<u64> {
        let s = self.lock();
        let mut ids: Vec<u64> = s.sessions.iter().filter(|(_, x)| x.alive == Alive::Open).map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids
    }

    /// Children names of `path`, sorted (empty if it does not exist).
    pub fn children(&self, path: &str) -> Vec<String> {
        self.lock().children_of(path)
    }

    /// Data of `path`.
    pub fn data(&self, path: &str) -> Option<Vec<u8>> {
        self.lock().nodes.get(path).map(|n| n.data.clone())
    }

    /// The session owning the ephemeral znode `path`.
    pub fn owner(&self, path: &str) -> Option<u64> {
        self.lock().nodes.get(path).and_then(|n| n.owner)
    }

    // ----- session state machinery -----

    fn tell(&self, s: &Server, id: u64, ev: SessionEvent) {
        if let Some(x) = s.sessions.get(&id) {
            if !x.abandoned && x.subscribed {
                // A dropped receiver hands the guard back, which drops it.
                let _ = x.events.send((ev, Some(self.clock.work())));
            }
        }
    }

    /// `id` may just have stopped being connected (`was` = before).
    fn went_down(&self, s: &mut Server, id: u64, was: bool) {
        if was && !s.connected(id) {
            self.tell(s, id, SessionEvent::Disconnected);
            self.arm_expiry(s, id);
        }
    }

    /// The link, the client or the ensemble may be back for `id`.
    fn came_up(&self, s: &mut Server, id: u64) {
        let Some(x) = s.sessions.get(&id) else { return };
        if !s.up || x.link_down || x.abandoned {
            self.arm_expiry(s, id);
            return;
        }
        match x.alive {
            Alive::Open => self.tell(s, id, SessionEvent::Connected),
            Alive::Expired if !x.told_expired => {
                self.tell(s, id, SessionEvent::Expired);
                if let Some(x) = s.sessions.get_mut(&id) {
                    x.told_expired = true;
                }
            }
            _ => {}
        }
    }

    /// Starts the servers' expiry timer for `id` if it should run.
    fn arm_expiry(&self, s: &mut Server, id: u64) {
        let up = s.up;
        let Some(x) = s.sessions.get_mut(&id) else { return };
        if !(up && x.alive == Alive::Open && (x.link_down || x.abandoned)) {
            return;
        }
        x.epoch += 1;
        let (epoch, timeout) = (x.epoch, x.timeout);
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        let (zk, sleep) = (self.clone(), self.clock.sleep(timeout));
        rt.spawn(async move {
            sleep.await;
            let mut s = zk.lock();
            if s.sessions.get(&id).is_some_and(|x| x.epoch == epoch) {
                tracing::debug!(session = id, "in-memory ZooKeeper: session timed out");
                zk.expire_locked(&mut s, id);
            }
        });
    }

    fn expire_locked(&self, s: &mut Server, id: u64) {
        let audible = s.connected(id);
        self.end_session(s, id, Alive::Expired);
        if audible {
            self.tell(s, id, SessionEvent::Expired);
            if let Some(x) = s.sessions.get_mut(&id) {
                x.told_expired = true;
            }
        }
    }

    /// Ends `id`: deletes its ephemerals (firing watches), drops its watches.
    fn end_session(&self, s: &mut Server, id: u64, how: Alive) {
        match s.sessions.get_mut(&id) {
            Some(x) if x.alive == Alive::Open => {
                x.alive = how;
                x.epoch += 1;
            }
            _ => return,
        }
        let owned: Vec<String> = s.nodes.iter().filter(|(_, n)| n.owner == Some(id)).map(|(p, _)| p.clone()).collect();
        for path in owned {
            self.remove_node(s, &path);
        }
        for watches in s.child_watches.values_mut().chain(s.data_watches.values_mut()) {
            watches.retain(|(owner, _)| *owner != id);
        }
    }

    fn remove_node(&self, s: &mut Server, path: &str) {
        s.nodes.remove(path);
        self.fire(&mut s.data_watches, path);
        self.fire(&mut s.child_watches, path);
        self.fire(&mut s.child_watches, parent(path));
    }

    fn fire(&self, watches: &mut HashMap<String, Vec<(u64, oneshot::Sender<WorkGuard>)>>, path: &str) {
        for (_, tx) in watches.remove(path).unwrap_or_default() {
            let _ = tx.send(self.clock.work());
        }
    }

    fn watch(&self, s: &mut Server, child: bool, id: u64, path: &str) -> Watch {
        let (tx, rx) = oneshot::channel();
        let map = if child { &mut s.child_watches } else { &mut s.data_watches };
        map.entry(path.to_string()).or_default().push((id, tx));
        // A watch dropped by its session's end completes with nothing held.
        rx.map(|r| r.ok()).boxed()
    }
}

impl Server {
    fn connected(&self, id: u64) -> bool {
        self.sessions.get(&id).is_some_and(|x| self.up && x.alive == Alive::Open && !x.link_down && !x.abandoned)
    }

    /// Whether session `id` may run an operation now.
    fn check(&self, id: u64) -> Result<(), ZkError> {
        match self.sessions.get(&id) {
            Some(x) if matches!(x.alive, Alive::Expired | Alive::Closed) => Err(ZkError::SessionExpired),
            _ if self.connected(id) => Ok(()),
            _ => Err(ZkError::ConnectionLoss),
        }
    }

    fn children_of(&self, path: &str) -> Vec<String> {
        let prefix = if path == "/" { "/".to_string() } else { format!("{path}/") };
        self.nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter(|(p, _)| !p[prefix.len()..].contains('/') && p.len() > prefix.len())
            .map(|(p, _)| p[prefix.len()..].to_string())
            .collect()
    }
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn valid_path(path: &str) -> Result<(), ZkError> {
    let ok = path.starts_with('/') && (path == "/" || !path.ends_with('/')) && !path.contains("//");
    if ok {
        Ok(())
    } else {
        Err(ZkError::Other(format!("invalid path '{path}'")))
    }
}

impl Backend for MemZk {
    fn connect(&self, _url: &ZkUrl, session_timeout: Duration) -> ZkFuture<Arc<dyn Session>> {
        let zk = self.clone();
        async move {
            let mut s = zk.lock();
            if !s.up {
                return Err(ZkError::ConnectionLoss);
            }
            let id = s.next_session;
            s.next_session += 1;
            let (tx, rx) = mpsc::unbounded_channel();
            let sess = Sess {
                timeout: session_timeout,
                alive: Alive::Open,
                link_down: false,
                abandoned: false,
                epoch: 0,
                told_expired: false,
                subscribed: false,
                events: tx,
            };
            s.sessions.insert(id, sess);
            drop(s);
            tracing::debug!(session = id, "in-memory ZooKeeper: session opened");
            let session: Arc<dyn Session> =
                Arc::new(MemSession { zk, id, timeout: session_timeout, events: Mutex::new(Some(rx)) });
            Ok(session)
        }
        .boxed()
    }
}

/// A client's handle on an in-memory session.
struct MemSession {
    zk: MemZk,
    id: u64,
    timeout: Duration,
    events: Mutex<Option<mpsc::UnboundedReceiver<(SessionEvent, Held)>>>,
}

impl MemSession {
    /// Runs `f` on the server now, as one operation of this session.
    fn op<T: Send + 'static>(&self, f: impl FnOnce(&MemZk, &mut Server, u64) -> Result<T, ZkError>) -> ZkFuture<T> {
        let mut s = self.zk.lock();
        let out = s.check(self.id).and_then(|()| f(&self.zk, &mut s, self.id));
        futures::future::ready(out).boxed()
    }
}

impl Session for MemSession {
    fn id(&self) -> u64 {
        self.id
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn create(&self, path: &str, data: &[u8], mode: CreateMode) -> ZkFuture<String> {
        let (path, data) = (path.to_string(), data.to_vec());
        self.op(move |zk, s, id| {
            valid_path(&path)?;
            let parent_path = parent(&path).to_string();
            let parent_node = s.nodes.get_mut(&parent_path).ok_or(ZkError::NoNode)?;
            if parent_node.owner.is_some() {
                return Err(ZkError::Other("ephemeral znodes cannot have children".into()));
            }
            let (name, owner) = match mode {
                CreateMode::Persistent => (path.clone(), None),
                CreateMode::EphemeralSequential => {
                    let seq = parent_node.next_child_seq;
                    parent_node.next_child_seq += 1;
                    (format!("{path}{seq:010}"), Some(id))
                }
            };
            if s.nodes.contains_key(&name) {
                return Err(ZkError::NodeExists);
            }
            s.nodes.insert(name.clone(), ZNode { data, owner, next_child_seq: 0 });
            zk.fire(&mut s.child_watches, &parent_path);
            Ok(name)
        })
    }

    fn ensure_path(&self, path: &str) -> ZkFuture<()> {
        let path = path.to_string();
        self.op(move |zk, s, _| {
            valid_path(&path)?;
            let mut at = String::new();
            for seg in path.split('/').filter(|x| !x.is_empty()) {
                let parent_path = if at.is_empty() { "/".to_string() } else { at.clone() };
                at = format!("{at}/{seg}");
                if !s.nodes.contains_key(&at) {
                    if s.nodes.get(&parent_path).is_some_and(|n| n.owner.is_some()) {
                        return Err(ZkError::Other("ephemeral znodes cannot have children".into()));
                    }
                    s.nodes.insert(at.clone(), ZNode { data: Vec::new(), owner: None, next_child_seq: 0 });
                    zk.fire(&mut s.child_watches, &parent_path);
                }
            }
            Ok(())
        })
    }

    fn get_data(&self, path: &str) -> ZkFuture<Option<Vec<u8>>> {
        let path = path.to_string();
        self.op(move |_, s, _| Ok(s.nodes.get(&path).map(|n| n.data.clone())))
    }

    fn get_data_watch(&self, path: &str) -> ZkFuture<(Vec<u8>, Watch)> {
        let path = path.to_string();
        self.op(move |zk, s, id| {
            let data = s.nodes.get(&path).ok_or(ZkError::NoNode)?.data.clone();
            Ok((data, zk.watch(s, false, id, &path)))
        })
    }

    fn get_children_watch(&self, path: &str) -> ZkFuture<(Vec<String>, Watch)> {
        let path = path.to_string();
        self.op(move |zk, s, id| {
            if !s.nodes.contains_key(&path) {
                return Err(ZkError::NoNode);
            }
            Ok((s.children_of(&path), zk.watch(s, true, id, &path)))
        })
    }

    fn delete(&self, path: &str) -> ZkFuture<()> {
        let path = path.to_string();
        self.op(move |zk, s, _| {
            if path == "/" {
                return Err(ZkError::Other("cannot delete /".into()));
            }
            if !s.nodes.contains_key(&path) {
                return Err(ZkError::NoNode);
            }
            if !s.children_of(&path).is_empty() {
                return Err(ZkError::Other(format!("znode '{path}' has children")));
            }
            zk.remove_node(s, &path);
            Ok(())
        })
    }

    fn events(&self) -> futures::stream::BoxStream<'static, (SessionEvent, Held)> {
        let rx = self.events.lock().unwrap_or_else(|e| e.into_inner()).take();
        if rx.is_some() {
            if let Some(x) = self.zk.lock().sessions.get_mut(&self.id) {
                x.subscribed = true;
            }
        }
        match rx {
            Some(mut rx) => Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx))),
            None => Box::pin(futures::stream::empty()),
        }
    }
}

impl Drop for MemSession {
    /// The client closes its session if it can reach the servers; if not,
    /// the servers expire the session after its timeout.
    fn drop(&mut self) {
        let mut s = self.zk.lock();
        let was = s.connected(self.id);
        if was {
            self.zk.end_session(&mut s, self.id, Alive::Closed);
            return;
        }
        // Already disconnected: its expiry timer runs (or will, once the
        // ensemble serves again).
        if let Some(x) = s.sessions.get_mut(&self.id) {
            x.abandoned = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
    }

    fn url() -> ZkUrl {
        "zk://127.0.0.1:2181/g".parse().unwrap()
    }

    const T: Duration = Duration::from_secs(10);

    #[test]
    fn sequential_names_and_watches() {
        rt().block_on(async {
            let clock = Clock::paused();
            let zk = MemZk::new(clock.clone());
            let s = zk.connect(&url(), T).await.unwrap();
            s.ensure_path("/g/sub").await.unwrap();
            let (kids, watch) = s.get_children_watch("/g").await.unwrap();
            assert_eq!(kids, vec!["sub"]);
            let a = s.create("/g/m_", b"a", CreateMode::EphemeralSequential).await.unwrap();
            let b = s.create("/g/m_", b"b", CreateMode::EphemeralSequential).await.unwrap();
            assert_eq!((a.as_str(), b.as_str()), ("/g/m_0000000000", "/g/m_0000000001"));
            assert!(watch.await.is_some(), "child watch fired with held work");
            let (data, dwatch) = s.get_data_watch(&b).await.unwrap();
            assert_eq!(data, b"b");
            s.delete(&b).await.unwrap();
            assert!(dwatch.await.is_some(), "data watch fired on delete");
            assert_eq!(s.get_data(&b).await.unwrap(), None);
            assert_eq!(s.create("/g/m_0000000000", b"", CreateMode::Persistent).await, Err(ZkError::NodeExists));
            assert_eq!(s.create("/x/y", b"", CreateMode::Persistent).await, Err(ZkError::NoNode));
            assert!(s.create(&format!("{a}/c"), b"", CreateMode::Persistent).await.is_err());
            assert!(s.delete("/g").await.is_err(), "not empty");
        });
    }

    #[test]
    fn disconnected_session_expires_after_its_timeout_and_learns_on_reconnect() {
        rt().block_on(async {
            let clock = Clock::paused();
            let zk = MemZk::new(clock.clone());
            let s = zk.connect(&url(), T).await.unwrap();
            let mut events = s.events();
            let other = zk.connect(&url(), T).await.unwrap();
            s.ensure_path("/g").await.unwrap();
            let m = s.create("/g/m_", b"", CreateMode::EphemeralSequential).await.unwrap();
            let (_, watch) = other.get_children_watch("/g").await.unwrap();
            // Handle the watch as it fires: held work unhandled stalls settle.
            let fired = tokio::spawn(async move { watch.await.is_some() });
            zk.disconnect(s.id());
            assert_eq!(events.next().await.map(|e| e.0), Some(SessionEvent::Disconnected));
            assert_eq!(s.get_data(&m).await, Err(ZkError::ConnectionLoss));
            clock.advance(T - Duration::from_millis(1)).await;
            assert_eq!(zk.owner(&m), Some(s.id()));
            clock.advance(Duration::from_millis(1)).await;
            assert_eq!(zk.owner(&m), None, "the ephemeral died with the session");
            assert!(fired.await.unwrap(), "the watch on the parent fired");
            zk.reconnect(s.id());
            assert_eq!(events.next().await.map(|e| e.0), Some(SessionEvent::Expired));
            assert_eq!(s.get_data(&m).await, Err(ZkError::SessionExpired));
        });
    }

    #[test]
    fn outage_expires_nothing_until_the_ensemble_serves_again() {
        rt().block_on(async {
            let clock = Clock::paused();
            let zk = MemZk::new(clock.clone());
            let kept = zk.connect(&url(), T).await.unwrap();
            let mut events = kept.events();
            let gone = zk.connect(&url(), T).await.unwrap();
            gone.ensure_path("/g").await.unwrap();
            let m = gone.create("/g/m_", b"", CreateMode::EphemeralSequential).await.unwrap();
            zk.outage();
            assert_eq!(events.next().await.map(|e| e.0), Some(SessionEvent::Disconnected));
            assert!(zk.connect(&url(), T).await.is_err());
            drop(gone); // its process dies during the outage
            clock.advance(T * 3).await;
            assert_eq!(zk.sessions().len(), 2, "no expiry without a quorum");
            zk.restore();
            assert_eq!(events.next().await.map(|e| e.0), Some(SessionEvent::Connected));
            clock.advance(T).await;
            assert_eq!(zk.owner(&m), None, "the dead client's session expired a timeout after recovery");
            assert_eq!(zk.sessions(), vec![kept.id()]);
        });
    }

    #[test]
    fn a_session_whose_events_are_never_read_does_not_hold_the_clock() {
        rt().block_on(async {
            let clock = Clock::paused();
            let zk = MemZk::new(clock.clone());
            let quiet = zk.connect(&url(), T).await.unwrap(); // reads and writes only
            let watched = zk.connect(&url(), T).await.unwrap();
            let mut events = watched.events();
            zk.outage();
            assert_eq!(events.next().await.map(|e| e.0), Some(SessionEvent::Disconnected));
            // Only the subscribed session was told: nothing unread holds work.
            let settled = tokio::time::timeout(Duration::from_secs(5), clock.settle()).await;
            assert!(settled.is_ok(), "an unread event of an unsubscribed session held the clock");
            zk.restore();
            assert_eq!(events.next().await.map(|e| e.0), Some(SessionEvent::Connected));
            // Events are delivered from the subscription on.
            let mut later = quiet.events();
            zk.disconnect(quiet.id());
            assert_eq!(later.next().await.map(|e| e.0), Some(SessionEvent::Disconnected));
        });
    }

    #[test]
    fn dropping_a_connected_session_closes_it_at_once() {
        rt().block_on(async {
            let zk = MemZk::new(Clock::paused());
            let s = zk.connect(&url(), T).await.unwrap();
            s.ensure_path("/g").await.unwrap();
            let m = s.create("/g/m_", b"", CreateMode::EphemeralSequential).await.unwrap();
            drop(s);
            assert_eq!(zk.data(&m), None);
            assert!(zk.sessions().is_empty());
        });
    }
}
