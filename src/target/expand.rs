//! Expansion of entries into the addresses nmap will be given, under the policy and a cap.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::policy::lookup;
use super::{NetworkPolicy, Target, TargetEntry, TargetError};

/// One entry of the targets file with each of its targets expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedEntry {
    pub entry: TargetEntry,
    /// In the entry's order, one per target.
    pub targets: Vec<ExpandedTarget>,
}

/// One target and what it stands for: its addresses (every one policy-checked), or why it
/// cannot be scanned (`Unresolved`, `NotAllowed`). A failed target is a failed outcome for the
/// run to report, never "no hosts".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedTarget {
    pub target: Target,
    pub addresses: Result<Vec<IpAddr>, TargetError>,
}

impl ExpandedEntry {
    /// Every address of the entry's targets that can be scanned, in order.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.targets
            .iter()
            .filter_map(|t| t.addresses.as_ref().ok())
            .flatten()
            .copied()
    }
}

/// Expands entries into addresses. A CIDR block stands for every address in it, network and
/// broadcast included (nmap scans those too); ranges are inclusive; hostnames are resolved once.
///
/// The whole run is refused with `TooManyHosts` when the addresses would number more than
/// `max_hosts`: counted before anything is allocated or resolved (a hostname counts as one
/// until it is resolved), and again after resolution. Addresses are counted once per target,
/// so overlapping entries count twice. A target outside the policy or a hostname that does not
/// resolve fails on its own (the error names the first refused address); the rest still run.
pub fn expand(
    entries: &[TargetEntry],
    policy: &NetworkPolicy,
    max_hosts: usize,
) -> Result<Vec<ExpandedEntry>, TargetError> {
    let all_targets = || entries.iter().flat_map(|e| e.targets.iter());
    let limit = max_hosts as u128;
    let too_many = |count| TargetError::TooManyHosts {
        count,
        limit: max_hosts,
    };
    let literal: u128 = all_targets()
        .filter_map(Target::address_count)
        .fold(0, u128::saturating_add);
    let hostnames = all_targets()
        .filter(|t| t.address_count().is_none())
        .count() as u128;
    if literal.saturating_add(hostnames) > limit {
        return Err(too_many(literal.saturating_add(hostnames)));
    }

    let mut resolved_total = 0u128;
    let mut expanded: Vec<ExpandedEntry> = entries
        .iter()
        .map(|entry| ExpandedEntry {
            entry: entry.clone(),
            targets: entry
                .targets
                .iter()
                .map(|target| {
                    let addresses = match target {
                        Target::Hostname(host) => lookup(host).and_then(|addresses| {
                            resolved_total += addresses.len() as u128;
                            addresses.iter().try_for_each(|ip| policy.check(*ip))?;
                            Ok(addresses)
                        }),
                        _ => Ok(Vec::new()),
                    };
                    ExpandedTarget {
                        target: target.clone(),
                        addresses,
                    }
                })
                .collect(),
        })
        .collect();
    if literal.saturating_add(resolved_total) > limit {
        return Err(too_many(literal.saturating_add(resolved_total)));
    }

    for expanded_target in expanded.iter_mut().flat_map(|e| e.targets.iter_mut()) {
        if let Some((start, end)) = bounds(&expanded_target.target) {
            expanded_target.addresses = addresses_between(start, end, policy);
        }
    }
    Ok(expanded)
}

/// First and last address of a block or range; `None` for a hostname.
fn bounds(target: &Target) -> Option<(IpAddr, IpAddr)> {
    match target {
        Target::Ip(ip) => Some((*ip, *ip)),
        Target::Hostname(_) => None,
        Target::Network(net) => Some((net.network(), net.broadcast())),
        Target::Range { start, end } => Some((*start, *end)),
    }
}

/// Every address from `start` to `end` inclusive (same family, already bounded by the cap),
/// each checked against the policy.
fn addresses_between(
    start: IpAddr,
    end: IpAddr,
    policy: &NetworkPolicy,
) -> Result<Vec<IpAddr>, TargetError> {
    let (first, last) = (ip_to_u128(start), ip_to_u128(end));
    let count = usize::try_from(last - first).map_or(usize::MAX, |n| n.saturating_add(1));
    let mut out = Vec::with_capacity(count);
    for n in first..=last {
        let ip = u128_to_ip(n, start.is_ipv4());
        policy.check(ip)?;
        out.push(ip);
    }
    Ok(out)
}

pub(super) fn ip_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn u128_to_ip(n: u128, ipv4: bool) -> IpAddr {
    if ipv4 {
        IpAddr::V4(Ipv4Addr::from(n as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::parse_targets;

    fn entries(text: &str) -> Vec<TargetEntry> {
        parse_targets(text, "test").unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn policy(allowed: &[&str], denied: &[&str]) -> NetworkPolicy {
        NetworkPolicy {
            allowed: allowed.iter().map(|n| n.parse().unwrap()).collect(),
            denied: denied.iter().map(|n| n.parse().unwrap()).collect(),
        }
    }

    fn only_addresses(expanded: &[ExpandedEntry]) -> Vec<IpAddr> {
        expanded.iter().flat_map(ExpandedEntry::addresses).collect()
    }

    #[test]
    fn block_includes_network_and_broadcast() {
        let out = expand(
            &entries("127.0.0.0/29"),
            &NetworkPolicy::loopback_only(),
            65536,
        )
        .unwrap();
        let addresses = only_addresses(&out);
        assert_eq!(addresses.len(), 8);
        assert_eq!(addresses[0], ip("127.0.0.0"));
        assert_eq!(addresses[7], ip("127.0.0.7"));
    }

    #[test]
    fn ranges_lists_and_single_addresses() {
        let out = expand(
            &entries("127.0.0.1-20\n127.0.0.1,127.0.0.5\n::1\n127.0.0.250-127.0.1.2"),
            &NetworkPolicy::loopback_only(),
            65536,
        )
        .unwrap();
        assert_eq!(out.len(), 4);
        assert_eq!(out[0].addresses().count(), 20);
        assert_eq!(out[0].addresses().last(), Some(ip("127.0.0.20")));
        assert_eq!(
            out[1].addresses().collect::<Vec<_>>(),
            [ip("127.0.0.1"), ip("127.0.0.5")]
        );
        assert_eq!(out[1].targets.len(), 2);
        assert_eq!(out[2].addresses().collect::<Vec<_>>(), [ip("::1")]);
        assert_eq!(out[3].addresses().count(), 9);
        assert_eq!(out[3].entry.line, 4);
    }

    #[test]
    fn ipv6_block() {
        let p = policy(&["fd00::/112"], &[]);
        let out = expand(&entries("fd00::/120"), &p, 65536).unwrap();
        let addresses = only_addresses(&out);
        assert_eq!(addresses.len(), 256);
        assert_eq!(addresses[255], ip("fd00::ff"));
    }

    #[test]
    fn cap_is_inclusive() {
        let p = NetworkPolicy::loopback_only();
        assert!(expand(&entries("127.0.0.0/29"), &p, 8).is_ok());
        let err = expand(&entries("127.0.0.0/29"), &p, 7).unwrap_err();
        assert_eq!(err, TargetError::TooManyHosts { count: 8, limit: 7 });
        assert_eq!(err.code(), "too_many_hosts");
        // Targets add up across entries.
        let err = expand(&entries("127.0.0.0/29\n127.0.0.1"), &p, 8).unwrap_err();
        assert_eq!(err, TargetError::TooManyHosts { count: 9, limit: 8 });
    }

    #[test]
    fn huge_blocks_are_refused_before_allocation() {
        let p = policy(&["0.0.0.0/0", "::/0"], &[]);
        let err = expand(&entries("127.0.0.0/8"), &p, 65536).unwrap_err();
        assert_eq!(
            err,
            TargetError::TooManyHosts {
                count: 1 << 24,
                limit: 65536
            }
        );
        // Allocating 2^64 or 2^128 addresses would abort the test process.
        let err = expand(&entries("fd00::/64"), &p, 65536).unwrap_err();
        assert_eq!(
            err,
            TargetError::TooManyHosts {
                count: 1 << 64,
                limit: 65536
            }
        );
        let err = expand(&entries("::/0\n::/0"), &p, usize::MAX).unwrap_err();
        assert_eq!(
            err,
            TargetError::TooManyHosts {
                count: u128::MAX,
                limit: usize::MAX
            }
        );
    }

    #[test]
    fn hostnames_count_before_resolution() {
        let p = NetworkPolicy::loopback_only();
        let err = expand(&entries("127.0.0.1\nno-such-host.invalid"), &p, 1).unwrap_err();
        assert_eq!(err, TargetError::TooManyHosts { count: 2, limit: 1 });
    }

    #[test]
    fn deny_beats_allow_and_names_the_address() {
        let p = policy(&["127.0.0.0/8"], &["127.0.0.5/32"]);
        let out = expand(&entries("127.0.0.0/29\n127.0.0.8"), &p, 65536).unwrap();
        let refused = &out[0].targets[0].addresses;
        assert!(
            matches!(refused, Err(TargetError::NotAllowed { address, .. }) if *address == ip("127.0.0.5")),
            "{refused:?}"
        );
        assert_eq!(
            out[0].addresses().count(),
            0,
            "a refused block scans nothing"
        );
        assert_eq!(only_addresses(&out), [ip("127.0.0.8")]);
    }

    #[test]
    fn outside_allowed_is_refused_per_target() {
        let out = expand(
            &entries("192.0.2.0/30,127.0.0.1"),
            &NetworkPolicy::loopback_only(),
            65536,
        )
        .unwrap();
        let err = out[0].targets[0].addresses.as_ref().unwrap_err();
        assert!(
            err.to_string().starts_with("192.0.2.0 is not allowed"),
            "{err}"
        );
        assert_eq!(only_addresses(&out), [ip("127.0.0.1")]);
    }

    #[test]
    fn hostnames_resolve_and_failures_stay_per_target() {
        let out = expand(
            &entries("localhost,no-such-host.invalid\n127.0.0.2"),
            &NetworkPolicy::loopback_only(),
            65536,
        )
        .unwrap();
        let local = out[0].targets[0].addresses.as_ref().unwrap();
        assert!(!local.is_empty() && local.iter().all(IpAddr::is_loopback));
        assert_eq!(
            out[0].targets[1].addresses,
            Err(TargetError::Unresolved {
                host: "no-such-host.invalid".into()
            })
        );
        assert_eq!(out[1].addresses().collect::<Vec<_>>(), [ip("127.0.0.2")]);
    }

    #[test]
    fn resolved_hostname_outside_policy_is_refused() {
        let out = expand(&entries("localhost"), &policy(&["127.0.0.9/32"], &[]), 10).unwrap();
        assert!(matches!(
            out[0].targets[0].addresses,
            Err(TargetError::NotAllowed { .. })
        ));
    }
}
