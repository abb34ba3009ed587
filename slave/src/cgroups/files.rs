//! Reading and writing cgroup control files, with errors that name the
//! file (a cgroupfs write fails with EINVAL or EBUSY and nothing else to go
//! on), and the parsers for the kernel's two file shapes: flat keyed files
//! (`key value` lines: `memory.stat`, `cpu.stat`, `memory.events`) and
//! single values (`memory.limit_in_bytes`, `pids.max`, where `max` means
//! no limit).

use std::collections::BTreeMap;
use std::path::Path;

use super::Error;

pub fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))
}

pub fn write(path: &Path, value: &str) -> Result<(), Error> {
    std::fs::write(path, value).map_err(|e| Error::io(&format!("write '{value}' to"), path, e))
}

/// `key value` lines into a map (lines that do not parse are skipped: the
/// kernel adds keys over versions, and a new one must not break us).
pub fn keyed(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let k = f.next()?;
            let v = f.next()?.parse().ok()?;
            Some((k.to_string(), v))
        })
        .collect()
}

pub fn read_keyed(path: &Path) -> Result<BTreeMap<String, u64>, Error> {
    read(path).map(|t| keyed(&t))
}

/// A single number; `max` (v2's "no limit") is `None`.
pub fn value(text: &str) -> Option<u64> {
    let t = text.trim();
    if t == "max" {
        return None;
    }
    t.parse().ok()
}

pub fn read_value(path: &Path) -> Result<Option<u64>, Error> {
    read(path).map(|t| value(&t))
}

/// The pids in a `cgroup.procs` file (missing file: none).
pub fn procs(path: &Path) -> Vec<i32> {
    std::fs::read_to_string(path).map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kernel_shapes() {
        let m = keyed("usage_usec 120\nnr_periods 3\nbogus\nweird x\n");
        assert_eq!(m.get("usage_usec"), Some(&120));
        assert_eq!(m.get("nr_periods"), Some(&3));
        assert_eq!(m.len(), 2);
        assert_eq!(value("max\n"), None);
        assert_eq!(value("33554432\n"), Some(33554432));
        assert_eq!(value(""), None);
    }
}
