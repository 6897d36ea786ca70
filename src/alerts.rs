//! The alert rules, pure: which alert conditions a run shows (one snapshot and its delta in, an
//! [`Evaluation`] out), what that changes about the stored alerts ([`sync::plan`], applied by
//! `Store::sync_alerts`), and what an operator may do to an alert ([`lifecycle`]).
//!
//! Two families of kinds:
//! - **State** kinds hold whenever the run sees the state, and raise whenever they hold:
//!   `unexpected_port` (open outside `[[expect]]`; its port's severity, at least high),
//!   `risky_port_open` (open with a severity of at least `[alerts] open_port_min_severity`,
//!   default high: RDP, SSH, Telnet, SMB, VNC; the port's severity; from the first run on; not
//!   for unexpected ports, which are `unexpected_port` already),
//!   `expected_port_missing` (an expected port not open on an up host; medium), and on ports
//!   the TLS pass examined: `cert_expiring` (within `[alerts] cert_expiry_days`; medium, high
//!   within 7 days), `cert_expired` (high), `weak_tls` (TLS 1.0/1.1 or SSL offered, or a
//!   cipher grade below `[tls] min_grade`; medium) and `self_signed` (only with
//!   `[alerts] self_signed`; low). A port the pass did not examine is left alone.
//! - **Change** kinds raise only when the delta reports the change, and then hold while its
//!   result lasts: `port_opened` (while open; not for unexpected or risky ports, which are
//!   `unexpected_port` or `risky_port_open` instead), `new_host` (while up), `host_gone`
//!   (while down), `port_closed` (while not open; info; only for a port no other alert speaks
//!   for: not on a gone host, not under an `[[expect]]`, not a risky port),
//!   these two only once the disappearance held for `[alerts] gone_after_runs` confirmed runs
//!   ([`gone`]),
//!   `service_changed` (while the port is open), `cert_changed` (the certificate's SHA-256
//!   differs from the one the port showed last time; info, medium when the issuer changed;
//!   while the port is open).
//!
//! Only addresses covered by a completed target of the run are judged; everything else is
//! [`Judgement::Unknown`] and left alone, so a failed target neither raises nor resolves.

mod cert;
mod change;
pub mod gone;
pub mod lifecycle;
pub mod sync;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use jiff::Timestamp;

use crate::delta::coverage::Coverage;
use crate::delta::index::Indexed;
use crate::delta::severity::is_unexpected;
use crate::delta::{Change, ChangeKind, Delta, DeltaConfig};
use crate::model::{AlertKind, Grade, Port, Severity};
use crate::snapshot::{PortCoverage, Snapshot};
pub use cert::{CertExpiry, SeenCert, URGENT_DAYS, days_left, not_valid_after, utc_time};

/// What makes two alerts the same: (kind, ip, protocol, port).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub kind: AlertKind,
    /// The address as `IpAddr` prints it (so `::0001` and `::1` agree).
    pub ip: String,
    pub protocol: Option<String>,
    pub port: Option<u16>,
}

/// A condition this run may raise as a new alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub key: AlertKey,
    pub severity: Severity,
    pub message: String,
}

/// Settings of the evaluation beyond the delta's.
#[derive(Debug, Clone)]
pub struct AlertRules {
    /// `[alerts] cert_expiry_days`.
    pub cert_expiry_days: u32,
    /// "Now" for certificate expiry.
    pub now: Timestamp,
    /// `[tls] min_grade`.
    pub min_grade: Grade,
    /// `[alerts] self_signed`.
    pub self_signed: bool,
    /// The certificate each port showed last time it was examined, by (ip, protocol, port),
    /// for `cert_changed`.
    pub previous_certs: HashMap<(String, String, u16), SeenCert>,
    /// `[alerts] open_port_min_severity`: open ports at least this severe are `risky_port_open`.
    pub open_port_min_severity: Severity,
    /// The `host_gone` and `port_closed` changes to raise ([`gone::held`], with `[alerts]
    /// gone_after_runs` above 1); `None` raises the delta's own (`gone_after_runs = 1`).
    pub gone_held: Option<Vec<Change>>,
}

impl AlertRules {
    /// The defaults of `[alerts]` and `[tls]` at `now`, with no certificate history.
    pub fn at(now: Timestamp) -> AlertRules {
        AlertRules {
            cert_expiry_days: 30,
            now,
            min_grade: Grade::C,
            self_signed: false,
            previous_certs: HashMap::new(),
            open_port_min_severity: Severity::High,
            gone_held: None,
        }
    }
}

/// A port without allocation: address, number, protocol (tcp, udp, sctp, other).
type PortId = (IpAddr, u16, u8);

fn port_id(ip: IpAddr, protocol: &str, port: u16) -> PortId {
    let code = ["tcp", "udp", "sctp", "ip"]
        .iter()
        .position(|p| p.eq_ignore_ascii_case(protocol))
        .unwrap_or(4);
    (ip, port, code as u8)
}

/// Whether a run says an alert's condition still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    Holds,
    Gone,
    /// The run cannot tell (address not covered, certificate not examined, host down for a
    /// port expectation): the alert is left as it is.
    Unknown,
}

/// Everything [`sync::plan`] needs to raise, refresh and resolve alerts after one run.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Conditions that may raise a new alert (when no unresolved alert of the key exists), by
    /// address (numeric), then protocol, port and kind; host conditions first.
    pub raise: Vec<Condition>,
    covered: Coverage,
    up: HashSet<IpAddr>,
    open: HashSet<PortId>,
    /// State-kind keys that hold now.
    holding: HashSet<AlertKey>,
    /// Open ports whose certificate the run examined (ssl-cert output seen).
    cert_examined: HashSet<PortId>,
    /// The ports the run scanned; `None` for snapshots that did not record them.
    scanned: Option<PortCoverage>,
    /// Open ports whose protocols the run examined (ssl-enum-ciphers output seen).
    ciphers_examined: HashSet<PortId>,
}

impl Evaluation {
    /// Whether `ip` was covered by a completed target of the run.
    pub fn covers(&self, ip: &str) -> bool {
        ip.parse().is_ok_and(|ip| self.covered.contains(ip))
    }

    /// What the run says about an existing alert's condition.
    pub fn judge(&self, key: &AlertKey) -> Judgement {
        let Ok(ip) = key.ip.parse::<IpAddr>() else {
            return Judgement::Unknown;
        };
        if !self.covered.contains(ip) {
            return Judgement::Unknown;
        }
        let holds = |b: bool| if b { Judgement::Holds } else { Judgement::Gone };
        let port = key
            .protocol
            .as_ref()
            .zip(key.port)
            .map(|(proto, port)| port_id(ip, proto, port));
        let open = port.as_ref().is_some_and(|p| self.open.contains(p));
        // A port this run did not scan (another --ports) says nothing about its alerts.
        if let (Some(scanned), Some(proto), Some(n)) = (&self.scanned, &key.protocol, key.port)
            && !scanned.contains(proto, n)
        {
            return Judgement::Unknown;
        }
        match key.kind {
            AlertKind::NewHost => holds(self.up.contains(&ip)),
            AlertKind::HostGone => holds(!self.up.contains(&ip)),
            AlertKind::PortOpened | AlertKind::ServiceChanged | AlertKind::CertChanged => {
                holds(open)
            }
            AlertKind::PortClosed => holds(!open),
            AlertKind::UnexpectedPort | AlertKind::RiskyPortOpen => {
                holds(self.holding.contains(key))
            }
            AlertKind::ExpectedPortMissing if !self.up.contains(&ip) => Judgement::Unknown,
            AlertKind::ExpectedPortMissing => holds(self.holding.contains(key)),
            AlertKind::CertExpiring | AlertKind::CertExpired | AlertKind::SelfSigned => {
                match port {
                    Some(p) if open && !self.cert_examined.contains(&p) => Judgement::Unknown,
                    _ => holds(self.holding.contains(key)),
                }
            }
            AlertKind::WeakTls => match port {
                Some(p) if open && !self.ciphers_examined.contains(&p) => Judgement::Unknown,
                _ => holds(self.holding.contains(key)),
            },
        }
    }
}

fn port_key(kind: AlertKind, ip: &str, protocol: &str, port: u16) -> AlertKey {
    AlertKey {
        kind,
        ip: ip.to_string(),
        protocol: Some(protocol.to_ascii_lowercase()),
        port: Some(port),
    }
}

fn service_name(p: &Port) -> String {
    if p.service.name.is_empty() {
        String::new()
    } else {
        format!(" ({})", p.service.name)
    }
}

/// The alert conditions of `snapshot` (just saved, with its full detail) given its `delta`.
pub fn evaluate(
    snapshot: &Snapshot,
    delta: &Delta,
    delta_config: &DeltaConfig,
    rules: &AlertRules,
) -> Evaluation {
    let ix = Indexed::new(snapshot);
    let mut eval = observe(&ix);
    let mut changes = Vec::new();
    let mut ips: Vec<IpAddr> = eval.up.iter().copied().collect();
    ips.sort_unstable();
    let mut state = Vec::new();
    for ip in ips {
        let host = &ix.hosts[&ip];
        let ip_text = ip.to_string();
        let expected = ix.expected_ports(delta_config, ip);
        for p in host.ports.iter().filter(|p| p.is_open()) {
            let proto = p.protocol.to_ascii_lowercase();
            let severity = delta_config.severity_of(p.portid);
            if is_unexpected(expected.as_ref(), &p.protocol, p.portid) {
                state.push(Condition {
                    key: port_key(AlertKind::UnexpectedPort, &ip_text, &proto, p.portid),
                    severity: severity.max(Severity::High),
                    message: format!(
                        "{ip_text}: {}/{proto}{} is open but not among the expected ports",
                        p.portid,
                        service_name(p)
                    ),
                });
            } else if severity >= rules.open_port_min_severity {
                state.push(Condition {
                    key: port_key(AlertKind::RiskyPortOpen, &ip_text, &proto, p.portid),
                    severity,
                    message: format!(
                        "{ip_text}: {}/{proto}{} is open ({severity} severity port)",
                        p.portid,
                        service_name(p)
                    ),
                });
            }
            let cert_examined = cert::cert_examined(p);
            if cert_examined {
                eval.cert_examined.insert(port_id(ip, &proto, p.portid));
            }
            if cert::ciphers_examined(p) {
                eval.ciphers_examined.insert(port_id(ip, &proto, p.portid));
            }
            if cert_examined || p.tls.is_some() {
                state.extend(cert::conditions(&ip_text, p, rules));
                let seen = rules
                    .previous_certs
                    .get(&(ip_text.clone(), proto.clone(), p.portid));
                changes.extend(cert::change(&ip_text, p, seen));
            }
        }
        if let Some(expected) = &expected {
            let mut seen = HashSet::new();
            for (proto, port) in expected.ports() {
                let proto = proto.to_ascii_lowercase();
                // An expected port outside this run's selection is neither missing nor present.
                if eval
                    .scanned
                    .as_ref()
                    .is_some_and(|s| !s.contains(&proto, port))
                {
                    continue;
                }
                if eval.open.contains(&port_id(ip, &proto, port))
                    || !seen.insert((proto.clone(), port))
                {
                    continue;
                }
                let listed = host
                    .ports
                    .iter()
                    .find(|p| p.portid == port && p.protocol.eq_ignore_ascii_case(&proto))
                    .map_or("not open".to_string(), |p| p.state.clone());
                state.push(Condition {
                    key: port_key(AlertKind::ExpectedPortMissing, &ip_text, &proto, port),
                    severity: Severity::Medium,
                    message: format!("{ip_text}: expected {port}/{proto} is {listed}"),
                });
            }
        }
    }
    eval.holding = state.iter().map(|c| c.key.clone()).collect();
    eval.raise.extend(state);
    let gone_kinds = |c: &&Change| matches!(c.kind, ChangeKind::HostGone | ChangeKind::PortClosed);
    let mut gone: Vec<&Change> = match &rules.gone_held {
        Some(held) => held.iter().collect(),
        None => delta.changes.iter().filter(gone_kinds).collect(),
    };
    // A gone host is one `host_gone`, not also a `port_closed` per port it had open.
    let gone_hosts: HashSet<&str> = gone
        .iter()
        .filter(|c| c.kind == ChangeKind::HostGone)
        .map(|c| c.ip.as_str())
        .collect();
    let risky = |port: u16| delta_config.severity_of(port) >= rules.open_port_min_severity;
    // A closed port is news only where no other alert speaks for it: under an `[[expect]]` an
    // expected port is `expected_port_missing` and closing an unexpected one is good news, as
    // is closing a risky one (its alert resolves).
    let ordinary = |c: &Change| {
        let ip = c.ip.parse::<IpAddr>().ok();
        let expected = ip.and_then(|ip| ix.expected_ports(delta_config, ip));
        expected.is_none() && c.port.as_ref().is_some_and(|p| !risky(p.port))
    };
    gone.retain(|c| match c.kind {
        ChangeKind::HostGone => true,
        _ => !gone_hosts.contains(c.ip.as_str()) && ordinary(c),
    });
    let others = delta.changes.iter().filter(|c| !gone_kinds(c));
    eval.raise
        .extend(change::conditions(others.chain(gone), risky));
    eval.raise.extend(changes);
    eval.raise.sort_by_cached_key(|c| {
        let k = &c.key;
        (
            k.ip.parse::<IpAddr>().ok(),
            k.protocol.clone(),
            k.port,
            k.kind,
        )
    });
    eval
}

/// What one run observes, before any condition: covered addresses, up hosts, open ports and
/// the ports it scanned. Also what [`gone::held`] judges earlier runs by.
fn observe(ix: &Indexed<'_>) -> Evaluation {
    let mut eval = Evaluation {
        raise: Vec::new(),
        covered: ix.covered.clone(),
        up: HashSet::new(),
        open: HashSet::new(),
        holding: HashSet::new(),
        cert_examined: HashSet::new(),
        scanned: ix.snapshot.scanned.clone(),
        ciphers_examined: HashSet::new(),
    };
    for (&ip, host) in &ix.hosts {
        if !host.up || !ix.covered.contains(ip) {
            continue;
        }
        eval.up.insert(ip);
        for p in host.ports.iter().filter(|p| p.is_open()) {
            eval.open.insert(port_id(ip, &p.protocol, p.portid));
        }
    }
    eval
}

#[cfg(test)]
mod tests;
