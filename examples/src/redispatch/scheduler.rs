//! The redispatch framework's `Scheduler`: feeds offers and updates to the
//! [`Redispatch`] core, persists what changed **before** acting on it (the
//! implicit acknowledgement follows the callback, so an acknowledged update
//! is always on disk), launches and declines, and stops the driver once
//! every task has finished.

use std::sync::{Arc, Mutex};

use rmesos::scheduler::{DriverHandle, Scheduler};
use rmesos::{Filters, FrameworkID, MasterInfo, Offer, SlaveID, TaskStatus};

use super::core::Redispatch;
use super::store::TaskStore;
use crate::cli::wall_clock;

/// How long offers are declined for while no task is pending (a
/// re-dispatch revives offers at once).
pub const IDLE_REFUSE_SECONDS: f64 = 30.0;

/// How the run ended, for the program's exit status.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Outcome {
    /// Not ended (the driver was stopped from outside).
    #[default]
    Running,
    /// Every task finished.
    Done,
    /// The store failed; the driver was aborted.
    StoreFailed(String),
    /// The master refused the framework.
    FrameworkError(String),
}

/// The framework.
pub struct RedispatchScheduler {
    core: Redispatch,
    store: Box<dyn TaskStore>,
    framework_id: Option<FrameworkID>,
    outcome: Arc<Mutex<Outcome>>,
    /// Progress lines go to the debug log instead of stdout.
    quiet: bool,
}

impl RedispatchScheduler {
    /// `framework_id` is the stored one (the driver fails over to it).
    pub fn new(core: Redispatch, store: Box<dyn TaskStore>, framework_id: Option<FrameworkID>) -> RedispatchScheduler {
        RedispatchScheduler { core, store, framework_id, outcome: Arc::new(Mutex::new(Outcome::Running)), quiet: false }
    }

    /// Progress lines (one per state change) go to the debug log rather
    /// than stdout: for a simulation running thousands of tasks.
    pub fn quiet(mut self) -> RedispatchScheduler {
        self.quiet = true;
        self
    }

    /// Prints a progress line (timestamped) or, when quiet, logs it.
    fn say(&self, line: std::fmt::Arguments<'_>) {
        if self.quiet {
            tracing::debug!("{line}");
        } else {
            println!("{} {line}", wall_clock());
        }
    }

    pub fn outcome(&self) -> Arc<Mutex<Outcome>> {
        self.outcome.clone()
    }

    fn set(&self, outcome: Outcome) {
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = outcome;
    }

    /// Persists these records; on failure aborts the driver (redispatch must
    /// not act on state it could not keep).
    fn save(&mut self, driver: &DriverHandle, keys: &[String]) -> bool {
        for key in keys {
            let Some(record) = self.core.record(key) else { continue };
            if let Err(e) = self.store.save(record) {
                eprintln!("{} redispatch: cannot save task state: {e}", wall_clock());
                self.set(Outcome::StoreFailed(e.to_string()));
                driver.abort();
                return false;
            }
        }
        true
    }

    fn finish_if_done(&mut self, driver: &DriverHandle) {
        if self.core.is_done() {
            if self.quiet {
                tracing::debug!("{}", self.core.report());
                tracing::debug!("{}", self.core.summary());
            } else {
                println!("{} {}", wall_clock(), self.core.report());
                println!("{}", self.core.summary());
            }
            self.set(Outcome::Done);
            driver.stop(false);
        }
    }

    fn reconcile(&self, driver: &DriverHandle) {
        let statuses = self.core.reconcile_statuses();
        if !statuses.is_empty() {
            self.say(format_args!("Reconciling {} launched tasks", statuses.len()));
            driver.reconcile_tasks(statuses);
        }
    }
}

impl Scheduler for RedispatchScheduler {
    fn registered(&mut self, driver: &DriverHandle, id: &FrameworkID, master: &MasterInfo) {
        self.say(format_args!("Registered as framework {id} with master {}", describe(master)));
        let changed = self.core.registered(id, self.framework_id.as_ref());
        if !changed.is_empty() {
            self.say(format_args!("{} tasks of a previous framework will be re-dispatched", changed.len()));
        }
        if !self.save(driver, &changed) {
            return;
        }
        if self.framework_id.as_ref() != Some(id) {
            if let Err(e) = self.store.save_framework_id(Some(id)) {
                eprintln!("{} redispatch: cannot save the framework id: {e}", wall_clock());
                self.set(Outcome::StoreFailed(e.to_string()));
                driver.abort();
                return;
            }
            self.framework_id = Some(id.clone());
        }
        self.reconcile(driver);
        self.finish_if_done(driver);
    }

    fn reregistered(&mut self, driver: &DriverHandle, master: &MasterInfo) {
        self.say(format_args!("Reregistered with master {}", describe(master)));
        self.reconcile(driver);
    }

    fn disconnected(&mut self, _driver: &DriverHandle) {
        self.say(format_args!("Disconnected from the master; no offers until a master is detected"));
    }

    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        let placement = self.core.place(&offers);
        if !self.save(driver, &placement.save) {
            return;
        }
        for (offer_id, tasks) in placement.launch {
            let host = offers.iter().find(|o| o.id == offer_id).map_or("?", |o| o.hostname.as_str());
            for t in &tasks {
                self.say(format_args!("Launching {} on {host}", t.task_id));
            }
            driver.launch_tasks(vec![offer_id], tasks, Filters::default());
        }
        let refuse = if self.core.pending() == 0 { IDLE_REFUSE_SECONDS } else { Filters::default().refuse_seconds };
        for offer_id in placement.decline {
            driver.decline_offer(offer_id, Filters { refuse_seconds: refuse });
        }
    }

    fn status_update(&mut self, driver: &DriverHandle, status: TaskStatus) {
        let outcome = self.core.update(&status);
        if let Some(key) = &outcome.save {
            if !self.save(driver, std::slice::from_ref(key)) {
                return;
            }
        }
        if let Some(line) = outcome.progress {
            self.say(format_args!("{line}"));
        }
        if outcome.redispatched {
            driver.revive_offers();
        }
        self.finish_if_done(driver);
    }

    fn slave_lost(&mut self, driver: &DriverHandle, slave_id: &SlaveID) {
        // Their TASK_LOST comes from the master that knew them; after a
        // master failover the slave may be removed without any: ask.
        let statuses = self.core.reconcile_statuses_on(slave_id);
        self.say(format_args!(
            "Slave {slave_id} lost; reconciling its {} launched tasks (re-dispatched once reported lost)",
            statuses.len()
        ));
        if !statuses.is_empty() {
            driver.reconcile_tasks(statuses);
        }
    }

    fn error(&mut self, _driver: &DriverHandle, message: &str) {
        eprintln!("{} Framework error: {message}", wall_clock());
        self.set(Outcome::FrameworkError(message.to_string()));
    }
}

/// `<id> at <pid>` of a master.
fn describe(master: &MasterInfo) -> String {
    format!("{} at {}", master.id, master.pid.as_deref().unwrap_or("?"))
}
