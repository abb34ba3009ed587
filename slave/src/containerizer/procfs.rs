//! What `/proc` tells about processes: their session (the posix launcher
//! puts every executor in a session of its own), state, cpu times and
//! resident memory (`/proc/<pid>/stat`). The posix isolators' usage is the
//! sum over a container's processes.

/// The fields of `/proc/<pid>/stat` used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub state: char,
    pub session: i32,
    /// Clock ticks (`USER_HZ`).
    pub utime: u64,
    pub stime: u64,
    /// Resident pages.
    pub rss_pages: u64,
}

/// Parses a `/proc/<pid>/stat` line (the command name may hold spaces
/// and parentheses: fields are counted from the last `)`).
pub fn parse_stat(line: &str) -> Option<ProcStat> {
    let rest = line.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ")": state(0) ppid(1) pgrp(2) session(3) ... utime(11) stime(12) ... rss(21).
    Some(ProcStat {
        state: f.first()?.chars().next()?,
        session: f.get(3)?.parse().ok()?,
        utime: f.get(11)?.parse().ok()?,
        stime: f.get(12)?.parse().ok()?,
        rss_pages: f.get(21)?.parse().ok()?,
    })
}

pub fn stat(pid: i32) -> Option<ProcStat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Every pid in `/proc`.
pub fn pids() -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()).filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok()).collect()
}

/// Live (not zombie) processes of session `sid`.
pub fn session_members(sid: i32) -> Vec<i32> {
    pids()
        .into_iter()
        .filter(|p| stat(*p).is_some_and(|s| s.session == sid && s.state != 'Z' && s.state != 'X'))
        .collect()
}

/// Every live process of `/proc`, grouped by session (one scan for many
/// containers).
pub fn by_session() -> std::collections::HashMap<i32, Vec<i32>> {
    let mut m: std::collections::HashMap<i32, Vec<i32>> = std::collections::HashMap::new();
    for p in pids() {
        if let Some(s) = stat(p).filter(|s| s.state != 'Z' && s.state != 'X') {
            m.entry(s.session).or_default().push(p);
        }
    }
    m
}

/// Summed cpu seconds (user, system), resident bytes and count of `pids`.
pub fn usage(pids: &[i32]) -> (f64, f64, u64, u64) {
    let hz = crate::cgroups::v1::ticks_per_second();
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    let (mut u, mut s, mut rss, mut n) = (0u64, 0u64, 0u64, 0u64);
    for st in pids.iter().filter_map(|p| stat(*p)) {
        u += st.utime;
        s += st.stime;
        rss += st.rss_pages * page;
        n += 1;
    }
    (u as f64 / hz, s as f64 / hz, rss, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_a_nasty_name() {
        let line =
            "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 1000000 321 18446744073709551615";
        let s = parse_stat(line).unwrap();
        assert_eq!((s.state, s.session, s.utime, s.stime, s.rss_pages), ('S', 42, 250, 50, 321));
        assert!(parse_stat("garbage").is_none());
        let me = stat(std::process::id() as i32).unwrap();
        assert!(me.rss_pages > 0);
    }
}
