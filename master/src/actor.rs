//! The master's libprocess process (id `master`): the shell around
//! [`MasterCore`]. It installs one handler per message, reads "now" from the
//! node's clock, performs the core's actions (send, link, timers), and runs
//! the two periodic timers: allocation every `--allocation_interval` and
//! health checks every `--agent_ping_timeout`. HTTP routes are in `http.rs`.
//!
//! Links: the master links to every scheduler and slave it admits. `Exited`
//! for a scheduler disconnects its framework (offers withdrawn; removed after
//! its `failover_timeout` unless it reregisters). `Exited` for a slave
//! disconnects it (no offers; tasks of non-checkpointing frameworks lost) and
//! the health checks decide its removal, as Mesos does.
//!
//! Allocation requested by an event (a slave added, a revive) runs once the
//! messages already queued are handled: a burst of registrations costs one
//! cycle, and the allocator only looks at slaves that changed.

use actix::fut::{ready, ActorFutureExt};
use actix::{Actor, AsyncContext, Context};
use libprocess::{Handlers, Me, Process, Time, Upid};
use rmesos::messages::*;

use crate::core::{Action, MasterCore};
use crate::MasterOptions;

/// The master process; see the module doc.
pub struct MasterProcess {
    pub(crate) me: Me,
    pub(crate) core: MasterCore,
    pub(crate) opts: MasterOptions,
    /// Clock time at start (for `master/uptime_secs`).
    pub(crate) started: Time,
    allocation_pending: bool,
}

impl MasterProcess {
    pub fn new(me: Me, core: MasterCore, opts: MasterOptions) -> MasterProcess {
        let started = me.clock().now();
        MasterProcess { me, core, opts, started, allocation_pending: false }
    }

    pub(crate) fn now(&self) -> Time {
        self.me.clock().now()
    }

    /// Read access for tests and embedders.
    pub fn core(&self) -> &MasterCore {
        &self.core
    }

    fn perform(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        for a in actions {
            match a {
                Action::Send(to, msg) => msg.send(&self.me, &to),
                Action::Link(pid) => self.me.link(&pid),
                Action::Unlink(pid) => self.me.unlink(&pid),
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
        let now = self.now();
        let acts = self.core.allocate(now);
        self.perform(acts, ctx);
    }

    fn ping(&mut self, ctx: &mut Context<Self>) {
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

/// One handler per message: `$core_fn(&from, msg[, now])`.
macro_rules! handlers {
    ($($name:ident: $msg:ty => $core_fn:ident $(, $now:ident)?;)*) => {
        impl MasterProcess {
            $(
                fn $name(&mut self, from: Upid, msg: $msg, ctx: &mut Context<Self>) {
                    $(let $now = self.now();)?
                    let acts = self.core.$core_fn(&from, msg $(, $now)?);
                    self.perform(acts, ctx);
                }
            )*
        }

        fn install_all(h: &mut Handlers<MasterProcess>) {
            $(h.install(MasterProcess::$name);)*
        }
    };
}

handlers! {
    on_register_framework: RegisterFrameworkMessage => register_framework, now;
    on_reregister_framework: ReregisterFrameworkMessage => reregister_framework, now;
    on_unregister_framework: UnregisterFrameworkMessage => unregister_framework, now;
    on_deactivate_framework: DeactivateFrameworkMessage => deactivate_framework, now;
    on_register_slave: RegisterSlaveMessage => register_slave, now;
    on_reregister_slave: ReregisterSlaveMessage => reregister_slave, now;
    on_unregister_slave: UnregisterSlaveMessage => unregister_slave, now;
    on_launch_tasks: LaunchTasksMessage => launch_tasks, now;
    on_status_update: StatusUpdateMessage => status_update, now;
    on_kill_task: KillTaskMessage => kill_task, now;
    on_reconcile: ReconcileTasksMessage => reconcile, now;
    on_exited_executor: ExitedExecutorMessage => exited_executor, now;
    on_ack: StatusUpdateAcknowledgementMessage => acknowledge;
    on_framework_to_executor: FrameworkToExecutorMessage => framework_to_executor;
    on_executor_to_framework: ExecutorToFrameworkMessage => executor_to_framework;
    on_revive: ReviveOffersMessage => revive;
    on_suppress: SuppressOffersMessage => suppress;
}

impl MasterProcess {
    fn on_pong(&mut self, from: Upid, _msg: PongSlaveMessage, ctx: &mut Context<Self>) {
        let acts = self.core.pong(&from);
        self.perform(acts, ctx);
    }
}

impl Process for MasterProcess {
    fn install(h: &mut Handlers<Self>) {
        install_all(h);
        h.install(MasterProcess::on_pong);
        crate::http::install(h);
    }

    fn exited(&mut self, pid: &Upid, ctx: &mut Context<Self>) {
        let now = self.now();
        let acts = self.core.exited(pid, now);
        self.perform(acts, ctx);
    }
}
