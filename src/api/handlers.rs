//! The route handlers. Each returns a response or an [`ApiError`]; none knows status codes
//! except through `error.rs`.

use std::time::{Duration, Instant};

use rouille::{Request, Response};
use serde::Serialize;

use super::error::ApiError;
use super::metrics::Gauges;
use super::respond::ok_json;
use super::state::State;
use super::{body, request, validate};
use crate::model::PortReport;
use crate::profile::Profile;
use crate::scan::TargetOutcome;

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

/// `GET /api/openapi.json`.
pub fn openapi(_state: &State, _request: &Request) -> Result<Response, ApiError> {
    let names: Vec<&str> = Profile::ALL
        .iter()
        .filter(|p| p.api_allowed())
        .map(|p| p.name())
        .collect();
    Ok(ok_json(&super::openapi::document_with_profiles(&names)))
}

#[derive(Serialize)]
struct ProfileInfo {
    name: &'static str,
    description: &'static str,
    api_allowed: bool,
    available: bool,
    needs_raw_socket: bool,
    nmap_args: Vec<String>,
    note: Option<String>,
}

/// `GET /api/profiles`: every profile with the exact nmap arguments this server would use.
pub fn profiles(state: &State, _request: &Request) -> Result<Response, ApiError> {
    let rules = &state.rules;
    let profiles: Vec<ProfileInfo> = Profile::ALL
        .iter()
        .map(|&p| {
            let refusal = p
                .check_api()
                .and_then(|()| p.check_privilege(rules.raw_access))
                .err();
            let mut nmap_args = p.nmap_args(&rules.tuning, None);
            if p.needs_raw_socket() {
                nmap_args.extend(rules.raw_access.nmap_args().iter().map(|a| a.to_string()));
            }
            ProfileInfo {
                name: p.name(),
                description: p.description(),
                api_allowed: p.api_allowed(),
                available: refusal.is_none(),
                needs_raw_socket: p.needs_raw_socket(),
                nmap_args,
                note: refusal.map(|e| e.to_string()),
            }
        })
        .collect();
    Ok(ok_json(&serde_json::json!({ "profiles": profiles })))
}

#[derive(Serialize)]
struct ScanResponse<'a> {
    total_targets: usize,
    scan_type: &'a str,
    duration_seconds: f64,
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
/// global limit. 200 carries every target's outcome in request order.
pub fn scan(state: &State, request: &Request) -> Result<Response, ApiError> {
    let started = Instant::now();
    let value = body::read_json(request)?;
    let body = request::parse_scan_body(&value)?;
    let valid = validate::validate(&body, &state.rules)?;
    let planned = validate::resolve_targets(&valid, &state.rules.policy)?;
    if !state.nmap.status().available() {
        return Err(ApiError::nmap_unavailable());
    }
    let outcomes = state
        .engine
        .run(&valid.nmap_args, &planned)
        .map_err(|e| ApiError::from_capacity(e, state.engine.queue_timeout()))?;
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
        results: outcomes.into_iter().map(TargetResult::from).collect(),
    };
    Ok(ok_json(&response))
}
