//! The web UI's files, embedded with `include_bytes!`, and how one is
//! answered: its content type, an `ETag` (a hash of its bytes) with
//! `Cache-Control: no-cache` so a browser revalidates and gets a 304 when
//! nothing changed, and the gzipped bytes (made once, on first use) when
//! the client accepts gzip and they are at least 10% smaller.

use std::io::Write;
use std::sync::OnceLock;

use libprocess::{Request, Response};

/// One embedded file.
pub struct Asset {
    /// Its name under `/static/` (the page itself is served at `/`).
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    encoded: OnceLock<Encoded>,
}

/// What is computed once per asset.
struct Encoded {
    etag: String,
    /// None when gzip does not pay.
    gzip: Option<Vec<u8>>,
}

const fn asset(name: &'static str, content_type: &'static str, bytes: &'static [u8]) -> Asset {
    Asset { name, content_type, bytes, encoded: OnceLock::new() }
}

/// The page, at `/`.
pub static INDEX: Asset = asset("index.html", "text/html; charset=utf-8", include_bytes!("assets/index.html"));

/// Everything under `/static/`.
pub static ASSETS: [Asset; 3] = [
    asset("app.js", "text/javascript; charset=utf-8", include_bytes!("assets/app.js")),
    asset("style.css", "text/css; charset=utf-8", include_bytes!("assets/style.css")),
    asset("favicon.svg", "image/svg+xml", include_bytes!("assets/favicon.svg")),
];

impl Asset {
    fn encoded(&self) -> &Encoded {
        self.encoded.get_or_init(|| {
            let gzip = gzip(self.bytes).filter(|g| g.len() * 10 <= self.bytes.len() * 9);
            Encoded { etag: format!("\"{:016x}\"", fnv1a(self.bytes)), gzip }
        })
    }

    /// The asset's `ETag` value (quoted).
    pub fn etag(&self) -> &str {
        &self.encoded().etag
    }
}

/// Answers `req` with `a`: 304 if its `If-None-Match` names the current
/// ETag, else the bytes, gzipped when the client accepts it and it pays.
pub fn serve(a: &Asset, req: &Request) -> Response {
    let enc = a.encoded();
    let matches =
        req.header("if-none-match").is_some_and(|v| v.split(',').any(|t| t.trim() == enc.etag || t.trim() == "*"));
    let resp = if matches {
        Response::new(304, a.content_type, Vec::new())
    } else {
        match &enc.gzip {
            Some(g) if accepts_gzip(req) => {
                Response::new(200, a.content_type, g.clone()).with_header("Content-Encoding", "gzip")
            }
            _ => Response::new(200, a.content_type, a.bytes),
        }
    };
    let resp = resp.with_header("ETag", &enc.etag).with_header("Cache-Control", "no-cache");
    if enc.gzip.is_some() {
        resp.with_header("Vary", "Accept-Encoding")
    } else {
        resp
    }
}

/// True if `Accept-Encoding` lists gzip with a non-zero quality.
fn accepts_gzip(req: &Request) -> bool {
    req.header("accept-encoding").is_some_and(|v| {
        v.split(',').any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let q = it.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && q > 0.0
        })
    })
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).ok()?;
    e.finish().ok()
}

/// 64-bit FNV-1a: enough to tell two versions of a file apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
