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
//!
//! The machine itself (roles, what each report means) is the pure
//! [`core::LeaderCore`], unit-tested there; this file is its shell inside
//! the master's process: it wires the contender's and the detector's
//! messages to it, reads the registry when told, publishes the role, and
//! ends the master on [`core::Action::Abdicate`].

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::{ActorContext, ActorFutureExt, AsyncContext, Context, WrapFuture};
use libprocess::zookeeper::{
    Backend, CandidacyLostMessage, ContendMessage, ElectedMessage, GroupConfig, LeaderContender, LeaderDetector,
    LeaderMessage, WithdrawnMessage, ZkUrl,
};
use libprocess::{Handlers, Node, SpawnError, Time, Upid};
use rmesos::MasterInfo;
use tokio::sync::oneshot;

use crate::process::MasterProcess;
use crate::registry::Registry;

pub mod core;

pub use self::core::{LeaderCore, Role};

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

impl std::fmt::Debug for HaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HaConfig").field("url", &self.url).field("session_timeout", &self.session_timeout).finish()
    }
}

impl HaConfig {
    fn group(&self) -> GroupConfig {
        GroupConfig { url: self.url.clone(), label: MASTER_LABEL.into(), session_timeout: self.session_timeout }
    }
}

fn code(role: Role) -> u8 {
    match role {
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

/// A master's role as last set, readable from outside its actor without a
/// message ([`crate::RunningMaster::role`]): a simulation checks after every
/// event that at most one master leads.
#[derive(Clone, Debug, Default)]
pub struct RoleCell(Arc<AtomicU8>);

impl RoleCell {
    pub fn get(&self) -> Role {
        from_code(self.0.load(Ordering::SeqCst))
    }

    fn set(&self, role: Role) {
        self.0.store(code(role), Ordering::SeqCst);
    }
}

/// Leadership state of one master process: the machine, its published
/// role, and who waits for a withdraw.
pub struct Ha {
    core: LeaderCore,
    /// `core.role()`, published.
    cell: RoleCell,
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
    fn handle(&mut self, msg: Withdraw, ctx: &mut Context<Self>) {
        self.ha.withdrawn = Some(msg.0);
        let acts = self.ha.core.withdraw();
        self.perform_leader(acts, ctx);
    }
}

impl Ha {
    fn new(core: LeaderCore) -> Ha {
        let cell = RoleCell::default();
        cell.set(core.role());
        Ha { core, cell, withdrawn: None }
    }

    /// A standalone master: leads from the start.
    pub(crate) fn standalone(info: MasterInfo, pid: Upid, now: Time) -> Ha {
        Ha::new(LeaderCore::standalone(info, pid, now))
    }

    pub fn role(&self) -> Role {
        self.core.role()
    }

    /// The published role (shared with [`crate::RunningMaster`]).
    pub(crate) fn role_cell(&self) -> RoleCell {
        self.cell.clone()
    }

    pub fn leader(&self) -> Option<&MasterInfo> {
        self.core.leader()
    }

    /// Clock time this master was elected.
    pub fn elected_at(&self) -> Option<Time> {
        self.core.elected_at()
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
    Ok((Ha::new(LeaderCore::standby(info.clone(), master.clone(), contender, detector)), registry))
}

pub(crate) fn install(h: &mut Handlers<MasterProcess>) {
    libprocess::handlers!(h, MasterProcess, |m| &mut m.ha.core, MasterProcess::perform_leader {
        ElectedMessage => elected(from, msg);
        CandidacyLostMessage => candidacy_lost(from, msg);
        LeaderMessage => leader_detected(from, msg);
        WithdrawnMessage => withdrawn(from);
    });
}

impl MasterProcess {
    /// Whether this master serves framework and slave messages now.
    pub(crate) fn serving(&self) -> bool {
        self.ha.core.serving()
    }

    /// Stopping: nothing the core decides is performed any more.
    pub(crate) fn is_stopping(&self) -> bool {
        self.ha.core.stopping()
    }

    /// A framework or slave message reached a master that does not lead.
    pub(crate) fn not_leading(&mut self, from: &Upid, what: &str) {
        let leader = self.ha.leader().and_then(|l| l.pid.clone()).unwrap_or_else(|| "none".into());
        tracing::info!("Dropping {what} from {from}: not the leading master (leader: {leader})");
        self.core.counters.dropped_messages += 1;
    }

    /// Performs the leadership machine's actions (its role is published first).
    pub(crate) fn perform_leader(&mut self, actions: Vec<core::Action>, ctx: &mut Context<Self>) {
        self.ha.cell.set(self.ha.core.role());
        for action in actions {
            match action {
                core::Action::Send(to, msg) => msg.send(&self.me, &to),
                core::Action::Recover => self.recover(ctx),
                core::Action::Withdrawn => {
                    if let Some(tx) = self.ha.withdrawn.take() {
                        let _ = tx.send(());
                    }
                }
                core::Action::Abdicate(_) => {
                    if self.opts.exit_on_lost_leadership {
                        std::process::exit(1);
                    }
                    ctx.stop();
                    self.me.node().shutdown();
                }
            }
        }
    }

    /// Reads the registry, hands it to the core, then leads.
    fn recover(&mut self, ctx: &mut Context<Self>) {
        let (slaves, losses) = (self.registry.recover(), self.registry.losses());
        let read = async move {
            let slaves = slaves.await?;
            Ok::<_, libprocess::zookeeper::ZkError>((slaves, losses.await?))
        };
        let fut = read.into_actor(self).map(|res, act: &mut MasterProcess, ctx| {
            if !act.ha.core.recovering() {
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
                    let now = act.now();
                    let acts = act.ha.core.recovered(now);
                    act.perform_leader(acts, ctx);
                }
                Err(e) => act.lose_leadership(&format!("cannot read the registry: {e}"), ctx),
            }
        });
        ctx.wait(fut);
    }

    /// See the module doc: the master stops at once.
    pub(crate) fn lose_leadership(&mut self, why: &str, ctx: &mut Context<Self>) {
        let acts = self.ha.core.lose(why);
        self.perform_leader(acts, ctx);
    }
}
