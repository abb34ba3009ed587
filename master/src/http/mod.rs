//! The master's operator endpoints, on the master process (`/master/<route>`)
//! and, the master being its node's default HTTP process, at `/<route>`, as
//! Mesos serves them. They read the core and decide nothing (the one that
//! changes something, `/teardown`, asks the core):
//! - `state.rs`: `/state` and `/state-summary`;
//! - `lists.rs`: `/tasks`, `/frameworks`, `/slaves`, `/roles`;
//! - `info.rs`: `/flags` (`/version` is the v1 API's, in `api/`);
//! - `metrics.rs`: `/metrics/snapshot`;
//! - `teardown.rs`: `POST /teardown frameworkId=<id>`;
//! - here: `/health` (200 while the master runs) and `/redirect` (307 to the
//!   leader's `http://ip:port`: this master when it leads or is standalone;
//!   the detected leader for a standby; 503 while no leader is known; the
//!   advertised IP rather than the hostname, which may not resolve).
//!
//! Authentication and authorization, as Mesos's master: the read
//! endpoints need HTTP Basic credentials with `--authenticate_http_readonly`,
//! `/teardown` with `--authenticate_http_readwrite`; `--acls` filters what a
//! principal sees (`view_frameworks`, `view_tasks`, `view_executors` on the
//! framework's user, `view_roles`, `view_flags`) and gates
//! `/metrics/snapshot` (`get_endpoints`) and `/teardown`
//! (`teardown_frameworks`), with 403 when denied.

mod info;
mod lists;
pub(crate) mod metrics;
mod state;
mod teardown;
mod views;

use actix::Context;
use libprocess::{Handlers, Request, Response};
use rmesos::auth::http_basic::{self, Kind};

use crate::process::MasterProcess;

pub(crate) fn install(h: &mut Handlers<MasterProcess>) {
    h.route("state", state::state)
        .route("state-summary", state::summary)
        .route("tasks", lists::tasks)
        .route("frameworks", lists::frameworks)
        .route("slaves", lists::slaves)
        .route("roles", lists::roles)
        .route("flags", info::flags)
        .route("teardown", teardown::teardown)
        .route("health", health)
        .route("metrics/snapshot", metrics::metrics)
        .route("redirect", redirect);
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

/// `--authenticate_http_readwrite`, as [`readonly`].
fn readwrite(m: &MasterProcess, req: &Request) -> Result<Option<String>, Response> {
    m.opts.http_auth.check(Kind::ReadWrite, http_basic::MASTER_READWRITE, req)
}

/// A 400 for a bad query or body, logged.
fn bad_request(req: &Request, why: String) -> Response {
    tracing::warn!(remote = ?req.remote, route = %req.route, "bad request: {why}");
    Response::text(400, format!("400 Bad Request: {why}\n"))
}

/// The 403 of an `--acls` refusal, logged.
fn forbidden(req: &Request, principal: &Option<String>, acl: &str) -> Response {
    tracing::warn!(remote = ?req.remote, ?principal, "{} /{} forbidden by --acls ({acl})", req.method, req.route);
    Response::text(403, format!("403 Forbidden: not authorized to {} /{} ({acl})\n", req.method, req.route))
}
