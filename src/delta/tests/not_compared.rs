use super::*;
use NotComparedReason as R;
use TargetStatus::*;

fn reasons(delta: &Delta) -> Vec<(String, NotComparedReason)> {
    delta
        .not_compared
        .iter()
        .map(|n| (n.target.clone(), n.reason))
        .collect()
}

fn nc(list: &[(&str, NotComparedReason)]) -> Vec<(String, NotComparedReason)> {
    list.iter().map(|(t, r)| (t.to_string(), *r)).collect()
}

#[test]
fn a_target_that_did_not_complete_is_never_a_closure() {
    let before = vec![
        up("192.0.2.1", vec![open(22)]),
        up("192.0.2.2", vec![open(3389)]),
    ];
    for (status, reason) in [(Failed, R::Failed), (Timeout, R::Timeout)] {
        let a = snap(
            "default",
            vec![done("192.0.2.0/29"), done("198.51.100.1")],
            before.clone(),
        );
        let b = snap(
            "default",
            vec![
                target("192.0.2.0/29", "192.0.2.0/29", status, &["192.0.2.0/29"]),
                done("198.51.100.1"),
            ],
            vec![],
        );
        let delta = compare(Some(&a), &b, &DeltaConfig::default());
        assert!(delta.changes.is_empty(), "{status:?}: {:?}", delta.changes);
        assert_eq!(reasons(&delta), nc(&[("192.0.2.0/29", reason)]));
        assert_eq!(delta.summary.not_compared, 1);
        assert_eq!(delta.status, DeltaStatus::Stable);
    }
}

#[test]
fn hosts_reported_by_a_failed_target_are_not_compared() {
    // A partial answer from a target that timed out proves nothing either way.
    let a = snap(
        "default",
        vec![done("192.0.2.0/29")],
        vec![up("192.0.2.1", vec![open(22)])],
    );
    let b = snap(
        "default",
        vec![target(
            "192.0.2.0/29",
            "192.0.2.0/29",
            Timeout,
            &["192.0.2.0/29"],
        )],
        vec![up("192.0.2.1", vec![]), up("192.0.2.5", vec![open(3389)])],
    );
    let delta = compare(Some(&a), &b, &DeltaConfig::default());
    assert!(delta.changes.is_empty(), "{:?}", delta.changes);
}

#[test]
fn unresolved_and_previously_failed() {
    let a = snap(
        "default",
        vec![
            target("db.example", "db.example", Completed, &["198.51.100.7/32"]),
            target("192.0.2.0/29", "192.0.2.0/29", Timeout, &["192.0.2.0/29"]),
        ],
        vec![up("198.51.100.7", vec![open(5432)])],
    );
    let b = snap(
        "default",
        vec![
            target("db.example", "db.example", Unresolved, &[]),
            done("192.0.2.0/29"),
        ],
        vec![up("192.0.2.1", vec![open(22)])],
    );
    let delta = compare(Some(&a), &b, &DeltaConfig::default());
    assert!(delta.changes.is_empty(), "{:?}", delta.changes);
    assert_eq!(
        reasons(&delta),
        nc(&[
            ("db.example", R::Unresolved),
            ("192.0.2.0/29", R::PreviousTimeout)
        ])
    );
}

#[test]
fn targets_added_and_removed() {
    let a = snap(
        "default",
        vec![done("192.0.2.0/29"), done("203.0.113.0/30")],
        vec![up("203.0.113.1", vec![open(22)])],
    );
    let b = snap(
        "default",
        vec![done("192.0.2.0/29"), done("198.51.100.0/30")],
        vec![up("198.51.100.1", vec![open(3389)])],
    );
    let delta = compare(Some(&a), &b, &DeltaConfig::default());
    assert!(delta.changes.is_empty(), "{:?}", delta.changes);
    assert_eq!(
        reasons(&delta),
        nc(&[
            ("198.51.100.0/30", R::TargetAdded),
            ("203.0.113.0/30", R::TargetRemoved)
        ])
    );
}

#[test]
fn coverage_is_by_address_not_by_target_name() {
    // The entry was rewritten from a list to a range: 192.0.2.1 is covered by both runs.
    let a = snap(
        "default",
        vec![done("192.0.2.1"), done("192.0.2.2")],
        vec![up("192.0.2.1", vec![open(22)])],
    );
    let b = snap("default", vec![done("192.0.2.0/30")], vec![]);
    let delta = compare(Some(&a), &b, &DeltaConfig::default());
    assert_eq!(
        brief(&delta),
        [
            (
                ChangeKind::HostGone,
                "192.0.2.1".into(),
                None,
                Severity::Info
            ),
            (
                ChangeKind::PortClosed,
                "192.0.2.1".into(),
                Some(("tcp".into(), 22)),
                Severity::Info
            ),
        ]
    );
    // .0 and .3 were not covered before; the old names are fully covered now.
    assert_eq!(reasons(&delta), nc(&[("192.0.2.0/30", R::TargetAdded)]));
}

#[test]
fn a_hostname_that_resolved_elsewhere() {
    let a = snap(
        "default",
        vec![target("web", "web.example", Completed, &["192.0.2.1/32"])],
        vec![up("192.0.2.1", vec![open(443)])],
    );
    let b = snap(
        "default",
        vec![target("web", "web.example", Completed, &["192.0.2.2/32"])],
        vec![up("192.0.2.2", vec![open(443)])],
    );
    let delta = compare(Some(&a), &b, &DeltaConfig::default());
    assert!(delta.changes.is_empty(), "{:?}", delta.changes);
    assert_eq!(reasons(&delta), nc(&[("web.example", R::AddressesChanged)]));

    // It lost one of two addresses: the lost one is not compared, the kept one is.
    let a = snap(
        "default",
        vec![target(
            "web",
            "web.example",
            Completed,
            &["192.0.2.1/32", "192.0.2.2/32"],
        )],
        vec![up("192.0.2.1", vec![open(443)]), up("192.0.2.2", vec![])],
    );
    let b = snap(
        "default",
        vec![target("web", "web.example", Completed, &["192.0.2.1/32"])],
        vec![up("192.0.2.1", vec![])],
    );
    let delta = compare(Some(&a), &b, &DeltaConfig::default());
    assert_eq!(
        brief(&delta),
        [(
            ChangeKind::PortClosed,
            "192.0.2.1".into(),
            Some(("tcp".into(), 443)),
            Severity::Info
        )]
    );
    assert_eq!(reasons(&delta), nc(&[("web.example", R::AddressesChanged)]));
}

#[test]
fn imported_files_compare_the_hosts_both_list() {
    use crate::model::ScanResult;
    use jiff::Timestamp;
    let file = |hosts| ScanResult {
        hosts,
        ..ScanResult::default()
    };
    let old = file(vec![
        up("192.0.2.1", vec![open(22)]),
        up("192.0.2.2", vec![open(80)]),
    ]);
    let new = file(vec![
        up("192.0.2.1", vec![open(22), open(3389)]),
        up("192.0.2.3", vec![open(80)]),
    ]);
    let a = Snapshot::from_scan_result(&old, "old.xml", "imported", Timestamp::UNIX_EPOCH);
    let b = Snapshot::from_scan_result(&new, "new.xml", "imported", Timestamp::UNIX_EPOCH);
    let delta = compare(Some(&a), &b, &DeltaConfig::default());
    assert_eq!(
        brief(&delta),
        [(
            ChangeKind::PortOpened,
            "192.0.2.1".into(),
            Some(("tcp".into(), 3389)),
            Severity::Critical
        )]
    );
    assert_eq!(
        reasons(&delta),
        nc(&[
            ("192.0.2.3", R::TargetAdded),
            ("192.0.2.2", R::TargetRemoved)
        ])
    );
}
