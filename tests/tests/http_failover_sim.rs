//! An HTTP framework (the v1 scheduler API) through a master failover, in
//! one deterministic simulation (rmesos-testkit's `SimCluster`: two real
//! masters on the in-memory ZooKeeper, one real slave following the
//! leader, one seed, paused clock). The framework runs a task; the leader
//! crashes: its stream ends, the framework subscribes again with its
//! framework id to the new leader, which has it back with its running task
//! once the slave reregisters: reconciliation answers TASK_RUNNING, the
//! slave's retried updates reach the new stream, and a KILL through it
//! kills the task. The standby answered 307 to the
//! leader before the crash.

use std::collections::VecDeque;

use libprocess::http::StreamBody;
use libprocess::{Node, Request, Response};
use rmesos::v1::recordio::Decoder;
use rmesos_testkit::SimCluster;
use serde_json::{json, Value};

struct Events {
    body: StreamBody,
    decoder: Decoder,
    queue: VecDeque<Value>,
}

impl Events {
    /// The next event but heartbeats; None once the stream ended.
    async fn next(&mut self, c: &SimCluster) -> Option<Value> {
        let start = c.sim.now();
        loop {
            assert!(c.sim.now() - start < std::time::Duration::from_secs(600), "only heartbeats for ten minutes");
            if let Some(e) = self.queue.pop_front() {
                if e["type"] != "HEARTBEAT" {
                    return Some(e);
                }
                continue;
            }
            // Bounded (a stream that only heartbeats fails the test): ten
            // minutes of simulated time for one event.
            let chunk = c
                .sim
                .run_for(std::time::Duration::from_secs(600), self.body.next())
                .await
                .expect("an event within ten minutes")?;
            for record in self.decoder.decode(&chunk).expect("RecordIO") {
                self.queue.push_back(serde_json::from_slice(&record).expect("JSON event"));
            }
        }
    }

    async fn expect(&mut self, c: &SimCluster, ty: &str) -> Value {
        loop {
            let e = self.next(c).await.unwrap_or_else(|| panic!("stream ended before {ty}"));
            if e["type"] == ty {
                return e;
            }
        }
    }
}

fn master_node(c: &SimCluster, i: usize) -> Node {
    c.masters[i].running.as_ref().expect("master running").node.clone()
}

async fn post(c: &SimCluster, node: &Node, body: &Value, stream_id: Option<&str>) -> Response {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(id) = stream_id {
        headers.push(("Mesos-Stream-Id".into(), id.into()));
    }
    let req = Request { method: "POST".into(), headers, body: body.to_string().into(), ..Request::default() };
    c.run_until(node.http("/api/v1/scheduler", req)).await
}

/// SUBSCRIBE (again, with `fid`) on `node`: stream id, framework id, stream.
async fn subscribe(c: &SimCluster, node: &Node, fid: Option<&str>) -> (String, String, Events) {
    let mut info = json!({"user": "root", "name": "http-failover", "failover_timeout": 3600.0, "checkpoint": true});
    let mut call = json!({"type": "SUBSCRIBE"});
    if let Some(id) = fid {
        info["id"] = json!({ "value": id });
        call["framework_id"] = json!({ "value": id });
    }
    call["subscribe"] = json!({ "framework_info": info });
    let mut r = post(c, node, &call, None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let sid = r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("mesos-stream-id")).unwrap().1.clone();
    let mut events = Events { body: r.stream.take().unwrap(), decoder: Decoder::default(), queue: VecDeque::new() };
    let sub = events.expect(c, "SUBSCRIBED").await;
    let fid = sub["subscribed"]["framework_id"]["value"].as_str().unwrap().to_string();
    (sid, fid, events)
}

fn ack(fid: &str, status: &Value) -> Value {
    json!({"type": "ACKNOWLEDGE", "framework_id": {"value": fid}, "acknowledge": {
        "agent_id": status["agent_id"], "task_id": status["task_id"], "uuid": status["uuid"]}})
}

#[actix_rt::test]
async fn an_http_framework_keeps_its_task_through_a_master_failover() {
    let mut c = SimCluster::builder().masters(2).slaves(1).build();
    let leader = c.wait_for_leader().await;
    let standby = 1 - leader;
    let node = master_node(&c, leader);
    let (sid, fid, mut events) = subscribe(&c, &node, None).await;
    let offers = events.expect(&c, "OFFERS").await;
    let offer = offers["offers"]["offers"][0].clone();
    let accept = json!({"type": "ACCEPT", "framework_id": {"value": &fid}, "accept": {
        "offer_ids": [offer["id"]],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
            "name": "long", "task_id": {"value": "long"}, "agent_id": offer["agent_id"],
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}}],
            "command": {"value": "run"}, "data": "cnVu"}]}}]}});
    assert_eq!(post(&c, &node, &accept, Some(&sid)).await.status, 202);
    let running = events.expect(&c, "UPDATE").await;
    assert_eq!(running["update"]["status"]["state"], "TASK_RUNNING");
    assert_eq!(post(&c, &node, &ack(&fid, &running["update"]["status"]), Some(&sid)).await.status, 202);

    // The standby sends the framework to the leader.
    let r = post(&c, &master_node(&c, standby), &json!({"type": "SUBSCRIBE"}), None).await;
    assert_eq!(r.status, 307);
    let location = r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.clone());
    assert_eq!(location, Some(format!("//{}/api/v1/scheduler", c.masters[leader].addr)));

    // The leader crashes: the stream ends.
    c.crash_master(leader);
    while let Some(e) = events.next(&c).await {
        assert_ne!(e["type"], "UPDATE", "no update after the crash: {e}");
    }
    c.until("the standby leads", |c| c.leader() == Some(standby)).await;

    // The framework subscribes again, with its id, to the new leader.
    let node = master_node(&c, standby);
    let (sid, fid2, mut events) = subscribe(&c, &node, Some(&fid)).await;
    assert_eq!(fid2, fid, "the framework keeps its id");
    // Its task comes back with the slave's reregistration: reconciliation
    // (explicit, until the master knows the task) answers TASK_RUNNING.
    let reconcile = json!({"type": "RECONCILE", "framework_id": {"value": &fid}, "reconcile": {
        "tasks": [{"task_id": {"value": "long"}, "agent_id": offer["agent_id"]}]}});
    let mut answer = None;
    // Bounded: the slave reregisters within its detection and backoff
    // (seconds of simulated time); each round waits for the answer.
    for _ in 0..60 {
        assert_eq!(post(&c, &node, &reconcile, Some(&sid)).await.status, 202);
        let e = events.expect(&c, "UPDATE").await;
        if e["update"]["status"]["state"] == "TASK_RUNNING" {
            answer = Some(e);
            break;
        }
        c.advance(std::time::Duration::from_secs(1)).await;
    }
    let answer = answer.expect("the new leader knows the running task");
    assert_eq!(answer["update"]["status"]["reason"], "REASON_RECONCILIATION");
    assert!(answer["update"]["status"].get("uuid").is_none());

    // The task is the framework's on the new leader: a KILL through the
    // new stream kills it.
    let kill = json!({"type": "KILL", "framework_id": {"value": &fid}, "kill": {"task_id": {"value": "long"}}});
    assert_eq!(post(&c, &node, &kill, Some(&sid)).await.status, 202);
    // The slave's updates not acknowledged before the crash reach the new
    // stream (retried until acknowledged, in order): acknowledged here.
    let killed = loop {
        let e = events.expect(&c, "UPDATE").await;
        let status = &e["update"]["status"];
        if status["uuid"].is_string() {
            assert_eq!(post(&c, &node, &ack(&fid, status), Some(&sid)).await.status, 202);
        }
        if status["state"] != "TASK_RUNNING" {
            break e;
        }
    };
    assert_eq!(killed["update"]["status"]["state"], "TASK_KILLED");
    assert!(killed["update"]["status"]["uuid"].is_string(), "the slave's update, to acknowledge: {killed}");
}
