//! `rmesos-executor`: the command executor, started by a slave (which sets
//! its environment, see `rmesos::executor::env`). Exits 0 once its task is
//! terminal and acknowledged (or the slave told it to shut down), 1 if it
//! cannot start (for example when run by hand without a slave's environment).

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let code = actix_rt::System::new().block_on(rmesos_command_executor::run());
    std::process::exit(code);
}
