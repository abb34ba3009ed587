//! Running one check of a task (the I/O half of health checks and checks):
//! a command (`sh -c`, or an executable, in the sandbox with the task's
//! environment; exit 0 is healthy), an HTTP GET on `127.0.0.1:port`
//! (200-399 is healthy), or a TCP connection to `127.0.0.1:port`. Each is
//! bounded by its timeout on the libprocess clock (zero: none); a command
//! that outlives it is killed.

use std::process::Stdio;
use std::time::Duration;

use libprocess::Clock;
use rmesos::info::{
    CheckInfo, CheckStatusInfo, CheckType, CommandCheckStatus, CommandInfo, HealthCheck, HttpCheckStatus,
    TcpCheckStatus,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::health::Outcome;

/// What to probe.
#[derive(Debug, Clone)]
pub enum Probe {
    Command(CommandInfo),
    Http { port: u16, path: String, https: bool },
    Tcp { port: u16 },
}

/// What a probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Exit(i32),
    Http(u16),
    Tcp(bool),
    /// No result: timed out, or could not be run.
    Nothing(String),
}

/// Longest HTTP status line and headers read.
const MAX_HTTP_HEAD: u64 = 16 * 1024;

fn port(p: u32) -> Result<u16, String> {
    u16::try_from(p).ok().filter(|p| *p > 0).ok_or_else(|| format!("invalid port {p}"))
}

impl Probe {
    pub fn of_health_check(h: &HealthCheck) -> Result<Probe, String> {
        match (h.kind, &h.command, &h.http, &h.tcp) {
            (Some(CheckType::Command), Some(c), _, _) | (None, Some(c), None, None) => Ok(Probe::Command(c.clone())),
            (Some(CheckType::Http), _, Some(x), _) | (None, None, Some(x), None) => Ok(Probe::Http {
                port: port(x.port)?,
                path: x.path.clone().unwrap_or_else(|| "/".into()),
                https: x.scheme.as_deref() == Some("https"),
            }),
            (Some(CheckType::Tcp), _, _, Some(t)) | (None, None, None, Some(t)) => {
                Ok(Probe::Tcp { port: port(t.port)? })
            }
            _ => Err("the health check's type does not match its fields".into()),
        }
    }

    pub fn of_check(c: &CheckInfo) -> Result<Probe, String> {
        match (c.kind, &c.command, &c.http, &c.tcp) {
            (Some(CheckType::Command), Some(x), _, _) => Ok(Probe::Command(x.command.clone())),
            (Some(CheckType::Http), _, Some(x), _) => Ok(Probe::Http {
                port: port(x.port)?,
                path: x.path.clone().unwrap_or_else(|| "/".into()),
                https: false,
            }),
            (Some(CheckType::Tcp), _, _, Some(t)) => Ok(Probe::Tcp { port: port(t.port)? }),
            _ => Err("the check's type does not match its fields".into()),
        }
    }

    /// Runs the probe once, within `timeout` (zero: no limit).
    pub async fn run(&self, timeout: Duration, clock: &Clock) -> Seen {
        let run = self.run_unbounded();
        if timeout.is_zero() {
            return run.await;
        }
        match clock.timeout(timeout, run).await {
            Ok(seen) => seen,
            Err(_) => Seen::Nothing(format!("timed out after {timeout:?}")),
        }
    }

    async fn run_unbounded(&self) -> Seen {
        match self {
            Probe::Command(c) => {
                let value = c.value.clone().unwrap_or_default();
                let mut cmd = if c.shell {
                    let mut x = tokio::process::Command::new("sh");
                    x.arg("-c").arg(&value);
                    x
                } else {
                    let mut x = tokio::process::Command::new(&value);
                    if let Some((_, rest)) = c.arguments.split_first() {
                        x.args(rest);
                    }
                    x
                };
                cmd.envs(c.environment.variables.iter().map(|v| (v.name.as_str(), v.value.as_str())))
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .kill_on_drop(true);
                match cmd.status().await {
                    Ok(s) => Seen::Exit(s.code().unwrap_or(-1)),
                    Err(e) => Seen::Nothing(format!("cannot run the check command: {e}")),
                }
            }
            Probe::Http { https: true, .. } => Seen::Nothing("https health checks are not supported".into()),
            Probe::Http { port, path, .. } => match http_get(*port, path).await {
                Ok(code) => Seen::Http(code),
                Err(e) => Seen::Nothing(e),
            },
            Probe::Tcp { port } => Seen::Tcp(tokio::net::TcpStream::connect(("127.0.0.1", *port)).await.is_ok()),
        }
    }
}

async fn http_get(port: u16, path: &str) -> Result<u16, String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot connect to 127.0.0.1:{port}: {e}"))?;
    let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: rmesos-health-check\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.map_err(|e| format!("cannot send the request: {e}"))?;
    let mut head = Vec::new();
    (&mut s).take(MAX_HTTP_HEAD).read_to_end(&mut head).await.map_err(|e| format!("cannot read the answer: {e}"))?;
    let line = String::from_utf8_lossy(&head);
    let code = line.lines().next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse::<u16>().ok());
    code.ok_or_else(|| "not an HTTP answer".to_string())
}

impl Seen {
    /// As a health check result (Mesos's default executors: exit 0, HTTP
    /// 200-399, a connection).
    pub fn outcome(&self) -> Outcome {
        match self {
            Seen::Exit(0) => Outcome::Healthy,
            Seen::Exit(c) => Outcome::Unhealthy(format!("the command exited with status {c}")),
            Seen::Http(c) if (200..400).contains(c) => Outcome::Healthy,
            Seen::Http(c) => Outcome::Unhealthy(format!("HTTP status {c}")),
            Seen::Tcp(true) => Outcome::Healthy,
            Seen::Tcp(false) => Outcome::Unhealthy("the TCP connection failed".into()),
            Seen::Nothing(why) => Outcome::Unhealthy(why.clone()),
        }
    }

    /// As a check status (no result: the inner message is empty, as Mesos).
    pub fn check_status(&self, probe: &Probe) -> CheckStatusInfo {
        let kind = match probe {
            Probe::Command(_) => CheckType::Command,
            Probe::Http { .. } => CheckType::Http,
            Probe::Tcp { .. } => CheckType::Tcp,
        };
        let mut s = CheckStatusInfo { kind: Some(kind), ..Default::default() };
        match (kind, self) {
            (CheckType::Command, Seen::Exit(c)) => s.command = Some(CommandCheckStatus { exit_code: Some(*c) }),
            (CheckType::Command, _) => s.command = Some(CommandCheckStatus::default()),
            (CheckType::Http, Seen::Http(c)) => s.http = Some(HttpCheckStatus { status_code: Some(u32::from(*c)) }),
            (CheckType::Http, _) => s.http = Some(HttpCheckStatus::default()),
            (CheckType::Tcp, Seen::Tcp(ok)) => s.tcp = Some(TcpCheckStatus { succeeded: Some(*ok) }),
            (_, _) => s.tcp = Some(TcpCheckStatus::default()),
        }
        s
    }
}
