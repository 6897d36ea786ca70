//! The TLS kinds from structured [`TlsInfo`]: urgency, weak protocols and grades, the opt-in
//! `self_signed`, `cert_changed` against the certificate seen last time, and what a port the
//! TLS pass did not examine leaves alone.

use super::*;
use crate::model::{CertInfo, Grade, TlsInfo};

/// The default rules with `risky_port_open` limited to critical ports, so 445 (high) here is
/// only about TLS.
fn rules() -> AlertRules {
    AlertRules {
        open_port_min_severity: Severity::Critical,
        ..super::rules()
    }
}

fn tls_port(portid: u16, not_after: &str, sha256: &str, issuer: &str) -> Port {
    let mut p = port(portid, "open", "https");
    p.tls = Some(TlsInfo {
        cert: Some(CertInfo {
            subject_cn: "svc.test".into(),
            issuer: issuer.into(),
            not_after: not_after.into(),
            self_signed: issuer == "commonName=svc.test",
            sha256: sha256.into(),
            ..CertInfo::default()
        }),
        versions: vec!["TLSv1.2".into(), "TLSv1.3".into()],
        least_grade: Some(Grade::A),
    });
    p
}

fn one_host(ports: Vec<Port>) -> Snapshot {
    snap(
        vec![target("192.0.2.0/28", TargetStatus::Completed)],
        vec![host("192.0.2.1", "up", ports)],
    )
}

fn eval_with(s: &Snapshot, rules: &AlertRules) -> Evaluation {
    let d = delta::compare(None, s, &DeltaConfig::default());
    evaluate(s, &d, &DeltaConfig::default(), rules)
}

#[test]
fn expiry_is_urgent_within_seven_days_and_weak_tls_names_its_reason() {
    // now is 2026-11-20T02:00Z.
    let mut legacy = tls_port(445, "2030-01-01T00:00:00Z", "cc", "commonName=ca");
    legacy.tls.as_mut().unwrap().versions = vec!["TLSv1.0".into(), "TLSv1.2".into()];
    let mut graded = tls_port(446, "2030-01-01T00:00:00Z", "dd", "commonName=ca");
    graded.tls.as_mut().unwrap().least_grade = Some(Grade::D);
    let mut at_min = tls_port(447, "2030-01-01T00:00:00Z", "ee", "commonName=ca");
    at_min.tls.as_mut().unwrap().least_grade = Some(Grade::C);
    let s = one_host(vec![
        tls_port(443, "2026-11-25T02:00:00Z", "aa", "commonName=ca"),
        tls_port(444, "2026-12-10T02:00:00Z", "bb", "commonName=ca"),
        legacy,
        graded,
        at_min,
    ]);
    let e = eval_with(&s, &rules());
    let ip = "192.0.2.1".to_string();
    use AlertKind::{CertExpiring, WeakTls};
    assert_eq!(
        brief(&e),
        [
            (CertExpiring, ip.clone(), Some(443), Severity::High),
            (CertExpiring, ip.clone(), Some(444), Severity::Medium),
            (WeakTls, ip.clone(), Some(445), Severity::Medium),
            (WeakTls, ip.clone(), Some(446), Severity::Medium),
        ]
    );
    assert!(
        e.raise[2].message.contains("offers TLSv1.0"),
        "{}",
        e.raise[2].message
    );
    assert!(
        e.raise[3].message.contains("grade D (below C)"),
        "{}",
        e.raise[3].message
    );

    // A stricter min_grade makes C weak too.
    let strict = AlertRules {
        min_grade: Grade::B,
        ..rules()
    };
    let e = eval_with(&s, &strict);
    assert!(
        e.raise
            .iter()
            .any(|c| c.key.kind == WeakTls && c.key.port == Some(447))
    );
}

#[test]
fn self_signed_only_when_asked() {
    let s = one_host(vec![tls_port(
        443,
        "2030-01-01T00:00:00Z",
        "aa",
        "commonName=svc.test",
    )]);
    assert!(eval_with(&s, &rules()).raise.is_empty());
    let asked = AlertRules {
        self_signed: true,
        ..rules()
    };
    let e = eval_with(&s, &asked);
    assert_eq!(
        brief(&e),
        [(
            AlertKind::SelfSigned,
            "192.0.2.1".into(),
            Some(443),
            Severity::Low
        )]
    );
}

#[test]
fn a_new_fingerprint_is_cert_changed_and_a_new_issuer_makes_it_medium() {
    let s = one_host(vec![
        tls_port(443, "2030-01-01T00:00:00Z", "new1", "commonName=ca"),
        tls_port(444, "2030-01-01T00:00:00Z", "new2", "commonName=other ca"),
        tls_port(445, "2030-01-01T00:00:00Z", "same", "commonName=ca"),
        tls_port(446, "2030-01-01T00:00:00Z", "first", "commonName=ca"),
    ]);
    let seen = |sha: &str| SeenCert {
        sha256: sha.into(),
        issuer: "commonName=ca".into(),
    };
    let mut previous = HashMap::new();
    for (port, sha) in [(443, "old1"), (444, "old2"), (445, "same")] {
        previous.insert(
            ("192.0.2.1".to_string(), "tcp".to_string(), port),
            seen(sha),
        );
    }
    let rules = AlertRules {
        previous_certs: previous,
        ..rules()
    };
    let e = eval_with(&s, &rules);
    let ip = "192.0.2.1".to_string();
    assert_eq!(
        brief(&e),
        [
            (
                AlertKind::CertChanged,
                ip.clone(),
                Some(443),
                Severity::Info
            ),
            (
                AlertKind::CertChanged,
                ip.clone(),
                Some(444),
                Severity::Medium
            ),
        ]
    );
    assert!(
        e.raise[1]
            .message
            .contains("issuer now commonName=other ca")
    );
    let judge = |port| e.judge(&key(AlertKind::CertChanged, "192.0.2.1", Some(port)));
    assert_eq!(judge(443), Judgement::Holds, "while the port is open");
    assert_eq!(judge(500), Judgement::Gone);
}

#[test]
fn a_port_the_tls_pass_did_not_examine_is_left_alone() {
    // Same port, open, but this run has no TLS facts for it (the pass failed or was off).
    let s = one_host(vec![port(443, "open", "https")]);
    let e = eval_with(&s, &rules());
    assert!(e.raise.is_empty());
    for kind in [
        AlertKind::CertExpiring,
        AlertKind::CertExpired,
        AlertKind::WeakTls,
        AlertKind::SelfSigned,
    ] {
        assert_eq!(
            e.judge(&key(kind, "192.0.2.1", Some(443))),
            Judgement::Unknown,
            "{kind}"
        );
    }
    // Examined and fine: the earlier conditions are gone (renewed, hardened).
    let s = one_host(vec![tls_port(
        443,
        "2030-01-01T00:00:00Z",
        "aa",
        "commonName=ca",
    )]);
    let e = eval_with(&s, &rules());
    for kind in [
        AlertKind::CertExpiring,
        AlertKind::CertExpired,
        AlertKind::WeakTls,
    ] {
        assert_eq!(
            e.judge(&key(kind, "192.0.2.1", Some(443))),
            Judgement::Gone,
            "{kind}"
        );
    }
}
