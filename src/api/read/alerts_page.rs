//! `GET /alerts`: the alerts page (see [`crate::report::html::alerts_page`]). Its filters are
//! those of `GET /api/alerts` ([`super::alerts::filter_of`]); a bad one re-renders the page
//! with the message and every alert, with status 400.

use rouille::{Request, Response};

use super::alerts::{LIST_PARAMETERS, filter_of};
use super::query::Query;
use crate::api::error::ApiError;
use crate::api::respond::{MAX_LIMIT, html_response, open_store};
use crate::api::state::State;
use crate::report::html::alerts_page::{self, AlertForm, AlertsPage};
use crate::store::AlertFilter;

/// Rows listed on the page unless `limit` says otherwise (at most the list's maximum).
const DEFAULT_ROWS: u64 = 500;

pub fn page(state: &State, request: &Request) -> Result<Response, ApiError> {
    let (form, filter, rows, message) = match Query::parse(request, &LIST_PARAMETERS) {
        Ok(q) => {
            let form = form_of(&q);
            // `limit` and `format` are the list's: checked the same, the page shows HTML.
            let checked = filter_of(&q).and_then(|filter| {
                q.format()?;
                let rows = q.number("limit", 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_ROWS);
                Ok((filter, rows as usize))
            });
            match checked {
                Ok((filter, rows)) => (form, filter, rows, None),
                Err(e) => (
                    form,
                    AlertFilter::default(),
                    DEFAULT_ROWS as usize,
                    Some(e.message),
                ),
            }
        }
        Err(e) => (
            AlertForm::default(),
            AlertFilter::default(),
            DEFAULT_ROWS as usize,
            Some(e.message),
        ),
    };
    let filter = AlertFilter {
        limit: Some(rows + 1),
        ..filter
    };
    let mut alerts = match open_store(&state.database)? {
        Some(store) => store
            .list_alerts(&filter)
            .map_err(|e| ApiError::from_store(&e))?,
        None => Vec::new(),
    };
    let more = alerts.len() > rows;
    alerts.truncate(rows);
    let html = alerts_page::render(&AlertsPage {
        form: &form,
        message: message.as_deref(),
        alerts: &alerts,
        more,
    });
    let response = html_response(html, Some(alerts_page::SCRIPT));
    Ok(if message.is_some() {
        response.with_status_code(400)
    } else {
        response
    })
}

fn form_of(q: &Query) -> AlertForm {
    let get = |name: &str| q.get(name).unwrap_or("").chars().take(200).collect();
    AlertForm {
        status: get("status"),
        min_severity: get("min_severity"),
        kind: get("kind"),
        ip: get("ip"),
        q: get("q"),
        since: get("since"),
        until: get("until"),
    }
}
