//! `rmesos-slave`: parses the flags (a bad value is one error line and exit
//! code 2), starts the slave and runs until the master shuts it down (exit
//! 0), refuses its credential (exit 1) or the process gets Ctrl+C / SIGTERM (executors are then left running, as Mesos
//! leaves them for recovery; the command executor stops on its own when its
//! slave goes away and its framework does not checkpoint).

use clap::Parser;
use rmesos_slave::{start, Flags};

fn main() {
    let flags = Flags::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let code = actix_rt::System::new().block_on(async move {
        let slave = match start(flags).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("rmesos-slave: {e}");
                return 1;
            }
        };
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("rmesos-slave: cannot watch SIGTERM: {e}");
                return 1;
            }
        };
        tokio::select! {
            why = slave.join() => why.exit_code(),
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("Received SIGINT; stopping the slave (executors keep running)");
                slave.stop(false).await;
                0
            }
            _ = term.recv() => {
                tracing::info!("Received SIGTERM; stopping the slave (executors keep running)");
                slave.stop(false).await;
                0
            }
        }
    });
    std::process::exit(code);
}
