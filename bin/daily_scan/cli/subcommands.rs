//! The sub-commands' arguments (clap derive) and their conversion into the library's typed
//! commands; the top-level line (the batch run's options, the list of sub-commands) is in
//! `cli.rs`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use security_scanner::batch::shard::RunId;
use security_scanner::commands::CommandError;
use security_scanner::commands::alerts::AlertsCommand;
use security_scanner::commands::diff::DiffCommand;
use security_scanner::commands::export::ExportCommand;
use security_scanner::commands::finalize::FinalizeCommand;
use security_scanner::commands::history::HistoryCommand;
use security_scanner::commands::import::ImportCommand;
use security_scanner::commands::migrate_store::MigrateStoreCommand;
use security_scanner::commands::notify::NotifyCommand;
use security_scanner::commands::parse::{self, ParseCommand};
use security_scanner::commands::prune::PruneCommand;
use security_scanner::commands::report::ReportCommand;
use security_scanner::commands::run::{FailOn, Printing};
use security_scanner::commands::runs::RunsCommand;
use security_scanner::config::parse_age;
use security_scanner::diff::Side;
use security_scanner::model::{AlertStatus, Severity};

use super::{Format, ParseFormat, TableFormat};

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Most runs shown, newest first.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    #[arg(long, value_enum, default_value_t = TableFormat::Text)]
    format: TableFormat,
}

impl From<RunsArgs> for RunsCommand {
    fn from(a: RunsArgs) -> Self {
        RunsCommand {
            limit: a.limit,
            format: a.format.into(),
        }
    }
}

#[derive(Debug, Args)]
pub struct FinalizeArgs {
    /// The run (its --run-id / SCANNER_RUN_ID).
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,
    /// Only when every shard is in or the run started longer ago than this (90s, 30m, 3h,
    /// 2d); without --run-id, every unfinalized run older than this.
    #[arg(long, value_name = "DURATION")]
    after: Option<String>,
    /// What to print for a finalized run.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print nothing unless a finalized run changed something.
    #[arg(short, long)]
    quiet: bool,
    /// Exit 3 when the finalized run raised a new alert at least this severe, or, with
    /// `incomplete`, when some targets were not compared.
    #[arg(long, value_name = "SEVERITY|incomplete")]
    fail_on: Option<FailOn>,
    /// Write the finalized run's metrics here in Prometheus text format.
    #[arg(long, value_name = "PATH")]
    metrics_file: Option<PathBuf>,
}

impl FinalizeArgs {
    pub fn command(self) -> Result<FinalizeCommand, CommandError> {
        let run_id = self
            .run_id
            .map(|id| id.parse::<RunId>())
            .transpose()
            .map_err(|e| CommandError::Batch(e.into()))?;
        let after = self
            .after
            .map(|text| {
                parse_age(&text)
                    .map(|secs| Duration::from_secs(secs.unsigned_abs()))
                    .ok_or_else(|| {
                        CommandError::Usage(format!(
                            "--after {text:?}: expected a number and a unit, e.g. 90s, 30m, 3h, 2d"
                        ))
                    })
            })
            .transpose()?;
        Ok(FinalizeCommand {
            run_id,
            after,
            printing: Printing {
                format: self.format.into(),
                quiet: self.quiet,
                fail_on: self.fail_on,
                metrics_file: self.metrics_file,
            },
        })
    }
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Most snapshots shown, newest first.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Only snapshots of this profile (as stored, e.g. `default+ports=22,80`).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    #[arg(long, value_enum, default_value_t = TableFormat::Text)]
    format: TableFormat,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    from: String,
    to: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    id: Option<i64>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write scan.json, delta.json, delta.csv and report.html into this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Profile name the snapshots are stored under (deltas compare within a profile).
    #[arg(long, value_name = "NAME", default_value = "imported")]
    profile: String,
}

#[derive(Debug, Args)]
pub struct MigrateStoreArgs {
    /// The target database: a SQLite file path or a postgres:// URL.
    #[arg(long, value_name = "PATH|URL")]
    to: PathBuf,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    keep: Option<u32>,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    action: Option<AlertsAction>,
    /// Only alerts with this status: open, actioned, ignored, resolved.
    #[arg(long, value_name = "STATUS")]
    status: Option<AlertStatus>,
    /// Only alerts at least this severe.
    #[arg(long, value_name = "SEVERITY")]
    min_severity: Option<Severity>,
    /// Most alerts shown.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    #[arg(long, value_enum, default_value_t = TableFormat::Text)]
    format: TableFormat,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The archive to write (replaced when complete).
    #[arg(long, value_name = "FILE")]
    zip: PathBuf,
    /// Only runs started on or after this date (YYYY-MM-DD, UTC) or time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Only runs started on or before this date (YYYY-MM-DD, UTC), or before this time.
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
}

impl From<ExportArgs> for ExportCommand {
    fn from(a: ExportArgs) -> Self {
        ExportCommand {
            zip: a.zip,
            from: a.from,
            to: a.to,
        }
    }
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    #[command(subcommand)]
    action: NotifyAction,
}

#[derive(Debug, Subcommand)]
pub enum NotifyAction {
    /// Send a clearly marked test message to the webhook or email named NAME (all when none
    /// is given) and print each outcome (exit 1 when one failed).
    Test { name: Option<String> },
    /// Send the pending notifications now (earlier runs' failed ones), expiring those older
    /// than notify.max_age (exit 1 when one still failed).
    Retry,
}

impl From<NotifyArgs> for NotifyCommand {
    fn from(a: NotifyArgs) -> Self {
        match a.action {
            NotifyAction::Test { name } => NotifyCommand::Test { name },
            NotifyAction::Retry => NotifyCommand::Retry,
        }
    }
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// nmap XML files (`nmap -oX`).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ParseFormat::Json)]
    format: ParseFormat,
}

#[derive(Debug, Subcommand)]
pub enum AlertsAction {
    /// Acknowledge an open alert (open -> actioned); it still resolves when the condition goes.
    Ack {
        id: i64,
        /// What was done about it.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Ignore an alert (open or actioned -> ignored): it never fires or resolves again until
    /// un-ignored.
    Ignore {
        id: i64,
        /// Why it is accepted.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Un-ignore an alert (ignored -> open).
    Unignore { id: i64 },
    /// Webhook delivery attempts, newest first: webhook, status code, attempt, time.
    Deliveries {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = TableFormat::Text)]
        format: TableFormat,
    },
}

impl From<HistoryArgs> for HistoryCommand {
    fn from(a: HistoryArgs) -> Self {
        HistoryCommand {
            limit: a.limit,
            profile: a.profile,
            format: a.format.into(),
        }
    }
}

impl From<DiffArgs> for DiffCommand {
    fn from(a: DiffArgs) -> Self {
        DiffCommand {
            from: Side::parse(&a.from),
            to: Side::parse(&a.to),
            format: a.format.into(),
        }
    }
}

impl From<ReportArgs> for ReportCommand {
    fn from(a: ReportArgs) -> Self {
        ReportCommand {
            id: a.id,
            format: a.format.into(),
            out: a.out,
        }
    }
}

impl From<ImportArgs> for ImportCommand {
    fn from(a: ImportArgs) -> Self {
        ImportCommand {
            files: a.files,
            profile: a.profile,
        }
    }
}

impl From<MigrateStoreArgs> for MigrateStoreCommand {
    fn from(a: MigrateStoreArgs) -> Self {
        MigrateStoreCommand { to: a.to }
    }
}

impl From<PruneArgs> for PruneCommand {
    fn from(a: PruneArgs) -> Self {
        PruneCommand {
            keep: a.keep.map(|n| n as usize),
        }
    }
}

impl From<AlertsArgs> for AlertsCommand {
    fn from(a: AlertsArgs) -> Self {
        match a.action {
            None => AlertsCommand::List {
                status: a.status,
                min_severity: a.min_severity,
                limit: a.limit,
                format: a.format.into(),
            },
            Some(AlertsAction::Ack { id, note }) => AlertsCommand::Ack { id, note },
            Some(AlertsAction::Ignore { id, note }) => AlertsCommand::Ignore { id, note },
            Some(AlertsAction::Unignore { id }) => AlertsCommand::Unignore { id },
            Some(AlertsAction::Deliveries { limit, format }) => AlertsCommand::Deliveries {
                limit,
                format: format.into(),
            },
        }
    }
}

impl From<ParseArgs> for ParseCommand {
    fn from(a: ParseArgs) -> Self {
        ParseCommand {
            files: a.files,
            format: match a.format {
                ParseFormat::Json => parse::ParseFormat::Json,
                ParseFormat::Jsonl => parse::ParseFormat::Jsonl,
                ParseFormat::Csv => parse::ParseFormat::Csv,
            },
            terminal: std::io::IsTerminal::is_terminal(&std::io::stdout()),
        }
    }
}
