//! The v1 operator API (`POST /api/v1` on the master) in one deterministic
//! simulation: the real master (10.0.0.1) and the real slave (10.0.0.2) on
//! simulated nodes, one paused clock, one seed; calls go through
//! `Node::http` on the master's node (the route and the stream are the real
//! ones; only the socket is left out). A framework on the v1 scheduler API
//! makes the cluster change while an operator watches: every GET call is
//! answered in the .proto's shape, and the event stream tells each change
//! in the order the master made it. A standby master (two masters on the
//! in-memory ZooKeeper) redirects to the leader.

use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use libprocess::http::StreamBody;
use libprocess::testkit::Sim;
use libprocess::zookeeper::MemZk;
use libprocess::{Node, Request, Response};
use rmesos::executor::{Executor, ExecutorDriver};
use rmesos::v1::recordio::Decoder;
use rmesos::{MasterSpec, Resources, TaskInfo, TaskState, TaskStatus};
use rmesos_master::leader::Role;
use rmesos_master::{HaConfig, MasterOptions};
use rmesos_slave::containerizer::InProcess;
use serde_json::{json, Value};

const MASTER: &str = "10.0.0.1:5050";
const SLAVE: &str = "10.0.0.2:5051";
const SLAVE_RESOURCES: &str = "cpus:2;mem:1024;disk:1024;ports:[31000-32000]";

/// Runs each task: RUNNING, then FINISHED when its data says `finish`.
struct TestExecutor;

impl Executor for TestExecutor {
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let _ = driver.send_status_update(TaskStatus::new(task.task_id.clone(), TaskState::Running));
        if task.data.as_deref() == Some(b"finish") {
            let _ = driver.send_status_update(TaskStatus::new(task.task_id, TaskState::Finished));
        }
    }
    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: &rmesos::TaskID) {
        let _ = driver.send_status_update(TaskStatus::new(task_id.clone(), TaskState::Killed));
    }
}

/// A RecordIO event stream (operator or scheduler), read as JSON events.
struct Events {
    body: StreamBody,
    decoder: Decoder,
    queue: VecDeque<Value>,
}

impl Events {
    fn new(body: StreamBody) -> Events {
        Events { body, decoder: Decoder::default(), queue: VecDeque::new() }
    }

    /// The next event, heartbeats included; None when the stream ended.
    async fn next_any(&mut self, sim: &Sim) -> Option<Value> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(e);
            }
            // Bounded: a stream that never delivers fails the test.
            let chunk =
                sim.run_for(Duration::from_secs(3600), self.body.next()).await.expect("an event within an hour")?;
            for record in self.decoder.decode(&chunk).expect("RecordIO") {
                self.queue.push_back(serde_json::from_slice(&record).expect("JSON event"));
            }
        }
    }

    /// The next event but heartbeats (within an hour of simulated time:
    /// heartbeats alone must not keep a test waiting forever).
    async fn next(&mut self, sim: &Sim) -> Option<Value> {
        let start = sim.now();
        loop {
            assert!(sim.now() - start < Duration::from_secs(3600), "only heartbeats for an hour");
            let e = self.next_any(sim).await?;
            if e["type"] != "HEARTBEAT" {
                return Some(e);
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
    master: Node,
    _work_dir: TempDir,
}

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn world() -> World {
    let sim = Rc::new(Sim::new());
    let seed = sim.seed();
    let master = sim.node(MASTER);
    let opts =
        MasterOptions { hostname: "master".into(), master_id: Some(format!("sim-{seed}")), ..MasterOptions::default() };
    rmesos_master::spawn(&master, opts).unwrap();
    let work_dir = std::env::temp_dir().join(format!("rmesos-operator-sim-{}", uuid::Uuid::new_v4()));
    let spec = MasterSpec::Standalone { host: "10.0.0.1".into(), port: 5050 };
    let mut flags =
        rmesos_slave::Flags::local(spec, work_dir.clone(), Some(Resources::parse(SLAVE_RESOURCES).unwrap()));
    flags.hostname = Some("slave".into());
    let next = std::cell::Cell::new(1u32);
    let weak = Rc::downgrade(&sim);
    let containerizer = InProcess::new(
        move |_| {
            let n = next.replace(next.get() + 1);
            weak.upgrade().expect("sim alive").node(format!("10.0.1.{n}:5053").as_str())
        },
        |_| TestExecutor,
    );
    let opts =
        rmesos_slave::SlaveOptions { flags, containerizer: Some(Box::new(containerizer)), seed, zookeeper: None };
    rmesos_slave::spawn(&sim.node(SLAVE), opts).unwrap();
    World { sim, master, _work_dir: TempDir(work_dir) }
}

async fn post(sim: &Sim, node: &Node, path: &str, body: String, headers: &[(&str, &str)]) -> Response {
    let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let req = Request { method: "POST".into(), headers, body: body.into(), ..Request::default() };
    sim.run_until(node.http(path, req)).await
}

impl World {
    /// A raw POST to `/api/v1`.
    async fn raw(&self, body: &str, content_type: &str) -> Response {
        post(&self.sim, &self.master, "/api/v1", body.to_string(), &[("content-type", content_type)]).await
    }

    /// An operator call; the response.
    async fn operator(&self, call: &Value) -> Response {
        post(&self.sim, &self.master, "/api/v1", call.to_string(), &[("content-type", "application/json")]).await
    }

    /// An operator call answered 200 with JSON: the answer's body (its
    /// `type` checked to be the call's).
    async fn get(&self, ty: &str) -> Value {
        let r = self.operator(&json!({ "type": ty })).await;
        assert_eq!(r.status, 200, "{ty}: {}", String::from_utf8_lossy(&r.body));
        let v: Value = serde_json::from_slice(&r.body).expect("JSON");
        assert_eq!(v["type"], ty, "{v}");
        v[ty.to_ascii_lowercase()].clone()
    }

    async fn watch(&self) -> Events {
        let mut r = self.operator(&json!({"type": "SUBSCRIBE"})).await;
        assert_eq!(r.status, 200);
        Events::new(r.stream.take().expect("a stream"))
    }

    /// An HTTP framework subscribed: its stream id, id and stream.
    async fn framework(&self) -> (String, String, Events) {
        let call = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {
            "user": "root", "name": "op-sim", "failover_timeout": 60.0}}});
        let mut r = post(
            &self.sim,
            &self.master,
            "/api/v1/scheduler",
            call.to_string(),
            &[("content-type", "application/json")],
        )
        .await;
        assert_eq!(r.status, 200);
        let sid = r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("mesos-stream-id")).unwrap().1.clone();
        let mut events = Events::new(r.stream.take().unwrap());
        let sub = events.expect(&self.sim, "SUBSCRIBED").await;
        let fid = sub["subscribed"]["framework_id"]["value"].as_str().unwrap().to_string();
        (sid, fid, events)
    }

    async fn schedule(&self, stream_id: &str, call: &Value) -> u16 {
        let headers = [("content-type", "application/json"), ("Mesos-Stream-Id", stream_id)];
        post(&self.sim, &self.master, "/api/v1/scheduler", call.to_string(), &headers).await.status
    }

    /// Waits until the slave is registered (the master's GET_AGENTS shows
    /// it). Bounded poll on state: registration takes a few simulated
    /// round trips the test has no message of its own to wait on.
    async fn slave_registered(&self) {
        for _ in 0..100 {
            if !self.get("GET_AGENTS").await["agents"].as_array().unwrap().is_empty() {
                return;
            }
            self.sim.advance(Duration::from_millis(100)).await;
        }
        panic!("the slave did not register within 10 s");
    }
}

fn accept(fid: &str, offer: &Value, task: &str, data: &str) -> Value {
    use base64::Engine;
    json!({"type": "ACCEPT", "framework_id": {"value": fid}, "accept": {
        "offer_ids": [offer["id"]],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
            "name": task, "task_id": {"value": task}, "agent_id": offer["agent_id"],
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}}],
            "executor": {"executor_id": {"value": task}, "command": {"value": "in-process"}},
            "data": base64::engine::general_purpose::STANDARD.encode(data),
        }]}}],
        "filters": {"refuse_seconds": 3600}}})
}

/// The state changes of `e`, as `(type, what)` for assertions.
fn change(e: &Value) -> (String, String) {
    let ty = e["type"].as_str().unwrap().to_string();
    let what = match ty.as_str() {
        "TASK_ADDED" => e["task_added"]["task"]["state"].as_str().unwrap().to_string(),
        "TASK_UPDATED" => e["task_updated"]["state"].as_str().unwrap().to_string(),
        "FRAMEWORK_ADDED" | "FRAMEWORK_UPDATED" => {
            let f = &e[ty.to_ascii_lowercase()]["framework"];
            format!("connected={}", f["connected"])
        }
        "FRAMEWORK_REMOVED" => e["framework_removed"]["framework_info"]["name"].as_str().unwrap().to_string(),
        "AGENT_ADDED" => e["agent_added"]["agent"]["agent_info"]["hostname"].as_str().unwrap().to_string(),
        "AGENT_REMOVED" => e["agent_removed"]["agent_id"]["value"].as_str().unwrap().to_string(),
        _ => String::new(),
    };
    (ty, what)
}

#[actix_rt::test]
async fn every_get_call_answers_in_the_protos_shape() {
    let w = world();
    w.slave_registered().await;
    let (stream_id, fid, mut fw) = w.framework().await;
    let offers = fw.expect(&w.sim, "OFFERS").await;
    let offer = offers["offers"]["offers"][0].clone();
    assert_eq!(w.schedule(&stream_id, &accept(&fid, &offer, "t1", "run")).await, 202);
    let running = fw.expect(&w.sim, "UPDATE").await;
    assert_eq!(running["update"]["status"]["state"], "TASK_RUNNING");

    assert_eq!(w.get("GET_HEALTH").await, json!({"healthy": true}));
    let flags = w.get("GET_FLAGS").await;
    let flag = |n: &str| flags["flags"].as_array().unwrap().iter().find(|f| f["name"] == n).map(|f| f["value"].clone());
    // The same flags as `/flags`, as a list.
    let get = Request { method: "GET".into(), ..Request::default() };
    let by_name: Value = serde_json::from_slice(&w.sim.run_until(w.master.http("/flags", get)).await.body).unwrap();
    let listed = flags["flags"].as_array().unwrap();
    assert!(!listed.is_empty());
    assert_eq!(listed.len(), by_name["flags"].as_object().unwrap().len());
    for f in listed {
        assert_eq!(by_name["flags"][f["name"].as_str().unwrap()], f["value"], "{f}");
    }
    assert_eq!(flag("allocation_interval"), Some(by_name["flags"]["allocation_interval"].clone()));
    let version = w.get("GET_VERSION").await;
    assert_eq!(version["version_info"]["version"], rmesos::v1::MESOS_API_VERSION);
    let metrics = w.get("GET_METRICS").await;
    let metric =
        |n: &str| metrics["metrics"].as_array().unwrap().iter().find(|m| m["name"] == n).map(|m| m["value"].clone());
    assert_eq!(metric("master/tasks_running"), Some(json!(1.0)));
    assert_eq!(metric("master/slaves_active"), Some(json!(1.0)));
    assert!(w.get("GET_LOGGING_LEVEL").await["level"].is_u64());

    let agents = w.get("GET_AGENTS").await;
    let agent = &agents["agents"][0];
    assert_eq!(agent["agent_info"]["hostname"], "slave");
    assert_eq!(agent["agent_info"]["id"], offer["agent_id"]);
    assert_eq!(agent["active"], true);
    assert_eq!(agent["pid"], format!("slave(1)@{SLAVE}"));
    assert!(agent["registered_time"]["nanoseconds"].is_i64());
    let cpus =
        |rs: &Value| rs.as_array().unwrap().iter().find(|r| r["name"] == "cpus").map(|r| r["scalar"]["value"].clone());
    assert_eq!(cpus(&agent["total_resources"]), Some(json!(2.0)));
    assert_eq!(cpus(&agent["allocated_resources"]), Some(json!(1.0)));
    assert_eq!(agents["recovered_agents"], json!([]));

    let frameworks = w.get("GET_FRAMEWORKS").await;
    let f = &frameworks["frameworks"][0];
    assert_eq!(f["framework_info"]["id"], json!({"value": fid}));
    assert_eq!(f["framework_info"]["name"], "op-sim");
    assert_eq!(
        (f["active"].clone(), f["connected"].clone(), f["recovered"].clone()),
        (json!(true), json!(true), json!(false))
    );
    assert_eq!(cpus(&f["allocated_resources"]), Some(json!(1.0)));

    let executors = w.get("GET_EXECUTORS").await;
    assert_eq!(executors["executors"][0]["executor_info"]["executor_id"], json!({"value": "t1"}));
    assert_eq!(executors["executors"][0]["executor_info"]["framework_id"], json!({"value": fid}));
    assert_eq!(executors["executors"][0]["agent_id"], offer["agent_id"]);

    let tasks = w.get("GET_TASKS").await;
    let t = &tasks["tasks"][0];
    assert_eq!((t["task_id"].clone(), t["state"].clone()), (json!({"value": "t1"}), json!("TASK_RUNNING")));
    assert_eq!(t["framework_id"], json!({"value": fid}));
    assert_eq!(t["statuses"][0]["state"], "TASK_RUNNING");
    assert_eq!(tasks["completed_tasks"], json!([]));

    let roles = w.get("GET_ROLES").await;
    assert_eq!(roles["roles"][0]["name"], "*");
    assert_eq!(roles["roles"][0]["frameworks"], json!([{"value": fid}]));

    let master = w.get("GET_MASTER").await;
    assert_eq!(master["master_info"]["port"], 5050);
    assert_eq!(master["master_info"]["hostname"], "master");
    assert!(master["start_time"].is_f64() && master["elected_time"].is_f64(), "{master}");

    let state = w.get("GET_STATE").await;
    assert_eq!(state["get_agents"], agents);
    assert_eq!(state["get_frameworks"], frameworks);
    assert_eq!(state["get_executors"], executors);
    assert_eq!(state["get_tasks"], tasks);
    assert_eq!(w.get("GET_MAINTENANCE_STATUS").await["status"]["down_machines"], json!([]));

    // Refusals: a clear status and reason each; the master keeps serving.
    let r = w.raw("{\"type\":", "application/json").await;
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).starts_with("Failed to parse body into JSON"));
    assert_eq!(w.raw("{\"type\":\"GET_STATE\"}", "application/x-protobuf").await.status, 415);
    let r = w.raw("{\"type\":\"RESERVE_RESOURCES\"}", "application/json").await;
    assert_eq!(
        (r.status, String::from_utf8_lossy(&r.body).trim()),
        (400, "Call type RESERVE_RESOURCES is not supported by this master")
    );
    assert_eq!(w.raw("{\"type\":\"DANCE\"}", "application/json").await.status, 400);
    let get = Request { method: "GET".into(), ..Request::default() };
    assert_eq!(w.sim.run_until(w.master.http("/api/v1", get)).await.status, 405);
    let unknown = json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": "nobody"}}});
    let r = w.operator(&unknown).await;
    assert_eq!((r.status, String::from_utf8_lossy(&r.body).trim()), (400, "No framework found with specified ID"));
    assert_eq!(w.get("GET_HEALTH").await, json!({"healthy": true}));
}

#[actix_rt::test]
async fn the_event_stream_tells_every_change_in_order() {
    let w = world();
    w.slave_registered().await;
    let mut ops = w.watch().await;
    let sub = ops.next_any(&w.sim).await.unwrap();
    assert_eq!(sub["type"], "SUBSCRIBED");
    assert_eq!(sub["subscribed"]["heartbeat_interval_seconds"], json!(15.0));
    let snapshot = &sub["subscribed"]["get_state"];
    assert_eq!(snapshot["get_agents"]["agents"].as_array().unwrap().len(), 1);
    assert_eq!(snapshot["get_frameworks"]["frameworks"], json!([]));
    assert_eq!(ops.next_any(&w.sim).await.unwrap(), json!({"type": "HEARTBEAT"}), "a heartbeat right after");
    // A second watcher sees the same changes.
    let mut ops2 = w.watch().await;
    assert_eq!(ops2.next_any(&w.sim).await.unwrap()["type"], "SUBSCRIBED");

    let (stream_id, fid, mut fw) = w.framework().await;
    let offers = fw.expect(&w.sim, "OFFERS").await;
    let offer = offers["offers"]["offers"][0].clone();
    assert_eq!(w.schedule(&stream_id, &accept(&fid, &offer, "t1", "finish")).await, 202);
    for _ in 0..2 {
        let u = fw.expect(&w.sim, "UPDATE").await;
        let ack = json!({"type": "ACKNOWLEDGE", "framework_id": {"value": &fid}, "acknowledge": {
            "agent_id": u["update"]["status"]["agent_id"], "task_id": u["update"]["status"]["task_id"],
            "uuid": u["update"]["status"]["uuid"]}});
        assert_eq!(w.schedule(&stream_id, &ack).await, 202);
    }
    // The framework's client leaves, comes back, and an operator tears it down.
    drop(fw);
    // The master notices (the stream's subscriber stops) before the client
    // comes back.
    w.sim.settle().await;
    let call = json!({"type": "SUBSCRIBE", "framework_id": {"value": &fid}, "subscribe": {"framework_info": {
        "user": "root", "name": "op-sim", "failover_timeout": 60.0, "id": {"value": &fid}}}});
    let mut r =
        post(&w.sim, &w.master, "/api/v1/scheduler", call.to_string(), &[("content-type", "application/json")]).await;
    assert_eq!(r.status, 200);
    let mut fw = Events::new(r.stream.take().unwrap());
    fw.expect(&w.sim, "SUBSCRIBED").await;
    let teardown = json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": &fid}}});
    let r = w.operator(&teardown).await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    // The torn-down HTTP framework's stream ends (as Mesos closes it).
    while let Some(e) = fw.next(&w.sim).await {
        assert_ne!(e["type"], "SUBSCRIBED", "{e}");
    }

    let expected: Vec<(String, String)> = [
        ("FRAMEWORK_ADDED", "connected=true"),
        ("TASK_ADDED", "TASK_STAGING"),
        ("TASK_UPDATED", "TASK_RUNNING"),
        ("TASK_UPDATED", "TASK_FINISHED"),
        ("FRAMEWORK_UPDATED", "connected=false"),
        ("FRAMEWORK_UPDATED", "connected=true"),
        ("FRAMEWORK_REMOVED", "op-sim"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    for stream in [&mut ops, &mut ops2] {
        let mut seen = Vec::new();
        while seen.len() < expected.len() {
            seen.push(change(&stream.next(&w.sim).await.expect("stream open")));
        }
        assert_eq!(seen, expected);
    }

    // Nothing changes for a while: heartbeats every 15 s keep the stream alive.
    let start = w.sim.now();
    assert_eq!(ops.next_any(&w.sim).await.unwrap(), json!({"type": "HEARTBEAT"}));
    assert!(w.sim.now() - start <= Duration::from_secs(15));
    assert_eq!(ops.next_any(&w.sim).await.unwrap(), json!({"type": "HEARTBEAT"}));
    assert!(w.sim.now() - start >= Duration::from_secs(15));

    // A watcher that leaves is dropped; the others keep theirs.
    drop(ops2);
    let start = w.sim.now();
    assert_eq!(ops.next_any(&w.sim).await.unwrap(), json!({"type": "HEARTBEAT"}));
    assert!(w.sim.now() - start >= Duration::from_secs(15));
}

#[actix_rt::test]
async fn a_standby_master_redirects_operators_to_the_leader() {
    let sim = Sim::new();
    let zk = MemZk::new(sim.clock().clone());
    let addrs = ["10.0.0.1:5050", "10.0.0.2:5050"];
    let mut masters = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        let node = sim.node(*addr);
        let ha = HaConfig {
            backend: Arc::new(zk.clone()),
            url: "zk://10.0.0.9:2181/mesos".parse().unwrap(),
            session_timeout: Duration::from_secs(10),
        };
        let opts = MasterOptions {
            hostname: format!("m{i}"),
            master_id: Some(format!("m{i}")),
            ha: Some(ha),
            ..MasterOptions::default()
        };
        masters.push((node.clone(), rmesos_master::spawn(&node, opts).unwrap()));
        // The first to contend leads; the second follows.
        sim.settle().await;
    }
    let call = json!({"type": "GET_HEALTH"}).to_string();
    let headers = [("content-type", "application/json")];
    // Bounded poll on state: election and detection take a few simulated
    // ZooKeeper round trips.
    let mut answered = None;
    for _ in 0..200 {
        let roles: Vec<Role> = masters.iter().map(|(_, m)| m.role()).collect();
        if roles == [Role::Leading, Role::Standby] {
            let r = post(&sim, &masters[1].0, "/api/v1", call.clone(), &headers).await;
            if r.status == 307 {
                answered = Some(r);
                break;
            }
        }
        sim.advance(Duration::from_millis(100)).await;
    }
    let r = answered.expect("the standby redirects within 20 s");
    let location = r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.clone());
    assert_eq!(location.as_deref(), Some("//10.0.0.1:5050/api/v1"));
    assert_eq!(post(&sim, &masters[0].0, "/api/v1", call, &headers).await.status, 200);
}
