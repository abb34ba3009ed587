//! The master's libprocess process (id `master`): the shell around
//! [`MasterCore`]. It installs one handler per message, reads "now" from the
//! node's clock, performs the core's actions (send, link, timers), and runs
//! the two periodic timers: allocation every `--allocation_interval` and
//! health checks every `--agent_ping_timeout`. HTTP routes are in `http/`.
//!
//! Links: the master links to every scheduler and slave it admits. `Exited`
//! for a scheduler disconnects its framework (offers withdrawn; removed after
//! its `failover_timeout` unless it reregisters). `Exited` for a slave
//! disconnects it (no offers; tasks of non-checkpointing frameworks lost) and
//! the health checks decide its removal, as Mesos does.
//!
//! Leadership (see `leader/`): framework and slave messages are handled
//! only while this master leads; the leadership machine is a pure core of
//! its own ([`crate::leader::LeaderCore`]). Registry (see `registry.rs`):
//! the core decides every write ([`Action::Admit`] before a slave hears it
//! is registered, [`Action::Unadmit`] for a removed slave,
//! [`Action::RecordLoss`] / [`Action::ClearLoss`]); this shell only
//! performs them, and a failed write loses leadership.
//!
//! Allocation requested by an event (a slave added, a revive) runs once the
//! messages already queued are handled: a burst of registrations costs one
//! cycle, and the allocator only looks at slaves that changed.

use actix::fut::{ready, ActorFutureExt};
use actix::{Actor, AsyncContext, Context, WrapFuture};
use libprocess::wiring::Shell;
use libprocess::{Handlers, Me, Message, Process, Time, Upid};
use rmesos::messages::*;

use crate::core::{Action, MasterCore, Outgoing};
use crate::leader::Ha;
use crate::registry::{Registry, RegistryFuture};
use crate::MasterOptions;

/// The master process; see the module doc.
pub struct MasterProcess {
    pub(crate) me: Me,
    pub(crate) core: MasterCore,
    pub(crate) opts: MasterOptions,
    /// Clock time at start (for `master/uptime_secs`).
    pub(crate) started: Time,
    allocation_pending: bool,
    pub(crate) ha: Ha,
    pub(crate) registry: Registry,
    /// The v1 API's SUBSCRIBE streams (see `api/`).
    pub(crate) api: crate::api::Streams,
    /// The operator API's event streams (see `api/operator/`).
    pub(crate) watchers: crate::api::operator::Watchers,
    /// Authentication of frameworks and slaves (see `auth.rs`).
    pub(crate) auth: rmesos::auth::Authenticator,
}

impl MasterProcess {
    pub fn new(me: Me, core: MasterCore, opts: MasterOptions) -> MasterProcess {
        let started = me.clock().now();
        let ha = Ha::standalone(core.info().clone(), me.pid().clone(), started);
        let registry = Registry::in_process();
        let auth = MasterProcess::authenticator(&opts);
        MasterProcess {
            me,
            core,
            opts,
            started,
            allocation_pending: false,
            ha,
            registry,
            api: Default::default(),
            watchers: Default::default(),
            auth,
        }
    }

    /// A standby master with ZooKeeper leadership (see `leader.rs`).
    pub(crate) fn with_ha(mut self, ha: Ha, registry: Registry) -> MasterProcess {
        self.ha = ha;
        self.registry = registry;
        self
    }

    /// Leadership state (role, detected leader).
    pub fn ha(&self) -> &Ha {
        &self.ha
    }

    pub(crate) fn now(&self) -> Time {
        self.me.clock().now()
    }

    /// Read access for tests and embedders.
    pub fn core(&self) -> &MasterCore {
        &self.core
    }

    pub(crate) fn perform(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        if self.is_stopping() {
            return;
        }
        let mut actions = actions.into_iter();
        while let Some(a) = actions.next() {
            match a {
                Action::RecordLoss { slave_id, tasks } => {
                    // The rest (the TASK_LOST updates) waits for the write.
                    let rest: Vec<Action> = actions.collect();
                    let write = self.registry.record_loss(&slave_id, &tasks);
                    ctx.wait(write.into_actor(self).map(move |res, act: &mut MasterProcess, ctx| match res {
                        Ok(()) => act.perform(rest, ctx),
                        Err(e) => {
                            act.lose_leadership(&format!("cannot record lost tasks of slave {slave_id}: {e}"), ctx)
                        }
                    }));
                    return;
                }
                Action::ClearLoss { slave_id, tasks } => {
                    let write = self.registry.clear_loss(&slave_id, &tasks);
                    ctx.spawn(write.into_actor(self).map(move |res, _act: &mut MasterProcess, _ctx| {
                        if let Err(e) = res {
                            tracing::warn!("cannot clear the recorded losses of slave {slave_id}: {e}");
                        }
                    }));
                }
                Action::Admit { info, to, reply } => self.admit_then_send(info, to, reply, ctx),
                Action::Unadmit(id) => {
                    let write: RegistryFuture<()> = self.registry.remove(&id);
                    ctx.spawn(write.into_actor(self).map(move |res, act: &mut MasterProcess, ctx| {
                        if let Err(e) = res {
                            act.lose_leadership(&format!("cannot remove slave {id} from the registry: {e}"), ctx);
                        }
                    }));
                }
                Action::Send(to, msg) => msg.send(&self.me, &to),
                Action::Link(pid) => self.me.link(&pid),
                Action::Unlink(pid) => {
                    self.auth.forget(&pid);
                    self.me.unlink(&pid)
                }
                Action::Observe(change) => crate::api::operator::publish(self, change),
                Action::Allocate => self.request_allocation(ctx),
                Action::ReregisterTimer { slave_id, epoch, after } => {
                    self.me.delay(ctx, after, move |act: &mut MasterProcess, ctx| {
                        let now = act.now();
                        let acts = act.core.reregister_timeout(&slave_id, epoch, now);
                        act.perform(acts, ctx);
                    });
                }
                Action::FailoverTimer { framework_id, epoch, after } => {
                    self.me.delay(ctx, after, move |act: &mut MasterProcess, ctx| {
                        let now = act.now();
                        let acts = act.core.failover_expired(&framework_id, epoch, now);
                        act.perform(acts, ctx);
                    });
                }
            }
        }
    }

    /// Writes slave `info`'s admission, then sends `msg`; nothing else is
    /// handled until the write completes (Mesos's registrar serializes too).
    fn admit_then_send(&mut self, info: rmesos::SlaveInfo, to: Upid, msg: Outgoing, ctx: &mut Context<Self>) {
        let id = info.id.clone().map(|id| id.to_string()).unwrap_or_default();
        let write = self.registry.admit(&info);
        ctx.wait(write.into_actor(self).map(move |res, act: &mut MasterProcess, ctx| match res {
            Ok(()) => msg.send(&act.me, &to),
            Err(e) => act.lose_leadership(&format!("cannot write slave {id} to the registry: {e}"), ctx),
        }));
    }

    fn request_allocation(&mut self, ctx: &mut Context<Self>) {
        if self.allocation_pending {
            return;
        }
        self.allocation_pending = true;
        // Runs after the handler (and the messages already queued) return.
        ctx.spawn(ready(()).map(|_, act: &mut MasterProcess, ctx| {
            act.allocation_pending = false;
            act.allocate(ctx);
        }));
    }

    fn allocate(&mut self, ctx: &mut Context<Self>) {
        if !self.serving() {
            return;
        }
        let now = self.now();
        let acts = self.core.allocate(now);
        self.perform(acts, ctx);
    }

    fn ping(&mut self, ctx: &mut Context<Self>) {
        if !self.serving() {
            return;
        }
        let now = self.now();
        let acts = self.core.ping_tick(now);
        self.perform(acts, ctx);
    }
}

impl Actor for MasterProcess {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let me = self.me.clone();
        me.every(ctx, self.opts.allocation_interval, |act: &mut MasterProcess, ctx| act.allocate(ctx));
        me.every(ctx, self.opts.agent_ping_timeout, |act: &mut MasterProcess, ctx| act.ping(ctx));
    }
}

/// A standby master takes no framework or slave message (it logs and
/// counts each, but for the pongs of slaves it pinged while leading).
impl Shell for MasterProcess {
    type Core = MasterCore;
    type Action = Action;
    type Now = Time;

    fn core_mut(&mut self) -> &mut MasterCore {
        &mut self.core
    }

    fn now(&self) -> Time {
        MasterProcess::now(self)
    }

    fn accepts<M: Message>(&mut self, from: &Upid, msg: &M) -> bool {
        if self.serving() {
            return self.admits(from, msg);
        }
        if M::NAME != PongSlaveMessage::NAME {
            self.not_leading(from, M::NAME);
        }
        false
    }

    fn perform(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        MasterProcess::perform(self, actions, ctx)
    }
}

impl Process for MasterProcess {
    fn install(h: &mut Handlers<Self>) {
        libprocess::handlers!(h, Self {
            RegisterFrameworkMessage => register_framework(from, msg, now);
            ReregisterFrameworkMessage => reregister_framework(from, msg, now);
            UnregisterFrameworkMessage => unregister_framework(from, msg, now);
            DeactivateFrameworkMessage => deactivate_framework(from, msg, now);
            RegisterSlaveMessage => register_slave(from, msg, now);
            ReregisterSlaveMessage => reregister_slave(from, msg, now);
            UnregisterSlaveMessage => unregister_slave(from, msg, now);
            LaunchTasksMessage => launch_tasks(from, msg, now);
            StatusUpdateMessage => status_update(from, msg, now);
            KillTaskMessage => kill_task(from, msg, now);
            ReconcileTasksMessage => reconcile(from, msg, now);
            ExitedExecutorMessage => exited_executor(from, msg, now);
            StatusUpdateAcknowledgementMessage => acknowledge(from, msg);
            FrameworkToExecutorMessage => framework_to_executor(from, msg);
            ExecutorToFrameworkMessage => executor_to_framework(from, msg);
            ReviveOffersMessage => revive(from, msg);
            SuppressOffersMessage => suppress(from, msg);
            PongSlaveMessage => pong(from);
        });
        crate::leader::install(h);
        crate::auth::install(h);
        crate::http::install(h);
        crate::webui::install(h);
        crate::api::install(h);
    }

    fn exited(&mut self, pid: &Upid, ctx: &mut Context<Self>) {
        let now = self.now();
        let acts = self.core.exited(pid, now);
        self.perform(acts, ctx);
    }
}
