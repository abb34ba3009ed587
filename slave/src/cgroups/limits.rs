//! What a container's resources become in cgroup files: pure arithmetic,
//! with Mesos's constants (`slave/containerizer/mesos/isolators/cgroups/
//! constants.hpp`):
//!
//! - cpu: `cpu.shares` = 1024 x cpus, at least 2 (v1); v2's `cpu.weight`
//!   (1..10000) is the same share mapped as the kernel and runc map it,
//!   `1 + (shares - 2) x 9999 / 262142`;
//! - CFS (with `--cgroups_enable_cfs`): a 100 ms period and a quota of
//!   cpus x period, at least 1 ms;
//! - memory: a hard limit of the container's `mem`, at least 32 MB (Mesos's
//!   `MIN_MEMORY`: below it a process cannot even start), raised when the
//!   container grows and never lowered (Mesos: lowering could OOM-kill a
//!   container because one of its tasks ended; the soft limit follows);
//! - pids: `--cgroups_max_pids` processes (an rmesos flag: Mesos has no pids
//!   isolator in its default set; the bound is what contains a fork bomb).

use std::time::Duration;

pub const CPU_SHARES_PER_CPU: u64 = 1024;
pub const MIN_CPU_SHARES: u64 = 2;
pub const MAX_CPU_SHARES: u64 = 262_144;
pub const CPU_CFS_PERIOD: Duration = Duration::from_millis(100);
pub const MIN_CPU_CFS_QUOTA: Duration = Duration::from_millis(1);
pub const MIN_MEMORY: u64 = 32 * 1024 * 1024;

/// The limits of one container (each `None`: that controller is not
/// isolated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub cpu_shares: Option<u64>,
    /// CFS quota in microseconds per [`CPU_CFS_PERIOD`].
    pub cfs_quota_us: Option<u64>,
    pub memory_bytes: Option<u64>,
    pub pids_max: Option<u64>,
}

/// Which limits are set (from `--isolation` and `--cgroups_enable_cfs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Enforce {
    pub cpu: bool,
    pub cfs: bool,
    pub memory: bool,
    pub pids: Option<u64>,
}

impl Limits {
    /// The limits for `cpus` cpus and `mem_mb` MB of memory.
    pub fn of(cpus: f64, mem_mb: f64, enforce: Enforce) -> Limits {
        let cpus = if cpus.is_finite() && cpus > 0.0 { cpus } else { 0.0 };
        let mem_mb = if mem_mb.is_finite() && mem_mb > 0.0 { mem_mb } else { 0.0 };
        Limits {
            cpu_shares: enforce.cpu.then(|| cpu_shares(cpus)),
            cfs_quota_us: (enforce.cpu && enforce.cfs).then(|| cfs_quota_us(cpus)),
            memory_bytes: enforce.memory.then(|| ((mem_mb * 1024.0 * 1024.0) as u64).max(MIN_MEMORY)),
            pids_max: enforce.pids,
        }
    }
}

pub fn cpu_shares(cpus: f64) -> u64 {
    ((CPU_SHARES_PER_CPU as f64 * cpus) as u64).clamp(MIN_CPU_SHARES, MAX_CPU_SHARES)
}

pub fn cfs_quota_us(cpus: f64) -> u64 {
    let quota = (CPU_CFS_PERIOD.as_micros() as f64 * cpus) as u64;
    quota.max(MIN_CPU_CFS_QUOTA.as_micros() as u64)
}

/// v2 `cpu.weight` for v1 `cpu.shares`.
pub fn cpu_weight(shares: u64) -> u64 {
    let s = shares.clamp(MIN_CPU_SHARES, MAX_CPU_SHARES);
    1 + (s - MIN_CPU_SHARES) * 9999 / (MAX_CPU_SHARES - MIN_CPU_SHARES)
}

/// Bytes as Mesos prints them (`Bytes`'s operator<<): the largest unit
/// that divides evenly, B, KB, MB, GB, TB.
pub fn format_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let (mut v, mut i) = (b, 0);
    while i + 1 < UNITS.len() && v >= 1024 && v % 1024 == 0 {
        v /= 1024;
        i += 1;
    }
    format!("{v}{}", UNITS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Enforce = Enforce { cpu: true, cfs: true, memory: true, pids: Some(100) };

    #[test]
    fn mesos_constants() {
        let l = Limits::of(0.5, 64.0, ALL);
        assert_eq!(l.cpu_shares, Some(512));
        assert_eq!(l.cfs_quota_us, Some(50_000));
        assert_eq!(l.memory_bytes, Some(64 << 20));
        assert_eq!(l.pids_max, Some(100));
        // Floors: 2 shares, 1 ms of quota, 32 MB.
        let l = Limits::of(0.0001, 1.0, ALL);
        assert_eq!((l.cpu_shares, l.cfs_quota_us, l.memory_bytes), (Some(2), Some(1000), Some(MIN_MEMORY)));
        // Nonsense input is the floor, never a panic or a huge value.
        let l = Limits::of(f64::NAN, -3.0, ALL);
        assert_eq!((l.cpu_shares, l.memory_bytes), (Some(2), Some(MIN_MEMORY)));
        let l = Limits::of(1.0, 64.0, Enforce { cpu: true, cfs: false, memory: false, pids: None });
        assert_eq!(l, Limits { cpu_shares: Some(1024), ..Limits::default() });
    }

    #[test]
    fn weight_and_bytes() {
        assert_eq!(cpu_weight(2), 1);
        assert_eq!(cpu_weight(MAX_CPU_SHARES), 10000);
        assert_eq!(cpu_weight(1024), 39);
        assert_eq!(format_bytes(32 << 20), "32MB");
        assert_eq!(format_bytes(1536), "1536B");
        assert_eq!(format_bytes(3 << 30), "3GB");
    }
}
