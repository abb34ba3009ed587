//! The slave's operator endpoints (served by `slave(1)`, and at `/` since it
//! is the node's default process): `/state` (from the core, Mesos field
//! names), `/metrics/snapshot` (from the core: Mesos's agent gauges),
//! `/health`, and `/files/read` for reading sandbox files.
//!
//! `/files/read?path=P&offset=O&length=L` answers `{"data": "...", "offset": O}`
//! as Mesos does; `offset=-1` answers the file's size with no data. `P` must
//! be inside a sandbox: it is canonicalized (resolving `..` and symlinks)
//! and must then lie under `<work_dir>/slaves`, so neither `..` nor a
//! symlink inside a sandbox can read the checkpoint or anything else.
//!
//! The read endpoints the master's web UI reads from the browser (`/state`,
//! `/monitor/statistics`, `/files/read`) allow any origin
//! ([`cross_origin`]): the UI's page comes from the master's address, so
//! without it the browser would refuse the agent's answers.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path};

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

fn bad(status: u16, reason: String) -> Response {
    tracing::info!("files/read refused: {reason}");
    Response::text(status, format!("{reason}\n"))
}

pub fn files_read(work_dir: &Path, req: &Request) -> Response {
    let Some(path) = req.query("path") else { return bad(400, "missing 'path' query parameter".into()) };
    let offset: i64 = match req.query("offset").unwrap_or("0").parse() {
        Ok(o) if o >= -1 => o,
        _ => return bad(400, "'offset' must be an integer >= -1".into()),
    };
    let length: u64 = match req.query("length").map(str::parse::<u64>) {
        None => MAX_FILES_READ_LENGTH,
        Some(Ok(l)) => l.min(MAX_FILES_READ_LENGTH),
        Some(Err(_)) => return bad(400, "'length' must be a non-negative integer".into()),
    };
    let p = Path::new(path);
    if !p.is_absolute() || p.components().any(|c| matches!(c, Component::ParentDir)) {
        return bad(400, format!("path '{path}' must be absolute and must not contain '..'"));
    }
    let Ok(root) = paths::sandboxes_root(work_dir).canonicalize() else {
        return bad(404, "no sandboxes yet".into());
    };
    let real = match p.canonicalize() {
        Ok(r) => r,
        Err(e) => return bad(404, format!("cannot open '{path}': {e}")),
    };
    if !real.starts_with(&root) {
        return bad(403, format!("'{path}' is outside the sandboxes"));
    }
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
        std::fs::remove_dir_all(&w).unwrap();
    }
}
