//! The registry: which slaves the cluster has admitted, remembered across a
//! master failover so a newly elected master knows which slaves to expect
//! (Mesos's registrar, without the replicated log: the store is ZooKeeper, an
//! existing replicated store).
//!
//! Layout in ZooKeeper: one persistent znode per admitted slave,
//! `<zk path>/registry/<slave id>`, holding its `SlaveInfo` as JSON. One
//! znode per slave rather than one document: an admission or a removal is
//! one small write (a create or a delete), and the registry is not bounded
//! by ZooKeeper's 1 MiB znode limit at 10,000 slaves. The election ignores
//! the `registry` child of the group znode (only `json.info_<seq>` children
//! are members).
//!
//! Losses: when a slave's connection breaks, the master reports the tasks
//! there of frameworks that do not checkpoint TASK_LOST (as Mesos). It first
//! writes `<zk path>/lost/<slave id>/<framework id>/<task id>`, so that a
//! master elected later, to which the slave reregisters with those tasks
//! (perhaps finished meanwhile), kills them rather than adopting them (a
//! task reported lost must not be reported finished later: its framework
//! re-ran it). A task's record is deleted once the slave reregisters
//! without it.
//!
//! Standalone masters keep the registry in process ([`Registry::in_process`]):
//! there is no other master to hand it to, but the master runs the same code
//! paths (admissions recorded before `SlaveRegisteredMessage` is sent).
//!
//! The registry is written only by the leading master; a master that loses
//! leadership stops at once (see `leader.rs`), so two masters never write.
//! Errors: a failed write means the leader cannot keep its promises; the
//! master treats it as lost leadership.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use libprocess::zookeeper::{Backend, CreateMode, Session, ZkError, ZkUrl};
use rmesos::{FrameworkID, SlaveID, SlaveInfo, TaskID};

/// Most registry entries read at recovery (far above any cluster rmesos
/// targets; a larger registry is refused rather than read unbounded).
pub const MAX_REGISTRY_ENTRIES: usize = 100_000;

/// The name of the registry znode under the master's ZooKeeper path.
pub const REGISTRY_ZNODE: &str = "registry";
/// The name of the znode of declared losses under the master's ZooKeeper path.
pub const LOST_ZNODE: &str = "lost";

/// Tasks reported lost at slave disconnections, per slave.
pub type Losses = BTreeMap<SlaveID, BTreeSet<(FrameworkID, TaskID)>>;

/// Where the registry lives.
enum Store {
    /// In this process only (standalone master).
    InProcess(BTreeMap<SlaveID, SlaveInfo>),
    /// In ZooKeeper under `dir`, through its own session (opened at recovery).
    ZooKeeper { backend: Arc<dyn Backend>, url: ZkUrl, dir: String, timeout: Duration, session: Shared },
}

type Shared = Arc<Mutex<Option<Arc<dyn Session>>>>;

/// The admitted slaves, and the store they are written to.
pub struct Registry {
    store: Store,
    /// Ids written (or read) so far: an admission of one of these is not
    /// written again.
    admitted: HashSet<SlaveID>,
    /// Losses, when the store is in process.
    losses: Losses,
}

/// A registry operation in flight.
pub type RegistryFuture<T> = BoxFuture<'static, Result<T, ZkError>>;

impl Registry {
    /// A registry kept in this process.
    pub fn in_process() -> Registry {
        Registry { store: Store::InProcess(BTreeMap::new()), admitted: HashSet::new(), losses: Losses::new() }
    }

    /// A registry in ZooKeeper under `<url.path>/registry`.
    pub fn zookeeper(backend: Arc<dyn Backend>, url: ZkUrl, timeout: Duration) -> Registry {
        let dir = format!("{}/{REGISTRY_ZNODE}", url.path);
        let store = Store::ZooKeeper { backend, url, dir, timeout, session: Arc::default() };
        Registry { store, admitted: HashSet::new(), losses: Losses::new() }
    }

    /// Whether `id` is recorded as admitted.
    pub fn contains(&self, id: &SlaveID) -> bool {
        self.admitted.contains(id)
    }

    /// Every admitted slave id.
    pub fn admitted(&self) -> impl Iterator<Item = &SlaveID> {
        self.admitted.iter()
    }

    /// Reads the admitted slaves (opening the ZooKeeper session first).
    /// Call [`Registry::recovered`] with the result.
    pub fn recover(&self) -> RegistryFuture<Vec<SlaveInfo>> {
        match &self.store {
            Store::InProcess(m) => futures::future::ready(Ok(m.values().cloned().collect())).boxed(),
            Store::ZooKeeper { backend, url, dir, timeout, session } => {
                let (connect, dir, shared) = (backend.connect(url, *timeout), dir.clone(), session.clone());
                async move {
                    let s = connect.await?;
                    // The registry learns of a lost session from its
                    // operations' errors, not from session events: unread,
                    // they would pile up (and in a simulation hold its
                    // clock's work counter, so it never settles).
                    drop(s.events());
                    *shared.lock().unwrap_or_else(|e| e.into_inner()) = Some(s.clone());
                    s.ensure_path(&dir).await?;
                    let (mut children, _watch) = s.get_children_watch(&dir).await?;
                    if children.len() > MAX_REGISTRY_ENTRIES {
                        return Err(ZkError::Other(format!(
                            "registry {dir} has {} entries (more than {MAX_REGISTRY_ENTRIES})",
                            children.len()
                        )));
                    }
                    children.sort();
                    let mut out = Vec::with_capacity(children.len());
                    for c in children {
                        let Some(data) = s.get_data(&format!("{dir}/{c}")).await? else { continue };
                        match serde_json::from_slice::<SlaveInfo>(&data) {
                            Ok(info) if info.id.as_ref().is_some_and(|id| id.as_str() == c) => out.push(info),
                            Ok(_) => tracing::warn!("registry entry {dir}/{c}: slave id does not match; ignored"),
                            Err(e) => tracing::warn!("registry entry {dir}/{c} is not SlaveInfo JSON ({e}); ignored"),
                        }
                    }
                    Ok(out)
                }
                .boxed()
            }
        }
    }

    /// Records what [`Registry::recover`] read.
    pub fn recovered(&mut self, slaves: &[SlaveInfo]) {
        self.admitted.extend(slaves.iter().filter_map(|s| s.id.clone()));
    }

    /// Records the admission of `info` (which carries its id). Done at once
    /// in process; the returned future completes once ZooKeeper has it.
    pub fn admit(&mut self, info: &SlaveInfo) -> RegistryFuture<()> {
        let Some(id) = info.id.clone() else {
            return futures::future::ready(Err(ZkError::Other("SlaveInfo without an id".into()))).boxed();
        };
        self.admitted.insert(id.clone());
        match &mut self.store {
            Store::InProcess(m) => {
                m.insert(id, info.clone());
                futures::future::ready(Ok(())).boxed()
            }
            Store::ZooKeeper { dir, session, .. } => {
                let path = format!("{dir}/{id}");
                let data = serde_json::to_vec(info).unwrap_or_default();
                let s = session.lock().unwrap_or_else(|e| e.into_inner()).clone();
                async move {
                    let s = s.ok_or(ZkError::SessionExpired)?;
                    match s.create(&path, &data, CreateMode::Persistent).await {
                        Ok(_) | Err(ZkError::NodeExists) => Ok(()),
                        Err(e) => Err(e),
                    }
                }
                .boxed()
            }
        }
    }

    /// Forgets slave `id` (removed from the cluster).
    pub fn remove(&mut self, id: &SlaveID) -> RegistryFuture<()> {
        self.admitted.remove(id);
        match &mut self.store {
            Store::InProcess(m) => {
                m.remove(id);
                futures::future::ready(Ok(())).boxed()
            }
            Store::ZooKeeper { dir, session, .. } => {
                let path = format!("{dir}/{id}");
                let s = session.lock().unwrap_or_else(|e| e.into_inner()).clone();
                async move {
                    let s = s.ok_or(ZkError::SessionExpired)?;
                    match s.delete(&path).await {
                        Ok(()) | Err(ZkError::NoNode) => Ok(()),
                        Err(e) => Err(e),
                    }
                }
                .boxed()
            }
        }
    }
}

impl Registry {
    fn lost_dir(&self) -> Option<(String, Shared)> {
        match &self.store {
            Store::InProcess(_) => None,
            Store::ZooKeeper { url, session, .. } => Some((format!("{}/{LOST_ZNODE}", url.path), session.clone())),
        }
    }

    /// Reads the declared losses (after [`Registry::recover`] opened the session).
    pub fn losses(&self) -> RegistryFuture<Losses> {
        let Some((dir, session)) = self.lost_dir() else {
            return futures::future::ready(Ok(self.losses.clone())).boxed();
        };
        async move {
            let s = session.lock().unwrap_or_else(|e| e.into_inner()).clone().ok_or(ZkError::SessionExpired)?;
            s.ensure_path(&dir).await?;
            let (mut slaves, _watch) = s.get_children_watch(&dir).await?;
            slaves.sort();
            slaves.truncate(MAX_REGISTRY_ENTRIES);
            let mut out = Losses::new();
            for sid in slaves {
                let Ok(id) = SlaveID::new(sid.as_str()) else { continue };
                let (fids, _watch) = match s.get_children_watch(&format!("{dir}/{sid}")).await {
                    Err(ZkError::NoNode) => continue,
                    other => other?,
                };
                let mut tasks = BTreeSet::new();
                for f in fids {
                    let Ok(fid) = FrameworkID::new(f.as_str()) else { continue };
                    let (tids, _watch) = match s.get_children_watch(&format!("{dir}/{sid}/{f}")).await {
                        Err(ZkError::NoNode) => continue,
                        other => other?,
                    };
                    tasks.extend(tids.iter().filter_map(|t| TaskID::new(t.as_str()).ok()).map(|t| (fid.clone(), t)));
                }
                if !tasks.is_empty() {
                    out.insert(id, tasks);
                }
            }
            Ok(out)
        }
        .boxed()
    }

    /// Records that these tasks on `slave` were reported lost.
    pub fn record_loss(&mut self, slave: &SlaveID, tasks: &[(FrameworkID, TaskID)]) -> RegistryFuture<()> {
        let Some((dir, session)) = self.lost_dir() else {
            self.losses.entry(slave.clone()).or_default().extend(tasks.iter().cloned());
            return futures::future::ready(Ok(())).boxed();
        };
        let paths: Vec<String> = tasks.iter().map(|(f, t)| format!("{dir}/{slave}/{f}/{t}")).collect();
        async move {
            let s = session.lock().unwrap_or_else(|e| e.into_inner()).clone().ok_or(ZkError::SessionExpired)?;
            for p in paths {
                s.ensure_path(&p).await?;
            }
            Ok(())
        }
        .boxed()
    }

    /// Forgets these lost tasks of `slave` (it reregistered without them).
    pub fn clear_loss(&mut self, slave: &SlaveID, tasks: &[(FrameworkID, TaskID)]) -> RegistryFuture<()> {
        let Some((dir, session)) = self.lost_dir() else {
            if let Some(set) = self.losses.get_mut(slave) {
                for t in tasks {
                    set.remove(t);
                }
                if set.is_empty() {
                    self.losses.remove(slave);
                }
            }
            return futures::future::ready(Ok(())).boxed();
        };
        let paths: Vec<String> = tasks.iter().map(|(f, t)| format!("{dir}/{slave}/{f}/{t}")).collect();
        let mut parents: Vec<String> = tasks.iter().map(|(f, _)| format!("{dir}/{slave}/{f}")).collect();
        parents.dedup();
        parents.push(format!("{dir}/{slave}"));
        async move {
            let s = session.lock().unwrap_or_else(|e| e.into_inner()).clone().ok_or(ZkError::SessionExpired)?;
            for p in paths {
                match s.delete(&p).await {
                    Ok(()) | Err(ZkError::NoNode) => {}
                    Err(e) => return Err(e),
                }
            }
            // Emptied parents go too (one still holding a record stays).
            for p in parents {
                let _ = s.delete(&p).await;
            }
            Ok(())
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libprocess::zookeeper::MemZk;
    use libprocess::Clock;
    use rmesos::{Attributes, Resources};

    fn info(id: &str) -> SlaveInfo {
        let mut i = SlaveInfo::new("host", 5051, Resources::new(), Attributes::default());
        i.id = Some(SlaveID::new(id).unwrap());
        i
    }

    #[tokio::test]
    async fn zookeeper_registry_survives_a_new_registry_on_the_same_path() {
        let zk = MemZk::new(Clock::paused());
        let url: ZkUrl = "zk://127.0.0.1:2181/rmesos".parse().unwrap();
        let backend: Arc<dyn Backend> = Arc::new(zk.clone());
        let mut a = Registry::zookeeper(backend.clone(), url.clone(), Duration::from_secs(10));
        assert!(a.recover().await.unwrap().is_empty());
        a.admit(&info("M-S0")).await.unwrap();
        a.admit(&info("M-S1")).await.unwrap();
        a.admit(&info("M-S1")).await.unwrap(); // again: no error
        a.remove(&info("M-S0").id.unwrap()).await.unwrap();
        a.remove(&info("M-S0").id.unwrap()).await.unwrap(); // again: no error
        assert_eq!(zk.children("/rmesos/registry"), vec!["M-S1".to_string()]);

        let mut b = Registry::zookeeper(backend, url, Duration::from_secs(10));
        let got = b.recover().await.unwrap();
        assert_eq!(got, vec![info("M-S1")]);
        b.recovered(&got);
        assert!(b.contains(&info("M-S1").id.unwrap()));
        assert!(!b.contains(&info("M-S0").id.unwrap()));
    }

    #[tokio::test]
    async fn losses_survive_a_new_registry_and_are_cleared() {
        let zk = MemZk::new(Clock::paused());
        let url: ZkUrl = "zk://127.0.0.1:2181/rmesos".parse().unwrap();
        let backend: Arc<dyn Backend> = Arc::new(zk.clone());
        let mut a = Registry::zookeeper(backend.clone(), url.clone(), Duration::from_secs(10));
        a.recover().await.unwrap();
        assert!(a.losses().await.unwrap().is_empty());
        let s0 = SlaveID::new("M-S0").unwrap();
        let t = |f: &str, t: &str| (FrameworkID::new(f).unwrap(), TaskID::new(t).unwrap());
        a.record_loss(&s0, &[t("F1", "a")]).await.unwrap();
        a.record_loss(&s0, &[t("F1", "a"), t("F1", "b"), t("F2", "c")]).await.unwrap();
        let b = Registry::zookeeper(backend, url, Duration::from_secs(10));
        b.recover().await.unwrap();
        let got = b.losses().await.unwrap();
        assert_eq!(got, Losses::from([(s0.clone(), BTreeSet::from([t("F1", "a"), t("F1", "b"), t("F2", "c")]))]));
        a.clear_loss(&s0, &[t("F1", "a"), t("F2", "c")]).await.unwrap();
        assert_eq!(b.losses().await.unwrap(), Losses::from([(s0.clone(), BTreeSet::from([t("F1", "b")]))]));
        a.clear_loss(&s0, &[t("F1", "b")]).await.unwrap();
        a.clear_loss(&s0, &[t("F1", "b")]).await.unwrap(); // again: no error
        assert!(b.losses().await.unwrap().is_empty());
        assert!(zk.children("/rmesos/lost").is_empty(), "emptied parents removed");
    }

    #[tokio::test]
    async fn in_process_registry_and_a_write_without_session_fails() {
        let mut r = Registry::in_process();
        r.admit(&info("M-S0")).await.unwrap();
        assert_eq!(r.recover().await.unwrap(), vec![info("M-S0")]);
        let zk = MemZk::new(Clock::paused());
        let url: ZkUrl = "zk://127.0.0.1:2181/rmesos".parse().unwrap();
        let mut z = Registry::zookeeper(Arc::new(zk), url, Duration::from_secs(10));
        assert_eq!(z.admit(&info("M-S0")).await, Err(ZkError::SessionExpired));
    }
}
