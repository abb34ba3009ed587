//! `rmesos-master`: parses the flags, sets up logging (`RUST_LOG`, default
//! `info`), starts a master (standalone, or contending through ZooKeeper
//! with `--zk`; it exits with status 1 if it loses leadership) and runs until SIGINT or SIGTERM,
//! then shuts the node down cleanly.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use rmesos_master::{start, Flags};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let flags = Flags::parse();
    // Logs go to stderr (as Mesos's do); colours only on a terminal.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    actix_rt::System::new().block_on(async move {
        let master = match start(&flags).await {
            Ok(m) => m,
            Err(e) => {
                tracing::error!("{e}");
                eprintln!("rmesos-master: {e}");
                return ExitCode::from(1);
            }
        };
        let signal = wait_for_signal().await;
        tracing::info!("Received {signal}; shutting down master {} at {}", master.id, master.pid);
        master.stop().await;
        ExitCode::SUCCESS
    })
}

/// The name of the first of SIGINT / SIGTERM to arrive.
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot watch SIGTERM ({e}); only SIGINT stops the master");
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}
