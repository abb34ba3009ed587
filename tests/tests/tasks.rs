//! Tasks as Mesos runs them (issue 15), through real processes: an
//! `rmesos-master` and an `rmesos-slave` (which starts the real
//! `rmesos-executor`), a framework on the Rust scheduler driver in this
//! test, and an HTTP server in this test on 127.0.0.1 serving the
//! archives the tasks fetch. Every wait is on a status update or an output
//! line (bounded by `procs::WAIT`); nothing sleeps.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use rmesos::info::{CommandUri, FrameworkCapability};
use rmesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
use rmesos::task::Reason;
use rmesos::{CommandInfo, Filters, FrameworkInfo, Offer, Resources, TaskID, TaskInfo, TaskState, TaskStatus};
use rmesos_tests::procs::{bin, bin_dir, get_json, temp_dir, Proc, WAIT};
use tokio::sync::mpsc;

/// A file server on 127.0.0.1 that counts the requests of each path.
struct Files {
    addr: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Files {
    /// Serves `files` (path -> body); anything else is a 404. One thread
    /// per connection, each request answered and closed.
    fn serve(files: HashMap<String, Vec<u8>>) -> Files {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the file server");
        let addr = listener.local_addr().unwrap().to_string();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let (files, counts) = (Arc::new(files), hits.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let (files, counts) = (files.clone(), counts.clone());
                std::thread::spawn(move || {
                    conn.set_read_timeout(Some(WAIT)).ok();
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                        match conn.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let head = String::from_utf8_lossy(&head);
                    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                    *counts.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
                    if path == "/hang" {
                        // Never answers: holds the connection until the client drops it.
                        let _ = conn.read_to_end(&mut Vec::new());
                        return;
                    }
                    let (status, body): (&str, &[u8]) = match files.get(&path) {
                        Some(b) => ("200 OK", b),
                        None => ("404 Not Found", b"not found"),
                    };
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = conn.write_all(body);
                });
            }
        });
        Files { addr, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// A tar.gz of `(name, mode, body)` files, or of raw entries for the
/// escaping cases (names and link targets written as given).
/// One tar entry: name, type, mode, body, link target.
type Entry<'a> = (&'a str, tar::EntryType, u32, &'a [u8], Option<&'a str>);

fn tgz(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, mode, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

/// The framework: launches what the test queues on the next offers, and
/// forwards every status.
struct Launcher {
    queue: Arc<Mutex<Vec<TaskInfo>>>,
    statuses: mpsc::UnboundedSender<TaskStatus>,
}

impl Scheduler for Launcher {
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        for offer in offers {
            let mut left = offer.resources.clone();
            let mut tasks = Vec::new();
            let mut queue = self.queue.lock().unwrap();
            while let Some(t) = queue.last() {
                let Some(rest) = left.checked_sub(&t.resources) else { break };
                left = rest;
                let mut t = queue.pop().unwrap();
                t.slave_id = offer.slave_id.clone();
                tasks.push(t);
            }
            if tasks.is_empty() {
                driver.decline_offer(offer.id, Filters { refuse_seconds: 1.0 });
            } else {
                driver.launch_tasks(vec![offer.id], tasks, Filters { refuse_seconds: 0.0 });
            }
        }
    }

    fn status_update(&mut self, _driver: &DriverHandle, status: TaskStatus) {
        let _ = self.statuses.send(status);
    }
}

/// A master, a slave and the framework, all real.
struct Cluster {
    work_dir: PathBuf,
    slave_addr: String,
    queue: Arc<Mutex<Vec<TaskInfo>>>,
    statuses: mpsc::UnboundedReceiver<TaskStatus>,
    driver: SchedulerDriver,
    _slave: Proc,
    _master: Proc,
}

impl Cluster {
    async fn start(name: &str, slave_flags: &[&str]) -> Cluster {
        let work_dir = temp_dir(name);
        let mut cmd = Command::new(bin("rmesos-master"));
        cmd.args(["--ip=127.0.0.1", "--port=0", "--hostname=tasks"]);
        let mut master = Proc::spawn("rmesos-master", cmd);
        let started = master.wait_line("started on");
        let master_addr = started.rsplit(' ').next().unwrap().to_string();
        let mut cmd = Command::new(bin("rmesos-slave"));
        cmd.arg("--master")
            .arg(&master_addr)
            .args(["--ip=127.0.0.1", "--port=0", "--resources=cpus:4;mem:1024;disk:1024;ports:[31000-31100]"])
            .arg("--work_dir")
            .arg(work_dir.join("slave"))
            .arg("--fetcher_cache_dir")
            .arg(work_dir.join("fetch"))
            .arg("--launcher_dir")
            .arg(bin_dir())
            .args(slave_flags);
        let mut slave = Proc::spawn("rmesos-slave", cmd);
        let line = slave.wait_line("Slave started at ");
        let pid = line.split("Slave started at ").nth(1).unwrap().split(' ').next().unwrap();
        let slave_addr = pid.split('@').nth(1).unwrap().to_string();
        master.wait_line("Registered slave");
        let (tx, statuses) = mpsc::unbounded_channel();
        let queue = Arc::new(Mutex::new(Vec::new()));
        let mut info = FrameworkInfo::new(whoami(), "tasks");
        info.capabilities.push(FrameworkCapability::TaskKillingState);
        let mut driver =
            SchedulerDriver::new(Launcher { queue: queue.clone(), statuses: tx }, info, master_addr.clone()).unwrap();
        driver.start().await.expect("the driver starts");
        Cluster { work_dir, slave_addr, queue, statuses, driver, _slave: slave, _master: master }
    }

    fn launch(&self, task: TaskInfo) {
        self.queue.lock().unwrap().insert(0, task);
        self.driver.handle().revive_offers();
    }

    /// The statuses of `task` up to (and with) its first in `until`.
    async fn until(&mut self, task: &str, until: &[TaskState]) -> Vec<TaskStatus> {
        let mut seen = Vec::new();
        loop {
            let st = tokio::time::timeout(WAIT, self.statuses.recv())
                .await
                .unwrap_or_else(|_| panic!("no status of {task} within {WAIT:?}; saw {seen:?}"))
                .expect("the driver is running");
            if st.task_id.as_str() != task {
                continue;
            }
            let done = until.contains(&st.state);
            seen.push(st);
            if done {
                return seen;
            }
        }
    }

    async fn terminal(&mut self, task: &str) -> Vec<TaskStatus> {
        let all: Vec<TaskState> = TaskState::ALL.iter().copied().filter(|s| s.is_terminal()).collect();
        self.until(task, &all).await
    }

    fn metrics(&self) -> serde_json::Value {
        get_json(&self.slave_addr, "/metrics/snapshot")
    }

    /// The sandbox of the (only) run of executor `id`.
    fn sandbox(&self, id: &str) -> PathBuf {
        let mut found = Vec::new();
        find_dirs(&self.work_dir.join("slave/slaves"), &mut found);
        let runs: Vec<PathBuf> = found
            .into_iter()
            .filter(|p| p.parent().and_then(Path::parent).and_then(Path::file_name).is_some_and(|n| n == id))
            .collect();
        assert_eq!(runs.len(), 1, "one run of {id}: {runs:?}");
        runs.into_iter().next().unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.driver.stop(false);
        let _ = std::fs::remove_dir_all(&self.work_dir);
    }
}

/// Directories named `runs/<run>` under `dir`.
fn find_dirs(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            if p.parent().and_then(Path::file_name).is_some_and(|n| n == "runs") {
                found.push(p.clone());
            }
            find_dirs(&p, found);
        }
    }
}

fn whoami() -> String {
    std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".into())
}

fn task(id: &str, command: CommandInfo) -> TaskInfo {
    TaskInfo::command(
        id,
        TaskID::new(id).unwrap(),
        rmesos::SlaveID::new("unset").unwrap(),
        Resources::parse("cpus:0.1;mem:32").unwrap(),
        command,
    )
}

fn with_uris(command: &str, uris: Vec<CommandUri>) -> CommandInfo {
    CommandInfo { uris, ..CommandInfo::shell(command) }
}

fn last(statuses: &[TaskStatus]) -> &TaskStatus {
    statuses.last().expect("a status")
}

#[actix_rt::test]
async fn uris_are_fetched_extracted_cached_and_refused() {
    const F: tar::EntryType = tar::EntryType::Regular;
    let app = tgz(&[("app/run.sh", F, 0o755, b"#!/bin/sh\necho fetched-and-ran\n", None)]);
    let files = Files::serve(HashMap::from([
        ("/app.tar.gz".to_string(), app),
        ("/tool".to_string(), b"#!/bin/sh\necho tool-ran\n".to_vec()),
        ("/escape.tar.gz".to_string(), tgz(&[("../escaped", F, 0o644, b"x", None)])),
        ("/link.tgz".to_string(), tgz(&[("out", tar::EntryType::Symlink, 0o777, b"", Some("/etc"))])),
    ]));
    // A launch, fetch included, is bounded by the registration timeout.
    let mut c = Cluster::start("fetch", &["--executor_registration_timeout=5secs"]).await;

    // An archive fetched through the cache, unpacked, its script run.
    let cached = || CommandUri { cache: true, ..CommandUri::new(files.url("/app.tar.gz")) };
    c.launch(task("first", with_uris("./app/run.sh", vec![cached()])));
    let s = c.terminal("first").await;
    assert_eq!(last(&s).state, TaskState::Finished, "{s:?}");
    let sandbox = c.sandbox("first");
    assert_eq!(std::fs::read_to_string(sandbox.join("stdout")).unwrap().trim(), "fetched-and-ran");
    let log = std::fs::read_to_string(sandbox.join("stderr")).unwrap();
    assert!(log.contains(&format!("rmesos-fetcher: Fetching URI '{}'", files.url("/app.tar.gz"))), "{log}");
    assert!(!sandbox.join("app.tar.gz").exists(), "from the cache, only the unpacked files are in the sandbox");

    // The same URI again: a cache hit, no second request.
    c.launch(task("second", with_uris("./app/run.sh", vec![cached()])));
    let s = c.terminal("second").await;
    assert_eq!(last(&s).state, TaskState::Finished, "{s:?}");
    assert_eq!(files.hits("/app.tar.gz"), 1, "the second task used the cache");
    let m = c.metrics();
    assert_eq!(m["containerizer/fetcher/cache_hits"], 1, "{m}");
    assert_eq!(m["containerizer/fetcher/cache_misses"], 1, "{m}");
    assert_eq!(m["containerizer/fetcher/task_fetches_succeeded"], 2, "{m}");
    assert_eq!(m["containerizer/fetcher/cache_files"], 1, "{m}");

    // executable + output_file, not cached.
    let tool =
        CommandUri { executable: true, output_file: Some("bin/t".into()), ..CommandUri::new(files.url("/tool")) };
    c.launch(task("tool", with_uris("./bin/t", vec![tool])));
    let s = c.terminal("tool").await;
    assert_eq!(last(&s).state, TaskState::Finished, "{s:?}");
    assert_eq!(std::fs::read_to_string(c.sandbox("tool").join("stdout")).unwrap().trim(), "tool-ran");

    // Failures: TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED, "Failed to fetch '<uri>': <why>".
    for (id, path, why) in [
        ("missing", "/missing.tgz", "HTTP 404 Not Found"),
        ("escape", "/escape.tar.gz", "archive entry '../escaped' would land outside the sandbox"),
        ("link", "/link.tgz", "symbolic link 'out' points outside the sandbox"),
    ] {
        c.launch(task(id, with_uris("echo never-runs", vec![CommandUri::new(files.url(path))])));
        let s = c.terminal(id).await;
        let end = last(&s);
        assert_eq!((end.state, end.reason), (TaskState::Failed, Some(Reason::ContainerLaunchFailed)), "{s:?}");
        let msg = end.message.clone().unwrap_or_default();
        assert!(msg.starts_with(&format!("Failed to fetch '{}': ", files.url(path))), "{msg}");
        assert!(msg.contains(why), "{id}: {msg}");
        let sandbox = c.sandbox(id);
        assert!(!sandbox.parent().unwrap().join("escaped").exists(), "nothing lands outside the sandbox");
        assert!(
            !sandbox.join("stdout").exists() || std::fs::read_to_string(sandbox.join("stdout")).unwrap().is_empty()
        );
        let log = std::fs::read_to_string(sandbox.join("stderr")).unwrap();
        assert!(log.contains(&msg), "the fetcher's log in the sandbox says why: {log}");
    }
    let m = c.metrics();
    assert_eq!(m["containerizer/fetcher/task_fetches_failed"], 3, "{m}");

    // A server that never answers: the registration timeout ends the launch.
    c.launch(task("hang", with_uris("echo never-runs", vec![CommandUri::new(files.url("/hang"))])));
    let s = c.terminal("hang").await;
    let end = last(&s);
    assert_eq!((end.state, end.reason), (TaskState::Failed, Some(Reason::ExecutorRegistrationTimeout)), "{s:?}");
    assert_eq!(files.hits("/hang"), 1);
}

/// A task that traps SIGTERM and needs 4 s to clean up (more than the
/// default grace of 3 s).
const SLOW_TO_STOP: &str =
    "trap 'sleep 4; echo done > cleaned; exit 0' TERM; echo up > ready; while true; do sleep 0.1; done";

/// Waits until the task wrote `ready` in its sandbox (its trap is set). A
/// file the task writes: nothing sends a message, so it is polled.
fn wait_ready(c: &Cluster, id: &str) -> PathBuf {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let found = {
            let mut runs = Vec::new();
            find_dirs(&c.work_dir.join("slave/slaves"), &mut runs);
            runs.into_iter().find(|p| {
                p.parent().and_then(Path::parent).and_then(Path::file_name).is_some_and(|n| n == id)
                    && p.join("ready").exists()
            })
        };
        if let Some(dir) = found {
            return dir;
        }
        assert!(std::time::Instant::now() < deadline, "{id} never got ready");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[actix_rt::test]
async fn kill_policies_give_the_task_its_grace_or_cut_it_short() {
    use rmesos::info::KillPolicy;
    use std::time::Duration;
    let mut c = Cluster::start("kill", &[]).await;

    // 8 s of grace (the task's policy): the cleanup runs, TASK_KILLING first.
    let mut t = task("graceful", CommandInfo::shell(SLOW_TO_STOP));
    t.kill_policy = Some(KillPolicy::grace(Duration::from_secs(8)));
    c.launch(t);
    c.until("graceful", &[TaskState::Running]).await;
    let sandbox = wait_ready(&c, "graceful");
    c.driver.handle().kill_task(TaskID::new("graceful").unwrap());
    let s = c.terminal("graceful").await;
    let states: Vec<TaskState> = s.iter().map(|s| s.state).collect();
    assert_eq!(states, [TaskState::Killing, TaskState::Killed], "{s:?}");
    assert_eq!(std::fs::read_to_string(sandbox.join("cleaned")).unwrap().trim(), "done", "the trap ran to its end");

    // The kill's own policy (1 s) overrides the task's 8 s: SIGKILLed mid-cleanup.
    let mut t = task("cut-short", CommandInfo::shell(SLOW_TO_STOP));
    t.kill_policy = Some(KillPolicy::grace(Duration::from_secs(8)));
    c.launch(t);
    c.until("cut-short", &[TaskState::Running]).await;
    let sandbox = wait_ready(&c, "cut-short");
    c.driver
        .handle()
        .kill_task_with_policy(TaskID::new("cut-short").unwrap(), KillPolicy::grace(Duration::from_secs(1)));
    let s = c.terminal("cut-short").await;
    assert_eq!(last(&s).state, TaskState::Killed, "{s:?}");
    assert!(!sandbox.join("cleaned").exists(), "SIGKILL came before the cleanup ended");
}

impl Cluster {
    /// The statuses of `task` until every one of `wants` accepted one of
    /// them, in any order (a terminal status before that fails the test).
    async fn until_status(&mut self, task: &str, wants: &[&dyn Fn(&TaskStatus) -> bool]) -> Vec<TaskStatus> {
        let mut seen = Vec::new();
        loop {
            let Ok(st) = tokio::time::timeout(WAIT, self.statuses.recv()).await else {
                self._master.drain();
                self._slave.drain();
                panic!(
                    "no wanted status of {task} within {WAIT:?}; saw {seen:?}\n{}\n{}",
                    self._master.dump(),
                    self._slave.dump()
                )
            };
            let st = st.expect("the driver is running");
            if st.task_id.as_str() != task {
                continue;
            }
            seen.push(st);
            if wants.iter().all(|w| seen.iter().any(w)) {
                return seen;
            }
            let st = seen.last().expect("just pushed");
            assert!(!st.state.is_terminal(), "{task} ended first: {seen:?}");
        }
    }
}

fn health(kind: rmesos::info::CheckType) -> rmesos::info::HealthCheck {
    rmesos::info::HealthCheck {
        kind: Some(kind),
        delay_seconds: Some(0.0),
        interval_seconds: Some(0.2),
        timeout_seconds: Some(2.0),
        grace_period_seconds: Some(10.0),
        consecutive_failures: Some(3),
        ..Default::default()
    }
}

#[actix_rt::test]
async fn failing_health_checks_kill_and_checks_only_report() {
    use rmesos::info::{CheckCommand, CheckInfo, CheckType, HttpCheckInfo, TcpCheckInfo};
    let mut c = Cluster::start("health", &[]).await;

    // An HTTP server on an offered port, stopped once `fail` exists; an
    // HTTP health check and a TCP check on its port.
    const PORT: u32 = 31050;
    let web = format!(
        "python3 -m http.server {PORT} --bind 127.0.0.1 >/dev/null 2>&1 & \
         while [ ! -f fail ]; do sleep 0.1; done; kill $!; while true; do sleep 0.1; done"
    );
    let mut t = task("web", CommandInfo::shell(web));
    t.resources = Resources::parse(&format!("cpus:0.1;mem:64;ports:[{PORT}-{PORT}]")).unwrap();
    t.health_check = Some(rmesos::info::HealthCheck {
        http: Some(HttpCheckInfo { port: PORT, path: Some("/".into()), ..Default::default() }),
        ..health(CheckType::Http)
    });
    t.check = Some(CheckInfo {
        kind: Some(CheckType::Tcp),
        tcp: Some(TcpCheckInfo { port: PORT }),
        delay_seconds: Some(0.0),
        interval_seconds: Some(0.2),
        ..Default::default()
    });
    c.launch(t);
    let healthy = |s: &TaskStatus| s.healthy == Some(true) && s.reason == Some(Reason::TaskHealthCheckStatusUpdated);
    let tcp_up = |s: &TaskStatus| {
        s.check_status.as_ref().and_then(|c| c.tcp.clone()).and_then(|t| t.succeeded) == Some(true)
            && s.reason == Some(Reason::TaskCheckStatusUpdated)
    };
    c.until_status("web", &[&healthy, &tcp_up]).await;
    std::fs::write(c.sandbox("web").join("fail"), "").unwrap();
    let s = c.until_status("web", &[&|s: &TaskStatus| s.healthy == Some(false)]).await;
    assert_eq!(last(&s).state, TaskState::Running, "reported unhealthy first: {s:?}");
    let s = c.terminal("web").await;
    let end = last(&s);
    assert_eq!((end.state, end.healthy), (TaskState::Killed, Some(false)), "killed after 3 failures: {s:?}");

    // A COMMAND health check and a COMMAND check: the check's status
    // changes while the task stays healthy; then the health check fails.
    let cmd = "while true; do sleep 0.1; done";
    let mut t = task("cmd", CommandInfo::shell(cmd));
    t.health_check = Some(rmesos::info::HealthCheck {
        command: Some(CommandInfo::shell("test ! -f fail")),
        ..health(CheckType::Command)
    });
    t.check = Some(CheckInfo {
        kind: Some(CheckType::Command),
        command: Some(CheckCommand { command: CommandInfo::shell("test -f marker") }),
        delay_seconds: Some(0.0),
        interval_seconds: Some(0.2),
        ..Default::default()
    });
    c.launch(t);
    let exit = |s: &TaskStatus| s.check_status.as_ref().and_then(|c| c.command.clone()).and_then(|c| c.exit_code);
    let s =
        c.until_status("cmd", &[&|s: &TaskStatus| exit(s) == Some(1), &|s: &TaskStatus| s.healthy == Some(true)]).await;
    assert!(s.iter().any(|s| exit(s).is_some() && s.reason == Some(Reason::TaskCheckStatusUpdated)), "{s:?}");
    std::fs::write(c.sandbox("cmd").join("marker"), "").unwrap();
    let s = c.until_status("cmd", &[&|s: &TaskStatus| exit(s) == Some(0)]).await;
    assert!(s.iter().all(|s| s.state == TaskState::Running), "a check never kills: {s:?}");
    std::fs::write(c.sandbox("cmd").join("fail"), "").unwrap();
    let s = c.terminal("cmd").await;
    let end = last(&s);
    assert_eq!((end.state, end.healthy), (TaskState::Killed, Some(false)), "{s:?}");
    assert!(s.iter().any(|s| s.healthy == Some(false) && s.state == TaskState::Running), "{s:?}");
}
