//! `/metrics/snapshot`: a flat JSON map of Mesos's master gauges and
//! counters (docs/monitoring.md's names, for what rmesos has:
//! `master/slaves_active`, `master/tasks_running`, `master/cpus_used`, ...),
//! the allocator's totals (`allocator/mesos/resources/<name>/...`), the
//! machine (`system/cpus_total`, `system/mem_*_bytes`) and the node's
//! libprocess counters (`libprocess/...`). 403 unless `get_endpoints` in
//! `--acls` allows the path.

use actix::Context;
use libprocess::{Request, Response};
use rmesos::{Resources, TaskState};
use serde_json::{json, Map, Value};

use rmesos::auth::acls::Action as AclAction;

use super::{forbidden, readonly};
use crate::leader::Role;
use crate::process::MasterProcess;

pub(super) fn metrics(m: &mut MasterProcess, req: Request, _: &mut Context<MasterProcess>) -> Response {
    let principal = match readonly(m, &req) {
        Ok(p) => p,
        Err(denied) => return denied,
    };
    if !m.opts.acls.allows(AclAction::GetEndpoints, principal.as_deref(), Some("/metrics/snapshot")) {
        return forbidden(&req, &principal, "get_endpoints");
    }
    Response::json(&metrics_json(m))
}

/// `MemTotal` and `MemAvailable` of /proc/meminfo, in bytes.
fn meminfo() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024.0)
    };
    Some((field("MemTotal:")?, field("MemAvailable:")?))
}

pub(crate) fn metrics_json(m: &MasterProcess) -> Value {
    let core = &m.core;
    let mut out = Map::new();
    let mut put = |k: &str, v: f64| {
        out.insert(k.to_string(), json!(v));
    };
    put("master/elected", if m.ha.role() == Role::Leading { 1.0 } else { 0.0 });
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
    for name in ["cpus", "mem", "disk", "gpus"] {
        let (t, u) = (total.scalar(name).as_f64(), used.scalar(name).as_f64());
        put(&format!("master/{name}_total"), t);
        put(&format!("master/{name}_used"), u);
        put(&format!("master/{name}_percent"), if t > 0.0 { u / t } else { 0.0 });
        if name != "gpus" {
            put(&format!("allocator/mesos/resources/{name}/total"), t);
            put(&format!("allocator/mesos/resources/{name}/offered_or_allocated"), u);
        }
    }
    if let Ok(n) = std::thread::available_parallelism() {
        put("system/cpus_total", n.get() as f64);
    }
    if let Some((total, free)) = meminfo() {
        put("system/mem_total_bytes", total);
        put("system/mem_free_bytes", free);
    }
    for (name, v) in m.me.node().metrics().snapshot() {
        put(&format!("libprocess/{name}"), v as f64);
    }
    Value::Object(out)
}
