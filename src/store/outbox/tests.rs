use jiff::{SignedDuration, Timestamp};

use crate::store::{AlertChanges, NewOutbox};
use crate::testdata::each_store;

fn item(destination: &str) -> NewOutbox {
    NewOutbox {
        snapshot_id: 1,
        destination: destination.into(),
        channel: "webhook".into(),
        format: "json".into(),
        alerts: 1,
        body: "{}".into(),
    }
}

#[test]
fn written_with_the_alerts_then_delivered_once_or_expired() {
    each_store(|store| {
        store
            .sync_alerts_and_enqueue(
                1,
                |_| AlertChanges::default(),
                |_| vec![item("a"), item("b")],
            )
            .unwrap();
        let pending = store.pending_outbox().unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(
            (pending[0].status.as_str(), pending[0].attempts),
            ("pending", 0)
        );

        store
            .finish_outbox_attempts(pending[0].id, 3, false, Some("HTTP 500"))
            .unwrap();
        store
            .finish_outbox_attempts(pending[0].id, 1, true, None)
            .unwrap();
        // A late second "delivery" of the same row changes nothing: it is no longer pending.
        store
            .finish_outbox_attempts(pending[0].id, 5, true, Some("late"))
            .unwrap();
        let all = store.list_outbox(10).unwrap();
        let a = all.iter().find(|i| i.destination == "a").unwrap();
        assert_eq!((a.status.as_str(), a.attempts), ("delivered", 4));
        assert!(a.delivered_at.is_some());
        assert_eq!(a.last_error, None);
        assert_eq!(store.pending_outbox().unwrap().len(), 1);

        // Nothing is older than a cutoff in the past; everything pending is older than one ahead.
        let past = Timestamp::now() - SignedDuration::from_hours(1);
        assert!(store.expire_outbox(past).unwrap().is_empty());
        let ahead = Timestamp::now() + SignedDuration::from_secs(1);
        let expired = store.expire_outbox(ahead).unwrap();
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].destination, "b");
        assert!(store.pending_outbox().unwrap().is_empty());
        let all = store.list_outbox(10).unwrap();
        assert_eq!(
            all.iter().find(|i| i.destination == "a").unwrap().status,
            "delivered",
            "expiry never touches a delivered row"
        );
    });
}

#[test]
fn a_failed_enqueue_rolls_back_the_alerts_too() {
    each_store(|store| {
        let mut bad = item("a");
        bad.channel = "pigeon".into(); // refused by the CHECK constraint
        let raise = crate::testdata::port_alert("192.0.2.1", 22, crate::model::Severity::High);
        let result = store.sync_alerts_and_enqueue(
            1,
            |_| AlertChanges {
                raise: vec![raise],
                ..AlertChanges::default()
            },
            |_| vec![bad],
        );
        assert!(result.is_err());
        assert!(store.list_alerts(&Default::default()).unwrap().is_empty());
        assert!(store.pending_outbox().unwrap().is_empty());
    });
}
