use super::*;
use crate::testdata::{each_store, port_alert};

/// A change to exercise the store's mechanism; the real ones are alert rules
/// (`alerts::lifecycle`, tested there).
const TO_ACTIONED: StatusChange = StatusChange {
    action: AlertAction::Ack,
    from: &[AlertStatus::Open],
    to: AlertStatus::Actioned,
};

fn host_alert(ip: &str) -> NewAlert {
    NewAlert {
        kind: AlertKind::NewHost,
        severity: Severity::Medium,
        ip: ip.into(),
        protocol: None,
        port: None,
        message: format!("new host {ip}"),
        snapshot: 1,
    }
}

#[test]
fn insert_then_read_back() {
    each_store(|store| {
        let a = store
            .insert_alert(&port_alert("127.0.0.2", 3389, Severity::Critical))
            .unwrap();
        assert_eq!(a.status, AlertStatus::Open);
        assert_eq!((a.first_snapshot, a.last_snapshot), (1, 1));
        assert_eq!(a.port, Some(3389));
        assert_eq!(a.note, None);
        assert_eq!(store.alert(a.id).unwrap(), a);
        let h = store.insert_alert(&host_alert("127.0.0.3")).unwrap();
        assert_eq!((h.protocol.as_deref(), h.port), (None, None));
    });
}

#[test]
fn unknown_id_is_not_found() {
    each_store(|store| {
        assert!(matches!(store.alert(7), Err(StoreError::AlertNotFound(7))));
        assert!(matches!(
            store.change_alert_status(7, &TO_ACTIONED, None),
            Err(StoreError::AlertNotFound(7))
        ));
    });
}

/// The ids `filter` lists, in its order.
fn ids_of(store: &Store, filter: &AlertFilter) -> Vec<i64> {
    store
        .list_alerts(filter)
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect()
}

#[test]
fn filters_by_status_severity_and_cursor() {
    each_store(|store| {
        let low = store
            .insert_alert(&port_alert("127.0.0.2", 8080, Severity::Low))
            .unwrap();
        let high = store
            .insert_alert(&port_alert("127.0.0.2", 22, Severity::High))
            .unwrap();
        let crit = store
            .insert_alert(&port_alert("127.0.0.2", 3389, Severity::Critical))
            .unwrap();
        store
            .change_alert_status(high.id, &TO_ACTIONED, Some("ticket 42"))
            .unwrap();
        let ids = |f: AlertFilter| ids_of(store, &f);
        assert_eq!(ids(AlertFilter::default()), vec![crit.id, high.id, low.id]);
        let open = AlertFilter {
            status: Some(AlertStatus::Open),
            ..AlertFilter::default()
        };
        assert_eq!(ids(open), vec![crit.id, low.id]);
        let exact = AlertFilter {
            severity: Some(Severity::High),
            ..AlertFilter::default()
        };
        assert_eq!(ids(exact), vec![high.id]);
        let at_least = AlertFilter {
            min_severity: Some(Severity::High),
            ..AlertFilter::default()
        };
        assert_eq!(ids(at_least), vec![crit.id, high.id]);
        let page = AlertFilter {
            limit: Some(1),
            before_id: Some(crit.id),
            ..AlertFilter::default()
        };
        assert_eq!(ids(page), vec![high.id]);
    });
}

#[test]
fn long_notes_are_refused_whole() {
    each_store(|store| {
        let a = store.insert_alert(&host_alert("127.0.0.3")).unwrap();
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        assert!(matches!(
            store.change_alert_status(a.id, &TO_ACTIONED, Some(&long)),
            Err(StoreError::NoteTooLong { .. })
        ));
        assert_eq!(store.alert(a.id).unwrap().status, AlertStatus::Open);
        let fits = "é".repeat(MAX_NOTE_CHARS);
        assert!(
            store
                .change_alert_status(a.id, &TO_ACTIONED, Some(&fits))
                .is_ok()
        );
    });
}

#[test]
fn one_unresolved_alert_per_identity() {
    each_store(|store| {
        let a = store
            .insert_alert(&port_alert("127.0.0.2", 22, Severity::High))
            .unwrap();
        assert!(
            store
                .insert_alert(&port_alert("127.0.0.2", 22, Severity::High))
                .is_err()
        );
        // Host alerts have NULL protocol and port; they still collide.
        store.insert_alert(&host_alert("127.0.0.3")).unwrap();
        assert!(store.insert_alert(&host_alert("127.0.0.3")).is_err());
        // Other port, other kind, other address: distinct identities.
        store
            .insert_alert(&port_alert("127.0.0.2", 23, Severity::High))
            .unwrap();
        let mut opened = port_alert("127.0.0.2", 22, Severity::High);
        opened.kind = AlertKind::PortOpened;
        store.insert_alert(&opened).unwrap();
        // Once resolved, the condition may be raised again as a new alert.
        store.test_execute(&format!(
            "UPDATE alerts SET status = 'resolved' WHERE id = {}",
            a.id
        ));
        let again = store
            .insert_alert(&port_alert("127.0.0.2", 22, Severity::High))
            .unwrap();
        assert_ne!(again.id, a.id);
    });
}

#[test]
fn version_one_database_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(crate::store::sqlite::schema::MIGRATIONS[0])
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    let a = store.insert_alert(&host_alert("127.0.0.3")).unwrap();
    assert_eq!(store.alert(a.id).unwrap().kind, AlertKind::NewHost);
    drop(store);
    let read = Store::open_read_only(&path).unwrap();
    assert_eq!(read.list_alerts(&AlertFilter::default()).unwrap().len(), 1);
}

#[test]
fn filters_by_kind_network_text_and_time() {
    each_store(|store| {
        let web = store
            .insert_alert(&port_alert("127.0.0.2", 8080, Severity::Low))
            .unwrap();
        let host = store.insert_alert(&host_alert("127.0.1.7")).unwrap();
        let ssh = store
            .insert_alert(&port_alert("127.0.1.9", 22, Severity::High))
            .unwrap();
        store
            .change_alert_status(ssh.id, &TO_ACTIONED, Some("Ticket OPS-12"))
            .unwrap();
        let ids = |f: AlertFilter| ids_of(store, &f);
        let kinds = AlertFilter {
            kinds: vec![AlertKind::NewHost],
            ..AlertFilter::default()
        };
        assert_eq!(ids(kinds), vec![host.id]);
        let net = AlertFilter {
            network: Some("127.0.1.0/24".parse().unwrap()),
            ..AlertFilter::default()
        };
        assert_eq!(ids(net), vec![ssh.id, host.id]);
        let one = AlertFilter {
            network: Some("127.0.0.2/32".parse().unwrap()),
            ..AlertFilter::default()
        };
        assert_eq!(ids(one), vec![web.id]);
        let limited = AlertFilter {
            network: Some("127.0.0.0/8".parse().unwrap()),
            limit: Some(2),
            ..AlertFilter::default()
        };
        assert_eq!(ids(limited), vec![ssh.id, host.id]);
        for (text, want) in [
            ("ops-12", vec![ssh.id]),
            ("NEW HOST", vec![host.id]),
            ("127.0.0.2", vec![web.id]),
            ("nothing", vec![]),
        ] {
            let f = AlertFilter {
                text: Some(text.into()),
                ..AlertFilter::default()
            };
            assert_eq!(ids(f), want, "{text}");
        }
        let created = store.alert(host.id).unwrap().created_at;
        let since = AlertFilter {
            since: Some(created),
            ..AlertFilter::default()
        };
        assert_eq!(ids(since), vec![ssh.id, host.id]);
        let until = AlertFilter {
            until: Some(created),
            ..AlertFilter::default()
        };
        assert_eq!(ids(until), vec![web.id]);
    });
}

#[test]
fn what_a_run_raised_and_resolved() {
    each_store(|store| {
        let mut raise = |ip: &str, port: u16, severity: Severity, snapshot: i64| {
            let mut new = port_alert(ip, port, severity);
            new.snapshot = snapshot;
            store.insert_alert(&new).unwrap()
        };
        let low = raise("127.0.0.2", 8080, Severity::Low, 1);
        let crit = raise("127.0.0.2", 3389, Severity::Critical, 1);
        let later = raise("127.0.0.3", 22, Severity::High, 2);
        let raised: Vec<i64> = store
            .alerts_raised_by(1)
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(raised, [crit.id, low.id], "worst first");
        assert_eq!(store.alerts_raised_by(3).unwrap(), []);

        let before = store.alert(low.id).unwrap().updated_at;
        const RESOLVE: StatusChange = StatusChange {
            action: AlertAction::Ack,
            from: &[AlertStatus::Open],
            to: AlertStatus::Resolved,
        };
        store.change_alert_status(low.id, &RESOLVE, None).unwrap();
        store.change_alert_status(later.id, &RESOLVE, None).unwrap();
        let resolved: Vec<i64> = store
            .alerts_resolved_after(1, before)
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(resolved, [low.id], "last seen by 1, resolved since");
        let far = store.alert(low.id).unwrap().updated_at + jiff::SignedDuration::from_hours(1);
        assert_eq!(store.alerts_resolved_after(1, far).unwrap(), []);
    });
}
