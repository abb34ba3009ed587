//! The chaos run's framework: the real redispatch scheduler (examples'
//! `RedispatchScheduler`, quiet) over an in-memory task store, wrapped in a
//! [`Recorder`] that sees every callback first.
//!
//! What "the same task" means. The workload is a list of tasks, each with a
//! stable key (`task-0007`); redispatch launches each attempt under a new
//! Mesos task id (`task-0007.2`). A status update is one event made by an
//! executor (or a slave, or a master), identified by its uuid; the slave
//! retries it until acknowledged, so the same update (same uuid) may reach
//! the scheduler more than once (at-least-once delivery, e.g. when a master
//! failover loses an acknowledgement): that is a redelivery, counted, not a
//! second report. The recorder flags, as they happen:
//! - a task id reported FINISHED by two different updates (the attempt
//!   finished twice);
//! - a workload task reported FINISHED under two attempts (the work was
//!   done twice: a task re-dispatched while it still ran, both finished).
//!
//! Updates without a uuid (answers to reconciliation, made by the master
//! from what it knows) restate a state; they are counted apart.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use rmesos::scheduler::{DriverHandle, Scheduler};
use rmesos::{ExecutorID, FrameworkID, MasterInfo, Offer, OfferID, SlaveID, TaskID, TaskState, TaskStatus};
use rmesos_examples::redispatch::{RedispatchScheduler, StoreError, TaskRecord, TaskStore};
use uuid::Uuid;

/// The task store, in memory; clones share it.
#[derive(Clone, Default)]
pub struct MemStore(Rc<RefCell<StoreState>>);

#[derive(Default)]
struct StoreState {
    records: BTreeMap<String, TaskRecord>,
    framework_id: Option<FrameworkID>,
}

impl MemStore {
    /// Every record, by key.
    pub fn records(&self) -> Vec<TaskRecord> {
        self.0.borrow().records.values().cloned().collect()
    }
}

impl TaskStore for MemStore {
    fn load(&mut self) -> Result<(Vec<TaskRecord>, Option<FrameworkID>), StoreError> {
        let s = self.0.borrow();
        Ok((s.records.values().cloned().collect(), s.framework_id.clone()))
    }

    fn save(&mut self, record: &TaskRecord) -> Result<(), StoreError> {
        self.0.borrow_mut().records.insert(record.key.clone(), record.clone());
        Ok(())
    }

    fn save_framework_id(&mut self, id: Option<&FrameworkID>) -> Result<(), StoreError> {
        self.0.borrow_mut().framework_id = id.cloned();
        Ok(())
    }
}

/// What the scheduler was told.
#[derive(Default, Debug)]
pub struct Log {
    /// Update uuids of the FINISHED reports, per task id.
    finished: BTreeMap<TaskID, BTreeSet<Uuid>>,
    /// Task ids reported FINISHED, per workload key.
    finished_attempts: BTreeMap<String, BTreeSet<TaskID>>,
    /// The same FINISHED update delivered again.
    pub redeliveries: u64,
    /// FINISHED restated by the master (no uuid: reconciliation).
    pub restated: u64,
    restated_keys: BTreeSet<String>,
    pub updates: u64,
    pub registered: u64,
    pub reregistered: u64,
    pub disconnected: u64,
    pub errors: Vec<String>,
    /// Broken invariants, in the order seen.
    pub violations: Vec<String>,
}

impl Log {
    fn finished(&mut self, status: &TaskStatus) {
        let id = &status.task_id;
        let key = id.as_str().rsplit_once('.').map_or(id.as_str(), |(k, _)| k).to_string();
        let Some(uuid) = status.uuid else {
            self.restated += 1;
            self.restated_keys.insert(key);
            return;
        };
        let seen = self.finished.entry(id.clone()).or_default();
        if !seen.insert(uuid) {
            self.redeliveries += 1;
            return;
        }
        if seen.len() > 1 {
            self.violations.push(format!("task {id} reported FINISHED by {} different updates: {seen:?}", seen.len()));
        }
        let attempts = self.finished_attempts.entry(key.clone()).or_default();
        attempts.insert(id.clone());
        if attempts.len() > 1 {
            self.violations.push(format!("workload task {key} reported FINISHED under two attempts: {attempts:?}"));
        }
    }

    /// Workload tasks reported FINISHED (by an update or restated).
    pub fn finished_keys(&self) -> usize {
        let restated_only = self.restated_keys.iter().filter(|k| !self.finished_attempts.contains_key(*k)).count();
        self.finished_attempts.len() + restated_only
    }
}

/// The redispatch scheduler, with its callbacks recorded first.
pub struct Recorder {
    inner: RedispatchScheduler,
    log: Rc<RefCell<Log>>,
}

impl Recorder {
    pub fn new(inner: RedispatchScheduler, log: Rc<RefCell<Log>>) -> Recorder {
        Recorder { inner, log }
    }
}

impl Scheduler for Recorder {
    fn registered(&mut self, d: &DriverHandle, id: &FrameworkID, master: &MasterInfo) {
        self.log.borrow_mut().registered += 1;
        self.inner.registered(d, id, master);
    }

    fn reregistered(&mut self, d: &DriverHandle, master: &MasterInfo) {
        self.log.borrow_mut().reregistered += 1;
        self.inner.reregistered(d, master);
    }

    fn disconnected(&mut self, d: &DriverHandle) {
        self.log.borrow_mut().disconnected += 1;
        self.inner.disconnected(d);
    }

    fn resource_offers(&mut self, d: &DriverHandle, offers: Vec<Offer>) {
        self.inner.resource_offers(d, offers);
    }

    fn offer_rescinded(&mut self, d: &DriverHandle, offer_id: &OfferID) {
        self.inner.offer_rescinded(d, offer_id);
    }

    fn status_update(&mut self, d: &DriverHandle, status: TaskStatus) {
        {
            let mut log = self.log.borrow_mut();
            log.updates += 1;
            if status.state == TaskState::Finished {
                log.finished(&status);
            }
        }
        self.inner.status_update(d, status);
    }

    fn framework_message(&mut self, d: &DriverHandle, executor_id: &ExecutorID, slave_id: &SlaveID, data: &[u8]) {
        self.inner.framework_message(d, executor_id, slave_id, data);
    }

    fn slave_lost(&mut self, d: &DriverHandle, slave_id: &SlaveID) {
        self.inner.slave_lost(d, slave_id);
    }

    fn executor_lost(&mut self, d: &DriverHandle, executor_id: &ExecutorID, slave_id: &SlaveID, status: i32) {
        self.inner.executor_lost(d, executor_id, slave_id, status);
    }

    fn error(&mut self, d: &DriverHandle, message: &str) {
        self.log.borrow_mut().errors.push(message.to_string());
        self.inner.error(d, message);
    }
}
