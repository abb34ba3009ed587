//! Starting and killing executor processes (the I/O half of Mesos's posix
//! launcher). Each executor runs:
//! - in its sandbox directory (created here), with `stdout` and `stderr`
//!   files there;
//! - in a new session (`setsid`), so it and everything it starts (the
//!   command executor puts its task in a process group of its own, still in
//!   that session) can be killed together, and a Ctrl+C at the slave's
//!   terminal does not reach it;
//! - with the slave's environment minus its listening port, plus the
//!   executor environment from the core;
//! - with the linux launcher, in its cgroups from before exec (the child
//!   writes itself into each `cgroup.procs`), so everything it ever forks
//!   is inside;
//! - as its user ([`super::user`]), the sandbox chowned to it.
//!
//! Killing sends SIGKILL to the session's process group and to every process
//! of the session (found in `/proc`), a bounded number of sweeps, so
//! children that changed process group die too.

use std::fs::File;
use std::io;
use std::process::{ExitStatus, Stdio};

use tokio::process::{Child, Command};

use super::user::{self, User};
use crate::core::Launch;

/// What the launcher does beyond the posix basics.
#[derive(Debug, Default)]
pub struct Spawn {
    /// `cgroup.procs` files to join before exec (linux launcher).
    pub cgroup_procs: Vec<std::ffi::CString>,
    /// The user to become (`--switch_user`).
    pub user: Option<User>,
}

/// Sweeps of `/proc` when killing a session (processes forked during a
/// sweep are caught by the next).
pub const KILL_SWEEPS: usize = 3;

/// Variables of the slave's own node that must not reach an executor
/// (it would try to bind the slave's port).
const STRIP_ENV: &[&str] = &["LIBPROCESS_PORT", "LIBPROCESS_ADVERTISE_PORT", "LIBPROCESS_ADVERTISE_IP"];

/// Creates the sandbox and starts the executor. Returns the child (its pid
/// is the session id).
pub fn launch(l: &Launch, spawn: Spawn) -> io::Result<Child> {
    std::fs::create_dir_all(&l.directory)?;
    let stdout = File::create(l.directory.join("stdout"))?;
    // Appended to: the fetcher's log comes first (as in Mesos).
    let stderr = File::options().create(true).append(true).open(l.directory.join("stderr"))?;
    if let Some(u) = &spawn.user {
        for p in [l.directory.clone(), l.directory.join("stdout"), l.directory.join("stderr")] {
            user::chown(&p, u)?;
        }
    }
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
    if let Some(u) = &spawn.user {
        cmd.env("USER", &u.name).env("HOME", &u.home);
    }
    let Spawn { cgroup_procs, user } = spawn;
    let ids = user.map(|u| (u.groups, u.gid, u.uid));
    // SAFETY: setsid, join_self and become_user are async-signal-safe and
    // allocate nothing; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() == -1 {
                return Err(io::Error::last_os_error());
            }
            crate::cgroups::join_self(&cgroup_procs)?;
            if let Some((groups, gid, uid)) = &ids {
                user::become_user(groups, *gid, *uid)?;
            }
            Ok(())
        });
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

/// Processes whose session is `sid`.
fn session_members(sid: i32) -> Vec<i32> {
    super::procfs::session_members(sid)
}
