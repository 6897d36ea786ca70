//! Bearer-token authentication.
//!
//! Only SHA-256 digests of the configured tokens are kept in memory, and a presented token is
//! hashed and compared with every digest in constant time (`subtle`), without stopping at the
//! first match, so neither the position nor the length of a valid token leaks through timing.

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// The accepted tokens; empty means authentication is off.
#[derive(Clone)]
pub struct Tokens {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.digests.len())
    }
}

impl Tokens {
    pub fn new(tokens: &[String]) -> Self {
        Tokens {
            digests: tokens.iter().map(|t| digest(t.as_bytes())).collect(),
        }
    }

    pub fn is_enabled(&self) -> bool {
        !self.digests.is_empty()
    }

    /// Whether an `Authorization` header value carries an accepted token. Always true when no
    /// tokens are configured.
    pub fn accepts(&self, authorization: Option<&str>) -> bool {
        if !self.is_enabled() {
            return true;
        }
        let Some(token) = authorization.and_then(bearer_token) else {
            return false;
        };
        let presented = digest(token.as_bytes());
        let mut matched = Choice::from(0);
        for d in &self.digests {
            matched |= d.ct_eq(&presented);
        }
        matched.into()
    }
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
    fn debug_output_does_not_show_tokens() {
        let t = Tokens::new(&[GOOD.to_string()]);
        assert!(!format!("{t:?}").contains("s3cret"));
    }
}
