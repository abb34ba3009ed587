//! Master high availability with real processes: a real 3-server ZooKeeper
//! ensemble (Debian's `zookeeper` package) and three `rmesos-master`
//! processes with `--zk`. Exactly one leads (each master's `/state` says who
//! leads; the leader's `/redirect` and the standbys' point to it); SIGKILL
//! of the leader -> a standby is elected once the dead leader's ZooKeeper
//! session expires; the old leader restarted -> a standby.
//!
//! Waiting polls `/state` on the real clock with a short pause between looks
//! and a bound; no fixed sleeps. Without ZooKeeper installed the tests skip
//! loudly (or fail under CI=true).
//!
//! More scenarios: `ha_real_scenarios.rs`; figures: `ha_figures.rs`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use libprocess::zookeeper::ensemble::{require_zookeeper, Ensemble};
use libprocess::{Clock, Time};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rmesos-master");
/// Bound on one wait (a safety net, not a timing check).
const MAX_WAIT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(10);

/// One real-ensemble test at a time (three JVMs and three masters each).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Master {
    port: u16,
    child: Option<Child>,
    log: PathBuf,
}

impl Master {
    fn pid(&self) -> String {
        format!("master@127.0.0.1:{}", self.port)
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `rmesos-slave` beside this test's `rmesos-master` (built by
/// `cargo build -p rmesos-slave`), if present.
fn slave_bin() -> Option<PathBuf> {
    let p = std::path::Path::new(BIN).parent()?.join("rmesos-slave");
    p.is_file().then_some(p)
}

struct Cluster {
    /// Real `rmesos-slave` processes following the leader through ZooKeeper.
    slaves: Vec<Master>,
    /// One real clock for every measurement and bound (times of different
    /// clocks do not compare).
    clock: Clock,
    ens: Ensemble,
    masters: Vec<Master>,
    session_timeout: &'static str,
    dir: PathBuf,
}

impl Cluster {
    async fn start(session_timeout: &'static str) -> Cluster {
        let ens = Ensemble::start(3).await.expect("ZooKeeper ensemble");
        let dir = std::env::temp_dir().join(format!("rmesos-ha-real-{}-{}", std::process::id(), session_timeout));
        std::fs::create_dir_all(&dir).unwrap();
        let mut c =
            Cluster { slaves: Vec::new(), clock: Clock::real(), ens, masters: Vec::new(), session_timeout, dir };
        for i in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            c.masters.push(Master { port, child: None, log: c.dir.join(format!("master{i}.log")) });
            c.spawn(i);
        }
        c
    }

    fn spawn(&mut self, i: usize) {
        let m = &mut self.masters[i];
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&m.log).unwrap();
        let child = Command::new(BIN)
            .args([
                "--ip=127.0.0.1".to_string(),
                format!("--port={}", m.port),
                format!("--hostname=m{i}"),
                format!("--zk={}", self.ens.url("/rmesos")),
                format!("--zk_session_timeout={}", self.session_timeout),
            ])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        m.child = Some(child);
    }

    /// Starts a real slave with `--master zk://...`.
    fn spawn_slave(&mut self, bin: &std::path::Path) {
        let i = self.slaves.len();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = self.dir.join(format!("slave{i}.log"));
        let work_dir = self.dir.join(format!("slave{i}"));
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        let child = Command::new(bin)
            .args([
                "--ip=127.0.0.1".to_string(),
                format!("--port={port}"),
                format!("--hostname=s{i}"),
                format!("--master={}", self.ens.url("/rmesos")),
                format!("--work_dir={}", work_dir.display()),
                "--resources=cpus:2;mem:1024".to_string(),
            ])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .unwrap();
        self.slaves.push(Master { port, child: Some(child), log });
    }

    /// Polls until master `i` has every slave registered and active.
    async fn slaves_active(&self, i: usize) -> Time {
        let start = self.clock.now();
        loop {
            let active = get_json(self.masters[i].port, "/state")
                .and_then(|s| s["slaves"].as_array().map(|a| a.iter().filter(|x| x["active"] == true).count()));
            if active == Some(self.slaves.len()) {
                return self.clock.now();
            }
            if self.clock.now() - start > MAX_WAIT {
                panic!("slaves not active on master {i} within {MAX_WAIT:?}: {active:?}\n{}", self.logs());
            }
            self.clock.sleep(POLL).await;
        }
    }

    fn sigkill(&mut self, i: usize) {
        if let Some(mut c) = self.masters[i].child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// `(leader pid, elected)` from master `i`'s `/state`, if it answers.
    fn view(&self, i: usize) -> Option<(Option<String>, bool)> {
        self.masters[i].child.as_ref()?;
        let state = get_json(self.masters[i].port, "/state")?;
        Some((state["leader"].as_str().map(String::from), !state["elected_time"].is_null()))
    }

    /// Polls until exactly one running master leads and every other running
    /// master names it as leader; returns its index.
    async fn one_leader(&self) -> usize {
        let start = self.clock.now();
        loop {
            let views: Vec<_> = (0..3).map(|i| (i, self.view(i))).collect();
            let leaders: Vec<usize> = views
                .iter()
                .filter(|(i, v)| matches!(v, Some((Some(l), true)) if *l == self.masters[*i].pid()))
                .map(|(i, _)| *i)
                .collect();
            assert!(leaders.len() <= 1, "two masters lead: {views:?}");
            if let [l] = leaders[..] {
                let want = self.masters[l].pid();
                let agreed = views
                    .iter()
                    .all(|(i, v)| self.masters[*i].child.is_none() || matches!(v, Some((Some(p), _)) if *p == want));
                if agreed {
                    return l;
                }
            }
            if self.clock.now() - start > MAX_WAIT {
                panic!("no single agreed leader within {MAX_WAIT:?}: {views:?}\n{}", self.logs());
            }
            self.clock.sleep(POLL).await;
        }
    }

    /// Polls until a master other than `old` leads; returns it and when.
    async fn new_leader(&self, old: usize) -> (usize, Time) {
        let start = self.clock.now();
        loop {
            for i in (0..3).filter(|i| *i != old) {
                if matches!(self.view(i), Some((Some(l), true)) if l == self.masters[i].pid()) {
                    return (i, self.clock.now());
                }
            }
            if self.clock.now() - start > MAX_WAIT {
                panic!("no new leader within {MAX_WAIT:?}\n{}", self.logs());
            }
            self.clock.sleep(POLL).await;
        }
    }

    fn logs(&self) -> String {
        self.masters
            .iter()
            .chain(&self.slaves)
            .map(|m| format!("--- {}\n{}", m.log.display(), std::fs::read_to_string(&m.log).unwrap_or_default()))
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.masters.clear();
        self.slaves.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A response: status code, headers (lower-case names), body.
type Reply = (u16, Vec<(String, String)>, String);

/// GET `path` on `127.0.0.1:port`.
fn get(port: u16, path: &str) -> Option<Reply> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let (head, body) = resp.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let code = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((code, headers, body.to_string()))
}

fn get_json(port: u16, path: &str) -> Option<Value> {
    let (code, _, body) = get(port, path)?;
    (code == 200).then(|| serde_json::from_str(&body).ok()).flatten()
}

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
    let mut c = Cluster::start("3secs").await;
    let first = c.one_leader().await;
    let slave = slave_bin();
    if let Some(bin) = &slave {
        c.spawn_slave(bin);
        c.slaves_active(first).await;
    } else {
        eprintln!("rmesos-slave not built: the slave part of this test is skipped (cargo build -p rmesos-slave)");
    }
    let location = format!("http://127.0.0.1:{}", c.masters[first].port);
    for i in 0..3 {
        assert_eq!(redirect_location(c.masters[i].port).as_deref(), Some(location.as_str()), "master {i}");
    }

    c.sigkill(first);
    let (second, _) = c.new_leader(first).await;
    assert_eq!(c.one_leader().await, second);
    if slave.is_some() {
        // The slave detects the new leader and reregisters with it.
        c.slaves_active(second).await;
    }

    c.spawn(first);
    assert_eq!(c.one_leader().await, second, "the old leader comes back as a standby");
    let log = std::fs::read_to_string(&c.masters[first].log).unwrap();
    let want = format!("Following leader {}", c.masters[second].pid());
    assert!(log.contains(&want), "{log}");
}
