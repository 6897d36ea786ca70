//! The engine with fake nmap scripts (fault injection) and real nmap on loopback listeners.

use super::*;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn engine(nmap: &Path, max: usize, nmap_timeout: u64, queue_timeout: u64) -> ScanEngine {
    let mut config = Config {
        nmap_path: nmap.to_path_buf(),
        nmap_timeout,
        ..Config::default()
    };
    config.api.max_concurrent_scans = max;
    config.api.queue_timeout = queue_timeout;
    ScanEngine::new(&config).unwrap()
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn planned(target: &str) -> PlannedTarget {
    PlannedTarget {
        target: target.to_string(),
        hostname: None,
        address: target
            .parse()
            .map_err(|_| "hostname did not resolve".to_string()),
        spent: Duration::ZERO,
    }
}

fn args(port: u16) -> Vec<String> {
    [
        "-sT",
        "-Pn",
        "-n",
        "-p",
        &port.to_string(),
        "--noninteractive",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn one_target_failing_does_not_cost_the_others_their_results() {
    let dir = tempfile::tempdir().unwrap();
    // The last argument is the address: 127.0.0.3 crashes, the others run the real nmap.
    let nmap = script(
        dir.path(),
        "nmap",
        r#"for last; do :; done
if [ "$last" = 127.0.0.3 ]; then echo "boom" >&2; exit 3; fi
exec nmap "$@""#,
    );
    let first = TcpListener::bind("127.0.0.2:0").unwrap();
    let port = first.local_addr().unwrap().port();
    let _second = TcpListener::bind(("127.0.0.4", port)).unwrap();
    let e = engine(&nmap, 2, 60, 5);
    let targets = [
        planned("127.0.0.2"),
        planned("127.0.0.3"),
        planned("nonexistent.invalid"),
        planned("127.0.0.4"),
    ];
    let out = e.run(&args(port), &targets).unwrap();
    let statuses: Vec<(&str, Status)> = out.iter().map(|o| (o.target.as_str(), o.status)).collect();
    assert_eq!(
        statuses,
        [
            ("127.0.0.2", Status::Completed),
            ("127.0.0.3", Status::Failed),
            ("nonexistent.invalid", Status::Failed),
            ("127.0.0.4", Status::Completed),
        ]
    );
    for i in [0, 3] {
        let report = out[i].report.as_ref().unwrap();
        let open: Vec<u16> = report.open_ports.iter().map(|p| p.port).collect();
        assert_eq!((report.host_state.as_str(), open), ("up", vec![port]));
    }
    assert!(out[1].error.as_deref().unwrap().contains("boom"));
    assert_eq!(out[2].error.as_deref(), Some("hostname did not resolve"));
    assert_eq!(out[2].nmap_duration, None);
    assert_eq!(e.active_scans(), 0);
}

#[test]
fn targets_without_an_address_need_no_capacity_and_start_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls");
    let nmap = script(dir.path(), "nmap", &format!("echo x >> {}", log.display()));
    let e = engine(&nmap, 1, 60, 0);
    let _held = e.capacity.acquire(1, Instant::now()).unwrap();
    let out = e.run(&args(1), &[planned("nonexistent.invalid")]).unwrap();
    assert_eq!(out[0].status, Status::Failed);
    assert!(!log.exists());
}

#[test]
fn no_capacity_within_the_queue_timeout_is_an_error_and_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls");
    let nmap = script(dir.path(), "nmap", &format!("echo x >> {}", log.display()));
    let e = engine(&nmap, 1, 60, 0);
    let held = e.capacity.acquire(1, Instant::now()).unwrap();
    assert_eq!(
        e.run(&args(1), &[planned("127.0.0.2")]).unwrap_err(),
        AcquireError::Timeout
    );
    drop(held);
    e.close();
    assert_eq!(
        e.run(&args(1), &[planned("127.0.0.2")]).unwrap_err(),
        AcquireError::Closed
    );
    assert!(!log.exists());
}

#[test]
fn a_hanging_nmap_is_a_timeout_not_an_empty_host() {
    let dir = tempfile::tempdir().unwrap();
    let nmap = script(dir.path(), "nmap", "trap '' TERM\nsleep 1000 &\nwait");
    let e = engine(&nmap, 1, 1, 5);
    let out = e.run(&args(1), &[planned("127.0.0.2")]).unwrap();
    assert_eq!(out[0].status, Status::Timeout);
    assert!(out[0].report.is_none());
    assert!(out[0].error.as_deref().unwrap().contains("1 s"));
}

#[test]
fn garbage_output_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let nmap = script(dir.path(), "nmap", "echo '<nmaprun><host>'");
    let e = engine(&nmap, 1, 10, 5);
    let out = e.run(&args(1), &[planned("127.0.0.2")]).unwrap();
    assert_eq!(out[0].status, Status::Failed);
    assert!(out[0].report.is_none());
}

#[test]
fn a_host_missing_from_the_document_is_down_and_keeps_the_given_name() {
    let result = crate::model::ScanResult::default();
    let r = host_report(&result, "127.0.0.9".parse().unwrap(), Some("db.local"));
    assert_eq!(r.ip, "127.0.0.9");
    assert_eq!(r.host_state, "down");
    assert_eq!(r.hostname.as_deref(), Some("db.local"));
    assert!(r.open_ports.is_empty());
}
