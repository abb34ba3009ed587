//! How full the disk holding the work dir is, for the sandbox GC: a
//! [`DiskUsage`] source, real ([`Statvfs`]) or fake (tests).

use std::path::{Path, PathBuf};

/// The fraction (0..1) of the disk in use, or an error to log.
pub trait DiskUsage {
    fn usage(&self) -> std::io::Result<f64>;
}

/// The disk of a path, from `statvfs` (as Mesos's `fs::usage`: used
/// blocks over all blocks, the root-reserved ones counting as used).
#[derive(Debug, Clone)]
pub struct Statvfs(pub PathBuf);

impl DiskUsage for Statvfs {
    fn usage(&self) -> std::io::Result<f64> {
        usage_of(&self.0)
    }
}

pub fn usage_of(path: &Path) -> std::io::Result<f64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: statvfs writes into a zeroed plain-data struct for a valid path.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if s.f_blocks == 0 {
        return Ok(0.0);
    }
    Ok((s.f_blocks - s.f_bfree) as f64 / s.f_blocks as f64)
}

impl<F: Fn() -> std::io::Result<f64>> DiskUsage for F {
    fn usage(&self) -> std::io::Result<f64> {
        self()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_disk_is_between_empty_and_full() {
        let u = Statvfs(std::env::temp_dir()).usage().unwrap();
        assert!((0.0..=1.0).contains(&u), "{u}");
        assert!(usage_of(Path::new("/no/such/dir")).is_err());
        let fake = || Ok(0.5);
        assert_eq!(fake.usage().unwrap(), 0.5);
    }
}
