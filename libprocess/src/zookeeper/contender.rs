//! `LeaderContender`: a process that contends for leadership of a group.
//!
//! It owns a [`Group`] process (its own ZooKeeper session, as in Mesos where
//! contender and detector keep separate sessions) and reports to one
//! subscriber with libprocess messages: [`ElectedMessage`] when its member has
//! the lowest sequence, [`CandidacyLostMessage`] when its membership is gone
//! without a withdraw (session expired, locally or by the servers, or its
//! znode vanished), [`WithdrawnMessage`] when a withdraw completed.
//!
//! Messages rather than channels or callbacks: a master is a libprocess
//! process, so it installs `h.install(Master::elected)` like any other
//! handler, the subscriber may even live on another node, and the paused
//! clock's work accounting covers the delivery.
//!
//! After a loss or a withdraw the contender is idle and may contend again
//! (Mesos's master instead exits on lost leadership; that policy is the
//! master's to choose).

use std::sync::Arc;

use actix::{Actor, Context};
use serde::{Deserialize, Serialize};

use super::group::{
    CancelMessage, CancelledMessage, Group, GroupConfig, JoinMessage, JoinedMessage, MembersMessage,
    MembershipLostMessage,
};
use super::members::{leader, Member};
use super::store::Backend;
use crate::node::Node;
use crate::process::{Handlers, Me, Process};
use crate::{SpawnError, Upid};

/// Subscriber -> contender: contend with `data` (e.g. MasterInfo JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContendMessage {
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}
crate::message!(ContendMessage, "libprocess.zookeeper.ContendMessage");

/// Subscriber -> contender: stop contending (delete the member znode).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WithdrawMessage {}
crate::message!(WithdrawMessage, "libprocess.zookeeper.WithdrawMessage");

/// Contender -> subscriber: this contender leads (its member `seq` is the
/// lowest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElectedMessage {
    pub seq: u64,
}
crate::message!(ElectedMessage, "libprocess.zookeeper.ElectedMessage");

/// Contender -> subscriber: the candidacy (elected or not) is over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidacyLostMessage {
    pub reason: String,
}
crate::message!(CandidacyLostMessage, "libprocess.zookeeper.CandidacyLostMessage");

/// Contender -> subscriber: the withdraw completed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithdrawnMessage {}
crate::message!(WithdrawnMessage, "libprocess.zookeeper.WithdrawnMessage");

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Idle,
    Contending(Option<u64>),
    Elected(u64),
}

/// The contender process.
pub struct LeaderContender {
    me: Me,
    group: Upid,
    subscriber: Upid,
    state: State,
    withdrawing: bool,
    members: Vec<Member>,
}

impl Actor for LeaderContender {
    type Context = Context<Self>;

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        // The group's session closes with it: our znode goes at once.
        self.me.node().terminate(&self.group);
    }
}

impl Process for LeaderContender {
    fn install(h: &mut Handlers<Self>) {
        h.install(Self::contend)
            .install(Self::withdraw)
            .install(Self::joined)
            .install(Self::cancelled)
            .install(Self::lost)
            .install(Self::members);
    }
}

impl LeaderContender {
    /// Spawns contender `id` (and its group `<id>-group`) on `node`,
    /// reporting to `subscriber`. Contend with [`ContendMessage`].
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
        let spawned = node.spawn(id, move |me| LeaderContender {
            me,
            group: g,
            subscriber,
            state: State::Idle,
            withdrawing: false,
            members: Vec::new(),
        });
        match spawned {
            Ok(s) => Ok(s.pid),
            Err(e) => {
                node.terminate(&group);
                Err(e)
            }
        }
    }

    fn contend(&mut self, _from: Upid, msg: ContendMessage, _ctx: &mut Context<Self>) {
        if self.state != State::Idle || self.withdrawing {
            tracing::warn!(contender = %self.me.pid(), "contend ignored: already contending");
            return;
        }
        self.state = State::Contending(None);
        self.me.send(&self.group, JoinMessage { data: msg.data });
    }

    fn withdraw(&mut self, _from: Upid, _msg: WithdrawMessage, _ctx: &mut Context<Self>) {
        if self.state == State::Idle && !self.withdrawing {
            self.me.send(&self.subscriber, WithdrawnMessage {});
            return;
        }
        self.withdrawing = true;
        self.me.send(&self.group, CancelMessage {});
    }

    fn is_group(&self, from: &Upid) -> bool {
        if from != &self.group {
            tracing::warn!(contender = %self.me.pid(), "ignoring a group message from {from}");
        }
        from == &self.group
    }

    fn joined(&mut self, from: Upid, msg: JoinedMessage, _ctx: &mut Context<Self>) {
        if self.is_group(&from) && self.state == State::Contending(None) {
            self.state = State::Contending(Some(msg.seq));
            self.check();
        }
    }

    fn members(&mut self, from: Upid, msg: MembersMessage, _ctx: &mut Context<Self>) {
        if self.is_group(&from) {
            self.members = msg.members;
            self.check();
        }
    }

    fn check(&mut self) {
        if let State::Contending(Some(seq)) = self.state {
            if leader(&self.members).is_some_and(|m| m.seq == seq) && !self.withdrawing {
                tracing::info!(contender = %self.me.pid(), seq, "elected: this contender is the leader");
                self.state = State::Elected(seq);
                self.me.send(&self.subscriber, ElectedMessage { seq });
            }
        }
    }

    fn lost(&mut self, from: Upid, msg: MembershipLostMessage, _ctx: &mut Context<Self>) {
        if !self.is_group(&from) || self.state == State::Idle {
            return;
        }
        tracing::warn!(contender = %self.me.pid(), seq = msg.seq, "candidacy lost: {}", msg.reason);
        self.state = State::Idle;
        if std::mem::take(&mut self.withdrawing) {
            self.me.send(&self.subscriber, WithdrawnMessage {});
        } else {
            self.me.send(&self.subscriber, CandidacyLostMessage { reason: msg.reason });
        }
    }

    fn cancelled(&mut self, from: Upid, _msg: CancelledMessage, _ctx: &mut Context<Self>) {
        if !self.is_group(&from) {
            return;
        }
        self.state = State::Idle;
        if std::mem::take(&mut self.withdrawing) {
            tracing::info!(contender = %self.me.pid(), "withdrew from the election");
            self.me.send(&self.subscriber, WithdrawnMessage {});
        }
    }
}
