use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::model::{CertInfo, Grade, Script, TlsInfo};
use crate::testdata::{self, host};

fn spec() -> TlsPassSpec {
    TlsPassSpec {
        program: PathBuf::from("/usr/bin/nmap"),
        tuning: NmapTuning::default(),
        extra_ports: vec![],
        timeout: Duration::from_secs(7),
    }
}

/// A TCP port in `state` whose service nmap named `name`, over a `tunnel` (`ssl` or none).
fn port(portid: u16, state: &str, name: &str, tunnel: &str) -> Port {
    let mut p = testdata::service_port("tcp", portid, state, name, "");
    p.service.tunnel = tunnel.into();
    p
}

fn facts(cn: &str) -> TlsInfo {
    TlsInfo {
        cert: Some(CertInfo {
            subject_cn: cn.into(),
            not_after: "2027-01-01T00:00:00Z".into(),
            ..CertInfo::default()
        }),
        versions: vec!["TLSv1.3".into()],
        least_grade: Some(Grade::A),
    }
}

fn scan_of(outcome: ScanOutcome) -> nmap::Scan {
    nmap::Scan {
        outcome,
        duration: Duration::from_millis(1),
        exit_code: None,
        stderr: String::new(),
        command_line: vec![],
    }
}

#[test]
fn selection_takes_open_tls_ports_of_up_hosts_only() {
    let hosts = [
        host(
            "192.0.2.2",
            "up",
            vec![
                port(8443, "open", "http", "ssl"),
                port(9001, "open", "https", ""),
                port(22, "open", "ssh", ""),
                port(4433, "closed", "https", ""),
                port(7000, "open", "unknown", ""),
            ],
        ),
        host("192.0.2.3", "down", vec![port(443, "open", "https", "")]),
    ];
    let got = selected(&hosts, &[7000]);
    let ip: IpAddr = "192.0.2.2".parse().unwrap();
    let want: HashSet<(IpAddr, u16)> = [(ip, 8443), (ip, 9001), (ip, 7000)].into();
    assert_eq!(got, want);
    assert!(selected(&hosts[1..], &[]).is_empty());
}

#[test]
fn no_tls_port_runs_no_nmap() {
    let mut hosts = [host("192.0.2.2", "up", vec![port(22, "open", "ssh", "")])];
    let pass = pass_hosts_with(&spec(), &mut hosts, |_| panic!("nmap must not run"));
    assert_eq!(pass, TlsPass::NoPorts);
}

#[test]
fn one_run_over_every_wanted_address_and_port() {
    let mut hosts = [
        host("192.0.2.3", "up", vec![port(8443, "open", "https", "")]),
        host("192.0.2.2", "up", vec![port(9443, "open", "x", "ssl")]),
    ];
    let mut seen = None;
    let _ = pass_hosts_with(&spec(), &mut hosts, |inv| {
        seen = Some(inv.clone());
        scan_of(ScanOutcome::Failed("x".into()))
    });
    let inv = seen.expect("one nmap run");
    assert_eq!(inv.targets, ["192.0.2.2", "192.0.2.3"]);
    assert_eq!(inv.timeout, Duration::from_secs(7));
    let p = inv.args.iter().position(|a| a == "-p").unwrap();
    assert_eq!(inv.args[p + 1], "8443,9443");
    assert!(
        inv.args
            .contains(&"+ssl-cert,+ssl-enum-ciphers".to_string())
    );
}

#[test]
fn facts_join_the_wanted_ports_and_replace_old_script_output() {
    let mut wanted_port = port(8443, "open", "https", "");
    wanted_port.scripts = vec![
        Script {
            id: "ssl-cert".into(),
            output: "old".into(),
        },
        Script {
            id: "http-title".into(),
            output: "kept".into(),
        },
    ];
    let mut hosts = [host(
        "192.0.2.2",
        "up",
        vec![wanted_port, port(22, "open", "ssh", "")],
    )];
    let mut answered = port(8443, "open", "https", "");
    answered.scripts = vec![Script {
        id: "ssl-cert".into(),
        output: "new".into(),
    }];
    answered.tls = Some(facts("a.test"));
    // nmap also reports a port that was not asked for: it is not copied.
    let mut stray = port(22, "open", "ssh", "");
    stray.tls = Some(facts("stray"));
    let result = crate::model::ScanResult {
        hosts: vec![host("192.0.2.2", "up", vec![answered, stray])],
        ..Default::default()
    };
    let pass = pass_hosts_with(&spec(), &mut hosts, |_| {
        scan_of(ScanOutcome::Completed(result))
    });
    assert_eq!(
        pass,
        TlsPass::Completed {
            selected: 1,
            examined: 1
        }
    );
    let p = &hosts[0].ports[0];
    assert_eq!(p.tls, Some(facts("a.test")));
    let outputs: Vec<(&str, &str)> = p
        .scripts
        .iter()
        .map(|s| (s.id.as_str(), s.output.as_str()))
        .collect();
    assert_eq!(outputs, [("http-title", "kept"), ("ssl-cert", "new")]);
    assert_eq!(hosts[0].ports[1].tls, None);
}

#[test]
fn a_failed_or_timed_out_run_leaves_the_hosts_untouched() {
    let before = [host(
        "192.0.2.2",
        "up",
        vec![port(443, "open", "https", "")],
    )];
    for (outcome, error) in [
        (ScanOutcome::Failed("crashed".into()), "crashed".to_string()),
        (
            ScanOutcome::TimedOut,
            "nmap did not finish within 7 s and was stopped".to_string(),
        ),
    ] {
        let mut hosts = before.clone();
        let pass = pass_hosts_with(&spec(), &mut hosts, |_| scan_of(outcome));
        assert_eq!(pass, TlsPass::Failed { selected: 1, error });
        assert_eq!(hosts, before);
    }
}

/// A completed outcome whose host has one open https port.
fn completed_with_https(ip: &str) -> TargetOutcome {
    let h = host(ip, "up", vec![port(443, "open", "https", "")]);
    TargetOutcome {
        target: ip.into(),
        status: super::super::Status::Completed,
        ip: ip.parse().ok(),
        report: Some(crate::model::HostReport::from(&h)),
        host: Some(h),
        error: None,
        duration: Duration::ZERO,
        nmap_duration: None,
    }
}

#[test]
fn the_engine_pass_waits_for_capacity_and_fails_alone_when_none_frees() {
    // nmap would fail differently: the pass must not start it without a slot.
    let engine = super::super::tests::engine(Path::new("/nonexistent/nmap"), 1, 5, 0);
    let held = engine.capacity.acquire(1, Instant::now()).unwrap();
    let mut outcomes = vec![completed_with_https("192.0.2.2")];
    let before = outcomes.clone();
    let mut failed_alone = |error: &str| {
        let want = TlsPass::Failed {
            selected: 1,
            error: error.into(),
        };
        assert_eq!(engine.tls_pass(&mut outcomes), want);
        assert_eq!(outcomes, before);
    };
    failed_alone("no scan capacity free within 0 s");
    drop(held);
    engine.close();
    failed_alone("not run: the server is shutting down");
}

#[test]
fn the_engine_pass_skips_targets_without_a_completed_scan() {
    let engine = super::super::tests::engine(Path::new("/nonexistent/nmap"), 1, 5, 0);
    let _held = engine.capacity.acquire(1, Instant::now()).unwrap();
    let mut failed_target = completed_with_https("192.0.2.2");
    failed_target.status = super::super::Status::Failed;
    failed_target.report = None;
    let mut outcomes = vec![failed_target];
    assert_eq!(engine.tls_pass(&mut outcomes), TlsPass::NoPorts);
}
