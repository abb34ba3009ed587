//! `--switch_user`: an executor runs as its task's user (`CommandInfo.user`,
//! else `FrameworkInfo.user`; the core picks it), looked up here in the
//! user database before the launch, so that an unknown user is a clear
//! launch failure (TASK_FAILED, `REASON_CONTAINER_LAUNCH_FAILED`) and not
//! an executor that dies unexplained. The sandbox is then chowned to the
//! user, and the child drops to it (supplementary groups, gid, uid) after
//! joining its cgroups and before exec.

use std::ffi::CString;
use std::io;
use std::path::Path;

/// A user to run as, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    /// Supplementary groups (from the group database).
    pub groups: Vec<libc::gid_t>,
    pub home: String,
}

/// Most supplementary groups taken for one user.
const MAX_GROUPS: usize = 256;

/// Looks `name` up (getpwnam_r, getgrouplist).
pub fn lookup(name: &str) -> io::Result<User> {
    let cname = CString::new(name).map_err(|_| io::Error::other(format!("invalid user name '{name}'")))?;
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: passwd is plain data; getpwnam_r writes into pwd and buf
    // (valid for their sizes) and sets result.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let rc = unsafe { libc::getpwnam_r(cname.as_ptr(), &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() {
        return Err(io::Error::other(format!("Failed to get user information for '{name}': no such user")));
    }
    // SAFETY: pw_dir points into buf, NUL-terminated by getpwnam_r.
    let home = unsafe { std::ffi::CStr::from_ptr(pwd.pw_dir) }.to_string_lossy().into_owned();
    let mut groups = vec![0 as libc::gid_t; MAX_GROUPS];
    let mut n = MAX_GROUPS as libc::c_int;
    // SAFETY: groups has room for n entries; getgrouplist updates n.
    let rc = unsafe { libc::getgrouplist(cname.as_ptr(), pwd.pw_gid, groups.as_mut_ptr(), &mut n) };
    groups.truncate(if rc < 0 { 0 } else { n.max(0) as usize });
    if groups.is_empty() {
        groups.push(pwd.pw_gid);
    }
    Ok(User { name: name.to_string(), uid: pwd.pw_uid, gid: pwd.pw_gid, groups, home })
}

/// Gives `path` to the user (the sandbox and the files made in it).
pub fn chown(path: &Path, user: &User) -> io::Result<()> {
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
        .map_err(|e| io::Error::other(format!("Failed to chown '{}' to user '{}': {e}", path.display(), user.name)))
}

/// Becomes the user: groups, then gid, then uid (the order that still
/// has the privilege for each step). Async-signal-safe (for `pre_exec`).
pub fn become_user(groups: &[libc::gid_t], gid: libc::gid_t, uid: libc::uid_t) -> io::Result<()> {
    // SAFETY: plain syscalls on valid buffers.
    unsafe {
        if libc::setgroups(groups.len() as _, groups.as_ptr()) != 0 || libc::setgid(gid) != 0 || libc::setuid(uid) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The user the slave itself runs as (what `--switch_user=false` means).
pub fn current_uid() -> libc::uid_t {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_unknown() {
        let root = lookup("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert!(root.groups.contains(&0));
        let e = lookup("no-such-user-rmesos").unwrap_err().to_string();
        assert!(e.contains("no-such-user-rmesos") && e.contains("no such user"), "{e}");
        assert!(lookup("bad\0name").is_err());
    }
}
