//! The operator's actions as the store applies them: allowed from the statuses the lifecycle
//! names, refused (with the status found) from any other.

use super::*;
use crate::model::Severity;
use crate::store::{AlertChanges, StoreError, UnresolvedAlert};
use crate::testdata::{port_alert, temp_store};

#[test]
fn transitions_follow_the_lifecycle() {
    let (_dir, mut store) = temp_store();
    let a = store
        .insert_alert(&port_alert("127.0.0.2", 22, Severity::High))
        .unwrap();
    let acked = store
        .change_alert_status(a.id, &ACK, Some("firewall rule added"))
        .unwrap();
    assert_eq!(acked.status, AlertStatus::Actioned);
    assert_eq!(acked.note.as_deref(), Some("firewall rule added"));
    assert!(acked.updated_at >= a.updated_at);

    let again = store.change_alert_status(a.id, &ACK, None).unwrap_err();
    assert!(
        matches!(
            again,
            StoreError::AlertTransition {
                action: AlertAction::Ack,
                status: AlertStatus::Actioned,
                ..
            }
        ),
        "{again}"
    );
    assert_eq!(
        again.to_string(),
        format!("alert {} is actioned: ack is not possible", a.id)
    );

    let ignored = store.change_alert_status(a.id, &IGNORE, None).unwrap();
    assert_eq!(ignored.status, AlertStatus::Ignored);
    // A note given earlier is kept when an action brings none.
    assert_eq!(ignored.note.as_deref(), Some("firewall rule added"));
    assert!(store.change_alert_status(a.id, &ACK, None).is_err());
    assert_eq!(
        store
            .change_alert_status(a.id, &UNIGNORE, None)
            .unwrap()
            .status,
        AlertStatus::Open
    );
    assert!(store.change_alert_status(a.id, &UNIGNORE, None).is_err());
}

#[test]
fn resolved_alerts_cannot_be_acted_on() {
    let (_dir, mut store) = temp_store();
    let a = store
        .insert_alert(&port_alert("127.0.0.2", 22, Severity::High))
        .unwrap();
    let resolve = |_: &[UnresolvedAlert]| AlertChanges {
        resolve: vec![a.id],
        ..AlertChanges::default()
    };
    store.sync_alerts(2, resolve).unwrap();
    for result in [
        store.change_alert_status(a.id, &ACK, None),
        store.change_alert_status(a.id, &IGNORE, None),
        store.change_alert_status(a.id, &UNIGNORE, None),
    ] {
        assert!(matches!(
            result,
            Err(StoreError::AlertTransition {
                status: AlertStatus::Resolved,
                ..
            })
        ));
    }
}
