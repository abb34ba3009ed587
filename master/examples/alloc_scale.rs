//! Allocator figures at scale (issue 7 benchmarks the whole master): S slaves
//! x F frameworks, printed as `name value` lines. Not a test: no assertion on
//! time. Run with `cargo run --release -p rmesos-master --example alloc_scale
//! [slaves] [frameworks]`.
//!
//! Measures: the first cycle (every slave offered), a cycle after every
//! framework declined everything for an hour (nothing changed: should cost
//! almost nothing), and a cycle after 1% of the slaves got resources back.
//! Wall time is read here only to report figures.

use std::time::{Duration, Instant};

use libprocess::Time;
use rmesos::{FrameworkID, Resources, SlaveID};
use rmesos_master::allocator::Allocator;

fn main() {
    let mut args = std::env::args().skip(1);
    let slaves: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let frameworks: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let res = Resources::parse("cpus:8;mem:16384;disk:100000").unwrap();
    let mut a = Allocator::new();
    let t = Instant::now();
    for f in 0..frameworks {
        a.add_framework(&FrameworkID::generate("m", f), true);
    }
    for s in 0..slaves {
        a.add_slave(&SlaveID::generate("m", s), res.clone(), &[]);
    }
    println!("alloc_setup_ms {:.1}", t.elapsed().as_secs_f64() * 1e3);
    let now = Time::default();
    let t = Instant::now();
    let first = a.allocate(now);
    println!("alloc_first_cycle_ms {:.1}", t.elapsed().as_secs_f64() * 1e3);
    println!("alloc_first_cycle_offers {}", first.len());
    for al in &first {
        a.recover(&al.framework_id, &al.slave_id, &al.resources, Some(Duration::from_secs(3600)), now);
    }
    // Each slave is now free again and declined by one framework: the next
    // cycle hands each to another framework; repeat until all are filtered
    // or handed out, then measure a quiet cycle.
    let t = Instant::now();
    let second = a.allocate(now);
    println!("alloc_after_decline_cycle_ms {:.1}", t.elapsed().as_secs_f64() * 1e3);
    println!("alloc_after_decline_offers {}", second.len());
    let t = Instant::now();
    let quiet = a.allocate(now);
    println!("alloc_quiet_cycle_us {:.1}", t.elapsed().as_secs_f64() * 1e6);
    println!("alloc_quiet_cycle_slaves_considered {}", a.last_cycle().slaves_considered);
    assert!(quiet.is_empty());
    let some: Vec<_> = second.iter().take((slaves / 100) as usize).collect();
    for al in &some {
        a.recover(&al.framework_id, &al.slave_id, &al.resources, None, now);
    }
    let t = Instant::now();
    let again = a.allocate(now);
    println!("alloc_one_percent_recovered_cycle_ms {:.2}", t.elapsed().as_secs_f64() * 1e3);
    println!("alloc_one_percent_recovered_offers {}", again.len());
}
