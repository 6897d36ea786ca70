//! Tokens, rate limit, `/metrics`, `/api/openapi.json` and `/api/profiles` on the real server.

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::support::listen;
use crate::support::server::{Server, request};

const TOKEN: &str = "integration-token-0123456789";

#[test]
fn tokens_guard_the_api_but_not_health_or_metrics() {
    let tokens = format!("[\"{TOKEN}\", \"second-token-abcdefghij\"]");
    let server = Server::start(&[("api.tokens", &tokens)]);
    let body = json!({"target": "127.0.0.1", "scan_type": "tcp_full"});
    let r = server.scan(&body);
    assert_eq!(r.error(), (401, "unauthorized".into(), None));
    assert_eq!(r.header("WWW-Authenticate"), Some("Bearer"));
    for wrong in [
        "Bearer wrong-token-0123456789xx".to_string(),
        format!("Basic {TOKEN}"),
        TOKEN.to_string(),
        format!("Bearer {}", &TOKEN[..TOKEN.len() - 1]),
    ] {
        let r = server.scan_with(&body, &[("Authorization", &wrong)]);
        assert_eq!(r.status, 401, "{wrong}");
    }
    // With a valid token the request reaches validation (a batch-only profile is a 400).
    let auth = format!("Bearer {TOKEN}");
    let r = server.scan_with(&body, &[("Authorization", &auth)]);
    assert_eq!(r.error().1, "profile_batch_only");
    let r = request(
        server.addr,
        "GET",
        "/api/profiles",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200);
    let r = request(
        server.addr,
        "GET",
        "/api/profiles",
        &[("Authorization", "Bearer second-token-abcdefghij")],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(server.get("/api/profiles").status, 401);
    assert_eq!(server.get("/api/health").status, 200);
    assert_eq!(server.get("/metrics").status, 200);
}

#[test]
fn rate_limit_is_per_client_with_retry_after_and_spares_health() {
    let server = Server::start(&[("api.rate_limit_per_minute", "3")]);
    for _ in 0..3 {
        assert_eq!(server.get("/api/profiles").status, 200);
    }
    let r = server.get("/api/profiles");
    assert_eq!(r.error(), (429, "rate_limited".into(), None));
    let wait: u64 = r.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "Retry-After {wait}");
    let r = server.scan(&json!({"target": "127.0.0.1"}));
    assert_eq!(r.status, 429, "scans share the budget");
    for _ in 0..10 {
        assert_eq!(server.get("/api/health").status, 200);
    }
}

/// The value of the sample `series` in Prometheus text, 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn metrics_counters_move() {
    let ip = Ipv4Addr::new(127, 0, 5, 2);
    let listener = listen(ip);
    let port = listener.local_addr().unwrap().port();
    let server = Server::start(&[]);
    let scan = json!({"targets": [ip.to_string(), "nonexistent.invalid"], "scan_type": "quick",
        "ports": port.to_string()});
    let before = server.get("/metrics").body;
    assert_eq!(server.scan(&scan).status, 200);
    assert_eq!(server.get("/nowhere").status, 404);
    let after = server.get("/metrics");
    assert!(
        after
            .header("Content-Type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let after = after.body;
    for (series, delta) in [
        (
            "scanner_http_requests_total{route=\"/api/scan\",status=\"200\"}",
            1.0,
        ),
        (
            "scanner_http_requests_total{route=\"unmatched\",status=\"404\"}",
            1.0,
        ),
        ("scanner_rejected_requests_total{reason=\"not_found\"}", 1.0),
        (
            "scanner_scans_total{profile=\"quick\",outcome=\"completed\"}",
            1.0,
        ),
        (
            "scanner_scans_total{profile=\"quick\",outcome=\"failed\"}",
            1.0,
        ),
        ("scanner_nmap_duration_seconds_count", 1.0),
        ("scanner_nmap_duration_seconds_bucket{le=\"+Inf\"}", 1.0),
    ] {
        assert_eq!(
            sample(&after, series) - sample(&before, series),
            delta,
            "{series}\n{after}"
        );
    }
    assert!(sample(&after, "scanner_nmap_duration_seconds_sum") > 0.0);
    assert_eq!(sample(&after, "scanner_active_scans"), 0.0);
    assert_eq!(sample(&after, "scanner_max_concurrent_scans"), 8.0);
    assert_eq!(sample(&after, "scanner_nmap_available"), 1.0);
}

#[test]
fn openapi_document_parses_and_matches_the_routes() {
    let server = Server::start(&[]);
    let r = server.get("/api/openapi.json");
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let routes = [
        ("post", "/api/scan"),
        ("get", "/api/health"),
        ("get", "/api/profiles"),
        ("get", "/api/openapi.json"),
        ("get", "/metrics"),
        ("get", "/"),
        ("get", "/api/snapshots"),
        ("get", "/api/snapshots/{id}"),
        ("get", "/api/snapshots/{id}/delta"),
        ("get", "/api/delta"),
        ("get", "/api/stats/trends"),
        ("get", "/api/alerts"),
        ("get", "/api/certificates"),
        ("post", "/api/alerts/{id}/ack"),
        ("post", "/api/alerts/{id}/ignore"),
        ("post", "/api/alerts/{id}/unignore"),
        ("post", "/api/alerts/ack"),
        ("get", "/api/deliveries"),
        ("post", "/api/alerts/ignore"),
        ("get", "/alerts"),
        ("get", "/runs/{id}"),
        ("get", "/runs/{id}/files/{name}"),
        ("get", "/api/runs/{id}"),
        ("get", "/entries/{entry}"),
        ("get", "/api/entries/{entry}"),
        ("get", "/api/export.zip"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let mut expected: Vec<(String, String)> = routes
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);
    // Every documented operation exists on the server (no 405, and no 404 for the route
    // itself: an unknown id in a templated path is the id's own 404).
    for (method, path) in &documented {
        let m = method.to_ascii_uppercase();
        let path = path
            .replace("{id}", "1")
            .replace("{name}", "report.html")
            .replace("{entry}", "127.0.0.1");
        let r = request(
            server.addr,
            &m,
            &path,
            &[("Content-Type", "application/json")],
            b"{}",
        );
        // (Pages answer a missing run or entry with an HTML page, not JSON.)
        let route_missing = r.status == 404 && r.body.contains("\"code\":\"not_found\"");
        assert!(
            r.status != 405 && !route_missing,
            "{m} {path}: {}",
            r.status
        );
    }
    // References resolve to defined schemas.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let text = doc.to_string();
    for piece in text.split("#/components/schemas/").skip(1) {
        let name: String = piece.chars().take_while(|c| c.is_alphanumeric()).collect();
        assert!(schemas.contains_key(&name), "dangling $ref {name}");
    }
    let scan_types: Vec<&Value> = schemas["ScanRequest"]["properties"]["scan_type"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        scan_types,
        [&json!("quick"), &json!("default"), &json!("stealth")]
    );
}

#[test]
fn profiles_list_arguments_and_availability() {
    let server = Server::start(&[]);
    let body = server.get("/api/profiles").json();
    let profiles = body["profiles"].as_array().unwrap();
    let names: Vec<&str> = profiles
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "quick",
            "default",
            "stealth",
            "tcp_full",
            "udp_common",
            "udp_full"
        ]
    );
    let quick = &profiles[0];
    assert_eq!(
        (quick["api_allowed"].as_bool(), quick["available"].as_bool()),
        (Some(true), Some(true))
    );
    let args: Vec<&str> = quick["nmap_args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        args.windows(2).any(|w| w == ["--top-ports", "100"]),
        "{args:?}"
    );
    assert!(args.contains(&"-sT"));
    let tcp_full = &profiles[3];
    assert_eq!(tcp_full["api_allowed"], false);
    assert_eq!(tcp_full["available"], false);
    assert!(tcp_full["note"].as_str().unwrap().contains("daily_scan"));
}
