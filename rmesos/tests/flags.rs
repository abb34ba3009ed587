//! The flag types as the binaries will use them with clap: values parse through
//! `FromStr` / `parse_duration`, and a bad value is one clear error line with
//! exit code 2 (clap's usage-error code), as the issue requires.

use std::time::Duration;

use clap::Parser;
use rmesos::{parse_duration, Attributes, MasterSpec, Resources};

#[derive(Parser, Debug)]
#[command(name = "rmesos-test", rename_all = "snake_case")] // Mesos flag names: --agent_ping_timeout
struct Flags {
    #[arg(long)]
    master: MasterSpec,
    #[arg(long, default_value = "cpus:1;mem:256")]
    resources: Resources,
    #[arg(long, default_value = "")]
    attributes: Attributes,
    #[arg(long, default_value = "15secs", value_parser = parse_duration)]
    agent_ping_timeout: Duration,
}

fn parse(args: &[&str]) -> Result<Flags, clap::Error> {
    Flags::try_parse_from(std::iter::once("rmesos-test").chain(args.iter().copied()))
}

#[test]
fn good_flags_parse_with_mesos_defaults() {
    let f = parse(&["--master", "127.0.0.1:5050"]).unwrap();
    assert_eq!(f.master, MasterSpec::Standalone { host: "127.0.0.1".into(), port: 5050 });
    assert_eq!(f.resources.cpus(), 1.0);
    assert!(f.attributes.is_empty());
    assert_eq!(f.agent_ping_timeout, Duration::from_secs(15));
    let f = parse(&[
        "--master=zk://a:2181,b:2181/mesos",
        "--resources=cpus:4;mem:2048;ports:[31000-32000]",
        "--attributes=rack:r1;level:5",
        "--agent_ping_timeout=500ms",
    ])
    .unwrap();
    assert_eq!(f.master, MasterSpec::ZooKeeper("zk://a:2181,b:2181/mesos".into()));
    assert_eq!(f.resources.ports().count(), 1001);
    assert_eq!(f.attributes.text("rack"), Some("r1"));
    assert_eq!(f.agent_ping_timeout, Duration::from_millis(500));
}

#[test]
fn bad_flags_are_one_clear_line_and_exit_code_2() {
    let cases = [
        (vec!["--master", "127.0.0.1"], "has no port"),
        (vec!["--master", "zk://a:2181/"], "ZooKeeper path"),
        (vec!["--master", "x:1", "--resources", "cpus:-1"], "is negative"),
        (vec!["--master", "x:1", "--resources", "ports:[1-10,5-6]"], "overlap"),
        (vec!["--master", "x:1", "--attributes", "rack"], "is not name:value"),
        (vec!["--master", "x:1", "--agent_ping_timeout", "15"], "has no unit"),
    ];
    for (args, expected) in cases {
        let e = parse(&args).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{args:?}");
        let text = e.to_string();
        assert!(text.lines().next().unwrap().contains(expected), "{args:?}: {text}");
    }
}
