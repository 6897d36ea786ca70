//! The shape of a `POST /api/scan` body, checked strictly before anything else looks at it.
//!
//! The body is read as a generic JSON value and walked by hand rather than with
//! `#[derive(Deserialize)]`, so that every error names the exact field (`targets[3]`) and a
//! wrong type, an unknown key or an oversized string is a 400 with a stable code.

use serde_json::{Map, Value};

use crate::api::error::ApiError;

/// Most distinct targets one request may name.
pub const MAX_TARGETS: usize = 10;
/// Longest target text (a DNS name is at most 253 characters).
pub const MAX_TARGET_LEN: usize = 253;
/// Longest `scan_type` text.
const MAX_SCAN_TYPE_LEN: usize = 32;
/// Longest `ports` text (1000 single ports written out fit comfortably).
pub const MAX_PORTS_LEN: usize = 8192;

const FIELDS: [&str; 5] = ["target", "targets", "scan_type", "ports", "tls"];

/// A scan request as the client wrote it, structurally valid; the meaning of each string
/// (address, profile, port spec) is checked by the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanBody {
    /// Distinct targets in request order.
    pub targets: Vec<BodyTarget>,
    pub scan_type: String,
    pub ports: Option<String>,
    /// Run the TLS pass over the open TLS ports found (`"tls": true`; default false).
    pub tls: bool,
}

/// One target string and the field it came from (`target` or `targets[i]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyTarget {
    pub field: String,
    pub text: String,
}

/// Checks the body's structure: an object with known keys, exactly one of `target`/`targets`,
/// 1 to [`MAX_TARGETS`] distinct target strings, string-typed `scan_type` and `ports`, a
/// boolean `tls`.
pub fn parse_scan_body(value: &Value) -> Result<ScanBody, ApiError> {
    let Value::Object(map) = value else {
        return Err(ApiError::bad_request(
            "invalid_request",
            "the body must be a JSON object such as {\"target\": \"127.0.0.1\"}",
        ));
    };
    if let Some(key) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        let shown: String = key.chars().take(40).collect();
        return Err(ApiError::bad_request(
            "unknown_field",
            format!("unknown field `{shown}`; expected target, targets, scan_type, ports or tls"),
        )
        .with_field(shown));
    }
    let targets = parse_targets(map)?;
    let scan_type = match map.get("scan_type") {
        None => "default".to_string(),
        Some(v) => bounded_string(v, "scan_type", MAX_SCAN_TYPE_LEN, "unknown_profile")?,
    };
    let ports = map
        .get("ports")
        .map(|v| bounded_string(v, "ports", MAX_PORTS_LEN, "invalid_ports"))
        .transpose()?;
    let tls = match map.get("tls") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(wrong_type("tls", "a boolean (true or false)")),
    };
    Ok(ScanBody {
        targets,
        scan_type,
        ports,
        tls,
    })
}

fn parse_targets(map: &Map<String, Value>) -> Result<Vec<BodyTarget>, ApiError> {
    let raw: Vec<(String, &Value)> = match (map.get("target"), map.get("targets")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "give either `target` or `targets`, not both",
            )
            .with_field("targets"));
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "missing_target",
                "the body needs `target` (one address or hostname) or `targets` (a list)",
            )
            .with_field("target"));
        }
        (Some(one), None) => vec![("target".to_string(), one)],
        (None, Some(Value::Array(items))) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("targets[{i}]"), v))
            .collect(),
        (None, Some(_)) => {
            return Err(wrong_type("targets", "a list of strings"));
        }
    };
    let mut targets: Vec<BodyTarget> = Vec::with_capacity(raw.len().min(MAX_TARGETS));
    for (field, value) in raw {
        let text = target_string(value, &field)?;
        if !targets.iter().any(|t| t.text == text) {
            if targets.len() == MAX_TARGETS {
                return Err(too_many());
            }
            targets.push(BodyTarget { field, text });
        }
    }
    if targets.is_empty() {
        return Err(ApiError::bad_request(
            "missing_target",
            "`targets` must name at least one target",
        )
        .with_field("targets"));
    }
    Ok(targets)
}

/// A target must be a non-empty string of printable characters, short enough to be a name.
fn target_string(value: &Value, field: &str) -> Result<String, ApiError> {
    let text = bounded_string(value, field, MAX_TARGET_LEN, "invalid_target")?;
    let invalid = |why: &str| {
        ApiError::bad_request("invalid_target", format!("{field} {why}")).with_field(field)
    };
    if text.is_empty() {
        return Err(invalid("is empty"));
    }
    if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid("contains whitespace or control characters"));
    }
    Ok(text)
}

fn bounded_string(
    value: &Value,
    field: &str,
    max_len: usize,
    too_long_code: &'static str,
) -> Result<String, ApiError> {
    let Value::String(s) = value else {
        return Err(wrong_type(field, "a string"));
    };
    if s.len() > max_len {
        return Err(ApiError::bad_request(
            too_long_code,
            format!("{field} is longer than {max_len} bytes"),
        )
        .with_field(field));
    }
    if s.contains('\0') {
        return Err(ApiError::bad_request(
            too_long_code,
            format!("{field} contains a NUL character"),
        )
        .with_field(field));
    }
    Ok(s.clone())
}

fn wrong_type(field: &str, expected: &str) -> ApiError {
    ApiError::bad_request("invalid_type", format!("{field} must be {expected}")).with_field(field)
}

fn too_many() -> ApiError {
    ApiError::bad_request(
        "too_many_targets",
        format!(
            "at most {MAX_TARGETS} distinct targets per request; use daily_scan for larger sets"
        ),
    )
    .with_field("targets")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> (String, Option<String>) {
        let e = parse_scan_body(&v).unwrap_err();
        assert_eq!(e.status(), 400);
        (e.code.to_string(), e.field)
    }

    #[test]
    fn single_target_gets_defaults() {
        let b = parse_scan_body(&json!({"target": "127.0.0.1"})).unwrap();
        assert_eq!(b.targets.len(), 1);
        assert_eq!(b.targets[0].field, "target");
        assert_eq!(b.scan_type, "default");
        assert_eq!(b.ports, None);
        assert!(!b.tls);
    }

    #[test]
    fn tls_is_a_boolean() {
        for (v, want) in [(json!(true), true), (json!(false), false)] {
            let b = parse_scan_body(&json!({"target": "127.0.0.1", "tls": v})).unwrap();
            assert_eq!(b.tls, want);
        }
        for v in [
            json!("yes"),
            json!("true"),
            json!(1),
            json!(0),
            json!(null),
            json!([true]),
            json!({"on": true}),
        ] {
            let body = json!({"target": "127.0.0.1", "tls": v});
            assert_eq!(
                err(body.clone()),
                ("invalid_type".into(), Some("tls".into())),
                "{body}"
            );
        }
    }

    #[test]
    fn duplicates_are_removed_keeping_order_and_original_field() {
        let b = parse_scan_body(&json!({
            "targets": ["127.0.0.3", "127.0.0.2", "127.0.0.3", "localhost"],
            "scan_type": "quick", "ports": "22,80"
        }))
        .unwrap();
        let got: Vec<(&str, &str)> = b
            .targets
            .iter()
            .map(|t| (t.field.as_str(), t.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("targets[0]", "127.0.0.3"),
                ("targets[1]", "127.0.0.2"),
                ("targets[3]", "localhost")
            ]
        );
        assert_eq!(b.ports.as_deref(), Some("22,80"));
    }

    #[test]
    fn limits_count_distinct_targets() {
        let ten: Vec<String> = (2..12).map(|i| format!("127.0.0.{i}")).collect();
        let mut with_dup = ten.clone();
        with_dup.push("127.0.0.2".into());
        assert!(parse_scan_body(&json!({ "targets": with_dup })).is_ok());
        let mut eleven = ten;
        eleven.push("127.0.0.99".into());
        assert_eq!(
            err(json!({ "targets": eleven })),
            ("too_many_targets".into(), Some("targets".into()))
        );
    }

    #[test]
    fn structural_errors_name_their_field() {
        let cases = [
            (json!([]), "invalid_request", None),
            (json!("127.0.0.1"), "invalid_request", None),
            (json!({}), "missing_target", Some("target")),
            (json!({"targets": []}), "missing_target", Some("targets")),
            (
                json!({"target": "a", "targets": ["b"]}),
                "invalid_request",
                Some("targets"),
            ),
            (
                json!({"target": "a", "extra": 1}),
                "unknown_field",
                Some("extra"),
            ),
            (json!({"target": 1}), "invalid_type", Some("target")),
            (json!({"target": null}), "invalid_type", Some("target")),
            (
                json!({"target": {"ip": "127.0.0.1"}}),
                "invalid_type",
                Some("target"),
            ),
            (
                json!({"targets": "127.0.0.1"}),
                "invalid_type",
                Some("targets"),
            ),
            (
                json!({"targets": ["127.0.0.1", ["x"]]}),
                "invalid_type",
                Some("targets[1]"),
            ),
            (
                json!({"targets": ["127.0.0.1", ""]}),
                "invalid_target",
                Some("targets[1]"),
            ),
            (
                json!({"target": "127.0.0.1\0"}),
                "invalid_target",
                Some("target"),
            ),
            (
                json!({"target": "127.0.0.1 -oN x"}),
                "invalid_target",
                Some("target"),
            ),
            (json!({"target": "a\nb"}), "invalid_target", Some("target")),
            (
                json!({"target": "a".repeat(300)}),
                "invalid_target",
                Some("target"),
            ),
            (
                json!({"target": "a", "scan_type": 5}),
                "invalid_type",
                Some("scan_type"),
            ),
            (
                json!({"target": "a", "ports": [22]}),
                "invalid_type",
                Some("ports"),
            ),
            (
                json!({"target": "a", "ports": "1".repeat(9000)}),
                "invalid_ports",
                Some("ports"),
            ),
        ];
        for (body, code, field) in cases {
            assert_eq!(
                err(body.clone()),
                (code.to_string(), field.map(str::to_string)),
                "{body}"
            );
        }
    }

    #[test]
    fn unknown_field_names_are_truncated_in_the_error() {
        let key = "k".repeat(1000);
        let mut map = Map::new();
        map.insert(key, json!(1));
        map.insert("target".into(), json!("127.0.0.1"));
        let e = parse_scan_body(&Value::Object(map)).unwrap_err();
        assert!(e.message.len() < 200);
    }
}
