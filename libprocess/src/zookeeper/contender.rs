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
//! Its decisions live in [`ContenderCore`] (events in, outputs out, no I/O);
//! the process only turns outputs into messages.
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContendMessage {
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}
crate::message!(ContendMessage, "libprocess.zookeeper.ContendMessage");

/// Subscriber -> contender: stop contending (delete the member znode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// What the contender's core decides: a message to its group or a report
/// to its subscriber.
#[derive(Debug, Clone, PartialEq)]
pub enum ContenderOut {
    Join(Vec<u8>),
    Cancel,
    Elected(u64),
    Lost(String),
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Idle,
    Contending(Option<u64>),
    Elected(u64),
}

/// The contender's decisions, with no I/O: events in, [`ContenderOut`]s out.
#[derive(Debug)]
pub struct ContenderCore {
    state: State,
    withdrawing: bool,
    members: Vec<Member>,
}

impl Default for ContenderCore {
    fn default() -> Self {
        ContenderCore { state: State::Idle, withdrawing: false, members: Vec::new() }
    }
}

impl ContenderCore {
    /// Whether this contender leads now.
    pub fn is_elected(&self) -> bool {
        matches!(self.state, State::Elected(_))
    }

    /// The subscriber asks to contend with `data`.
    pub fn contend(&mut self, data: Vec<u8>) -> Vec<ContenderOut> {
        if self.state != State::Idle || self.withdrawing {
            tracing::warn!("contend ignored: already contending");
            return vec![];
        }
        self.state = State::Contending(None);
        vec![ContenderOut::Join(data)]
    }

    /// The subscriber asks to withdraw.
    pub fn withdraw(&mut self) -> Vec<ContenderOut> {
        if self.state == State::Idle && !self.withdrawing {
            return vec![ContenderOut::Withdrawn];
        }
        self.withdrawing = true;
        vec![ContenderOut::Cancel]
    }

    /// The group created our member `seq`.
    pub fn joined(&mut self, seq: u64) -> Vec<ContenderOut> {
        if self.state != State::Contending(None) {
            return vec![];
        }
        self.state = State::Contending(Some(seq));
        self.check()
    }

    /// The group's member list changed.
    pub fn members(&mut self, members: Vec<Member>) -> Vec<ContenderOut> {
        self.members = members;
        self.check()
    }

    fn check(&mut self) -> Vec<ContenderOut> {
        match self.state {
            State::Contending(Some(seq))
                if !self.withdrawing && leader(&self.members).is_some_and(|m| m.seq == seq) =>
            {
                self.state = State::Elected(seq);
                vec![ContenderOut::Elected(seq)]
            }
            _ => vec![],
        }
    }

    /// Our membership is gone without a request.
    pub fn lost(&mut self, reason: String) -> Vec<ContenderOut> {
        if self.state == State::Idle {
            return vec![];
        }
        self.state = State::Idle;
        if std::mem::take(&mut self.withdrawing) {
            vec![ContenderOut::Withdrawn]
        } else {
            vec![ContenderOut::Lost(reason)]
        }
    }

    /// Our membership was cancelled on request.
    pub fn cancelled(&mut self) -> Vec<ContenderOut> {
        self.state = State::Idle;
        if std::mem::take(&mut self.withdrawing) {
            vec![ContenderOut::Withdrawn]
        } else {
            vec![]
        }
    }
}

/// The contender process: its core plus the messages in and out.
pub struct LeaderContender {
    me: Me,
    group: Upid,
    subscriber: Upid,
    core: ContenderCore,
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
        let spawned =
            node.spawn(id, move |me| LeaderContender { me, group: g, subscriber, core: ContenderCore::default() });
        match spawned {
            Ok(s) => Ok(s.pid),
            Err(e) => {
                node.terminate(&group);
                Err(e)
            }
        }
    }

    fn act(&mut self, outs: Vec<ContenderOut>) {
        for out in outs {
            match out {
                ContenderOut::Join(data) => self.me.send(&self.group, JoinMessage { data }),
                ContenderOut::Cancel => self.me.send(&self.group, CancelMessage {}),
                ContenderOut::Elected(seq) => {
                    tracing::info!(contender = %self.me.pid(), seq, "elected: this contender is the leader");
                    self.me.send(&self.subscriber, ElectedMessage { seq });
                }
                ContenderOut::Lost(reason) => {
                    tracing::warn!(contender = %self.me.pid(), "candidacy lost: {reason}");
                    self.me.send(&self.subscriber, CandidacyLostMessage { reason });
                }
                ContenderOut::Withdrawn => {
                    tracing::info!(contender = %self.me.pid(), "withdrew from the election");
                    self.me.send(&self.subscriber, WithdrawnMessage {});
                }
            }
        }
    }

    fn is_group(&self, from: &Upid) -> bool {
        if from != &self.group {
            tracing::warn!(contender = %self.me.pid(), "ignoring a group message from {from}");
        }
        from == &self.group
    }

    fn contend(&mut self, _from: Upid, msg: ContendMessage, _ctx: &mut Context<Self>) {
        let outs = self.core.contend(msg.data);
        self.act(outs);
    }

    fn withdraw(&mut self, _from: Upid, _msg: WithdrawMessage, _ctx: &mut Context<Self>) {
        let outs = self.core.withdraw();
        self.act(outs);
    }

    fn joined(&mut self, from: Upid, msg: JoinedMessage, _ctx: &mut Context<Self>) {
        if self.is_group(&from) {
            let outs = self.core.joined(msg.seq);
            self.act(outs);
        }
    }

    fn members(&mut self, from: Upid, msg: MembersMessage, _ctx: &mut Context<Self>) {
        if self.is_group(&from) {
            let outs = self.core.members(msg.members);
            self.act(outs);
        }
    }

    fn lost(&mut self, from: Upid, msg: MembershipLostMessage, _ctx: &mut Context<Self>) {
        if self.is_group(&from) {
            let outs = self.core.lost(msg.reason);
            self.act(outs);
        }
    }

    fn cancelled(&mut self, from: Upid, _msg: CancelledMessage, _ctx: &mut Context<Self>) {
        if self.is_group(&from) {
            let outs = self.core.cancelled();
            self.act(outs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ContenderOut::*;
    use super::*;

    fn m(seq: u64) -> Member {
        Member { seq, data: vec![] }
    }

    #[test]
    fn elected_only_as_lowest_member_in_any_order() {
        let mut c = ContenderCore::default();
        assert_eq!(c.contend(b"d".to_vec()), vec![Join(b"d".to_vec())]);
        assert_eq!(c.contend(b"again".to_vec()), vec![], "one candidacy at a time");
        assert_eq!(c.members(vec![m(1), m(5)]), vec![]);
        assert_eq!(c.joined(5), vec![], "5 is not the lowest");
        assert_eq!(c.members(vec![m(5), m(7)]), vec![Elected(5)]);
        assert_eq!(c.members(vec![m(5)]), vec![], "reported once");
        assert!(c.is_elected());

        let mut c = ContenderCore::default();
        c.contend(vec![]);
        assert_eq!(c.members(vec![m(3)]), vec![], "members before the join completes");
        assert_eq!(c.joined(3), vec![Elected(3)]);
    }

    #[test]
    fn loss_and_withdraw() {
        let mut c = ContenderCore::default();
        assert_eq!(c.withdraw(), vec![Withdrawn], "idle: nothing to cancel");
        c.contend(vec![]);
        c.joined(1);
        c.members(vec![m(1)]);
        assert_eq!(c.lost("expired".into()), vec![Lost("expired".into())]);
        assert_eq!(c.lost("again".into()), vec![], "lost once");

        c.contend(vec![]);
        assert_eq!(c.withdraw(), vec![Cancel], "withdraw while the join is in flight");
        assert_eq!(c.joined(2), vec![]);
        assert_eq!(c.members(vec![m(2)]), vec![], "never elected while withdrawing");
        assert_eq!(c.cancelled(), vec![Withdrawn]);

        c.contend(vec![]);
        c.joined(3);
        c.withdraw();
        assert_eq!(c.lost("expired".into()), vec![Withdrawn], "a loss during a withdraw completes it");
    }
}
