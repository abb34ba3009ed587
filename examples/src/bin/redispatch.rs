//! `redispatch --master <host:port|file> --tasks <file> --state_dir <dir>
//! [--resources cpus:0.1;mem:32]`: the field report's framework. Runs every
//! line of the task file as a task, re-dispatches each task reported lost or
//! failed until all have finished, prints a progress line per state change
//! and `finished N of N, re-dispatched K`, and exits 0 when all are done.
//! Its state lives under `--state_dir`: run it again and it resumes
//! (failing over to its previous framework so running tasks are kept).
//! Ctrl+C leaves the framework to fail over (tasks keep running for
//! `--failover_timeout`). With `--checkpoint` its tasks also survive a
//! slave restart.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use rmesos::scheduler::{DriverStatus, SchedulerDriver};
use rmesos::{parse_duration, FrameworkInfo, Resources};
use rmesos_examples::cli::{current_user, init_logging, master_flag, wall_clock};
use rmesos_examples::redispatch::{parse_task_list, FileStore, Outcome, Redispatch, RedispatchScheduler, TaskStore};

#[derive(Parser, Debug)]
#[command(name = "redispatch", rename_all = "snake_case", version)]
/// Runs a list of shell commands on an rmesos cluster until every one has finished.
struct Flags {
    /// The master: host:port, ip:port, or a file (or file:// URL) holding one.
    #[arg(long, env = "RMESOS_MASTER", value_parser = master_flag)]
    master: String,
    /// The task list: one shell command per line (# comments and blank lines skipped).
    #[arg(long, env = "RMESOS_TASKS")]
    tasks: PathBuf,
    /// Directory of the durable task store (created if missing).
    #[arg(long, env = "RMESOS_STATE_DIR")]
    state_dir: PathBuf,
    /// Resources of each task.
    #[arg(long, env = "RMESOS_RESOURCES", default_value = "cpus:0.1;mem:32")]
    resources: Resources,
    /// Framework name.
    #[arg(long, env = "RMESOS_NAME", default_value = "redispatch")]
    name: String,
    /// How long the master keeps the tasks of a redispatch that went away.
    #[arg(long, env = "RMESOS_FAILOVER_TIMEOUT", default_value = "10mins", value_parser = parse_duration)]
    failover_timeout: Duration,
    /// Ask slaves to checkpoint the tasks (`--checkpoint` or
    /// `--checkpoint=true`): they then survive a slave restart
    /// (`rmesos-slave --recover=reconnect`), but a killed slave's tasks are
    /// reported lost only when the master's health checks remove it. Off by
    /// default, like the field report's framework (lost at once, re-run).
    #[arg(long, env = "RMESOS_CHECKPOINT", default_value_t = false, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    checkpoint: bool,
    /// Principal to authenticate with (CRAM-MD5), for a master with
    /// --authenticate_frameworks; also set as the framework's principal.
    #[arg(long, env = "RMESOS_PRINCIPAL", requires = "secret")]
    principal: Option<String>,
    /// The principal's secret (prefer RMESOS_SECRET to the command line).
    #[arg(long, env = "RMESOS_SECRET", requires = "principal", hide_env_values = true)]
    secret: Option<String>,
}

/// Runs a framework that uses a stored framework id: at most this many
/// runs (the second without the id, if the master refused it).
const MAX_RUNS: usize = 2;

fn fail(code: i32, msg: impl std::fmt::Display) -> ! {
    eprintln!("redispatch: {msg}");
    std::process::exit(code);
}

fn main() {
    let flags = Flags::parse();
    init_logging();
    let text = std::fs::read_to_string(&flags.tasks)
        .unwrap_or_else(|e| fail(2, format!("cannot read --tasks {}: {e}", flags.tasks.display())));
    let list = parse_task_list(&text).unwrap_or_else(|e| fail(2, format!("--tasks {}: {e}", flags.tasks.display())));

    for run in 1..=MAX_RUNS {
        let mut store = FileStore::open(&flags.state_dir).unwrap_or_else(|e| fail(1, e));
        let (stored, framework_id) = store.load().unwrap_or_else(|e| fail(1, e));
        let (core, added) = Redispatch::new(list.clone(), stored, flags.resources.clone());
        for key in &added {
            if let Some(r) = core.record(key) {
                store.save(r).unwrap_or_else(|e| fail(1, e));
            }
        }
        println!(
            "{} {} tasks ({} finished, {} pending) from {}",
            wall_clock(),
            core.total(),
            core.finished(),
            core.pending(),
            flags.state_dir.display()
        );
        if core.is_done() {
            println!("{} {}", wall_clock(), core.report());
            println!("{}", core.summary());
            return;
        }
        let mut framework = FrameworkInfo::new(current_user(), flags.name.clone());
        framework.failover_timeout = flags.failover_timeout.as_secs_f64();
        framework.checkpoint = flags.checkpoint;
        framework.id = framework_id.clone();
        let scheduler = RedispatchScheduler::new(core, Box::new(store), framework_id.clone());
        let outcome = scheduler.outcome();
        framework.principal = flags.principal.clone();
        let mut driver =
            SchedulerDriver::new(scheduler, framework, flags.master.clone()).unwrap_or_else(|e| fail(2, e));
        if let (Some(p), Some(s)) = (&flags.principal, &flags.secret) {
            driver = driver.credential(rmesos::auth::Credential::new(p, s));
        }
        let status = actix_rt::System::new().block_on(async move {
            if let Err(e) = driver.start().await {
                fail(1, e);
            }
            tokio::select! {
                status = driver.join() => status,
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("redispatch: interrupted; the framework will fail over (run again to resume)");
                    driver.stop(true);
                    driver.join().await
                }
            }
        });
        let outcome = outcome.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match (status, outcome) {
            (_, Outcome::Done) => return,
            (_, Outcome::FrameworkError(e)) if framework_id.is_some() && run < MAX_RUNS => {
                eprintln!("redispatch: the master refused framework {framework_id:?} ({e}); registering anew");
                let mut store = FileStore::open(&flags.state_dir).unwrap_or_else(|e| fail(1, e));
                store.save_framework_id(None).unwrap_or_else(|e| fail(1, e));
            }
            (_, Outcome::FrameworkError(e)) => fail(1, format!("framework error: {e}")),
            (_, Outcome::StoreFailed(e)) => fail(1, format!("store failed: {e}")),
            (DriverStatus::Stopped, Outcome::Running) => fail(1, "stopped before every task finished"),
            (status, Outcome::Running) => fail(1, format!("driver ended {status}")),
        }
    }
}
