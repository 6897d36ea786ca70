//! daily_scan: batch scans from cron, stored as SQLite snapshots and reported as a delta.
//! This file only parses arguments and maps outcomes to exit codes; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use security_scanner::report::parsed;

/// Exit codes, as ARCHITECTURE.md fixes them.
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "daily_scan",
    version,
    about = "Scan targets.txt with nmap and report what changed"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print existing nmap XML files as JSON (the API's per-host view) or CSV (one row per open port).
    Parse {
        /// nmap XML files (`nmap -oX`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = ParseFormat::Json)]
        format: ParseFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ParseFormat {
    Json,
    Csv,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    security_scanner::logging::init("warn");
    match cli.command {
        Command::Parse { files, format } => parse(&files, format),
    }
}

fn parse(files: &[PathBuf], format: ParseFormat) -> ExitCode {
    let result = parsed::parse_files(files).and_then(|parsed| {
        let mut out = std::io::stdout().lock();
        match format {
            ParseFormat::Json => parsed::write_json(&mut out, &parsed),
            ParseFormat::Csv => parsed::write_csv(&mut out, &parsed),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("daily_scan parse: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
