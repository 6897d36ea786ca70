//! `daily_scan finalize`: finalizes a sharded run whose missing shards never came, or (with
//! `--after` alone) every such run older than that: the safety net a CronJob runs.

use std::io::Write;
use std::time::Duration;

use super::run::{Printing, finished};
use super::{CommandError, Outcome, emit};
use crate::batch::RunOptions;
use crate::batch::shard::{self, Finalize, Finalized, RunId};
use crate::config::Config;
use crate::delta::DeltaConfig;

#[derive(Debug, Clone)]
pub struct FinalizeCommand {
    /// The run; `None`: every unfinalized run older than `after`.
    pub run_id: Option<RunId>,
    /// Finalize only a complete run or one older than this.
    pub after: Option<Duration>,
    pub printing: Printing,
}

pub fn finalize(
    config: &Config,
    command: &FinalizeCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let delta_config = DeltaConfig::from_config(config);
    let options = RunOptions {
        show_progress: false,
        delta: delta_config.clone(),
        ..RunOptions::default()
    };
    let (runs, when) = match (&command.run_id, command.after) {
        (Some(id), None) => (vec![id.clone()], Finalize::Now),
        (Some(id), Some(after)) => (vec![id.clone()], Finalize::After(after)),
        (None, Some(after)) => (shard::stale_runs(config, after)?, Finalize::After(after)),
        (None, None) => {
            return Err(CommandError::Usage(
                "finalize what? give --run-id ID, or --after DURATION (e.g. 3h) for every \
                 sharded run older than that"
                    .into(),
            ));
        }
    };
    if runs.is_empty() && !command.printing.quiet {
        emit(out, b"No sharded run is waiting to be finalized.\n")?;
    }
    let mut outcome = Outcome::Done;
    for id in &runs {
        let line = match shard::finalize(config, id, &options, when)? {
            Finalized::Done(run) => {
                let ended = finished(&command.printing, &run, &delta_config, out)?;
                if ended != Outcome::Done {
                    outcome = ended;
                }
                continue;
            }
            Finalized::Already(Some(snapshot)) => {
                format!("run {id} was finalized already (snapshot {snapshot})")
            }
            Finalized::Already(None) => format!("run {id} was finalized already"),
            Finalized::Busy => format!(
                "run {id}: another process holds its profile's writer lock (finalizing it, or \
                 a run); try again later"
            ),
            Finalized::Waiting { run } => format!(
                "run {id}: {} of {} shards in, started {}; not finalized (give --after, or no \
                 --after to finalize now)",
                run.done(),
                run.shards,
                crate::report::text::time(run.created_at)
            ),
        };
        if !command.printing.quiet {
            emit(out, format!("{line}\n").as_bytes())?;
        }
    }
    Ok(outcome)
}
