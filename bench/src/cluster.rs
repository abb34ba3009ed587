//! The master actor driven over real TCP: the master runs on one libprocess
//! node (exactly as `rmesos_master::spawn` starts it), and fake slaves and a
//! fake scheduler run as processes on a second node in the same OS process,
//! reached through the real transport on 127.0.0.1 (frames encoded, sent,
//! decoded, dispatched). This is closer to a real cluster than local
//! delivery: the master pays for decoding every ReregisterSlaveMessage with
//! all its tasks. The difference from reality: the slaves share one TCP
//! connection (libprocess keeps one per peer node) instead of one each.
//!
//! Fake slaves speak the real messages: RegisterSlave / ReregisterSlave (with
//! frameworks and running tasks, as Mesos's `MasterFailover_BENCHMARK_Test`
//! `TestSlave` sends), answer pings, and answer RunTask with a TASK_FINISHED
//! status update (a no-op task whose executor finished at once). The fake
//! scheduler registers, launches on offers and acknowledges every update.
//! Both are the test kit's fake (`rmesos_testkit::fakes`).
//!
//! Backoff: a real slave that detects a new leader waits a random delay in
//! `[0, --registration_backoff_factor)` before reregistering (Mesos's agent
//! does the same), so that thousands do not reach the new leader at once.
//! [`failover`] takes that factor and draws the same uniform delays.

use std::time::Duration;

use libprocess::testkit::Recording;
use libprocess::{Config, Node, Upid};
use rmesos::messages::*;
use rmesos::*;
use rmesos_testkit::fakes::{ack_updates, answer_pings, fake, finish_tasks};
use rmesos_testkit::Heard;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::{elapsed_ms, now};
use rmesos_master::MasterOptions;

/// Longest the bench waits for any phase (a safety net, not a figure).
const PHASE_TIMEOUT: Duration = Duration::from_secs(120);

/// Frameworks the reported tasks belong to are drawn from this many.
const FRAMEWORK_POOL: u64 = 100;

/// Every fake slave's resources (as Mesos's DeclineOffers agents).
const SLAVE_RESOURCES: &str = "cpus:24;mem:4096;disk:4096;ports:[31000-32000]";

/// A failover scenario: slaves, and per slave frameworks x tasks each.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub slaves: u64,
    pub frameworks_per_slave: u64,
    pub tasks_per_framework: u64,
}

impl Shape {
    /// `tasks` per slave: 5 frameworks x 2 tasks for 10 (Mesos's
    /// MasterStateQuery shape), 1 framework x 5 tasks for 5 (Mesos's
    /// `make_tuple(20000, 1, 5, 0, 0)` failover shape).
    pub fn new(slaves: u64, tasks: u64) -> Shape {
        let frameworks_per_slave = if tasks.is_multiple_of(5) && tasks > 5 { 5 } else { 1 };
        Shape { slaves, frameworks_per_slave, tasks_per_framework: tasks / frameworks_per_slave }
    }
}

fn r(s: &str) -> Resources {
    Resources::parse(s).expect("valid resources")
}

/// What slave `i` of `shape` sends a new leader: its info under the id the
/// previous master gave it, its frameworks and running tasks.
pub fn reregister_message(i: u64, shape: Shape, port: u16) -> ReregisterSlaveMessage {
    let sid = SlaveID::generate("old-master", i);
    let mut slave = SlaveInfo::new(format!("host{i}"), port, r(SLAVE_RESOURCES), Attributes::default());
    slave.id = Some(sid.clone());
    let task_res = r("cpus:0.5;mem:64");
    let mut frameworks = Vec::new();
    let mut tasks = Vec::new();
    for j in 0..shape.frameworks_per_slave {
        let n = (i + j) % FRAMEWORK_POOL;
        let fid = FrameworkID::generate("old-master", n);
        let mut info = FrameworkInfo::new("bench", format!("framework-{n}"));
        info.id = Some(fid.clone());
        info.checkpoint = true;
        info.failover_timeout = 3600.0;
        frameworks.push(info);
        for k in 0..shape.tasks_per_framework {
            tasks.push(Task {
                name: format!("task-{i}-{j}-{k}"),
                task_id: TaskID::new(format!("task-{i}-{j}-{k}")).expect("valid task id"),
                framework_id: fid.clone(),
                executor_id: None,
                slave_id: sid.clone(),
                state: TaskState::Running,
                resources: task_res.clone(),
                statuses: Vec::new(),
                status_update_state: None,
                status_update_uuid: None,
            });
        }
    }
    ReregisterSlaveMessage {
        slave,
        checkpointed_resources: Resources::new(),
        executor_infos: Vec::new(),
        tasks,
        frameworks,
        completed_frameworks: Vec::new(),
        version: Some(env!("CARGO_PKG_VERSION").into()),
        incarnation: Some(i),
    }
}

/// A fresh master on its own node, and a second node for the fakes.
pub struct Cluster {
    pub master_node: Node,
    pub master: Upid,
    fakes: Node,
    tx: mpsc::UnboundedSender<Heard>,
    rx: Recording<Heard>,
}

impl Cluster {
    pub async fn start() -> Cluster {
        let master_node =
            Node::bind_with_clock(Config::loopback(0), crate::clock().clone()).await.expect("bind master");
        let opts = MasterOptions {
            hostname: "localhost".into(),
            master_id: Some("bench-master".into()),
            ..MasterOptions::default()
        };
        let master = rmesos_master::spawn(&master_node, opts).expect("spawn master").pid;
        let fakes = Node::bind_with_clock(Config::loopback(0), crate::clock().clone()).await.expect("bind fakes");
        let (tx, rx) = Recording::channel();
        Cluster { master_node, master, fakes, tx, rx }
    }

    fn spawn_slaves(&self, n: u64) -> Vec<Upid> {
        (0..n)
            .map(|i| {
                answer_pings(finish_tasks(fake())).spawn_into(&self.fakes, &format!("slave({i})"), self.tx.clone())
            })
            .collect()
    }

    /// Waits for `n` events `pick` accepts, returning what it kept.
    async fn wait<T>(&mut self, n: usize, mut pick: impl FnMut(Heard) -> Option<T>) -> Vec<T> {
        let mut out = Vec::with_capacity(n);
        let rx = &mut self.rx;
        let wait = async {
            while out.len() < n {
                let ev = rx.recv().await.expect("sender kept by the cluster");
                if let Some(t) = pick(ev) {
                    out.push(t);
                }
            }
        };
        if tokio::time::timeout(PHASE_TIMEOUT, wait).await.is_err() {
            eprintln!("rmesos-bench: timed out waiting for {n} events (got {})", out.len());
            std::process::exit(1);
        }
        out
    }

    pub fn shutdown(self) {
        self.fakes.shutdown();
        self.master_node.shutdown();
    }
}

/// Registering `n` new slaves with a fresh master: ms until every slave got
/// its SlaveRegisteredMessage.
pub async fn add_slaves(n: u64) -> f64 {
    let mut c = Cluster::start().await;
    let slaves = c.spawn_slaves(n);
    let msgs: Vec<_> = (0..n)
        .map(|i| RegisterSlaveMessage {
            slave: SlaveInfo::new(format!("host{i}"), 5051, r(SLAVE_RESOURCES), Attributes::default()),
            checkpointed_resources: Resources::new(),
            version: None,
            incarnation: Some(i),
        })
        .collect();
    let t = now();
    for (pid, m) in slaves.iter().zip(msgs) {
        c.fakes.send(pid, &c.master, m);
    }
    c.wait(n as usize, |e| matches!(e, Heard::SlaveRegistered(..)).then_some(())).await;
    let ms = elapsed_ms(t);
    c.shutdown();
    ms
}

/// A small deterministic generator for the backoff delays (splitmix64).
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A fresh master (the new leader) until every slave of `shape` has
/// reregistered with its tasks (got SlaveReregisteredMessage), each slave
/// first waiting a uniform random delay in `[0, backoff)`. Returns the ms
/// and the cluster, still running, for the figures taken after failover.
pub async fn failover(shape: Shape, backoff: Duration) -> (f64, Cluster) {
    let mut c = Cluster::start().await;
    let slaves = c.spawn_slaves(shape.slaves);
    let port = c.fakes.address().port();
    let mut seed = 7u64;
    let mut plan: Vec<(Duration, Upid, ReregisterSlaveMessage)> = slaves
        .into_iter()
        .enumerate()
        .map(|(i, pid)| {
            let delay = backoff.mul_f64((splitmix(&mut seed) >> 11) as f64 / (1u64 << 53) as f64);
            (delay, pid, reregister_message(i as u64, shape, port))
        })
        .collect();
    plan.sort_by_key(|p| p.0);
    let t = now();
    let (fakes, master) = (c.fakes.clone(), c.master.clone());
    let clock = crate::clock().clone();
    // The sends run beside the wait: with a backoff they spread over time.
    let sender = actix_rt::spawn(async move {
        for (delay, pid, m) in plan {
            let due = delay.saturating_sub(clock.now().saturating_since(t));
            if !due.is_zero() {
                clock.sleep(due).await;
            }
            fakes.send(&pid, &master, m);
        }
    });
    c.wait(shape.slaves as usize, |e| matches!(e, Heard::SlaveReregistered(..)).then_some(())).await;
    let ms = elapsed_ms(t);
    let _ = sender.await;
    (ms, c)
}

/// GET `path` over HTTP/1.1 from `addr`: (status, body bytes).
async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, usize) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .expect("write request");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read response");
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n").map_or(buf.len(), |p| p + 4);
    let head = String::from_utf8_lossy(&buf[..head_end]);
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, buf.len() - head_end)
}

/// GET /state from the running master: (ms, body MiB).
pub async fn state_json(c: &Cluster) -> (f64, f64) {
    let t = now();
    let (status, len) = http_get(c.master_node.address(), "/state").await;
    let ms = elapsed_ms(t);
    if status != 200 {
        eprintln!("rmesos-bench: /state answered {status}");
        std::process::exit(1);
    }
    (ms, len as f64 / (1024.0 * 1024.0))
}

/// End to end launches: `slaves` fake slaves, one fake scheduler; every
/// offer gets `per_offer` no-op tasks; tasks per second from the first
/// LaunchTasks to the last TASK_FINISHED at the scheduler (every update
/// acknowledged through the master to the slave).
pub async fn launch_tasks(slaves: u64, per_offer: u64) -> f64 {
    let mut c = Cluster::start().await;
    let sched = ack_updates(fake()).spawn_into(&c.fakes, "scheduler(1)", c.tx.clone());
    let pids = c.spawn_slaves(slaves);
    for (i, pid) in pids.iter().enumerate() {
        let info = SlaveInfo::new(format!("host{i}"), 5051, r(SLAVE_RESOURCES), Attributes::default());
        c.fakes.send(
            pid,
            &c.master,
            RegisterSlaveMessage { slave: info, checkpointed_resources: r(""), version: None, incarnation: None },
        );
    }
    c.wait(slaves as usize, |e| matches!(e, Heard::SlaveRegistered(..)).then_some(())).await;
    c.fakes.send(&sched, &c.master, RegisterFrameworkMessage { framework: FrameworkInfo::new("bench", "launcher") });
    let fid = c
        .wait(1, |e| match e {
            Heard::FrameworkRegistered(_, m) => Some(m.framework_id),
            _ => None,
        })
        .await
        .remove(0);
    let mut offers = Vec::new();
    while (offers.len() as u64) < slaves {
        let batch = c
            .wait(1, |e| match e {
                Heard::ResourceOffers(_, m) => Some(m.offers),
                _ => None,
            })
            .await;
        offers.extend(batch.into_iter().flatten());
    }
    let task_res = r("cpus:1;mem:32");
    let launches: Vec<LaunchTasksMessage> = offers
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let tasks = (0..per_offer)
                .map(|k| {
                    let tid = TaskID::new(format!("t-{i}-{k}")).expect("valid task id");
                    TaskInfo::command("noop", tid, o.slave_id.clone(), task_res.clone(), CommandInfo::shell("true"))
                })
                .collect();
            LaunchTasksMessage {
                framework_id: fid.clone(),
                tasks,
                filters: Filters::default(),
                offer_ids: vec![o.id.clone()],
            }
        })
        .collect();
    let total = launches.len() as u64 * per_offer;
    let t = now();
    for m in launches {
        c.fakes.send(&sched, &c.master, m);
    }
    c.wait(total as usize, |e| {
        matches!(e, Heard::StatusUpdate(_, m) if m.update.status.state.is_terminal()).then_some(())
    })
    .await;
    let secs = elapsed_ms(t) / 1e3;
    c.shutdown();
    total as f64 / secs
}
