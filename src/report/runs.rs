//! `daily_scan runs` as a table and as CSV: one line per sharded run with its shards' counts.

use std::io::{self, Write};

use super::csv::write_record;
use super::text::{clean, time};
use crate::store::ShardRun;

/// The columns, in the table's and the CSV's order.
pub const HEADER: [&str; 9] = [
    "RUN", "STARTED", "SHARDS", "DONE", "FAILED", "RUNNING", "MISSING", "SNAPSHOT", "STATE",
];

/// Where the run stands: `finalized`, `complete` (every part in, finalize pending), or
/// `waiting`.
pub fn state(run: &ShardRun) -> &'static str {
    if run.finalized_at.is_some() {
        "finalized"
    } else if run.stored() >= run.shards {
        "complete"
    } else {
        "waiting"
    }
}

/// One table row.
pub fn row(run: &ShardRun) -> Vec<String> {
    vec![
        clean(&run.run_id).into_owned(),
        time(run.created_at),
        run.shards.to_string(),
        run.done().to_string(),
        run.failed().to_string(),
        run.running().to_string(),
        run.missing().to_string(),
        run.snapshot_id.map_or("-".into(), |id| id.to_string()),
        state(run).to_string(),
    ]
}

pub fn csv<W: Write>(out: &mut W, runs: &[ShardRun]) -> io::Result<()> {
    let header: Vec<String> = HEADER.iter().map(|h| h.to_lowercase()).collect();
    write_record(out, &header)?;
    for run in runs {
        let mut cells = row(run);
        cells[1] = run.created_at.to_string();
        cells[7] = run.snapshot_id.map_or(String::new(), |id| id.to_string());
        write_record(out, &cells)?;
    }
    Ok(())
}
