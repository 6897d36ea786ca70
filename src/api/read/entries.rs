//! `/entries/{entry}` (one `targets.txt` entry over time) and `GET /api/entries/{entry}` (its
//! JSON, or with `?format=csv` the history CSV columns narrowed to the entry). The entry is
//! one path segment, percent-encoded (`127.0.0.0%2F29`).
//!
//! Walks the stored runs newest first, loading each for comparison, and keeps those that
//! scanned the entry: at most [`MAX_POINTS`] points from the newest [`MAX_RUNS_READ`] runs.

use rouille::{Request, Response};
use serde::Serialize;

use super::query::{Query, path_text};
use crate::api::error::{ApiError, Kind};
use crate::api::respond::{Format, csv_response, html_response, ok_json, open_store};
use crate::api::state::State;
use crate::history;
use crate::report::html::dashboard::ProfileState;
use crate::report::html::{EntryPoint, entry_page, entry_point};
use crate::report::timeline;
use crate::store::{Store, StoreError};

/// Runs shown on the page and in its twin, newest first.
pub const MAX_POINTS: usize = 60;
/// Runs read at most while looking for them.
pub const MAX_RUNS_READ: usize = 500;
/// Longest entry name accepted (a `targets.txt` line).
const MAX_ENTRY_CHARS: usize = 512;

#[derive(Serialize)]
struct EntryJson<'a> {
    entry: &'a str,
    /// Newest first.
    runs: &'a [EntryPoint],
}

fn entry_of(request: &Request, index: usize) -> Result<String, ApiError> {
    let entry = path_text(request, index);
    if entry.chars().count() > MAX_ENTRY_CHARS {
        return Err(not_found(&entry));
    }
    Ok(entry)
}

fn not_found(entry: &str) -> ApiError {
    let shown: String = entry.chars().take(60).collect();
    ApiError::new(
        Kind::NotFound,
        "entry_not_found",
        format!("no stored run scanned the targets.txt entry {shown:?}"),
    )
}

fn points(state: &State, store: &Store, entry: &str) -> Result<Vec<EntryPoint>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    let mut read = 0;
    while out.len() < MAX_POINTS && read < MAX_RUNS_READ {
        let page = store.list_snapshots(64, cursor)?;
        let Some(last) = page.last() else { break };
        cursor = Some(last.id);
        for summary in page {
            read += 1;
            let snapshot = store.load_snapshot_for_comparison(summary.id)?;
            if !snapshot.targets.iter().any(|t| t.entry == entry) {
                continue;
            }
            let delta = history::delta_of(store, summary.id, &snapshot, &state.delta_config)?;
            let state = ProfileState::new(snapshot, delta);
            if let Some(p) = entry_point(&state, &summary, entry) {
                out.push(p);
            }
            if out.len() >= MAX_POINTS || read >= MAX_RUNS_READ {
                break;
            }
        }
    }
    Ok(out)
}

fn load(state: &State, entry: &str) -> Result<Vec<EntryPoint>, ApiError> {
    let points = match open_store(&state.database)? {
        Some(store) => points(state, &store, entry).map_err(|e| ApiError::from_store(&e))?,
        None => Vec::new(),
    };
    if points.is_empty() {
        return Err(not_found(entry));
    }
    Ok(points)
}

/// `GET /entries/{entry}`: the entry page.
pub fn page(state: &State, request: &Request) -> Result<Response, ApiError> {
    let entry = entry_of(request, 1)?;
    Query::parse(request, &[])?;
    match load(state, &entry) {
        Ok(points) => Ok(html_response(entry_page::render(&entry, &points), None)),
        // A page a person can read (and go back from), not JSON.
        Err(e) if e.status() == 404 => {
            Ok(html_response(entry_page::render(&entry, &[]), None).with_status_code(404))
        }
        Err(e) => Err(e),
    }
}

/// `GET /api/entries/{entry}?format=`: the entry's runs as JSON, or as history CSV rows.
pub fn json(state: &State, request: &Request) -> Result<Response, ApiError> {
    let entry = entry_of(request, 2)?;
    let format = Query::parse(request, &["format"])?.format()?;
    let points = load(state, &entry)?;
    Ok(match format {
        Format::Json => ok_json(&EntryJson {
            entry: &entry,
            runs: &points,
        }),
        Format::Csv => {
            let rows: Vec<_> = points.iter().map(|p| p.row.clone()).collect();
            csv_response("entry.csv", |w| timeline::csv(w, &rows))
        }
    })
}
