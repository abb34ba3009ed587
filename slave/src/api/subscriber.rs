//! The process behind one executor SUBSCRIBE stream (`api-executor(N)`):
//! the Upid the slave's core knows an HTTP executor by (see `mod.rs`). It
//! takes the messages the slave sends an executor and writes them as the
//! stream's v1 events:
//!
//! | from the slave | event |
//! |---|---|
//! | `ExecutorRegistered` | SUBSCRIBED (`executor_info`, `framework_info` with its `id`, `agent_info`, `container_id`) |
//! | `RunTask` | LAUNCH |
//! | `KillTask` | KILL |
//! | `StatusUpdateAcknowledgement` | ACKNOWLEDGED (the uuid's bytes, as the executor sent them) |
//! | `FrameworkToExecutor` | MESSAGE |
//! | `ShutdownExecutor` | SHUTDOWN |
//!
//! plus a HEARTBEAT every [`DEFAULT_EXECUTOR_HEARTBEAT_INTERVAL_SECS`]
//! (Mesos's interval). Only the slave's messages count (anything else is
//! dropped with a log line: the Upid is reachable from the network). It
//! stops when the client leaves, when a write fails (a client too slow to
//! keep up is cut off by libprocess), when the slave hands the executor to
//! a newer stream ([`EndStreamMessage`]: ERROR, then the end, as Mesos
//! closes the older connection), or when the slave process ends (it is
//! linked to it): the executor then sees its agent go, as with a real
//! agent restart.

use std::time::Duration;

use actix::fut::{wrap_future, ActorFutureExt};
use actix::{Actor, ActorContext, AsyncContext, Context};
use libprocess::http::StreamWriter;
use libprocess::{Handlers, Me, Process, Upid};
use rmesos::messages::*;
use rmesos::v1::executor::{self as v1, DEFAULT_EXECUTOR_HEARTBEAT_INTERVAL_SECS};
use rmesos::v1::scheduler::record;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Slave -> its own subscriber: a newer stream took the executor over.
/// Never leaves the slave's node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EndStreamMessage {}
libprocess::message!(EndStreamMessage, "rmesos.internal.EndExecutorStreamMessage");

/// Mesos's heartbeat interval on executor streams.
pub const HEARTBEAT: Duration = Duration::from_secs(DEFAULT_EXECUTOR_HEARTBEAT_INTERVAL_SECS);

pub(crate) struct Subscriber {
    me: Me,
    slave: Upid,
    writer: StreamWriter,
    /// The executor's run: SUBSCRIBED's `container_id`.
    run: uuid::Uuid,
    /// For log lines: the executor and framework.
    label: String,
}

impl Subscriber {
    pub(crate) fn new(me: Me, slave: Upid, writer: StreamWriter, run: uuid::Uuid, label: String) -> Subscriber {
        Subscriber { me, slave, writer, run, label }
    }

    /// Writes one event; a failed write ends the stream.
    fn emit(&mut self, event: &Value, ctx: &mut Context<Self>) {
        if let Err(e) = self.writer.write(record(event)) {
            tracing::info!("Closing the stream of executor {}: {e}", self.label);
            ctx.stop();
        }
    }

    fn sent_by_slave(&self, from: &Upid, what: &str) -> bool {
        let ok = *from == self.slave;
        if !ok {
            tracing::warn!(%from, stream = %self.label, "dropping {what}: not from the slave");
        }
        ok
    }

    fn registered(&mut self, from: Upid, msg: ExecutorRegisteredMessage, ctx: &mut Context<Self>) {
        if self.sent_by_slave(&from, "ExecutorRegisteredMessage") {
            let mut framework = msg.framework_info;
            framework.id = Some(msg.framework_id);
            let mut agent = msg.slave_info;
            agent.id = Some(msg.slave_id);
            self.emit(&v1::event_subscribed(&msg.executor_info, &framework, &agent, &self.run), ctx);
        }
    }

    fn run_task(&mut self, from: Upid, msg: RunTaskMessage, ctx: &mut Context<Self>) {
        if self.sent_by_slave(&from, "RunTaskMessage") {
            self.emit(&v1::event_launch(&msg.task), ctx);
        }
    }

    fn kill_task(&mut self, from: Upid, msg: KillTaskMessage, ctx: &mut Context<Self>) {
        if self.sent_by_slave(&from, "KillTaskMessage") {
            self.emit(&v1::event_kill(&msg.task_id), ctx);
        }
    }

    fn acknowledged(&mut self, from: Upid, msg: StatusUpdateAcknowledgementMessage, ctx: &mut Context<Self>) {
        if self.sent_by_slave(&from, "StatusUpdateAcknowledgementMessage") {
            self.emit(&v1::event_acknowledged(&msg.task_id, &msg.uuid), ctx);
        }
    }

    fn message(&mut self, from: Upid, msg: FrameworkToExecutorMessage, ctx: &mut Context<Self>) {
        if self.sent_by_slave(&from, "FrameworkToExecutorMessage") {
            self.emit(&v1::event_message(&msg.data), ctx);
        }
    }

    fn shutdown(&mut self, from: Upid, _: ShutdownExecutorMessage, ctx: &mut Context<Self>) {
        if self.sent_by_slave(&from, "ShutdownExecutorMessage") {
            tracing::info!("Asking executor {} to shut down", self.label);
            self.emit(&v1::event_shutdown(), ctx);
        }
    }

    fn end(&mut self, from: Upid, _: EndStreamMessage, ctx: &mut Context<Self>) {
        if self.sent_by_slave(&from, "EndStreamMessage") {
            tracing::info!("Closing the stream of executor {}: a newer subscription took over", self.label);
            self.emit(&v1::event_error("Executor subscribed again on another connection"), ctx);
            ctx.stop();
        }
    }
}

impl Actor for Subscriber {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let me = self.me.clone();
        me.link(&self.slave);
        me.every(ctx, HEARTBEAT, |act: &mut Subscriber, ctx| act.emit(&v1::event_heartbeat(), ctx));
        ctx.spawn(wrap_future(self.writer.closed()).map(|_, act: &mut Subscriber, ctx: &mut Context<Self>| {
            tracing::info!("Stream of executor {} closed by its client", act.label);
            ctx.stop();
        }));
    }
}

impl Process for Subscriber {
    fn install(h: &mut Handlers<Self>) {
        h.install(Subscriber::registered)
            .install(Subscriber::run_task)
            .install(Subscriber::kill_task)
            .install(Subscriber::acknowledged)
            .install(Subscriber::message)
            .install(Subscriber::shutdown)
            .install(Subscriber::end);
    }

    fn exited(&mut self, pid: &Upid, ctx: &mut Context<Self>) {
        if *pid == self.slave {
            tracing::info!("Closing the stream of executor {}: the slave stopped", self.label);
            ctx.stop();
        }
    }
}
