//! The certificates table: the dashboard's certificates panel and `report.html`'s
//! "TLS certificates" section. Every cell is escaped (names come from the network).

use std::fmt::Write as _;

use super::escape;
use crate::report::certificates::CertificateRow;

/// Rows shown at most; the API lists them all.
const MAX_ROWS: usize = 200;

/// The table of `rows`, or `empty` (already HTML) when there are none.
pub fn certificates_table(rows: &[CertificateRow], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"none\">{empty}</p>\n");
    }
    let mut body = String::new();
    for r in rows.iter().take(MAX_ROWS) {
        let days = r.days_left.map_or_else(String::new, |d| d.to_string());
        let status = r.status();
        let class = if r.expired || r.weak {
            "badge removed"
        } else if r.expiring {
            "badge changed"
        } else {
            "badge"
        };
        let short = r.sha256.get(..16).unwrap_or(&r.sha256);
        let _ = writeln!(
            body,
            "<tr data-cert=\"{}:{}\"><td class=\"mono\">{}</td><td class=\"mono\">{}/{}</td>\
             <td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{days}</td><td>{}</td>\
             <td>{}</td><td class=\"mono\" title=\"{}\">{}</td><td><span class=\"{class}\">{}\
             </span></td></tr>",
            escape(&r.ip),
            r.port,
            escape(&r.ip),
            r.port,
            escape(&r.protocol),
            escape(&r.subject_cn),
            escape(&r.issuer),
            escape(&r.not_after),
            escape(&r.tls_versions.join(" ")),
            r.least_grade.map_or("", |g| g.as_str()),
            escape(&r.sha256),
            escape(short),
            escape(&status),
        );
    }
    let more = if rows.len() > MAX_ROWS {
        format!(
            "<p class=\"meta\">Showing {MAX_ROWS} of {}; GET /api/certificates lists them all.</p>\n",
            rows.len()
        )
    } else {
        String::new()
    };
    format!(
        "<table class=\"certificates\"><thead><tr><th>Host</th><th>Port</th><th>Subject CN</th>\
         <th>Issuer</th><th>Not after</th><th>Days left</th><th>TLS versions</th><th>Grade</th>\
         <th>SHA-256</th><th>Status</th></tr></thead><tbody>\n{body}</tbody></table>\n{more}"
    )
}
