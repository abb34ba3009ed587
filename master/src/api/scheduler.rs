//! `POST /api/v1/scheduler`: Mesos's v1 scheduler API (JSON), served on the
//! master process (so also at `/master/api/v1/scheduler`).
//!
//! Answers, as Mesos's master does:
//! - not the leader: `307` with `Location: //<leader ip:port>/api/v1/scheduler`,
//!   or `503` while no leader is known;
//! - with `--authenticate_http_frameworks`: `401` (`WWW-Authenticate: Basic
//!   realm="mesos-master-scheduler"`) without valid HTTP Basic credentials;
//!   a SUBSCRIBE whose `FrameworkInfo.principal` is not the authenticated
//!   principal: `400`; a call for a framework of another principal: `403`
//!   (Mesos's checks: the ACLs, applied by the core, authorize
//!   `FrameworkInfo.principal`, so it must be the proven one);
//! - not a POST: `405`; not JSON: `415` (protobuf is not spoken), an
//!   `Accept` JSON cannot meet: `406`; a malformed call: `400` with a
//!   one-line reason;
//! - SUBSCRIBE: `200`, chunked, `Mesos-Stream-Id`, then the stream's events
//!   (see `subscriber.rs`) for the framework's life;
//! - any other call: `400` if the framework is unknown or the
//!   `Mesos-Stream-Id` header is missing or not the framework's stream,
//!   `403` if it is not subscribed (or not through HTTP), else `202` with an
//!   empty body. What the core makes of the call (a stale offer, an unknown
//!   task) is reported on the stream, as for a driver framework.

use std::hash::{Hash, Hasher};

use actix::Context;
use libprocess::{Handlers, Request, Response, Upid};
use rmesos::auth::http_basic::{self, Kind};
use rmesos::messages::*;
use rmesos::v1::scheduler::{self as v1, Call, ParsedCall, DEFAULT_HEARTBEAT_INTERVAL_SECS};
use rmesos::{FrameworkID, TaskState, TaskStatus};

use super::subscriber::{EndStreamMessage, Subscriber};
use super::Stream;
use crate::process::MasterProcess;

/// The header naming a framework's stream.
pub const STREAM_ID_HEADER: &str = "Mesos-Stream-Id";

pub(super) fn install(h: &mut Handlers<MasterProcess>) {
    h.route("api/v1/scheduler", scheduler);
}

fn scheduler(m: &mut MasterProcess, req: Request, ctx: &mut Context<MasterProcess>) -> Response {
    if !m.serving() {
        return not_leading(m);
    }
    if req.method != "POST" {
        return Response::text(405, format!("Expecting a 'POST' request, received '{}'\n", req.method))
            .with_header("allow", "POST");
    }
    let principal = match m.opts.http_auth.check(Kind::Scheduler, http_basic::MASTER_SCHEDULER, &req) {
        Ok(p) => p,
        Err(unauthorized) => return unauthorized,
    };
    if let Err((status, why)) = rmesos::v1::check_media_types(req.header("content-type"), req.header("accept")) {
        return refuse(&req, status, why);
    }
    let ParsedCall { framework_id, call } = match v1::parse_call(&req.body) {
        Ok(c) => c,
        Err(e) => return refuse(&req, 400, e.0),
    };
    match call {
        Call::Subscribe { framework_info } => {
            if let Some(p) = principal.as_deref() {
                let claimed = framework_info.principal.as_deref().unwrap_or("");
                if claimed != p {
                    let why = format!(
                        "Authenticated principal '{p}' does not match principal '{claimed}' set in `FrameworkInfo`"
                    );
                    return refuse(&req, 400, why);
                }
            }
            subscribe(m, framework_info, ctx)
        }
        call => {
            let fid = framework_id.expect("parse_call requires it for every call but SUBSCRIBE");
            if let (Some(p), Some(fw)) = (principal.as_deref(), m.core().framework(&fid)) {
                let owner = fw.info.principal.as_deref().unwrap_or("");
                if owner != p {
                    let why =
                        format!("Authenticated principal '{p}' does not match principal '{owner}' of framework {fid}");
                    return refuse(&req, 403, why);
                }
            }
            match stream_of(m, &fid, req.header(STREAM_ID_HEADER)) {
                Ok(pid) => {
                    dispatch(m, &pid, fid, call, ctx);
                    Response::new(202, "text/plain; charset=utf-8", "")
                }
                Err((status, why)) => refuse(&req, status, why),
            }
        }
    }
}

/// Logs and answers a refused call.
fn refuse(req: &Request, status: u16, why: String) -> Response {
    let remote = req.remote.map_or("in-process".to_string(), |r| r.to_string());
    tracing::warn!(%remote, status, "Refusing /api/v1/scheduler call: {why}");
    Response::text(status, format!("{why}\n"))
}

fn not_leading(m: &MasterProcess) -> Response {
    match m.ha().leader().map(|l| l.pid()) {
        Some(Ok(pid)) => Response::redirect(&format!("//{}/api/v1/scheduler", pid.addr())),
        Some(Err(e)) => Response::text(503, format!("the detected leader has no usable address: {e}\n")),
        None => Response::text(503, "no leading master detected\n"),
    }
}

/// The subscriber Upid of `fid`'s stream, if `stream_id` names it.
fn stream_of(m: &MasterProcess, fid: &FrameworkID, stream_id: Option<&str>) -> Result<Upid, (u16, String)> {
    let fw = m.core().framework(fid).ok_or((400, format!("Framework {fid} cannot be found")))?;
    let pid = fw.connected_pid().cloned().ok_or((403, format!("Framework {fid} is not subscribed")))?;
    let stream = m.api.by_pid.get(&pid).ok_or((403, format!("Framework {fid} is not connected via HTTP")))?;
    match stream_id {
        None => Err((400, format!("All non-subscribe calls should include the '{STREAM_ID_HEADER}' header"))),
        Some(s) if s != stream.id => Err((
            400,
            format!("The stream ID '{s}' included in this request didn't match the stream ID currently associated with framework ID {fid}"),
        )),
        Some(_) => Ok(pid),
    }
}

/// SUBSCRIBE: a new stream, its subscriber process, and the (re)registration
/// the core makes of it.
fn subscribe(m: &mut MasterProcess, info: rmesos::FrameworkInfo, ctx: &mut Context<MasterProcess>) -> Response {
    m.api.prune();
    let n = m.api.opened;
    m.api.opened += 1;
    let stream_id = stream_id(&m.core().config().master_id, n);
    let (mut resp, writer) = Response::stream(200, rmesos::v1::JSON, format!("scheduler stream {stream_id}"));
    resp = resp.with_header(STREAM_ID_HEADER, &stream_id);
    let heartbeat = std::time::Duration::from_secs_f64(DEFAULT_HEARTBEAT_INTERVAL_SECS);
    let master = m.me.pid().clone();
    let label = stream_id.clone();
    let spawned = match m
        .me
        .node()
        .spawn(&format!("api-scheduler({n})"), move |me| Subscriber::new(me, master, writer, heartbeat, label))
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot start a scheduler stream: {e}");
            return Response::text(503, format!("cannot start a scheduler stream: {e}\n"));
        }
    };
    let pid = spawned.pid.clone();
    tracing::info!("Received SUBSCRIBE call for framework '{}' on stream {stream_id} ({pid})", info.name);
    m.api.by_pid.insert(pid.clone(), Stream { id: stream_id, addr: spawned.addr });
    let now = m.now();
    let acts = match info.id.is_some() {
        // Resubscription: a new stream takes the framework over (Mesos
        // treats every HTTP resubscription as a failover).
        true => m.core.reregister_framework(&pid, ReregisterFrameworkMessage { framework: info, failover: true }, now),
        false => m.core.register_framework(&pid, RegisterFrameworkMessage { framework: info }, now),
    };
    m.perform(acts, ctx);
    resp
}

/// A stream id: a UUID made from the master's id and the stream's number,
/// so a replayed simulation draws the same ones (it is a handle, not a secret).
fn stream_id(master_id: &str, n: u64) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    master_id.hash(&mut h);
    uuid::Uuid::from_u64_pair(h.finish(), n).to_string()
}

/// Hands the call to the core as the message a driver would have sent, from
/// the framework's subscriber.
fn dispatch(m: &mut MasterProcess, from: &Upid, fid: FrameworkID, call: Call, ctx: &mut Context<MasterProcess>) {
    let now = m.now();
    let core = &mut m.core;
    let acts = match call {
        Call::Subscribe { .. } => unreachable!("handled by subscribe"),
        Call::Teardown => {
            let acts = core.unregister_framework(from, UnregisterFrameworkMessage { framework_id: fid }, now);
            m.me.send(from, EndStreamMessage {});
            acts
        }
        Call::Accept { offer_ids, tasks, filters } => {
            core.launch_tasks(from, LaunchTasksMessage { framework_id: fid, tasks, filters, offer_ids }, now)
        }
        Call::Decline { offer_ids, filters } => {
            core.launch_tasks(from, LaunchTasksMessage::decline(fid, offer_ids, filters), now)
        }
        // One role per framework here: REVIVE and SUPPRESS with roles
        // apply to the framework's role (the only one it can name).
        Call::Revive { .. } => core.revive(from, ReviveOffersMessage { framework_id: fid }),
        Call::Suppress { .. } => core.suppress(from, SuppressOffersMessage { framework_id: fid }),
        Call::Kill { task_id, kill_policy, .. } => {
            core.kill_task(from, KillTaskMessage { framework_id: fid, task_id, kill_policy }, now)
        }
        Call::Shutdown { executor_id, agent_id } => core.shutdown_executor(from, &fid, &agent_id, &executor_id),
        Call::Acknowledge { agent_id, task_id, uuid } => core.acknowledge(
            from,
            StatusUpdateAcknowledgementMessage { slave_id: agent_id, framework_id: fid, task_id, uuid },
        ),
        Call::Reconcile { tasks } => {
            // The core reads the task id and slave id of each status.
            let statuses = tasks
                .into_iter()
                .map(|(id, sid)| {
                    let s = TaskStatus::new(id, TaskState::Staging);
                    match sid {
                        Some(sid) => s.with_slave_id(sid),
                        None => s,
                    }
                })
                .collect();
            core.reconcile(from, ReconcileTasksMessage { framework_id: fid, statuses, framework: None }, now)
        }
        Call::Message { agent_id, executor_id, data } => core.framework_to_executor(
            from,
            FrameworkToExecutorMessage { slave_id: agent_id, framework_id: fid, executor_id, data },
        ),
        Call::Request { requests } => {
            // Mesos's allocator takes no requests into account either.
            tracing::info!("Received REQUEST call of framework {fid} ({requests} request(s)); ignored");
            Vec::new()
        }
    };
    m.perform(acts, ctx);
}
