//! Allocator core tests: DRF fairness, filters, suppress/revive, recovery,
//! and the candidate bookkeeping that keeps cycles proportional to change.

use std::time::Duration;

use libprocess::Time;
use rmesos::{FrameworkID, Resources, SlaveID};

use super::*;

fn r(s: &str) -> Resources {
    Resources::parse(s).unwrap()
}

fn fid(n: u64) -> FrameworkID {
    FrameworkID::generate("m", n)
}

fn sid(n: u64) -> SlaveID {
    SlaveID::generate("m", n)
}

fn at(secs: u64) -> Time {
    Time::default() + Duration::from_secs(secs)
}

/// Two frameworks with different dominant resources (A: cpu-heavy tasks, B:
/// memory-heavy tasks) share 3 slaves. Each launches one task per offer when
/// it fits and returns the rest; when nothing fits it declines for an hour.
/// DRF equalizes dominant shares: B (whose tasks cost half the share) ends
/// with about twice A's tasks, and the shares end within one task's share of
/// each other. Task-count round robin would give A 0.75 and B 0.375.
#[test]
fn drf_equalizes_dominant_shares_across_different_demands() {
    let mut a = Allocator::new();
    for n in 0..3 {
        a.add_slave(&sid(n), r("cpus:4;mem:8192"), &[]);
    }
    let (fa, fb) = (fid(0), fid(1));
    a.add_framework(&fa, true);
    a.add_framework(&fb, true);
    let task_a = r("cpus:1;mem:256"); // share 1/12 (cpu)
    let task_b = r("cpus:0.25;mem:1024"); // share 1/24 (mem)
    let mut tasks = [0u32, 0u32];
    let now = at(0);
    for _round in 0..1000 {
        let allocs = a.allocate(now);
        if allocs.is_empty() {
            break;
        }
        for al in allocs {
            let (task, k) = if al.framework_id == fa { (&task_a, 0) } else { (&task_b, 1) };
            match al.resources.checked_sub(task) {
                Some(rest) => {
                    tasks[k] += 1;
                    a.recover(&al.framework_id, &al.slave_id, &rest, None, now);
                }
                None => a.recover(&al.framework_id, &al.slave_id, &al.resources, Some(Duration::from_secs(3600)), now),
            }
        }
    }
    let (sa, sb) = (a.share(&fa).unwrap(), a.share(&fb).unwrap());
    assert!(tasks[1] > tasks[0], "B's cheaper tasks give it more of them: {tasks:?}");
    assert!((sa - sb).abs() <= 1.0 / 12.0 + 1e-9, "shares {sa} vs {sb}, tasks {tasks:?}");
    assert!(sa > 0.5 && sb > 0.5, "the cluster is used: {sa} {sb}");
}

#[test]
fn lowest_share_framework_gets_each_slave_whole() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    a.add_framework(&fid(1), true);
    for n in 0..4 {
        a.add_slave(&sid(n), r("cpus:2;mem:1024"), &[]);
    }
    let allocs = a.allocate(at(0));
    assert_eq!(allocs.len(), 4);
    for al in &allocs {
        assert_eq!(al.resources, r("cpus:2;mem:1024"));
    }
    let count = |f: &FrameworkID| allocs.iter().filter(|al| &al.framework_id == f).count();
    assert_eq!((count(&fid(0)), count(&fid(1))), (2, 2));
    assert!(a.allocate(at(1)).is_empty(), "nothing is free");
}

#[test]
fn refuse_filters_withhold_a_slave_until_they_expire() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    a.add_slave(&sid(0), r("cpus:1;mem:512"), &[]);
    let al = a.allocate(at(0)).pop().unwrap();
    a.recover(&fid(0), &sid(0), &al.resources, Some(Duration::from_secs(5)), at(0));
    assert!(a.allocate(at(1)).is_empty());
    assert!(a.allocate(at(4)).is_empty());
    let again = a.allocate(at(5));
    assert_eq!(again.len(), 1, "the filter expired at 5 s");
    assert_eq!(again[0].resources, r("cpus:1;mem:512"));
}

#[test]
fn a_filter_does_not_withhold_from_others_nor_hide_more_resources() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    a.add_slave(&sid(0), r("cpus:2;mem:1024"), &[]);
    let al = a.allocate(at(0)).pop().unwrap();
    // fid(0) launches cpus:1;mem:512 and declines the rest for an hour.
    let rest = al.resources.checked_sub(&r("cpus:1;mem:512")).unwrap();
    a.recover(&fid(0), &sid(0), &rest, Some(Duration::from_secs(3600)), at(0));
    assert!(a.allocate(at(1)).is_empty());
    // Another framework is not filtered.
    a.add_framework(&fid(1), true);
    let got = a.allocate(at(1));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].framework_id, fid(1));
    a.recover(&fid(1), &sid(0), &got[0].resources, Some(Duration::from_secs(3600)), at(1));
    // The task finishes: more is free than fid(0) refused, so it sees it.
    a.recover(&fid(0), &sid(0), &r("cpus:1;mem:512"), None, at(2));
    let got = a.allocate(at(2));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].framework_id, fid(0));
    assert_eq!(got[0].resources, r("cpus:2;mem:1024"));
}

#[test]
fn zero_refuse_seconds_sets_no_filter() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    a.add_slave(&sid(0), r("cpus:1;mem:512"), &[]);
    let al = a.allocate(at(0)).pop().unwrap();
    a.recover(&fid(0), &sid(0), &al.resources, Some(Duration::ZERO), at(0));
    assert_eq!(a.allocate(at(0)).len(), 1);
}

#[test]
fn suppressed_frameworks_get_nothing_until_revived_and_revive_clears_filters() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    a.add_slave(&sid(0), r("cpus:1;mem:512"), &[]);
    a.suppress(&fid(0));
    assert!(a.is_suppressed(&fid(0)));
    assert!(a.allocate(at(0)).is_empty());
    a.revive(&fid(0));
    let al = a.allocate(at(0)).pop().unwrap();
    assert_eq!(al.framework_id, fid(0));
    a.recover(&fid(0), &sid(0), &al.resources, Some(Duration::from_secs(3600)), at(0));
    assert!(a.allocate(at(1)).is_empty(), "filtered");
    a.revive(&fid(0));
    assert_eq!(a.allocate(at(1)).len(), 1, "revive removed the filter");
}

#[test]
fn suppressed_framework_leaves_resources_to_others() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    a.add_framework(&fid(1), true);
    a.suppress(&fid(0));
    a.add_slave(&sid(0), r("cpus:1;mem:512"), &[]);
    a.add_slave(&sid(1), r("cpus:1;mem:512"), &[]);
    let allocs = a.allocate(at(0));
    assert_eq!(allocs.len(), 2);
    assert!(allocs.iter().all(|al| al.framework_id == fid(1)));
}

#[test]
fn inactive_frameworks_and_slaves_are_skipped() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), false);
    a.add_slave(&sid(0), r("cpus:1;mem:512"), &[]);
    assert!(a.allocate(at(0)).is_empty());
    a.activate_framework(&fid(0));
    a.deactivate_slave(&sid(0));
    assert!(a.allocate(at(0)).is_empty());
    a.activate_slave(&sid(0));
    assert_eq!(a.allocate(at(0)).len(), 1);
}

#[test]
fn recovered_resources_are_offered_again() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    a.add_slave(&sid(0), r("cpus:4;mem:4096"), &[]);
    let al = a.allocate(at(0)).pop().unwrap();
    assert_eq!(a.allocated(&fid(0)), Some(&r("cpus:4;mem:4096")));
    // Launch uses everything; later a task of cpus:1;mem:1024 finishes.
    assert!(a.allocate(at(1)).is_empty());
    a.recover(&al.framework_id, &al.slave_id, &r("cpus:1;mem:1024"), None, at(2));
    let again = a.allocate(at(2));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].resources, r("cpus:1;mem:1024"));
    assert_eq!(a.available(&sid(0)), Some(&Resources::new()));
}

#[test]
fn tiny_leftovers_are_not_offered() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    a.add_slave(&sid(0), r("cpus:0.005;mem:16"), &[]);
    assert!(a.allocate(at(0)).is_empty());
}

#[test]
fn used_resources_of_a_reregistered_slave_count_in_shares() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    a.add_framework(&fid(1), true);
    a.add_slave(&sid(0), r("cpus:4;mem:4096"), &[(fid(0), r("cpus:3;mem:1024"))]);
    a.add_slave(&sid(1), r("cpus:4;mem:4096"), &[]);
    let allocs = a.allocate(at(0));
    // fid(1) has the lower share and gets the first slave considered.
    assert_eq!(allocs[0].framework_id, fid(1));
    assert_eq!(allocs[0].resources, r("cpus:1;mem:3072"));
    assert_eq!(a.available(&sid(0)), Some(&Resources::new()));
}

#[test]
fn removing_a_slave_shrinks_the_total_and_drops_its_filters() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    a.add_slave(&sid(0), r("cpus:1;mem:512"), &[]);
    a.add_slave(&sid(1), r("cpus:1;mem:512"), &[]);
    assert_eq!(a.total(), &r("cpus:2;mem:1024"));
    let allocs = a.allocate(at(0));
    for al in &allocs {
        a.recover(&al.framework_id, &al.slave_id, &al.resources, Some(Duration::from_secs(60)), at(0));
    }
    a.remove_slave(&sid(0));
    assert_eq!(a.total(), &r("cpus:1;mem:512"));
    assert_eq!(a.slave_count(), 1);
    // The freed slot is reused by a new slave with no filter inherited.
    a.add_slave(&sid(2), r("cpus:1;mem:512"), &[]);
    let got = a.allocate(at(1));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].slave_id, sid(2));
}

/// Cycles look only at slaves whose situation changed: a fully filtered
/// cluster costs nothing per cycle until a filter expires.
#[test]
fn cycles_only_consider_changed_slaves() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    for n in 0..100 {
        a.add_slave(&sid(n), r("cpus:1;mem:512"), &[]);
    }
    let allocs = a.allocate(at(0));
    assert_eq!(a.last_cycle(), CycleStats { slaves_considered: 100, allocations: 100 });
    for (i, al) in allocs.iter().enumerate() {
        let refuse = if i == 0 { 10 } else { 3600 };
        a.recover(&al.framework_id, &al.slave_id, &al.resources, Some(Duration::from_secs(refuse)), at(0));
    }
    assert!(a.allocate(at(1)).is_empty());
    assert_eq!(a.last_cycle().slaves_considered, 100, "each recovered slave once");
    assert!(a.allocate(at(2)).is_empty());
    assert_eq!(a.last_cycle().slaves_considered, 0, "nothing changed");
    assert_eq!(a.allocate(at(10)).len(), 1);
    assert_eq!(a.last_cycle().slaves_considered, 1, "only the slave whose filter expired");
}

#[test]
fn stale_filter_deadlines_are_compacted() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    a.add_slave(&sid(0), r("cpus:1;mem:512"), &[]);
    for i in 0..5000u64 {
        let al = a.allocate(at(i)).pop().expect("offered: the previous filter was replaced by revive");
        a.recover(&fid(0), &sid(0), &al.resources, Some(Duration::from_secs(86_400)), at(i));
        a.revive(&fid(0));
    }
    assert!(a.expiries.len() <= 2 * a.live_filters + HEAP_SLACK + 1, "{}", a.expiries.len());
}

#[test]
fn a_slave_with_new_resources_offers_what_is_not_taken() {
    let mut a = Allocator::new();
    a.add_framework(&fid(0), true);
    a.add_slave(&sid(0), r("cpus:2;mem:1024"), &[(fid(0), r("cpus:1;mem:256"))]);
    a.update_slave(&sid(0), r("cpus:4;mem:2048"), &r("cpus:1;mem:256"));
    assert_eq!(a.total(), &r("cpus:4;mem:2048"));
    let got = a.allocate(at(0));
    assert_eq!(got[0].resources, r("cpus:3;mem:1792"));
}

/// The cached "filter covers the slave's free resources" answer follows the
/// slave's content: declines that return an allocation whole keep the
/// filters of earlier decliners in force (DeclineOffers shape), and resources
/// freed beyond what was refused lift them at once.
#[test]
fn cached_filter_coverage_follows_the_slave_content() {
    let mut a = Allocator::new();
    a.add_slave(&sid(0), r("cpus:4;mem:1024"), &[(fid(9), r("cpus:2;mem:512"))]);
    for n in 0..3 {
        a.add_framework(&fid(n), true);
    }
    a.add_framework(&fid(9), true);
    let hour = Some(Duration::from_secs(3600));
    // Each of the four frameworks is offered the free half once and declines it.
    let mut seen = Vec::new();
    for _ in 0..4 {
        let offers = a.allocate(at(0));
        assert_eq!(offers.len(), 1);
        let o = &offers[0];
        assert_eq!(o.resources, r("cpus:2;mem:512"));
        assert!(!seen.contains(&o.framework_id), "a decliner was offered the same resources again");
        seen.push(o.framework_id.clone());
        a.recover(&o.framework_id, &o.slave_id, &o.resources, hour, at(0));
    }
    assert!(a.allocate(at(1)).is_empty(), "every framework declined");
    // The used half comes back: more than was refused, so the filters lift.
    a.recover(&fid(9), &sid(0), &r("cpus:2;mem:512"), None, at(2));
    let offers = a.allocate(at(2));
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].resources, r("cpus:4;mem:1024"));
}
