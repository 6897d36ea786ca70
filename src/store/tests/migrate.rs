//! `migrate-store`: a SQLite store copied into an empty PostgreSQL database, row for row.

use super::*;

#[test]
fn migrate_store_copies_everything_and_counts_match() {
    let Some(url) = crate::testdata::postgres::fresh_database() else {
        return;
    };
    let (_dir, mut source) = crate::testdata::temp_store();
    let a = source
        .save_snapshot(&snapshot("default", "2026-11-20T02:00:00.123456789Z"))
        .unwrap();
    let mut stored = |id: i64| {
        let row = DeltaRow {
            compared_with: None,
            config: "0123456789abcdef".into(),
            head: "{\"status\":\"stable\"}".into(),
        };
        Some(NewDelta {
            row,
            json: format!("{{\"to\":{{\"snapshot\":{id}}}}}"),
            entries: "{\"lab\":{\"hosts_up\":1,\"open_ports\":2}}".into(),
        })
    };
    let b = source
        .save_snapshot_with_delta(&snapshot("quick", "2026-11-21T02:00:00Z"), &mut stored)
        .unwrap();
    let alert = source
        .insert_alert(&crate::testdata::port_alert(
            "192.0.2.1",
            22,
            crate::model::Severity::High,
        ))
        .unwrap();
    source
        .record_delivery(&DeliveryAttempt {
            snapshot_id: b,
            webhook: "slack".into(),
            endpoint: "http://127.0.0.1:9".into(),
            format: "slack".into(),
            alerts: 1,
            attempt: 1,
            attempted_at: ts("2026-11-21T02:00:01Z"),
            status_code: Some(500),
            outcome: DeliveryOutcome::Retrying,
            error: Some("HTTP 500".into()),
            outbox_id: None,
        })
        .unwrap();
    source
        .sync_alerts_and_enqueue(
            b,
            |_| AlertChanges::default(),
            |_| {
                vec![NewOutbox {
                    snapshot_id: b,
                    destination: "slack".into(),
                    channel: "webhook".into(),
                    format: "slack".into(),
                    alerts: 1,
                    body: "{}".into(),
                }]
            },
        )
        .unwrap();
    let db = Database::Postgres(url);
    let mut target = Store::connect(&db).unwrap();
    let copied = source.copy_into(&mut target).unwrap();
    assert_eq!(copied.len(), 8);
    assert!(
        copied.iter().all(|c| c.source == c.target && c.source > 0),
        "{copied:?}"
    );
    for id in [a, b] {
        assert_eq!(
            target.load_snapshot(id).unwrap(),
            source.load_snapshot(id).unwrap()
        );
    }
    assert_eq!(target.delta_row(b).unwrap(), source.delta_row(b).unwrap());
    assert_eq!(target.delta_json(b).unwrap(), source.delta_json(b).unwrap());
    assert_eq!(
        target.delta_entries(b).unwrap(),
        source.delta_entries(b).unwrap()
    );
    assert_eq!(target.alert(alert.id).unwrap(), alert);
    assert_eq!(
        target.list_deliveries(10).unwrap(),
        source.list_deliveries(10).unwrap()
    );
    assert_eq!(
        target.list_outbox(10).unwrap(),
        source.list_outbox(10).unwrap()
    );
    // New rows get ids past the copied ones.
    let c = target
        .save_snapshot(&snapshot("default", "2026-11-22T02:00:00Z"))
        .unwrap();
    assert!(c > b);
    // A second copy into a store that is no longer empty is refused, nothing written.
    let err = source.copy_into(&mut target).unwrap_err();
    assert!(matches!(err, MigrateError::NotEmpty { .. }), "{err}");
}
