//! `/runs/{id}` (the run page), `/runs/{id}/files/{name}` (its four report files, served
//! from its folder under `output_dir`) and `GET /api/runs/{id}` (the page's JSON twin).
//!
//! Files are served by name from a fixed list ([`run_files::FILES`]) inside the folder the
//! snapshot id leads to: no path from the request ever reaches the file system. The
//! `report.html` is served with the no-script Content-Security-Policy of the pages.

use std::fs::File;

use rouille::{Request, Response, ResponseBody};
use serde::Serialize;

use super::query::{Query, path_id, path_text};
use crate::api::error::{ApiError, Kind};
use crate::api::respond::{html_response, ok_json, store_err, store_for};
use crate::api::state::State;
use crate::delta::Delta;
use crate::history;
use crate::report::html::run_page;
use crate::report::run_files;
use crate::snapshot::Snapshot;
use crate::store::{Alert, SnapshotSummary, Store, StoreError};

/// Everything the run page shows, as its JSON twin carries it.
#[derive(Serialize)]
struct RunJson<'a> {
    snapshot: &'a SnapshotSummary,
    delta: &'a Delta,
    alerts_raised: &'a [Alert],
    alerts_resolved: &'a [Alert],
    /// Paths of the run's files on this server; empty when its folder is gone.
    files: Vec<String>,
}

struct Run {
    summary: SnapshotSummary,
    snapshot: Snapshot,
    delta: Delta,
    raised: Vec<Alert>,
    resolved: Vec<Alert>,
    files: Option<Vec<&'static str>>,
}

fn load(state: &State, id: i64) -> Result<Run, ApiError> {
    let store = store_for(&state.database, id)?;
    let summary = store.snapshot_summary(id).map_err(store_err)?;
    let (snapshot, delta) =
        history::delta_with_previous(&store, id, &state.delta_config).map_err(store_err)?;
    let (raised, resolved) = alerts_of(&store, id, &summary, &delta).map_err(store_err)?;
    let files = run_files::locate(&state.output_dir, id, summary.started_at).map(|dir| {
        run_files::FILES
            .into_iter()
            .filter(|f| dir.join(f).is_file())
            .collect()
    });
    Ok(Run {
        summary,
        snapshot,
        delta,
        raised,
        resolved,
        files,
    })
}

/// The alerts run `id` raised, and those it resolved (last seen by the run it was compared
/// with, resolved since it started).
fn alerts_of(
    store: &Store,
    id: i64,
    summary: &SnapshotSummary,
    delta: &Delta,
) -> Result<(Vec<Alert>, Vec<Alert>), StoreError> {
    let raised = store.alerts_raised_by(id)?;
    let resolved = match delta.from.as_ref().and_then(|f| f.snapshot) {
        Some(previous) => store.alerts_resolved_after(previous, summary.started_at)?,
        None => Vec::new(),
    };
    Ok((raised, resolved))
}

/// `GET /runs/{id}`: the run page.
pub fn page(state: &State, request: &Request) -> Result<Response, ApiError> {
    // A run that is not there gets a page a person can read and leave, not JSON.
    let missing = |shown: &str| html_response(run_page::missing(shown), None).with_status_code(404);
    let Ok(id) = path_id(request, 1, "snapshot") else {
        return Ok(missing(&path_text(request, 1)));
    };
    Query::parse(request, &[])?;
    let run = match load(state, id) {
        Ok(run) => run,
        Err(e) if e.status() == 404 => return Ok(missing(&id.to_string())),
        Err(e) => return Err(e),
    };
    let html = run_page::render(&run_page::RunView {
        snapshot: &run.snapshot,
        delta: &run.delta,
        raised: &run.raised,
        resolved: &run.resolved,
        files: run.files,
    });
    Ok(html_response(html, None))
}

/// `GET /api/runs/{id}`: the run page's content as JSON.
pub fn json(state: &State, request: &Request) -> Result<Response, ApiError> {
    let id = path_id(request, 2, "snapshot")?;
    Query::parse(request, &[])?;
    let run = load(state, id)?;
    Ok(ok_json(&RunJson {
        snapshot: &run.summary,
        delta: &run.delta,
        alerts_raised: &run.raised,
        alerts_resolved: &run.resolved,
        files: run
            .files
            .unwrap_or_default()
            .iter()
            .map(|f| format!("/runs/{id}/files/{f}"))
            .collect(),
    }))
}

/// `GET /runs/{id}/files/{name}`: one of the run's four files, streamed from disk.
pub fn file(state: &State, request: &Request) -> Result<Response, ApiError> {
    let id = path_id(request, 1, "snapshot")?;
    Query::parse(request, &[])?;
    let asked = path_text(request, 3);
    let asked = asked.as_str();
    let not_found = || {
        ApiError::new(
            Kind::NotFound,
            "file_not_found",
            format!(
                "run {id} has no file {:?}; its files are {}",
                asked.chars().take(40).collect::<String>(),
                run_files::FILES.join(", ")
            ),
        )
    };
    let name = run_files::FILES
        .into_iter()
        .find(|f| *f == asked)
        .ok_or_else(not_found)?;
    let store = store_for(&state.database, id)?;
    let summary = store.snapshot_summary(id).map_err(store_err)?;
    drop(store);
    let dir = run_files::locate(&state.output_dir, id, summary.started_at).ok_or_else(not_found)?;
    let file = File::open(dir.join(name)).map_err(|_| not_found())?;
    let length = file.metadata().map(|m| m.len()).ok();
    let body = match length {
        Some(n) => ResponseBody::from_reader_and_size(file, n as usize),
        None => ResponseBody::from_reader(file),
    };
    let response = if name == "report.html" {
        // The pages' headers (CSP without scripts, no framing, no sniffing), then the file.
        Response {
            data: body,
            ..html_response(String::new(), None)
        }
    } else {
        Response {
            status_code: 200,
            headers: vec![("Content-Type".into(), run_files::content_type(name).into())],
            data: body,
            upgrade: None,
        }
        .with_unique_header("X-Content-Type-Options", "nosniff")
        .with_unique_header(
            "Content-Disposition",
            format!("inline; filename=\"run-{id}-{name}\""),
        )
        .with_no_cache()
    };
    Ok(response)
}
