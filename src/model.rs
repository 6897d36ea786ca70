//! The scan data model: what nmap found, independent of how it was asked for (API or batch) and
//! where it goes (JSON response, SQLite, reports).
//!
//! Field names follow nmap's XML so that a reader who knows nmap recognises them. Strings that
//! nmap omits are empty rather than `Option`, because "no product reported" and "empty product"
//! mean the same thing to every consumer here.
//!
//! It also holds the vocabulary many floors share ([`Severity`], [`AlertKind`],
//! [`AlertStatus`], [`AlertAction`]), so that config, store, delta and alerts can all name them
//! without importing one another.

mod alert;
mod severity;
mod tls;

use serde::{Deserialize, Serialize};

pub use alert::{AlertAction, AlertKind, AlertStatus, UnknownAlertKind, UnknownAlertStatus};
pub use severity::{Severity, UnknownSeverity};
pub use tls::{CertInfo, Grade, TlsInfo, UnknownGrade};

/// One parsed nmap run (one `<nmaprun>` document).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanResult {
    /// `nmaprun@args`: the command line nmap recorded.
    pub args: String,
    /// `nmaprun@version`.
    pub nmap_version: String,
    /// `nmaprun@start`, Unix seconds.
    pub start: Option<i64>,
    /// `runstats/finished@time`, Unix seconds.
    pub end: Option<i64>,
    pub scaninfo: Vec<ScanInfo>,
    pub hosts: Vec<Host>,
    pub runstats: RunStats,
}

/// `<scaninfo>`: one scan technique and the ports it covered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanInfo {
    /// `syn`, `connect`, `udp`, ...
    pub scan_type: String,
    /// `tcp`, `udp`, `sctp`, `ip`.
    pub protocol: String,
    pub numservices: u32,
    /// nmap's port list, e.g. `1,3-4,6-7,9`.
    pub services: String,
}

/// `<runstats>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// `finished@exit`: `success` or `error`.
    pub exit: String,
    pub summary: String,
    pub elapsed: f64,
    pub hosts_up: u32,
    pub hosts_down: u32,
    pub hosts_total: u32,
    /// `finished@errormsg`, when nmap reports one.
    pub errormsg: String,
}

/// `<host>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    /// `status@state`: `up`, `down`, `unknown`, `skipped`.
    pub state: String,
    /// `status@reason` (e.g. `syn-ack`, `localhost-response`). Never a change by itself.
    pub reason: String,
    pub addresses: Vec<Address>,
    pub hostnames: Vec<Hostname>,
    pub ports: Vec<Port>,
    /// `<extraports>`: ports not listed one by one (e.g. 997 closed).
    pub extraports: Vec<ExtraPorts>,
    pub os_matches: Vec<OsMatch>,
    /// `<hostscript>` results.
    pub scripts: Vec<Script>,
    pub starttime: Option<i64>,
    pub endtime: Option<i64>,
}

impl Host {
    /// The host's identity: its first IPv4 address, else its first IPv6 address.
    pub fn ip(&self) -> Option<&str> {
        self.addresses
            .iter()
            .find(|a| a.addrtype == "ipv4")
            .or_else(|| self.addresses.iter().find(|a| a.addrtype == "ipv6"))
            .map(|a| a.addr.as_str())
    }

    pub fn mac(&self) -> Option<&str> {
        self.addresses
            .iter()
            .find(|a| a.addrtype == "mac")
            .map(|a| a.addr.as_str())
    }

    /// The first user-given (`user`) hostname, else the first PTR name.
    pub fn hostname(&self) -> Option<&str> {
        self.hostnames
            .iter()
            .find(|h| h.kind == "user")
            .or_else(|| self.hostnames.first())
            .map(|h| h.name.as_str())
    }

    pub fn is_up(&self) -> bool {
        self.state == "up"
    }

    pub fn open_ports(&self) -> impl Iterator<Item = &Port> {
        self.ports.iter().filter(|p| p.is_open())
    }
}

/// `<address>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub addr: String,
    /// `ipv4`, `ipv6` or `mac`.
    pub addrtype: String,
    /// MAC vendor, when nmap knows it.
    pub vendor: String,
}

/// `<hostname>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hostname {
    pub name: String,
    /// `user` (given on the command line) or `PTR` (reverse DNS).
    pub kind: String,
}

/// `<extraports>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraPorts {
    pub state: String,
    pub count: u32,
}

/// `<osmatch>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsMatch {
    pub name: String,
    pub accuracy: u8,
}

/// `<port>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    pub protocol: String,
    pub portid: u16,
    /// `open`, `closed`, `filtered`, `open|filtered`, `unfiltered`, `closed|filtered`.
    pub state: String,
    /// `state@reason`. Never a change by itself.
    pub reason: String,
    pub service: Service,
    pub scripts: Vec<Script>,
    /// Certificate and protocol facts from the TLS pass (`ssl-cert`, `ssl-enum-ciphers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
}

impl Port {
    /// Only a plain `open` counts: `open|filtered` (UDP silence) is not evidence of a listener.
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }
}

/// `<service>` and its `<cpe>` children. All empty when nmap reported no service element.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    pub product: String,
    pub version: String,
    pub extrainfo: String,
    pub ostype: String,
    /// `ssl` when nmap detected a TLS tunnel.
    pub tunnel: String,
    /// `table` (guessed from the port number) or `probed` (seen on the wire).
    pub method: String,
    pub conf: u8,
    pub cpe: Vec<String>,
}

/// `<script>`: only its id and text output; the structured tables are not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    pub id: String,
    pub output: String,
}

/// The flat, public JSON view of one host: what `POST /api/scan` returns per target and what
/// `daily_scan parse` prints. Only open ports are listed: that is what a reader acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostReport {
    pub ip: String,
    pub hostname: Option<String>,
    pub mac: Option<String>,
    pub host_state: String,
    pub open_ports: Vec<PortReport>,
}

/// One open port in a [`HostReport`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortReport {
    pub port: u16,
    pub protocol: String,
    pub state: String,
    pub service: String,
    pub product: String,
    pub version: String,
    pub extrainfo: String,
    pub cpe: Vec<String>,
    /// What a TLS pass read on this port (`POST /api/scan` with `"tls": true`), in the shape of
    /// [`Port::tls`]; absent when no TLS pass examined it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
}

impl From<&Port> for PortReport {
    fn from(p: &Port) -> Self {
        PortReport {
            port: p.portid,
            protocol: p.protocol.clone(),
            state: p.state.clone(),
            service: p.service.name.clone(),
            product: p.service.product.clone(),
            version: p.service.version.clone(),
            extrainfo: p.service.extrainfo.clone(),
            cpe: p.service.cpe.clone(),
            // Only a TLS pass fills it (a profile's own scripts do not).
            tls: None,
        }
    }
}

impl From<&Host> for HostReport {
    fn from(h: &Host) -> Self {
        HostReport {
            ip: h.ip().unwrap_or_default().to_string(),
            hostname: h.hostname().map(str::to_string),
            mac: h.mac().map(str::to_string),
            host_state: h.state.clone(),
            open_ports: h.open_ports().map(PortReport::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(portid: u16, state: &str, name: &str) -> Port {
        Port {
            protocol: "tcp".into(),
            portid,
            state: state.into(),
            service: Service {
                name: name.into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn host_identity_prefers_ipv4_then_ipv6() {
        let mut h = Host::default();
        h.addresses.push(Address {
            addr: "::1".into(),
            addrtype: "ipv6".into(),
            vendor: String::new(),
        });
        assert_eq!(h.ip(), Some("::1"));
        h.addresses.push(Address {
            addr: "127.0.0.1".into(),
            addrtype: "ipv4".into(),
            vendor: String::new(),
        });
        assert_eq!(h.ip(), Some("127.0.0.1"));
        assert_eq!(h.mac(), None);
    }

    #[test]
    fn report_lists_only_plainly_open_ports() {
        let h = Host {
            state: "up".into(),
            addresses: vec![Address {
                addr: "127.0.0.2".into(),
                addrtype: "ipv4".into(),
                vendor: String::new(),
            }],
            hostnames: vec![
                Hostname {
                    name: "ptr.example".into(),
                    kind: "PTR".into(),
                },
                Hostname {
                    name: "given.example".into(),
                    kind: "user".into(),
                },
            ],
            ports: vec![
                port(22, "open", "ssh"),
                port(23, "closed", "telnet"),
                port(161, "open|filtered", "snmp"),
            ],
            ..Default::default()
        };
        let r = HostReport::from(&h);
        assert_eq!(r.ip, "127.0.0.2");
        assert_eq!(r.hostname.as_deref(), Some("given.example"));
        let ports: Vec<u16> = r.open_ports.iter().map(|p| p.port).collect();
        assert_eq!(ports, [22]);
        assert_eq!(r.open_ports[0].service, "ssh");
    }
}
