//! `rmesos-chaos [--seed FIRST] [--seeds COUNT] [--tasks N]`: runs the chaos
//! simulation (see `rmesos_tests::chaos`) for seeds FIRST..FIRST+COUNT, one
//! summary line per seed; a failing seed prints what broke, the end of its
//! trace and how to replay it. Exits 1 if any seed failed.

use clap::Parser;
use libprocess::Clock;
use rmesos_tests::chaos::{run_blocking, Config};

#[derive(Parser, Debug)]
#[command(name = "rmesos-chaos", rename_all = "snake_case")]
/// Runs the cluster under random faults, one seeded simulation per seed, checking its invariants.
struct Flags {
    /// First seed.
    #[arg(long, env = "RMESOS_SEED", default_value_t = 0)]
    seed: u64,
    /// Number of seeds (FIRST, FIRST+1, ...).
    #[arg(long, env = "RMESOS_CHAOS_SEEDS", default_value_t = 10)]
    seeds: u64,
    /// Tasks in each run's workload.
    #[arg(long, env = "RMESOS_CHAOS_TASKS", default_value_t = 500)]
    tasks: usize,
    /// Write each run's trace to <DIR>/chaos-<seed>.trace.
    #[arg(long)]
    trace_dir: Option<std::path::PathBuf>,
}

fn main() {
    let flags = Flags::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    let mut failed = Vec::new();
    for seed in flags.seed..flags.seed.saturating_add(flags.seeds) {
        // Wall time of a run, for the operator (the run itself is simulated).
        let wall = Clock::real();
        let started = wall.now();
        let mut cfg = Config::new(seed, flags.tasks);
        cfg.trace_out = flags.trace_dir.as_ref().map(|d| d.join(format!("chaos-{seed}.trace")));
        match run_blocking(&cfg) {
            Ok(report) => println!("{report} ({:.1}s wall)", wall.now().saturating_since(started).as_secs_f64()),
            Err(failure) => {
                println!("{failure}");
                failed.push(seed);
            }
        }
    }
    println!(
        "{} seeds run, {} failed{}",
        flags.seeds,
        failed.len(),
        if failed.is_empty() { String::new() } else { format!(": {failed:?}") }
    );
    if !failed.is_empty() {
        std::process::exit(1);
    }
}
