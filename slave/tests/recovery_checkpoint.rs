//! `rmesos-slave` facing a checkpoint it cannot read: with `--strict=true`
//! (the default) it refuses to start with one clear line naming the file
//! (exit code 1); nothing is lost silently.

use std::process::{Command, Stdio};

#[test]
fn a_corrupt_checkpoint_stops_a_strict_slave_with_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("rmesos-corrupt-ckpt-{}", uuid::Uuid::new_v4()));
    let meta = dir.join("meta").join("slaves");
    std::fs::create_dir_all(meta.join("m-S0")).unwrap();
    std::fs::write(meta.join("latest"), "m-S0").unwrap();
    std::fs::write(meta.join("m-S0").join("slave.info"), "{ half a json").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rmesos-slave"))
        .args(["--master", "127.0.0.1:1", "--ip", "127.0.0.1", "--port", "0"])
        .arg("--work_dir")
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = stderr.lines().find(|l| l.starts_with("rmesos-slave: ")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("slave.info") && line.contains("--strict=false"), "{line}");
}
