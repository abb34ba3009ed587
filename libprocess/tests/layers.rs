//! The runtime's modules stand in layers, and every `crate::` import points
//! to a lower layer: no import loops, the transports below the node, the
//! node below the processes, the test kit on top (the runtime never imports
//! it). docs/libprocess.md ("Layers") explains the order; this test holds
//! the code to it, so a new import that runs back up fails here with the
//! file and the module it names.
//!
//! It reads the source as text: every `crate::<module>` outside comments
//! counts (a `use`, a path in code, a macro), `$crate::` in a macro does not.
//! A folder (`node/`, `transport/`) is one module; imports inside it are its
//! own business. Below the top layer a module names what it takes by its
//! module (`crate::pid::Upid`, not the root re-export `crate::Upid`), so
//! that the check sees it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bottom first (layer 1). A module may import modules of lower layers only.
const LAYERS: &[&[&str]] = &[
    // values and tools, importing nothing of the crate
    &["limits", "fasthash", "metrics", "message", "clock", "config", "sync"],
    // addresses, frames, a process's queue, HTTP types and serving, TLS setup
    &["pid", "wire", "queue", "http", "tls"],
    // a read's batch of frames, the delivery hook, the transports
    &["batch", "hook", "transport"],
    // what the node holds for each process
    &["mailbox"],
    // routing, registry, links; what transports report to
    &["node"],
    // typed actors, spawn, Me
    &["process"],
    // how a shell wires a pure core: outgoing messages, handlers
    &["wiring"],
    // built on processes: leader election, and the test kit
    &["zookeeper", "testkit"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules (first path segments) a line names after `crate::`, and the
/// root items (`crate::Upid`, `crate::{Node, ..}`) it names.
fn named(line: &str) -> (Vec<String>, Vec<String>) {
    let (mut modules, mut roots) = (Vec::new(), Vec::new());
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let macro_crate = rest[..i].ends_with('$');
        let after = &rest[i + "crate::".len()..];
        rest = after;
        if macro_crate {
            continue;
        }
        let items: Vec<&str> = match after.strip_prefix('{') {
            Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
            None => vec![after],
        };
        for item in items {
            let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            match name.chars().next() {
                Some(c) if c.is_lowercase() => modules.push(name),
                Some(_) => roots.push(name),
                None => {}
            }
        }
    }
    (modules, roots)
}

#[test]
fn every_import_points_to_a_lower_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let top = LAYERS.len() - 1;
    let mut wrong = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        if first == "lib.rs" || first == "bin" {
            continue; // the crate's face and its binaries stand above everything
        }
        let module = first.trim_end_matches(".rs").to_string();
        let Some(layer) = layer_of(&module) else {
            wrong.push(format!("{}: module `{module}` has no layer in LAYERS", rel.display()));
            continue;
        };
        *seen.entry(module.clone()).or_default() += 1;
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            let (modules, roots) = named(line);
            for m in modules.iter().filter(|m| **m != module) {
                match layer_of(m) {
                    Some(l) if l < layer => {}
                    Some(l) => wrong.push(format!(
                        "{}:{}: `{module}` (layer {}) imports `{m}` (layer {})",
                        rel.display(),
                        n + 1,
                        layer + 1,
                        l + 1
                    )),
                    None => wrong.push(format!("{}:{}: `{m}` has no layer in LAYERS", rel.display(), n + 1)),
                }
            }
            if layer < top {
                for r in roots {
                    wrong.push(format!(
                        "{}:{}: `{module}` takes the root re-export `crate::{r}`; name its module",
                        rel.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "imports that run back up (or cannot be placed):\n{}", wrong.join("\n"));
    // The table names real modules only (a stale entry would hide nothing,
    // but would mislead a reader).
    for module in LAYERS.iter().flat_map(|l| l.iter()) {
        assert!(seen.contains_key(*module), "LAYERS names `{module}`, which has no source file");
    }
}

#[test]
fn the_reader_sees_paths_groups_and_macros() {
    assert_eq!(named("use crate::node::{Node, WeakNode};"), (vec!["node".into()], vec![]));
    assert_eq!(named("use crate::{SpawnError, clock::Clock};"), (vec!["clock".into()], vec!["SpawnError".into()]));
    assert_eq!(named("impl $crate::Message for $t {"), (vec![], vec![]));
    assert_eq!(named("let x = crate::wire::MAGIC[0] == crate::http::X;"), (vec!["wire".into(), "http".into()], vec![]));
}
