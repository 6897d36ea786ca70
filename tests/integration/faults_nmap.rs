//! daily_scan against a broken nmap (issue 8): missing, exiting non-zero (batch_faults.rs), half a document, 200 MB of garbage, a
//! hang that ignores SIGTERM. Each is a failed target, never "no ports", and memory stays
//! bounded. Addresses 127.0.50.x are this file's.

use std::net::Ipv4Addr;
use std::process::Stdio;
use std::thread;
use std::time::Duration;

use crate::batch_env::{Install, Service, changes, not_compared, snapshot_count};
use crate::support::{self, process_alive};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 50, 1);

fn install_with(nmap: &str, port: u16) -> Install {
    let install = Install::new(
        &port.to_string(),
        &format!("nmap_path = \"{nmap}\"\nnmap_timeout = 3"),
        "profile = \"quick\"",
    );
    install.targets(&["127.0.50.1"]);
    install
}

/// Points `nmap_path` of an existing install at another program.
fn switch_nmap(install: &Install, nmap: &str) {
    let path = install.path("config.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    let start = config.find("nmap_path = ").unwrap();
    let end = start + config[start..].find('\n').unwrap();
    let config = format!(
        "{}nmap_path = \"{nmap}\"{}",
        &config[..start],
        &config[end..]
    );
    std::fs::write(path, config).unwrap();
}

fn fake(name: &str) -> String {
    support::fake_nmap(name).display().to_string()
}

/// Baseline with the real nmap (port open), then a broken nmap: the target is not compared
/// and the open port is not reported closed.
fn broken_run_is_not_compared(nmap: &str, port: u16) -> String {
    let _open = Service::start(A, port, None);
    let install = install_with("/usr/bin/nmap", port);
    install.scan(&[], &[], 0);
    switch_nmap(&install, nmap);
    let run = install.scan(&[], &[], 1);
    let d = run.delta();
    assert_eq!(changes(&d), Vec::<String>::new(), "{d}");
    let nc = not_compared(&d);
    assert_eq!(nc.len(), 1, "{d}");
    assert!(nc[0].starts_with("127.0.50.1 failed"), "{nc:?}");
    assert_eq!(snapshot_count(&install.db()), 2);
    run.text()
}

#[test]
fn a_missing_nmap_is_a_failed_target_named_by_path() {
    let text = broken_run_is_not_compared("/nonexistent/nmap", 18500);
    assert!(
        text.contains("nmap not found at /nonexistent/nmap"),
        "{text}"
    );
}

#[test]
fn half_a_document_is_a_failed_target_not_closed_ports() {
    let text = broken_run_is_not_compared(&fake("half-document.sh"), 18501);
    assert!(text.contains("the document is cut off"), "{text}");
}

#[test]
fn a_hang_ignoring_sigterm_is_a_timeout_and_leaves_no_process() {
    let _open = Service::start(A, 18503, None);
    let install = install_with("/usr/bin/nmap", 18503);
    install.scan(&[], &[], 0);
    switch_nmap(&install, &fake("hang.sh"));
    let before = support::server::processes_matching("hang.sh");
    let run = install.scan(&[], &[], 1);
    let d = run.delta();
    assert_eq!(changes(&d), Vec::<String>::new(), "{d}");
    assert_eq!(not_compared(&d), ["127.0.50.1 timeout"], "{d}");
    // The fake and its `sleep` child are killed with the process group (SIGKILL after SIGTERM).
    let after: Vec<u32> = support::server::processes_matching("hang.sh")
        .into_iter()
        .filter(|p| !before.contains(p) && process_alive(*p, "hang.sh"))
        .collect();
    assert_eq!(after, Vec::<u32>::new(), "hang.sh outlived the run");
}

/// Peak resident memory of a child, sampled from /proc until it exits (a lower bound of the
/// true peak; the output is held for the whole parse, so the sampling sees it).
fn peak_rss_kib(child: &mut std::process::Child) -> u64 {
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        if let Ok(text) = std::fs::read_to_string(&status) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            peak = peak.max(hwm.unwrap_or(0));
        }
        thread::sleep(Duration::from_millis(5));
    }
    peak
}

#[test]
fn two_hundred_megabytes_of_garbage_is_refused_with_bounded_memory() {
    let install = install_with(&fake("garbage-200mb.sh"), 18504);
    let mut child = install
        .command(&["-f", "targets.txt"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let peak = peak_rss_kib(&mut child);
    assert_eq!(child.wait().unwrap().code(), Some(1));
    // Before the stdout cap followed the work, this run peaked at 402 MB.
    assert!(peak < 100 * 1024, "daily_scan peaked at {peak} KiB");
    let conn = rusqlite::Connection::open(install.db()).unwrap();
    let (status, error): (String, String) = conn
        .query_row(
            "SELECT status, error FROM snapshot_targets WHERE target = '127.0.50.1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(status, "failed");
    assert!(error.contains("max_output_bytes"), "{error}");
}
