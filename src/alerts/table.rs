//! `daily_scan alerts` and `alerts deliveries` as text tables or CSV, and the alert lines of a
//! run's summary. Messages hold text from the scanned network, so control characters are
//! escaped (text) or guarded (CSV).

use std::fmt::Write as _;
use std::io;

use crate::notify::WebhookResult;
use crate::report::csv::write_record;
use crate::report::text::clean;
use crate::store::{Alert, AlertSync, Delivery, DeliveryOutcome};

/// Left-aligned columns (right-aligned where `right` says), two spaces apart.
fn columns(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&head).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&width)
            .enumerate()
            .map(|(i, (cell, &w))| {
                if right.contains(&i) {
                    format!("{cell:>w$}")
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

fn place(a: &Alert) -> String {
    match (&a.protocol, a.port) {
        (Some(proto), Some(port)) => format!("{} {port}/{proto}", a.ip),
        _ => a.ip.clone(),
    }
}

/// `daily_scan alerts`.
pub fn alerts_text(list: &[Alert]) -> String {
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
    columns(
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

/// `daily_scan alerts --format csv`.
pub fn alerts_csv<W: io::Write>(out: &mut W, list: &[Alert]) -> io::Result<()> {
    write_record(
        out,
        &[
            "id",
            "status",
            "severity",
            "kind",
            "ip",
            "protocol",
            "port",
            "first_snapshot",
            "last_snapshot",
            "created_at",
            "updated_at",
            "message",
            "note",
        ],
    )?;
    for a in list {
        write_record(
            out,
            &[
                a.id.to_string(),
                a.status.to_string(),
                a.severity.to_string(),
                a.kind.to_string(),
                a.ip.clone(),
                a.protocol.clone().unwrap_or_default(),
                a.port.map(|p| p.to_string()).unwrap_or_default(),
                a.first_snapshot.to_string(),
                a.last_snapshot.to_string(),
                a.created_at.to_string(),
                a.updated_at.to_string(),
                a.message.clone(),
                a.note.clone().unwrap_or_default(),
            ],
        )?;
    }
    Ok(())
}

/// `daily_scan alerts deliveries`.
pub fn deliveries_text(list: &[Delivery]) -> String {
    if list.is_empty() {
        return "No webhook deliveries.\n".to_string();
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|d| {
            let a = &d.attempt;
            vec![
                a.attempted_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                a.snapshot_id.to_string(),
                clean(&a.webhook).into_owned(),
                a.endpoint.clone(),
                a.format.clone(),
                a.alerts.to_string(),
                a.attempt.to_string(),
                a.status_code.map_or("-".to_string(), |c| c.to_string()),
                a.outcome.to_string(),
                clean(a.error.as_deref().unwrap_or("")).into_owned(),
            ]
        })
        .collect();
    columns(
        &[
            "TIME (UTC)",
            "SNAPSHOT",
            "WEBHOOK",
            "ENDPOINT",
            "FORMAT",
            "ALERTS",
            "ATTEMPT",
            "STATUS",
            "OUTCOME",
            "ERROR",
        ],
        &rows,
        &[1, 5, 6],
    )
}

/// `daily_scan alerts deliveries --format csv`.
pub fn deliveries_csv<W: io::Write>(out: &mut W, list: &[Delivery]) -> io::Result<()> {
    write_record(
        out,
        &[
            "id",
            "attempted_at",
            "snapshot_id",
            "webhook",
            "endpoint",
            "format",
            "alerts",
            "attempt",
            "status_code",
            "outcome",
            "error",
        ],
    )?;
    for d in list {
        let a = &d.attempt;
        write_record(
            out,
            &[
                d.id.to_string(),
                a.attempted_at.to_string(),
                a.snapshot_id.to_string(),
                a.webhook.clone(),
                a.endpoint.clone(),
                a.format.clone(),
                a.alerts.to_string(),
                a.attempt.to_string(),
                a.status_code.map(|c| c.to_string()).unwrap_or_default(),
                a.outcome.to_string(),
                a.error.clone().unwrap_or_default(),
            ],
        )?;
    }
    Ok(())
}

/// The alert part of a run's text summary: new alerts one per line, then resolutions and
/// webhook outcomes. Empty when the run changed nothing about alerts.
pub fn run_lines(sync: &AlertSync, webhooks: &[WebhookResult]) -> String {
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
        let what = match w.outcome {
            None => continue,
            Some(DeliveryOutcome::Delivered) => "delivered",
            Some(_) => "FAILED (see daily_scan alerts deliveries)",
        };
        let _ = writeln!(
            out,
            "  webhook {}: {} alerts {what}",
            clean(&w.webhook),
            w.alerts
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AlertKind, AlertStatus, Severity};

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
        let text = alerts_text(std::slice::from_ref(&a));
        assert!(
            !text.contains('\u{1b}') && text.lines().count() == 2,
            "{text}"
        );
        assert!(text.contains("192.0.2.7 22/tcp  2-5"), "{text}");
        let mut csv = Vec::new();
        alerts_csv(&mut csv, std::slice::from_ref(&a)).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.contains("\"'=cmd|' /C calc'!A0\""), "{csv}");
        let sync = AlertSync {
            raised: vec![a.clone()],
            refreshed: 3,
            resolved: vec![a],
        };
        let lines = run_lines(&sync, &[]);
        assert!(
            lines.contains("Alerts: 1 new, 1 resolved, 3 seen again"),
            "{lines}"
        );
        assert!(lines.contains("NEW #7 [low] service_changed: "), "{lines}");
        assert!(
            lines.contains("resolved #7 service_changed 192.0.2.7 22/tcp"),
            "{lines}"
        );
        assert_eq!(run_lines(&AlertSync::default(), &[]), "");
        assert_eq!(alerts_text(&[]), "No alerts.\n");
        assert_eq!(deliveries_text(&[]), "No webhook deliveries.\n");
    }
}
