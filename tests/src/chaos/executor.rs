//! The chaos run's executors and the ground truth of what runs where.
//!
//! Each task runs in a [`ChaosExecutor`], an in-process executor (one
//! simulated node per run, launched by the real slave through
//! `containerizer::InProcess`): it reports RUNNING, runs for a random
//! simulated time (drawn from the seed), reports FINISHED, waits for the
//! acknowledgement and exits, as the command executor does.
//!
//! The [`Ledger`] is the physical truth the invariants check against: the
//! resources of every task an executor is running, per slave (SlaveID),
//! from `launch_task` until the task ends here (FINISHED or KILLED sent)
//! or the executor's process is gone (killed, or its node crashed). It
//! knows nothing the master or slave believe, only what really runs.
//! It also lists the executor nodes alive, for the fault injector.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rmesos::executor::{Executor, ExecutorDriver};
use rmesos::{ExecutorInfo, FrameworkInfo, Resources, SlaveID, SlaveInfo, TaskID, TaskInfo, TaskState, TaskStatus};

/// Shortest and longest time a task runs (simulated).
pub const TASK_TIME: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(20));

/// Longest wait for the FINISHED acknowledgement before the executor exits
/// anyway (its slave may be gone).
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

/// What runs where; shared by every executor of a run.
#[derive(Default)]
pub struct Ledger {
    /// Resources of running tasks, per slave and task.
    running: BTreeMap<SlaveID, BTreeMap<TaskID, Resources>>,
    /// Executor nodes started, in order (some may be gone).
    nodes: Vec<SocketAddr>,
    /// Tasks launched in an executor so far.
    pub launched: u64,
}

impl Ledger {
    /// Resources of the tasks running on each slave.
    pub fn per_slave(&self) -> impl Iterator<Item = (&SlaveID, Resources)> {
        self.running.iter().map(|(sid, tasks)| {
            let mut sum = Resources::new();
            for r in tasks.values() {
                sum.add(r);
            }
            (sid, sum)
        })
    }

    /// Running tasks, on any slave.
    pub fn running(&self) -> usize {
        self.running.values().map(BTreeMap::len).sum()
    }

    pub fn add_node(&mut self, addr: SocketAddr) {
        self.nodes.push(addr);
    }

    /// Executor nodes started so far, oldest first.
    pub fn nodes(&self) -> &[SocketAddr] {
        &self.nodes
    }

    /// Forgets nodes for which `gone` holds (their executors ended).
    pub fn prune_nodes(&mut self, gone: impl Fn(&SocketAddr) -> bool) {
        self.nodes.retain(|a| !gone(a));
    }

    fn start(&mut self, slave: &SlaveID, task: &TaskID, resources: &Resources) {
        self.launched += 1;
        self.running.entry(slave.clone()).or_default().insert(task.clone(), resources.clone());
    }

    fn end(&mut self, slave: &SlaveID, task: &TaskID) {
        if let Some(tasks) = self.running.get_mut(slave) {
            tasks.remove(task);
            if tasks.is_empty() {
                self.running.remove(slave);
            }
        }
    }
}

/// What every executor of a run shares: the ledger and the task times.
pub struct Shared {
    pub ledger: RefCell<Ledger>,
    times: RefCell<ChaCha8Rng>,
}

impl Shared {
    pub fn new(times: ChaCha8Rng) -> Rc<Shared> {
        Rc::new(Shared { ledger: RefCell::default(), times: RefCell::new(times) })
    }

    fn task_time(&self) -> Duration {
        let (lo, hi) = TASK_TIME;
        Duration::from_millis(self.times.borrow_mut().gen_range(lo.as_millis() as u64..=hi.as_millis() as u64))
    }
}

/// One executor run (see the module doc).
pub struct ChaosExecutor {
    shared: Rc<Shared>,
    slave: Option<SlaveID>,
    /// Tasks this executor runs (ended ones removed).
    tasks: Rc<RefCell<Vec<TaskID>>>,
}

impl ChaosExecutor {
    pub fn new(shared: Rc<Shared>) -> ChaosExecutor {
        ChaosExecutor { shared, slave: None, tasks: Rc::default() }
    }
}

impl Drop for ChaosExecutor {
    /// The process is gone: whatever it ran runs no more.
    fn drop(&mut self) {
        if let Some(sid) = &self.slave {
            let mut ledger = self.shared.ledger.borrow_mut();
            for t in self.tasks.borrow().iter() {
                ledger.end(sid, t);
            }
        }
    }
}

/// Ends `task` in the ledger and in the executor's list.
fn end(shared: &Shared, tasks: &RefCell<Vec<TaskID>>, slave: &SlaveID, task: &TaskID) {
    shared.ledger.borrow_mut().end(slave, task);
    tasks.borrow_mut().retain(|t| t != task);
}

impl Executor for ChaosExecutor {
    fn registered(&mut self, _: &ExecutorDriver, _: &ExecutorInfo, _: &FrameworkInfo, slave: &SlaveInfo) {
        self.slave = slave.id.clone();
    }

    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let Some(slave) = self.slave.clone() else {
            let status = TaskStatus::new(task.task_id, TaskState::Failed).with_message("no slave id at launch");
            let _ = driver.send_status_update(status);
            return;
        };
        let id = task.task_id.clone();
        self.shared.ledger.borrow_mut().start(&slave, &id, &task.resources);
        self.tasks.borrow_mut().push(id.clone());
        let _ = driver.send_status_update(TaskStatus::new(id.clone(), TaskState::Running));
        let after = self.shared.task_time();
        let (driver, shared, tasks) = (driver.clone(), self.shared.clone(), self.tasks.clone());
        actix_rt::spawn(async move {
            driver.clock().sleep(after).await;
            if !tasks.borrow().contains(&id) {
                return; // killed meanwhile
            }
            end(&shared, &tasks, &slave, &id);
            if driver.send_status_update(TaskStatus::new(id, TaskState::Finished)).is_err() {
                return; // the driver is gone
            }
            if tasks.borrow().is_empty() {
                driver.flush(FLUSH_TIMEOUT).await;
                driver.stop();
            }
        });
    }

    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: &TaskID) {
        let Some(slave) = self.slave.clone() else { return };
        if self.tasks.borrow().contains(task_id) {
            end(&self.shared, &self.tasks, &slave, task_id);
            let _ = driver.send_status_update(TaskStatus::new(task_id.clone(), TaskState::Killed));
        }
    }

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        let ids: Vec<TaskID> = self.tasks.borrow().clone();
        for id in &ids {
            self.kill_task(driver, id);
        }
        driver.stop();
    }
}
