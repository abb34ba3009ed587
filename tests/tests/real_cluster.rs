//! The cluster as real OS processes: `rmesos-master`, `rmesos-slave`s (which
//! start the real `rmesos-executor`), `rmesos-local`, and the example
//! frameworks `rmesos-execute` and `redispatch`. Every wait is on an output
//! line or a process exit (bounded by `procs::WAIT`); every child is killed
//! and reaped when its test ends.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rmesos_tests::procs::{bin, bin_dir, run, temp_dir, wait_gone, Proc, WAIT};

/// What each slave of these tests offers.
const SLAVE_RESOURCES: &str = "cpus:1;mem:256;disk:256;ports:[31000-31100]";

/// A master and two slaves, each its own OS process.
struct Cluster {
    /// `ip:port` of the master.
    master: String,
    work_dir: PathBuf,
    // Slaves first: they are dropped (killed) before the master.
    _slaves: Vec<Proc>,
    _master: Proc,
}

fn cluster(name: &str) -> Cluster {
    let work_dir = temp_dir(name);
    let mut cmd = Command::new(bin("rmesos-master"));
    cmd.args(["--ip=127.0.0.1", "--port=0", "--hostname=e2e"]);
    let mut master_proc = Proc::spawn("rmesos-master", cmd);
    let started = master_proc.wait_line("started on");
    let master = started.rsplit(' ').next().unwrap().to_string();
    let slaves = (0..2)
        .map(|i| {
            let mut cmd = Command::new(bin("rmesos-slave"));
            cmd.arg("--master")
                .arg(&master)
                .args(["--ip=127.0.0.1", "--port=0", "--resources", SLAVE_RESOURCES])
                .arg("--work_dir")
                .arg(work_dir.join(format!("slave{i}")))
                .arg("--launcher_dir")
                .arg(bin_dir());
            Proc::spawn(&format!("rmesos-slave {i}"), cmd)
        })
        .collect();
    master_proc.wait_lines("Registered slave", 2);
    Cluster { master, work_dir, _slaves: slaves, _master: master_proc }
}

fn execute(master: &str, name: &str, command: &str) -> Proc {
    let mut cmd = Command::new(bin("rmesos-execute"));
    cmd.args(["--master", master, "--name", name, "--command", command]);
    Proc::spawn("rmesos-execute", cmd)
}

/// Files named `name` under `dir`, recursively.
fn find_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            found.extend(find_files(&path, name));
        } else if kind.is_file() && e.file_name() == name {
            found.push(path);
        }
    }
    found
}

#[test]
fn echo_hello_finishes_and_its_output_is_in_the_sandbox() {
    let c = cluster("hello");
    let mut exec = execute(&c.master, "hello", "echo hello");
    let status = exec.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", exec.dump());
    let out = exec.stdout();
    assert!(out.iter().any(|l| l.contains("hello TASK_FINISHED")), "{}", exec.dump());
    // The sandbox: <slave work_dir>/slaves/<sid>/frameworks/<fid>/executors/hello/runs/<run>/stdout.
    let sandboxes: Vec<PathBuf> = find_files(&c.work_dir, "stdout")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/executors/hello/runs/"))
        .collect();
    assert_eq!(sandboxes.len(), 1, "{sandboxes:?}");
    let text = std::fs::read_to_string(&sandboxes[0]).unwrap();
    assert!(text.lines().any(|l| l == "hello"), "sandbox stdout: {text:?}");
    let _ = std::fs::remove_dir_all(&c.work_dir);
}

#[test]
fn failing_command_fails_with_its_exit_code() {
    let c = cluster("fail");
    let mut exec = execute(&c.master, "three", "exit 3");
    let status = exec.wait_exit();
    assert_eq!(status.code(), Some(3), "{}", exec.dump());
    let failed = exec.stdout().into_iter().find(|l| l.contains("three TASK_FAILED")).map(str::to_string);
    let failed = failed.unwrap_or_else(|| panic!("no TASK_FAILED line:\n{}", exec.dump()));
    assert!(failed.contains("status 3"), "{failed}");
    let _ = std::fs::remove_dir_all(&c.work_dir);
}

/// Starts `rmesos-local` from `exe`; returns it and the master's `ip:port`.
fn local(exe: &Path, work_dir: &Path, extra: &[&str]) -> (Proc, String) {
    let mut cmd = Command::new(exe);
    cmd.args(["--port=0", "--num_slaves=2"]).arg("--work_dir").arg(work_dir).args(extra);
    let mut p = Proc::spawn("rmesos-local", cmd);
    let banner = p.wait_line("state at http://");
    // rmesos-local: master master@IP:PORT, 2 slaves; state at http://IP:PORT/state; ...
    let master = banner.split("master@").nth(1).and_then(|s| s.split(',').next()).unwrap().to_string();
    assert!(banner.contains(&format!("http://{master}/state")), "{banner}");
    assert!(banner.contains("2 slaves"), "{banner}");
    (p, master)
}

#[test]
fn redispatch_on_rmesos_local_finishes_20_tasks_re_dispatching_3() {
    let dir = temp_dir("redispatch");
    let (mut cluster, master) = local(&bin("rmesos-local"), &dir.join("cluster"), &[]);
    // 20 tasks; 3 of them fail on their first run only (a marker file tells
    // a re-run from the first).
    let markers = dir.join("markers");
    std::fs::create_dir_all(&markers).unwrap();
    let mut tasks = String::new();
    for i in 0..20 {
        if i % 7 == 3 {
            let m = markers.join(format!("m{i}"));
            let m = m.display();
            tasks.push_str(&format!("if [ -e {m} ]; then true; else touch {m}; false; fi\n"));
        } else {
            tasks.push_str(&format!("echo task {i}\n"));
        }
    }
    let list = dir.join("tasks");
    std::fs::write(&list, tasks).unwrap();
    let mut cmd = Command::new(bin("redispatch"));
    cmd.args(["--master", &master]).arg("--tasks").arg(&list).arg("--state_dir").arg(dir.join("state"));
    let mut rd = Proc::spawn("redispatch", cmd);
    let status = rd.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", rd.dump());
    let summary = rd.stdout().into_iter().rev().find(|l| l.starts_with("finished ")).map(str::to_string);
    assert_eq!(summary.as_deref(), Some("finished 20 of 20, re-dispatched 3"), "{}", rd.dump());
    assert_eq!(std::fs::read_dir(&markers).unwrap().count(), 3);

    // SIGTERM stops the whole cluster cleanly.
    cluster.signal(libc::SIGTERM);
    let status = cluster.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", cluster.dump());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rmesos_local_alone_serves_as_the_command_executor() {
    // A fresh clone after `cargo run --bin rmesos-local`: no rmesos-executor
    // beside the binary.
    let dir = temp_dir("alone");
    let exe = dir.join("rmesos-local");
    std::fs::copy(bin("rmesos-local"), &exe).unwrap();
    let (mut cluster, master) = local(&exe, &dir.join("cluster"), &[]);
    let mut exec = execute(&master, "alone", "echo alone");
    assert_eq!(exec.wait_exit().code(), Some(0), "{}\n{}", exec.dump(), cluster.dump());
    cluster.signal(libc::SIGINT);
    assert_eq!(cluster.wait_exit().code(), Some(0), "{}", cluster.dump());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Pids of shells (`sh -c ...`) whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.starts_with(b"sh\0-c\0") && String::from_utf8_lossy(&c).contains(marker))
        })
        .collect()
}

/// The task's own `sh -c`: the one process carrying `marker` whose parent
/// does not carry it too. While the shell forks `sleep`, the child is for a
/// moment a second `sh -c` with the same command line (until it execs), so
/// one scan of /proc can see two; the state waited for is "exactly one top
/// shell", bounded by `WAIT`.
fn task_shell(marker: &str) -> i32 {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let pids = processes_with(marker);
        let top: Vec<i32> =
            pids.iter().copied().filter(|p| !parent_of(*p).is_some_and(|pp| pids.contains(&pp))).collect();
        if let [one] = top[..] {
            return one;
        }
        assert!(std::time::Instant::now() < deadline, "the task's shell never showed up once: {pids:?}");
        std::thread::sleep(Duration::from_millis(5)); // the next /proc scan
    }
}

/// The parent pid of `pid`, from /proc/<pid>/stat (`pid (comm) state ppid ...`).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.split(' ').nth(1)?.parse().ok()
}

#[test]
fn stopping_rmesos_local_kills_the_tasks_it_runs() {
    let dir = temp_dir("stop");
    let (mut cluster, master) = local(&bin("rmesos-local"), &dir.join("cluster"), &[]);
    // `sh -c` stays (its command does not end in the sleep), with the marker
    // in its command line; RUNNING is reported once it is started.
    let marker = format!("rmesos-e2e-{}", uuid::Uuid::new_v4());
    let mut exec = execute(&master, "sleeper", &format!("sleep 1000; echo {marker}"));
    exec.wait_line("sleeper TASK_RUNNING");
    let shell = task_shell(&marker);
    assert!(!wait_gone(shell, Duration::ZERO), "the task runs");
    cluster.signal(libc::SIGTERM);
    assert_eq!(cluster.wait_exit().code(), Some(0), "{}", cluster.dump());
    // Killed by rmesos-local's slave (not left to shut itself down).
    assert!(cluster.dump().contains("Killing executor session"), "{}", cluster.dump());
    assert!(wait_gone(shell, WAIT), "task process {shell} outlived rmesos-local");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_flags_are_one_clear_line_and_exit_code_2() {
    let slave = bin("rmesos-slave");
    let local = bin("rmesos-local");
    let base = ["--work_dir", "/nonexistent/never-created"];
    let cases: Vec<(&Path, Vec<&str>, &str)> = vec![
        (&slave, [&["--master", "127.0.0.1"][..], &base].concat(), "has no port"),
        (&slave, [&["--master", "127.0.0.1:99999"][..], &base].concat(), "port"),
        (&slave, [&["--master", "/no/such/master/file"][..], &base].concat(), "/no/such/master/file"),
        (&slave, [&["--master", "127.0.0.1:5050", "--resources", "cpus:x"][..], &base].concat(), "--resources"),
        (&slave, [&["--master", "127.0.0.1:5050", "--resources", "mem:-5"][..], &base].concat(), "--resources"),
        (&slave, [&["--master", "127.0.0.1:5050", "--attributes", "rack"][..], &base].concat(), "--attributes"),
        (&local, vec!["--resources", "cpus:x"], "--resources"),
        (&local, vec!["--resources", "ports:[5-1]"], "--resources"),
        (&local, vec!["--num_slaves", "0"], "--num_slaves"),
        (&local, vec!["--ip", "localhost"], "--ip"),
    ];
    for (exe, args, expected) in cases {
        let mut cmd = Command::new(exe);
        cmd.args(&args);
        let (code, stderr) = run(cmd);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        let first = stderr.lines().next().unwrap_or("");
        assert!(first.starts_with("error:") && first.contains(expected), "{args:?}: first line '{first}'");
    }
}
