//! `GET /api/snapshots` (a page of summaries, newest first) and `GET /api/snapshots/{id}`
//! (one snapshot as in `scan.json`).

use rouille::{Request, Response};
use serde::Serialize;

use super::query::{Query, path_id};
use crate::api::error::ApiError;
use crate::api::respond::{
    DEFAULT_LIMIT, Format, MAX_LIMIT, csv_response, next_page, ok_json, open_store, store_err,
    store_for, with_next,
};
use crate::api::state::State;
use crate::report::timeline;
use crate::store::{SnapshotSummary, StoreError};

#[derive(Serialize)]
struct SnapshotPage {
    snapshots: Vec<SnapshotSummary>,
    /// Pass as `before` for the next (older) page; `null` on the last page.
    next_before: Option<i64>,
}

/// `GET /api/snapshots?limit=&before=&format=`: newest first, paged with `before`.
pub fn list(state: &State, request: &Request) -> Result<Response, ApiError> {
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
    let next = next_page(&mut rows, limit, |r| r.id);
    let response = match format {
        Format::Json => ok_json(&SnapshotPage {
            snapshots: rows,
            next_before: next,
        }),
        Format::Csv => csv_response("snapshots.csv", |w| timeline::summaries_csv(w, &rows)),
    };
    Ok(with_next(response, "/api/snapshots", limit, next, format))
}

/// `GET /api/snapshots/{id}`: the snapshot as in `scan.json` (targets, hosts, ports).
pub fn one(state: &State, request: &Request) -> Result<Response, ApiError> {
    let id = path_id(request, 2, "snapshot")?;
    Query::parse(request, &[])?;
    let store = store_for(&state.database, id)?;
    let snapshot = store.load_snapshot(id).map_err(store_err)?;
    Ok(ok_json(&snapshot))
}
