//! The history timeline as an HTML table: one row per snapshot, newest first, each linking to
//! its run page (`/runs/{id}`; the table is only served by `api_server`).

use std::fmt::Write as _;

use super::{band_class, escape};
use crate::history::TimelineRow;

/// Snapshots with their counts, score and the delta against their predecessor.
pub fn timeline_table(rows: &[TimelineRow]) -> String {
    if rows.is_empty() {
        return "<p class=\"none\">No snapshots yet.</p>\n".to_string();
    }
    let mut out = String::new();
    for r in rows {
        let s = &r.snapshot;
        let c = &r.changes;
        let (score, band) = match (r.score, r.band) {
            (Some(n), Some(b)) => (n.to_string(), b.as_str()),
            _ => ("–".to_string(), "no score"),
        };
        let delta = match r.compared_with {
            Some(id) => format!(
                "<span class=\"status status-{0}\">{0}</span> <span class=\"meta\">vs #{id}</span>",
                r.delta_status.as_str()
            ),
            None => "<span class=\"meta\">baseline</span>".to_string(),
        };
        let failed = if s.targets_failed > 0 {
            format!(" <span class=\"meta\">({} failed)</span>", s.targets_failed)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"mono\"><a href=\"/runs/{id}\">#{id}</a></td><td>{}</td><td>{}</td><td>{}{failed}</td><td>{}</td>\
             <td>{}</td><td><b class=\"{cls}\">{score}</b> <span class=\"{cls}\">{band}</span></td>\
             <td>{delta}</td><td><span class=\"badge new\">+{}</span> <span class=\"badge removed\">\
             −{}</span> <span class=\"badge changed\">~{}</span> <span class=\"meta\">+{} −{} hosts\
             </span></td></tr>",
            escape(&crate::report::text::time(s.started_at)),
            escape(&s.profile),
            s.targets_total,
            s.hosts_up,
            s.open_ports,
            c.ports_opened,
            c.ports_closed,
            c.services_changed,
            c.new_hosts,
            c.gone_hosts,
            cls = band_class(r.band),
            id = s.id,
        );
    }
    format!(
        "<table class=\"timeline\"><thead><tr><th>Snapshot</th><th>Started (UTC)</th>\
         <th>Profile</th><th>Targets</th><th>Hosts up</th><th>Open ports</th><th>Score</th>\
         <th>Delta</th><th>Changes</th></tr></thead><tbody>\n{out}</tbody></table>\n"
    )
}
