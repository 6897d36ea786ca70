//! `GET /api/certificates?expiring_within=DAYS&all=true&format=json|csv`: the latest
//! certificate each TLS port showed, expired, expiring within DAYS (default `[alerts]
//! cert_expiry_days`) or weak (TLS 1.0/1.1 or a grade below `[tls] min_grade`); every
//! examined port with `all=true`.

use jiff::Timestamp;
use rouille::{Request, Response};
use serde::Serialize;

use super::query::Query;
use crate::api::error::ApiError;
use crate::api::respond::{Format, csv_response, ok_json, open_store, store_err};
use crate::api::state::State;
use crate::report::certificates::{self, CertPolicy, CertificateRow};

/// Largest `expiring_within` accepted (ten years, like `cert_expiry_days`).
const MAX_DAYS: u64 = 3650;

#[derive(Serialize)]
struct CertificateList {
    expiring_within: u32,
    min_grade: String,
    /// Rows listed / TLS ports known.
    count: usize,
    total: usize,
    certificates: Vec<CertificateRow>,
}

pub fn list(state: &State, request: &Request) -> Result<Response, ApiError> {
    let q = Query::parse(request, &["expiring_within", "all", "format"])?;
    let days = q
        .number("expiring_within", 0..=MAX_DAYS)?
        .map_or(state.cert_expiry_days, |d| d as u32);
    let all = q.choice("all", &["true", "false"])? == Some("true");
    let format = q.format()?;
    let policy = CertPolicy {
        now: Timestamp::now(),
        expiring_within: days,
        min_grade: state.min_grade,
    };
    let ports = match open_store(&state.database)? {
        Some(store) => store.latest_port_tls(None).map_err(store_err)?,
        None => Vec::new(),
    };
    let total = ports.len();
    let mut rows = certificates::of_ports(&ports, &policy);
    if !all {
        rows.retain(CertificateRow::flagged);
    }
    certificates::sort_by_urgency(&mut rows);
    Ok(match format {
        Format::Json => ok_json(&CertificateList {
            expiring_within: days,
            min_grade: state.min_grade.to_string(),
            count: rows.len(),
            total,
            certificates: rows,
        }),
        Format::Csv => csv_response("certificates.csv", |w| certificates::csv(w, &rows, &policy)),
    })
}
