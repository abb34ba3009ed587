//! The operator's log lines (issue 6, "Logs an operator reads") from real
//! processes: a real 3-server ZooKeeper ensemble, two `rmesos-master`
//! processes with `--zk`, two `rmesos-slave`s and the `redispatch` example
//! following the leader through ZooKeeper. The leader is SIGKILLed, then the
//! slave running the task; each checklist line must appear in the log of
//! the right process with the right Upids. Every wait is on an output line
//! (bounded by `procs::WAIT`); no test sleeps. Without ZooKeeper installed
//! the test skips loudly (fails under CI=true).
//!
//! docs/operations.md "What the logs say" lists the same lines.

use std::path::Path;
use std::process::Command;

use libprocess::zookeeper::ensemble::{require_zookeeper, Ensemble};
use rmesos_tests::procs::{bin, bin_dir, temp_dir, wait_gone, Proc, WAIT};

/// Short sessions and health checks, so that failover and slave removal
/// happen within seconds (the defaults are Mesos's 10 s and 5 x 15 s).
const MASTER_FLAGS: &[&str] =
    &["--zk_session_timeout=4secs", "--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=2"];

/// A master with `--zk`; returns it with its pid and id (from its first lines).
fn master(zk: &str, name: &str) -> (Proc, String, String) {
    let mut cmd = Command::new(bin("rmesos-master"));
    cmd.args(["--ip=127.0.0.1", "--port=0", &format!("--hostname={name}"), &format!("--zk={zk}")]).args(MASTER_FLAGS);
    let mut p = Proc::spawn(&format!("rmesos-master {name}"), cmd);
    // "Master <id> (<hostname>) started on <addr>", then "The master's pid is <pid>; ...".
    let started = p.wait_line(&format!("({name}) started on "));
    let id = started.split("Master ").nth(1).unwrap().split(' ').next().unwrap().to_string();
    let line = p.wait_line("The master's pid is ");
    let pid = line.split("The master's pid is ").nth(1).unwrap().split(';').next().unwrap().to_string();
    (p, pid, id)
}

/// A slave following `zk`; returns it with its pid.
fn slave(zk: &str, hostname: &str, work_dir: &Path) -> (Proc, String) {
    let mut cmd = Command::new(bin("rmesos-slave"));
    cmd.arg(format!("--master={zk}"))
        .args(["--ip=127.0.0.1", "--port=0", "--resources=cpus:1;mem:256;disk:256", "--hostname", hostname])
        .arg("--work_dir")
        .arg(work_dir)
        .arg("--launcher_dir")
        .arg(bin_dir());
    let mut p = Proc::spawn(&format!("rmesos-slave {hostname}"), cmd);
    let line = p.wait_line("Slave started at ");
    let pid = line.split("Slave started at ").nth(1).unwrap().split(' ').next().unwrap().to_string();
    (p, pid)
}

/// Removes the test's directory when dropped (also when the test fails).
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The word after `after` in `line`.
fn word_after<'a>(line: &'a str, after: &str) -> &'a str {
    line.split(after).nth(1).and_then(|s| s.split([' ', ';']).next()).unwrap_or_else(|| panic!("{after}? {line}"))
}

#[actix_rt::test]
async fn each_checklist_line_in_the_right_process_with_its_upids() {
    if !require_zookeeper("operator_logs") {
        return;
    }
    let ens = Ensemble::start(3).await.expect("ZooKeeper ensemble");
    let zk = ens.url("/rmesos");
    let dir = temp_dir("operator-logs");
    let _cleanup = Cleanup(dir.clone());

    // Elected; the second master follows it as a standby.
    let (mut m1, m1_pid, m1_id) = master(&zk, "m1");
    m1.wait_line(&format!("Elected as the leading master! (master {m1_id} at {m1_pid})"));
    let (mut m2, m2_pid, m2_id) = master(&zk, "m2");
    m2.wait_line(&format!("Following leader {m1_pid} ({m1_id}) as a standby (this master: {m2_pid})"));

    // Slaves detect the leader and register; the leader says so.
    let (mut sa, sa_pid) = slave(&zk, "sa", &dir.join("sa"));
    let (mut sb, sb_pid) = slave(&zk, "sb", &dir.join("sb"));
    let mut sids = Vec::new();
    for (s, pid, host) in [(&mut sa, &sa_pid, "sa"), (&mut sb, &sb_pid, "sb")] {
        s.wait_line(&format!("{pid}: Detected a new leader: {m1_pid}"));
        let line = s.wait_line(&format!("New master detected at {m1_pid}"));
        assert!(line.contains(&format!("slave={pid}")), "{line}");
        let line = s.wait_line(&format!("Registered with master {m1_pid}; given agent ID "));
        let sid = word_after(&line, "given agent ID ").to_string();
        m1.wait_line(&format!("Registered slave {sid} at {pid} ({host}) with cpus:1"));
        sids.push(sid);
    }

    // redispatch registers and runs one task that waits for a gate file.
    let gate = dir.join("gate");
    let list = dir.join("tasks");
    std::fs::write(&list, format!("while [ ! -e {} ]; do sleep 0.05; done\n", gate.display())).unwrap();
    let mut cmd = Command::new(bin("redispatch"));
    cmd.arg(format!("--master={zk}"))
        .args(["--resources", "cpus:1;mem:32"])
        .arg("--tasks")
        .arg(&list)
        .arg("--state_dir")
        .arg(dir.join("state"))
        .env("LIBPROCESS_IP", "127.0.0.1");
    let mut rd = Proc::spawn("redispatch", cmd);
    let sched = word_after(&rd.wait_line("Scheduler driver process started pid="), "pid=").to_string();
    rd.wait_line(&format!("{sched}: Detected a new leader: {m1_pid}"));
    let line = rd.wait_line(&format!("New master detected at {m1_pid}"));
    assert!(line.contains(&format!("scheduler={sched}")), "{line}");
    let line = rd.wait_line("Framework registered with ");
    assert!(line.contains(&format!("scheduler={sched}")), "{line}");
    let fid = word_after(&line, "Framework registered with ").to_string();
    m1.wait_line(&format!("Registered framework {fid} (redispatch) at {sched}"));
    let running = rd.wait_line("task-0001 (attempt 1) TASK_RUNNING on slave ");
    let sid = word_after(&running, "on slave ").to_string();
    let (victim, victim_pid, victim_host, survivor, survivor_pid, survivor_host) = if sid == sids[0] {
        (&mut sa, sa_pid.clone(), "sa", &mut sb, sb_pid.clone(), "sb")
    } else {
        (&mut sb, sb_pid.clone(), "sb", &mut sa, sa_pid.clone(), "sa")
    };
    let survivor_sid = sids.iter().find(|s| **s != sid).unwrap().clone();

    // SIGKILL the leader: the standby is elected once its session expires;
    // slaves and the framework detect it, re-register, and it says so.
    m1.signal(libc::SIGKILL);
    assert!(wait_gone(m1.pid(), WAIT), "the killed leader is gone");
    // (A detector may see "no leader" for a moment between the two: the
    // loss is then on that line, so it is looked for on any line.)
    m2.wait_line(&format!("Elected as the leading master! (master {m2_id} at {m2_pid}"));
    assert!(m2.dump().contains(&format!("previous leader {m1_pid} ({m1_id}) is gone")), "{}", m2.dump());
    for (s, pid, host, id) in
        [(&mut *victim, &victim_pid, victim_host, &sid), (&mut *survivor, &survivor_pid, survivor_host, &survivor_sid)]
    {
        s.wait_line(&format!("{pid}: Detected a new leader: {m2_pid}"));
        assert!(s.dump().contains(&format!("(previous leader {m1_pid} is gone)")), "{}", s.dump());
        let line = s.wait_line(&format!("Re-registered with master {m2_pid}"));
        assert!(line.contains(&format!("slave={pid}")), "{line}");
        m2.wait_line(&format!("Re-registered slave {id} at {pid} ({host}) with cpus:1"));
    }
    rd.wait_line(&format!("{sched}: Detected a new leader: {m2_pid}"));
    assert!(rd.dump().contains(&format!("(previous leader {m1_pid} is gone)")), "{}", rd.dump());
    let line = rd.wait_line(&format!("Disconnected from master {m1_pid}"));
    assert!(line.contains(&format!("scheduler={sched}")), "{line}");
    let line = rd.wait_line(&format!("Framework reregistered with {fid}"));
    assert!(line.contains(&format!("master={m2_pid}")), "{line}");
    m2.wait_line(&format!("Re-registered framework {fid} (redispatch) at {sched}"));

    // SIGKILL the slave running the task: disconnected, its task lost, then
    // removed by the health checks; redispatch runs the task elsewhere.
    victim.signal(libc::SIGKILL);
    assert!(wait_gone(victim.pid(), WAIT), "the killed slave is gone");
    m2.wait_line(&format!("Slave {sid} at {victim_pid} ({victim_host}) disconnected"));
    m2.wait_line(&format!(
        "Task task-0001.1 of framework {fid} on slave {sid} is TASK_LOST (REASON_SLAVE_DISCONNECTED: Slave {sid} \
         disconnected)"
    ));
    m2.wait_line(&format!("Removing slave {sid} at {victim_pid} ({victim_host}): health check timed out"));
    rd.wait_line(&format!(
        "task-0001 (attempt 1) TASK_LOST on slave {sid} (REASON_SLAVE_DISCONNECTED: Slave {sid} disconnected); \
         re-dispatching (attempt 2)"
    ));
    rd.wait_line("task-0001 (attempt 2) TASK_RUNNING on slave ");
    std::fs::write(&gate, b"").unwrap();
    let status = rd.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", rd.dump());
    let out = rd.stdout();
    let report = out.iter().find(|l| l.contains("Done: ")).unwrap_or_else(|| panic!("no report:\n{}", rd.dump()));
    assert!(
        report
            .ends_with("Done: 1 of 1 tasks finished after 2 launches; 1 task(s) re-dispatched: task-0001 (2 attempts)"),
        "{report}"
    );
    assert_eq!(out.last().copied(), Some("finished 1 of 1, re-dispatched 1"), "{}", rd.dump());

    // The old leader comes back: a standby following the new one.
    let (mut m1, m1_pid, m1_id) = master(&zk, "m1");
    m1.wait_line(&format!("Following leader {m2_pid} ({m2_id}) as a standby (this master: {m1_pid})"));
    assert!(!m1.dump().contains("Elected as the leading master"), "{}", m1.dump());

    // The leader stopped gracefully (SIGTERM): it withdraws, the standby
    // leads at once and says whose place it takes.
    m2.signal(libc::SIGTERM);
    m2.wait_line(&format!("Master {m2_pid} stopping: withdrawing from the election"));
    m1.wait_line(&format!("Elected as the leading master! (master {m1_id} at {m1_pid}"));
    assert!(m1.dump().contains(&format!("previous leader {m2_pid} ({m2_id}) is gone")), "{}", m1.dump());
    assert_eq!(m2.wait_exit().code(), Some(0), "{}", m2.dump());
    drop((m1, m2, sa, sb));
    drop(ens);
}
