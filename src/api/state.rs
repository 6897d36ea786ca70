//! The server state every handler shares, built once at start-up from the configuration.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::metrics::Metrics;
use super::nmap_status::{NmapProbe, ProbeFn};
use super::scan::validate;
use super::{auth, rate_limit, request_log};
use crate::config::Config;
use crate::profile::raw_socket_access;
use crate::scan::ScanEngine;

/// How long a cached nmap probe result is trusted.
const NMAP_PROBE_REFRESH: Duration = Duration::from_secs(5);

/// Everything the handlers share. Each part has its own lock (or none), held only briefly; no
/// lock is held while nmap runs.
pub struct State {
    pub(super) rules: validate::ScanRules,
    pub(super) started: Instant,
    pub(super) ids: request_log::RequestIds,
    pub(super) tokens: auth::Tokens,
    pub(super) limiter: rate_limit::RateLimiter,
    pub(super) rate_limit_per_minute: u32,
    pub(super) metrics: Metrics,
    pub(super) nmap: Arc<NmapProbe>,
    pub(super) engine: ScanEngine,
    pub(super) in_flight: Arc<AtomicUsize>,
    /// The database `daily_scan` writes: a SQLite file opened per request (read-only for
    /// reads), or a PostgreSQL pool.
    pub(super) database: super::respond::Db,
    /// The last look at the database for `/api/health`: when, its state, the error.
    pub(super) database_probe: std::sync::Mutex<DatabaseProbe>,
    /// Where `daily_scan` writes each run's report folder (run pages link to its files).
    pub(super) output_dir: std::path::PathBuf,
    pub(super) delta_config: crate::delta::DeltaConfig,
    /// `Host` values answered (DNS-rebinding guard, checked before routing).
    pub(super) hosts: super::host::AllowedHosts,
    /// `[alerts] cert_expiry_days`: the default of `expiring_within`.
    pub(super) cert_expiry_days: u32,
    /// `[tls] min_grade`: below it a port is weak.
    pub(super) min_grade: crate::model::Grade,
}

/// When `/api/health` last looked at the database, what it found, and why not `ok`.
pub(super) type DatabaseProbe = Option<(Instant, &'static str, Option<String>)>;

/// Why the server could not start, or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: String, reason: String },
    #[error("cannot start: {0}")]
    Start(String),
    #[error("stopped accepting connections: {0}")]
    Accept(String),
}

impl State {
    /// The server state; `probe` says whether nmap is usable (injected so tests need no nmap).
    pub fn new(config: Config, probe: Box<ProbeFn>) -> Result<State, ServeError> {
        let rules = scan_rules(&config)?;
        let engine = ScanEngine::new(&config).map_err(|e| ServeError::Start(e.to_string()))?;
        let nmap = NmapProbe::new(probe, NMAP_PROBE_REFRESH);
        match nmap.status() {
            s if s.available() => log::info!(
                "nmap {} at {}",
                s.version.as_deref().unwrap_or(""),
                config.nmap_path.display()
            ),
            s => log::warn!(
                "nmap is unusable ({}); starting degraded: /api/health answers 503 and scans are refused until it works",
                s.problem.as_deref().unwrap_or("unknown reason")
            ),
        }
        Ok(State {
            started: Instant::now(),
            ids: request_log::RequestIds::default(),
            tokens: auth::Tokens::with_scopes(&config.api.tokens, &config.api.read_tokens),
            limiter: rate_limit::RateLimiter::new(config.api.rate_limit_per_minute),
            rate_limit_per_minute: config.api.rate_limit_per_minute,
            metrics: Metrics::default(),
            nmap,
            engine,
            in_flight: Arc::new(AtomicUsize::new(0)),
            database: super::respond::Db::of(&config.database())
                .map_err(|e| ServeError::Start(e.to_string()))?,
            database_probe: std::sync::Mutex::new(None),
            output_dir: config.output_dir.clone(),
            delta_config: crate::delta::DeltaConfig::from_config(&config),
            hosts: super::host::AllowedHosts::from_config(&config.api),
            cert_expiry_days: config.alerts.cert_expiry_days,
            min_grade: config.tls.min_grade,
            rules,
        })
    }

    /// Requests being handled right now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

/// The scan rules from the configuration; a bad nmap tuning value stops start-up naming its key.
fn scan_rules(config: &Config) -> Result<validate::ScanRules, ServeError> {
    let tuning = config
        .nmap_tuning()
        .normalized()
        .map_err(|e| ServeError::Start(format!("config key {e}")))?;
    Ok(validate::ScanRules {
        max_ports: config.api.max_ports,
        tuning,
        raw_access: raw_socket_access(),
        policy: config.network_policy(),
    })
}
