//! daily_scan's command line (clap derive): the batch run's options and the sub-commands, and
//! their conversion into the library's typed commands ([`security_scanner::commands`]).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use security_scanner::batch::shard;
use security_scanner::commands::run::{FailOn, RunCommand};
use security_scanner::commands::{self, CommandError};
use security_scanner::config::CliOverrides;

mod subcommands;
pub use subcommands::*;

const EXIT_CODES: &str = "Exit codes: 0 done (diff: same), 1 every target failed (diff: different; \
notify: a destination did not take its message), \
2 usage, configuration or runtime error, 3 --fail-on: the run raised a new alert at least that severe.";

#[derive(Debug, Parser)]
#[command(
    name = "daily_scan",
    version,
    about = "Scan targets.txt with nmap, store a snapshot, report what changed",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: $SCANNER_CONFIG, else ./config.toml when present].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// SQLite file or postgres:// URL [env: SCANNER_DATABASE; default: <output_dir>/scans.db].
    #[arg(long, global = true, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// Where each run writes its report folder [config: output_dir].
    #[arg(long, global = true, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Targets file: one address, hostname, CIDR block, range or comma list per line
    /// [default: ./targets.txt when there is one].
    #[arg(short = 'f', long = "targets", value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// Scan profile: quick, default, stealth, tcp_full, udp_common, udp_full [config: batch.profile].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Ports to scan instead of the profile's, e.g. 22,80,8000-8100 [config: batch.ports].
    #[arg(long, value_name = "SPEC")]
    pub ports: Option<String>,
    /// nmap processes at once [config: batch.parallel].
    #[arg(long, value_name = "N")]
    pub parallel: Option<usize>,
    /// What to print when the run ends.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 3 when the run raised a new alert at least this severe (critical, high, medium,
    /// low, info; alerts already open, acknowledged or ignored do not count), or, with
    /// `incomplete`, when some targets were not compared.
    #[arg(long, value_name = "SEVERITY|incomplete")]
    pub fail_on: Option<FailOn>,
    /// Print nothing unless something changed (a change, a new or resolved alert) or failed:
    /// for cron, which mails any output.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the plan (targets, nmap runs, exact command lines) and scan nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run the TLS pass (certificates, protocol versions) after the port scan
    /// [config: tls.enabled, default on].
    #[arg(long, overrides_with = "no_tls")]
    pub tls: bool,
    /// Skip the TLS pass this run.
    #[arg(long, overrides_with = "tls")]
    pub no_tls: bool,
    /// After the run, keep only the latest N snapshots of each profile (then VACUUM).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep: Option<u32>,
    /// After the run, write its metrics here in Prometheus text format (atomically), for
    /// node_exporter's textfile collector, e.g. /var/lib/node_exporter/daily_scan.prom.
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// Run as shard K of N (0-based) of one run whose shards meet in PostgreSQL
    /// [env: JOB_COMPLETION_INDEX and SCANNER_SHARDS].
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// The run this shard belongs to, the same for every shard (a Kubernetes Job's name)
    /// [env: SCANNER_RUN_ID].
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
}

impl Cli {
    /// Run options make no sense with a sub-command.
    pub fn check_usage(&self) -> Result<(), CommandError> {
        if self.command.is_some() && self.run.used() {
            return Err(CommandError::Usage(
                "run options (-f, --profile, --ports, --parallel, --fail-on, --quiet, --dry-run, \
                 --keep, --metrics-file, --tls, --no-tls, --shard, --run-id) go without a \
                 sub-command"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The flags that override the configuration.
    pub fn overrides(&self) -> CliOverrides {
        CliOverrides {
            config: self.global.config.clone(),
            output_dir: self.global.output_dir.clone(),
            database: self.global.db.clone(),
            profile: self.run.profile.clone(),
            ports: self.run.ports.clone(),
            parallel: self.run.parallel,
            tls: match (self.run.tls, self.run.no_tls) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            ..CliOverrides::default()
        }
    }
}

impl RunArgs {
    /// The batch run asked for; without a targets file there is nothing to do.
    pub fn command(self) -> Result<RunCommand, CommandError> {
        let default = PathBuf::from("targets.txt");
        let targets = match self.targets {
            Some(t) => t,
            None if default.is_file() => default,
            None => {
                return Err(CommandError::Usage(
                    "nothing to do: no targets.txt here; give a targets file (-f FILE) or a \
                     sub-command; see --help"
                        .into(),
                ));
            }
        };
        Ok(RunCommand {
            targets,
            format: self.format.into(),
            fail_on: self.fail_on,
            quiet: self.quiet,
            dry_run: self.dry_run,
            keep: self.keep.map(|n| n as usize),
            metrics_file: self.metrics_file,
            shard: shard::from_args(
                self.shard.as_deref(),
                self.run_id.as_deref(),
                &|key: &str| std::env::var(key).ok(),
            )
            .map_err(|e| CommandError::Batch(e.into()))?,
        })
    }

    fn used(&self) -> bool {
        self.targets.is_some()
            || self.profile.is_some()
            || self.ports.is_some()
            || self.parallel.is_some()
            || self.fail_on.is_some()
            || self.quiet
            || self.dry_run
            || self.keep.is_some()
            || self.metrics_file.is_some()
            || self.tls
            || self.no_tls
            || self.shard.is_some()
            || self.run_id.is_some()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The timeline of stored snapshots: time, profile, hosts up, open ports, score, changes.
    History(HistoryArgs),
    /// Compare two scans, each a snapshot id or an nmap XML file (exit 0 same, 1 different).
    Diff(DiffArgs),
    /// Re-render the report of a stored snapshot (the latest when no id is given).
    Report(ReportArgs),
    /// Store existing nmap XML files as snapshots, one per file.
    Import(ImportArgs),
    /// Apply retention now: config retention_days and/or --keep N, then VACUUM.
    Prune(PruneArgs),
    /// Copy every snapshot, alert and delivery into another, empty database (e.g. SQLite to
    /// postgres://...) and compare the row counts.
    MigrateStore(MigrateStoreArgs),
    /// List alerts (newest first), or act on one: ack, ignore, unignore; deliveries.
    Alerts(AlertsArgs),
    /// Write every stored run's scan.json, delta.json, delta.csv and report.html into one ZIP.
    Export(ExportArgs),
    /// Notifications: send a test message, or retry the pending ones now.
    Notify(NotifyArgs),
    /// Print existing nmap XML files as JSON (the API's per-host view) or CSV (one row per open port).
    Parse(ParseArgs),
    /// Sharded runs (PostgreSQL): each with its shards done, failed, running and missing.
    Runs(RunsArgs),
    /// Finalize a sharded run whose missing shards never came (their targets are not
    /// compared), or with --after alone every run older than that: the CronJob safety net.
    Finalize(FinalizeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Text,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ParseFormat {
    Json,
    /// One JSON object per host and line.
    Jsonl,
    Csv,
}

impl From<Format> for commands::ReportFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Text => Self::Text,
            Format::Json => Self::Json,
            Format::Csv => Self::Csv,
            Format::Html => Self::Html,
        }
    }
}

impl From<TableFormat> for commands::TableFormat {
    fn from(format: TableFormat) -> Self {
        match format {
            TableFormat::Text => Self::Text,
            TableFormat::Json => Self::Json,
            TableFormat::Csv => Self::Csv,
        }
    }
}
