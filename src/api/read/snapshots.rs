//! `GET /api/snapshots` (a page of summaries, newest first) and `GET /api/snapshots/{id}`
//! (one snapshot as in `scan.json`).

mod stream;

use rouille::{Request, Response, ResponseBody};
use serde::Serialize;

use super::query::{Query, path_id};
use crate::api::error::ApiError;
use crate::api::respond::{
    DEFAULT_LIMIT, Format, MAX_LIMIT, csv_response, next_page, ok_json, open_store, store_err,
    store_for, with_next,
};
use crate::api::state::State;
use crate::model::Host;
use crate::report::timeline;
use crate::store::{HostRange, SnapshotSummary, Store, StoreError};

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

/// Hosts per page of `GET /api/snapshots/{id}?limit=&after=`, when paged.
#[derive(Serialize)]
struct HostPage {
    /// The snapshot's id.
    id: i64,
    /// Each host as in `scan.json`, with `position` (its place in nmap's order, from 0).
    hosts: Vec<PagedHost>,
    /// Pass as `after` for the next page; `null` on the last page.
    next_after: Option<u64>,
}

#[derive(Serialize)]
struct PagedHost {
    position: u64,
    #[serde(flatten)]
    host: Host,
}

/// `GET /api/snapshots/{id}`: the snapshot as in `scan.json` (targets, hosts, ports), streamed
/// host by host; with `limit` or `after`, one page of its hosts instead.
pub fn one(state: &State, request: &Request) -> Result<Response, ApiError> {
    let id = path_id(request, 2, "snapshot")?;
    let q = Query::parse(request, &["limit", "after"])?;
    let limit = q.number("limit", 1..=MAX_LIMIT)?;
    let after = q.number("after", 0..=i64::MAX as u64)?;
    let store = store_for(&state.database, id)?;
    if limit.is_some() || after.is_some() {
        return host_page(&store, id, limit.unwrap_or(DEFAULT_LIMIT), after);
    }
    let head = store.load_snapshot_head(id).map_err(store_err)?;
    match stream::body(store, &head) {
        Some(body) => Ok(Response {
            status_code: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            data: ResponseBody::from_reader(body),
            upgrade: None,
        }
        .with_no_cache()),
        None => Err(ApiError::internal()),
    }
}

fn host_page(store: &Store, id: i64, limit: u64, after: Option<u64>) -> Result<Response, ApiError> {
    let mut hosts = Vec::new();
    let range = HostRange {
        after,
        limit: Some(limit + 1),
    };
    store
        .for_each_host(id, range, |position, host| {
            hosts.push(PagedHost { position, host });
            true
        })
        .map_err(store_err)?;
    let next_after = next_page(&mut hosts, limit, |h| h.position as i64).map(|p| p as u64);
    let response = ok_json(&HostPage {
        id,
        hosts,
        next_after,
    });
    Ok(match next_after {
        Some(p) => response.with_unique_header(
            "Link",
            format!("</api/snapshots/{id}?limit={limit}&after={p}>; rel=\"next\""),
        ),
        None => response,
    })
}
