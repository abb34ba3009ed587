//! Allocator figures, with the parameters of Mesos's
//! `HierarchicalAllocator_BENCHMARK_Test.DeclineOffers`
//! (src/tests/hierarchical_allocator_tests.cpp): every slave has
//! `cpus:24;mem:4096;disk:4096;ports:[31000-32000]`, of which
//! `cpus:16;mem:2014;disk:1024` plus 16 port ranges are already used by one
//! framework (round-robin); each round, every offer made is declined with a
//! refuse filter of `INT_MAX` seconds, then one allocation cycle is timed.
//! Mesos runs `2 x frameworks` rounds; the figure is the mean cycle over the
//! rounds run (all `2 x frameworks` at 1,000 x 100; the first 200 at
//! 10,000 x 1,000 by default, all 2,000 with `rmesos-bench alloc-full`,
//! which takes about 5 minutes on its own).

use std::time::Duration;

use libprocess::Time;
use rmesos::{FrameworkID, Resources, SlaveID};

use crate::{elapsed_ms, now};
use rmesos_master::allocator::Allocator;

/// Mesos's `refuse_seconds = INT_MAX`.
const REFUSE: Duration = Duration::from_secs(i32::MAX as u64);

fn used_per_slave() -> Resources {
    // 16 port ranges of the slave's 1001 ports, as Mesos's `fragment(.., 16)`.
    let ranges: Vec<String> = (0..16).map(|i| format!("{}-{}", 31000 + i * 62, 31000 + i * 62 + 30)).collect();
    Resources::parse(&format!("cpus:16;mem:2014;disk:1024;ports:[{}]", ranges.join(","))).expect("valid resources")
}

/// Frameworks and slaves added as Mesos's benchmark does; returns the
/// allocator and the time adding the slaves took (ms).
fn setup(slaves: u64, frameworks: u64) -> (Allocator, Vec<FrameworkID>, f64) {
    let total = Resources::parse("cpus:24;mem:4096;disk:4096;ports:[31000-32000]").expect("valid resources");
    let used = used_per_slave();
    let mut a = Allocator::new();
    let fids: Vec<FrameworkID> = (0..frameworks).map(|f| FrameworkID::generate("bench", f)).collect();
    for f in &fids {
        a.add_framework(f, true);
    }
    let t = now();
    for s in 0..slaves {
        let fid = fids[(s % frameworks) as usize].clone();
        a.add_slave(&SlaveID::generate("bench", s), total.clone(), &[(fid, used.clone())]);
    }
    (a, fids, elapsed_ms(t))
}

/// What the decline rounds measured.
pub struct DeclineFigures {
    /// Adding the slaves to the allocator (Mesos prints this as "Added N agents in").
    pub add_slaves_ms: f64,
    pub rounds: usize,
    pub mean_cycle_ms: f64,
    pub max_cycle_ms: f64,
    pub first_cycle_ms: f64,
    pub offers: usize,
}

/// Runs `rounds` DeclineOffers rounds (Mesos: `2 x frameworks`).
pub fn decline_offers(slaves: u64, frameworks: u64, rounds: usize) -> DeclineFigures {
    let (mut a, _fids, add_slaves_ms) = setup(slaves, frameworks);
    let mut clock = Time::default();
    let mut offers = Vec::new();
    let (mut total, mut max, mut first, mut count) = (0.0f64, 0.0f64, 0.0, 0);
    for round in 0..rounds {
        for al in offers.drain(..) {
            let al: rmesos_master::allocator::Allocation = al;
            a.recover(&al.framework_id, &al.slave_id, &al.resources, Some(REFUSE), clock);
        }
        clock = clock + Duration::from_secs(1); // Mesos advances one allocation_interval
        let t = now();
        offers = a.allocate(clock);
        let ms = elapsed_ms(t);
        count += offers.len();
        if round == 0 {
            first = ms;
        }
        total += ms;
        max = max.max(ms);
    }
    DeclineFigures {
        add_slaves_ms,
        rounds,
        mean_cycle_ms: total / rounds.max(1) as f64,
        max_cycle_ms: max,
        first_cycle_ms: first,
        offers: count,
    }
}
