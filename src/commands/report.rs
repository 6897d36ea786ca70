//! `daily_scan report [ID]`: re-render the report of a stored snapshot.

use std::io::Write;
use std::path::PathBuf;

use super::{CommandError, Outcome, ReportFormat, emit, read_store, render_delta};
use crate::config::Config;
use crate::delta::DeltaConfig;
use crate::history;
use crate::report;

#[derive(Debug, Clone)]
pub struct ReportCommand {
    /// The snapshot; the latest when `None`.
    pub id: Option<i64>,
    pub format: ReportFormat,
    /// Also write the run's report files (scan.json, delta.json, delta.csv, report.html) here.
    pub out: Option<PathBuf>,
}

pub fn report(
    config: &Config,
    command: &ReportCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let store = read_store(config)?;
    let id = match command.id {
        Some(id) => id,
        None => store.latest_snapshot_id(None)?.ok_or_else(|| {
            CommandError::Usage(format!("database {} holds no snapshot yet", store.name()))
        })?,
    };
    let delta_config = DeltaConfig::from_config(config);
    let snapshot = store.load_snapshot(id)?;
    let delta = history::delta_of(&store, id, &snapshot, &delta_config)?;
    let timeline = history::timeline(
        &store,
        history::CHART_POINTS,
        Some(&snapshot.profile),
        Some(id),
        &delta_config,
    )?;
    if let Some(dir) = &command.out {
        let what = dir.display().to_string();
        std::fs::create_dir_all(dir).map_err(CommandError::io(&what))?;
        report::write_run_files(dir, &snapshot, &delta, &timeline)
            .map_err(CommandError::io(what))?;
    }
    emit(
        out,
        &render_delta(command.format, &snapshot, &delta, &timeline)?,
    )?;
    Ok(Outcome::Done)
}
