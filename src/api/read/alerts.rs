//! `GET /api/alerts` and the operator's actions on alerts (`ack`, `ignore`, `unignore`, and
//! `ack` of a list of ids at once).
//!
//! Actions open the database read-write for one statement; the store checks and changes the
//! status in that one statement, so two operators acting at once cannot both succeed.

use rouille::{Request, Response};
use serde::Serialize;

use super::query::{Query, path_id};
use crate::alerts::lifecycle;
use crate::api::body;
use crate::api::error::ApiError;
use crate::api::respond::{
    DEFAULT_LIMIT, Format, MAX_LIMIT, csv_response, next_page, ok_json, open_store,
    open_store_for_writing, with_next,
};
use crate::api::state::State;
use std::net::IpAddr;

use ipnet::IpNet;
use jiff::Timestamp;

use crate::model::{AlertKind, AlertStatus, Severity};
use crate::report;
use crate::store::{Alert, AlertFilter, Store, StoreError};

#[derive(Serialize)]
struct AlertPage {
    alerts: Vec<Alert>,
    /// Pass as `before` for the next (older) page; `null` on the last page.
    next_before: Option<i64>,
}

/// The query parameters of `GET /api/alerts` (and of the `/alerts` page, which adds none).
pub const LIST_PARAMETERS: [&str; 11] = [
    "status",
    "severity",
    "min_severity",
    "kind",
    "ip",
    "q",
    "since",
    "until",
    "limit",
    "before",
    "format",
];

/// Longest search text kept.
const MAX_TEXT_CHARS: usize = 200;

/// The alert filter of a query: `status`, `severity`, `min_severity`, `kind` (one kind or a
/// comma list), `ip` (an address or a CIDR block), `q` (text in the message, address or
/// note), `since`/`until` (a UTC date `YYYY-MM-DD` or an RFC 3339 time; `until` a date
/// includes that whole day), `before` (paging). `limit` is the caller's.
pub fn filter_of(q: &Query) -> Result<AlertFilter, ApiError> {
    let kinds = match q.get("kind") {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|k| {
                k.trim().parse::<AlertKind>().map_err(|e| {
                    ApiError::bad_request(
                        "invalid_parameter",
                        format!("query parameter \"kind\": {e}"),
                    )
                    .with_field("kind")
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let network = q
        .get("ip")
        .map(|text| {
            let text = text.trim();
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ApiError::bad_request(
                        "invalid_parameter",
                        "query parameter \"ip\" must be an address (127.0.0.1) or a CIDR block (127.0.0.0/24)",
                    )
                    .with_field("ip")
                })
        })
        .transpose()?;
    Ok(AlertFilter {
        status: q.parsed::<AlertStatus>("status")?,
        severity: q.parsed::<Severity>("severity")?,
        min_severity: q.parsed::<Severity>("min_severity")?,
        kinds,
        network,
        text: q.get("q").map(|t| t.chars().take(MAX_TEXT_CHARS).collect()),
        since: time_of(q, "since", false)?,
        until: time_of(q, "until", true)?,
        limit: None,
        before_id: q.id("before")?,
    })
}

/// A `since`/`until` (or `from`/`to`) bound: an RFC 3339 time, or a UTC date (its start, or
/// with `end_of_day` the start of the next day).
pub fn time_of(
    q: &Query,
    name: &'static str,
    end_of_day: bool,
) -> Result<Option<Timestamp>, ApiError> {
    q.get(name)
        .map(|text| {
            crate::report::export::parse_bound(text, end_of_day).map_err(|why| {
                ApiError::bad_request(
                    "invalid_parameter",
                    format!("query parameter {name:?}: {why}"),
                )
                .with_field(name)
            })
        })
        .transpose()
}

/// `GET /api/alerts?status=&severity=&min_severity=&kind=&ip=&q=&since=&until=&limit=&before=&format=`:
/// newest first.
pub fn list(state: &State, request: &Request) -> Result<Response, ApiError> {
    let q = Query::parse(request, &LIST_PARAMETERS)?;
    let limit = q.number("limit", 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let filter = AlertFilter {
        limit: Some(limit as usize + 1),
        ..filter_of(&q)?
    };
    let format = q.format()?;
    let mut alerts = match open_store(&state.database)? {
        Some(store) => store
            .list_alerts(&filter)
            .map_err(|e| ApiError::from_store(&e))?,
        None => Vec::new(),
    };
    let next = next_page(&mut alerts, limit, |a| a.id);
    let response = match format {
        Format::Json => ok_json(&AlertPage {
            alerts,
            next_before: next,
        }),
        Format::Csv => csv_response("alerts.csv", |w| report::alerts::csv(w, &alerts)),
    };
    // The next page keeps the filters.
    let filters = q.keep_except(&["limit", "before", "format"]);
    let path = if filters.is_empty() {
        "/api/alerts".to_string()
    } else {
        format!("/api/alerts?{filters}")
    };
    Ok(with_next(response, &path, limit, next, format))
}

/// `POST /api/alerts/{id}/ack`: open → actioned. Optional body `{"note": "..."}`.
pub fn ack(state: &State, request: &Request) -> Result<Response, ApiError> {
    act(state, request, |store, id, note| {
        store.change_alert_status(id, &lifecycle::ACK, note)
    })
}

/// `POST /api/alerts/{id}/ignore`: open or actioned → ignored. Optional body `{"note": "..."}`.
pub fn ignore(state: &State, request: &Request) -> Result<Response, ApiError> {
    act(state, request, |store, id, note| {
        store.change_alert_status(id, &lifecycle::IGNORE, note)
    })
}

/// `POST /api/alerts/{id}/unignore`: ignored → open. Optional body `{"note": "..."}`.
pub fn unignore(state: &State, request: &Request) -> Result<Response, ApiError> {
    act(state, request, |store, id, note| {
        store.change_alert_status(id, &lifecycle::UNIGNORE, note)
    })
}

/// Most ids one bulk request may name.
pub const MAX_BULK_IDS: usize = 1000;

/// One id a bulk action could not apply, and why.
#[derive(Serialize)]
struct BulkFailure {
    id: i64,
    error: &'static str,
    message: String,
}

#[derive(Serialize)]
struct BulkResult {
    /// The alerts as they are now, for the ids that changed.
    changed: Vec<Alert>,
    failed: Vec<BulkFailure>,
}

/// `POST /api/alerts/ack` with `{"ids": [1, 2], "note": "..."}`: each open alert → actioned.
/// Each id is its own change (one that cannot be acknowledged does not hold up the others);
/// the answer lists what changed and what did not, and why.
pub fn ack_many(state: &State, request: &Request) -> Result<Response, ApiError> {
    change_many(state, request, &lifecycle::ACK)
}

/// `POST /api/alerts/ignore` with `{"ids": [1, 2], "note": "..."}`: each open or actioned
/// alert → ignored, each on its own, answered as [`ack_many`] answers.
pub fn ignore_many(state: &State, request: &Request) -> Result<Response, ApiError> {
    change_many(state, request, &lifecycle::IGNORE)
}

fn change_many(
    state: &State,
    request: &Request,
    change: &crate::store::StatusChange,
) -> Result<Response, ApiError> {
    Query::parse(request, &[])?;
    let (ids, note) = bulk_body(request)?;
    let mut result = BulkResult {
        changed: Vec::new(),
        failed: Vec::new(),
    };
    let mut store = open_store_for_writing(&state.database)?;
    for id in ids {
        let outcome = match store.as_mut() {
            Some(store) => store.change_alert_status(id, change, note.as_deref()),
            None => Err(StoreError::AlertNotFound(id)),
        };
        match outcome {
            Ok(alert) => result.changed.push(alert),
            Err(e @ (StoreError::AlertNotFound(_) | StoreError::AlertTransition { .. })) => {
                let error = if matches!(e, StoreError::AlertNotFound(_)) {
                    "not_found"
                } else {
                    "invalid_transition"
                };
                result.failed.push(BulkFailure {
                    id,
                    error,
                    message: e.to_string(),
                });
            }
            Err(e) => return Err(ApiError::from_store(&e)),
        }
    }
    Ok(ok_json(&result))
}

/// `{"ids": [..], "note": ".."}`: 1 to [`MAX_BULK_IDS`] positive ids (repeats dropped), an
/// optional note, nothing else.
fn bulk_body(request: &Request) -> Result<(Vec<i64>, Option<String>), ApiError> {
    let value = body::read_json(request)?;
    let Some(object) = value.as_object() else {
        return Err(ApiError::bad_request(
            "invalid_request",
            "the body must be a JSON object such as {\"ids\": [1, 2], \"note\": \"patched\"}",
        ));
    };
    if let Some(unknown) = object.keys().find(|k| *k != "note" && *k != "ids") {
        let shown: String = unknown.chars().take(40).collect();
        return Err(ApiError::bad_request(
            "unknown_field",
            format!("unknown field {shown:?}; the body may only have \"ids\" and \"note\""),
        )
        .with_field(shown));
    }
    let bad_ids = || {
        ApiError::bad_request(
            "invalid_type",
            format!("ids must be a list of 1 to {MAX_BULK_IDS} positive alert ids"),
        )
        .with_field("ids")
    };
    let list = object
        .get("ids")
        .and_then(|v| v.as_array())
        .filter(|l| !l.is_empty() && l.len() <= MAX_BULK_IDS)
        .ok_or_else(bad_ids)?;
    let mut ids = Vec::with_capacity(list.len());
    for v in list {
        let id = v.as_i64().filter(|id| *id > 0).ok_or_else(bad_ids)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let note = match object.get("note") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(
                ApiError::bad_request("invalid_type", "note must be a string").with_field("note"),
            );
        }
    };
    Ok((ids, note))
}

fn act(
    state: &State,
    request: &Request,
    action: impl FnOnce(&mut Store, i64, Option<&str>) -> Result<Alert, StoreError>,
) -> Result<Response, ApiError> {
    let id = path_id(request, 2, "alert")?;
    Query::parse(request, &[])?;
    let note = note_of(request)?;
    let mut store = open_store_for_writing(&state.database)?
        .ok_or_else(|| ApiError::from_store(&StoreError::AlertNotFound(id)))?;
    let alert = action(&mut store, id, note.as_deref()).map_err(|e| ApiError::from_store(&e))?;
    Ok(ok_json(&alert))
}

/// The optional `{"note": "..."}` body; no body (or an empty one) means no note.
fn note_of(request: &Request) -> Result<Option<String>, ApiError> {
    let declared_empty = request
        .header("Content-Length")
        .is_none_or(|l| l.trim() == "0");
    if declared_empty && request.header("Transfer-Encoding").is_none() {
        return Ok(None);
    }
    let value = body::read_json(request)?;
    let Some(object) = value.as_object() else {
        return Err(ApiError::bad_request(
            "invalid_request",
            "the body must be a JSON object such as {\"note\": \"patched\"}",
        ));
    };
    if let Some(unknown) = object.keys().find(|k| *k != "note") {
        let shown: String = unknown.chars().take(40).collect();
        return Err(ApiError::bad_request(
            "unknown_field",
            format!("unknown field {shown:?}; the body may only have \"note\""),
        )
        .with_field(shown));
    }
    match object.get("note") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => {
            Err(ApiError::bad_request("invalid_type", "note must be a string").with_field("note"))
        }
    }
}

#[cfg(test)]
mod tests;
