//! Real processes for end-to-end tests: [`bin`] builds the cluster's
//! binaries once per test run (with the cargo that runs the tests, into the
//! same target directory; a no-op when fresh) and returns a binary's path;
//! [`Proc`] is a child whose stdout and stderr lines are collected and can
//! be waited on; dropping it kills (SIGKILL) and reaps it. Every wait is
//! bounded by [`WAIT`].

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

/// Safety net around every wait (a healthy step takes well under a second).
pub const WAIT: Duration = Duration::from_secs(60);

/// The packages whose binaries the suites run.
const PACKAGES: &[&str] = &["rmesos-master", "rmesos-slave", "rmesos-executor", "rmesos-examples", "rmesos-cli"];

/// The target directory of this test binary (`target/<profile>`).
pub fn bin_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            // This test binary is target/<profile>/deps/<name>-<hash>.
            let exe = std::env::current_exe().expect("the test binary's path");
            let dir = exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf();
            let mut cargo = Command::new(env!("CARGO"));
            cargo.arg("build").arg("--bins");
            for p in PACKAGES {
                cargo.args(["-p", p]);
            }
            if dir.file_name().is_some_and(|n| n == "release") {
                cargo.arg("--release");
            }
            let status = cargo.status().expect("run cargo build");
            assert!(status.success(), "cargo build of {PACKAGES:?} failed");
            dir
        })
        .clone()
}

/// The path of binary `name` (built by [`bin_dir`]).
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// A fresh directory under the system's temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rmesos-e2e-{name}-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&d).expect("create a temp dir");
    d
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A line of a child's output.
#[derive(Debug, Clone)]
pub enum Line {
    Out(String),
    Err(String),
}

impl Line {
    pub fn text(&self) -> &str {
        match self {
            Line::Out(s) | Line::Err(s) => s,
        }
    }
}

/// A running child (see the module doc).
pub struct Proc {
    pub name: String,
    child: Child,
    lines: mpsc::Receiver<Line>,
    /// Every line read so far.
    pub seen: Vec<Line>,
}

impl Proc {
    /// Starts `cmd` with piped stdout and stderr; `RUST_LOG=info` unless set.
    pub fn spawn(name: &str, mut cmd: Command) -> Proc {
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        // No colours in log lines the test reads.
        cmd.env("NO_COLOR", "1").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(Line::Out(l));
            }
        });
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx2.send(Line::Err(l));
            }
        });
        Proc { name: name.to_string(), child, lines, seen: Vec::new() }
    }

    /// Waits for the next line containing `want` (stdout or stderr).
    pub fn wait_line(&mut self, want: &str) -> String {
        if let Some(l) = self.seen.iter().find(|l| l.text().contains(want)) {
            return l.text().to_string();
        }
        loop {
            match self.lines.recv_timeout(WAIT) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.text().contains(want) {
                        return l.text().to_string();
                    }
                }
                Err(e) => panic!("{}: no line with '{want}' ({e}); output so far:\n{}", self.name, self.dump()),
            }
        }
    }

    /// Waits until `n` lines (counting those already read) contain `want`.
    pub fn wait_lines(&mut self, want: &str, n: usize) {
        while self.seen.iter().filter(|l| l.text().contains(want)).count() < n {
            match self.lines.recv_timeout(WAIT) {
                Ok(l) => self.seen.push(l),
                Err(e) => {
                    panic!("{}: fewer than {n} lines with '{want}' ({e}); output so far:\n{}", self.name, self.dump())
                }
            }
        }
    }

    /// Waits for the child to exit (reading all its output), bounded by [`WAIT`].
    pub fn wait_exit(&mut self) -> ExitStatus {
        // Output ends when the child (and whatever inherited its pipes) is gone.
        loop {
            match self.lines.recv_timeout(WAIT) {
                Ok(l) => self.seen.push(l),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(e) => panic!("{}: did not exit ({e}); output so far:\n{}", self.name, self.dump()),
            }
        }
        self.child.wait().expect("wait for the child")
    }

    /// Reads every line already printed without waiting (for failure
    /// messages: [`Proc::dump`] shows only lines read so far).
    pub fn drain(&mut self) {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
    }

    /// Whether the child still runs (reaping it if it exited).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The child's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends `signal` to the child.
    pub fn signal(&self, signal: i32) {
        // SAFETY: signalling our own, not yet reaped child by its pid.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// The stdout lines read so far.
    pub fn stdout(&self) -> Vec<&str> {
        self.seen.iter().filter_map(|l| if let Line::Out(s) = l { Some(s.as_str()) } else { None }).collect()
    }

    /// Everything read so far, for failure messages.
    pub fn dump(&self) -> String {
        self.seen.iter().map(Line::text).collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (at most `timeout`) until process `pid`, not necessarily our
/// child, has exited: a pidfd becomes readable then. True if it has (or no
/// longer exists).
pub fn wait_gone(pid: i32, timeout: Duration) -> bool {
    // SAFETY: plain syscalls on a pid and the descriptor they return.
    unsafe {
        let fd = libc::syscall(libc::SYS_pidfd_open, pid, 0) as i32;
        if fd < 0 {
            return std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        }
        let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let n = libc::poll(&mut pfd, 1, ms);
        libc::close(fd);
        n == 1
    }
}

/// Runs `cmd` to completion (bad-flag checks): exit code and stderr.
pub fn run(mut cmd: Command) -> (Option<i32>, String) {
    let out = cmd.stdin(Stdio::null()).output().expect("run the command");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A task list of `n` shell tasks, task i waiting for `<dir>/gates/g<i>`
/// (polling in the task's own shell: the test never sleeps). Returns
/// (list, gates).
pub fn gated_tasks(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    let gates = dir.join("gates");
    std::fs::create_dir_all(&gates).unwrap();
    let mut tasks = String::new();
    for i in 1..=n {
        let g = gates.join(format!("g{i}"));
        tasks.push_str(&format!("while [ ! -e {} ]; do sleep 0.05; done\n", g.display()));
    }
    let list = dir.join("tasks");
    std::fs::write(&list, tasks).unwrap();
    (list, gates)
}

/// Pids of the `rmesos-executor` processes whose parent is `parent`.
pub fn executors_of(parent: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            // /proc/<pid>/stat: pid (comm) state ppid ...
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
            let Some((head, rest)) = stat.rsplit_once(") ") else { return false };
            let ppid = rest.split(' ').nth(1).and_then(|p| p.parse::<i32>().ok());
            head.ends_with("(rmesos-executor") && ppid == Some(parent)
        })
        .collect()
}

/// GET `path` from `addr` (HTTP/1.0) and parse the body as JSON; panics
/// with the whole answer if it is not.
pub fn get_json(addr: &str, path: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(WAIT)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("GET {path}: {e}: {text}"))
}
