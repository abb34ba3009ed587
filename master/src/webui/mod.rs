//! The web UI, served by the master: `/` (the page) and `/static/<asset>`
//! (its script, style and icon), every byte embedded in the binary
//! ([`assets`]). A thin shell over the read endpoints: the page is plain
//! HTML/CSS/JS that reads `/state` (and, on each agent, its `/state` and
//! `/files/...`) in the browser and decides nothing here.
//!
//! `/` on a standby master that knows the leader answers 307 to the
//! leader's UI, as Mesos's does (the same address `/redirect` gives); with
//! no leader known it serves the page, which says so.

mod assets;

use actix::Context;
use libprocess::{Handlers, Request, Response};

use crate::leader::Role;
use crate::process::MasterProcess;

pub use assets::{Asset, ASSETS, INDEX};

pub(crate) fn install(h: &mut Handlers<MasterProcess>) {
    h.route("", index);
    for a in &ASSETS {
        h.route(&format!("static/{}", a.name), asset);
    }
}

fn index(m: &mut MasterProcess, req: Request, _: &mut Context<MasterProcess>) -> Response {
    if m.ha.role() == Role::Standby {
        if let Some(Ok(leader)) = m.ha.leader().map(|l| l.pid()) {
            if &leader != m.me.pid() {
                return Response::redirect(&format!("http://{}/", leader.addr()));
            }
        }
    }
    assets::serve(&INDEX, &req)
}

fn asset(_: &mut MasterProcess, req: Request, _: &mut Context<MasterProcess>) -> Response {
    let name = req.route.strip_prefix("static/").unwrap_or(&req.route);
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => assets::serve(a, &req),
        None => Response::text(404, format!("no asset {name}\n")),
    }
}
