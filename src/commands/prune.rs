//! `daily_scan prune`: apply retention now.

use std::io::Write;

use super::{CommandError, Outcome, emit};
use crate::batch;
use crate::config::Config;

#[derive(Debug, Clone, Default)]
pub struct PruneCommand {
    /// Keep only the latest N snapshots of each profile (on top of `batch.retention_days`).
    pub keep: Option<usize>,
}

pub fn prune(
    config: &Config,
    command: &PruneCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    if command.keep.is_none() && config.batch.retention_days == 0 {
        return Err(CommandError::Usage(
            "nothing to prune: give --keep N or set batch.retention_days".into(),
        ));
    }
    let (mut store, _lock) = batch::open_for_writing(config, None)?;
    let pruned = batch::retention(
        &mut store,
        &config.output_dir,
        config.batch.retention_days,
        command.keep,
    )?;
    emit(out, format!("{}\n", pruned.summary()).as_bytes())?;
    Ok(Outcome::Done)
}
