//! `rmesos-local [--ip 127.0.0.1] [--port 5050] [--num_slaves 2]
//! [--work_dir DIR] [--resources R] [--launcher_dir DIR]`: a master and N
//! slaves in one process (see `rmesos_examples::local`). Prints the master's
//! address and its `/state` URL; Ctrl+C or SIGTERM stops everything and
//! kills every executor it started. Started under the name
//! `rmesos-executor` (by its own slaves), it is the command executor.

use clap::Parser;
use rmesos_examples::cli::init_logging;
use rmesos_examples::local::{fresh_work_dir, is_command_executor, launcher_dir, start, Flags};

fn main() {
    let argv0 = std::env::args().next().unwrap_or_default();
    if is_command_executor(&argv0) {
        init_logging();
        std::process::exit(actix_rt::System::new().block_on(rmesos_command_executor::run()));
    }
    let flags = Flags::parse();
    init_logging();
    let work_dir = flags.work_dir.clone().unwrap_or_else(fresh_work_dir);
    let own_exe = std::env::current_exe().unwrap_or_else(|e| fail(format!("cannot find this binary's path: {e}")));
    let launcher = launcher_dir(flags.launcher_dir.as_deref(), &own_exe, &work_dir)
        .unwrap_or_else(|e| fail(format!("cannot set up the command executor under {}: {e}", work_dir.display())));
    let code = actix_rt::System::new().block_on(async move {
        let cluster = match start(&flags, work_dir, launcher).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("rmesos-local: {e}");
                return 1;
            }
        };
        println!("{}", cluster.banner());
        let signal = wait_for_signal().await;
        tracing::info!(
            "Received {signal}; stopping {} slaves (killing their executors) and the master",
            cluster.slaves.len()
        );
        cluster.stop().await;
        0
    });
    std::process::exit(code);
}

fn fail(msg: String) -> ! {
    eprintln!("rmesos-local: {msg}");
    std::process::exit(1);
}

/// The name of the first of SIGINT / SIGTERM to arrive.
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        tracing::warn!("cannot watch SIGTERM; only Ctrl+C stops rmesos-local");
        let _ = tokio::signal::ctrl_c().await;
        return "SIGINT";
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}
