//! Alerts for people and tools: the `daily_scan alerts` table, the one CSV layout of alerts
//! (`daily_scan alerts --format csv` and `GET /api/alerts?format=csv`), and the alert lines of
//! a run's summary. Messages hold text from the scanned network, so control characters are
//! escaped (text) or guarded (CSV).

use std::fmt::Write as _;
use std::io;

use super::csv::write_record;
use super::text::clean;
use crate::store::{Alert, AlertSync, DeliveryOutcome};

fn place(a: &Alert) -> String {
    match (&a.protocol, a.port) {
        (Some(proto), Some(port)) => format!("{} {port}/{proto}", a.ip),
        _ => a.ip.clone(),
    }
}

/// `daily_scan alerts`: id, status, severity, kind, where, snapshots, message (and note).
pub fn table(list: &[Alert]) -> String {
    if list.is_empty() {
        return "No alerts.\n".to_string();
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|a| {
            let mut message = clean(&a.message).into_owned();
            if let Some(note) = &a.note {
                message.push_str(&format!(" [note: {}]", clean(note)));
            }
            vec![
                a.id.to_string(),
                a.status.to_string(),
                a.severity.to_string(),
                a.kind.to_string(),
                clean(&place(a)).into_owned(),
                format!("{}-{}", a.first_snapshot, a.last_snapshot),
                message,
            ]
        })
        .collect();
    super::table::render(
        &[
            "ID",
            "STATUS",
            "SEVERITY",
            "KIND",
            "WHERE",
            "SNAPSHOTS",
            "MESSAGE",
        ],
        &rows,
        &[0],
    )
}

/// The columns of the alerts CSV, for the CLI and the API alike: what and how bad (id, kind,
/// severity, status), where, the message, then the snapshots, times and note.
pub const CSV_HEADER: [&str; 13] = [
    "id",
    "kind",
    "severity",
    "status",
    "ip",
    "protocol",
    "port",
    "message",
    "first_snapshot",
    "last_snapshot",
    "created_at",
    "updated_at",
    "note",
];

/// `daily_scan alerts --format csv` and `GET /api/alerts?format=csv`: [`CSV_HEADER`], then one
/// record per alert (an absent protocol, port or note is an empty cell).
pub fn csv<W: io::Write>(out: &mut W, list: &[Alert]) -> io::Result<()> {
    write_record(out, &CSV_HEADER)?;
    for a in list {
        write_record(
            out,
            &[
                a.id.to_string(),
                a.kind.to_string(),
                a.severity.to_string(),
                a.status.to_string(),
                a.ip.clone(),
                a.protocol.clone().unwrap_or_default(),
                a.port.map(|p| p.to_string()).unwrap_or_default(),
                a.message.clone(),
                a.first_snapshot.to_string(),
                a.last_snapshot.to_string(),
                a.created_at.to_string(),
                a.updated_at.to_string(),
                a.note.clone().unwrap_or_default(),
            ],
        )?;
    }
    Ok(())
}

/// One destination's result (a webhook or an email) as a run's summary shows it. `notify::WebhookResult` implements it:
/// notify sits above report, so report names only what it prints.
pub trait WebhookLine {
    /// `webhook` or `email`.
    fn channel(&self) -> &str {
        "webhook"
    }
    /// The destination's label.
    fn webhook(&self) -> &str;
    /// Alerts in what was sent.
    fn alerts(&self) -> usize;
    /// `None` when its filter kept no alert (nothing was sent).
    fn outcome(&self) -> Option<DeliveryOutcome>;
}

/// The alert part of a run's text summary: new alerts one per line, then resolutions and
/// webhook outcomes. Empty when the run changed nothing about alerts.
pub fn run_lines<W: WebhookLine>(sync: &AlertSync, webhooks: &[W]) -> String {
    let mut out = String::new();
    if !sync.raised.is_empty() || !sync.resolved.is_empty() {
        let _ = writeln!(
            out,
            "\nAlerts: {} new, {} resolved, {} seen again",
            sync.raised.len(),
            sync.resolved.len(),
            sync.refreshed
        );
    }
    for a in &sync.raised {
        let _ = writeln!(
            out,
            "  NEW #{} [{}] {}: {}",
            a.id,
            a.severity,
            a.kind,
            clean(&a.message)
        );
    }
    for a in &sync.resolved {
        let _ = writeln!(out, "  resolved #{} {} {}", a.id, a.kind, clean(&place(a)));
    }
    for w in webhooks {
        let what = match w.outcome() {
            None => continue,
            Some(DeliveryOutcome::Delivered) => "delivered",
            Some(_) => {
                "FAILED (kept pending for the next run or `daily_scan notify retry`; see daily_scan alerts deliveries)"
            }
        };
        let _ = writeln!(
            out,
            "  {} {}: {} {what}",
            w.channel(),
            clean(w.webhook()),
            super::text::count(w.alerts() as u64, "alert")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AlertKind, AlertStatus, Severity};

    struct Hook(&'static str, usize, Option<DeliveryOutcome>);

    impl WebhookLine for Hook {
        fn webhook(&self) -> &str {
            self.0
        }
        fn alerts(&self) -> usize {
            self.1
        }
        fn outcome(&self) -> Option<DeliveryOutcome> {
            self.2
        }
    }

    fn alert(message: &str) -> Alert {
        let t: jiff::Timestamp = "2026-11-20T02:00:00Z".parse().unwrap();
        Alert {
            id: 7,
            kind: AlertKind::ServiceChanged,
            severity: Severity::Low,
            ip: "192.0.2.7".into(),
            protocol: Some("tcp".into()),
            port: Some(22),
            message: message.into(),
            status: AlertStatus::Open,
            first_snapshot: 2,
            last_snapshot: 5,
            created_at: t,
            updated_at: t,
            note: Some("=cmd|' /C calc'!A0".into()),
        }
    }

    #[test]
    fn hostile_text_is_escaped_in_tables_and_guarded_in_csv() {
        let a = alert("22/tcp now runs \u{1b}[31mevil\nbanner");
        let text = table(std::slice::from_ref(&a));
        assert!(
            !text.contains('\u{1b}') && text.lines().count() == 2,
            "{text}"
        );
        assert!(text.contains("192.0.2.7 22/tcp  2-5"), "{text}");
        let mut csv = Vec::new();
        super::csv(&mut csv, std::slice::from_ref(&a)).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.contains("\"'=cmd|' /C calc'!A0\""), "{csv}");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "id,kind,severity,status,ip,protocol,port,message,first_snapshot,last_snapshot,\
             created_at,updated_at,note"
        );
        assert!(
            lines[1].starts_with("7,service_changed,low,open,192.0.2.7,tcp,22,"),
            "{csv}"
        );
        let sync = AlertSync {
            raised: vec![a.clone()],
            refreshed: 3,
            resolved: vec![a],
        };
        let hooks = [
            Hook("siem", 1, Some(DeliveryOutcome::Delivered)),
            Hook("slack", 1, Some(DeliveryOutcome::Failed)),
            Hook("quiet", 0, None),
        ];
        let lines = run_lines(&sync, &hooks);
        assert!(
            lines.contains("Alerts: 1 new, 1 resolved, 3 seen again"),
            "{lines}"
        );
        assert!(lines.contains("NEW #7 [low] service_changed: "), "{lines}");
        assert!(
            lines.contains("resolved #7 service_changed 192.0.2.7 22/tcp"),
            "{lines}"
        );
        assert!(
            lines.contains("webhook siem: 1 alert delivered\n"),
            "{lines}"
        );
        assert!(lines.contains("webhook slack: 1 alert FAILED"), "{lines}");
        assert!(!lines.contains("quiet"), "{lines}");
        assert_eq!(run_lines::<Hook>(&AlertSync::default(), &[]), "");
        assert_eq!(table(&[]), "No alerts.\n");
    }
}
