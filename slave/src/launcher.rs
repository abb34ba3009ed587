//! Starting and killing executor processes (the I/O half of Mesos's posix
//! launcher). Each executor runs:
//! - in its sandbox directory (created here), with `stdout` and `stderr`
//!   files there;
//! - in a new session (`setsid`), so it and everything it starts (the
//!   command executor puts its task in a process group of its own, still in
//!   that session) can be killed together, and a Ctrl+C at the slave's
//!   terminal does not reach it;
//! - with the slave's environment minus its listening port, plus the
//!   executor environment from the core.
//!
//! Killing sends SIGKILL to the session's process group and to every process
//! of the session (found in `/proc`), a bounded number of sweeps, so
//! children that changed process group die too.

use std::fs::File;
use std::io;
use std::process::{ExitStatus, Stdio};

use tokio::process::{Child, Command};

use crate::core::Launch;

/// Sweeps of `/proc` when killing a session (processes forked during a
/// sweep are caught by the next).
pub const KILL_SWEEPS: usize = 3;

/// Variables of the slave's own node that must not reach an executor
/// (it would try to bind the slave's port).
const STRIP_ENV: &[&str] = &["LIBPROCESS_PORT", "LIBPROCESS_ADVERTISE_PORT", "LIBPROCESS_ADVERTISE_IP"];

/// Creates the sandbox and starts the executor. Returns the child (its pid
/// is the session id).
pub fn launch(l: &Launch) -> io::Result<Child> {
    std::fs::create_dir_all(&l.directory)?;
    let stdout = File::create(l.directory.join("stdout"))?;
    let stderr = File::create(l.directory.join("stderr"))?;
    let value = l.command.value.clone().ok_or_else(|| io::Error::other("the executor command has no value"))?;
    let mut cmd = if l.command.shell {
        let mut c = Command::new("sh");
        c.arg("-c").arg(&value);
        c
    } else {
        let mut c = Command::new(&value);
        // Mesos convention: arguments[0] is argv[0].
        if let Some((argv0, rest)) = l.command.arguments.split_first() {
            c.arg0(argv0).args(rest);
        }
        c
    };
    for k in STRIP_ENV {
        cmd.env_remove(k);
    }
    cmd.envs(l.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(&l.directory)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .kill_on_drop(false);
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| if libc::setsid() == -1 { Err(io::Error::last_os_error()) } else { Ok(()) });
    }
    cmd.spawn()
}

/// The exit status as Mesos reports it to the master: the exit code, or
/// minus the signal that killed the process.
pub fn status_code(status: &io::Result<ExitStatus>) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => s.code().or_else(|| s.signal().map(|n| -n)).unwrap_or(-1),
        Err(_) => -1,
    }
}

/// SIGKILLs every process of session `sid` (see the module doc). A `sid`
/// of 0 or 1 is refused: those would hit the whole system.
pub fn kill_session(sid: u32) {
    let Ok(sid) = i32::try_from(sid) else { return };
    if sid <= 1 {
        tracing::error!(sid, "refusing to kill session {sid}");
        return;
    }
    // SAFETY: plain syscalls with checked arguments.
    unsafe {
        libc::killpg(sid, libc::SIGKILL);
    }
    for _ in 0..KILL_SWEEPS {
        let members = session_members(sid);
        if members.is_empty() {
            break;
        }
        for pid in members {
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// Whether process `pid` still runs as the leader of its own session (the
/// executor a slave launched; a reused pid would lead no session of that
/// id). Zombies count as gone.
pub fn session_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return false };
    let mut f = rest.split_whitespace();
    let state = f.next();
    let session = f.nth(2).and_then(|s| s.parse::<u32>().ok());
    session == Some(pid) && state != Some("Z") && state != Some("X")
}

/// Processes whose session is `sid` (from `/proc/<pid>/stat`).
fn session_members(sid: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
            // Fields after "(comm)": state ppid pgrp session ...; comm may hold spaces.
            let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return false };
            let mut f = rest.split_whitespace();
            let state = f.next();
            let session = f.nth(2).and_then(|s| s.parse::<i32>().ok());
            session == Some(sid) && state != Some("Z")
        })
        .collect()
}
