//! The invariants, checked after every step of a chaos run (each instant
//! at which simulated time stops, once everything runnable has run):
//!
//! - (a) at most one master acts as leader: `RunningMaster::role()` is
//!   `Leading` for at most one of the three;
//! - (b) resources are never over-committed on a slave: for every slave
//!   (SlaveID), the resources of the tasks its executors really run (the
//!   [`Ledger`](super::executor::Ledger)) fit in the slave's total; and in
//!   the leading master's view, every slave's used resources (tasks and
//!   executors not yet terminal) fit in its total;
//! - (d) no task is reported FINISHED twice (see [`super::framework`] for
//!   what "the same task" means): the recorder's violations, as they occur.
//!
//! (c), every task of the workload FINISHED in the redispatch store, is
//! checked at the end ([`check_end`]).

use std::pin::pin;
use std::task::Poll;

use rmesos::{Resources, SlaveID};
use rmesos_examples::redispatch::Phase;
use rmesos_master::leader::Role;
use rmesos_master::MasterProcess;

use super::cluster::Cluster;

/// Yields given to a master to answer [`Usage`] before the check skips it
/// (a master busy recovering handles no message; it does not lead then).
const USAGE_POLLS: usize = 16;

/// The leading master's view of its slaves: (id, used, total).
struct Usage;

impl actix::Message for Usage {
    type Result = Vec<(SlaveID, Resources, Resources)>;
}

impl actix::Handler<Usage> for MasterProcess {
    type Result = actix::MessageResult<Usage>;
    fn handle(&mut self, _: Usage, _: &mut actix::Context<Self>) -> Self::Result {
        let slaves = self.core().slaves();
        actix::MessageResult(slaves.map(|s| (s.id.clone(), s.used.clone(), s.info.resources.clone())).collect())
    }
}

/// Figures the checks gather on the way.
#[derive(Debug, Default)]
pub struct Checker {
    /// Steps checked.
    pub steps: u64,
    /// Leader changes seen (a different master leading than before).
    pub leader_changes: u32,
    last_leader: Option<String>,
    /// Steps at which the leading master's view could not be read (busy).
    pub usage_skipped: u64,
    /// Most tasks seen running at once.
    pub max_running: usize,
}

impl Checker {
    /// Checks (a), (b) and (d) now; the first broken one, described.
    pub async fn step(&mut self, c: &Cluster) -> Result<(), String> {
        self.steps += 1;
        // (a)
        let leaders: Vec<&rmesos_master::RunningMaster> =
            c.masters.iter().filter_map(|s| s.running.as_ref()).filter(|m| m.role() == Role::Leading).collect();
        if leaders.len() > 1 {
            let ids: Vec<&str> = leaders.iter().map(|m| m.id.as_str()).collect();
            return Err(format!("(a) {} masters act as leader at once: {ids:?}", leaders.len()));
        }
        if let Some(m) = leaders.first() {
            if self.last_leader.as_deref() != Some(m.id.as_str()) {
                self.leader_changes += 1;
                self.last_leader = Some(m.id.clone());
            }
        }
        // (b), the truth: what executors run.
        {
            let ledger = c.shared.ledger.borrow();
            self.max_running = self.max_running.max(ledger.running());
            for (sid, used) in ledger.per_slave() {
                if !c.slave_total.contains(&used) {
                    return Err(format!("(b) slave {sid} runs tasks using {used}, more than its {}", c.slave_total));
                }
            }
        }
        // (b), the leading master's view.
        if let Some(m) = leaders.first() {
            let mut req = pin!(m.addr.send(Usage));
            let mut answer = None;
            for _ in 0..USAGE_POLLS {
                if let Poll::Ready(r) = futures::poll!(req.as_mut()) {
                    answer = r.ok();
                    break;
                }
                tokio::task::yield_now().await;
            }
            match answer {
                None => self.usage_skipped += 1,
                Some(slaves) => {
                    for (sid, used, total) in slaves {
                        if !total.contains(&used) {
                            return Err(format!(
                                "(b) master {} counts {used} used on slave {sid}, more than its {total}",
                                m.id
                            ));
                        }
                    }
                }
            }
        }
        // (d)
        if let Some(v) = c.log.borrow().violations.first() {
            return Err(format!("(d) {v}"));
        }
        Ok(())
    }
}

/// (c): every task of the workload is FINISHED in the redispatch store,
/// and the scheduler was told so for each.
pub fn check_end(c: &Cluster, tasks: usize) -> Result<(), String> {
    let records = c.store.records();
    if records.len() != tasks {
        return Err(format!("(c) the store holds {} tasks, not {tasks}", records.len()));
    }
    let unfinished: Vec<String> =
        records.iter().filter(|r| r.phase != Phase::Finished).map(|r| format!("{} {:?}", r.key, r.phase)).collect();
    if !unfinished.is_empty() {
        let shown = unfinished.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
        return Err(format!("(c) {} of {tasks} tasks did not finish: {shown}", unfinished.len()));
    }
    let reported = c.log.borrow().finished_keys();
    if reported != tasks {
        return Err(format!("(c) the scheduler was told FINISHED for {reported} of {tasks} tasks"));
    }
    Ok(())
}
