//! CRAM-MD5 (RFC 2195), Mesos's authentication mechanism: the server sends
//! a fresh challenge, the client answers `principal SP hex(HMAC-MD5(secret,
//! challenge))`, the server recomputes and compares in constant time. The
//! secret never travels; a response is worth nothing for another challenge,
//! and every attempt gets a new one (see `authenticator`).

use hmac::{Hmac, Mac};
use md5::Md5;

/// The mechanism's name, as offered and started.
pub const MECHANISM: &str = "CRAM-MD5";

/// Longest response accepted (a principal plus 33 bytes): anything longer is
/// refused before any work.
pub const MAX_RESPONSE: usize = 1024;

/// A challenge from 16 random bytes and a serial (RFC 2195's
/// `<random.serial@host>` shape).
pub fn challenge(random: [u8; 16], serial: u64) -> String {
    format!("<{}.{serial}@rmesos>", hex(&random))
}

/// The client's response to `challenge`.
pub fn respond(principal: &str, secret: &str, challenge: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(challenge);
    format!("{principal} {}", hex(&mac.finalize().into_bytes())).into_bytes()
}

/// The principal a response names, if it is well formed (`principal SP
/// 32 hex digits`).
pub fn principal_of(response: &[u8]) -> Option<&str> {
    if response.len() > MAX_RESPONSE {
        return None;
    }
    let text = std::str::from_utf8(response).ok()?;
    let (principal, digest) = text.rsplit_once(' ')?;
    (!principal.is_empty() && digest.len() == 32 && digest.bytes().all(|b| b.is_ascii_hexdigit())).then_some(principal)
}

/// Whether `response` proves knowledge of `secret` for `challenge`
/// (constant time in the digest).
pub fn verify(secret: &str, challenge: &[u8], response: &[u8]) -> bool {
    let Some(principal) = principal_of(response) else { return false };
    let digest = &response[principal.len() + 1..];
    let Some(digest) = unhex(digest) else { return false };
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(challenge);
    mac.verify_slice(&digest).is_ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &[u8]) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    text.chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(*p.get(1)?)?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2195_example() {
        // RFC 2195, section 2: user "tim", secret "tanstaaftanstaaf".
        let c = b"<1896.697170952@postoffice.reston.mci.net>";
        let r = respond("tim", "tanstaaftanstaaf", c);
        assert_eq!(r, b"tim b913a602c7eda7a495b4e6e7334d3890");
        assert!(verify("tanstaaftanstaaf", c, &r));
        assert_eq!(principal_of(&r), Some("tim"));
    }

    #[test]
    fn wrong_secret_other_challenge_and_garbage_fail() {
        let c = challenge([7; 16], 1);
        let r = respond("p", "s", c.as_bytes());
        assert!(verify("s", c.as_bytes(), &r));
        assert!(!verify("t", c.as_bytes(), &r));
        assert!(!verify("s", challenge([7; 16], 2).as_bytes(), &r), "a response does not replay");
        for bad in
            [&b""[..], b"p", b"p zz", b" 0123456789abcdef0123456789abcdef", b"p 0123456789abcdef0123456789abcde\xff"]
        {
            assert!(!verify("s", c.as_bytes(), bad), "{bad:?}");
        }
        assert_eq!(principal_of(&vec![b'a'; MAX_RESPONSE + 1]), None);
        assert_ne!(challenge([1; 16], 1), challenge([2; 16], 1));
    }
}
