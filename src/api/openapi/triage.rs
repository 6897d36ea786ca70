//! The OpenAPI description of the triage routes: the run, entry and alerts pages, their JSON
//! twins, a run's files and the ZIP export; merged into the document by
//! [`super::document_with_profiles`].

use serde_json::{Value, json};

use super::responses::{err, retry_err};

/// An optional `since`/`until`/`from`/`to` query parameter: a UTC date or an RFC 3339 time.
pub(super) fn time_bound(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "allowEmptyValue": true,
           "description": format!("{description} An empty value is the same as leaving it out."),
           "schema": {"anyOf": [{"type": "string", "format": "date"},
                                {"type": "string", "format": "date-time"}]}})
}

/// An optional `ip` query parameter: an address, or a CIDR block.
pub(super) fn address_or_block(description: &str) -> Value {
    const V4: &str = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    json!({"name": "ip", "in": "query", "required": false, "allowEmptyValue": true,
           "description": format!("{description} An empty value is the same as leaving it out."),
           "schema": {"anyOf": [
             {"type": "string", "format": "ipv4"},
             {"type": "string", "format": "ipv6"},
             {"type": "string", "pattern": format!("^{V4}(\\.{V4}){{3}}/([0-9]|[12][0-9]|3[0-2])$")}]},
           "examples": {"address": {"value": "127.0.0.2"}, "block": {"value": "127.0.0.0/24"}}})
}

/// The paths of the triage routes.
pub(super) fn paths() -> Value {
    let security = json!([{"bearer": []}, {"basic": []}, {}]);
    let id = json!({"name": "id", "in": "path", "required": true, "description": "Snapshot (run) id.",
                    "schema": {"type": "integer", "minimum": 1}});
    let entry = json!({"name": "entry", "in": "path", "required": true,
                       "description": "The targets.txt entry, percent-encoded as one segment (127.0.0.0%2F29).",
                       "schema": {"type": "string"}});
    let html = |what: &str| json!({"description": what, "content": {"text/html": {}}});
    json!({
        "/alerts": {"get": {
          "summary": "The alerts page (HTML): filters as GET /api/alerts, bulk acknowledge / ignore / un-ignore with a note.",
          "security": security,
          "parameters": [],
          "responses": {
            "200": html("The page"),
            "400": html("A bad filter value: the page again with the message, unfiltered."),
            "401": err("Token required (WWW-Authenticate: Basic)."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/runs/{id}": {"get": {
          "summary": "A run's page (HTML): score, delta, alerts raised and resolved, coverage, not compared, links to its files.",
          "security": security,
          "parameters": [id],
          "responses": {
            "200": html("The page"),
            "401": err("Token required (WWW-Authenticate: Basic)."),
            "404": html("No such run (never stored, or deleted by retention): a page that says so."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/runs/{id}/files/{name}": {"get": {
          "summary": "One of the run's files from its report folder: report.html, scan.json, delta.json or delta.csv.",
          "security": security,
          "parameters": [id, {"name": "name", "in": "path", "required": true,
            "schema": {"type": "string", "enum": ["report.html", "scan.json", "delta.json", "delta.csv"]}}],
          "responses": {
            "200": {"description": "The file as daily_scan wrote it", "content": {
              "text/html": {}, "application/json": {}, "text/csv": {}}},
            "401": err("Token required (WWW-Authenticate: Basic)."),
            "404": err("No such run, no such file name, or the run's folder is gone (pruned)."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/api/runs/{id}": {"get": {
          "summary": "The run page as JSON: snapshot summary, delta, alerts raised and resolved, file paths.",
          "security": security,
          "parameters": [id],
          "responses": {
            "200": {"description": "The run", "content": {"application/json": {"schema": {
              "type": "object", "properties": {
                "snapshot": {"$ref": "#/components/schemas/SnapshotSummary"},
                "delta": {"$ref": "#/components/schemas/Delta"},
                "alerts_raised": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
                "alerts_resolved": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
                "files": {"type": "array", "items": {"type": "string"}}}}}}},
            "401": err("Token required or invalid."),
            "404": err("No such run."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/entries/{entry}": {"get": {
          "summary": "A targets.txt entry's page (HTML): score and open ports per run, its changes.",
          "security": security,
          "parameters": [entry],
          "responses": {
            "200": html("The page"),
            "401": err("Token required (WWW-Authenticate: Basic)."),
            "404": html("No stored run scanned this entry."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/api/entries/{entry}": {"get": {
          "summary": "The entry page as JSON (runs newest first, each a TimelineRow narrowed to the entry with its changes), or CSV (the history columns).",
          "security": security,
          "parameters": [entry, {"name": "format", "in": "query", "required": false,
            "schema": {"type": "string", "enum": ["json", "csv"]}}],
          "responses": {
            "200": {"description": "The entry's runs", "content": {"application/json": {"schema": {
              "type": "object", "properties": {"entry": {"type": "string"},
                "runs": {"type": "array", "items": {"allOf": [
                  {"$ref": "#/components/schemas/TimelineRow"},
                  {"type": "object", "properties": {"changes": {"type": "array", "items": {"type": "object"}}}}]}}}}},
              "text/csv": {}}},
            "400": err("Bad format or unknown parameter."),
            "401": err("Token required or invalid."),
            "404": err("No stored run scanned this entry."),
            "429": retry_err("Rate limit reached.")
          }
        }},
        "/api/export.zip": {"get": {
          "summary": "Every stored run's scan.json, delta.json, delta.csv and report.html in the range, as one ZIP (streamed).",
          "security": security,
          "parameters": [time_bound("from", "Runs started at or after: a UTC date (YYYY-MM-DD) or an RFC 3339 time."),
            time_bound("to", "Runs started before: an RFC 3339 time, or a UTC date (that whole day included).")],
          "responses": {
            "200": {"description": "A ZIP archive, one folder per run (named like its report folder)",
              "content": {"application/zip": {}}},
            "400": err("Bad from or to, or an unknown parameter."),
            "401": err("Token required or invalid."),
            "429": retry_err("Rate limit reached.")
          }
        }}
    })
}

/// `POST /api/alerts/ignore`: the bulk acknowledgement's description (`ack`, the bulk route
/// documented with the notifications) with the ignore transition; same body and answer.
pub(super) fn bulk_ignore(ack: &Value) -> Value {
    let mut op = ack["post"].clone();
    op["summary"] = json!(
        "Ignore a list of open or actioned alerts (each -> ignored; they do not fire again until un-ignored)."
    );
    json!({"/api/alerts/ignore": {"post": op}})
}
