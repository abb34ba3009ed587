//! Waits of a [`SimCluster`]: on a state of the cluster, on a scheduler
//! event, on any future, or for an amount of simulated time. Time moves
//! only here (and in the `Sim` itself): from one due event to the next, so
//! a ten-minute timeout costs microseconds and a run replays from its seed.

use std::future::Future;
use std::time::Duration;

use super::SimCluster;
use crate::framework::{Framework, SchedulerEvent};

/// How much simulated time a wait may take before the test fails: one
/// hour (a new leader waits `--agent_reregister_timeout`, 10 minutes).
pub const WAIT_LIMIT: Duration = Duration::from_secs(3600);

impl SimCluster {
    /// Runs the world until `state` holds (checked whenever everything
    /// runnable has run, before time moves on); returns how much simulated
    /// time it took.
    ///
    /// # Panics
    /// If nothing is left to run, or [`WAIT_LIMIT`] passes, first: the
    /// test fails, naming `what` (and the `Sim` prints its seed).
    pub async fn until(&self, what: &str, mut state: impl FnMut(&SimCluster) -> bool) -> Duration {
        let start = self.sim.now();
        let deadline = start + WAIT_LIMIT;
        loop {
            self.sim.settle().await;
            if state(self) {
                return self.sim.now().saturating_since(start);
            }
            match self.sim.clock().next_timer() {
                Some(t) if t <= deadline => self.sim.advance(t.saturating_since(self.sim.now())).await,
                Some(_) => panic!("SimCluster::until: not {what} within {WAIT_LIMIT:?} (simulated)"),
                None => panic!("SimCluster::until: nothing left to run, and not {what}"),
            }
        }
    }

    /// Runs the world until a master leads; returns which.
    pub async fn wait_for_leader(&self) -> usize {
        self.until("a leading master", |c| c.leader().is_some()).await;
        self.leader().expect("just checked")
    }

    /// Runs the world until `fut` completes (see `Sim::run_until`).
    pub async fn run_until<F: Future>(&self, fut: F) -> F::Output {
        self.sim.run_until(fut).await
    }

    /// Moves simulated time by exactly `d`, running what falls due.
    pub async fn advance(&self, d: Duration) {
        self.sim.advance(d).await;
    }

    /// The framework's next event (running the world until there is one).
    pub async fn next_event(&self, fw: &mut Framework) -> SchedulerEvent {
        let e = self.sim.run_until(fw.events.recv()).await.expect("the framework's scheduler is alive");
        fw.seen.push(e.clone());
        e
    }

    /// The framework's first event from now that `pick` accepts (the others
    /// are kept in [`Framework::seen`] too).
    pub async fn wait_for(&self, fw: &mut Framework, mut pick: impl FnMut(&SchedulerEvent) -> bool) -> SchedulerEvent {
        loop {
            let e = self.next_event(fw).await;
            if pick(&e) {
                return e;
            }
        }
    }
}
