//! The read API over the database `daily_scan` writes: snapshots, deltas and trends.
//!
//! Every request opens the database read-only ([`Store::open_read_only`]): in WAL mode a
//! reader never waits for a running batch, and sees either all of a snapshot or none of it.
//! Deltas and scores are recomputed from the stored hosts with this server's severity table,
//! as `daily_scan report` does, so both always agree.

use jiff::{SignedDuration, Timestamp};
use rouille::{Request, Response};
use serde::Serialize;

use super::error::ApiError;
use super::query::{Query, path_id};
use super::respond::{
    DEFAULT_LIMIT, Format, MAX_LIMIT, csv_response, ok_json, open_store, store_err, store_for,
    with_next,
};
use super::state::State;
use crate::delta::{self, Delta};
use crate::history::{self, TimelineRow, timeline};
use crate::report::{csv::write_record, delta_csv, timeline as timeline_report};
use crate::store::{SnapshotSummary, Store, StoreError};

/// `GET /api/stats/trends`: days when not given, the most, and the most snapshots returned.
pub const DEFAULT_DAYS: u64 = 30;
pub const MAX_DAYS: u64 = 3660;
pub const MAX_TREND_POINTS: usize = 1000;

#[derive(Serialize)]
struct SnapshotPage {
    snapshots: Vec<SnapshotSummary>,
    /// Pass as `before` for the next (older) page; `null` on the last page.
    next_before: Option<i64>,
}

const SUMMARY_HEADER: [&str; 9] = [
    "id",
    "started_at",
    "finished_at",
    "profile",
    "status",
    "hosts_up",
    "open_ports",
    "targets_total",
    "targets_failed",
];

/// `GET /api/snapshots?limit=&before=&format=`: newest first, paged with `before`.
pub fn snapshots(state: &State, request: &Request) -> Result<Response, ApiError> {
    let q = Query::parse(request, &["limit", "before", "format"])?;
    let limit = q.number("limit", 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let before = q.id("before")?;
    let format = q.format()?;
    let mut rows = match (open_store(&state.database)?, before) {
        (Some(store), _) => store
            .list_snapshots(limit as usize + 1, before)
            .map_err(|e| store_err(e).with_field("before"))?,
        (None, Some(id)) => return Err(store_err(StoreError::NotFound(id)).with_field("before")),
        (None, None) => Vec::new(),
    };
    let next = (rows.len() > limit as usize)
        .then(|| {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.id)
        })
        .flatten();
    let response = match format {
        Format::Json => ok_json(&SnapshotPage {
            snapshots: rows,
            next_before: next,
        }),
        Format::Csv => csv_response("snapshots.csv", |w| {
            write_record(w, &SUMMARY_HEADER)?;
            for s in &rows {
                write_record(
                    w,
                    &[
                        s.id.to_string(),
                        s.started_at.to_string(),
                        s.finished_at.to_string(),
                        s.profile.clone(),
                        s.status.as_str().to_string(),
                        s.hosts_up.to_string(),
                        s.open_ports.to_string(),
                        s.targets_total.to_string(),
                        s.targets_failed.to_string(),
                    ],
                )?;
            }
            Ok(())
        }),
    };
    Ok(with_next(response, "/api/snapshots", limit, next, format))
}

/// `GET /api/snapshots/{id}`: the snapshot as in `scan.json` (targets, hosts, ports).
pub fn snapshot(state: &State, request: &Request) -> Result<Response, ApiError> {
    let id = path_id(request, 2, "snapshot")?;
    Query::parse(request, &[])?;
    let store = store_for(&state.database, id)?;
    let snapshot = store.load_snapshot(id).map_err(store_err)?;
    Ok(ok_json(&snapshot))
}

fn delta_response(delta: &Delta, format: Format, name: &str) -> Response {
    match format {
        Format::Json => ok_json(delta),
        Format::Csv => csv_response(name, |w| delta_csv::write(w, delta)),
    }
}

/// `GET /api/snapshots/{id}/delta`: against the latest earlier snapshot of its profile.
pub fn snapshot_delta(state: &State, request: &Request) -> Result<Response, ApiError> {
    let id = path_id(request, 2, "snapshot")?;
    let format = Query::parse(request, &["format"])?.format()?;
    let store = store_for(&state.database, id)?;
    let (_, delta) =
        history::delta_with_previous(&store, id, &state.delta_config).map_err(store_err)?;
    Ok(delta_response(&delta, format, &format!("delta-{id}.csv")))
}

/// `GET /api/delta?from=A&to=B`: any two snapshots (of the same profile, or the delta says
/// why it did not compare them).
pub fn delta(state: &State, request: &Request) -> Result<Response, ApiError> {
    let q = Query::parse(request, &["from", "to", "format"])?;
    let from = q.required_id("from")?;
    let to = q.required_id("to")?;
    let format = q.format()?;
    let store = store_for(&state.database, from)?;
    for (id, field) in [(from, "from"), (to, "to")] {
        store
            .snapshot_summary(id)
            .map_err(|e| store_err(e).with_field(field))?;
    }
    let delta =
        history::delta_between(&store, Some(from), to, &state.delta_config).map_err(store_err)?;
    Ok(delta_response(
        &delta,
        format,
        &format!("delta-{from}-{to}.csv"),
    ))
}

#[derive(Serialize)]
struct Trends<'a> {
    days: u64,
    profile: Option<&'a str>,
    /// Oldest first.
    snapshots: Vec<TimelineRow>,
}

/// The timeline of the snapshots that started in the last `days` days (of `profile` when
/// given), oldest first, at most [`MAX_TREND_POINTS`] (the newest).
pub(super) fn recent_timeline(
    store: &Store,
    days: u64,
    profile: Option<&str>,
    cfg: &delta::DeltaConfig,
) -> Result<Vec<TimelineRow>, StoreError> {
    let hours = i64::try_from(days.saturating_mul(24)).unwrap_or(i64::MAX);
    let cutoff = Timestamp::now()
        .checked_sub(SignedDuration::from_hours(hours))
        .unwrap_or(Timestamp::MIN);
    let mut count = 0usize;
    let mut cursor = None;
    'pages: loop {
        let page = store.list_snapshots(256, cursor)?;
        let Some(last) = page.last() else { break };
        cursor = Some(last.id);
        for s in &page {
            if s.started_at < cutoff || count >= MAX_TREND_POINTS {
                break 'pages;
            }
            count += usize::from(profile.is_none_or(|p| p == s.profile));
        }
    }
    let mut rows = timeline(store, count, profile, None, cfg)?;
    rows.reverse();
    Ok(rows)
}

/// `GET /api/stats/trends?days=N&profile=&format=`: per snapshot its hosts up, open ports,
/// score and changes.
pub fn trends(state: &State, request: &Request) -> Result<Response, ApiError> {
    let q = Query::parse(request, &["days", "profile", "format"])?;
    let days = q.number("days", 1..=MAX_DAYS)?.unwrap_or(DEFAULT_DAYS);
    let profile = q.get("profile");
    let format = q.format()?;
    let rows = match open_store(&state.database)? {
        Some(store) => {
            recent_timeline(&store, days, profile, &state.delta_config).map_err(store_err)?
        }
        None => Vec::new(),
    };
    Ok(match format {
        Format::Json => ok_json(&Trends {
            days,
            profile,
            snapshots: rows,
        }),
        Format::Csv => csv_response("trends.csv", |w| timeline_report::csv(w, &rows)),
    })
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod tests_db;
