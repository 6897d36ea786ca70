//! `daily_scan history`: the timeline of stored snapshots.

use std::io::Write;

use super::{CommandError, Outcome, TableFormat, csv_text, emit, json_text, read_store};
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

pub fn history(
    config: &Config,
    command: &HistoryCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let store = read_store(config)?;
    let delta_config = DeltaConfig::from_config(config);
    let rows = history::timeline(
        &store,
        command.limit,
        command.profile.as_deref(),
        None,
        &delta_config,
    )?;
    let text = match command.format {
        TableFormat::Text => timeline::table(&rows).into_bytes(),
        TableFormat::Json => json_text(&rows)?,
        TableFormat::Csv => csv_text(|w| timeline::csv(w, &rows))?,
    };
    emit(out, &text)?;
    Ok(Outcome::Done)
}
