//! Table-driven tests over small hand-built snapshots (documentation address ranges only).

mod changes;
mod json;
mod not_compared;
mod score;
mod status;

use super::*;
use crate::model::{Address, Host, Port, Script, Service};
use crate::snapshot::{SnapshotStatus, TargetRecord, TargetStatus};

pub(super) fn target(
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

/// A CIDR block, or a single address as its host block.
pub(super) fn net(text: &str) -> ipnet::IpNet {
    text.parse()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .unwrap()
}

/// A completed target that is its own entry and covers itself.
pub(super) fn done(cidr: &str) -> TargetRecord {
    target(cidr, cidr, TargetStatus::Completed, &[cidr])
}

pub(super) fn port(protocol: &str, portid: u16, state: &str) -> Port {
    Port {
        protocol: protocol.into(),
        portid,
        state: state.into(),
        reason: "syn-ack".into(),
        service: Service {
            name: "svc".into(),
            ..Service::default()
        },
        scripts: vec![],
    }
}

pub(super) fn open(portid: u16) -> Port {
    port("tcp", portid, "open")
}

pub(super) fn host(ip: &str, state: &str, ports: Vec<Port>) -> Host {
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

pub(super) fn up(ip: &str, ports: Vec<Port>) -> Host {
    host(ip, "up", ports)
}

pub(super) fn snap(profile: &str, targets: Vec<TargetRecord>, hosts: Vec<Host>) -> Snapshot {
    Snapshot {
        id: None,
        started_at: "2026-11-20T02:00:00Z".parse().unwrap(),
        finished_at: "2026-11-20T02:05:00Z".parse().unwrap(),
        profile: profile.into(),
        nmap_args: "nmap -oX -".into(),
        nmap_version: "7.93".into(),
        status: SnapshotStatus::from_targets(&targets),
        targets,
        hosts,
    }
}

/// Both sides cover 192.0.2.0/28 (completed).
pub(super) fn pair(before: Vec<Host>, after: Vec<Host>) -> Delta {
    let a = snap("default", vec![done("192.0.2.0/28")], before);
    let b = snap("default", vec![done("192.0.2.0/28")], after);
    compare(Some(&a), &b, &DeltaConfig::default())
}

/// A change in brief: kind, ip, (protocol, port), severity.
pub(super) type Brief = (ChangeKind, String, Option<(String, u16)>, Severity);

/// Each change in brief, for compact expectations.
pub(super) fn brief(delta: &Delta) -> Vec<Brief> {
    delta
        .changes
        .iter()
        .map(|c| {
            let port = c.port.as_ref().map(|p| (p.protocol.clone(), p.port));
            (c.kind, c.ip.clone(), port, c.severity)
        })
        .collect()
}

pub(super) fn script(id: &str, output: &str) -> Script {
    Script {
        id: id.into(),
        output: output.into(),
    }
}
