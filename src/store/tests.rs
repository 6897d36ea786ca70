use super::*;
use crate::model::{Address, ExtraPorts, Host, Hostname, OsMatch, Port, Script, Service};
use crate::snapshot::{TargetRecord, TargetStatus};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn port(portid: u16, state: &str) -> Port {
    Port {
        protocol: "tcp".into(),
        portid,
        state: state.into(),
        reason: "syn-ack".into(),
        service: Service {
            name: "ssh".into(),
            product: "OpenSSH".into(),
            version: "9.2p1".into(),
            extrainfo: "protocol 2.0".into(),
            ostype: "Linux".into(),
            tunnel: String::new(),
            method: "probed".into(),
            conf: 10,
            cpe: vec!["cpe:/a:openbsd:openssh:9.2p1".into()],
        },
        scripts: vec![],
        tls: None,
    }
}

fn host(ip: &str, state: &str, ports: Vec<Port>) -> Host {
    Host {
        state: state.into(),
        reason: "conn-refused".into(),
        addresses: vec![Address {
            addr: ip.into(),
            addrtype: "ipv4".into(),
            vendor: String::new(),
        }],
        ports,
        ..Host::default()
    }
}

fn snapshot(profile: &str, started: &str) -> Snapshot {
    let mut rich = host(
        "192.0.2.1",
        "up",
        vec![port(22, "open"), port(23, "closed")],
    );
    rich.addresses.push(Address {
        addr: "00:11:22:33:44:55".into(),
        addrtype: "mac".into(),
        vendor: "Acme".into(),
    });
    rich.hostnames = vec![Hostname {
        name: "a.example".into(),
        kind: "PTR".into(),
    }];
    rich.extraports = vec![ExtraPorts {
        state: "closed".into(),
        count: 998,
    }];
    rich.os_matches = vec![OsMatch {
        name: "Linux 5.x".into(),
        accuracy: 95,
    }];
    rich.scripts = vec![Script {
        id: "smb-os".into(),
        output: "x".into(),
    }];
    rich.ports[0].scripts = vec![Script {
        id: "ssh-hostkey".into(),
        output: "2048 aa:bb".into(),
    }];
    rich.starttime = Some(1_700_000_000);
    rich.endtime = Some(1_700_000_009);
    Snapshot {
        scanned: None,
        unconfirmed: Vec::new(),
        id: None,
        started_at: ts(started),
        finished_at: ts(started),
        profile: profile.into(),
        nmap_args: "nmap -oX - -p 22,23 192.0.2.0/30".into(),
        nmap_version: "7.93".into(),
        status: SnapshotStatus::Partial,
        targets: vec![
            TargetRecord {
                entry: "192.0.2.0/30".into(),
                target: "192.0.2.0/30".into(),
                status: TargetStatus::Completed,
                error: None,
                covers: vec!["192.0.2.0/30".parse().unwrap()],
            },
            TargetRecord {
                entry: "db.example, 192.0.2.9".into(),
                target: "db.example".into(),
                status: TargetStatus::Unresolved,
                error: Some("hostname did not resolve".into()),
                covers: vec![],
            },
        ],
        hosts: vec![rich, host("192.0.2.2", "down", vec![])],
    }
}

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("scans.db")).unwrap();
    (dir, store)
}

#[test]
fn save_load_round_trips_everything() {
    let (_dir, mut store) = temp_store();
    let mut s = snapshot("default", "2026-11-20T02:00:00.123456789Z");
    let id = store.save_snapshot(&s).unwrap();
    s.id = Some(id);
    assert_eq!(store.load_snapshot(id).unwrap(), s);
    assert!(matches!(store.load_snapshot(id + 1), Err(StoreError::NotFound(n)) if n == id + 1));
}

#[test]
fn comparison_load_keeps_exactly_what_a_delta_reads() {
    let (_dir, mut store) = temp_store();
    let s = snapshot("default", "2026-11-20T02:00:00Z");
    let id = store.save_snapshot(&s).unwrap();
    let lean = store.load_snapshot_for_comparison(id).unwrap();
    let full = store.load_snapshot(id).unwrap();
    assert_eq!(
        (&lean.targets, lean.started_at, &lean.profile, lean.status),
        (&full.targets, full.started_at, &full.profile, full.status)
    );
    assert_eq!(lean.hosts.len(), full.hosts.len());
    for (l, f) in lean.hosts.iter().zip(&full.hosts) {
        assert_eq!(
            (&l.state, &l.addresses, &l.hostnames),
            (&f.state, &f.addresses, &f.hostnames)
        );
        assert!(l.scripts.is_empty() && l.os_matches.is_empty() && l.reason.is_empty());
        assert_eq!(l.ports.len(), f.ports.len());
        for (lp, fp) in l.ports.iter().zip(&f.ports) {
            let view = |p: &Port| {
                (
                    p.protocol.clone(),
                    p.portid,
                    p.state.clone(),
                    p.service.name.clone(),
                    p.service.product.clone(),
                    p.service.version.clone(),
                )
            };
            assert_eq!(view(lp), view(fp));
            assert!(lp.scripts.is_empty() && lp.service.cpe.is_empty());
        }
    }
    let delta_config = crate::delta::DeltaConfig::default();
    let empty = Snapshot {
        scanned: None,
        unconfirmed: Vec::new(),
        hosts: vec![],
        ..full.clone()
    };
    assert_eq!(
        crate::delta::compare(Some(&empty), &lean, &delta_config),
        crate::delta::compare(Some(&empty), &full, &delta_config)
    );
    assert!(matches!(
        store.load_snapshot_for_comparison(id + 1),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn failed_save_leaves_no_snapshot() {
    let (_dir, mut store) = temp_store();
    // A fault in the very last row: everything before it must roll back.
    store
        .conn
        .execute_batch(
            "CREATE TEMP TRIGGER fail_late BEFORE INSERT ON ports WHEN NEW.state = 'closed'
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
        )
        .unwrap();
    let err = store.save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z"));
    assert!(matches!(err, Err(StoreError::Sqlite { .. })), "{err:?}");
    for table in ["snapshots", "snapshot_targets", "hosts", "ports"] {
        let n: i64 = store
            .conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    assert_eq!(store.latest_snapshot_id(None).unwrap(), None);
}

#[test]
fn migrates_empty_db_and_reopens_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scans.db");
    let id = {
        let mut store = Store::open(&path).unwrap();
        assert_eq!(schema::version(&store.conn).unwrap(), SCHEMA_VERSION);
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        store
            .save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z"))
            .unwrap()
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(schema::version(&store.conn).unwrap(), SCHEMA_VERSION);
    assert_eq!(store.load_snapshot(id).unwrap().hosts.len(), 2);
}

#[test]
fn refuses_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scans.db");
    drop(Store::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::TooNew { found, .. } if found == SCHEMA_VERSION + 1));
    assert!(err.to_string().contains("scans.db"), "{err}");
    let err = Store::open_read_only(&path).err().unwrap();
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
}

#[test]
fn open_names_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("scans.db");
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::MissingDirectory { .. }));
    assert!(err.to_string().contains("no-such-dir"), "{err}");
    assert!(!path.parent().unwrap().exists());
}

#[test]
fn read_only_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scans.db");
    let err = Store::open_read_only(&path).err().unwrap();
    assert!(matches!(err, StoreError::Missing { .. }), "{err}");
    assert!(!path.exists(), "read-only open must not create the file");

    // An unmigrated (old) database is refused, not migrated.
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let err = Store::open_read_only(&path).err().unwrap();
    assert!(matches!(err, StoreError::TooOld { found: 0, .. }), "{err}");
    std::fs::remove_file(&path).unwrap();

    let id = Store::open(&path)
        .unwrap()
        .save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z"))
        .unwrap();
    let mut ro = Store::open_read_only(&path).unwrap();
    assert_eq!(ro.load_snapshot(id).unwrap().id, Some(id));
    assert!(
        ro.save_snapshot(&snapshot("default", "2026-11-21T02:00:00Z"))
            .is_err()
    );
    assert!(ro.conn.execute("DELETE FROM snapshots", []).is_err());
    assert_eq!(ro.latest_snapshot_id(None).unwrap(), Some(id));
}

#[test]
fn previous_latest_and_list() {
    let (_dir, mut store) = temp_store();
    let day = |d: u32| format!("2026-11-{d:02}T02:00:00Z");
    let a = store.save_snapshot(&snapshot("default", &day(1))).unwrap();
    let q = store.save_snapshot(&snapshot("quick", &day(2))).unwrap();
    let b = store.save_snapshot(&snapshot("default", &day(3))).unwrap();
    // Imported later, but it ran before `b`: it is b's predecessor.
    let old = store.save_snapshot(&snapshot("default", &day(2))).unwrap();

    assert_eq!(store.previous_snapshot_id(b).unwrap(), Some(old));
    assert_eq!(store.previous_snapshot_id(old).unwrap(), Some(a));
    assert_eq!(store.previous_snapshot_id(a).unwrap(), None);
    assert_eq!(store.previous_snapshot_id(q).unwrap(), None);
    assert!(matches!(
        store.previous_snapshot_id(99),
        Err(StoreError::NotFound(99))
    ));

    assert_eq!(store.latest_snapshot_id(None).unwrap(), Some(b));
    assert_eq!(store.latest_snapshot_id(Some("quick")).unwrap(), Some(q));
    assert_eq!(store.latest_snapshot_id(Some("udp_full")).unwrap(), None);

    let all = store.list_snapshots(10, None).unwrap();
    let ids: Vec<i64> = all.iter().map(|s| s.id).collect();
    assert_eq!(ids, [b, old, q, a]);
    let first = &all[0];
    assert_eq!(
        (
            first.hosts_up,
            first.open_ports,
            first.targets_total,
            first.targets_failed
        ),
        (1, 1, 2, 1)
    );
    assert_eq!(first.status, SnapshotStatus::Partial);
    assert_eq!(first.started_at, ts(&day(3)));
    let page: Vec<i64> = store
        .list_snapshots(2, Some(old))
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(page, [q, a]);
    assert!(matches!(
        store.list_snapshots(2, Some(99)),
        Err(StoreError::NotFound(99))
    ));
    assert_eq!(store.snapshot_summary(b).unwrap(), all[0]);
    assert_eq!(store.snapshot_summary(a).unwrap(), all[3]);
    assert!(matches!(
        store.snapshot_summary(99),
        Err(StoreError::NotFound(99))
    ));
}

#[test]
fn retention_keeps_each_profiles_latest() {
    let (_dir, mut store) = temp_store();
    let day = |d: u32| format!("2026-11-{d:02}T02:00:00Z");
    let d1 = store.save_snapshot(&snapshot("default", &day(1))).unwrap();
    let q1 = store.save_snapshot(&snapshot("quick", &day(1))).unwrap();
    let d2 = store.save_snapshot(&snapshot("default", &day(2))).unwrap();
    let d3 = store.save_snapshot(&snapshot("default", &day(3))).unwrap();

    let deleted = store.delete_older_than(ts(&day(3))).unwrap();
    let mut gone: Vec<(i64, Timestamp)> = deleted.iter().map(|d| (d.id, d.started_at)).collect();
    gone.sort();
    assert_eq!(gone, [(d1, ts(&day(1))), (d2, ts(&day(2)))]);
    let ids: Vec<i64> = store
        .list_snapshots(10, None)
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [d3, q1]);
    assert!(matches!(
        store.load_snapshot(d1),
        Err(StoreError::NotFound(_))
    ));
    let orphans: i64 = store
        .conn
        .query_row(
            "SELECT (SELECT count(*) FROM ports WHERE snapshot_id IN (?1, ?2))
                  + (SELECT count(*) FROM hosts WHERE snapshot_id IN (?1, ?2))
                  + (SELECT count(*) FROM snapshot_targets WHERE snapshot_id IN (?1, ?2))",
            [d1, d2],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0, "deleting a snapshot deletes its rows");

    let d4 = store.save_snapshot(&snapshot("default", &day(4))).unwrap();
    let deleted = store.keep_latest(1).unwrap();
    assert_eq!(deleted.iter().map(|d| d.id).collect::<Vec<_>>(), [d3]);
    let ids: Vec<i64> = store
        .list_snapshots(10, None)
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [d4, q1]);
    store.vacuum().unwrap();
}

#[test]
fn lock_contention_is_reported_as_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scans.db");
    let mut holder = Store::open(&path).unwrap();
    let mut waiter = Store::open(&path).unwrap();
    waiter.conn.busy_timeout(Duration::ZERO).unwrap();
    let lock = holder
        .conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let err = waiter
        .save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z"))
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Busy { .. }), "{err:?}");
    assert!(err.to_string().contains("scans.db is locked"), "{err}");
    drop(lock);
    assert!(
        waiter
            .save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z"))
            .is_ok()
    );
}

#[test]
fn a_full_database_is_reported_as_full_and_saves_nothing() {
    let (_dir, mut store) = temp_store();
    let pages: i64 = store
        .conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    // SQLite's own size limit stands in for a full disk: the same SQLITE_FULL.
    store
        .conn
        .execute_batch(&format!("PRAGMA max_page_count = {pages}"))
        .unwrap();
    let mut saved = 0;
    let err = loop {
        match store.save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z")) {
            Ok(_) => saved += 1,
            Err(e) => break e,
        }
        assert!(saved < 1000, "the page limit never bit");
    };
    assert!(matches!(err, StoreError::Full { .. }), "{err:?}");
    assert!(err.to_string().contains("the disk is full"), "{err}");
    let n: i64 = store
        .conn
        .query_row("SELECT count(*) FROM snapshots", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, saved, "the failed save left rows behind");
}

/// Issue 14, row 10: a file that is not SQLite is named as such (CLI exit 2 with this message;
/// the API's 503 `database_unavailable`), not an internal error.
#[test]
fn a_file_that_is_not_sqlite_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scans.db");
    std::fs::write(&path, "scanner_up 1\n".repeat(200)).unwrap();
    let read = Store::open_read_only(&path)
        .err()
        .expect("opened a text file");
    assert!(matches!(read, StoreError::NotADatabase { .. }), "{read:?}");
    assert!(read.to_string().contains("is not an SQLite database"));
    let write = Store::open(&path).err().expect("opened a text file");
    assert!(
        matches!(write, StoreError::NotADatabase { .. }),
        "{write:?}"
    );
}

mod tls;
