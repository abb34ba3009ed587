//! `LeaderDetector`: a process that tells subscribers who leads a group.
//!
//! It owns a [`Group`] process (its own session) and, on every change of
//! the leader (the member with the lowest sequence), sends each subscriber a
//! [`LeaderMessage`] with the leader's sequence and data, or `None` when the
//! group has no member. The first report goes out as soon as the member list
//! is first read, so a subscriber always learns the initial state. When the
//! detector's session expires (or is expired locally after the session
//! timeout without a connection) it reports `None`: it cannot vouch for a
//! leader it cannot see (Mesos's group does the same). Reporting by messages,
//! for the reasons given in [`super::contender`].

use std::sync::Arc;

use actix::{Actor, Context};
use serde::{Deserialize, Serialize};

use super::group::{Group, GroupConfig, MembersMessage};
use super::members::{leader, Member};
use super::store::Backend;
use crate::node::Node;
use crate::process::{Handlers, Me, Process};
use crate::{SpawnError, Upid};

/// Most subscribers one detector keeps (each gets every change).
pub const MAX_DETECTOR_SUBSCRIBERS: usize = 1024;

/// Anyone -> detector: send me every leader change (and the current leader
/// at once, if known).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubscribeMessage {}
crate::message!(SubscribeMessage, "libprocess.zookeeper.SubscribeMessage");

/// Detector -> subscribers: the leader now (None: no leader).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaderMessage {
    pub leader: Option<Member>,
}
crate::message!(LeaderMessage, "libprocess.zookeeper.LeaderMessage");

/// The detector process.
pub struct LeaderDetector {
    me: Me,
    group: Upid,
    subscribers: Vec<Upid>,
    /// None until the member list is first read.
    leader: Option<Option<Member>>,
}

impl Actor for LeaderDetector {
    type Context = Context<Self>;

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        self.me.node().terminate(&self.group);
    }
}

impl Process for LeaderDetector {
    fn install(h: &mut Handlers<Self>) {
        h.install(Self::members).install(Self::subscribe);
    }
}

impl LeaderDetector {
    /// Spawns detector `id` (and its group `<id>-group`) on `node`, with
    /// `subscriber` as first subscriber.
    pub fn spawn(
        node: &Node,
        id: &str,
        backend: Arc<dyn Backend>,
        cfg: GroupConfig,
        subscriber: Upid,
    ) -> Result<Upid, SpawnError> {
        let me = node.pid(id)?;
        let group = Group::spawn(node, &format!("{id}-group"), backend, cfg, me)?;
        let g = group.clone();
        let spawned =
            node.spawn(id, move |me| LeaderDetector { me, group: g, subscribers: vec![subscriber], leader: None });
        match spawned {
            Ok(s) => Ok(s.pid),
            Err(e) => {
                node.terminate(&group);
                Err(e)
            }
        }
    }

    fn subscribe(&mut self, from: Upid, _msg: SubscribeMessage, _ctx: &mut Context<Self>) {
        if !self.subscribers.contains(&from) {
            if self.subscribers.len() >= MAX_DETECTOR_SUBSCRIBERS {
                tracing::warn!(detector = %self.me.pid(), "subscription of {from} refused: {MAX_DETECTOR_SUBSCRIBERS} subscribers already");
                return;
            }
            self.subscribers.push(from.clone());
        }
        if let Some(leader) = &self.leader {
            self.me.send(&from, LeaderMessage { leader: leader.clone() });
        }
    }

    fn members(&mut self, from: Upid, msg: MembersMessage, _ctx: &mut Context<Self>) {
        if from != self.group {
            tracing::warn!(detector = %self.me.pid(), "ignoring a group message from {from}");
            return;
        }
        let now = leader(&msg.members).cloned();
        if self.leader.as_ref() == Some(&now) {
            return;
        }
        match &now {
            Some(m) => tracing::info!(detector = %self.me.pid(), seq = m.seq, "detected a new leader"),
            None => tracing::info!(detector = %self.me.pid(), "no leader detected"),
        }
        for s in &self.subscribers {
            self.me.send(s, LeaderMessage { leader: now.clone() });
        }
        self.leader = Some(now);
    }
}
