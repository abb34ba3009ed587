//! A whole HA cluster of real processes for the master's real-process suites
//! (`ha_real_scenarios`, `ha_figures`): a real 3-server ZooKeeper ensemble
//! (`libprocess::zookeeper::ensemble`), `rmesos-master --zk` processes,
//! `rmesos-slave --master zk://...` processes and frameworks (`redispatch`,
//! `rmesos-execute`) following the leader through ZooKeeper.
//!
//! Every child is a [`Proc`] (its output lines can be waited on; SIGKILLed
//! and reaped on drop); the ensemble is stopped and the temp dir removed on
//! drop. Waiting polls `/state` or `/metrics/snapshot` every [`POLL`] on the
//! real clock, or reads output lines, always bounded by [`MAX_WAIT`]: no
//! fixed sleeps. The binaries are built once per run by
//! [`rmesos_tests::procs::bin_dir`].

#![allow(dead_code)] // each suite uses a part

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use libprocess::zookeeper::ensemble::Ensemble;
use libprocess::{Clock, Time};
use rmesos_tests::procs::{bin, bin_dir, temp_dir, Proc};
use serde_json::Value;

/// Bound on one wait (a safety net, not a timing check).
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// Pause between two looks at a master's endpoints.
pub const POLL: Duration = Duration::from_millis(10);
/// Each task of the gated workloads takes one cpu.
pub const TASK_RESOURCES: &str = "cpus:1;mem:32";

/// One real-ensemble test at a time in a test binary (three JVMs, three
/// masters and more each, on a shared machine).
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct Cluster {
    /// Frameworks, by the test's choice of index.
    pub frameworks: Vec<Proc>,
    pub slaves: Vec<Option<Proc>>,
    pub masters: Vec<Option<Proc>>,
    /// Each master's port (kept across restarts).
    pub ports: Vec<u16>,
    pub ens: Ensemble,
    /// One real clock for every measurement and bound.
    pub clock: Clock,
    pub dir: PathBuf,
    master_flags: Vec<String>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Cluster {
    /// A 3-server ensemble and `masters` masters started with `flags`
    /// (e.g. `--zk_session_timeout=2secs`); waits for one agreed leader.
    pub async fn start(name: &str, masters: usize, flags: &[&str]) -> Cluster {
        bin_dir(); // build the binaries before the clock matters
        let ens = Ensemble::start(3).await.expect("ZooKeeper ensemble");
        let mut c = Cluster {
            frameworks: Vec::new(),
            slaves: Vec::new(),
            masters: Vec::new(),
            ports: Vec::new(),
            ens,
            clock: Clock::real(),
            dir: temp_dir(name),
            master_flags: flags.iter().map(|f| f.to_string()).collect(),
        };
        for i in 0..masters {
            c.ports.push(free_port());
            c.masters.push(None);
            c.spawn_master(i);
        }
        c.one_leader().await;
        c
    }

    pub fn zk(&self) -> String {
        self.ens.url("/rmesos")
    }

    /// `master@127.0.0.1:<port>` of master `i`.
    pub fn master_pid(&self, i: usize) -> String {
        format!("master@127.0.0.1:{}", self.ports[i])
    }

    /// Starts (or restarts) master `i` on its port.
    pub fn spawn_master(&mut self, i: usize) {
        let mut cmd = Command::new(bin("rmesos-master"));
        cmd.args(["--ip=127.0.0.1".to_string(), format!("--port={}", self.ports[i]), format!("--hostname=m{i}")])
            .arg(format!("--zk={}", self.zk()))
            .args(&self.master_flags);
        self.masters[i] = Some(Proc::spawn(&format!("master m{i}"), cmd));
    }

    /// Starts slave `s<index>` with `resources` and a fresh work dir;
    /// returns its index.
    pub fn spawn_slave(&mut self, resources: &str) -> usize {
        let i = self.slaves.len();
        let work_dir = self.dir.join(format!("slave{i}"));
        let mut cmd = Command::new(bin("rmesos-slave"));
        cmd.arg(format!("--master={}", self.zk()))
            .args(["--ip=127.0.0.1", "--port=0", "--resources", resources])
            .arg(format!("--hostname=s{i}"))
            .arg("--work_dir")
            .arg(work_dir)
            .arg("--launcher_dir")
            .arg(bin_dir());
        self.slaves.push(Some(Proc::spawn(&format!("slave s{i}"), cmd)));
        i
    }

    /// Starts `redispatch` over `list` (state under the cluster's dir),
    /// one cpu per task; returns its index in `frameworks`.
    pub fn spawn_redispatch(&mut self, list: &Path) -> usize {
        let mut cmd = Command::new(bin("redispatch"));
        cmd.arg(format!("--master={}", self.zk()))
            .args(["--resources", TASK_RESOURCES])
            .arg("--tasks")
            .arg(list)
            .arg("--state_dir")
            .arg(self.dir.join(format!("redispatch{}", self.frameworks.len())))
            .env("LIBPROCESS_IP", "127.0.0.1");
        self.frameworks.push(Proc::spawn("redispatch", cmd));
        self.frameworks.len() - 1
    }

    /// Starts `rmesos-execute --command <command>`; returns its index.
    pub fn spawn_execute(&mut self, name: &str, command: &str) -> usize {
        let mut cmd = Command::new(bin("rmesos-execute"));
        cmd.arg(format!("--master={}", self.zk()))
            .arg(format!("--name={name}"))
            .arg(format!("--command={command}"))
            .env("LIBPROCESS_IP", "127.0.0.1");
        self.frameworks.push(Proc::spawn("rmesos-execute", cmd));
        self.frameworks.len() - 1
    }

    /// SIGKILLs master `i` and reaps it.
    pub fn sigkill_master(&mut self, i: usize) {
        if let Some(mut p) = self.masters[i].take() {
            p.signal(libc::SIGKILL);
            p.wait_exit();
        }
    }

    /// Stops master `i` with SIGTERM (it withdraws its candidacy) and reaps it.
    pub fn sigterm_master(&mut self, i: usize) {
        if let Some(mut p) = self.masters[i].take() {
            p.signal(libc::SIGTERM);
            p.wait_exit();
        }
    }

    /// `(leader pid, elected)` from master `i`'s `/state`, if it answers.
    pub fn view(&self, i: usize) -> Option<(Option<String>, bool)> {
        self.masters[i].as_ref()?;
        let state = get_json(self.ports[i], "/state")?;
        Some((state["leader"].as_str().map(String::from), !state["elected_time"].is_null()))
    }

    fn leads(&self, i: usize) -> bool {
        matches!(self.view(i), Some((Some(l), true)) if l == self.master_pid(i))
    }

    /// Polls until `f` says something; panics with every log after
    /// [`MAX_WAIT`]. Returns the answer and when it came.
    pub async fn until<T>(&mut self, what: &str, mut f: impl FnMut(&Cluster) -> Option<T>) -> (T, Time) {
        let start = self.clock.now();
        loop {
            if let Some(t) = f(self) {
                return (t, self.clock.now());
            }
            if self.clock.now() - start > MAX_WAIT {
                panic!("{what}: not within {MAX_WAIT:?}\n{}", self.logs());
            }
            self.clock.sleep(POLL).await;
        }
    }

    /// Polls until exactly one running master leads and every other running
    /// master names it; returns its index. Two leaders at once fail the test.
    pub async fn one_leader(&mut self) -> usize {
        self.until("one agreed leader", |c| {
            let views: Vec<_> = (0..c.masters.len()).map(|i| c.view(i)).collect();
            let leaders: Vec<usize> = (0..views.len())
                .filter(|i| matches!(&views[*i], Some((Some(l), true)) if *l == c.master_pid(*i)))
                .collect();
            assert!(leaders.len() <= 1, "two masters lead: {views:?}");
            let l = *leaders.first()?;
            let want = c.master_pid(l);
            let agreed = (0..views.len())
                .all(|i| c.masters[i].is_none() || matches!(&views[i], Some((Some(p), _)) if *p == want));
            agreed.then_some(l)
        })
        .await
        .0
    }

    /// Polls until a running master other than `old` leads; returns it and when.
    pub async fn new_leader(&mut self, old: usize) -> (usize, Time) {
        self.until("a new leader", |c| (0..c.masters.len()).find(|i| *i != old && c.leads(*i))).await
    }

    /// Polls until master `i` has `n` active slaves.
    pub async fn slaves_active(&mut self, i: usize, n: usize) -> Time {
        let port = self.ports[i];
        self.until(&format!("{n} active slaves on master {i}"), |_| {
            let active = get_json(port, "/state")?["slaves"].as_array()?.iter().filter(|s| s["active"] == true).count();
            (active == n).then_some(())
        })
        .await
        .1
    }

    /// Polls until master `i` has an active framework (connected to it).
    pub async fn framework_active(&mut self, i: usize) -> Time {
        let port = self.ports[i];
        self.until(&format!("an active framework on master {i}"), |_| {
            let state = get_json(port, "/state")?;
            state["frameworks"].as_array()?.iter().any(|f| f["active"] == true && f["connected"] == true).then_some(())
        })
        .await
        .1
    }

    /// Polls until master `i`'s metric `name` (e.g. `master/offers_sent`)
    /// is at least `at_least`.
    pub async fn metric_at_least(&mut self, i: usize, name: &str, at_least: f64) -> Time {
        let port = self.ports[i];
        self.until(&format!("{name} >= {at_least} on master {i}"), |_| (metric(port, name)? >= at_least).then_some(()))
            .await
            .1
    }

    /// Polls (`srvr`) until a ZooKeeper server other than `old` leads the
    /// ensemble; returns its index.
    pub async fn zk_leader_other_than(&mut self, old: usize) -> usize {
        let start = self.clock.now();
        loop {
            if let Some(l) = self.ens.leader().await.filter(|l| *l != old) {
                return l;
            }
            if self.clock.now() - start > MAX_WAIT {
                panic!("no new ZooKeeper leader within {MAX_WAIT:?}\n{}", self.logs());
            }
            self.clock.sleep(POLL).await;
        }
    }

    /// Polls until ZooKeeper server `i` serves in `mode` ("follower", ...).
    pub async fn zk_mode(&mut self, i: usize, mode: &str) {
        let start = self.clock.now();
        while self.ens.mode(i).await.as_deref() != Some(mode) {
            if self.clock.now() - start > MAX_WAIT {
                panic!("ZooKeeper server {i} not {mode} within {MAX_WAIT:?}\n{}", self.ens.log(i));
            }
            self.clock.sleep(POLL).await;
        }
    }

    /// Every log read so far, and what is waiting to be read.
    pub fn logs(&mut self) -> String {
        let mut out = String::new();
        let procs = self.masters.iter_mut().chain(self.slaves.iter_mut()).flatten().chain(self.frameworks.iter_mut());
        for p in procs {
            p.drain();
            out.push_str(&format!("--- {}\n{}\n", p.name, p.dump()));
        }
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.frameworks.clear();
        self.slaves.clear();
        self.masters.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn open_gate(gates: &Path, i: usize) {
    std::fs::write(gates.join(format!("g{i}")), b"").unwrap();
}

/// A response: status code, headers (lower-case names), body.
pub type Reply = (u16, Vec<(String, String)>, String);

/// GET `path` on `127.0.0.1:port` (None if nothing answers).
pub fn get(port: u16, path: &str) -> Option<Reply> {
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

pub fn get_json(port: u16, path: &str) -> Option<Value> {
    let (code, _, body) = get(port, path)?;
    (code == 200).then(|| serde_json::from_str(&body).ok()).flatten()
}

/// One value of the master's `/metrics/snapshot`.
pub fn metric(port: u16, name: &str) -> Option<f64> {
    get_json(port, "/metrics/snapshot")?[name].as_f64()
}

/// The median of `v` in ms.
pub fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

/// Prints a figure line `name value` and the runs it comes from.
pub fn print_figure(name: &str, runs: &[Duration]) {
    println!("{name} {:.0}", median_ms(runs.to_vec()));
    println!("  (all: {:?})", runs.iter().map(|d| d.as_millis()).collect::<Vec<_>>());
}
