//! Which addresses may be scanned, and pinned hostname resolution.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use ipnet::IpNet;

use super::{Target, TargetError};

/// Allowed and denied networks. An address must be inside an allowed network and inside no
/// denied one: denied always wins.
///
/// An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) reaches the IPv4 host, so it is judged as
/// that IPv4 address (and must not be denied in its IPv6 spelling either).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPolicy {
    pub allowed: Vec<IpNet>,
    pub denied: Vec<IpNet>,
}

impl NetworkPolicy {
    /// The safe default: `127.0.0.0/8` and `::1/128`, nothing denied.
    pub fn loopback_only() -> Self {
        NetworkPolicy {
            allowed: vec![
                IpNet::new_assert(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8),
                IpNet::new_assert(IpAddr::V6(Ipv6Addr::LOCALHOST), 128),
            ],
            denied: Vec::new(),
        }
    }

    pub fn check(&self, ip: IpAddr) -> Result<(), TargetError> {
        let effective = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        let refuse = |reason: String| {
            Err(TargetError::NotAllowed {
                address: ip,
                reason,
            })
        };
        if let Some(net) = self
            .denied
            .iter()
            .find(|net| net.contains(&ip) || net.contains(&effective))
        {
            return refuse(format!("inside denied network {net}"));
        }
        if self.allowed.iter().any(|net| net.contains(&effective)) {
            return Ok(());
        }
        let allowed: Vec<String> = self.allowed.iter().map(IpNet::to_string).collect();
        let allowed = if allowed.is_empty() {
            "none".to_string()
        } else {
            allowed.join(", ")
        };
        refuse(format!(
            "outside the allowed networks ({allowed}); add its network to allowed_networks"
        ))
    }
}

/// Resolves a single-host target once and pins it: an address stays itself; a hostname is
/// looked up with the system resolver and every address it yields must pass the policy (one
/// bad address refuses the name: DNS decides nothing about what may be scanned). Returns the
/// addresses deduplicated, in resolver order. Blocks and ranges go through [`super::expand`].
pub fn resolve(target: &Target, policy: &NetworkPolicy) -> Result<Vec<IpAddr>, TargetError> {
    match target {
        Target::Ip(ip) => {
            policy.check(*ip)?;
            Ok(vec![*ip])
        }
        Target::Hostname(host) => {
            let addresses = lookup(host)?;
            for ip in &addresses {
                policy.check(*ip)?;
            }
            Ok(addresses)
        }
        Target::Network(_) | Target::Range { .. } => Err(TargetError::NeedsExpansion {
            target: target.to_string(),
        }),
    }
}

/// The system resolver's addresses for `host`, deduplicated in order; none is an error.
pub(super) fn lookup(host: &str) -> Result<Vec<IpAddr>, TargetError> {
    let unresolved = || TargetError::Unresolved {
        host: host.to_string(),
    };
    let mut addresses: Vec<IpAddr> = Vec::new();
    for socket in (host, 0).to_socket_addrs().map_err(|_| unresolved())? {
        // A name resolving to ::ffff:a.b.c.d is scanned at a.b.c.d.
        let ip = super::grammar::unmap(socket.ip());
        if !addresses.contains(&ip) {
            addresses.push(ip);
        }
    }
    if addresses.is_empty() {
        return Err(unresolved());
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn policy(allowed: &[&str], denied: &[&str]) -> NetworkPolicy {
        NetworkPolicy {
            allowed: allowed.iter().map(|n| n.parse().unwrap()).collect(),
            denied: denied.iter().map(|n| n.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn loopback_only_allows_loopback_only() {
        let p = NetworkPolicy::loopback_only();
        assert_eq!(p.allowed.len(), 2);
        for ok in ["127.0.0.1", "127.255.255.255", "::1", "::ffff:127.0.0.2"] {
            assert_eq!(p.check(ip(ok)), Ok(()), "{ok}");
        }
        for bad in [
            "192.0.2.1",
            "::2",
            "0.0.0.0",
            "::",
            "::ffff:192.0.2.1",
            "128.0.0.1",
        ] {
            let err = p.check(ip(bad)).unwrap_err();
            assert_eq!(err.code(), "target_not_allowed");
            assert!(
                err.to_string()
                    .starts_with(&format!("{bad} is not allowed")),
                "{err}"
            );
        }
    }

    #[test]
    fn deny_beats_allow() {
        let p = policy(&["127.0.0.0/8"], &["127.0.0.4/30"]);
        assert_eq!(p.check(ip("127.0.0.3")), Ok(()));
        let err = p.check(ip("127.0.0.5")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "127.0.0.5 is not allowed: inside denied network 127.0.0.4/30"
        );
        assert!(p.check(ip("127.0.0.8")).is_ok());
    }

    #[test]
    fn mapped_addresses_cannot_dodge_a_deny() {
        let p = policy(&["::/0", "127.0.0.0/8"], &["127.0.0.9/32"]);
        assert!(p.check(ip("::ffff:127.0.0.9")).is_err());
        assert!(p.check(ip("::ffff:127.0.0.8")).is_ok());
        // Allowed in its IPv6 spelling (::/0) is not enough when the IPv4 host is not allowed.
        assert!(p.check(ip("::ffff:192.0.2.1")).is_err());
    }

    #[test]
    fn empty_allow_list_allows_nothing() {
        let err = policy(&[], &[]).check(ip("127.0.0.1")).unwrap_err();
        assert!(err.to_string().contains("(none)"), "{err}");
    }

    #[test]
    fn resolve_pins_addresses() {
        let p = NetworkPolicy::loopback_only();
        assert_eq!(
            resolve(&Target::Ip(ip("127.0.0.7")), &p),
            Ok(vec![ip("127.0.0.7")])
        );
        let local = resolve(&Target::Hostname("localhost".into()), &p).unwrap();
        assert!(!local.is_empty());
        assert!(local.iter().all(IpAddr::is_loopback), "{local:?}");
        let mut unique = local.clone();
        unique.dedup();
        assert_eq!(unique, local);
    }

    #[test]
    fn resolve_refuses_and_names_the_address() {
        let only_v4 = policy(&["127.0.0.2/32"], &[]);
        let err = resolve(&Target::Ip(ip("127.0.0.1")), &only_v4).unwrap_err();
        assert!(
            matches!(err, TargetError::NotAllowed { address, .. } if address == ip("127.0.0.1"))
        );
        // localhost resolves to 127.0.0.1 (and maybe ::1): none is in 127.0.0.2/32.
        let err = resolve(&Target::Hostname("localhost".into()), &only_v4).unwrap_err();
        assert!(matches!(err, TargetError::NotAllowed { address, .. } if address.is_loopback()));
    }

    #[test]
    fn unresolvable_hostname() {
        // `.invalid` is reserved (RFC 2606) and never resolves.
        let target = Target::Hostname("no-such-host.invalid".into());
        let err = resolve(&target, &NetworkPolicy::loopback_only()).unwrap_err();
        assert_eq!(
            err,
            TargetError::Unresolved {
                host: "no-such-host.invalid".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "hostname no-such-host.invalid did not resolve"
        );
    }

    #[test]
    fn blocks_need_expansion() {
        let net = Target::parse("127.0.0.0/30").unwrap();
        let err = resolve(&net, &NetworkPolicy::loopback_only()).unwrap_err();
        assert!(matches!(err, TargetError::NeedsExpansion { .. }));
    }
}
