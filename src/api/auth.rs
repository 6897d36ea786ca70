//! Token authentication with two scopes.
//!
//! `api.tokens` are write tokens (everything: scans, alert actions, reads), as they always
//! were; `api.read_tokens` may only read (the dashboard and the `GET` routes). A token comes
//! as `Authorization: Bearer <token>`, or as the password of HTTP Basic authentication (any
//! user name) so that a browser can open the dashboard: the browser asks once and then sends
//! it with the page's own requests.
//!
//! Only SHA-256 digests of the configured tokens are kept in memory, and a presented token is
//! hashed and compared with every digest in constant time (`subtle`), without stopping at the
//! first match, so neither the position nor the length of a valid token leaks through timing.

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// What a token may do; `Write` includes `Read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Write,
}

/// The accepted tokens; empty means authentication is off.
#[derive(Clone)]
pub struct Tokens {
    digests: Vec<([u8; 32], Scope)>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.digests.len())
    }
}

impl Tokens {
    /// Write tokens only.
    pub fn new(tokens: &[String]) -> Self {
        Self::with_scopes(tokens, &[])
    }

    /// Write tokens and read-only tokens; a token in both lists can write.
    pub fn with_scopes(write: &[String], read: &[String]) -> Self {
        let scoped = |list: &[String], scope| {
            list.iter()
                .map(move |t| (digest(t.as_bytes()), scope))
                .collect::<Vec<_>>()
        };
        let mut digests = scoped(write, Scope::Write);
        digests.extend(scoped(read, Scope::Read));
        Tokens { digests }
    }

    pub fn is_enabled(&self) -> bool {
        !self.digests.is_empty()
    }

    /// Whether an `Authorization` header value carries an accepted token. Always true when no
    /// tokens are configured.
    pub fn accepts(&self, authorization: Option<&str>) -> bool {
        self.scope(authorization).is_some()
    }

    /// The scope of the presented token: `Write` when no tokens are configured, `None` for a
    /// missing or unknown token.
    pub fn scope(&self, authorization: Option<&str>) -> Option<Scope> {
        if !self.is_enabled() {
            return Some(Scope::Write);
        }
        let token = authorization.and_then(presented_token)?;
        let presented = digest(token.as_bytes());
        let (mut read, mut write) = (Choice::from(0), Choice::from(0));
        for (d, scope) in &self.digests {
            let hit = d.ct_eq(&presented);
            match scope {
                Scope::Read => read |= hit,
                Scope::Write => write |= hit,
            }
        }
        if bool::from(write) {
            Some(Scope::Write)
        } else if bool::from(read) {
            Some(Scope::Read)
        } else {
            None
        }
    }
}

/// The token of a `Bearer` header, or the password of a `Basic` one.
fn presented_token(header: &str) -> Option<String> {
    if let Some(token) = bearer_token(header) {
        return Some(token.to_string());
    }
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = decode_base64(encoded.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (_user, password) = text.split_once(':')?;
    (!password.is_empty()).then(|| password.to_string())
}

/// Standard base64 with padding (RFC 4648), as HTTP Basic authentication uses.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    if !text.len().is_multiple_of(4) || text.len() - bytes.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= u32::from(value(c)?) << (18 - 6 * i);
        }
        let [_, a, b, c] = n.to_be_bytes();
        out.extend_from_slice(&[a, b, c][..chunk.len() - 1]);
    }
    Some(out)
}

/// The token of `Bearer <token>` (scheme case-insensitive, RFC 7235).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "s3cret-token-0123456789";

    #[test]
    fn no_tokens_means_open() {
        let t = Tokens::new(&[]);
        assert!(!t.is_enabled());
        assert!(t.accepts(None));
    }

    #[test]
    fn only_a_configured_bearer_token_is_accepted() {
        let t = Tokens::new(&[GOOD.to_string(), "another-token-abcdefgh".to_string()]);
        assert!(t.accepts(Some(&format!("Bearer {GOOD}"))));
        assert!(t.accepts(Some(&format!("bearer  {GOOD} "))));
        assert!(t.accepts(Some("Bearer another-token-abcdefgh")));
        for bad in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer "),
            Some(GOOD),
            Some(&format!("Basic {GOOD}") as &str),
            Some(&format!("Bearer {GOOD}x") as &str),
            Some(&format!("Bearer {}", &GOOD[..GOOD.len() - 1]) as &str),
        ] {
            assert!(!t.accepts(bad), "{bad:?}");
        }
    }

    #[test]
    fn read_tokens_read_and_write_tokens_write() {
        let t = Tokens::with_scopes(&[GOOD.to_string()], &["reader-token-0123456789".into()]);
        assert_eq!(t.scope(Some(&format!("Bearer {GOOD}"))), Some(Scope::Write));
        assert_eq!(
            t.scope(Some("Bearer reader-token-0123456789")),
            Some(Scope::Read)
        );
        assert_eq!(t.scope(Some("Bearer nobody-0123456789")), None);
        assert_eq!(Tokens::new(&[]).scope(None), Some(Scope::Write));
    }

    #[test]
    fn basic_auth_password_is_the_token() {
        let t = Tokens::with_scopes(&[], &["reader-token-0123456789".into()]);
        // "me:reader-token-0123456789"
        let basic = "Basic bWU6cmVhZGVyLXRva2VuLTAxMjM0NTY3ODk=";
        assert_eq!(t.scope(Some(basic)), Some(Scope::Read));
        // "me:" (empty password), bad base64, and a right password in a wrong scheme
        for bad in [
            "Basic bWU6",
            "Basic bWU6!!!!",
            "Digest bWU6cmVhZGVyLXRva2VuLTAxMjM0NTY3ODk=",
        ] {
            assert_eq!(t.scope(Some(bad)), None, "{bad}");
        }
        assert_eq!(decode_base64("YWI="), Some(b"ab".to_vec()));
        assert_eq!(decode_base64("YQ=="), Some(b"a".to_vec()));
        assert_eq!(decode_base64("YWJj"), Some(b"abc".to_vec()));
        assert_eq!(decode_base64("YWJ"), None);
    }

    #[test]
    fn debug_output_does_not_show_tokens() {
        let t = Tokens::new(&[GOOD.to_string()]);
        assert!(!format!("{t:?}").contains("s3cret"));
    }
}
