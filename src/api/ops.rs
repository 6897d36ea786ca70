//! The operational endpoints monitors poll: `GET /api/health` and `GET /metrics`. Neither
//! needs a token, and both read only cached or atomic values, so they answer at once even
//! when every scan slot is busy.

use rouille::{Request, Response};
use serde::Serialize;

use super::error::ApiError;
use super::metrics::Gauges;
use super::respond::ok_json;
use super::state::State;

#[derive(Serialize)]
struct Health<'a> {
    status: &'a str,
    version: &'a str,
    nmap: NmapHealth,
    active_scans: usize,
    max_concurrent_scans: usize,
    uptime_seconds: u64,
}

#[derive(Serialize)]
struct NmapHealth {
    available: bool,
    version: Option<String>,
}

/// `GET /api/health`: 200 "ok", or 503 "degraded" when nmap is unusable. Reads only the cached
/// nmap probe and atomic counters, so it answers at once even when every scan slot is busy.
pub fn health(state: &State, _request: &Request) -> Result<Response, ApiError> {
    let nmap = state.nmap.status();
    let available = nmap.available();
    let body = Health {
        status: if available { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        nmap: NmapHealth {
            available,
            version: nmap.version,
        },
        active_scans: state.engine.active_scans(),
        max_concurrent_scans: state.engine.max_concurrent_scans(),
        uptime_seconds: state.started.elapsed().as_secs(),
    };
    let response = ok_json(&body);
    Ok(if available {
        response
    } else {
        response.with_status_code(503)
    })
}

/// `GET /metrics`: Prometheus text format.
pub fn metrics(state: &State, _request: &Request) -> Result<Response, ApiError> {
    let text = state.metrics.render(&Gauges {
        active_scans: state.engine.active_scans(),
        max_concurrent_scans: state.engine.max_concurrent_scans(),
        uptime: state.started.elapsed(),
        nmap_available: state.nmap.status().available(),
    });
    Ok(Response::from_data("text/plain; version=0.0.4; charset=utf-8", text).with_no_cache())
}
