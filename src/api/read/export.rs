//! `GET /api/export.zip?from=&to=`: every stored run's four files in the range as one ZIP,
//! streamed (chunked) while it is read from disk: the server holds one buffer, not the
//! archive. `from` and `to` are UTC dates (`to` inclusive) or RFC 3339 times.

use rouille::{Request, Response, ResponseBody};

use super::alerts::time_of;
use super::query::Query;
use crate::api::error::ApiError;
use crate::api::respond::open_store;
use crate::api::state::State;
use crate::report::export;
use crate::report::zip::ZipReader;

pub fn zip(state: &State, request: &Request) -> Result<Response, ApiError> {
    let q = Query::parse(request, &["from", "to"])?;
    let from = time_of(&q, "from", false)?;
    let to = time_of(&q, "to", true)?;
    let export = match open_store(&state.database)? {
        Some(store) => export::collect(&store, &state.output_dir, from, to)
            .map_err(|e| ApiError::from_store(&e))?,
        None => export::Export::default(),
    };
    if !export.missing.is_empty() {
        log::info!(
            "export: {} runs in the range have no report folder on disk",
            export.missing.len()
        );
    }
    Ok(Response {
        status_code: 200,
        headers: vec![
            ("Content-Type".into(), "application/zip".into()),
            (
                "Content-Disposition".into(),
                "attachment; filename=\"security-scanner-reports.zip\"".into(),
            ),
            ("X-Content-Type-Options".into(), "nosniff".into()),
        ],
        data: ResponseBody::from_reader(ZipReader::new(export.entries)),
        upgrade: None,
    }
    .with_no_cache())
}
