//! HTTP Basic authentication of the operator endpoints, as Mesos's
//! `basic` HTTP authenticator: `--authenticate_http_readonly` and
//! `--authenticate_http_readwrite` (and on the master
//! `--authenticate_http_frameworks`) protect their endpoints with the
//! principals and secrets of `--http_credentials` (the same files as
//! `--credentials`). A request without valid credentials gets `401` with
//! `WWW-Authenticate: Basic realm="<realm>"`, Mesos's realms named below.
//!
//! A pure check ([`HttpAuth::check`]): a request's headers in, the
//! principal or the 401 out. Secrets are compared in constant time.

use base64::Engine;
use libprocess::{Request, Response};

use super::credentials::Credentials;

/// Mesos's realms.
pub const MASTER_READONLY: &str = "mesos-master-readonly";
pub const MASTER_READWRITE: &str = "mesos-master-readwrite";
pub const MASTER_SCHEDULER: &str = "mesos-master-scheduler";
pub const AGENT_READONLY: &str = "mesos-agent-readonly";
pub const AGENT_READWRITE: &str = "mesos-agent-readwrite";

/// Longest `Authorization` header looked at.
pub const MAX_AUTHORIZATION: usize = 4096;

/// Which endpoints of a component need authentication, and the
/// credentials that pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpAuth {
    pub readonly: bool,
    pub readwrite: bool,
    pub frameworks: bool,
    pub credentials: Credentials,
}

/// What an endpoint is, for authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads state (`/state`, `/metrics/snapshot`, `/files/read`).
    ReadOnly,
    /// Changes state.
    ReadWrite,
    /// The v1 scheduler API.
    Scheduler,
}

impl HttpAuth {
    /// The principal of `req` for an endpoint of `kind` in `realm`:
    /// `Ok(None)` when that kind is not protected, `Ok(Some(principal))`
    /// when the credentials pass, else the 401 to answer.
    pub fn check(&self, kind: Kind, realm: &str, req: &Request) -> Result<Option<String>, Response> {
        let on = match kind {
            Kind::ReadOnly => self.readonly,
            Kind::ReadWrite => self.readwrite,
            Kind::Scheduler => self.frameworks,
        };
        if !on {
            return Ok(None);
        }
        let unauthorized = |why: &str| {
            tracing::warn!(remote = ?req.remote, route = %req.route, "HTTP request refused: {why}");
            Response::text(401, format!("401 Unauthorized: {why}\n"))
                .with_header("WWW-Authenticate", &format!("Basic realm=\"{realm}\""))
        };
        let Some(header) = req.header("authorization") else { return Err(unauthorized("no credentials")) };
        match basic(header) {
            Some((principal, secret)) => match self.credentials.secret(&principal) {
                Some(known) if ct_eq(known.as_bytes(), secret.as_bytes()) => Ok(Some(principal)),
                _ => Err(unauthorized(&format!("wrong credentials for '{}'", principal.escape_debug()))),
            },
            None => Err(unauthorized("malformed Authorization header (expected Basic)")),
        }
    }
}

/// `Basic base64(principal:secret)`.
fn basic(header: &str) -> Option<(String, String)> {
    if header.len() > MAX_AUTHORIZATION {
        return None;
    }
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(value.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (p, s) = text.split_once(':')?;
    Some((p.to_string(), s.to_string()))
}

/// Equality whose time depends on the lengths only.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= (*a.get(i).unwrap_or(&0) ^ *b.get(i).unwrap_or(&0)) as usize;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Credential;

    fn req(auth: Option<&str>) -> Request {
        let mut r = Request { route: "state".into(), ..Request::default() };
        if let Some(a) = auth {
            r.headers.push(("authorization".into(), a.into()));
        }
        r
    }

    fn header(p: &str, s: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{p}:{s}")))
    }

    #[test]
    fn protected_kinds_need_credentials_and_get_401_with_the_realm() {
        let auth = HttpAuth {
            readonly: true,
            credentials: Credentials::new([Credential::new("ops", "pw:with:colons")]),
            ..HttpAuth::default()
        };
        assert!(matches!(auth.check(Kind::ReadWrite, MASTER_READWRITE, &req(None)), Ok(None)), "not protected");
        let ok = auth.check(Kind::ReadOnly, MASTER_READONLY, &req(Some(&header("ops", "pw:with:colons"))));
        assert!(matches!(ok.as_ref().map(|p| p.as_deref()), Ok(Some("ops"))));
        for bad in [
            None,
            Some(header("ops", "nope")),
            Some(header("nobody", "x")),
            Some("Bearer abc".into()),
            Some("Basic !!!".into()),
        ] {
            let r = auth.check(Kind::ReadOnly, MASTER_READONLY, &req(bad.as_deref())).unwrap_err();
            assert_eq!(r.status, 401);
            assert!(
                r.headers.contains(&("www-authenticate".into(), "Basic realm=\"mesos-master-readonly\"".into())),
                "{r:?}"
            );
            assert!(!String::from_utf8_lossy(&r.body).contains("pw"), "no secret in the answer");
        }
        assert!(ct_eq(b"abc", b"abc") && !ct_eq(b"abc", b"abd") && !ct_eq(b"abc", b"abcd") && ct_eq(b"", b""));
    }
}
