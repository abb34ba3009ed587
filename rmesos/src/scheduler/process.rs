//! The scheduler driver's libprocess process (`scheduler-<uuid>`), the
//! shell around [`DriverCore`]: wires the master's messages to the core
//! (`handlers!`), applies the framework's commands queued on its
//! [`DriverHandle`]s, runs the [`Scheduler`]'s callbacks, and performs the
//! core's actions (send, link, detection, timers, finish).

use std::cell::RefCell;
use std::rc::Rc;

use actix::fut::ActorStreamExt;
use actix::{Actor, ActorContext, AsyncContext, Context};
use libprocess::wiring::Shell;
use libprocess::zookeeper::LeaderMessage;
use libprocess::{Handlers, Me, Process, Upid};
use tokio::sync::{mpsc, watch};

use super::core::{Action, Callback, DriverCore, DriverStatus};
use super::driver::{lock, Command, DriverHandle, Queued};
use super::Scheduler;
use crate::auth::MaybeAuthenticatee;
use crate::detect::MasterSpec;
use crate::detect_zk::LeaderFollower;
use crate::messages::*;

#[path = "auth_shell.rs"]
mod auth_shell;

/// The driver's libprocess process: performs the core's actions.
pub(super) struct SchedulerProcess {
    pub(super) me: Me,
    pub(super) core: DriverCore,
    pub(super) scheduler: Box<dyn Scheduler>,
    pub(super) handle: DriverHandle,
    pub(super) commands: Rc<RefCell<mpsc::UnboundedReceiver<Queued>>>,
    pub(super) master: String,
    /// With `zk://`: the detector's reports.
    pub(super) follower: Option<LeaderFollower>,
    pub(super) done: watch::Sender<DriverStatus>,
    /// Authentication with each detected master (see `auth_shell.rs`).
    pub(super) authee: MaybeAuthenticatee,
}

impl Actor for SchedulerProcess {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let rx = self.commands.clone();
        let stream = futures::stream::poll_fn(move |cx| rx.borrow_mut().poll_recv(cx));
        ctx.spawn(
            actix::fut::wrap_stream::<_, Self>(stream)
                .map(|(cmd, guard): Queued, act, ctx| {
                    act.command(cmd, ctx);
                    drop(guard);
                })
                .finish(),
        );
        let actions = self.core.start();
        self.perform(actions, ctx);
    }
}

impl Shell for SchedulerProcess {
    type Core = DriverCore;
    type Action = Action;
    type Now = libprocess::Time;

    fn core_mut(&mut self) -> &mut DriverCore {
        &mut self.core
    }

    fn now(&self) -> libprocess::Time {
        self.me.clock().now()
    }

    fn perform(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        SchedulerProcess::perform(self, actions, ctx)
    }
}

impl Process for SchedulerProcess {
    fn install(h: &mut Handlers<Self>) {
        libprocess::handlers!(h, Self {
            FrameworkRegisteredMessage => framework_registered(from, msg);
            FrameworkReregisteredMessage => framework_reregistered(from, msg);
            ResourceOffersMessage => resource_offers(from, msg);
            RescindResourceOfferMessage => offer_rescinded(from, msg);
            StatusUpdateMessage => status_update(from, msg);
            LostSlaveMessage => lost_slave(from, msg);
            ExitedExecutorMessage => exited_executor(from, msg);
            ExecutorToFrameworkMessage => framework_message(msg);
            FrameworkErrorMessage => framework_error(from, msg);
        });
        h.install(|a: &mut Self, from, m: LeaderMessage, ctx| {
            let me = a.me.pid().clone();
            let Some(change) = a.follower.as_mut().and_then(|f| f.report(&from, m, &me)) else { return };
            a.detected(change, ctx)
        });
        auth_shell::install(h);
    }

    fn exited(&mut self, pid: &Upid, ctx: &mut Context<Self>) {
        let now = self.me.clock().now();
        let out = self.core.exited(pid, now);
        self.perform(out, ctx);
    }
}

impl SchedulerProcess {
    fn perform(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        for action in actions {
            match action {
                Action::Send(to, msg) => msg.send(&self.me, &to),
                Action::Link(pid) => self.me.link(&pid),
                Action::Unlink(pid) => self.me.unlink(&pid),
                Action::Detect { after } if after.is_zero() => self.detect(ctx),
                Action::Detect { after } => {
                    self.me.delay(ctx, after, |act: &mut Self, ctx| act.detect(ctx));
                }
                Action::RegistrationTimer { after, generation, backoff } => {
                    self.me.delay(ctx, after, move |act: &mut Self, ctx| {
                        let out = act.core.registration_timer(generation, backoff);
                        act.perform(out, ctx);
                    });
                }
                Action::Callback(cb) => self.callback(cb, ctx),
                Action::Finished(status) => {
                    *lock(&self.handle.shared.status) = status;
                    tracing::info!(pid = %self.me.pid(), "Scheduler driver finished: {status}");
                    let _ = self.done.send(status);
                    ctx.stop();
                }
            }
        }
    }

    /// Standalone detection: parse (re-reading a file) and resolve `--master`.
    /// With ZooKeeper: the leader last reported, if any (the detector reports
    /// every change on its own).
    fn detect(&mut self, ctx: &mut Context<Self>) {
        let now = self.me.clock().now();
        if let Some(f) = &self.follower {
            if let Some(leader) = f.leader() {
                self.detected(Some(leader), ctx);
            }
            return;
        }
        let out = match MasterSpec::parse(&self.master) {
            Ok(MasterSpec::ZooKeeper(url)) => {
                self.core.detection_failed(&format!("'{url}': a ZooKeeper URL needs a detector"), now)
            }
            Ok(spec) => match spec.resolve() {
                Ok(pid) => return self.detected(Some(pid), ctx),
                Err(e) => self.core.detection_failed(&e.to_string(), now),
            },
            Err(e) => self.core.detection_failed(&e.to_string(), now),
        };
        self.perform(out, ctx);
    }

    fn callback(&mut self, cb: Callback, ctx: &mut Context<Self>) {
        if !self.core.is_running() && !matches!(cb, Callback::Error(_)) {
            return;
        }
        let (s, d) = (&mut self.scheduler, &self.handle);
        let mut was_update = false;
        match cb {
            Callback::Registered(id, master) => {
                *lock(&d.shared.framework_id) = Some(id.clone());
                s.registered(d, &id, &master);
            }
            Callback::Reregistered(master) => s.reregistered(d, &master),
            Callback::Disconnected => s.disconnected(d),
            Callback::ResourceOffers(offers) => s.resource_offers(d, offers),
            Callback::OfferRescinded(id) => s.offer_rescinded(d, &id),
            Callback::StatusUpdate(status) => {
                s.status_update(d, status);
                was_update = true;
            }
            Callback::FrameworkMessage(e, sl, data) => s.framework_message(d, &e, &sl, &data),
            Callback::SlaveLost(id) => s.slave_lost(d, &id),
            Callback::ExecutorLost(e, sl, code) => s.executor_lost(d, &e, &sl, code),
            Callback::Error(message) => s.error(d, &message),
        }
        self.drain(ctx);
        if was_update {
            let out = self.core.after_status_update();
            self.perform(out, ctx);
        }
    }

    /// Applies the commands queued so far (those a callback just made).
    fn drain(&mut self, ctx: &mut Context<Self>) {
        loop {
            let next = self.commands.borrow_mut().try_recv();
            match next {
                Ok((cmd, guard)) => {
                    self.command(cmd, ctx);
                    drop(guard);
                }
                Err(_) => return,
            }
        }
    }

    fn command(&mut self, cmd: Command, ctx: &mut Context<Self>) {
        let c = &mut self.core;
        let out = match cmd {
            Command::Stop(failover) => c.stop(failover),
            Command::Abort => c.abort(),
            Command::Launch(offers, tasks, filters) => c.launch_tasks(offers, tasks, filters),
            Command::Decline(offer, filters) => c.decline_offer(offer, filters),
            Command::Kill(task, policy) => c.kill_task_with_policy(task, policy),
            Command::Revive => c.revive_offers(),
            Command::Suppress => c.suppress_offers(),
            Command::Reconcile(statuses) => c.reconcile_tasks(statuses),
            Command::Message(e, s, data) => c.send_framework_message(e, s, data),
            Command::Ack(status) => c.acknowledge_status_update(&status),
            Command::Detected(master) => return self.detected(master, ctx),
        };
        self.perform(out, ctx);
    }
}
