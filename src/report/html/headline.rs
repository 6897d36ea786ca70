//! The dashboard's first line: one sentence on the latest run, coloured by its status.

use super::cards::ProfileState;
use super::escape;
use crate::delta::{Change, ChangeKind, DeltaStatus, Summary};
use crate::report::text::plural;

/// One sentence on the latest run, coloured by its status: what a reader needs first.
pub(super) fn headline(latest: &ProfileState, open_alerts: usize) -> String {
    let delta = &latest.delta;
    let since = match delta.from.as_ref().and_then(|f| f.snapshot) {
        Some(id) => format!("since snapshot #{id}"),
        None => String::new(),
    };
    let alerts = match open_alerts {
        0 => "no open alerts".to_string(),
        1 => "<a href=\"#alerts\">1 open alert</a>".to_string(),
        n => format!("<a href=\"#alerts\">{n} open alerts</a>"),
    };
    let score = match (delta.score.overall, delta.score.band) {
        (Some(n), Some(b)) => format!("score {n} ({})", b.as_str()),
        _ => "no score (no target completed)".to_string(),
    };
    let (class, lead, detail) = match (delta.status, &delta.from) {
        (DeltaStatus::Failed, _) => (
            "critical",
            "Failed".to_string(),
            "no target completed: nothing is known about this run".to_string(),
        ),
        (_, None) => (
            "stable",
            "Baseline".to_string(),
            "the first snapshot of this profile: nothing to compare with yet".to_string(),
        ),
        (DeltaStatus::Stable, Some(_)) => (
            "stable",
            "Stable".to_string(),
            format!("nothing changed {since}"),
        ),
        (DeltaStatus::Changes, Some(_)) => (
            "changes",
            "Changes".to_string(),
            format!("{} {since}, none critical", change_counts(&delta.summary)),
        ),
        (DeltaStatus::Critical, Some(_)) => {
            let mut worst: Vec<&Change> = delta
                .changes
                .iter()
                .filter(|c| c.kind == ChangeKind::PortOpened)
                .collect();
            worst.sort_by_key(|c| std::cmp::Reverse(c.severity));
            let named: Vec<String> = worst
                .iter()
                .take(3)
                .map(|c| match &c.port {
                    Some(p) => format!(
                        "<b>{}/{}</b> on <b>{}</b> ({})",
                        p.port,
                        escape(&p.protocol),
                        escape(&c.ip),
                        c.severity.as_str()
                    ),
                    None => escape(&c.ip),
                })
                .collect();
            let more = worst.len().saturating_sub(3);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            (
                "critical",
                "Critical change".to_string(),
                format!(
                    "opened {since}: {}{more} &middot; {}",
                    named.join(", "),
                    change_counts(&delta.summary)
                ),
            )
        }
    };
    let not_compared = match (delta.incomplete, delta.summary.not_compared) {
        (Some(i), _) => format!(" &middot; {}", i.text()),
        (None, 0) => String::new(),
        (None, n) => format!(" &middot; {n} not compared"),
    };
    let unconfirmed = match delta.summary.unconfirmed {
        0 => String::new(),
        n => format!(" &middot; {n} unconfirmed (did not hold when re-checked)"),
    };
    format!(
        "<div class=\"headline headline-{class}\"><b>{lead}</b>: {detail} &middot; {score} \
         &middot; {alerts}{not_compared}{unconfirmed}</div>\n"
    )
}

fn change_counts(s: &Summary) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (s.ports_opened, "opened"),
        (s.ports_closed, "closed"),
        (s.services_changed, "changed"),
    ] {
        if n > 0 {
            parts.push(format!("{n} port{} {what}", plural(n)));
        }
    }
    for (n, what) in [(s.new_hosts, "new"), (s.gone_hosts, "gone")] {
        if n > 0 {
            parts.push(format!("{n} host{} {what}", plural(n)));
        }
    }
    if parts.is_empty() {
        "no changes".to_string()
    } else {
        parts.join(", ")
    }
}
