//! `rmesos-slave-bench`: what isolation costs, measured in one run (needs
//! root and cgroup controllers for the cgroups side).
//!
//! - launch: ms per container launch (the containerizer's `launch`: the
//!   sandbox, the fork and exec of `sleep`, plus for cgroups the cgroup
//!   directories, the limits and the join before exec), posix/cpu,posix/mem
//!   against cgroups/cpu,cgroups/mem, in alternating rounds so both see the
//!   same machine load; the ratio is the figure.
//! - statistics: ms to build `/monitor/statistics`' array for 100 live
//!   containers (usage of each, from /proc or the cgroups, serialized to
//!   JSON), posix against cgroups.
//!
//! `cargo run --release -p rmesos-slave --bin rmesos-slave-bench [-- ROUNDS]`.

use std::time::Instant;

use libprocess::Clock;
use rmesos::{CommandInfo, ExecutorID, FrameworkID, Resources};
use rmesos_slave::containerizer::{isolation, Containerizer, ExitFuture, Mesos, MesosConfig};
use rmesos_slave::core::Launch;

const LAUNCHES_PER_ROUND: usize = 20;
const CONTAINERS: usize = 100;
const STATISTICS_CALLS: usize = 20;

fn config(isolation: &str, root: &str) -> MesosConfig {
    MesosConfig {
        isolation: isolation::parse(isolation).expect("valid isolation"),
        cgroups_root: root.to_string(),
        ..MesosConfig::default()
    }
}

fn launch(dir: &std::path::Path, i: usize) -> Launch {
    Launch {
        framework_id: FrameworkID::new("bench").unwrap(),
        executor_id: ExecutorID::new(format!("e{i}")).unwrap(),
        run: uuid::Uuid::new_v4(),
        directory: dir.join(format!("e{i}")),
        command: CommandInfo::shell("exec sleep 1000"),
        env: Vec::new(),
        resources: Resources::parse("cpus:0.1;mem:32").unwrap(),
        user: None,
    }
}

/// Launches `n` containers; the mean ms per launch and their runs.
fn launch_n(c: &mut Mesos, dir: &std::path::Path, n: usize) -> (f64, Vec<(uuid::Uuid, ExitFuture)>) {
    let mut runs = Vec::new();
    let start = Instant::now();
    for i in 0..n {
        let l = launch(dir, i);
        let launched = c.launch(&l).expect("launch");
        runs.push((l.run, launched.exit));
    }
    (start.elapsed().as_secs_f64() * 1000.0 / n as f64, runs)
}

async fn kill_all(c: &mut Mesos, runs: Vec<(uuid::Uuid, ExitFuture)>) {
    c.kill_all();
    for (run, exit) in runs {
        exit.await;
        c.reaped(run);
    }
}

/// Mean ms of one `/monitor/statistics` over `runs`.
fn statistics(c: &Mesos, runs: &[(uuid::Uuid, ExitFuture)]) -> f64 {
    let start = Instant::now();
    let mut bytes = 0;
    for _ in 0..STATISTICS_CALLS {
        let ids: Vec<uuid::Uuid> = runs.iter().map(|(run, _)| *run).collect();
        let all: Vec<_> = c.usages(&ids).into_iter().flatten().collect();
        assert_eq!(all.len(), runs.len());
        bytes += serde_json::to_vec(&all).unwrap().len();
    }
    assert!(bytes > 0);
    start.elapsed().as_secs_f64() * 1000.0 / STATISTICS_CALLS as f64
}

fn stats(v: &[f64]) -> String {
    let min = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = v.iter().cloned().fold(0.0, f64::max);
    format!("{min:.2}-{max:.2} ms")
}

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let dir = std::env::temp_dir().join(format!("rmesos-slave-bench-{}", std::process::id()));
    let root = format!("rmesos-bench-{}", std::process::id());
    actix_rt::System::new().block_on(async move {
        let clock = Clock::real();
        let mut posix = Mesos::new(config(isolation::DEFAULT, &root), clock.clone()).expect("posix");
        let mut cgroups = match Mesos::new(config("cgroups/cpu,cgroups/mem", &root), clock.clone()) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("rmesos-slave-bench: cgroups unusable here: {e}");
                std::process::exit(1);
            }
        };
        let (mut lp, mut lc) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let (ms, runs) = launch_n(&mut posix, &dir, LAUNCHES_PER_ROUND);
            lp.push(ms);
            kill_all(&mut posix, runs).await;
            let (ms, runs) = launch_n(&mut cgroups, &dir, LAUNCHES_PER_ROUND);
            lc.push(ms);
            kill_all(&mut cgroups, runs).await;
        }
        let med = |v: &mut Vec<f64>| {
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        };
        println!(
            "launch posix/cpu,posix/mem   {} per task ({LAUNCHES_PER_ROUND} per round, {rounds} rounds)",
            stats(&lp)
        );
        println!("launch cgroups/cpu,cgroups/mem {} per task", stats(&lc));
        println!("launch ratio cgroups/posix (medians) {:.2}", med(&mut lc) / med(&mut lp));

        let (mut sp, mut sc) = (Vec::new(), Vec::new());
        let (_, prun) = launch_n(&mut posix, &dir, CONTAINERS);
        let (_, crun) = launch_n(&mut cgroups, &dir.join("c"), CONTAINERS);
        for _ in 0..rounds {
            sp.push(statistics(&posix, &prun));
            sc.push(statistics(&cgroups, &crun));
        }
        kill_all(&mut posix, prun).await;
        kill_all(&mut cgroups, crun).await;
        println!("/monitor/statistics, {CONTAINERS} containers: posix {}, cgroups {}", stats(&sp), stats(&sc));
        println!("statistics ratio cgroups/posix (medians) {:.2}", med(&mut sc) / med(&mut sp));
        let _ = std::fs::remove_dir_all(&dir);
        // The bench's cgroups root (v1: one per controller; v2: one).
        for c in ["cpu", "cpuacct", "memory", "freezer", ""] {
            let _ = std::fs::remove_dir(std::path::Path::new("/sys/fs/cgroup").join(c).join(&root));
        }
    });
}
