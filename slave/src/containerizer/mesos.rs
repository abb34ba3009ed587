//! The Mesos containerizer: a launcher and the isolators of `--isolation`
//! around each executor run (Mesos's `MesosContainerizer`).
//!
//! - Launcher `posix` (`--launcher=posix`, the default with only `posix/*`
//!   isolators): the run is a session of its own; a kill sweeps the
//!   session. A process that leaves the session escapes it.
//! - Launcher `linux` (the default as soon as a `cgroups/*` isolator is
//!   chosen, or `--launcher=linux`): the run also has a cgroup of its own
//!   (`<cgroups_root>/<run>`) in every hierarchy in use, joined before
//!   exec, so nothing it forks can leave; a kill freezes and kills the
//!   whole cgroup; the cgroup is removed once empty. Recovery after a
//!   slave restart finds the containers by their cgroups, as Mesos does,
//!   and removes the cgroups of containers nobody claims (orphans).
//!
//! Limits are written when the cgroup is made and rewritten on `update`
//! (the executor's resources plus its tasks', from the core). With
//! `cgroups/mem`, the memory cgroup's OOM-kill counter is read every
//! [`OOM_POLL_INTERVAL`], when the executor reports a terminal task and
//! when it exits: a kill is a [`Limitation`] (Mesos's message with the
//! limit and the most used), the container is killed whole, and its tasks
//! fail with `REASON_CONTAINER_LIMITATION_MEMORY`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use libprocess::Clock;
use rmesos::task::Reason;
use rmesos::Resources;
use uuid::Uuid;

use super::isolation::Isolation;
use super::launcher::{self, Spawn};
use super::usage::ResourceStatistics;
use super::{procfs, user, Containerizer, ExitFuture, Launched, Limitation, UNKNOWN_EXIT_STATUS};
use crate::cgroups::{self, limits::Enforce, Cgroups, Limits};
use crate::core::Launch;

/// How often a container's OOM-kill counter is read (with `cgroups/mem`).
pub const OOM_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// After a kill, how often the cgroup is checked for processes left, and
/// how many times, before its removal is given up (logged; the next
/// slave start removes it as an orphan).
pub const DESTROY_POLL: Duration = Duration::from_millis(10);
pub const DESTROY_ATTEMPTS: u32 = 1000;
/// `--cgroups_max_pids`'s default.
pub const DEFAULT_MAX_PIDS: u64 = 4096;

/// `--launcher`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LauncherKind {
    Posix,
    Linux,
}

/// The containerizer's flags.
#[derive(Debug, Clone)]
pub struct MesosConfig {
    pub isolation: Isolation,
    /// `None`: `linux` when an isolator needs cgroups, else `posix`.
    pub launcher: Option<LauncherKind>,
    pub cgroups_hierarchy: PathBuf,
    pub cgroups_root: String,
    pub cgroups_enable_cfs: bool,
    pub cgroups_max_pids: u64,
}

impl Default for MesosConfig {
    fn default() -> MesosConfig {
        MesosConfig {
            isolation: super::isolation::parse(super::isolation::DEFAULT).expect("the default parses"),
            launcher: None,
            cgroups_hierarchy: PathBuf::from("/sys/fs/cgroup"),
            cgroups_root: "rmesos".into(),
            cgroups_enable_cfs: false,
            cgroups_max_pids: DEFAULT_MAX_PIDS,
        }
    }
}

/// One container.
struct Container {
    /// The executor's pid (= its session id).
    pid: Option<u32>,
    /// Its cgroup name (linux launcher): the run id.
    cgroup: Option<String>,
    resources: RefCell<Resources>,
    limitation: RefCell<Option<Limitation>>,
}

/// See the module doc.
pub struct Mesos {
    cgroups: Option<Rc<Cgroups>>,
    enforce: Enforce,
    clock: Clock,
    containers: HashMap<Uuid, Rc<Container>>,
}

impl Mesos {
    /// Checks that the isolators can work here (root, controllers) and
    /// prepares the cgroups root; an `Err` is the one line the slave
    /// exits with.
    pub fn new(cfg: MesosConfig, clock: Clock) -> Result<Mesos, String> {
        let kind = cfg.launcher.unwrap_or(if cfg.isolation.needs_cgroups() {
            LauncherKind::Linux
        } else {
            LauncherKind::Posix
        });
        if kind == LauncherKind::Posix && cfg.isolation.needs_cgroups() {
            return Err(format!("--isolation={} needs --launcher=linux (cgroups)", cfg.isolation));
        }
        let cgroups = if kind == LauncherKind::Linux {
            // SAFETY: geteuid has no preconditions.
            let euid = unsafe { libc::geteuid() };
            if euid != 0 {
                return Err(format!(
                    "--isolation={} (launcher linux) needs cgroups, which need root; this slave runs as uid {euid}",
                    cfg.isolation
                ));
            }
            let cg = Cgroups::open(&cfg.cgroups_hierarchy, &cfg.cgroups_root, &cfg.isolation.controllers())
                .map_err(|e| format!("--isolation={}: {e}", cfg.isolation))?;
            tracing::info!(version = ?cg.version(), root = %cfg.cgroups_root,
                "Using cgroups {:?} under {} for isolation {}", cg.version(), cfg.cgroups_hierarchy.display(), cfg.isolation);
            Some(Rc::new(cg))
        } else {
            None
        };
        let enforce = Enforce {
            cpu: cfg.isolation.cgroups_cpu,
            cfs: cfg.cgroups_enable_cfs,
            memory: cfg.isolation.cgroups_mem,
            pids: cfg.isolation.cgroups_pids.then_some(cfg.cgroups_max_pids),
        };
        Ok(Mesos { cgroups, enforce, clock, containers: HashMap::new() })
    }

    fn limits(&self, r: &Resources) -> Limits {
        Limits::of(r.cpus(), r.mem(), self.enforce)
    }

    /// The user to become, if any (None: the slave's own).
    fn user_for(l: &Launch) -> io::Result<Option<user::User>> {
        let Some(name) = l.user.as_deref().filter(|n| !n.is_empty()) else { return Ok(None) };
        let u = user::lookup(name)?;
        let me = user::current_uid();
        if u.uid == me {
            return Ok(None);
        }
        if me != 0 {
            return Err(io::Error::other(format!(
                "cannot run as user '{name}': the slave is not root (run it as root or with --switch_user=false)"
            )));
        }
        Ok(Some(u))
    }

    /// The launch proper (the cgroup exists if `cgroup` is set).
    fn start(&mut self, l: &Launch, cgroup: Option<&str>) -> io::Result<tokio::process::Child> {
        let user = Self::user_for(l)?;
        let mut spawn = Spawn { user, ..Spawn::default() };
        if let (Some(cg), Some(name)) = (&self.cgroups, cgroup) {
            cg.set_limits(name, &self.limits(&l.resources)).map_err(io::Error::other)?;
            spawn.cgroup_procs = cgroups::procs_cstrings(&cg.procs_files(name))?;
        }
        launcher::launch(l, spawn)
    }

    /// Reads the OOM counter of `c`: a kill is recorded as the container's
    /// limitation, and the container killed whole.
    fn check_oom(cg: &Cgroups, c: &Container, enforce: &Enforce) -> Option<Limitation> {
        if let Some(l) = c.limitation.borrow().clone() {
            return Some(l);
        }
        let name = c.cgroup.as_deref()?;
        if !enforce.memory || cgroups::oom::kills(cg, name) == 0 {
            return None;
        }
        let s = cg.stats(name);
        let l = Limitation {
            reason: Reason::ContainerLimitationMemory,
            message: cgroups::oom::message(s.mem_limit_bytes, s.mem_max_bytes),
        };
        tracing::warn!(container = name, "Container {name} hit its memory limit: {}", l.message);
        *c.limitation.borrow_mut() = Some(l.clone());
        if let Err(e) = cg.kill(name) {
            tracing::error!(container = name, error = %e, "Failed to kill container {name}");
        }
        Some(l)
    }

    /// What happens once a run's executor is gone: the session or cgroup
    /// is killed (whatever the executor left behind goes with it) and the
    /// cgroup removed once empty.
    async fn cleanup(cg: Option<Rc<Cgroups>>, c: Rc<Container>, clock: Clock) {
        if let (Some(cg), Some(name)) = (cg, c.cgroup.as_deref()) {
            destroy(&cg, name, &clock).await;
        } else if let Some(pid) = c.pid {
            launcher::kill_session(pid);
        }
    }
}

/// Kills cgroup `name`, waits until it is empty and removes it.
async fn destroy(cg: &Cgroups, name: &str, clock: &Clock) {
    for _ in 0..DESTROY_ATTEMPTS {
        if cg.procs(name).is_empty() {
            match cg.destroy(name) {
                Ok(()) => {
                    tracing::debug!(container = name, "Removed cgroup {name}");
                    return;
                }
                // Emptied but not yet released by the kernel: retry.
                Err(e) => tracing::debug!(container = name, error = %e, "cgroup not removable yet"),
            }
        } else if let Err(e) = cg.kill(name) {
            tracing::warn!(container = name, error = %e, "Failed to kill container {name}");
        }
        clock.sleep(DESTROY_POLL).await;
    }
    tracing::error!(container = name, procs = ?cg.procs(name),
        "Gave up removing cgroup {name}; it is removed as an orphan at the next start");
}

impl Mesos {
    /// One container's usage (`sessions`: /proc by session, for posix).
    fn usage_of(&self, c: &Container, sessions: &HashMap<i32, Vec<i32>>) -> ResourceStatistics {
        let now = self.clock.unix_time();
        let stats = match (&self.cgroups, c.cgroup.as_deref()) {
            (Some(cg), Some(name)) => {
                let mut s = ResourceStatistics::from_cgroups(cg.stats(name), now);
                if !self.enforce.cpu || !self.enforce.memory {
                    // Controllers not in use: the processes' own figures.
                    let (u, sy, rss, _) = procfs::usage(&cg.procs(name));
                    if !self.enforce.cpu {
                        s.cpus_user_time_secs = Some(u);
                        s.cpus_system_time_secs = Some(sy);
                    }
                    if !self.enforce.memory {
                        s.mem_rss_bytes = Some(rss);
                    }
                }
                s
            }
            _ => {
                let pids = c.pid.and_then(|p| sessions.get(&(p as i32))).map(Vec::as_slice).unwrap_or_default();
                let (u, sy, rss, n) = procfs::usage(pids);
                ResourceStatistics {
                    timestamp: now,
                    processes: Some(n),
                    cpus_user_time_secs: Some(u),
                    cpus_system_time_secs: Some(sy),
                    mem_rss_bytes: Some(rss),
                    ..ResourceStatistics::default()
                }
            }
        };
        stats.with_limits(&c.resources.borrow())
    }
}

impl Containerizer for Mesos {
    fn launch(&mut self, l: &Launch) -> io::Result<Launched> {
        let name = l.run.to_string();
        let cgroup = match &self.cgroups {
            Some(cg) => {
                cg.create(&name).map_err(io::Error::other)?;
                Some(name.as_str())
            }
            None => None,
        };
        let mut child = match self.start(l, cgroup) {
            Ok(c) => c,
            Err(e) => {
                if let (Some(cg), Some(n)) = (&self.cgroups, cgroup) {
                    let _ = cg.destroy(n);
                }
                return Err(e);
            }
        };
        let pid = child.id();
        let c = Rc::new(Container {
            pid,
            cgroup: cgroup.map(str::to_string),
            resources: RefCell::new(l.resources.clone()),
            limitation: RefCell::new(None),
        });
        self.containers.insert(l.run, c.clone());
        let (cg, clock, enforce) = (self.cgroups.clone(), self.clock.clone(), self.enforce);
        let exit = async move {
            let status = loop {
                let poll = async {
                    if enforce.memory {
                        clock.sleep(OOM_POLL_INTERVAL).await
                    } else {
                        std::future::pending::<()>().await
                    }
                };
                tokio::select! {
                    s = child.wait() => break s,
                    _ = poll => {
                        if let Some(cg) = &cg {
                            Mesos::check_oom(cg, &c, &enforce);
                        }
                    }
                }
            };
            if let Some(cgr) = &cg {
                Mesos::check_oom(cgr, &c, &enforce);
            }
            Mesos::cleanup(cg, c, clock).await;
            launcher::status_code(&status)
        };
        Ok(Launched { pid, exit: Box::pin(exit) })
    }

    fn kill(&mut self, run: Uuid) {
        let Some(c) = self.containers.get(&run) else {
            tracing::debug!(%run, "kill: container already gone");
            return;
        };
        match (&self.cgroups, c.cgroup.as_deref(), c.pid) {
            (Some(cg), Some(name), _) => {
                if let Err(e) = cg.kill(name) {
                    tracing::error!(%run, error = %e, "Failed to kill container {run}");
                }
            }
            (_, _, Some(pid)) => launcher::kill_session(pid),
            _ => {}
        }
    }

    fn kill_all(&mut self) {
        let runs: Vec<Uuid> = self.containers.keys().copied().collect();
        for run in runs {
            match self.containers.get(&run).map(|c| (c.cgroup.is_some(), c.pid)) {
                Some((false, Some(pid))) => tracing::info!(%run, pid, "Killing executor session {pid}"),
                _ => tracing::info!(%run, "Killing container {run}"),
            }
            self.kill(run);
        }
    }

    fn reaped(&mut self, run: Uuid) {
        self.containers.remove(&run);
    }

    fn recover(&mut self, run: Uuid, pid: Option<u32>, clock: &Clock) -> Option<ExitFuture> {
        let clock = clock.clone();
        let name = run.to_string();
        if let Some(cg) = self.cgroups.clone() {
            if !cg.exists(&name) {
                return None;
            }
            let c = Rc::new(Container {
                pid,
                cgroup: Some(name.clone()),
                resources: RefCell::new(Resources::new()),
                limitation: RefCell::new(None),
            });
            if cg.procs(&name).is_empty() {
                // Ended while no slave watched: remove it, report it gone.
                let _ = cg.destroy(&name);
                return None;
            }
            tracing::info!(container = %name, "Recovered container {name} from its cgroup");
            self.containers.insert(run, c.clone());
            let enforce = self.enforce;
            let exit = async move {
                while !cg.procs(&name).is_empty() {
                    Mesos::check_oom(&cg, &c, &enforce);
                    clock.sleep(super::RECOVERED_POLL_INTERVAL).await;
                }
                Mesos::check_oom(&cg, &c, &enforce);
                destroy(&cg, &name, &clock).await;
                UNKNOWN_EXIT_STATUS
            };
            return Some(Box::pin(exit));
        }
        let pid = pid?;
        if !launcher::session_alive(pid) {
            return None;
        }
        let c = Rc::new(Container {
            pid: Some(pid),
            cgroup: None,
            resources: RefCell::new(Resources::new()),
            limitation: RefCell::new(None),
        });
        self.containers.insert(run, c);
        let exit = async move {
            while launcher::session_alive(pid) {
                clock.sleep(super::RECOVERED_POLL_INTERVAL).await;
            }
            launcher::kill_session(pid);
            UNKNOWN_EXIT_STATUS
        };
        Some(Box::pin(exit))
    }

    fn recovered(&mut self) {
        let Some(cg) = self.cgroups.clone() else { return };
        let known: Vec<String> = self.containers.values().filter_map(|c| c.cgroup.clone()).collect();
        for name in cg.list().into_iter().filter(|n| !known.contains(n)) {
            tracing::info!(container = %name, "Cleaning up orphan container {name}");
            let (cg, clock) = (cg.clone(), self.clock.clone());
            actix::spawn(async move { destroy(&cg, &name, &clock).await });
        }
    }

    fn update(&mut self, run: Uuid, resources: &Resources) {
        let Some(c) = self.containers.get(&run) else { return };
        *c.resources.borrow_mut() = resources.clone();
        if let (Some(cg), Some(name)) = (&self.cgroups, c.cgroup.as_deref()) {
            match cg.set_limits(name, &self.limits(resources)) {
                Ok(()) => tracing::info!(container = name, %resources, "Updated container {name} to {resources}"),
                Err(e) => tracing::warn!(container = name, error = %e, "Failed to update container {name}"),
            }
        }
    }

    fn usage(&self, run: Uuid) -> Option<ResourceStatistics> {
        self.usages(&[run]).pop().flatten()
    }

    fn usages(&self, runs: &[Uuid]) -> Vec<Option<ResourceStatistics>> {
        // Posix containers are sessions: /proc is read once for all of them.
        let sessions = if self.cgroups.is_none() { procfs::by_session() } else { Default::default() };
        runs.iter().map(|run| self.containers.get(run).map(|c| self.usage_of(c, &sessions))).collect()
    }

    fn limitation(&mut self, run: Uuid) -> Option<Limitation> {
        let c = self.containers.get(&run)?;
        match &self.cgroups {
            Some(cg) => Mesos::check_oom(cg, c, &self.enforce),
            None => c.limitation.borrow().clone(),
        }
    }
}
