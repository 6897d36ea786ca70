//! The alerts raised from the delta's changes (change kinds): their keys and messages.

use std::net::IpAddr;

use super::{AlertKey, Condition, port_key};
use crate::delta::{Change, ChangeKind, PortChange, PortView};
use crate::model::AlertKind;

/// The changes the delta reports (it only reports addresses covered by both runs) that raise
/// alerts; `risky` ports open as `risky_port_open`, not `port_opened`.
pub(super) fn conditions<'c>(
    changes: impl Iterator<Item = &'c Change>,
    risky: impl Fn(u16) -> bool,
) -> Vec<Condition> {
    let mut out = Vec::new();
    for c in changes {
        let Ok(ip) = c.ip.parse::<IpAddr>() else {
            continue;
        };
        let ip_text = ip.to_string();
        let host_key = |kind| AlertKey {
            kind,
            ip: ip.to_string(),
            protocol: None,
            port: None,
        };
        let (key, message) = match (c.kind, &c.port) {
            (ChangeKind::NewHost, _) => (
                host_key(AlertKind::NewHost),
                format!("{ip} is up (it was not in the previous run)"),
            ),
            (ChangeKind::HostGone, _) => (
                host_key(AlertKind::HostGone),
                format!("{ip} is no longer up"),
            ),
            (ChangeKind::PortOpened, Some(p)) if !p.unexpected && !risky(p.port) => on_port(
                AlertKind::PortOpened,
                &ip_text,
                p,
                format!("opened ({})", service_text(p.after.as_ref())),
            ),
            (ChangeKind::PortClosed, Some(p)) => on_port(
                AlertKind::PortClosed,
                &ip_text,
                p,
                format!("closed (was {})", service_text(p.before.as_ref())),
            ),
            (ChangeKind::ServiceChanged, Some(p)) => on_port(
                AlertKind::ServiceChanged,
                &ip_text,
                p,
                format!(
                    "now runs {} (was {})",
                    service_text(p.after.as_ref()),
                    service_text(p.before.as_ref())
                ),
            ),
            _ => continue,
        };
        out.push(Condition {
            key,
            severity: c.severity,
            message,
        });
    }
    out
}

/// The key and message of a port change's alert: `ip: port/proto what`.
fn on_port(kind: AlertKind, ip: &str, p: &PortChange, what: String) -> (AlertKey, String) {
    (
        port_key(kind, ip, &p.protocol, p.port),
        format!("{ip}: {}/{} {what}", p.port, p.protocol),
    )
}

fn service_text(v: Option<&PortView>) -> String {
    let Some(v) = v else {
        return "nothing".to_string();
    };
    let words: Vec<&str> = [&v.service, &v.product, &v.version]
        .into_iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if words.is_empty() {
        "unknown service".to_string()
    } else {
        words.join(" ")
    }
}
