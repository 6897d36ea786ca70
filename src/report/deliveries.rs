//! `daily_scan alerts deliveries` as a text table or CSV: what was sent to which webhook, when,
//! and what came back. Webhook names and errors may hold any text, so control characters are
//! escaped (text) or guarded (CSV).

use std::io;

use super::csv::write_record;
use super::text::clean;
use crate::store::Delivery;

/// `daily_scan alerts deliveries`, newest first.
pub fn table(list: &[Delivery]) -> String {
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
    super::table::render(
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
pub fn csv<W: io::Write>(out: &mut W, list: &[Delivery]) -> io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_deliveries_says_so() {
        assert_eq!(table(&[]), "No webhook deliveries.\n");
    }
}
