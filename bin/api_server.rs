//! api_server: the synchronous scan API. This file only turns arguments into configuration,
//! starts logging and the server, and maps the result to an exit code; the work is in
//! `security_scanner::api`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use security_scanner::config::{CliOverrides, Config};
use security_scanner::nmap::run::probe_version;

/// Bad configuration or an address that cannot be bound.
const EXIT_STARTUP: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "api_server",
    version,
    about = "Serve POST /api/scan: nmap scans of allowed addresses, answered as JSON"
)]
struct Cli {
    /// Configuration file (default: $SCANNER_CONFIG, else ./config.toml when present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:5000 (overrides api.bind and $SCANNER_BIND).
    #[arg(long, value_name = "ADDR:PORT")]
    bind: Option<String>,
    /// The nmap program (overrides nmap_path).
    #[arg(long, value_name = "PATH")]
    nmap_path: Option<PathBuf>,
    /// Seconds one nmap process may run (overrides nmap_timeout).
    #[arg(long, value_name = "SECONDS")]
    nmap_timeout: Option<u64>,
    /// error, warn, info, debug or trace (overrides log_level).
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = CliOverrides {
        config: cli.config,
        bind: cli.bind,
        nmap_path: cli.nmap_path,
        nmap_timeout: cli.nmap_timeout,
        log_level: cli.log_level,
        ..CliOverrides::default()
    };
    let config = match Config::load(&overrides) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("api_server: {e}");
            return ExitCode::from(EXIT_STARTUP);
        }
    };
    security_scanner::logging::init(config.log_level);
    let nmap = config.nmap_path.clone();
    let probe = Box::new(move || probe_version(&nmap).map_err(|e| e.to_string()));
    match security_scanner::api::serve(config, probe) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("api_server: {e}");
            ExitCode::from(EXIT_STARTUP)
        }
    }
}
