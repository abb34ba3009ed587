//! The fault injector: a schedule drawn from the seed (its own generator,
//! so the schedule does not shift when the network draws more or fewer
//! latencies), applied to the [`Cluster`] as simulated time reaches it.
//!
//! Faults (one every [`INTERVAL`], the first after [`WARMUP`]):
//! - crash a master (its node and ZooKeeper links), restarted after 1-60 s;
//! - crash a slave (its executors live on and notice), restarted after
//!   1-90 s with a fresh work directory;
//! - kill an executor's process (its node) while it runs;
//! - partition a node (a master, a slave or the scheduler) from the other
//!   masters, slaves and scheduler for 1-60 s, half the time from
//!   ZooKeeper too; then heal;
//! - expire one ZooKeeper session of a master, slave or the scheduler (as
//!   the servers do after a long pause of the client);
//! - crash the scheduler (redispatch), run again after 1-30 s with its
//!   stored framework id (a framework failover).
//!
//! Faults overlap (a crash during a partition...); a fault whose target is
//! already down or cut off is drawn again for another target. Faults stop
//! after the run's chaos time (what is down or cut comes back): the
//! workload must then finish, the liveness half of the check.

use std::fmt;
use std::time::Duration;

use libprocess::Time;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::cluster::{Cluster, MASTERS, SCHEDULER, SLAVES};

/// Simulated time before the first fault (the cluster forms).
pub const WARMUP: Duration = Duration::from_secs(5);
/// Bounds of the time between two faults.
pub const INTERVAL: (Duration, Duration) = (Duration::from_secs(2), Duration::from_secs(20));

/// The kinds of fault, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Master,
    Slave,
    Executor,
    Partition,
    Expire,
    Scheduler,
}

/// Faults injected so far, by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub master: u32,
    pub slave: u32,
    pub executor: u32,
    pub partition: u32,
    pub expire: u32,
    pub scheduler: u32,
}

impl Counts {
    pub fn total(&self) -> u32 {
        self.master + self.slave + self.executor + self.partition + self.expire + self.scheduler
    }

    fn add(&mut self, k: Kind) {
        match k {
            Kind::Master => self.master += 1,
            Kind::Slave => self.slave += 1,
            Kind::Executor => self.executor += 1,
            Kind::Partition => self.partition += 1,
            Kind::Expire => self.expire += 1,
            Kind::Scheduler => self.scheduler += 1,
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (masters {}, slaves {}, executors {}, partitions {}, zk expiries {}, schedulers {})",
            self.total(),
            self.master,
            self.slave,
            self.executor,
            self.partition,
            self.expire,
            self.scheduler
        )
    }
}

/// A node a partition or an expiry can target: index into the masters,
/// then slaves, then the scheduler.
const TARGETS: usize = MASTERS.len() + SLAVES.len() + 1;

fn target_addr(t: usize) -> &'static str {
    match t {
        t if t < MASTERS.len() => MASTERS[t],
        t if t < MASTERS.len() + SLAVES.len() => SLAVES[t - MASTERS.len()],
        _ => SCHEDULER,
    }
}

/// A partition in force.
struct Cut {
    target: usize,
    zk: bool,
    until: Time,
}

pub struct Injector {
    rng: ChaCha8Rng,
    next: Time,
    /// No new fault from then on (what is down or cut still comes back).
    stop: Time,
    cuts: Vec<Cut>,
    pub counts: Counts,
}

impl Injector {
    /// Faults from `start` + [`WARMUP`] until `start` + `chaos`.
    pub fn new(rng: ChaCha8Rng, start: Time, chaos: Duration) -> Injector {
        Injector { rng, next: start + WARMUP, stop: start + chaos, cuts: Vec::new(), counts: Counts::default() }
    }

    /// The next instant the injector acts (a fault or a heal).
    pub fn next_due(&self) -> Option<Time> {
        let next = Some(self.next).filter(|n| *n < self.stop);
        self.cuts.iter().map(|c| c.until).chain(next).min()
    }

    fn draw(&mut self, lo: Duration, hi: Duration) -> Duration {
        Duration::from_millis(self.rng.gen_range(lo.as_millis() as u64..=hi.as_millis() as u64))
    }

    /// Heals what is due, then injects the fault due now, if any.
    pub fn act(&mut self, now: Time, c: &mut Cluster) {
        let (due, kept): (Vec<Cut>, Vec<Cut>) =
            std::mem::take(&mut self.cuts).into_iter().partition(|x| x.until <= now);
        self.cuts = kept;
        for cut in due {
            self.heal(c, &cut);
        }
        if now < self.next || now >= self.stop {
            return;
        }
        self.next = now + self.draw(INTERVAL.0, INTERVAL.1);
        // A few draws: a target already down or cut off is drawn again.
        for _ in 0..8 {
            let kind = match self.rng.gen_range(0..100) {
                0..=17 => Kind::Master,
                18..=37 => Kind::Slave,
                38..=59 => Kind::Executor,
                60..=84 => Kind::Partition,
                85..=95 => Kind::Expire,
                _ => Kind::Scheduler,
            };
            if let Some(what) = self.inject(kind, now, c) {
                self.counts.add(kind);
                if std::env::var_os("RMESOS_CHAOS_DEBUG").is_some() {
                    eprintln!("chaos debug: fault {what}");
                }
                c.sim.note(format!("chaos: fault {what}"));
                return;
            }
        }
    }

    /// Ends partition `cut`, but not between its node and a node still cut.
    fn heal(&self, c: &mut Cluster, cut: &Cut) {
        let addr = target_addr(cut.target);
        for other in (0..TARGETS).filter(|o| *o != cut.target && !self.is_cut(*o)) {
            c.sim.heal(addr, target_addr(other));
        }
        if cut.zk {
            zk_of(c, cut.target).restore();
        }
        c.sim.note(format!("chaos: heal {addr}"));
    }

    fn is_cut(&self, target: usize) -> bool {
        self.cuts.iter().any(|x| x.target == target)
    }

    /// Whether the servers may expire a session of `target` now: not while
    /// it is cut off from ZooKeeper. Servers expire a session only after
    /// its timeout without heartbeats, by which time a cut-off client has
    /// expired it too (and a master stopped leading); expiring it at once
    /// would elect a second leader while the first cannot yet know (seed
    /// 40000780: "2 masters act as leader at once"), which no ensemble does.
    /// A cut that outlasts the timeout expires the sessions by itself.
    fn expirable(&self, target: usize) -> bool {
        !self.cuts.iter().any(|x| x.target == target && x.zk)
    }

    /// Injects a fault of `kind`; None if its drawn target cannot take it.
    fn inject(&mut self, kind: Kind, now: Time, c: &mut Cluster) -> Option<String> {
        match kind {
            Kind::Master => {
                let i = self.rng.gen_range(0..MASTERS.len());
                let down = self.draw(Duration::from_secs(1), Duration::from_secs(60));
                c.masters[i].running.as_ref()?;
                c.kill_master(i, now + down);
                Some(format!("crash master {} for {down:?}", MASTERS[i]))
            }
            Kind::Slave => {
                let i = self.rng.gen_range(0..SLAVES.len());
                let down = self.draw(Duration::from_secs(1), Duration::from_secs(90));
                c.slaves[i].running.as_ref()?;
                c.kill_slave(i, now + down);
                Some(format!("crash slave {} for {down:?}", SLAVES[i]))
            }
            Kind::Executor => {
                let pick = self.rng.gen::<u64>();
                let sim = c.sim.clone();
                let mut ledger = c.shared.ledger.borrow_mut();
                ledger.prune_nodes(|a| sim.node_at(a).is_none_or(|n| n.processes().is_empty()));
                let nodes = ledger.nodes();
                let addr = *nodes.get((pick % nodes.len().max(1) as u64) as usize)?;
                drop(ledger);
                c.sim.kill(&addr);
                Some(format!("kill executor at {addr}"))
            }
            Kind::Partition => {
                let target = self.rng.gen_range(0..TARGETS);
                let zk = self.rng.gen_bool(0.5);
                let length = self.draw(Duration::from_secs(1), Duration::from_secs(60));
                if self.is_cut(target) {
                    return None;
                }
                let addr = target_addr(target);
                for other in (0..TARGETS).filter(|o| *o != target) {
                    c.sim.partition(addr, target_addr(other));
                }
                if zk {
                    zk_of(c, target).cut();
                }
                self.cuts.push(Cut { target, zk, until: now + length });
                let zk = if zk { " and ZooKeeper" } else { "" };
                Some(format!("partition {addr} from the cluster{zk} for {length:?}"))
            }
            Kind::Scheduler => {
                let down = self.draw(Duration::from_secs(1), Duration::from_secs(30));
                c.kill_scheduler(now + down).then(|| format!("crash the scheduler for {down:?}"))
            }
            Kind::Expire => {
                let target = self.rng.gen_range(0..TARGETS);
                let pick = self.rng.gen::<u64>();
                if !self.expirable(target) {
                    return None;
                }
                let session = zk_of(c, target).expire_one(pick)?;
                Some(format!("expire ZooKeeper session {session} of {}", target_addr(target)))
            }
        }
    }
}

fn zk_of(c: &Cluster, target: usize) -> &rmesos_testkit::NodeZk {
    match target {
        t if t < MASTERS.len() => &c.masters[t].zk,
        t if t < MASTERS.len() + SLAVES.len() => &c.slaves[t - MASTERS.len()].zk,
        _ => &c.scheduler_zk,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn a_session_is_not_expired_while_its_node_is_cut_off_from_zookeeper() {
        let mut inj = Injector::new(ChaCha8Rng::seed_from_u64(1), Time::default(), Duration::from_secs(600));
        assert!(inj.expirable(0) && inj.expirable(1));
        let until = Time::default() + Duration::from_secs(30);
        inj.cuts.push(Cut { target: 0, zk: true, until });
        inj.cuts.push(Cut { target: 1, zk: false, until });
        assert!(!inj.expirable(0), "cut off from ZooKeeper: only the session timeout expires it");
        assert!(inj.expirable(1), "cut off from the cluster only: it still hears ZooKeeper");
    }
}
