//! `daily_scan diff FROM TO`: compare two scans (snapshot ids or nmap XML files), ndiff-style.
//!
//! Two steps, [`compare`] then [`write`], so a caller about to exit can keep the comparison
//! alive and leave its memory to the OS: two 65,536-host snapshots are ~550 MB of small
//! allocations, and freeing them took ~8% of the whole command.

use std::io::Write;

use super::{CommandError, Outcome, ReportFormat, emit, render_delta};
use crate::config::Config;
use crate::delta::DeltaConfig;
use crate::diff::{self, Diff, Side};
use crate::report::diff_text;

#[derive(Debug, Clone)]
pub struct DiffCommand {
    pub from: Side,
    pub to: Side,
    pub format: ReportFormat,
}

/// Loads both sides and compares them.
pub fn compare(config: &Config, command: &DiffCommand) -> Result<Diff, CommandError> {
    let delta_config = DeltaConfig::from_config(config);
    Ok(diff::diff(
        &command.from,
        &command.to,
        &config.database(),
        &delta_config,
    )?)
}

/// Prints the comparison; [`Outcome::DiffFoundChanges`] when the scans differ.
pub fn write(
    comparison: &Diff,
    format: ReportFormat,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let Diff { from, to, delta } = comparison;
    let text = match format {
        ReportFormat::Text => {
            let mut buf = Vec::new();
            diff_text::write(&mut buf, from, to, delta)
                .map_err(CommandError::io("rendering the diff"))?;
            buf
        }
        // Only the HTML page shows a snapshot: the TO side, without a timeline.
        other => render_delta(other, to, delta, &[])?,
    };
    emit(out, &text)?;
    Ok(if delta.changes.is_empty() {
        Outcome::Done
    } else {
        Outcome::DiffFoundChanges
    })
}
