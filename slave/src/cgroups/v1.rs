//! cgroup v1: one hierarchy per controller. Limits are `cpu.shares`,
//! `cpu.cfs_period_us`/`cpu.cfs_quota_us`, `memory.limit_in_bytes` (and
//! the soft limit, as Mesos sets both) and `pids.max`; a container is
//! killed by freezing it (`freezer.state`), so that nothing it forks can
//! escape the sweep, SIGKILLing every process and thawing it.

use std::path::Path;
use std::time::Duration;

use super::{files, Cgroups, Controller, Error, Limits, Stats};

/// Polls of `freezer.state` while freezing (each [`FREEZE_POLL`] apart):
/// a freeze that takes longer is given up and the processes are killed
/// unfrozen (then swept again by the caller's retries).
pub const FREEZE_ATTEMPTS: u32 = 50;
pub const FREEZE_POLL: Duration = Duration::from_millis(1);
/// What v1 reports as "no memory limit" (rounded `LONG_MAX`); larger
/// than any real limit, so anything from 2^62 up means none.
const UNLIMITED: u64 = 1 << 62;

/// Creates the root cgroup in every hierarchy in use.
pub fn prepare(cg: &Cgroups) -> Result<(), Error> {
    for c in cg.controllers() {
        let d = cg.dir(c, "").expect("mounted");
        ensure_dir(&d)?;
    }
    Ok(())
}

/// `d` exists as a directory (created if missing): a file there is the
/// `--cgroups_root` mistake the slave must refuse at start.
pub(super) fn ensure_dir(d: &Path) -> Result<(), Error> {
    if d.exists() && !d.is_dir() {
        return Err(Error::Unusable(format!("--cgroups_root: {} exists and is not a directory", d.display())));
    }
    std::fs::create_dir_all(d).map_err(|e| Error::io("create the cgroups root", d, e))
}

pub fn set_limits(cg: &Cgroups, name: &str, l: &Limits) -> Result<(), Error> {
    if let (Some(shares), Some(d)) = (l.cpu_shares, cg.dir(Controller::Cpu, name)) {
        files::write(&d.join("cpu.shares"), &shares.to_string())?;
        if let Some(q) = l.cfs_quota_us {
            let period = super::limits::CPU_CFS_PERIOD.as_micros().to_string();
            files::write(&d.join("cpu.cfs_period_us"), &period)?;
            files::write(&d.join("cpu.cfs_quota_us"), &q.to_string())?;
        }
    }
    if let (Some(bytes), Some(d)) = (l.memory_bytes, cg.dir(Controller::Memory, name)) {
        files::write(&d.join("memory.soft_limit_in_bytes"), &bytes.to_string())?;
        // As Mesos: the hard limit is set the first time and raised, never
        // lowered (that could OOM-kill a container for a task that ended);
        // a smaller reservation lowers the soft limit only.
        let hard = d.join("memory.limit_in_bytes");
        let current = files::read_value(&hard).ok().flatten().filter(|b| *b < UNLIMITED);
        if current.is_none_or(|c| bytes > c) {
            files::write(&hard, &bytes.to_string())?;
        }
    }
    if let (Some(max), Some(d)) = (l.pids_max, cg.dir(Controller::Pids, name)) {
        files::write(&d.join("pids.max"), &max.to_string())?;
    }
    Ok(())
}

pub fn kill(cg: &Cgroups, name: &str) -> Result<(), Error> {
    let freezer = cg.dir(Controller::Freezer, name).expect("v1 always has the freezer");
    let state = freezer.join("freezer.state");
    files::write(&state, "FROZEN")?;
    for _ in 0..FREEZE_ATTEMPTS {
        if files::read(&state)?.trim() == "FROZEN" {
            break;
        }
        std::thread::sleep(FREEZE_POLL);
    }
    for pid in cg.procs(name) {
        if pid > 1 {
            // SAFETY: a plain syscall; pid > 1 is a process of this cgroup.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
    files::write(&state, "THAWED")
}

pub fn stats(cg: &Cgroups, name: &str) -> Stats {
    let mut s = Stats::default();
    if let Some(d) = cg.dir(Controller::Cpuacct, name) {
        if let Ok(m) = files::read_keyed(&d.join("cpuacct.stat")) {
            let hz = ticks_per_second();
            s.cpus_user_time_secs = m.get("user").map(|t| *t as f64 / hz);
            s.cpus_system_time_secs = m.get("system").map(|t| *t as f64 / hz);
        }
    }
    if let Some(d) = cg.dir(Controller::Cpu, name) {
        if let Ok(m) = files::read_keyed(&d.join("cpu.stat")) {
            s.cpus_nr_periods = m.get("nr_periods").copied();
            s.cpus_nr_throttled = m.get("nr_throttled").copied();
            s.cpus_throttled_time_secs = m.get("throttled_time").map(|ns| *ns as f64 / 1e9);
        }
    }
    if let Some(d) = cg.dir(Controller::Memory, name) {
        s.mem_total_bytes = files::read_value(&d.join("memory.usage_in_bytes")).ok().flatten();
        s.mem_max_bytes = files::read_value(&d.join("memory.max_usage_in_bytes")).ok().flatten();
        s.mem_limit_bytes =
            files::read_value(&d.join("memory.limit_in_bytes")).ok().flatten().filter(|b| *b < UNLIMITED);
        if let Ok(m) = files::read_keyed(&d.join("memory.stat")) {
            s.mem_rss_bytes = m.get("total_rss").or(m.get("rss")).copied();
            s.mem_cache_bytes = m.get("total_cache").or(m.get("cache")).copied();
        }
    }
    s
}

/// `USER_HZ`, the unit of `cpuacct.stat` and `/proc/<pid>/stat` times.
pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}
