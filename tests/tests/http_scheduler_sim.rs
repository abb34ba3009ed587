//! The v1 scheduler API in one deterministic simulation: the real master
//! (10.0.0.1) and the real slave (10.0.0.2) on simulated nodes, one paused
//! clock, one seed; an HTTP framework whose calls go through
//! `Node::http` on the master's node (the route, the stream and the
//! subscriber process are the real ones; only the socket is left out) and,
//! beside it, a framework on the Rust driver (10.0.0.3), on the same
//! allocator. Executors are in-process, launched by the slave.

use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use libprocess::http::StreamBody;
use libprocess::testkit::Sim;
use libprocess::{Node, Request, Response};
use rmesos::executor::{Executor, ExecutorDriver};
use rmesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
use rmesos::v1::recordio::Decoder;
use rmesos::{FrameworkInfo, MasterInfo, MasterSpec, Offer, Resources, TaskInfo, TaskState, TaskStatus};
use rmesos_master::MasterOptions;
use rmesos_slave::containerizer::InProcess;
use serde_json::{json, Value};
use tokio::sync::mpsc;

const MASTER: &str = "10.0.0.1:5050";
const SLAVE: &str = "10.0.0.2:5051";
const DRIVER: &str = "10.0.0.3:5052";
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

/// The driver framework: forwards offers to the test.
struct DriverProbe(mpsc::UnboundedSender<Vec<Offer>>);

impl Scheduler for DriverProbe {
    fn registered(&mut self, _: &DriverHandle, _: &rmesos::FrameworkID, _: &MasterInfo) {}
    fn resource_offers(&mut self, _: &DriverHandle, offers: Vec<Offer>) {
        let _ = self.0.send(offers);
    }
    fn status_update(&mut self, _: &DriverHandle, _: TaskStatus) {}
}

/// One SUBSCRIBE stream, read as events.
struct Events {
    body: StreamBody,
    decoder: Decoder,
    queue: VecDeque<Value>,
}

impl Events {
    /// The next event but heartbeats; None when the stream ended.
    async fn next(&mut self, sim: &Sim) -> Option<Value> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                if e["type"] != "HEARTBEAT" {
                    return Some(e);
                }
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
    world_with(|_| {})
}

/// A world whose master's options `tweak` changes first.
fn world_with(tweak: impl FnOnce(&mut MasterOptions)) -> World {
    let sim = Rc::new(Sim::new());
    let seed = sim.seed();
    let master = sim.node(MASTER);
    let mut opts =
        MasterOptions { hostname: "master".into(), master_id: Some(format!("sim-{seed}")), ..MasterOptions::default() };
    tweak(&mut opts);
    rmesos_master::spawn(&master, opts).unwrap();
    let work_dir = std::env::temp_dir().join(format!("rmesos-http-sim-{}", uuid::Uuid::new_v4()));
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

impl World {
    /// POSTs a call; returns the response.
    async fn call(&self, body: &Value, stream_id: Option<&str>) -> Response {
        self.post(body.to_string(), "application/json", stream_id).await
    }

    async fn post(&self, body: String, content_type: &str, stream_id: Option<&str>) -> Response {
        self.post_as(None, body, content_type, stream_id).await
    }

    /// POSTs with HTTP Basic credentials `principal:secret`, if given.
    async fn post_as(&self, auth: Option<&str>, body: String, content_type: &str, stream_id: Option<&str>) -> Response {
        let mut headers = vec![("content-type".to_string(), content_type.to_string())];
        if let Some(a) = auth {
            headers.push(("Authorization".into(), format!("Basic {}", base64(a))));
        }
        if let Some(id) = stream_id {
            headers.push(("Mesos-Stream-Id".into(), id.into()));
        }
        let req = Request { method: "POST".into(), headers, body: body.into(), ..Request::default() };
        self.sim.run_until(self.master.http("/api/v1/scheduler", req)).await
    }

    /// SUBSCRIBE (again, with `id`): the stream id, the framework id, the stream.
    async fn subscribe(&self, id: Option<&str>) -> (String, String, Events) {
        let mut info = json!({"user": "root", "name": "http-sim", "failover_timeout": 60.0});
        let mut call = json!({"type": "SUBSCRIBE"});
        if let Some(id) = id {
            info["id"] = json!({"value": id});
            call["framework_id"] = json!({"value": id});
        }
        call["subscribe"] = json!({"framework_info": info});
        let mut resp = self.call(&call, None).await;
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
        let stream_id = header(&resp, "mesos-stream-id").expect("Mesos-Stream-Id").to_string();
        let body = resp.stream.take().expect("a stream");
        let mut events = Events { body, decoder: Decoder::default(), queue: VecDeque::new() };
        let sub = events.expect(&self.sim, "SUBSCRIBED").await;
        assert_eq!(sub["subscribed"]["heartbeat_interval_seconds"], json!(15.0));
        assert_eq!(sub["subscribed"]["master_info"]["port"], json!(5050));
        let fid = sub["subscribed"]["framework_id"]["value"].as_str().unwrap().to_string();
        (stream_id, fid, events)
    }
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn launch(fid: &str, offer: &Value, task: &str, data: &str) -> Value {
    launch_refusing(fid, offer, task, data, 0.0)
}

/// ACCEPT launching `task`; the rest of the offer is declined for `refuse` seconds.
fn launch_refusing(fid: &str, offer: &Value, task: &str, data: &str, refuse: f64) -> Value {
    json!({"type": "ACCEPT", "framework_id": {"value": fid}, "accept": {
        "offer_ids": [offer["id"]],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
            "name": task, "task_id": {"value": task}, "agent_id": offer["agent_id"],
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}}],
            "executor": {"executor_id": {"value": task}, "command": {"value": "in-process"}},
            "data": base64(data),
        }]}}],
        "filters": {"refuse_seconds": refuse}}})
}

fn base64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn ack(fid: &str, status: &Value) -> Value {
    json!({"type": "ACKNOWLEDGE", "framework_id": {"value": fid}, "acknowledge": {
        "agent_id": status["agent_id"], "task_id": status["task_id"], "uuid": status["uuid"]}})
}

#[actix_rt::test]
async fn an_http_framework_launches_acknowledges_reconciles_and_resubscribes() {
    let w = world();
    let (stream_id, fid, mut events) = w.subscribe(None).await;
    let offers = events.expect(&w.sim, "OFFERS").await;
    let offer = offers["offers"]["offers"][0].clone();
    assert_eq!(offer["hostname"], "slave");
    assert!(offer["resources"].as_array().unwrap().iter().any(|r| r["name"] == "ports" && r["type"] == "RANGES"));

    // ACCEPT: 202, then RUNNING (acknowledged) and FINISHED.
    let r = w.call(&launch(&fid, &offer, "t1", "finish"), Some(&stream_id)).await;
    assert_eq!((r.status, r.body.len()), (202, 0));
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let e = events.next(&w.sim).await.expect("stream open");
        if e["type"] != "UPDATE" {
            continue;
        }
        let s = &e["update"]["status"];
        assert!(s["uuid"].is_string() && s["agent_id"]["value"].is_string(), "an acknowledged update: {s}");
        assert_eq!(w.call(&ack(&fid, s), Some(&stream_id)).await.status, 202);
        seen.push(s["state"].as_str().unwrap().to_string());
    }
    assert_eq!(seen, ["TASK_RUNNING", "TASK_FINISHED"]);
    // A duplicate acknowledgement is accepted too (and dropped by the core).
    let dup = json!({"type": "ACKNOWLEDGE", "framework_id": {"value": &fid}, "acknowledge": {
        "agent_id": offer["agent_id"], "task_id": {"value": "t1"}, "uuid": "AAAAAAAAAAAAAAAAAAAAAA=="}});
    assert_eq!(w.call(&dup, Some(&stream_id)).await.status, 202);

    // A stale offer: 202, and the task is reported lost asynchronously.
    let r = w.call(&launch(&fid, &offer, "t2", "finish"), Some(&stream_id)).await;
    assert_eq!(r.status, 202);
    let lost = loop {
        let e = events.next(&w.sim).await.unwrap();
        if e["type"] == "UPDATE" {
            break e;
        }
    };
    assert_eq!(lost["update"]["status"]["state"], "TASK_LOST");
    assert_eq!(lost["update"]["status"]["reason"], "REASON_INVALID_OFFERS");
    assert!(lost["update"]["status"].get("uuid").is_none());

    // Explicit reconciliation of a task the master never ran: answered
    // with no uuid and REASON_RECONCILIATION. (Implicit reconciliation
    // would answer nothing: the framework has no live task left.)
    let reconcile = json!({"type": "RECONCILE", "framework_id": {"value": &fid}, "reconcile": {
        "tasks": [{"task_id": {"value": "t2"}, "agent_id": offer["agent_id"]}]}});
    let r = w.call(&reconcile, Some(&stream_id)).await;
    assert_eq!(r.status, 202);
    let rec = loop {
        let e = events.next(&w.sim).await.unwrap();
        if e["type"] == "UPDATE" {
            break e;
        }
    };
    assert_eq!(rec["update"]["status"]["task_id"], json!({"value": "t2"}));
    assert_eq!(rec["update"]["status"]["reason"], "REASON_RECONCILIATION");
    assert!(rec["update"]["status"].get("uuid").is_none());

    // Calls with a wrong or missing stream id, for an unknown framework,
    // malformed, or not JSON: refused, and the master keeps serving.
    let revive = json!({"type": "REVIVE", "framework_id": {"value": &fid}});
    assert_eq!(w.call(&revive, None).await.status, 400);
    assert_eq!(w.call(&revive, Some("not-the-stream")).await.status, 400);
    let other = json!({"type": "REVIVE", "framework_id": {"value": "nobody"}});
    assert_eq!(w.call(&other, Some(&stream_id)).await.status, 400);
    let r = w.post("{\"type\":".into(), "application/json", Some(&stream_id)).await;
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).starts_with("Failed to parse body into Call"));
    assert_eq!(w.post(revive.to_string(), "application/x-protobuf", Some(&stream_id)).await.status, 415);
    let unknown = json!({"type": "DANCE", "framework_id": {"value": &fid}});
    assert_eq!(w.call(&unknown, Some(&stream_id)).await.status, 400);
    assert_eq!(w.call(&revive, Some(&stream_id)).await.status, 202);

    // The client leaves: the framework is disconnected, then resubscribes
    // on a new stream under the same id.
    drop(events);
    let (stream2, fid2, mut events2) = w.subscribe(Some(&fid)).await;
    assert_eq!(fid2, fid);
    assert_ne!(stream2, stream_id);
    assert_eq!(w.call(&revive, Some(&stream_id)).await.status, 400, "the old stream id is no longer the framework's");
    events2.expect(&w.sim, "OFFERS").await;

    // TEARDOWN: 202, and the stream ends.
    let r = w.call(&json!({"type": "TEARDOWN", "framework_id": {"value": &fid}}), Some(&stream2)).await;
    assert_eq!(r.status, 202);
    while let Some(e) = events2.next(&w.sim).await {
        assert_ne!(e["type"], "SUBSCRIBED", "{e}");
    }
    assert_eq!(w.call(&revive, Some(&stream2)).await.status, 400, "a removed framework cannot be found");
}

#[actix_rt::test]
async fn a_second_subscription_takes_the_framework_over_and_the_first_hears_an_error() {
    let w = world();
    let (_s1, fid, mut first) = w.subscribe(None).await;
    let (_s2, _, _second) = w.subscribe(Some(&fid)).await;
    let mut last = None;
    while let Some(e) = first.next(&w.sim).await {
        last = Some(e);
    }
    let last = last.expect("an event before the end");
    assert_eq!(last, json!({"type": "ERROR", "error": {"message": "Framework failed over"}}));
}

#[actix_rt::test]
async fn an_http_framework_and_a_driver_framework_share_the_slave_by_drf() {
    let w = world();
    let (stream_id, fid, mut events) = w.subscribe(None).await;
    let offers = events.expect(&w.sim, "OFFERS").await;
    let offer = offers["offers"]["offers"][0].clone();
    // One of the slave's two cpus, for a task that keeps running; the rest
    // of the offer is declined for an hour (so it is not offered back).
    assert_eq!(w.call(&launch_refusing(&fid, &offer, "h1", "run", 3600.0), Some(&stream_id)).await.status, 202);
    let running = events.expect(&w.sim, "UPDATE").await;
    assert_eq!(running["update"]["status"]["state"], "TASK_RUNNING");
    assert_eq!(w.call(&ack(&fid, &running["update"]["status"]), Some(&stream_id)).await.status, 202);
    // A driver framework joins: DRF offers it the free cpu (its share is 0,
    // the HTTP framework's is 1/2).
    let (tx, mut driver_offers) = mpsc::unbounded_channel();
    let mut driver = SchedulerDriver::new(DriverProbe(tx), FrameworkInfo::new("root", "driver"), MASTER)
        .unwrap()
        .with_node(w.sim.node(DRIVER))
        .seed(w.sim.seed());
    driver.start().await.unwrap();
    let offers = w.sim.run_until(driver_offers.recv()).await.unwrap();
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].resources.cpus(), 1.0, "the driver framework is offered the other cpu");
    driver.stop(false);
}

/// `--authenticate_http_frameworks`: no credentials or wrong ones get 401
/// (realm `mesos-master-scheduler`); a SUBSCRIBE claiming another principal
/// than the authenticated one gets 400; a call for a framework of another
/// principal gets 403; the right principal subscribes and is offered.
#[actix_rt::test]
async fn http_frameworks_authenticate_with_their_own_principal() {
    use rmesos::auth::{Credential, Credentials};
    let w = world_with(|o| {
        o.http_auth.frameworks = true;
        o.http_auth.credentials = Credentials::new([Credential::new("fw", "fw-secret"), Credential::new("eve", "e")]);
    });
    let subscribe = |principal: Option<&str>| {
        let mut info = json!({"user": "root", "name": "http-auth", "failover_timeout": 60.0});
        if let Some(p) = principal {
            info["principal"] = json!(p);
        }
        json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}).to_string()
    };
    let json = "application/json";
    for auth in [None, Some("fw:guess"), Some("nobody:x")] {
        let r = w.post_as(auth, subscribe(Some("fw")), json, None).await;
        assert_eq!(r.status, 401, "{auth:?}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(header(&r, "www-authenticate"), Some("Basic realm=\"mesos-master-scheduler\""));
    }
    let r = w.post_as(Some("fw:fw-secret"), subscribe(None), json, None).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        String::from_utf8_lossy(&r.body).trim(),
        "Authenticated principal 'fw' does not match principal '' set in `FrameworkInfo`"
    );
    let r = w.post_as(Some("eve:e"), subscribe(Some("fw")), json, None).await;
    assert_eq!(r.status, 400, "eve cannot subscribe as fw");

    let mut r = w.post_as(Some("fw:fw-secret"), subscribe(Some("fw")), json, None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let stream_id = header(&r, "mesos-stream-id").unwrap().to_string();
    let mut events = Events { body: r.stream.take().unwrap(), decoder: Decoder::default(), queue: VecDeque::new() };
    let sub = events.expect(&w.sim, "SUBSCRIBED").await;
    let fid = sub["subscribed"]["framework_id"]["value"].as_str().unwrap().to_string();
    events.expect(&w.sim, "OFFERS").await;
    let revive = json!({"type": "REVIVE", "framework_id": {"value": fid}}).to_string();
    let r = w.post_as(Some("eve:e"), revive.clone(), json, Some(&stream_id)).await;
    assert_eq!(r.status, 403);
    assert!(String::from_utf8_lossy(&r.body).contains("does not match principal 'fw' of framework"));
    assert_eq!(w.post_as(Some("fw:fw-secret"), revive, json, Some(&stream_id)).await.status, 202);
}
