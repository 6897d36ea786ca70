//! `api_server`'s HTTP API (rouille): `POST /api/scan`, `GET /api/health`, `GET /api/profiles`,
//! `GET /api/openapi.json` and `GET /metrics`, to the contract in `docs/ARCHITECTURE.md`; the
//! read API over the `daily_scan` database (snapshots, deltas, trends, alerts) and the
//! dashboard at `/`.
//!
//! Each request runs on its own thread ([`http`]), so a scan that blocks its thread never
//! delays a health check; nmap work itself runs on the [`ScanEngine`]'s pool under the global
//! `max_concurrent_scans` limit. Handlers use rouille's request and response types. Every
//! request goes through [`handle`]: request id, panic guard, route pipeline, metrics, one
//! access-log line.

mod alerts;
pub mod auth;
pub mod body;
mod dashboard;
pub mod error;
mod handlers;
mod http;
pub mod metrics;
pub mod nmap_status;
pub mod openapi;
mod openapi_read;
pub mod query;
pub mod rate_limit;
pub(crate) mod read;
pub mod request;
pub mod request_log;
pub mod routes;
pub mod validate;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rouille::{Request, Response};

use crate::config::Config;
use crate::profile::raw_socket_access;
use crate::scan::ScanEngine;
use error::ApiError;
use metrics::Metrics;
use nmap_status::{NmapProbe, ProbeFn};

/// How long a cached nmap probe result is trusted.
const NMAP_PROBE_REFRESH: Duration = Duration::from_secs(5);
/// Extra time, beyond one nmap timeout, that shutdown waits for in-flight requests.
const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// Everything the handlers share. Each part has its own lock (or none), held only briefly; no
/// lock is held while nmap runs.
pub struct State {
    rules: validate::ScanRules,
    started: Instant,
    ids: request_log::RequestIds,
    tokens: auth::Tokens,
    limiter: rate_limit::RateLimiter,
    rate_limit_per_minute: u32,
    metrics: Metrics,
    nmap: Arc<NmapProbe>,
    engine: ScanEngine,
    in_flight: Arc<AtomicUsize>,
    /// The SQLite file `daily_scan` writes; opened per request (read-only for reads).
    database: std::path::PathBuf,
    delta_config: crate::delta::DeltaConfig,
}

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
            database: config.database_path(),
            delta_config: crate::delta::DeltaConfig::from_config(&config),
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

/// Serves one request, on the request's own thread (see [`http`]).
pub fn handle(state: &State, request: &Request) -> Response {
    handle_with(state, request, routes::dispatch)
}

/// [`handle`] with the route pipeline as a parameter, so tests can make it panic.
fn handle_with(
    state: &State,
    request: &Request,
    dispatch: impl FnOnce(&State, &Request) -> (&'static str, Result<Response, ApiError>),
) -> Response {
    let started = Instant::now();
    let id = state.ids.next_id();
    let outcome = catch_unwind(AssertUnwindSafe(|| dispatch(state, request)));
    let (route, result) = outcome.unwrap_or_else(|_| {
        log::error!("{id}: handler panicked");
        (routes::UNMATCHED, Err(ApiError::internal()))
    });
    let response = match result {
        Ok(response) => response,
        Err(e) => {
            state.metrics.rejected(e.code);
            if e.status() >= 500 {
                log::warn!("{id}: {} {}", e.code, e.message);
            }
            e.to_response(&id)
        }
    };
    let response = response.with_unique_header("X-Request-Id", id.clone());
    state.metrics.request(route, response.status_code);
    request_log::log(&request_log::Entry {
        id: &id,
        method: request.method(),
        url: request.raw_url(),
        status: response.status_code,
        duration: started.elapsed(),
        client: request.remote_addr(),
    });
    response
}

/// Binds `config.api.bind` and serves until SIGTERM or SIGINT; then stops accepting
/// connections, refuses queued scans, lets in-flight requests finish (bounded by one nmap
/// timeout, since no new nmap process starts once shutdown begins) and returns. A second
/// signal exits at once with status 1.
pub fn serve(config: Config, probe: Box<ProbeFn>) -> Result<(), ServeError> {
    let addr = config.api.bind.clone();
    let drain_limit = config.nmap_timeout() + DRAIN_GRACE;
    let state = Arc::new(State::new(config, probe)?);
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&stop)))
            .map_err(|e| ServeError::Start(format!("cannot install signal handlers: {e}")))?;
    }
    let server = tiny_http::Server::http(&addr).map_err(|e| ServeError::Bind {
        addr: addr.clone(),
        reason: e.to_string(),
    })?;
    log::info!(
        "api_server {} listening on http://{}",
        env!("CARGO_PKG_VERSION"),
        server.server_addr()
    );
    let served = http::serve_until(&server, &state, &stop);
    log::info!(
        "shutting down: no new connections, {} request(s) in flight",
        state.in_flight()
    );
    state.engine.close();
    // Dropping the server closes the listening socket; accepted requests run on.
    drop(server);
    let deadline = Instant::now() + drain_limit;
    while state.in_flight() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    match state.in_flight() {
        0 => log::info!("all requests finished; exiting"),
        n => log::warn!("{n} request(s) still open after {drain_limit:?}; exiting anyway"),
    }
    served
}

#[cfg(test)]
mod tests;
