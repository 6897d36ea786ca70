//! How much a change matters: port severities and per-host expected ports, as the delta and
//! the score take them from the configuration.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::config::{Config, ExpectConfig, ExpectedPorts};
use crate::model::Severity;

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
    /// What the delta and the score take from the configuration: the severity table with the
    /// `[port_severity]` overrides, and the `[[expect]]` tables. Call after
    /// [`Config::validate`] (entries that do not parse are skipped).
    pub fn from_config(config: &Config) -> DeltaConfig {
        let mut port_severity = default_port_severity();
        port_severity.extend(
            config
                .port_severity
                .iter()
                .filter_map(|(port, sev)| port.parse::<u16>().ok().map(|p| (p, *sev))),
        );
        DeltaConfig {
            port_severity,
            expected: config
                .expect
                .iter()
                .map(ExpectConfig::to_expected)
                .collect(),
        }
    }

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
        for exp in self
            .expected
            .iter()
            .filter(|e| applies(e, ip, host_entries))
        {
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

/// Whether `exp` covers `ip` (member of the `targets.txt` entries `host_entries`).
fn applies(exp: &ExpectedPorts, ip: IpAddr, host_entries: &[&str]) -> bool {
    exp.networks.iter().any(|n| n.contains(&ip))
        || exp
            .entries
            .iter()
            .any(|e| host_entries.contains(&e.as_str()))
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
    fn default_port_table() {
        let delta_config = DeltaConfig::default();
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
            assert_eq!(delta_config.severity_of(port), want, "port {port}");
        }
        assert!(delta_config.expected.is_empty());
    }

    #[test]
    fn expectations_by_network_and_entry() {
        let delta_config = DeltaConfig {
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
        assert_eq!(
            delta_config.expected_ports(ip("192.0.2.200"), &["db"]),
            None
        );
        assert!(!is_unexpected(None, "tcp", 3389));

        let both = delta_config
            .expected_ports(ip("192.0.2.1"), &["web"])
            .unwrap();
        assert!(both.allows("tcp", 22) && both.allows("TCP", 443));
        assert!(is_unexpected(Some(&both), "udp", 22));
        assert!(is_unexpected(Some(&both), "tcp", 80));

        let web = delta_config
            .expected_ports(ip("198.51.100.1"), &["web"])
            .unwrap();
        assert!(web.allows("tcp", 443) && !web.allows("tcp", 22));
    }

    #[test]
    fn from_config_takes_severity_overrides_and_expectations() {
        let c = Config::from_toml(
            r#"
    [port_severity]
    "8080" = "high"
    "22" = "critical"

    [[expect]]
    targets = ["127.0.0.0/29", "127.0.1.5", "127.0.2.9/24"]
    ports = ["22/tcp", "tcp/443", "443", "53/UDP"]

    [[expect]]
    targets = ["web.example"]
    ports = []
    "#,
        )
        .unwrap();
        c.validate().unwrap();
        let d = DeltaConfig::from_config(&c);
        assert_eq!(d.severity_of(8080), Severity::High);
        assert_eq!(d.severity_of(22), Severity::Critical);
        assert_eq!(d.severity_of(3389), Severity::Critical, "defaults stay");
        assert_eq!(d.severity_of(5900), Severity::High);
        assert_eq!(d.severity_of(8081), Severity::Low);
        let nets: Vec<String> = d.expected[0]
            .networks
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(nets, ["127.0.0.0/29", "127.0.1.5/32", "127.0.2.0/24"]);
        assert!(d.expected[0].entries.is_empty());
        assert_eq!(
            d.expected[0].ports,
            [
                ("tcp".to_string(), 22),
                ("tcp".to_string(), 443),
                ("tcp".to_string(), 443),
                ("udp".to_string(), 53)
            ]
        );
        assert_eq!(d.expected[1].entries, ["web.example"]);
        assert!(d.expected[1].networks.is_empty() && d.expected[1].ports.is_empty());
        assert_eq!(
            DeltaConfig::from_config(&Config::default()),
            DeltaConfig::default()
        );
    }
}
