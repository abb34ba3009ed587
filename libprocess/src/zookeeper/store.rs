//! The ZooKeeper operations the election layer needs, as one trait with two
//! backends: the real client ([`super::real::RealZk`]) and the in-memory
//! ensemble ([`super::memory::MemZk`]) that runs on a paused clock.
//!
//! Trait objects rather than a generic parameter: a master picks its backend
//! at run time (a `zk://` flag, or the simulation), and the group actor then
//! has one concrete type. Futures are boxed and `'static` so an actor can
//! spawn them on its context.
//!
//! Work accounting. Watches and session events of the in-memory backend carry
//! a [`WorkGuard`] of its paused clock; the receiver drops it once it has
//! handled the event, so [`crate::Clock::settle`] waits for the whole chain of
//! reactions. The real backend hands out `None`.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::BoxStream;

use super::url::ZkUrl;
use crate::clock::WorkGuard;

/// An error of one ZooKeeper operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZkError {
    /// No connection to a serving ZooKeeper (may succeed later).
    #[error("connection to ZooKeeper lost")]
    ConnectionLoss,
    /// The session expired or was closed; a new session is needed.
    #[error("ZooKeeper session expired")]
    SessionExpired,
    #[error("no such znode")]
    NoNode,
    #[error("znode already exists")]
    NodeExists,
    #[error("not authorized")]
    NoAuth,
    #[error("ZooKeeper error: {0}")]
    Other(String),
}

impl ZkError {
    /// Whether the same operation may succeed if tried again on the same
    /// session (Mesos retries these every `RETRY_INTERVAL`).
    pub fn is_retryable(&self) -> bool {
        matches!(self, ZkError::ConnectionLoss)
    }
}

/// What a session's connection did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// (Re)connected to a serving ZooKeeper; the session is alive.
    Connected,
    /// The connection is lost; the client is trying to reconnect and the
    /// session may or may not still be alive on the servers.
    Disconnected,
    /// The servers expired the session (terminal): its ephemeral znodes are
    /// gone and its watches will not fire again.
    Expired,
}

/// Held work of the in-memory backend's clock (None on the real backend);
/// drop it after handling what it came with.
pub type Held = Option<WorkGuard>;

/// A boxed ZooKeeper operation.
pub type ZkFuture<T> = BoxFuture<'static, Result<T, ZkError>>;

/// A one-shot watch: completes once when what it watches changes, or when
/// the session ends.
pub type Watch = BoxFuture<'static, Held>;

/// Makes sessions.
pub trait Backend: Send + Sync + 'static {
    /// Opens a new session to the ensemble of `url` (its servers and
    /// credentials; the path is the caller's business). Fails with
    /// [`ZkError::ConnectionLoss`] when no server serves in time.
    fn connect(&self, url: &ZkUrl, session_timeout: Duration) -> ZkFuture<Arc<dyn Session>>;
}

/// How a znode is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateMode {
    Persistent,
    /// Deleted when the creating session ends; the server appends a
    /// monotonically increasing 10-digit sequence number to the name.
    EphemeralSequential,
}

/// One ZooKeeper session. Dropping the last handle closes it: at once if the
/// servers can be told (its ephemeral znodes vanish and watchers hear of it
/// within milliseconds), else the servers expire it after its timeout, as
/// they do for a killed process.
pub trait Session: Send + Sync + 'static {
    /// The server-assigned session id.
    fn id(&self) -> u64;
    /// The session timeout the servers granted.
    fn timeout(&self) -> Duration;
    /// Creates `path` (for sequential nodes, a prefix) and returns the path
    /// created. With digest credentials, the ACL lets anyone read and only
    /// the creator write (as Mesos); otherwise it is open.
    fn create(&self, path: &str, data: &[u8], mode: CreateMode) -> ZkFuture<String>;
    /// Creates `path` and its missing ancestors as persistent znodes.
    fn ensure_path(&self, path: &str) -> ZkFuture<()>;
    /// The data of `path`, or None if it does not exist.
    fn get_data(&self, path: &str) -> ZkFuture<Option<Vec<u8>>>;
    /// The data of `path` and a watch firing when it changes or is deleted.
    fn get_data_watch(&self, path: &str) -> ZkFuture<(Vec<u8>, Watch)>;
    /// The children names of `path` and a watch firing when one is added or
    /// removed (or `path` is deleted).
    fn get_children_watch(&self, path: &str) -> ZkFuture<(Vec<String>, Watch)>;
    /// Deletes `path` (any version).
    fn delete(&self, path: &str) -> ZkFuture<()>;
    /// The session's connection events, from now on. Call once.
    fn events(&self) -> BoxStream<'static, (SessionEvent, Held)>;
}
