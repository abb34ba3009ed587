//! The framework side of rmesos: the [`Scheduler`] trait a framework
//! implements, and the [`SchedulerDriver`] that connects it to the master.
//!
//! The driver is a libprocess process (`scheduler-<uuid>@ip:port`). It finds
//! the master from a `--master` value (`host:port`, `ip:port`, a file or
//! `file://` URL holding one, or `zk://...` to follow the leading master),
//! registers the framework (retrying with a randomized backoff), and calls
//! the scheduler's methods **on its actor**, one at a time, in message order.
//! Every callback gets a [`DriverHandle`] to act with (launch, decline,
//! kill...); what a callback asks is done as soon as the callback returns,
//! before the next message. The handle is `Clone + Send`: other actors and
//! threads of the framework keep one and call it too.
//!
//! ```no_run
//! use rmesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
//! use rmesos::{CommandInfo, Filters, FrameworkInfo, Offer, Resources, TaskID, TaskInfo, TaskStatus};
//!
//! struct Hello { launched: bool }
//!
//! impl Scheduler for Hello {
//!     fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
//!         for offer in offers {
//!             let want = Resources::parse("cpus:0.1;mem:32").unwrap();
//!             if self.launched || !offer.resources.contains(&want) {
//!                 driver.decline_offer(offer.id, Filters::default());
//!                 continue;
//!             }
//!             let task = TaskInfo::command("hello", TaskID::new("hello").unwrap(), offer.slave_id,
//!                                          want, CommandInfo::shell("echo hello"));
//!             driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
//!             self.launched = true;
//!         }
//!     }
//!     fn status_update(&mut self, driver: &DriverHandle, status: TaskStatus) {
//!         println!("{} is {}", status.task_id, status.state);
//!         if status.state.is_terminal() {
//!             driver.stop(false);
//!         }
//!     }
//! }
//!
//! let framework = FrameworkInfo::new("me", "hello");
//! let driver = SchedulerDriver::new(Hello { launched: false }, framework, "127.0.0.1:5050").unwrap();
//! let status = driver.run_blocking().unwrap(); // or `driver.run().await` inside an actix system
//! println!("{status}");
//! ```

pub mod core;
mod driver;
mod process;
#[cfg(test)]
mod tests;

pub use self::core::{
    DriverStatus, MAX_SAVED_OFFERS, MIN_REDETECT_INTERVAL, REGISTRATION_BACKOFF_FACTOR, REGISTRATION_RETRY_INTERVAL_MAX,
};
pub use driver::{DriverError, DriverHandle, SchedulerDriver};

use crate::ids::{ExecutorID, FrameworkID, OfferID, SlaveID};
use crate::info::{MasterInfo, Offer};
use crate::task::TaskStatus;

/// What a framework's scheduler does with the master's events (Mesos's
/// `Scheduler` interface). Methods run on the driver's actor; they should
/// return quickly (hand long work to another task or actor).
pub trait Scheduler: 'static {
    /// Registered with a master for the first time, under `framework_id`.
    fn registered(&mut self, driver: &DriverHandle, framework_id: &FrameworkID, master: &MasterInfo) {
        let _ = (driver, framework_id, master);
    }

    /// Registered again (new master elected, or master restarted).
    fn reregistered(&mut self, driver: &DriverHandle, master: &MasterInfo) {
        let _ = (driver, master);
    }

    /// The master is gone; the driver is looking for it. No offers come in
    /// until `reregistered`; launches meanwhile come back as TASK_LOST.
    fn disconnected(&mut self, driver: &DriverHandle) {
        let _ = driver;
    }

    /// Resources offered; launch on them or decline them.
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>);

    /// An offer is no longer valid.
    fn offer_rescinded(&mut self, driver: &DriverHandle, offer_id: &OfferID) {
        let _ = (driver, offer_id);
    }

    /// A task changed state. With implicit acknowledgements (the default)
    /// the driver acknowledges it when this returns.
    fn status_update(&mut self, driver: &DriverHandle, status: TaskStatus);

    /// Data from an executor.
    fn framework_message(&mut self, driver: &DriverHandle, executor_id: &ExecutorID, slave_id: &SlaveID, data: &[u8]) {
        let _ = (driver, executor_id, slave_id, data);
    }

    /// A slave was removed; its tasks' updates (TASK_LOST) come separately.
    fn slave_lost(&mut self, driver: &DriverHandle, slave_id: &SlaveID) {
        let _ = (driver, slave_id);
    }

    /// An executor exited with `status`.
    fn executor_lost(&mut self, driver: &DriverHandle, executor_id: &ExecutorID, slave_id: &SlaveID, status: i32) {
        let _ = (driver, executor_id, slave_id, status);
    }

    /// The master refused or removed the framework; the driver has aborted.
    fn error(&mut self, driver: &DriverHandle, message: &str) {
        let _ = (driver, message);
        tracing::error!("Scheduler error: {message}");
    }
}
