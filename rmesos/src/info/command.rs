//! What to run: `CommandInfo` (a shell command or an executable with
//! arguments, its environment and URIs to fetch) and `ExecutorInfo` (a
//! framework's own executor: a command plus the resources it uses itself).
//!
//! As in Mesos, `shell` defaults to true: `value` is run with `sh -c`;
//! with `shell = false`, `value` is the executable and `arguments` its argv
//! (`argv[0]` included).

use serde::{Deserialize, Serialize};

use crate::ids::{ExecutorID, FrameworkID};
use crate::resources::Resources;

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One environment variable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    pub name: String,
    pub value: String,
}

/// The environment a command runs with, added to the slave's (Mesos's
/// `Environment`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    #[serde(default)]
    pub variables: Vec<Variable>,
}

/// A URI the slave fetches into the sandbox before running the command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandUri {
    pub value: String,
    /// Make the fetched file executable.
    #[serde(default, skip_serializing_if = "is_false")]
    pub executable: bool,
    /// Extract archives (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub extract: bool,
    /// Keep the download in the slave's fetcher cache (`--fetcher_cache_dir`)
    /// and reuse it for later tasks.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cache: bool,
    /// The name in the sandbox (a relative path), instead of the URI's basename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_file: Option<String>,
}

impl CommandUri {
    /// `value` with Mesos's defaults: extracted, not executable, not cached.
    pub fn new(value: impl Into<String>) -> CommandUri {
        CommandUri { value: value.into(), executable: false, extract: true, cache: false, output_file: None }
    }
}

/// A command to run (Mesos's `CommandInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandInfo {
    /// The shell command (`shell`) or the executable path (not `shell`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Run `value` with `sh -c` (default true).
    #[serde(default = "yes")]
    pub shell: bool,
    /// argv when not `shell` (`argv[0]` included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    #[serde(default)]
    pub environment: Environment,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uris: Vec<CommandUri>,
    /// Run as this user instead of the framework's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// Why a command cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandInfoError {
    #[error("command has no value (a shell command or an executable path)")]
    MissingValue,
    #[error("environment variable name '{0}' is empty or contains '=' or NUL")]
    BadVariableName(String),
    #[error("command or environment contains a NUL byte")]
    Nul,
}

impl CommandInfo {
    /// `sh -c <command>`.
    pub fn shell(command: impl Into<String>) -> CommandInfo {
        CommandInfo {
            value: Some(command.into()),
            shell: true,
            arguments: Vec::new(),
            environment: Environment::default(),
            uris: Vec::new(),
            user: None,
        }
    }

    /// `executable` run directly with `arguments` as argv.
    pub fn exec(executable: impl Into<String>, arguments: Vec<String>) -> CommandInfo {
        CommandInfo { shell: false, arguments, ..CommandInfo::shell(executable) }
    }

    /// Adds an environment variable.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> CommandInfo {
        self.environment.variables.push(Variable { name: name.into(), value: value.into() });
        self
    }

    /// Checks what a slave or executor needs to run the command.
    pub fn validate(&self) -> Result<(), CommandInfoError> {
        let value = self.value.as_deref().filter(|v| !v.trim().is_empty()).ok_or(CommandInfoError::MissingValue)?;
        let nul = |s: &str| s.contains('\0');
        if nul(value) || self.arguments.iter().any(|a| nul(a)) {
            return Err(CommandInfoError::Nul);
        }
        for v in &self.environment.variables {
            if v.name.is_empty() || v.name.contains('=') || nul(&v.name) {
                return Err(CommandInfoError::BadVariableName(v.name.clone()));
            }
            if nul(&v.value) {
                return Err(CommandInfoError::Nul);
            }
        }
        Ok(())
    }
}

/// A framework's own executor (Mesos's `ExecutorInfo`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutorInfo {
    pub executor_id: ExecutorID,
    /// Filled in by the master from the launching framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkID>,
    pub command: CommandInfo,
    /// What the executor itself uses, on top of its tasks.
    #[serde(default)]
    pub resources: Resources,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Opaque bytes handed to the executor at registration.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "serde_bytes")]
    pub data: Option<Vec<u8>>,
}

impl ExecutorInfo {
    pub fn new(executor_id: ExecutorID, command: CommandInfo) -> ExecutorInfo {
        ExecutorInfo {
            executor_id,
            framework_id: None,
            command,
            resources: Resources::new(),
            name: None,
            source: None,
            data: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_default_and_json() {
        let c: CommandInfo = serde_json::from_str(r#"{"value":"echo hi"}"#).unwrap();
        assert_eq!(c, CommandInfo::shell("echo hi"));
        assert!(c.shell);
        let c = CommandInfo::exec("/bin/echo", vec!["echo".into(), "hi".into()]).with_env("A", "1");
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(
            j,
            r#"{"value":"/bin/echo","shell":false,"arguments":["echo","hi"],"environment":{"variables":[{"name":"A","value":"1"}]}}"#
        );
        assert_eq!(serde_json::from_str::<CommandInfo>(&j).unwrap(), c);
        let u: CommandUri = serde_json::from_str(r#"{"value":"http://x/a.tgz"}"#).unwrap();
        assert!(u.extract && !u.executable && !u.cache);
    }

    #[test]
    fn validation() {
        CommandInfo::shell("true").validate().unwrap();
        assert_eq!(CommandInfo::shell("  ").validate(), Err(CommandInfoError::MissingValue));
        let mut none = CommandInfo::shell("x");
        none.value = None;
        assert_eq!(none.validate(), Err(CommandInfoError::MissingValue));
        assert_eq!(CommandInfo::shell("a\0b").validate(), Err(CommandInfoError::Nul));
        assert!(matches!(
            CommandInfo::shell("x").with_env("A=B", "1").validate(),
            Err(CommandInfoError::BadVariableName(_))
        ));
        assert!(matches!(
            CommandInfo::shell("x").with_env("", "1").validate(),
            Err(CommandInfoError::BadVariableName(_))
        ));
        assert_eq!(CommandInfo::shell("x").with_env("A", "\0").validate(), Err(CommandInfoError::Nul));
    }
}
