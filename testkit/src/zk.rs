//! Each simulated node's view of the in-memory ZooKeeper ([`MemZk`]): the
//! sessions it opened, so a fault can act on them as on a real machine's
//! (used by [`SimCluster`](crate::SimCluster) and the chaos run).
//!
//! The simulated network carries libprocess frames only; ZooKeeper traffic
//! goes straight to the in-memory ensemble. A node that crashes or is cut
//! off must therefore lose its ZooKeeper links too: [`NodeZk`] wraps the
//! ensemble as the [`Backend`] given to that node's masters, detectors and
//! driver, records every session they open, and lets a test cut
//! those links (a partition or a crash: the servers expire the sessions
//! after their timeout unless the links come back), restore them, or have
//! the servers expire one at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use libprocess::zookeeper::store::ZkFuture;
use libprocess::zookeeper::{Backend, MemZk, Session, ZkError, ZkUrl};

/// The ensemble as one node reaches it.
#[derive(Clone)]
pub struct NodeZk {
    zk: MemZk,
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Sessions opened from this node, oldest first.
    sessions: Mutex<Vec<u64>>,
    /// The node's links to ZooKeeper are cut: new sessions fail to connect.
    cut: AtomicBool,
    /// Sessions whose links the cut took down.
    held: Mutex<Vec<u64>>,
}

impl NodeZk {
    pub fn new(zk: &MemZk) -> NodeZk {
        NodeZk { zk: zk.clone(), inner: Arc::default() }
    }

    fn sessions(&self) -> Vec<u64> {
        self.inner.sessions.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sessions of this node the servers still hold open.
    pub fn open_sessions(&self) -> Vec<u64> {
        let open = self.zk.sessions();
        self.sessions().into_iter().filter(|s| open.contains(s)).collect()
    }

    /// Cuts the node's links: its clients see `Disconnected`, the servers
    /// expire the sessions after their timeout, new sessions cannot connect.
    pub fn cut(&self) {
        self.inner.cut.store(true, Ordering::SeqCst);
        let open = self.open_sessions();
        for s in &open {
            self.zk.disconnect(*s);
        }
        self.inner.held.lock().unwrap_or_else(|e| e.into_inner()).extend(open);
    }

    /// Restores the links: sessions still open reconnect; those the
    /// servers expired meanwhile are told so.
    pub fn restore(&self) {
        self.inner.cut.store(false, Ordering::SeqCst);
        let held = std::mem::take(&mut *self.inner.held.lock().unwrap_or_else(|e| e.into_inner()));
        for s in held {
            self.zk.reconnect(s);
        }
    }

    /// The servers expire one of the node's open sessions now (drawn by
    /// `pick` among them); returns it, or None if it has none.
    pub fn expire_one(&self, pick: u64) -> Option<u64> {
        let open = self.open_sessions();
        let s = *open.get((pick % open.len().max(1) as u64) as usize)?;
        self.zk.expire(s);
        Some(s)
    }

    /// The servers expire every open session of the node now; returns them.
    pub fn expire_all(&self) -> Vec<u64> {
        let open = self.open_sessions();
        for s in &open {
            self.zk.expire(*s);
        }
        open
    }

    /// The node's process crashes: its sessions' links go silent (the
    /// servers expire them after their timeout) and are never restored; a
    /// partition in force stays in force for the next process.
    pub fn crash(&self) {
        for s in self.open_sessions() {
            self.zk.disconnect(s);
        }
        self.inner.sessions.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.inner.held.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl Backend for NodeZk {
    fn connect(&self, url: &ZkUrl, session_timeout: Duration) -> ZkFuture<Arc<dyn Session>> {
        if self.inner.cut.load(Ordering::SeqCst) {
            return futures::future::ready(Err(ZkError::ConnectionLoss)).boxed();
        }
        let inner = self.inner.clone();
        self.zk
            .connect(url, session_timeout)
            .map(move |res| {
                if let Ok(s) = &res {
                    inner.sessions.lock().unwrap_or_else(|e| e.into_inner()).push(s.id());
                }
                res
            })
            .boxed()
    }
}
