//! `rmesos-executor`: the command executor, started by a slave (which sets
//! its environment, see `rmesos::executor::env`). Exits 0 once its task is
//! terminal and acknowledged (or the slave told it to shut down), 1 if it
//! cannot start (for example when run by hand without a slave's environment).

use rmesos::executor::ExecutorDriver;
use rmesos_command_executor::CommandExecutor;

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let code = actix_rt::System::new().block_on(async {
        let executor = CommandExecutor::new();
        let task_group = executor.task_group();
        let result = ExecutorDriver::run(executor).await;
        task_group.kill();
        match result {
            Ok(status) => {
                tracing::info!("command executor done: {status:?}");
                0
            }
            Err(e) => {
                eprintln!("rmesos-executor: {e}");
                1
            }
        }
    });
    std::process::exit(code);
}
