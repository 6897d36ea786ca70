//! `daily_scan --metrics-file`: two real runs (nmap against loopback services on 127.0.40.x,
//! explicit ports) and the Prometheus file after each, checked against the run's own reports.

use std::net::Ipv4Addr;

use crate::batch_env::{Install, Service, describe, stderr};

/// The value of the sample whose line starts with `series` (name and labels as written).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn read(install: &Install) -> String {
    std::fs::read_to_string(install.path("textfile/daily_scan.prom")).expect("metrics file")
}

#[test]
fn each_run_replaces_the_metrics_file_with_its_figures() {
    let ip = |last| Ipv4Addr::new(127, 0, 40, last);
    let critical = Service::start(ip(1), 0, None);
    let low = Service::start(ip(2), 0, None);
    let later = Service::start(ip(3), 0, None);
    let ports = format!("{},{},{}", critical.port(), low.port(), later.port());
    // `top` goes before `[batch]`, so `[port_severity]` stays a table of its own.
    let install = Install::new(
        &ports,
        &format!("[port_severity]\n\"{}\" = \"critical\"", critical.port()),
        "profile = \"quick\"",
    );
    install.targets(&["127.0.40.1-2", "127.0.40.3"]);
    std::fs::create_dir(install.path("textfile")).unwrap();
    let metrics_arg = ["--metrics-file", "textfile/daily_scan.prom"];

    // Baseline: .3's service is not up yet.
    drop(later);
    let first = install.scan(&metrics_arg, &[], 0);
    let text = read(&install);
    // The stored profile label, with the port list as daily_scan normalised it.
    let label = first.json("scan.json")["profile"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(label.starts_with("quick+ports="), "{label}");
    let profile = format!("profile=\"{label}\"");
    let series = |name: &str, label: &str| {
        if label.is_empty() {
            format!("{name}{{{profile}}}")
        } else {
            format!("{name}{{{profile},{label}}}")
        }
    };
    let hosts_up = first.json("scan.json")["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["state"] == "up")
        .count();
    assert!(hosts_up >= 2, "{}", describe(&first.out));
    assert_eq!(
        sample(&text, &series("daily_scan_hosts_up", "")),
        Some(hosts_up as f64),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &series("daily_scan_open_ports", "severity=\"critical\"")
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &series("daily_scan_open_ports", "severity=\"low\"")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &series("daily_scan_targets", "status=\"completed\"")),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, &series("daily_scan_targets_failed", "")),
        Some(0.0)
    );
    let score = first.delta()["score"]["overall"].as_f64();
    assert!(score.is_some());
    assert_eq!(
        sample(&text, &series("daily_scan_security_score", "")),
        score
    );
    assert_eq!(
        sample(&text, &series("daily_scan_changes", "kind=\"port_opened\"")),
        Some(0.0),
        "a baseline has no changes: {text}"
    );
    assert_eq!(
        sample(&text, &series("daily_scan_last_run_snapshot_id", "")),
        Some(1.0)
    );

    // Second run: .2's service stopped, one on .3 started on a port scanned both times.
    let low_port = low.port();
    drop(low);
    let _later = Service::start(
        ip(3),
        ports.rsplit(',').next().unwrap().parse().unwrap(),
        None,
    );
    let second = install.scan(&metrics_arg, &[], 0);
    let text = read(&install);
    assert_eq!(
        sample(&text, &series("daily_scan_last_run_snapshot_id", "")),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &series("daily_scan_changes", "kind=\"port_closed\"")),
        Some(1.0),
        "port {low_port} closed: {text}\n{}",
        describe(&second.out)
    );
    assert_eq!(
        sample(&text, &series("daily_scan_changes", "kind=\"port_opened\"")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &series("daily_scan_open_ports", "severity=\"low\"")),
        Some(1.0)
    );
    let finished = sample(&text, &series("daily_scan_last_run_timestamp_seconds", "")).unwrap();
    let now = jiff::Timestamp::now().as_second() as f64;
    assert!(
        finished <= now + 1.0 && finished > now - 3600.0,
        "{finished} vs {now}"
    );
    let names: Vec<_> = std::fs::read_dir(install.path("textfile"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["daily_scan.prom"], "no temporary file left behind");
}

#[test]
fn dry_runs_write_no_metrics_and_an_unwritable_path_fails_the_run() {
    let svc = Service::start(Ipv4Addr::new(127, 0, 41, 1), 0, None);
    let install = Install::new(&svc.port().to_string(), "", "profile = \"quick\"");
    install.targets(&["127.0.41.1"]);
    let out = install.run(&[
        "-f",
        "targets.txt",
        "--dry-run",
        "--metrics-file",
        "daily_scan.prom",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(!install.path("daily_scan.prom").exists());

    let out = install.run(&[
        "-f",
        "targets.txt",
        "--metrics-file",
        "missing-dir/daily_scan.prom",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("writing metrics to missing-dir/daily_scan.prom"),
        "{}",
        describe(&out)
    );
}
