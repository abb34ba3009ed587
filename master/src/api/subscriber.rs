//! The process behind one SUBSCRIBE stream (`api-scheduler(N)`): the Upid
//! the core knows an HTTP framework's scheduler by (see `mod.rs`). It
//! takes the messages the master sends a scheduler and writes them as the
//! stream's v1 events:
//!
//! | from the core | event |
//! |---|---|
//! | `FrameworkRegistered` / `FrameworkReregistered` | SUBSCRIBED |
//! | `ResourceOffers` | OFFERS |
//! | `RescindResourceOffer` | RESCIND |
//! | `StatusUpdate` | UPDATE |
//! | `ExecutorToFramework` | MESSAGE |
//! | `LostSlave` / `ExitedExecutor` | FAILURE |
//! | `FrameworkError` | ERROR, then the stream ends (as Mesos closes it) |
//!
//! plus a HEARTBEAT every `heartbeat_interval_seconds`. Only the master's
//! messages count (anything else is dropped with a log line: the Upid is
//! reachable from the network). It stops when the client leaves (the
//! stream's writer reports it), when a write fails (a client too slow to
//! keep up is cut off by libprocess), or on [`EndStreamMessage`] (TEARDOWN);
//! the master, linked to it, then sees the framework's scheduler exit.

use std::time::Duration;

use actix::fut::{wrap_future, ActorFutureExt};
use actix::{Actor, ActorContext, AsyncContext, Context};
use libprocess::http::StreamWriter;
use libprocess::{Handlers, Me, Process, Upid};
use rmesos::messages::*;
use rmesos::v1::scheduler as v1;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Master -> its own subscriber: end the stream now (the framework was torn
/// down). Never leaves the master's node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EndStreamMessage {}
libprocess::message!(EndStreamMessage, "rmesos.internal.EndStreamMessage");

pub(crate) struct Subscriber {
    me: Me,
    master: Upid,
    writer: StreamWriter,
    heartbeat: Duration,
    /// For log lines: the stream id and, once subscribed, the framework.
    label: String,
}

impl Subscriber {
    pub(crate) fn new(me: Me, master: Upid, writer: StreamWriter, heartbeat: Duration, label: String) -> Subscriber {
        Subscriber { me, master, writer, heartbeat, label }
    }

    /// Writes one event; a failed write ends the stream.
    fn emit(&mut self, event: &Value, ctx: &mut Context<Self>) {
        if let Err(e) = self.writer.write(v1::record(event)) {
            tracing::info!("Closing scheduler stream {}: {e}", self.label);
            ctx.stop();
        }
    }

    fn sent_by_master(&self, from: &Upid, what: &str) -> bool {
        let ok = *from == self.master;
        if !ok {
            tracing::warn!(%from, stream = %self.label, "dropping {what}: not from the master");
        }
        ok
    }

    fn registered(&mut self, from: Upid, msg: FrameworkRegisteredMessage, ctx: &mut Context<Self>) {
        if self.sent_by_master(&from, "FrameworkRegisteredMessage") {
            self.subscribed(&msg.framework_id, &msg.master_info, ctx);
        }
    }

    fn reregistered(&mut self, from: Upid, msg: FrameworkReregisteredMessage, ctx: &mut Context<Self>) {
        if self.sent_by_master(&from, "FrameworkReregisteredMessage") {
            self.subscribed(&msg.framework_id, &msg.master_info, ctx);
        }
    }

    fn subscribed(&mut self, id: &rmesos::FrameworkID, master: &rmesos::MasterInfo, ctx: &mut Context<Self>) {
        self.label = format!("{} (framework {id})", self.label);
        tracing::info!("Scheduler stream {} subscribed", self.label);
        let event = v1::event_subscribed(id, self.heartbeat.as_secs_f64(), master);
        self.emit(&event, ctx);
    }

    fn error(&mut self, from: Upid, msg: FrameworkErrorMessage, ctx: &mut Context<Self>) {
        if self.sent_by_master(&from, "FrameworkErrorMessage") {
            self.emit(&v1::event_error(&msg.message), ctx);
            tracing::info!("Closing scheduler stream {}: {}", self.label, msg.message);
            ctx.stop();
        }
    }

    fn offers(&mut self, from: Upid, msg: ResourceOffersMessage, ctx: &mut Context<Self>) {
        if self.sent_by_master(&from, "ResourceOffersMessage") {
            self.emit(&v1::event_offers(&msg.offers), ctx);
        }
    }

    fn rescind(&mut self, from: Upid, msg: RescindResourceOfferMessage, ctx: &mut Context<Self>) {
        if self.sent_by_master(&from, "RescindResourceOfferMessage") {
            self.emit(&v1::event_rescind(&msg.offer_id), ctx);
        }
    }

    fn update(&mut self, from: Upid, msg: StatusUpdateMessage, ctx: &mut Context<Self>) {
        if self.sent_by_master(&from, "StatusUpdateMessage") {
            self.emit(&v1::event_update(&msg.update), ctx);
        }
    }

    fn message(&mut self, from: Upid, msg: ExecutorToFrameworkMessage, ctx: &mut Context<Self>) {
        if self.sent_by_master(&from, "ExecutorToFrameworkMessage") {
            self.emit(&v1::event_message(&msg.slave_id, &msg.executor_id, &msg.data), ctx);
        }
    }

    fn lost_slave(&mut self, from: Upid, msg: LostSlaveMessage, ctx: &mut Context<Self>) {
        if self.sent_by_master(&from, "LostSlaveMessage") {
            self.emit(&v1::event_failure(&msg.slave_id, None), ctx);
        }
    }

    fn exited_executor(&mut self, from: Upid, msg: ExitedExecutorMessage, ctx: &mut Context<Self>) {
        if self.sent_by_master(&from, "ExitedExecutorMessage") {
            self.emit(&v1::event_failure(&msg.slave_id, Some((&msg.executor_id, msg.status))), ctx);
        }
    }

    fn end(&mut self, from: Upid, _: EndStreamMessage, ctx: &mut Context<Self>) {
        if self.sent_by_master(&from, "EndStreamMessage") {
            tracing::info!("Closing scheduler stream {}: framework torn down", self.label);
            ctx.stop();
        }
    }
}

impl Actor for Subscriber {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let me = self.me.clone();
        me.every(ctx, self.heartbeat, |act: &mut Subscriber, ctx| act.emit(&v1::event_heartbeat(), ctx));
        ctx.spawn(wrap_future(self.writer.closed()).map(|_, act: &mut Subscriber, ctx: &mut Context<Self>| {
            tracing::info!("Scheduler stream {} closed by its client", act.label);
            ctx.stop();
        }));
    }
}

impl Process for Subscriber {
    fn install(h: &mut Handlers<Self>) {
        h.install(Subscriber::registered)
            .install(Subscriber::reregistered)
            .install(Subscriber::error)
            .install(Subscriber::offers)
            .install(Subscriber::rescind)
            .install(Subscriber::update)
            .install(Subscriber::message)
            .install(Subscriber::lost_slave)
            .install(Subscriber::exited_executor)
            .install(Subscriber::end);
    }
}
