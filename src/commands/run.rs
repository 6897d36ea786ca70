//! `daily_scan -f targets.txt`: one batch run (see [`crate::batch`]), its report printed.

use std::io::Write;
use std::path::PathBuf;

use super::{CommandError, Outcome, ReportFormat, emit, render_delta};
use crate::batch::{self, RunOptions};
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
}

pub fn run(
    config: &Config,
    command: &RunCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let prepared = batch::prepare(config, &command.targets)?;
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
    let run = batch::run(config, &prepared, &options)?;
    if let Some(path) = &command.metrics_file {
        let text = batch::metrics::render(&run.snapshot, &run.delta, &delta_config);
        batch::metrics::write_atomic(path, &text).map_err(CommandError::io(format!(
            "writing metrics to {}",
            path.display()
        )))?;
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
