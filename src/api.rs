//! `api_server`'s HTTP API (rouille): `POST /api/scan`, `GET /api/health`, `GET /api/profiles`,
//! `GET /api/openapi.json` and `GET /metrics`, to the contract in `docs/ARCHITECTURE.md`; the
//! read API over the `daily_scan` database (snapshots, deltas, trends, alerts) and the
//! dashboard at `/`.
//!
//! Each request runs on its own thread ([`http`]), so a scan that blocks its thread never
//! delays a health check; nmap work itself runs on the [`crate::scan::ScanEngine`]'s pool
//! under the global `max_concurrent_scans` limit. Handlers use rouille's request and response
//! types. Every request goes through [`handle`]: request id, panic guard, route pipeline,
//! metrics, one access-log line.

pub mod auth;
pub mod body;
pub mod error;
pub mod host;
mod http;
pub mod metrics;
pub mod nmap_status;
pub mod openapi;
mod ops;
mod pipeline;
pub mod rate_limit;
mod read;
pub mod request_log;
mod respond;
pub mod routes;
pub mod scan;
mod state;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::config::Config;
use nmap_status::ProbeFn;
pub use pipeline::handle;
pub use state::{ServeError, State};

/// Extra time, beyond one nmap timeout, that shutdown waits for in-flight requests.
const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// Binds `config.api.bind` and serves until SIGTERM or SIGINT; then stops accepting
/// connections, refuses queued scans, lets in-flight requests finish (bounded by one nmap
/// timeout, since no new nmap process starts once shutdown begins) and returns. A second
/// signal exits at once with status 1.
pub fn serve(config: Config, probe: Box<ProbeFn>) -> Result<(), ServeError> {
    let addr = config.api.bind.clone();
    let drain_limit = config.nmap_timeout() + DRAIN_GRACE;
    let max_connections = config.api.max_connections;
    let state = Arc::new(State::new(config, probe)?);
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&stop)))
            .map_err(|e| ServeError::Start(format!("cannot install signal handlers: {e}")))?;
    }
    let listener = std::net::TcpListener::bind(&addr).map_err(|e| ServeError::Bind {
        addr: addr.clone(),
        reason: e.to_string(),
    })?;
    let local = listener.local_addr().map_err(|e| ServeError::Bind {
        addr: addr.clone(),
        reason: e.to_string(),
    })?;
    log::info!(
        "api_server {} listening on http://{local}",
        env!("CARGO_PKG_VERSION"),
    );
    let done = Arc::new(AtomicBool::new(false));
    http::wake_on_stop(local, Arc::clone(&stop), Arc::clone(&done));
    let served = http::serve_until(&listener, &state, &stop, max_connections);
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    log::info!(
        "shutting down: no new connections, {} request(s) in flight",
        state.in_flight()
    );
    state.engine.close();
    // Dropping the listener closes the listening socket; accepted requests run on.
    drop(listener);
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
