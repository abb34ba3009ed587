//! `POST /teardown` with the form body `frameworkId=<id>` (Mesos's
//! `/master/teardown`): ends a framework, its tasks killed on their
//! slaves. The decision is the core's ([`MasterCore::teardown_framework`]:
//! the framework must be registered, and `--acls`' `teardown_frameworks`
//! must allow the HTTP principal on the framework's principal); this file
//! only parses, authenticates (`--authenticate_http_readwrite`) and
//! performs. Answers, as Mesos: 200 done; 400 no `frameworkId` or no such
//! framework; 401 credentials; 403 the ACLs refuse; 405 not a POST; 307 to
//! the leader on a standby (503 while none is known).
//!
//! [`MasterCore::teardown_framework`]: crate::core::MasterCore::teardown_framework

use actix::Context;
use libprocess::{Request, Response};
use rmesos::FrameworkID;

use super::{bad_request, forbidden, readwrite, redirect};
use crate::core::Teardown;
use crate::leader::Role;
use crate::process::MasterProcess;

pub(super) fn teardown(m: &mut MasterProcess, req: Request, ctx: &mut Context<MasterProcess>) -> Response {
    if m.ha.role() != Role::Leading {
        return redirect(m, req, ctx);
    }
    if req.method != "POST" {
        tracing::warn!(remote = ?req.remote, "{} /teardown refused: POST only", req.method);
        return Response::text(405, "405 Method Not Allowed: POST only\n").with_header("Allow", "POST");
    }
    let principal = match readwrite(m, &req) {
        Ok(p) => p,
        Err(denied) => return denied,
    };
    let body = String::from_utf8_lossy(&req.body);
    let form = libprocess::http::parse_query(&body);
    let Some((_, raw)) = form.iter().find(|(k, _)| k == "frameworkId") else {
        return bad_request(&req, "Missing 'frameworkId' query parameter in the request body".into());
    };
    let id = match FrameworkID::new(raw) {
        Ok(id) => id,
        Err(e) => return bad_request(&req, format!("bad frameworkId: {e}")),
    };
    let now = m.now();
    match m.core.teardown_framework(principal.as_deref(), &id, now) {
        Ok(actions) => {
            m.perform(actions, ctx);
            Response::ok()
        }
        Err(Teardown::Unknown) => bad_request(&req, "No framework found with specified ID".into()),
        Err(Teardown::Forbidden) => forbidden(&req, &principal, "teardown_frameworks"),
    }
}
