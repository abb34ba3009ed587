//! The slave's fetcher (Mesos's fetcher): before an executor starts, the
//! URIs of its `CommandInfo` (for a command task, the task's own) are
//! fetched into its sandbox, in order; the first failure fails the launch
//! with `Failed to fetch '<uri>': <why>` (the slave's core then reports the
//! tasks `TASK_FAILED` with `REASON_CONTAINER_LAUNCH_FAILED`).
//!
//! Parts: [`plan`] (pure: what each URI means), [`cache`] (pure: the cache's
//! bookkeeping, LRU eviction, single flight), [`download`] and [`extract`]
//! (the I/O), and [`Fetcher`] here, the thin shell that runs a plan through
//! the cache. What it does is logged to the sandbox's `stderr` (as Mesos's
//! fetcher writes its log there), before the executor's own output, and
//! counted for `/metrics/snapshot` (`containerizer/fetcher/*`).
//!
//! The whole launch, fetch included, is bounded by
//! `--executor_registration_timeout`: when it fires during the fetch the
//! slave's shell drops the fetch (see `process.rs`).

pub mod cache;
pub mod download;
pub mod extract;
pub mod plan;
pub mod shell;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use libprocess::Clock;
use rmesos::info::CommandUri;
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use cache::{Begin, Cache, Key};
use download::{Limits, Opened};
use plan::Item;

/// `--fetcher_cache_size`'s default (Mesos: 2GB).
pub const DEFAULT_CACHE_SIZE: u64 = 2 * 1024 * 1024 * 1024;
/// `--fetcher_max_size`'s default: the largest download or unpacked archive (10GB).
pub const DEFAULT_MAX_SIZE: u64 = 10 * 1024 * 1024 * 1024;
/// `--fetcher_stall_timeout`'s default (Mesos: 1mins).
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The fetcher's flags.
#[derive(Debug, Clone)]
pub struct FetcherConfig {
    /// `--fetcher_cache_dir`: this slave's cache is `<dir>/port-<port>`,
    /// emptied at start (Mesos clears its cache on restart too).
    pub cache_dir: PathBuf,
    /// `--fetcher_cache_size` in bytes; 0 turns the cache off.
    pub cache_size: u64,
    pub stall_timeout: Duration,
    pub max_size: u64,
}

/// A failed fetch: the launch's failure message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    pub uri: String,
    pub why: String,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Failed to fetch '{}': {}", self.uri, self.why)
    }
}

#[derive(Debug, Default, Clone)]
struct Counters {
    task_fetches_succeeded: u64,
    task_fetches_failed: u64,
    uris: u64,
    cache_hits: u64,
    cache_misses: u64,
    bytes: u64,
}

/// See the module doc. Shared (`Rc`) by the fetches in flight.
pub struct Fetcher {
    limits: Limits,
    clock: Clock,
    cache: RefCell<Cache>,
    /// The downloads led now, by key: joiners wait on these (a value is
    /// the leader's error; the sender dropped with none means "begin again").
    leading: RefCell<HashMap<Key, watch::Receiver<Option<String>>>>,
    counters: RefCell<Counters>,
}

impl Fetcher {
    /// The fetcher of a slave listening on `port`; prepares (empties) its cache directory.
    pub fn new(cfg: &FetcherConfig, port: u16, clock: Clock) -> Result<Rc<Fetcher>, String> {
        let dir = cfg.cache_dir.join(format!("port-{port}"));
        if cfg.cache_size > 0 {
            if dir.exists() {
                fs::remove_dir_all(&dir)
                    .map_err(|e| format!("cannot empty the fetcher cache {}: {e}", dir.display()))?;
            }
            fs::create_dir_all(&dir).map_err(|e| format!("cannot create the fetcher cache {}: {e}", dir.display()))?;
        }
        let limits = Limits { max_bytes: cfg.max_size, stall_timeout: cfg.stall_timeout };
        Ok(Rc::new(Fetcher {
            limits,
            clock,
            cache: RefCell::new(Cache::new(dir, cfg.cache_size)),
            leading: RefCell::new(HashMap::new()),
            counters: RefCell::new(Counters::default()),
        }))
    }

    /// Fetches `uris` into `sandbox` (created if needed) for `user`.
    pub async fn fetch(
        self: Rc<Self>,
        uris: Vec<CommandUri>,
        sandbox: PathBuf,
        user: Option<String>,
    ) -> Result<(), FetchError> {
        let r = self.fetch_all(&uris, &sandbox, user).await;
        let mut c = self.counters.borrow_mut();
        match &r {
            Ok(()) => c.task_fetches_succeeded += 1,
            Err(e) => {
                c.task_fetches_failed += 1;
                tracing::warn!(sandbox = %sandbox.display(), "{e}");
                log(&sandbox, &e.to_string());
            }
        }
        r
    }

    async fn fetch_all(&self, uris: &[CommandUri], sandbox: &Path, user: Option<String>) -> Result<(), FetchError> {
        let fail = |uri: &str, why: String| FetchError { uri: uri.to_string(), why };
        fs::create_dir_all(sandbox).map_err(|e| fail("", format!("cannot create the sandbox: {e}")))?;
        for uri in uris {
            let item = plan::plan(uri).map_err(|why| fail(&uri.value, why))?;
            log(sandbox, &format!("Fetching URI '{}'", item.uri));
            tracing::info!(uri = %item.uri, sandbox = %sandbox.display(), "Fetching '{}'", item.uri);
            self.counters.borrow_mut().uris += 1;
            let how = self.fetch_one(&item, sandbox, &user).await.map_err(|why| fail(&item.uri, why))?;
            log(sandbox, &format!("Fetched '{}' to '{}' ({how})", item.uri, sandbox.join(&item.name).display()));
        }
        if let Some(name) = user.as_deref().filter(|n| !n.is_empty()) {
            give_to(sandbox, name).map_err(|why| fail("", why))?;
        }
        Ok(())
    }

    /// One URI; answers how it was got (for the log).
    async fn fetch_one(&self, item: &Item, sandbox: &Path, user: &Option<String>) -> Result<&'static str, String> {
        if !item.cache {
            self.direct(item, sandbox).await?;
            return Ok("downloaded");
        }
        let key = Key { user: user.clone(), uri: item.uri.clone() };
        loop {
            let begin = self.cache.borrow_mut().begin(&key);
            match begin {
                Begin::Bypass => {
                    self.direct(item, sandbox).await?;
                    return Ok("downloaded, the cache is off");
                }
                Begin::Hit(file) => {
                    self.counters.borrow_mut().cache_hits += 1;
                    let r = self.deliver(&file, item, sandbox).await;
                    self.cache.borrow_mut().release(&key);
                    return r.map(|()| "from the cache");
                }
                Begin::Join => {
                    let rx = self.leading.borrow().get(&key).cloned();
                    if let Some(mut rx) = rx {
                        if let Ok(v) = rx.wait_for(Option::is_some).await {
                            return Err(v.clone().unwrap_or_default());
                        }
                    }
                    // The leader is done (or gone): begin again.
                }
                Begin::Lead(file) => {
                    self.counters.borrow_mut().cache_misses += 1;
                    return self.lead(&key, &file, item, sandbox).await;
                }
            }
        }
    }

    /// Downloads `key` into the cache file `file`, then delivers it.
    async fn lead(&self, key: &Key, file: &Path, item: &Item, sandbox: &Path) -> Result<&'static str, String> {
        let (tx, rx) = watch::channel(None);
        self.leading.borrow_mut().insert(key.clone(), rx);
        // Dropped however this ends (even cancelled): the entry is aborted
        // unless completed, and joiners wake.
        let guard = Leading { fetcher: self, key: key.clone(), tx };
        let opened = download::open(&item.source, &self.limits, &self.clock).await.map_err(|e| guard.fail(e))?;
        let reserved = match opened.size() {
            Some(len) => self
                .cache
                .borrow_mut()
                .reserve(key, len)
                .map_err(|r| format!("needs {} bytes, the cache has {} free or evictable", r.needed, r.available)),
            None => {
                self.cache.borrow_mut().abort(key);
                Err("its size is not known up front".to_string())
            }
        };
        let evicted = match reserved {
            Ok(evicted) => evicted,
            Err(why) => {
                // Mesos falls back on bypassing the cache.
                tracing::warn!(uri = %item.uri, "Not caching '{}': {why}", item.uri);
                log(sandbox, &format!("Not caching '{}': {why}", item.uri));
                drop(guard);
                self.save_direct(opened, item, sandbox).await?;
                return Ok("downloaded, not cached");
            }
        };
        for f in evicted {
            tracing::info!(file = %f.display(), "Evicting {} from the fetcher cache", f.display());
            if let Err(e) = fs::remove_file(&f) {
                tracing::warn!(file = %f.display(), error = %e, "Failed to remove an evicted cache file");
            }
        }
        let n = download::save(opened, file, &self.limits, &self.clock).await.map_err(|e| {
            let _ = fs::remove_file(file);
            guard.fail(e)
        })?;
        self.counters.borrow_mut().bytes += n;
        let kept = self.cache.borrow_mut().complete(key, n);
        drop(guard);
        let r = self.deliver(file, item, sandbox).await;
        if kept {
            self.cache.borrow_mut().release(key);
        } else {
            let _ = fs::remove_file(file);
        }
        r.map(|()| "downloaded into the cache")
    }

    /// Not through the cache: into the sandbox, then unpacked or made executable.
    async fn direct(&self, item: &Item, sandbox: &Path) -> Result<(), String> {
        let opened = download::open(&item.source, &self.limits, &self.clock).await?;
        self.save_direct(opened, item, sandbox).await
    }

    async fn save_direct(&self, opened: Opened, item: &Item, sandbox: &Path) -> Result<(), String> {
        let dest = sandbox.join(&item.name);
        let n = download::save(opened, &dest, &self.limits, &self.clock).await?;
        self.counters.borrow_mut().bytes += n;
        self.finish(&dest, item, sandbox).await
    }

    /// From the cache file: unpacked straight from it (only the result is
    /// in the sandbox, as Mesos), or copied.
    async fn deliver(&self, file: &Path, item: &Item, sandbox: &Path) -> Result<(), String> {
        if item.archive.is_some() {
            return self.finish(file, item, sandbox).await;
        }
        let dest = sandbox.join(&item.name);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("cannot create '{}': {e}", parent.display()))?;
        }
        let (from, to) = (file.to_path_buf(), dest.clone());
        blocking(move || fs::copy(&from, &to).map(|_| ()).map_err(|e| format!("cannot copy from the cache: {e}")))
            .await?;
        self.finish(&dest, item, sandbox).await
    }

    /// Unpacks `file` into the sandbox, or sets its run bits.
    async fn finish(&self, file: &Path, item: &Item, sandbox: &Path) -> Result<(), String> {
        if let Some(kind) = item.archive {
            let (file, root, name, max) =
                (file.to_path_buf(), sandbox.to_path_buf(), item.name.clone(), self.limits.max_bytes);
            let done = blocking(move || extract::extract(&file, kind, &root, &name, max)).await?;
            log(
                sandbox,
                &format!("Extracted '{}': {} entries, {} bytes", item.name.display(), done.entries, done.bytes),
            );
        } else if item.executable {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(file, fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("cannot make '{}' executable: {e}", file.display()))?;
        }
        Ok(())
    }

    /// The `containerizer/fetcher/*` metrics (Mesos's names, plus rmesos's
    /// cache and byte counters), added to `/metrics/snapshot`.
    pub fn metrics(&self, into: &mut Map<String, Value>) {
        let c = self.counters.borrow();
        let cache = self.cache.borrow();
        for (k, v) in [
            ("task_fetches_succeeded", json!(c.task_fetches_succeeded)),
            ("task_fetches_failed", json!(c.task_fetches_failed)),
            ("uri_fetches", json!(c.uris)),
            ("cache_hits", json!(c.cache_hits)),
            ("cache_misses", json!(c.cache_misses)),
            ("bytes_fetched", json!(c.bytes)),
            ("cache_files", json!(cache.files())),
            ("cache_size_total_bytes", json!(cache.capacity())),
            ("cache_size_used_bytes", json!(cache.used())),
        ] {
            into.insert(format!("containerizer/fetcher/{k}"), v);
        }
    }
}

/// The lead of a cached download; its drop ends the lead.
struct Leading<'a> {
    fetcher: &'a Fetcher,
    key: Key,
    tx: watch::Sender<Option<String>>,
}

impl Leading<'_> {
    /// The download failed: joiners fail with the same reason.
    fn fail(&self, why: String) -> String {
        let _ = self.tx.send(Some(why.clone()));
        why
    }
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        self.fetcher.cache.borrow_mut().abort(&self.key);
        self.fetcher.leading.borrow_mut().remove(&self.key);
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(f).await.map_err(|e| format!("the fetch task failed: {e}"))?
}

/// One line of the fetcher's log in the sandbox's `stderr`.
fn log(sandbox: &Path, line: &str) {
    let r = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(sandbox.join("stderr"))
        .and_then(|mut f| writeln!(f, "rmesos-fetcher: {line}"));
    if let Err(e) = r {
        tracing::debug!(sandbox = %sandbox.display(), error = %e, "cannot write the fetcher log");
    }
}

/// Gives everything in the sandbox to `name` when the slave is root (as
/// Mesos chowns the sandbox after a fetch); links themselves, never their targets.
fn give_to(sandbox: &Path, name: &str) -> Result<(), String> {
    let user = crate::containerizer::user::lookup(name).map_err(|e| e.to_string())?;
    let me = crate::containerizer::user::current_uid();
    if me != 0 || user.uid == me {
        return Ok(());
    }
    let mut stack = vec![sandbox.to_path_buf()];
    while let Some(p) = stack.pop() {
        std::os::unix::fs::lchown(&p, Some(user.uid), Some(user.gid))
            .map_err(|e| format!("cannot give '{}' to user '{name}': {e}", p.display()))?;
        if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            for e in fs::read_dir(&p).map_err(|e| format!("cannot read '{}': {e}", p.display()))?.flatten() {
                stack.push(e.path());
            }
        }
    }
    Ok(())
}
