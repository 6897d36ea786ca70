//! The answers the connection layer gives on its own, before any route runs. They are
//! [`ApiError`]s, so their status comes from the one mapping in `error.rs` and their body has
//! the API's error shape.

use crate::api::error::{ApiError, Kind};

/// A request refused at the edge; the connection is closed after it.
pub type Refusal = ApiError;

impl ApiError {
    pub(crate) fn headers_too_large() -> Self {
        Self::new(
            Kind::HeaderFieldsTooLarge,
            "headers_too_large",
            format!(
                "request headers are limited to {} fields, {} bytes per line and {} bytes in all",
                super::limits::MAX_HEADERS,
                super::limits::MAX_HEADER_LINE,
                super::limits::MAX_HEAD_BYTES
            ),
        )
    }

    pub(crate) fn uri_too_long() -> Self {
        Self::new(
            Kind::UriTooLong,
            "uri_too_long",
            format!(
                "the request line is limited to {} bytes",
                super::limits::MAX_REQUEST_LINE
            ),
        )
    }

    pub(crate) fn timeout() -> Self {
        Self::new(
            Kind::RequestTimeout,
            "request_timeout",
            "the request was not received in time",
        )
    }

    pub(crate) fn not_implemented(code: &'static str, message: &str) -> Self {
        Self::new(Kind::NotImplemented, code, message)
    }

    pub(crate) fn version_not_supported() -> Self {
        Self::new(
            Kind::VersionNotSupported,
            "http_version_not_supported",
            "only HTTP/1.0 and HTTP/1.1 are served",
        )
    }

    pub(crate) fn expectation_failed() -> Self {
        Self::new(
            Kind::ExpectationFailed,
            "expectation_failed",
            "only `Expect: 100-continue` is understood",
        )
    }

    pub(crate) fn too_many_connections() -> Self {
        Self::new(
            Kind::Unavailable,
            "too_many_connections",
            "the server holds its maximum number of connections; retry shortly",
        )
        .with_retry_after(std::time::Duration::from_secs(1))
    }
}
