use super::*;
use crate::testdata::each_store;

#[test]
fn deliveries_round_trip_newest_first() {
    each_store(|store| {
        for (attempt, outcome, code) in [
            (1, DeliveryOutcome::Retrying, Some(500)),
            (2, DeliveryOutcome::Delivered, Some(200)),
        ] {
            store
                .record_delivery(&DeliveryAttempt {
                    snapshot_id: 7,
                    webhook: "slack".into(),
                    endpoint: "http://127.0.0.1:9".into(),
                    format: "slack".into(),
                    alerts: 2,
                    attempt,
                    attempted_at: "2026-11-20T02:00:00Z".parse().unwrap(),
                    status_code: code,
                    outcome,
                    error: None,
                })
                .unwrap();
        }
        let list = store.list_deliveries(10).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].attempt.attempt, 2);
        assert_eq!(list[0].attempt.outcome, DeliveryOutcome::Delivered);
        assert_eq!(list[1].attempt.status_code, Some(500));
        assert_eq!(store.list_deliveries(1).unwrap().len(), 1);
    });
}
