//! The web UI in a real browser: `tests/python/webui_browser.py` drives
//! headless Chromium (Debian's `chromium` + `chromium-driver`) with selenium
//! (PyPI, in the virtualenv `scripts/test.sh` makes at target/webui-venv)
//! against real processes:
//! - `rmesos-local` with 2 agents: the overview loads with no console
//!   errors and shows 2 agents; a task launched with `rmesos-execute`
//!   appears and turns TASK_FINISHED without a reload; its sandbox page shows
//!   its stdout (and stderr);
//! - two `rmesos-master`s with `--zk` on a real ZooKeeper: the standby's `/`
//!   leads the browser to the leader's UI.
//!
//! A screenshot of each page lands in target/webui-screenshots/. Without the
//! browser or selenium the tests skip loudly; under `CI=true` they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use libprocess::zookeeper::ensemble::{require_zookeeper, Ensemble};
use rmesos_tests::procs::{bin, temp_dir, Proc};

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The virtualenv's python, when it has selenium and the browser and its
/// driver are installed.
fn python() -> Option<PathBuf> {
    let path = match std::env::var_os("RMESOS_WEBUI_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/webui-venv/bin/python"),
    };
    let mut missing = Vec::new();
    if !(path.is_file() && Command::new(&path).args(["-c", "import selenium"]).status().is_ok_and(|s| s.success())) {
        missing.push(format!("selenium at {}", path.display()));
    }
    for exe in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        if !Path::new(exe).is_file() {
            missing.push(exe.to_string());
        }
    }
    if missing.is_empty() {
        return Some(path);
    }
    let why = format!("no {} (scripts/test.sh installs them)", missing.join(", "));
    if ci() {
        panic!("{why}");
    }
    eprintln!("\n!!!!! SKIPPING web UI browser test: {why} !!!!!\n");
    None
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/webui_browser.py")
}

fn shots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/webui-screenshots")
}

/// Runs the script's `phase` and asserts it printed OK.
fn browse(python: &Path, args: &[&str]) {
    let mut cmd = Command::new(python);
    cmd.arg(script()).args(args).arg(shots());
    let mut p = Proc::spawn("webui_browser.py", cmd);
    let status = p.wait_exit();
    assert!(status.success() && p.stdout().contains(&"OK"), "{}", p.dump());
}

/// Removes the test's directory when dropped (also when the test fails).
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn overview_tasks_and_sandbox_in_a_real_browser() {
    let Some(python) = python() else { return };
    let dir = temp_dir("webui");
    let _cleanup = Cleanup(dir.clone());
    let mut cmd = Command::new(bin("rmesos-local"));
    cmd.args(["--port=0", "--num_slaves=2"]).arg("--work_dir").arg(&dir);
    let mut local = Proc::spawn("rmesos-local", cmd);
    let banner = local.wait_line("state at http://");
    let master = banner.split("master@").nth(1).and_then(|s| s.split(',').next()).unwrap().to_string();
    let execute = bin("rmesos-execute");
    browse(&python, &["cluster", &master, execute.to_str().unwrap()]);
}

/// A master with `--zk`; returns it with its `ip:port`.
fn master(zk: &str, name: &str) -> (Proc, String) {
    let mut cmd = Command::new(bin("rmesos-master"));
    cmd.args(["--ip=127.0.0.1", "--port=0", &format!("--hostname={name}"), &format!("--zk={zk}")]);
    let mut p = Proc::spawn(&format!("rmesos-master {name}"), cmd);
    let line = p.wait_line("The master's pid is ");
    let pid = line.split("The master's pid is ").nth(1).unwrap().split(';').next().unwrap().to_string();
    (p, pid.split('@').nth(1).unwrap().to_string())
}

#[actix_rt::test]
async fn a_standby_sends_the_browser_to_the_leader() {
    if !require_zookeeper("webui standby") {
        return;
    }
    let Some(python) = python() else { return };
    let ens = Ensemble::start(1).await.expect("ZooKeeper");
    let zk = ens.url("/rmesos-webui");
    let (mut leader, leader_addr) = master(&zk, "m1");
    leader.wait_line("Elected as the leading master!");
    let (mut standby, standby_addr) = master(&zk, "m2");
    standby.wait_line("as a standby");
    browse(&python, &["standby", &standby_addr, &leader_addr]);
}
