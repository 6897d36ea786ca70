//! What a user meets when the delta must not lie: another `--ports` compares the overlap (no new
//! baseline), a run in which every target failed is `failed`, `--fail-on incomplete`, and an
//! IPv4-mapped IPv6 target scanned as the IPv4 address it maps. Real nmap, loopback only;
//! addresses 127.0.61.x and ports 18610-18629 are this file's alone.

use std::net::Ipv4Addr;

use serde_json::json;

use crate::batch_env::{Install, Service, changes, describe, not_compared};
use crate::support::server::Server;

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 61, 1);

#[test]
fn another_port_selection_compares_the_overlap() {
    let install = Install::new("18610-18614", "", "profile = \"quick\"");
    install.targets(&["127.0.61.1"]);
    let _a = Service::start(A, 18610, None);
    let b = Service::start(A, 18612, None);
    let base = install.scan(&[], &[], 0).delta();
    assert_eq!(base["from"], json!(null), "{base}");

    // Another selection: 18612-18619. 18612 closed meanwhile; 18610 was not scanned now.
    drop(b);
    let _c = Service::start(A, 18616, None);
    let run = install.scan(&["--ports", "18612-18619"], &[], 0);
    let d = run.delta();
    assert_eq!(
        d["from"]["snapshot"], 1,
        "compared, not a new baseline: {d}"
    );
    assert_eq!(
        changes(&d),
        ["port_closed info 127.0.61.1 18612/tcp"],
        "18616 was not scanned before, 18610 not now: neither opened nor closed: {d}"
    );
    assert_eq!(
        not_compared(&d),
        [
            "ports tcp:18610-18611 (scanned only in the earlier run) port_not_scanned_in_both",
            "ports tcp:18615-18619 (scanned only in the later run) port_not_scanned_in_both",
        ],
        "{d}"
    );
    // The history keeps one line for the technique.
    let history = install.run(&["history", "--format", "json", "--profile", "quick"]);
    assert_eq!(history.status.code(), Some(0), "{}", describe(&history));
    let rows: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    assert_eq!(rows[0]["compared_with"], 1, "{rows}");
}

#[test]
fn a_run_in_which_every_target_failed_is_failed_and_partial_is_incomplete() {
    // nmap that cannot run: every target fails.
    let install = Install::new(
        "18620",
        "nmap_path = \"/nonexistent/nmap\"",
        "profile = \"quick\"",
    );
    install.targets(&["127.0.61.2"]);
    let out = install.run(&["-f", "targets.txt"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Status: FAILED"), "{}", describe(&out));
    assert!(!text.contains("STABLE"), "{text}");

    // One target that cannot resolve beside one that completes: incomplete, and
    // --fail-on incomplete exits 3.
    let install = Install::new("18620", "", "profile = \"quick\"");
    install.targets(&["127.0.61.2", "no-such-host.invalid"]);
    let run = install.scan(&["--fail-on", "incomplete"], &[], 3);
    let d = run.delta();
    assert_eq!(
        d["incomplete"],
        json!({"not_compared": 1, "targets": 2}),
        "{d}"
    );
    assert!(
        run.text()
            .contains("(incomplete: 1 of 2 targets not compared)"),
        "{}",
        run.text()
    );
    let out = install.run(&["-f", "targets.txt", "--fail-on", "bogus"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}

#[test]
fn ipv4_mapped_ipv6_target_is_scanned_as_ipv4() {
    let ip = Ipv4Addr::new(127, 0, 61, 3);
    let _open = Service::start(ip, 18622, None);
    let server = Server::start(&[]);
    let reply = server.scan(&json!({
        "target": "::ffff:127.0.61.3",
        "scan_type": "quick",
        "ports": "18622"
    }));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    let r = &body["results"][0];
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["ip"], "127.0.61.3", "{r}");
    assert_eq!(r["host_state"], "up", "{r}");
    assert_eq!(r["open_ports"][0]["port"], 18622, "{r}");

    // A mapped block is refused with a clear 400.
    let reply = server.scan(&json!({"target": "::ffff:127.0.61.0/120", "ports": "18622"}));
    assert_eq!(reply.status, 400, "{}", reply.body);
}

#[test]
fn an_expected_port_outside_the_selection_raises_nothing() {
    let ip = Ipv4Addr::new(127, 0, 61, 4);
    let install = Install::new(
        "18626",
        "",
        "profile = \"quick\"\n\n[[expect]]\ntargets = [\"127.0.61.4\"]\nports = [\"18626/tcp\", \"8080/tcp\"]\n",
    );
    install.targets(&["127.0.61.4"]);
    let _open = Service::start(ip, 18626, None);
    install.scan(&["--fail-on", "info"], &[], 0);
    install.scan(&["--fail-on", "info"], &[], 0);
    assert_eq!(
        crate::alerts_env::all_alerts(&install),
        Vec::<String>::new(),
        "8080/tcp was not scanned: neither missing nor present"
    );
    // Inside the selection, a missing expected port still alerts.
    let install = Install::new(
        "18627",
        "",
        "profile = \"quick\"\n\n[[expect]]\ntargets = [\"127.0.61.4\"]\nports = [\"18627/tcp\"]\n",
    );
    install.targets(&["127.0.61.4"]);
    let _up = Service::start(ip, 18628, None);
    let out = install.run(&["-f", "targets.txt", "--ports", "18627-18628"]);
    assert!(
        crate::alerts_env::all_alerts(&install)
            .iter()
            .any(|a| a.starts_with("expected_port_missing medium 127.0.61.4 18627")),
        "{}",
        describe(&out)
    );
}
