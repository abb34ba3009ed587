//! Fault-tolerance figures with real processes (ignored; issue 6's list,
//! median of 5, printed as `name value` lines plus the runs):
//!
//! - master leader SIGKILL and graceful stop (SIGTERM), with the default
//!   10 s ZooKeeper session timeout and with 2 s: from the signal to the new
//!   leader elected; to both slaves reregistered with it; to the framework
//!   (`rmesos-execute`, one long task) reregistered with it; to the new
//!   leader's first offer (its `master/offers_sent` counter; a fresh
//!   master counts from zero) — "offered again";
//! - ZooKeeper leader SIGKILL -> a new ZooKeeper leader (`srvr` polled),
//!   and -> the leading master still leads and a new task launched (the
//!   masters' sessions survive: clients reconnect to the other servers);
//! - slave SIGKILL -> TASK_LOST at the scheduler (the framework's line),
//!   with the default health-check flags and with short ones
//!   (`--agent_ping_timeout=1secs --max_agent_ping_timeouts=2`); and a
//!   frozen slave (SIGSTOP: its connection stays open) with the short ones,
//!   where only the health checks can notice.
//!
//! `cargo test -p rmesos-master --test ha_figures -- --ignored --nocapture`
//! (one part: add `failover_figures`, `zookeeper_figures` or
//! `slave_loss_figures`)
//! (add `--release` to measure an optimized build).

mod common;

use common::{print_figure, Cluster, SERIAL};
use libprocess::zookeeper::ensemble::require_zookeeper;

const RUNS: usize = 5;
const SLAVE: &str = "cpus:2;mem:1024;disk:1024";

#[actix_rt::test]
#[ignore]
async fn failover_figures() {
    if !require_zookeeper("failover_figures") {
        return;
    }
    let _serial = SERIAL.lock().await;
    for timeout in ["10secs", "2secs"] {
        let flag = format!("--zk_session_timeout={timeout}");
        let mut c = Cluster::start("figures-failover", 3, &[&flag]).await;
        let leader = c.one_leader().await;
        c.spawn_slave(SLAVE);
        c.spawn_slave(SLAVE);
        c.slaves_active(leader, 2).await;
        let f = c.spawn_execute("ha", "sleep 600");
        c.frameworks[f].wait_line("TASK_RUNNING");
        for (how, signal) in [("sigkill", libc::SIGKILL), ("sigterm", libc::SIGTERM)] {
            let (mut elected, mut slaves, mut framework, mut offered) = (vec![], vec![], vec![], vec![]);
            for _ in 0..RUNS {
                let leader = c.one_leader().await;
                c.slaves_active(leader, 2).await;
                c.framework_active(leader).await;
                let t0 = c.clock.now();
                if signal == libc::SIGKILL {
                    c.sigkill_master(leader);
                } else {
                    c.sigterm_master(leader);
                }
                let (next, t1) = c.new_leader(leader).await;
                elected.push(t1 - t0);
                framework.push(c.framework_active(next).await - t0);
                offered.push(c.metric_at_least(next, "master/offers_sent", 1.0).await - t0);
                slaves.push(c.slaves_active(next, 2).await - t0);
                c.spawn_master(leader);
            }
            let tag = format!("{how}_session_{timeout}_ms");
            print_figure(&format!("master_failover_new_leader_{tag}"), &elected);
            print_figure(&format!("master_failover_slaves_reregistered_{tag}"), &slaves);
            print_figure(&format!("master_failover_framework_reregistered_{tag}"), &framework);
            print_figure(&format!("master_failover_framework_offered_again_{tag}"), &offered);
        }
    }
}

#[actix_rt::test]
#[ignore]
async fn zookeeper_figures() {
    if !require_zookeeper("zookeeper_figures") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let mut c = Cluster::start("figures-zk", 3, &[]).await;
    let leader = c.one_leader().await;
    c.spawn_slave(SLAVE);
    c.slaves_active(leader, 1).await;
    let (mut zk_elected, mut task_launched) = (vec![], vec![]);
    for run in 0..RUNS {
        let zk_leader = c.ens.leader().await.expect("the ensemble has a leader");
        let t0 = c.clock.now();
        c.ens.kill(zk_leader);
        c.zk_leader_other_than(zk_leader).await;
        zk_elected.push(c.clock.now() - t0);
        // A new framework registers and its task is launched and runs.
        let f = c.spawn_execute(&format!("zk{run}"), "true");
        c.frameworks[f].wait_line("TASK_FINISHED");
        task_launched.push(c.clock.now() - t0);
        assert_eq!(c.one_leader().await, leader, "the masters' sessions survived");
        c.ens.restart(zk_leader).unwrap();
        c.zk_mode(zk_leader, "follower").await;
    }
    print_figure("zookeeper_leader_sigkill_new_zookeeper_leader_ms", &zk_elected);
    print_figure("zookeeper_leader_sigkill_new_framework_task_finished_ms", &task_launched);
}

#[actix_rt::test]
#[ignore]
async fn slave_loss_figures() {
    if !require_zookeeper("slave_loss_figures") {
        return;
    }
    let _serial = SERIAL.lock().await;
    for (name, flags, signal) in [
        ("sigkill_default_health_checks", &[][..], libc::SIGKILL),
        (
            "sigkill_short_health_checks",
            &["--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=2"][..],
            libc::SIGKILL,
        ),
        (
            "sigstop_short_health_checks",
            &["--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=2"][..],
            libc::SIGSTOP,
        ),
    ] {
        let mut c = Cluster::start("figures-slave", 1, flags).await;
        let mut lost = vec![];
        for run in 0..RUNS {
            let s = c.spawn_slave(SLAVE);
            c.slaves_active(0, 1).await;
            let f = c.spawn_execute(&format!("lost{run}"), "sleep 600");
            c.frameworks[f].wait_line("TASK_RUNNING");
            let t0 = c.clock.now();
            c.slaves[s].as_ref().unwrap().signal(signal);
            c.frameworks[f].wait_line("TASK_LOST");
            lost.push(c.clock.now() - t0);
            c.slaves[s] = None; // SIGKILLed (a stopped one too) and reaped
            c.slaves_active(0, 0).await;
        }
        print_figure(&format!("slave_{name}_task_lost_at_scheduler_ms"), &lost);
    }
}
