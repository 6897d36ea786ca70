//! `daily_scan history`: the timeline as a text table or CSV.

use super::text::clean;
use crate::history::TimelineRow;

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

/// `daily_scan history --format csv`.
pub fn csv<W: std::io::Write>(out: &mut W, rows: &[TimelineRow]) -> std::io::Result<()> {
    super::csv::write_record(
        out,
        &[
            "id",
            "started_at",
            "finished_at",
            "profile",
            "status",
            "targets_total",
            "targets_failed",
            "hosts_up",
            "open_ports",
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
        ],
    )?;
    for r in rows {
        let s = &r.snapshot;
        let c = &r.changes;
        super::csv::write_record(
            out,
            &[
                s.id.to_string(),
                s.started_at.to_string(),
                s.finished_at.to_string(),
                s.profile.clone(),
                s.status.as_str().to_string(),
                s.targets_total.to_string(),
                s.targets_failed.to_string(),
                s.hosts_up.to_string(),
                s.open_ports.to_string(),
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
            ],
        )?;
    }
    Ok(())
}
