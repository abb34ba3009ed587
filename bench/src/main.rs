//! `rmesos-bench`: the master's figures at scale (issue 7), printed as one
//! `name value` line each. Run with `cargo run --release -p rmesos-bench`
//! (groups and the full run: BENCHMARKS.md). A crate of its own so that no
//! bench code (its fake slaves and scheduler) ships in the master's
//! library. Everything measured is the real master code: the
//! allocator and master cores directly, and the master actor on a libprocess
//! node driven over real loopback TCP by fake slaves and a fake scheduler
//! speaking the real messages (see [`cluster`]). Not a test: no assertion on
//! time; figures go to BENCHMARKS.md.
//!
//! Time is read through `libprocess::Clock::real()`, only to report figures.

mod alloc;
mod cluster;
mod http;
mod rss;

use libprocess::{Clock, Time};

/// The bench's one real clock (one origin, so any two readings compare).
pub(crate) fn clock() -> &'static Clock {
    static CLOCK: std::sync::OnceLock<Clock> = std::sync::OnceLock::new();
    CLOCK.get_or_init(Clock::real)
}

/// The real clock's now (benchmarks measure real elapsed time).
pub(crate) fn now() -> Time {
    clock().now()
}

/// Milliseconds since `t`.
pub(crate) fn elapsed_ms(t: Time) -> f64 {
    now().saturating_since(t).as_secs_f64() * 1e3
}

/// Prints one figure.
pub fn figure(name: &str, value: f64) {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        println!("{name} {value:.0}");
    } else {
        println!("{name} {value:.1}");
    }
}

/// The whole run; `rmesos-bench [group...]` runs only the named groups
/// (`memory`, `http`, `alloc`, `add`, `failover`, `launch`), in this order;
/// `alloc-full` (only when named) runs all of Mesos's 2,000 DeclineOffers
/// rounds at 10,000 x 1,000.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(rss::CHILD_ARG) {
        return rss::child(&args[1..]);
    }
    if args.first().map(String::as_str) == Some(http::CHILD_ARG) {
        return http::child(&args[1..]);
    }
    let on = |g: &str| args.is_empty() || args.iter().any(|a| a == g);
    println!("# rmesos-bench: {} cpus available", std::thread::available_parallelism().map_or(0, |n| n.get()));
    let t = now();
    if on("memory") {
        for slaves in [1_000, 10_000] {
            if let Some(mib) = rss::core_memory_in_child(slaves, 10) {
                figure(&format!("master_rss_mib_a{slaves}_t10"), mib);
            }
        }
        figure("failover_rereg_core_ms_a1000_t10", rss::core_reregistration_ms(cluster::Shape::new(1_000, 10)));
        figure("failover_rereg_core_ms_a10000_t10", rss::core_reregistration_ms(cluster::Shape::new(10_000, 10)));
    }
    if on("http") {
        // Memory of subscribed v1 HTTP frameworks: 1,000 against a baseline
        // of 100 in the same run (the ratio shows it grows in proportion).
        for n in [100, 1_000] {
            if let Some((mib, ms)) = http::subscriptions_in_child(n) {
                figure(&format!("master_rss_mib_http_f{n}"), mib);
                figure(&format!("http_subscribe_ms_f{n}"), ms);
            }
        }
    }
    let full = args.iter().any(|a| a == "alloc-full");
    if on("alloc") || full {
        let runs = if full { &ALLOC_FULL[..] } else { &ALLOC_RUNS[..] };
        for &(slaves, frameworks, rounds) in runs {
            let f = alloc::decline_offers(slaves, frameworks, rounds);
            let tag = format!("a{slaves}_f{frameworks}");
            figure(&format!("alloc_cycle_ms_{tag}"), f.mean_cycle_ms);
            figure(&format!("alloc_cycle_max_ms_{tag}"), f.max_cycle_ms);
            figure(&format!("alloc_first_cycle_ms_{tag}"), f.first_cycle_ms);
            figure(&format!("alloc_rounds_{tag}"), f.rounds as f64);
            figure(&format!("alloc_offers_{tag}"), f.offers as f64);
            figure(&format!("alloc_add_slaves_ms_{tag}"), f.add_slaves_ms);
        }
    }
    let system = actix_rt::System::new();
    system.block_on(async {
        if on("add") {
            for n in [1_000, 10_000] {
                figure(&format!("add_slaves_ms_a{n}"), cluster::add_slaves(n).await);
            }
        }
        if on("failover") {
            use std::time::Duration;
            for (slaves, tasks) in [(1_000, 10), (10_000, 10), (20_000, 5)] {
                let (ms, c) = cluster::failover(cluster::Shape::new(slaves, tasks), Duration::ZERO).await;
                figure(&format!("failover_rereg_ms_a{slaves}_t{tasks}"), ms);
                if tasks == 10 {
                    let (ms, mib) = cluster::state_json(&c).await;
                    figure(&format!("state_json_ms_a{slaves}_t{tasks}"), ms);
                    figure(&format!("state_json_mib_a{slaves}_t{tasks}"), mib);
                }
                c.shutdown();
            }
            let backoff = Duration::from_secs(1);
            let (ms, c) = cluster::failover(cluster::Shape::new(10_000, 10), backoff).await;
            figure("failover_rereg_ms_a10000_t10_backoff1s", ms);
            c.shutdown();
        }
        if on("launch") {
            figure("launch_tasks_per_s", cluster::launch_tasks(1_000, 10).await);
        }
    });
    figure("bench_total_s", now().saturating_since(t).as_secs_f64());
}

/// DeclineOffers runs: (slaves, frameworks, rounds). Mesos runs `2 x
/// frameworks` rounds; at 10,000 x 1,000 the default run stops after 200 to
/// keep the whole bench within minutes (see `alloc.rs`).
const ALLOC_RUNS: [(u64, u64, usize); 2] = [(1_000, 100, 200), (10_000, 1_000, 200)];
/// `alloc-full`: every round Mesos runs at 10,000 x 1,000.
const ALLOC_FULL: [(u64, u64, usize); 1] = [(10_000, 1_000, 2_000)];
