//! `include/mesos/v1/master/master.proto`: the operator calls POSTed to the
//! master's `/api/v1` ([`Call`], parsed by [`parse_call`]), and the framing
//! of its answers ([`response`]) and of its SUBSCRIBE stream's events
//! ([`event`]). What goes inside them is the master's state, described by
//! the master (master/src/api/operator/).
//!
//! Parsing checks what the .proto requires of each call (its message, its
//! ids) and nothing that needs the cluster. The calls Mesos has and this
//! master does not serve (reservations, volumes, quota, weights,
//! maintenance schedules, files, logging level changes, gone agents) are
//! refused by name, so an operator sees which one and why.

use serde_json::{json, Map, Value};

use super::json::*;
use super::V1Error;
use crate::ids::FrameworkID;

/// One operator call, by type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    GetHealth,
    GetFlags,
    GetVersion,
    GetMetrics,
    GetLoggingLevel,
    GetState,
    GetAgents,
    GetFrameworks,
    GetExecutors,
    GetTasks,
    GetRoles,
    GetMaster,
    GetMaintenanceStatus,
    Subscribe,
    Teardown { framework_id: FrameworkID },
}

impl Call {
    /// The call's type as the .proto names it (and as its answer's `type`).
    pub fn name(&self) -> &'static str {
        match self {
            Call::GetHealth => "GET_HEALTH",
            Call::GetFlags => "GET_FLAGS",
            Call::GetVersion => "GET_VERSION",
            Call::GetMetrics => "GET_METRICS",
            Call::GetLoggingLevel => "GET_LOGGING_LEVEL",
            Call::GetState => "GET_STATE",
            Call::GetAgents => "GET_AGENTS",
            Call::GetFrameworks => "GET_FRAMEWORKS",
            Call::GetExecutors => "GET_EXECUTORS",
            Call::GetTasks => "GET_TASKS",
            Call::GetRoles => "GET_ROLES",
            Call::GetMaster => "GET_MASTER",
            Call::GetMaintenanceStatus => "GET_MAINTENANCE_STATUS",
            Call::Subscribe => "SUBSCRIBE",
            Call::Teardown { .. } => "TEARDOWN",
        }
    }

    /// Whether the call changes the cluster (`--authenticate_http_readwrite`
    /// guards these; the others read).
    pub fn writes(&self) -> bool {
        matches!(self, Call::Teardown { .. })
    }
}

/// Mesos's calls this master does not serve.
const NOT_SERVED: &[&str] = &[
    "SET_LOGGING_LEVEL",
    "LIST_FILES",
    "READ_FILE",
    "GET_OPERATIONS",
    "GET_WEIGHTS",
    "UPDATE_WEIGHTS",
    "RESERVE_RESOURCES",
    "UNRESERVE_RESOURCES",
    "CREATE_VOLUMES",
    "DESTROY_VOLUMES",
    "GROW_VOLUME",
    "SHRINK_VOLUME",
    "GET_MAINTENANCE_SCHEDULE",
    "UPDATE_MAINTENANCE_SCHEDULE",
    "START_MAINTENANCE",
    "STOP_MAINTENANCE",
    "DRAIN_AGENT",
    "DEACTIVATE_AGENT",
    "REACTIVATE_AGENT",
    "GET_QUOTA",
    "UPDATE_QUOTA",
    "SET_QUOTA",
    "REMOVE_QUOTA",
    "MARK_AGENT_GONE",
];

/// Parses a call's JSON body; Err is the one-line reason for a 400.
pub fn parse_call(body: &[u8]) -> Result<Call, V1Error> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| V1Error::new(format!("Failed to parse body into JSON: {e}")))?;
    if !v.is_object() {
        return Err(V1Error::new("Failed to convert JSON into Call protobuf: not a JSON object"));
    }
    let ty = string(&v, "type", "Call")?.ok_or_else(|| V1Error::new("Expecting 'type' to be present"))?;
    Ok(match ty.as_str() {
        "GET_HEALTH" => Call::GetHealth,
        "GET_FLAGS" => Call::GetFlags,
        "GET_VERSION" => Call::GetVersion,
        "GET_METRICS" => Call::GetMetrics,
        "GET_LOGGING_LEVEL" => Call::GetLoggingLevel,
        "GET_STATE" => Call::GetState,
        "GET_AGENTS" => Call::GetAgents,
        "GET_FRAMEWORKS" => Call::GetFrameworks,
        "GET_EXECUTORS" => Call::GetExecutors,
        "GET_TASKS" => Call::GetTasks,
        "GET_ROLES" => Call::GetRoles,
        "GET_MASTER" => Call::GetMaster,
        "GET_MAINTENANCE_STATUS" => Call::GetMaintenanceStatus,
        "SUBSCRIBE" => Call::Subscribe,
        "TEARDOWN" => {
            let t = required(&v, "teardown", "Call TEARDOWN")?;
            let id = framework_id(t, "framework_id", "Call.teardown")?;
            Call::Teardown { framework_id: need(id, "framework_id", "Call.teardown")? }
        }
        "UNKNOWN" => return Err(V1Error::new("Call type UNKNOWN is not implemented")),
        other if NOT_SERVED.contains(&other) => {
            return Err(V1Error::new(format!("Call type {other} is not supported by this master")))
        }
        other => return Err(V1Error::new(format!("Unknown call type '{other}'"))),
    })
}

/// An answer: `{"type": <call>, "<call in lower case>": body}`, the
/// .proto's union (`{"type":"GET_HEALTH","get_health":{"healthy":true}}`).
pub fn response(call: &Call, body: Value) -> Value {
    union(call.name(), body)
}

/// A stream event, framed the same way (`{"type":"TASK_ADDED",
/// "task_added":{"task":..}}`); `HEARTBEAT` has no body.
pub fn event(ty: &str, body: Option<Value>) -> Value {
    match body {
        Some(b) => union(ty, b),
        None => json!({ "type": ty }),
    }
}

fn union(ty: &str, body: Value) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!(ty));
    o.insert(ty.to_ascii_lowercase(), body);
    Value::Object(o)
}

/// protobuf's `TimeInfo`: nanoseconds since the epoch, from seconds.
pub fn time_info(secs: f64) -> Value {
    json!({ "nanoseconds": (secs * 1e9) as i64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_parse_as_the_proto_names_them() {
        assert_eq!(parse_call(br#"{"type":"GET_STATE"}"#), Ok(Call::GetState));
        assert_eq!(parse_call(br#"{"type":"SUBSCRIBE","extra":1}"#), Ok(Call::Subscribe));
        let t = parse_call(br#"{"type":"TEARDOWN","teardown":{"framework_id":{"value":"f-1"}}}"#).unwrap();
        assert_eq!(t, Call::Teardown { framework_id: FrameworkID::new("f-1").unwrap() });
        assert!(t.writes());
    }

    #[test]
    fn malformed_and_unserved_calls_say_why() {
        let why = |b: &[u8]| parse_call(b).unwrap_err().0;
        assert!(why(b"{\"type\":").starts_with("Failed to parse body into JSON"));
        assert_eq!(why(b"[]"), "Failed to convert JSON into Call protobuf: not a JSON object");
        assert_eq!(why(b"{}"), "Expecting 'type' to be present");
        assert_eq!(why(br#"{"type":"TEARDOWN"}"#), "Call TEARDOWN: missing 'teardown'");
        assert_eq!(why(br#"{"type":"TEARDOWN","teardown":{}}"#), "Call.teardown: missing 'framework_id'");
        assert_eq!(
            why(br#"{"type":"RESERVE_RESOURCES"}"#),
            "Call type RESERVE_RESOURCES is not supported by this master"
        );
        assert_eq!(why(br#"{"type":"DANCE"}"#), "Unknown call type 'DANCE'");
        assert_eq!(why(br#"{"type":7}"#), "Call: 'type' is not a string");
    }

    #[test]
    fn answers_and_events_are_the_protos_unions() {
        assert_eq!(
            response(&Call::GetHealth, json!({"healthy": true})),
            json!({"type": "GET_HEALTH", "get_health": {"healthy": true}})
        );
        assert_eq!(
            event("TASK_ADDED", Some(json!({"task": {}}))),
            json!({"type": "TASK_ADDED", "task_added": {"task": {}}})
        );
        assert_eq!(event("HEARTBEAT", None), json!({"type": "HEARTBEAT"}));
        assert_eq!(time_info(1.5), json!({"nanoseconds": 1_500_000_000i64}));
    }
}
