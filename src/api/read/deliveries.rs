//! `GET /api/deliveries`: every attempt to deliver a notification (webhook or email), newest
//! first, paged with `before`, filtered by destination and outcome. Destinations are named by
//! their configured name and `scheme://host:port`: URLs, tokens and passwords are never stored.

use rouille::{Request, Response};
use serde::Serialize;

use super::query::Query;
use crate::api::error::ApiError;
use crate::api::respond::{
    DEFAULT_LIMIT, Format, MAX_LIMIT, next_page, ok_json, open_store, with_next,
};
use crate::api::state::State;
use crate::report;
use crate::store::{Delivery, DeliveryFilter, DeliveryOutcome};

#[derive(Serialize)]
struct DeliveryPage {
    deliveries: Vec<Delivery>,
    /// Pass as `before` for the next (older) page; `null` on the last page.
    next_before: Option<i64>,
}

/// `GET /api/deliveries?destination=&outcome=&limit=&before=&format=`.
pub fn list(state: &State, request: &Request) -> Result<Response, ApiError> {
    let q = Query::parse(
        request,
        &["destination", "outcome", "limit", "before", "format"],
    )?;
    let limit = q.number("limit", 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let destination = q.get("destination").map(str::to_string);
    if let Some(d) = &destination
        && (d.is_empty() || d.chars().count() > 200)
    {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "destination must be a webhook or email name (1-200 characters)",
        )
        .with_field("destination"));
    }
    let filter = DeliveryFilter {
        destination,
        outcome: q.parsed::<DeliveryOutcome>("outcome")?,
        limit: limit as usize + 1,
        before_id: q.id("before")?,
    };
    let format = q.format()?;
    let mut rows = match open_store(&state.database)? {
        Some(store) => store
            .query_deliveries(&filter)
            .map_err(|e| ApiError::from_store(&e))?,
        None => Vec::new(),
    };
    let next = next_page(&mut rows, limit, |d| d.id);
    let response = match format {
        Format::Json => ok_json(&DeliveryPage {
            deliveries: rows,
            next_before: next,
        }),
        Format::Csv => crate::api::respond::csv_response("deliveries.csv", |w| {
            report::deliveries::csv(w, &rows)
        }),
    };
    Ok(with_next(response, "/api/deliveries", limit, next, format))
}

#[cfg(test)]
mod tests;
