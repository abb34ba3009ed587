//! What the master remembers about each framework and slave, and its
//! counters. Plain data: the rules that change it live in the sibling files.
//!
//! Ownership and restart: all of this lives only in the master's memory. A
//! restarted (or newly elected) master starts empty and rebuilds it from
//! re-registrations: each slave's `ReregisterSlaveMessage` brings its tasks,
//! executors and the FrameworkInfos of their frameworks (frameworks so
//! recovered have no scheduler pid until their scheduler reregisters), and
//! each scheduler's `ReregisterFrameworkMessage` brings its pid back. The
//! registry (`registry.rs`: admitted slaves, in ZooKeeper with `--zk`) tells
//! a new leader which slaves to expect (`recovery.rs`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use libprocess::Upid;
use rmesos::{ExecutorID, ExecutorInfo, FrameworkID, FrameworkInfo, OfferID, Resources, SlaveID, SlaveInfo, TaskID};
use rmesos::{Task, TaskState, TaskStatus};

/// Completed tasks kept per framework for `/state` (Mesos's
/// `--max_completed_tasks_per_framework` default).
pub const MAX_COMPLETED_TASKS_PER_FRAMEWORK: usize = 1000;
/// Removed frameworks kept for `/state` (Mesos's `--max_completed_frameworks`).
pub const MAX_COMPLETED_FRAMEWORKS: usize = 50;
/// Statuses kept per task (the latest ones).
pub const MAX_STATUSES_PER_TASK: usize = 32;
/// Removed-as-unreachable slave ids remembered so that their return is
/// recognised (oldest forgotten first).
pub const MAX_UNREACHABLE_SLAVES: usize = 100_000;

/// A framework the master knows.
#[derive(Debug, Clone)]
pub struct Framework {
    pub id: FrameworkID,
    pub info: FrameworkInfo,
    /// The scheduler's pid; `None` for a framework recovered from a slave's
    /// re-registration whose scheduler has not reregistered yet.
    pub pid: Option<Upid>,
    /// The scheduler's process is reachable (linked and not exited).
    pub connected: bool,
    /// Offers may be sent (connected and not deactivated).
    pub active: bool,
    /// Wall-clock seconds.
    pub registered_time: f64,
    pub reregistered_time: Option<f64>,
    pub unregistered_time: Option<f64>,
    pub tasks: HashMap<TaskID, Task>,
    pub completed_tasks: VecDeque<Task>,
    /// Ordered, as `Slave`'s sets: what is sent for each (rescinds...)
    /// goes in id order, so a simulation replays byte for byte.
    pub offers: BTreeSet<OfferID>,
    /// Executors by slave.
    pub executors: HashMap<SlaveID, HashMap<ExecutorID, ExecutorInfo>>,
    /// Resources of its non-terminal tasks and its executors.
    pub used: Resources,
    /// Resources in its outstanding offers.
    pub offered: Resources,
    /// Bumped whenever a failover timer must be ignored (reconnected).
    pub failover_epoch: u64,
}

impl Framework {
    pub(crate) fn new(id: FrameworkID, info: FrameworkInfo, pid: Option<Upid>, now: f64) -> Framework {
        let connected = pid.is_some();
        Framework {
            id,
            info,
            pid,
            connected,
            active: connected,
            registered_time: now,
            reregistered_time: None,
            unregistered_time: None,
            tasks: HashMap::new(),
            completed_tasks: VecDeque::new(),
            offers: BTreeSet::new(),
            executors: HashMap::new(),
            used: Resources::new(),
            offered: Resources::new(),
            failover_epoch: 0,
        }
    }

    /// The pid to send to, if the scheduler is reachable.
    pub fn connected_pid(&self) -> Option<&Upid> {
        self.pid.as_ref().filter(|_| self.connected)
    }

    pub(crate) fn archive_task(&mut self, task: Task) {
        if self.completed_tasks.len() >= MAX_COMPLETED_TASKS_PER_FRAMEWORK {
            self.completed_tasks.pop_front();
        }
        self.completed_tasks.push_back(task);
    }
}

/// A slave the master admitted.
#[derive(Debug, Clone)]
pub struct Slave {
    pub id: SlaveID,
    pub info: SlaveInfo,
    pub pid: Upid,
    pub version: Option<String>,
    /// The start of the slave process that (re)registered last, if it said
    /// (`RegisterSlaveMessage::incarnation`).
    pub incarnation: Option<u64>,
    /// Its process is reachable (linked and not exited).
    pub connected: bool,
    /// Its resources may be offered.
    pub active: bool,
    pub registered_time: f64,
    pub reregistered_time: Option<f64>,
    /// Task ids by framework (the tasks themselves live in their framework).
    /// This and `offers` are ordered: what the master sends for them (lost
    /// tasks, rescinds, reconciliations) goes in id order, so a simulation
    /// replays byte for byte.
    pub tasks: BTreeMap<FrameworkID, BTreeSet<TaskID>>,
    pub executors: HashMap<FrameworkID, HashMap<ExecutorID, ExecutorInfo>>,
    pub offers: BTreeSet<OfferID>,
    /// Resources of non-terminal tasks and executors on it.
    pub used: Resources,
    pub offered: Resources,
    /// A ping was sent and no pong came back yet.
    pub awaiting_pong: bool,
    /// Consecutive pings without a pong.
    pub pings_missed: u32,
    /// Bumped at each disconnection (a reregistration timer of an older
    /// disconnection is void).
    pub disconnect_epoch: u64,
    /// Tasks a framework asked to kill, until they end here: a kill that
    /// could not be sent (the slave was disconnected) or was lost is sent
    /// again when the slave reregisters still running them (Mesos's
    /// `killedTasks`).
    pub killed_tasks: HashSet<(FrameworkID, TaskID)>,
}

impl Slave {
    pub(crate) fn new(id: SlaveID, info: SlaveInfo, pid: Upid, version: Option<String>, now: f64) -> Slave {
        Slave {
            id,
            info,
            pid,
            version,
            incarnation: None,
            connected: true,
            active: true,
            registered_time: now,
            reregistered_time: None,
            tasks: BTreeMap::new(),
            executors: HashMap::new(),
            offers: BTreeSet::new(),
            used: Resources::new(),
            offered: Resources::new(),
            awaiting_pong: false,
            pings_missed: 0,
            disconnect_epoch: 0,
            killed_tasks: HashSet::new(),
        }
    }

    /// Removes a task id from this slave's index.
    pub(crate) fn forget_task(&mut self, fid: &FrameworkID, tid: &TaskID) {
        self.killed_tasks.remove(&(fid.clone(), tid.clone()));
        if let Some(set) = self.tasks.get_mut(fid) {
            set.remove(tid);
            if set.is_empty() {
                self.tasks.remove(fid);
            }
        }
    }

    pub fn task_count(&self) -> usize {
        self.tasks.values().map(BTreeSet::len).sum()
    }
}

/// Appends `status` to `task`, keeping the latest [`MAX_STATUSES_PER_TASK`].
pub(crate) fn push_status(task: &mut Task, status: TaskStatus) {
    if task.statuses.len() >= MAX_STATUSES_PER_TASK {
        task.statuses.remove(0);
    }
    task.statuses.push(status);
}

/// The master's counters (Mesos's `master/...` metrics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub tasks_finished: u64,
    pub tasks_failed: u64,
    pub tasks_killed: u64,
    pub tasks_error: u64,
    pub tasks_lost: u64,
    pub tasks_dropped: u64,
    pub tasks_gone: u64,
    pub slave_registrations: u64,
    pub slave_reregistrations: u64,
    pub slave_removals: u64,
    pub frameworks_removed: u64,
    pub valid_status_updates: u64,
    pub invalid_status_updates: u64,
    pub valid_status_update_acknowledgements: u64,
    pub invalid_status_update_acknowledgements: u64,
    pub offers_sent: u64,
    pub offers_declined: u64,
    pub offers_rescinded: u64,
    pub tasks_launched: u64,
    pub dropped_messages: u64,
}

impl Counters {
    /// Counts a task reaching `state` (terminal states only).
    pub(crate) fn task_reached(&mut self, state: TaskState) {
        let c = match state {
            TaskState::Finished => &mut self.tasks_finished,
            TaskState::Failed => &mut self.tasks_failed,
            TaskState::Killed => &mut self.tasks_killed,
            TaskState::Error => &mut self.tasks_error,
            TaskState::Lost => &mut self.tasks_lost,
            TaskState::Dropped => &mut self.tasks_dropped,
            TaskState::Gone | TaskState::GoneByOperator => &mut self.tasks_gone,
            _ => return,
        };
        *c += 1;
    }
}

/// Slaves removed as unreachable, remembered so that their return is
/// recognised: a set with O(1) lookups and a bounded memory (the oldest are
/// forgotten beyond [`MAX_UNREACHABLE_SLAVES`]).
#[derive(Debug, Default)]
pub struct UnreachableSlaves {
    live: HashMap<SlaveID, u64>,
    /// Insertion order; entries whose seq no longer matches `live` are stale.
    order: VecDeque<(u64, SlaveID)>,
    seq: u64,
}

impl UnreachableSlaves {
    pub fn insert(&mut self, id: SlaveID) {
        self.seq += 1;
        self.live.insert(id.clone(), self.seq);
        self.order.push_back((self.seq, id));
        while self.live.len() > MAX_UNREACHABLE_SLAVES {
            let Some((seq, old)) = self.order.pop_front() else { break };
            if self.live.get(&old) == Some(&seq) {
                self.live.remove(&old);
            }
        }
        if self.order.len() > 2 * MAX_UNREACHABLE_SLAVES {
            let live = &self.live;
            self.order.retain(|(seq, id)| live.get(id) == Some(seq));
        }
    }

    /// Forgets `id`; true if it was there.
    pub fn remove(&mut self, id: &SlaveID) -> bool {
        self.live.remove(id).is_some()
    }

    pub fn contains(&self, id: &SlaveID) -> bool {
        self.live.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }
}
