//! `daily_scan -f targets.txt`: one batch run (see [`crate::batch`]), its report printed.

use std::io::Write;
use std::path::PathBuf;

use super::{CommandError, Outcome, ReportFormat, emit, render_delta};
use crate::batch::shard::{self, RunId, ShardOutcome, ShardSpec};
use crate::batch::{self, RunOptions, RunOutput};
use crate::config::Config;
use crate::delta::DeltaConfig;
use crate::model::Severity;

/// `--fail-on`: a severity (`critical|high|medium|low|info`) or `incomplete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// A new alert at least this severe.
    Severity(Severity),
    /// Some targets were not compared (failed, timed out, unresolved, or new).
    Incomplete,
}

impl std::str::FromStr for FailOn {
    type Err = String;

    fn from_str(s: &str) -> Result<FailOn, String> {
        if s == "incomplete" {
            return Ok(FailOn::Incomplete);
        }
        s.parse()
            .map(FailOn::Severity)
            .map_err(|_| format!("{s:?}: expected critical, high, medium, low, info or incomplete"))
    }
}

/// A batch run as asked on the command line (profile, ports and parallelism reach it through
/// the configuration).
#[derive(Debug, Clone)]
pub struct RunCommand {
    pub targets: PathBuf,
    /// What to print when the run ends.
    pub format: ReportFormat,
    /// End in [`Outcome::FailOnReached`] when the run raised a new alert at least this severe,
    /// or (`incomplete`) when some targets were not compared.
    pub fail_on: Option<FailOn>,
    /// No progress bar, and nothing printed unless the run [changed](batch::RunOutput::changed)
    /// something.
    pub quiet: bool,
    /// Print the plan and scan nothing.
    pub dry_run: bool,
    /// Keep only the latest N snapshots of each profile after the run.
    pub keep: Option<usize>,
    /// Write the run's Prometheus metrics here (atomically).
    pub metrics_file: Option<PathBuf>,
    /// This process is one shard of a sharded run (`--shard K/N --run-id ID`).
    pub shard: Option<(ShardSpec, RunId)>,
}

pub fn run(
    config: &Config,
    command: &RunCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let shards = command.shard.as_ref().map_or(1, |(spec, _)| spec.count);
    let prepared = batch::prepare_shards(config, &command.targets, shards)?;
    if !command.dry_run {
        for w in &prepared.warnings {
            log::warn!("{w}");
        }
    }
    if command.dry_run {
        let mut text = prepared.describe();
        let env = |key: &str| std::env::var(key).ok();
        for warning in batch::dry_run::config_warnings(config, &env) {
            text.push('\n');
            text.push_str(&warning);
            text.push('\n');
        }
        emit(out, text.as_bytes())?;
        return Ok(Outcome::Done);
    }
    let delta_config = DeltaConfig::from_config(config);
    let options = RunOptions {
        show_progress: !command.quiet,
        keep: command.keep,
        delta: delta_config.clone(),
        ..RunOptions::default()
    };
    let run = match &command.shard {
        None => batch::run(config, &prepared, &options)?,
        Some((spec, run_id)) => {
            match shard::run_shard(config, &prepared, *spec, run_id, &options)? {
                ShardOutcome::Finalized(run) => *run,
                other => {
                    if let Some(path) = &command.metrics_file
                        && let Some(status) = shard::status(config, run_id)?
                    {
                        let text = batch::metrics::render_shards("daily_scan_sharded_run", &status);
                        write_metrics(path, &text)?;
                    }
                    let line = shard_line(*spec, run_id, &other);
                    if !command.quiet {
                        emit(out, format!("{line}\n").as_bytes())?;
                    }
                    return Ok(Outcome::Done);
                }
            }
        }
    };
    finished(&command.printing(), &run, &delta_config, out)
}

/// How a finished run is printed and judged: the run's own options, or `finalize`'s.
#[derive(Debug, Clone)]
pub struct Printing {
    pub format: ReportFormat,
    pub quiet: bool,
    pub fail_on: Option<FailOn>,
    pub metrics_file: Option<PathBuf>,
}

impl RunCommand {
    fn printing(&self) -> Printing {
        Printing {
            format: self.format,
            quiet: self.quiet,
            fail_on: self.fail_on,
            metrics_file: self.metrics_file.clone(),
        }
    }
}

fn write_metrics(path: &std::path::Path, text: &str) -> Result<(), CommandError> {
    batch::metrics::write_atomic(path, text).map_err(CommandError::io(format!(
        "writing metrics to {}",
        path.display()
    )))
}

/// One line on how a shard that did not finalize its run ended.
fn shard_line(spec: ShardSpec, run_id: &RunId, outcome: &ShardOutcome) -> String {
    match outcome {
        ShardOutcome::Stored { done, shards } => format!(
            "run {run_id}: shard {spec} stored ({done} of {shards} shards in); the last shard \
             to finish finalizes the run"
        ),
        ShardOutcome::FinalizingElsewhere => format!(
            "run {run_id}: shard {spec} stored, every shard is in; another process holds the \
             profile's writer lock (finalizing this run, or a run of the profile): if nothing \
             finalizes it, `daily_scan finalize --run-id {run_id}` will"
        ),
        ShardOutcome::TooLate(snapshot) => format!(
            "run {run_id} was finalized already{} without shard {spec}: its result was not used",
            snapshot.map_or(String::new(), |id| format!(" (snapshot {id})"))
        ),
        ShardOutcome::Finalized(_) => format!("run {run_id}: finalized by shard {spec}"),
    }
}

/// What a finished run prints and how it ends (also a finalized sharded run's).
pub(super) fn finished(
    command: &Printing,
    run: &RunOutput,
    delta_config: &DeltaConfig,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    if let Some(path) = &command.metrics_file {
        let mut text = batch::metrics::render(&run.snapshot, &run.delta, delta_config);
        if let Some(status) = &run.sharded {
            text.push_str(&batch::metrics::render_shards(
                "daily_scan_sharded_run",
                status,
            ));
        }
        write_metrics(path, &text)?;
    }
    if !command.quiet || run.changed() {
        let report = render_delta(command.format, &run.snapshot, &run.delta, &run.timeline)?;
        emit(out, &report)?;
        if command.format == ReportFormat::Text {
            emit(
                out,
                crate::report::alerts::run_lines(&run.alerts, &run.webhooks).as_bytes(),
            )?;
            if let Some(line) = run.tls.line() {
                emit(out, format!("{line}\n").as_bytes())?;
            }
            let retention = if run.pruned.snapshots > 0 {
                format!(" (retention {})", run.pruned.summary())
            } else {
                String::new()
            };
            let reports = format!("\nReports: {}{retention}\n", run.report_dir.display());
            emit(out, reports.as_bytes())?;
        }
    }
    if run.all_failed() {
        return Ok(Outcome::AllTargetsFailed);
    }
    let reached = match command.fail_on {
        None => false,
        Some(FailOn::Severity(t)) => run.alerts.raised.iter().any(|a| a.severity >= t),
        Some(FailOn::Incomplete) => run.delta.incomplete.is_some(),
    };
    Ok(if reached {
        Outcome::FailOnReached
    } else {
        Outcome::Done
    })
}
