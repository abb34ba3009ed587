//! The JSON views of tasks, frameworks and slaves that `/state`,
//! `/tasks`, `/frameworks` and `/slaves` share (Mesos's field names), and
//! the [`Viewer`] whose `--acls` decide what each shows.
//!
//! They are serialized straight from these borrowed views rather than
//! through a `serde_json::Value` tree: with 10,000 slaves x 10 tasks,
//! building and dropping the tree cost ~800 ms of the ~950 ms of `/state`
//! (measured by `rmesos-bench`, `state_json_ms_a10000_t10`). The small parts
//! stay `json!` maps, flattened in.

use rmesos::{Attributes, FrameworkID, Resources, SlaveID, Task, TaskID, TaskState, TaskStatus};
use serde::Serialize;
use serde_json::{json, Value};

use rmesos::auth::acls::Action as AclAction;
use rmesos::auth::Acls;

use crate::core::{Framework, MasterCore, Slave};

/// Who reads `/state`, and what the ACLs let them see.
pub(super) struct Viewer<'a> {
    pub acls: &'a Acls,
    pub principal: Option<String>,
}

impl Viewer<'_> {
    pub fn sees(&self, action: AclAction, f: &Framework) -> bool {
        self.acls.allows(action, self.principal.as_deref(), Some(&f.info.user))
    }
}

#[derive(Serialize)]
pub(super) struct TaskView<'a> {
    id: &'a TaskID,
    name: &'a str,
    framework_id: &'a FrameworkID,
    executor_id: &'a str,
    slave_id: &'a SlaveID,
    state: TaskState,
    resources: &'a Resources,
    statuses: &'a [TaskStatus],
}

pub(super) fn task_json(t: &Task) -> TaskView<'_> {
    TaskView {
        id: &t.task_id,
        name: &t.name,
        framework_id: &t.framework_id,
        executor_id: t.executor_id.as_ref().map(|e| e.as_str()).unwrap_or(""),
        slave_id: &t.slave_id,
        state: t.state,
        resources: &t.resources,
        statuses: &t.statuses,
    }
}

#[derive(Serialize)]
pub(super) struct FrameworkView<'a> {
    #[serde(flatten)]
    head: Value,
    tasks: Vec<TaskView<'a>>,
    completed_tasks: Vec<TaskView<'a>>,
    unreachable_tasks: Vec<TaskView<'a>>,
}

pub(super) fn framework_json<'a>(core: &MasterCore, f: &'a Framework, viewer: &Viewer) -> FrameworkView<'a> {
    let tasks_visible = viewer.sees(AclAction::ViewTasks, f);
    let executors_visible = viewer.sees(AclAction::ViewExecutors, f);
    let mut tasks: Vec<&Task> = f.tasks.values().filter(|_| tasks_visible).collect();
    tasks.sort_by(|a, b| a.task_id.cmp(&b.task_id));
    let mut offers: Vec<Value> = f
        .offers
        .iter()
        .filter_map(|id| core.offer(id))
        .map(|o| json!({"id": o.id, "framework_id": o.framework_id, "slave_id": o.slave_id, "resources": o.resources}))
        .collect();
    offers.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    let executors: Vec<Value> = f
        .executors
        .iter()
        .filter(|_| executors_visible)
        .flat_map(|(sid, m)| {
            m.values().map(move |e| json!({"executor_id": e.executor_id, "slave_id": sid, "resources": e.resources}))
        })
        .collect();
    let head = json!({
        "id": f.id,
        "name": f.info.name,
        "pid": f.pid.as_ref().map(|p| p.to_string()),
        "user": f.info.user,
        "role": f.info.role,
        "hostname": f.info.hostname.clone().unwrap_or_default(),
        "webui_url": f.info.webui_url.clone().unwrap_or_default(),
        "active": f.active,
        "connected": f.connected,
        "recovered": f.pid.is_none() && f.unregistered_time.is_none(),
        "checkpoint": f.info.checkpoint,
        "failover_timeout": f.info.failover_timeout,
        "capabilities": f.info.capabilities,
        "registered_time": f.registered_time,
        "reregistered_time": f.reregistered_time,
        "unregistered_time": f.unregistered_time.unwrap_or(0.0),
        "resources": &f.used + &f.offered,
        "used_resources": f.used,
        "offered_resources": f.offered,
        "offers": offers,
        "executors": executors,
    });
    FrameworkView {
        head,
        tasks: tasks.into_iter().map(task_json).collect(),
        completed_tasks: f.completed_tasks.iter().filter(|_| tasks_visible).map(task_json).collect(),
        unreachable_tasks: f
            .completed_tasks
            .iter()
            .filter(|t| tasks_visible && t.state == TaskState::Unreachable)
            .map(task_json)
            .collect(),
    }
}

#[derive(Serialize)]
pub(super) struct SlaveView<'a> {
    id: &'a SlaveID,
    pid: String,
    hostname: &'a str,
    port: u32,
    resources: &'a Resources,
    used_resources: &'a Resources,
    offered_resources: &'a Resources,
    /// Every resource is unreserved (role "*") in rmesos.
    unreserved_resources: &'a Resources,
    attributes: &'a Attributes,
    registered_time: f64,
    reregistered_time: Option<f64>,
    active: bool,
    connected: bool,
    version: &'a str,
}

pub(super) fn slave_json(s: &Slave) -> SlaveView<'_> {
    SlaveView {
        id: &s.id,
        pid: s.pid.to_string(),
        hostname: &s.info.hostname,
        port: s.info.port,
        resources: &s.info.resources,
        used_resources: &s.used,
        offered_resources: &s.offered,
        unreserved_resources: &s.info.resources,
        attributes: &s.info.attributes,
        registered_time: s.registered_time,
        reregistered_time: s.reregistered_time,
        active: s.active,
        connected: s.connected,
        version: s.version.as_deref().unwrap_or_default(),
    }
}
