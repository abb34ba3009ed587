//! The JSON of `mesos.proto`'s `Task` (what the operator APIs answer in
//! GET_TASKS and carry in TASK_ADDED), from this crate's [`Task`].
//!
//! A status update the slave is still delivering shows as
//! `status_update_state` / `status_update_uuid`, as Mesos shows it; status
//! data is left out of `statuses` (Mesos clears it: it may be large and is
//! the framework's).

use serde_json::{json, Value};

use super::json::*;
use crate::task::Task;

pub fn task_json(t: &Task) -> Value {
    let statuses: Vec<Value> = t
        .statuses
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.data = None;
            task_status_json(&s)
        })
        .collect();
    let mut o = json!({
        "name": t.name,
        "task_id": task_id_json(&t.task_id),
        "framework_id": framework_id_json(&t.framework_id),
        "agent_id": agent_id_json(&t.slave_id),
        "state": t.state.to_string(),
        "resources": resources_json(&t.resources),
        "statuses": statuses,
    });
    if let Some(e) = &t.executor_id {
        o["executor_id"] = executor_id_json(e);
    }
    if let Some(s) = t.status_update_state {
        o["status_update_state"] = json!(s.to_string());
    }
    if let Some(u) = &t.status_update_uuid {
        o["status_update_uuid"] = b64(u.as_bytes());
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{FrameworkID, SlaveID, TaskID};
    use crate::resources::Resources;
    use crate::task::{TaskState, TaskStatus};

    #[test]
    fn a_task_as_mesos_proto_writes_it() {
        let mut status = TaskStatus::new(TaskID::new("t1").unwrap(), TaskState::Running);
        status.data = Some(b"big".to_vec());
        let t = Task {
            name: "web".into(),
            task_id: TaskID::new("t1").unwrap(),
            framework_id: FrameworkID::new("f1").unwrap(),
            executor_id: None,
            slave_id: SlaveID::new("s1").unwrap(),
            state: TaskState::Running,
            resources: Resources::parse("cpus:1").unwrap(),
            statuses: vec![status],
            status_update_state: Some(TaskState::Running),
            status_update_uuid: Some(uuid::Uuid::nil()),
        };
        let j = task_json(&t);
        assert_eq!(j["task_id"], json!({"value": "t1"}));
        assert_eq!(j["framework_id"], json!({"value": "f1"}));
        assert_eq!(j["agent_id"], json!({"value": "s1"}));
        assert_eq!(j["state"], "TASK_RUNNING");
        assert_eq!(j["resources"][0]["name"], "cpus");
        assert_eq!(j["statuses"][0]["state"], "TASK_RUNNING");
        assert!(j["statuses"][0].get("data").is_none(), "status data is the framework's: {j}");
        assert_eq!(j["status_update_state"], "TASK_RUNNING");
        assert_eq!(j["status_update_uuid"], "AAAAAAAAAAAAAAAAAAAAAA==");
        assert!(j.get("executor_id").is_none());
    }
}
