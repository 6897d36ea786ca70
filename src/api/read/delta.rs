//! `GET /api/snapshots/{id}/delta` and `GET /api/delta?from=&to=`: deltas assembled by
//! [`crate::history`], the one place that knows "the delta of snapshot N", so these agree
//! with `daily_scan report`.

use rouille::{Request, Response};

use super::query::{Query, path_id};
use crate::api::error::ApiError;
use crate::api::respond::{Format, csv_response, ok_json, store_err, store_for};
use crate::api::state::State;
use crate::delta::Delta;
use crate::history;
use crate::report::delta_csv;
use crate::store::StoreError;

fn delta_response(delta: &Delta, format: Format, name: &str) -> Response {
    match format {
        Format::Json => ok_json(delta),
        Format::Csv => csv_response(name, |w| delta_csv::write(w, delta)),
    }
}

/// `GET /api/snapshots/{id}/delta`: against the latest earlier snapshot of its profile.
pub fn of_snapshot(state: &State, request: &Request) -> Result<Response, ApiError> {
    let id = path_id(request, 2, "snapshot")?;
    let format = Query::parse(request, &["format"])?.format()?;
    let store = store_for(&state.database, id)?;
    let text = history::delta_json_of_id(&store, id, &state.delta_config).map_err(store_err)?;
    Ok(match format {
        // The stored text as it is: the same bytes `ok_json` would write for the delta.
        Format::Json => Response::from_data("application/json", text).with_no_cache(),
        Format::Csv => {
            let delta: Delta = serde_json::from_str(&text).map_err(|e| {
                store_err(StoreError::Corrupt {
                    db: store.name().to_string(),
                    detail: format!("stored delta of snapshot {id}: {e}"),
                })
            })?;
            delta_response(&delta, format, &format!("delta-{id}.csv"))
        }
    })
}

/// `GET /api/delta?from=A&to=B`: any two snapshots (of the same profile, or the delta says
/// why it did not compare them).
pub fn between(state: &State, request: &Request) -> Result<Response, ApiError> {
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
