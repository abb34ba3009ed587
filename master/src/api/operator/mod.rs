//! `POST /api/v1` (and `/master/api/v1`): Mesos's v1 operator API (JSON),
//! a new way in onto the same core, beside `/state` and the scheduler API.
//!
//! Answers, as Mesos's master does:
//! - not the leader: `307` with `Location: //<leader ip:port>/api/v1`, or
//!   `503` while no leader is known;
//! - `--authenticate_http_readwrite` (the endpoint's realm,
//!   `mesos-master-readwrite`): `401` without valid credentials;
//! - not a POST: `405`; not JSON: `415`; an `Accept` JSON cannot meet:
//!   `406`; a malformed, unknown or unserved call: `400` with a one-line
//!   reason (and a log line);
//! - the GET_* calls: `200` and `{"type": <call>, "<call>": {..}}`
//!   (`views.rs` describes the state);
//! - SUBSCRIBE: `200`, chunked RecordIO events for as long as the client
//!   stays: SUBSCRIBED with the whole state, HEARTBEAT, then every change
//!   the core reports (`stream.rs`);
//! - TEARDOWN: `200` and the framework removed, `400` if it is unknown,
//!   `403` if `--acls` forbid it (`teardown_frameworks`); GET_FLAGS: `403`
//!   if they forbid `view_flags`.

mod stream;
pub(crate) mod views;

use actix::Context;
use libprocess::{Handlers, Request, Response};
use rmesos::auth::http_basic::{self, Kind};
use rmesos::v1::master::{parse_call, response, Call};
use serde_json::{json, Value};

use rmesos::auth::acls::Action as AclAction;

use crate::core::{Observed, Teardown};
use crate::process::MasterProcess;
pub use stream::{Watchers, HEARTBEAT_INTERVAL, MAX_OPERATOR_SUBSCRIBERS};

pub(crate) fn install(h: &mut Handlers<MasterProcess>) {
    h.route("api/v1", operator);
}

fn operator(m: &mut MasterProcess, req: Request, ctx: &mut Context<MasterProcess>) -> Response {
    if !m.serving() {
        return not_leading(m);
    }
    let principal = match m.opts.http_auth.check(Kind::ReadWrite, http_basic::MASTER_READWRITE, &req) {
        Ok(p) => p,
        Err(denied) => return denied,
    };
    if req.method != "POST" {
        return Response::text(405, format!("Expecting a 'POST' request, received '{}'\n", req.method))
            .with_header("allow", "POST");
    }
    if let Err((status, why)) = rmesos::v1::check_media_types(req.header("content-type"), req.header("accept")) {
        return refuse(&req, status, why);
    }
    let call = match parse_call(&req.body) {
        Ok(c) => c,
        Err(e) => return refuse(&req, 400, e.0),
    };
    tracing::info!("Processing operator call {}", call.name());
    let body = match &call {
        Call::Subscribe => return subscribe(m, ctx),
        Call::Teardown { framework_id } => {
            // The core decides (as for `/teardown`); a connected scheduler
            // hears "Framework has been removed" (an HTTP one's stream ends
            // after that ERROR).
            let now = m.now();
            return match m.core.teardown_framework(principal.as_deref(), framework_id, now) {
                Ok(acts) => {
                    m.perform(acts, ctx);
                    Response::new(200, "text/plain; charset=utf-8", "")
                }
                Err(Teardown::Unknown) => refuse(&req, 400, "No framework found with specified ID".into()),
                Err(Teardown::Forbidden) => {
                    refuse(&req, 403, format!("Not authorized to tear down framework {framework_id}"))
                }
            };
        }
        Call::GetHealth => json!({ "healthy": true }),
        Call::GetFlags => {
            if !m.opts.acls.allows(AclAction::ViewFlags, principal.as_deref(), None) {
                return refuse(&req, 403, "Not authorized to view the flags (view_flags)".into());
            }
            let flags: Vec<Value> = m.opts.flags.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
            json!({ "flags": flags })
        }
        Call::GetVersion => json!({ "version_info": rmesos::v1::version_json() }),
        Call::GetMetrics => {
            let metrics: Vec<Value> = match crate::http::metrics::metrics_json(m) {
                Value::Object(o) => o.into_iter().map(|(k, v)| json!({"name": k, "value": v})).collect(),
                _ => Vec::new(),
            };
            json!({ "metrics": metrics })
        }
        Call::GetLoggingLevel => json!({ "level": logging_level() }),
        Call::GetState => views::get_state(&m.core),
        Call::GetAgents => views::get_agents(&m.core),
        Call::GetFrameworks => views::get_frameworks(&m.core),
        Call::GetExecutors => views::get_executors(&m.core),
        Call::GetTasks => views::get_tasks(&m.core),
        Call::GetRoles => views::get_roles(&m.core),
        Call::GetMaster => {
            let core = &m.core;
            let mut o = json!({
                "master_info": serde_json::to_value(core.info()).unwrap_or(Value::Null),
                "start_time": core.wall(m.started),
            });
            if let Some(t) = m.ha.elected_at() {
                o["elected_time"] = json!(core.wall(t));
            }
            o
        }
        // No maintenance in rmesos: no machine is draining or down.
        Call::GetMaintenanceStatus => json!({ "status": {"draining_machines": [], "down_machines": []} }),
    };
    Response::json(&response(&call, body))
}

/// glog's verbosity as Mesos reports it, from the log filter in force:
/// 0 at INFO and above, 1 with DEBUG, 2 with TRACE.
fn logging_level() -> u32 {
    use tracing::level_filters::LevelFilter;
    match LevelFilter::current() {
        LevelFilter::TRACE => 2,
        LevelFilter::DEBUG => 1,
        _ => 0,
    }
}

fn refuse(req: &Request, status: u16, why: String) -> Response {
    let remote = req.remote.map_or("in-process".to_string(), |r| r.to_string());
    tracing::warn!(%remote, status, "Refusing /api/v1 call: {why}");
    Response::text(status, format!("{why}\n"))
}

fn not_leading(m: &MasterProcess) -> Response {
    match m.ha().leader().map(|l| l.pid()) {
        Some(Ok(pid)) => Response::redirect(&format!("//{}/api/v1", pid.addr())),
        Some(Err(e)) => Response::text(503, format!("the detected leader has no usable address: {e}\n")),
        None => Response::text(503, "No leader elected\n"),
    }
}

/// SUBSCRIBE: SUBSCRIBED with the state and a HEARTBEAT, written before
/// the core reports any later change (all in this turn of the master).
fn subscribe(m: &mut MasterProcess, ctx: &mut Context<MasterProcess>) -> Response {
    let label = m.watchers.next_label();
    let (resp, mut writer) = Response::stream(200, rmesos::v1::JSON, label.clone());
    let first = writer.write(stream::subscribed(&m.core)).and_then(|_| writer.write(stream::heartbeat()));
    if let Err(e) = first {
        tracing::warn!("Cannot start {label}: {e}");
        return Response::text(503, format!("cannot start an operator stream: {e}\n"));
    }
    m.watchers.add(label, writer);
    m.core.set_observed(true);
    arm_heartbeat(m, ctx);
    resp
}

/// One HEARTBEAT for every stream each interval, while any is open.
fn arm_heartbeat(m: &mut MasterProcess, ctx: &mut Context<MasterProcess>) {
    if m.watchers.heartbeat_armed {
        return;
    }
    m.watchers.heartbeat_armed = true;
    let me = m.me.clone();
    me.delay(ctx, HEARTBEAT_INTERVAL, |m: &mut MasterProcess, ctx| {
        m.watchers.heartbeat_armed = false;
        m.watchers.broadcast(&stream::heartbeat());
        if settle(m) {
            arm_heartbeat(m, ctx);
        }
    });
}

/// After a broadcast: the core stops making events once nobody watches.
/// True while someone does.
fn settle(m: &mut MasterProcess) -> bool {
    let watching = !m.watchers.is_empty();
    if !watching && m.core.is_observed() {
        tracing::info!("No operator stream left; the master stops describing changes");
        m.core.set_observed(false);
    }
    watching
}

/// Performs [`crate::core::Action::Observe`]: the change, to every stream.
pub(crate) fn publish(m: &mut MasterProcess, change: Observed) {
    if m.watchers.is_empty() {
        settle(m);
        return;
    }
    if let Some(event) = stream::describe(&m.core, &change) {
        m.watchers.broadcast(&stream::record(&event));
    }
    settle(m);
}
