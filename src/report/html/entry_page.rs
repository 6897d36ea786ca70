//! `/entries/{entry}`: one `targets.txt` entry over time: its score and open ports per run
//! (the history chart, narrowed to the entry), one row per run, and its changes run by run.

use std::fmt::Write as _;

use super::cards::EntryPoint;
use super::*;
use crate::report::text::plural;

/// The whole entry page; `points` newest first (at least one).
pub fn render(entry: &str, points: &[EntryPoint]) -> String {
    let mut body = nav("entry");
    let _ = writeln!(
        body,
        "<h1>Entry <span class=\"mono\">{}</span></h1>",
        escape(entry)
    );
    let Some(latest) = points.first() else {
        body.push_str("<p class=\"none\">No run scanned this entry.</p>\n");
        return page(&format!("Entry {entry}"), &body);
    };
    let l = &latest.row;
    let (score, band) = match (l.score, l.band) {
        (Some(n), Some(b)) => (n.to_string(), b.as_str()),
        _ => ("–".to_string(), "no score"),
    };
    let _ = writeln!(
        body,
        "<p class=\"meta\">latest <a href=\"/runs/{id}\">run #{id}</a> ({}) &middot; score <b>{score}</b> \
         ({band}) &middot; {} host{} up, {} open port{} &middot; {} run{} shown</p>",
        escape(&crate::report::text::time(l.snapshot.started_at)),
        l.snapshot.hosts_up,
        plural(l.snapshot.hosts_up as usize),
        l.snapshot.open_ports,
        plural(l.snapshot.open_ports as usize),
        points.len(),
        plural(points.len()),
        id = l.snapshot.id,
    );
    let q = url_component(entry);
    let _ = writeln!(
        body,
        "<nav class=\"exports\" aria-label=\"This history as data\"><b>This history</b> \
         <a href=\"/api/entries/{q}\">JSON</a> <a href=\"/api/entries/{q}?format=csv\">CSV</a></nav>"
    );
    let rows: Vec<TimelineRow> = points.iter().map(|p| p.row.clone()).collect();
    body.push_str("<h2>Score and open ports over time</h2>\n");
    body.push_str(&history_chart(&rows));
    body.push_str("<h2>Runs</h2>\n");
    body.push_str(&timeline_table(&rows));
    body.push_str("<h2>Changes</h2>\n");
    let mut any = false;
    for p in points.iter().filter(|p| !p.changes.is_empty()) {
        any = true;
        let _ = writeln!(
            body,
            "<h3><a href=\"/runs/{id}\">Run #{id}</a> <span class=\"meta\">{}</span></h3>",
            escape(&crate::report::text::time(p.row.snapshot.started_at)),
            id = p.row.snapshot.id
        );
        body.push_str(&changes_table(&p.changes));
    }
    if !any {
        body.push_str("<p class=\"none\">No change in the runs shown.</p>\n");
    }
    page(&format!("Entry {entry}"), &body)
}
