//! The v1 JSON mapping against Mesos-shaped fixtures written from
//! `include/mesos/v1/mesos.proto`.

use serde_json::json;

use super::*;

#[test]
fn ids_are_value_objects_and_are_validated() {
    let v = json!({"framework_id": {"value": "m-0000"}, "task_id": {"value": "a/b"}, "agent_id": {}});
    assert_eq!(framework_id(&v, "framework_id", "Call").unwrap().unwrap().as_str(), "m-0000");
    assert!(task_id(&v, "task_id", "Call").unwrap_err().0.contains("invalid task_id"));
    assert!(agent_id(&v, "agent_id", "Call").unwrap_err().0.contains("no 'value'"));
    assert_eq!(executor_id(&v, "executor_id", "Call").unwrap(), None);
    assert_eq!(task_id_json(&TaskID::new("t1").unwrap()), json!({"value": "t1"}));
}

#[test]
fn resources_map_scalars_and_ranges_and_refuse_what_cannot_be_held() {
    let r = Resources::parse("cpus:2.5;mem:1024;ports:[31000-31005,32000-32000]").unwrap();
    let j = resources_json(&r);
    assert!(j.as_array().unwrap().contains(&json!(
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 2.5}, "role": "*"}
    )));
    assert!(j.as_array().unwrap().contains(&json!({"name": "ports", "type": "RANGES", "role": "*",
        "ranges": {"range": [{"begin": 31000, "end": 31005}, {"begin": 32000, "end": 32000}]}})));
    let back = resources(&json!({ "r": j }), "r", "t").unwrap();
    assert_eq!(back, r);
    // What a pymesos framework sends: no role, no type on a scalar.
    let v = json!({"r": [{"name": "cpus", "scalar": {"value": 0.1}}, {"name": "mem", "type": "SCALAR",
        "scalar": {"value": 32}, "allocation_info": {"role": "*"}, "unknown_field": 1}]});
    assert_eq!(resources(&v, "r", "t").unwrap(), Resources::parse("cpus:0.1;mem:32").unwrap());
    for (bad, why) in [
        (json!({"name": "s", "type": "SET", "set": {"item": ["a"]}}), "SET resources are not supported"),
        (json!({"name": "cpus", "type": "SCALAR", "scalar": {"value": -1}}), "cpus"),
        (json!({"name": "cpus", "role": "web", "scalar": {"value": 1}}), "reserved for role 'web'"),
        (json!({"name": "p", "type": "RANGES", "ranges": {"range": [{"begin": 5, "end": 1}]}}), "is empty"),
        (json!({"name": "x", "type": "TEXT"}), "unknown type 'TEXT'"),
        (json!({"type": "SCALAR"}), "without a name"),
    ] {
        let e = resources(&json!({ "r": [bad] }), "r", "t").unwrap_err();
        assert!(e.0.contains(why), "{e} should say {why}");
    }
}

#[test]
fn attributes_are_typed() {
    let a = crate::Attributes::parse("rack:r1;level:5;ids:[1-3]").unwrap();
    assert_eq!(
        attributes_json(&a),
        json!([
            {"name": "rack", "type": "TEXT", "text": {"value": "r1"}},
            {"name": "level", "type": "SCALAR", "scalar": {"value": 5.0}},
            {"name": "ids", "type": "RANGES", "ranges": {"range": [{"begin": 1, "end": 3}]}},
        ])
    );
}

#[test]
fn framework_info_reads_mesos_fields_and_ignores_unknown_ones() {
    let v = json!({"user": "root", "name": "pymesos", "failover_timeout": 3600.0, "checkpoint": true,
        "roles": ["analytics"], "hostname": "h1", "principal": "p", "labels": {"labels": []},
        "capabilities": [{"type": "PARTITION_AWARE"}, {"type": "SOME_FUTURE_CAPABILITY"}],
        "id": {"value": "m-0001"}});
    let f = framework_info(&v, "Call.subscribe").unwrap();
    assert_eq!((f.user.as_str(), f.name.as_str(), f.role.as_str()), ("root", "pymesos", "analytics"));
    assert_eq!(f.failover_timeout, 3600.0);
    assert!(f.checkpoint && f.is_partition_aware());
    assert_eq!(f.id.as_ref().unwrap().as_str(), "m-0001");
    let j = framework_info_json(&f);
    assert_eq!(j["id"], json!({"value": "m-0001"}));
    assert_eq!(j["capabilities"], json!([{"type": "PARTITION_AWARE"}]));
    let two = json!({"user": "u", "name": "n", "roles": ["a", "b"]});
    assert!(framework_info(&two, "c").unwrap_err().0.contains("more than one role"));
    assert_eq!(framework_info(&json!({"user": "u", "name": "n"}), "c").unwrap().role, "*");
}

#[test]
fn task_info_with_command_executor_and_data() {
    let v = json!({
        "name": "sleep", "task_id": {"value": "t-1"}, "agent_id": {"value": "m-S0"},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}],
        "command": {"value": "sleep 1", "shell": true, "environment": {"variables": [{"name": "A", "value": "1"}]},
            "uris": [{"value": "http://x/y.tgz", "extract": false}]},
        "data": "aGVsbG8=", "labels": {"labels": [{"key": "k", "value": "v"}]},
    });
    let t = task_info(&v, "Call.accept").unwrap();
    assert_eq!(t.data.as_deref(), Some(&b"hello"[..]));
    let c = t.command.as_ref().unwrap();
    assert_eq!(c.value.as_deref(), Some("sleep 1"));
    assert_eq!(c.environment.variables[0].value, "1");
    assert!(!c.uris[0].extract);
    t.validate().unwrap();
    let j = task_info_json(&t);
    assert_eq!(j["data"], json!("aGVsbG8="));
    assert_eq!(j["agent_id"], json!({"value": "m-S0"}));
    assert_eq!(task_info(&j, "x").unwrap(), t);

    let with_exec = json!({
        "name": "e", "task_id": {"value": "t-2"}, "agent_id": {"value": "m-S0"},
        "executor": {"executor_id": {"value": "ex"}, "type": "CUSTOM",
            "command": {"value": "python3 executor.py"}, "data": "AAE="},
    });
    let t = task_info(&with_exec, "c").unwrap();
    let e = t.executor.as_ref().unwrap();
    assert_eq!((e.executor_id.as_str(), e.data.as_deref()), ("ex", Some(&[0u8, 1][..])));
    let bad = json!({"name": "x", "task_id": {"value": "t"}, "agent_id": {"value": "a"}, "data": "%%%"});
    assert!(task_info(&bad, "c").unwrap_err().0.contains("not base64"));
    let no_agent = json!({"name": "x", "task_id": {"value": "t"}});
    assert!(task_info(&no_agent, "c").unwrap_err().0.contains("missing 'agent_id'"));
}

#[test]
fn task_status_round_trips_with_uuid_bytes_and_enums() {
    let u = Uuid::from_bytes([7; 16]);
    let mut s = TaskStatus::new(TaskID::new("t").unwrap(), TaskState::Running)
        .with_source(Source::Executor)
        .with_reason(Reason::Reconciliation)
        .with_slave_id(SlaveID::new("m-S1").unwrap())
        .with_timestamp(12.5);
    s.uuid = Some(u);
    s.data = Some(vec![1, 2, 3]);
    let j = task_status_json(&s);
    assert_eq!(j["state"], json!("TASK_RUNNING"));
    assert_eq!(j["source"], json!("SOURCE_EXECUTOR"));
    assert_eq!(j["reason"], json!("REASON_RECONCILIATION"));
    assert_eq!(j["uuid"], json!("BwcHBwcHBwcHBwcHBwcHBw=="));
    assert_eq!(j["agent_id"], json!({"value": "m-S1"}));
    assert_eq!(task_status(&j, "Call.update").unwrap(), s);
    let bad = json!({"task_id": {"value": "t"}, "state": "TASK_SLEEPING"});
    assert!(task_status(&bad, "c").unwrap_err().0.contains("unknown state 'TASK_SLEEPING'"));
    let short = json!({"task_id": {"value": "t"}, "state": "TASK_RUNNING", "uuid": "AAE="});
    assert!(task_status(&short, "c").unwrap_err().0.contains("not 16 bytes"));
}

#[test]
fn offers_carry_agent_hostname_resources_attributes() {
    let o = Offer {
        id: OfferID::new("m-O1").unwrap(),
        framework_id: FrameworkID::new("m-0000").unwrap(),
        slave_id: SlaveID::new("m-S0").unwrap(),
        hostname: "localhost".into(),
        resources: Resources::parse("cpus:4;mem:2048;disk:100;ports:[31000-32000]").unwrap(),
        attributes: crate::Attributes::parse("rack:r1").unwrap(),
        executor_ids: vec![ExecutorID::new("e").unwrap()],
    };
    let j = offer_json(&o);
    assert_eq!(j["id"], json!({"value": "m-O1"}));
    assert_eq!(j["agent_id"], json!({"value": "m-S0"}));
    assert_eq!(j["hostname"], json!("localhost"));
    assert_eq!(j["resources"].as_array().unwrap().len(), 4);
    assert_eq!(j["attributes"][0]["text"], json!({"value": "r1"}));
    assert_eq!(j["executor_ids"], json!([{"value": "e"}]));
}

#[test]
fn filters_default_to_five_seconds() {
    assert_eq!(filters(None, "c").unwrap().refuse_seconds, 5.0);
    assert_eq!(filters(Some(&json!({})), "c").unwrap().refuse_seconds, 5.0);
    assert_eq!(filters(Some(&json!({"refuse_seconds": 60})), "c").unwrap().refuse_seconds, 60.0);
}
