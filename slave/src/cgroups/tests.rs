//! The cgroups layer against fake cgroupfs trees (temporary directories
//! with the files the kernel would have): detection of v1, v2 and hybrid
//! layouts, the errors for what cannot work, limits and statistics in
//! each version's files. Real cgroups are exercised by
//! `slave/tests/isolation.rs`.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;

struct Tmp(PathBuf);

impl Tmp {
    fn new() -> Tmp {
        let p = std::env::temp_dir().join(format!("rmesos-cgfake-{}", uuid::Uuid::new_v4()));
        fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn touch(p: &Path, content: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

/// A v1 layout: one directory per controller, plus a v2 `unified` mount
/// without controllers (the hybrid layout of the project's machines).
fn fake_v1(h: &Path, controllers: &[&str]) {
    for c in controllers {
        touch(&h.join(c).join("cgroup.procs"), "");
    }
    touch(&h.join("unified/cgroup.controllers"), "");
    touch(&h.join("unified/cgroup.procs"), "");
}

fn fake_v2(h: &Path, controllers: &str) {
    touch(&h.join("cgroup.controllers"), controllers);
    touch(&h.join("cgroup.procs"), "");
    touch(&h.join("cgroup.subtree_control"), "");
}

const CPU_MEM: [Controller; 3] = [Controller::Cpu, Controller::Cpuacct, Controller::Memory];

#[test]
fn hybrid_layout_is_v1() {
    let t = Tmp::new();
    fake_v1(&t.0, &["cpu", "cpuacct", "memory", "pids", "freezer"]);
    let cg = Cgroups::open(&t.0, "rmesos", &CPU_MEM).unwrap();
    assert_eq!(cg.version(), Version::V1);
    assert!(cg.has(Controller::Freezer), "the freezer is always used on v1");
    assert!(t.0.join("memory/rmesos").is_dir() && t.0.join("freezer/rmesos").is_dir());
    assert!(!t.0.join("pids/rmesos").exists(), "only controllers in use get a root");
    cg.create("c1").unwrap();
    assert!(t.0.join("cpu/rmesos/c1").is_dir());
    assert_eq!(cg.list(), vec!["c1".to_string()]);
    assert_eq!(cg.procs_files("c1").len(), 4);
    let l = Limits::of(0.5, 64.0, limits::Enforce { cpu: true, cfs: true, memory: true, pids: None });
    cg.set_limits("c1", &l).unwrap();
    assert_eq!(fs::read_to_string(t.0.join("cpu/rmesos/c1/cpu.shares")).unwrap(), "512");
    assert_eq!(fs::read_to_string(t.0.join("cpu/rmesos/c1/cpu.cfs_quota_us")).unwrap(), "50000");
    assert_eq!(fs::read_to_string(t.0.join("memory/rmesos/c1/memory.limit_in_bytes")).unwrap(), "67108864");
    let bigger = Limits::of(0.5, 96.0, limits::Enforce { memory: true, ..Default::default() });
    cg.set_limits("c1", &bigger).unwrap();
    assert_eq!(fs::read_to_string(t.0.join("memory/rmesos/c1/memory.limit_in_bytes")).unwrap(), "100663296");
    cg.set_limits("c1", &l).unwrap();
    assert_eq!(fs::read_to_string(t.0.join("memory/rmesos/c1/memory.limit_in_bytes")).unwrap(), "100663296");
    assert_eq!(fs::read_to_string(t.0.join("memory/rmesos/c1/memory.soft_limit_in_bytes")).unwrap(), "67108864");
}

#[test]
fn v1_statistics_from_its_files() {
    let t = Tmp::new();
    fake_v1(&t.0, &["cpu", "cpuacct", "memory", "freezer"]);
    let cg = Cgroups::open(&t.0, "r", &CPU_MEM).unwrap();
    cg.create("c").unwrap();
    let hz = v1::ticks_per_second();
    touch(&t.0.join("cpuacct/r/c/cpuacct.stat"), &format!("user {}\nsystem {}\n", 3.0 * hz, hz));
    touch(&t.0.join("cpu/r/c/cpu.stat"), "nr_periods 10\nnr_throttled 4\nthrottled_time 2500000000\n");
    touch(&t.0.join("memory/r/c/memory.usage_in_bytes"), "4096\n");
    touch(&t.0.join("memory/r/c/memory.limit_in_bytes"), "9223372036854771712\n");
    touch(&t.0.join("memory/r/c/memory.stat"), "cache 1\nrss 2\ntotal_cache 100\ntotal_rss 200\n");
    touch(&t.0.join("memory/r/c/memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    touch(&t.0.join("freezer/r/c/cgroup.procs"), "12\n13\n");
    let s = cg.stats("c");
    assert_eq!(s.cpus_user_time_secs, Some(3.0));
    assert_eq!(s.cpus_system_time_secs, Some(1.0));
    assert_eq!((s.cpus_nr_periods, s.cpus_nr_throttled), (Some(10), Some(4)));
    assert_eq!(s.cpus_throttled_time_secs, Some(2.5));
    assert_eq!((s.mem_total_bytes, s.mem_rss_bytes, s.mem_cache_bytes), (Some(4096), Some(200), Some(100)));
    assert_eq!(s.mem_limit_bytes, None, "v1's 'unlimited' is no limit");
    assert_eq!(s.processes, 2);
    assert_eq!(oom::kills(&cg, "c"), 2);
    assert_eq!(cg.procs("c"), vec![12, 13]);
}

#[test]
fn v2_limits_and_statistics() {
    let t = Tmp::new();
    fake_v2(&t.0, "cpuset cpu io memory pids");
    let cg = Cgroups::open(&t.0, "rmesos", &[Controller::Cpu, Controller::Memory, Controller::Pids]).unwrap();
    assert_eq!(cg.version(), Version::V2);
    assert_eq!(fs::read_to_string(t.0.join("cgroup.subtree_control")).unwrap(), "+cpu +memory +pids");
    assert_eq!(fs::read_to_string(t.0.join("rmesos/cgroup.subtree_control")).unwrap(), "+cpu +memory +pids");
    cg.create("c").unwrap();
    assert_eq!(cg.dirs("c").len(), 1, "one unified directory");
    let l = Limits::of(2.0, 128.0, limits::Enforce { cpu: true, cfs: true, memory: true, pids: Some(64) });
    cg.set_limits("c", &l).unwrap();
    let read = |f: &str| fs::read_to_string(t.0.join("rmesos/c").join(f)).unwrap();
    assert_eq!(read("cpu.weight"), limits::cpu_weight(2048).to_string());
    assert_eq!(read("cpu.max"), "200000 100000");
    assert_eq!(read("memory.max"), (128u64 << 20).to_string());
    assert_eq!(read("pids.max"), "64");
    let smaller = Limits::of(2.0, 64.0, limits::Enforce { memory: true, ..Default::default() });
    cg.set_limits("c", &smaller).unwrap();
    assert_eq!(read("memory.max"), (128u64 << 20).to_string(), "a hard limit is never lowered");
    let no_cfs = Limits::of(1.0, 1.0, limits::Enforce { cpu: true, ..Default::default() });
    cg.set_limits("c", &no_cfs).unwrap();
    assert_eq!(read("cpu.max"), "max 100000");

    touch(&t.0.join("rmesos/c/cpu.stat"), "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\nnr_periods 7\nnr_throttled 5\nthrottled_usec 500000\n");
    touch(&t.0.join("rmesos/c/memory.current"), "8192\n");
    touch(&t.0.join("rmesos/c/memory.stat"), "anon 6000\nfile 2000\n");
    touch(&t.0.join("rmesos/c/memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    touch(&t.0.join("rmesos/c/cgroup.procs"), "42\n");
    let s = cg.stats("c");
    assert_eq!((s.cpus_user_time_secs, s.cpus_system_time_secs), (Some(2.0), Some(1.0)));
    assert_eq!((s.cpus_nr_periods, s.cpus_nr_throttled, s.cpus_throttled_time_secs), (Some(7), Some(5), Some(0.5)));
    assert_eq!((s.mem_total_bytes, s.mem_rss_bytes, s.mem_cache_bytes), (Some(8192), Some(6000), Some(2000)));
    assert_eq!(s.mem_limit_bytes, Some(128 << 20), "memory.max as written (the cpu-only update left it)");
    assert_eq!(s.processes, 1);
    assert_eq!(oom::kills(&cg, "c"), 1);

    // A kill on a kernel with cgroup.kill is one write.
    touch(&t.0.join("rmesos/c/cgroup.kill"), "");
    cg.kill("c").unwrap();
    assert_eq!(read("cgroup.kill"), "1");
}

#[test]
fn what_cannot_work_is_one_clear_error() {
    let t = Tmp::new();
    fake_v1(&t.0, &["cpu", "cpuacct", "freezer"]);
    let e = Cgroups::open(&t.0, "rmesos", &CPU_MEM).unwrap_err().to_string();
    assert!(e.contains("'memory' controller is not mounted") && e.contains("cpu,cpuacct,freezer"), "{e}");

    let t2 = Tmp::new();
    fake_v2(&t2.0, "cpu pids");
    let e = Cgroups::open(&t2.0, "rmesos", &CPU_MEM).unwrap_err().to_string();
    assert!(e.contains("no 'memory' controller") && e.contains("cpu pids"), "{e}");

    let t3 = Tmp::new();
    fake_v1(&t3.0, &["cpu", "cpuacct", "memory", "freezer"]);
    touch(&t3.0.join("memory/rmesos"), "I am a file");
    let e = Cgroups::open(&t3.0, "rmesos", &CPU_MEM).unwrap_err().to_string();
    assert!(e.contains("--cgroups_root") && e.contains("is not a directory"), "{e}");

    for bad in ["", "/abs", "../up", "a/../b", "./x"] {
        let e = Cgroups::open(&t3.0, bad, &CPU_MEM).unwrap_err().to_string();
        assert!(e.contains("must be a relative path"), "{bad}: {e}");
    }
    let e = Cgroups::open(&t.0.join("nope"), "r", &CPU_MEM).unwrap_err().to_string();
    assert!(e.contains("is not a directory"), "{e}");

    let cg = Cgroups::open(&t3.0, "ok/nested", &CPU_MEM).unwrap();
    assert!(cg.create("../escape").is_err() && cg.create("a/b").is_err() && cg.create("").is_err());
    assert!(t3.0.join("memory/ok/nested").is_dir());
}
