//! Master high availability with real processes: a real 3-server ZooKeeper
//! ensemble (Debian's `zookeeper` package) and three `rmesos-master`
//! processes with `--zk`. Exactly one leads (each master's `/state` says who
//! leads; the leader's `/redirect` and the standbys' point to it); a real
//! slave registers with it; SIGKILL of the leader -> a standby is elected
//! once the dead leader's ZooKeeper session expires and the slave
//! reregisters with it; the old leader restarted -> a standby.
//!
//! Waiting polls `/state` on the real clock with a short pause between looks
//! and a bound, or reads log lines; no fixed sleeps (see `common`). Without
//! ZooKeeper installed the tests skip loudly (or fail under CI=true).
//!
//! More scenarios: `ha_real_scenarios.rs`; figures: `ha_figures.rs`.

mod common;

use common::{get, Cluster, SERIAL};
use libprocess::zookeeper::ensemble::require_zookeeper;

/// The `Location` of `/redirect` on `127.0.0.1:port` (a 307).
fn redirect_location(port: u16) -> Option<String> {
    let (code, headers, _) = get(port, "/redirect")?;
    assert_eq!(code, 307);
    headers.into_iter().find(|(k, _)| k == "location").map(|(_, v)| v)
}

#[actix_rt::test]
async fn real_leader_sigkill_new_leader_old_one_back_as_standby() {
    if !require_zookeeper("real_leader_sigkill_new_leader_old_one_back_as_standby") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let mut c = Cluster::start("ha-real", 3, &["--zk_session_timeout=3secs"]).await;
    let first = c.one_leader().await;
    c.spawn_slave("cpus:2;mem:1024");
    c.slaves_active(first, 1).await;
    let location = format!("http://127.0.0.1:{}", c.ports[first]);
    for i in 0..3 {
        assert_eq!(redirect_location(c.ports[i]).as_deref(), Some(location.as_str()), "master {i}");
    }

    c.sigkill_master(first);
    let (second, _) = c.new_leader(first).await;
    assert_eq!(c.one_leader().await, second);
    // The slave detects the new leader and reregisters with it.
    c.slaves_active(second, 1).await;

    c.spawn_master(first);
    assert_eq!(c.one_leader().await, second, "the old leader comes back as a standby");
    let want = format!("Following leader {}", c.master_pid(second));
    c.masters[first].as_mut().unwrap().wait_line(&want);
}
