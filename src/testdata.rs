//! Builders of hand-made scan data for unit tests (documentation address ranges only: these
//! addresses are data, never scanned). One copy, so every module's tests build hosts, ports
//! and targets alike.

use crate::model::{Address, Host, Port, Service};
use crate::snapshot::{TargetRecord, TargetStatus};

/// A CIDR block, or a single address as its host block.
pub(crate) fn net(text: &str) -> ipnet::IpNet {
    text.parse()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .unwrap()
}

pub(crate) fn target(
    entry: &str,
    target: &str,
    status: TargetStatus,
    covers: &[&str],
) -> TargetRecord {
    TargetRecord {
        entry: entry.into(),
        target: target.into(),
        status,
        error: None,
        covers: covers.iter().map(|c| net(c)).collect(),
    }
}

/// A target that is its own entry and covers itself.
pub(crate) fn own_target(cidr: &str, status: TargetStatus) -> TargetRecord {
    target(cidr, cidr, status, &[cidr])
}

/// A completed [`own_target`].
pub(crate) fn done(cidr: &str) -> TargetRecord {
    own_target(cidr, TargetStatus::Completed)
}

/// A port whose service nmap named `name` with this `product`.
pub(crate) fn service_port(
    protocol: &str,
    portid: u16,
    state: &str,
    name: &str,
    product: &str,
) -> Port {
    Port {
        protocol: protocol.into(),
        portid,
        state: state.into(),
        reason: "syn-ack".into(),
        service: Service {
            name: name.into(),
            product: product.into(),
            ..Service::default()
        },
        scripts: vec![],
    }
}

pub(crate) fn port(protocol: &str, portid: u16, state: &str) -> Port {
    service_port(protocol, portid, state, "svc", "")
}

pub(crate) fn open(portid: u16) -> Port {
    port("tcp", portid, "open")
}

pub(crate) fn host(ip: &str, state: &str, ports: Vec<Port>) -> Host {
    Host {
        state: state.into(),
        reason: "echo-reply".into(),
        addresses: vec![Address {
            addr: ip.into(),
            addrtype: if ip.contains(':') { "ipv6" } else { "ipv4" }.into(),
            vendor: String::new(),
        }],
        ports,
        ..Host::default()
    }
}

pub(crate) fn up(ip: &str, ports: Vec<Port>) -> Host {
    host(ip, "up", ports)
}

/// Facts about ndiff's own test scans, read from ndiff's own output in
/// `tests/fixtures/peer/ndiff-oracle/` (an oracle independent of this crate's parser), so tests
/// about those fixtures name their host without repeating its public address here.
pub(crate) struct NdiffOracle {
    text: String,
}

impl NdiffOracle {
    /// ndiff's text output for the pair `a` vs `b`, e.g. `("simple", "complex")`.
    pub(crate) fn pair(a: &str, b: &str) -> NdiffOracle {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
            "tests/fixtures/peer/ndiff-oracle/{a}_vs_{b}.text.out"
        ));
        NdiffOracle {
            text: std::fs::read_to_string(path).unwrap(),
        }
    }

    /// The scanned host's `(hostname, address)`, from ndiff's `NAME (ADDR):` header line.
    pub(crate) fn host(&self) -> (String, String) {
        let line = self
            .text
            .lines()
            .map(|l| l.trim_start_matches([' ', '-', '+']))
            .find(|l| l.ends_with("):") && l.contains(" ("))
            .unwrap();
        let (name, rest) = line.split_once(" (").unwrap();
        (name.to_string(), rest.trim_end_matches("):").to_string())
    }

    /// The nmap command line of side `-` (first file) or `+` (second file).
    pub(crate) fn args(&self, side: char) -> String {
        self.text
            .lines()
            .find(|l| l.starts_with(side) && l.contains(" as: "))
            .and_then(|l| l.split_once(" as: "))
            .map(|(_, args)| args.to_string())
            .unwrap()
    }

    /// The value ndiff printed for a script field (`|  netrange: VALUE`).
    pub(crate) fn script_field(&self, field: &str) -> String {
        self.text
            .lines()
            .find_map(|l| {
                l.split_once(&format!(" {field}: "))
                    .map(|(_, v)| v.to_string())
            })
            .unwrap()
    }
}
