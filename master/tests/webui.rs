//! The web UI's routes on a real master over a loopback socket: `/` and
//! every `/static/` asset with its content type, ETag and a 304 when the
//! browser has it, gzip when asked for (and the same bytes once inflated),
//! the size budget (under 300 KB in all), and no URL that would make a
//! browser fetch anything from elsewhere.

use std::io::Read;
use std::net::SocketAddr;

use libprocess::{Config, Node};
use rmesos_master::webui::{Asset, ASSETS, INDEX};
use rmesos_master::MasterOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The whole UI's budget.
const BUDGET: usize = 300 * 1024;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

async fn get(addr: SocketAddr, path: &str, extra: &[(&str, &str)]) -> Reply {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n");
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply { status, headers, body: buf[end..].to_vec() }
}

async fn master() -> (Node, SocketAddr) {
    let node = Node::bind(Config::loopback(0)).await.unwrap();
    let opts = MasterOptions { hostname: "localhost".into(), ..MasterOptions::default() };
    let pid = rmesos_master::spawn(&node, opts).unwrap().pid;
    (node, pid.addr())
}

fn all() -> Vec<(String, &'static Asset)> {
    std::iter::once(("/".to_string(), &INDEX))
        .chain(ASSETS.iter().map(|a| (format!("/static/{}", a.name), a)))
        .collect()
}

#[actix_rt::test]
async fn every_asset_has_its_type_an_etag_and_a_304() {
    let (_node, addr) = master().await;
    for (path, a) in all() {
        let r = get(addr, &path, &[]).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some(a.content_type), "{path}");
        assert_eq!(r.header("content-encoding"), None, "{path}: no gzip unless asked for");
        assert_eq!(r.body, a.bytes, "{path}");
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
        let etag = r.header("etag").expect("an ETag").to_string();
        assert_eq!(etag, a.etag());
        let again = get(addr, &path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty(), "{path}");
        let stale = get(addr, &path, &[("if-none-match", "\"0000000000000000\"")]).await;
        assert_eq!(stale.status, 200, "{path}: another version is sent again");
    }
    // Under the master's own prefix too, as every master route is.
    assert_eq!(get(addr, "/master/static/app.js", &[]).await.status, 200);
    assert_eq!(get(addr, "/static/nothing.js", &[]).await.status, 404);
}

#[actix_rt::test]
async fn text_assets_are_gzipped_when_asked_for() {
    let (_node, addr) = master().await;
    for (path, a) in all() {
        let r = get(addr, &path, &[("accept-encoding", "deflate, gzip;q=0.8, br")]).await;
        assert_eq!(r.status, 200);
        if a.bytes.len() < 1024 {
            continue; // too small for gzip to pay (the icon)
        }
        assert_eq!(r.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(r.header("vary"), Some("Accept-Encoding"), "{path}");
        assert!(r.body.len() * 2 < a.bytes.len(), "{path}: {} gzipped of {}", r.body.len(), a.bytes.len());
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&r.body[..]).read_to_end(&mut inflated).unwrap();
        assert_eq!(inflated, a.bytes, "{path}");
        let refused = get(addr, &path, &[("accept-encoding", "gzip;q=0, identity")]).await;
        assert_eq!(refused.header("content-encoding"), None, "{path}: q=0 refuses gzip");
    }
}

#[test]
fn the_ui_is_small_and_self_contained() {
    let total: usize = all().iter().map(|(_, a)| a.bytes.len()).sum();
    println!("web UI: {total} bytes in {} files", all().len());
    assert!(total < BUDGET, "the web UI is {total} bytes, over its {BUDGET} budget");
    for (path, a) in all() {
        let text = std::str::from_utf8(a.bytes).unwrap();
        // The only absolute URLs: the SVG namespace, and addresses the page
        // builds from the cluster's own pids ('http://' + addr).
        let rest = text.replace("xmlns=\"http://www.w3.org/2000/svg\"", "").replace("'http://' +", "");
        for bad in ["http://", "https://", "//cdn", "@import", "url("] {
            assert!(!rest.contains(bad), "{path} refers to something outside the master: {bad}");
        }
    }
    let index = std::str::from_utf8(INDEX.bytes).unwrap();
    for a in &ASSETS {
        assert!(index.contains(&format!("\"/static/{}\"", a.name)), "index.html does not load {}", a.name);
    }
}
