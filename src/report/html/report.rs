//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, no fetches), made
//! of the shared fragments of [`super`].

use std::fmt::Write as _;

use super::*;
use crate::model::Grade;
use crate::report::certificates::{self, CertPolicy, CertificateRow};

/// Title line and what the run was.
pub fn heading(snapshot: &Snapshot, delta: &Delta) -> String {
    let id = snapshot
        .id
        .map_or_else(|| "not saved".to_string(), |id| format!("snapshot {id}"));
    let compared = match (&delta.from, &delta.note) {
        (_, Some(note)) => escape(note),
        (Some(from), None) => {
            let what = match (from.snapshot, &from.file) {
                (Some(id), _) => format!("snapshot {id}"),
                (None, Some(file)) => escape(file),
                (None, None) => "an earlier scan".to_string(),
            };
            format!(
                "compared with {what} of {}",
                escape(&crate::report::text::time(from.started_at))
            )
        }
        (None, None) => String::new(),
    };
    format!(
        "<h1>Network scan report</h1>\n<p class=\"meta\">{} &middot; profile <b>{}</b> &middot; \
         started {} &middot; {} &middot; {}</p>\n",
        escape(&id),
        escape(&snapshot.profile),
        escape(&crate::report::text::time(snapshot.started_at)),
        crate::report::text::counts_line(
            snapshot.targets.len(),
            snapshot.hosts_up(),
            snapshot.open_ports()
        ),
        compared
    )
}

/// The whole `report.html` of a snapshot and its delta; `timeline` feeds the history chart.
/// The snapshot's TLS ports, judged at the end of the run with the default thresholds
/// (`[alerts] cert_expiry_days` 30, `[tls] min_grade` C): a report reads the same whenever it
/// is opened.
fn tls_rows(snapshot: &Snapshot) -> Vec<CertificateRow> {
    let policy = CertPolicy {
        now: snapshot.finished_at,
        expiring_within: 30,
        min_grade: Grade::C,
    };
    certificates::of_snapshot(snapshot, &policy)
}

pub fn run_report(snapshot: &Snapshot, delta: &Delta, timeline: &[TimelineRow]) -> String {
    let mut body = heading(snapshot, delta);
    body.push_str("<div class=\"cards\">\n");
    body.push_str(&score_card(&delta.score, delta.status));
    body.push_str(&summary_card(delta));
    body.push_str("</div>\n");
    if let Some(note) = &delta.note {
        let _ = writeln!(
            body,
            "<h2>Comparison</h2>\n<p class=\"note\">{}</p>",
            escape(note)
        );
    }
    body.push_str("<h2>Changes</h2>\n");
    body.push_str(&changes_table(&delta.changes));
    body.push_str("<h2>Not compared</h2>\n");
    body.push_str(&not_compared_table(&delta.not_compared, snapshot));
    body.push_str("<h2>History</h2>\n");
    body.push_str(&history_chart(timeline));
    if delta.score.entries.len() > 1 {
        body.push_str("<h2>Score by targets.txt entry</h2>\n");
        body.push_str(&entry_scores_table(&delta.score));
    }
    body.push_str("<h2>Open ports now</h2>\n");
    body.push_str(&open_ports_table(snapshot));
    let certs = tls_rows(snapshot);
    if !certs.is_empty() {
        body.push_str(
            "<h2 id=\"certificates\">TLS certificates <span class=\"meta\">(days left at the \
             end of the run; grade and versions from ssl-enum-ciphers)</span></h2>\n",
        );
        body.push_str(&certificates_table(&certs, ""));
    }
    let _ = writeln!(
        body,
        "<footer>daily_scan {} &middot; nmap {} &middot; <span class=\"mono\">{}</span></footer>",
        env!("CARGO_PKG_VERSION"),
        escape(&snapshot.nmap_version),
        escape(&snapshot.nmap_args)
    );
    let title = match snapshot.id {
        Some(id) => format!("Scan report: snapshot {id} ({})", snapshot.profile),
        None => format!("Scan report ({})", snapshot.profile),
    };
    page(&title, &body)
}
