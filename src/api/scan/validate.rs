//! From a structurally valid [`ScanBody`] to nmap's argument vector and pinned addresses.
//!
//! Everything here happens before any nmap process starts: profile, port selection, every
//! target's grammar, then one DNS resolution per hostname with every address checked against
//! the allowed networks. The first refusal ends the request.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::profile::{NmapTuning, PortSpec, Profile, RawSocketAccess};
use crate::scan::PlannedTarget;
use crate::target::{self, NetworkPolicy, Target, TargetError};

use super::request::ScanBody;
use crate::api::error::ApiError;

/// What the server allows; fixed at start-up.
#[derive(Debug, Clone)]
pub struct ScanRules {
    pub max_ports: u32,
    pub tuning: NmapTuning,
    pub raw_access: RawSocketAccess,
    pub policy: NetworkPolicy,
}

/// A request that passed every check except resolution.
#[derive(Debug, Clone)]
pub struct ValidScan {
    pub profile: Profile,
    pub nmap_args: Vec<String>,
    pub targets: Vec<ValidTarget>,
}

#[derive(Debug, Clone)]
pub struct ValidTarget {
    pub field: String,
    pub text: String,
    pub target: Target,
}

/// Checks profile, ports and each target's grammar (no DNS yet).
pub fn validate(body: &ScanBody, rules: &ScanRules) -> Result<ValidScan, ApiError> {
    let profile: Profile = body
        .scan_type
        .parse()
        .map_err(|e| ApiError::from_profile(&e))?;
    profile
        .check_api()
        .and_then(|()| profile.check_privilege(rules.raw_access))
        .map_err(|e| ApiError::from_profile(&e))?;
    let ports = body
        .ports
        .as_deref()
        .map(|p| PortSpec::parse(p, Some(rules.max_ports)))
        .transpose()
        .map_err(|e| ApiError::from_ports(&e))?;
    let targets = body
        .targets
        .iter()
        .map(|t| {
            target::parse_api_target(&t.text)
                .map(|target| ValidTarget {
                    field: t.field.clone(),
                    text: t.text.clone(),
                    target,
                })
                .map_err(|e| ApiError::from_target(&e, &t.field))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut nmap_args = profile.nmap_args(&rules.tuning, ports.as_ref());
    if profile.needs_raw_socket() {
        nmap_args.extend(rules.raw_access.nmap_args().iter().map(|a| a.to_string()));
    }
    Ok(ValidScan {
        profile,
        nmap_args,
        targets,
    })
}

/// Resolves every target once (hostnames concurrently) and pins one address each. An address
/// outside the policy refuses the whole request (403); a name that does not resolve is that
/// target's failure.
pub fn resolve_targets(
    scan: &ValidScan,
    policy: &NetworkPolicy,
) -> Result<Vec<PlannedTarget>, ApiError> {
    let resolved: Vec<(Result<Vec<IpAddr>, TargetError>, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = scan
            .targets
            .iter()
            .map(|t| {
                s.spawn(move || {
                    let started = Instant::now();
                    (target::resolve(&t.target, policy), started.elapsed())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    (
                        Err(TargetError::Unresolved {
                            host: String::new(),
                        }),
                        Duration::ZERO,
                    )
                })
            })
            .collect()
    });
    scan.targets
        .iter()
        .zip(resolved)
        .map(|(t, (result, spent))| {
            let hostname = match &t.target {
                Target::Hostname(name) => Some(name.clone()),
                _ => None,
            };
            let address = match result {
                Ok(addresses) => {
                    pick_address(&addresses).ok_or_else(|| "hostname did not resolve".to_string())
                }
                Err(TargetError::Unresolved { .. }) => Err("hostname did not resolve".to_string()),
                Err(e) => return Err(ApiError::from_target(&e, &t.field)),
            };
            Ok(PlannedTarget {
                target: t.text.clone(),
                hostname,
                address,
                spent,
            })
        })
        .collect()
}

/// nmap scans one address per target: the first IPv4 address (what nmap itself picks for a
/// name without `-6`), else the first address.
fn pick_address(addresses: &[IpAddr]) -> Option<IpAddr> {
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addresses.first())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::scan::request::parse_scan_body;
    use serde_json::json;

    fn rules() -> ScanRules {
        ScanRules {
            max_ports: 1000,
            tuning: NmapTuning::default(),
            raw_access: RawSocketAccess::None,
            policy: NetworkPolicy::loopback_only(),
        }
    }

    fn check(v: serde_json::Value) -> Result<ValidScan, ApiError> {
        validate(&parse_scan_body(&v).unwrap(), &rules())
    }

    fn code(v: serde_json::Value) -> (u16, String, Option<String>) {
        let e = check(v.clone())
            .and_then(|s| resolve_targets(&s, &rules().policy).map(|_| s))
            .unwrap_err();
        (e.status(), e.code.to_string(), e.field)
    }

    #[test]
    fn args_end_with_the_profile_and_ports_given() {
        let s =
            check(json!({"target": "127.0.0.1", "scan_type": "quick", "ports": "80,22"})).unwrap();
        assert_eq!(s.profile, Profile::Quick);
        let p = s.nmap_args.iter().position(|a| a == "-p").unwrap();
        assert_eq!(s.nmap_args[p + 1], "22,80");
        assert!(!s.nmap_args.iter().any(|a| a == "--top-ports"));
    }

    #[test]
    fn refusals_map_to_status_code_and_field() {
        let cases = [
            (
                json!({"target": "127.0.0.1", "scan_type": "nope"}),
                400,
                "unknown_profile",
                "scan_type",
            ),
            (
                json!({"target": "127.0.0.1", "scan_type": "tcp_full"}),
                400,
                "profile_batch_only",
                "scan_type",
            ),
            (
                json!({"target": "127.0.0.1", "scan_type": "udp_common"}),
                400,
                "profile_batch_only",
                "scan_type",
            ),
            (
                json!({"target": "127.0.0.1", "scan_type": "stealth"}),
                400,
                "profile_needs_privilege",
                "scan_type",
            ),
            (
                json!({"target": "127.0.0.1", "ports": "1-2000"}),
                400,
                "too_many_ports",
                "ports",
            ),
            (
                json!({"target": "127.0.0.1", "ports": "-oN/tmp/x"}),
                400,
                "invalid_ports",
                "ports",
            ),
            (
                json!({"targets": ["127.0.0.1", "-oN/tmp/x"]}),
                400,
                "invalid_target",
                "targets[1]",
            ),
            (
                json!({"targets": ["127.0.0.0/24"]}),
                400,
                "target_batch_only",
                "targets[0]",
            ),
            (
                json!({"targets": ["127.0.0.1", "192.0.2.1"]}),
                403,
                "target_not_allowed",
                "targets[1]",
            ),
        ];
        for (body, status, c, field) in cases {
            assert_eq!(
                code(body.clone()),
                (status, c.to_string(), Some(field.to_string())),
                "{body}"
            );
        }
    }

    #[test]
    fn batch_only_message_points_to_daily_scan() {
        let e = check(json!({"target": "127.0.0.1", "scan_type": "tcp_full"})).unwrap_err();
        assert!(e.message.contains("daily_scan"), "{}", e.message);
    }

    #[test]
    fn unresolved_names_are_per_target_failures_and_names_are_kept() {
        let s =
            check(json!({"targets": ["localhost", "nonexistent.invalid", "127.0.0.5"]})).unwrap();
        let planned = resolve_targets(&s, &rules().policy).unwrap();
        assert_eq!(planned[0].hostname.as_deref(), Some("localhost"));
        assert!(planned[0].address.as_ref().unwrap().is_loopback());
        assert_eq!(
            planned[1].address,
            Err("hostname did not resolve".to_string())
        );
        assert_eq!(planned[2].address, Ok("127.0.0.5".parse().unwrap()));
        assert_eq!(planned[2].hostname, None);
    }

    #[test]
    fn ipv4_is_preferred_among_resolved_addresses() {
        let v6: IpAddr = "::1".parse().unwrap();
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(pick_address(&[v6, v4]), Some(v4));
        assert_eq!(pick_address(&[v6]), Some(v6));
        assert_eq!(pick_address(&[]), None);
    }
}
