//! Executor calls and events against Mesos-shaped fixtures written from
//! `include/mesos/v1/executor/executor.proto` (the shapes pymesos's
//! executor driver sends and parses).

use serde_json::json;

use super::*;
use crate::info::CommandInfo;
use crate::resources::Resources;

fn parse(v: Value) -> Result<ParsedCall, V1Error> {
    parse_call(v.to_string().as_bytes())
}

const UUID_B64: &str = "AAECAwQFBgcICQoLDA0ODw=="; // bytes 0..16

fn ids() -> Value {
    json!({"executor_id": {"value": "e1"}, "framework_id": {"value": "m-0000"}})
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

fn status(state: &str) -> Value {
    json!({"task_id": {"value": "t1"}, "state": state, "source": "SOURCE_EXECUTOR", "uuid": UUID_B64,
        "data": "aGk=", "message": "m", "timestamp": 1700000000.5})
}

#[test]
fn subscribe_first_and_after_a_restart() {
    let c = parse(with(ids(), json!({"type": "SUBSCRIBE", "subscribe": {}}))).unwrap();
    assert_eq!((c.framework_id.as_str(), c.executor_id.as_str()), ("m-0000", "e1"));
    assert_eq!(c.call, Call::Subscribe { unacknowledged_tasks: vec![], unacknowledged_updates: vec![] });
    let task = json!({"name": "t", "task_id": {"value": "t1"}, "agent_id": {"value": "m-S0"},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}], "command": {"value": "ls"}});
    let again = with(
        ids(),
        json!({"type": "SUBSCRIBE", "subscribe": {
            "unacknowledged_tasks": [task],
            "unacknowledged_updates": [{"framework_id": {"value": "m-0000"}, "status": status("TASK_RUNNING")}]}}),
    );
    let Call::Subscribe { unacknowledged_tasks, unacknowledged_updates } = parse(again).unwrap().call else { panic!() };
    assert_eq!(unacknowledged_tasks[0].task_id.as_str(), "t1");
    let u = &unacknowledged_updates[0];
    assert_eq!(u.state, TaskState::Running);
    assert_eq!(u.uuid, Some(Uuid::from_bytes(std::array::from_fn(|i| i as u8))));
    assert_eq!(u.executor_id.as_ref().map(|e| e.as_str()), Some("e1"), "the call's executor, filled in");
    // `subscribe` is required, as the .proto's validation says.
    let e = parse(with(ids(), json!({"type": "SUBSCRIBE"}))).unwrap_err();
    assert_eq!(e.0, "Expecting 'subscribe' to be present");
}

#[test]
fn update_and_message_parse() {
    let c = parse(with(ids(), json!({"type": "UPDATE", "update": {"status": status("TASK_FINISHED")}}))).unwrap();
    let Call::Update { status } = c.call else { panic!() };
    assert_eq!(status.state, TaskState::Finished);
    assert_eq!(status.data.as_deref(), Some(&b"hi"[..]));
    assert_eq!(status.timestamp, Some(1700000000.5));
    let c = parse(with(ids(), json!({"type": "MESSAGE", "message": {"data": "t+Wonz5fRFKMzCnEptlv5A=="}}))).unwrap();
    assert!(matches!(c.call, Call::Message { ref data } if data.len() == 16));
    assert_eq!(parse(with(ids(), json!({"type": "HEARTBEAT"}))).unwrap().call, Call::Heartbeat);
}

#[test]
fn bad_calls_are_refused_with_mesos_reasons() {
    let cases = [
        (json!({"type": "UPDATE", "executor_id": {"value": "e1"}}), "Expecting 'framework_id' to be present"),
        (json!({"type": "UPDATE", "framework_id": {"value": "f"}}), "Expecting 'executor_id' to be present"),
        (with(ids(), json!({})), "Expecting 'type' to be present"),
        (with(ids(), json!({"type": "LAUNCH"})), "Unknown call type 'LAUNCH'"),
        (with(ids(), json!({"type": "UPDATE"})), "Expecting 'update' to be present"),
        (with(ids(), json!({"type": "MESSAGE", "message": {}})), "Call.message: missing 'data'"),
    ];
    for (call, why) in cases {
        assert_eq!(parse(call.clone()).unwrap_err().0, why, "{call}");
    }
    let update = |s: Value| with(ids(), json!({"type": "UPDATE", "update": {"status": s}}));
    let mut s = status("TASK_RUNNING");
    s.as_object_mut().unwrap().remove("uuid");
    assert_eq!(parse(update(s)).unwrap_err().0, "Expecting 'uuid' to be present");
    let mut s = status("TASK_RUNNING");
    s["uuid"] = json!("AAEC");
    assert!(parse(update(s)).unwrap_err().0.contains("not 16 bytes"));
    let mut s = status("TASK_RUNNING");
    s["executor_id"] = json!({"value": "other"});
    assert!(parse(update(s)).unwrap_err().0.contains("does not match ExecutorID in TaskStatus: other"));
    let mut s = status("TASK_RUNNING");
    s.as_object_mut().unwrap().remove("source");
    assert!(parse(update(s)).unwrap_err().0.contains("expecting 'SOURCE_EXECUTOR'"));
    assert!(parse(update(status("TASK_STAGING"))).unwrap_err().0.contains("TASK_STAGING"));
    assert!(parse_call(b"{\"type\": ").unwrap_err().0.starts_with("Failed to parse body into JSON"));
    assert!(parse_call(b"[1]").is_err());
}

#[test]
fn events_have_the_proto_shapes() {
    let mut info = ExecutorInfo::new(ExecutorID::new("e1").unwrap(), CommandInfo::shell("./run"));
    info.framework_id = Some(FrameworkID::new("m-0000").unwrap());
    let mut framework = FrameworkInfo::new("u", "n");
    framework.id = info.framework_id.clone();
    let mut agent = SlaveInfo::new("host", 5051, Resources::parse("cpus:1").unwrap(), Default::default());
    agent.id = Some(crate::ids::SlaveID::new("m-S0").unwrap());
    let run = Uuid::from_u128(7);
    let e = event_subscribed(&info, &framework, &agent, &run);
    assert_eq!(e["type"], "SUBSCRIBED");
    let s = &e["subscribed"];
    assert_eq!(s["executor_info"]["executor_id"], json!({"value": "e1"}));
    assert_eq!(s["framework_info"]["id"], json!({"value": "m-0000"}));
    assert_eq!(s["agent_info"]["id"], json!({"value": "m-S0"}));
    assert_eq!((s["agent_info"]["hostname"].as_str(), s["agent_info"]["port"].as_u64()), (Some("host"), Some(5051)));
    assert_eq!(s["container_id"]["value"], run.to_string());

    let task = TaskInfo {
        name: "t".into(),
        task_id: TaskID::new("t1").unwrap(),
        slave_id: crate::ids::SlaveID::new("m-S0").unwrap(),
        resources: Resources::parse("cpus:0.5").unwrap(),
        executor: Some(info),
        command: None,
        data: Some(b"x".to_vec()),
        health_check: None,
        check: None,
        kill_policy: None,
    };
    let l = event_launch(&task);
    assert_eq!(l["launch"]["task"]["task_id"], json!({"value": "t1"}));
    assert_eq!(l["launch"]["task"]["data"], "eA==");
    // What LAUNCH writes reads back as the same task (an executor sends it
    // back in `unacknowledged_tasks`).
    assert_eq!(task_info(&l["launch"]["task"], "t").unwrap(), task);

    assert_eq!(event_kill(&TaskID::new("t1").unwrap()), json!({"type": "KILL", "kill": {"task_id": {"value": "t1"}}}));
    let uuid = Uuid::from_bytes(std::array::from_fn(|i| i as u8));
    assert_eq!(
        event_acknowledged(&TaskID::new("t1").unwrap(), &uuid),
        json!({"type": "ACKNOWLEDGED", "acknowledged": {"task_id": {"value": "t1"}, "uuid": UUID_B64}})
    );
    assert_eq!(event_message(b"sample data"), json!({"type": "MESSAGE", "message": {"data": "c2FtcGxlIGRhdGE="}}));
    assert_eq!(event_shutdown(), json!({"type": "SHUTDOWN"}));
    assert_eq!(event_error("bad"), json!({"type": "ERROR", "error": {"message": "bad"}}));
    assert_eq!(event_heartbeat(), json!({"type": "HEARTBEAT"}));
}
