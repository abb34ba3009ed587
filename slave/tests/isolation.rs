//! Isolation on real cgroups (root, cgroup v1 or v2 controllers mounted
//! under /sys/fs/cgroup). Under `CI=true` a machine where cgroups cannot
//! be used fails these tests; elsewhere they are skipped with a line.
//! Each test uses a cgroups root of its own and removes it.

mod harness;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use harness::*;
use rmesos::messages::KillTaskMessage;
use rmesos::{CommandInfo, Reason, Resources, Source, TaskID, TaskInfo, TaskState};
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
    if poll_until(Duration::from_secs(2), Duration::from_millis(1), || cg.procs(name).is_empty()) {
        return;
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
    let mut child = spawn_in(&cg, "oom", "exec dd if=/dev/zero of=/dev/null bs=200M count=1");
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
    poll_until(Duration::from_secs(2), Duration::from_millis(1), || cg.procs("k").len() >= 3);
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
    poll_until(Duration::from_secs(5), Duration::from_millis(1), || refused() > 0);
    assert!(refused() > 0, "forks beyond pids.max were refused");
    let n = cg.procs("bomb").len();
    assert!(n <= 16, "pids.max holds the bomb at 16 processes: {n}");
    cg.kill("bomb").unwrap();
    child.wait().unwrap();
    wait_empty(&cg, "bomb");
}

/// A slave with cgroups isolation under a test root (removed at the end),
/// or `None` (skip) where cgroups cannot be used outside CI.
async fn isolated_cluster(name: &str, extra: &[&str]) -> Option<(Cluster, TestCgroups)> {
    let cg = cgroups_or_skip(&[Controller::Cpu, Controller::Cpuacct, Controller::Memory, Controller::Pids])?;
    let root = cg.dir(Controller::Freezer, "").unwrap().file_name().unwrap().to_string_lossy().into_owned();
    let mut args = vec!["--isolation", "cgroups/cpu,cgroups/mem,cgroups/pids", "--cgroups_root", &root];
    args.extend_from_slice(extra);
    let c = cluster_with(name, &args).await;
    Some((c, cg))
}

fn task(id: &str, resources: &str, command: &str) -> TaskInfo {
    TaskInfo::command(
        id,
        TaskID::new(id).unwrap(),
        sid(),
        Resources::parse(resources).unwrap(),
        CommandInfo::shell(command),
    )
}

/// Updates of `task` until a terminal one (the others: RUNNING and such).
async fn until_terminal(c: &mut Cluster, task: &str) -> rmesos::StatusUpdate {
    loop {
        let u = c.update().await;
        if u.task_id().as_str() == task && u.status.state.is_terminal() {
            return u;
        }
    }
}

/// The first `/monitor/statistics` entry of `executor` that satisfies `ok`
/// (polled: the kernel's counters move on their own).
async fn statistics_until(c: &Cluster, executor: &str, ok: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    for _ in 0..600 {
        let all = c.get_json("/monitor/statistics").await;
        if let Some(e) = all.as_array().unwrap().iter().find(|e| e["executor_id"] == executor) {
            if ok(&e["statistics"]) {
                return e.clone();
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("statistics of {executor} never matched");
}

#[actix_rt::test]
async fn a_task_over_its_memory_fails_with_the_limitation_and_the_slave_carries_on() {
    let Some((mut c, cg)) = isolated_cluster("oom", &[]).await else { return };
    c.run_task(task("hog", "cpus:0.1;mem:32", "exec dd if=/dev/zero of=/dev/null bs=200M count=1"));
    let u = until_terminal(&mut c, "hog").await;
    assert_eq!(u.status.state, TaskState::Failed, "{:?}", u.status);
    assert_eq!(u.status.reason, Some(Reason::ContainerLimitationMemory), "{:?}", u.status);
    assert_eq!(u.status.source, Some(Source::Slave));
    let msg = u.status.message.clone().unwrap_or_default();
    // 32 MB of the task + the command executor's 32 MB.
    assert!(msg.starts_with("Memory limit exceeded: Requested: 64MB Maximum Used: "), "{msg}");
    let exited = c.exited().await;
    assert_eq!(exited.executor_id.as_str(), "hog");
    assert!(cg.list().is_empty(), "the container's cgroup is removed: {:?}", cg.list());
    // The slave and the next task carry on.
    c.run_task(task("fine", "cpus:0.1;mem:32", "echo fine"));
    let u = until_terminal(&mut c, "fine").await;
    assert_eq!(u.status.state, TaskState::Finished, "{:?}", u.status);
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn a_busy_loop_under_a_cfs_quota_is_throttled() {
    let Some((mut c, cg)) = isolated_cluster("cfs", &["--cgroups_enable_cfs", "true"]).await else { return };
    c.run_task(task("spin", "cpus:0.2;mem:32", "while :; do :; done"));
    let running = c.update().await;
    assert_eq!(running.status.state, TaskState::Starting);
    let names = cg.list();
    assert_eq!(names.len(), 1);
    let quota = std::fs::read_to_string(cg.dir(Controller::Cpu, &names[0]).unwrap().join("cpu.cfs_quota_us")).unwrap();
    assert_eq!(quota.trim(), "30000", "0.2 cpus of the task + 0.1 of the executor, per 100 ms");
    let e = statistics_until(&c, "spin", |s| s["cpus_nr_periods"].as_u64().unwrap_or(0) >= 20).await;
    let s = &e["statistics"];
    assert_eq!(e["framework_id"], fid().as_str());
    assert!(s["cpus_nr_throttled"].as_u64().unwrap() > 0, "{s}");
    assert!(s["cpus_throttled_time_secs"].as_f64().unwrap() > 0.0, "{s}");
    assert!((s["cpus_limit"].as_f64().unwrap() - 0.3).abs() < 1e-9, "{s}");
    assert_eq!(s["mem_limit_bytes"], 64u64 << 20);
    // The cpu time the kernel let it have: at most the quota per period
    // (plus one period of slack for the period in progress).
    let used = s["cpus_user_time_secs"].as_f64().unwrap() + s["cpus_system_time_secs"].as_f64().unwrap();
    let periods = s["cpus_nr_periods"].as_f64().unwrap();
    assert!(used <= (periods + 2.0) * 0.03 * 1.2, "used {used}s over {periods} periods");
    c.node.send(
        &c.master,
        &c.slave,
        KillTaskMessage { framework_id: fid(), task_id: TaskID::new("spin").unwrap(), kill_policy: None },
    );
    let u = until_terminal(&mut c, "spin").await;
    assert_eq!(u.status.state, TaskState::Killed);
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn a_killed_task_leaves_no_daemon_behind() {
    let Some((mut c, cg)) = isolated_cluster("daemon", &[]).await else { return };
    // The task starts a daemon out of its session, writes its pid, waits.
    c.run_task(task("d", "cpus:0.1;mem:32", "setsid sh -c 'echo $$ > daemon.pid; exec sleep 1000' & sleep 1000"));
    let running = until_state(&mut c, "d", TaskState::Running).await;
    assert_eq!(running.status.state, TaskState::Running);
    let run = c.runs("d").pop().unwrap();
    let pidfile = run.join("daemon.pid");
    let mut daemon = None;
    poll_until_async(Duration::from_secs(10), Duration::from_millis(5), || {
        daemon = std::fs::read_to_string(&pidfile).ok().and_then(|t| t.trim().parse::<i32>().ok());
        daemon.is_some()
    })
    .await;
    let daemon = daemon.expect("the daemon wrote its pid");
    assert!(std::path::Path::new(&format!("/proc/{daemon}")).exists());
    c.node.send(
        &c.master,
        &c.slave,
        KillTaskMessage { framework_id: fid(), task_id: TaskID::new("d").unwrap(), kill_policy: None },
    );
    let u = until_terminal(&mut c, "d").await;
    assert_eq!(u.status.state, TaskState::Killed);
    c.exited().await;
    let alive = std::fs::read_to_string(format!("/proc/{daemon}/stat")).ok().filter(|s| !s.contains(") Z "));
    assert!(alive.is_none(), "the daemon {daemon} survived: {alive:?}");
    assert!(cg.list().is_empty(), "{:?}", cg.list());
    cleanup(&c.work_dir);
}

async fn until_state(c: &mut Cluster, task: &str, state: TaskState) -> rmesos::StatusUpdate {
    loop {
        let u = c.update().await;
        if u.task_id().as_str() == task && (u.status.state == state || u.status.state.is_terminal()) {
            return u;
        }
    }
}

#[actix_rt::test]
async fn orphan_containers_are_removed_at_start() {
    let Some(cg) = cgroups_or_skip(&[Controller::Memory]) else { return };
    let root = cg.dir(Controller::Freezer, "").unwrap().file_name().unwrap().to_string_lossy().into_owned();
    // A container left by a slave that is gone, with its checkpoint.
    let orphan = uuid::Uuid::new_v4().to_string();
    cg.create(&orphan).unwrap();
    let mut child = spawn_in(&cg, &orphan, "exec sleep 1000");
    let c = cluster_with("orphan", &["--isolation", "cgroups/mem", "--cgroups_root", &root]).await;
    child.wait().unwrap();
    wait_empty(&cg, &orphan);
    poll_until_async(Duration::from_secs(10), Duration::from_millis(5), || !cg.exists(&orphan)).await;
    assert!(!cg.exists(&orphan), "the orphan's cgroup is removed");
    cleanup(&c.work_dir);
}

/// Runs `rmesos-slave` with `args`; its exit code and stderr.
fn slave_fails(args: &[&str]) -> (Option<i32>, String) {
    let w = temp_dir("badiso");
    let out = Command::new(slave_binary())
        .args(["--master", "127.0.0.1:1", "--port", "0", "--work_dir"])
        .arg(&w)
        .args(args)
        .env("LIBPROCESS_IP", "127.0.0.1")
        .output()
        .unwrap();
    cleanup(&w);
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn isolators_that_cannot_work_stop_the_slave_at_start_with_one_line() {
    let (code, err) = slave_fails(&["--isolation", "cgroups/mem,nope/x"]);
    assert_eq!(code, Some(2));
    assert!(err.lines().next().unwrap().contains("Unknown or unsupported isolator 'nope/x'"), "{err}");

    let (code, err) = slave_fails(&["--isolation", "cgroups/mem", "--cgroups_hierarchy", "/nonexistent-cgroupfs"]);
    assert_eq!(code, Some(1), "{err}");
    let line = err.lines().find(|l| l.starts_with("rmesos-slave: ")).unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains("--cgroups_hierarchy /nonexistent-cgroupfs is not a directory"), "{line}");

    let (code, err) = slave_fails(&["--isolation", "cgroups/cpu", "--launcher", "posix"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("needs --launcher=linux"), "{err}");

    // A --cgroups_root that exists as a file (on a fake v1 tree: the check
    // is the same on the real one, without touching it).
    let h = temp_dir("fakecg");
    for c in ["cpu", "cpuacct", "memory", "freezer"] {
        std::fs::create_dir_all(h.join(c)).unwrap();
        std::fs::write(h.join(c).join("cgroup.procs"), "").unwrap();
    }
    std::fs::write(h.join("memory/rmesos"), "a file").unwrap();
    let hs = h.to_str().unwrap().to_string();
    let (code, err) = slave_fails(&["--isolation", "cgroups/mem", "--cgroups_hierarchy", &hs]);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("--cgroups_root") && err.contains("is not a directory"), "{err}");
    } else {
        assert!(err.contains("need root"), "{err}");
    }
    cleanup(&h);
}

#[actix_rt::test]
async fn a_restarted_slave_recovers_its_containers_by_their_cgroups() {
    let Some((mut c, cg)) = isolated_cluster("recover", &[]).await else { return };
    c.run_task_checkpointed(task("long", "cpus:0.1;mem:32", "exec sleep 1000"));
    let running = until_state(&mut c, "long", TaskState::Running).await;
    assert_eq!(running.status.state, TaskState::Running);
    let names = cg.list();
    assert_eq!(names.len(), 1);
    let procs = cg.procs(&names[0]);
    // SIGKILL the slave; a new one on the same work dir and cgroups root.
    let root = cg.dir(Controller::Freezer, "").unwrap().file_name().unwrap().to_string_lossy().into_owned();
    let m = c.restart(&["--isolation", "cgroups/cpu,cgroups/mem,cgroups/pids", "--cgroups_root", &root]).await;
    assert!(
        m.tasks.iter().any(|t| t.task_id.as_str() == "long" && t.state == TaskState::Running),
        "the task survives: {:?}",
        m.tasks
    );
    assert_eq!(cg.list(), names, "the same container, not an orphan");
    assert_eq!(cg.procs(&names[0]), procs, "the same processes");
    let stats = statistics_until(&c, "long", |s| s["processes"].as_u64().unwrap_or(0) >= 1).await;
    assert!(stats["statistics"]["mem_total_bytes"].as_u64().unwrap() > 0, "{stats}");
    // Killed through the new slave, the whole container goes.
    c.node.send(
        &c.master,
        &c.slave,
        KillTaskMessage { framework_id: fid(), task_id: TaskID::new("long").unwrap(), kill_policy: None },
    );
    let u = until_terminal(&mut c, "long").await;
    assert_eq!(u.status.state, TaskState::Killed, "{:?}", u.status);
    poll_until_async(Duration::from_secs(10), Duration::from_millis(5), || cg.list().is_empty()).await;
    assert!(cg.list().is_empty(), "{:?}", cg.list());
    cleanup(&c.work_dir);
}
