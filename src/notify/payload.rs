//! What a destination receives: one JSON document or one Slack message per run (webhooks),
//! built from [`AlertNotice`]s, the alerts with what a receiver needs to act on them.

use crate::report::text::slack as slack_escape;
use std::net::IpAddr;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use crate::delta::{Delta, DeltaConfig};
use crate::model::{AlertKind, Severity};
use crate::snapshot::Snapshot;
use crate::store::{Alert, AlertSync};

/// Slack shows at most this many alerts as attachments; the text counts the rest.
pub const SLACK_MAX_ATTACHMENTS: usize = 50;

/// The run a notification is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub snapshot: i64,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub profile: String,
    /// complete, partial or failed.
    pub status: String,
    pub targets_total: usize,
    pub targets_failed: usize,
    pub hosts_up: usize,
    pub open_ports: usize,
    /// The delta's status: critical, changes or stable.
    pub delta_status: String,
    pub score: Option<u8>,
    /// Alerts this run raised and resolved (before any destination's filter).
    pub alerts_raised: usize,
    pub alerts_resolved: usize,
}

impl RunSummary {
    pub fn of(s: &Snapshot, delta: &Delta, sync: &AlertSync) -> RunSummary {
        RunSummary {
            snapshot: s.id.unwrap_or_default(),
            started_at: s.started_at,
            finished_at: s.finished_at,
            profile: s.profile.clone(),
            status: s.status.as_str().to_string(),
            targets_total: s.targets.len(),
            targets_failed: s.targets.iter().filter(|t| !t.is_completed()).count(),
            hosts_up: s.hosts_up(),
            open_ports: s.open_ports(),
            delta_status: delta.status.as_str().to_string(),
            score: delta.score.overall,
            alerts_raised: sync.raised.len(),
            alerts_resolved: sync.resolved.len(),
        }
    }
}

/// The service nmap saw on an alert's port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceInfo {
    pub name: String,
    pub product: String,
    pub version: String,
}

impl ServiceInfo {
    /// `ssh OpenSSH 9.2p1`, skipping empty parts.
    pub fn describe(&self) -> String {
        [&self.name, &self.product, &self.version]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// An alert as a notification carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertNotice {
    #[serde(flatten)]
    pub alert: Alert,
    /// `alert.raised` or `alert.resolved`.
    pub event_type: &'static str,
    /// The service on the port in this run's scan (`None` for host alerts and closed ports).
    pub service: Option<ServiceInfo>,
    /// Whether an `[[expect]]` lists the port for the host; `None` when no expectation
    /// applies (or the alert is about a host).
    pub expected: Option<bool>,
    /// The `targets.txt` entry whose scan covered the address.
    pub entry: Option<String>,
    pub recommended_actions: Vec<&'static str>,
}

/// What to do about an alert of `kind`.
pub fn recommended_actions(kind: AlertKind) -> Vec<&'static str> {
    match kind {
        AlertKind::PortOpened => vec![
            "Confirm the service on this port is meant to be reachable from the scanned network.",
            "If it is not, stop the service or block the port in the host or network firewall.",
        ],
        AlertKind::PortClosed => vec![
            "Check whether the service on this port was retired on purpose or has stopped.",
            "If it should be running, restart it and check the host's firewall.",
        ],
        AlertKind::RiskyPortOpen => vec![
            "This port's service is a frequent target (remote desktop, SSH, Telnet, SMB, VNC...): \
             confirm it must be reachable from the scanned network.",
            "If not, close it or restrict it to a management network or VPN; if it must stay, \
             ignore this alert (ignored alerts do not fire again).",
        ],
        AlertKind::UnexpectedPort => vec![
            "This port is not in the host's [[expect]] list: close it or block it.",
            "If it is intended, add it to [[expect]] so it stops alerting.",
        ],
        AlertKind::ExpectedPortMissing => vec![
            "Check that the expected service is running and reachable.",
            "If it was retired on purpose, remove it from [[expect]].",
        ],
        AlertKind::NewHost => vec![
            "Identify the new host and its owner.",
            "Add it to the inventory, or remove it from the network if it is unknown.",
        ],
        AlertKind::HostGone => {
            vec!["Check whether the host was decommissioned or is down unexpectedly."]
        }
        AlertKind::ServiceChanged => vec![
            "Check that the change of product or version was a planned update.",
            "If not, investigate the host for tampering.",
        ],
        AlertKind::CertExpiring => vec!["Renew the certificate and deploy it before it expires."],
        AlertKind::CertExpired => vec![
            "Renew the certificate now: clients refuse or warn on an expired one.",
            "Check why renewal did not happen (automation, monitoring).",
        ],
        AlertKind::CertChanged => vec![
            "Confirm the new certificate was a planned renewal or replacement.",
            "If the issuer changed unexpectedly, check for interception or a misconfigured host.",
        ],
        AlertKind::WeakTls => vec![
            "Disable SSLv3, TLS 1.0 and 1.1 and weak cipher suites on this service.",
            "Prefer TLS 1.2 and 1.3 with forward-secret ciphers.",
        ],
        AlertKind::SelfSigned => vec![
            "Replace the self-signed certificate with one from a trusted CA,",
            "or make sure every client pins this certificate explicitly.",
        ],
    }
}

/// The notices for `alerts` (`event_type` given), with service, expectation and entry read
/// from `snapshot`.
pub fn notices(
    snapshot: &Snapshot,
    delta_config: &DeltaConfig,
    alerts: &[&Alert],
    event_type: &'static str,
) -> Vec<AlertNotice> {
    alerts
        .iter()
        .map(|a| {
            let ip: Option<IpAddr> = a.ip.parse().ok();
            let entries: Vec<&str> = ip
                .map(|ip| {
                    snapshot
                        .targets
                        .iter()
                        .filter(|t| t.covers.iter().any(|n| n.contains(&ip)))
                        .map(|t| t.entry.as_str())
                        .collect()
                })
                .unwrap_or_default();
            let port = match (&a.protocol, a.port) {
                (Some(proto), Some(port)) => Some((proto.as_str(), port)),
                _ => None,
            };
            let service = port.and_then(|(proto, number)| {
                snapshot
                    .hosts
                    .iter()
                    .filter(|h| h.ip() == Some(a.ip.as_str()))
                    .flat_map(|h| h.ports.iter())
                    .find(|p| p.portid == number && p.protocol == proto && p.is_open())
                    .map(|p| ServiceInfo {
                        name: p.service.name.clone(),
                        product: p.service.product.clone(),
                        version: p.service.version.clone(),
                    })
            });
            let expected = match (ip, port) {
                (Some(ip), Some((proto, number))) => delta_config
                    .expected_ports(ip, &entries)
                    .map(|e| e.allows(proto, number)),
                _ => None,
            };
            AlertNotice {
                alert: (*a).clone(),
                event_type,
                service,
                expected,
                entry: entries.first().map(|e| e.to_string()),
                recommended_actions: recommended_actions(a.kind),
            }
        })
        .collect()
}

/// `{"source": "daily_scan", "event_type": "alerts.raised", "run": {...}, "alerts": [...],
/// "web_url": ...}`.
pub fn json(run: &RunSummary, alerts: &[AlertNotice], web_url: Option<&str>) -> Value {
    json!({
        "source": "daily_scan",
        "version": env!("CARGO_PKG_VERSION"),
        "event_type": "alerts.raised",
        "run": run,
        "alerts": alerts,
        "web_url": web_url,
    })
}

/// Attachment color by severity.
pub fn slack_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#b00020",
        Severity::High => "#e8590c",
        Severity::Medium => "#f2c744",
        Severity::Low => "#2f80ed",
        Severity::Info => "#9e9e9e",
    }
}

/// `ip port/proto`, or the ip for a host alert.
pub fn place(a: &Alert) -> String {
    match (&a.protocol, a.port) {
        (Some(proto), Some(port)) => format!("{} {port}/{proto}", a.ip),
        _ => a.ip.clone(),
    }
}

/// `3 critical, 1 high`: counts by severity, worst first.
pub fn severity_counts<'a>(alerts: impl Iterator<Item = &'a Alert> + Clone) -> String {
    Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| {
            let n = alerts.clone().filter(|a| a.severity == *s).count();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn slack_fields(n: &AlertNotice) -> Vec<Value> {
    let mut fields =
        vec![json!({"title": "Where", "value": slack_escape(&place(&n.alert)), "short": true})];
    if let Some(service) = n.service.as_ref().filter(|s| !s.describe().is_empty()) {
        fields.push(
            json!({"title": "Service", "value": slack_escape(&service.describe()), "short": true}),
        );
    }
    if let Some(entry) = &n.entry {
        fields.push(json!({"title": "Entry", "value": slack_escape(entry), "short": true}));
    }
    if let Some(expected) = n.expected {
        fields.push(json!({"title": "Expected", "value": if expected { "yes" } else { "no" }, "short": true}));
    }
    if !n.recommended_actions.is_empty() {
        fields.push(json!({"title": "What to do", "value": n.recommended_actions.join(" "), "short": false}));
    }
    fields
}

/// A Slack incoming-webhook message: a `text` line and one colored attachment per alert with
/// `fields`. Every string that came from a scan is escaped ([`slack_escape`], the report floor's Slack escaping).
pub fn slack(run: &RunSummary, alerts: &[AlertNotice], web_url: Option<&str>) -> Value {
    let by_severity = severity_counts(alerts.iter().map(|n| &n.alert));
    let mut text = format!(
        "daily_scan: {} new alert{} ({}), snapshot {} (profile {}, {}; score {})",
        alerts.len(),
        if alerts.len() == 1 { "" } else { "s" },
        by_severity,
        run.snapshot,
        slack_escape(&run.profile),
        run.status,
        run.score.map_or("n/a".to_string(), |s| s.to_string()),
    );
    if alerts.len() > SLACK_MAX_ATTACHMENTS {
        text.push_str(&format!(
            "; the first {SLACK_MAX_ATTACHMENTS} are shown (`daily_scan alerts` lists all)"
        ));
    }
    if let Some(url) = web_url {
        text.push_str(&format!(" <{}|dashboard>", slack_escape(url)));
    }
    let attachments: Vec<Value> = alerts
        .iter()
        .take(SLACK_MAX_ATTACHMENTS)
        .map(|n| {
            let a = &n.alert;
            json!({
                "color": slack_color(a.severity),
                "fallback": format!("[{}] {}", a.severity, slack_escape(&a.message)),
                "title": format!("{} · {}", a.kind, a.severity),
                "text": slack_escape(&a.message),
                "fields": slack_fields(n),
                "footer": format!("alert {} · {} · daily_scan alerts ack {}", a.id, slack_escape(&place(a)), a.id),
                "ts": a.created_at.as_second(),
            })
        })
        .collect();
    json!({
        "text": text,
        "attachments": attachments,
    })
}
