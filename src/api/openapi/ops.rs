//! The OpenAPI description of the operational routes: `GET /api/health`, `GET /metrics` and
//! `GET /api/openapi.json` itself; merged into the document by [`super::document_with_profiles`].

use serde_json::{Value, json};

use super::responses::{err, retry_err};

/// The paths of the operational routes.
pub(super) fn paths() -> Value {
    json!({
        "/api/health": {"get": {
          "summary": "Liveness and nmap availability; never needs a token.",
          "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
            "503": {"description": "degraded: nmap or the database is unusable", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
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
    })
}

/// The schemas those paths refer to.
pub(super) fn schemas() -> Value {
    json!({
          "Health": {
            "type": "object",
            "required": ["status", "version", "nmap", "active_scans", "max_concurrent_scans", "uptime_seconds", "database"],
            "properties": {
              "status": {"type": "string", "enum": ["ok", "degraded"]},
              "version": {"type": "string"},
              "nmap": {"type": "object", "properties": {
                "available": {"type": "boolean"},
                "version": {"type": "string", "nullable": true}}},
              "active_scans": {"type": "integer"},
              "max_concurrent_scans": {"type": "integer"},
              "uptime_seconds": {"type": "integer"},
              "database": {"type": "object", "required": ["backend", "state"], "properties": {
                "backend": {"type": "string", "enum": ["sqlite", "postgres"]},
                "state": {"type": "string", "enum": ["ok", "missing", "unavailable"]},
                "error": {"type": "string"}}}
            }
          }
    })
}
