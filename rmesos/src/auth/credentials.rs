//! Credentials: a principal and its secret, as Mesos reads them.
//!
//! - The master's `--credentials`: a file, `/path` or `file:///path`, in
//!   Mesos's JSON `{"credentials": [{"principal": "p", "secret": "s"}]}` or
//!   its text form, one `principal secret` per line.
//! - A slave's `--credential` (and a framework's): one credential, JSON
//!   `{"principal": "p", "secret": "s"}` or text `principal secret`.
//!
//! A secret is never printed: `Debug` masks it (as the ZooKeeper password
//! is masked), and a file others can read gets a warning. Comparisons of
//! secrets happen in `cram_md5`, in constant time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A principal and its secret.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Credential {
    pub principal: String,
    #[serde(default)]
    pub secret: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential").field("principal", &self.principal).field("secret", &"******").finish()
    }
}

impl Credential {
    pub fn new(principal: &str, secret: &str) -> Credential {
        Credential { principal: principal.to_string(), secret: secret.to_string() }
    }
}

/// The master's credentials: principal -> secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    by_principal: BTreeMap<String, String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("principals", &self.by_principal.keys().collect::<Vec<_>>()).finish()
    }
}

/// Why credentials could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{0}: {1}")]
    Parse(PathBuf, String),
}

impl Credentials {
    pub fn new(list: impl IntoIterator<Item = Credential>) -> Credentials {
        Credentials { by_principal: list.into_iter().map(|c| (c.principal, c.secret)).collect() }
    }

    /// The secret of `principal`.
    pub fn secret(&self, principal: &str) -> Option<&str> {
        self.by_principal.get(principal).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.by_principal.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_principal.is_empty()
    }

    /// Parses Mesos's JSON or text form.
    pub fn parse(text: &str) -> Result<Credentials, String> {
        if text.trim_start().starts_with('{') {
            #[derive(Deserialize)]
            struct File {
                credentials: Vec<Credential>,
            }
            let file: File = serde_json::from_str(text).map_err(|e| format!("not Mesos's credentials JSON: {e}"))?;
            check(&file.credentials)?;
            return Ok(Credentials::new(file.credentials));
        }
        let list = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|(n, l)| text_line(l).map_err(|e| format!("line {}: {e}", n + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        check(&list)?;
        Ok(Credentials::new(list))
    }

    /// Reads `--credentials` (`/path` or `file:///path`).
    pub fn load(path: &str) -> Result<Credentials, CredentialsError> {
        let (path, text) = read(path)?;
        Credentials::parse(&text).map_err(|e| CredentialsError::Parse(path, e))
    }
}

impl Credential {
    /// Parses one credential, JSON or `principal secret`.
    pub fn parse(text: &str) -> Result<Credential, String> {
        let c = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| format!("not a Mesos credential JSON: {e}"))?
        } else {
            let mut lines = text.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
            let first = lines.next().ok_or("empty: expected `principal secret`")?;
            if lines.next().is_some() {
                return Err("more than one credential: expected one `principal secret` line".into());
            }
            text_line(first)?
        };
        check(std::slice::from_ref(&c))?;
        Ok(c)
    }

    /// Reads `--credential` (`/path` or `file:///path`).
    pub fn load(path: &str) -> Result<Credential, CredentialsError> {
        let (path, text) = read(path)?;
        Credential::parse(&text).map_err(|e| CredentialsError::Parse(path, e))
    }
}

fn text_line(line: &str) -> Result<Credential, String> {
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(p), Some(s), None) => Ok(Credential::new(p, s)),
        _ => Err("expected `principal secret` (two words)".into()),
    }
}

fn check(list: &[Credential]) -> Result<(), String> {
    for c in list {
        if c.principal.trim().is_empty() {
            return Err("a credential has an empty principal".into());
        }
    }
    Ok(())
}

/// Reads a credentials file, warning if others may read it.
fn read(path: &str) -> Result<(PathBuf, String), CredentialsError> {
    let path = PathBuf::from(path.strip_prefix("file://").unwrap_or(path));
    let text = std::fs::read_to_string(&path).map_err(|e| CredentialsError::Read(path.clone(), e))?;
    warn_if_readable_by_others(&path);
    Ok((path, text))
}

/// A secret others can read is one leak away: say so (the process still
/// starts, as Mesos's does).
pub fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the credentials file is readable by its group or others; chmod 600 it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_text_forms_as_mesos_writes_them() {
        let json =
            r#"{"credentials": [{"principal": "sherman", "secret": "kitesurf"}, {"principal": "ben", "secret": "x"}]}"#;
        let c = Credentials::parse(json).unwrap();
        assert_eq!(
            (c.len(), c.secret("sherman"), c.secret("ben"), c.secret("nobody")),
            (2, Some("kitesurf"), Some("x"), None)
        );
        let text = "# operators\nsherman kitesurf\n\nben x\n";
        assert_eq!(Credentials::parse(text).unwrap(), c);
        assert_eq!(Credential::parse(r#"{"principal":"p","secret":"s"}"#).unwrap(), Credential::new("p", "s"));
        assert_eq!(Credential::parse("p s\n").unwrap(), Credential::new("p", "s"));
    }

    #[test]
    fn bad_files_are_clear_errors_and_secrets_never_print() {
        assert!(Credentials::parse("a b c").unwrap_err().starts_with("line 1: expected"));
        assert!(Credentials::parse("{\"credentials\": 3}").unwrap_err().starts_with("not Mesos's credentials JSON"));
        assert!(Credential::parse("a b\nc d").unwrap_err().starts_with("more than one"));
        assert!(Credential::parse("").is_err());
        assert!(Credential::parse(r#"{"principal":" ","secret":"s"}"#).unwrap_err().contains("empty principal"));
        let shown =
            format!("{:?} {:?}", Credential::new("p", "hunter2"), Credentials::new([Credential::new("p", "hunter2")]));
        assert!(!shown.contains("hunter2"), "{shown}");
        let e = Credentials::load("file:///nonexistent/creds").unwrap_err();
        assert!(e.to_string().starts_with("cannot read /nonexistent/creds"), "{e}");
    }
}
