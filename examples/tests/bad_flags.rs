//! The example binaries refuse bad flags with one clear error line (the
//! first line of stderr) and exit code 2, before touching the network.

use std::process::Command;

fn run(bin: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(bin).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or("").to_string())
}

#[test]
fn bad_flags_exit_2_with_one_clear_line() {
    let execute = env!("CARGO_BIN_EXE_rmesos-execute");
    let redispatch = env!("CARGO_BIN_EXE_redispatch");
    let ok = ["--name", "n", "--command", "true"];
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (execute, [&["--master", "127.0.0.1"][..], &ok].concat(), "has no port"),
        (execute, [&["--master", "zk://zk1:2181/"][..], &ok].concat(), "ZooKeeper path"),
        (execute, [&["--master", "/no/such/master/file"][..], &ok].concat(), "cannot read master file"),
        (execute, [&["--master", "127.0.0.1:5050", "--resources", "cpus:x"][..], &ok].concat(), "--resources"),
        (execute, [&["--master", "127.0.0.1:5050", "--count", "0"][..], &ok].concat(), "--count"),
        (execute, vec!["--master", "127.0.0.1:5050", "--name", "a b", "--command", "true"], "whitespace"),
        (redispatch, vec!["--master", "h:99999", "--tasks", "t", "--state_dir", "d"], "is not a port"),
        (redispatch, vec!["--master", "h:1", "--tasks", "t", "--state_dir", "d", "--resources", "mem:-1"], "negative"),
        (redispatch, vec!["--master", "h:1", "--tasks", "/no/such/tasks", "--state_dir", "d"], "cannot read --tasks"),
    ];
    for (bin, args, expected) in cases {
        let (code, line) = run(bin, &args);
        assert_eq!(code, Some(2), "{args:?}: {line}");
        assert!(line.contains(expected), "{args:?}: '{line}' lacks '{expected}'");
    }
}

#[test]
fn an_empty_task_list_is_refused() {
    let path = std::env::temp_dir().join(format!("redispatch-empty-{}", std::process::id()));
    std::fs::write(&path, "# nothing\n\n").unwrap();
    let (code, line) = run(
        env!("CARGO_BIN_EXE_redispatch"),
        &["--master", "127.0.0.1:5050", "--tasks", path.to_str().unwrap(), "--state_dir", "/tmp/unused"],
    );
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, Some(2));
    assert!(line.contains("no commands"), "{line}");
}
