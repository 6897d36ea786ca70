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
