//! The harness of the slave's real-process tests: the test plays the
//! master (a libprocess node speaking the real messages) and starts
//! `rmesos-slave` as a child process, which launches the real
//! `rmesos-executor`. Every wait is on a message from the slave (with a
//! generous timeout as a safety net); states only the kernel changes are
//! polled by [`poll_until`], nothing sleeps blindly. Each test binary uses
//! a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use libprocess::{Actor, Config, Context, Handlers, Me, Node, Process, Upid};
use rmesos::messages::*;
use rmesos::{CommandInfo, FrameworkID, FrameworkInfo, Resources, SlaveID, TaskID, TaskInfo, TaskState};
use tokio::sync::mpsc;

/// Safety net around each wait (a healthy run takes well under a second).
pub const WAIT: Duration = Duration::from_secs(60);

/// Checks `done` every `every` until it holds or `within` has passed, and
/// says whether it held. Only for states the kernel changes on its own (a
/// cgroup's process list, a pid file a task writes, a cgroup the slave
/// removes after its reply): nothing sends a message when they change, so
/// the state is polled, never slept on blindly.
pub fn poll_until(within: Duration, every: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(every);
    }
}

/// [`poll_until`] for async tests: the runtime keeps running between checks.
pub async fn poll_until_async(within: Duration, every: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(every).await;
    }
}

#[derive(Debug)]
pub enum Event {
    Register(Upid, RegisterSlaveMessage),
    Reregister(Upid, ReregisterSlaveMessage),
    Update(Upid, StatusUpdateMessage),
    Exited(ExitedExecutorMessage),
    Pong(Upid),
}

/// The fake master: forwards what it hears to the test.
pub struct FakeMaster {
    events: mpsc::UnboundedSender<Event>,
}

impl Actor for FakeMaster {
    type Context = Context<Self>;
}

impl Process for FakeMaster {
    fn install(h: &mut Handlers<Self>) {
        h.install(|m: &mut Self, from, msg: RegisterSlaveMessage, _| {
            let _ = m.events.send(Event::Register(from, msg));
        })
        .install(|m: &mut Self, from, msg: ReregisterSlaveMessage, _| {
            let _ = m.events.send(Event::Reregister(from, msg));
        })
        .install(|m: &mut Self, from, msg: StatusUpdateMessage, _| {
            let _ = m.events.send(Event::Update(from, msg));
        })
        .install(|m: &mut Self, _from, msg: ExitedExecutorMessage, _| {
            let _ = m.events.send(Event::Exited(msg));
        })
        .install(|m: &mut Self, from, _msg: PongSlaveMessage, _| {
            let _ = m.events.send(Event::Pong(from));
        });
    }
}

/// Kills the slave process when the test ends, however it ends.
pub struct SlaveChild(pub Child);

impl Drop for SlaveChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Cluster {
    pub node: Node,
    pub master: Upid,
    pub slave: Upid,
    pub events: mpsc::UnboundedReceiver<Event>,
    pub work_dir: PathBuf,
    pub _child: SlaveChild,
}

pub fn slave_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rmesos-slave"))
}

/// The directory holding both binaries. `rmesos-executor` belongs to another
/// crate, so cargo does not build it for this test: the test builds it
/// (once per run, a no-op when fresh) with the cargo that runs the test, into
/// the same target directory.
pub fn launcher_dir() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = slave_binary().parent().unwrap().to_path_buf();
            let mut cargo = Command::new(env!("CARGO"));
            cargo.args(["build", "-p", "rmesos-executor", "--bin", "rmesos-executor"]);
            if dir.file_name().is_some_and(|n| n == "release") {
                cargo.arg("--release");
            }
            let status = cargo.status().expect("run cargo build -p rmesos-executor");
            assert!(status.success(), "cargo build -p rmesos-executor failed");
            assert!(dir.join("rmesos-executor").is_file(), "rmesos-executor not in {}", dir.display());
            dir
        })
        .clone()
}

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rmesos-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub async fn next(events: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(WAIT, events.recv()).await.expect("an event within the safety timeout").expect("open")
}

pub fn sid() -> SlaveID {
    SlaveID::new("fake-S0").unwrap()
}

pub fn fid() -> FrameworkID {
    FrameworkID::new("fake-0000").unwrap()
}

/// Starts the fake master and a real slave, and registers it.
pub async fn cluster(name: &str) -> Cluster {
    cluster_with(name, &[]).await
}

/// As [`cluster`], with extra slave flags.
pub async fn cluster_with(name: &str, extra: &[&str]) -> Cluster {
    let node = Node::bind(Config::loopback(0)).await.unwrap();
    let (tx, mut events) = mpsc::unbounded_channel();
    let master = node.spawn("master", |_me: Me| FakeMaster { events: tx }).unwrap().pid;
    let work_dir = temp_dir(name);
    let child = spawn_slave(&master, &work_dir, extra);
    let child = SlaveChild(child);
    let Event::Register(slave, msg) = next(&mut events).await else { panic!("expected RegisterSlaveMessage") };
    assert_eq!(msg.slave.resources, Resources::parse("cpus:2;mem:256;disk:1000;ports:[31000-32000]").unwrap());
    assert_eq!(slave.id(), "slave(1)");
    node.send(&master, &slave, SlaveRegisteredMessage { slave_id: sid(), connection: None });
    // The slave answers pings once registered.
    node.send(&master, &slave, PingSlaveMessage { connected: true });
    loop {
        match next(&mut events).await {
            Event::Pong(from) if from == slave => break,
            Event::Register(..) => continue, // a retry sent before our answer arrived
            e => panic!("unexpected {e:?}"),
        }
    }
    Cluster { node, master, slave, events, work_dir, _child: child }
}

/// Starts `rmesos-slave` for `master` on `work_dir` with the harness's
/// flags and `extra`; its log goes to `<work_dir>/slave.log` (appended).
pub fn spawn_slave(master: &Upid, work_dir: &Path, extra: &[&str]) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(work_dir.join("slave.log")).unwrap();
    Command::new(slave_binary())
        .args(["--master", &master.addr().to_string(), "--port", "0", "--work_dir"])
        .arg(work_dir)
        .arg("--launcher_dir")
        .arg(launcher_dir())
        .args(["--resources", "cpus:2;mem:256;disk:1000", "--registration_backoff_factor", "10ms"])
        .args(extra)
        .env("LIBPROCESS_IP", "127.0.0.1")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start rmesos-slave")
}

impl Cluster {
    pub fn run(&self, task: &str, command: &str) {
        let task = TaskInfo::command(
            task,
            TaskID::new(task).unwrap(),
            sid(),
            Resources::parse("cpus:0.1;mem:32").unwrap(),
            CommandInfo::shell(command),
        );
        self.run_task(task);
    }

    /// SIGKILLs the slave (its executors live on) and starts a new one on
    /// the same work dir with `extra`; returns its reregistration (answered).
    pub async fn restart(&mut self, extra: &[&str]) -> ReregisterSlaveMessage {
        let _ = self._child.0.kill();
        let _ = self._child.0.wait();
        self._child = SlaveChild(spawn_slave(&self.master, &self.work_dir, extra));
        loop {
            match next(&mut self.events).await {
                Event::Reregister(from, m) => {
                    self.slave = from.clone();
                    let reply =
                        SlaveReregisteredMessage { slave_id: sid(), reconciliations: Vec::new(), connection: None };
                    self.node.send(&self.master, &from, reply);
                    self.node.send(&self.master, &from, PingSlaveMessage { connected: true });
                    return m;
                }
                _ => continue,
            }
        }
    }

    /// Runs `task` for a framework that checkpoints (its executors survive
    /// a slave restart).
    pub fn run_task_checkpointed(&self, task: TaskInfo) {
        let framework =
            FrameworkInfo { id: Some(fid()), checkpoint: true, ..FrameworkInfo::new(this_user(), "real-processes") };
        self.node.send(&self.master, &self.slave, RunTaskMessage { framework, task, pid: None });
    }

    pub fn run_task(&self, task: TaskInfo) {
        let framework = FrameworkInfo { id: Some(fid()), ..FrameworkInfo::new(this_user(), "real-processes") };
        self.node.send(&self.master, &self.slave, RunTaskMessage { framework, task, pid: None });
    }

    /// GET `path` on the slave's port; the body as JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(self.slave.addr()).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        tokio::time::timeout(WAIT, s.read_to_end(&mut buf)).await.unwrap().unwrap();
        let text = String::from_utf8_lossy(&buf);
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
    }

    /// The next status update; acknowledged at once.
    pub async fn update(&mut self) -> StatusUpdate {
        loop {
            match next(&mut self.events).await {
                Event::Update(from, m) => {
                    assert_eq!(from, self.slave);
                    assert_eq!(m.pid.as_ref(), Some(&self.slave));
                    let u = m.update;
                    self.node.send(&self.master, &self.slave, ack_of(&u));
                    return u;
                }
                // Pongs, and reregistration retries sent before our answer arrived.
                Event::Pong(_) | Event::Reregister(..) => continue,
                e => panic!("expected a status update, got {e:?}"),
            }
        }
    }

    pub async fn exited(&mut self) -> ExitedExecutorMessage {
        loop {
            match next(&mut self.events).await {
                Event::Exited(m) => return m,
                Event::Update(_, m) => panic!("unexpected update {:?}", m.update.status),
                _ => continue,
            }
        }
    }

    /// The sandbox runs of an executor.
    pub fn runs(&self, executor: &str) -> Vec<PathBuf> {
        let dir = self
            .work_dir
            .join("slaves")
            .join(sid().as_str())
            .join("frameworks")
            .join(fid().as_str())
            .join("executors")
            .join(executor)
            .join("runs");
        std::fs::read_dir(&dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default()
    }

    pub fn executor_pid(&self, executor: &str) -> i32 {
        let run = self.runs(executor).pop().expect("a run");
        let run_id = run.file_name().unwrap().to_owned();
        let p = self
            .work_dir
            .join("meta/slaves")
            .join(sid().as_str())
            .join("frameworks")
            .join(fid().as_str())
            .join("executors")
            .join(executor)
            .join("runs")
            .join(run_id)
            .join("pids/forked.pid");
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).trim().parse().unwrap()
    }
}

pub fn ack_of(u: &StatusUpdate) -> StatusUpdateAcknowledgementMessage {
    StatusUpdateAcknowledgementMessage {
        slave_id: sid(),
        framework_id: u.framework_id.clone(),
        task_id: u.task_id().clone(),
        uuid: u.uuid.expect("slave updates carry a uuid"),
    }
}

pub fn states(updates: &[StatusUpdate]) -> Vec<TaskState> {
    updates.iter().map(|u| u.status.state).collect()
}

pub fn cleanup(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

/// The user this test runs as (tasks run as their framework's user, and
/// only root can switch to another: `slave/tests/switch_user.rs`).
pub fn this_user() -> String {
    // SAFETY: getuid has no preconditions; getpwuid's result is read at once.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if pw.is_null() {
            return "root".into();
        }
        std::ffi::CStr::from_ptr((*pw).pw_name).to_string_lossy().into_owned()
    }
}
