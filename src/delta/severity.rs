//! How much a change matters: port severities and per-host expected ports.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Ordered from least to most severe, so `max` and `>=` read naturally.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Points an open port of this severity takes off the security score.
    pub fn score_penalty(self) -> u64 {
        match self {
            Severity::Critical => 30,
            Severity::High => 15,
            Severity::Medium => 5,
            Severity::Low | Severity::Info => 0,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity {0:?}: expected info, low, medium, high or critical")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;

    /// Case-insensitive, surrounding blanks ignored (`--fail-on High`).
    fn from_str(s: &str) -> Result<Severity, UnknownSeverity> {
        let wanted = s.trim();
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownSeverity(s.to_string()))
    }
}

/// Ports a set of hosts is expected to have open; any other open port on them is unexpected.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExpectedPorts {
    /// Hosts inside any of these networks...
    #[serde(default)]
    pub networks: Vec<IpNet>,
    /// ...or covered by any of these `targets.txt` entries (exact entry text).
    #[serde(default)]
    pub entries: Vec<String>,
    /// `(protocol, port)` pairs, e.g. `("tcp", 22)`.
    pub ports: Vec<(String, u16)>,
}

impl ExpectedPorts {
    fn applies(&self, ip: IpAddr, host_entries: &[&str]) -> bool {
        self.networks.iter().any(|n| n.contains(&ip))
            || self
                .entries
                .iter()
                .any(|e| host_entries.contains(&e.as_str()))
    }
}

/// What the delta and the score need from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaConfig {
    /// Severity by port number (any protocol); ports not listed are [`Severity::Low`].
    pub port_severity: BTreeMap<u16, Severity>,
    /// Empty by default: then no port is ever unexpected.
    pub expected: Vec<ExpectedPorts>,
}

impl Default for DeltaConfig {
    fn default() -> Self {
        DeltaConfig {
            port_severity: default_port_severity(),
            expected: Vec::new(),
        }
    }
}

/// The reference design's table: 3389 critical; 22, 23, 445, 5900 high; 21, 3306, 5432 medium.
pub fn default_port_severity() -> BTreeMap<u16, Severity> {
    let mut map = BTreeMap::from([(3389, Severity::Critical)]);
    map.extend([22, 23, 445, 5900].map(|p| (p, Severity::High)));
    map.extend([21, 3306, 5432].map(|p| (p, Severity::Medium)));
    map
}

impl DeltaConfig {
    pub fn severity_of(&self, port: u16) -> Severity {
        self.port_severity
            .get(&port)
            .copied()
            .unwrap_or(Severity::Low)
    }

    /// The ports expected open on `ip` (member of `host_entries`), or `None` when no
    /// expectation applies to it (then nothing on it is unexpected).
    pub fn expected_ports(&self, ip: IpAddr, host_entries: &[&str]) -> Option<Expected<'_>> {
        let mut ports: Option<Vec<(&str, u16)>> = None;
        for exp in self.expected.iter().filter(|e| e.applies(ip, host_entries)) {
            let list = ports.get_or_insert_with(Vec::new);
            list.extend(
                exp.ports
                    .iter()
                    .map(|(proto, port)| (proto.as_str(), *port)),
            );
        }
        ports.map(Expected)
    }
}

/// The union of the expectations that apply to one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected<'a>(Vec<(&'a str, u16)>);

impl Expected<'_> {
    /// The expected `(protocol, port)` pairs, in configuration order (may repeat).
    pub fn ports(&self) -> impl Iterator<Item = (&str, u16)> + '_ {
        self.0.iter().copied()
    }

    pub fn allows(&self, protocol: &str, port: u16) -> bool {
        self.0
            .iter()
            .any(|(p, n)| *n == port && p.eq_ignore_ascii_case(protocol))
    }
}

/// Whether an open `protocol/port` is unexpected on a host with expectation `expected`.
pub(crate) fn is_unexpected(expected: Option<&Expected<'_>>, protocol: &str, port: u16) -> bool {
    expected.is_some_and(|e| !e.allows(protocol, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_parse_and_serde() {
        assert!(Severity::Info < Severity::Low && Severity::High < Severity::Critical);
        for sev in Severity::ALL {
            assert_eq!(sev.as_str().parse::<Severity>(), Ok(sev));
            assert_eq!(serde_json::to_value(sev).unwrap(), sev.as_str());
            assert_eq!(sev.to_string(), sev.as_str());
        }
        assert_eq!(" HIGH ".parse::<Severity>(), Ok(Severity::High));
        let err = "urgent".parse::<Severity>().unwrap_err();
        assert!(err.to_string().contains("\"urgent\""), "{err}");
    }

    #[test]
    fn default_port_table() {
        let cfg = DeltaConfig::default();
        let cases = [
            (3389, Severity::Critical),
            (22, Severity::High),
            (23, Severity::High),
            (445, Severity::High),
            (5900, Severity::High),
            (21, Severity::Medium),
            (3306, Severity::Medium),
            (5432, Severity::Medium),
            (80, Severity::Low),
            (0, Severity::Low),
        ];
        for (port, want) in cases {
            assert_eq!(cfg.severity_of(port), want, "port {port}");
        }
        assert!(cfg.expected.is_empty());
    }

    #[test]
    fn expectations_by_network_and_entry() {
        let cfg = DeltaConfig {
            expected: vec![
                ExpectedPorts {
                    networks: vec!["192.0.2.0/28".parse().unwrap()],
                    entries: vec![],
                    ports: vec![("tcp".into(), 22)],
                },
                ExpectedPorts {
                    networks: vec![],
                    entries: vec!["web".into()],
                    ports: vec![("tcp".into(), 443)],
                },
            ],
            ..DeltaConfig::default()
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(cfg.expected_ports(ip("192.0.2.200"), &["db"]), None);
        assert!(!is_unexpected(None, "tcp", 3389));

        let both = cfg.expected_ports(ip("192.0.2.1"), &["web"]).unwrap();
        assert!(both.allows("tcp", 22) && both.allows("TCP", 443));
        assert!(is_unexpected(Some(&both), "udp", 22));
        assert!(is_unexpected(Some(&both), "tcp", 80));

        let web = cfg.expected_ports(ip("198.51.100.1"), &["web"]).unwrap();
        assert!(web.allows("tcp", 443) && !web.allows("tcp", 22));
    }
}
