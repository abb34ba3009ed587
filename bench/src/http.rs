//! The v1 scheduler API at scale: `frameworks` HTTP frameworks SUBSCRIBE to
//! one real master (its route, streams and subscriber processes), each
//! keeping its stream open, in a child process of the bench started for that
//! alone (as `rss.rs` does), so that the `VmRSS` delta is what the
//! subscriptions cost. The calls go in-process (`Node::http`): the figure is
//! the master's memory, without the kernel's socket buffers.

use libprocess::http::StreamBody;
use libprocess::{Config, Node, Request};

use crate::rss::rss_kib;
use crate::{elapsed_ms, now};

/// Argument that makes the bench an HTTP child: `http-child FRAMEWORKS`.
pub const CHILD_ARG: &str = "http-child";

/// In the child: subscribes `args[0]` frameworks, reads each SUBSCRIBED,
/// prints `<MiB> <ms>` (RSS delta, time for all subscriptions).
pub fn child(args: &[String]) {
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let system = actix_rt::System::new();
    system.block_on(async move {
        let node = Node::bind(Config::loopback(0)).await.expect("a node");
        let opts = rmesos_master::MasterOptions { master_id: Some("bench".into()), ..Default::default() };
        let _master = rmesos_master::spawn(&node, opts).expect("a master");
        let before = rss_kib();
        let t = now();
        let mut streams: Vec<StreamBody> = Vec::with_capacity(n);
        for i in 0..n {
            let body =
                format!(r#"{{"type":"SUBSCRIBE","subscribe":{{"framework_info":{{"user":"bench","name":"f{i}"}}}}}}"#);
            let headers = vec![("content-type".to_string(), "application/json".to_string())];
            let req = Request { method: "POST".into(), headers, body: body.into(), ..Request::default() };
            let mut resp = node.http("/api/v1/scheduler", req).await;
            assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
            let mut stream = resp.stream.take().expect("a stream");
            stream.next().await.expect("SUBSCRIBED");
            streams.push(stream);
        }
        let ms = elapsed_ms(t);
        let mib = rss_kib().saturating_sub(before) as f64 / 1024.0;
        println!("{mib:.1} {ms:.1}");
        node.shutdown();
    });
}

/// Runs an HTTP child: (RSS MiB, subscribe ms) for `frameworks`, or None.
pub fn subscriptions_in_child(frameworks: usize) -> Option<(f64, f64)> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe).args([CHILD_ARG, &frameworks.to_string()]).output().ok()?;
    if !out.status.success() {
        eprintln!("rmesos-bench: http child failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(|x| x.parse::<f64>().ok());
    Some((it.next()??, it.next()??))
}
