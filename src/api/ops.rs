//! The operational endpoints monitors poll: `GET /api/health` and `GET /metrics`. Neither
//! needs a token. Both read cached or atomic values, so they answer at once even when every
//! scan slot is busy; health also looks at the database (at most once per
//! `DATABASE_PROBE_TTL`), since a server that cannot read it is not healthy.

use std::time::{Duration, Instant};

use rouille::{Request, Response};
use serde::Serialize;

use super::error::ApiError;
use super::metrics::Gauges;
use super::respond::{ok_json, open_store};
use super::state::State;

#[derive(Serialize)]
struct Health<'a> {
    status: &'a str,
    version: &'a str,
    nmap: NmapHealth,
    active_scans: usize,
    max_concurrent_scans: usize,
    uptime_seconds: u64,
    database: DatabaseHealth,
}

/// `state`: `ok`, `missing` (SQLite: no run has created the file yet) or `unavailable`
/// (with `error`, the same words a 503 `database_unavailable` gives).
#[derive(Serialize)]
struct DatabaseHealth {
    backend: &'static str,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// How long one look at the database answers health checks: a load balancer polling every
/// second does not cost a connection each time.
const DATABASE_PROBE_TTL: Duration = Duration::from_secs(2);

fn database_health(state: &State) -> DatabaseHealth {
    let mut cached = state
        .database_probe
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let (db_state, error) = match &*cached {
        Some((at, db_state, error)) if at.elapsed() < DATABASE_PROBE_TTL => {
            (*db_state, error.clone())
        }
        _ => {
            let (db_state, error) = match open_store(&state.database) {
                Ok(Some(_)) => ("ok", None),
                Ok(None) => ("missing", None),
                Err(e) => ("unavailable", Some(e.message)),
            };
            *cached = Some((Instant::now(), db_state, error.clone()));
            (db_state, error)
        }
    };
    DatabaseHealth {
        backend: state.database.backend(),
        state: db_state,
        error,
    }
}

#[derive(Serialize)]
struct NmapHealth {
    available: bool,
    version: Option<String>,
}

/// `GET /api/health`: 200 "ok", or 503 "degraded" when nmap or the database is unusable.
pub fn health(state: &State, _request: &Request) -> Result<Response, ApiError> {
    let nmap = state.nmap.status();
    let database = database_health(state);
    let available = nmap.available() && database.state != "unavailable";
    let body = Health {
        status: if available { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        nmap: NmapHealth {
            available: nmap.available(),
            version: nmap.version,
        },
        database,
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
