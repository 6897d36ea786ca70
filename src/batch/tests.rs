use crate::snapshot::TargetStatus;
use std::io::Write as _;

use super::dry_run::shell_words;
use super::*;
use crate::model::{Host, ScanResult};
use crate::nmap::run as nmap_run;
use crate::nmap::run::MIN_OUTPUT_BYTES;

fn targets_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn config(chunk_size: usize, ports: &str) -> Config {
    let mut c = Config::default();
    c.batch.profile = Profile::Quick;
    c.batch.ports = ports.into();
    c.batch.chunk_size = chunk_size;
    c.nmap_path = "/usr/bin/nmap".into();
    c
}

fn up(ip: &str) -> Host {
    crate::testdata::up(ip, vec![])
}

fn completed(ips: &[&str]) -> ScanOutcome {
    ScanOutcome::Completed(ScanResult {
        nmap_version: "7.93".into(),
        hosts: ips.iter().map(|ip| up(ip)).collect(),
        ..ScanResult::default()
    })
}

#[test]
fn ports_override_is_part_of_the_profile_and_the_argv() {
    let f = targets_file("127.0.0.0/30\n");
    let p = prepare(&config(256, "80,22"), f.path()).unwrap();
    assert_eq!(p.profile_label, "quick+ports=22,80");
    let argv = nmap_run::command_line(&p.invocation(&p.plan.chunks[0]));
    let tail: Vec<&str> = argv
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(tail, ["-oX", "-", "127.0.0.0/30"]);
    assert!(argv.windows(2).any(|w| w == ["-p", "22,80"]), "{argv:?}");
    assert!(!argv.iter().any(|a| a == "--top-ports"));

    let p = prepare(&config(256, ""), f.path()).unwrap();
    assert_eq!(p.profile_label, "quick");
}

#[test]
fn bad_settings_and_files_are_refused_before_scanning() {
    let f = targets_file("127.0.0.1\n");
    let err = prepare(&config(256, "22,-1"), f.path()).unwrap_err();
    assert!(
        err.to_string().starts_with("batch.ports / --ports:"),
        "{err}"
    );

    let bad = targets_file("127.0.0.1\n\n# fine\n127.0.0.2 -oX /tmp/x\n");
    let err = prepare(&config(256, ""), bad.path())
        .unwrap_err()
        .to_string();
    let want = format!("{}:4:", bad.path().display());
    assert!(err.starts_with(&want), "{err}");

    let empty = targets_file("# nothing\n\n");
    let err = prepare(&config(256, ""), empty.path()).unwrap_err();
    assert!(matches!(err, BatchError::NoTargets { .. }), "{err}");

    let mut c = config(256, "");
    c.batch.max_hosts_per_run = 100;
    let big = targets_file("127.0.0.0/24\n");
    let err = prepare(&c, big.path()).unwrap_err().to_string();
    assert!(err.contains("max_hosts_per_run"), "{err}");
}

#[test]
fn dry_run_plan_names_targets_chunks_and_exact_command_lines() {
    let f = targets_file("127.0.0.0/29 # lab\n127.0.0.20-21\n192.0.2.1\n");
    let p = prepare(&config(4, "22"), f.path()).unwrap();
    let text = p.describe();
    assert!(
        text.contains("3 targets, 10 addresses, 3 nmap runs"),
        "{text}"
    );
    assert!(text.contains(":1     127.0.0.0/29"), "{text}");
    assert!(text.contains("8 addresses, nmap runs 1, 2"), "{text}");
    assert!(text.contains("failed: 192.0.2.1 is not allowed"), "{text}");
    assert!(
        text.contains("-p 22 -sT") || text.contains(" -p 22 "),
        "port selection in the argv: {text}"
    );
    assert!(text.contains("-oX - 127.0.0.0/30\n"), "{text}");
    assert!(text.contains("-oX - 127.0.0.4/30\n"), "{text}");
    assert!(text.contains("-oX - 127.0.0.20/31\n"), "{text}");
}

#[test]
fn a_failed_chunk_fails_every_target_in_it_and_contributes_no_hosts() {
    // Chunks of 2: [.0/31] [.2/31] [.4/31] [.6/31]; the /29 spans all four.
    let f = targets_file("127.0.0.0/29\n127.0.0.1\n127.0.0.2\n127.0.0.6\nnope.invalid\n");
    let p = prepare(&config(2, "22"), f.path()).unwrap();
    assert_eq!(p.plan.chunks.len(), 4);
    let outcomes = vec![
        completed(&["127.0.0.0", "127.0.0.1"]),
        ScanOutcome::Failed("exit status 1: QUITTING!".into()),
        completed(&["127.0.0.4"]),
        ScanOutcome::TimedOut,
    ];
    let s = assemble(&p, Timestamp::now(), outcomes);
    let got: Vec<(&str, TargetStatus)> = s
        .targets
        .iter()
        .map(|t| (t.target.as_str(), t.status))
        .collect();
    assert_eq!(
        got,
        [
            ("127.0.0.0/29", TargetStatus::Failed),
            ("127.0.0.1", TargetStatus::Completed),
            ("127.0.0.2", TargetStatus::Failed),
            ("127.0.0.6", TargetStatus::Timeout),
            ("nope.invalid", TargetStatus::Unresolved),
        ]
    );
    let err = s.targets[0].error.as_deref().unwrap();
    assert!(
        err.contains("nmap run 2 of 4 failed: exit status 1"),
        "{err}"
    );
    let err = s.targets[3].error.as_deref().unwrap();
    assert!(err.contains("did not finish within 300 s"), "{err}");
    assert_eq!(s.targets[0].covers, vec!["127.0.0.0/29".parse().unwrap()]);
    assert!(s.targets[4].covers.is_empty());
    let ips: Vec<&str> = s.hosts.iter().filter_map(|h| h.ip()).collect();
    assert_eq!(ips, ["127.0.0.0", "127.0.0.1", "127.0.0.4"]);
    assert_eq!(s.status, SnapshotStatus::Partial);
    assert_eq!(
        (s.profile.as_str(), s.nmap_version.as_str()),
        ("quick+ports=22", "7.93")
    );
    assert!(s.nmap_args.contains("-p 22"));

    let none = assemble(
        &p,
        Timestamp::now(),
        (0..4).map(|_| ScanOutcome::TimedOut).collect(),
    );
    assert_eq!(none.status, SnapshotStatus::Failed);
    assert!(none.hosts.is_empty());
}

#[test]
fn shell_words_quote_only_what_needs_it() {
    let argv: Vec<String> = [
        "/usr/bin/nmap",
        "-p",
        "22,80",
        "--host-timeout",
        "10m",
        "a b",
        "it's",
        "",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(
        shell_words(&argv),
        r#"/usr/bin/nmap -p 22,80 --host-timeout 10m 'a b' 'it'\''s' ''"#
    );
}

#[test]
fn report_dirs_never_collide() {
    let out = tempfile::tempdir().unwrap();
    let t: Timestamp = "2026-11-21T02:00:01.5Z".parse().unwrap();
    let a = report_dir(out.path(), t).unwrap();
    let b = report_dir(out.path(), t).unwrap();
    assert_eq!(a, out.path().join("20261121T020001Z"));
    assert_eq!(b, out.path().join("20261121T020001Z-2"));
    assert!(a.is_dir() && b.is_dir());
}

#[test]
fn a_one_host_chunk_gets_the_small_cap() {
    let file = targets_file("127.0.50.1\n");
    let p = prepare(&config(256, "18500"), file.path()).unwrap();
    let inv = p.invocation(&p.plan.chunks[0]);
    assert_eq!(inv.max_output_bytes, MIN_OUTPUT_BYTES);
}
