//! The slave's operator endpoints (served by `slave(1)`, and at `/` since it
//! is the node's default process): `/state` (from the core, Mesos field
//! names), `/metrics/snapshot` (from the core: Mesos's agent gauges),
//! `/health`, `/version`, and Mesos's `/files/read`, `/files/browse`, `/files/download`
//! for the sandboxes.
//!
//! `/files/read?path=P&offset=O&length=L` answers `{"data": "...", "offset": O}`
//! as Mesos does; `offset=-1` answers the file's size with no data.
//! `/files/browse?path=D` lists a directory, `/files/download?path=P` sends
//! a file. `P` must be inside a sandbox: absolute, without `..`, and once
//! canonicalized (symlinks resolved) under `<work_dir>/slaves`, so neither
//! `..` nor a symlink inside a sandbox nor an absolute path elsewhere can
//! reach the checkpoint or anything else (400/403/404 with a log line).
//!
//! The read endpoints the master's web UI reads from the browser (`/state`,
//! `/monitor/statistics`, `/files/read`) allow any origin
//! ([`cross_origin`]): the UI's page comes from the master's address, so
//! without it the browser would refuse the agent's answers.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use libprocess::{Request, Response};
use serde_json::json;

use crate::paths;

/// Longest read served at once: 1 MiB (Mesos pages through logs the same way).
pub const MAX_FILES_READ_LENGTH: u64 = 1024 * 1024;

/// `resp` with `Access-Control-Allow-Origin: *`: readable by a page from
/// another origin (the master's web UI), without credentials.
pub fn cross_origin(resp: Response) -> Response {
    resp.with_header("Access-Control-Allow-Origin", "*")
}

pub fn health() -> Response {
    Response::ok()
}

/// `/version`: Mesos's shape, the same answer as the master's (the Mesos
/// release whose APIs rmesos speaks, and rmesos's own version).
pub fn version() -> Response {
    Response::json(&rmesos::v1::version_json())
}

fn bad(status: u16, reason: String) -> Response {
    tracing::warn!("files request refused: {reason}");
    Response::text(status, format!("{reason}\n"))
}

/// The real path of `path` if it lies inside the sandboxes: absolute, no
/// `..`, and, canonicalized (symlinks resolved), under `<work_dir>/slaves`;
/// else the 4xx to answer (logged).
fn confine(work_dir: &Path, req: &Request) -> Result<(String, PathBuf), Response> {
    let Some(path) = req.query("path") else { return Err(bad(400, "missing 'path' query parameter".into())) };
    let p = Path::new(path);
    if !p.is_absolute() || p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(bad(400, format!("path '{}' must be absolute and must not contain '..'", path.escape_debug())));
    }
    let Ok(root) = paths::sandboxes_root(work_dir).canonicalize() else {
        return Err(bad(404, "no sandboxes yet".into()));
    };
    let real = match p.canonicalize() {
        Ok(r) => r,
        Err(e) => return Err(bad(404, format!("cannot open '{}': {e}", path.escape_debug()))),
    };
    if !real.starts_with(&root) {
        return Err(bad(403, format!("'{}' is outside the sandboxes", path.escape_debug())));
    }
    Ok((path.to_string(), real))
}

pub fn files_read(work_dir: &Path, req: &Request) -> Response {
    let offset: i64 = match req.query("offset").unwrap_or("0").parse() {
        Ok(o) if o >= -1 => o,
        _ => return bad(400, "'offset' must be an integer >= -1".into()),
    };
    let length: u64 = match req.query("length").map(str::parse::<u64>) {
        None => MAX_FILES_READ_LENGTH,
        Some(Ok(l)) => l.min(MAX_FILES_READ_LENGTH),
        Some(Err(_)) => return bad(400, "'length' must be a non-negative integer".into()),
    };
    let (path, real) = match confine(work_dir, req) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut file = match std::fs::File::open(&real) {
        Ok(f) => f,
        Err(e) => return bad(404, format!("cannot open '{path}': {e}")),
    };
    let size = match file.metadata() {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return bad(400, format!("'{path}' is not a regular file")),
        Err(e) => return bad(500, format!("cannot stat '{path}': {e}")),
    };
    if offset == -1 {
        return Response::json(&json!({ "data": "", "offset": size }));
    }
    let offset = (offset as u64).min(size);
    let mut buf = Vec::new();
    let read = file.seek(SeekFrom::Start(offset)).and_then(|_| file.take(length).read_to_end(&mut buf));
    if let Err(e) = read {
        return bad(500, format!("cannot read '{path}': {e}"));
    }
    Response::json(&json!({ "data": String::from_utf8_lossy(&buf), "offset": offset }))
}

/// Entries listed by one `/files/browse`.
pub const MAX_BROWSE_ENTRIES: usize = 10_000;

/// `ls -l`'s mode string (`drwxr-xr-x`), as Mesos's `/files/browse`.
fn mode_string(meta: &std::fs::Metadata) -> String {
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        'd'
    } else if ft.is_symlink() {
        'l'
    } else {
        '-'
    };
    let mode = meta.mode();
    let mut s = String::from(kind);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

/// `/files/browse?path=DIR`: Mesos's JSON array, one object per entry
/// (`path`, `size`, `mode`, `mtime`, `nlink`, `uid`, `gid`; the ids as
/// numbers in strings, where Mesos looks the names up), sorted by path, at
/// most [`MAX_BROWSE_ENTRIES`]. The listed path is the one asked for, so
/// the entries' paths can be passed back to `/files/read`.
pub fn files_browse(work_dir: &Path, req: &Request) -> Response {
    let (path, real) = match confine(work_dir, req) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let entries = match std::fs::read_dir(&real) {
        Ok(e) => e,
        Err(e) => return bad(400, format!("cannot list '{path}': {e}")),
    };
    let mut out: Vec<serde_json::Value> = entries
        .filter_map(Result::ok)
        .take(MAX_BROWSE_ENTRIES)
        .filter_map(|e| {
            let meta = e.path().symlink_metadata().ok()?;
            let mtime = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
            Some(json!({
                "path": Path::new(&path).join(e.file_name()).to_string_lossy(),
                "size": meta.len(),
                "mode": mode_string(&meta),
                "mtime": mtime,
                "nlink": meta.nlink(),
                "uid": meta.uid().to_string(),
                "gid": meta.gid().to_string(),
            }))
        })
        .collect();
    out.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    Response::json(&out)
}

/// Largest file `/files/download` sends (it is read into memory whole).
pub const MAX_FILES_DOWNLOAD: u64 = 256 * 1024 * 1024;

/// `/files/download?path=FILE`: the file's bytes as an attachment
/// (`application/octet-stream`, `Content-Disposition: attachment;
/// filename=<name>`), as Mesos; 413 beyond [`MAX_FILES_DOWNLOAD`].
pub fn files_download(work_dir: &Path, req: &Request) -> Response {
    let (path, real) = match confine(work_dir, req) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match std::fs::metadata(&real) {
        Ok(m) if !m.is_file() => return bad(400, format!("'{path}' is not a regular file")),
        Ok(m) if m.len() > MAX_FILES_DOWNLOAD => {
            return bad(413, format!("'{path}' is larger than {MAX_FILES_DOWNLOAD} bytes; page it with /files/read"))
        }
        Ok(_) => {}
        Err(e) => return bad(404, format!("cannot stat '{path}': {e}")),
    }
    let name = real.file_name().map(|n| n.to_string_lossy().replace(['"', '\\'], "_")).unwrap_or_default();
    match std::fs::read(&real) {
        Ok(bytes) => Response::new(200, "application/octet-stream", bytes)
            .with_header("Content-Disposition", &format!("attachment; filename=\"{name}\"")),
        Err(e) => bad(500, format!("cannot read '{path}': {e}")),
    }
}

/// `path` if it lies in a sandbox (what [`confine`] checks of a query's
/// `path`, for callers with a path of their own: the v1 operator API's
/// LIST_FILES and READ_FILE). Err is the status and reason.
pub fn sandbox_path(work_dir: &Path, path: &str) -> Result<PathBuf, (u16, String)> {
    let p = Path::new(path);
    if !p.is_absolute() || p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err((400, format!("path '{}' must be absolute and must not contain '..'", path.escape_debug())));
    }
    let Ok(root) = paths::sandboxes_root(work_dir).canonicalize() else {
        return Err((404, "no sandboxes yet".into()));
    };
    let real = p.canonicalize().map_err(|e| (404, format!("cannot open '{}': {e}", path.escape_debug())))?;
    if !real.starts_with(&root) {
        return Err((403, format!("'{}' is outside the sandboxes", path.escape_debug())));
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(q: &[(&str, &str)]) -> Request {
        Request { query: q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), ..Request::default() }
    }

    fn body(r: &Response) -> serde_json::Value {
        serde_json::from_slice(&r.body).unwrap()
    }

    #[test]
    fn version_is_mesos_shaped() {
        let v = body(&version());
        assert_eq!(v["version"], rmesos::v1::MESOS_API_VERSION);
        assert_eq!(v["rmesos_version"], env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn reads_sandbox_files_only() {
        let w = std::env::temp_dir().join(format!("rmesos-files-{}", uuid::Uuid::new_v4()));
        let sb = paths::sandboxes_root(&w).join("s/frameworks/f/executors/e/runs/r");
        std::fs::create_dir_all(&sb).unwrap();
        std::fs::write(sb.join("stdout"), "hello world\n").unwrap();
        std::fs::create_dir_all(w.join("meta")).unwrap();
        std::fs::write(w.join("meta/secret"), "x").unwrap();
        std::os::unix::fs::symlink(w.join("meta/secret"), sb.join("link")).unwrap();

        let out = sb.join("stdout");
        let out = out.to_str().unwrap();
        let r = files_read(&w, &req(&[("path", out), ("offset", "6"), ("length", "5")]));
        assert_eq!(r.status, 200);
        assert_eq!(body(&r), json!({"data": "world", "offset": 6}));
        assert_eq!(body(&files_read(&w, &req(&[("path", out), ("offset", "-1")]))), json!({"data": "", "offset": 12}));
        let dotdot = format!("{}/../../../../../../../meta/secret", sb.display());
        assert_eq!(files_read(&w, &req(&[("path", &dotdot)])).status, 400);
        let link = sb.join("link");
        assert_eq!(files_read(&w, &req(&[("path", link.to_str().unwrap())])).status, 403);
        let secret = w.join("meta/secret");
        assert_eq!(files_read(&w, &req(&[("path", secret.to_str().unwrap())])).status, 403);
        assert_eq!(files_read(&w, &req(&[("path", out), ("length", "x")])).status, 400);
        assert_eq!(files_read(&w, &req(&[])).status, 400);
        assert_eq!(files_read(&w, &req(&[("path", "stdout")])).status, 400, "relative");
        assert_eq!(files_read(&w, &req(&[("path", "/etc/passwd")])).status, 403);

        // browse: the sandbox's entries, under the path asked for.
        let dir = sb.to_str().unwrap();
        let r = files_browse(&w, &req(&[("path", dir)]));
        assert_eq!(r.status, 200);
        let list = body(&r);
        let names: Vec<&str> = list.as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
        assert_eq!(names, [format!("{dir}/link"), format!("{dir}/stdout")]);
        let stdout = &list[1];
        assert_eq!((stdout["size"].as_u64(), stdout["nlink"].as_u64()), (Some(12), Some(1)));
        assert!(stdout["mode"].as_str().unwrap().starts_with("-rw"), "{stdout}");
        assert!(list[0]["mode"].as_str().unwrap().starts_with('l'));
        for k in ["mtime", "uid", "gid"] {
            assert!(stdout.get(k).is_some(), "{k}");
        }
        assert_eq!(files_browse(&w, &req(&[("path", w.join("meta").to_str().unwrap())])).status, 403);
        assert_eq!(files_browse(&w, &req(&[("path", &dotdot)])).status, 400);
        assert_eq!(files_browse(&w, &req(&[("path", out)])).status, 400, "not a directory");

        // download: the bytes, as an attachment; the same confinement.
        let r = files_download(&w, &req(&[("path", out)]));
        assert_eq!((r.status, &r.body[..]), (200, &b"hello world\n"[..]));
        assert!(r.headers.iter().any(|(k, v)| k == "content-disposition" && v == "attachment; filename=\"stdout\""));
        assert_eq!(files_download(&w, &req(&[("path", link.to_str().unwrap())])).status, 403);
        assert_eq!(files_download(&w, &req(&[("path", dir)])).status, 400);
        std::fs::remove_dir_all(&w).unwrap();
    }
}
