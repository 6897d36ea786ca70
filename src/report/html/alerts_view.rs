//! The dashboard's open alerts: a count card and the table with ack/ignore buttons (wired by
//! [`super::dashboard::SCRIPT`]).

use std::fmt::Write as _;

use super::{escape, severity_badge};
use crate::model::{AlertStatus, Severity};
use crate::store::Alert;

pub(super) fn alerts_card(alerts: &[Alert], open: usize) -> String {
    let mut by_severity = String::new();
    for sev in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ] {
        let n = alerts.iter().filter(|a| a.severity == sev).count();
        if n > 0 {
            let _ = write!(by_severity, "<div>{} <b>{n}</b></div>", severity_badge(sev));
        }
    }
    let class = if open == 0 {
        "band-Excellent"
    } else {
        "band-Critical"
    };
    format!(
        "<div class=\"card alerts-card\"><div class=\"big {class}\">{open}</div>\
         <div class=\"meta\" style=\"grid-column:1 / -1\">open alerts \
         <a href=\"#alerts\">(see below)</a></div>{by_severity}</div>\n"
    )
}

pub(super) fn alerts_table(alerts: &[Alert], open: usize) -> String {
    if alerts.is_empty() {
        return "<p class=\"none\">No open alerts.</p>\n".to_string();
    }
    let mut rows = String::new();
    for a in alerts {
        let port = match (&a.protocol, a.port) {
            (Some(proto), Some(port)) => format!("{port}/{}", escape(proto)),
            _ => String::new(),
        };
        let buttons = match a.status {
            AlertStatus::Open => {
                "<button class=\"act ack\" data-act=\"ack\">Ack</button>\
                 <button class=\"act ignore\" data-act=\"ignore\">Ignore</button>"
            }
            AlertStatus::Actioned => {
                "<button class=\"act ignore\" data-act=\"ignore\">Ignore</button>"
            }
            _ => "",
        };
        let _ = writeln!(
            rows,
            "<tr data-alert=\"{id}\" data-status=\"{st}\"><td>{}</td><td class=\"kind\">{}</td>\
             <td class=\"mono\">{}</td><td class=\"mono\">{port}</td><td>{}</td>\
             <td class=\"meta\">#{} → #{}</td><td><span class=\"state state-{st}\">{st}</span></td>\
             <td>{buttons}</td></tr>",
            severity_badge(a.severity),
            a.kind.as_str().replace('_', " "),
            escape(&a.ip),
            escape(&a.message),
            a.first_snapshot,
            a.last_snapshot,
            id = a.id,
            st = a.status.as_str(),
        );
    }
    let more = if open > alerts.len() {
        format!(
            "<p class=\"meta\">Showing the {} newest of {open}; \
             <a href=\"/api/alerts?status=open\">/api/alerts?status=open</a> has them all.</p>\n",
            alerts.len()
        )
    } else {
        String::new()
    };
    format!(
        "<table class=\"alerts\"><thead><tr><th>Severity</th><th>Alert</th><th>Host</th>\
         <th>Port</th><th>Message</th><th>Seen</th><th>State</th><th></th></tr></thead><tbody>\n\
         {rows}</tbody></table>\n{more}"
    )
}

/// `port/protocol` of an alert, empty for host alerts.
pub(super) fn alert_port(a: &Alert) -> String {
    match (&a.protocol, a.port) {
        (Some(proto), Some(port)) => format!("{port}/{}", escape(proto)),
        _ => String::new(),
    }
}

/// "#first → #last", each a link to its run page.
pub(super) fn seen_links(a: &Alert) -> String {
    if a.first_snapshot == a.last_snapshot {
        format!("<a href=\"/runs/{0}\">#{0}</a>", a.first_snapshot)
    } else {
        format!(
            "<a href=\"/runs/{0}\">#{0}</a> → <a href=\"/runs/{1}\">#{1}</a>",
            a.first_snapshot, a.last_snapshot
        )
    }
}

/// A read-only table of alerts (the run page's raised and resolved lists).
pub(super) fn alert_rows_table(alerts: &[Alert], empty: &str) -> String {
    if alerts.is_empty() {
        return format!("<p class=\"none\">{}</p>\n", escape(empty));
    }
    let mut rows = String::new();
    for a in alerts {
        let _ = writeln!(
            rows,
            "<tr data-alert=\"{id}\"><td>{}</td><td class=\"kind\">{}</td><td class=\"mono\">{}</td>\
             <td class=\"mono\">{}</td><td>{}</td><td><span class=\"state state-{st}\">{st}</span></td>\
             <td>{}</td></tr>",
            severity_badge(a.severity),
            a.kind.as_str().replace('_', " "),
            escape(&a.ip),
            alert_port(a),
            escape(&a.message),
            seen_links(a),
            id = a.id,
            st = a.status.as_str(),
        );
    }
    format!(
        "<div class=\"scroll\"><table class=\"alerts\"><thead><tr><th>Severity</th><th>Alert</th>\
         <th>Host</th><th>Port</th><th>Message</th><th>State</th><th>Seen in runs</th></tr>\
         </thead><tbody>\n{rows}</tbody></table></div>\n"
    )
}
