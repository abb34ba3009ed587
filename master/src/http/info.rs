//! `/flags` (`{"flags": {"name": "value", ...}}`: every flag the master
//! started with that has a value, as Mesos's; `view_flags` in `--acls`
//! may forbid it, 403). (`/version` is served with the v1 API, `api/`.)

use actix::Context;
use libprocess::{Request, Response};
use serde_json::json;

use rmesos::auth::acls::Action as AclAction;

use super::{forbidden, readonly};
use crate::process::MasterProcess;

pub(super) fn flags(m: &mut MasterProcess, req: Request, _: &mut Context<MasterProcess>) -> Response {
    let principal = match readonly(m, &req) {
        Ok(p) => p,
        Err(denied) => return denied,
    };
    if !m.opts.acls.allows(AclAction::ViewFlags, principal.as_deref(), None) {
        return forbidden(&req, &principal, "view_flags");
    }
    Response::json(&json!({ "flags": m.opts.flags }))
}
