//! What the handlers answer with: JSON, CSV and HTML responses, the `Link` to a list's next
//! page, the read-only store opener, and the paging limits the list routes share.
//!
//! A leaf: it imports no other api file but [`super::error`], so every handler may use it
//! without reaching into the router or into another handler.

use std::path::PathBuf;

use rouille::Response;
use serde::Serialize;

use super::error::{ApiError, json_response};
use crate::config::Database;
use crate::report::html::content_security_policy;
use crate::store::{PgPool, Store, StoreError};

/// The database the server reads: a SQLite file opened per request (read-only for reads; WAL
/// lets it read while a batch writes), or a bounded pool of PostgreSQL connections.
pub enum Db {
    Sqlite(PathBuf),
    Postgres(PgPool),
}

impl Db {
    /// The configured database; a PostgreSQL pool connects lazily, so the server starts while
    /// the database is down.
    pub fn of(database: &Database) -> Result<Db, StoreError> {
        Ok(match database {
            Database::Sqlite(path) => Db::Sqlite(path.clone()),
            Database::Postgres(url) => Db::Postgres(PgPool::new(url)?),
        })
    }

    /// `sqlite` or `postgres`, for `/api/health`.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }
}

/// Rows of a list page when `limit` is not given, and the most a page may have.
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 1000;

/// `?format=`: JSON (the default) or CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// A 200 JSON response that caches nowhere (every answer here is about "now").
pub fn ok_json<T: Serialize>(body: &T) -> Response {
    json_response(200, body).with_no_cache()
}

/// A CSV response (RFC 4180, UTF-8) that names a file for browsers.
pub fn csv_response(
    name: &str,
    write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>,
) -> Response {
    let mut bytes = Vec::new();
    if let Err(e) = write(&mut bytes) {
        log::error!("cannot write CSV into memory: {e}");
    }
    Response::from_data("text/csv; charset=utf-8", bytes)
        .with_unique_header(
            "Content-Disposition",
            format!("inline; filename=\"{name}\""),
        )
        .with_no_cache()
}

/// An HTML page that may run only `script` (inline) and may not be framed or sniffed.
pub fn html_response(html: String, script: Option<&str>) -> Response {
    Response::from_data("text/html; charset=utf-8", html)
        .with_unique_header("Content-Security-Policy", content_security_policy(script))
        .with_unique_header("X-Frame-Options", "DENY")
        .with_unique_header("X-Content-Type-Options", "nosniff")
        .with_unique_header("Referrer-Policy", "no-referrer")
        .with_no_cache()
}

/// Cuts a list fetched with one row more than `limit` down to `limit`; returns the id to pass
/// as `before` for the next (older) page, or `None` on the last page.
pub fn next_page<T>(rows: &mut Vec<T>, limit: u64, id: impl FnOnce(&T) -> i64) -> Option<i64> {
    (rows.len() > limit as usize)
        .then(|| {
            rows.truncate(limit as usize);
            rows.last().map(id)
        })
        .flatten()
}

/// `Link: <...>; rel="next"` for a list with more rows; `path` may end in the list's filters
/// (`/api/alerts?status=open`).
pub fn with_next(
    response: Response,
    path: &str,
    limit: u64,
    next: Option<i64>,
    format: Format,
) -> Response {
    match next {
        None => response,
        Some(id) => {
            let csv = if format == Format::Csv {
                "&format=csv"
            } else {
                ""
            };
            // `path` may carry a query of its own (a list's filters).
            let sep = if path.contains('?') { '&' } else { '?' };
            response.with_unique_header(
                "Link",
                format!("<{path}{sep}limit={limit}&before={id}{csv}>; rel=\"next\""),
            )
        }
    }
}

/// The database for reading, or `None` when no run has created the SQLite file yet.
pub fn open_store(database: &Db) -> Result<Option<Store>, ApiError> {
    let opened = match database {
        Db::Sqlite(path) => Store::open_read_only(path),
        Db::Postgres(pool) => Store::from_pool(pool),
    };
    match opened {
        Ok(store) => Ok(Some(store)),
        Err(StoreError::Missing { .. }) => Ok(None),
        Err(e) => Err(ApiError::from_store(&e)),
    }
}

/// The database for an operator's action (one statement), or `None` when no run has created
/// the SQLite file yet.
pub fn open_store_for_writing(database: &Db) -> Result<Option<Store>, ApiError> {
    let opened = match database {
        Db::Sqlite(path) if !path.is_file() => return Ok(None),
        Db::Sqlite(path) => Store::open(path),
        Db::Postgres(pool) => Store::from_pool(pool),
    };
    opened.map(Some).map_err(|e| ApiError::from_store(&e))
}

/// The store, or a 404 for snapshot `id` when there is no database yet.
pub fn store_for(database: &Db, id: i64) -> Result<Store, ApiError> {
    open_store(database)?.ok_or_else(|| store_err(StoreError::NotFound(id)))
}

pub fn store_err(e: StoreError) -> ApiError {
    ApiError::from_store(&e)
}
