//! The v1 operator API of a real `rmesos-local`, through a client written
//! from Mesos's docs with the Python standard library
//! (`tests/python/operator_api.py`, no rmesos code): every read call over
//! one keep-alive connection; the SUBSCRIBE event stream while
//! `rmesos-execute` (the Rust driver) runs a task, read as RecordIO from
//! the socket; bad input (garbled and truncated bodies) answered with clear
//! errors while the master keeps serving. Python 3 comes with the machine
//! (`scripts/test.sh` needs it for pymesos too); without it the tests skip
//! loudly, and fail under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;

use rmesos_tests::procs::{bin, temp_dir, Proc};

fn python() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os("RMESOS_PYTHON").unwrap_or_else(|| "python3".into()));
    if Command::new(&path).arg("-c").arg("import http.client").status().is_ok_and(|s| s.success()) {
        return Some(path);
    }
    let why = format!("no Python 3 at {}", path.display());
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}");
    }
    eprintln!("SKIPPING operator API test: {why}");
    None
}

fn client(python: &Path, master: &str, args: &[&str]) -> Proc {
    let mut cmd = Command::new(python);
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("python/operator_api.py")).arg(master).args(args);
    Proc::spawn("operator-client", cmd)
}

/// `rmesos-local` with two registered slaves; returns it and the master's
/// `ip:port`.
fn local(work_dir: &Path) -> (Proc, String) {
    let mut cmd = Command::new(bin("rmesos-local"));
    cmd.args(["--port=0", "--num_slaves=2"]).arg("--work_dir").arg(work_dir);
    let mut p = Proc::spawn("rmesos-local", cmd);
    let banner = p.wait_line("state at http://");
    let master = banner.split("master@").nth(1).and_then(|s| s.split(',').next()).unwrap().to_string();
    // The banner comes before the slaves register: wait for both, so the
    // calls see them (CI once read GET_STATE with no agent yet).
    p.wait_lines("Registered with master", 2);
    (p, master)
}

#[test]
fn a_stdlib_client_reads_every_call_and_watches_a_task_run() {
    let Some(python) = python() else { return };
    let dir = temp_dir("operator-api");
    let (_local, master) = local(&dir);
    let mut calls = client(&python, &master, &["calls"]);
    calls.wait_line("OK GET_MAINTENANCE_STATUS");
    calls.wait_line("AGENTS 2");
    assert!(calls.wait_exit().success(), "{}", calls.dump());

    let mut watch = client(&python, &master, &["watch", "watched"]);
    watch.wait_line("SUBSCRIBED agents=2");
    let mut run = Command::new(bin("rmesos-execute"));
    run.args(["--master", &master, "--name", "watched", "--command", "echo watched"]);
    let mut run = Proc::spawn("rmesos-execute", run);
    assert!(run.wait_exit().success(), "{}", run.dump());
    // The watcher ends once it saw the framework removed.
    assert!(watch.wait_exit().success(), "{}", watch.dump());
    // The changes, in the order the master made them (the driver framework
    // may be updated as it registers; heartbeats aside).
    // An update's line ends with the task's latest state, which may be ahead
    // of it: only the update's own state is compared.
    let changes: Vec<&str> = watch
        .stdout()
        .into_iter()
        .filter(|l| l.contains(" watched") && !l.starts_with("FRAMEWORK_UPDATED"))
        .map(|l| l.split(" latest=").next().unwrap())
        .collect();
    assert_eq!(
        changes,
        [
            "FRAMEWORK_ADDED watched",
            "TASK_ADDED watched TASK_STAGING",
            "TASK_UPDATED watched TASK_STARTING",
            "TASK_UPDATED watched TASK_RUNNING",
            "TASK_UPDATED watched TASK_FINISHED",
            "FRAMEWORK_REMOVED watched",
        ],
        "{}",
        watch.dump()
    );
}

#[test]
fn garbled_and_truncated_requests_get_clear_errors_and_the_master_keeps_serving() {
    let Some(python) = python() else { return };
    let dir = temp_dir("operator-api-bad");
    let (mut local, master) = local(&dir);
    let mut bad = client(&python, &master, &["garbage"]);
    bad.wait_line("REFUSED 400 Failed to parse body into JSON");
    bad.wait_line("REFUSED 400 Unknown call type 'DANCE'");
    bad.wait_line("REFUSED 415 Expecting 'Content-Type' of application/json");
    bad.wait_line("STILL SERVING");
    assert!(bad.wait_exit().success(), "{}", bad.dump());
    // Each refusal is a log line of the master's.
    local.wait_line("Refusing /api/v1 call: Unknown call type 'DANCE'");
}
