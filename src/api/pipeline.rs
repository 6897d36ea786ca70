//! What every request goes through, around the router ([`super::routes::dispatch`]): a
//! request id, a panic guard, errors turned into responses, metrics and one access-log line.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use rouille::{Request, Response};

use super::error::ApiError;
use super::state::State;
use super::{request_log, routes};

/// Serves one request, on the request's own thread (see `http.rs`).
pub fn handle(state: &State, request: &Request) -> Response {
    handle_with(state, request, routes::dispatch)
}

/// [`handle`] with the route pipeline as a parameter, so tests can make it panic.
fn handle_with(
    state: &State,
    request: &Request,
    dispatch: impl FnOnce(&State, &Request) -> (&'static str, Result<Response, ApiError>),
) -> Response {
    let started = Instant::now();
    let id = state.ids.next_id();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        match state.hosts.check(request.header("Host")) {
            Ok(()) => dispatch(state, request),
            Err(e) => (routes::UNMATCHED, Err(e)),
        }
    }));
    let (route, result) = outcome.unwrap_or_else(|_| {
        log::error!("{id}: handler panicked");
        (routes::UNMATCHED, Err(ApiError::internal()))
    });
    let response = match result {
        Ok(response) => response,
        Err(e) => {
            state.metrics.rejected(e.code);
            if e.status() >= 500 {
                log::warn!("{id}: {} {}", e.code, e.message);
            }
            e.to_response(&id)
        }
    };
    let response = response.with_unique_header("X-Request-Id", id.clone());
    state.metrics.request(route, response.status_code);
    request_log::log(&request_log::Entry {
        id: &id,
        method: request.method(),
        url: request.raw_url(),
        status: response.status_code,
        duration: started.elapsed(),
        client: request.remote_addr(),
    });
    response
}

#[cfg(test)]
mod tests;
