//! The route table and the request pipeline in front of every handler: route match (404/405),
//! rate limit (429), token check (401), then the handler.

use rouille::{Request, Response};

use super::error::{ApiError, Kind, json_response};
use super::{State, handlers};

/// A handler gets the server state, the request and its id.
pub type Handler = fn(&State, &Request) -> Result<Response, ApiError>;

pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    /// Needs a token when tokens are configured.
    pub auth: bool,
    /// Counts against the per-client rate limit.
    pub rate_limited: bool,
    pub handler: Handler,
}

/// Every route the server answers; `/api/openapi.json` documents exactly these.
pub const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/api/scan",
        auth: true,
        rate_limited: true,
        handler: handlers::scan,
    },
    Route {
        method: "GET",
        path: "/api/health",
        auth: false,
        rate_limited: false,
        handler: handlers::health,
    },
    Route {
        method: "GET",
        path: "/api/profiles",
        auth: true,
        rate_limited: true,
        handler: handlers::profiles,
    },
    Route {
        method: "GET",
        path: "/api/openapi.json",
        auth: true,
        rate_limited: true,
        handler: handlers::openapi,
    },
    Route {
        method: "GET",
        path: "/metrics",
        auth: false,
        rate_limited: false,
        handler: handlers::metrics,
    },
];

/// The label `/metrics` uses for requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// Runs the pipeline; returns the route label for metrics and the outcome.
pub fn dispatch(state: &State, request: &Request) -> (&'static str, Result<Response, ApiError>) {
    let url = request.url();
    let Some(route) = ROUTES.iter().find(|r| r.path == url) else {
        return (UNMATCHED, Err(ApiError::not_found()));
    };
    let method = request.method();
    // HEAD is served by the GET handler; tiny_http drops the body.
    let method_ok = method == route.method || (method == "HEAD" && route.method == "GET");
    if !method_ok {
        let allow = if route.method == "GET" {
            "GET, HEAD"
        } else {
            route.method
        };
        return (route.path, Err(ApiError::method_not_allowed(allow)));
    }
    (route.path, run_route(state, route, request))
}

fn run_route(state: &State, route: &Route, request: &Request) -> Result<Response, ApiError> {
    if route.rate_limited {
        let client = request.remote_addr().ip();
        state
            .limiter
            .check(client, std::time::Instant::now())
            .map_err(|wait| {
                ApiError::new(
                    Kind::TooManyRequests,
                    "rate_limited",
                    format!(
                        "more than {} requests per minute from this address; retry later",
                        state.rate_limit_per_minute
                    ),
                )
                .with_retry_after(wait)
            })?;
    }
    if route.auth && !state.tokens.accepts(request.header("Authorization")) {
        return Err(ApiError::unauthorized());
    }
    (route.handler)(state, request)
}

/// A 200 JSON response that caches nowhere (every answer here is about "now").
pub fn ok_json<T: serde::Serialize>(body: &T) -> Response {
    json_response(200, body).with_no_cache()
}
