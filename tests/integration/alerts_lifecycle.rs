//! The alert lifecycle through the real binary and nmap: raised once, seen again, resolved,
//! raised anew, acknowledged, ignored; expected ports; failed targets; --fail-on; --quiet.

use std::net::Ipv4Addr;

use crate::alerts_env::{Answer, Receiver, alerts, all_alerts, webhook};
use crate::batch_env::{Install, Service, describe, stdout};

const EXPECTED: u16 = 18021;
const EXTRA: u16 = 18022;

/// Quick profile on ports 18021-18023; `tables` are the `[[expect]]`/`[[webhook]]` tables.
fn install(tables: &str) -> Install {
    Install::new(
        "18021-18023",
        "",
        &format!("profile = \"quick\"\nchunk_size = 1\n{tables}"),
    )
}

fn expect(ip: &str, ports: &str) -> String {
    format!("\n[[expect]]\ntargets = [\"{ip}\"]\nports = [{ports}]\n")
}

#[test]
fn an_unexpected_port_alerts_once_resolves_and_realerts_and_ignore_silences_it() {
    let ip = Ipv4Addr::new(127, 0, 20, 1);
    let hook = Receiver::start(&[Answer::Status(200)]);
    let install = install(&format!(
        "{}{}",
        expect("127.0.20.1", "\"18021/tcp\""),
        webhook(&hook.url, "")
    ));
    install.targets(&["127.0.20.1"]);
    let _ok = Service::start(ip, EXPECTED, None);
    let extra = Service::start(ip, EXTRA, None);

    // Three runs with the port open: one alert, one webhook request, exit 3 only once.
    install.scan(&["--fail-on", "high"], &[], 3);
    install.scan(&["--fail-on", "high"], &[], 0);
    let third = install.scan(&["--fail-on", "high"], &[], 0);
    assert!(!third.text().contains("NEW #"), "{}", third.text());
    assert_eq!(
        all_alerts(&install),
        ["unexpected_port high 127.0.20.1 18022 open 1-3"]
    );
    let got = hook.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let doc = got[0].json();
    assert_eq!(doc["run"]["snapshot"], 1);
    assert_eq!(doc["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(doc["alerts"][0]["kind"], "unexpected_port");
    assert_eq!(doc["alerts"][0]["port"], EXTRA);

    // Closed: resolved. Reopened: a new alert, sent again.
    drop(extra);
    let closed = install.scan(&[], &[], 0);
    assert!(closed.text().contains("resolved #1"), "{}", closed.text());
    let extra = Service::start(ip, EXTRA, None);
    let reopened = install.scan(&[], &[], 0);
    assert!(reopened.text().contains("NEW #2"), "{}", reopened.text());
    assert_eq!(
        all_alerts(&install),
        [
            "unexpected_port high 127.0.20.1 18022 resolved 1-3",
            "unexpected_port high 127.0.20.1 18022 open 5-5"
        ]
    );
    assert_eq!(hook.received().len(), 2);

    // Operator actions: a resolved alert cannot be acknowledged; the open one can.
    let refused = install.run(&["alerts", "ack", "1"]);
    assert_eq!(refused.status.code(), Some(2), "{}", describe(&refused));
    let acked = install.run(&["alerts", "ack", "2", "--note", "ticket SEC-12"]);
    assert_eq!(acked.status.code(), Some(0), "{}", describe(&acked));
    assert!(stdout(&acked).contains("actioned"), "{}", stdout(&acked));
    let ignored = install.run(&["alerts", "ignore", "2"]);
    assert_eq!(ignored.status.code(), Some(0), "{}", describe(&ignored));
    let listed = alerts(&install, &["--status", "ignored"]);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["note"], "ticket SEC-12");

    // Ignored: silent while open, not resolved when closed, silent when reopened.
    install.scan(&["--fail-on", "high"], &[], 0);
    drop(extra);
    install.scan(&["--fail-on", "high"], &[], 0);
    let _extra = Service::start(ip, EXTRA, None);
    install.scan(&["--fail-on", "high"], &[], 0);
    assert_eq!(
        all_alerts(&install),
        [
            "unexpected_port high 127.0.20.1 18022 resolved 1-3",
            "unexpected_port high 127.0.20.1 18022 ignored 5-8"
        ]
    );
    assert_eq!(hook.received().len(), 2, "an ignored alert stays silent");
    assert!(alerts(&install, &["--status", "open"]).is_empty());
}

#[test]
fn a_missing_expected_port_is_medium_and_fail_on_counts_only_new_alerts() {
    let ip = Ipv4Addr::new(127, 0, 21, 1);
    let install = install(&expect("127.0.21.1", "\"18021/tcp\", \"18023/tcp\""));
    install.targets(&["127.0.21.1"]);
    let _ok = Service::start(ip, EXPECTED, None);

    // A new medium alert: --fail-on high stays 0, --fail-on medium would have been 3.
    install.scan(&["--fail-on", "high"], &[], 0);
    assert_eq!(
        all_alerts(&install),
        ["expected_port_missing medium 127.0.21.1 18023 open 1-1"]
    );
    install.scan(&["--fail-on", "medium"], &[], 0);
    let _late = Service::start(ip, 18023, None);
    // Now open: the missing alert resolves; the opening itself is a (low) port_opened.
    let fixed = install.scan(&["--fail-on", "medium"], &[], 0);
    assert!(fixed.text().contains("resolved #1"), "{}", fixed.text());
    assert_eq!(
        all_alerts(&install),
        [
            "expected_port_missing medium 127.0.21.1 18023 resolved 1-2",
            "port_opened low 127.0.21.1 18023 open 3-3"
        ]
    );
    let _extra = Service::start(ip, EXTRA, None);
    install.scan(&["--fail-on", "medium"], &[], 3);
}

#[test]
fn failed_targets_neither_raise_nor_resolve_alerts() {
    let (a, b) = (Ipv4Addr::new(127, 0, 22, 1), Ipv4Addr::new(127, 0, 22, 2));
    let nmap = crate::batch_env::faulty_nmap();
    let install = Install::new(
        "18021-18023",
        &format!("nmap_path = \"{}\"", nmap.display()),
        &format!(
            "profile = \"quick\"\nchunk_size = 1\n{}",
            expect("127.0.22.0/30", "\"18021/tcp\"")
        ),
    );
    install.targets(&["127.0.22.1", "127.0.22.2"]);
    let a_extra = Service::start(a, EXTRA, None);
    let b_extra = Service::start(b, EXTRA, None);
    // The expected port is open on both, so only 18022 is an alert.
    let _a_ok = Service::start(a, EXPECTED, None);
    let _b_ok = Service::start(b, EXPECTED, None);
    install.scan(&[], &[], 0);
    assert_eq!(
        all_alerts(&install),
        [
            "unexpected_port high 127.0.22.1 18022 open 1-1",
            "unexpected_port high 127.0.22.2 18022 open 1-1"
        ]
    );

    // Both close 18022 and 127.0.22.2 opens 18023, but its scan fails: only .1 resolves.
    drop((a_extra, b_extra));
    let b_new = Service::start(b, 18023, None);
    install.scan(&[], &[("FAKE_NMAP_FAIL", "127.0.22.2")], 0);
    assert_eq!(
        all_alerts(&install),
        [
            "unexpected_port high 127.0.22.1 18022 resolved 1-1",
            "unexpected_port high 127.0.22.2 18022 open 1-1"
        ]
    );

    // Every target fails: nothing changes, exit 1.
    install.scan(&[], &[("FAKE_NMAP_FAIL", "all")], 1);
    assert_eq!(alerts(&install, &["--status", "resolved"]).len(), 1);

    // Scanned again: .2's old alert resolves and its new port alerts.
    install.scan(&[], &[], 0);
    assert_eq!(
        all_alerts(&install),
        [
            "unexpected_port high 127.0.22.1 18022 resolved 1-1",
            "unexpected_port high 127.0.22.2 18022 resolved 1-1",
            "unexpected_port high 127.0.22.2 18023 open 4-4"
        ]
    );
    drop(b_new);
}

#[test]
fn quiet_prints_only_when_something_changed() {
    let ip = Ipv4Addr::new(127, 0, 23, 1);
    let install = install("");
    install.targets(&["127.0.23.1"]);
    let _ok = Service::start(ip, EXPECTED, None);
    let first = install.run(&["-f", "targets.txt", "--quiet"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    assert!(
        first.stdout.is_empty() && first.stderr.is_empty(),
        "{}",
        describe(&first)
    );

    let _new = Service::start(ip, EXTRA, None);
    let changed = install.run(&["-f", "targets.txt", "--quiet"]);
    assert_eq!(changed.status.code(), Some(0), "{}", describe(&changed));
    let text = stdout(&changed);
    assert!(text.contains("NEW #1 [low] port_opened"), "{text}");
    assert!(changed.stderr.is_empty(), "{}", describe(&changed));

    let same = install.run(&["-f", "targets.txt", "--quiet"]);
    assert!(
        same.stdout.is_empty() && same.stderr.is_empty(),
        "{}",
        describe(&same)
    );
}
