//! The `rmesos-master` binary as an OS process: it starts, logs that it
//! leads, serves HTTP, and exits 0 on SIGTERM; bad flags are one
//! clear error line with exit code 2.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_rmesos-master");

fn run_bad(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_flags_exit_2() {
    for (args, expected) in [
        (&["--agent_ping_timeout=15"][..], "has no unit"),
        (&["--port=x"][..], "invalid value 'x'"),
        (&["--zk=localhost:2181"][..], "not a ZooKeeper URL"),
    ] {
        let (code, err) = run_bad(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.lines().next().unwrap().starts_with("error:") && err.contains(expected), "{err}");
    }
}

#[test]
fn starts_leads_serves_and_stops_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["--ip=127.0.0.1", "--port=0", "--hostname=testhost", "--cluster=c1"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let next_line = |want: &str| loop {
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("log line within 20 s");
        if line.contains(want) {
            return line;
        }
    };
    let started = next_line("started on");
    assert!(started.contains("(testhost)"), "{started}");
    let addr = started.rsplit(' ').next().unwrap().to_string();
    next_line("Elected as the leading master!");

    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /state HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"cluster\":\"c1\""), "{resp}");
    assert!(resp.contains(&format!("\"leader\":\"master@{addr}\"")), "{resp}");

    // SAFETY: signalling our own child by its pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    next_line("Received SIGTERM");
    let pid = child.id() as i32;
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait());
    });
    let Ok(status) = done_rx.recv_timeout(Duration::from_secs(20)) else {
        // SAFETY: as above; the child did not stop on SIGTERM.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        panic!("rmesos-master did not exit within 20 s of SIGTERM");
    };
    let status = status.unwrap();
    assert!(status.success(), "{status:?}");
}
