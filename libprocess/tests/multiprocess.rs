//! Two nodes in two OS processes: this test binary and a child running the
//! `libprocess-pingpong` binary. Messages cross a real process boundary, and
//! killing the child with SIGKILL (no goodbye of any kind) must reach a link
//! as `Exited`. Children are killed and reaped by a guard even if a test fails.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use libprocess::{Config, Node, Upid};
use pingpong::{Event, Outcome, PingClient, Ponger};
use tokio::sync::mpsc;

/// The demo's actors, from the `libprocess-pingpong` binary's own source.
#[path = "../src/bin/libprocess-pingpong/pingpong.rs"]
#[allow(dead_code)]
mod pingpong;

const BIN: &str = env!("CARGO_BIN_EXE_libprocess-pingpong");

/// Safety net around every wait: the events take milliseconds.
const WAIT: Duration = Duration::from_secs(20);

/// A child process, its stdout lines on a channel; killed (SIGKILL) and
/// reaped on drop unless already reaped.
struct Child {
    child: std::process::Child,
    lines: mpsc::UnboundedReceiver<String>,
    reaped: Option<ExitStatus>,
}

impl Child {
    fn spawn(args: &[&str]) -> Child {
        let mut child = Command::new(BIN)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start libprocess-pingpong");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::unbounded_channel();
        // A thread, not a task: reading a pipe blocks. The channel closes at
        // the child's EOF, i.e. when it exits.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Child { child, lines, reaped: None }
    }

    /// The next line of stdout, None at EOF.
    async fn line(&mut self) -> Option<String> {
        tokio::time::timeout(WAIT, self.lines.recv()).await.expect("child output within the wait")
    }

    /// The Upid in the `listening pong@...` line `serve` prints first.
    async fn listening(&mut self) -> Upid {
        let line = self.line().await.expect("a listening line before EOF");
        line.strip_prefix("listening ").unwrap_or_else(|| panic!("unexpected line: {line}")).parse().unwrap()
    }

    /// Every remaining line up to EOF, then the exit status.
    async fn finish(&mut self) -> (Vec<String>, ExitStatus) {
        let mut out = Vec::new();
        while let Some(line) = self.line().await {
            out.push(line);
        }
        // EOF on stdout: the child has exited (or is exiting), so this wait
        // returns at once and does not hold up the runtime.
        (out, self.wait())
    }

    fn kill(&mut self) {
        if self.reaped.is_none() {
            // SAFETY: kill(2) on the pid of a child we have not reaped yet
            // (so the pid cannot have been reused).
            let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGKILL) };
            assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
        }
    }

    fn wait(&mut self) -> ExitStatus {
        if self.reaped.is_none() {
            self.reaped = Some(self.child.wait().expect("wait for child"));
        }
        self.reaped.unwrap()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.reaped.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn node() -> Node {
    Node::bind(Config::loopback(0)).await.unwrap()
}

async fn next(client: &mut PingClient) -> Event {
    client.next_event(WAIT).await.expect("an event within the wait")
}

#[actix_rt::test]
async fn pong_in_another_process_answers_and_sigkill_is_seen_as_exited() {
    let mut child = Child::spawn(&["serve", "--port", "0"]);
    let pong = child.listening().await;
    assert_eq!(pong.id(), "pong");

    let a = node().await;
    let mut client = PingClient::spawn(&a, "ping").unwrap();
    let mut seen = Vec::new();
    let outcome = client.run(&pong, 3, |seq, from| seen.push((seq, from.clone()))).await;
    assert!(matches!(outcome, Outcome::Done { pongs: 3, .. }), "{outcome:?}");
    assert_eq!(seen, vec![(1, pong.clone()), (2, pong.clone()), (3, pong.clone())]);
    assert_eq!(a.metrics().get("messages_received_remote"), Some(3));

    // `run` linked to pong. Kill its process outright and reap it.
    child.kill();
    let status = child.wait();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGKILL));
    assert_eq!(next(&mut client).await, Event::Exited(pong.clone()));
    // At the connection's break (it carried the pings, none known
    // delivered), not once the reconnect attempts give up.
    assert_eq!(a.metrics().get("connections_broken"), Some(1));
    assert_eq!(a.metrics().get("exited_delivered"), Some(1));
    // Then the peer is given up on (~300 ms of refused reconnects): a
    // bounded poll on a counter only the transport's own timers move.
    let deadline = std::time::Instant::now() + WAIT;
    while a.metrics().get("peers_lost") != Some(1) {
        assert!(std::time::Instant::now() < deadline, "the killed peer is given up on");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(a.metrics().get("exited_delivered"), Some(1), "one Exited per link");
}

#[actix_rt::test]
async fn serve_stops_cleanly_on_sigterm_and_links_see_it() {
    let mut child = Child::spawn(&["serve", "--port", "0"]);
    let pong = child.listening().await;
    let a = node().await;
    let mut client = PingClient::spawn(&a, "ping").unwrap();
    assert!(matches!(client.run(&pong, 1, |_, _| {}).await, Outcome::Done { .. }));
    // SAFETY: as in Child::kill, the child is not reaped yet.
    assert_eq!(unsafe { libc::kill(child.child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let (rest, status) = child.finish().await;
    assert!(status.success(), "serve exits 0 on SIGTERM: {status:?}");
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(next(&mut client).await, Event::Exited(pong));
}

#[actix_rt::test]
async fn ping_in_another_process_against_a_node_here() {
    let b = node().await;
    let pong = b.spawn("pong", Ponger::new).unwrap().pid;
    let mut child = Child::spawn(&["ping", "--to", &pong.to_string(), "--count", "4"]);
    let (out, status) = child.finish().await;
    assert!(status.success(), "{status:?} {out:?}");
    assert_eq!(out.len(), 5, "{out:?}");
    for (i, line) in out[..4].iter().enumerate() {
        let seq = i + 1;
        assert_eq!(line, &format!("pong seq={seq} from={pong}"));
    }
    assert!(out[4].starts_with(&format!("4 pings, 4 pongs from {pong}")), "{}", out[4]);
    assert_eq!(b.metrics().get("messages_received_remote"), Some(4 + 1), "4 pings and the link");
}

#[actix_rt::test]
async fn ping_exits_1_when_its_target_is_gone() {
    let b = node().await;
    let pong = b.spawn("pong", Ponger::new).unwrap().pid;
    // The process is gone but its node is up: the node answers the link with
    // an Exited of its own.
    assert!(b.terminate(&pong));
    let mut child = Child::spawn(&["ping", "--to", &pong.to_string(), "--count", "2"]);
    let (out, status) = child.finish().await;
    assert_eq!(status.code(), Some(1), "{out:?}");
    assert_eq!(out, vec![format!("exited {pong}")]);
}

#[actix_rt::test]
async fn ping_exits_1_when_no_node_listens() {
    // A port nobody listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target = format!("pong@127.0.0.1:{port}");
    let mut child = Child::spawn(&["ping", "--to", &target, "--count", "2"]);
    let (out, status) = child.finish().await;
    assert_eq!(status.code(), Some(1), "{out:?}");
    assert_eq!(out, vec![format!("exited {target}")]);
}

#[actix_rt::test]
async fn demo_runs_end_to_end() {
    let mut child = Child::spawn(&["demo", "--count", "2"]);
    let (out, status) = child.finish().await;
    assert!(status.success(), "{status:?} {out:?}");
    let pong = out
        .iter()
        .find_map(|l| l.strip_prefix("demo: child says: listening "))
        .unwrap_or_else(|| panic!("no listening line: {out:?}"))
        .to_string();
    let pongs: Vec<&String> = out.iter().filter(|l| l.starts_with("pong seq=")).collect();
    assert_eq!(pongs, vec![&format!("pong seq=1 from={pong}"), &format!("pong seq=2 from={pong}")]);
    assert!(out.contains(&format!("exited {pong}")), "{out:?}");
    assert!(out.last().unwrap().starts_with("demo: ok:"), "{out:?}");
}
