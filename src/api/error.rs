//! The one place where an API failure becomes an HTTP status, headers and a JSON body.
//!
//! Every handler returns `Result<Response, ApiError>`; only [`ApiError::status`] knows status
//! codes. Bodies are `{"error": {"code", "message", "field", "request_id"}}`: `code` is stable and
//! machine-readable, `message` is for a person, `field` names the request field at fault (e.g.
//! `targets[1]`) or is null. A 500 says nothing about what went wrong inside: the details go to
//! the log under the same request id.

use std::time::Duration;

use rouille::Response;
use serde::Serialize;

use crate::profile::{PortSpecError, ProfileError};
use crate::scan::AcquireError;
use crate::store::StoreError;
use crate::target::TargetError;

/// What kind of failure this is; decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    TooManyRequests,
    Unavailable,
    Internal,
    /// Edge refusals (connection layer and Host check), see `http/refusal.rs`.
    RequestTimeout,
    ExpectationFailed,
    MisdirectedRequest,
    UriTooLong,
    HeaderFieldsTooLarge,
    NotImplemented,
    VersionNotSupported,
}

/// A request that could not be served, with everything the client needs to act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: Kind,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Seconds for `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
    /// Methods for `Allow` (405).
    pub allow: Option<&'static str>,
    /// `WWW-Authenticate` of a 401, when not plain `Bearer` (the dashboard asks for Basic).
    pub challenge: Option<&'static str>,
}

/// `Retry-After` when every scan slot is busy: about one quick scan.
const CAPACITY_RETRY_AFTER: Duration = Duration::from_secs(5);
/// `Retry-After` when nmap is unusable: the operator has to act; the probe re-runs every 5 s.
const NMAP_RETRY_AFTER: Duration = Duration::from_secs(30);

/// The public message of every 500; the cause stays in the log.
const INTERNAL_MESSAGE: &str =
    "internal error; the server log has the details under this request id";

impl ApiError {
    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            allow: None,
            challenge: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Kind::BadRequest, code, message)
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(retry_after_seconds(wait));
        self
    }

    pub fn not_found() -> Self {
        Self::new(
            Kind::NotFound,
            "not_found",
            "no such route; see /api/openapi.json",
        )
    }

    pub fn method_not_allowed(allow: &'static str) -> Self {
        let mut e = Self::new(
            Kind::MethodNotAllowed,
            "method_not_allowed",
            format!("this route accepts {allow} only"),
        );
        e.allow = Some(allow);
        e
    }

    pub fn unauthorized() -> Self {
        Self::new(
            Kind::Unauthorized,
            "unauthorized",
            "a valid API token is required: send `Authorization: Bearer <token>`",
        )
    }

    /// A browser's 401: `WWW-Authenticate: Basic` makes it ask for the token as a password.
    pub fn unauthorized_browser() -> Self {
        let mut e = Self::unauthorized();
        e.message = "a valid API token is required: give it as the password (any user name), \
                     or send `Authorization: Bearer <token>`"
            .into();
        e.challenge = Some("Basic realm=\"security-scanner\", charset=\"UTF-8\"");
        e
    }

    /// A valid read-only token on a route that changes something.
    pub fn insufficient_scope() -> Self {
        Self::new(
            Kind::Forbidden,
            "insufficient_scope",
            "this token may only read; scans and alert actions need a token from api.tokens",
        )
    }

    /// A state-changing request sent by another site's page (cross-site request forgery).
    pub fn cross_site() -> Self {
        Self::new(
            Kind::Forbidden,
            "cross_site_request",
            "cross-site requests may not change anything; use the dashboard or an API client",
        )
    }

    /// A store failure: unknown ids are 404, a refused alert transition 409, a busy or
    /// not-yet-migrated database 503; anything else is a 500 whose details only the log sees.
    pub fn from_store(e: &StoreError) -> Self {
        match e {
            StoreError::NotFound(id) => Self::new(
                Kind::NotFound,
                "snapshot_not_found",
                format!("snapshot {id} does not exist; GET /api/snapshots lists them"),
            ),
            StoreError::AlertNotFound(id) => Self::new(
                Kind::NotFound,
                "alert_not_found",
                format!("alert {id} does not exist; GET /api/alerts lists them"),
            ),
            StoreError::AlertTransition { .. } => {
                Self::new(Kind::Conflict, "alert_transition", e.to_string())
            }
            StoreError::NoteTooLong { .. } => {
                Self::bad_request("note_too_long", e.to_string()).with_field("note")
            }
            StoreError::Busy { .. } => Self::new(
                Kind::Unavailable,
                "database_busy",
                "the scan database is busy; retry shortly",
            )
            .with_retry_after(Duration::from_secs(1)),
            StoreError::Unavailable { .. } => {
                log::warn!("{e}");
                Self::new(
                    Kind::Unavailable,
                    "database_unavailable",
                    "the scan database is unavailable; retry shortly",
                )
                .with_retry_after(Duration::from_secs(5))
            }
            StoreError::NotADatabase { .. } => Self::new(
                Kind::Unavailable,
                "database_unavailable",
                "the configured database file is not an SQLite database; see the server log",
            )
            .with_retry_after(Duration::from_secs(30)),
            StoreError::TooOld { .. } | StoreError::TooNew { .. } => Self::new(
                Kind::Unavailable,
                "database_unavailable",
                match e {
                    StoreError::TooOld { .. } => {
                        "the scan database has an older schema: run daily_scan once to migrate it"
                    }
                    _ => "the scan database was written by a newer version: upgrade api_server",
                },
            )
            .with_retry_after(Duration::from_secs(30)),
            _ => {
                let mut internal = Self::internal();
                internal.message = e.to_string();
                internal
            }
        }
    }

    pub fn internal() -> Self {
        Self::new(Kind::Internal, "internal", INTERNAL_MESSAGE)
    }

    /// A refused target: outside the allowed networks is 403, everything else 400. (An
    /// unresolved hostname never gets here: it is that target's `failed` outcome.)
    pub fn from_target(e: &TargetError, field: &str) -> Self {
        let kind = match e {
            TargetError::NotAllowed { .. } => Kind::Forbidden,
            _ => Kind::BadRequest,
        };
        Self::new(kind, e.code(), format!("{field}: {e}")).with_field(field)
    }

    /// Unknown, batch-only, or unavailable (no raw sockets) profile: all 400, since the client
    /// must pick another profile; `/api/profiles` says which are available.
    pub fn from_profile(e: &ProfileError) -> Self {
        Self::bad_request(e.code(), e.to_string()).with_field("scan_type")
    }

    pub fn from_ports(e: &PortSpecError) -> Self {
        Self::bad_request(e.code(), format!("ports: {e}")).with_field("ports")
    }

    /// No scan capacity in time (or shutting down): 503, retry later.
    pub fn from_capacity(e: AcquireError, queue_timeout: Duration) -> Self {
        match e {
            AcquireError::Timeout => Self::new(
                Kind::Unavailable,
                "no_capacity",
                format!(
                    "every scan slot stayed busy for {} s; retry later",
                    queue_timeout.as_secs()
                ),
            )
            .with_retry_after(CAPACITY_RETRY_AFTER),
            AcquireError::Closed => Self::shutting_down(),
        }
    }

    pub fn shutting_down() -> Self {
        Self::new(
            Kind::Unavailable,
            "shutting_down",
            "the server is shutting down and starts no new scans",
        )
        .with_retry_after(CAPACITY_RETRY_AFTER)
    }

    pub fn nmap_unavailable() -> Self {
        Self::new(
            Kind::Unavailable,
            "nmap_unavailable",
            "nmap is not usable on this server right now; see /api/health",
        )
        .with_retry_after(NMAP_RETRY_AFTER)
    }

    /// The status code of each kind: the only such table in the API.
    pub fn status(&self) -> u16 {
        match self.kind {
            Kind::BadRequest => 400,
            Kind::Unauthorized => 401,
            Kind::Forbidden => 403,
            Kind::NotFound => 404,
            Kind::MethodNotAllowed => 405,
            Kind::Conflict => 409,
            Kind::PayloadTooLarge => 413,
            Kind::UnsupportedMediaType => 415,
            Kind::TooManyRequests => 429,
            Kind::Unavailable => 503,
            Kind::Internal => 500,
            Kind::RequestTimeout => 408,
            Kind::ExpectationFailed => 417,
            Kind::MisdirectedRequest => 421,
            Kind::UriTooLong => 414,
            Kind::HeaderFieldsTooLarge => 431,
            Kind::NotImplemented => 501,
            Kind::VersionNotSupported => 505,
        }
    }

    /// The response for this error, carrying `request_id` in the body.
    pub fn to_response(&self, request_id: &str) -> Response {
        let message = if self.kind == Kind::Internal {
            INTERNAL_MESSAGE
        } else {
            self.message.as_str()
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message,
                field: self.field.as_deref(),
                request_id,
            },
        };
        let mut response = json_response(self.status(), &body);
        if let Some(secs) = self.retry_after {
            response = response.with_unique_header("Retry-After", secs.to_string());
        }
        if let Some(allow) = self.allow {
            response = response.with_unique_header("Allow", allow);
        }
        if self.kind == Kind::Unauthorized {
            let challenge = self.challenge.unwrap_or("Bearer");
            response = response.with_unique_header("WWW-Authenticate", challenge);
        }
        response
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    field: Option<&'a str>,
    request_id: &'a str,
}

/// A JSON response; serialisation of our own types cannot fail, and if it ever did the client
/// gets a bare 500 rather than a panic.
pub fn json_response<T: Serialize>(status: u16, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => Response::from_data("application/json", bytes).with_status_code(status),
        Err(e) => {
            log::error!("cannot serialise a response body: {e}");
            Response::from_data(
                "application/json",
                r#"{"error":{"code":"internal","message":"internal error","field":null}}"#,
            )
            .with_status_code(500)
        }
    }
}

/// `Retry-After` wants whole seconds; never advertise 0 (clients would spin).
pub fn retry_after_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn body_of(response: Response) -> serde_json::Value {
        let (mut reader, _) = response.data.into_reader_and_size();
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
        response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    #[test]
    fn body_has_code_message_field_and_request_id() {
        let e = ApiError::bad_request("invalid_target", "bad").with_field("targets[1]");
        let r = e.to_response("abc");
        assert_eq!(r.status_code, 400);
        let v = body_of(r);
        assert_eq!(v["error"]["code"], "invalid_target");
        assert_eq!(v["error"]["field"], "targets[1]");
        assert_eq!(v["error"]["request_id"], "abc");
    }

    #[test]
    fn headers_for_retry_allow_and_auth() {
        let r = ApiError::new(Kind::TooManyRequests, "rate_limited", "slow down")
            .with_retry_after(Duration::from_millis(1500))
            .to_response("x");
        assert_eq!(r.status_code, 429);
        assert_eq!(header(&r, "Retry-After"), Some("2"));
        let r = ApiError::method_not_allowed("POST").to_response("x");
        assert_eq!((r.status_code, header(&r, "Allow")), (405, Some("POST")));
        let r = ApiError::unauthorized().to_response("x");
        assert_eq!(header(&r, "WWW-Authenticate"), Some("Bearer"));
    }

    #[test]
    fn internal_errors_never_carry_their_message() {
        let mut e = ApiError::internal();
        e.message = "/secret/path: permission denied".into();
        let v = body_of(e.to_response("id1"));
        assert!(!v.to_string().contains("/secret"));
        assert_eq!(v["error"]["request_id"], "id1");
    }

    #[test]
    fn retry_after_rounds_up_and_is_at_least_one() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_seconds(Duration::from_millis(3001)), 4);
    }
}
