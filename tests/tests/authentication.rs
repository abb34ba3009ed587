//! Authentication of slaves and frameworks with real processes (issue 18):
//! a master with `--authenticate_agents --authenticate_frameworks
//! --credentials` (Mesos's JSON), slaves with `--credential` (the text
//! form) and `rmesos-execute` with `--principal`/`--secret`. The right
//! credential gets in and runs a task; a wrong secret, an unknown principal
//! and no credential at all are refused with a clear line on both sides.
//! Every wait is on an output line or a process exit (`procs::WAIT`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use rmesos_tests::procs::{bin, bin_dir, temp_dir, Proc};

fn write_secret(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn slave(master: &str, name: &str, dir: &Path, credential: Option<&Path>) -> Proc {
    let mut cmd = Command::new(bin("rmesos-slave"));
    cmd.arg(format!("--master={master}"))
        .args(["--ip=127.0.0.1", "--port=0", "--resources=cpus:1;mem:256;disk:256", "--hostname", name])
        .arg("--work_dir")
        .arg(dir.join(name))
        .arg("--launcher_dir")
        .arg(bin_dir());
    if let Some(c) = credential {
        cmd.arg(format!("--credential=file://{}", c.display()));
    }
    Proc::spawn(&format!("rmesos-slave {name}"), cmd)
}

fn execute(master: &str, name: &str, credential: Option<(&str, &str)>) -> Proc {
    let mut cmd = Command::new(bin("rmesos-execute"));
    cmd.args(["--master", master, "--name", name, "--command", "echo authenticated"]).env("LIBPROCESS_IP", "127.0.0.1");
    if let Some((principal, secret)) = credential {
        cmd.arg(format!("--principal={principal}")).env("RMESOS_SECRET", secret);
    }
    Proc::spawn(&format!("rmesos-execute {name}"), cmd)
}

#[test]
fn only_the_right_credentials_register_and_the_others_are_refused_on_both_sides() {
    let dir = temp_dir("authentication");
    let creds = dir.join("credentials.json");
    write_secret(
        &creds,
        r#"{"credentials": [{"principal": "agent", "secret": "a-secret"}, {"principal": "fw", "secret": "f-secret"}]}"#,
    );
    let mut cmd = Command::new(bin("rmesos-master"));
    cmd.args([
        "--ip=127.0.0.1",
        "--port=0",
        "--hostname=auth",
        "--authenticate_agents",
        "--authenticate_frameworks=true",
    ])
    .arg(format!("--credentials={}", creds.display()));
    let mut m = Proc::spawn("rmesos-master", cmd);
    let started = m.wait_line("started on");
    let master = started.rsplit(' ').next().unwrap().to_string();
    m.wait_line("Loaded 2 credential(s) from --credentials");

    // The right credential: authenticated, then registered.
    let good = dir.join("good.credential");
    write_secret(&good, "agent a-secret\n");
    let mut sg = slave(&master, "good", &dir, Some(&good));
    m.wait_line("Successfully authenticated principal 'agent' at slave(1)@");
    m.wait_line("Registered slave ");
    sg.wait_line("Successfully authenticated with master");
    sg.wait_line("Registered with master");

    // A wrong secret: refused; the slave stops and says why.
    let wrong = dir.join("wrong.credential");
    write_secret(&wrong, r#"{"principal": "agent", "secret": "guess"}"#);
    let mut sw = slave(&master, "wrong", &dir, Some(&wrong));
    m.wait_line("as 'agent' was unsuccessful: Invalid credentials");
    sw.wait_line("refused authentication; stopping (executors keep running): check --credential");
    assert_eq!(sw.wait_exit().code(), Some(1), "a refused credential is a failure: {}", sw.dump());
    assert!(!sw.dump().contains("Registered with master"), "{}", sw.dump());

    // No credential: its registration is refused and it is told so.
    let mut sn = slave(&master, "none", &dir, None);
    m.wait_line("Refusing registration of agent at slave(1)@");
    sn.wait_line("is not authenticated: this master requires authentication (--authenticate_agents)");
    sn.wait_exit();

    // A framework with its credential runs a task on the good slave.
    let mut ok = execute(&master, "authok", Some(("fw", "f-secret")));
    assert_eq!(ok.wait_exit().code(), Some(0), "{}", ok.dump());
    assert!(ok.dump().contains("authok TASK_FINISHED"), "{}", ok.dump());
    m.wait_line("Successfully authenticated principal 'fw' at scheduler-");

    // A wrong secret, and none: the driver stops with the master's reason.
    let mut bad = execute(&master, "authbad", Some(("fw", "nope")));
    assert_ne!(bad.wait_exit().code(), Some(0), "{}", bad.dump());
    assert!(bad.dump().contains("Master refused authentication"), "{}", bad.dump());
    let mut anon = execute(&master, "anon", None);
    assert_ne!(anon.wait_exit().code(), Some(0), "{}", anon.dump());
    assert!(anon.dump().contains("is not authenticated"), "{}", anon.dump());
    m.wait_line("Refusing registration of framework at scheduler-");

    // The secrets never reach a log line.
    for p in [&m, &sg, &sw, &ok, &bad] {
        for secret in ["a-secret", "f-secret", "guess", "nope"] {
            assert!(!p.dump().contains(secret), "{} logged a secret:\n{}", p.name, p.dump());
        }
    }
    drop((sg, m));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--acls` with real processes: `register_frameworks` refuses a principal
/// every role (its driver stops with the master's reason), `run_tasks`
/// refuses a principal the user its tasks run as (TASK_ERROR with Mesos's
/// message), and the principal the ACLs allow runs its task.
#[test]
fn acls_refuse_a_principal_its_role_and_its_user() {
    let dir = temp_dir("acls");
    let creds = dir.join("credentials");
    write_secret(&creds, "fw f-secret\nbarred b-secret\nops o-secret\n");
    let out = Command::new("id").arg("-un").output().expect("id -un");
    let user = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let acls = format!(
        r#"{{"register_frameworks": [{{"principals": {{"values": ["barred"]}}, "roles": {{"type": "NONE"}}}}],
            "run_tasks": [{{"principals": {{"values": ["fw"]}}, "users": {{"type": "ANY"}}}},
                          {{"principals": {{"type": "NONE"}}, "users": {{"values": ["{user}"]}}}}]}}"#
    );
    let mut cmd = Command::new(bin("rmesos-master"));
    cmd.args(["--ip=127.0.0.1", "--port=0", "--hostname=acls", "--authenticate_frameworks"])
        .arg(format!("--credentials={}", creds.display()))
        .arg(format!("--acls={acls}"));
    let mut m = Proc::spawn("rmesos-master", cmd);
    let started = m.wait_line("started on");
    let master = started.rsplit(' ').next().unwrap().to_string();
    m.wait_line("Loaded ACLs from --acls (permissive: true)");
    let mut s = slave(&master, "acl-slave", &dir, None);
    s.wait_line("Registered with master");

    let mut ok = execute(&master, "aclok", Some(("fw", "f-secret")));
    assert_eq!(ok.wait_exit().code(), Some(0), "{}", ok.dump());
    assert!(ok.dump().contains("aclok TASK_FINISHED"), "{}", ok.dump());

    let mut barred = execute(&master, "aclbarred", Some(("barred", "b-secret")));
    assert_ne!(barred.wait_exit().code(), Some(0), "{}", barred.dump());
    assert!(barred.dump().contains("Not authorized to use role '*' (principal 'barred')"), "{}", barred.dump());
    m.wait_line("refusing framework: Not authorized to use role '*' (principal 'barred')");

    let mut ops = execute(&master, "aclops", Some(("ops", "o-secret")));
    assert_ne!(ops.wait_exit().code(), Some(0), "{}", ops.dump());
    assert!(ops.dump().contains("aclops TASK_ERROR on "), "{}", ops.dump());
    assert!(ops.dump().contains(&format!("Not authorized to launch as user '{user}'")), "{}", ops.dump());
    drop((s, m));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `curl` with `args`: the HTTP status and the response headers.
fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "20", "-D", "-", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(args)
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let code = text.lines().last().unwrap_or("").to_string();
    (code, text)
}

#[test]
fn http_basic_guards_the_read_only_endpoints() {
    let dir = temp_dir("http-basic");
    let creds = dir.join("http.credentials");
    write_secret(&creds, "ops op-secret\n");
    let mut cmd = Command::new(bin("rmesos-master"));
    cmd.args(["--ip=127.0.0.1", "--port=0", "--hostname=http", "--authenticate_http_readonly"])
        .arg(format!("--http_credentials={}", creds.display()));
    let mut m = Proc::spawn("rmesos-master", cmd);
    let started = m.wait_line("started on");
    let addr = started.rsplit(' ').next().unwrap().to_string();
    for path in ["/state", "/metrics/snapshot", "/master/state"] {
        let (code, headers) = curl(&[&format!("http://{addr}{path}")]);
        assert_eq!(code, "401", "{path}: {headers}");
        assert!(
            headers.to_ascii_lowercase().contains("www-authenticate: basic realm=\"mesos-master-readonly\""),
            "{headers}"
        );
        let (code, _) = curl(&["-u", "ops:wrong", &format!("http://{addr}{path}")]);
        assert_eq!(code, "401", "{path} with a wrong secret");
        let (code, headers) = curl(&["-u", "ops:op-secret", &format!("http://{addr}{path}")]);
        assert_eq!(code, "200", "{path}: {headers}");
    }
    // /health stays open, as in Mesos.
    assert_eq!(curl(&[&format!("http://{addr}/health")]).0, "200");
    m.drain();
    assert!(!m.dump().contains("op-secret"), "{}", m.dump());
    drop(m);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `curl` with `args`: the body.
fn curl_body(args: &[&str]) -> String {
    let out = Command::new("curl").args(["-s", "--max-time", "20"]).args(args).output().expect("run curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `--acls` on the HTTP side: `/state` shows a framework only to the
/// principals `view_frameworks` lets see it, and `/metrics/snapshot`
/// answers 403 to a principal `get_endpoints` does not allow.
#[test]
fn acls_filter_state_and_forbid_endpoints() {
    let dir = temp_dir("http-acls");
    let creds = dir.join("http.credentials");
    write_secret(&creds, "ops op-secret\ndev dev-secret\n");
    let acls = r#"{"view_frameworks": [{"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
                                      {"principals": {"type": "NONE"}, "users": {"type": "ANY"}}],
                   "get_endpoints": [{"principals": {"values": ["dev"]}, "paths": {"values": ["/metrics/snapshot"]}},
                                     {"principals": {"type": "NONE"}, "paths": {"type": "ANY"}}]}"#;
    let mut cmd = Command::new(bin("rmesos-master"));
    cmd.args(["--ip=127.0.0.1", "--port=0", "--hostname=http-acls", "--authenticate_http_readonly"])
        .arg(format!("--http_credentials={}", creds.display()))
        .arg(format!("--acls={acls}"));
    let mut m = Proc::spawn("rmesos-master", cmd);
    let started = m.wait_line("started on");
    let addr = started.rsplit(' ').next().unwrap().to_string();
    let mut s = slave(&addr, "http-acl-slave", &dir, None);
    s.wait_line("Registered with master");
    let mut fw = execute(&addr, "seen", None);
    assert_eq!(fw.wait_exit().code(), Some(0), "{}", fw.dump());

    let state = |who: &str| -> serde_json::Value {
        let body = curl_body(&["-u", who, &format!("http://{addr}/state")]);
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{who}: {e}: {body}"))
    };
    let ops = state("ops:op-secret");
    let done = ops["completed_frameworks"].as_array().unwrap();
    assert_eq!(done.len(), 1, "{ops}");
    assert_eq!(done[0]["name"], "seen");
    assert_eq!(done[0]["completed_tasks"].as_array().unwrap().len(), 1, "{ops}");
    let dev = state("dev:dev-secret");
    assert_eq!(dev["completed_frameworks"].as_array().unwrap().len(), 0, "{dev}");
    assert_eq!(dev["slaves"].as_array().unwrap().len(), 1, "agents are not filtered: {dev}");

    let metrics = |who: &str| curl(&["-u", who, &format!("http://{addr}/metrics/snapshot")]).0;
    assert_eq!(metrics("dev:dev-secret"), "200");
    assert_eq!(metrics("ops:op-secret"), "403");
    m.wait_line("GET /metrics/snapshot forbidden by --acls (get_endpoints)");
    drop((s, m));
    let _ = std::fs::remove_dir_all(&dir);
}
