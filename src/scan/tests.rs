//! The engine with fake nmap scripts (fault injection) and real nmap on loopback listeners.

use super::*;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub(super) fn engine(nmap: &Path, max: usize, nmap_timeout: u64, queue_timeout: u64) -> ScanEngine {
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
    // Any nmap asked to scan 127.0.0.3 crashes, the others run the real nmap (the three
    // targets first share one process, which crashes: each is then scanned alone).
    let nmap = script(
        dir.path(),
        "nmap",
        r#"for a; do [ "$a" = 127.0.0.3 ] && { echo "boom" >&2; exit 3; }; done
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

#[test]
fn targets_with_few_ports_share_one_process_split_per_host() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls");
    let nmap = script(
        dir.path(),
        "nmap",
        &format!("echo \"$*\" >> {}\nexec nmap \"$@\"", log.display()),
    );
    let listener = TcpListener::bind("127.0.0.5:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let e = engine(&nmap, 2, 60, 5);
    let targets: Vec<PlannedTarget> = (5..=9).map(|i| planned(&format!("127.0.0.{i}"))).collect();
    let out = e.run(&args(port), &targets).unwrap();
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(calls.lines().count(), 1, "{calls}");
    for (o, t) in out.iter().zip(&targets) {
        assert_eq!(
            (o.target.as_str(), o.status),
            (t.target.as_str(), Status::Completed)
        );
        let report = o.report.as_ref().unwrap();
        assert_eq!(report.ip, t.target);
        let open: Vec<u16> = report.open_ports.iter().map(|p| p.port).collect();
        // -Pn: every address is reported up; only 127.0.0.5 listens.
        let expected = if t.target == "127.0.0.5" {
            vec![port]
        } else {
            vec![]
        };
        assert_eq!(open, expected, "{}", t.target);
    }
}

#[test]
fn a_target_hanging_a_shared_process_times_out_alone() {
    let dir = tempfile::tempdir().unwrap();
    let nmap = script(
        dir.path(),
        "nmap",
        r#"for a; do [ "$a" = 127.0.0.3 ] && { trap '' TERM; sleep 1000 & wait; }; done
exec nmap "$@""#,
    );
    let listener = TcpListener::bind("127.0.0.2:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let e = engine(&nmap, 1, 2, 5);
    let targets = [planned("127.0.0.2"), planned("127.0.0.3")];
    let out = e.run(&args(port), &targets).unwrap();
    assert_eq!(out[0].status, Status::Completed, "{:?}", out[0]);
    assert_eq!(out[0].report.as_ref().unwrap().open_ports[0].port, port);
    assert_eq!(out[1].status, Status::Timeout, "{:?}", out[1]);
    assert!(out[1].report.is_none());
    assert_eq!(e.active_scans(), 0);
}
