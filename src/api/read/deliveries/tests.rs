//! `GET /api/deliveries`: filters, pages, CSV, bad values and the read scope.

use crate::api::read::tests::{READER, call, get, setup};
use crate::store::{DeliveryAttempt, DeliveryOutcome, Store};

fn record(dir: &std::path::Path, name: &str, attempt: u32, outcome: DeliveryOutcome) {
    let mut store = Store::open(&dir.join("scans.db")).unwrap();
    store
        .record_delivery(&DeliveryAttempt {
            snapshot_id: 1,
            webhook: name.into(),
            endpoint: "http://127.0.0.1:9".into(),
            format: if name == "mail" { "email" } else { "json" }.into(),
            alerts: 1,
            attempt,
            attempted_at: "2026-11-20T02:00:00Z".parse().unwrap(),
            status_code: None,
            outcome,
            error: (outcome != DeliveryOutcome::Delivered).then(|| "connection failed".into()),
            outbox_id: Some(1),
        })
        .unwrap();
}

fn names(v: &serde_json::Value) -> Vec<String> {
    v["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["webhook"].as_str().unwrap(),
                d["outcome"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn deliveries_filter_by_destination_and_outcome_and_page() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22]], |_| {});
    assert_eq!(
        names(&get(&s, "/api/deliveries").json()),
        Vec::<String>::new()
    );
    record(dir.path(), "siem", 1, DeliveryOutcome::Retrying);
    record(dir.path(), "siem", 2, DeliveryOutcome::Delivered);
    record(dir.path(), "mail", 1, DeliveryOutcome::Failed);
    assert_eq!(
        names(&get(&s, "/api/deliveries").json()),
        ["mail failed", "siem delivered", "siem retrying"]
    );
    assert_eq!(
        names(&get(&s, "/api/deliveries?destination=siem").json()),
        ["siem delivered", "siem retrying"]
    );
    assert_eq!(
        names(&get(&s, "/api/deliveries?outcome=failed").json()),
        ["mail failed"]
    );
    let page = get(&s, "/api/deliveries?limit=2").json();
    assert_eq!(page["next_before"], 2);
    let rest = get(&s, "/api/deliveries?limit=2&before=2").json();
    assert_eq!(names(&rest), ["siem retrying"]);
    assert_eq!(rest["next_before"], serde_json::Value::Null);
    let csv = get(&s, "/api/deliveries?format=csv&destination=mail").text;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    for bad in [
        "/api/deliveries?outcome=lost",
        "/api/deliveries?limit=0",
        "/api/deliveries?before=x",
        "/api/deliveries?url=1",
    ] {
        assert_eq!(get(&s, bad).status, 400, "{bad}");
    }
}

#[test]
fn deliveries_need_a_token_when_tokens_are_set() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22]], |c| {
        c.api.read_tokens = vec![READER.into()];
    });
    assert_eq!(get(&s, "/api/deliveries").status, 401);
    let auth = format!("Bearer {READER}");
    assert_eq!(
        call(&s, "GET", "/api/deliveries", &[("Authorization", &auth)]).status,
        200
    );
}
