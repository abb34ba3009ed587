//! Isolation on real cgroups (root, cgroup v1 or v2 controllers mounted
//! under /sys/fs/cgroup). Under `CI=true` a machine where cgroups cannot
//! be used fails these tests; elsewhere they are skipped with a line.
//! Each test uses a cgroups root of its own and removes it.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use rmesos_slave::cgroups::{self, limits, Cgroups, Controller, Limits};

/// The cgroups of one test; its root is removed when it is dropped (a
/// failing test leaves nothing behind either).
struct TestCgroups(Cgroups);

impl std::ops::Deref for TestCgroups {
    type Target = Cgroups;
    fn deref(&self) -> &Cgroups {
        &self.0
    }
}

impl Drop for TestCgroups {
    fn drop(&mut self) {
        remove_root(&self.0);
    }
}

/// The cgroups of this test (root `rmesos-test-<uuid>`), or `None` (skip)
/// when they cannot be used outside CI.
fn cgroups_or_skip(controllers: &[Controller]) -> Option<TestCgroups> {
    let root = format!("rmesos-test-{}", uuid::Uuid::new_v4());
    // SAFETY: geteuid has no preconditions.
    let is_root = unsafe { libc::geteuid() } == 0;
    let opened = if is_root {
        Cgroups::open(std::path::Path::new("/sys/fs/cgroup"), &root, controllers).map_err(|e| e.to_string())
    } else {
        Err("not running as root".into())
    };
    match opened {
        Ok(cg) => Some(TestCgroups(cg)),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => panic!("cgroups unusable under CI=true: {e}"),
        Err(e) => {
            eprintln!("skipped: cgroups unusable here: {e}");
            None
        }
    }
}

/// Removes the test's root cgroups (everything in them killed first).
fn remove_root(cg: &Cgroups) {
    for name in cg.list() {
        let _ = cg.kill(&name);
        wait_empty(cg, &name);
        let _ = cg.destroy(&name);
    }
    for c in cg.controllers() {
        if let Some(d) = cg.dir(c, "") {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// Waits (bounded) until cgroup `name` has no process left.
fn wait_empty(cg: &Cgroups, name: &str) {
    for _ in 0..2000 {
        if cg.procs(name).is_empty() {
            return;
        }
        std::thread::yield_now();
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    if !std::thread::panicking() {
        panic!("cgroup {name} still has processes {:?}", cg.procs(name));
    }
}

fn spawn_in(cg: &Cgroups, name: &str, script: &str) -> std::process::Child {
    let files = cgroups::procs_cstrings(&cg.procs_files(name)).unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: join_self is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || cgroups::join_self(&files));
    }
    cmd.spawn().unwrap()
}

#[test]
fn memory_limit_oom_kills_inside_the_cgroup() {
    let Some(cg) = cgroups_or_skip(&[Controller::Memory]) else { return };
    cg.create("oom").unwrap();
    let l = Limits::of(0.0, 32.0, limits::Enforce { memory: true, ..Default::default() });
    cg.set_limits("oom", &l).unwrap();
    // 200 MB in a 32 MB cgroup: the kernel kills the allocator.
    let mut child = spawn_in(&cg, "oom", "exec python3 -c 'b = bytearray(200 * 1024 * 1024); print(len(b))'");
    let status = child.wait().unwrap();
    assert!(!status.success(), "the allocation must not succeed: {status:?}");
    assert!(cgroups::oom::kills(&cg, "oom") >= 1, "the kernel counted the OOM kill");
    let s = cg.stats("oom");
    assert_eq!(s.mem_limit_bytes, Some(32 << 20));
    assert!(s.mem_max_bytes.unwrap_or(0) > 0);
}

#[test]
fn kill_ends_every_process_daemonized_or_not() {
    let Some(cg) = cgroups_or_skip(&[Controller::Pids]) else { return };
    cg.create("k").unwrap();
    // A daemon that double-forks out of the shell's session and process group.
    let mut child = spawn_in(&cg, "k", "setsid sh -c 'sleep 1000 & sleep 1000' & exec sleep 1000");
    for _ in 0..2000 {
        if cg.procs("k").len() >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(cg.procs("k").len() >= 3, "{:?}", cg.procs("k"));
    cg.kill("k").unwrap();
    child.wait().unwrap();
    wait_empty(&cg, "k");
    cg.destroy("k").unwrap();
    assert!(!cg.exists("k"));
}

#[test]
fn fork_bomb_stays_inside_pids_max() {
    let Some(cg) = cgroups_or_skip(&[Controller::Pids]) else { return };
    cg.create("bomb").unwrap();
    cg.set_limits("bomb", &Limits { pids_max: Some(16), ..Limits::default() }).unwrap();
    // Forks until fork fails, then waits: the cgroup never exceeds 16.
    let mut child = spawn_in(&cg, "bomb", "for i in $(seq 1 200); do sleep 1000 & done; wait");
    let events = cg.dir(Controller::Pids, "bomb").unwrap().join("pids.events");
    let refused = || cgroups::files::read_keyed(&events).unwrap().get("max").copied().unwrap_or(0);
    for _ in 0..5000 {
        if refused() > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(refused() > 0, "forks beyond pids.max were refused");
    let n = cg.procs("bomb").len();
    assert!(n <= 16, "pids.max holds the bomb at 16 processes: {n}");
    cg.kill("bomb").unwrap();
    child.wait().unwrap();
    wait_empty(&cg, "bomb");
}
