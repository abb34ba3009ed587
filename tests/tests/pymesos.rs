//! A real framework written for Mesos, unchanged: pymesos 0.3.15 (from
//! PyPI, installed by `scripts/test.sh` into `target/pymesos-venv`) runs
//! `tests/python/pymesos_scheduler.py` against `rmesos-local` through the v1
//! scheduler API, side by side with `rmesos-execute` on the Rust driver.
//! The tasks run under the real command executor, or under pymesos's own
//! executor driver (`tests/python/pymesos_executor.py`), which speaks the
//! v1 executor HTTP API to the slave: an HTTP executor written by someone
//! else, unchanged. Without the virtualenv the tests skip loudly; under
//! `CI=true` they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use rmesos_tests::procs::{bin, temp_dir, Proc};

/// The virtualenv's python, if pymesos is installed.
fn python() -> Option<PathBuf> {
    let path = match std::env::var_os("RMESOS_PYMESOS_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/pymesos-venv/bin/python"),
    };
    let ok = path.is_file()
        && Command::new(&path).args(["-c", "import pymesos, addict"]).status().is_ok_and(|s| s.success());
    if ok {
        return Some(path);
    }
    let why = format!("no pymesos at {} (scripts/test.sh installs it)", path.display());
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}");
    }
    eprintln!("SKIPPING pymesos test: {why}");
    None
}

fn script() -> PathBuf {
    python_file("pymesos_scheduler.py")
}

fn python_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python").join(name)
}

/// `rmesos-local` with two slaves; returns it and the master's `ip:port`.
fn local(work_dir: &Path) -> (Proc, String) {
    let mut cmd = Command::new(bin("rmesos-local"));
    cmd.args(["--port=0", "--num_slaves=2"]).arg("--work_dir").arg(work_dir);
    let mut p = Proc::spawn("rmesos-local", cmd);
    let banner = p.wait_line("state at http://");
    let master = banner.split("master@").nth(1).and_then(|s| s.split(',').next()).unwrap().to_string();
    (p, master)
}

#[test]
fn a_pymesos_framework_runs_tasks_beside_a_driver_framework() {
    let Some(python) = python() else { return };
    let dir = temp_dir("pymesos");
    let (_local, master) = local(&dir);
    let mut py = Command::new(&python);
    py.arg(script()).arg(&master).arg("3").arg("echo hello from pymesos");
    let mut py = Proc::spawn("pymesos", py);
    let mut rust = Command::new(bin("rmesos-execute"));
    rust.args(["--master", &master, "--name", "beside", "--command", "echo hello from the driver"]);
    let mut rust = Proc::spawn("rmesos-execute", rust);
    py.wait_line("REGISTERED");
    py.wait_line("DONE finished=3 failed=0");
    assert!(py.wait_exit().success(), "{}", py.dump());
    assert!(rust.wait_exit().success(), "{}", rust.dump());
    // Each pymesos task ran its command under the command executor.
    let out: Vec<_> = walk(&dir).into_iter().filter(|p| p.ends_with("stdout")).collect();
    let hellos =
        out.iter().filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("hello from pymesos"))).count();
    assert_eq!(hellos, 3, "sandboxes: {out:?}");
}

#[test]
fn a_pymesos_executor_runs_tasks_over_the_v1_executor_api() {
    let Some(python) = python() else { return };
    let dir = temp_dir("pymesos-executor");
    let (_local, master) = local(&dir);
    let executor = format!("{} {}", python.display(), python_file("pymesos_executor.py").display());
    let mut py = Command::new(&python);
    py.arg(script()).arg(&master).arg("2").arg("echo hello from a pymesos executor").arg(&executor);
    let mut py = Proc::spawn("pymesos", py);
    // Each executor's framework message reaches the scheduler (which
    // answers it: the executor waits for the answer before finishing).
    py.wait_line("MESSAGE exec-py-");
    py.wait_line("DONE finished=2 failed=0");
    assert!(py.wait_exit().success(), "{}", py.dump());
    // In each executor's sandbox: its command's output, and the executor's
    // own log of SUBSCRIBED (registered), LAUNCH and the scheduler's MESSAGE.
    let files = walk(&dir);
    let stdout_of = |needle: &str| {
        files
            .iter()
            .filter(|p| p.ends_with("stdout"))
            .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(needle)))
            .count()
    };
    assert_eq!(stdout_of("hello from a pymesos executor"), 2, "sandboxes: {files:?}");
    for task in ["py-0", "py-1"] {
        assert_eq!(stdout_of(&format!("REGISTERED exec-{task} ")), 1, "{task}: {files:?}");
        assert_eq!(stdout_of(&format!("LAUNCH {task}")), 1, "{task}: {files:?}");
        assert_eq!(stdout_of(&format!("MESSAGE thanks {task}")), 1, "{task}: {files:?}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
