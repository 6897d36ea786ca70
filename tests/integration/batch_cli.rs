//! daily_scan's command line without scanning: targets-file errors (`file:line`, exit 2),
//! `--dry-run` plans, usage errors, and import / history / report / prune on imported files.

use serde_json::Value;

use crate::batch_env::{Install, describe, snapshot_count, stderr, stdout};
use crate::support::fixture;

#[test]
fn bad_targets_lines_are_reported_as_file_line_and_exit_2() {
    let install = Install::new("22", "", "");
    let cases = [
        ("127.0.0.1\n127.0.0.2 -oX /tmp/x\n", 2, "whitespace"),
        (
            "# header\n\n127.0.0.1,-iL/etc/passwd\n",
            3,
            "nmap would read as an option",
        ),
        ("127.0.0.1\n127.0.0.1;reboot\n", 2, "';'"),
        ("300.1.1.1\n", 1, "invalid"),
        ("127.0.0.1/24\n", 1, "CIDR"),
    ];
    for (text, line, reason) in cases {
        std::fs::write(install.path("targets.txt"), text).unwrap();
        let out = install.run(&["-f", "targets.txt"]);
        assert_eq!(out.status.code(), Some(2), "{text:?}\n{}", describe(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("daily_scan: targets.txt:{line}: ")),
            "{text:?}: {err}"
        );
        assert!(err.contains(reason), "{text:?}: {err}");
        assert!(stdout(&out).is_empty());
    }
    assert!(!install.path("out").exists(), "nothing was started");

    let missing = install.run(&["-f", "nope.txt"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("nope.txt: cannot read"),
        "{}",
        describe(&missing)
    );
}

#[test]
fn usage_and_configuration_errors_exit_2_with_the_reason() {
    let install = Install::new("22", "", "");
    install.targets(&["127.0.0.1"]);
    let cases: [(&[&str], &str); 5] = [
        (
            &["-f", "targets.txt", "--profile", "turbo"],
            "unknown profile `turbo`",
        ),
        (&["-f", "targets.txt", "--ports", "22,0-5"], "--ports"),
        (&["-f", "targets.txt", "--fail-on", "urgent"], "urgent"),
        (&["-f", "targets.txt", "history"], "without a sub-command"),
        (&["-f", "targets.txt", "--parallel", "0"], "batch.parallel"),
    ];
    for (args, reason) in cases {
        let out = install.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{}", describe(&out));
        assert!(
            stderr(&out).contains(reason),
            "{args:?}\n{}",
            describe(&out)
        );
    }
    let help = install.run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("Exit codes: 0 done"));
}

#[test]
fn dry_run_prints_the_plan_and_scans_nothing() {
    let install = Install::new("22,80", "", "chunk_size = 4\nparallel = 2");
    install.targets(&["127.0.0.0/29  # lab", "127.0.0.20-21, ::1", "192.0.2.1"]);
    let out = install.run(&["-f", "targets.txt", "--dry-run", "--profile", "quick"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = stdout(&out);
    assert!(
        text.contains("profile quick+ports=22,80): 4 targets, 11 addresses, 4 nmap runs of at most 4 addresses, 2 at a time"),
        "{text}"
    );
    assert!(text.contains("targets.txt:1     127.0.0.0/29"), "{text}");
    assert!(
        text.contains("192.0.2.1") && text.contains("is not allowed"),
        "{text}"
    );
    let runs: Vec<&str> = text.lines().filter(|l| l.contains("nmap -sT")).collect();
    assert_eq!(runs.len(), 4, "{text}");
    assert!(runs[0].ends_with(
        "nmap -sT -p 22,80 -T4 --max-retries 2 --host-timeout 10m --min-rate 800 --max-rate 2000 -n --noninteractive -oX - 127.0.0.0/30"
    ), "{}", runs[0]);
    assert!(runs[2].ends_with("-oX - 127.0.0.20/31"), "{}", runs[2]);
    assert!(
        runs[3].ends_with("--noninteractive -6 -oX - ::1"),
        "{}",
        runs[3]
    );
    assert!(text.contains("Then the TLS pass"), "{text}");
    let no_tls = install.run(&["-f", "targets.txt", "--dry-run", "--no-tls"]);
    assert!(
        !stdout(&no_tls).contains("TLS pass"),
        "{}",
        describe(&no_tls)
    );
    assert!(!install.path("out").exists(), "a dry run writes nothing");
}

#[test]
fn import_history_report_and_prune() {
    let install = Install::new("22", "", "");
    let a = fixture("peer/ndiff/simple.xml");
    let b = fixture("peer/ndiff/complex.xml");
    let out = install.run(&["import", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = stdout(&out);
    assert!(
        text.contains("simple.xml: snapshot 1 (profile imported, complete)"),
        "{text}"
    );
    assert!(text.contains("complex.xml: snapshot 2"), "{text}");

    // An nmap run that ended in error is stored, never as complete.
    let err = fixture("loopback/error_exit.xml");
    let out = install.run(&["import", "--profile", "broken", err.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("snapshot 3 (profile broken, failed)"),
        "{}",
        describe(&out)
    );
    // An incomplete file is refused.
    let cut = fixture("peer/libnmap/libnmap__test__files__1_hosts_incomplete.xml");
    let out = install.run(&["import", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("incomplete"), "{}", describe(&out));
    assert_eq!(snapshot_count(&install.db()), 3);

    // Imported snapshots compare like any others (imports cover the hosts they list and the
    // ports of their scaninfo): simple.xml scanned 22 and 113 without -sV, complex.xml 1-100
    // with it, so only 22/tcp is compared and its service is not.
    let diff = install.run(&["diff", "1", "2", "--format", "json"]);
    assert_eq!(diff.status.code(), Some(0), "{}", describe(&diff));
    let delta: Value = serde_json::from_slice(&diff.stdout).unwrap();
    assert_eq!(delta["summary"]["ports_opened"], 0, "{delta}");
    assert_eq!(delta["summary"]["services_changed"], 0);
    assert!(
        delta["not_compared"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["reason"] == "port_not_scanned_in_both"),
        "{delta}"
    );
    let mismatch = install.run(&["diff", "1", "3"]);
    assert_eq!(mismatch.status.code(), Some(2));
    assert!(stderr(&mismatch).contains("different profiles"));

    let history = install.run(&["history", "--format", "csv"]);
    assert_eq!(history.status.code(), Some(0), "{}", describe(&history));
    let csv = stdout(&history);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.starts_with("id,started_at,"), "{csv}");

    let dir = install.path("rerendered");
    let report = install.run(&["report", "2", "--out", dir.to_str().unwrap()]);
    assert_eq!(report.status.code(), Some(0), "{}", describe(&report));
    assert!(stdout(&report).starts_with("Snapshot 2: profile imported"));
    for file in ["scan.json", "delta.json", "delta.csv", "report.html"] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("port not scanned in both"), "{html}");

    let prune = install.run(&["prune", "--keep", "1"]);
    assert_eq!(prune.status.code(), Some(0), "{}", describe(&prune));
    assert_eq!(
        stdout(&prune),
        "deleted 1 snapshot\n",
        "imports have no report folder"
    );
    assert_eq!(
        snapshot_count(&install.db()),
        2,
        "the latest of each profile stays"
    );
    let none = install.run(&["prune"]);
    assert_eq!(
        none.status.code(),
        Some(2),
        "nothing to prune without --keep or retention_days"
    );
    let gone = install.run(&["report", "1"]);
    assert_eq!(gone.status.code(), Some(2));
    assert!(stderr(&gone).contains("snapshot 1 not found"));
}
