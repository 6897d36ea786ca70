//! The `Host` check that runs before routing (DNS rebinding): a page on another site whose
//! name an attacker re-points at this server's address still sends its own name as `Host`, so
//! only the names the server is reached by are accepted; anything else gets 421.
//!
//! Default (`api.allowed_hosts = []`): the bind address as written, `localhost`, `127.0.0.1`
//! and `[::1]`, each with the bind port. A configured entry without a port matches its name on
//! any port (the usual case behind a reverse proxy that passes the client's `Host`).

use super::error::{ApiError, Kind};
use crate::config::ApiConfig;

/// The accepted `Host` values, lower-cased.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    /// `(name, port)`; `None` matches any port.
    entries: Vec<(String, Option<u16>)>,
}

impl AllowedHosts {
    pub fn from_config(api: &ApiConfig) -> Self {
        let mut entries: Vec<(String, Option<u16>)> =
            api.allowed_hosts.iter().filter_map(|h| split(h)).collect();
        if entries.is_empty() {
            let bind = split(&api.bind);
            let port = bind.as_ref().and_then(|(_, p)| *p).unwrap_or(80);
            entries.extend(bind);
            for name in ["localhost", "127.0.0.1", "[::1]"] {
                entries.push((name.to_string(), Some(port)));
            }
        }
        AllowedHosts { entries }
    }

    /// `Ok` for an accepted `Host` (or none: HTTP/1.0 without one; HTTP/1.1 needs one and the
    /// connection layer refuses it before this), else 421.
    pub fn check(&self, host: Option<&str>) -> Result<(), ApiError> {
        let Some(host) = host else { return Ok(()) };
        let accepted = split(host).is_some_and(|(name, port)| {
            let port = port.unwrap_or(80);
            self.entries
                .iter()
                .any(|(n, p)| *n == name && p.is_none_or(|p| p == port))
        });
        if accepted {
            return Ok(());
        }
        Err(ApiError::new(
            Kind::MisdirectedRequest,
            "host_not_allowed",
            "this server does not answer to that Host name; add it to api.allowed_hosts",
        ))
    }
}

/// `name[:port]` lower-cased; `[v6]` keeps its brackets. None if the port is not a number.
fn split(host: &str) -> Option<(String, Option<u16>)> {
    let host = host.trim().to_ascii_lowercase();
    let (name, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        let rest = &host[end + 1..];
        let port = match rest.strip_prefix(':') {
            Some(p) => Some(p),
            None if rest.is_empty() => None,
            None => return None,
        };
        (host[..=end].to_string(), port)
    } else {
        match host.rsplit_once(':') {
            Some((n, p)) => (n.to_string(), Some(p)),
            None => (host.clone(), None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    (!name.is_empty()).then_some((name, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(bind: &str, allowed: &[&str]) -> AllowedHosts {
        let api = ApiConfig {
            bind: bind.to_string(),
            allowed_hosts: allowed.iter().map(|s| s.to_string()).collect(),
            ..ApiConfig::default()
        };
        AllowedHosts::from_config(&api)
    }

    #[test]
    fn defaults_are_the_bind_address_and_loopback_names_with_its_port() {
        let h = hosts("127.0.0.1:5000", &[]);
        for ok in [
            "127.0.0.1:5000",
            "LOCALHOST:5000",
            "[::1]:5000",
            "localhost:5000",
        ] {
            assert!(h.check(Some(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "rebind.example:5000",
            "localhost:5001",
            "localhost",
            "127.0.0.1:x",
            "",
            "[::1",
        ] {
            assert_eq!(h.check(Some(bad)).unwrap_err().status(), 421, "{bad}");
        }
        assert!(h.check(None).is_ok());
    }

    #[test]
    fn configured_names_replace_the_defaults_and_a_bare_name_matches_any_port() {
        let h = hosts(
            "127.0.0.1:5000",
            &["scanner.example.org", "proxy.local:8443"],
        );
        assert!(h.check(Some("scanner.example.org")).is_ok());
        assert!(h.check(Some("Scanner.Example.org:443")).is_ok());
        assert!(h.check(Some("proxy.local:8443")).is_ok());
        assert!(h.check(Some("proxy.local:8444")).is_err());
        assert!(h.check(Some("localhost:5000")).is_err());
    }
}
