//! Trends, a missing database, and reads while a writer holds a transaction open.

use jiff::Timestamp;

use crate::api::read::tests::{call, get, setup, snapshot};
use crate::api::state::State;
use crate::config::Config;
use crate::store::Store;

#[test]
fn trends_give_one_point_per_recent_snapshot_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[], |_| {});
    let mut store = Store::open(&dir.path().join("scans.db")).unwrap();
    // Two snapshots now-ish and one 40 days ago (made-up times; only their order matters).
    let now = Timestamp::now();
    for (days_ago, ports) in [(40, &[22][..]), (2, &[22, 3389][..]), (1, &[80][..])] {
        let mut snap = snapshot(0, ports);
        snap.started_at = now - jiff::SignedDuration::from_hours(24 * days_ago);
        snap.finished_at = snap.started_at;
        store.save_snapshot(&snap).unwrap();
    }
    let v = get(&s, "/api/stats/trends?days=30").json();
    let points = v["snapshots"].as_array().unwrap();
    let ids: Vec<i64> = points.iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [2, 3]);
    assert_eq!(points[0]["open_ports"], 3);
    assert_eq!(points[0]["changes"]["ports_opened"], 1);
    assert_eq!(points[0]["delta_status"], "critical");
    assert_eq!(points[1]["score"], 100);
    assert_eq!(
        get(&s, "/api/stats/trends?days=60").json()["snapshots"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let none = get(&s, "/api/stats/trends?profile=quick").json();
    assert_eq!(none["snapshots"].as_array().unwrap().len(), 0);
    let csv = get(&s, "/api/stats/trends?format=csv").text;
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.starts_with("id,started_at,"));
}

#[test]
fn without_a_database_lists_are_empty_and_ids_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        database: Some(dir.path().join("none.db")),
        ..Config::default()
    };
    config.api.rate_limit_per_minute = 0;
    let s = State::new(config, Box::new(|| Ok("7.93".to_string()))).unwrap();
    assert_eq!(
        get(&s, "/api/snapshots").json()["snapshots"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        get(&s, "/api/alerts").json()["alerts"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        get(&s, "/api/stats/trends").json()["snapshots"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(get(&s, "/api/snapshots/1").status, 404);
    assert_eq!(call(&s, "POST", "/api/alerts/1/ack", &[]).status, 404);
    let page = get(&s, "/");
    assert_eq!(page.status, 200);
    assert!(page.text.contains("No scans yet"));
    assert!(
        !dir.path().join("none.db").exists(),
        "a read created the database"
    );
}

#[test]
fn reads_succeed_while_a_writer_holds_a_transaction_open() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22], &[80]], |_| {});
    let writer = rusqlite::Connection::open(dir.path().join("scans.db")).unwrap();
    writer
        .execute_batch(
            "BEGIN IMMEDIATE;
             INSERT INTO snapshots (started_at, finished_at, profile, nmap_args, nmap_version,
                 status, hosts_up, open_ports, targets_total, targets_failed)
             VALUES ('2030-01-01T00:00:00.000000000Z', '2030-01-01T00:00:00.000000000Z',
                 'default', '', '7.93', 'complete', 0, 0, 0, 0);",
        )
        .unwrap();
    for url in [
        "/api/snapshots",
        "/api/snapshots/2",
        "/api/snapshots/2/delta",
        "/api/stats/trends",
        "/api/alerts",
        "/",
    ] {
        let r = get(&s, url);
        assert_eq!(r.status, 200, "{url} while a write is open: {}", r.text);
    }
    // The uncommitted snapshot is invisible.
    assert_eq!(
        get(&s, "/api/snapshots").json()["snapshots"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    writer.execute_batch("COMMIT").unwrap();
    assert_eq!(
        get(&s, "/api/snapshots").json()["snapshots"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}
