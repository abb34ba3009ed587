//! `--isolation`: the isolators a container gets, by Mesos's names
//! (comma-separated; default `posix/cpu,posix/mem`, as Mesos):
//!
//! | name | what it does |
//! |---|---|
//! | `posix/cpu`, `posix/mem` | no enforcement; usage from `/proc` |
//! | `cgroups/cpu` | `cpu.shares` (v2 `cpu.weight`) = 1024 x cpus; a CFS quota with `--cgroups_enable_cfs` |
//! | `cgroups/mem` | a hard memory limit; an OOM kill fails the container (`REASON_CONTAINER_LIMITATION_MEMORY`) |
//! | `cgroups/pids` | at most `--cgroups_max_pids` processes (a fork bomb stays inside) |
//! | `filesystem/posix` | sandboxes are plain directories (what every container gets; accepted as Mesos accepts it) |
//!
//! An unknown name is refused at flag parsing, with Mesos's wording.

use crate::cgroups::Controller;

/// Every name `--isolation` accepts.
pub const KNOWN: [&str; 6] =
    ["posix/cpu", "posix/mem", "cgroups/cpu", "cgroups/mem", "cgroups/pids", "filesystem/posix"];

/// Mesos's default `--isolation`.
pub const DEFAULT: &str = "posix/cpu,posix/mem";

/// The isolators chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Isolation {
    pub cgroups_cpu: bool,
    pub cgroups_mem: bool,
    pub cgroups_pids: bool,
    /// The names as given (for the start line).
    pub names: Vec<String>,
}

impl Isolation {
    /// Whether any isolator needs cgroups (then the launcher is `linux`).
    pub fn needs_cgroups(&self) -> bool {
        self.cgroups_cpu || self.cgroups_mem || self.cgroups_pids
    }

    /// The controllers the isolators use.
    pub fn controllers(&self) -> Vec<Controller> {
        let mut c = Vec::new();
        if self.cgroups_cpu {
            c.extend([Controller::Cpu, Controller::Cpuacct]);
        }
        if self.cgroups_mem {
            c.push(Controller::Memory);
        }
        if self.cgroups_pids {
            c.push(Controller::Pids);
        }
        c
    }
}

impl std::fmt::Display for Isolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.names.join(","))
    }
}

/// Parses `--isolation`.
pub fn parse(s: &str) -> Result<Isolation, String> {
    let mut iso = Isolation::default();
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "posix/cpu" | "posix/mem" | "filesystem/posix" => {}
            "cgroups/cpu" => iso.cgroups_cpu = true,
            "cgroups/mem" => iso.cgroups_mem = true,
            "cgroups/pids" => iso.cgroups_pids = true,
            other => {
                return Err(format!("Unknown or unsupported isolator '{other}' (known: {})", KNOWN.join(", ")));
            }
        }
        if !iso.names.iter().any(|n| n == name) {
            iso.names.push(name.to_string());
        }
    }
    if iso.names.is_empty() {
        return Err("--isolation names no isolator".into());
    }
    Ok(iso)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_mesos() {
        let d = parse(DEFAULT).unwrap();
        assert!(!d.needs_cgroups());
        assert_eq!(d.to_string(), DEFAULT);
        let c = parse("cgroups/cpu, cgroups/mem,cgroups/pids,cgroups/mem").unwrap();
        assert!(c.cgroups_cpu && c.cgroups_mem && c.cgroups_pids);
        assert_eq!(c.names.len(), 3);
        assert_eq!(c.controllers(), vec![Controller::Cpu, Controller::Cpuacct, Controller::Memory, Controller::Pids]);
        let e = parse("cgroups/cpu,docker/runtime").unwrap_err();
        assert!(e.starts_with("Unknown or unsupported isolator 'docker/runtime'"), "{e}");
        assert!(parse(" , ").is_err());
    }
}
