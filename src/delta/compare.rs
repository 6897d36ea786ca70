//! The two halves of a comparison: the changes on addresses covered by both snapshots, and the
//! targets whose addresses could not be compared.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::index::{HostView, Indexed};
use super::severity::{DeltaConfig, Expected, is_unexpected};
use super::{Change, ChangeKind, NotCompared, NotComparedReason, PortChange, PortView};
use crate::model::{Port, Severity};
use crate::snapshot::{PortCoverage, TargetStatus};

/// Changes ordered by address (numeric, IPv4 first), then protocol, port and kind; a host
/// change precedes its ports' changes.
///
/// `ports`: the ports both sides scanned (and whether both ran version detection); `None`
/// compares every port and service (older snapshots of one profile, which did not record it).
pub(super) fn changes(
    a: &Indexed<'_>,
    b: &Indexed<'_>,
    ports: Option<&PortCoverage>,
    delta_config: &DeltaConfig,
) -> Vec<Change> {
    let mut ips: Vec<IpAddr> = a.hosts.keys().chain(b.hosts.keys()).copied().collect();
    ips.sort_unstable();
    ips.dedup();
    let mut out = Vec::new();
    for ip in ips {
        if !(a.covered.contains(ip) && b.covered.contains(ip)) {
            continue;
        }
        let (ha, hb) = (a.hosts.get(&ip), b.hosts.get(&ip));
        let up = |h: Option<&HostView>| h.is_some_and(|h| h.up);
        let ip_text = ip.to_string();
        let host_change = |kind, severity| Change {
            kind,
            severity,
            ip: ip_text.clone(),
            port: None,
        };
        match (up(ha), up(hb)) {
            (false, true) => out.push(host_change(ChangeKind::NewHost, Severity::Medium)),
            (true, false) => out.push(host_change(ChangeKind::HostGone, Severity::Info)),
            (false, false) => continue,
            (true, true) => {}
        }
        let (pa, pb) = (up_ports(ha), up_ports(hb));
        let expected = if pb.iter().any(|p| p.is_open()) {
            b.expected_ports(delta_config, ip)
        } else {
            None
        };
        let ctx = PortContext {
            ip: &ip_text,
            expected: expected.as_ref(),
            ports,
            delta_config,
        };
        port_changes(&ctx, pa, pb, &mut out);
    }
    out
}

/// What the changes of one address's ports are judged against.
struct PortContext<'x> {
    ip: &'x str,
    expected: Option<&'x Expected<'x>>,
    ports: Option<&'x PortCoverage>,
    delta_config: &'x DeltaConfig,
}

/// Merges two port lists sorted by (protocol, port); a port outside `ctx.ports` is skipped.
fn port_changes(ctx: &PortContext<'_>, before: &[&Port], after: &[&Port], out: &mut Vec<Change>) {
    let PortContext {
        ip,
        expected,
        ports,
        delta_config,
    } = *ctx;
    let services = ports.is_none_or(|c| c.version_detection);
    let (mut i, mut j) = (0, 0);
    loop {
        let (pa, pb) = match (before.get(i), after.get(j)) {
            (None, None) => break,
            (Some(pa), None) => (Some(*pa), None),
            (None, Some(pb)) => (None, Some(*pb)),
            (Some(pa), Some(pb)) => match (&pa.protocol, pa.portid).cmp(&(&pb.protocol, pb.portid))
            {
                Ordering::Less => (Some(*pa), None),
                Ordering::Greater => (None, Some(*pb)),
                Ordering::Equal => (Some(*pa), Some(*pb)),
            },
        };
        i += usize::from(pa.is_some());
        j += usize::from(pb.is_some());
        let open = |p: Option<&Port>| p.is_some_and(Port::is_open);
        let Some(key) = pb.or(pa) else { break };
        if ports.is_some_and(|c| !c.contains(&key.protocol, key.portid)) {
            continue;
        }
        let change = |kind, severity, unexpected| Change {
            kind,
            severity,
            ip: ip.to_string(),
            port: Some(PortChange {
                protocol: key.protocol.clone(),
                port: key.portid,
                before: pa.map(PortView::of),
                after: pb.map(PortView::of),
                unexpected,
            }),
        };
        match (open(pa), open(pb)) {
            (false, true) => {
                let unexpected = is_unexpected(expected, &key.protocol, key.portid);
                let base = delta_config.severity_of(key.portid);
                let severity = if unexpected {
                    base.max(Severity::High)
                } else {
                    base
                };
                out.push(change(ChangeKind::PortOpened, severity, unexpected));
            }
            (true, false) => out.push(change(ChangeKind::PortClosed, Severity::Info, false)),
            (true, true) if services && service_differs(pa, pb) => {
                out.push(change(ChangeKind::ServiceChanged, Severity::Low, false));
            }
            _ => {}
        }
    }
}

/// The ports of a host that is up; a host that is down or absent has none open.
fn up_ports<'b, 'a>(h: Option<&'b HostView<'a>>) -> &'b [&'a Port] {
    match h {
        Some(h) if h.up => &h.ports,
        _ => &[],
    }
}

/// Only name, product and version: extrainfo, conf, method and CPEs vary between probes.
fn service_differs(a: Option<&Port>, b: Option<&Port>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (x, y) = (&a.service, &b.service);
            x.name != y.name || x.product != y.product || x.version != y.version
        }
        _ => a.is_some() != b.is_some(),
    }
}

/// A target string's outcome in one snapshot (a string may occur under several entries).
struct Group<'a> {
    target: &'a str,
    completed: bool,
    /// The first non-completed status, for the reason.
    failure: TargetStatus,
    covers: Vec<&'a IpNet>,
}

fn groups<'a>(ix: &Indexed<'a>) -> (Vec<Group<'a>>, HashMap<&'a str, usize>) {
    let mut list: Vec<Group> = Vec::new();
    let mut by_name = HashMap::new();
    for t in &ix.snapshot.targets {
        let i = *by_name.entry(t.target.as_str()).or_insert_with(|| {
            list.push(Group {
                target: &t.target,
                completed: false,
                failure: t.status,
                covers: Vec::new(),
            });
            list.len() - 1
        });
        let g = &mut list[i];
        g.completed |= t.is_completed();
        if g.failure == TargetStatus::Completed {
            g.failure = t.status;
        }
        g.covers.extend(&t.covers);
    }
    (list, by_name)
}

fn reason_now(status: TargetStatus) -> NotComparedReason {
    match status {
        TargetStatus::Timeout => NotComparedReason::Timeout,
        TargetStatus::Unresolved => NotComparedReason::Unresolved,
        TargetStatus::ShardMissing => NotComparedReason::ShardMissing,
        TargetStatus::Failed | TargetStatus::Completed => NotComparedReason::Failed,
    }
}

fn reason_before(status: TargetStatus) -> NotComparedReason {
    match status {
        TargetStatus::Timeout => NotComparedReason::PreviousTimeout,
        TargetStatus::Unresolved => NotComparedReason::PreviousUnresolved,
        TargetStatus::ShardMissing => NotComparedReason::PreviousShardMissing,
        TargetStatus::Failed | TargetStatus::Completed => NotComparedReason::PreviousFailed,
    }
}

/// Targets (later snapshot's first, in its order; then removed ones) not all of whose
/// addresses were compared. A target whose addresses were all compared anyway (another
/// completed target covered them in both runs) is not listed.
pub(super) fn not_compared(a: &Indexed<'_>, b: &Indexed<'_>) -> Vec<NotCompared> {
    let compared = |covers: &[&IpNet]| {
        !covers.is_empty()
            && covers
                .iter()
                .all(|n| a.covered.contains_net(n) && b.covered.contains_net(n))
    };
    let (ga, a_names) = groups(a);
    let (gb, b_names) = groups(b);
    let mut out = Vec::new();
    let mut push = |target: &str, reason| {
        out.push(NotCompared {
            target: target.to_string(),
            reason,
        });
    };
    for g in &gb {
        let before = a_names.get(g.target).map(|&i| &ga[i]);
        let before_compared = before.is_none_or(|p| !p.completed || compared(&p.covers));
        if compared(&g.covers) && before_compared {
            continue;
        }
        let reason = match before {
            _ if !g.completed => reason_now(g.failure),
            None => NotComparedReason::TargetAdded,
            Some(p) if !p.completed => reason_before(p.failure),
            Some(_) => NotComparedReason::AddressesChanged,
        };
        push(g.target, reason);
    }
    for g in &ga {
        if !b_names.contains_key(g.target) && !compared(&g.covers) {
            push(g.target, NotComparedReason::TargetRemoved);
        }
    }
    out
}
