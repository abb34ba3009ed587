//! A framework under test: [`RecordingScheduler`] wraps any [`Scheduler`],
//! passes every callback on to it, and records the callback as a
//! [`SchedulerEvent`] for the test; [`Framework`] is a started one (its
//! driver and what it has been told). Our own suites use the recording
//! scheduler bare (`RecordingScheduler::bare()`, a scheduler that does
//! nothing but record) where a test drives the framework's calls itself.

use rmesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
use rmesos::{ExecutorID, FrameworkID, MasterInfo, Offer, OfferID, SlaveID, TaskStatus};
use tokio::sync::mpsc;

use crate::zk::NodeZk;

/// One scheduler callback, as the scheduler was given it: the driver
/// core's own [`Callback`](rmesos::scheduler::core::Callback).
pub use rmesos::scheduler::core::Callback as SchedulerEvent;

/// A scheduler that records every callback, then passes it on to `inner`.
pub struct RecordingScheduler<S> {
    inner: S,
    tx: mpsc::UnboundedSender<SchedulerEvent>,
}

/// A scheduler that does nothing (for [`RecordingScheduler::bare`]).
pub struct Nothing;

impl Scheduler for Nothing {
    fn resource_offers(&mut self, _: &DriverHandle, _: Vec<Offer>) {}
    fn status_update(&mut self, _: &DriverHandle, _: TaskStatus) {}
}

impl RecordingScheduler<Nothing> {
    /// Records, and does nothing else: the test makes the calls.
    pub fn bare() -> (RecordingScheduler<Nothing>, mpsc::UnboundedReceiver<SchedulerEvent>) {
        RecordingScheduler::new(Nothing)
    }
}

impl<S: Scheduler> RecordingScheduler<S> {
    /// `inner`, recorded; the events arrive on the receiver.
    pub fn new(inner: S) -> (RecordingScheduler<S>, mpsc::UnboundedReceiver<SchedulerEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (RecordingScheduler { inner, tx }, rx)
    }

    fn record(&self, e: SchedulerEvent) {
        let _ = self.tx.send(e);
    }
}

impl<S: Scheduler> Scheduler for RecordingScheduler<S> {
    fn registered(&mut self, d: &DriverHandle, id: &FrameworkID, m: &MasterInfo) {
        self.record(SchedulerEvent::Registered(id.clone(), m.clone()));
        self.inner.registered(d, id, m);
    }
    fn reregistered(&mut self, d: &DriverHandle, m: &MasterInfo) {
        self.record(SchedulerEvent::Reregistered(m.clone()));
        self.inner.reregistered(d, m);
    }
    fn disconnected(&mut self, d: &DriverHandle) {
        self.record(SchedulerEvent::Disconnected);
        self.inner.disconnected(d);
    }
    fn resource_offers(&mut self, d: &DriverHandle, offers: Vec<Offer>) {
        self.record(SchedulerEvent::ResourceOffers(offers.clone()));
        self.inner.resource_offers(d, offers);
    }
    fn offer_rescinded(&mut self, d: &DriverHandle, id: &OfferID) {
        self.record(SchedulerEvent::OfferRescinded(id.clone()));
        self.inner.offer_rescinded(d, id);
    }
    fn status_update(&mut self, d: &DriverHandle, status: TaskStatus) {
        self.record(SchedulerEvent::StatusUpdate(status.clone()));
        self.inner.status_update(d, status);
    }
    fn framework_message(&mut self, d: &DriverHandle, e: &ExecutorID, s: &SlaveID, data: &[u8]) {
        self.record(SchedulerEvent::FrameworkMessage(e.clone(), s.clone(), data.to_vec()));
        self.inner.framework_message(d, e, s, data);
    }
    fn slave_lost(&mut self, d: &DriverHandle, s: &SlaveID) {
        self.record(SchedulerEvent::SlaveLost(s.clone()));
        self.inner.slave_lost(d, s);
    }
    fn executor_lost(&mut self, d: &DriverHandle, e: &ExecutorID, s: &SlaveID, status: i32) {
        self.record(SchedulerEvent::ExecutorLost(e.clone(), s.clone(), status));
        self.inner.executor_lost(d, e, s, status);
    }
    fn error(&mut self, d: &DriverHandle, message: &str) {
        self.record(SchedulerEvent::Error(message.to_string()));
        self.inner.error(d, message);
    }
}

/// A framework started by [`SimCluster::framework`](crate::SimCluster::framework).
pub struct Framework {
    /// Its node's address (10.0.2.n:5052).
    pub addr: String,
    pub driver: SchedulerDriver,
    pub(crate) events: mpsc::UnboundedReceiver<SchedulerEvent>,
    /// Every event the waits have taken so far, oldest first.
    pub seen: Vec<SchedulerEvent>,
    /// Its node's ZooKeeper links.
    pub zk: NodeZk,
}

impl Framework {
    pub(crate) fn new(
        addr: String,
        driver: SchedulerDriver,
        events: mpsc::UnboundedReceiver<SchedulerEvent>,
        zk: NodeZk,
    ) -> Framework {
        Framework { addr, driver, events, seen: Vec::new(), zk }
    }

    /// A handle to make calls with (launch, kill, reconcile...).
    pub fn handle(&self) -> DriverHandle {
        self.driver.handle()
    }

    /// Events delivered but not yet taken by a wait, without running the world.
    pub fn pending(&mut self) -> Vec<SchedulerEvent> {
        let mut out = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            self.seen.push(e.clone());
            out.push(e);
        }
        out
    }
}
