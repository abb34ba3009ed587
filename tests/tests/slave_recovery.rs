//! Slave recovery with real processes (issue 6): `rmesos-master`, one
//! `rmesos-slave` and `redispatch --checkpoint` running one task that waits
//! for a gate file. The slave is SIGKILLed and started again on the same
//! `--work_dir` and port:
//! - `--recover=reconnect` (the default): the task's executor process was
//!   not killed, the restarted slave reconnects to it and reregisters with
//!   the master under the same id, the task is still TASK_RUNNING on the
//!   master's `/state`; once the gate opens it finishes, and nothing was
//!   ever reported TASK_LOST;
//! - `--recover=cleanup`: the surviving executor process is killed, the
//!   task is reported TASK_LOST and redispatch runs it again on the slave
//!   (registered anew).
//!
//! Every wait is on an output line, a `/state` answer or a process exit,
//! bounded by `procs::WAIT`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use rmesos_tests::procs::{bin, bin_dir, executors_of, get_json as get, temp_dir, wait_gone, Proc, WAIT};

const TASK_RESOURCES: &str = "cpus:1;mem:32";

fn master() -> (Proc, String) {
    let mut cmd = Command::new(bin("rmesos-master"));
    cmd.args(["--ip=127.0.0.1", "--port=0", "--hostname=e2e"]);
    let mut p = Proc::spawn("rmesos-master", cmd);
    let started = p.wait_line("started on");
    let addr = started.rsplit(' ').next().unwrap().to_string();
    (p, addr)
}

/// A port free now (the restarted slave must come back on the same one).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn slave(master: &str, port: u16, work_dir: &Path, recover: &str) -> Proc {
    let mut cmd = Command::new(bin("rmesos-slave"));
    cmd.arg("--master")
        .arg(master)
        .args(["--ip=127.0.0.1", "--resources", "cpus:1;mem:256;disk:256", "--hostname", "sa"])
        .arg(format!("--port={port}"))
        .arg(format!("--recover={recover}"))
        .arg("--work_dir")
        .arg(work_dir)
        .arg("--launcher_dir")
        .arg(bin_dir());
    Proc::spawn(&format!("rmesos-slave --recover={recover}"), cmd)
}

/// redispatch with one task waiting for `dir/gate`.
fn redispatch(master: &str, dir: &Path) -> (Proc, PathBuf) {
    let gate = dir.join("gate");
    let list = dir.join("tasks");
    std::fs::write(&list, format!("while [ ! -e {} ]; do sleep 0.05; done\n", gate.display())).unwrap();
    let mut cmd = Command::new(bin("redispatch"));
    cmd.args(["--master", master, "--resources", TASK_RESOURCES, "--checkpoint"])
        .arg("--tasks")
        .arg(&list)
        .arg("--state_dir")
        .arg(dir.join("state"));
    (Proc::spawn("redispatch", cmd), gate)
}

/// (task id, state) of every live task on the master's `/state`.
fn master_tasks(addr: &str) -> Vec<(String, String)> {
    let state = get(addr, "/state");
    let mut out = Vec::new();
    for f in state["frameworks"].as_array().into_iter().flatten() {
        for t in f["tasks"].as_array().into_iter().flatten() {
            out.push((t["id"].as_str().unwrap_or("").to_string(), t["state"].as_str().unwrap_or("").to_string()));
        }
    }
    out
}

/// Whether `pid` runs (exists and is not a zombie).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, r)| !r.starts_with('Z') && !r.starts_with('X')))
        .unwrap_or(false)
}

/// Master, slave, redispatch with its task running: everything, the
/// executor's pid, and the gate.
struct Running {
    dir: PathBuf,
    master: Proc,
    addr: String,
    slave: Proc,
    port: u16,
    rd: Proc,
    executor: i32,
    gate: PathBuf,
}

fn running(name: &str) -> Running {
    let dir = temp_dir(name);
    let (mut master, addr) = master();
    let port = free_port();
    let slave = slave(&addr, port, &dir.join("work"), "reconnect");
    master.wait_line("Registered slave");
    let (mut rd, gate) = redispatch(&addr, &dir);
    rd.wait_line("task-0001 (attempt 1) TASK_RUNNING");
    let executors = executors_of(slave.pid());
    assert_eq!(executors.len(), 1, "the task's executor: {executors:?}");
    Running { dir, master, addr, slave, port, rd, executor: executors[0], gate }
}

/// SIGKILLs the slave and waits until it is gone.
fn kill_slave(r: &Running) {
    r.slave.signal(libc::SIGKILL);
    assert!(wait_gone(r.slave.pid(), WAIT), "the killed slave is gone");
}

#[test]
fn slave_restarted_with_reconnect_keeps_the_task_running_and_it_finishes() {
    let mut r = running("recovery-reconnect");
    kill_slave(&r);
    let mut again = slave(&r.addr, r.port, &r.dir.join("work"), "reconnect");
    let executor_back = again.wait_line("reregistered at");
    let line = again.wait_line("Re-registered with master");
    r.master.wait_line("Re-registered slave");
    // For FAULT-TOLERANCE.md (wall-clock stamps of the restarted slave).
    println!(
        "slave started: {}\nexecutor back: {executor_back}\nslave back: {line}",
        again.wait_line("Slave started at")
    );
    assert!(alive(r.executor), "the executor process survived the slave's SIGKILL");
    assert_eq!(master_tasks(&r.addr), vec![("task-0001.1".to_string(), "TASK_RUNNING".to_string())]);

    std::fs::write(&r.gate, b"").unwrap();
    r.rd.wait_line("task-0001 (attempt 1) TASK_FINISHED");
    let status = r.rd.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", r.rd.dump());
    let summary = r.rd.stdout().into_iter().rev().find(|l| l.starts_with("finished ")).map(str::to_string);
    assert_eq!(summary.as_deref(), Some("finished 1 of 1, re-dispatched 0"), "{}", r.rd.dump());
    assert!(!r.rd.dump().contains("TASK_LOST"), "{}", r.rd.dump());
    // The executor exits once its task is done; the slave notices (it is
    // not its child: it polls) and the master hears of it.
    assert!(wait_gone(r.executor, WAIT), "the executor exits after its task");
    again.wait_line("Executor 'task-0001.1' of framework");
    again.wait_line("exited with status");
    drop(again);
    let _ = std::fs::remove_dir_all(&r.dir);
}

#[test]
fn slave_restarted_with_cleanup_kills_the_surviving_executor_and_the_task_is_run_again() {
    let mut r = running("recovery-cleanup");
    kill_slave(&r);
    assert!(alive(r.executor), "the executor survives the slave's SIGKILL");
    let mut again = slave(&r.addr, r.port, &r.dir.join("work"), "cleanup");
    assert!(wait_gone(r.executor, WAIT), "--recover=cleanup kills the executor");
    again.wait_line("Registered with master");
    r.rd.wait_line("task-0001 (attempt 1) TASK_LOST");
    r.rd.wait_line("task-0001 (attempt 2) TASK_RUNNING");
    std::fs::write(&r.gate, b"").unwrap();
    let status = r.rd.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", r.rd.dump());
    let summary = r.rd.stdout().into_iter().rev().find(|l| l.starts_with("finished ")).map(str::to_string);
    assert_eq!(summary.as_deref(), Some("finished 1 of 1, re-dispatched 1"), "{}", r.rd.dump());
    // The second attempt's executor exits once its FINISHED is acknowledged.
    again.wait_line("Executor 'task-0001.2' of framework");
    again.wait_line("exited with status");
    drop(again);
    let _ = std::fs::remove_dir_all(&r.dir);
}
