//! `POST /api/scan`: the body is read ([`super::body`]), its shape checked ([`request`]), its
//! meaning validated and its targets resolved ([`validate`]) before any nmap process starts;
//! `GET /api/profiles` ([`profiles`]) lists what `scan_type` may name.

pub(super) mod profiles;
pub mod request;
pub mod validate;

use std::time::{Duration, Instant};

use rouille::{Request, Response};
use serde::Serialize;

use super::body;
use super::error::ApiError;
use super::respond::ok_json;
use super::state::State;
use crate::model::PortReport;
use crate::scan::{TargetOutcome, TlsPass};

#[derive(Serialize)]
struct ScanResponse<'a> {
    total_targets: usize,
    scan_type: &'a str,
    duration_seconds: f64,
    /// How the TLS pass went; present exactly when the request asked for it (`"tls": true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_pass: Option<TlsPass>,
    results: Vec<TargetResult>,
}

/// One target in the response: the fields of `model::HostReport` for a completed scan, `error`
/// otherwise.
#[derive(Serialize)]
struct TargetResult {
    target: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_state: Option<String>,
    duration_seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    open_ports: Option<Vec<PortReport>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl From<TargetOutcome> for TargetResult {
    fn from(o: TargetOutcome) -> Self {
        let duration_seconds = seconds(o.duration);
        let status = o.status.as_str();
        match o.report {
            Some(report) => TargetResult {
                target: o.target,
                status,
                ip: Some(report.ip),
                hostname: report.hostname,
                host_state: Some(report.host_state),
                duration_seconds,
                open_ports: Some(report.open_ports),
                error: o.error,
            },
            None => TargetResult {
                target: o.target,
                status,
                ip: o.ip.map(|ip| ip.to_string()),
                hostname: None,
                host_state: None,
                duration_seconds,
                open_ports: None,
                error: o.error,
            },
        }
    }
}

/// Seconds with millisecond precision.
fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// `POST /api/scan`: validate everything, resolve once, then run nmap per target under the
/// global limit, and with `"tls": true` the TLS pass over the completed targets' open TLS
/// ports. 200 carries every target's outcome in request order; a failed TLS pass is reported
/// in `tls_pass` and leaves the port scan's results as they are.
pub fn scan(state: &State, request: &Request) -> Result<Response, ApiError> {
    let started = Instant::now();
    let value = body::read_json(request)?;
    let body = request::parse_scan_body(&value)?;
    let valid = validate::validate(&body, &state.rules)?;
    let planned = validate::resolve_targets(&valid, &state.rules.policy)?;
    if !state.nmap.status().available() {
        return Err(ApiError::nmap_unavailable());
    }
    let mut outcomes = state
        .engine
        .run(&valid.nmap_args, &planned)
        .map_err(|e| ApiError::from_capacity(e, state.engine.queue_timeout()))?;
    let tls_pass = body.tls.then(|| state.engine.tls_pass(&mut outcomes));
    let profile = valid.profile.name();
    for o in &outcomes {
        state
            .metrics
            .scan(profile, o.status.as_str(), o.nmap_duration);
    }
    let response = ScanResponse {
        total_targets: outcomes.len(),
        scan_type: profile,
        duration_seconds: seconds(started.elapsed()),
        tls_pass,
        results: outcomes.into_iter().map(TargetResult::from).collect(),
    };
    Ok(ok_json(&response))
}
