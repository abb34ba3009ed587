//! The real backend: sessions on a ZooKeeper ensemble through the
//! `zookeeper-client` crate (pure Rust, tokio; its `tokio` feature must be on
//! or it panics with "no spawner").
//!
//! The client reconnects on its own across the ensemble's servers and keeps
//! its watches across reconnects; it reports `Disconnected`, `SyncConnected`
//! and the terminal `Expired` / `AuthFailed` / `Closed` states, which map to
//! [`SessionEvent`]. It times its heartbeats on tokio's clock, not on ours:
//! that is why deterministic tests use [`super::memory::MemZk`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use zookeeper_client as zk;

use super::store::{Backend, CreateMode, Held, Session, SessionEvent, Watch, ZkError, ZkFuture};
use super::url::ZkUrl;

/// Connects through `zookeeper-client`.
#[derive(Clone, Default)]
pub struct RealZk {
    /// Sessions opened, kept only by [`RealZk::with_session_log`] (tests).
    log: Option<Arc<Mutex<Vec<zk::SessionInfo>>>>,
}

impl RealZk {
    /// The backend for production use.
    pub fn new() -> RealZk {
        RealZk { log: None }
    }

    /// A backend that remembers its sessions' credentials so a test can
    /// expire one with [`RealZk::kill_session`].
    pub fn with_session_log() -> RealZk {
        RealZk { log: Some(Arc::default()) }
    }

    /// Test hook: ends session `id` (opened by this backend) on the
    /// servers, by attaching a second client to it and closing that; the
    /// original client then learns that its session expired.
    pub async fn kill_session(&self, url: &ZkUrl, id: u64) -> Result<(), ZkError> {
        let info = self
            .log
            .as_ref()
            .and_then(|l| l.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|i| i.id().0 as u64 == id).cloned())
            .ok_or_else(|| ZkError::Other(format!("session {id:#x} was not opened by this backend")))?;
        let client =
            zk::Client::connector().with_session(info).connect(&url.connect_string()).await.map_err(map_err)?;
        drop(client); // closes the session on the servers
        Ok(())
    }

    /// Test helper: the session owning the ephemeral znode `path`.
    pub async fn ephemeral_owner(&self, url: &ZkUrl, path: &str) -> Result<Option<u64>, ZkError> {
        let client = zk::Client::connector()
            .with_session_timeout(Duration::from_secs(4))
            .connect(&url.connect_string())
            .await
            .map_err(map_err)?;
        let stat = client.check_stat(path).await.map_err(map_err)?;
        Ok(stat.map(|s| s.ephemeral_owner as u64).filter(|o| *o != 0))
    }

    /// Test helper: children of `path` (empty if it does not exist).
    pub async fn children(&self, url: &ZkUrl, path: &str) -> Result<Vec<String>, ZkError> {
        let client = zk::Client::connector()
            .with_session_timeout(Duration::from_secs(4))
            .connect(&url.connect_string())
            .await
            .map_err(map_err)?;
        match client.list_children(path).await {
            Ok(c) => Ok(c),
            Err(zk::Error::NoNode) => Ok(Vec::new()),
            Err(e) => Err(map_err(e)),
        }
    }
}

/// With credentials: anyone may read (schedulers and tools find the leader),
/// only the creator may change (Mesos's `EVERYONE_READ_CREATOR_ALL`).
static READ_CREATOR_ALL: [zk::Acl; 2] =
    [zk::Acl::new_const(zk::Permission::READ, "world", "anyone"), zk::Acl::new_const(zk::Permission::ALL, "auth", "")];

fn map_err(e: zk::Error) -> ZkError {
    match e {
        zk::Error::ConnectionLoss | zk::Error::Timeout | zk::Error::NoHosts => ZkError::ConnectionLoss,
        zk::Error::SessionExpired | zk::Error::ClientClosed => ZkError::SessionExpired,
        zk::Error::NoNode => ZkError::NoNode,
        zk::Error::NodeExists => ZkError::NodeExists,
        zk::Error::NoAuth | zk::Error::AuthFailed => ZkError::NoAuth,
        other => ZkError::Other(other.to_string()),
    }
}

impl Backend for RealZk {
    fn connect(&self, url: &ZkUrl, session_timeout: Duration) -> ZkFuture<Arc<dyn Session>> {
        let mut connector = zk::Client::connector().with_session_timeout(session_timeout);
        if let Some(auth) = &url.auth {
            connector = connector.with_auth("digest", &auth.credentials());
        }
        let authed = url.auth.is_some();
        let servers = url.connect_string();
        let log = self.log.clone();
        async move {
            let client = connector.connect(&servers).await.map_err(map_err)?;
            if let Some(log) = log {
                log.lock().unwrap_or_else(|e| e.into_inner()).push(client.session().clone());
            }
            tracing::info!(session = %client.session_id(), timeout = ?client.session_timeout(), "ZooKeeper session established with {servers}");
            let session: Arc<dyn Session> = Arc::new(RealSession { client, authed });
            Ok(session)
        }
        .boxed()
    }
}

struct RealSession {
    client: zk::Client,
    authed: bool,
}

impl RealSession {
    fn acls(&self) -> zk::Acls<'static> {
        if self.authed {
            zk::Acls::new(&READ_CREATOR_ALL)
        } else {
            zk::Acls::anyone_all()
        }
    }
}

fn watch(w: zk::OneshotWatcher) -> Watch {
    async move {
        w.changed().await;
        Held::None
    }
    .boxed()
}

impl Session for RealSession {
    fn id(&self) -> u64 {
        self.client.session_id().0 as u64
    }

    fn timeout(&self) -> Duration {
        self.client.session_timeout()
    }

    fn create(&self, path: &str, data: &[u8], mode: CreateMode) -> ZkFuture<String> {
        let (c, path, data, acls) = (self.client.clone(), path.to_string(), data.to_vec(), self.acls());
        async move {
            let mode = match mode {
                CreateMode::Persistent => zk::CreateMode::Persistent,
                CreateMode::EphemeralSequential => zk::CreateMode::EphemeralSequential,
            };
            let (_, seq) = c.create(&path, &data, &mode.with_acls(acls)).await.map_err(map_err)?;
            Ok(match mode {
                zk::CreateMode::EphemeralSequential => format!("{path}{seq}"),
                _ => path,
            })
        }
        .boxed()
    }

    fn ensure_path(&self, path: &str) -> ZkFuture<()> {
        let (c, path, acls) = (self.client.clone(), path.to_string(), self.acls());
        async move { c.mkdir(&path, &zk::CreateMode::Persistent.with_acls(acls)).await.map_err(map_err) }.boxed()
    }

    fn get_data(&self, path: &str) -> ZkFuture<Option<Vec<u8>>> {
        let fut = self.client.get_data(path);
        async move {
            match fut.await {
                Ok((data, _)) => Ok(Some(data)),
                Err(zk::Error::NoNode) => Ok(None),
                Err(e) => Err(map_err(e)),
            }
        }
        .boxed()
    }

    fn get_data_watch(&self, path: &str) -> ZkFuture<(Vec<u8>, Watch)> {
        let (c, path) = (self.client.clone(), path.to_string());
        async move {
            let (data, _, w) = c.get_and_watch_data(&path).await.map_err(map_err)?;
            Ok((data, watch(w)))
        }
        .boxed()
    }

    fn get_children_watch(&self, path: &str) -> ZkFuture<(Vec<String>, Watch)> {
        let (c, path) = (self.client.clone(), path.to_string());
        async move {
            let (children, _, w) = c.get_and_watch_children(&path).await.map_err(map_err)?;
            Ok((children, watch(w)))
        }
        .boxed()
    }

    fn delete(&self, path: &str) -> ZkFuture<()> {
        let fut = self.client.delete(path, None);
        async move { fut.await.map_err(map_err) }.boxed()
    }

    fn events(&self) -> futures::stream::BoxStream<'static, (SessionEvent, Held)> {
        // Ends after the first terminal state (`changed` would then block).
        futures::stream::unfold(Some(self.client.state_watcher()), |w| async move {
            let mut w = w?;
            let ev = match w.changed().await {
                zk::SessionState::Disconnected => return Some((Some(SessionEvent::Disconnected), Some(w))),
                zk::SessionState::SyncConnected | zk::SessionState::ConnectedReadOnly => {
                    return Some((Some(SessionEvent::Connected), Some(w)))
                }
                zk::SessionState::Expired | zk::SessionState::AuthFailed => Some(SessionEvent::Expired),
                zk::SessionState::Closed => None,
            };
            Some((ev, None))
        })
        .filter_map(|ev| futures::future::ready(ev.map(|e| (e, Held::None))))
        .boxed()
    }
}
