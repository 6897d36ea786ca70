//! The OpenAPI 3 description served at `/api/openapi.json`, assembled here in one direction:
//! this file holds the frame (info, security schemes, the error shape) and merges in the
//! paths and schemas of each part (`openapi/scan.rs`, `ops.rs`, `read.rs`); the parts never
//! import it. The router's unit tests check that the document lists exactly its routes.

mod notify;
mod ops;
mod params;
mod read;
mod responses;
mod scan;
mod triage;

use rouille::{Request, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::respond::ok_json;
use super::state::State;
use crate::profile::Profile;

/// `GET /api/openapi.json`.
pub fn serve_document(_state: &State, _request: &Request) -> Result<Response, ApiError> {
    let names: Vec<&str> = Profile::ALL
        .iter()
        .filter(|p| p.api_allowed())
        .map(|p| p.name())
        .collect();
    Ok(ok_json(&document_with_profiles(&names)))
}

/// The whole document; `api_profiles` are the profile names a request may ask for, filled in
/// by the caller from the profile table.
pub fn document_with_profiles(api_profiles: &[&str]) -> Value {
    let error_codes: &[&str] = &[
        "invalid_json",
        "invalid_request",
        "unknown_field",
        "invalid_type",
        "missing_target",
        "too_many_targets",
        "invalid_target",
        "target_batch_only",
        "invalid_ports",
        "too_many_ports",
        "unknown_profile",
        "profile_batch_only",
        "profile_needs_privilege",
        "unauthorized",
        "target_not_allowed",
        "not_found",
        "method_not_allowed",
        "body_too_large",
        "unsupported_media_type",
        "rate_limited",
        "no_capacity",
        "nmap_unavailable",
        "shutting_down",
        "internal",
        "unknown_parameter",
        "invalid_parameter",
        "missing_parameter",
        "snapshot_not_found",
        "alert_not_found",
        "alert_transition",
        "note_too_long",
        "insufficient_scope",
        "cross_site_request",
        "database_busy",
        "database_unavailable",
        "entry_not_found",
        "file_not_found",
    ];
    let mut doc = json!({
      "openapi": "3.0.3",
      "info": {
        "title": "security-scanner API",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "Synchronous nmap scans of allowed addresses. Only addresses inside the \
          server's allowed_networks are scanned; hostnames are resolved once and nmap is given \
          the resolved address."
      },
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
          "description": "Required only when the server has API tokens configured. Tokens from api.tokens may do everything; tokens from api.read_tokens only the GET routes."},
          "basic": {"type": "http", "scheme": "basic",
          "description": "The same tokens as the password (any user name), for browsers."}},
        "schemas": {
          "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
              "type": "object", "required": ["code", "message", "field", "request_id"],
              "properties": {
                "code": {"type": "string", "enum": error_codes},
                "message": {"type": "string"},
                "field": {"type": "string", "nullable": true,
                  "description": "The request field at fault, e.g. targets[1]."},
                "request_id": {"type": "string"}
              }
            }}
          }
        }
      },
      "paths": {}
    });
    let parts = [
        (scan::paths(), scan::schemas(api_profiles)),
        (ops::paths(), ops::schemas()),
        (read::paths(), read::schemas()),
        (triage::paths(), serde_json::json!({})),
        (notify::paths(), notify::schemas()),
    ];
    for (paths, schemas) in parts {
        extend(&mut doc["paths"], paths);
        extend(&mut doc["components"]["schemas"], schemas);
    }
    let ignore = triage::bulk_ignore(&doc["paths"]["/api/alerts/ack"]);
    extend(&mut doc["paths"], ignore);
    // The alerts page takes the list's query, described once.
    doc["paths"]["/alerts"]["get"]["parameters"] =
        doc["paths"]["/api/alerts"]["get"]["parameters"].clone();
    doc
}

/// Adds the members of `extra` to the object `target`.
fn extend(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        target.extend(extra);
    }
}
