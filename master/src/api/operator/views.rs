//! The master's state as `master.proto`'s `Response` messages describe it
//! (GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS, GET_ROLES,
//! GET_STATE), read from the core and decided nowhere else. Every list is in
//! id order, so two reads of the same state are the same bytes.

use std::collections::BTreeMap;

use rmesos::v1::json::*;
use rmesos::v1::master::time_info;
use rmesos::v1::state::task_json;
use rmesos::{Resources, Task, TaskState};
use serde_json::{json, Value};

use crate::core::{Framework, MasterCore, Slave};

/// `Response.GetAgents.Agent`.
pub(crate) fn agent(s: &Slave) -> Value {
    let mut info = agent_info_json(&s.info);
    info["id"] = agent_id_json(&s.id);
    let mut o = json!({
        "agent_info": info,
        "active": s.active,
        "version": s.version.as_deref().unwrap_or_default(),
        "pid": s.pid.to_string(),
        "registered_time": time_info(s.registered_time),
        "total_resources": resources_json(&s.info.resources),
        "allocated_resources": resources_json(&s.used),
        "offered_resources": resources_json(&s.offered),
    });
    if let Some(t) = s.reregistered_time {
        o["reregistered_time"] = time_info(t);
    }
    o
}

/// `Response.GetFrameworks.Framework`.
pub(crate) fn framework(core: &MasterCore, f: &Framework) -> Value {
    let mut info = framework_info_json(&f.info);
    info["id"] = framework_id_json(&f.id);
    // `offers` is a BTreeSet: id order already.
    let offers: Vec<Value> = f.offers.iter().filter_map(|id| core.offer(id)).map(offer_json).collect();
    let mut o = json!({
        "framework_info": info,
        "active": f.active,
        "connected": f.connected,
        "recovered": f.pid.is_none() && f.unregistered_time.is_none(),
        "registered_time": time_info(f.registered_time),
        "offers": offers,
        "inverse_offers": [],
        "allocated_resources": resources_json(&f.used),
        "offered_resources": resources_json(&f.offered),
    });
    if let Some(t) = f.reregistered_time {
        o["reregistered_time"] = time_info(t);
    }
    if let Some(t) = f.unregistered_time {
        o["unregistered_time"] = time_info(t);
    }
    o
}

fn sorted_frameworks(core: &MasterCore) -> Vec<&Framework> {
    let mut fws: Vec<&Framework> = core.frameworks().collect();
    fws.sort_by(|a, b| a.id.cmp(&b.id));
    fws
}

/// `Response.GetAgents`: registered agents and those recovered from the
/// registry that have not reregistered yet.
pub(crate) fn get_agents(core: &MasterCore) -> Value {
    let mut slaves: Vec<&Slave> = core.slaves().collect();
    slaves.sort_by(|a, b| a.id.cmp(&b.id));
    let agents: Vec<Value> = slaves.into_iter().map(agent).collect();
    let recovered: Vec<Value> = core.recovered_slaves().map(|(_, info)| agent_info_json(info)).collect();
    json!({"agents": agents, "recovered_agents": recovered})
}

/// `Response.GetFrameworks`.
pub(crate) fn get_frameworks(core: &MasterCore) -> Value {
    let frameworks: Vec<Value> = sorted_frameworks(core).into_iter().map(|f| framework(core, f)).collect();
    let completed: Vec<Value> = core.completed_frameworks().map(|f| framework(core, f)).collect();
    json!({"frameworks": frameworks, "completed_frameworks": completed})
}

/// `Response.GetExecutors`: the executors the agents run.
pub(crate) fn get_executors(core: &MasterCore) -> Value {
    let mut all = Vec::new();
    for s in core.slaves() {
        for (fid, execs) in &s.executors {
            for e in execs.values() {
                all.push((&s.id, fid, e));
            }
        }
    }
    all.sort_by(|a, b| (a.0, a.1, &a.2.executor_id).cmp(&(b.0, b.1, &b.2.executor_id)));
    let executors: Vec<Value> = all
        .into_iter()
        .map(|(sid, fid, e)| {
            let mut info = executor_info_json(e);
            info["framework_id"] = framework_id_json(fid);
            json!({"executor_info": info, "agent_id": agent_id_json(sid)})
        })
        .collect();
    json!({ "executors": executors })
}

/// `Response.GetTasks`: live (and ended, not yet acknowledged) tasks,
/// unreachable ones, and completed ones (also those of removed frameworks).
pub(crate) fn get_tasks(core: &MasterCore) -> Value {
    let (mut tasks, mut unreachable, mut completed) = (Vec::new(), Vec::new(), Vec::new());
    for f in sorted_frameworks(core) {
        let mut live: Vec<&Task> = f.tasks.values().collect();
        live.sort_by(|a, b| a.task_id.cmp(&b.task_id));
        tasks.extend(live.into_iter().map(task_json));
        for t in &f.completed_tasks {
            match t.state {
                TaskState::Unreachable => unreachable.push(task_json(t)),
                _ => completed.push(task_json(t)),
            }
        }
    }
    for f in core.completed_frameworks() {
        completed.extend(f.completed_tasks.iter().map(task_json));
    }
    json!({"tasks": tasks, "unreachable_tasks": unreachable, "completed_tasks": completed})
}

/// `Response.GetRoles`: the roles frameworks are registered in. rmesos's
/// DRF gives every role the same weight (1) and has no reservations.
pub(crate) fn get_roles(core: &MasterCore) -> Value {
    let mut roles: BTreeMap<&str, (Vec<Value>, Resources, Resources)> = BTreeMap::new();
    for f in sorted_frameworks(core) {
        let r = roles.entry(f.info.role.as_str()).or_default();
        r.0.push(framework_id_json(&f.id));
        r.1 += &f.used;
        r.2 += &f.offered;
    }
    let roles: Vec<Value> = roles
        .into_iter()
        .map(|(name, (frameworks, allocated, offered))| {
            json!({
                "name": name,
                "weight": 1.0,
                "frameworks": frameworks,
                "resources": resources_json(&allocated),
                "allocated": resources_json(&allocated),
                "offered": resources_json(&offered),
                "reserved": [],
            })
        })
        .collect();
    json!({ "roles": roles })
}

/// `Response.GetState`: the four above in one (also the SUBSCRIBED event's).
pub(crate) fn get_state(core: &MasterCore) -> Value {
    json!({
        "get_tasks": get_tasks(core),
        "get_executors": get_executors(core),
        "get_frameworks": get_frameworks(core),
        "get_agents": get_agents(core),
    })
}
