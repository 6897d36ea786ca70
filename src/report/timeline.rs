//! `daily_scan history`: the timeline as a text table or CSV.

use super::text::clean;
use crate::history::TimelineRow;
use crate::store::SnapshotSummary;

/// `daily_scan history` as a table, newest first.
pub fn table(rows: &[TimelineRow]) -> String {
    if rows.is_empty() {
        return "No snapshots.\n".to_string();
    }
    let header = [
        "ID",
        "STARTED (UTC)",
        "PROFILE",
        "STATUS",
        "TARGETS",
        "UP",
        "OPEN",
        "SCORE",
        "DELTA",
        "CHANGES",
    ];
    let cells: Vec<[String; 10]> = rows
        .iter()
        .map(|r| {
            let s = &r.snapshot;
            let c = &r.changes;
            let delta = match r.compared_with {
                Some(id) => format!("{} vs {id}", r.delta_status.as_str()),
                None => "baseline".to_string(),
            };
            let changes = format!(
                "+{} -{} ~{} ports, +{} -{} hosts, {} not compared",
                c.ports_opened,
                c.ports_closed,
                c.services_changed,
                c.new_hosts,
                c.gone_hosts,
                c.not_compared
            );
            [
                s.id.to_string(),
                s.started_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                clean(&s.profile).into_owned(),
                s.status.as_str().to_string(),
                if s.targets_failed > 0 {
                    format!("{} ({} failed)", s.targets_total, s.targets_failed)
                } else {
                    s.targets_total.to_string()
                },
                s.hosts_up.to_string(),
                s.open_ports.to_string(),
                match (r.score, r.band) {
                    (Some(n), Some(b)) => format!("{n} {}", b.as_str()),
                    _ => "-".to_string(),
                },
                delta,
                changes,
            ]
        })
        .collect();
    super::table::render(&header, &cells, &[0, 5, 6])
}

/// The CSV columns of a snapshot summary, the same in `daily_scan history --format csv` and
/// `GET /api/snapshots?format=csv`.
pub const SUMMARY_COLUMNS: [&str; 9] = [
    "id",
    "started_at",
    "finished_at",
    "profile",
    "status",
    "targets_total",
    "targets_failed",
    "hosts_up",
    "open_ports",
];

/// One summary's cells in [`SUMMARY_COLUMNS`] order.
pub fn summary_cells(s: &SnapshotSummary) -> Vec<String> {
    vec![
        s.id.to_string(),
        s.started_at.to_string(),
        s.finished_at.to_string(),
        s.profile.clone(),
        s.status.as_str().to_string(),
        s.targets_total.to_string(),
        s.targets_failed.to_string(),
        s.hosts_up.to_string(),
        s.open_ports.to_string(),
    ]
}

/// A list of snapshot summaries as CSV (the read API's snapshot list).
pub fn summaries_csv<W: std::io::Write>(
    out: &mut W,
    rows: &[SnapshotSummary],
) -> std::io::Result<()> {
    super::csv::write_record(out, &SUMMARY_COLUMNS)?;
    for s in rows {
        super::csv::write_record(out, &summary_cells(s))?;
    }
    Ok(())
}

/// `daily_scan history --format csv`: the summary columns, then the score and the delta.
pub fn csv<W: std::io::Write>(out: &mut W, rows: &[TimelineRow]) -> std::io::Result<()> {
    let mut header: Vec<&str> = SUMMARY_COLUMNS.to_vec();
    header.extend([
        "score",
        "band",
        "compared_with",
        "delta_status",
        "new_hosts",
        "gone_hosts",
        "ports_opened",
        "ports_closed",
        "services_changed",
        "not_compared",
    ]);
    super::csv::write_record(out, &header)?;
    for r in rows {
        let c = &r.changes;
        let mut cells = summary_cells(&r.snapshot);
        cells.extend([
            r.score.map(|n| n.to_string()).unwrap_or_default(),
            r.band.map(|b| b.as_str().to_string()).unwrap_or_default(),
            r.compared_with.map(|n| n.to_string()).unwrap_or_default(),
            r.delta_status.as_str().to_string(),
            c.new_hosts.to_string(),
            c.gone_hosts.to_string(),
            c.ports_opened.to_string(),
            c.ports_closed.to_string(),
            c.services_changed.to_string(),
            c.not_compared.to_string(),
        ]);
        super::csv::write_record(out, &cells)?;
    }
    Ok(())
}
