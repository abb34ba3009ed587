//! Fault verbs of a [`SimCluster`]: crash and restart a master, the leader
//! or a slave; cut a node off from the rest of the cluster (and from
//! ZooKeeper); have ZooKeeper expire a node's session; drop messages;
//! heal. A crash is a crash: the node's processes stop without a word, its
//! ZooKeeper links go silent (the servers expire its sessions after their
//! timeout), peers find out as over TCP.

use libprocess::testkit::{self, any, RuleId};
use libprocess::Message;
use rmesos_master::leader::Role;

use super::SimCluster;
use crate::zk::NodeZk;

impl SimCluster {
    /// The master that leads now (the first, should two claim to).
    pub fn leader(&self) -> Option<usize> {
        self.masters.iter().position(|m| m.running.as_ref().is_some_and(|m| m.role() == Role::Leading))
    }

    /// Crashes master `i`; it stays down until [`SimCluster::start_master`].
    pub fn crash_master(&mut self, i: usize) {
        let slot = &mut self.masters[i];
        slot.zk.crash();
        self.sim.kill(&slot.addr);
        slot.running = None;
    }

    /// Crashes the leading master; returns which one it was.
    ///
    /// # Panics
    /// If no master leads now.
    pub fn crash_leader(&mut self) -> usize {
        let i = self.leader().expect("a master leads");
        self.crash_master(i);
        i
    }

    /// Crashes and starts again master `i` (a new incarnation, a new id).
    pub fn restart_master(&mut self, i: usize) {
        self.crash_master(i);
        self.start_master(i);
    }

    /// Crashes slave `i` (its executors live on, as processes would); it
    /// stays down until [`SimCluster::start_slave`].
    pub fn crash_slave(&mut self, i: usize) {
        let slot = &mut self.slaves[i];
        slot.zk.crash();
        self.sim.kill(&slot.addr);
        slot.running = None;
    }

    /// Crashes and starts again slave `i`, with a fresh work directory.
    pub fn restart_slave(&mut self, i: usize) {
        self.crash_slave(i);
        self.start_slave(i);
    }

    /// Every member's address: masters, slaves, then frameworks started
    /// with [`SimCluster::framework`].
    pub fn members(&self) -> Vec<String> {
        let masters = self.masters.iter().map(|m| m.addr.clone());
        let slaves = self.slaves.iter().map(|s| s.addr.clone());
        masters.chain(slaves).chain((1..=self.frameworks).map(|n| format!("10.0.2.{n}:5052"))).collect()
    }

    /// Cuts `addr` off from every other member (both ways), and from
    /// ZooKeeper too with `zk` (its clients see Disconnected; the servers
    /// expire its sessions after their timeout unless healed first).
    pub fn isolate(&self, addr: &str, zk: bool) {
        for other in self.members().iter().filter(|o| *o != addr) {
            self.sim.partition(addr, other.as_str());
        }
        if zk {
            if let Some(z) = self.zk_of(addr) {
                z.cut();
            }
        }
    }

    /// Cuts master `i` off from the cluster and from ZooKeeper.
    pub fn isolate_master(&self, i: usize) {
        self.isolate(&self.masters[i].addr, true);
    }

    /// Cuts slave `i` off from the cluster (ZooKeeper still reaches it).
    pub fn partition_slave(&self, i: usize) {
        self.isolate(&self.slaves[i].addr, false);
    }

    /// Ends every partition and restores every ZooKeeper link.
    pub fn heal(&self) {
        self.sim.heal_all();
        for z in self.masters.iter().map(|m| &m.zk).chain(self.slaves.iter().map(|s| &s.zk)) {
            z.restore();
        }
    }

    /// ZooKeeper expires one open session of the node at `addr` now;
    /// returns it (None: the node has none open).
    pub fn expire_session(&self, addr: &str) -> Option<u64> {
        self.zk_of(addr)?.expire_one(0)
    }

    /// ZooKeeper expires every open session of the node at `addr` now;
    /// returns them.
    pub fn expire_sessions(&self, addr: &str) -> Vec<u64> {
        self.zk_of(addr).map(NodeZk::expire_all).unwrap_or_default()
    }

    /// Drops every message `M` between any two nodes until
    /// [`SimCluster::remove_rule`].
    pub fn drop_all<M: Message>(&self) -> RuleId {
        self.sim.drop_frames(testkit::matching::<M>(any(), any()))
    }

    /// Ends a drop rule.
    pub fn remove_rule(&self, rule: RuleId) {
        self.sim.remove_rule(rule);
    }

    fn zk_of(&self, addr: &str) -> Option<&NodeZk> {
        let m = self.masters.iter().find(|m| m.addr == addr).map(|m| &m.zk);
        m.or_else(|| self.slaves.iter().find(|s| s.addr == addr).map(|s| &s.zk))
    }
}
