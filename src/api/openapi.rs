//! The OpenAPI 3 description served at `/api/openapi.json`. A unit test checks that it lists
//! exactly the routes of [`super::routes::ROUTES`], so the document cannot drift from the router.

use rouille::{Request, Response};
use serde_json::{Value, json};

use super::body::MAX_BODY_BYTES;
use super::error::ApiError;
use super::respond::ok_json;
use super::scan::request::{MAX_PORTS_LEN, MAX_TARGET_LEN, MAX_TARGETS};
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

/// Profile names a request may ask for; filled in by the caller from the profile table.
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
          "ScanRequest": {
            "type": "object", "additionalProperties": false,
            "description": "Exactly one of target or targets.",
            "properties": {
              "target": {"type": "string", "maxLength": MAX_TARGET_LEN,
                "description": "One IPv4/IPv6 address or hostname (no CIDR or ranges)."},
              "targets": {"type": "array", "minItems": 1,
                "items": {"type": "string", "maxLength": MAX_TARGET_LEN},
                "description": format!("1 to {MAX_TARGETS} distinct targets; duplicates are removed, order is kept.")},
              "scan_type": {"type": "string", "enum": api_profiles, "default": "default"},
              "ports": {"type": "string", "maxLength": MAX_PORTS_LEN,
                "description": "Port selection such as \"22,80,8000-8100\" (T:/U: prefixes allowed), limited by the server's api.max_ports.",
                "example": "22,80,443"}
            }
          },
          "OpenPort": {
            "type": "object",
            "required": ["port", "protocol", "state", "service", "product", "version", "extrainfo", "cpe"],
            "properties": {
              "port": {"type": "integer"}, "protocol": {"type": "string"},
              "state": {"type": "string"}, "service": {"type": "string"},
              "product": {"type": "string"}, "version": {"type": "string"},
              "extrainfo": {"type": "string"},
              "cpe": {"type": "array", "items": {"type": "string"}}
            }
          },
          "TargetResult": {
            "type": "object", "required": ["target", "status", "duration_seconds"],
            "properties": {
              "target": {"type": "string", "description": "As given in the request."},
              "status": {"type": "string", "enum": ["completed", "failed", "timeout"]},
              "ip": {"type": "string", "description": "The address nmap scanned."},
              "hostname": {"type": "string", "nullable": true},
              "host_state": {"type": "string", "description": "up, down, unknown (completed only)."},
              "duration_seconds": {"type": "number"},
              "open_ports": {"type": "array", "items": {"$ref": "#/components/schemas/OpenPort"}},
              "error": {"type": "string", "description": "Why the target failed or timed out."}
            }
          },
          "ScanResponse": {
            "type": "object",
            "required": ["total_targets", "scan_type", "duration_seconds", "results"],
            "properties": {
              "total_targets": {"type": "integer"},
              "scan_type": {"type": "string"},
              "duration_seconds": {"type": "number", "description": "Wall time of the request."},
              "results": {"type": "array", "items": {"$ref": "#/components/schemas/TargetResult"},
                "description": "One result per distinct target, in request order."}
            }
          },
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
          },
          "Health": {
            "type": "object",
            "required": ["status", "version", "nmap", "active_scans", "max_concurrent_scans", "uptime_seconds"],
            "properties": {
              "status": {"type": "string", "enum": ["ok", "degraded"]},
              "version": {"type": "string"},
              "nmap": {"type": "object", "properties": {
                "available": {"type": "boolean"},
                "version": {"type": "string", "nullable": true}}},
              "active_scans": {"type": "integer"},
              "max_concurrent_scans": {"type": "integer"},
              "uptime_seconds": {"type": "integer"}
            }
          },
          "Profile": {
            "type": "object",
            "required": ["name", "api_allowed", "available", "needs_raw_socket", "nmap_args"],
            "properties": {
              "name": {"type": "string"},
              "api_allowed": {"type": "boolean"},
              "available": {"type": "boolean",
                "description": "Allowed here and runnable with this server's privileges."},
              "needs_raw_socket": {"type": "boolean"},
              "nmap_args": {"type": "array", "items": {"type": "string"}},
              "note": {"type": "string", "nullable": true}
            }
          }
        }
      },
      "paths": {
        "/api/scan": {"post": {
          "summary": "Scan 1 to 10 targets and wait for the result.",
          "security": [{"bearer": []}, {}],
          "requestBody": {"required": true, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ScanRequest"}}},
            "description": format!("At most {MAX_BODY_BYTES} bytes.")},
          "responses": {
            "200": {"description": "Every target's outcome, even when some failed.",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScanResponse"}}}},
            "400": err("Bad JSON, wrong field types, unknown fields, missing/too many/invalid targets, bad ports, unknown, refused (batch only) or unavailable profile."),
            "401": err("Token required or invalid (only when tokens are configured)."),
            "403": err("A target is, or resolves to, an address outside the allowed networks."),
            "413": err("Body larger than 64 KiB."),
            "415": err("Content-Type is not application/json."),
            "429": retry_err("Rate limit reached for this client address."),
            "500": err("Internal error; the body carries the request id."),
            "503": retry_err("No scan capacity within the queue timeout, nmap unusable, or shutting down.")
          }
        }},
        "/api/health": {"get": {
          "summary": "Liveness and nmap availability; never needs a token.",
          "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
            "503": {"description": "degraded: nmap is unusable", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
          }
        }},
        "/api/profiles": {"get": {
          "summary": "Scan profiles, their nmap arguments and availability.",
          "security": [{"bearer": []}, {}],
          "responses": {
            "200": {"description": "Profiles", "content": {"application/json": {"schema": {
              "type": "object", "properties": {"profiles": {"type": "array",
                "items": {"$ref": "#/components/schemas/Profile"}}}}}}},
            "401": err("Token required or invalid."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/api/openapi.json": {"get": {
          "summary": "This document.",
          "security": [{"bearer": []}, {}],
          "responses": {
            "200": {"description": "OpenAPI 3 document", "content": {"application/json": {}}},
            "401": err("Token required or invalid."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/metrics": {"get": {
          "summary": "Prometheus metrics (text format 0.0.4); never needs a token.",
          "responses": {"200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}
        }}
      }
    });
    for (section, extra) in [
        ("paths", super::openapi_read::paths()),
        ("schemas", super::openapi_read::schemas()),
    ] {
        let target = match section {
            "paths" => &mut doc["paths"],
            _ => &mut doc["components"]["schemas"],
        };
        if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
            target.extend(extra);
        }
    }
    doc
}

/// A documented error response.
pub(super) fn err(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

/// A documented error response with `Retry-After`.
pub(super) fn retry_err(description: &str) -> Value {
    let mut e = err(description);
    e["headers"] = json!({"Retry-After": {"schema": {"type": "integer"},
        "description": "Seconds to wait before retrying."}});
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::routes::ROUTES;

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
