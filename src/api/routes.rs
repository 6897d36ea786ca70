//! The route table and the request pipeline in front of every handler: route match (404/405),
//! rate limit (429), token check (401, 403 for a read-only token on a write route),
//! cross-site check for write routes (403), then the handler.

use rouille::{Request, Response};

use super::auth::Scope;
use super::error::{ApiError, Kind};
use super::read::query::raw_path;
use super::read::{
    alerts, alerts_page, certificates, dashboard, deliveries, delta, entries, export, runs,
    snapshots, trends,
};
use super::state::State;
use super::{openapi, ops, scan};

/// A handler gets the server state, the request and its id.
pub type Handler = fn(&State, &Request) -> Result<Response, ApiError>;

/// Who may call a route when tokens are configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Never needs a token.
    Open,
    /// Any token (`api.tokens` or `api.read_tokens`).
    Read,
    /// A token from `api.tokens`.
    Write,
}

pub struct Route {
    pub method: &'static str,
    /// The path; a `{id}` segment matches any single segment (the handler parses it).
    pub path: &'static str,
    pub access: Access,
    /// Counts against the per-client rate limit.
    pub rate_limited: bool,
    pub handler: Handler,
}

/// Every route the server answers; `/api/openapi.json` documents exactly these.
pub const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/api/scan",
        access: Access::Write,
        rate_limited: true,
        handler: scan::scan,
    },
    Route {
        method: "GET",
        path: "/api/health",
        access: Access::Open,
        rate_limited: false,
        handler: ops::health,
    },
    Route {
        method: "GET",
        path: "/api/profiles",
        access: Access::Read,
        rate_limited: true,
        handler: scan::profiles::list,
    },
    Route {
        method: "GET",
        path: "/api/openapi.json",
        access: Access::Read,
        rate_limited: true,
        handler: openapi::serve_document,
    },
    Route {
        method: "GET",
        path: "/metrics",
        access: Access::Open,
        rate_limited: false,
        handler: ops::metrics,
    },
    Route {
        method: "GET",
        path: "/",
        access: Access::Read,
        rate_limited: true,
        handler: dashboard::page,
    },
    Route {
        method: "GET",
        path: "/api/snapshots",
        access: Access::Read,
        rate_limited: true,
        handler: snapshots::list,
    },
    Route {
        method: "GET",
        path: "/api/snapshots/{id}",
        access: Access::Read,
        rate_limited: true,
        handler: snapshots::one,
    },
    Route {
        method: "GET",
        path: "/api/snapshots/{id}/delta",
        access: Access::Read,
        rate_limited: true,
        handler: delta::of_snapshot,
    },
    Route {
        method: "GET",
        path: "/api/delta",
        access: Access::Read,
        rate_limited: true,
        handler: delta::between,
    },
    Route {
        method: "GET",
        path: "/api/stats/trends",
        access: Access::Read,
        rate_limited: true,
        handler: trends::get,
    },
    Route {
        method: "GET",
        path: "/api/alerts",
        access: Access::Read,
        rate_limited: true,
        handler: alerts::list,
    },
    Route {
        method: "GET",
        path: "/api/certificates",
        access: Access::Read,
        rate_limited: true,
        handler: certificates::list,
    },
    Route {
        method: "POST",
        path: "/api/alerts/{id}/ack",
        access: Access::Write,
        rate_limited: true,
        handler: alerts::ack,
    },
    Route {
        method: "POST",
        path: "/api/alerts/{id}/ignore",
        access: Access::Write,
        rate_limited: true,
        handler: alerts::ignore,
    },
    Route {
        method: "GET",
        path: "/alerts",
        access: Access::Read,
        rate_limited: true,
        handler: alerts_page::page,
    },
    Route {
        method: "GET",
        path: "/runs/{id}",
        access: Access::Read,
        rate_limited: true,
        handler: runs::page,
    },
    Route {
        method: "GET",
        path: "/runs/{id}/files/{name}",
        access: Access::Read,
        rate_limited: true,
        handler: runs::file,
    },
    Route {
        method: "GET",
        path: "/api/runs/{id}",
        access: Access::Read,
        rate_limited: true,
        handler: runs::json,
    },
    Route {
        method: "GET",
        path: "/entries/{entry}",
        access: Access::Read,
        rate_limited: true,
        handler: entries::page,
    },
    Route {
        method: "GET",
        path: "/api/entries/{entry}",
        access: Access::Read,
        rate_limited: true,
        handler: entries::json,
    },
    Route {
        method: "GET",
        path: "/api/export.zip",
        access: Access::Read,
        rate_limited: true,
        handler: export::zip,
    },
    Route {
        method: "POST",
        path: "/api/alerts/{id}/unignore",
        access: Access::Write,
        rate_limited: true,
        handler: alerts::unignore,
    },
    Route {
        method: "POST",
        path: "/api/alerts/ack",
        access: Access::Write,
        rate_limited: true,
        handler: alerts::ack_many,
    },
    Route {
        method: "POST",
        path: "/api/alerts/ignore",
        access: Access::Write,
        rate_limited: true,
        handler: alerts::ignore_many,
    },
    Route {
        method: "GET",
        path: "/api/deliveries",
        access: Access::Read,
        rate_limited: true,
        handler: deliveries::list,
    },
];

/// Whether `url` (a raw path without query) matches `pattern`; a `{name}` segment matches
/// any one non-empty segment.
pub fn matches(pattern: &str, url: &str) -> bool {
    let mut p = pattern.split('/');
    let mut u = url.split('/');
    loop {
        match (p.next(), u.next()) {
            (None, None) => return true,
            (Some(p), Some(seg)) if p.starts_with('{') && !seg.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// The label `/metrics` uses for requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// Runs the pipeline; returns the route label for metrics and the outcome.
pub fn dispatch(state: &State, request: &Request) -> (&'static str, Result<Response, ApiError>) {
    let url = raw_path(request);
    let Some(route) = ROUTES.iter().find(|r| matches(r.path, url)) else {
        return (UNMATCHED, Err(ApiError::not_found()));
    };
    let method = request.method();
    // HEAD is served by the GET handler; the connection layer sends no body.
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
    if route.access != Access::Open {
        let needed = match route.access {
            Access::Write => Scope::Write,
            _ => Scope::Read,
        };
        match state.tokens.scope(request.header("Authorization")) {
            None if !route.path.starts_with("/api/") && route.path != "/metrics" => {
                return Err(ApiError::unauthorized_browser());
            }
            None => return Err(ApiError::unauthorized()),
            Some(scope) if scope < needed => return Err(ApiError::insufficient_scope()),
            Some(_) => {}
        }
    }
    if route.method == "POST" && cross_site(request) {
        return Err(ApiError::cross_site());
    }
    (route.handler)(state, request)
}

/// Whether a browser says this request comes from another site's page: `Sec-Fetch-Site`
/// other than same-origin or none (typed by the user), or an `Origin` that is not this host.
/// Browsers send both on cross-site POSTs, so a page elsewhere cannot act on alerts with the
/// operator's browser credentials; API clients send neither.
fn cross_site(request: &Request) -> bool {
    if let Some(site) = request.header("Sec-Fetch-Site")
        && !matches!(site.trim(), "same-origin" | "none")
    {
        return true;
    }
    match (request.header("Origin"), request.header("Host")) {
        (None, _) => false,
        (Some(origin), Some(host)) => {
            let origin = origin.trim();
            let bare = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            bare != Some(host.trim())
        }
        (Some(_), None) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::openapi::document_with_profiles;

    #[test]
    fn lists_exactly_the_routes_of_the_router() {
        let doc = document_with_profiles(&["quick"]);
        let paths = doc["paths"].as_object().unwrap();
        for r in ROUTES {
            let method = r.method.to_ascii_lowercase();
            assert!(
                paths[r.path].get(&method).is_some(),
                "{} {}",
                r.method,
                r.path
            );
        }
        let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(documented, ROUTES.len());
    }

    #[test]
    fn open_routes_have_no_security_requirement() {
        let doc = document_with_profiles(&["quick"]);
        for r in ROUTES {
            let op = &doc["paths"][r.path][r.method.to_ascii_lowercase()];
            assert_eq!(
                op.get("security").is_some(),
                r.access != crate::api::routes::Access::Open,
                "{}",
                r.path
            );
        }
    }
}
