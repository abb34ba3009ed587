//! Real processes: the test plays the master (a libprocess node speaking the
//! real messages) and starts `rmesos-slave` as a child process, which
//! launches the real `rmesos-executor`. Every wait is on a message from the
//! slave (with a generous timeout as a safety net); nothing sleeps.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use libprocess::{Actor, Config, Context, Handlers, Me, Node, Process, Upid};
use rmesos::messages::*;
use rmesos::{
    CommandInfo, ExecutorID, ExecutorInfo, FrameworkID, FrameworkInfo, Reason, Resources, SlaveID, TaskID, TaskInfo,
    TaskState,
};
use tokio::sync::mpsc;

/// Safety net around each wait (a healthy run takes well under a second).
const WAIT: Duration = Duration::from_secs(60);

#[derive(Debug)]
enum Event {
    Register(Upid, RegisterSlaveMessage),
    Update(Upid, StatusUpdateMessage),
    Exited(ExitedExecutorMessage),
    Pong(Upid),
}

/// The fake master: forwards what it hears to the test.
struct FakeMaster {
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
struct SlaveChild(Child);

impl Drop for SlaveChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Cluster {
    node: Node,
    master: Upid,
    slave: Upid,
    events: mpsc::UnboundedReceiver<Event>,
    work_dir: PathBuf,
    _child: SlaveChild,
}

fn slave_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rmesos-slave"))
}

/// The directory holding both binaries. `rmesos-executor` belongs to another
/// crate, so cargo does not build it for this test: the test builds it
/// (once per run, a no-op when fresh) with the cargo that runs the test, into
/// the same target directory.
fn launcher_dir() -> PathBuf {
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

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rmesos-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn next(events: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(WAIT, events.recv()).await.expect("an event within the safety timeout").expect("open")
}

fn sid() -> SlaveID {
    SlaveID::new("fake-S0").unwrap()
}

fn fid() -> FrameworkID {
    FrameworkID::new("fake-0000").unwrap()
}

/// Starts the fake master and a real slave, and registers it.
async fn cluster(name: &str) -> Cluster {
    cluster_with(name, &[]).await
}

/// As [`cluster`], with extra slave flags.
async fn cluster_with(name: &str, extra: &[&str]) -> Cluster {
    let node = Node::bind(Config::loopback(0)).await.unwrap();
    let (tx, mut events) = mpsc::unbounded_channel();
    let master = node.spawn("master", |_me: Me| FakeMaster { events: tx }).unwrap().pid;
    let work_dir = temp_dir(name);
    // The slave's log stays with its work dir (kept when a test fails).
    let log = std::fs::File::create(work_dir.join("slave.log")).unwrap();
    let child = Command::new(slave_binary())
        .args(["--master", &master.addr().to_string(), "--port", "0", "--work_dir"])
        .arg(&work_dir)
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
        .expect("start rmesos-slave");
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

impl Cluster {
    fn run(&self, task: &str, command: &str) {
        let task = TaskInfo::command(
            task,
            TaskID::new(task).unwrap(),
            sid(),
            Resources::parse("cpus:0.1;mem:32").unwrap(),
            CommandInfo::shell(command),
        );
        self.run_task(task);
    }

    fn run_task(&self, task: TaskInfo) {
        let framework = FrameworkInfo { id: Some(fid()), ..FrameworkInfo::new("tester", "real-processes") };
        self.node.send(&self.master, &self.slave, RunTaskMessage { framework, task, pid: None });
    }

    /// GET `path` on the slave's port; the body as JSON.
    async fn get_json(&self, path: &str) -> serde_json::Value {
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
    async fn update(&mut self) -> StatusUpdate {
        loop {
            match next(&mut self.events).await {
                Event::Update(from, m) => {
                    assert_eq!(from, self.slave);
                    assert_eq!(m.pid.as_ref(), Some(&self.slave));
                    let u = m.update;
                    self.node.send(&self.master, &self.slave, ack_of(&u));
                    return u;
                }
                Event::Pong(_) => continue,
                e => panic!("expected a status update, got {e:?}"),
            }
        }
    }

    async fn exited(&mut self) -> ExitedExecutorMessage {
        loop {
            match next(&mut self.events).await {
                Event::Exited(m) => return m,
                Event::Update(_, m) => panic!("unexpected update {:?}", m.update.status),
                _ => continue,
            }
        }
    }

    /// The sandbox runs of an executor.
    fn runs(&self, executor: &str) -> Vec<PathBuf> {
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

    fn executor_pid(&self, executor: &str) -> i32 {
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

fn ack_of(u: &StatusUpdate) -> StatusUpdateAcknowledgementMessage {
    StatusUpdateAcknowledgementMessage {
        slave_id: sid(),
        framework_id: u.framework_id.clone(),
        task_id: u.task_id().clone(),
        uuid: u.uuid.expect("slave updates carry a uuid"),
    }
}

fn states(updates: &[StatusUpdate]) -> Vec<TaskState> {
    updates.iter().map(|u| u.status.state).collect()
}

fn cleanup(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

#[actix_rt::test]
async fn echo_hello_finishes_and_writes_to_the_sandbox_stdout() {
    let mut c = cluster("echo").await;
    c.run("hello", "echo hello");
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(c.update().await);
    }
    assert_eq!(states(&got), [TaskState::Starting, TaskState::Running, TaskState::Finished]);
    assert!(got.iter().all(|u| u.slave_id == Some(sid()) && u.executor_id.as_ref().unwrap().as_str() == "hello"));
    let exited = c.exited().await;
    assert_eq!((exited.executor_id.as_str(), exited.status), ("hello", 0));
    let runs = c.runs("hello");
    assert_eq!(runs.len(), 1);
    let stdout = std::fs::read_to_string(runs[0].join("stdout")).unwrap();
    assert!(stdout.lines().any(|l| l == "hello"), "stdout: {stdout}");
    // The same file through the operator endpoints.
    let state = c.get_json("/state").await;
    assert_eq!(state["id"], "fake-S0");
    assert_eq!(state["pid"], c.slave.to_string());
    let done = &state["completed_frameworks"][0]["completed_executors"][0];
    assert_eq!(done["completed_tasks"][0]["state"], "TASK_FINISHED");
    let path = runs[0].join("stdout");
    let read = c.get_json(&format!("/files/read?path={}&offset=0", path.display())).await;
    assert_eq!(read["data"], stdout.as_str());
    let metrics = c.get_json("/metrics/snapshot").await;
    assert_eq!(metrics["slave/registered"], 1.0, "{metrics}");
    assert_eq!(metrics["slave/tasks_running"], 0.0, "{metrics}");
    assert_eq!(metrics["slave/executors_running"], 0.0, "{metrics}");
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn a_failing_command_fails_with_its_exit_code() {
    let mut c = cluster("fail").await;
    c.run("fails", "echo oops >&2; exit 3");
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(c.update().await);
    }
    assert_eq!(states(&got), [TaskState::Starting, TaskState::Running, TaskState::Failed]);
    let msg = got[2].status.message.clone().unwrap_or_default();
    assert!(msg.contains("Command exited with status 3"), "{msg}");
    let stderr = std::fs::read_to_string(c.runs("fails")[0].join("stderr")).unwrap();
    assert!(stderr.contains("oops"), "{stderr}");
    assert_eq!(c.exited().await.status, 0, "the executor exits once the failure is acknowledged");
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn a_killed_executor_loses_its_task_and_is_reported_exited() {
    let mut c = cluster("lost").await;
    c.run("sleeper", "sleep 1000");
    assert_eq!(c.update().await.status.state, TaskState::Starting);
    assert_eq!(c.update().await.status.state, TaskState::Running);
    let pid = c.executor_pid("sleeper");
    // SAFETY: a plain kill of the executor process this test's slave started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    // Both come, in either order: the TASK_LOST update may wait behind the
    // acknowledgement of TASK_RUNNING (one update in flight per task).
    let (mut lost, mut exited) = (None, None);
    while lost.is_none() || exited.is_none() {
        match next(&mut c.events).await {
            Event::Update(_, m) => {
                let u = m.update;
                c.node.send(&c.master, &c.slave, ack_of(&u));
                lost = Some(u);
            }
            Event::Exited(m) => exited = Some(m),
            _ => {}
        }
    }
    let (lost, exited) = (lost.unwrap(), exited.unwrap());
    assert_eq!(lost.status.state, TaskState::Lost);
    assert_eq!(lost.status.reason, Some(Reason::ExecutorTerminated));
    assert_eq!((exited.executor_id.as_str(), exited.status), ("sleeper", -libc::SIGKILL));
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn a_killed_task_is_reported_killed() {
    let mut c = cluster("kill").await;
    c.run("victim", "sleep 1000");
    assert_eq!(c.update().await.status.state, TaskState::Starting);
    assert_eq!(c.update().await.status.state, TaskState::Running);
    c.node.send(&c.master, &c.slave, KillTaskMessage { framework_id: fid(), task_id: TaskID::new("victim").unwrap() });
    assert_eq!(c.update().await.status.state, TaskState::Killed);
    assert_eq!(c.exited().await.status, 0, "the executor exits on its own once the kill is acknowledged");
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn an_executor_that_never_registers_is_killed_and_its_task_fails() {
    let mut c = cluster_with("regtimeout", &["--executor_registration_timeout", "300ms"]).await;
    let executor = ExecutorInfo::new(ExecutorID::new("silent").unwrap(), CommandInfo::shell("sleep 1000"));
    c.run_task(TaskInfo::with_executor(
        "t",
        TaskID::new("t").unwrap(),
        sid(),
        Resources::parse("cpus:0.1").unwrap(),
        executor,
    ));
    let (mut failed, mut exited) = (None, None);
    while failed.is_none() || exited.is_none() {
        match next(&mut c.events).await {
            Event::Update(_, m) => {
                c.node.send(&c.master, &c.slave, ack_of(&m.update));
                failed = Some(m.update);
            }
            Event::Exited(m) => exited = Some(m),
            _ => {}
        }
    }
    let failed = failed.unwrap();
    assert_eq!(failed.status.state, TaskState::Failed);
    assert_eq!(failed.status.reason, Some(Reason::ExecutorRegistrationTimeout));
    assert_eq!(exited.unwrap().status, -libc::SIGKILL);
    cleanup(&c.work_dir);
}

#[actix_rt::test]
async fn shutting_a_framework_down_ends_its_executors() {
    let mut c = cluster_with("shutdown", &["--executor_shutdown_grace_period", "2secs"]).await;
    c.run("long", "sleep 1000");
    assert_eq!(c.update().await.status.state, TaskState::Starting);
    assert_eq!(c.update().await.status.state, TaskState::Running);
    let pid = c.executor_pid("long");
    c.node.send(&c.master, &c.slave, ShutdownFrameworkMessage { framework_id: fid() });
    let exited = c.exited().await;
    assert_eq!(exited.executor_id.as_str(), "long");
    // The executor's session is gone, task included.
    assert_ne!(unsafe { libc::kill(pid, 0) }, 0, "executor {pid} still alive");
    let state = c.get_json("/state").await;
    assert!(state["frameworks"].as_array().unwrap().is_empty(), "{state}");
    cleanup(&c.work_dir);
}

#[test]
fn bad_flags_exit_2_with_one_clear_line() {
    for (args, expected) in [
        (vec!["--master", "localhost", "--work_dir", "/tmp/x"], "has no port"),
        (vec!["--master", "zk://z1:2181/", "--work_dir", "/tmp/x"], "ZooKeeper path"),
        (vec!["--master", "127.0.0.1:5050", "--work_dir", "/tmp/x", "--resources", "cpus:-1"], "negative"),
        (vec!["--master", "127.0.0.1:5050", "--work_dir", "/tmp/x", "--attributes", "rack"], "name:value"),
        (
            vec!["--master", "127.0.0.1:5050", "--work_dir", "/tmp/x", "--executor_registration_timeout", "60"],
            "no unit",
        ),
    ] {
        let out = Command::new(slave_binary()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("error:") && first.contains(expected), "{args:?}: {stderr}");
    }
}
