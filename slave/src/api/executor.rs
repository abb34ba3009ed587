//! `POST /api/v1/executor`: Mesos's v1 executor API (JSON), served on the
//! slave process (so also at `/slave(1)/api/v1/executor`).
//!
//! Answers, as Mesos's agent does:
//! - not a POST: `405`; not JSON: `415` (protobuf is not spoken), an
//!   `Accept` JSON cannot meet: `406`; a malformed call: `400` with a
//!   one-line reason;
//! - HEARTBEAT: `202` at once;
//! - what the core refuses ([`SlaveCore::executor_call`]): `503` while the
//!   slave recovers (but SUBSCRIBE), `400` for an unknown framework or
//!   executor, `403` for an executor not subscribed;
//! - SUBSCRIBE: `200`, chunked, then the stream's events (see
//!   `subscriber.rs`) for as long as the executor stays;
//! - UPDATE, MESSAGE: `202` with an empty body; the update is acknowledged
//!   on the stream (ACKNOWLEDGED) once the framework acknowledges it. An
//!   update the slave takes no further (a duplicate, a second terminal
//!   update) is still `202`: it is dropped with a log line, as Mesos does.
//!
//! [`SlaveCore::executor_call`]: crate::core::SlaveCore::executor_call

use actix::Context;
use libprocess::{Handlers, Request, Response, Upid};
use rmesos::messages::*;
use rmesos::v1::executor::{parse_call, Call, ParsedCall};
use rmesos::{ExecutorID, FrameworkID, StatusUpdate, TaskStatus};

use super::subscriber::{EndStreamMessage, Subscriber};
use crate::core::SubscribeExecutor;
use crate::process::SlaveProcess;

pub(super) fn install(h: &mut Handlers<SlaveProcess>) {
    h.route("api/v1/executor", executor);
}

fn executor(s: &mut SlaveProcess, req: Request, ctx: &mut Context<SlaveProcess>) -> Response {
    if req.method != "POST" {
        return Response::text(405, format!("Expecting a 'POST' request, received '{}'\n", req.method))
            .with_header("allow", "POST");
    }
    if let Err((status, why)) = rmesos::v1::check_media_types(req.header("content-type"), req.header("accept")) {
        return refuse(&req, status, why);
    }
    let ParsedCall { framework_id: fid, executor_id: eid, call } = match parse_call(&req.body) {
        Ok(c) => c,
        Err(e) => return refuse(&req, 400, e.0),
    };
    if call == Call::Heartbeat {
        return accepted();
    }
    let subscribe = matches!(call, Call::Subscribe { .. });
    if let Err(r) = s.core.executor_call(&fid, &eid, subscribe) {
        return refuse(&req, r.status, r.reason);
    }
    match call {
        Call::Heartbeat => accepted(),
        Call::Subscribe { unacknowledged_tasks, unacknowledged_updates } => {
            subscribe_stream(s, fid, eid, unacknowledged_tasks, unacknowledged_updates, ctx)
        }
        Call::Update { status } => {
            let from = executor_pid(s, &fid, &eid);
            let update = status_update(s, &fid, &eid, status);
            s.on_status_update(from.clone(), StatusUpdateMessage { update, pid: Some(from) }, ctx);
            accepted()
        }
        Call::Message { data } => {
            let from = executor_pid(s, &fid, &eid);
            let Some(slave_id) = s.core.slave_id().cloned() else { return accepted() };
            let msg = ExecutorToFrameworkMessage { slave_id, framework_id: fid, executor_id: eid, data };
            let acts = s.core.executor_message(&from, msg);
            s.perform(acts, ctx);
            accepted()
        }
    }
}

fn accepted() -> Response {
    Response::new(202, "text/plain; charset=utf-8", "")
}

/// Logs and answers a refused call.
fn refuse(req: &Request, status: u16, why: String) -> Response {
    let remote = req.remote.map_or("in-process".to_string(), |r| r.to_string());
    tracing::warn!(%remote, status, "Refusing /api/v1/executor call: {why}");
    Response::text(status, format!("{why}\n"))
}

/// The Upid the core knows the (subscribed: checked) executor by.
fn executor_pid(s: &SlaveProcess, fid: &FrameworkID, eid: &ExecutorID) -> Upid {
    s.core.executor_pid(fid, eid).cloned().expect("executor_call checked that it is subscribed")
}

/// An executor's status as the update a driver would have sent (Mesos's
/// `createStatusUpdate`): stamped now unless the executor stamped it.
fn status_update(s: &SlaveProcess, fid: &FrameworkID, eid: &ExecutorID, status: TaskStatus) -> StatusUpdate {
    let time = status.timestamp.unwrap_or(s.now().unix);
    let uuid = status.uuid;
    StatusUpdate::new(fid.clone(), Some(eid.clone()), s.core.slave_id().cloned(), status, time, uuid)
}

/// SUBSCRIBE: a new stream and its subscriber process, an older stream of
/// the same executor ended, and the subscription the core makes of it.
fn subscribe_stream(
    s: &mut SlaveProcess,
    fid: FrameworkID,
    eid: ExecutorID,
    tasks: Vec<rmesos::TaskInfo>,
    updates: Vec<TaskStatus>,
    ctx: &mut Context<SlaveProcess>,
) -> Response {
    s.api.prune();
    let n = s.api.opened;
    s.api.opened += 1;
    let label = format!("'{eid}' of framework {fid}");
    let (resp, writer) = Response::stream(200, rmesos::v1::JSON, format!("executor stream {label}"));
    let run = s.core.executor_run(&fid, &eid).expect("executor_call checked that it exists");
    let slave = s.me.pid().clone();
    let sub_label = label.clone();
    let spawned = match s
        .me
        .node()
        .spawn(&format!("api-executor({n})"), move |me| Subscriber::new(me, slave, writer, run, sub_label))
    {
        Ok(sp) => sp,
        Err(e) => {
            tracing::error!("cannot start an executor stream: {e}");
            return Response::text(503, format!("cannot start an executor stream: {e}\n"));
        }
    };
    tracing::info!("Received SUBSCRIBE call of executor {label} ({})", spawned.pid);
    let key = (fid.clone(), eid.clone());
    if let Some(old) = s.api.by_executor.insert(key, (spawned.pid.clone(), spawned.addr)) {
        if old.1.connected() {
            s.me.send(&old.0, EndStreamMessage {});
        }
    }
    let updates = updates.into_iter().map(|st| status_update(s, &fid, &eid, st)).collect();
    let msg = SubscribeExecutor {
        framework_id: fid,
        executor_id: eid,
        unacknowledged_tasks: tasks,
        unacknowledged_updates: updates,
    };
    let now = s.now();
    let acts = s.core.subscribe_executor(&spawned.pid, msg, now);
    s.perform(acts, ctx);
    resp
}
