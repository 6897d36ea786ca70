//! `daily_scan` end to end with real nmap: a baseline, then exactly the changes made to the
//! listeners (critical port opened, port closed, SSH banner version), then a stable run; and
//! the read-only sub-commands over the snapshots this made. Addresses 127.0.10.x are this
//! test's alone.

use std::net::Ipv4Addr;

use serde_json::json;

use crate::batch_env::{Install, Service, changes, describe, stdout};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 10, 1);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 10, 2);
const C: Ipv4Addr = Ipv4Addr::new(127, 0, 10, 3);

#[test]
fn baseline_then_exactly_the_changes_then_stable() {
    let install = Install::new("2222,3389,5900,18080", "", "profile = \"default\"");
    install.targets(&["127.0.10.1", "127.0.10.2  # two services", "127.0.10.3"]);

    let ssh = Service::start(A, 2222, Some(b"SSH-2.0-OpenSSH_8.9\r\n"));
    let vnc = Service::start(B, 5900, None);
    let _web = Service::start(B, 18080, None);

    // Run 1: the baseline reports nothing, but is scored.
    let run1 = install.scan(&[], &[], 0);
    let d1 = run1.delta();
    assert_eq!(d1["from"], json!(null), "{d1}");
    assert_eq!(d1["to"]["snapshot"], 1);
    assert_eq!(d1["to"]["profile"], "default+ports=2222,3389,5900,18080");
    assert_eq!(
        (d1["status"].as_str(), changes(&d1).len()),
        (Some("stable"), 0)
    );
    assert_eq!(d1["score"]["overall"], 85, "5900 open is high: -15");
    assert_eq!(d1["score"]["band"], "Good");
    let scan1 = run1.json("scan.json");
    let ssh_port = &scan1["hosts"][0]["ports"][0];
    assert_eq!(
        (
            &ssh_port["portid"],
            &ssh_port["service"]["product"],
            &ssh_port["service"]["version"]
        ),
        (&json!(2222), &json!("OpenSSH"), &json!("8.9")),
        "{scan1}"
    );

    // Change the network: new SSH version, VNC gone, RDP opened.
    drop(ssh);
    let _ssh = Service::start(A, 2222, Some(b"SSH-2.0-OpenSSH_9.2\r\n"));
    drop(vnc);
    let _rdp = Service::start(C, 3389, None);

    // Run 2: exactly those three changes; a critical one trips --fail-on (exit 3).
    let run2 = install.scan(&["--fail-on", "critical"], &[], 3);
    let d2 = run2.delta();
    assert_eq!(
        changes(&d2),
        [
            "service_changed low 127.0.10.1 2222/tcp",
            "port_closed info 127.0.10.2 5900/tcp",
            "port_opened critical 127.0.10.3 3389/tcp",
        ],
        "{d2}"
    );
    let svc = &d2["changes"][0];
    assert_eq!(svc["before"]["version"], "8.9");
    assert_eq!(svc["after"]["version"], "9.2");
    assert_eq!(svc["after"]["product"], "OpenSSH");
    assert_eq!(d2["changes"][1]["after"]["state"], "closed");
    assert_eq!(d2["changes"][2]["before"]["state"], "closed");
    assert_eq!(d2["changes"][2]["after"]["state"], "open");
    assert_eq!(d2["status"], "critical");
    assert_eq!(d2["score"]["overall"], 70, "3389 open is critical: -30");
    assert_eq!(d2["score"]["band"], "Good");
    assert_eq!(
        d2["score"]["entries"],
        json!([
            {"entry": "127.0.10.1", "score": 100, "band": "Excellent"},
            {"entry": "127.0.10.2", "score": 100, "band": "Excellent"},
            {"entry": "127.0.10.3", "score": 70, "band": "Good"},
        ])
    );
    assert_eq!(
        d2["summary"],
        json!({"new_hosts": 0, "gone_hosts": 0, "ports_opened": 1, "ports_closed": 1,
               "services_changed": 1, "not_compared": 0, "unconfirmed": 0})
    );
    assert_eq!(d2["from"]["snapshot"], 1);
    assert_eq!(d2["not_compared"], json!([]));
    let summary = run2.text();
    assert!(
        summary.contains("Status: CRITICAL   Score: 70/100 (Good)"),
        "{summary}"
    );
    assert!(
        summary.contains("CRITICAL (1)\n    + 127.0.10.3  3389/tcp  opened"),
        "{summary}"
    );
    let csv = std::fs::read_to_string(run2.dir.join("delta.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(
        csv.contains("port_opened,critical,127.0.10.3,tcp,3389,false,closed,ms-wbt-server,,,open,"),
        "{csv}"
    );
    assert!(run2.dir.join("report.html").is_file());

    // Run 3: nothing changed. --fail-on does not fire on a stable delta.
    let run3 = install.scan(&["--fail-on", "info"], &[], 0);
    let d3 = run3.delta();
    assert_eq!(d3["status"], "stable", "{d3}");
    assert_eq!(changes(&d3).len(), 0);
    assert_eq!(d3["from"]["snapshot"], 2);
    assert_eq!(d3["score"]["overall"], 70);

    // The read side over these three snapshots.
    let history = install.run(&["history", "--format", "json"]);
    assert_eq!(history.status.code(), Some(0), "{}", describe(&history));
    let rows: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    let got: Vec<(i64, &str, i64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["delta_status"].as_str().unwrap(),
                r["score"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [(3, "stable", 70), (2, "critical", 70), (1, "stable", 85)]
    );
    let text = stdout(&install.run(&["history"]));
    assert!(text.contains("critical vs 1"), "{text}");

    let same = install.run(&["diff", "2", "3"]);
    assert_eq!(same.status.code(), Some(0), "{}", describe(&same));
    let different = install.run(&["diff", "1", "2"]);
    assert_eq!(different.status.code(), Some(1), "{}", describe(&different));
    let text = stdout(&different);
    assert!(
        text.contains("-2222/tcp open  ssh     OpenSSH 8.9\n+2222/tcp open  ssh     OpenSSH 9.2"),
        "{text}"
    );

    let report = install.run(&["report", "2", "--format", "json"]);
    assert_eq!(report.status.code(), Some(0), "{}", describe(&report));
    let again: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(again, d2, "re-rendering snapshot 2 gives the run's delta");
    let latest = stdout(&install.run(&["report"]));
    assert!(latest.starts_with("Snapshot 3:"), "{latest}");
}

#[test]
fn severity_table_and_expected_ports_come_from_the_config() {
    let install = Install::new(
        "18443-18445",
        "",
        "profile = \"quick\"\n\n[port_severity]\n\"18444\" = \"high\"\n\n\
         [[expect]]\ntargets = [\"127.0.10.9\"]\nports = [\"18443/tcp\"]",
    );
    install.targets(&["127.0.10.9", "127.0.10.10"]);
    let web = Ipv4Addr::new(127, 0, 10, 9);
    let _expected = Service::start(web, 18443, None);
    let run1 = install.scan(&[], &[], 0);
    assert_eq!(
        run1.delta()["score"]["overall"],
        100,
        "the expected port costs nothing"
    );

    let _extra = Service::start(web, 18444, None);
    let _other = Service::start(Ipv4Addr::new(127, 0, 10, 10), 18445, None);
    let d = install.scan(&["--fail-on", "high"], &[], 3).delta();
    assert_eq!(
        changes(&d),
        [
            "port_opened high 127.0.10.9 18444/tcp",
            "port_opened low 127.0.10.10 18445/tcp",
        ],
        "{d}"
    );
    assert_eq!(d["changes"][0]["unexpected"], true);
    assert_eq!(
        d["changes"][1].get("unexpected"),
        None,
        "no expectation applies there"
    );
    assert_eq!(d["status"], "critical");
    assert_eq!(d["score"]["overall"], 75, "high 15 + unexpected 10");
}
