//! The OpenAPI 3 description served at `/api/openapi.json`. A unit test checks that it lists
//! exactly the routes of [`super::routes::ROUTES`], so the document cannot drift from the router.

use serde_json::{Value, json};

use super::body::MAX_BODY_BYTES;
use super::read::{DEFAULT_LIMIT, MAX_DAYS, MAX_LIMIT};
use super::request::{MAX_PORTS_LEN, MAX_TARGET_LEN, MAX_TARGETS};
use crate::store::MAX_NOTE_CHARS;

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
    let err = |description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        })
    };
    let retry_err = |description: &str| {
        let mut e = err(description);
        e["headers"] = json!({"Retry-After": {"schema": {"type": "integer"},
            "description": "Seconds to wait before retrying."}});
        e
    };
    let read_security = json!([{"bearer": []}, {"basic": []}, {}]);
    let q = |name: &str, description: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema});
    let limit = || {
        q(
            "limit",
            &format!("Rows per page (default {DEFAULT_LIMIT})."),
            json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
        )
    };
    let before = |d: &str| q("before", d, json!({"type": "integer", "minimum": 1}));
    let format = || {
        q(
            "format",
            "json (default) or csv.",
            json!({"type": "string", "enum": ["json", "csv"]}),
        )
    };
    let id_param = |d: &str| {
        json!({"name": "id", "in": "path", "required": true, "description": d,
               "schema": {"type": "integer", "minimum": 1}})
    };
    let alert_action = |summary: &str| {
        json!({
          "summary": summary,
          "description": "Needs a write token (api.tokens) when tokens are configured. Refused (403) when a browser marks the request cross-site.",
          "security": [{"bearer": []}, {"basic": []}, {}],
          "parameters": [id_param("Alert id.")],
          "requestBody": {"required": false, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": false,
            "properties": {"note": {"type": "string", "maxLength": MAX_NOTE_CHARS}}}}}},
          "responses": {
            "200": {"description": "The alert in its new state",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Alert"}}}},
            "400": err("Bad body or note too long."),
            "401": err("Token required or invalid."),
            "403": err("Read-only token (insufficient_scope) or cross-site request."),
            "404": err("No such alert."),
            "409": err("The alert's state does not allow this action (e.g. ack of an ignored alert)."),
            "429": retry_err("Rate limit reached."),
            "503": retry_err("Database busy.")
          }
        })
    };
    json!({
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
          "SnapshotSummary": {
            "type": "object",
            "required": ["id", "started_at", "finished_at", "profile", "status", "hosts_up",
              "open_ports", "targets_total", "targets_failed"],
            "properties": {
              "id": {"type": "integer"},
              "started_at": {"type": "string", "format": "date-time"},
              "finished_at": {"type": "string", "format": "date-time"},
              "profile": {"type": "string"},
              "status": {"type": "string", "enum": ["complete", "partial", "failed"]},
              "hosts_up": {"type": "integer"}, "open_ports": {"type": "integer"},
              "targets_total": {"type": "integer"}, "targets_failed": {"type": "integer"}
            }
          },
          "TimelineRow": {
            "description": "A SnapshotSummary with its score and its delta against the previous snapshot of its profile.",
            "allOf": [{"$ref": "#/components/schemas/SnapshotSummary"}, {"type": "object",
              "properties": {
                "score": {"type": "integer", "nullable": true, "minimum": 0, "maximum": 100},
                "band": {"type": "string", "nullable": true, "enum": ["Excellent", "Good", "Monitor", "Critical"]},
                "compared_with": {"type": "integer", "nullable": true},
                "delta_status": {"type": "string", "enum": ["critical", "changes", "stable"]},
                "changes": {"type": "object", "properties": {
                  "new_hosts": {"type": "integer"}, "gone_hosts": {"type": "integer"},
                  "ports_opened": {"type": "integer"}, "ports_closed": {"type": "integer"},
                  "services_changed": {"type": "integer"}, "not_compared": {"type": "integer"}}}
              }}]
          },
          "Delta": {
            "type": "object",
            "description": "The delta.json shape of docs/ARCHITECTURE.md (\"Delta semantics\").",
            "required": ["from", "to", "status", "score", "summary", "changes", "not_compared"],
            "properties": {
              "from": {"type": "object", "nullable": true}, "to": {"type": "object"},
              "status": {"type": "string", "enum": ["critical", "changes", "stable"]},
              "note": {"type": "string"},
              "score": {"type": "object"}, "summary": {"type": "object"},
              "changes": {"type": "array", "items": {"type": "object"}},
              "not_compared": {"type": "array", "items": {"type": "object"}}
            }
          },
          "Alert": {
            "type": "object",
            "required": ["id", "kind", "severity", "ip", "protocol", "port", "message", "status",
              "first_snapshot", "last_snapshot", "created_at", "updated_at", "note"],
            "properties": {
              "id": {"type": "integer"},
              "kind": {"type": "string", "enum": ["port_opened", "unexpected_port",
                "expected_port_missing", "new_host", "host_gone", "service_changed", "cert_expiring"]},
              "severity": {"type": "string", "enum": ["info", "low", "medium", "high", "critical"]},
              "ip": {"type": "string"},
              "protocol": {"type": "string", "nullable": true},
              "port": {"type": "integer", "nullable": true},
              "message": {"type": "string"},
              "status": {"type": "string", "enum": ["open", "actioned", "ignored", "resolved"]},
              "first_snapshot": {"type": "integer"}, "last_snapshot": {"type": "integer"},
              "created_at": {"type": "string", "format": "date-time"},
              "updated_at": {"type": "string", "format": "date-time"},
              "note": {"type": "string", "nullable": true}
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
        "/": {"get": {
          "summary": "The dashboard (HTML): entry cards, open alerts with ack/ignore, latest delta, history.",
          "description": "With tokens configured, a browser is asked for the token as the password (HTTP Basic, any user name).",
          "security": [{"bearer": []}, {"basic": []}, {}],
          "parameters": [
            q("status", "Only entries whose latest delta has this status.", json!({"type": "string", "enum": ["critical", "changes", "stable"]})),
            q("band", "Only entries in this score band (none: no score).", json!({"type": "string", "enum": ["Excellent", "Good", "Monitor", "Critical", "none"]})),
            q("sort", "Card order (default score: worst first).", json!({"type": "string", "enum": ["score", "recent", "oldest"]})),
            q("q", "Case-insensitive part of the entry name.", json!({"type": "string"}))
          ],
          "responses": {
            "200": {"description": "The page", "content": {"text/html": {}}},
            "400": err("Bad filter value or unknown parameter."),
            "401": err("Token required (WWW-Authenticate: Basic)."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/api/snapshots": {"get": {
          "summary": "Snapshots, newest first, paged with before.",
          "security": read_security,
          "parameters": [limit(), before("Only snapshots older than this one (the previous page's next_before)."), format()],
          "responses": {
            "200": {"description": "A page of snapshots; a Link header (rel=next) when there are more.",
              "content": {"application/json": {"schema": {"type": "object", "properties": {
                "snapshots": {"type": "array", "items": {"$ref": "#/components/schemas/SnapshotSummary"}},
                "next_before": {"type": "integer", "nullable": true}}}},
                "text/csv": {}}},
            "400": err("Bad limit, before or format, or an unknown parameter."),
            "401": err("Token required or invalid."),
            "404": err("before names no snapshot."),
            "429": retry_err("Rate limit reached."),
            "503": retry_err("Database busy or on another schema version.")
          }
        }},
        "/api/snapshots/{id}": {"get": {
          "summary": "One snapshot: its targets with their status, hosts and ports (scan.json).",
          "security": read_security,
          "parameters": [id_param("Snapshot id.")],
          "responses": {
            "200": {"description": "The snapshot", "content": {"application/json": {}}},
            "401": err("Token required or invalid."),
            "404": err("No such snapshot."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/api/snapshots/{id}/delta": {"get": {
          "summary": "The delta of a snapshot against the latest earlier snapshot of its profile (a baseline when none).",
          "security": read_security,
          "parameters": [id_param("Snapshot id."), format()],
          "responses": {
            "200": {"description": "delta.json, or delta.csv with format=csv",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Delta"}}, "text/csv": {}}},
            "400": err("Bad format or unknown parameter."),
            "401": err("Token required or invalid."),
            "404": err("No such snapshot."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/api/delta": {"get": {
          "summary": "The delta between any two snapshots.",
          "security": read_security,
          "parameters": [
            {"name": "from", "in": "query", "required": true, "schema": {"type": "integer", "minimum": 1}},
            {"name": "to", "in": "query", "required": true, "schema": {"type": "integer", "minimum": 1}},
            format()
          ],
          "responses": {
            "200": {"description": "delta.json, or delta.csv with format=csv",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Delta"}}, "text/csv": {}}},
            "400": err("from or to missing or not an id, bad format, unknown parameter."),
            "401": err("Token required or invalid."),
            "404": err("from or to names no snapshot (field says which)."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/api/stats/trends": {"get": {
          "summary": "Per snapshot of the last N days, oldest first: hosts up, open ports, score and changes.",
          "security": read_security,
          "parameters": [
            q("days", "Days back from now (default 30).", json!({"type": "integer", "minimum": 1, "maximum": MAX_DAYS})),
            q("profile", "Only snapshots of this profile.", json!({"type": "string"})),
            format()
          ],
          "responses": {
            "200": {"description": "Trend points", "content": {"application/json": {"schema": {
              "type": "object", "properties": {"days": {"type": "integer"},
                "profile": {"type": "string", "nullable": true},
                "snapshots": {"type": "array", "items": {"$ref": "#/components/schemas/TimelineRow"}}}}},
              "text/csv": {}}},
            "400": err("Bad days or format, or an unknown parameter."),
            "401": err("Token required or invalid."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/api/alerts": {"get": {
          "summary": "Alerts, newest first, paged with before.",
          "security": read_security,
          "parameters": [
            q("status", "Only alerts in this state.", json!({"type": "string", "enum": ["open", "actioned", "ignored", "resolved"]})),
            q("severity", "Only alerts of exactly this severity.", json!({"type": "string", "enum": ["info", "low", "medium", "high", "critical"]})),
            q("min_severity", "Only alerts of this severity or worse.", json!({"type": "string", "enum": ["info", "low", "medium", "high", "critical"]})),
            limit(), before("Only alerts with a smaller id (the previous page's next_before)."), format()
          ],
          "responses": {
            "200": {"description": "A page of alerts; a Link header (rel=next) when there are more.",
              "content": {"application/json": {"schema": {"type": "object", "properties": {
                "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
                "next_before": {"type": "integer", "nullable": true}}}},
                "text/csv": {}}},
            "400": err("Bad status, severity, limit, before or format, or an unknown parameter."),
            "401": err("Token required or invalid."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/api/alerts/{id}/ack": {"post": alert_action("Acknowledge an open alert (open -> actioned).")},
        "/api/alerts/{id}/ignore": {"post": alert_action("Ignore an open or actioned alert (-> ignored; it does not fire again).")},
        "/metrics": {"get": {
          "summary": "Prometheus metrics (text format 0.0.4); never needs a token.",
          "responses": {"200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}
        }}
      }
    })
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
