//! daily_scan: batch scans from cron, stored as SQLite snapshots and reported as a delta.
//! This file only parses arguments, loads the configuration and maps outcomes to exit codes;
//! the work is in the library.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use security_scanner::batch::{self, BatchError, RunOptions, import, lock};
use security_scanner::config::{CliOverrides, Config, ConfigError};
use security_scanner::delta::{self, DeltaConfig};
use security_scanner::diff::{self, DiffError, Side};
use security_scanner::history;
use security_scanner::report::{self, delta_csv, diff_text, html, json, parsed, text};
use security_scanner::store::{Store, StoreError};

#[path = "daily_scan/alerts_cmd.rs"]
mod alerts_cmd;
#[path = "daily_scan/cli.rs"]
mod cli;

use cli::{Cli, Command, Format, ParseFormat, RunArgs, TableFormat};

/// How a command ended when it did not fail.
enum Outcome {
    Done,
    /// A run where every target failed, or a diff that found changes.
    NotAllGood,
    /// `--fail-on`: the run raised a new alert at least that severe.
    Threshold,
}

/// Every way a command can fail; all of them exit 2.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Batch(#[from] BatchError),
    #[error("{0}")]
    Diff(#[from] DiffError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Lock(#[from] lock::LockError),
    #[error("{0}")]
    Import(#[from] import::ImportError),
    #[error("{0}")]
    Parse(#[from] parsed::ParseCommandError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Failure {
    let what = what.into();
    move |source| Failure::Io { what, source }
}

/// The one place outcomes and failures become exit codes.
fn exit_code(result: Result<Outcome, Failure>) -> ExitCode {
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::NotAllGood) => ExitCode::from(1),
        Ok(Outcome::Threshold) => ExitCode::from(3),
        Err(e) => {
            eprintln!("daily_scan: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    exit_code(dispatch(cli))
}

fn dispatch(cli: Cli) -> Result<Outcome, Failure> {
    if cli.command.is_some() && cli.run.used() {
        return Err(Failure::Usage(
            "run options (-f, --profile, --ports, --parallel, --fail-on, --quiet, --dry-run, --keep, \
             --metrics-file) go without a sub-command"
                .into(),
        ));
    }
    let overrides = CliOverrides {
        config: cli.global.config.clone(),
        output_dir: cli.global.output_dir.clone(),
        database: cli.global.db.clone(),
        profile: cli.run.profile.clone(),
        ports: cli.run.ports.clone(),
        parallel: cli.run.parallel,
        ..CliOverrides::default()
    };
    // `parse` needs no configuration: it only reads the files it is given.
    if let Some(Command::Parse { files, format }) = &cli.command {
        security_scanner::logging::init("warn");
        return parse(files, *format);
    }
    let config = Config::load(&overrides)?;
    // --quiet: cron mails any output, so only warnings and errors are logged.
    let quiet_level = match config.log_level.to_ascii_lowercase().as_str() {
        "error" | "off" => config.log_level.as_str(),
        _ => "warn",
    };
    security_scanner::logging::init(if cli.run.quiet {
        quiet_level
    } else {
        &config.log_level
    });
    let cfg = DeltaConfig::from_config(&config);
    match cli.command {
        None => run(&config, &cli.run, &cfg),
        Some(Command::History {
            limit,
            profile,
            format,
        }) => show_history(&config, limit, profile.as_deref(), format, &cfg),
        Some(Command::Diff { from, to, format }) => diff(&config, &from, &to, format, &cfg),
        Some(Command::Report { id, format, out }) => {
            show_report(&config, id, format, out.as_deref(), &cfg)
        }
        Some(Command::Import { files, profile }) => import(&config, &files, &profile),
        Some(Command::Prune { keep }) => prune(&config, keep),
        Some(Command::Alerts {
            action,
            status,
            min_severity,
            limit,
            format,
        }) => alerts_cmd::alerts(&config, action, status, min_severity, limit, format),
        Some(Command::Parse { .. }) => unreachable!("handled above"),
    }
}

fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(io("writing to stdout"))
}

/// Renders a snapshot and its delta in `format` to stdout.
fn render(
    format: Format,
    snapshot: &security_scanner::snapshot::Snapshot,
    d: &delta::Delta,
    timeline: &[history::TimelineRow],
) -> Result<(), Failure> {
    let mut buf = Vec::new();
    match format {
        Format::Text => buf.extend(text::summary(snapshot, d).into_bytes()),
        Format::Json => json::write_delta(&mut buf, d).map_err(io("rendering JSON"))?,
        Format::Csv => delta_csv::write(&mut buf, d).map_err(io("rendering CSV"))?,
        Format::Html => buf.extend(html::run_report(snapshot, d, timeline).into_bytes()),
    }
    print(&String::from_utf8_lossy(&buf))
}

fn run(config: &Config, args: &RunArgs, cfg: &DeltaConfig) -> Result<Outcome, Failure> {
    let Some(targets) = &args.targets else {
        return Err(Failure::Usage(
            "nothing to do: give a targets file (-f targets.txt) or a sub-command; see --help"
                .into(),
        ));
    };
    let prepared = batch::prepare(config, targets)?;
    if args.dry_run {
        print(&prepared.describe())?;
        return Ok(Outcome::Done);
    }
    let options = RunOptions {
        show_progress: !args.quiet,
        keep: args.keep.map(|n| n as usize),
        delta: cfg.clone(),
        ..RunOptions::default()
    };
    let out = batch::run(config, &prepared, &options)?;
    if let Some(path) = &args.metrics_file {
        let text = batch::metrics::render(&out.snapshot, &out.delta, cfg);
        batch::metrics::write_atomic(path, &text)
            .map_err(io(format!("writing metrics to {}", path.display())))?;
    }
    let changed = !out.delta.changes.is_empty()
        || !out.alerts.raised.is_empty()
        || !out.alerts.resolved.is_empty()
        || out.snapshot.status != security_scanner::snapshot::SnapshotStatus::Complete;
    if !args.quiet || changed {
        render(args.format, &out.snapshot, &out.delta, &out.timeline)?;
        if args.format == Format::Text {
            print(&security_scanner::report::alerts::run_lines(
                &out.alerts,
                &out.webhooks,
            ))?;
            print(&format!(
                "\nReports: {}{}\n",
                out.report_dir.display(),
                if out.pruned > 0 {
                    format!(" (retention deleted {} old snapshots)", out.pruned)
                } else {
                    String::new()
                }
            ))?;
        }
    }
    if out.all_failed() {
        return Ok(Outcome::NotAllGood);
    }
    let reached = args
        .fail_on
        .is_some_and(|t| out.alerts.raised.iter().any(|a| a.severity >= t));
    Ok(if reached {
        Outcome::Threshold
    } else {
        Outcome::Done
    })
}

fn read_store(config: &Config) -> Result<Store, Failure> {
    Ok(Store::open_read_only(&config.database_path())?)
}

fn show_history(
    config: &Config,
    limit: usize,
    profile: Option<&str>,
    format: TableFormat,
    cfg: &DeltaConfig,
) -> Result<Outcome, Failure> {
    let store = read_store(config)?;
    let rows = history::timeline(&store, limit, profile, None, cfg)?;
    let mut buf = Vec::new();
    match format {
        TableFormat::Text => buf = report::timeline::table(&rows).into_bytes(),
        TableFormat::Json => {
            serde_json::to_writer_pretty(&mut buf, &rows)
                .map_err(|e| io("rendering JSON")(e.into()))?;
            buf.push(b'\n');
        }
        TableFormat::Csv => report::timeline::csv(&mut buf, &rows).map_err(io("rendering CSV"))?,
    }
    print(&String::from_utf8_lossy(&buf))?;
    Ok(Outcome::Done)
}

fn diff(
    config: &Config,
    from: &str,
    to: &str,
    format: Format,
    cfg: &DeltaConfig,
) -> Result<Outcome, Failure> {
    let d = diff::diff(
        &Side::parse(from),
        &Side::parse(to),
        &config.database_path(),
        cfg,
    )?;
    let mut buf = Vec::new();
    match format {
        Format::Text => diff_text::write(&mut buf, &d.from, &d.to, &d.delta)
            .map_err(io("rendering the diff"))?,
        Format::Json => json::write_delta(&mut buf, &d.delta).map_err(io("rendering JSON"))?,
        Format::Csv => delta_csv::write(&mut buf, &d.delta).map_err(io("rendering CSV"))?,
        Format::Html => buf = html::run_report(&d.to, &d.delta, &[]).into_bytes(),
    }
    print(&String::from_utf8_lossy(&buf))?;
    let same = d.delta.changes.is_empty();
    // The process exits next: freeing two snapshots' worth of small allocations (hundreds of
    // MB for large scans) would only delay the exit, so the memory is left to the OS.
    std::mem::forget(d);
    Ok(if same {
        Outcome::Done
    } else {
        Outcome::NotAllGood
    })
}

fn show_report(
    config: &Config,
    id: Option<i64>,
    format: Format,
    out: Option<&Path>,
    cfg: &DeltaConfig,
) -> Result<Outcome, Failure> {
    let store = read_store(config)?;
    let id = match id {
        Some(id) => id,
        None => store.latest_snapshot_id(None)?.ok_or_else(|| {
            Failure::Usage(format!(
                "database {} holds no snapshot yet",
                config.database_path().display()
            ))
        })?,
    };
    let snapshot = store.load_snapshot(id)?;
    let d = history::delta_of(&store, id, &snapshot, cfg)?;
    let timeline = history::timeline(
        &store,
        history::CHART_POINTS,
        Some(&snapshot.profile),
        Some(id),
        cfg,
    )?;
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).map_err(io(dir.display().to_string()))?;
        report::write_run_files(dir, &snapshot, &d, &timeline)
            .map_err(io(dir.display().to_string()))?;
    }
    render(format, &snapshot, &d, &timeline)?;
    Ok(Outcome::Done)
}

/// The database for writing: its directory is created when it is the default one.
fn write_store(config: &Config) -> Result<(Store, lock::WriterLock), Failure> {
    if config.database.is_none() {
        std::fs::create_dir_all(&config.output_dir)
            .map_err(io(config.output_dir.display().to_string()))?;
    }
    let db = config.database_path();
    let guard = lock::WriterLock::acquire(&db)?;
    Ok((Store::open(&db)?, guard))
}

fn import(config: &Config, files: &[PathBuf], profile: &str) -> Result<Outcome, Failure> {
    let (mut store, _guard) = write_store(config)?;
    for file in files {
        let s = import::import_file(&mut store, file, profile)?;
        print(&format!(
            "{}: snapshot {} (profile {}, {}), {} hosts up, {} open ports\n",
            file.display(),
            s.id.unwrap_or_default(),
            profile,
            s.status.as_str(),
            s.hosts_up(),
            s.open_ports()
        ))?;
    }
    Ok(Outcome::Done)
}

fn prune(config: &Config, keep: Option<u32>) -> Result<Outcome, Failure> {
    if keep.is_none() && config.batch.retention_days == 0 {
        return Err(Failure::Usage(
            "nothing to prune: give --keep N or set batch.retention_days".into(),
        ));
    }
    let (mut store, _guard) = write_store(config)?;
    let deleted = batch::retention(
        &mut store,
        config.batch.retention_days,
        keep.map(|n| n as usize),
    )?;
    print(&format!("deleted {deleted} snapshots\n"))?;
    Ok(Outcome::Done)
}

fn parse(files: &[PathBuf], format: ParseFormat) -> Result<Outcome, Failure> {
    let parsed = parsed::parse_files(files)?;
    let mut out = std::io::stdout().lock();
    match format {
        ParseFormat::Json => parsed::write_json(&mut out, &parsed)?,
        ParseFormat::Csv => parsed::write_csv(&mut out, &parsed)?,
    }
    Ok(Outcome::Done)
}
