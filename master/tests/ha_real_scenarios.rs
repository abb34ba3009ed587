//! The master-failover scenarios of the field report (SEED.md sections 1 and
//! 2) with real processes: a real 3-server ZooKeeper ensemble, three
//! `rmesos-master --zk` processes, a real `rmesos-slave` and the `redispatch`
//! framework, both following the leader through ZooKeeper, running tasks
//! that wait on gate files the test creates (so the test decides when a task
//! ends and when the next one is launched):
//!
//! - the ZooKeeper leader SIGKILLed: the masters keep one leader (the same:
//!   sessions survive the ensemble's election), the slave and the framework
//!   stay connected, a task still finishes and the next is launched; the
//!   ZooKeeper server restarted rejoins as a follower;
//! - two of three masters stopped: the last one leads, slave and framework
//!   follow it, the next task runs;
//! - all masters down: slave and scheduler keep looking; one master back ->
//!   they resume and the next task runs;
//! - leader gone longer than 10 s (SIGKILL, default session timeout): the
//!   scheduler logs disconnected, then reregistered with the new leader;
//! - master failover: the new leader offers the slave's resources to the
//!   framework again and a task launched on them finishes;
//! - a frozen leader (SIGSTOP) is replaced once its session expires; woken
//!   up (SIGCONT), it exits at once ("Lost leadership") and the new leader
//!   keeps serving.
//!
//! The simulation twins are in `failover_sim.rs`. Without ZooKeeper the
//! tests skip loudly (fail under CI=true).

mod common;

use common::{open_gate, Cluster, SERIAL};
use libprocess::zookeeper::ensemble::require_zookeeper;
use rmesos_tests::procs::gated_tasks;
use rmesos_tests::procs::Proc;

/// One task at a time: the next is launched only on the resources the
/// previous one frees, i.e. on a fresh offer.
const ONE_CPU_SLAVE: &str = "cpus:1;mem:256;disk:256";

/// Index of the first line of `p` (read so far) containing `want`.
fn line_index(p: &Proc, want: &str) -> usize {
    p.seen.iter().position(|l| l.text().contains(want)).unwrap_or_else(|| panic!("no '{want}':\n{}", p.dump()))
}

/// Starts a slave and `redispatch` with `n` gated tasks on the leader;
/// returns (leader, gates dir) once task 1 runs.
async fn workload(c: &mut Cluster, n: usize) -> (usize, std::path::PathBuf) {
    let leader = c.one_leader().await;
    c.spawn_slave(ONE_CPU_SLAVE);
    c.slaves_active(leader, 1).await;
    let (list, gates) = gated_tasks(&c.dir, n);
    c.spawn_redispatch(&list);
    c.frameworks[0].wait_line("task-0001 (attempt 1) TASK_RUNNING");
    (leader, gates)
}

/// Ends task 1, then sees task 2 launched (on a fresh offer) and finished.
fn next_task_runs(c: &mut Cluster, gates: &std::path::Path) {
    let rd = &mut c.frameworks[0];
    open_gate(gates, 1);
    rd.wait_line("task-0001 (attempt 1) TASK_FINISHED");
    rd.wait_line("Launching task-0002.1 on s0");
    rd.wait_line("task-0002 (attempt 1) TASK_RUNNING");
    open_gate(gates, 2);
    rd.wait_line("finished 2 of 2, re-dispatched 0");
}

#[actix_rt::test]
async fn zookeeper_leader_killed_the_masters_keep_their_leader_and_tasks_still_run() {
    if !require_zookeeper("zookeeper_leader_killed_the_masters_keep_their_leader_and_tasks_still_run") {
        return;
    }
    let _serial = SERIAL.lock().await;
    // The default 10 s sessions: they outlive the ensemble's election.
    let mut c = Cluster::start("zk-leader-killed", 3, &[]).await;
    let (leader, gates) = workload(&mut c, 2).await;

    let zk_leader = c.ens.leader().await.expect("the ensemble has a leader");
    c.ens.kill(zk_leader);
    c.zk_leader_other_than(zk_leader).await;
    // The sessions survived (clients reconnected to the other servers): the
    // same master leads, no master lost leadership or exited.
    assert_eq!(c.one_leader().await, leader);
    for i in 0..3 {
        assert!(c.masters[i].as_mut().unwrap().running(), "master {i} exited:\n{}", c.logs());
    }
    c.slaves_active(leader, 1).await;
    c.framework_active(leader).await;

    next_task_runs(&mut c, &gates);

    // The killed server restarted: it rejoins as a follower; nothing changes.
    c.ens.restart(zk_leader).unwrap();
    c.zk_mode(zk_leader, "follower").await;
    assert_eq!(c.one_leader().await, leader);
    let logs = c.logs();
    assert!(!logs.contains("Lost leadership"), "{logs}");
    assert!(!c.frameworks[0].dump().contains("Disconnected from the master"), "{logs}");
}

#[actix_rt::test]
async fn two_of_three_masters_stopped_the_last_leads_and_slave_and_framework_follow() {
    if !require_zookeeper("two_of_three_masters_stopped_the_last_leads_and_slave_and_framework_follow") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let mut c = Cluster::start("two-of-three", 3, &["--zk_session_timeout=2secs"]).await;
    let (leader, gates) = workload(&mut c, 2).await;
    let standby = (0..3).find(|i| *i != leader).unwrap();
    let last = (0..3).find(|i| *i != leader && *i != standby).unwrap();

    // Stop the leader and a standby (SIGTERM, as an operator does).
    c.sigterm_master(leader);
    c.sigterm_master(standby);
    assert_eq!(c.one_leader().await, last);
    c.slaves_active(last, 1).await;
    c.framework_active(last).await;
    let new_id = c.masters[last].as_mut().unwrap().wait_line("Elected as the leading master!");
    assert!(new_id.contains(&c.master_pid(last)), "{new_id}");
    c.frameworks[0].wait_line("Reregistered with master");

    next_task_runs(&mut c, &gates);
}

#[actix_rt::test]
async fn all_masters_down_slave_and_scheduler_keep_looking_and_resume_when_one_is_back() {
    if !require_zookeeper("all_masters_down_slave_and_scheduler_keep_looking_and_resume_when_one_is_back") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let mut c = Cluster::start("all-down", 3, &["--zk_session_timeout=2secs"]).await;
    let (_, gates) = workload(&mut c, 2).await;

    for i in 0..3 {
        c.sigkill_master(i);
    }
    // Once the dead masters' sessions expire, nobody leads: the slave and
    // the scheduler say so and keep running.
    c.slaves[0].as_mut().unwrap().wait_line("No leader detected");
    let rd = &mut c.frameworks[0];
    rd.wait_line("Disconnected from the master; no offers until a master is detected");
    rd.wait_line("No leader detected");
    assert!(c.slaves[0].as_mut().unwrap().running() && c.frameworks[0].running(), "{}", c.logs());

    c.spawn_master(1);
    assert_eq!(c.one_leader().await, 1);
    c.slaves_active(1, 1).await;
    c.framework_active(1).await;
    c.frameworks[0].wait_line("Reregistered with master");

    next_task_runs(&mut c, &gates);
}

#[actix_rt::test]
async fn leader_gone_longer_than_10s_scheduler_disconnected_then_reregistered_with_the_new_leader() {
    if !require_zookeeper("leader_gone_longer_than_10s_scheduler_disconnected_then_reregistered_with_the_new_leader") {
        return;
    }
    let _serial = SERIAL.lock().await;
    // The default 10 s session timeout: a SIGKILLed leader is replaced only
    // once its session expires, so the framework is without a master >10 s.
    let mut c = Cluster::start("gone-10s", 3, &[]).await;
    let (leader, gates) = workload(&mut c, 1).await;

    c.sigkill_master(leader);
    let (next, _) = c.new_leader(leader).await;
    c.framework_active(next).await;
    let next_pid = c.master_pid(next);
    let rd = &mut c.frameworks[0];
    rd.wait_line("Reregistered with master");
    rd.wait_line("Framework reregistered with");
    // In order on each stream (stdout and stderr are read apart): the
    // callbacks disconnected() then reregistered(); the driver's log lines
    // "Disconnected from master" at once (its link to the dead leader
    // broke), the new leader detected, the framework reregistered.
    let stdout = |want: &str| rd.stdout().iter().position(|l| l.contains(want));
    let (disconnected, reregistered) = (
        stdout("Disconnected from the master; no offers until a master is detected"),
        stdout("Reregistered with master"),
    );
    assert!(disconnected.is_some() && disconnected < reregistered, "{}", rd.dump());
    let lost = line_index(rd, "Disconnected from master");
    let detected = line_index(rd, &format!("New master detected at {next_pid}"));
    let driver = line_index(rd, "Framework reregistered with");
    assert!(lost < detected && detected < driver, "{}", rd.dump());

    open_gate(&gates, 1);
    rd.wait_line("finished 1 of 1, re-dispatched 0");
}

#[actix_rt::test]
async fn after_master_failover_the_framework_is_offered_again_and_a_new_task_finishes() {
    if !require_zookeeper("after_master_failover_the_framework_is_offered_again_and_a_new_task_finishes") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let mut c = Cluster::start("offered-again", 3, &["--zk_session_timeout=2secs"]).await;
    let (leader, gates) = workload(&mut c, 2).await;

    c.sigkill_master(leader);
    let (next, _) = c.new_leader(leader).await;
    c.framework_active(next).await;
    c.slaves_active(next, 1).await;
    c.frameworks[0].wait_line("Reregistered with master");

    // Task 1 ends: the new leader offers the freed cpu to the framework,
    // which launches task 2 on it (a fresh master counts from zero).
    next_task_runs(&mut c, &gates);
    let launched = line_index(&c.frameworks[0], "Launching task-0002.1 on s0");
    let reregistered = line_index(&c.frameworks[0], "Reregistered with master");
    assert!(launched > reregistered, "{}", c.frameworks[0].dump());
    let port = c.ports[next];
    for (name, want) in [("master/offers_sent", 1.0), ("master/tasks_launched", 1.0), ("master/tasks_finished", 2.0)] {
        let got = common::metric(port, name).unwrap_or_default();
        assert!(got >= want, "{name} = {got} on the new leader, want >= {want}");
    }
}

#[actix_rt::test]
async fn frozen_leader_is_replaced_and_exits_when_it_wakes_up() {
    if !require_zookeeper("frozen_leader_is_replaced_and_exits_when_it_wakes_up") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let mut c = Cluster::start("frozen-leader", 3, &["--zk_session_timeout=2secs"]).await;
    let (leader, gates) = workload(&mut c, 2).await;

    // SIGSTOP: its connections stay open; only its ZooKeeper session, which
    // it cannot keep alive, tells the others it is gone. (Not polled while
    // frozen: its kernel still accepts HTTP connections nobody answers.)
    c.masters[leader].as_ref().unwrap().signal(libc::SIGSTOP);
    let (next, _) = c.new_leader(leader).await;
    c.slaves_active(next, 1).await;
    c.framework_active(next).await;
    c.frameworks[0].wait_line("Reregistered with master");

    // Woken up, it learns its sessions expired and exits at once instead of
    // acting as a second leader (the reason logged is whichever of its
    // contender's or detector's session reports first).
    let mut old = c.masters[leader].take().unwrap();
    old.signal(libc::SIGCONT);
    let line = old.wait_line("Lost leadership");
    assert!(line.contains("committing suicide!"), "{line}");
    let status = old.wait_exit();
    assert_eq!(status.code(), Some(1), "{}", old.dump());
    assert_eq!(c.one_leader().await, next);

    next_task_runs(&mut c, &gates);
}
