//! `libprocess-pingpong`: two libprocess nodes exchanging messages over TCP,
//! in one command (`demo`, the default) or one side at a time (`serve`,
//! `ping`). It is the first thing a newcomer runs, so its stdout is plain
//! sentences; logs go to stderr (`RUST_LOG`, default `info`).
//!
//! ```text
//! libprocess-pingpong serve [--ip 127.0.0.1] [--port 0]   prints "listening pong@IP:PORT"
//! libprocess-pingpong ping --to pong@IP:PORT [--count 10] exit 1 if the target exits
//! libprocess-pingpong [demo] [--count 5]                  serve in a child, ping it, SIGKILL it
//! ```
//! `serve` and `ping` read `LIBPROCESS_IP` / `LIBPROCESS_PORT` (and the
//! advertise variables) when flags do not say otherwise.

use std::io::Write;
use std::net::IpAddr;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use clap::{Parser, Subcommand};
use libprocess::{Config, Node, Upid};
use pingpong::{Event, Outcome, PingClient, Ponger, PONG_TIMEOUT};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::signal::unix::{signal, SignalKind};

/// The demo's actors (also included by libprocess's multiprocess tests).
mod pingpong;

/// How long `demo` waits for its child to print its `listening` line, and
/// then for the `Exited` notification after killing it. Both take
/// milliseconds; these bound a broken build or machine.
const CHILD_START_TIMEOUT: Duration = Duration::from_secs(30);
const EXITED_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Parser)]
#[command(name = "libprocess-pingpong", about = "Two libprocess nodes exchanging messages over TCP")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run process `pong`, answering each Ping with a Pong, until SIGINT/SIGTERM.
    Serve {
        /// IP to bind (default: LIBPROCESS_IP, else 127.0.0.1).
        #[arg(long)]
        ip: Option<IpAddr>,
        /// Port to bind, 0 = any free port (default: LIBPROCESS_PORT, else 0).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Link to a pong process and ping it `count` times, one at a time.
    Ping {
        /// The pong process, as printed by `serve`: pong@IP:PORT.
        #[arg(long)]
        to: Upid,
        #[arg(long, default_value_t = 10)]
        count: u64,
    },
    /// Run `serve` in a child process, ping it, kill it with SIGKILL and show
    /// the link reporting it (the default).
    Demo {
        #[arg(long, default_value_t = 5)]
        count: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    actix_rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Command::Demo { count: 5 }) {
            Command::Serve { ip, port } => serve(ip, port).await,
            Command::Ping { to, count } => ping(to, count).await,
            Command::Demo { count } => demo(count).await,
        }
    })
}

/// Prints a line to stdout at once (a parent may be waiting for it).
fn say(line: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A node configured from the environment, with `ip`/`port` overriding it.
async fn start_node(ip: Option<IpAddr>, port: Option<u16>) -> Result<Node, String> {
    let mut config = Config::from_env().map_err(|e| e.to_string())?;
    if let Some(ip) = ip {
        config.ip = ip;
    }
    if let Some(port) = port {
        config.port = port;
    }
    Node::bind(config).await.map_err(|e| e.to_string())
}

fn fail(what: &str, e: impl std::fmt::Display) -> ExitCode {
    eprintln!("libprocess-pingpong: {what}: {e}");
    ExitCode::FAILURE
}

async fn serve(ip: Option<IpAddr>, port: Option<u16>) -> ExitCode {
    // Handlers first: a parent may signal us as soon as it reads our line.
    let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => return fail("cannot handle signals", e),
    };
    let node = match start_node(ip, port).await {
        Ok(n) => n,
        Err(e) => return fail("cannot start node", e),
    };
    let pong = match node.spawn("pong", Ponger::new) {
        Ok(s) => s.pid,
        Err(e) => return fail("cannot spawn pong", e),
    };
    say(format!("listening {pong}"));
    let why = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!("{why}: shutting down");
    node.shutdown();
    ExitCode::SUCCESS
}

/// Runs the ping loop, printing one line per Pong and a summary; true if
/// every ping was answered.
async fn ping_loop(client: &mut PingClient, to: &Upid, count: u64) -> bool {
    let outcome = client.run(to, count, |seq, from| say(format!("pong seq={seq} from={from}"))).await;
    match outcome {
        Outcome::Done { pongs, elapsed } => {
            let per = elapsed.as_secs_f64() * 1e3 / pongs.max(1) as f64;
            say(format!("{pongs} pings, {pongs} pongs from {to} ({per:.3} ms per round trip)"));
            true
        }
        Outcome::Exited(pid) => {
            say(format!("exited {pid}"));
            false
        }
        Outcome::TimedOut { seq } => {
            say(format!("no pong for seq={seq} from {to} within {:?}", PONG_TIMEOUT));
            false
        }
    }
}

async fn ping(to: Upid, count: u64) -> ExitCode {
    let node = match start_node(None, None).await {
        Ok(n) => n,
        Err(e) => return fail("cannot start node", e),
    };
    let mut client = match PingClient::spawn(&node, "ping") {
        Ok(c) => c,
        Err(e) => return fail("cannot spawn ping", e),
    };
    let ok = ping_loop(&mut client, &to, count).await;
    node.shutdown();
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn demo(count: u64) -> ExitCode {
    match run_demo(count).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail("demo failed", e),
    }
}

async fn run_demo(count: u64) -> Result<(), String> {
    say("demo: two libprocess nodes in two OS processes exchange messages over TCP.");
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut child = tokio::process::Command::new(&exe)
        .args(["serve", "--ip", "127.0.0.1", "--port", "0"])
        .stdout(Stdio::piped())
        // The child's logs share our stderr; keep them to warnings unless
        // the user asked for more.
        .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .kill_on_drop(true) // an early return must not leave it running
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let child_pid = child.id().unwrap_or(0);
    say(format!("demo: started child process {child_pid}: libprocess-pingpong serve --port 0"));

    let node = start_node(None, None).await?;
    let clock = node.clock().clone();
    let stdout = child.stdout.take().ok_or("child has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = clock
        .timeout(CHILD_START_TIMEOUT, lines.next_line())
        .await
        .map_err(|_| "the child printed nothing")?
        .map_err(|e| format!("cannot read the child's output: {e}"))?
        .ok_or("the child exited before listening")?;
    say(format!("demo: child says: {line}"));
    let pong: Upid = line
        .strip_prefix("listening ")
        .ok_or_else(|| format!("unexpected line from the child: {line}"))?
        .parse()
        .map_err(|e| format!("{e}"))?;

    let mut client = PingClient::spawn(&node, "ping").map_err(|e| e.to_string())?;
    say(format!("demo: this process runs {}; it links to {pong} and sends {count} pings, one at a time", client.pid()));
    if !ping_loop(&mut client, &pong, count).await {
        return Err("the pong process did not answer every ping".into());
    }

    say(format!("demo: killing child process {child_pid} with SIGKILL; the link must report {pong} exited"));
    child.start_kill().map_err(|e| format!("cannot kill the child: {e}"))?; // SIGKILL on Unix
    let killed_at = clock.now();
    let status = child.wait().await.map_err(|e| format!("cannot reap the child: {e}"))?;
    loop {
        match client.next_event(EXITED_TIMEOUT).await {
            Some(Event::Exited(pid)) if pid == pong => {
                say(format!("exited {pid}"));
                break;
            }
            Some(other) => tracing::debug!(?other, "ignored"),
            None => return Err(format!("no Exited({pong}) within {EXITED_TIMEOUT:?} of the kill")),
        }
    }
    let after = clock.now() - killed_at;
    say(format!(
        "demo: ok: the child ended ({status}) and {} saw Exited({pong}) {} ms later, once its node stayed unreachable",
        client.pid(),
        after.as_millis()
    ));
    node.shutdown();
    Ok(())
}
