//! `rmesos-execute --master <host:port|file> --name N --command "..."
//! [--resources cpus:0.1;mem:32] [--count K] [--checkpoint]`: runs the command as a task
//! (or K tasks) on the cluster, prints each state change with a timestamp,
//! and exits with the task's exit status. Ctrl+C stops the framework (its
//! tasks are killed by the master).

use clap::Parser;
use rmesos::scheduler::{DriverStatus, SchedulerDriver};
use rmesos::{FrameworkInfo, Resources, TaskID};
use rmesos_examples::cli::{current_user, init_logging, master_flag};
use rmesos_examples::execute::{task_ids, ExecuteScheduler};

/// Most tasks one run may start.
const MAX_COUNT: usize = 10_000;

#[derive(Parser, Debug)]
#[command(name = "rmesos-execute", rename_all = "snake_case", version)]
/// Runs a shell command as one or more tasks on an rmesos cluster.
struct Flags {
    /// The master: host:port, ip:port, or a file (or file:// URL) holding one.
    #[arg(long, env = "RMESOS_MASTER", value_parser = master_flag)]
    master: String,
    /// Framework and task name (task ids: NAME, or NAME-1..NAME-K).
    #[arg(long, env = "RMESOS_NAME", value_parser = task_name)]
    name: String,
    /// The shell command to run (`sh -c`).
    #[arg(long, env = "RMESOS_COMMAND")]
    command: String,
    /// Resources of each task.
    #[arg(long, env = "RMESOS_RESOURCES", default_value = "cpus:0.1;mem:32")]
    resources: Resources,
    /// Number of tasks to run.
    #[arg(long, env = "RMESOS_COUNT", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=MAX_COUNT as u64))]
    count: u64,
    /// Ask slaves to checkpoint the tasks (`--checkpoint` or
    /// `--checkpoint=true`), so they survive a slave restart; off by
    /// default, as in Mesos's mesos-execute.
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

fn task_name(s: &str) -> Result<String, String> {
    TaskID::new(format!("{s}-1")).map(|_| s.to_string()).map_err(|e| e.to_string())
}

fn main() {
    let flags = Flags::parse();
    init_logging();
    let ids: Vec<TaskID> = task_ids(&flags.name, flags.count as usize)
        .into_iter()
        .map(|id| TaskID::new(id).expect("validated by --name's parser"))
        .collect();
    let scheduler = ExecuteScheduler::new(flags.command.clone(), flags.resources.clone(), ids);
    let results = scheduler.results();
    let mut framework = FrameworkInfo::new(current_user(), flags.name.clone());
    framework.checkpoint = flags.checkpoint;
    framework.principal = flags.principal.clone();
    let mut driver = match SchedulerDriver::new(scheduler, framework, flags.master.clone()) {
        Ok(d) => match (&flags.principal, &flags.secret) {
            (Some(p), Some(s)) => d.credential(rmesos::auth::Credential::new(p, s)),
            _ => d,
        },
        Err(e) => {
            eprintln!("rmesos-execute: {e}");
            std::process::exit(2);
        }
    };
    let status = actix_rt::System::new().block_on(async move {
        if let Err(e) = driver.start().await {
            eprintln!("rmesos-execute: {e}");
            return None;
        }
        tokio::select! {
            status = driver.join() => Some(status),
            _ = tokio::signal::ctrl_c() => {
                eprintln!("rmesos-execute: interrupted; stopping the framework");
                driver.stop(false);
                Some(driver.join().await)
            }
        }
    });
    let code = match status {
        None => 1,
        Some(DriverStatus::Stopped) => {
            ExecuteScheduler::final_status(&results.lock().unwrap_or_else(|e| e.into_inner()))
        }
        Some(other) => {
            eprintln!("rmesos-execute: driver ended {other}");
            1
        }
    };
    std::process::exit(code);
}
