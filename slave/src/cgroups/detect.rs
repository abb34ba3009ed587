//! Which cgroup layout a hierarchy has, from its files alone (so that a
//! fake tree in a temporary directory is detected exactly as the kernel's):
//!
//! - `<hierarchy>/cgroup.controllers` exists: cgroup v2, unified, with the
//!   controllers that file lists;
//! - otherwise cgroup v1: each controller is the directory
//!   `<hierarchy>/<controller>` holding a `cgroup.procs` (and no
//!   `cgroup.controllers`, which would make it a v2 mount). A hybrid
//!   layout (v1 controllers plus a v2 mount such as `unified/` without
//!   them) is therefore v1, as Mesos treats it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{files, Controller, Error, Version};

/// A detected layout.
#[derive(Debug, Clone)]
pub struct Found {
    pub version: Version,
    pub hierarchy: PathBuf,
    /// v1: controller -> its mount directory.
    v1: BTreeMap<Controller, PathBuf>,
    /// v2: the names in `cgroup.controllers`.
    v2: Vec<String>,
}

const ALL: [Controller; 5] =
    [Controller::Cpu, Controller::Cpuacct, Controller::Memory, Controller::Pids, Controller::Freezer];

pub fn detect(hierarchy: &Path) -> Result<Found, Error> {
    if !hierarchy.is_dir() {
        return Err(Error::Unusable(format!(
            "--cgroups_hierarchy {} is not a directory (is cgroupfs mounted?)",
            hierarchy.display()
        )));
    }
    let unified = hierarchy.join("cgroup.controllers");
    if unified.is_file() {
        let v2 = files::read(&unified)?.split_whitespace().map(str::to_string).collect();
        return Ok(Found { version: Version::V2, hierarchy: hierarchy.to_path_buf(), v1: BTreeMap::new(), v2 });
    }
    let mut v1 = BTreeMap::new();
    for c in ALL {
        let d = hierarchy.join(c.name());
        if d.join("cgroup.procs").is_file() && !d.join("cgroup.controllers").exists() {
            v1.insert(c, d);
        }
    }
    Ok(Found { version: Version::V1, hierarchy: hierarchy.to_path_buf(), v1, v2: Vec::new() })
}

impl Found {
    /// Where controller `c` is, if it is usable.
    pub fn mount_of(&self, c: Controller) -> Option<PathBuf> {
        match self.version {
            Version::V1 => self.v1.get(&c).cloned(),
            Version::V2 => match c {
                // v2 accounts cpu time in every cgroup and freezes/kills
                // through cgroup.freeze / cgroup.kill.
                Controller::Cpuacct | Controller::Freezer => Some(self.hierarchy.clone()),
                c => self.v2.iter().any(|n| n == c.name()).then(|| self.hierarchy.clone()),
            },
        }
    }

    /// The line saying why `c` cannot be used.
    pub fn missing(&self, c: Controller) -> String {
        match self.version {
            Version::V1 => format!(
                "the cgroup v1 '{}' controller is not mounted at {} (mounted: {})",
                c.name(),
                self.hierarchy.join(c.name()).display(),
                if self.v1.is_empty() {
                    "none".to_string()
                } else {
                    self.v1.keys().map(|c| c.name()).collect::<Vec<_>>().join(",")
                }
            ),
            Version::V2 => format!(
                "the cgroup v2 hierarchy {} has no '{}' controller (cgroup.controllers: {})",
                self.hierarchy.display(),
                c.name(),
                self.v2.join(" ")
            ),
        }
    }
}
