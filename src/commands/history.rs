//! `daily_scan history`: the timeline of stored snapshots.

use std::io::Write;

use super::{CommandError, Outcome, TableFormat, csv_text, emit, json_text, read_store_if_any};
use crate::config::Config;
use crate::delta::DeltaConfig;
use crate::history;
use crate::report::timeline;

#[derive(Debug, Clone)]
pub struct HistoryCommand {
    /// Most snapshots shown, newest first.
    pub limit: usize,
    /// Only snapshots of this profile (as stored, e.g. `default+ports=22,80`).
    pub profile: Option<String>,
    pub format: TableFormat,
}

/// What `history` says when there is no snapshot (a fresh install: no database yet).
pub const NOTHING_YET: &str =
    "No snapshots yet: `daily_scan -f targets.txt` runs the first scan.\n";

pub fn history(
    config: &Config,
    command: &HistoryCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let delta_config = DeltaConfig::from_config(config);
    let rows = match read_store_if_any(config)? {
        Some(store) => history::timeline(
            &store,
            command.limit,
            command.profile.as_deref(),
            None,
            &delta_config,
        )?,
        None => Vec::new(),
    };
    let text = match command.format {
        TableFormat::Text if rows.is_empty() => NOTHING_YET.as_bytes().to_vec(),
        TableFormat::Text => timeline::table(&rows).into_bytes(),
        TableFormat::Json => json_text(&rows)?,
        TableFormat::Csv => csv_text(|w| timeline::csv(w, &rows))?,
    };
    emit(out, &text)?;
    Ok(Outcome::Done)
}
