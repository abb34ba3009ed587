//! What this machine has to offer, for `--resources` left unset: cpus (the
//! number of CPUs), mem (total memory minus 1 GiB for the system, or half
//! of it on a small machine), disk (the work dir's filesystem minus 5 GiB,
//! or half of it when small) and ports `[31000-32000]`, as Mesos's agent
//! computes its defaults. Resources given by the operator win; only the
//! ones left out are filled in.

use std::path::Path;

use rmesos::{Ranges, Resources};

const MIB: u64 = 1024 * 1024;
/// Memory left to the system (Mesos: 1 GiB).
pub const MEM_RESERVED_MB: u64 = 1024;
/// Disk left to the system (Mesos: 5 GiB).
pub const DISK_RESERVED_MB: u64 = 5 * 1024;
/// Default port range offered (Mesos's).
pub const DEFAULT_PORTS: (u64, u64) = (31000, 32000);

/// `given` with cpus/mem/disk/ports filled in from the machine where absent.
pub fn with_defaults(given: Option<Resources>, work_dir: &Path) -> Resources {
    let mut r = given.unwrap_or_default();
    if r.scalar("cpus").is_zero() {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
        r = r.clone().with_scalar("cpus", cpus).unwrap_or(r);
    }
    if r.scalar("mem").is_zero() {
        let mb = usable(total_memory_mb().unwrap_or(2 * MEM_RESERVED_MB), MEM_RESERVED_MB);
        r = r.clone().with_scalar("mem", mb as f64).unwrap_or(r);
    }
    if r.scalar("disk").is_zero() {
        let mb = usable(disk_mb(work_dir).unwrap_or(2 * DISK_RESERVED_MB), DISK_RESERVED_MB);
        r = r.clone().with_scalar("disk", mb as f64).unwrap_or(r);
    }
    if r.ranges("ports").is_none() {
        r = r.with_ranges("ports", Ranges::from_intervals([DEFAULT_PORTS]));
    }
    r
}

/// Total minus the reserve, or half when the total is under twice the reserve.
fn usable(total_mb: u64, reserve_mb: u64) -> u64 {
    if total_mb >= 2 * reserve_mb {
        total_mb - reserve_mb
    } else {
        total_mb / 2
    }
}

fn total_memory_mb() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

fn disk_mb(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a valid out pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some((s.f_blocks as u64).saturating_mul(s.f_frsize as u64) / MIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_resources_win_and_the_rest_is_detected() {
        let r = with_defaults(Some(Resources::parse("cpus:3;mem:100").unwrap()), Path::new("/"));
        assert_eq!(r.cpus(), 3.0);
        assert_eq!(r.mem(), 100.0);
        assert!(r.disk() > 0.0);
        assert_eq!(r.ports().count(), 1001);
        let d = with_defaults(None, Path::new("/"));
        assert!(d.cpus() >= 1.0 && d.mem() > 0.0);
        assert_eq!(usable(8192, 1024), 7168);
        assert_eq!(usable(1500, 1024), 750);
    }
}
