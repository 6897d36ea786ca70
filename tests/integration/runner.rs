//! `nmap::run`: real nmap against loopback listeners, and fake nmap scripts for the faults real
//! nmap will not produce on demand (hangs, floods, crashes, stray children).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use security_scanner::nmap::run::{
    self, NmapInvocation, RunError, RunOutcome, RunReport, STDERR_TAIL_BYTES,
};

use crate::support;

const HOST: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const DEAD_WITHIN: Duration = Duration::from_secs(5);

fn invocation(program: impl Into<PathBuf>, args: &[&str], timeout: Duration) -> NmapInvocation {
    NmapInvocation {
        program: program.into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        targets: vec![HOST.to_string()],
        timeout,
        max_output_bytes: run::DEFAULT_MAX_OUTPUT_BYTES,
    }
}

fn scan_port(port: u16) -> RunReport {
    let port = port.to_string();
    let inv = invocation(
        "nmap",
        &["-sT", "-Pn", "-n", "-p", &port],
        Duration::from_secs(60),
    );
    run::run(&inv)
}

fn completed(report: &RunReport) -> String {
    match &report.outcome {
        RunOutcome::Completed { xml } => String::from_utf8_lossy(xml).into_owned(),
        other => panic!(
            "expected Completed, got {other:?}; stderr: {}",
            report.stderr
        ),
    }
}

fn failed(report: &RunReport) -> &str {
    match &report.outcome {
        RunOutcome::Failed { reason } => reason,
        other => panic!("expected Failed, got {other:?}; stderr: {}", report.stderr),
    }
}

fn pid_file(dir: &tempfile::TempDir) -> (PathBuf, String) {
    let path = dir.path().join("pids");
    let arg = path.to_str().expect("utf-8 temp path").to_owned();
    (path, arg)
}

#[test]
fn real_nmap_sees_an_open_port() {
    let listener = support::listen(HOST);
    let port = listener.local_addr().expect("address").port();
    let report = scan_port(port);
    let xml = completed(&report);
    assert_eq!(report.exit_code, Some(0));
    assert!(xml.contains("<nmaprun"), "{xml}");
    assert!(
        xml.contains(&format!(
            r#"<port protocol="tcp" portid="{port}"><state state="open""#
        )),
        "{xml}"
    );
    let p = port.to_string();
    assert_eq!(
        report.command_line,
        [
            "nmap",
            "-sT",
            "-Pn",
            "-n",
            "-p",
            &p,
            "-oX",
            "-",
            "127.0.0.2"
        ]
    );
    drop(listener);
}

#[test]
fn real_nmap_sees_a_closed_port() {
    let port = support::closed_port(HOST);
    let report = scan_port(port);
    let xml = completed(&report);
    assert!(
        xml.contains(&format!(
            r#"<port protocol="tcp" portid="{port}"><state state="closed""#
        )),
        "{xml}"
    );
}

#[test]
fn a_hanging_nmap_and_its_child_are_killed_at_the_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pids, arg) = pid_file(&dir);
    let inv = invocation(
        support::fake_nmap("hang.sh"),
        &[&arg],
        Duration::from_secs(2),
    );
    let report = run::run(&inv);
    assert!(
        matches!(report.outcome, RunOutcome::TimedOut),
        "{:?}",
        report.outcome
    );
    assert_eq!(
        report.exit_code, None,
        "killed by a signal, so no exit code"
    );
    assert!(report.stderr.contains("fake nmap: hanging"), "{report:?}");
    let pids = support::read_pids(&pids);
    assert_eq!(pids.len(), 2, "{pids:?}");
    assert!(support::wait_until_dead(pids[0], "hang.sh", DEAD_WITHIN));
    assert!(support::wait_until_dead(pids[1], "sleep", DEAD_WITHIN));
}

#[test]
fn a_child_holding_the_pipes_does_not_stall_the_run_and_is_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pids, arg) = pid_file(&dir);
    // With a bug here the run would sit until this timeout and report TimedOut.
    let inv = invocation(
        support::fake_nmap("child-holds-pipe.sh"),
        &[&arg],
        Duration::from_secs(20),
    );
    let report = run::run(&inv);
    assert_eq!(
        completed(&report),
        "<?xml version=\"1.0\"?><nmaprun></nmaprun>\n"
    );
    assert_eq!(report.exit_code, Some(0));
    let pids = support::read_pids(&pids);
    assert!(support::wait_until_dead(pids[0], "sleep", DEAD_WITHIN));
}

#[test]
fn garbage_on_a_clean_exit_is_passed_on_unparsed() {
    let inv = invocation(
        support::fake_nmap("garbage.sh"),
        &[],
        Duration::from_secs(20),
    );
    let report = run::run(&inv);
    match report.outcome {
        RunOutcome::Completed { xml } => assert_eq!(xml, b"this is not XML\n\0\xff<nmaprun"),
        other => panic!("expected Completed, got {other:?}"),
    }
}

#[test]
fn a_failing_nmap_reports_its_exit_code_and_last_stderr_lines() {
    let inv = invocation(support::fake_nmap("fail.sh"), &[], Duration::from_secs(20));
    let report = run::run(&inv);
    let reason = failed(&report);
    assert!(reason.contains("exited with code 1"), "{reason}");
    assert!(
        reason.contains("Failed to open fake device lo9 | QUITTING!"),
        "{reason}"
    );
    assert_eq!(report.exit_code, Some(1));
    assert_eq!(report.stderr, "Failed to open fake device lo9\nQUITTING!\n");
}

#[test]
fn output_past_the_cap_kills_the_run() {
    let mut inv = invocation(support::fake_nmap("flood.sh"), &[], Duration::from_secs(20));
    inv.max_output_bytes = 1024 * 1024;
    let report = run::run(&inv);
    let reason = failed(&report);
    assert!(reason.contains("output exceeded 1048576 bytes"), "{reason}");
    assert_eq!(report.exit_code, None);
}

#[test]
fn heavy_stderr_does_not_deadlock_and_only_its_tail_is_kept() {
    let inv = invocation(
        support::fake_nmap("chatty.sh"),
        &[],
        Duration::from_secs(20),
    );
    let report = run::run(&inv);
    assert!(completed(&report).contains("<nmaprun>"));
    assert!(report.stderr.len() <= STDERR_TAIL_BYTES + 100);
    let mut lines = report.stderr.lines();
    let marker = lines.next().unwrap_or_default();
    assert!(
        marker.starts_with("[... ") && marker.ends_with(" earlier bytes of stderr dropped ...]"),
        "{marker}"
    );
    assert!(lines.all(|l| l == "WARNING: fake nmap is chatty"));
    assert!(report.stderr.ends_with('\n'));
}

#[test]
fn a_missing_nmap_is_reported_by_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-nmap");
    let report = run::run(&invocation(&missing, &[], Duration::from_secs(5)));
    let reason = failed(&report);
    assert!(reason.contains("not found"), "{reason}");
    assert!(reason.contains(&missing.display().to_string()), "{reason}");
    assert_eq!(report.exit_code, None);
}

#[test]
fn a_non_executable_nmap_is_reported_as_such() {
    let file = support::fake_nmap("not-executable.sh");
    let reason_of = |r: &RunReport| failed(r).to_owned();
    let reason = reason_of(&run::run(&invocation(&file, &[], Duration::from_secs(5))));
    assert!(reason.contains("cannot be executed"), "{reason}");
    assert!(matches!(
        run::probe_version(&file),
        Err(RunError::NotExecutable { .. })
    ));
}

#[test]
fn probe_version_reads_the_real_nmap_version() {
    let version = run::probe_version(Path::new("nmap")).expect("nmap is installed");
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or_default();
    assert!(
        !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()),
        "{version}"
    );
    assert!(parts.next().is_some(), "{version}");
}

#[test]
fn probe_version_explains_what_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = run::probe_version(&dir.path().join("nmap")).unwrap_err();
    assert!(matches!(missing, RunError::NotFound { .. }), "{missing}");

    let failing = run::probe_version(&support::fake_nmap("fail.sh")).unwrap_err();
    let message = failing.to_string();
    assert!(matches!(failing, RunError::Failed { .. }), "{message}");
    assert!(
        message.contains("code 1") && message.contains("QUITTING!"),
        "{message}"
    );

    let garbage = run::probe_version(&support::fake_nmap("garbage.sh")).unwrap_err();
    assert!(
        matches!(garbage, RunError::UnexpectedOutput { .. }),
        "{garbage}"
    );
}

#[test]
fn real_nmap_scans_ipv6_loopback() {
    let listener = std::net::TcpListener::bind(("::1", 0)).expect("binding [::1]:0");
    let port = listener.local_addr().expect("address").port().to_string();
    let mut inv = invocation(
        "nmap",
        &["-sT", "-Pn", "-n", "-p", &port],
        Duration::from_secs(60),
    );
    inv.targets = vec!["::1".to_string()];
    let report = run::run(&inv);
    let xml = completed(&report);
    assert!(xml.contains(r#"addrtype="ipv6""#), "{xml}");
    assert!(
        xml.contains(&format!(
            r#"<port protocol="tcp" portid="{port}"><state state="open""#
        )),
        "{xml}"
    );
}
