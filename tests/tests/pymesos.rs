//! A real framework written for Mesos, unchanged: pymesos 0.3.15 (from
//! PyPI, installed by `scripts/test.sh` into `target/pymesos-venv`) runs
//! `tests/python/pymesos_scheduler.py` against `rmesos-local` through the v1
//! scheduler API, side by side with `rmesos-execute` on the Rust driver.
//! The tasks run under the real command executor. Without the virtualenv the
//! tests skip loudly; under `CI=true` they fail.

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
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/pymesos_scheduler.py")
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
