//! Stored deltas (schema V7) as the routes read them, the streamed snapshot, and its pages.

use crate::api::read::tests::{get, setup, snapshot};
use crate::delta::{DeltaConfig, DeltaStatus};
use crate::history;
use crate::model::Severity;
use crate::store::Store;

fn store(dir: &std::path::Path) -> Store {
    Store::open(&dir.join("scans.db")).unwrap()
}

#[test]
fn the_full_snapshot_is_streamed_as_the_bytes_of_a_whole_load() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22], &[22, 80]], |_| {});
    let whole = serde_json::to_string(&store(dir.path()).load_snapshot(2).unwrap()).unwrap();
    let r = get(&s, "/api/snapshots/2");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.text, whole);
    assert_eq!(get(&s, "/api/snapshots/3").status, 404);
}

#[test]
fn host_pages_follow_next_after_and_add_up_to_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22, 80]], |_| {});
    let whole = store(dir.path()).load_snapshot(1).unwrap();
    let first = get(&s, "/api/snapshots/1?limit=1");
    assert_eq!(first.status, 200);
    let v = first.json();
    assert_eq!(v["id"], 1);
    assert_eq!(v["next_after"], 0);
    assert_eq!(
        first.header("Link"),
        Some("</api/snapshots/1?limit=1&after=0>; rel=\"next\"")
    );
    let second = get(&s, "/api/snapshots/1?limit=1&after=0").json();
    assert_eq!(second["next_after"], serde_json::Value::Null);
    let mut hosts = Vec::new();
    for (page, position) in [(&v, 0), (&second, 1)] {
        let mut host = page["hosts"][0].clone();
        assert_eq!(host["position"], position);
        host.as_object_mut().unwrap().remove("position");
        hosts.push(host);
    }
    assert_eq!(
        hosts,
        serde_json::to_value(&whole.hosts)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    );
    // `after` alone pages with the default limit; past the end is an empty last page.
    let rest = get(&s, "/api/snapshots/1?after=1").json();
    assert_eq!(rest["hosts"], serde_json::json!([]));
    for bad in ["limit=0", "limit=x", "after=-1", "after=x", "page=2"] {
        assert_eq!(
            get(&s, &format!("/api/snapshots/1?{bad}")).status,
            400,
            "{bad}"
        );
    }
    assert_eq!(get(&s, "/api/snapshots/7?limit=1").status, 404);
}

#[test]
fn a_stored_delta_is_read_while_it_holds_and_recomputed_when_not() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22], &[22, 3389]], |_| {});
    let computed = get(&s, "/api/snapshots/2/delta").text;
    let trends = get(&s, "/api/stats/trends?days=3660").json();
    let db = store(dir.path());
    let config = DeltaConfig::default();
    let mut delta = history::delta_of_id(&db, 2, &config).unwrap();
    history::record(&db, 2, &delta, &config);
    assert_eq!(get(&s, "/api/snapshots/2/delta").text, computed);
    assert_eq!(get(&s, "/api/stats/trends?days=3660").json(), trends);

    // The route reads the stored row (a doctored one shows)...
    delta.status = DeltaStatus::Stable;
    delta.summary.ports_opened = 7;
    history::record(&db, 2, &delta, &config);
    let served = get(&s, "/api/snapshots/2/delta").json();
    assert_eq!(served["status"], "stable");
    let points = get(&s, "/api/stats/trends?days=3660").json();
    assert_eq!(points["snapshots"][1]["changes"]["ports_opened"], 7);

    // ...but not one computed with another severity table...
    let mut other = DeltaConfig::default();
    other.port_severity.insert(22, Severity::Low);
    history::record(&db, 2, &delta, &other);
    assert_eq!(get(&s, "/api/snapshots/2/delta").text, computed);
    assert_eq!(get(&s, "/api/stats/trends?days=3660").json(), trends);

    // ...nor one compared with a snapshot that is no longer the previous one (an older file
    // imported afterwards sorts between them).
    history::record(&db, 2, &delta, &config);
    let mut middle = snapshot(1, &[22, 3389]);
    middle.started_at += jiff::SignedDuration::from_hours(12);
    store(dir.path()).save_snapshot(&middle).unwrap();
    let d = get(&s, "/api/snapshots/2/delta").json();
    assert_eq!(d["from"]["snapshot"], 3);
    assert_eq!(d["status"], "stable");
    assert_eq!(d["summary"]["ports_opened"], 0);
}

#[test]
fn the_dashboard_lists_the_top_changes_and_links_to_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let many: Vec<u16> = (1000..1080).collect();
    let s = setup(dir.path(), &[&[22], &many], |_| {});
    let page = get(&s, "/").text;
    assert!(page.contains("The 50 most severe of 81 changes"), "{page}");
    assert!(page.contains("href=\"/api/snapshots/2/delta?format=csv\""));
    assert_eq!(page.matches("port opened").count(), 50);
    let small = setup(
        tempfile::tempdir().unwrap().path(),
        &[&[22], &[22, 80]],
        |_| {},
    );
    assert!(!get(&small, "/").text.contains("most severe of"));
}
