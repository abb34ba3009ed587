//! The executor driver's actor: installs the slave's messages, runs the
//! pure [`DriverCore`](super::core::DriverCore) and performs its actions
//! (send, link, call the executor back, timers, stop).

use actix::fut::ActorStreamExt;
use actix::{Actor, ActorContext, AsyncContext, Context};
use libprocess::wiring::Shell;
use libprocess::{Handlers, Me, Node, Process, Upid};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::{mpsc, watch};

use super::core::{Action, Callback, DriverCore};
use super::{Command, DriverError, DriverStatus, Executor, ExecutorDriver, ExecutorEnv, EXECUTOR_PROCESS_ID};
use crate::ids::uuid_from;
use crate::messages::{
    ExecutorRegisteredMessage, ExecutorReregisteredMessage, FrameworkToExecutorMessage, KillTaskMessage,
    ReconnectExecutorMessage, RunTaskMessage, ShutdownExecutorMessage, StatusUpdateAcknowledgementMessage,
};

pub(super) fn spawn<E: Executor>(node: &Node, env: ExecutorEnv, executor: E) -> Result<ExecutorDriver, DriverError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let unacked = std::sync::Arc::new(watch::channel(0).0);
    let (status_tx, status_rx) = watch::channel(DriverStatus::Running);
    let pid = node.pid(EXECUTOR_PROCESS_ID).map_err(|e| DriverError::Node(e.to_string()))?;
    let handle = ExecutorDriver { tx, unacknowledged: unacked, status: status_rx, clock: node.clock().clone(), pid };
    let h = handle.clone();
    node.spawn(EXECUTOR_PROCESS_ID, move |me| DriverProcess {
        core: DriverCore::new(env, me.pid().clone()),
        // The node's incarnation is random for a real process and drawn
        // from the seed in a simulation, so a simulated run replays.
        uuids: ChaCha8Rng::seed_from_u64(me.node().incarnation()),
        me,
        executor: Box::new(executor),
        handle: h,
        commands: Some(rx),
        status: status_tx,
    })
    .map_err(|e| DriverError::Node(e.to_string()))?;
    Ok(handle)
}

struct DriverProcess<E: Executor> {
    me: Me,
    core: DriverCore,
    // Boxed: actix actors must be Unpin, executors need not be.
    executor: Box<E>,
    handle: ExecutorDriver,
    commands: Option<mpsc::UnboundedReceiver<Command>>,
    status: watch::Sender<DriverStatus>,
    /// Status update uuids.
    uuids: ChaCha8Rng,
}

impl<E: Executor> Actor for DriverProcess<E> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(mut rx) = self.commands.take() {
            let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
            ctx.spawn(actix::fut::wrap_stream::<_, Self>(stream).map(|cmd, act, ctx| act.command(cmd, ctx)).finish());
        }
        let actions = self.core.start();
        self.perform(actions, ctx);
    }
}

impl<E: Executor> Shell for DriverProcess<E> {
    type Core = DriverCore;
    type Action = Action;
    /// The core reads no time: its timers are actions.
    type Now = ();

    fn core_mut(&mut self) -> &mut DriverCore {
        &mut self.core
    }

    fn now(&self) {}

    fn perform(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        DriverProcess::perform(self, actions, ctx)
    }
}

impl<E: Executor> Process for DriverProcess<E> {
    fn install(h: &mut Handlers<Self>) {
        libprocess::handlers!(h, Self {
            ExecutorRegisteredMessage => registered(from, msg);
            ExecutorReregisteredMessage => reregistered(from, msg);
            ReconnectExecutorMessage => reconnect(from, msg);
            RunTaskMessage => run_task(from, msg);
            KillTaskMessage => kill_task(from, msg);
            StatusUpdateAcknowledgementMessage => acknowledged(from, msg);
            FrameworkToExecutorMessage => framework_message(from, msg);
            ShutdownExecutorMessage => shutdown(from);
        });
    }

    fn exited(&mut self, pid: &Upid, ctx: &mut Context<Self>) {
        let a = self.core.slave_exited(pid);
        self.perform(a, ctx);
    }
}

impl<E: Executor> DriverProcess<E> {
    fn command(&mut self, cmd: Command, ctx: &mut Context<Self>) {
        let actions = match cmd {
            Command::StatusUpdate(status) => {
                let task = status.task_id.clone();
                match self.core.send_status_update(status, uuid_from(&mut self.uuids), self.me.clock().unix_time()) {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::error!(%task, error = %e, "status update refused");
                        self.handle.unacknowledged.send_modify(|n| *n = n.saturating_sub(1));
                        vec![]
                    }
                }
            }
            Command::FrameworkMessage(data) => self.core.send_framework_message(data),
            Command::Stop => self.core.stop(),
        };
        self.perform(actions, ctx);
    }

    fn perform(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        for action in actions {
            match action {
                Action::Send(to, msg) => msg.send(&self.me, &to),
                Action::Link(pid) => self.me.link(&pid),
                Action::Callback(cb) => self.callback(cb),
                Action::RecoveryTimer(id) => {
                    let d = self.core_recovery_timeout();
                    self.me.delay(ctx, d, move |act: &mut Self, ctx| {
                        let a = act.core.recovery_timeout(id);
                        act.perform(a, ctx);
                    });
                }
                Action::StopTimer(grace) => {
                    self.me.delay(ctx, grace, |act: &mut Self, ctx| {
                        let a = act.core.stop_timer();
                        act.perform(a, ctx);
                    });
                }
                Action::Acknowledged(_) => {
                    self.handle.unacknowledged.send_modify(|n| *n = n.saturating_sub(1));
                }
                Action::Stop(reason) => {
                    tracing::info!(pid = %self.me.pid(), "executor driver stopped: {reason}");
                    let _ = self.status.send(DriverStatus::Stopped(reason));
                    ctx.stop();
                }
            }
        }
    }

    fn core_recovery_timeout(&self) -> std::time::Duration {
        self.core.env().recovery_timeout
    }

    fn callback(&mut self, cb: Callback) {
        let d = &self.handle;
        match cb {
            Callback::Registered { executor_info, framework_info, slave_info } => {
                self.executor.registered(d, &executor_info, &framework_info, &slave_info)
            }
            Callback::Reregistered(info) => self.executor.reregistered(d, &info),
            Callback::Disconnected => self.executor.disconnected(d),
            Callback::LaunchTask(task) => self.executor.launch_task(d, *task),
            Callback::KillTask(id, policy) => self.executor.kill_task_with_policy(d, &id, policy.as_ref()),
            Callback::FrameworkMessage(data) => self.executor.framework_message(d, &data),
            Callback::Shutdown => self.executor.shutdown(d),
            Callback::Error(message) => self.executor.error(d, &message),
        }
    }
}
