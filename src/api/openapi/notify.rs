//! The OpenAPI description of the notification and bulk alert routes: deliveries and
//! acknowledging a list of alerts; merged into the document by
//! [`super::document_with_profiles`].

use serde_json::{Value, json};

use super::params::{before, format, limit, query_empty};
use super::responses::{err, retry_err};
use crate::api::read::alerts::MAX_BULK_IDS;
use crate::store::MAX_NOTE_CHARS;

pub(super) fn paths() -> Value {
    let write_security = json!([{"bearer": []}, {"basic": []}, {}]);
    let write_description = "Needs a write token (api.tokens) when tokens are configured. Refused (403) when a browser marks the request cross-site.";
    let q_empty = query_empty;
    json!({
        "/api/deliveries": {"get": {
          "summary": "Notification delivery attempts (webhook and email), newest first, paged with before.",
          "description": "Destinations are named by their configured name and scheme://host:port; URLs, tokens and passwords are never stored.",
          "security": [{"bearer": []}, {"basic": []}, {}],
          "parameters": [
            q_empty("destination", "Only this [[webhook]] or [[email]] name.", json!({"type": "string", "minLength": 1, "maxLength": 200})),
            q_empty("outcome", "Only attempts that ended so.", json!({"type": "string", "enum": ["delivered", "retrying", "failed"]})),
            limit("Rows", ""),
            before("Only attempts with a smaller id (the previous page's next_before)."),
            format()
          ],
          "responses": {
            "200": {"description": "A page of attempts; a Link header (rel=next) when there are more.",
              "content": {"application/json": {"schema": {"type": "object", "properties": {
                "deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/Delivery"}},
                "next_before": {"type": "integer", "nullable": true}}}},
                "text/csv": {}}},
            "400": err("Bad destination, outcome, limit, before or format, or an unknown parameter."),
            "401": err("Token required or invalid."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/api/alerts/ack": {"post": {
          "summary": "Acknowledge a list of open alerts (each open -> actioned).",
          "description": format!("{write_description} Each id is changed on its own: the answer lists the alerts that changed and, for the others, why not."),
          "security": write_security,
          "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": false, "required": ["ids"],
            "properties": {
              "ids": {"type": "array", "minItems": 1, "maxItems": MAX_BULK_IDS,
                      "items": {"type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX}},
              "note": {"type": "string", "nullable": true, "maxLength": MAX_NOTE_CHARS}}}}}},
          "responses": {
            "200": {"description": "What changed and what did not.",
              "content": {"application/json": {"schema": {"type": "object",
                "required": ["changed", "failed"],
                "properties": {
                  "changed": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
                  "failed": {"type": "array", "items": {"type": "object",
                    "required": ["id", "error", "message"],
                    "properties": {"id": {"type": "integer"},
                      "error": {"type": "string", "enum": ["not_found", "invalid_transition"]},
                      "message": {"type": "string"}}}}}}}}},
            "400": err("Bad body: ids missing, empty, too many or not positive integers; note not a string or too long."),
            "401": err("Token required or invalid."),
            "403": err("Read-only token (insufficient_scope) or cross-site request."),
            "413": err("Body over 64 KiB."),
            "415": err("Body not sent as application/json."),
            "429": retry_err("Rate limit reached."),
            "503": retry_err("Database busy.")
          }
        }}
    })
}

pub(super) fn schemas() -> Value {
    json!({
      "Delivery": {
        "type": "object",
        "required": ["id", "snapshot_id", "webhook", "endpoint", "format", "alerts", "attempt",
          "attempted_at", "status_code", "outcome", "error", "outbox_id"],
        "properties": {
          "id": {"type": "integer"},
          "snapshot_id": {"type": "integer", "description": "The run whose notification this was."},
          "webhook": {"type": "string", "description": "The destination's name (webhook or email)."},
          "endpoint": {"type": "string", "description": "scheme://host:port only (http, https or smtp)."},
          "format": {"type": "string", "enum": ["json", "slack", "email"]},
          "alerts": {"type": "integer"},
          "attempt": {"type": "integer", "description": "Counts over all runs that tried this notification."},
          "attempted_at": {"type": "string", "format": "date-time"},
          "status_code": {"type": "integer", "nullable": true, "description": "HTTP or SMTP status, when an answer came."},
          "outcome": {"type": "string", "enum": ["delivered", "retrying", "failed"]},
          "error": {"type": "string", "nullable": true},
          "outbox_id": {"type": "integer", "nullable": true}
        }
      }
    })
}
