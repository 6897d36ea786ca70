//! The request pipeline end to end, on rouille's fake requests (no socket, no nmap).

use super::*;
use crate::config::Config;
use rouille::ResponseBody;
use std::io::Read;

const TOKEN: &str = "test-token-0123456789";

fn state_with(edit: impl FnOnce(&mut Config)) -> State {
    let mut config = Config::default();
    edit(&mut config);
    State::new(config, Box::new(|| Ok("7.93".to_string()))).unwrap()
}

fn state() -> State {
    state_with(|_| {})
}

fn get(url: &str) -> Request {
    Request::fake_http("GET", url, vec![], vec![])
}

fn call(state: &State, request: &Request) -> (u16, serde_json::Value, Response) {
    let mut response = handle(state, request);
    let (mut reader, _) =
        std::mem::replace(&mut response.data, ResponseBody::empty()).into_reader_and_size();
    let mut text = String::new();
    reader.read_to_string(&mut text).unwrap();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (response.status_code, json, response)
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref())
}

#[test]
fn health_reports_ok_with_nmap_version_and_limits() {
    let (status, body, response) = call(&state(), &get("/api/health"));
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["nmap"]["available"], true);
    assert_eq!(body["nmap"]["version"], "7.93");
    assert_eq!(body["active_scans"], 0);
    assert_eq!(body["max_concurrent_scans"], 8);
    assert!(header(&response, "X-Request-Id").is_some());
}

#[test]
fn health_is_degraded_without_nmap() {
    let s = State::new(
        Config::default(),
        Box::new(|| Err("nmap: not found".to_string())),
    )
    .unwrap();
    let (status, body, _) = call(&s, &get("/api/health"));
    assert_eq!((status, body["status"].as_str()), (503, Some("degraded")));
    assert_eq!(body["nmap"]["available"], false);
    assert!(!body.to_string().contains("not found"), "no internals");
}

#[test]
fn unknown_paths_are_404_and_wrong_methods_405_as_json() {
    let s = state();
    let (status, body, _) = call(&s, &get("/nope"));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, body, response) = call(&s, &get("/api/scan"));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    assert_eq!(header(&response, "Allow"), Some("POST"));
    let r = Request::fake_http("DELETE", "/api/health", vec![], vec![]);
    let (status, _, response) = call(&s, &r);
    assert_eq!(
        (status, header(&response, "Allow")),
        (405, Some("GET, HEAD"))
    );
}

#[test]
fn tokens_guard_scan_and_profiles_but_not_health_or_metrics() {
    let s = state_with(|c| c.api.tokens = vec![TOKEN.to_string()]);
    let (status, body, response) = call(&s, &get("/api/profiles"));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    assert_eq!(header(&response, "WWW-Authenticate"), Some("Bearer"));
    let wrong = Request::fake_http(
        "POST",
        "/api/scan",
        vec![(
            "Authorization".into(),
            "Bearer wrong-token-0123456789".into(),
        )],
        vec![],
    );
    assert_eq!(call(&s, &wrong).0, 401);
    assert_eq!(call(&s, &get("/api/health")).0, 200);
    assert_eq!(call(&s, &get("/metrics")).0, 200);
    let right = Request::fake_http(
        "GET",
        "/api/openapi.json",
        vec![("Authorization".into(), format!("Bearer {TOKEN}"))],
        vec![],
    );
    assert_eq!(call(&s, &right).0, 200);
}

#[test]
fn rate_limit_answers_429_with_retry_after_and_spares_health() {
    let s = state_with(|c| c.api.rate_limit_per_minute = 2);
    assert_eq!(call(&s, &get("/api/openapi.json")).0, 200);
    assert_eq!(call(&s, &get("/api/openapi.json")).0, 200);
    let (status, body, response) = call(&s, &get("/api/openapi.json"));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    assert_eq!(header(&response, "Retry-After"), Some("30"));
    for _ in 0..5 {
        assert_eq!(call(&s, &get("/api/health")).0, 200);
    }
}

#[test]
fn metrics_count_requests_by_route_and_rejections_by_code() {
    let s = state();
    call(&s, &get("/api/health"));
    call(&s, &get("/nope"));
    let (status, text, _) = call(&s, &get("/metrics"));
    assert_eq!(status, 200);
    let text = text.as_str().unwrap().to_string();
    assert!(text.contains("scanner_http_requests_total{route=\"/api/health\",status=\"200\"} 1"));
    assert!(text.contains("scanner_http_requests_total{route=\"unmatched\",status=\"404\"} 1"));
    assert!(text.contains("scanner_rejected_requests_total{reason=\"not_found\"} 1"));
}

#[test]
fn a_panicking_handler_becomes_a_json_500_with_the_request_id() {
    let s = state();
    let mut response = handle_with(&s, &get("/api/health"), |_, _| {
        panic!("secret internal detail at /etc/x")
    });
    assert_eq!(response.status_code, 500);
    let id = header(&response, "X-Request-Id").unwrap().to_string();
    let (mut reader, _) =
        std::mem::replace(&mut response.data, ResponseBody::empty()).into_reader_and_size();
    let mut text = String::new();
    reader.read_to_string(&mut text).unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["code"], "internal");
    assert_eq!(body["error"]["request_id"], id.as_str());
    assert!(!text.contains("secret"));
}

/// Issue 14, row 10: a database file that is not SQLite is 503 `database_unavailable`, not 500.
#[test]
fn a_database_that_is_not_sqlite_is_503_database_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scans.db");
    std::fs::write(&path, "not a database\n".repeat(100)).unwrap();
    let state = state_with(|c| c.database = Some(path.clone()));
    for url in ["/api/snapshots", "/api/alerts", "/api/snapshots/1"] {
        let (status, body, _) = call(&state, &get(url));
        assert_eq!(status, 503, "{url}: {body}");
        assert_eq!(body["error"]["code"], "database_unavailable", "{url}");
    }
}

/// Issue 14, row 5: the Host check runs before any route (DNS rebinding).
#[test]
fn a_foreign_host_is_421_before_routing() {
    let request = Request::fake_http(
        "POST",
        "/api/scan",
        vec![
            ("Host".into(), "rebind.example:5000".into()),
            ("Origin".into(), "http://rebind.example:5000".into()),
        ],
        vec![],
    );
    let (status, body, _) = call(&state(), &request);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (421, Some("host_not_allowed"))
    );
}

/// The OpenAPI document's `allowEmptyValue` on optional choices says what the server does.
#[test]
fn empty_optional_choices_are_taken_as_not_given() {
    let dir = tempfile::tempdir().unwrap();
    let state = state_with(|c| c.database = Some(dir.path().join("scans.db")));
    for url in [
        "/api/alerts?status=&severity=&min_severity=",
        "/?status=&band=&sort=",
    ] {
        let (status, body, _) = call(&state, &get(url));
        assert_eq!(status, 200, "{url}: {body}");
    }
}
