//! Scheduler calls and events against Mesos-shaped fixtures written from
//! `include/mesos/v1/scheduler/scheduler.proto` (the shapes pymesos sends
//! and parses).

use serde_json::json;

use super::*;
use crate::task::{TaskState, TaskStatus};

fn parse(v: Value) -> Result<ParsedCall, V1Error> {
    parse_call(v.to_string().as_bytes())
}

#[test]
fn subscribe_first_time_and_again() {
    let c = parse(json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}})).unwrap();
    assert_eq!(c.framework_id, None);
    assert!(matches!(c.call, Call::Subscribe { ref framework_info } if framework_info.name == "n"));
    let again = json!({"type": "SUBSCRIBE", "framework_id": {"value": "m-0000"},
        "subscribe": {"framework_info": {"user": "u", "name": "n", "id": {"value": "m-0000"}}}});
    assert_eq!(parse(again).unwrap().framework_id.unwrap().as_str(), "m-0000");
    let differ = json!({"type": "SUBSCRIBE", "framework_id": {"value": "a"},
        "subscribe": {"framework_info": {"user": "u", "name": "n", "id": {"value": "b"}}}});
    assert!(parse(differ).unwrap_err().0.contains("differs"));
}

#[test]
fn accept_launches_and_refuses_other_operations() {
    let task = json!({"name": "t", "task_id": {"value": "t1"}, "agent_id": {"value": "m-S0"},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}], "command": {"value": "true"}});
    let c = parse(json!({"type": "ACCEPT", "framework_id": {"value": "f"}, "accept": {
        "offer_ids": [{"value": "o1"}, {"value": "o2"}],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
        "filters": {"refuse_seconds": 1.0}}}))
    .unwrap();
    let Call::Accept { offer_ids, tasks, filters } = c.call else { panic!() };
    assert_eq!(offer_ids.len(), 2);
    assert_eq!(tasks[0].task_id.as_str(), "t1");
    assert_eq!(filters.refuse_seconds, 1.0);
    let reserve = json!({"type": "ACCEPT", "framework_id": {"value": "f"}, "accept": {
        "offer_ids": [{"value": "o1"}], "operations": [{"type": "RESERVE", "reserve": {"resources": []}}]}});
    assert_eq!(parse(reserve).unwrap_err().0, "Offer operation 'RESERVE' is not supported by this master");
}

#[test]
fn every_call_type_parses() {
    let f = json!({"value": "f"});
    let cases = [
        (json!({"type": "TEARDOWN"}), "TEARDOWN"),
        (json!({"type": "DECLINE", "decline": {"offer_ids": [{"value": "o"}]}}), "DECLINE"),
        (json!({"type": "REVIVE"}), "REVIVE"),
        (json!({"type": "REVIVE", "revive": {"roles": ["a"]}}), "REVIVE"),
        (json!({"type": "SUPPRESS", "suppress": {"roles": ["*"]}}), "SUPPRESS"),
        (json!({"type": "KILL", "kill": {"task_id": {"value": "t"}}}), "KILL"),
        (
            json!({"type": "SHUTDOWN", "shutdown": {"executor_id": {"value": "e"}, "agent_id": {"value": "a"}}}),
            "SHUTDOWN",
        ),
        (
            json!({"type": "ACKNOWLEDGE", "acknowledge": {"agent_id": {"value": "a"}, "task_id": {"value": "t"},
                "uuid": "AAAAAAAAAAAAAAAAAAAAAA=="}}),
            "ACKNOWLEDGE",
        ),
        (json!({"type": "RECONCILE", "reconcile": {"tasks": []}}), "RECONCILE"),
        (json!({"type": "RECONCILE", "reconcile": {"tasks": [{"task_id": {"value": "t"}}]}}), "RECONCILE"),
        (
            json!({"type": "MESSAGE", "message": {"agent_id": {"value": "a"}, "executor_id": {"value": "e"}, "data": "aGk="}}),
            "MESSAGE",
        ),
        (json!({"type": "REQUEST", "request": {"requests": [{"agent_id": {"value": "a"}}]}}), "REQUEST"),
    ];
    for (mut v, name) in cases {
        v["framework_id"] = f.clone();
        let c = parse(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(c.call.name(), name);
        // And without a framework id: refused.
        v.as_object_mut().unwrap().remove("framework_id");
        assert!(parse(v).unwrap_err().0.contains("'framework_id'"));
    }
}

#[test]
fn malformed_calls_get_one_line_reasons() {
    for (body, why) in [
        ("not json", "Failed to parse body into Call"),
        ("[1]", "not a JSON object"),
        ("{}", "Expecting 'type'"),
        (r#"{"type":"LAUNCH_NUKES","framework_id":{"value":"f"}}"#, "Unknown call type 'LAUNCH_NUKES'"),
        (r#"{"type":"KILL","framework_id":{"value":"f"}}"#, "missing 'kill'"),
        (r#"{"type":"UPDATE_FRAMEWORK","framework_id":{"value":"f"}}"#, "not supported"),
        (
            r#"{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"}}}"#,
            "missing 'uuid'",
        ),
    ] {
        let e = parse_call(body.as_bytes()).unwrap_err();
        assert!(e.0.contains(why), "{body}: {e}");
        assert!(!e.0.contains('\n'), "one line: {e}");
    }
}

#[test]
fn events_have_the_proto_shapes() {
    let m =
        MasterInfo::new("mid", &"master@127.0.0.1:5050".parse::<libprocess::Upid>().unwrap(), Some("h".into()), None);
    let s = event_subscribed(&FrameworkID::new("f").unwrap(), 15.0, &m);
    assert_eq!(s["type"], "SUBSCRIBED");
    assert_eq!(s["subscribed"]["framework_id"], json!({"value": "f"}));
    assert_eq!(s["subscribed"]["heartbeat_interval_seconds"], json!(15.0));
    assert_eq!(s["subscribed"]["master_info"]["port"], json!(5050));
    assert_eq!(event_offers(&[])["offers"], json!({"offers": []}));
    assert_eq!(event_error("boom"), json!({"type": "ERROR", "error": {"message": "boom"}}));
    assert_eq!(event_heartbeat(), json!({"type": "HEARTBEAT"}));
    assert_eq!(event_rescind(&OfferID::new("o").unwrap())["rescind"]["offer_id"], json!({"value": "o"}));
    let fail = event_failure(&SlaveID::new("a").unwrap(), Some((&ExecutorID::new("e").unwrap(), 9)));
    assert_eq!(fail["failure"]["status"], json!(9));
    assert_eq!(record(&event_heartbeat()).as_ref(), b"20\n{\"type\":\"HEARTBEAT\"}");
}

#[test]
fn updates_carry_uuid_and_agent_only_when_acknowledged() {
    let status = TaskStatus::new(TaskID::new("t").unwrap(), TaskState::Running);
    let fid = FrameworkID::new("f").unwrap();
    let sid = SlaveID::new("m-S0").unwrap();
    let acked =
        StatusUpdate::new(fid.clone(), None, Some(sid.clone()), status.clone(), 1.0, Some(Uuid::from_bytes([1; 16])));
    let j = event_update(&acked);
    assert_eq!(j["update"]["status"]["uuid"], json!("AQEBAQEBAQEBAQEBAQEBAQ=="));
    assert_eq!(j["update"]["status"]["agent_id"], json!({"value": "m-S0"}));
    let mut reconciled = status.with_reason(crate::task::Reason::Reconciliation);
    reconciled.slave_id = None;
    let j = event_update(&StatusUpdate::new(fid, None, None, reconciled, 2.0, None));
    assert!(j["update"]["status"].get("uuid").is_none());
    assert_eq!(j["update"]["status"]["reason"], json!("REASON_RECONCILIATION"));
    assert_eq!(j["update"]["status"]["timestamp"], json!(2.0));
}
