//! `/state` (the whole cluster, Mesos's `/master/state` field names) and
//! `/state-summary` (Mesos's: slaves and frameworks without their tasks,
//! each with its task counts by state and the ids of the other side).
//!
//! On a standby, `/state` shows the leader it knows (`leader`,
//! `leader_info`, absent while none) and an empty cluster.
//!
//! `--acls`: only the frameworks the HTTP principal may see
//! (`view_frameworks` on the framework's user) and, of those, only the
//! tasks it may see (`view_tasks`, on the framework's user: rmesos's
//! `Task` does not keep a per-task user, so a task whose command names
//! another user is judged by its framework's).

use std::collections::{BTreeMap, BTreeSet};

use actix::Context;
use libprocess::{Request, Response};
use rmesos::{format_duration, FrameworkID, SlaveID, TaskState};
use serde::Serialize;
use serde_json::{json, Value};

use rmesos::auth::acls::Action as AclAction;

use super::readonly;
use super::views::{framework_json, slave_json, FrameworkView, SlaveView, Viewer};
use crate::core::{Framework, Slave};
use crate::process::MasterProcess;

pub(super) fn state(m: &mut MasterProcess, req: Request, _: &mut Context<MasterProcess>) -> Response {
    match readonly(m, &req) {
        Ok(principal) => Response::json(&state_json(m, &Viewer { acls: &m.opts.acls, principal })),
        Err(denied) => denied,
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

/// The task states Mesos's `/state-summary` counts, in its order.
const SUMMARY_STATES: [TaskState; 10] = [
    TaskState::Staging,
    TaskState::Starting,
    TaskState::Running,
    TaskState::Killing,
    TaskState::Finished,
    TaskState::Killed,
    TaskState::Failed,
    TaskState::Lost,
    TaskState::Error,
    TaskState::Unreachable,
];

/// Task counts by state (`"TASK_RUNNING": 3`, every state of
/// [`SUMMARY_STATES`], zeros included, as Mesos).
type Counts = BTreeMap<&'static str, u64>;

fn zero_counts() -> Counts {
    SUMMARY_STATES.iter().map(|s| (s.as_str(), 0)).collect()
}

#[derive(Serialize)]
struct SummarySlave<'a> {
    #[serde(flatten)]
    slave: SlaveView<'a>,
    #[serde(flatten)]
    counts: Counts,
    framework_ids: BTreeSet<&'a FrameworkID>,
}

#[derive(Serialize)]
struct SummaryFramework<'a> {
    id: &'a FrameworkID,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<String>,
    used_resources: &'a rmesos::Resources,
    offered_resources: &'a rmesos::Resources,
    capabilities: &'a Vec<rmesos::info::FrameworkCapability>,
    hostname: &'a str,
    webui_url: &'a str,
    active: bool,
    connected: bool,
    recovered: bool,
    #[serde(flatten)]
    counts: Counts,
    slave_ids: BTreeSet<&'a SlaveID>,
}

#[derive(Serialize)]
struct Summary<'a> {
    hostname: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a str>,
    slaves: Vec<SummarySlave<'a>>,
    frameworks: Vec<SummaryFramework<'a>>,
}

pub(super) fn summary(m: &mut MasterProcess, req: Request, _: &mut Context<MasterProcess>) -> Response {
    match readonly(m, &req) {
        Ok(principal) => Response::json(&summary_json(m, &Viewer { acls: &m.opts.acls, principal })),
        Err(denied) => denied,
    }
}

/// As Mesos: the counts and the slave-framework links come from every
/// registered framework's tasks (active, completed and unreachable); the
/// ACLs hide frameworks, not their counts on a slave.
fn summary_json<'a>(m: &'a MasterProcess, viewer: &Viewer) -> Summary<'a> {
    let core = &m.core;
    let mut by_slave: BTreeMap<&SlaveID, (Counts, BTreeSet<&FrameworkID>)> = BTreeMap::new();
    let mut by_framework: BTreeMap<&FrameworkID, (Counts, BTreeSet<&SlaveID>)> = BTreeMap::new();
    for f in core.frameworks() {
        let fw = by_framework.entry(&f.id).or_insert_with(|| (zero_counts(), BTreeSet::new()));
        for t in f.tasks.values().chain(f.completed_tasks.iter()) {
            let sl = by_slave.entry(&t.slave_id).or_insert_with(|| (zero_counts(), BTreeSet::new()));
            if let Some(n) = fw.0.get_mut(t.state.as_str()) {
                *n += 1;
                *sl.0.get_mut(t.state.as_str()).expect("same states") += 1;
            }
            if !t.state.is_terminal() {
                fw.1.insert(&t.slave_id);
                sl.1.insert(&f.id);
            }
        }
    }
    let mut slaves: Vec<&Slave> = core.slaves().collect();
    slaves.sort_by(|a, b| a.id.cmp(&b.id));
    let mut frameworks: Vec<&Framework> = core.frameworks().collect();
    frameworks.sort_by(|a, b| a.id.cmp(&b.id));
    Summary {
        hostname: core.info().hostname.as_deref().unwrap_or_default(),
        cluster: m.opts.cluster.as_deref(),
        slaves: slaves
            .into_iter()
            .map(|s| {
                let (counts, framework_ids) =
                    by_slave.remove(&s.id).unwrap_or_else(|| (zero_counts(), BTreeSet::new()));
                SummarySlave { slave: slave_json(s), counts, framework_ids }
            })
            .collect(),
        frameworks: frameworks
            .into_iter()
            .filter(|f| viewer.sees(AclAction::ViewFrameworks, f))
            .map(|f| {
                let (counts, slave_ids) =
                    by_framework.remove(&f.id).unwrap_or_else(|| (zero_counts(), BTreeSet::new()));
                SummaryFramework {
                    id: &f.id,
                    name: &f.info.name,
                    pid: f.pid.as_ref().map(|p| p.to_string()),
                    used_resources: &f.used,
                    offered_resources: &f.offered,
                    capabilities: &f.info.capabilities,
                    hostname: f.info.hostname.as_deref().unwrap_or_default(),
                    webui_url: f.info.webui_url.as_deref().unwrap_or_default(),
                    active: f.active,
                    connected: f.connected,
                    recovered: f.pid.is_none() && f.unregistered_time.is_none(),
                    counts,
                    slave_ids,
                }
            })
            .collect(),
    }
}
