//! Alert conditions over small hand-built snapshots (documentation address ranges only).

use super::*;
use crate::config::ExpectedPorts;
use crate::delta;
use crate::model::{Host, Script};
use crate::snapshot::{SnapshotStatus, TargetRecord, TargetStatus};
use crate::testdata::{host, own_target, service_port};

fn target(cidr: &str, status: TargetStatus) -> TargetRecord {
    own_target(cidr, status)
}

fn port(portid: u16, state: &str, service: &str) -> Port {
    service_port("tcp", portid, state, service, "")
}

fn snap(targets: Vec<TargetRecord>, hosts: Vec<Host>) -> Snapshot {
    Snapshot {
        scanned: None,
        unconfirmed: Vec::new(),
        id: Some(2),
        started_at: "2026-11-20T02:00:00Z".parse().unwrap(),
        finished_at: "2026-11-20T02:05:00Z".parse().unwrap(),
        profile: "default".into(),
        nmap_args: String::new(),
        nmap_version: "7.93".into(),
        status: SnapshotStatus::from_targets(&targets),
        targets,
        hosts,
    }
}

fn rules() -> AlertRules {
    AlertRules::at("2026-11-20T02:00:00Z".parse().unwrap())
}

/// 192.0.2.0/29 expects 22/tcp and 443/tcp.
fn expecting() -> DeltaConfig {
    DeltaConfig {
        expected: vec![ExpectedPorts {
            networks: vec!["192.0.2.0/29".parse().unwrap()],
            entries: vec![],
            ports: vec![("tcp".into(), 22), ("tcp".into(), 443)],
        }],
        ..DeltaConfig::default()
    }
}

fn key(kind: AlertKind, ip: &str, port: Option<u16>) -> AlertKey {
    AlertKey {
        kind,
        ip: ip.into(),
        protocol: port.map(|_| "tcp".to_string()),
        port,
    }
}

fn brief(e: &Evaluation) -> Vec<(AlertKind, String, Option<u16>, Severity)> {
    e.raise
        .iter()
        .map(|c| (c.key.kind, c.key.ip.clone(), c.key.port, c.severity))
        .collect()
}

fn eval_pair(
    before: Option<&Snapshot>,
    after: &Snapshot,
    delta_config: &DeltaConfig,
) -> Evaluation {
    let d = delta::compare(before, after, delta_config);
    evaluate(after, &d, delta_config, &rules())
}

#[test]
fn state_kinds_hold_on_a_baseline() {
    let delta_config = expecting();
    let s = snap(
        vec![target("192.0.2.0/28", TargetStatus::Completed)],
        vec![
            host(
                "192.0.2.1",
                "up",
                vec![
                    port(22, "open", "ssh"),
                    port(3389, "open", "ms-wbt-server"),
                    port(8080, "open", "http"),
                    port(443, "closed", "https"),
                ],
            ),
            // Outside the expectation: nothing is unexpected or missing there.
            host("192.0.2.9", "up", vec![port(3389, "open", "")]),
            // Down: its expected ports are not judged.
            host("192.0.2.2", "down", vec![]),
        ],
    );
    let e = eval_pair(None, &s, &delta_config);
    use AlertKind::*;
    let ip = "192.0.2.1".to_string();
    // Expected 22 (high) and 3389 where nothing is expected (critical) are risky from the
    // first run; unexpected 3389 is unexpected_port only.
    assert_eq!(
        brief(&e),
        [
            (RiskyPortOpen, ip.clone(), Some(22), Severity::High),
            (ExpectedPortMissing, ip.clone(), Some(443), Severity::Medium),
            (UnexpectedPort, ip.clone(), Some(3389), Severity::Critical),
            (UnexpectedPort, ip.clone(), Some(8080), Severity::High),
            (
                RiskyPortOpen,
                "192.0.2.9".into(),
                Some(3389),
                Severity::Critical
            ),
        ]
    );
    let msg = &e.raise[2].message;
    assert!(msg.contains("3389/tcp (ms-wbt-server)"), "{msg}");
    assert!(e.raise[1].message.ends_with("expected 443/tcp is closed"));
    assert_eq!(
        e.raise[0].message,
        "192.0.2.1: 22/tcp (ssh) is open (high severity port)"
    );
    assert_eq!(
        e.judge(&key(RiskyPortOpen, "192.0.2.9", Some(3389))),
        Judgement::Holds
    );
    assert_eq!(
        e.judge(&key(RiskyPortOpen, "192.0.2.9", Some(22))),
        Judgement::Gone
    );
    let strict = AlertRules {
        open_port_min_severity: Severity::Critical,
        ..rules()
    };
    let d = delta::compare(None, &s, &delta_config);
    let kinds: Vec<_> = brief(&evaluate(&s, &d, &delta_config, &strict));
    assert!(
        !kinds
            .iter()
            .any(|k| k.0 == RiskyPortOpen && k.2 == Some(22)),
        "22 is high, below critical: {kinds:?}"
    );
    assert_eq!(
        e.judge(&key(UnexpectedPort, "192.0.2.1", Some(8080))),
        Judgement::Holds
    );
    assert_eq!(
        e.judge(&key(UnexpectedPort, "192.0.2.1", Some(22))),
        Judgement::Gone
    );
    assert_eq!(
        e.judge(&key(ExpectedPortMissing, "192.0.2.2", Some(22))),
        Judgement::Unknown,
        "a down host's ports are not judged"
    );
    assert_eq!(
        e.judge(&key(ExpectedPortMissing, "192.0.2.1", Some(22))),
        Judgement::Gone
    );
}

#[test]
fn change_kinds_come_from_the_delta_and_unexpected_ports_only_once() {
    let delta_config = expecting();
    let t = || vec![target("192.0.2.0/28", TargetStatus::Completed)];
    let before = snap(
        t(),
        vec![
            host("192.0.2.1", "up", vec![port(22, "open", "ssh")]),
            host("192.0.2.3", "up", vec![]),
            host("192.0.2.10", "up", vec![port(80, "open", "http")]),
        ],
    );
    let mut ssh = port(22, "open", "ssh");
    ssh.service.product = "OpenSSH".into();
    let after = snap(
        t(),
        vec![
            host(
                "192.0.2.1",
                "up",
                vec![ssh, port(443, "open", "https"), port(3389, "open", "rdp")],
            ),
            host(
                "192.0.2.4",
                "up",
                vec![port(22, "open", "ssh"), port(443, "open", "")],
            ),
            host(
                "192.0.2.10",
                "up",
                vec![port(80, "open", "http"), port(8080, "open", "")],
            ),
        ],
    );
    let e = eval_pair(Some(&before), &after, &delta_config);
    use AlertKind::*;
    let got = brief(&e);
    let s = |x: &str| x.to_string();
    assert_eq!(
        got,
        [
            // 22 is high: risky_port_open while open, whatever the delta says.
            (RiskyPortOpen, s("192.0.2.1"), Some(22), Severity::High),
            (ServiceChanged, s("192.0.2.1"), Some(22), Severity::Low),
            (PortOpened, s("192.0.2.1"), Some(443), Severity::Low),
            // 3389 is unexpected: one alert, not also port_opened.
            (
                UnexpectedPort,
                s("192.0.2.1"),
                Some(3389),
                Severity::Critical
            ),
            (HostGone, s("192.0.2.3"), None, Severity::Info),
            (NewHost, s("192.0.2.4"), None, Severity::Medium),
            // A risky port that opens is risky_port_open, not also port_opened.
            (RiskyPortOpen, s("192.0.2.4"), Some(22), Severity::High),
            (PortOpened, s("192.0.2.4"), Some(443), Severity::Low),
            (PortOpened, s("192.0.2.10"), Some(8080), Severity::Low),
        ]
    );
    let changed = e
        .raise
        .iter()
        .find(|c| c.key.kind == ServiceChanged)
        .unwrap();
    assert_eq!(
        changed.message,
        "192.0.2.1: 22/tcp now runs ssh OpenSSH (was ssh)"
    );
    assert_eq!(e.judge(&key(HostGone, "192.0.2.3", None)), Judgement::Holds);
    assert_eq!(e.judge(&key(HostGone, "192.0.2.4", None)), Judgement::Gone);
    assert_eq!(e.judge(&key(NewHost, "192.0.2.3", None)), Judgement::Gone);
    assert_eq!(
        e.judge(&key(PortOpened, "192.0.2.10", Some(80))),
        Judgement::Holds
    );
    assert_eq!(
        e.judge(&key(PortOpened, "192.0.2.10", Some(81))),
        Judgement::Gone
    );
    assert_eq!(
        e.judge(&key(ServiceChanged, "192.0.2.1", Some(22))),
        Judgement::Holds
    );
    assert_eq!(
        e.judge(&key(NewHost, "192.0.2.5", None)),
        Judgement::Gone,
        "absent from a completed range counts as down"
    );
}

#[test]
fn uncovered_and_failed_addresses_are_never_judged_or_raised() {
    let delta_config = expecting();
    let s = snap(
        vec![
            target("192.0.2.0/30", TargetStatus::Completed),
            target("192.0.2.4/30", TargetStatus::Timeout),
        ],
        // nmap may still list hosts of a failed chunk; they prove nothing.
        vec![host("192.0.2.5", "up", vec![port(3389, "open", "")])],
    );
    let e = eval_pair(None, &s, &delta_config);
    assert!(e.raise.is_empty(), "{:?}", e.raise);
    for (ip, want) in [
        ("192.0.2.5", Judgement::Unknown),
        ("198.51.100.1", Judgement::Unknown),
        ("not an address", Judgement::Unknown),
        ("192.0.2.1", Judgement::Gone),
    ] {
        assert_eq!(
            e.judge(&key(AlertKind::UnexpectedPort, ip, Some(3389))),
            want,
            "{ip}"
        );
    }
    assert!(e.covers("192.0.2.3") && !e.covers("192.0.2.4"));
}

fn with_cert(mut p: Port, not_after: &str) -> Port {
    p.scripts.push(Script {
        id: "ssl-cert".into(),
        output: format!(
            "Subject: commonName=localhost\nNot valid before: 2020-01-01T00:00:00\n\
             Not valid after:  {not_after}\nMD5:   0000"
        ),
    });
    p
}

#[test]
fn certificates_expiring_or_expired() {
    assert_eq!(
        not_valid_after("Not valid after:  2026-12-01T10:00:00"),
        Some("2026-12-01T10:00:00Z".parse().unwrap())
    );
    assert_eq!(
        not_valid_after("x\n  Not valid after: 2026-12-01T10:00:00+00:00\n"),
        Some("2026-12-01T10:00:00Z".parse().unwrap())
    );
    assert_eq!(not_valid_after("Not valid after: soon"), None);
    assert_eq!(not_valid_after("Subject: x"), None);

    let s = snap(
        vec![target("192.0.2.0/28", TargetStatus::Completed)],
        vec![host(
            "192.0.2.1",
            "up",
            vec![
                with_cert(port(443, "open", "https"), "2026-12-10T00:00:00"),
                with_cert(port(8443, "open", "https"), "2026-11-01T00:00:00"),
                with_cert(port(9443, "open", "https"), "2027-06-01T00:00:00"),
                with_cert(port(10443, "open", "https"), "garbage"),
                port(11443, "open", "https"),
            ],
        )],
    );
    let e = eval_pair(None, &s, &DeltaConfig::default());
    use AlertKind::{CertExpired, CertExpiring};
    let ip = "192.0.2.1".to_string();
    assert_eq!(
        brief(&e),
        [
            (CertExpiring, ip.clone(), Some(443), Severity::Medium),
            (CertExpired, ip.clone(), Some(8443), Severity::High),
        ]
    );
    assert!(
        e.raise[0].message.contains("in 19 days"),
        "{}",
        e.raise[0].message
    );
    assert!(
        e.raise[1].message.contains("expired on 2026-11-01"),
        "{}",
        e.raise[1].message
    );
    let judge = |port| e.judge(&key(CertExpiring, "192.0.2.1", Some(port)));
    assert_eq!(judge(443), Judgement::Holds);
    assert_eq!(judge(9443), Judgement::Gone, "renewed");
    assert_eq!(judge(11443), Judgement::Unknown, "not examined this run");
    assert_eq!(judge(12443), Judgement::Gone, "port no longer open");
    let expired = e.judge(&key(CertExpired, "192.0.2.1", Some(8443)));
    assert_eq!(expired, Judgement::Holds);
}

mod tls;

#[test]
fn a_closed_port_is_an_alert_but_a_gone_host_is_one_alert_not_one_per_port() {
    let delta_config = DeltaConfig::default();
    let t = || vec![target("192.0.2.0/28", TargetStatus::Completed)];
    let before = snap(
        t(),
        vec![
            host(
                "192.0.2.1",
                "up",
                vec![port(80, "open", "http"), port(81, "open", "")],
            ),
            host(
                "192.0.2.2",
                "up",
                vec![port(80, "open", "http"), port(81, "open", "")],
            ),
        ],
    );
    let after = snap(
        t(),
        vec![
            host("192.0.2.1", "up", vec![port(80, "open", "http")]),
            host("192.0.2.2", "down", vec![]),
        ],
    );
    let e = eval_pair(Some(&before), &after, &delta_config);
    use AlertKind::*;
    assert_eq!(
        brief(&e),
        [
            (PortClosed, "192.0.2.1".into(), Some(81), Severity::Info),
            (HostGone, "192.0.2.2".into(), None, Severity::Info),
        ]
    );
    assert_eq!(
        e.raise[0].message,
        "192.0.2.1: 81/tcp closed (was unknown service)"
    );
    assert_eq!(
        e.judge(&key(PortClosed, "192.0.2.1", Some(81))),
        Judgement::Holds
    );
    assert_eq!(
        e.judge(&key(PortClosed, "192.0.2.1", Some(80))),
        Judgement::Gone
    );
}
