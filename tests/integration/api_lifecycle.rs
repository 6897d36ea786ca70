//! Start-up, degraded mode and shutdown of the real `api_server`.

use std::net::{Ipv4Addr, TcpListener};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::listen;
use crate::support::server::{
    Server, config_for_port, free_port, logged_scans, logging_nmap, run_to_exit, try_request,
};

#[test]
fn sigterm_stops_accepting_lets_the_running_scan_finish_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("scans.log");
    let nmap = logging_nmap(dir.path(), &log, 1.5);
    let ip = Ipv4Addr::new(127, 0, 6, 2);
    let listener = listen(ip);
    let port = listener.local_addr().unwrap().port();
    let nmap_path = format!("{:?}", nmap.display().to_string());
    let mut server = Server::start(&[("nmap_path", &nmap_path)]);
    let addr = server.addr;
    let in_flight = thread::spawn(move || {
        crate::support::server::request(
            addr,
            "POST",
            "/api/scan",
            &[("Content-Type", "application/json")],
            json!({"target": ip.to_string(), "scan_type": "quick", "ports": port.to_string()})
                .to_string()
                .as_bytes(),
        )
    });
    // Wait until the scan is really running, then ask the server to stop.
    let until = Instant::now() + Duration::from_secs(10);
    while logged_scans(&log).is_empty() {
        assert!(Instant::now() < until, "the scan never started");
        thread::sleep(Duration::from_millis(10));
    }
    server.signal("TERM");
    // New connections are refused soon after (bounded wait, not a timing assertion).
    let until = Instant::now() + Duration::from_secs(10);
    while try_request(addr, "GET", "/api/health", &[], b"").is_ok() {
        assert!(Instant::now() < until, "still accepting after SIGTERM");
        thread::sleep(Duration::from_millis(20));
    }
    let reply = in_flight.join().unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let result = &reply.json()["results"][0];
    assert_eq!(result["status"], "completed", "{result}");
    assert_eq!(result["open_ports"][0]["port"], port);
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", server.log());
    let log = server.log();
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("all requests finished"), "{log}");
}

#[test]
fn a_taken_port_fails_start_up_with_exit_2_and_a_clear_message() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let (status, log) = run_to_exit(&config_for_port(port, &[]));
    assert_eq!(status.code(), Some(2), "{log}");
    assert!(
        log.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{log}"
    );
    assert!(log.to_lowercase().contains("in use"), "{log}");
}

#[test]
fn bad_configuration_fails_start_up_naming_the_key() {
    for (key, value) in [
        ("nmap_timeout", "0"),
        ("nmap_timing", "\"-T9\""),
        ("api.max_concurrent_scans", "0"),
        ("api.bind", "\"not-an-address\""),
        ("api.no_such_key", "1"),
    ] {
        let name = key.trim_start_matches("api.");
        let (status, log) = run_to_exit(&config_for_port(free_port(), &[(key, value)]));
        assert_eq!(status.code(), Some(2), "{key}: {log}");
        assert!(log.contains(name), "{key}: {log}");
    }
}

#[test]
fn without_nmap_it_starts_degraded_and_refuses_scans_with_503() {
    let server = Server::start(&[("nmap_path", "\"/nonexistent/bin/nmap\"")]);
    let health = server.get("/api/health");
    assert_eq!(health.status, 503);
    let body = health.json();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["nmap"]["available"], false);
    assert!(body["nmap"]["version"].is_null());
    let r = server.scan(&json!({"target": "127.0.0.1", "scan_type": "quick", "ports": "1"}));
    assert_eq!(r.error(), (503, "nmap_unavailable".into(), None));
    assert!(r.header("Retry-After").is_some());
    assert!(!r.body.contains("nonexistent"), "no internals: {}", r.body);
    // Client errors still win over the server's state.
    let r = server.scan(&json!({"target": "-oX"}));
    assert_eq!(r.error().0, 400);
    assert!(server.log().contains("starting degraded"));
}
