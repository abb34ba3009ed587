//! The v1 executor API in one deterministic simulation: the real master
//! (10.0.0.1), the real slave (10.0.0.2) and a framework on the Rust driver
//! (10.0.0.3) on simulated nodes, one paused clock, one seed. The executor
//! is this test: the slave's containerizer here starts nothing (it records
//! the launch and its environment, and ends the run when killed), and the
//! test speaks `/api/v1/executor` through `Node::http` on the slave's node
//! (the route, the stream and the subscriber process are the real ones;
//! only the socket is left out), as an executor written for Mesos would.
//!
//! - SUBSCRIBE, LAUNCH, UPDATE -> the framework, its acknowledgement ->
//!   ACKNOWLEDGED with the executor's own uuid; MESSAGE both ways; KILL;
//!   a second terminal update dropped; a second SUBSCRIBE takes over and
//!   the first stream hears ERROR; SHUTDOWN; calls refused as Mesos
//!   refuses them.
//! - Recovery: the slave's node dies and a new slave recovers from the
//!   checkpoint; the executor resubscribes with its unacknowledged update,
//!   which reaches the framework once, and the slave registers again.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::rc::Rc;
use std::time::Duration;

use libprocess::http::StreamBody;
use libprocess::testkit::Sim;
use libprocess::{Clock, Request, Response};
use rmesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
use rmesos::v1::recordio::Decoder;
use rmesos::{
    CommandInfo, ExecutorID, ExecutorInfo, Filters, FrameworkID, FrameworkInfo, MasterInfo, MasterSpec, Offer,
    Resources, SlaveID, TaskID, TaskInfo, TaskState, TaskStatus,
};
use rmesos_master::MasterOptions;
use rmesos_slave::containerizer::{Containerizer, ExitFuture, Launched};
use rmesos_slave::core::Launch;
use rmesos_slave::SlaveOptions;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

const MASTER: &str = "10.0.0.1:5050";
const SLAVE: &str = "10.0.0.2:5051";
const SCHEDULER: &str = "10.0.0.3:5052";
const SLAVE_RESOURCES: &str = "cpus:2;mem:1024;disk:1024";

#[derive(Debug)]
#[allow(dead_code)] // Other's text is read in failure messages.
enum Ev {
    Registered(FrameworkID),
    Offers(Vec<Offer>),
    Status(TaskStatus),
    Message(Vec<u8>),
    Other(String),
}

struct Probe(mpsc::UnboundedSender<Ev>);

impl Scheduler for Probe {
    fn registered(&mut self, _: &DriverHandle, id: &FrameworkID, _: &MasterInfo) {
        let _ = self.0.send(Ev::Registered(id.clone()));
    }
    fn resource_offers(&mut self, _: &DriverHandle, offers: Vec<Offer>) {
        let _ = self.0.send(Ev::Offers(offers));
    }
    fn status_update(&mut self, _: &DriverHandle, status: TaskStatus) {
        let _ = self.0.send(Ev::Status(status));
    }
    fn framework_message(&mut self, _: &DriverHandle, _: &ExecutorID, _: &SlaveID, data: &[u8]) {
        let _ = self.0.send(Ev::Message(data.to_vec()));
    }
    fn executor_lost(&mut self, _: &DriverHandle, executor_id: &ExecutorID, _: &SlaveID, status: i32) {
        let _ = self.0.send(Ev::Other(format!("executor lost {executor_id} {status}")));
    }
    fn error(&mut self, _: &DriverHandle, message: &str) {
        let _ = self.0.send(Ev::Other(format!("error {message}")));
    }
}

/// Runs that are not processes: the executor is the test. Shared by every
/// incarnation of the slave (a restarted slave finds the run still there).
#[derive(Clone, Default)]
struct Runs {
    launches: Rc<RefCell<Vec<Launch>>>,
    exits: Rc<RefCell<HashMap<uuid::Uuid, watch::Sender<Option<i32>>>>>,
}

impl Runs {
    fn exit_of(&self, run: uuid::Uuid) -> Option<ExitFuture> {
        let mut rx = self.exits.borrow().get(&run)?.subscribe();
        Some(Box::pin(async move {
            loop {
                if let Some(code) = *rx.borrow_and_update() {
                    return code;
                }
                if rx.changed().await.is_err() {
                    return -1;
                }
            }
        }))
    }

    /// The run ends with `code` (the executor exited).
    fn exit(&self, run: uuid::Uuid, code: i32) {
        if let Some(tx) = self.exits.borrow().get(&run) {
            let _ = tx.send(Some(code));
        }
    }
}

struct TestContainerizer(Runs);

impl Containerizer for TestContainerizer {
    fn launch(&mut self, l: &Launch) -> io::Result<Launched> {
        std::fs::create_dir_all(&l.directory)?;
        self.0.exits.borrow_mut().insert(l.run, watch::channel(None).0);
        self.0.launches.borrow_mut().push(l.clone());
        Ok(Launched { pid: None, exit: self.0.exit_of(l.run).expect("just added") })
    }
    fn kill(&mut self, run: uuid::Uuid) {
        self.0.exit(run, -9);
    }
    fn kill_all(&mut self) {
        let runs: Vec<_> = self.0.exits.borrow().keys().copied().collect();
        runs.into_iter().for_each(|r| self.0.exit(r, -9));
    }
    fn reaped(&mut self, run: uuid::Uuid) {
        self.0.exits.borrow_mut().remove(&run);
    }
    fn recover(&mut self, run: uuid::Uuid, _: Option<u32>, _: &Clock) -> Option<ExitFuture> {
        self.0.exit_of(run)
    }
}

/// One SUBSCRIBE stream of the executor, read as events.
struct Events {
    body: StreamBody,
    decoder: Decoder,
    queue: VecDeque<Value>,
}

impl Events {
    /// The next event but heartbeats; None when the stream ended.
    async fn next(&mut self, sim: &Sim) -> Option<Value> {
        let mut heartbeats = 0;
        loop {
            if let Some(e) = self.queue.pop_front() {
                if e["type"] != "HEARTBEAT" {
                    return Some(e);
                }
                // Bounded: an hour of heartbeats and nothing else fails the test.
                heartbeats += 1;
                assert!(heartbeats < 120, "only heartbeats for an hour");
                continue;
            }
            // Bounded: a stream that never delivers fails the test rather
            // than spinning the simulated clock through heartbeats forever.
            let chunk =
                sim.run_for(Duration::from_secs(3600), self.body.next()).await.expect("an event within an hour")?;
            for record in self.decoder.decode(&chunk).expect("RecordIO") {
                self.queue.push_back(serde_json::from_slice(&record).expect("JSON event"));
            }
        }
    }

    async fn expect(&mut self, sim: &Sim, ty: &str) -> Value {
        let e = self.next(sim).await.unwrap_or_else(|| panic!("stream ended before {ty}"));
        assert_eq!(e["type"], ty, "{e}");
        e
    }
}

struct World {
    sim: Rc<Sim>,
    driver: DriverHandle,
    events: mpsc::UnboundedReceiver<Ev>,
    runs: Runs,
    work_dir: std::path::PathBuf,
    fid: FrameworkID,
    _scheduler: SchedulerDriver,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work_dir);
    }
}

async fn world() -> World {
    let sim = Rc::new(Sim::new());
    let seed = sim.seed();
    let opts =
        MasterOptions { hostname: "master".into(), master_id: Some(format!("sim-{seed}")), ..MasterOptions::default() };
    rmesos_master::spawn(&sim.node(MASTER), opts).unwrap();
    let work_dir = std::env::temp_dir().join(format!("rmesos-http-executor-sim-{}", uuid::Uuid::new_v4()));
    let (tx, events) = mpsc::unbounded_channel();
    let mut info = FrameworkInfo::new("tester", "http-executor-sim");
    info.checkpoint = true;
    info.failover_timeout = 3600.0;
    let mut scheduler =
        SchedulerDriver::new(Probe(tx), info, MASTER).unwrap().with_node(sim.node(SCHEDULER)).seed(seed);
    scheduler.start().await.unwrap();
    let mut w = World {
        driver: scheduler.handle(),
        sim,
        events,
        runs: Runs::default(),
        work_dir,
        fid: FrameworkID::new("unset").unwrap(),
        _scheduler: scheduler,
    };
    w.start_slave();
    match w.next().await {
        Ev::Registered(id) => w.fid = id,
        other => panic!("expected registration, got {other:?}"),
    }
    w
}

impl World {
    fn start_slave(&self) {
        let node = self.sim.node_at(SLAVE).unwrap_or_else(|| self.sim.node(SLAVE));
        let spec = MasterSpec::Standalone { host: "10.0.0.1".into(), port: 5050 };
        let mut flags =
            rmesos_slave::Flags::local(spec, self.work_dir.clone(), Some(Resources::parse(SLAVE_RESOURCES).unwrap()));
        flags.hostname = Some("slave".into());
        let containerizer = TestContainerizer(self.runs.clone());
        let opts = SlaveOptions {
            containerizer: Some(Box::new(containerizer)),
            seed: self.sim.seed(),
            ..SlaveOptions::new(flags)
        };
        rmesos_slave::spawn(&node, opts).unwrap();
    }

    async fn next(&mut self) -> Ev {
        self.sim.run_until(self.events.recv()).await.expect("the scheduler is alive")
    }

    async fn status(&mut self) -> TaskStatus {
        loop {
            match self.next().await {
                Ev::Status(s) => return s,
                Ev::Other(o) => panic!("unexpected: {o}"),
                _ => {}
            }
        }
    }

    /// Launches task `id` on executor `e1` with the next offer; returns the
    /// launch the slave asked its containerizer for.
    async fn launch(&mut self, id: &str) -> Launch {
        let offer = loop {
            if let Ev::Offers(mut o) = self.next().await {
                break o.remove(0);
            }
        };
        let executor = ExecutorInfo::new(ExecutorID::new("e1").unwrap(), CommandInfo::shell("./http-executor"));
        let task = TaskInfo::with_executor(
            id,
            TaskID::new(id).unwrap(),
            offer.slave_id.clone(),
            Resources::parse("cpus:1;mem:128").unwrap(),
            executor,
        );
        self.driver.launch_tasks(vec![offer.id.clone()], vec![task], Filters::default());
        // Bounded poll on a state: the launch is the slave's to make, and
        // nothing is sent to the test when it happens.
        for _ in 0..100 {
            if let Some(l) = self.runs.launches.borrow().last() {
                return l.clone();
            }
            self.sim.advance(Duration::from_millis(100)).await;
        }
        panic!("the slave did not launch the executor");
    }

    /// POSTs an executor call to the slave.
    async fn call(&self, body: &Value) -> Response {
        let headers = vec![("content-type".to_string(), "application/json".to_string())];
        let req = Request { method: "POST".into(), headers, body: body.to_string().into(), ..Request::default() };
        let node = self.sim.node_at(SLAVE).expect("the slave's node runs");
        self.sim.run_until(node.http("/api/v1/executor", req)).await
    }

    fn ids(&self) -> Value {
        json!({"framework_id": {"value": self.fid.as_str()}, "executor_id": {"value": "e1"}})
    }

    /// SUBSCRIBE with what the executor has not seen acknowledged.
    async fn subscribe(&self, tasks: Vec<Value>, updates: Vec<Value>) -> Events {
        let mut call = self.ids();
        call["type"] = json!("SUBSCRIBE");
        call["subscribe"] = json!({"unacknowledged_tasks": tasks, "unacknowledged_updates": updates});
        let mut resp = self.call(&call).await;
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
        let body = resp.stream.take().expect("a stream");
        Events { body, decoder: Decoder::default(), queue: VecDeque::new() }
    }

    async fn update(&self, status: &Value) -> Response {
        let mut call = self.ids();
        call["type"] = json!("UPDATE");
        call["update"] = json!({ "status": status });
        self.call(&call).await
    }
}

/// A status as an executor writes it, with its own uuid (16 bytes, base64).
fn status(task: &str, state: &str, uuid: u8) -> Value {
    json!({"task_id": {"value": task}, "state": state, "source": "SOURCE_EXECUTOR",
        "uuid": b64(&[uuid; 16]), "executor_id": {"value": "e1"}})
}

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[actix_rt::test]
async fn an_http_executor_runs_tasks_with_acknowledgements_kills_and_messages() {
    let mut w = world().await;
    let launch = w.launch("t1").await;
    // Mesos's environment, as its agent gives it.
    let env: HashMap<_, _> = launch.env.iter().cloned().collect();
    assert_eq!(env["MESOS_AGENT_ENDPOINT"], SLAVE);
    assert_eq!(env["MESOS_FRAMEWORK_ID"], w.fid.as_str());
    assert_eq!(env["MESOS_EXECUTOR_ID"], "e1");
    assert_eq!(env["MESOS_SANDBOX"], launch.directory.to_str().unwrap());
    assert_eq!(env["MESOS_CHECKPOINT"], "1");

    // Before subscribing, other calls are refused; so are strangers.
    let r = w.update(&status("t1", "TASK_RUNNING", 1)).await;
    assert_eq!((r.status, String::from_utf8_lossy(&r.body).trim()), (403, "Executor is not subscribed"));
    let mut stranger = w.ids();
    stranger["executor_id"] = json!({"value": "nobody"});
    stranger["type"] = json!("SUBSCRIBE");
    stranger["subscribe"] = json!({});
    assert_eq!(w.call(&stranger).await.status, 400);
    assert_eq!(w.call(&json!({"type": "SUBSCRIBE"})).await.status, 400);

    // SUBSCRIBE: SUBSCRIBED, then the queued task.
    let mut events = w.subscribe(vec![], vec![]).await;
    let sub = events.expect(&w.sim, "SUBSCRIBED").await;
    let s = &sub["subscribed"];
    assert_eq!(s["executor_info"]["executor_id"], json!({"value": "e1"}));
    assert_eq!(s["framework_info"]["id"], json!({"value": w.fid.as_str()}));
    assert_eq!((s["agent_info"]["hostname"].as_str(), s["agent_info"]["port"].as_u64()), (Some("slave"), Some(5051)));
    assert_eq!(s["container_id"]["value"], launch.run.to_string());
    let l = events.expect(&w.sim, "LAUNCH").await;
    assert_eq!(l["launch"]["task"]["task_id"], json!({"value": "t1"}));

    // UPDATE: 202; the framework gets it (and its driver acknowledges it):
    // ACKNOWLEDGED carries the executor's own uuid.
    let r = w.update(&status("t1", "TASK_RUNNING", 1)).await;
    assert_eq!((r.status, r.body.len()), (202, 0));
    let st = w.status().await;
    assert_eq!((st.task_id.as_str(), st.state), ("t1", TaskState::Running));
    assert_eq!(st.uuid, Some(uuid::Uuid::from_bytes([1; 16])));
    let ack = events.expect(&w.sim, "ACKNOWLEDGED").await;
    assert_eq!(ack["acknowledged"], json!({"task_id": {"value": "t1"}, "uuid": b64(&[1; 16])}));

    // MESSAGE both ways.
    let mut m = w.ids();
    m["type"] = json!("MESSAGE");
    m["message"] = json!({"data": b64(b"to the scheduler")});
    assert_eq!(w.call(&m).await.status, 202);
    loop {
        match w.next().await {
            Ev::Message(d) => break assert_eq!(d, b"to the scheduler"),
            Ev::Offers(_) => {}
            other => panic!("expected the message, got {other:?}"),
        }
    }
    let sid = SlaveID::new(sub["subscribed"]["agent_info"]["id"]["value"].as_str().unwrap()).unwrap();
    w.driver.send_framework_message(ExecutorID::new("e1").unwrap(), sid, b"to the executor".to_vec());
    let m = events.expect(&w.sim, "MESSAGE").await;
    assert_eq!(m["message"]["data"], b64(b"to the executor"));

    // KILL, the executor's TASK_KILLED, acknowledged; a second terminal
    // update for the task is accepted and dropped.
    w.driver.kill_task(TaskID::new("t1").unwrap());
    let k = events.expect(&w.sim, "KILL").await;
    assert_eq!(k["kill"]["task_id"], json!({"value": "t1"}));
    assert_eq!(w.update(&status("t1", "TASK_KILLED", 2)).await.status, 202);
    assert_eq!(w.status().await.state, TaskState::Killed);
    let ack = events.expect(&w.sim, "ACKNOWLEDGED").await;
    assert_eq!(ack["acknowledged"]["uuid"], b64(&[2; 16]));
    assert_eq!(w.update(&status("t1", "TASK_FINISHED", 3)).await.status, 202);
    // The next thing the framework hears is this message, not an update.
    let mut m = w.ids();
    m["type"] = json!("MESSAGE");
    m["message"] = json!({"data": b64(b"after")});
    assert_eq!(w.call(&m).await.status, 202);
    loop {
        match w.next().await {
            Ev::Message(d) => break assert_eq!(d, b"after"),
            Ev::Offers(_) => {}
            other => panic!("the second terminal update reached the framework: {other:?}"),
        }
    }

    // Malformed calls: a clear 400, 415 for protobuf; the slave keeps serving.
    let bad = status("t1", "TASK_STAGING", 4);
    let r = w.update(&bad).await;
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("TASK_STAGING"), "{:?}", r.body);
    let headers = vec![("content-type".to_string(), "application/x-protobuf".to_string())];
    let req = Request { method: "POST".into(), headers, body: "x".into(), ..Request::default() };
    let node = w.sim.node_at(SLAVE).unwrap();
    assert_eq!(w.sim.run_until(node.http("/api/v1/executor", req)).await.status, 415);
    let mut hb = w.ids();
    hb["type"] = json!("HEARTBEAT");
    assert_eq!(w.call(&hb).await.status, 202);

    // A second SUBSCRIBE takes over: the first stream hears ERROR and ends.
    let mut second = w.subscribe(vec![], vec![]).await;
    second.expect(&w.sim, "SUBSCRIBED").await;
    assert_eq!(
        events.expect(&w.sim, "ERROR").await["error"]["message"],
        "Executor subscribed again on another connection"
    );
    assert!(events.next(&w.sim).await.is_none(), "the first stream ended");

    // The framework shuts the executor down: SHUTDOWN on the live stream;
    // the executor exits and the framework hears of it.
    w.driver.stop(false);
    second.expect(&w.sim, "SHUTDOWN").await;
    w.runs.exit(launch.run, 0);
}

#[actix_rt::test]
async fn an_http_executor_resubscribes_to_a_restarted_slave_with_its_unacknowledged_update() {
    let mut w = world().await;
    let launch = w.launch("t1").await;
    let mut events = w.subscribe(vec![], vec![]).await;
    events.expect(&w.sim, "SUBSCRIBED").await;
    let task = events.expect(&w.sim, "LAUNCH").await["launch"]["task"].clone();
    assert_eq!(w.update(&status("t1", "TASK_RUNNING", 1)).await.status, 202);
    assert_eq!(w.status().await.state, TaskState::Running);
    events.expect(&w.sim, "ACKNOWLEDGED").await;

    // The slave's node dies (a crash): the stream breaks. The executor
    // lives on and finishes its task; that update never reached the slave.
    w.sim.restart(SLAVE);
    assert!(events.next(&w.sim).await.is_none(), "the stream ended with the slave");
    w.start_slave();
    // While the slave recovers, only SUBSCRIBE is taken.
    let finished = status("t1", "TASK_FINISHED", 2);
    let r = w.update(&finished).await;
    assert_eq!((r.status, String::from_utf8_lossy(&r.body).trim()), (503, "Agent has not finished recovery"));
    // It resubscribes with its unacknowledged task and update: the same
    // run, the update reaches the framework once, and is acknowledged.
    let update = json!({"framework_id": {"value": w.fid.as_str()}, "status": finished});
    let mut events = w.subscribe(vec![task], vec![update]).await;
    let sub = events.expect(&w.sim, "SUBSCRIBED").await;
    assert_eq!(sub["subscribed"]["container_id"]["value"], launch.run.to_string());
    let st = w.status().await;
    assert_eq!((st.task_id.as_str(), st.state), ("t1", TaskState::Finished));
    let ack = events.expect(&w.sim, "ACKNOWLEDGED").await;
    assert_eq!(ack["acknowledged"]["uuid"], b64(&[2; 16]));
    // Sent again (the ACKNOWLEDGED was lost, say): acknowledged at once,
    // and not handed to the framework a second time.
    drop(events);
    let update = json!({"framework_id": {"value": w.fid.as_str()}, "status": status("t1", "TASK_FINISHED", 2)});
    let mut events = w.subscribe(vec![], vec![update]).await;
    events.expect(&w.sim, "SUBSCRIBED").await;
    assert_eq!(events.expect(&w.sim, "ACKNOWLEDGED").await["acknowledged"]["uuid"], b64(&[2; 16]));
    w.sim.advance(Duration::from_secs(30)).await;
    while let Ok(ev) = w.events.try_recv() {
        assert!(!matches!(ev, Ev::Status(_) | Ev::Other(_)), "nothing more for the framework: {ev:?}");
    }
}

impl World {
    /// POSTs an operator call to the slave's `/api/v1`.
    async fn operator(&self, call: Value) -> (u16, Value) {
        let headers = vec![("content-type".to_string(), "application/json".to_string())];
        let req = Request { method: "POST".into(), headers, body: call.to_string().into(), ..Request::default() };
        let node = self.sim.node_at(SLAVE).expect("the slave's node runs");
        let r = self.sim.run_until(node.http("/api/v1", req)).await;
        (r.status, serde_json::from_slice(&r.body).unwrap_or(Value::Null))
    }
}

#[actix_rt::test]
async fn the_slave_operator_api_reads_state_tasks_containers_and_sandbox_files() {
    let mut w = world().await;
    let launch = w.launch("t1").await;
    let (code, health) = w.operator(json!({"type": "GET_HEALTH"})).await;
    assert_eq!((code, health), (200, json!({"type": "GET_HEALTH", "get_health": {"healthy": true}})));
    // Before the executor subscribes, its task is queued.
    let (_, tasks) = w.operator(json!({"type": "GET_TASKS"})).await;
    assert_eq!(tasks["get_tasks"]["queued_tasks"][0]["task_id"], json!({"value": "t1"}));
    let mut events = w.subscribe(vec![], vec![]).await;
    events.expect(&w.sim, "SUBSCRIBED").await;
    events.expect(&w.sim, "LAUNCH").await;
    assert_eq!(w.update(&status("t1", "TASK_RUNNING", 1)).await.status, 202);
    assert_eq!(w.status().await.state, TaskState::Running);

    let (_, state) = w.operator(json!({"type": "GET_STATE"})).await;
    let s = &state["get_state"];
    let t = &s["get_tasks"]["launched_tasks"][0];
    assert_eq!((t["task_id"]["value"].as_str(), t["state"].as_str()), (Some("t1"), Some("TASK_RUNNING")));
    assert_eq!(t["framework_id"]["value"], w.fid.as_str());
    assert_eq!(s["get_executors"]["executors"][0]["executor_info"]["executor_id"], json!({"value": "e1"}));
    assert_eq!(s["get_frameworks"]["frameworks"][0]["framework_info"]["id"]["value"], w.fid.as_str());
    let (_, c) = w.operator(json!({"type": "GET_CONTAINERS"})).await;
    let c0 = &c["get_containers"]["containers"][0];
    assert_eq!(c0["container_id"]["value"], launch.run.to_string());
    assert_eq!(c0["executor_id"], json!({"value": "e1"}));
    let (_, flags) = w.operator(json!({"type": "GET_FLAGS"})).await;
    let flags = flags["get_flags"]["flags"].as_array().unwrap().clone();
    assert!(flags.iter().any(|f| f["name"] == "work_dir"), "{flags:?}");
    let (_, v) = w.operator(json!({"type": "GET_VERSION"})).await;
    assert_eq!(v["get_version"]["version_info"]["version"], rmesos::v1::MESOS_API_VERSION);
    let (_, m) = w.operator(json!({"type": "GET_METRICS", "get_metrics": {}})).await;
    let metrics = m["get_metrics"]["metrics"].as_array().unwrap();
    assert!(metrics.iter().any(|x| x["name"] == "slave/tasks_running" && x["value"] == 1.0), "{metrics:?}");

    // The sandbox: listed and read; nothing outside it.
    std::fs::write(launch.directory.join("stdout"), "hello sandbox\n").unwrap();
    std::os::unix::fs::symlink("/etc/hostname", launch.directory.join("escape")).unwrap();
    let dir = launch.directory.to_str().unwrap().to_string();
    let (code, files) = w.operator(json!({"type": "LIST_FILES", "list_files": {"path": dir}})).await;
    assert_eq!(code, 200);
    let names: Vec<_> =
        files["list_files"]["file_infos"].as_array().unwrap().iter().map(|f| f["path"].clone()).collect();
    assert_eq!(names, [json!(format!("{dir}/escape")), json!(format!("{dir}/stdout"))]);
    let stdout = format!("{dir}/stdout");
    let (code, read) =
        w.operator(json!({"type": "READ_FILE", "read_file": {"path": stdout, "offset": 6, "length": 7}})).await;
    assert_eq!((code, read["read_file"]["size"].as_u64()), (200, Some(14)));
    assert_eq!(read["read_file"]["data"], b64(b"sandbox"));
    for (path, code) in [
        (format!("{dir}/escape"), 403),
        (format!("{dir}/../../../../../../../../../etc/hostname"), 400),
        ("/etc/hostname".to_string(), 403),
        (format!("{dir}/missing"), 404),
    ] {
        let (got, _) = w.operator(json!({"type": "READ_FILE", "read_file": {"path": path, "offset": 0}})).await;
        assert_eq!(got, code, "{path}");
    }
    assert_eq!(w.operator(json!({"type": "LIST_FILES", "list_files": {"path": "/etc"}})).await.0, 403);
    assert_eq!(w.operator(json!({"type": "LAUNCH_CONTAINER"})).await.0, 501);
    assert_eq!(w.operator(json!({"type": "DANCE"})).await.0, 400);
}
