//! The store's contract, one body per test run on both backends (`each_store`): SQLite and
//! a fresh PostgreSQL database of the test cluster. What only one backend has (SQLite's WAL,
//! busy timeout and page limit; PostgreSQL's connection errors and locks) is tested apart.

use super::*;
use crate::model::{Address, ExtraPorts, Host, Hostname, OsMatch, Port, Script, Service};
use crate::snapshot::{PortCoverage, TargetRecord, TargetStatus, Unconfirmed};
use crate::testdata::{each_database, each_store};

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
        scanned: PortCoverage::parse_ports("tcp:22-23", true),
        unconfirmed: vec![Unconfirmed {
            kind: "port_closed".into(),
            ip: "192.0.2.1".into(),
            protocol: Some("tcp".into()),
            port: Some(23),
            checked: true,
        }],
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

#[test]
fn save_load_round_trips_everything() {
    each_store(|store| {
        let mut s = snapshot("default", "2026-11-20T02:00:00.123456789Z");
        let id = store.save_snapshot(&s).unwrap();
        s.id = Some(id);
        assert_eq!(store.load_snapshot(id).unwrap(), s);
        assert!(matches!(store.load_snapshot(id + 1), Err(StoreError::NotFound(n)) if n == id + 1));
    });
}

#[test]
fn every_target_status_round_trips_on_both_backends() {
    each_store(|store| {
        let mut s = snapshot("default", "2026-11-20T02:00:00Z");
        let template = s.targets[0].clone();
        s.targets = [
            TargetStatus::Completed,
            TargetStatus::Failed,
            TargetStatus::Timeout,
            TargetStatus::Unresolved,
            TargetStatus::ShardMissing,
        ]
        .into_iter()
        .map(|status| TargetRecord {
            status,
            ..template.clone()
        })
        .collect();
        let id = store.save_snapshot(&s).unwrap();
        let statuses: Vec<TargetStatus> = store
            .load_snapshot(id)
            .unwrap()
            .targets
            .iter()
            .map(|t| t.status)
            .collect();
        assert_eq!(
            statuses,
            s.targets.iter().map(|t| t.status).collect::<Vec<_>>()
        );
    });
}

#[test]
fn comparison_load_keeps_exactly_what_a_delta_reads() {
    each_store(|store| {
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
    });
}

#[test]
fn failed_save_leaves_no_snapshot() {
    each_store(|store| {
        // A fault in the very last row: everything before it must roll back.
        if store.is_postgres() {
            store.test_execute(
                "CREATE FUNCTION fail_late() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$;
                 CREATE TRIGGER fail_late BEFORE INSERT ON ports FOR EACH ROW
                   WHEN (NEW.state = 'closed') EXECUTE FUNCTION fail_late();",
            );
        } else {
            store.test_execute(
                "CREATE TEMP TRIGGER fail_late BEFORE INSERT ON ports WHEN NEW.state = 'closed'
                 BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
            );
        }
        let err = store
            .save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z"))
            .unwrap_err();
        assert!(err.to_string().contains("injected fault"), "{err:?}");
        for table in ["snapshots", "snapshot_targets", "hosts", "ports"] {
            let n = store.test_query(&format!("SELECT count(*) FROM {table}"));
            assert_eq!(n, 0, "{table}");
        }
        assert_eq!(store.latest_snapshot_id(None).unwrap(), None);
    });
}

#[test]
fn migrates_empty_db_and_reopens_idempotently() {
    each_database(|db| {
        let id = {
            let mut store = Store::connect(db).unwrap();
            if !store.is_postgres() {
                let mode = store.test_query("SELECT journal_mode = 'wal' FROM pragma_journal_mode");
                assert_eq!(mode, 1, "SQLite runs in WAL mode");
            }
            store
                .save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z"))
                .unwrap()
        };
        let store = Store::connect(db).unwrap();
        assert_eq!(schema_version(&store), supported(&store));
        assert_eq!(store.load_snapshot(id).unwrap().hosts.len(), 2);
        let read = Store::connect_read_only(db).unwrap();
        assert_eq!(read.load_snapshot(id).unwrap().hosts.len(), 2);
    });
}

/// The version the database records, whichever backend.
fn schema_version(store: &Store) -> i64 {
    if store.is_postgres() {
        store.test_query("SELECT version FROM schema_version")
    } else {
        store.test_query("PRAGMA user_version")
    }
}

fn supported(store: &Store) -> i64 {
    if store.is_postgres() {
        SCHEMA_VERSION_POSTGRES
    } else {
        SCHEMA_VERSION
    }
}

#[test]
fn refuses_newer_schema() {
    each_database(|db| {
        let store = Store::connect(db).unwrap();
        let newer = supported(&store) + 1;
        if store.is_postgres() {
            store.test_execute(&format!("UPDATE schema_version SET version = {newer}"));
        } else {
            store.test_execute(&format!("PRAGMA user_version = {newer}"));
        }
        drop(store);
        let err = Store::connect(db).err().unwrap();
        assert!(matches!(err, StoreError::TooNew { found, .. } if found == newer));
        assert!(err.to_string().contains("upgrade the program"), "{err}");
        assert!(err.is_unavailable());
        let err = Store::connect_read_only(db).err().unwrap();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
    });
}

#[test]
fn read_only_open_never_creates_or_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scans.db");
    let err = Store::open_read_only(&path).err().unwrap();
    assert!(matches!(err, StoreError::Missing { .. }), "{err}");
    assert!(!path.exists(), "read-only open must not create the file");
    // An unmigrated (old) SQLite file is refused, not migrated.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let err = Store::open_read_only(&path).err().unwrap();
    assert!(matches!(err, StoreError::TooOld { found: 0, .. }), "{err}");
    // And an empty PostgreSQL database.
    if let Some(url) = crate::testdata::postgres::fresh_database() {
        let db = Database::Postgres(url);
        let err = Store::connect_read_only(&db).err().unwrap();
        assert!(matches!(err, StoreError::TooOld { found: 0, .. }), "{err}");
    }
}

#[test]
fn read_only_stores_refuse_writes() {
    each_database(|db| {
        let id = Store::connect(db)
            .unwrap()
            .save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z"))
            .unwrap();
        let mut ro = Store::connect_read_only(db).unwrap();
        assert_eq!(ro.load_snapshot(id).unwrap().id, Some(id));
        assert!(
            ro.save_snapshot(&snapshot("default", "2026-11-21T02:00:00Z"))
                .is_err()
        );
        assert_eq!(ro.latest_snapshot_id(None).unwrap(), Some(id));
        assert_eq!(ro.list_snapshots(10, None).unwrap().len(), 1);
    });
}

#[test]
fn previous_latest_and_list() {
    each_store(|store| {
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
        assert_eq!(store.latest_per_profile().unwrap(), [b, q]);

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
    });
}

#[test]
fn retention_keeps_each_profiles_latest() {
    each_store(|store| {
        let day = |d: u32| format!("2026-11-{d:02}T02:00:00Z");
        let d1 = store.save_snapshot(&snapshot("default", &day(1))).unwrap();
        let q1 = store.save_snapshot(&snapshot("quick", &day(1))).unwrap();
        let d2 = store.save_snapshot(&snapshot("default", &day(2))).unwrap();
        let d3 = store.save_snapshot(&snapshot("default", &day(3))).unwrap();

        let deleted = store.delete_older_than(ts(&day(3))).unwrap();
        let mut gone: Vec<(i64, Timestamp)> =
            deleted.iter().map(|d| (d.id, d.started_at)).collect();
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
        let orphans = store.test_query(&format!(
            "SELECT (SELECT count(*) FROM ports WHERE snapshot_id IN ({d1}, {d2}))
                  + (SELECT count(*) FROM hosts WHERE snapshot_id IN ({d1}, {d2}))
                  + (SELECT count(*) FROM snapshot_targets WHERE snapshot_id IN ({d1}, {d2}))"
        ));
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
    });
}

mod hosts;
mod migrate;
mod postgres;
mod sqlite;
mod tls;
