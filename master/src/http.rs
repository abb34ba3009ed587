//! The master's operator endpoints, on the master process (`/master/<route>`)
//! and, the master being its node's default HTTP process, at `/<route>`:
//! - `/state`: the cluster as JSON, with Mesos's `/master/state` field names;
//! - `/health`: 200 while the master runs;
//! - `/metrics/snapshot`: a flat JSON map of Mesos-style gauges and counters
//!   (`master/slaves_active`, `master/tasks_running`, ...) plus the node's
//!   libprocess counters (`libprocess/...`);
//! - `/redirect`: 307 to the leader's `http://ip:port` (this master when it
//!   leads or is standalone; the detected leader for a standby; 503 while no
//!   leader is known). The advertised IP is used rather than the hostname,
//!   which may not resolve for the client.
//!
//! On a standby, `/state` shows the leader it knows (`leader`, `leader_info`,
//! absent while none) and an empty cluster.
//!
//! Authorization (`--acls`), as Mesos's master: `/state` shows only the
//! frameworks the HTTP principal may see (`view_frameworks` on the
//! framework's user) and, of those, only the tasks it may see (`view_tasks`,
//! on the framework's user: rmesos's `Task` does not keep a per-task user,
//! so a task whose command names another user is judged by its
//! framework's); `/metrics/snapshot` answers 403 unless `get_endpoints`
//! allows the path. The principal is the one HTTP Basic authenticated
//! (`--authenticate_http_readonly`), else none (subject ANY).

use actix::Context;
use libprocess::{Handlers, Request, Response};
use rmesos::{format_duration, Attributes, FrameworkID, Resources, SlaveID, Task, TaskID, TaskState, TaskStatus};
use serde::Serialize;
use serde_json::{json, Map, Value};

use rmesos::auth::acls::Action as AclAction;
use rmesos::auth::http_basic::{self, Kind};
use rmesos::auth::Acls;

use crate::core::{Framework, MasterCore, Slave};
use crate::process::MasterProcess;

pub(crate) fn install(h: &mut Handlers<MasterProcess>) {
    h.route("state", state).route("health", health).route("metrics/snapshot", metrics).route("redirect", redirect);
}

fn health(_: &mut MasterProcess, _: Request, _: &mut Context<MasterProcess>) -> Response {
    Response::ok()
}

fn redirect(m: &mut MasterProcess, _: Request, _: &mut Context<MasterProcess>) -> Response {
    match m.ha.leader().map(|l| l.pid()) {
        Some(Ok(pid)) => Response::redirect(&format!("http://{}", pid.addr())),
        Some(Err(e)) => Response::text(503, format!("the detected leader has no usable address: {e}\n")),
        None => Response::text(503, "no leading master detected\n"),
    }
}

/// `--authenticate_http_readonly`: the principal of `req` (None when not
/// asked for), or the 401 to answer it with.
fn readonly(m: &MasterProcess, req: &Request) -> Result<Option<String>, Response> {
    m.opts.http_auth.check(Kind::ReadOnly, http_basic::MASTER_READONLY, req)
}

fn state(m: &mut MasterProcess, req: Request, _: &mut Context<MasterProcess>) -> Response {
    match readonly(m, &req) {
        Ok(principal) => Response::json(&state_json(m, &Viewer { acls: &m.opts.acls, principal })),
        Err(denied) => denied,
    }
}

fn metrics(m: &mut MasterProcess, req: Request, _: &mut Context<MasterProcess>) -> Response {
    let principal = match readonly(m, &req) {
        Ok(p) => p,
        Err(denied) => return denied,
    };
    if !m.opts.acls.allows(AclAction::GetEndpoints, principal.as_deref(), Some("/metrics/snapshot")) {
        tracing::warn!(remote = ?req.remote, ?principal, "GET /metrics/snapshot forbidden by --acls (get_endpoints)");
        return Response::text(403, "403 Forbidden: not authorized to GET /metrics/snapshot (get_endpoints)\n");
    }
    Response::json(&metrics_json(m))
}

/// Who reads `/state`, and what the ACLs let them see.
struct Viewer<'a> {
    acls: &'a Acls,
    principal: Option<String>,
}

impl Viewer<'_> {
    fn sees(&self, action: AclAction, f: &Framework) -> bool {
        self.acls.allows(action, self.principal.as_deref(), Some(&f.info.user))
    }
}

// `/state` is serialized straight from these borrowed views rather than
// through a `serde_json::Value` tree: with 10,000 slaves x 10 tasks, building
// and dropping the tree cost ~800 ms of the ~950 ms (measured by
// `rmesos-bench`, `state_json_ms_a10000_t10`). The small parts stay `json!`
// maps, flattened in.

#[derive(Serialize)]
struct TaskView<'a> {
    id: &'a TaskID,
    name: &'a str,
    framework_id: &'a FrameworkID,
    executor_id: &'a str,
    slave_id: &'a SlaveID,
    state: TaskState,
    resources: &'a Resources,
    statuses: &'a [TaskStatus],
}

fn task_json(t: &Task) -> TaskView<'_> {
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
struct FrameworkView<'a> {
    #[serde(flatten)]
    head: Value,
    tasks: Vec<TaskView<'a>>,
    completed_tasks: Vec<TaskView<'a>>,
    unreachable_tasks: Vec<TaskView<'a>>,
}

fn framework_json<'a>(core: &MasterCore, f: &'a Framework, viewer: &Viewer) -> FrameworkView<'a> {
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
struct SlaveView<'a> {
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

fn slave_json(s: &Slave) -> SlaveView<'_> {
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

#[derive(Serialize)]
struct StateView<'a> {
    #[serde(flatten)]
    head: Value,
    slaves: Vec<SlaveView<'a>>,
    frameworks: Vec<FrameworkView<'a>>,
    completed_frameworks: Vec<FrameworkView<'a>>,
}

fn state_json<'a>(m: &'a MasterProcess, viewer: &Viewer) -> StateView<'a> {
    let core = &m.core;
    let info = core.info();
    let start_time = core.wall(m.started);
    let mut slaves: Vec<&Slave> = core.slaves().collect();
    slaves.sort_by(|a, b| a.id.cmp(&b.id));
    let mut frameworks: Vec<&Framework> = core.frameworks().collect();
    frameworks.sort_by(|a, b| a.id.cmp(&b.id));
    let activated = slaves.iter().filter(|s| s.active).count();
    let o = &m.opts;
    let head = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "id": info.id,
        "pid": m.me.pid().to_string(),
        "hostname": info.hostname,
        "start_time": start_time,
        "elected_time": m.ha.elected_at().map(|t| core.wall(t)),
        "leader": m.ha.leader().and_then(|l| l.pid.clone()),
        "leader_info": m.ha.leader(),
        "cluster": o.cluster,
        "activated_slaves": activated,
        "deactivated_slaves": slaves.len() - activated,
        "unreachable_slaves": core.unreachable_count(),
        "flags": {
            "allocation_interval": format_duration(o.allocation_interval),
            "agent_ping_timeout": format_duration(o.agent_ping_timeout),
            "max_agent_ping_timeouts": o.max_agent_ping_timeouts.to_string(),
            "agent_reregister_timeout": format_duration(o.agent_reregister_timeout),
            "hostname": info.hostname,
        },
        "orphan_tasks": [],
        "unregistered_frameworks": [],
    });
    StateView {
        head,
        slaves: slaves.into_iter().map(slave_json).collect(),
        frameworks: frameworks
            .into_iter()
            .filter(|f| viewer.sees(AclAction::ViewFrameworks, f))
            .map(|f| framework_json(core, f, viewer))
            .collect(),
        completed_frameworks: core
            .completed_frameworks()
            .filter(|f| viewer.sees(AclAction::ViewFrameworks, f))
            .map(|f| framework_json(core, f, viewer))
            .collect(),
    }
}

fn metrics_json(m: &MasterProcess) -> Value {
    let core = &m.core;
    let mut out = Map::new();
    let mut put = |k: &str, v: f64| {
        out.insert(k.to_string(), json!(v));
    };
    put("master/elected", 1.0);
    put("master/uptime_secs", m.now().saturating_since(m.started).as_secs_f64());
    let (mut active, mut connected, mut slaves) = (0, 0, 0);
    let (mut total, mut used) = (Resources::new(), Resources::new());
    for s in core.slaves() {
        slaves += 1;
        active += usize::from(s.active);
        connected += usize::from(s.connected);
        total += &s.info.resources;
        used += &s.used;
        used += &s.offered;
    }
    put("master/slaves_active", active as f64);
    put("master/slaves_inactive", (slaves - active) as f64);
    put("master/slaves_connected", connected as f64);
    put("master/slaves_disconnected", (slaves - connected) as f64);
    put("master/slaves_unreachable", core.unreachable_count() as f64);
    let (mut fa, mut fc, mut fws) = (0, 0, 0);
    let mut by_state = std::collections::HashMap::new();
    for f in core.frameworks() {
        fws += 1;
        fa += usize::from(f.active);
        fc += usize::from(f.connected);
        for t in f.tasks.values() {
            *by_state.entry(t.state).or_insert(0u64) += 1;
        }
        for t in f.completed_tasks.iter().filter(|t| t.state == TaskState::Unreachable) {
            *by_state.entry(t.state).or_insert(0u64) += 1;
        }
    }
    put("master/frameworks_active", fa as f64);
    put("master/frameworks_inactive", (fws - fa) as f64);
    put("master/frameworks_connected", fc as f64);
    put("master/frameworks_disconnected", (fws - fc) as f64);
    put("master/outstanding_offers", core.offer_count() as f64);
    for (name, state) in [
        ("staging", TaskState::Staging),
        ("starting", TaskState::Starting),
        ("running", TaskState::Running),
        ("killing", TaskState::Killing),
        ("unreachable", TaskState::Unreachable),
    ] {
        put(&format!("master/tasks_{name}"), *by_state.get(&state).unwrap_or(&0) as f64);
    }
    let c = core.counters();
    for (name, v) in [
        ("tasks_finished", c.tasks_finished),
        ("tasks_failed", c.tasks_failed),
        ("tasks_killed", c.tasks_killed),
        ("tasks_error", c.tasks_error),
        ("tasks_lost", c.tasks_lost),
        ("tasks_dropped", c.tasks_dropped),
        ("tasks_gone", c.tasks_gone),
        ("slave_registrations", c.slave_registrations),
        ("slave_reregistrations", c.slave_reregistrations),
        ("slave_removals", c.slave_removals),
        ("frameworks_removed", c.frameworks_removed),
        ("valid_status_updates", c.valid_status_updates),
        ("invalid_status_updates", c.invalid_status_updates),
        ("valid_status_update_acknowledgements", c.valid_status_update_acknowledgements),
        ("invalid_status_update_acknowledgements", c.invalid_status_update_acknowledgements),
        ("offers_sent", c.offers_sent),
        ("offers_declined", c.offers_declined),
        ("offers_rescinded", c.offers_rescinded),
        ("tasks_launched", c.tasks_launched),
        ("dropped_messages", c.dropped_messages),
    ] {
        put(&format!("master/{name}"), v as f64);
    }
    for (name, get) in
        [("cpus", Resources::cpus as fn(&Resources) -> f64), ("mem", Resources::mem), ("disk", Resources::disk)]
    {
        let (t, u) = (get(&total), get(&used));
        put(&format!("master/{name}_total"), t);
        put(&format!("master/{name}_used"), u);
        put(&format!("master/{name}_percent"), if t > 0.0 { u / t } else { 0.0 });
    }
    for (name, v) in m.me.node().metrics().snapshot() {
        put(&format!("libprocess/{name}"), v as f64);
    }
    Value::Object(out)
}
