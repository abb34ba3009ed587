//! `/tasks`, `/frameworks`, `/slaves` and `/roles`, as Mesos's master
//! answers them (its field names; the same views as `/state`, filtered by
//! the same `--acls`).
//!
//! - `/tasks?limit=&offset=&order=&framework_id=&task_id=`:
//!   `{"tasks": [...]}`, the active, unreachable and completed tasks of the
//!   registered and completed frameworks, sorted by their first status's
//!   timestamp (`order=asc`, else descending: Mesos's default), then
//!   `limit` (default 100) from `offset` (default 0). A bad number is a
//!   400 (Mesos falls back to the default silently).
//! - `/frameworks?framework_id=`: `{"frameworks", "completed_frameworks",
//!   "unregistered_frameworks"}`.
//! - `/slaves?slave_id=`: `{"slaves", "recovered_slaves"}` (the slaves a
//!   newly elected master expects back, from the registry).
//! - `/roles`: `{"roles": [...]}`, one per role a registered framework
//!   uses, with its weight (rmesos has no `--weights`: Mesos's default 1),
//!   its frameworks, and what they are allocated and offered. rmesos has
//!   no quota nor reservations: those are empty, as Mesos shows a role
//!   without them.

use std::collections::BTreeMap;

use actix::Context;
use libprocess::{Request, Response};
use rmesos::{FrameworkID, Resources, Task};
use serde_json::json;

use rmesos::auth::acls::Action as AclAction;

use super::views::{framework_json, slave_json, task_json, Viewer};
use super::{bad_request, readonly};
use crate::core::Framework;
use crate::process::MasterProcess;

/// `/tasks`'s default `limit` (Mesos's `TASK_LIMIT`).
pub const TASK_LIMIT: usize = 100;

fn number(req: &Request, name: &str, default: usize) -> Result<usize, Response> {
    match req.query(name) {
        None => Ok(default),
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            bad_request(req, format!("'{name}' must be a non-negative integer, not '{}'", v.escape_debug()))
        }),
    }
}

/// The first status's timestamp: Mesos's sort key for `/tasks` (tasks
/// without a status sort first ascending, last descending).
fn first_timestamp(t: &Task) -> Option<f64> {
    t.statuses.first().map(|s| s.timestamp.unwrap_or(0.0))
}

pub(super) fn tasks(m: &mut MasterProcess, req: Request, _: &mut Context<MasterProcess>) -> Response {
    let principal = match readonly(m, &req) {
        Ok(p) => p,
        Err(denied) => return denied,
    };
    let (limit, offset) = match (number(&req, "limit", TASK_LIMIT), number(&req, "offset", 0)) {
        (Ok(l), Ok(o)) => (l, o),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let ascending = req.query("order") == Some("asc");
    let (fid, tid) = (req.query("framework_id"), req.query("task_id"));
    let viewer = Viewer { acls: &m.opts.acls, principal };
    let core = &m.core;
    let mut tasks: Vec<&Task> = core
        .frameworks()
        .chain(core.completed_frameworks())
        .filter(|f| fid.is_none_or(|id| f.id.as_str() == id))
        .filter(|f| viewer.sees(AclAction::ViewFrameworks, f) && viewer.sees(AclAction::ViewTasks, f))
        .flat_map(|f| f.tasks.values().chain(f.completed_tasks.iter()))
        .filter(|t| tid.is_none_or(|id| t.task_id.as_str() == id))
        .collect();
    // Ties (and the order of tasks with equal timestamps) by id, so that
    // paging is stable.
    tasks.sort_by(|a, b| a.task_id.cmp(&b.task_id).then(a.framework_id.cmp(&b.framework_id)));
    tasks.sort_by(|a, b| {
        let (x, y) = (first_timestamp(a), first_timestamp(b));
        let o = x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
        if ascending {
            o
        } else {
            o.reverse()
        }
    });
    let page: Vec<_> = tasks.into_iter().skip(offset).take(limit).map(task_json).collect();
    Response::json(&json!({ "tasks": page }))
}

fn sorted<'a>(it: impl Iterator<Item = &'a Framework>) -> Vec<&'a Framework> {
    let mut v: Vec<&Framework> = it.collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

pub(super) fn frameworks(m: &mut MasterProcess, req: Request, _: &mut Context<MasterProcess>) -> Response {
    let principal = match readonly(m, &req) {
        Ok(p) => p,
        Err(denied) => return denied,
    };
    let fid = req.query("framework_id");
    let viewer = Viewer { acls: &m.opts.acls, principal };
    let core = &m.core;
    let pick = |f: &&Framework| fid.is_none_or(|id| f.id.as_str() == id) && viewer.sees(AclAction::ViewFrameworks, f);
    let active: Vec<_> =
        sorted(core.frameworks()).into_iter().filter(pick).map(|f| framework_json(core, f, &viewer)).collect();
    let completed: Vec<_> =
        core.completed_frameworks().filter(pick).map(|f| framework_json(core, f, &viewer)).collect();
    Response::json(&json!({
        "frameworks": active,
        "completed_frameworks": completed,
        "unregistered_frameworks": [],
    }))
}

pub(super) fn slaves(m: &mut MasterProcess, req: Request, _: &mut Context<MasterProcess>) -> Response {
    if let Err(denied) = readonly(m, &req) {
        return denied;
    }
    let sid = req.query("slave_id");
    let core = &m.core;
    let mut slaves: Vec<_> = core.slaves().filter(|s| sid.is_none_or(|id| s.id.as_str() == id)).collect();
    slaves.sort_by(|a, b| a.id.cmp(&b.id));
    let mut recovered: Vec<_> = core
        .recovered_slaves()
        .filter(|(id, _)| sid.is_none_or(|want| id.as_str() == want))
        .map(|(id, info)| {
            json!({
                "id": id,
                "hostname": info.hostname,
                "port": info.port,
                "resources": info.resources,
                "attributes": info.attributes,
            })
        })
        .collect();
    recovered.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    let slaves: Vec<_> = slaves.into_iter().map(slave_json).collect();
    Response::json(&json!({ "slaves": slaves, "recovered_slaves": recovered }))
}

/// Mesos's weight of a role with none set.
const DEFAULT_WEIGHT: f64 = 1.0;

pub(super) fn roles(m: &mut MasterProcess, req: Request, _: &mut Context<MasterProcess>) -> Response {
    let principal = match readonly(m, &req) {
        Ok(p) => p,
        Err(denied) => return denied,
    };
    let acls = &m.opts.acls;
    let mut roles: BTreeMap<&str, (Vec<&FrameworkID>, Resources, Resources)> = BTreeMap::new();
    for f in m.core.frameworks() {
        let r = roles.entry(f.info.role.as_str()).or_default();
        r.0.push(&f.id);
        r.1 += &f.used;
        r.2 += &f.offered;
    }
    let roles: Vec<_> = roles
        .into_iter()
        .filter(|(name, _)| acls.allows(AclAction::ViewRoles, principal.as_deref(), Some(name)))
        .map(|(name, (mut frameworks, allocated, offered))| {
            frameworks.sort();
            json!({
                "name": name,
                "weight": DEFAULT_WEIGHT,
                "quota": {"role": name, "guarantee": {}, "limit": {}, "consumed": {}},
                "resources": &allocated + &offered,
                "allocated": allocated,
                "offered": offered,
                "reserved": {},
                "frameworks": frameworks,
            })
        })
        .collect();
    Response::json(&json!({ "roles": roles }))
}
