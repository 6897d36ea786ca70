//! Ports' TLS facts (SQLite V5, PostgreSQL V2): round trip and the latest certificate per port
//! before a snapshot on both backends, and a SQLite version-3 database gaining the column with
//! its rows intact (the PostgreSQL upgrade is in `postgres.rs`).

use super::*;
use crate::model::{CertInfo, Grade, TlsInfo};

fn tls(sha256: &str) -> TlsInfo {
    TlsInfo {
        cert: Some(CertInfo {
            subject_cn: "svc.test".into(),
            issuer: "commonName=ca".into(),
            sans: vec!["DNS:svc.test".into()],
            not_after: "2030-01-01T00:00:00Z".into(),
            sha256: sha256.into(),
            key_bits: Some(2048),
            ..CertInfo::default()
        }),
        versions: vec!["TLSv1.2".into()],
        least_grade: Some(Grade::A),
    }
}

fn with_tls(started: &str, sha256: Option<&str>) -> Snapshot {
    let mut s = snapshot("default", started);
    s.hosts[0].ports[0].tls = sha256.map(tls);
    s
}

#[test]
fn tls_facts_round_trip_and_the_latest_per_port_is_found() {
    each_store(|store| {
        let mut s1 = with_tls("2026-11-20T02:00:00Z", Some("aa"));
        let id1 = store.save_snapshot(&s1).unwrap();
        s1.id = Some(id1);
        assert_eq!(store.load_snapshot(id1).unwrap(), s1);
        // A run without a TLS pass does not hide the certificate seen before it.
        let id2 = store
            .save_snapshot(&with_tls("2026-11-21T02:00:00Z", None))
            .unwrap();
        let id3 = store
            .save_snapshot(&with_tls("2026-11-22T02:00:00Z", Some("bb")))
            .unwrap();

        let latest = store.latest_port_tls(None).unwrap();
        assert_eq!(latest.len(), 1);
        assert_eq!(
            (latest[0].snapshot_id, latest[0].ip.as_str(), latest[0].port),
            (id3, "192.0.2.1", 22)
        );
        assert_eq!(latest[0].tls.cert.as_ref().unwrap().sha256, "bb");

        let before3 = store.latest_port_tls(Some(id3)).unwrap();
        assert_eq!(before3.len(), 1);
        assert_eq!(before3[0].snapshot_id, id1);
        assert_eq!(before3[0].tls.cert.as_ref().unwrap().sha256, "aa");
        assert!(store.latest_port_tls(Some(id1)).unwrap().is_empty());
        assert!(id2 > id1);
    });
}

#[test]
fn a_version_3_database_gains_the_tls_column_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scans.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in &crate::store::sqlite::schema::MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            "INSERT INTO snapshots VALUES (1, '2026-11-20T02:00:00.000000000Z',
               '2026-11-20T02:01:00.000000000Z', 'default', '', '7.93', 'complete', 1, 1, 0, 0);
             INSERT INTO hosts (snapshot_id, position, ip, state, reason, addresses)
               VALUES (1, 0, '192.0.2.1', 'up', '', '[]');
             INSERT INTO ports VALUES (1, 0, 0, '192.0.2.1', 'tcp', 443, 'open', '', 'https',
               '', '', '', '', 'ssl', '', 0, '[]', NULL);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.test_query("PRAGMA user_version"), SCHEMA_VERSION);
    let s = store.load_snapshot(1).unwrap();
    assert_eq!(s.hosts[0].ports[0].portid, 443);
    assert_eq!(s.hosts[0].ports[0].tls, None);
    assert!(store.latest_port_tls(None).unwrap().is_empty());
}
