//! Sandbox garbage collection (Mesos's `GarbageCollector` and the slave's
//! disk watch): the sandboxes of executors and frameworks that are over
//! are scheduled for removal `--gc_delay` (default 1 week) after they
//! ended, and sooner as the disk fills: every `--disk_watch_interval`
//! (default 1 minute) the disk's usage `u` gives the age limit
//!
//! ```text
//! age limit = gc_delay x max(0, 1 - gc_disk_headroom - u)
//! ```
//!
//! and every path scheduled at least that long ago is removed (Mesos's
//! `prune(gc_delay - age)`). A path in use (an ancestor of a live
//! executor's sandbox) is never removed: it is unscheduled when an
//! executor launches under it, and checked again before removal.
//!
//! [`Gc`] is pure (times are libprocess [`Time`]s, so a paused clock jumps
//! a week in a millisecond); the disk's usage comes from a [`DiskUsage`]
//! ([`disk::Statvfs`] for real, a fake in tests). The slave's shell owns
//! one and performs the removals it returns.

pub mod disk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use libprocess::Time;

pub use disk::{DiskUsage, Statvfs};

/// Mesos's defaults.
pub const DEFAULT_GC_DELAY: Duration = Duration::from_secs(7 * 24 * 3600);
pub const DEFAULT_GC_DISK_HEADROOM: f64 = 0.1;
pub const DEFAULT_DISK_WATCH_INTERVAL: Duration = Duration::from_secs(60);

/// The age limit for disk usage `usage` (a fraction, 0..1).
pub fn age_limit(delay: Duration, headroom: f64, usage: f64) -> Duration {
    let left = (1.0 - headroom - usage).clamp(0.0, 1.0);
    delay.mul_f64(if left.is_finite() { left } else { 0.0 })
}

/// Paths scheduled for removal (see the module doc).
#[derive(Debug, Clone)]
pub struct Gc {
    delay: Duration,
    headroom: f64,
    /// Path -> when it was scheduled.
    scheduled: BTreeMap<PathBuf, Time>,
}

impl Gc {
    pub fn new(delay: Duration, headroom: f64) -> Gc {
        Gc { delay, headroom, scheduled: BTreeMap::new() }
    }

    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// Schedules `path` for removal after the delay (rescheduling restarts it).
    pub fn schedule(&mut self, path: PathBuf, now: Time) {
        tracing::debug!(path = %path.display(), "Scheduling '{}' for gc in {:?}", path.display(), self.delay);
        self.scheduled.insert(path, now);
    }

    /// Something is being launched at `path`: it and its ancestors are in
    /// use and no longer scheduled.
    pub fn in_use(&mut self, path: &Path) {
        self.scheduled.retain(|p, _| !path.starts_with(p));
    }

    pub fn is_scheduled(&self, path: &Path) -> bool {
        self.scheduled.contains_key(path)
    }

    pub fn len(&self) -> usize {
        self.scheduled.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scheduled.is_empty()
    }

    /// Takes the paths due at `now` (scheduled at least the delay ago).
    pub fn due(&mut self, now: Time) -> Vec<PathBuf> {
        self.older_than(now, self.delay)
    }

    /// The disk is `usage` full: takes the paths older than the age limit.
    pub fn prune(&mut self, now: Time, usage: f64) -> Vec<PathBuf> {
        self.older_than(now, age_limit(self.delay, self.headroom, usage))
    }

    fn older_than(&mut self, now: Time, age: Duration) -> Vec<PathBuf> {
        let due: Vec<PathBuf> =
            self.scheduled.iter().filter(|(_, at)| now.saturating_since(**at) >= age).map(|(p, _)| p.clone()).collect();
        for p in &due {
            self.scheduled.remove(p);
        }
        due
    }
}

/// The slave shell's collector: a [`Gc`], the disk it watches and the
/// sandboxes root it may remove under.
pub struct Collector {
    pub gc: Gc,
    disk: Box<dyn DiskUsage>,
    /// `--disk_watch_interval`.
    pub interval: Duration,
    root: PathBuf,
}

impl Collector {
    pub fn new(gc: Gc, interval: Duration, root: PathBuf, disk: Box<dyn DiskUsage>) -> Collector {
        Collector { gc, disk, interval, root }
    }

    /// Removes the paths due at `now`; returns those removed.
    pub fn collect_due(&mut self, now: Time, in_use: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
        let due = self.gc.due(now);
        due.into_iter().filter(|p| remove(&self.root, p, &in_use)).collect()
    }

    /// Reads the disk's usage and removes what its age limit says.
    pub fn watch_disk(&mut self, now: Time, in_use: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
        let usage = match self.disk.usage() {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(error = %e, "Failed to read the disk usage of {}: {e}", self.root.display());
                return Vec::new();
            }
        };
        let limit = age_limit(self.gc.delay, self.gc.headroom, usage);
        let pruned = self.gc.prune(now, usage);
        if !pruned.is_empty() {
            tracing::info!(usage, "Disk usage {:.1}%: pruning sandboxes older than {limit:?}", usage * 100.0);
        }
        pruned.into_iter().filter(|p| remove(&self.root, p, &in_use)).collect()
    }
}

/// Removes `path` (a sandbox under `root`) unless `in_use` says a live
/// executor is under it; logs what it removed. Returns whether it did.
pub fn remove(root: &Path, path: &Path, in_use: impl Fn(&Path) -> bool) -> bool {
    if !path.starts_with(root) || path == root {
        tracing::error!(path = %path.display(), "Refusing to gc '{}': not a sandbox", path.display());
        return false;
    }
    if in_use(path) {
        tracing::info!(path = %path.display(), "Not removing '{}': in use", path.display());
        return false;
    }
    match std::fs::remove_dir_all(path) {
        Ok(()) => {
            tracing::info!(path = %path.display(), "Garbage collected '{}'", path.display());
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "Failed to gc '{}': {e}", path.display());
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> Time {
        Time::default() + Duration::from_secs(secs)
    }

    const WEEK: Duration = DEFAULT_GC_DELAY;

    #[test]
    fn age_limit_as_mesos() {
        assert_eq!(age_limit(WEEK, 0.1, 0.0), WEEK.mul_f64(0.9));
        assert_eq!(age_limit(WEEK, 0.1, 0.5), WEEK.mul_f64(0.4));
        assert_eq!(age_limit(WEEK, 0.1, 0.95), Duration::ZERO);
        assert_eq!(age_limit(WEEK, 0.1, f64::NAN), Duration::ZERO);
    }

    #[test]
    fn paths_go_after_the_delay_or_sooner_as_the_disk_fills() {
        let mut gc = Gc::new(WEEK, 0.1);
        gc.schedule(PathBuf::from("/w/slaves/s/frameworks/f/executors/old"), t(0));
        gc.schedule(PathBuf::from("/w/slaves/s/frameworks/f/executors/new"), t(3 * 24 * 3600));
        assert!(gc.due(t(6 * 24 * 3600)).is_empty());
        // Half full: the age limit is 0.4 weeks (2.8 days): only "old" goes.
        assert_eq!(gc.prune(t(4 * 24 * 3600), 0.5), vec![PathBuf::from("/w/slaves/s/frameworks/f/executors/old")]);
        // Full: everything goes at once.
        assert_eq!(gc.prune(t(4 * 24 * 3600), 0.99).len(), 1);
        assert!(gc.is_empty());
        gc.schedule(PathBuf::from("/w/x"), t(0));
        assert_eq!(gc.due(t(7 * 24 * 3600)), vec![PathBuf::from("/w/x")]);
    }

    #[test]
    fn a_path_in_use_is_unscheduled_with_its_ancestors() {
        let mut gc = Gc::new(WEEK, 0.1);
        let fw = PathBuf::from("/w/slaves/s/frameworks/f");
        let other = PathBuf::from("/w/slaves/s/frameworks/g");
        gc.schedule(fw.clone(), t(0));
        gc.schedule(other.clone(), t(0));
        gc.in_use(&fw.join("executors/e/runs/r"));
        assert!(!gc.is_scheduled(&fw) && gc.is_scheduled(&other));
    }

    /// The collector on a paused clock with a fake disk: a week passes in
    /// a millisecond, and a disk filling up removes sandboxes sooner.
    #[actix_rt::test]
    async fn collector_on_a_paused_clock_with_a_fake_disk() {
        let clock = libprocess::Clock::paused();
        let root = std::env::temp_dir().join(format!("rmesos-gcsim-{}", uuid::Uuid::new_v4()));
        let (e1, e2, live) = (root.join("e1"), root.join("e2"), root.join("live/runs/r"));
        for d in [&e1, &e2, &live] {
            std::fs::create_dir_all(d).unwrap();
        }
        let usage = std::rc::Rc::new(std::cell::Cell::new(0.2));
        let u = usage.clone();
        let disk = Box::new(move || Ok(u.get()));
        let mut c = Collector::new(Gc::new(WEEK, 0.1), DEFAULT_DISK_WATCH_INTERVAL, root.clone(), disk);
        c.gc.schedule(e1.clone(), clock.now());
        c.gc.schedule(root.join("live"), clock.now());
        clock.advance(Duration::from_secs(24 * 3600)).await;
        c.gc.schedule(e2.clone(), clock.now());
        let in_use = |p: &Path| live.starts_with(p);
        // 20% full: the age limit is 0.7 weeks; nothing is that old yet.
        assert!(c.watch_disk(clock.now(), in_use).is_empty());
        // 85% full: 0.05 weeks (8.4 h): e1 (1 day old) goes, e2 (just now) stays.
        usage.set(0.85);
        assert_eq!(c.watch_disk(clock.now(), in_use), vec![e1.clone()]);
        assert!(!e1.exists() && e2.exists());
        // A week after e2 ended it goes; the live executor's dir never does.
        clock.advance(WEEK).await;
        usage.set(0.2);
        assert_eq!(c.collect_due(clock.now(), in_use), vec![e2.clone()]);
        assert!(live.exists());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn removal_stays_inside_and_spares_what_is_in_use() {
        let root = std::env::temp_dir().join(format!("rmesos-gc-{}", uuid::Uuid::new_v4()));
        let a = root.join("a/b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::write(a.join("stdout"), "x").unwrap();
        assert!(!remove(&root, Path::new("/etc"), |_| false));
        assert!(!remove(&root, &root, |_| false));
        assert!(!remove(&root, &root.join("a"), |_| true));
        assert!(a.exists());
        assert!(remove(&root, &root.join("a"), |_| false));
        assert!(!root.join("a").exists());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
