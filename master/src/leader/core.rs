//! The leadership machine of one master, pure: Standby -> Recovering ->
//! Leading, and the way out (lost leadership ends the master). Events in
//! (the contender's and the detector's reports, the registry read, a
//! registry write failing, a graceful stop), [`Action`]s out (messages to
//! the contender, "read the registry", "the withdraw is done", "end this
//! master"). No I/O, no clock reads; the master's shell (`leader.rs`)
//! performs the actions and publishes [`LeaderCore::role`]. Why the
//! detector decides and why a master that loses leadership exits: see
//! `leader.rs`.

use libprocess::zookeeper::{CandidacyLostMessage, ContendMessage, ElectedMessage, LeaderMessage, WithdrawMessage};
use libprocess::{Time, Upid};
use rmesos::MasterInfo;

/// The master's role now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Standby,
    Recovering,
    Leading,
}

libprocess::outgoing! {
    /// What the leadership machine sends (to this master's contender).
    #[derive(Debug, Clone, PartialEq)]
    pub enum Outgoing {
        Contend(ContendMessage),
        Withdraw(WithdrawMessage),
    }
}

/// What the shell does, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send(Upid, Outgoing),
    /// Elected: read the registry (slaves and losses), hand it to the
    /// master's core, then call [`LeaderCore::recovered`] (or
    /// [`LeaderCore::lose`] if the read failed).
    Recover,
    /// The graceful stop asked for is done (the member znode is gone, or
    /// there was none): tell whoever asked.
    Withdrawn,
    /// Leadership is lost: end this master (exit the process, or stop its
    /// node when embedded). Carries the reason (already logged).
    Abdicate(String),
}

/// One master's leadership state; see the module doc.
#[derive(Debug, Clone)]
pub struct LeaderCore {
    role: Role,
    /// This master (its id decides whether a detected leader is itself).
    info: MasterInfo,
    pid: Upid,
    /// The leader as last detected (this master itself when standalone).
    leader: Option<MasterInfo>,
    /// Clock time this master was elected.
    elected_at: Option<Time>,
    /// Contender and detector pids (None: standalone).
    zk: Option<(Upid, Upid)>,
    /// Stopping: acts no more, waits for its withdraw.
    stopping: bool,
}

impl LeaderCore {
    /// A standalone master: leads from the start.
    pub fn standalone(info: MasterInfo, pid: Upid, now: Time) -> LeaderCore {
        let leader = Some(info.clone());
        LeaderCore { role: Role::Leading, info, pid, leader, elected_at: Some(now), zk: None, stopping: false }
    }

    /// A standby that contends through `contender` and follows `detector`.
    pub fn standby(info: MasterInfo, pid: Upid, contender: Upid, detector: Upid) -> LeaderCore {
        let zk = Some((contender, detector));
        LeaderCore { role: Role::Standby, info, pid, leader: None, elected_at: None, zk, stopping: false }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether framework and slave messages are served now.
    pub fn serving(&self) -> bool {
        self.role == Role::Leading
    }

    /// Stopping: nothing the master's core decides is performed any more.
    pub fn stopping(&self) -> bool {
        self.stopping
    }

    pub fn leader(&self) -> Option<&MasterInfo> {
        self.leader.as_ref()
    }

    pub fn elected_at(&self) -> Option<Time> {
        self.elected_at
    }

    fn is_contender(&self, from: &Upid) -> bool {
        self.zk.as_ref().is_some_and(|(c, _)| c == from)
    }

    fn is_detector(&self, from: &Upid) -> bool {
        self.zk.as_ref().is_some_and(|(_, d)| d == from)
    }

    fn contend(&self, to: &Upid) -> Action {
        Action::Send(to.clone(), Outgoing::Contend(ContendMessage { data: self.info.to_json().into_bytes() }))
    }

    /// A graceful stop: leave the election (at once when standalone).
    pub fn withdraw(&mut self) -> Vec<Action> {
        let Some((contender, _)) = self.zk.clone() else { return vec![Action::Withdrawn] };
        tracing::info!("Master {} stopping: withdrawing from the election", self.pid);
        self.role = Role::Standby;
        self.stopping = true;
        vec![Action::Send(contender, Outgoing::Withdraw(WithdrawMessage {}))]
    }

    /// The contender confirms the withdraw.
    pub fn withdrawn(&mut self, from: &Upid) -> Vec<Action> {
        if !self.is_contender(from) {
            return vec![];
        }
        tracing::info!("Master {} withdrew from the election", self.pid);
        vec![Action::Withdrawn]
    }

    /// The contender's member is the lowest: only logged (the detector decides).
    pub fn elected(&mut self, from: &Upid, msg: ElectedMessage) -> Vec<Action> {
        if self.is_contender(from) {
            tracing::debug!("Contender {from} reports member {} elected; waiting for the detector", msg.seq);
        }
        vec![]
    }

    /// The contender lost its member (its session expired): a standby
    /// contends again; a recovering or leading master is done.
    pub fn candidacy_lost(&mut self, from: &Upid, msg: CandidacyLostMessage) -> Vec<Action> {
        let reason = msg.reason;
        if !self.is_contender(from) {
            tracing::warn!("Ignoring CandidacyLostMessage from {from}: not this master's contender");
            return vec![];
        }
        if self.stopping {
            return vec![];
        }
        if self.role == Role::Standby {
            tracing::info!("Lost candidacy as a standby ({reason}); {} contends again", self.pid);
            return vec![self.contend(from)];
        }
        self.lose(&format!("candidacy lost: {reason}"))
    }

    /// The detector reports the leader (or none).
    pub fn leader_detected(&mut self, from: &Upid, msg: LeaderMessage) -> Vec<Action> {
        if !self.is_detector(from) {
            tracing::warn!("Ignoring LeaderMessage from {from}: not this master's detector");
            return vec![];
        }
        let leader = msg.leader.and_then(|m| match std::str::from_utf8(&m.data).map(MasterInfo::from_json) {
            Ok(Ok(info)) => Some(info),
            Ok(Err(e)) => {
                tracing::warn!("leader member {} holds no MasterInfo JSON ({e}); treating as no leader", m.seq);
                None
            }
            Err(e) => {
                tracing::warn!("leader member {} holds non-UTF-8 data ({e}); treating as no leader", m.seq);
                None
            }
        });
        let me_leads = leader.as_ref().is_some_and(|l| l.id == self.info.id);
        let describe = |l: &Option<MasterInfo>| match l {
            Some(l) => format!("{} ({})", l.pid.as_deref().unwrap_or("?"), l.id),
            None => "none".to_string(),
        };
        let text = describe(&leader);
        // The leader this master saw before, if another: its loss is part of
        // the line (SEED 2: standbys log the loss of the leader).
        let was = match &self.leader {
            Some(old) if leader.as_ref().is_none_or(|l| l.id != old.id) => {
                format!("; previous leader {} is gone", describe(&self.leader))
            }
            _ => String::new(),
        };
        self.leader = leader;
        if self.stopping {
            return vec![];
        }
        match (self.role, me_leads) {
            (Role::Standby, true) => {
                tracing::info!("Elected as the leading master! (master {} at {}{was})", self.info.id, self.pid);
                self.role = Role::Recovering;
                vec![Action::Recover]
            }
            (Role::Standby, false) if text == "none" => {
                tracing::info!("No leading master detected; {} waits as a standby{was}", self.pid);
                vec![]
            }
            (Role::Standby, false) => {
                tracing::info!("Following leader {text} as a standby (this master: {}{was})", self.pid);
                vec![]
            }
            (_, false) => self.lose(&format!("the detected leader is now {text}")),
            (_, true) => vec![],
        }
    }

    /// Whether a registry read finishing now still counts (this master is
    /// still recovering: it did not lose leadership meanwhile).
    pub fn recovering(&self) -> bool {
        self.role == Role::Recovering
    }

    /// The registry was read and handed to the master's core: lead.
    pub fn recovered(&mut self, now: Time) -> Vec<Action> {
        if self.role != Role::Recovering {
            return vec![];
        }
        self.role = Role::Leading;
        self.elected_at = Some(now);
        tracing::info!("Master {} at {} leads: recovered the registry", self.info.id, self.pid);
        vec![]
    }

    /// Leadership is lost (see the module doc): unless already a standby,
    /// the master ends.
    pub fn lose(&mut self, why: &str) -> Vec<Action> {
        if self.role == Role::Standby {
            return vec![];
        }
        self.role = Role::Standby;
        tracing::error!("Lost leadership ({why})... committing suicide! (master {} at {})", self.info.id, self.pid);
        vec![Action::Abdicate(why.to_string())]
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use libprocess::zookeeper::{LeaderMessage, Member};

    use super::*;

    fn pid(s: &str) -> Upid {
        s.parse().unwrap()
    }

    fn info(id: &str, at: &str) -> MasterInfo {
        MasterInfo::new(id, &pid(at), Some("host".into()), None)
    }

    fn me() -> LeaderCore {
        LeaderCore::standby(
            info("m1", "master@127.0.0.1:5050"),
            pid("master@127.0.0.1:5050"),
            pid("contender@127.0.0.1:5050"),
            pid("detector@127.0.0.1:5050"),
        )
    }

    fn detected(who: Option<&MasterInfo>) -> LeaderMessage {
        LeaderMessage { leader: who.map(|i| Member { seq: 1, data: i.to_json().into_bytes() }) }
    }

    fn lost(reason: &str) -> CandidacyLostMessage {
        CandidacyLostMessage { reason: reason.into() }
    }

    const DETECTOR: &str = "detector@127.0.0.1:5050";
    const CONTENDER: &str = "contender@127.0.0.1:5050";

    #[test]
    fn a_standby_follows_until_the_detector_names_it_then_recovers_then_leads() {
        let mut c = me();
        let other = info("m0", "master@127.0.0.1:5051");
        assert_eq!(c.leader_detected(&pid(DETECTOR), detected(Some(&other))), vec![]);
        assert_eq!((c.role(), c.leader()), (Role::Standby, Some(&other)));
        // The contender's word alone changes nothing.
        assert_eq!(c.elected(&pid(CONTENDER), ElectedMessage { seq: 2 }), vec![]);
        assert_eq!(c.role(), Role::Standby);
        let mine = c.info.clone();
        assert_eq!(c.leader_detected(&pid(DETECTOR), detected(Some(&mine))), vec![Action::Recover]);
        assert_eq!(c.role(), Role::Recovering);
        assert!(!c.serving() && c.recovering());
        let t = Time::default() + Duration::from_secs(7);
        assert_eq!(c.recovered(t), vec![]);
        assert!(c.serving());
        assert_eq!(c.elected_at(), Some(t));
    }

    #[test]
    fn reports_from_strangers_are_ignored() {
        let mut c = me();
        let mine = c.info.clone();
        assert_eq!(c.leader_detected(&pid("detector@10.0.0.1:1"), detected(Some(&mine))), vec![]);
        assert_eq!(c.candidacy_lost(&pid("contender@10.0.0.1:1"), lost("expired")), vec![]);
        assert_eq!(c.withdrawn(&pid("contender@10.0.0.1:1")), vec![]);
        assert_eq!((c.role(), c.leader()), (Role::Standby, None));
    }

    #[test]
    fn a_standby_contends_again_but_a_leader_that_loses_its_candidacy_abdicates() {
        let mut c = me();
        let acts = c.candidacy_lost(&pid(CONTENDER), lost("session expired"));
        assert!(matches!(&acts[..], [Action::Send(to, Outgoing::Contend(m))]
            if *to == pid(CONTENDER) && m.data == c.info.to_json().into_bytes()));
        let mine = c.info.clone();
        c.leader_detected(&pid(DETECTOR), detected(Some(&mine)));
        c.recovered(Time::default());
        let acts = c.candidacy_lost(&pid(CONTENDER), lost("session expired"));
        assert_eq!(acts, vec![Action::Abdicate("candidacy lost: session expired".into())]);
        assert_eq!(c.role(), Role::Standby);
        // Once ended, nothing more is lost.
        assert_eq!(c.lose("registry write failed"), vec![]);
    }

    #[test]
    fn another_leader_or_none_ends_a_recovering_or_leading_master() {
        for lead in [false, true] {
            let mut c = me();
            let mine = c.info.clone();
            c.leader_detected(&pid(DETECTOR), detected(Some(&mine)));
            if lead {
                c.recovered(Time::default());
            }
            let acts = c.leader_detected(&pid(DETECTOR), detected(None));
            assert_eq!(acts, vec![Action::Abdicate("the detected leader is now none".into())]);
            // A registry read finishing after that is stale.
            assert!(!c.recovering());
            assert_eq!(c.recovered(Time::default()), vec![]);
            assert!(!c.serving());
        }
    }

    #[test]
    fn garbage_in_the_leader_member_reads_as_no_leader() {
        let mut c = me();
        let msg = LeaderMessage { leader: Some(Member { seq: 3, data: vec![0xff, 0xfe] }) };
        assert_eq!(c.leader_detected(&pid(DETECTOR), msg), vec![]);
        assert_eq!(c.leader(), None);
        let msg = LeaderMessage { leader: Some(Member { seq: 4, data: b"{not json".to_vec() }) };
        assert_eq!(c.leader_detected(&pid(DETECTOR), msg), vec![]);
        assert_eq!(c.role(), Role::Standby);
    }

    #[test]
    fn a_withdraw_stops_acting_and_waits_for_the_contender() {
        let mut c = me();
        let mine = c.info.clone();
        c.leader_detected(&pid(DETECTOR), detected(Some(&mine)));
        c.recovered(Time::default());
        assert_eq!(c.withdraw(), vec![Action::Send(pid(CONTENDER), Outgoing::Withdraw(WithdrawMessage {}))]);
        assert!(c.stopping() && !c.serving());
        // While stopping, reports change what is shown but decide nothing.
        assert_eq!(c.leader_detected(&pid(DETECTOR), detected(None)), vec![]);
        assert_eq!(c.candidacy_lost(&pid(CONTENDER), lost("gone")), vec![]);
        assert_eq!(c.withdrawn(&pid(CONTENDER)), vec![Action::Withdrawn]);
        // Standalone: done at once, still leading until the node stops.
        let mut s = LeaderCore::standalone(mine, pid("master@127.0.0.1:5050"), Time::default());
        assert!(s.serving());
        assert_eq!(s.withdraw(), vec![Action::Withdrawn]);
        assert!(s.serving() && !s.stopping());
    }
}
