use super::*;
use ChangeKind::*;
use Severity::*;

#[test]
fn status_rules() {
    let status = |after: Vec<Port>| {
        pair(
            vec![up("192.0.2.1", vec![open(80)])],
            vec![up("192.0.2.1", after)],
        )
        .status
    };
    assert_eq!(status(vec![open(80)]), DeltaStatus::Stable);
    assert_eq!(
        status(vec![open(80), open(8080)]),
        DeltaStatus::Changes,
        "low port opened"
    );
    assert_eq!(
        status(vec![open(80), open(3306)]),
        DeltaStatus::Changes,
        "medium port opened"
    );
    assert_eq!(status(vec![]), DeltaStatus::Changes, "port closed");
    assert_eq!(
        status(vec![open(80), open(22)]),
        DeltaStatus::Critical,
        "high port opened"
    );
    assert_eq!(
        status(vec![open(80), open(3389)]),
        DeltaStatus::Critical,
        "critical port opened"
    );
    assert_eq!(
        pair(vec![], vec![up("192.0.2.1", vec![])]).status,
        DeltaStatus::Changes,
        "new host, no ports"
    );

    // An unexpected low port is at least high, so critical.
    let delta_config = DeltaConfig {
        expected: vec![ExpectedPorts {
            networks: vec!["192.0.2.0/28".parse().unwrap()],
            entries: vec![],
            ports: vec![("tcp".into(), 80)],
        }],
        ..DeltaConfig::default()
    };
    let a = snap(
        "default",
        vec![done("192.0.2.0/28")],
        vec![up("192.0.2.1", vec![open(80)])],
    );
    let b = snap(
        "default",
        vec![done("192.0.2.0/28")],
        vec![up("192.0.2.1", vec![open(80), open(8080)])],
    );
    let delta = compare(Some(&a), &b, &delta_config);
    assert_eq!(delta.status, DeltaStatus::Critical);
    let change = &delta.changes[0];
    assert_eq!((change.kind, change.severity), (PortOpened, High));
    assert!(change.port.as_ref().unwrap().unexpected);
}

#[test]
fn self_delta_is_empty_and_stable() {
    let s = snap(
        "default",
        vec![
            done("192.0.2.0/28"),
            target(
                "db",
                "db.example",
                TargetStatus::Completed,
                &["198.51.100.7/32"],
            ),
        ],
        vec![
            up("192.0.2.1", vec![open(22), open(3389)]),
            host("192.0.2.2", "down", vec![]),
            up("198.51.100.7", vec![open(5432)]),
        ],
    );
    let delta = compare(Some(&s), &s, &DeltaConfig::default());
    assert_eq!(delta.status, DeltaStatus::Stable);
    assert!(
        delta.changes.is_empty() && delta.not_compared.is_empty(),
        "{delta:?}"
    );
    assert_eq!(delta.summary, Summary::default());
    assert_eq!(delta.note, None);
}

#[test]
fn baseline_and_profile_mismatch_report_no_changes() {
    let a = snap(
        "quick",
        vec![done("192.0.2.0/28")],
        vec![up("192.0.2.1", vec![open(22), open(80)])],
    );
    let b = snap(
        "default",
        vec![done("192.0.2.0/28")],
        vec![up("192.0.2.2", vec![open(3389)])],
    );
    let delta_config = DeltaConfig::default();

    let mismatch = compare(Some(&a), &b, &delta_config);
    assert!(mismatch.changes.is_empty() && mismatch.not_compared.is_empty());
    assert_eq!(mismatch.status, DeltaStatus::Stable);
    assert_eq!(
        mismatch.from.as_ref().map(|f| f.profile.as_str()),
        Some("quick")
    );
    assert!(
        mismatch.note.as_deref().unwrap().contains("profile"),
        "{:?}",
        mismatch.note
    );
    assert_eq!(mismatch.score.overall, Some(70));

    let baseline = compare(None, &b, &delta_config);
    assert_eq!(baseline.from, None);
    assert!(baseline.changes.is_empty() && baseline.status == DeltaStatus::Stable);
    assert!(baseline.note.as_deref().unwrap().contains("baseline"));
    assert_eq!(baseline.score.overall, Some(70));
}
