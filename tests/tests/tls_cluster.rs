//! A whole cluster under strict TLS (issue 18): a real ZooKeeper, two
//! `rmesos-master`s, two `rmesos-slave`s whose executors inherit the TLS
//! variables, and the `redispatch` framework, every component with
//! `LIBPROCESS_SSL_ENABLED`, `VERIFY_SERVER_CERT` and `REQUIRE_CLIENT_CERT`
//! on certificates the test makes with openssl. The leader is SIGKILLed
//! while a task runs: the standby takes over, slaves and the framework
//! follow it over TLS, and the task finishes. A plaintext slave and a
//! plaintext HTTP client are refused by the TLS-only master while the TLS
//! components carry on; curl with the client certificate reads `/state`.
//! Every wait is on an output line or a process exit (`procs::WAIT`).

use std::path::Path;
use std::process::Command;

use libprocess::testkit::certs::{require_openssl, TestCa};
use libprocess::zookeeper::ensemble::{require_zookeeper, Ensemble};
use rmesos_tests::procs::{bin, bin_dir, gated_tasks, temp_dir, wait_gone, Proc, WAIT};

/// Short sessions, so that failover takes seconds (Mesos's default is 10 s).
const MASTER_FLAGS: &[&str] =
    &["--zk_session_timeout=4secs", "--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=2"];

/// Removes the test's directory when dropped (also when the test fails).
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn with_env(mut cmd: Command, env: &[(String, String)]) -> Command {
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// A master with `--zk`; returns it with its pid and `ip:port`.
fn master(zk: &str, name: &str, env: &[(String, String)]) -> (Proc, String, String) {
    let mut cmd = Command::new(bin("rmesos-master"));
    cmd.args(["--ip=127.0.0.1", "--port=0", &format!("--hostname={name}"), &format!("--zk={zk}")]).args(MASTER_FLAGS);
    let mut p = Proc::spawn(&format!("rmesos-master {name}"), with_env(cmd, env));
    let started = p.wait_line(&format!("({name}) started on "));
    let addr = started.rsplit(' ').next().unwrap().to_string();
    let line = p.wait_line("The master's pid is ");
    let pid = line.split("The master's pid is ").nth(1).unwrap().split(';').next().unwrap().to_string();
    (p, pid, addr)
}

fn slave(master: &str, hostname: &str, work_dir: &Path, env: &[(String, String)]) -> Proc {
    let mut cmd = Command::new(bin("rmesos-slave"));
    cmd.arg(format!("--master={master}"))
        .args(["--ip=127.0.0.1", "--port=0", "--resources=cpus:1;mem:256;disk:256", "--hostname", hostname])
        .arg("--work_dir")
        .arg(work_dir)
        .arg("--launcher_dir")
        .arg(bin_dir());
    Proc::spawn(&format!("rmesos-slave {hostname}"), with_env(cmd, env))
}

/// `curl` over HTTPS with `args`: its exit code and stdout.
fn curl(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("curl").args(["-sS", "--max-time", "20"]).args(args).output().expect("run curl");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[actix_rt::test]
async fn a_whole_cluster_under_tls_survives_a_leader_failover_and_refuses_plaintext() {
    if !require_zookeeper("tls_cluster") || !require_openssl("tls_cluster") {
        return;
    }
    let dir = temp_dir("tls-cluster");
    let _cleanup = Cleanup(dir.clone());
    let ca = TestCa::new(&dir.join("certs"), "ca");
    let node = ca.issue("node", &["127.0.0.1".parse().unwrap()]);
    let tls = ca.strict_env(&node);
    let ens = Ensemble::start(1).await.expect("ZooKeeper");
    let zk = ens.url("/rmesos");

    let (mut m1, m1_pid, m1_addr) = master(&zk, "m1", &tls);
    m1.wait_line("Elected as the leading master!");
    assert!(m1.dump().contains("(TLS only)"), "{}", m1.dump());
    let (mut m2, m2_pid, _m2_addr) = master(&zk, "m2", &tls);
    m2.wait_line(&format!("Following leader {m1_pid}"));

    let mut sa = slave(&zk, "sa", &dir.join("sa"), &tls);
    let mut sb = slave(&zk, "sb", &dir.join("sb"), &tls);
    m1.wait_lines("Registered slave ", 2);
    sa.wait_line(&format!("Registered with master {m1_pid}"));
    sb.wait_line(&format!("Registered with master {m1_pid}"));

    // A plaintext slave is refused at the transport; the TLS ones carry on.
    let mut plain = slave(&m1_addr, "plain", &dir.join("plain"), &[]);
    plain.wait_line("Slave started at ");
    m1.wait_line("closing connection: plaintext refused, this node requires TLS");
    // A plaintext HTTP client: the connection is closed, nothing answered.
    let (code, body) = curl(&[&format!("http://{m1_addr}/state")]);
    assert_ne!(code, Some(0), "plaintext /state answered: {body}");
    // curl with the cluster's client certificate reads /state over HTTPS.
    let (cert, key, cacert) = (node.cert.display().to_string(), node.key.display().to_string(), ca.cert());
    let https = |addr: &str| {
        curl(&[
            "--cacert",
            &cacert.display().to_string(),
            "--cert",
            &cert,
            "--key",
            &key,
            &format!("https://{addr}/state"),
        ])
    };
    let (code, state) = https(&m1_addr);
    assert_eq!(code, Some(0), "{state}");
    let state: serde_json::Value = serde_json::from_str(&state).expect("/state is JSON");
    let hosts: Vec<&str> = state["slaves"].as_array().unwrap().iter().filter_map(|s| s["hostname"].as_str()).collect();
    assert_eq!(hosts.len(), 2, "only the TLS slaves registered: {hosts:?}");
    assert!(!hosts.contains(&"plain"), "{hosts:?}");
    // Without a client certificate curl is refused too (REQUIRE_CLIENT_CERT).
    let (code, _) = curl(&["--cacert", &cacert.display().to_string(), &format!("https://{m1_addr}/state")]);
    assert_ne!(code, Some(0), "an HTTPS client without a certificate got through");

    // The framework runs one task, held by a gate file, over TLS.
    let (list, gates) = gated_tasks(&dir, 1);
    let mut cmd = Command::new(bin("redispatch"));
    cmd.arg(format!("--master={zk}"))
        .args(["--resources", "cpus:1;mem:32"])
        .arg("--tasks")
        .arg(&list)
        .arg("--state_dir")
        .arg(dir.join("state"))
        .env("LIBPROCESS_IP", "127.0.0.1");
    let mut rd = Proc::spawn("redispatch", with_env(cmd, &tls));
    rd.wait_line("Framework registered with ");
    rd.wait_line("task-0001 (attempt 1) TASK_RUNNING on slave ");

    // SIGKILL the leader: the standby is elected; everyone follows it.
    m1.signal(libc::SIGKILL);
    assert!(wait_gone(m1.pid(), WAIT), "the killed leader is gone");
    m2.wait_line("Elected as the leading master!");
    sa.wait_line(&format!("Re-registered with master {m2_pid}"));
    sb.wait_line(&format!("Re-registered with master {m2_pid}"));
    rd.wait_line("Framework reregistered with ");

    // The task, still running under its TLS executor, finishes.
    std::fs::write(gates.join("g1"), b"").unwrap();
    let status = rd.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", rd.dump());
    assert!(rd.dump().contains("Done: 1 of 1 tasks finished"), "{}", rd.dump());
    assert!(!plain.dump().contains("Registered with master"), "{}", plain.dump());
    drop((m1, m2, sa, sb, plain, rd));
    drop(ens);
}
