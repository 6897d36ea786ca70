//! The OpenAPI description of the scan endpoint: `POST /api/scan` and `GET /api/profiles`;
//! merged into the document by [`super::document_with_profiles`].

use serde_json::{Value, json};

use super::responses::{err, retry_err};
use crate::api::body::MAX_BODY_BYTES;
use crate::api::scan::request::{MAX_PORTS_LEN, MAX_TARGET_LEN, MAX_TARGETS};
use crate::model::Grade;

/// The paths of the scan routes.
pub(super) fn paths() -> Value {
    json!({
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
        }}
    })
}

/// The shape of one target: a dotted-quad IPv4 address, `::1`, or a hostname with at least one
/// label starting with a letter (an all-digit name is read as an address; ranges and CIDR are
/// batch only). The server's grammar (`target::grammar`) is the authority; this pattern is the
/// part of it a schema can say, so generated valid targets are accepted.
pub const TARGET_PATTERN: &str = concat!(
    r"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}",
    r"|::1",
    r"|(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?",
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?)$"
);

/// The schemas those paths refer to; `scan_type` may name only `api_profiles`.
pub(super) fn schemas(api_profiles: &[&str]) -> Value {
    let grades: Vec<&str> = Grade::ALL.iter().map(|g| g.as_str()).collect();
    json!({
          "ScanRequest": {
            "type": "object", "additionalProperties": false,
            "description": "Exactly one of target or targets.",
            "oneOf": [{"required": ["target"]}, {"required": ["targets"]}],
            "properties": {
              "target": {"type": "string", "minLength": 1, "maxLength": MAX_TARGET_LEN, "pattern": TARGET_PATTERN,
                "description": "One IPv4/IPv6 address or hostname (no CIDR or ranges)."},
              "targets": {"type": "array", "minItems": 1,
                "items": {"type": "string", "minLength": 1, "maxLength": MAX_TARGET_LEN, "pattern": TARGET_PATTERN},
                "description": format!("1 to {MAX_TARGETS} distinct targets; duplicates are removed, order is kept.")},
              "scan_type": {"type": "string", "enum": api_profiles, "default": "default"},
              "ports": {"type": "string", "maxLength": MAX_PORTS_LEN,
                "description": "Port selection such as \"22,80,8000-8100\" ; protocol prefixes (T:, U:) are refused (the profile decides TCP or UDP). Limited by the server's api.max_ports.",
                "example": "22,80,443"},
              "tls": {"type": "boolean", "default": false,
                "description": "After the port scan, run the TLS pass (nmap ssl-cert and ssl-enum-ciphers, one more nmap process under the same capacity and timeouts) over the open ports that speak TLS (a TLS tunnel, a TLS service name, or the server's [tls] ports) of the completed targets; their facts appear as open_ports[].tls and the pass's outcome as tls_pass."}
            }
          },
          "TlsInfo": {
            "type": "object", "required": ["versions"],
            "description": "What the TLS pass read on one port: the same shape as Port.tls in a run's scan.json.",
            "properties": {
              "cert": {"$ref": "#/components/schemas/CertInfo"},
              "versions": {"type": "array", "items": {"type": "string"},
                "description": "Protocol versions offered (ssl-enum-ciphers), oldest first."},
              "least_grade": {"type": "string", "enum": grades,
                "description": "The worst cipher grade offered (ssl-enum-ciphers)."}
            }
          },
          "CertInfo": {
            "type": "object",
            "required": ["subject_cn", "issuer", "sans", "not_before", "not_after", "self_signed",
              "key_type", "key_bits", "signature_algorithm", "sha256"],
            "properties": {
              "subject_cn": {"type": "string"}, "issuer": {"type": "string"},
              "sans": {"type": "array", "items": {"type": "string"}},
              "not_before": {"type": "string"}, "not_after": {"type": "string",
                "description": "Expiry, RFC 3339 UTC (2027-01-01T00:00:00Z)."},
              "self_signed": {"type": "boolean"},
              "key_type": {"type": "string"}, "key_bits": {"type": "integer", "nullable": true},
              "signature_algorithm": {"type": "string"},
              "sha256": {"type": "string", "description": "SHA-256 of the DER certificate, hex."}
            }
          },
          "TlsPass": {
            "type": "object", "required": ["status"],
            "description": "How the request's TLS pass went. A failed pass never changes the port scan's results: its ports simply carry no tls.",
            "properties": {
              "status": {"type": "string", "enum": ["no_ports", "completed", "failed"],
                "description": "no_ports: no open port of a completed target looked like TLS (nmap not run); completed: nmap ran; failed: nmap failed, timed out, or no capacity was free within the queue timeout."},
              "selected": {"type": "integer", "description": "TLS-looking ports the pass was run over."},
              "examined": {"type": "integer", "description": "Of those, ports that answered with TLS (completed only)."},
              "error": {"type": "string", "description": "Why the pass failed (failed only)."}
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
              "cpe": {"type": "array", "items": {"type": "string"}},
              "tls": {"$ref": "#/components/schemas/TlsInfo"}
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
              "tls_pass": {"$ref": "#/components/schemas/TlsPass"},
              "results": {"type": "array", "items": {"$ref": "#/components/schemas/TargetResult"},
                "description": "One result per distinct target, in request order."}
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
    })
}
