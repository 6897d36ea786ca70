//! What a webhook receives: one JSON document per run, or one Slack message per run.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use crate::delta::Delta;
use crate::model::Severity;
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
    /// Alerts this run raised and resolved (before any webhook's filter).
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

/// `{"source": "daily_scan", "run": {...}, "alerts": [...]}`.
pub fn json(run: &RunSummary, alerts: &[&Alert]) -> Value {
    json!({
        "source": "daily_scan",
        "version": env!("CARGO_PKG_VERSION"),
        "run": run,
        "alerts": alerts,
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

/// A Slack incoming-webhook message: a `text` line and one colored attachment per alert.
pub fn slack(run: &RunSummary, alerts: &[&Alert]) -> Value {
    let count = |s: Severity| alerts.iter().filter(|a| a.severity == s).count();
    let by_severity: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter(|s| count(**s) > 0)
        .map(|s| format!("{} {s}", count(*s)))
        .collect();
    let mut text = format!(
        "daily_scan: {} new alert{} ({}), snapshot {} (profile {}, {}; score {})",
        alerts.len(),
        if alerts.len() == 1 { "" } else { "s" },
        by_severity.join(", "),
        run.snapshot,
        run.profile,
        run.status,
        run.score.map_or("n/a".to_string(), |s| s.to_string()),
    );
    if alerts.len() > SLACK_MAX_ATTACHMENTS {
        text.push_str(&format!(
            "; the first {SLACK_MAX_ATTACHMENTS} are shown (`daily_scan alerts` lists all)"
        ));
    }
    let attachments: Vec<Value> = alerts
        .iter()
        .take(SLACK_MAX_ATTACHMENTS)
        .map(|a| {
            let place = match (&a.protocol, a.port) {
                (Some(proto), Some(port)) => format!("{} {port}/{proto}", a.ip),
                _ => a.ip.clone(),
            };
            json!({
                "color": slack_color(a.severity),
                "fallback": format!("[{}] {}", a.severity, a.message),
                "title": format!("{} · {}", a.kind, a.severity),
                "text": a.message,
                "footer": format!("alert {} · {place} · daily_scan alerts ack {}", a.id, a.id),
                "ts": a.created_at.as_second(),
            })
        })
        .collect();
    json!({
        "text": text,
        "attachments": attachments,
    })
}
