//! Linux control groups, as the slave's containerizer uses them: one
//! cgroup per container, `<hierarchy>/<controller>/<cgroups_root>/<name>`
//! on cgroup v1 (one hierarchy per controller, as Mesos lays them out) or
//! `<hierarchy>/<cgroups_root>/<name>` on v2 (unified).
//!
//! [`Cgroups::open`] detects the layout ([`detect`]) and refuses, with one
//! clear error, what cannot work: a missing controller, a `--cgroups_root`
//! that is a file or leaves the hierarchy, a hierarchy we cannot write.
//! Then every operation is a plain file operation on cgroupfs: create,
//! enter (the pids a launcher moves in before exec), limits ([`limits`]),
//! statistics, OOM kills ([`oom`]), kill every process (v1: freezer, so
//! that nothing forks while the kill sweeps; v2: `cgroup.kill`) and
//! remove. Version-specific file names and procedures live in [`v1`] and
//! [`v2`]; nothing here keeps state about containers (recovery lists the
//! cgroups that exist: [`Cgroups::list`]).

pub mod detect;
pub mod files;
pub mod limits;
pub mod oom;
pub mod v1;
pub mod v2;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

pub use limits::Limits;

/// The cgroup versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// The controllers the isolators use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Controller {
    Cpu,
    Cpuacct,
    Memory,
    Pids,
    /// v1 only: how every process of a container is stopped for its kill
    /// (v2 has `cgroup.freeze` and `cgroup.kill` in every cgroup).
    Freezer,
}

impl Controller {
    pub fn name(self) -> &'static str {
        match self {
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Freezer => "freezer",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot {op} {path}: {source}")]
    Io { op: String, path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Unusable(String),
}

impl Error {
    pub fn io(op: &str, path: &Path, source: std::io::Error) -> Error {
        Error::Io { op: op.to_string(), path: path.to_path_buf(), source }
    }
}

/// Usage read from a container's cgroups (each `None`: not available in
/// this layout or for these controllers).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub cpus_user_time_secs: Option<f64>,
    pub cpus_system_time_secs: Option<f64>,
    pub cpus_nr_periods: Option<u64>,
    pub cpus_nr_throttled: Option<u64>,
    pub cpus_throttled_time_secs: Option<f64>,
    pub mem_total_bytes: Option<u64>,
    pub mem_rss_bytes: Option<u64>,
    pub mem_cache_bytes: Option<u64>,
    pub mem_limit_bytes: Option<u64>,
    pub mem_max_bytes: Option<u64>,
    pub processes: u64,
}

/// The cgroups of one slave (see the module doc).
#[derive(Debug, Clone)]
pub struct Cgroups {
    version: Version,
    /// `--cgroups_root`, relative to each hierarchy.
    root: PathBuf,
    /// Where each controller in use is mounted (v2: all at the hierarchy).
    mounts: BTreeMap<Controller, PathBuf>,
    /// The distinct root cgroup directories (co-mounted controllers share
    /// one), resolved once at open.
    roots: Vec<PathBuf>,
}

impl Cgroups {
    /// Detects the layout under `hierarchy` (`--cgroups_hierarchy`), checks
    /// that `controllers` are there and creates `root` (`--cgroups_root`)
    /// in each of them (v2: enabling the controllers for its children).
    /// The freezer is always added (it is how containers are killed; on v2
    /// it is `cgroup.freeze`/`cgroup.kill`, in every cgroup).
    pub fn open(hierarchy: &Path, root: &str, controllers: &[Controller]) -> Result<Cgroups, Error> {
        let root = check_root(root)?;
        let found = detect::detect(hierarchy)?;
        let mut wanted: Vec<Controller> = controllers.to_vec();
        if !wanted.contains(&Controller::Freezer) {
            wanted.push(Controller::Freezer);
        }
        let mut mounts = BTreeMap::new();
        for c in wanted {
            let Some(dir) = found.mount_of(c) else {
                return Err(Error::Unusable(found.missing(c)));
            };
            mounts.insert(c, dir);
        }
        let mut cg = Cgroups { version: found.version, root, mounts, roots: Vec::new() };
        match cg.version {
            Version::V1 => v1::prepare(&cg)?,
            Version::V2 => v2::prepare(&cg, hierarchy)?,
        }
        for c in cg.mounts.keys() {
            let d = cg.dir(*c, "").expect("mounted");
            let real = d.canonicalize().map_err(|e| Error::io("resolve", &d, e))?;
            if !cg.roots.contains(&real) {
                cg.roots.push(real);
            }
        }
        Ok(cg)
    }

    pub fn version(&self) -> Version {
        self.version
    }

    pub fn controllers(&self) -> impl Iterator<Item = Controller> + '_ {
        self.mounts.keys().copied()
    }

    pub fn has(&self, c: Controller) -> bool {
        self.mounts.contains_key(&c)
    }

    /// `<mount of c>/<root>/<name>` (`name` empty: the root cgroup itself).
    pub fn dir(&self, c: Controller, name: &str) -> Option<PathBuf> {
        let d = self.mounts.get(&c)?.join(&self.root);
        Some(if name.is_empty() { d } else { d.join(name) })
    }

    /// Every distinct directory of cgroup `name` (co-mounted controllers,
    /// and all of v2, share one).
    pub fn dirs(&self, name: &str) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for c in self.mounts.keys() {
            let d = self.dir(*c, name).expect("mounted");
            let real =
                d.parent().and_then(|p| p.canonicalize().ok()).map(|p| p.join(d.file_name().unwrap_or_default()));
            let key = real.unwrap_or(d);
            if !out.contains(&key) {
                out.push(key);
            }
        }
        out
    }

    /// The cgroup whose process list is the container's (v1: the
    /// freezer's, which every container has).
    fn main_dir(&self, name: &str) -> PathBuf {
        match self.version {
            Version::V1 => self.dir(Controller::Freezer, name).expect("v1 always has the freezer"),
            Version::V2 => self.mounts.values().next().expect("v2 has a mount").join(&self.root).join(name),
        }
    }

    /// Creates cgroup `name` in every hierarchy in use.
    pub fn create(&self, name: &str) -> Result<(), Error> {
        check_name(name)?;
        for d in self.dirs(name) {
            match std::fs::create_dir(&d) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io("create cgroup", &d, e)),
            }
        }
        Ok(())
    }

    /// The `cgroup.procs` files a process writes itself into (before exec)
    /// to be in cgroup `name` everywhere.
    pub fn procs_files(&self, name: &str) -> Vec<PathBuf> {
        self.dirs(name).into_iter().map(|d| d.join("cgroup.procs")).collect()
    }

    /// Moves process `pid` into cgroup `name` everywhere.
    pub fn enter(&self, name: &str, pid: u32) -> Result<(), Error> {
        for f in self.procs_files(name) {
            files::write(&f, &pid.to_string())?;
        }
        Ok(())
    }

    /// The processes in cgroup `name`.
    pub fn procs(&self, name: &str) -> Vec<i32> {
        files::procs(&self.main_dir(name).join("cgroup.procs"))
    }

    /// Whether cgroup `name` exists.
    pub fn exists(&self, name: &str) -> bool {
        self.main_dir(name).is_dir()
    }

    /// Writes the limits of cgroup `name` (each `None` is left alone).
    pub fn set_limits(&self, name: &str, l: &Limits) -> Result<(), Error> {
        match self.version {
            Version::V1 => v1::set_limits(self, name, l),
            Version::V2 => v2::set_limits(self, name, l),
        }
    }

    /// SIGKILLs every process of cgroup `name`, forks included (they are
    /// reaped by their parents or init; the cgroup empties soon after).
    pub fn kill(&self, name: &str) -> Result<(), Error> {
        match self.version {
            Version::V1 => v1::kill(self, name),
            Version::V2 => v2::kill(self, name),
        }
    }

    /// Removes cgroup `name` everywhere (it must be empty: kill first and
    /// wait for [`Cgroups::procs`] to be empty).
    pub fn destroy(&self, name: &str) -> Result<(), Error> {
        check_name(name)?;
        for d in self.dirs(name) {
            match std::fs::remove_dir(&d) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove cgroup", &d, e)),
            }
        }
        Ok(())
    }

    /// The cgroups under the root (recovery finds containers by them).
    pub fn list(&self) -> Vec<String> {
        let root = self.main_dir("");
        let Ok(dir) = std::fs::read_dir(&root) else { return Vec::new() };
        let mut names: Vec<String> = dir
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    pub fn stats(&self, name: &str) -> Stats {
        let mut s = match self.version {
            Version::V1 => v1::stats(self, name),
            Version::V2 => v2::stats(self, name),
        };
        s.processes = self.procs(name).len() as u64;
        s
    }
}

/// `--cgroups_root`: a relative path inside the hierarchy.
fn check_root(root: &str) -> Result<PathBuf, Error> {
    let p = Path::new(root);
    let ok = !root.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    if !ok {
        return Err(Error::Unusable(format!(
            "--cgroups_root '{root}' must be a relative path inside the hierarchy (no '/', '..' or '.' at its start)"
        )));
    }
    Ok(p.to_path_buf())
}

/// A container's cgroup name: one path component.
fn check_name(name: &str) -> Result<(), Error> {
    let mut c = Path::new(name).components();
    match (c.next(), c.next()) {
        (Some(Component::Normal(_)), None) => Ok(()),
        _ => Err(Error::Unusable(format!("'{name}' is not a valid cgroup name"))),
    }
}

#[cfg(test)]
mod tests;

/// The `cgroup.procs` files of [`Cgroups::procs_files`] as C strings, made
/// before a fork so that [`join_self`] allocates nothing after it.
pub fn procs_cstrings(files: &[PathBuf]) -> std::io::Result<Vec<std::ffi::CString>> {
    use std::os::unix::ffi::OsStrExt;
    files.iter().map(|f| std::ffi::CString::new(f.as_os_str().as_bytes()).map_err(std::io::Error::other)).collect()
}

/// Moves the calling process into the cgroups whose `cgroup.procs` files
/// are `files` (writing `0`: "myself"). Async-signal-safe: meant for
/// `pre_exec`, so the executor is in its cgroups before it runs a single
/// instruction of its own, and so is everything it forks.
pub fn join_self(files: &[std::ffi::CString]) -> std::io::Result<()> {
    for f in files {
        // SAFETY: open/write/close on a valid NUL-terminated path and a
        // static buffer; no allocation.
        unsafe {
            let fd = libc::open(f.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let n = libc::write(fd, b"0".as_ptr().cast(), 1);
            let err = std::io::Error::last_os_error();
            libc::close(fd);
            if n != 1 {
                return Err(err);
            }
        }
    }
    Ok(())
}
