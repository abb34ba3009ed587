//! Master high availability: who leads, and what a master does about it.
//!
//! With `--zk`, each master runs a `LeaderContender` (process `contender`,
//! its own ZooKeeper session) holding a `json.info_<seq>` member with its
//! MasterInfo JSON, and a `LeaderDetector` (process `detector`, another
//! session) reporting the leader: the member with the lowest sequence. As in
//! Mesos, the *detector* decides: the master leads when the detected leader
//! is itself (the contender's `ElectedMessage` is only logged), so a master
//! never leads on a view older than the one it shows.
//!
//! Roles:
//! - *standby* (until elected): framework and slave messages are dropped with
//!   one log line each (they retry; their detectors lead them to the
//!   leader), `/state` shows the leader it knows, `/redirect` points to it.
//!   Standbys log "Following leader master@..." once per leader change.
//! - *recovering*: elected; reads the registry (the actor handles no other
//!   message meanwhile).
//! - *leading*: serves; each admitted slave read from the registry must
//!   reregister within `--agent_reregister_timeout` (see `core/recovery.rs`).
//!
//! Losing leadership (candidacy lost, session expired, another leader or no
//! leader detected, a registry write failing) while recovering or leading
//! ends the master at once, as Mesos's `EXIT(EXIT_FAILURE)`: "Lost
//! leadership... committing suicide!". Why exit rather than drop back to
//! standby: everything the master holds (offers, tasks, framework and slave
//! connections, links, timers) belongs to its term; a fresh process starts
//! empty and rejoins as a standby, so no state of an old term can leak into
//! a new one, and no offer or launch can come from two masters. Masters run
//! under a supervisor that restarts them (as Mesos's do). The binary exits
//! the process with status 1; an embedded master (tests, `rmesos-local`)
//! shuts its node down, which is the same crash seen from outside.
//!
//! A standby whose candidacy is lost (its session expired) contends again.
//!
//! Graceful stop ([`crate::RunningMaster::stop`], SIGTERM/SIGINT of the
//! binary): the master stops acting at once and withdraws its member znode
//! before its node shuts down, so the next master is elected within
//! milliseconds rather than after the session timeout (a process that just
//! exits leaves its session to expire on the servers).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::{ActorContext, ActorFutureExt, AsyncContext, Context, WrapFuture};
use libprocess::zookeeper::{
    Backend, CandidacyLostMessage, ContendMessage, ElectedMessage, GroupConfig, LeaderContender, LeaderDetector,
    LeaderMessage, WithdrawMessage, WithdrawnMessage, ZkUrl,
};
use libprocess::{Handlers, Node, SpawnError, Time, Upid};
use rmesos::MasterInfo;
use tokio::sync::oneshot;

use crate::actor::MasterProcess;
use crate::registry::Registry;

/// The label of master members (Mesos's `json.info_<seq>`).
pub const MASTER_LABEL: &str = rmesos::detect_zk::MASTER_LABEL;
/// Process id of the master's contender.
pub const CONTENDER_ID: &str = "contender";
/// Process id of the master's detector.
pub const DETECTOR_ID: &str = "detector";

/// What a master needs for leader election.
#[derive(Clone)]
pub struct HaConfig {
    pub backend: Arc<dyn Backend>,
    pub url: ZkUrl,
    /// `--zk_session_timeout`.
    pub session_timeout: Duration,
}

impl HaConfig {
    fn group(&self) -> GroupConfig {
        GroupConfig { url: self.url.clone(), label: MASTER_LABEL.into(), session_timeout: self.session_timeout }
    }
}

/// The master's role now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Standby,
    Recovering,
    Leading,
}

impl Role {
    fn code(self) -> u8 {
        match self {
            Role::Standby => 0,
            Role::Recovering => 1,
            Role::Leading => 2,
        }
    }

    fn from_code(code: u8) -> Role {
        match code {
            1 => Role::Recovering,
            2 => Role::Leading,
            _ => Role::Standby,
        }
    }
}

/// A master's role as last set, readable from outside its actor without a
/// message ([`crate::RunningMaster::role`]): a simulation checks after every
/// event that at most one master leads.
#[derive(Clone, Debug, Default)]
pub struct RoleCell(Arc<AtomicU8>);

impl RoleCell {
    pub fn get(&self) -> Role {
        Role::from_code(self.0.load(Ordering::SeqCst))
    }

    fn set(&self, role: Role) {
        self.0.store(role.code(), Ordering::SeqCst);
    }
}

/// Leadership state of one master process.
pub struct Ha {
    role: Role,
    /// `role`, published.
    cell: RoleCell,
    /// The leader as last detected (this master itself when standalone).
    pub(crate) leader: Option<MasterInfo>,
    /// Clock time this master was elected.
    pub(crate) elected_at: Option<Time>,
    /// Contender and detector pids (None: standalone).
    zk: Option<(Upid, Upid)>,
    /// Stopping: acts no more, waits for its withdraw.
    stopping: bool,
    withdrawn: Option<oneshot::Sender<()>>,
}

/// Longest wait for the withdraw of a stopping master (then it stops anyway
/// and its session expires on the servers).
pub const WITHDRAW_TIMEOUT: Duration = Duration::from_secs(2);

/// Asks a master to stop acting and leave the election; the sender is told
/// once its member znode is gone (at once when standalone).
pub struct Withdraw(pub oneshot::Sender<()>);

impl actix::Message for Withdraw {
    type Result = ();
}

impl actix::Handler<Withdraw> for MasterProcess {
    type Result = ();
    fn handle(&mut self, msg: Withdraw, _: &mut Context<Self>) {
        let Some((contender, _)) = self.ha.zk.clone() else {
            let _ = msg.0.send(());
            return;
        };
        tracing::info!("Master {} stopping: withdrawing from the election", self.me.pid());
        self.ha.set_role(Role::Standby);
        self.ha.stopping = true;
        self.ha.withdrawn = Some(msg.0);
        self.me.send(&contender, WithdrawMessage {});
    }
}

impl Ha {
    /// A standalone master: leads from the start.
    pub(crate) fn standalone(info: MasterInfo, now: Time) -> Ha {
        let cell = RoleCell::default();
        cell.set(Role::Leading);
        Ha {
            role: Role::Leading,
            cell,
            leader: Some(info),
            elected_at: Some(now),
            zk: None,
            stopping: false,
            withdrawn: None,
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub(crate) fn set_role(&mut self, role: Role) {
        self.role = role;
        self.cell.set(role);
    }

    /// The published role (shared with [`crate::RunningMaster`]).
    pub(crate) fn role_cell(&self) -> RoleCell {
        self.cell.clone()
    }

    pub fn leader(&self) -> Option<&MasterInfo> {
        self.leader.as_ref()
    }
}

/// Spawns the contender and detector for `master` on `node`, makes the master
/// a standby that knows them, and starts contending. Returns the registry
/// the master must use.
pub(crate) fn start(
    node: &Node,
    master: &Upid,
    ha: &HaConfig,
    info: &MasterInfo,
) -> Result<(Ha, Registry), SpawnError> {
    let contender = LeaderContender::spawn(node, CONTENDER_ID, ha.backend.clone(), ha.group(), master.clone())?;
    let detector = match LeaderDetector::spawn(node, DETECTOR_ID, ha.backend.clone(), ha.group(), master.clone()) {
        Ok(d) => d,
        Err(e) => {
            node.terminate(&contender);
            return Err(e);
        }
    };
    node.send(master, &contender, ContendMessage { data: info.to_json().into_bytes() });
    let registry = Registry::zookeeper(ha.backend.clone(), ha.url.clone(), ha.session_timeout);
    let zk = Some((contender, detector));
    let state = Ha {
        role: Role::Standby,
        cell: RoleCell::default(),
        leader: None,
        elected_at: None,
        zk,
        stopping: false,
        withdrawn: None,
    };
    Ok((state, registry))
}

pub(crate) fn install(h: &mut Handlers<MasterProcess>) {
    h.install(MasterProcess::on_elected)
        .install(MasterProcess::on_candidacy_lost)
        .install(MasterProcess::on_leader)
        .install(MasterProcess::on_withdrawn);
}

impl MasterProcess {
    /// Whether this master serves framework and slave messages now.
    pub(crate) fn serving(&self) -> bool {
        self.ha.role == Role::Leading
    }

    /// Stopping: nothing the core decides is performed any more.
    pub(crate) fn is_stopping(&self) -> bool {
        self.ha.stopping
    }

    fn on_withdrawn(&mut self, from: Upid, _: WithdrawnMessage, _ctx: &mut Context<Self>) {
        if self.is_contender(&from) {
            tracing::info!("Master {} withdrew from the election", self.me.pid());
            if let Some(tx) = self.ha.withdrawn.take() {
                let _ = tx.send(());
            }
        }
    }

    /// A framework or slave message reached a master that does not lead.
    pub(crate) fn not_leading(&mut self, from: &Upid, what: &str) {
        let leader = self.ha.leader.as_ref().and_then(|l| l.pid.clone()).unwrap_or_else(|| "none".into());
        tracing::info!("Dropping {what} from {from}: not the leading master (leader: {leader})");
        self.core.counters.dropped_messages += 1;
    }

    fn is_contender(&self, from: &Upid) -> bool {
        self.ha.zk.as_ref().is_some_and(|(c, _)| c == from)
    }

    fn is_detector(&self, from: &Upid) -> bool {
        self.ha.zk.as_ref().is_some_and(|(_, d)| d == from)
    }

    fn on_elected(&mut self, from: Upid, msg: ElectedMessage, _ctx: &mut Context<Self>) {
        if self.is_contender(&from) {
            tracing::debug!("Contender {from} reports member {} elected; waiting for the detector", msg.seq);
        }
    }

    fn on_candidacy_lost(&mut self, from: Upid, msg: CandidacyLostMessage, ctx: &mut Context<Self>) {
        if !self.is_contender(&from) {
            tracing::warn!("Ignoring CandidacyLostMessage from {from}: not this master's contender");
            return;
        }
        if self.ha.stopping {
            return;
        }
        if self.ha.role == Role::Standby {
            tracing::info!("Lost candidacy as a standby ({}); {} contends again", msg.reason, self.me.pid());
            let data = self.core.info().to_json().into_bytes();
            self.me.send(&from, ContendMessage { data });
            return;
        }
        self.lose_leadership(&format!("candidacy lost: {}", msg.reason), ctx);
    }

    fn on_leader(&mut self, from: Upid, msg: LeaderMessage, ctx: &mut Context<Self>) {
        if !self.is_detector(&from) {
            tracing::warn!("Ignoring LeaderMessage from {from}: not this master's detector");
            return;
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
        let me_leads = leader.as_ref().is_some_and(|l| l.id == self.core.info().id);
        let describe = |l: &Option<MasterInfo>| match l {
            Some(l) => format!("{} ({})", l.pid.as_deref().unwrap_or("?"), l.id),
            None => "none".to_string(),
        };
        let text = describe(&leader);
        // The leader this master saw before, if another: its loss is part of
        // the line (SEED 2: standbys log the loss of the leader).
        let was = match &self.ha.leader {
            Some(old) if leader.as_ref().is_none_or(|l| l.id != old.id) => {
                format!("; previous leader {} is gone", describe(&self.ha.leader))
            }
            _ => String::new(),
        };
        self.ha.leader = leader;
        if self.ha.stopping {
            return;
        }
        match (self.ha.role, me_leads) {
            (Role::Standby, true) => {
                let (id, me) = (&self.core.info().id, self.me.pid());
                tracing::info!("Elected as the leading master! (master {id} at {me}{was})");
                self.ha.set_role(Role::Recovering);
                self.recover(ctx);
            }
            (Role::Standby, false) if text == "none" => {
                tracing::info!("No leading master detected; {} waits as a standby{was}", self.me.pid())
            }
            (Role::Standby, false) => {
                tracing::info!("Following leader {text} as a standby (this master: {}{was})", self.me.pid())
            }
            (_, false) => self.lose_leadership(&format!("the detected leader is now {text}"), ctx),
            (_, true) => {}
        }
    }

    /// Reads the registry, then leads.
    fn recover(&mut self, ctx: &mut Context<Self>) {
        let (slaves, losses) = (self.registry.recover(), self.registry.losses());
        let read = async move {
            let slaves = slaves.await?;
            Ok::<_, libprocess::zookeeper::ZkError>((slaves, losses.await?))
        };
        let fut = read.into_actor(self).map(|res, act: &mut MasterProcess, ctx| {
            if act.ha.role != Role::Recovering {
                return;
            }
            match res {
                Ok((slaves, losses)) => {
                    act.registry.recovered(&slaves);
                    act.core.recover_losses(losses);
                    let acts = act.core.recover(slaves);
                    act.perform(acts, ctx);
                    if act.core.recovered_slaves().next().is_some() {
                        let after = act.opts.agent_reregister_timeout;
                        act.me.delay(ctx, after, |act: &mut MasterProcess, ctx| {
                            let now = act.now();
                            let (_, acts) = act.core.recovered_timeout(now);
                            act.perform(acts, ctx);
                        });
                    }
                    act.ha.set_role(Role::Leading);
                    act.ha.elected_at = Some(act.now());
                    tracing::info!("Master {} at {} leads: recovered the registry", act.core.info().id, act.me.pid());
                }
                Err(e) => act.lose_leadership(&format!("cannot read the registry: {e}"), ctx),
            }
        });
        ctx.wait(fut);
    }

    /// See the module doc: the master stops at once.
    pub(crate) fn lose_leadership(&mut self, why: &str, ctx: &mut Context<Self>) {
        if self.ha.role == Role::Standby {
            return;
        }
        self.ha.set_role(Role::Standby);
        tracing::error!(
            "Lost leadership ({why})... committing suicide! (master {} at {})",
            self.core.info().id,
            self.me.pid()
        );
        if self.opts.exit_on_lost_leadership {
            std::process::exit(1);
        }
        ctx.stop();
        self.me.node().shutdown();
    }
}
