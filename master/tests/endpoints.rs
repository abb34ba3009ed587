//! The master's read endpoints and `/teardown` over real loopback sockets,
//! their shapes compared with Mesos's (the fields its
//! `src/master/readonly_handler.cpp` writes for `/state-summary`, `/tasks`,
//! `/frameworks`, `/slaves`, `/roles`, `/flags`, `/version`), each also
//! under `/master/...`. A fake slave and scheduler (the test kit's fakes)
//! speak the real messages; the test waits on messages, never on sleeps.

use base64::Engine;
use libprocess::testkit::Recording;
use libprocess::{Clock, Config, Node, Upid};
use rmesos::messages::*;
use rmesos::*;
use rmesos_master::MasterOptions;
use rmesos_testkit::fakes::{answer_pings, fake};
use rmesos_testkit::Heard;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn r(s: &str) -> Resources {
    Resources::parse(s).unwrap()
}

async fn http(addr: std::net::SocketAddr, method: &str, path: &str, auth: Option<&str>, body: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = auth
        .map(|a| format!("authorization: Basic {}\r\n", base64::engine::general_purpose::STANDARD.encode(a)))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{auth}content-type: \
         application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

async fn get(addr: std::net::SocketAddr, path: &str) -> Value {
    let (status, body) = http(addr, "GET", path, None, "").await;
    assert_eq!(status, 200, "{path}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    // Mesos serves every endpoint under its process id too.
    let (status, again) = http(addr, "GET", &format!("/master{path}"), None, "").await;
    assert_eq!(status, 200, "/master{path}");
    assert_eq!(
        serde_json::from_str::<Value>(&again).unwrap().as_object().map(|o| o.len()),
        v.as_object().map(|o| o.len())
    );
    v
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

fn has(v: &Value, fields: &[&str]) {
    for f in fields {
        assert!(v.get(f).is_some(), "no '{f}' in {v}");
    }
}

struct Cluster {
    master: Upid,
    agents: Node,
    slave: Upid,
    sched: Upid,
    sched_rx: Recording<Heard>,
    slave_rx: Recording<Heard>,
    sid: SlaveID,
    fid: FrameworkID,
}

/// A master, one slave, one framework (principal `web`) running tasks
/// `t1` and `t2` (TASK_RUNNING at 10.0 and 20.0).
async fn cluster(opts: MasterOptions) -> Cluster {
    let mnode = Node::bind_with_clock(Config::loopback(0), Clock::real()).await.unwrap();
    let master = rmesos_master::spawn(&mnode, opts).unwrap().pid;
    let agents = Node::bind_with_clock(Config::loopback(0), Clock::real()).await.unwrap();
    let (slave, mut slave_rx) = answer_pings(fake()).spawn(&agents, "slave(1)");
    let (sched, mut sched_rx) = fake().spawn(&agents, "scheduler-1");
    let info = SlaveInfo::new("fakehost", slave.addr().port(), r("cpus:2;mem:1024"), Attributes::default());
    let reg = RegisterSlaveMessage { slave: info, checkpointed_resources: r(""), version: None, incarnation: None };
    agents.send(&slave, &master, reg);
    slave_rx.next_where(|e| matches!(e, Heard::SlaveRegistered(..)).then_some(())).await;
    let mut fw = FrameworkInfo::new("tester", "endpoints-test");
    fw.principal = Some("web".into());
    fw.role = "analytics".into();
    agents.send(&sched, &master, RegisterFrameworkMessage { framework: fw });
    let fid = sched_rx
        .next_where(|e| match e {
            Heard::FrameworkRegistered(_, m) => Some(m.framework_id),
            _ => None,
        })
        .await;
    let offer = sched_rx
        .next_where(|e| match e {
            Heard::ResourceOffers(_, mut m) => m.offers.pop(),
            _ => None,
        })
        .await;
    let sid = offer.slave_id.clone();
    let task = |id: &str| {
        TaskInfo::command("t", TaskID::new(id).unwrap(), sid.clone(), r("cpus:0.5;mem:64"), CommandInfo::shell("true"))
    };
    let launch = LaunchTasksMessage {
        framework_id: fid.clone(),
        tasks: vec![task("t1"), task("t2")],
        filters: Filters::default(),
        offer_ids: vec![offer.id.clone()],
    };
    agents.send(&sched, &master, launch);
    for (id, at) in [("t1", 10.0), ("t2", 20.0)] {
        slave_rx.next_where(|e| matches!(e, Heard::RunTask(..)).then_some(())).await;
        let st = TaskStatus::new(TaskID::new(id).unwrap(), TaskState::Running).with_source(Source::Executor);
        let update = StatusUpdate::new(fid.clone(), None, Some(sid.clone()), st, at, Some(uuid::Uuid::new_v4()));
        agents.send(&slave, &master, StatusUpdateMessage { update, pid: Some(slave.clone()) });
        sched_rx.next_where(|e| matches!(e, Heard::StatusUpdate(..)).then_some(())).await;
    }
    Cluster { master, agents, slave, sched, sched_rx, slave_rx, sid, fid }
}

#[actix_rt::test]
async fn read_endpoints_have_mesos_shapes() {
    let c = cluster(MasterOptions { master_id: Some("m1".into()), cluster: Some("prod".into()), ..Default::default() })
        .await;
    let a = c.master.addr();
    let _ = (&c.agents, &c.sched);

    let s = get(a, "/state-summary").await;
    assert_eq!(keys(&s), ["cluster", "frameworks", "hostname", "slaves"]);
    let sl = &s["slaves"][0];
    has(
        sl,
        &[
            "id",
            "pid",
            "hostname",
            "registered_time",
            "resources",
            "used_resources",
            "offered_resources",
            "unreserved_resources",
            "attributes",
            "active",
            "version",
            "framework_ids",
        ],
    );
    for st in [
        "TASK_STAGING",
        "TASK_STARTING",
        "TASK_KILLING",
        "TASK_FINISHED",
        "TASK_KILLED",
        "TASK_FAILED",
        "TASK_LOST",
        "TASK_ERROR",
        "TASK_UNREACHABLE",
    ] {
        assert_eq!(sl[st], 0, "{st}");
    }
    assert_eq!(sl["TASK_RUNNING"], 2);
    assert_eq!(sl["framework_ids"], serde_json::json!([c.fid.as_str()]));
    let fw = &s["frameworks"][0];
    has(
        fw,
        &[
            "id",
            "name",
            "pid",
            "used_resources",
            "offered_resources",
            "capabilities",
            "hostname",
            "webui_url",
            "active",
            "connected",
            "recovered",
            "slave_ids",
        ],
    );
    assert!(fw.get("tasks").is_none(), "a summary has no tasks");
    assert_eq!(fw["TASK_RUNNING"], 2);
    assert_eq!(fw["slave_ids"], serde_json::json!([c.sid.as_str()]));

    // /tasks: newest first by default, limit and offset, asc, filters.
    let t = get(a, "/tasks").await;
    assert_eq!(keys(&t), ["tasks"]);
    let ids = |v: &Value| {
        v["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&t), ["t2", "t1"]);
    has(&t["tasks"][0], &["id", "name", "framework_id", "executor_id", "slave_id", "state", "resources", "statuses"]);
    assert_eq!(ids(&get(a, "/tasks?order=asc").await), ["t1", "t2"]);
    assert_eq!(ids(&get(a, "/tasks?limit=1&offset=1").await), ["t1"]);
    assert_eq!(ids(&get(a, "/tasks?task_id=t2").await), ["t2"]);
    assert_eq!(ids(&get(a, &format!("/tasks?framework_id={}", c.fid)).await), ["t2", "t1"]);
    assert!(ids(&get(a, "/tasks?framework_id=other").await).is_empty());
    let (status, body) = http(a, "GET", "/tasks?limit=ten", None, "").await;
    assert_eq!(status, 400);
    assert!(body.contains("'limit' must be a non-negative integer"), "{body}");

    let f = get(a, "/frameworks").await;
    assert_eq!(keys(&f), ["completed_frameworks", "frameworks", "unregistered_frameworks"]);
    has(
        &f["frameworks"][0],
        &[
            "id",
            "name",
            "user",
            "role",
            "active",
            "tasks",
            "completed_tasks",
            "offers",
            "executors",
            "used_resources",
            "offered_resources",
            "registered_time",
            "failover_timeout",
        ],
    );
    assert_eq!(get(a, "/frameworks?framework_id=nope").await["frameworks"], serde_json::json!([]));

    let sv = get(a, "/slaves").await;
    assert_eq!(keys(&sv), ["recovered_slaves", "slaves"]);
    assert_eq!(sv["slaves"][0]["id"], c.sid.as_str());
    assert_eq!(get(a, "/slaves?slave_id=nope").await["slaves"], serde_json::json!([]));

    let ro = get(a, "/roles").await;
    assert_eq!(keys(&ro), ["roles"]);
    let role = &ro["roles"][0];
    assert_eq!(keys(role), ["allocated", "frameworks", "name", "offered", "quota", "reserved", "resources", "weight"]);
    assert_eq!(role["name"], "analytics");
    assert_eq!(role["weight"], 1.0);
    assert_eq!(role["frameworks"], serde_json::json!([c.fid.as_str()]));
    assert_eq!(role["allocated"]["cpus"], 1.0);

    let fl = get(a, "/flags").await;
    assert_eq!(keys(&fl), ["flags"]);
    assert_eq!(fl["flags"]["agent_ping_timeout"], "15secs");
    assert_eq!(fl["flags"]["allocation_interval"], "1secs");
    assert_eq!(get(a, "/version").await["version"], rmesos::v1::MESOS_API_VERSION);

    let m = get(a, "/metrics/snapshot").await;
    for k in [
        "master/elected",
        "master/gpus_total",
        "allocator/mesos/resources/cpus/total",
        "allocator/mesos/resources/cpus/offered_or_allocated",
        "system/cpus_total",
        "system/mem_total_bytes",
    ] {
        assert!(m.get(k).is_some(), "no {k}");
    }
    assert_eq!(m["master/elected"], 1.0);
    assert_eq!(m["allocator/mesos/resources/mem/total"], 1024.0);
}

#[actix_rt::test]
async fn teardown_ends_a_framework_when_the_acls_allow_it() {
    let creds = rmesos::auth::Credentials::parse("ops s1\nbob s2").unwrap();
    let opts = MasterOptions {
        acls: rmesos::auth::Acls::parse(
            r#"{"teardown_frameworks": [{"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}],
                "permissive": false,
                "register_frameworks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
                "run_tasks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}],
                "view_frameworks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}]}"#,
        )
        .unwrap(),
        http_auth: rmesos::auth::http_basic::HttpAuth { readwrite: true, credentials: creds, ..Default::default() },
        ..Default::default()
    };
    let mut c = cluster(opts).await;
    let a = c.master.addr();
    let body = format!("frameworkId={}", c.fid);
    assert_eq!(http(a, "GET", "/teardown", Some("ops:s1"), &body).await.0, 405);
    assert_eq!(http(a, "POST", "/teardown", None, &body).await.0, 401);
    assert_eq!(http(a, "POST", "/teardown", Some("bob:s2"), &body).await.0, 403);
    let (status, why) = http(a, "POST", "/teardown", Some("ops:s1"), "frameworkId=nope").await;
    assert_eq!((status, why.contains("No framework found with specified ID")), (400, true), "{why}");
    assert_eq!(http(a, "POST", "/teardown", Some("ops:s1"), "").await.0, 400);
    assert_eq!(http(a, "POST", "/master/teardown", Some("ops:s1"), &body).await.0, 200);
    // The slave is told to shut the framework down; the scheduler why.
    let shut = c
        .slave_rx
        .next_where(|e| match e {
            Heard::ShutdownFramework(_, m) => Some(m.framework_id),
            _ => None,
        })
        .await;
    assert_eq!(shut, c.fid);
    let err = c
        .sched_rx
        .next_where(|e| match e {
            Heard::FrameworkError(_, m) => Some(m.message),
            _ => None,
        })
        .await;
    assert_eq!(err, "Framework has been removed");
    let f = get(a, "/frameworks").await;
    assert_eq!(f["frameworks"], serde_json::json!([]));
    assert_eq!(f["completed_frameworks"][0]["id"], c.fid.as_str());
    let _ = &c.slave;
}
