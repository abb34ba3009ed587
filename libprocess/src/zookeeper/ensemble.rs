//! A real ZooKeeper ensemble for tests (this and other crates').
//!
//! Starts N servers of Debian's `zookeeper` package with java directly
//! (`QuorumPeerMain`, classpath `/usr/share/java/zookeeper.jar`, whose
//! manifest lists its dependencies, plus `slf4j-simple.jar` so the servers
//! log at all). Each server gets its own temporary data dir, `myid` and
//! three free loopback ports (client, peer, election: all of an ensemble's
//! ports are bound to port 0 at once to pick them, so no two coincide, then
//! released), so suites can run in parallel. `tickTime` is short
//! so the ensemble forms and fails over fast (`initLimit` is generous, 10 s,
//! because a JVM syncing on a loaded machine is slow), and `maxSessionTimeout` is
//! raised so 10 s sessions are kept (ZooKeeper clamps timeouts to
//! 2..20 x tickTime by default).
//!
//! Waiting is by polling the servers' state (the `srvr` four-letter word),
//! never by guessing a delay. An ensemble that does not form within
//! [`DEFAULT_WAIT`] is started again from scratch, with fresh ports and data
//! dirs, up to [`START_ATTEMPTS`] times, and each failed attempt prints the
//! tail of every server's log: on a loaded 2-core CI machine three JVMs
//! starting at once have been seen not to form a quorum in 30 s (a port
//! picked free and taken by another process before java bound it, or the
//! initial sync timing out), and that is a property of the test machine, not
//! of the code under test. Servers are SIGKILLed and reaped on drop, and
//! the data dirs removed.
//!
//! If ZooKeeper or java is missing, [`zookeeper_available`] says so: a test
//! should then call [`require_zookeeper`], which fails under CI (`CI=true`)
//! and otherwise prints a loud skip message.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::clock::Clock;

/// The server jar of Debian's `zookeeper` package.
pub const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";
/// A logging backend (package `libslf4j-java`), or ZooKeeper logs nothing.
pub const SLF4J_SIMPLE_JAR: &str = "/usr/share/java/slf4j-simple.jar";
/// The java launcher.
pub const JAVA: &str = "/usr/bin/java";
/// Debian's command-line client.
pub const ZKCLI: &str = "/usr/share/zookeeper/bin/zkCli.sh";
/// tickTime of test ensembles (ms): short, for fast elections.
pub const TEST_TICK_MS: u64 = 200;
/// Longest session a test ensemble grants (ms).
pub const TEST_MAX_SESSION_TIMEOUT_MS: u64 = 60_000;
/// How long [`Ensemble::wait_serving`] waits by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// How many times [`Ensemble::start`] tries to form an ensemble.
pub const START_ATTEMPTS: u32 = 3;
/// Poll interval while waiting for servers.
const POLL: Duration = Duration::from_millis(50);

/// Whether ZooKeeper and java are installed (Err says what is missing).
pub fn zookeeper_available() -> Result<(), String> {
    for f in [JAVA, ZOOKEEPER_JAR, SLF4J_SIMPLE_JAR] {
        if !Path::new(f).exists() {
            return Err(format!("{f} is missing (apt-get install -y zookeeper)"));
        }
    }
    Ok(())
}

/// True if a real-ZooKeeper test can run. Panics under CI (`CI=true`) when
/// ZooKeeper is missing; otherwise prints a loud message and returns false.
pub fn require_zookeeper(test: &str) -> bool {
    match zookeeper_available() {
        Ok(()) => true,
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("{test}: ZooKeeper is required under CI: {why}")
        }
        Err(why) => {
            eprintln!("\n!!!!! SKIPPING {test}: {why} !!!!!\n");
            false
        }
    }
}

/// One server of an ensemble.
pub struct Server {
    pub id: u32,
    pub client_port: u16,
    pub peer_port: u16,
    pub election_port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Server {
    /// `127.0.0.1:<client port>`.
    pub fn client_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.client_port))
    }

    /// The OS pid while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
}

/// A running (or partly stopped) ensemble; dropping it kills every server.
pub struct Ensemble {
    pub servers: Vec<Server>,
    root: PathBuf,
}

static ENSEMBLES: AtomicU32 = AtomicU32::new(0);

/// `n` distinct free loopback ports: every listener is held until all are
/// picked, so the kernel cannot hand out the same port twice.
fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    let held = (0..n).map(|_| TcpListener::bind("127.0.0.1:0")).collect::<std::io::Result<Vec<_>>>()?;
    held.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

impl Ensemble {
    /// Starts `n` servers (1 = standalone) and waits until a quorum serves,
    /// trying again from scratch (fresh ports, fresh data) up to
    /// [`START_ATTEMPTS`] times.
    pub async fn start(n: u32) -> std::io::Result<Ensemble> {
        zookeeper_available().map_err(std::io::Error::other)?;
        let mut last = None;
        for attempt in 1..=START_ATTEMPTS {
            let e = Self::launch(n)?;
            match e.wait_serving(DEFAULT_WAIT).await {
                Ok(()) => return Ok(e),
                Err(err) => {
                    eprintln!("ZooKeeper ensemble attempt {attempt}/{START_ATTEMPTS} failed: {err}");
                    for i in 0..e.servers.len() {
                        eprintln!("--- server {} log (tail) ---\n{}", e.servers[i].id, tail(&e.log(i), 30));
                    }
                    last = Some(err);
                }
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no attempt made")))
    }

    /// Writes the configuration of `n` servers and spawns them (no wait).
    fn launch(n: u32) -> std::io::Result<Ensemble> {
        let root = std::env::temp_dir().join(format!(
            "rmesos-zk-{}-{}",
            std::process::id(),
            ENSEMBLES.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        let mut servers = Vec::new();
        let mut ports = free_ports(3 * n as usize)?.into_iter();
        let mut port = || ports.next().ok_or_else(|| std::io::Error::other("free_ports returned too few"));
        for id in 1..=n {
            let dir = root.join(format!("server{id}"));
            std::fs::create_dir_all(dir.join("data"))?;
            std::fs::write(dir.join("data/myid"), format!("{id}\n"))?;
            servers.push(Server {
                id,
                client_port: port()?,
                peer_port: port()?,
                election_port: port()?,
                dir,
                child: None,
            });
        }
        let peers: String = servers
            .iter()
            .map(|s| format!("server.{}=127.0.0.1:{}:{}\n", s.id, s.peer_port, s.election_port))
            .collect();
        for s in &servers {
            let cfg = format!(
                "tickTime={TEST_TICK_MS}\ninitLimit=50\nsyncLimit=10\ndataDir={}\nclientPort={}\n\
                 clientPortAddress=127.0.0.1\nmaxSessionTimeout={TEST_MAX_SESSION_TIMEOUT_MS}\n\
                 4lw.commands.whitelist=*\nadmin.enableServer=false\nstandaloneEnabled={}\n{}",
                s.dir.join("data").display(),
                s.client_port,
                n == 1,
                if n == 1 { String::new() } else { peers.clone() },
            );
            std::fs::write(s.dir.join("zoo.cfg"), cfg)?;
        }
        let mut e = Ensemble { servers, root };
        for i in 0..e.servers.len() {
            e.spawn(i)?;
        }
        Ok(e)
    }

    fn spawn(&mut self, i: usize) -> std::io::Result<()> {
        let s = &mut self.servers[i];
        let log = std::fs::OpenOptions::new().create(true).append(true).open(s.dir.join("server.log"))?;
        let child = Command::new(JAVA)
            .arg("-cp")
            .arg(format!("{ZOOKEEPER_JAR}:{SLF4J_SIMPLE_JAR}"))
            .arg("-Xmx128m")
            .arg("-XX:+UseSerialGC")
            .arg("-XX:TieredStopAtLevel=1")
            .arg(format!("-Dzookeeper.log.dir={}", s.dir.display()))
            .arg("-Dzookeeper.jmx.log4j.disable=true")
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(s.dir.join("zoo.cfg"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        s.child = Some(child);
        Ok(())
    }

    /// `127.0.0.1:p1,127.0.0.1:p2,...` of every server.
    pub fn connect_string(&self) -> String {
        self.servers.iter().map(|s| s.client_addr().to_string()).collect::<Vec<_>>().join(",")
    }

    /// `zk://<connect string><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("zk://{}{path}", self.connect_string())
    }

    /// SIGKILLs server `i` and reaps it (no zombie keeps its ports).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.servers[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops server `i` with SIGTERM and reaps it.
    pub fn stop(&mut self, i: usize) {
        if let Some(mut c) = self.servers[i].child.take() {
            // SAFETY: kill(2) on a child we own and have not reaped yet.
            unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
            let _ = c.wait();
        }
    }

    /// Starts server `i` again with its data and ports (no wait).
    pub fn restart(&mut self, i: usize) -> std::io::Result<()> {
        self.kill(i);
        self.spawn(i)
    }

    /// Whether server `i` runs (reaping it if it died).
    pub fn running(&mut self, i: usize) -> bool {
        match self.servers[i].child.as_mut().map(|c| c.try_wait()) {
            Some(Ok(None)) => true,
            Some(_) => {
                self.servers[i].child = None;
                false
            }
            None => false,
        }
    }

    /// The `srvr` mode of server `i`: "leader", "follower", "standalone",
    /// or None if it does not serve.
    pub async fn mode(&self, i: usize) -> Option<String> {
        let addr = self.servers[i].client_addr();
        let out = tokio::task::spawn_blocking(move || four_letter(addr, "srvr")).await.ok()??;
        out.lines().find_map(|l| l.strip_prefix("Mode: ").map(|m| m.trim().to_string()))
    }

    /// Index of the server that leads the ensemble now.
    pub async fn leader(&self) -> Option<usize> {
        for i in 0..self.servers.len() {
            if self.mode(i).await.as_deref() == Some("leader") {
                return Some(i);
            }
        }
        None
    }

    /// Number of servers serving clients now.
    pub async fn serving(&self) -> usize {
        let mut n = 0;
        for i in 0..self.servers.len() {
            if self.servers[i].child.is_some() && self.mode(i).await.is_some() {
                n += 1;
            }
        }
        n
    }

    /// Waits until a majority of the servers serves (a leader or standalone
    /// among them), polling with `srvr`.
    pub async fn wait_serving(&self, limit: Duration) -> std::io::Result<()> {
        let clock = Clock::real();
        let deadline = clock.now() + limit;
        let majority = self.servers.len() / 2 + 1;
        loop {
            let mut serving = 0;
            let mut led = false;
            for i in 0..self.servers.len() {
                if self.servers[i].child.is_none() {
                    continue;
                }
                if let Some(m) = self.mode(i).await {
                    serving += 1;
                    led |= m == "leader" || m == "standalone";
                }
            }
            if serving >= majority && led {
                return Ok(());
            }
            if clock.now() >= deadline {
                return Err(std::io::Error::other(format!(
                    "ZooKeeper ensemble not serving after {limit:?} (logs in {})",
                    self.root.display()
                )));
            }
            clock.sleep(POLL).await;
        }
    }

    /// The server log of server `i` (for failure messages).
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.servers[i].dir.join("server.log")).unwrap_or_default()
    }
}

/// Sends a four-letter word and returns the answer (None if not serving).
pub fn four_letter(addr: SocketAddr, word: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(word.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    if out.contains("not currently serving") || out.is_empty() {
        return None;
    }
    Some(out)
}

impl Drop for Ensemble {
    fn drop(&mut self) {
        for i in 0..self.servers.len() {
            self.kill(i);
        }
        if std::env::var_os("RMESOS_KEEP_ZK_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// Runs Debian's `zkCli.sh get <path>` against `server` and returns the
/// data line (the first line that starts with `{`), for tests that check
/// our znodes are readable by the Java client.
pub async fn zkcli_get_json(server: SocketAddr, path: &str) -> std::io::Result<String> {
    let out = tokio::process::Command::new(ZKCLI)
        .args(["-server", &server.to_string(), "get", path])
        .env("CLASSPATH", SLF4J_SIMPLE_JAR)
        .stdin(Stdio::null())
        .output()
        .await?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines().find(|l| l.trim_start().starts_with('{')).map(|l| l.trim().to_string()).ok_or_else(|| {
        std::io::Error::other(format!(
            "zkCli printed no JSON for {path}: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        ))
    })
}
