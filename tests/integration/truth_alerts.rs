//! Alerts a user meets from the first run and alerts that wait: `risky_port_open` on the
//! baseline (in the webhook and on the dashboard), resolved when the port closes; `[alerts]
//! gone_after_runs = 2` raising `port_closed` only on the second confirmed run, a port that
//! comes back resetting the count; `[[expect]]` ports outside the run's selection warned
//! about; a failed run in the metrics file. Real nmap, loopback only; addresses 127.0.63.x and
//! ports 3389 and 18630-18639 are this file's alone.

use std::net::Ipv4Addr;

use crate::alerts_env::{Answer, Receiver, all_alerts, webhook};
use crate::batch_env::{Install, Service, changes, describe, stderr, stdout};
use crate::web_api::server_for;

const RISKY: Ipv4Addr = Ipv4Addr::new(127, 0, 63, 1);
const GONE: Ipv4Addr = Ipv4Addr::new(127, 0, 63, 2);

#[test]
fn a_risky_port_open_on_the_first_run_is_alerted_and_resolved_when_it_closes() {
    let hook = Receiver::start(&[Answer::Status(200)]);
    let install = Install::new(
        "3389,18630",
        "",
        &format!("profile = \"quick\"\n{}", webhook(&hook.url, "")),
    );
    install.targets(&["127.0.63.1"]);
    let rdp = Service::start(RISKY, 3389, None);
    let _web = Service::start(RISKY, 18630, None);

    // The baseline: nothing to compare with, and still the open RDP port is an alert.
    let first = install.scan(&[], &[], 0);
    assert_eq!(first.delta()["from"], serde_json::Value::Null);
    assert_eq!(
        all_alerts(&install),
        ["risky_port_open critical 127.0.63.1 3389 open 1-1"],
        "{}",
        describe(&first.out)
    );
    let sent = hook.received();
    assert_eq!(sent.len(), 1, "one webhook for the baseline's alert");
    let body = sent[0].json();
    let alert = &body["alerts"][0];
    assert_eq!(alert["kind"], "risky_port_open", "{body}");
    assert_eq!(alert["port"], 3389, "{body}");
    assert!(
        !alert["recommended_actions"].as_array().unwrap().is_empty(),
        "{body}"
    );

    // The dashboard lists it among the open alerts.
    let server = server_for(&install, &[]);
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<td class=\"kind\">risky port open</td>")
            && page.body.contains("3389/tcp (ms-wbt-server) is open"),
        "{}",
        page.body
    );
    drop(server);

    // Still open: the same alert, seen again, not raised again.
    install.scan(&[], &[], 0);
    assert_eq!(
        all_alerts(&install),
        ["risky_port_open critical 127.0.63.1 3389 open 1-2"]
    );
    assert_eq!(hook.received().len(), 1, "nothing new to send");

    // Closed: resolved (closing a risky port is good news, not also a port_closed alert).
    drop(rdp);
    let third = install.scan(&[], &[], 0);
    assert_eq!(
        changes(&third.delta()),
        ["port_closed info 127.0.63.1 3389/tcp"]
    );
    assert_eq!(
        all_alerts(&install),
        ["risky_port_open critical 127.0.63.1 3389 resolved 1-2"]
    );

    // A run that does not scan 3389 leaves a new risky alert alone: neither raised nor resolved.
    let rdp = Service::start(RISKY, 3389, None);
    install.scan(&[], &[], 0);
    drop(rdp);
    install.scan(&["--ports", "18630"], &[], 0);
    let list = all_alerts(&install);
    assert!(
        list.contains(&"risky_port_open critical 127.0.63.1 3389 open 4-4".to_string()),
        "{list:?}"
    );
}

#[test]
fn with_gone_after_runs_2_a_closure_alerts_on_its_second_confirmed_run() {
    let install = Install::new(
        "18631-18632",
        "[alerts]\ngone_after_runs = 2",
        "profile = \"quick\"",
    );
    install.targets(&["127.0.63.2"]);
    let a = Service::start(GONE, 18631, None);
    let b = Service::start(GONE, 18632, None);
    install.scan(&[], &[], 0);
    let port_closed = |install: &Install| -> Vec<String> {
        all_alerts(install)
            .into_iter()
            .filter(|a| a.starts_with("port_closed"))
            .collect()
    };

    // Run 2 confirms 18631 closed: the delta says so at once, no alert yet.
    drop(a);
    let second = install.scan(&[], &[], 0);
    assert_eq!(
        changes(&second.delta()),
        ["port_closed info 127.0.63.2 18631/tcp"]
    );
    assert_eq!(port_closed(&install), Vec::<String>::new());

    // Run 3: the second confirmed run without it raises the alert.
    let third = install.scan(&[], &[], 0);
    assert_eq!(changes(&third.delta()), Vec::<String>::new());
    assert_eq!(
        port_closed(&install),
        ["port_closed info 127.0.63.2 18631 open 3-3"]
    );

    // 18632 closes (run 4), comes back (run 5), closes again (run 6): the count starts over,
    // so only run 7 raises it.
    drop(b);
    install.scan(&[], &[], 0);
    let b = Service::start(GONE, 18632, None);
    let back = install.scan(&[], &[], 0);
    assert_eq!(
        changes(&back.delta()),
        ["port_opened low 127.0.63.2 18632/tcp"]
    );
    drop(b);
    install.scan(&[], &[], 0);
    assert_eq!(
        port_closed(&install).len(),
        1,
        "{:?}",
        port_closed(&install)
    );
    install.scan(&[], &[], 0);
    assert_eq!(
        port_closed(&install),
        [
            "port_closed info 127.0.63.2 18631 open 3-7",
            "port_closed info 127.0.63.2 18632 open 7-7",
        ]
    );
}

#[test]
fn expected_ports_outside_the_selection_are_warned_about() {
    let install = Install::new(
        "18633-18634",
        "",
        "profile = \"quick\"\n[[expect]]\ntargets = [\"127.0.63.3\"]\n\
         ports = [\"18633/tcp\", \"8080/tcp\", \"53/udp\"]",
    );
    install.targets(&["127.0.63.3"]);
    let plan = install.run(&["-f", "targets.txt", "--dry-run"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let text = stdout(&plan);
    assert!(
        text.contains("Warnings:\n  expect[0]: 8080/tcp, 53/udp not scanned by this run"),
        "{text}"
    );
    assert!(!text.contains("18633/tcp,"), "18633 is scanned: {text}");

    // The run warns the same way, and raises nothing about them.
    let run = install.scan(&[], &[], 0);
    assert!(
        stderr(&run.out).contains("expect[0]: 8080/tcp, 53/udp not scanned"),
        "{}",
        describe(&run.out)
    );
    let list = all_alerts(&install);
    assert_eq!(
        list,
        ["expected_port_missing medium 127.0.63.3 18633 open 1-1"],
        "{list:?}"
    );
}

#[test]
fn a_failed_run_and_its_unconfirmed_count_are_in_the_metrics_file() {
    let install = Install::new(
        "18635",
        "nmap_path = \"/nonexistent/nmap\"",
        "profile = \"quick\"",
    );
    install.targets(&["127.0.63.4"]);
    let out = install.run(&["-f", "targets.txt", "--metrics-file", "run.prom"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = std::fs::read_to_string(install.path("run.prom")).unwrap();
    let line = |series: &str| {
        text.lines()
            .find(|l| l.starts_with("daily_scan_") && l.contains(series))
            .unwrap_or_else(|| panic!("{series} missing:\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        line("last_run_status{profile=\"quick+ports=18635\",status=\"failed\"}"),
        "1"
    );
    assert_eq!(
        line("last_run_status{profile=\"quick+ports=18635\",status=\"complete\"}"),
        "0"
    );
    assert_eq!(
        line("delta_status{profile=\"quick+ports=18635\",status=\"failed\"}"),
        "1"
    );
    assert_eq!(line("unconfirmed_changes{"), "0");
}
