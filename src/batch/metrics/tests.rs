//! The exposition text is checked by a small parser of the format's rules (HELP and TYPE once
//! per family, before its samples; escaped label values; numeric values), not by string equality.

use std::collections::BTreeMap;

use super::*;
use crate::delta::{self, DeltaConfig};
use crate::model::Host;
use crate::snapshot::{Snapshot, SnapshotStatus, TargetRecord, TargetStatus};
use crate::testdata::{service_port, up};

type Labels = BTreeMap<String, String>;

/// Parses exposition text, panicking on any rule it breaks; returns (name, labels, value).
fn parse(text: &str) -> Vec<(String, Labels, f64)> {
    let mut samples = Vec::new();
    let mut helped = Vec::<String>::new();
    let mut typed = Vec::<String>::new();
    let mut current = String::new();
    assert!(text.ends_with('\n'), "the text must end with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has a text");
            assert!(!help.is_empty() && !helped.contains(&name.to_string()));
            assert!(!samples.iter().any(|(n, _, _): &(String, _, _)| n == name));
            helped.push(name.to_string());
            current = name.to_string();
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
            assert_eq!(name, current, "TYPE follows its HELP");
            assert!(["gauge", "counter"].contains(&kind));
            typed.push(name.to_string());
        } else {
            let (name, labels, value) = parse_sample(line);
            assert_eq!(name, current, "sample {line:?} outside its family");
            assert!(typed.contains(&name));
            samples.push((name, labels, value));
        }
    }
    samples
}

fn parse_sample(line: &str) -> (String, Labels, f64) {
    let brace = line.find('{').expect("labels");
    let name = &line[..brace];
    assert!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
        "metric name {name:?}"
    );
    let mut labels = Labels::new();
    let mut chars = line[brace + 1..].chars().peekable();
    loop {
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        assert_eq!(chars.next(), Some('"'));
        let mut value = String::new();
        loop {
            match chars.next().expect("unterminated label value") {
                '"' => break,
                '\\' => match chars.next() {
                    Some('\\') => value.push('\\'),
                    Some('"') => value.push('"'),
                    Some('n') => value.push('\n'),
                    other => panic!("bad escape {other:?} in {line:?}"),
                },
                '\n' => panic!("raw newline"),
                c => value.push(c),
            }
        }
        labels.insert(key, value);
        match chars.next() {
            Some(',') => continue,
            Some('}') => break,
            other => panic!("unexpected {other:?} in {line:?}"),
        }
    }
    assert_eq!(chars.next(), Some(' '));
    let value: String = chars.collect();
    (
        name.to_string(),
        labels,
        value.parse().expect("numeric value"),
    )
}

fn value(samples: &[(String, Labels, f64)], name: &str, label: Option<(&str, &str)>) -> f64 {
    let found: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| {
            n == name && label.is_none_or(|(k, v)| l.get(k).map(String::as_str) == Some(v))
        })
        .map(|(_, _, v)| *v)
        .collect();
    assert_eq!(found.len(), 1, "{name} {label:?}: {found:?}");
    found[0]
}

fn host(ip: &str, ports: &[u16]) -> Host {
    up(
        ip,
        ports
            .iter()
            .map(|&p| service_port("tcp", p, "open", "", ""))
            .collect(),
    )
}

fn target(entry: &str, status: TargetStatus, covers: &str) -> TargetRecord {
    TargetRecord {
        entry: entry.into(),
        target: covers.into(),
        status,
        error: None,
        covers: vec![covers.parse().unwrap()],
    }
}

fn snapshot(profile: &str, started: i64, targets: Vec<TargetRecord>, hosts: Vec<Host>) -> Snapshot {
    Snapshot {
        scanned: None,
        unconfirmed: Vec::new(),
        id: Some(7),
        started_at: jiff::Timestamp::from_second(started).unwrap(),
        finished_at: jiff::Timestamp::from_millisecond(started * 1000 + 42_500).unwrap(),
        profile: profile.into(),
        nmap_args: String::new(),
        nmap_version: "7.93".into(),
        status: SnapshotStatus::from_targets(&targets),
        targets,
        hosts,
    }
}

#[test]
fn a_run_becomes_valid_exposition_with_every_family() {
    let before = snapshot(
        "quick",
        1_800_000_000,
        vec![target(
            "192.0.2.0/29",
            TargetStatus::Completed,
            "192.0.2.0/29",
        )],
        vec![host("192.0.2.1", &[80])],
    );
    let after = snapshot(
        "quick",
        1_800_086_400,
        vec![
            target("192.0.2.0/29", TargetStatus::Completed, "192.0.2.0/29"),
            target("198.51.100.9", TargetStatus::Timeout, "198.51.100.9/32"),
        ],
        vec![
            host("192.0.2.1", &[22, 80, 3389]),
            host("192.0.2.2", &[443]),
        ],
    );
    let cfg = DeltaConfig::default();
    let d = delta::compare(Some(&before), &after, &cfg);
    let samples = parse(&render(&after, &d, &cfg));

    let v = |name, label| value(&samples, name, label);
    assert_eq!(
        v("daily_scan_last_run_timestamp_seconds", None),
        1_800_086_442.5
    );
    assert_eq!(v("daily_scan_last_run_duration_seconds", None), 42.5);
    assert_eq!(v("daily_scan_last_run_snapshot_id", None), 7.0);
    assert_eq!(v("daily_scan_hosts_up", None), 2.0);
    assert_eq!(v("daily_scan_targets_failed", None), 1.0);
    assert_eq!(v("daily_scan_targets", Some(("status", "completed"))), 1.0);
    assert_eq!(v("daily_scan_targets", Some(("status", "timeout"))), 1.0);
    assert_eq!(v("daily_scan_targets", Some(("status", "unresolved"))), 0.0);
    assert_eq!(
        v("daily_scan_open_ports", Some(("severity", "critical"))),
        1.0
    );
    assert_eq!(v("daily_scan_open_ports", Some(("severity", "high"))), 1.0);
    assert_eq!(v("daily_scan_open_ports", Some(("severity", "low"))), 2.0);
    assert_eq!(v("daily_scan_open_ports", Some(("severity", "info"))), 0.0);
    assert_eq!(v("daily_scan_changes", Some(("kind", "port_opened"))), 3.0);
    assert_eq!(v("daily_scan_changes", Some(("kind", "new_host"))), 1.0);
    assert_eq!(v("daily_scan_changes", Some(("kind", "port_closed"))), 0.0);
    assert_eq!(v("daily_scan_not_compared_targets", None), 1.0);
    assert_eq!(v("daily_scan_unconfirmed_changes", None), 0.0);
    assert_eq!(
        v("daily_scan_last_run_status", Some(("status", "partial"))),
        1.0
    );
    assert_eq!(
        v("daily_scan_last_run_status", Some(("status", "failed"))),
        0.0
    );
    let score = d.score.overall.map(f64::from);
    assert_eq!(Some(v("daily_scan_security_score", None)), score);
    assert_eq!(
        Some(v(
            "daily_scan_entry_security_score",
            Some(("entry", "192.0.2.0/29"))
        )),
        score
    );
    assert!(samples.iter().all(|(_, l, _)| l["profile"] == "quick"));
}

#[test]
fn label_values_are_escaped_and_read_back_unchanged() {
    let hostile = "we\"ird\\prof\nile";
    let s = snapshot(
        hostile,
        1_800_000_000,
        vec![target(
            "a \"b\"\\c",
            TargetStatus::Completed,
            "192.0.2.0/30",
        )],
        vec![host("192.0.2.1", &[80])],
    );
    let cfg = DeltaConfig::default();
    let text = render(&s, &delta::compare(None, &s, &cfg), &cfg);
    assert_eq!(escape_label(hostile), "we\\\"ird\\\\prof\\nile");
    let samples = parse(&text);
    assert!(samples.iter().all(|(_, l, _)| l["profile"] == hostile));
    assert!(
        samples
            .iter()
            .any(|(_, l, _)| l.get("entry").map(String::as_str) == Some("a \"b\"\\c"))
    );
}

#[test]
fn no_score_sample_when_no_target_completed() {
    let s = snapshot(
        "default",
        1_800_000_000,
        vec![target("192.0.2.1", TargetStatus::Failed, "192.0.2.1/32")],
        vec![],
    );
    let cfg = DeltaConfig::default();
    let samples = parse(&render(&s, &delta::compare(None, &s, &cfg), &cfg));
    assert!(!samples.iter().any(|(n, _, _)| n.contains("security_score")));
    assert_eq!(value(&samples, "daily_scan_targets_failed", None), 1.0);
    assert_eq!(value(&samples, "daily_scan_hosts_up", None), 0.0);
    let status = |name, s| value(&samples, name, Some(("status", s)));
    assert_eq!(status("daily_scan_last_run_status", "failed"), 1.0);
    assert_eq!(status("daily_scan_last_run_status", "complete"), 0.0);
    assert_eq!(status("daily_scan_last_run_status", "partial"), 0.0);
    assert_eq!(status("daily_scan_delta_status", "failed"), 1.0);
    assert_eq!(status("daily_scan_delta_status", "stable"), 0.0);
}

/// A run whose re-check dropped flaps exports how many: the delta's `summary.unconfirmed`.
#[test]
fn the_unconfirmed_changes_of_a_run_are_exported() {
    use crate::snapshot::Unconfirmed;
    let whole = || target("192.0.2.0/29", TargetStatus::Completed, "192.0.2.0/29");
    let before = snapshot(
        "quick",
        1_800_000_000,
        vec![whole()],
        vec![host("192.0.2.1", &[22, 80])],
    );
    let mut after = snapshot(
        "quick",
        1_800_086_400,
        vec![whole()],
        vec![host("192.0.2.1", &[22, 80])],
    );
    after.unconfirmed = [22, 80]
        .into_iter()
        .map(|port| Unconfirmed {
            kind: "port_closed".into(),
            ip: "192.0.2.1".into(),
            protocol: Some("tcp".into()),
            port: Some(port),
            checked: true,
        })
        .collect();
    let cfg = DeltaConfig::default();
    let d = delta::compare(Some(&before), &after, &cfg);
    assert_eq!(d.summary.unconfirmed, 2);
    let samples = parse(&render(&after, &d, &cfg));
    assert_eq!(value(&samples, "daily_scan_unconfirmed_changes", None), 2.0);
    assert_eq!(
        value(
            &samples,
            "daily_scan_changes",
            Some(("kind", "port_closed"))
        ),
        0.0
    );
    let status = |s| value(&samples, "daily_scan_last_run_status", Some(("status", s)));
    assert_eq!(status("complete"), 1.0);
}

#[test]
fn write_atomic_replaces_the_file_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("daily_scan.prom");
    std::fs::write(&path, "old\n").unwrap();
    write_atomic(&path, "new\n").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644, "readable by node_exporter's user");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("daily_scan.prom")]);
}

#[test]
fn write_atomic_into_a_missing_directory_fails_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("daily_scan.prom");
    assert!(write_atomic(&path, "x\n").is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Issue 14, row 6: a group member planted a symlink at the temporary name the metrics writer
/// used to predict (`.NAME.tmp.<pid>`) and had it truncate `scans.db`.
#[test]
fn the_metrics_file_never_writes_through_a_planted_symlink() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("scans.db");
    std::fs::write(&victim, "SQLite format 3\0").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let path = dir.path().join("scanner.prom");
    let planted = dir
        .path()
        .join(format!(".scanner.prom.tmp.{}", std::process::id()));
    symlink(&victim, &planted).unwrap();
    write_atomic(&path, "scanner_up 1\n").unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"SQLite format 3\0");
    let mode = victim.metadata().unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "scanner_up 1\n");
}
