//! cgroup v2 (unified): controllers are enabled for the root's children
//! through `cgroup.subtree_control` at each level from the hierarchy down
//! to `--cgroups_root`; limits are `cpu.weight`, `cpu.max`, `memory.max`
//! and `pids.max`; a container is killed whole by `cgroup.kill` (Linux
//! 5.14), else by `cgroup.freeze` then SIGKILL and thaw.

use std::path::Path;

use super::{files, limits, Cgroups, Controller, Error, Limits, Stats};

/// Creates the root cgroup and enables the controllers in use for the
/// containers below it.
pub fn prepare(cg: &Cgroups, hierarchy: &Path) -> Result<(), Error> {
    let enable: Vec<String> = cg
        .controllers()
        .filter(|c| matches!(c, Controller::Cpu | Controller::Memory | Controller::Pids))
        .map(|c| format!("+{}", c.name()))
        .collect();
    let root = cg.dir(cg.controllers().next().expect("at least one controller"), "").expect("mounted");
    super::v1::ensure_dir(&root)?;
    if enable.is_empty() {
        return Ok(());
    }
    // Every level from the hierarchy down to the root passes them on.
    let mut level = hierarchy.to_path_buf();
    let rel = root.strip_prefix(hierarchy).map(Path::to_path_buf).unwrap_or_default();
    let mut levels = vec![level.clone()];
    for c in rel.components() {
        level = level.join(c);
        levels.push(level.clone());
    }
    for l in levels {
        files::write(&l.join("cgroup.subtree_control"), &enable.join(" "))?;
    }
    Ok(())
}

pub fn set_limits(cg: &Cgroups, name: &str, l: &Limits) -> Result<(), Error> {
    if let (Some(shares), Some(d)) = (l.cpu_shares, cg.dir(Controller::Cpu, name)) {
        files::write(&d.join("cpu.weight"), &limits::cpu_weight(shares).to_string())?;
        let period = limits::CPU_CFS_PERIOD.as_micros();
        let max = l.cfs_quota_us.map(|q| q.to_string()).unwrap_or_else(|| "max".into());
        files::write(&d.join("cpu.max"), &format!("{max} {period}"))?;
    }
    if let (Some(bytes), Some(d)) = (l.memory_bytes, cg.dir(Controller::Memory, name)) {
        // Set the first time and raised, never lowered (as on v1).
        let max = d.join("memory.max");
        let current = files::read_value(&max).ok().flatten();
        if current.is_none_or(|c| bytes > c) {
            files::write(&max, &bytes.to_string())?;
        }
    }
    if let (Some(max), Some(d)) = (l.pids_max, cg.dir(Controller::Pids, name)) {
        files::write(&d.join("pids.max"), &max.to_string())?;
    }
    Ok(())
}

pub fn kill(cg: &Cgroups, name: &str) -> Result<(), Error> {
    let d = cg.dir(Controller::Freezer, name).expect("v2 freezes in every cgroup");
    let kill = d.join("cgroup.kill");
    if kill.exists() {
        return files::write(&kill, "1");
    }
    let freeze = d.join("cgroup.freeze");
    files::write(&freeze, "1")?;
    for pid in cg.procs(name) {
        if pid > 1 {
            // SAFETY: a plain syscall; pid > 1 is a process of this cgroup.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
    files::write(&freeze, "0")
}

pub fn stats(cg: &Cgroups, name: &str) -> Stats {
    let mut s = Stats::default();
    // cpu.stat is in every v2 cgroup (the freezer's dir is the unified one).
    if let Some(d) = cg.dir(Controller::Freezer, name) {
        if let Ok(m) = files::read_keyed(&d.join("cpu.stat")) {
            let secs = |k: &str| m.get(k).map(|us| *us as f64 / 1e6);
            s.cpus_user_time_secs = secs("user_usec");
            s.cpus_system_time_secs = secs("system_usec");
            s.cpus_throttled_time_secs = secs("throttled_usec");
            s.cpus_nr_periods = m.get("nr_periods").copied();
            s.cpus_nr_throttled = m.get("nr_throttled").copied();
        }
    }
    if let Some(d) = cg.dir(Controller::Memory, name) {
        s.mem_total_bytes = files::read_value(&d.join("memory.current")).ok().flatten();
        s.mem_max_bytes = files::read_value(&d.join("memory.peak")).ok().flatten();
        s.mem_limit_bytes = files::read_value(&d.join("memory.max")).ok().flatten();
        if let Ok(m) = files::read_keyed(&d.join("memory.stat")) {
            s.mem_rss_bytes = m.get("anon").copied();
            s.mem_cache_bytes = m.get("file").copied();
        }
    }
    s
}
