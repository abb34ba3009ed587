//! Where the fetcher meets the slave's actor: a `Launch` whose command has
//! URIs is fetched first, on the actor (each fetch a future of its own, so
//! launches do not wait for each other), then handed to the containerizer;
//! a failed fetch is the core's `launch_failed` with the fetch's message.
//! A `Kill` of a run still fetching (the registration timeout fired, or the
//! framework went away) drops the fetch and tells the core the run ended,
//! as it would for a container that was killed.

use std::collections::HashMap;
use std::rc::Rc;

use actix::fut::ActorFutureExt;
use actix::{AsyncContext, Context, SpawnHandle};
use rmesos::{ExecutorID, FrameworkID};
use uuid::Uuid;

use super::Fetcher;
use crate::core::Launch;
use crate::process::SlaveProcess;

/// The fetcher of a slave and its fetches in flight.
#[derive(Default)]
pub struct Fetches {
    pub fetcher: Option<Rc<Fetcher>>,
    running: HashMap<Uuid, SpawnHandle>,
}

impl Fetches {
    /// Adds the fetcher's counters to `/metrics/snapshot`.
    pub fn metrics(&self, mut snapshot: serde_json::Value) -> serde_json::Value {
        if let (Some(f), Some(map)) = (&self.fetcher, snapshot.as_object_mut()) {
            f.metrics(map);
        }
        snapshot
    }
}

impl SlaveProcess {
    /// Fetches `l`'s URIs (if any), then launches it.
    pub(crate) fn fetch_then_launch(&mut self, l: Launch, ctx: &mut Context<Self>) {
        let fetcher = match &self.fetches.fetcher {
            Some(f) if !l.command.uris.is_empty() => f.clone(),
            _ => return self.launch(l, ctx),
        };
        let run = l.run;
        let fetch = fetcher.fetch(l.command.uris.clone(), l.directory.clone(), l.user.clone());
        let handle = ctx.spawn(actix::fut::wrap_future::<_, Self>(fetch).map(move |result, act, ctx| {
            act.fetches.running.remove(&run);
            match result {
                Ok(()) => act.launch(l, ctx),
                Err(e) => {
                    let now = act.now();
                    let a = act.core.launch_failed_with(&l.framework_id, &l.executor_id, run, &e.to_string(), now);
                    act.perform(a, ctx);
                }
            }
        }));
        self.fetches.running.insert(run, handle);
    }

    /// A kill of run `run`: if it is still fetching, the fetch is dropped
    /// and the run ends here (true); else the containerizer kills it (false).
    pub(crate) fn kill_fetching(
        &mut self,
        fid: &FrameworkID,
        eid: &ExecutorID,
        run: Uuid,
        ctx: &mut Context<Self>,
    ) -> bool {
        let Some(handle) = self.fetches.running.remove(&run) else { return false };
        ctx.cancel_future(handle);
        tracing::info!(executor = %eid, framework = %fid, %run, "Killed executor run {run} while fetching its URIs");
        let now = self.now();
        let a = self.core.executor_exited(fid, eid, run, -1, now);
        self.perform(a, ctx);
        true
    }
}
