//! Unpacking a fetched archive into the sandbox (blocking: run it off the
//! actor's thread). Every entry is untrusted: an entry whose path is
//! absolute or has `..`, a symbolic or hard link pointing outside the
//! sandbox, or an entry that would be written through a symbolic link
//! (made by an earlier entry) refuses the whole archive with the entry's
//! name. Bounded: at most [`MAX_ENTRIES`] entries and `max_bytes` written.
//! Special files (devices, fifos) are skipped with a log line; set-uid
//! bits are dropped.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::plan::{link_stays_inside, relative_inside, Archive};

/// Most entries unpacked from one archive.
pub const MAX_ENTRIES: u64 = 1_000_000;

/// What an extraction did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub entries: u64,
    pub bytes: u64,
}

/// Unpacks `archive` (of format `kind`) into `root`, writing at most
/// `max_bytes`. For [`Archive::Gz`], `name` (relative to `root`) is the
/// archive's own name: the result is that name without `.gz`.
pub fn extract(archive: &Path, kind: Archive, root: &Path, name: &Path, max_bytes: u64) -> Result<Extracted, String> {
    let file = File::open(archive).map_err(|e| format!("cannot open the archive: {e}"))?;
    let mut out = Writer { root: root.to_path_buf(), max_bytes, done: Extracted::default() };
    match kind {
        Archive::Tar => out.tar(file)?,
        Archive::TarGz => out.tar(flate2::read::MultiGzDecoder::new(io::BufReader::new(file)))?,
        Archive::TarBz2 => out.tar(bzip2::read::MultiBzDecoder::new(io::BufReader::new(file)))?,
        Archive::TarXz => out.tar(xz2::read::XzDecoder::new_multi_decoder(io::BufReader::new(file)))?,
        Archive::Zip => out.zip(file)?,
        Archive::Gz => {
            let plain = name.to_string_lossy();
            let target = plain.strip_suffix(".gz").or_else(|| plain.strip_suffix(".GZ")).unwrap_or(&plain);
            let target =
                relative_inside(target).ok_or_else(|| format!("cannot name the file unpacked from '{plain}'"))?;
            out.file(&target, 0o644, &mut flate2::read::MultiGzDecoder::new(io::BufReader::new(file)))?;
        }
    }
    Ok(out.done)
}

struct Writer {
    root: PathBuf,
    max_bytes: u64,
    done: Extracted,
}

impl Writer {
    fn tar(&mut self, r: impl Read) -> Result<(), String> {
        let mut ar = tar::Archive::new(r);
        let entries = ar.entries().map_err(|e| format!("not a tar archive: {e}"))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| format!("corrupt tar archive: {e}"))?;
            let raw = entry.path_bytes().into_owned();
            let shown = String::from_utf8_lossy(&raw).into_owned();
            let Some(rel) = relative_inside(&shown) else {
                // "./" alone (the archive's root) is harmless.
                if shown.trim_end_matches('/') == "." {
                    continue;
                }
                return Err(escape(&shown));
            };
            self.count()?;
            let mode = entry.header().mode().unwrap_or(0o644);
            let kind = entry.header().entry_type();
            if kind.is_dir() {
                self.dir(&rel, &shown)?;
            } else if kind.is_symlink() {
                let target = entry.link_name().map_err(|e| format!("corrupt tar archive: {e}"))?;
                let target = target.ok_or_else(|| format!("link '{shown}' has no target"))?;
                self.symlink(&rel, &target, &shown)?;
            } else if kind.is_hard_link() {
                let target = entry.link_name().map_err(|e| format!("corrupt tar archive: {e}"))?;
                let target = target.ok_or_else(|| format!("link '{shown}' has no target"))?;
                let t = relative_inside(&target.to_string_lossy())
                    .ok_or_else(|| format!("hard link '{shown}' points outside the sandbox"))?;
                self.safe_parent(&t, &shown)?;
                self.safe_parent(&rel, &shown)?;
                let dest = self.root.join(&rel);
                let _ = fs::remove_file(&dest);
                fs::hard_link(self.root.join(&t), &dest).map_err(|e| format!("cannot link '{shown}': {e}"))?;
            } else if kind.is_file() || kind == tar::EntryType::Continuous {
                self.file(&rel, mode, &mut entry)?;
            } else if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() || kind.is_gnu_longname() {
                // Read by the tar crate itself.
            } else {
                tracing::info!(entry = %shown, "Skipping special file '{shown}' ({kind:?}) in the archive");
            }
        }
        Ok(())
    }

    fn zip(&mut self, file: File) -> Result<(), String> {
        let mut ar = zip::ZipArchive::new(file).map_err(|e| format!("not a zip archive: {e}"))?;
        for i in 0..ar.len() {
            let mut f = ar.by_index(i).map_err(|e| format!("corrupt zip archive: {e}"))?;
            let shown = f.name().to_string();
            let rel = match f.enclosed_name().and_then(|p| relative_inside(&p.to_string_lossy())) {
                Some(r) => r,
                None if shown.trim_end_matches('/') == "." => continue,
                None => return Err(escape(&shown)),
            };
            self.count()?;
            let mode = f.unix_mode().unwrap_or(0o644);
            if f.is_dir() {
                self.dir(&rel, &shown)?;
            } else if f.is_symlink() {
                let mut target = String::new();
                (&mut f)
                    .take(4096)
                    .read_to_string(&mut target)
                    .map_err(|e| format!("corrupt zip link '{shown}': {e}"))?;
                self.symlink(&rel, Path::new(&target), &shown)?;
            } else {
                self.file(&rel, mode, &mut f)?;
            }
        }
        Ok(())
    }

    fn count(&mut self) -> Result<(), String> {
        self.done.entries += 1;
        if self.done.entries > MAX_ENTRIES {
            return Err(format!("the archive has more than {MAX_ENTRIES} entries"));
        }
        Ok(())
    }

    /// Refuses `rel` if a directory on its way is a symbolic link (one an
    /// earlier entry made), then makes its parent directories.
    fn safe_parent(&self, rel: &Path, shown: &str) -> Result<(), String> {
        let mut at = self.root.clone();
        if let Some(parent) = rel.parent() {
            for c in parent.components() {
                at.push(c);
                match fs::symlink_metadata(&at) {
                    Ok(m) if m.file_type().is_symlink() => {
                        return Err(format!("archive entry '{shown}' would be written through a symbolic link"));
                    }
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => return Err(format!("archive entry '{shown}' is under a file")),
                    Err(_) => fs::create_dir(&at).map_err(|e| format!("cannot create '{}': {e}", at.display()))?,
                }
            }
        }
        Ok(())
    }

    fn dir(&self, rel: &Path, shown: &str) -> Result<(), String> {
        self.safe_parent(rel, shown)?;
        let p = self.root.join(rel);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(format!("archive entry '{shown}' replaces a file or link with a directory")),
            Err(_) => fs::create_dir(&p).map_err(|e| format!("cannot create '{shown}': {e}")),
        }
    }

    fn symlink(&self, rel: &Path, target: &Path, shown: &str) -> Result<(), String> {
        if !link_stays_inside(rel, target) {
            return Err(format!(
                "symbolic link '{shown}' points outside the sandbox ('{}'); refusing the archive",
                target.display()
            ));
        }
        self.safe_parent(rel, shown)?;
        let p = self.root.join(rel);
        let _ = fs::remove_file(&p);
        std::os::unix::fs::symlink(target, &p).map_err(|e| format!("cannot create link '{shown}': {e}"))
    }

    fn file(&mut self, rel: &Path, mode: u32, r: &mut dyn Read) -> Result<(), String> {
        let shown = rel.to_string_lossy().into_owned();
        self.safe_parent(rel, &shown)?;
        let p = self.root.join(rel);
        // Never write through a link an earlier entry left at this name.
        if fs::symlink_metadata(&p).is_ok_and(|m| !m.is_dir()) {
            fs::remove_file(&p).map_err(|e| format!("cannot replace '{shown}': {e}"))?;
        }
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&p)
            .map_err(|e| format!("cannot create '{shown}': {e}"))?;
        let left = self.max_bytes.saturating_sub(self.done.bytes);
        let n = io::copy(&mut r.take(left + 1), &mut out).map_err(|e| format!("cannot unpack '{shown}': {e}"))?;
        if n > left {
            return Err(format!("the archive unpacks to more than {} bytes", self.max_bytes));
        }
        out.flush().map_err(|e| format!("cannot write '{shown}': {e}"))?;
        self.done.bytes += n;
        // rwx bits only: no set-uid, set-gid or sticky from an archive.
        fs::set_permissions(&p, fs::Permissions::from_mode(mode & 0o777))
            .map_err(|e| format!("cannot set the mode of '{shown}': {e}"))
    }
}

fn escape(entry: &str) -> String {
    format!("archive entry '{entry}' would land outside the sandbox (absolute path or '..'); refusing the archive")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("rmesos-extract-{}", uuid::Uuid::new_v4()));
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// A tar with raw entry names (the tar crate refuses '..' when building
    /// through its safe API, as an attacker would not).
    fn tar_with(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o755);
            if let Some(l) = link {
                h.set_link_name(l).unwrap();
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn run(bytes: &[u8], kind: Archive, name: &str) -> (PathBuf, Result<Extracted, String>) {
        let d = dir();
        let a = d.join("archive");
        fs::write(&a, bytes).unwrap();
        let root = d.join("sandbox");
        fs::create_dir(&root).unwrap();
        let r = extract(&a, kind, &root, Path::new(name), 1 << 20);
        (root, r)
    }

    #[test]
    fn tar_files_dirs_and_inside_links_unpack() {
        let t = tar_with(&[
            ("bin/", tar::EntryType::Directory, b"", None),
            ("bin/run.sh", tar::EntryType::Regular, b"#!/bin/sh\necho hi\n", None),
            ("current", tar::EntryType::Symlink, b"", Some("bin")),
            ("bin/again", tar::EntryType::Link, b"", Some("bin/run.sh")),
        ]);
        let (root, r) = run(&t, Archive::Tar, "a.tar");
        assert_eq!(r.unwrap(), Extracted { entries: 4, bytes: 18 });
        assert_eq!(fs::read_to_string(root.join("bin/run.sh")).unwrap(), "#!/bin/sh\necho hi\n");
        assert_eq!(fs::metadata(root.join("bin/run.sh")).unwrap().permissions().mode() & 0o777, 0o755);
        assert_eq!(fs::read_link(root.join("current")).unwrap(), PathBuf::from("bin"));
        assert_eq!(fs::read_to_string(root.join("bin/again")).unwrap(), "#!/bin/sh\necho hi\n");
        // The same tree, gzipped, bzip2'd and xz'd.
        let gz = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&t).unwrap();
            e.finish().unwrap()
        };
        assert_eq!(run(&gz, Archive::TarGz, "a.tgz").1.unwrap().entries, 4);
        let bz = {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(&t).unwrap();
            e.finish().unwrap()
        };
        assert_eq!(run(&bz, Archive::TarBz2, "a.tbz2").1.unwrap().entries, 4);
        let xz = {
            let mut e = xz2::write::XzEncoder::new(Vec::new(), 1);
            e.write_all(&t).unwrap();
            e.finish().unwrap()
        };
        assert_eq!(run(&xz, Archive::TarXz, "a.txz").1.unwrap().entries, 4);
        let (root, r) = run(&gz, Archive::Gz, "sub/x.tar.gz");
        r.unwrap();
        assert_eq!(fs::read(root.join("sub/x.tar")).unwrap(), t, "a .gz becomes its name without .gz");
    }

    #[test]
    fn escaping_entries_refuse_the_archive() {
        let file = tar::EntryType::Regular;
        let link = tar::EntryType::Symlink;
        for (entries, why) in [
            (vec![("../evil", file, &b"x"[..], None)], "'../evil' would land outside"),
            (vec![("a/../../evil", file, b"x", None)], "would land outside"),
            (vec![("/etc/evil", file, b"x", None)], "'/etc/evil' would land outside"),
            (vec![("out", link, b"", Some("/etc"))], "symbolic link 'out' points outside"),
            (vec![("d/out", link, b"", Some("../.."))], "points outside"),
            (vec![("self", link, b"", Some(".")), ("self/x", link, b"", Some(".."))], "through a symbolic link"),
            (vec![("h", tar::EntryType::Link, b"", Some("../../etc/passwd"))], "hard link 'h' points outside"),
        ] {
            let (root, r) = run(&tar_with(&entries), Archive::Tar, "a.tar");
            let e = r.unwrap_err();
            assert!(e.contains(why), "{entries:?}: {e}");
            assert!(!root.parent().unwrap().join("evil").exists());
        }
    }

    #[test]
    fn zip_unpacks_and_refuses_escapes() {
        let zipped = |names: &[&str]| {
            let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
            let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
            for n in names {
                w.start_file(*n, opts).unwrap();
                w.write_all(b"data").unwrap();
            }
            w.finish().unwrap().into_inner()
        };
        let (root, r) = run(&zipped(&["a/b.sh", "c"]), Archive::Zip, "x.zip");
        assert_eq!(r.unwrap().entries, 2);
        assert_eq!(fs::read(root.join("a/b.sh")).unwrap(), b"data");
        assert_eq!(fs::metadata(root.join("a/b.sh")).unwrap().permissions().mode() & 0o777, 0o755);
        let e = run(&zipped(&["../z"]), Archive::Zip, "x.zip").1.unwrap_err();
        assert!(e.contains("'../z' would land outside"), "{e}");
    }

    #[test]
    fn size_is_bounded_and_garbage_is_an_error() {
        let big = vec![0u8; 2 << 20];
        let t = tar_with(&[("big", tar::EntryType::Regular, &big, None)]);
        let e = run(&t, Archive::Tar, "a.tar").1.unwrap_err();
        assert!(e.contains("more than 1048576 bytes"), "{e}");
        assert!(run(b"not an archive at all", Archive::TarGz, "a.tgz").1.is_err());
        assert!(run(b"not a zip", Archive::Zip, "a.zip").1.unwrap_err().contains("not a zip archive"));
    }
}
