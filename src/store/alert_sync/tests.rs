//! The mechanism only: whatever the decision says is applied in one transaction and returned
//! as stored. The rules that make the decision are tested in `alerts::sync`.

use super::*;
use crate::model::Severity;
use crate::testdata::{done, each_store, port_alert, snapshot};

fn new_alert(port: u16, snapshot: i64) -> NewAlert {
    NewAlert {
        snapshot,
        ..port_alert("192.0.2.1", port, Severity::High)
    }
}

fn save(store: &mut Store, profile: &str) -> i64 {
    let at: Timestamp = "2026-11-20T02:00:00Z".parse().unwrap();
    let s = snapshot(profile, at, vec![done("192.0.2.0/28")], vec![]);
    store.save_snapshot(&s).unwrap()
}

#[test]
fn decisions_are_applied_and_returned_as_stored() {
    each_store(|store| {
        let first = save(store, "default");
        let raised = store
            .sync_alerts(first, |unresolved| {
                assert!(unresolved.is_empty());
                AlertChanges {
                    raise: vec![new_alert(22, first), new_alert(3389, first)],
                    ..AlertChanges::default()
                }
            })
            .unwrap()
            .raised;
        assert_eq!(raised.len(), 2);
        assert_eq!(store.alert(raised[0].id).unwrap(), raised[0]);

        let second = save(store, "quick");
        let sync = store
            .sync_alerts(second, |unresolved| {
                let seen: Vec<_> = unresolved
                    .iter()
                    .map(|u| (u.alert.id, u.last_profile.as_deref()))
                    .collect();
                assert_eq!(
                    seen,
                    [
                        (raised[0].id, Some("default")),
                        (raised[1].id, Some("default"))
                    ]
                );
                AlertChanges {
                    seen_again: vec![raised[0].id, raised[1].id, 999],
                    resolve: vec![raised[1].id, 999],
                    raise: vec![],
                }
            })
            .unwrap();
        assert_eq!(sync.refreshed, 2, "unknown ids are ignored");
        assert_eq!(sync.resolved.len(), 1);
        let resolved = &sync.resolved[0];
        assert_eq!(store.alert(resolved.id).unwrap(), *resolved);
        assert_eq!(
            (resolved.status, resolved.last_snapshot),
            (AlertStatus::Resolved, second)
        );
        let kept = store.alert(raised[0].id).unwrap();
        assert_eq!(
            (kept.status, kept.last_snapshot),
            (AlertStatus::Open, second)
        );
    });
}
