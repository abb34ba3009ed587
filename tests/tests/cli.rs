//! The `rmesos` CLI against a real cluster of real processes: a ZooKeeper
//! ensemble (libprocess's test ensemble), an `rmesos-master` with `--zk`,
//! an `rmesos-slave`, and `rmesos-execute` running tasks. Every `--master`
//! form (ip:port, host:port, a file, zk://), `--json`, `task cat` / `tail`
//! of a finished task's sandbox, `framework teardown` of a running
//! framework, and the exit codes: 2 and one line for bad input, 1 when the
//! cluster cannot be reached. Waits are on output lines (bounded by
//! `procs::WAIT`); nothing sleeps.

use std::process::{Command, Stdio};

use libprocess::zookeeper::ensemble::{require_zookeeper, Ensemble};
use rmesos_tests::procs::{bin, bin_dir, temp_dir, Proc};
use serde_json::Value;

/// Runs `rmesos args...`: exit code, stdout, stderr.
fn rmesos(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(bin("rmesos"))
        .args(args)
        .env_remove("RMESOS_MASTER")
        .env("COLUMNS", "200")
        .stdin(Stdio::null())
        .output()
        .expect("run rmesos");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = rmesos(args);
    assert_eq!(code, Some(0), "rmesos {args:?}: {err}");
    out
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap()
}

fn execute(master: &str, name: &str, command: &str) -> Proc {
    let mut cmd = Command::new(bin("rmesos-execute"));
    cmd.args(["--master", master, "--name", name, "--command", command]);
    Proc::spawn(&format!("rmesos-execute {name}"), cmd)
}

#[actix_rt::test]
async fn the_cli_reads_and_ends_what_a_real_cluster_runs() {
    if !require_zookeeper("cli") {
        return;
    }
    let ens = Ensemble::start(1).await.expect("ZooKeeper ensemble");
    let zk = ens.url("/rmesos-cli");
    let dir = temp_dir("cli");

    let mut cmd = Command::new(bin("rmesos-master"));
    cmd.args(["--ip=127.0.0.1", "--port=0", "--hostname=cli-master", &format!("--zk={zk}")]);
    let mut master = Proc::spawn("rmesos-master", cmd);
    let started = master.wait_line("started on ");
    let addr = started.rsplit(' ').next().unwrap().to_string();
    master.wait_line("Elected as the leading master!");
    let mut cmd = Command::new(bin("rmesos-slave"));
    cmd.arg(format!("--master={zk}"))
        .args(["--ip=127.0.0.1", "--port=0", "--hostname=cli-agent", "--resources=cpus:2;mem:512"])
        .arg("--work_dir")
        .arg(dir.join("slave"))
        .arg("--launcher_dir")
        .arg(bin_dir());
    let mut slave = Proc::spawn("rmesos-slave", cmd);
    slave.wait_line("Registered with master ");

    // A finished task: its sandbox read through cat and tail.
    let mut done = execute(&addr, "said", "echo hello-from-cli; echo second; echo oops >&2");
    done.wait_line("said TASK_FINISHED");
    done.wait_exit();

    // Every --master form finds the leader.
    let port = addr.rsplit(':').next().unwrap();
    let file = dir.join("master");
    std::fs::write(&file, format!("{zk}\n")).unwrap();
    for m in [addr.clone(), format!("localhost:{port}"), file.display().to_string(), zk.clone()] {
        let out = ok(&["--master", &m, "agent", "list"]);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("ID") && lines[0].contains("HOSTNAME"), "{out}");
        assert!(lines.len() == 2 && lines[1].contains("cli-agent"), "--master {m}: {out}");
    }
    let agents = json(&["--master", &zk, "--json", "agent", "list"]);
    assert_eq!(agents[0]["hostname"], "cli-agent");

    let all = json(&["--master", &addr, "--json", "task", "list", "--all"]);
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    assert_eq!((all[0]["id"].as_str(), all[0]["state"].as_str()), (Some("said"), Some("TASK_FINISHED")));
    assert_eq!(json(&["--master", &addr, "--json", "task", "list"]), serde_json::json!([]), "running only");
    assert_eq!(ok(&["--master", &addr, "task", "cat", "said"]), "hello-from-cli\nsecond\n");
    assert!(ok(&["--master", &addr, "task", "cat", "said", "stderr"]).contains("oops"));
    assert_eq!(ok(&["--master", &addr, "task", "tail", "-n", "1", "said"]), "second\n");

    // A running framework, listed, then torn down: its scheduler hears why.
    let mut running = execute(&addr, "waits", "sleep 600");
    running.wait_line("waits TASK_RUNNING");
    let fws = json(&["--master", &zk, "--json", "framework", "list"]);
    assert_eq!(fws.as_array().unwrap().len(), 1, "{fws}");
    let fid = fws[0]["id"].as_str().unwrap().to_string();
    let table = ok(&["--master", &addr, "task", "list"]);
    assert!(table.lines().nth(1).is_some_and(|l| l.starts_with("waits") && l.contains("TASK_RUNNING")), "{table}");
    assert_eq!(ok(&["--master", &zk, "framework", "teardown", &fid]), format!("Framework {fid} torn down\n"));
    running.wait_line("Framework has been removed");
    assert_eq!(json(&["--master", &addr, "--json", "framework", "list"]), serde_json::json!([]));

    // Bad input: exit 2 and one line; an unreachable cluster: exit 1.
    for args in [
        vec!["--master", "127.0.0.1", "agent", "list"],
        vec!["--master", &addr, "task", "cat", "nosuch"],
        vec!["--master", &addr, "framework", "teardown", "nosuch"],
        vec!["--master", &addr, "task", "cat", "said", "passwd"],
        vec!["agent", "frobnicate"],
    ] {
        let (code, out, err) = rmesos(&args);
        assert_eq!(code, Some(2), "{args:?}: {out}{err}");
        assert!(
            err.trim_end().lines().count() >= 1 && err.starts_with("error") || err.starts_with("rmesos: "),
            "{err}"
        );
    }
    let (code, _, err) = rmesos(&["--master", &addr, "task", "cat", "nosuch"]);
    assert_eq!((code, err.lines().count()), (Some(2), 1), "{err}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let (code, _, err) = rmesos(&["--master", &closed, "agent", "list"]);
    assert_eq!((code, err.lines().count()), (Some(1), 1), "{err}");
    assert!(err.starts_with("rmesos: cannot connect to "), "{err}");

    drop((slave, master, ens));
    let _ = std::fs::remove_dir_all(&dir);
}
