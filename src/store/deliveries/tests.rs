use super::*;
use crate::testdata::each_store;

#[test]
fn deliveries_round_trip_newest_first() {
    each_store(|store| {
        for (attempt, outcome, code, name) in [
            (1, DeliveryOutcome::Retrying, Some(500), "slack"),
            (2, DeliveryOutcome::Delivered, Some(200), "slack"),
            (1, DeliveryOutcome::Failed, None, "mail"),
        ] {
            store
                .record_delivery(&DeliveryAttempt {
                    snapshot_id: 7,
                    webhook: name.into(),
                    endpoint: "http://127.0.0.1:9".into(),
                    format: "slack".into(),
                    alerts: 2,
                    attempt,
                    attempted_at: "2026-11-20T02:00:00Z".parse().unwrap(),
                    status_code: code,
                    outcome,
                    error: None,
                    outbox_id: Some(1),
                })
                .unwrap();
        }
        let list = store.list_deliveries(10).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].attempt.webhook, "mail");
        let query = |destination: Option<&str>, outcome, before_id| {
            store
                .query_deliveries(&DeliveryFilter {
                    destination: destination.map(str::to_string),
                    outcome,
                    limit: 10,
                    before_id,
                })
                .unwrap()
                .iter()
                .map(|d| (d.attempt.webhook.clone(), d.attempt.attempt))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            query(Some("slack"), None, None),
            [("slack".into(), 2), ("slack".into(), 1)]
        );
        assert_eq!(
            query(Some("slack"), None, Some(2)),
            [("slack".to_string(), 1)]
        );
        assert_eq!(
            query(None, Some(DeliveryOutcome::Failed), None),
            [("mail".to_string(), 1)]
        );
        assert!(query(Some("nobody"), None, None).is_empty());
        let list = store.list_deliveries(10).unwrap().split_off(1);
        assert_eq!(list[0].attempt.attempt, 2);
        assert_eq!(list[0].attempt.outbox_id, Some(1));
        assert_eq!(list[0].attempt.outcome, DeliveryOutcome::Delivered);
        assert_eq!(list[1].attempt.status_code, Some(500));
        assert_eq!(store.list_deliveries(1).unwrap().len(), 1);
    });
}
