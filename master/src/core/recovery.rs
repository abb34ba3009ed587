//! Recovery after a master failover: the slaves the registry says were
//! admitted, expected to reregister.
//!
//! A newly elected master starts empty (see [`super::state`]) and reads the
//! registry. Each admitted slave is *recovered*: known by id, not yet
//! registered, nothing offered. A recovered slave that reregisters within
//! `--agent_reregister_timeout` is admitted with the tasks and executors it
//! reports (the "unknown to this master" path of `reregister_slave`). When
//! the timeout fires, those still missing are removed as unreachable: every
//! connected framework gets `LostSlaveMessage`, and reconciliation answers
//! TASK_LOST (TASK_UNREACHABLE for partition-aware frameworks) for their
//! tasks, which this master never knew (Mesos does the same). While a slave
//! is recovered, explicit reconciliation of its tasks gets no answer (as
//! Mesos): the answer would be a guess. Unlike Mesos, the question is kept
//! and answered when the slave reregisters (the task's state if it reports
//! it, else TASK_LOST / TASK_GONE "unknown to the agent") or is given up on
//! (TASK_LOST / TASK_UNREACHABLE): a framework that reconciles once after a
//! failover is not left waiting for a task the failed master launched into
//! a partition, which no slave will ever report.

use libprocess::{Time, Upid};
use rmesos::messages::LostSlaveMessage;
use std::collections::{BTreeMap, BTreeSet};

use rmesos::{FrameworkID, SlaveID, SlaveInfo, TaskID};

use super::{Action, MasterCore, Outgoing};

impl MasterCore {
    /// The registry's admitted slaves, read by a newly elected master. The
    /// shell calls [`MasterCore::recovered_timeout`] after
    /// `agent_reregister_timeout`.
    pub fn recover(&mut self, slaves: Vec<SlaveInfo>) -> Vec<Action> {
        for info in slaves {
            let Some(id) = info.id.clone() else { continue };
            self.admitted.insert(id.clone());
            if !self.slaves.contains_key(&id) {
                self.recovered.insert(id, info);
            }
        }
        tracing::info!(
            "Recovered {} slave(s) from the registry; expecting them to reregister within {:?}",
            self.recovered.len(),
            self.cfg.agent_reregister_timeout
        );
        self.take()
    }

    /// The losses read from the registry (see `registry.rs`).
    pub fn recover_losses(&mut self, losses: BTreeMap<SlaveID, BTreeSet<(FrameworkID, TaskID)>>) {
        for (sid, tasks) in losses {
            self.lost_on_disconnect.entry(sid).or_default().extend(tasks);
        }
    }

    /// Slaves recovered from the registry that have not reregistered yet.
    pub fn recovered_slaves(&self) -> impl Iterator<Item = (&SlaveID, &SlaveInfo)> {
        self.recovered.iter()
    }

    pub fn is_recovered(&self, id: &SlaveID) -> bool {
        self.recovered.contains_key(id)
    }

    /// A recovered slave reregistered (or registered anew): no longer awaited.
    pub(crate) fn recovered_slave_returned(&mut self, id: &SlaveID) {
        self.recovered.remove(id);
    }

    /// `agent_reregister_timeout` after recovery: the recovered slaves still
    /// missing are removed (see the module doc). Returns their ids with the
    /// actions, so the shell can drop them from the registry.
    pub fn recovered_timeout(&mut self, now: Time) -> (Vec<SlaveID>, Vec<Action>) {
        let missing: Vec<(SlaveID, SlaveInfo)> = std::mem::take(&mut self.recovered).into_iter().collect();
        let mut pids: Vec<Upid> = self.frameworks.values().filter_map(|f| f.connected_pid().cloned()).collect();
        pids.sort();
        for (id, info) in &missing {
            tracing::info!(
                "Removing slave {id} ({}): did not reregister within {:?} after master failover",
                info.hostname,
                self.cfg.agent_reregister_timeout
            );
            self.unreachable.insert(id.clone());
            self.counters.slave_removals += 1;
            self.removed(id);
            for p in &pids {
                self.send(p, Outgoing::LostSlave(LostSlaveMessage { slave_id: id.clone() }));
            }
            self.answer_deferred_reconciliations(id, false, now);
        }
        (missing.into_iter().map(|(id, _)| id).collect(), self.take())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rmesos::messages::*;
    use rmesos::*;

    use super::super::{Action, CoreConfig, MasterCore, Outgoing};
    use libprocess::{Time, Upid};

    fn at(secs: u64) -> Time {
        Time::default() + Duration::from_secs(secs)
    }

    fn info(id: &str, host: &str) -> SlaveInfo {
        let mut i = SlaveInfo::new(host, 5051, Resources::parse("cpus:2;mem:1024").unwrap(), Attributes::default());
        i.id = Some(SlaveID::new(id).unwrap());
        i
    }

    #[test]
    fn recovered_slaves_are_awaited_then_removed_and_frameworks_told() {
        let mpid: Upid = "master@127.0.0.1:5050".parse().unwrap();
        let mut m = MasterCore::new(CoreConfig {
            master_id: "m2".into(),
            info: MasterInfo::new("m2", &mpid, None, None),
            agent_ping_timeout: Duration::from_secs(15),
            max_agent_ping_timeouts: 5,
            agent_reregister_timeout: Duration::from_secs(600),
            epoch_base: 0.0,
            acls: Default::default(),
        });
        m.recover(vec![info("m1-S0", "a"), info("m1-S1", "b")]);
        let (s0, s1) = (SlaveID::new("m1-S0").unwrap(), SlaveID::new("m1-S1").unwrap());
        assert!(m.is_recovered(&s0) && m.is_recovered(&s1));
        let sched: Upid = "scheduler-1@127.0.0.1:7000".parse().unwrap();
        m.register_framework(&sched, RegisterFrameworkMessage { framework: FrameworkInfo::new("u", "f") }, at(1));

        // S0 comes back: no longer awaited, and known.
        let slave: Upid = "slave(1)@127.0.0.1:5051".parse().unwrap();
        let msg = ReregisterSlaveMessage {
            slave: info("m1-S0", "a"),
            checkpointed_resources: Resources::new(),
            executor_infos: vec![],
            tasks: vec![],
            frameworks: vec![],
            completed_frameworks: vec![],
            version: None,
            incarnation: None,
        };
        m.reregister_slave(&slave, msg, at(2));
        assert!(!m.is_recovered(&s0) && m.slave(&s0).is_some());

        // The timeout: S1 is removed, the framework hears LostSlave.
        let (gone, acts) = m.recovered_timeout(at(600));
        assert_eq!(gone, vec![s1.clone()]);
        assert!(acts.contains(&Action::Send(sched, Outgoing::LostSlave(LostSlaveMessage { slave_id: s1.clone() }))));
        assert!(m.is_unreachable(&s1) && !m.is_recovered(&s1));
        assert_eq!(m.recovered_slaves().count(), 0);
    }
}
