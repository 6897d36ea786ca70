//! The OpenAPI description of the read API, the alert actions and the dashboard; merged
//! into the document by [`super::document_with_profiles`].

use serde_json::{Value, json};

use super::params::{after, before, format, limit, query, query_empty};
use super::responses::{err, retry_err};
use crate::api::read::trends::MAX_DAYS;
use crate::model::{AlertKind, Grade};
use crate::store::MAX_NOTE_CHARS;

/// The paths of the read routes.
pub(super) fn paths() -> Value {
    let read_security = json!([{"bearer": []}, {"basic": []}, {}]);
    let q = query;
    let q_empty = query_empty;
    let limit = || limit("Rows", "");
    let id_param = |d: &str| {
        json!({"name": "id", "in": "path", "required": true, "description": d,
               "schema": {"type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX}})
    };
    let alert_action = |summary: &str| {
        json!({
          "summary": summary,
          "description": "Needs a write token (api.tokens) when tokens are configured. Refused (403) when a browser marks the request cross-site.",
          "security": [{"bearer": []}, {"basic": []}, {}],
          "parameters": [id_param("Alert id.")],
          "requestBody": {"required": false, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": false,
            "properties": {"note": {"type": "string", "nullable": true, "maxLength": MAX_NOTE_CHARS,
              "description": "Optional; null is the same as leaving it out."}}}}}},
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
        "/": {"get": {
          "summary": "The dashboard (HTML): entry cards, open alerts with ack/ignore, latest delta, history.",
          "description": "With tokens configured, a browser is asked for the token as the password (HTTP Basic, any user name).",
          "security": [{"bearer": []}, {"basic": []}, {}],
          "parameters": [
            q_empty("status", "Only entries whose latest delta has this status.", json!({"type": "string", "enum": ["critical", "changes", "stable"]})),
            q_empty("band", "Only entries in this score band (none: no score).", json!({"type": "string", "enum": ["Excellent", "Good", "Monitor", "Critical", "none"]})),
            q_empty("sort", "Card order (default score: worst first).", json!({"type": "string", "enum": ["score", "recent", "oldest", "name"]})),
            q("q", "Case-insensitive part of the entry name.", json!({"type": "string"}))
          ],
          "responses": {
            "200": {"description": "The page", "content": {"text/html": {}}},
            "400": {"description": "A bad filter value or unknown parameter: the page again, with the message and default filters.", "content": {"text/html": {}}},
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
          "description": "Without limit or after: the whole snapshot as in scan.json, streamed host by host (chunked). With limit or after: one page of its hosts, each with its position in nmap's order, and next_after for the next page (plus a Link header, rel=next).",
          "security": read_security,
          "parameters": [
            id_param("Snapshot id."),
            super::params::limit("Hosts", "; asks for a page"),
            after("Only hosts after this position (the previous page's next_after); asks for a page.")
          ],
          "responses": {
            "200": {"description": "The snapshot, or a page of its hosts",
              "content": {"application/json": {"schema": {"oneOf": [
                {"type": "object", "required": ["id", "started_at", "profile", "targets", "hosts"],
                 "properties": {"id": {"type": "integer"}, "hosts": {"type": "array"}}},
                {"type": "object", "required": ["id", "hosts", "next_after"], "additionalProperties": false,
                 "properties": {
                   "id": {"type": "integer"},
                   "hosts": {"type": "array", "items": {"type": "object", "required": ["position"],
                     "properties": {"position": {"type": "integer", "minimum": 0}}}},
                   "next_after": {"type": "integer", "minimum": 0, "nullable": true}}}
              ]}}}},
            "400": err("Bad limit or after, or an unknown parameter."),
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
            {"name": "from", "in": "query", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX}},
            {"name": "to", "in": "query", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX}},
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
            q_empty("status", "Only alerts in this state.", json!({"type": "string", "enum": ["open", "actioned", "ignored", "resolved"]})),
            q_empty("severity", "Only alerts of exactly this severity.", json!({"type": "string", "enum": ["info", "low", "medium", "high", "critical"]})),
            q_empty("min_severity", "Only alerts of this severity or worse.", json!({"type": "string", "enum": ["info", "low", "medium", "high", "critical"]})),
            q_empty("kind", "Only alerts of this kind (the server also takes a comma list of kinds).", json!({"type": "string", "enum": crate::model::AlertKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>()})),
            super::triage::address_or_block("Only alerts on this address, or on an address inside this CIDR block."),
            q_empty("q", "Case-insensitive text in the message, address or note.", json!({"type": "string"})),
            super::triage::time_bound("since", "Raised at or after: a UTC date (YYYY-MM-DD) or an RFC 3339 time."),
            super::triage::time_bound("until", "Raised before: an RFC 3339 time, or a UTC date (that whole day included)."),
            limit(), before("Only alerts with a smaller id (the previous page's next_before)."), format()
          ],
          "responses": {
            "200": {"description": "A page of alerts; a Link header (rel=next) when there are more.",
              "content": {"application/json": {"schema": {"type": "object", "properties": {
                "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
                "next_before": {"type": "integer", "nullable": true}}}},
                "text/csv": {}}},
            "400": err("Bad status, severity, kind, ip, since, until, limit, before or format, or an unknown parameter."),
            "401": err("Token required or invalid."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/api/certificates": {"get": {
          "summary": "TLS certificates that are expired, expiring soon or weak (latest seen per port).",
          "security": read_security,
          "parameters": [
            q_empty("expiring_within", "Days: a certificate with at most this many left is expiring (default [alerts] cert_expiry_days).", json!({"type": "integer", "minimum": 0, "maximum": 3650})),
            q_empty("all", "true: every examined TLS port, not only flagged ones.", json!({"type": "string", "enum": ["true", "false"]})),
            format()
          ],
          "responses": {
            "200": {"description": "Flagged certificates, fewest days left first.",
              "content": {"application/json": {"schema": {"type": "object", "properties": {
                "expiring_within": {"type": "integer"}, "min_grade": {"type": "string"},
                "count": {"type": "integer"}, "total": {"type": "integer"},
                "certificates": {"type": "array", "items": {"$ref": "#/components/schemas/Certificate"}}}}},
                "text/csv": {}}},
            "400": err("Bad expiring_within, all or format, or an unknown parameter."),
            "401": err("Token required or invalid."),
            "429": retry_err("Rate limit reached."),
            "503": retry_err("Database busy.")
          }
        }},
        "/api/alerts/{id}/ack": {"post": alert_action("Acknowledge an open alert (open -> actioned).")},
        "/api/alerts/{id}/ignore": {"post": alert_action("Ignore an open or actioned alert (-> ignored; it does not fire again).")},
        "/api/alerts/{id}/unignore": {"post": alert_action("Un-ignore an alert (ignored -> open).")}
    })
}

/// The schemas those paths refer to.
pub(super) fn schemas() -> Value {
    let kinds: Vec<&str> = AlertKind::ALL.iter().map(|k| k.as_str()).collect();
    let grades: Vec<&str> = Grade::ALL.iter().map(|g| g.as_str()).collect();
    json!({
          "Certificate": {
            "type": "object",
            "description": "The latest TLS facts one port showed (the TLS pass: nmap ssl-cert and ssl-enum-ciphers).",
            "properties": {
              "ip": {"type": "string"}, "protocol": {"type": "string"}, "port": {"type": "integer"},
              "snapshot_id": {"type": "integer"},
              "seen_at": {"type": "string", "format": "date-time"},
              "subject_cn": {"type": "string"}, "issuer": {"type": "string"},
              "sans": {"type": "array", "items": {"type": "string"}},
              "not_before": {"type": "string"}, "not_after": {"type": "string"},
              "days_left": {"type": "integer", "nullable": true, "description": "Negative once expired."},
              "self_signed": {"type": "boolean"},
              "key_type": {"type": "string"}, "key_bits": {"type": "integer", "nullable": true},
              "signature_algorithm": {"type": "string"},
              "sha256": {"type": "string", "description": "SHA-256 of the DER certificate, hex."},
              "tls_versions": {"type": "array", "items": {"type": "string"}},
              "least_grade": {"type": "string", "nullable": true, "enum": grades},
              "expired": {"type": "boolean"}, "expiring": {"type": "boolean"}, "weak": {"type": "boolean"}
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
              "kind": {"type": "string", "enum": kinds},
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
          }
    })
}
