//! What only the PostgreSQL backend has: its connection failures, its writer locks, and reads
//! beside an open write transaction.

use super::*;
use crate::config::PostgresUrl;
use crate::testdata::postgres::fresh_database;

/// `host:port` of the test cluster and the name of a fresh database in it.
fn cluster() -> Option<(String, String)> {
    let url = fresh_database()?;
    let db = url
        .to_string()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    Some((url.host(), db))
}

fn connect_err(url: &str) -> StoreError {
    let url = PostgresUrl::parse(url).unwrap();
    Store::connect(&Database::Postgres(url)).err().unwrap()
}

#[test]
fn connection_failures_are_one_line_naming_the_host_never_the_password() {
    let Some((host, db)) = cluster() else { return };
    // A port where nothing listens: take one and let it go.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cases = [
        (
            format!("postgres://postgres:scanner-test@{free}/{db}?connect_timeout=3"),
            free.to_string(),
            "connect",
        ),
        (
            format!("postgres://postgres:Wr0ngPa55@{host}/{db}"),
            host.clone(),
            "password authentication failed",
        ),
        (
            format!("postgres://postgres:scanner-test@{host}/no_such_db"),
            host.clone(),
            "does not exist",
        ),
        (
            format!("postgres://postgres:scanner-test@{host}/{db}?sslmode=require"),
            host.clone(),
            "TLS",
        ),
    ];
    for (url, shown_host, says) in cases {
        let err = connect_err(&url);
        let text = err.to_string();
        assert!(
            matches!(err, StoreError::Unavailable { .. }),
            "{url}: {err:?}"
        );
        assert!(err.is_unavailable());
        assert!(text.contains(&shown_host), "{text}");
        assert!(text.contains(says), "{text}");
        assert!(
            !text.contains("scanner-test") && !text.contains("Wr0ngPa55"),
            "{text}"
        );
        assert!(!text.contains('\n'), "{text}");
    }
}

#[test]
fn a_run_locks_its_profile_import_and_prune_lock_everything() {
    let Some(url) = fresh_database() else { return };
    let default = PgWriterLock::try_acquire(&url, Some("default")).unwrap();
    assert!(default.is_some());
    assert!(
        PgWriterLock::try_acquire(&url, Some("default"))
            .unwrap()
            .is_none(),
        "a second run of one profile is refused"
    );
    let quick = PgWriterLock::try_acquire(&url, Some("quick")).unwrap();
    assert!(quick.is_some(), "another profile runs beside it");
    assert!(
        PgWriterLock::try_acquire(&url, None).unwrap().is_none(),
        "import and prune wait for no run"
    );
    drop((default, quick));
    let all = PgWriterLock::try_acquire(&url, None).unwrap();
    assert!(all.is_some());
    assert!(
        PgWriterLock::try_acquire(&url, Some("default"))
            .unwrap()
            .is_none()
    );
    drop(all);
    assert!(
        PgWriterLock::try_acquire(&url, Some("default"))
            .unwrap()
            .is_some()
    );
}

#[test]
fn readers_never_see_half_a_snapshot_while_a_run_writes() {
    let Some(url) = fresh_database() else { return };
    let db = Database::Postgres(url);
    let mut writer = Store::connect(&db).unwrap();
    let first = writer
        .save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z"))
        .unwrap();
    // A write transaction left open half-way: the reader sees the committed state only.
    writer.test_execute(
        "BEGIN;
         INSERT INTO snapshots (started_at, finished_at, profile, nmap_args, nmap_version,
                                status, hosts_up, open_ports, targets_total, targets_failed)
         VALUES ('2026-11-21T02:00:00.000000000Z', '2026-11-21T02:00:00.000000000Z',
                 'default', '', '', 'complete', 0, 0, 0, 0);",
    );
    let reader = Store::connect_read_only(&db).unwrap();
    assert_eq!(reader.latest_snapshot_id(None).unwrap(), Some(first));
    assert_eq!(reader.load_snapshot(first).unwrap().hosts.len(), 2);
    writer.test_execute("ROLLBACK");
}

#[test]
fn two_alert_syncs_never_interleave() {
    let Some(url) = fresh_database() else { return };
    let db = Database::Postgres(url);
    let mut store = Store::connect(&db).unwrap();
    let snap = store
        .save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z"))
        .unwrap();
    // Two runs raising the same alert at once: the second's decision sees the first's alert,
    // so exactly one row is raised and the unique index is never hit.
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut store = Store::connect(&db).unwrap();
                store
                    .sync_alerts(snap, |unresolved| {
                        std::thread::sleep(std::time::Duration::from_millis(200));
                        AlertChanges {
                            raise: if unresolved.is_empty() {
                                vec![NewAlert {
                                    snapshot: snap,
                                    ..crate::testdata::port_alert(
                                        "192.0.2.1",
                                        22,
                                        crate::model::Severity::High,
                                    )
                                }]
                            } else {
                                vec![]
                            },
                            ..AlertChanges::default()
                        }
                    })
                    .unwrap()
                    .raised
                    .len()
            })
        })
        .collect();
    let raised: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(raised, 1);
    assert_eq!(store.list_alerts(&AlertFilter::default()).unwrap().len(), 1);
}

#[test]
fn a_version_1_database_migrates_to_the_latest_with_its_rows_intact() {
    let Some(url) = fresh_database() else { return };
    let db = Database::Postgres(url.clone());
    {
        let mut admin = ::postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={} user=postgres password=scanner-test dbname={}",
                url.host().rsplit(':').next().unwrap(),
                url.to_string().rsplit('/').next().unwrap()
            ),
            ::postgres::NoTls,
        )
        .unwrap();
        admin
            .batch_execute(crate::store::postgres::schema::MIGRATIONS[0])
            .unwrap();
        admin
            .batch_execute(
                "CREATE TABLE schema_version (version BIGINT NOT NULL);
                 INSERT INTO schema_version VALUES (1);
                 INSERT INTO snapshots (started_at, finished_at, profile, nmap_args,
                   nmap_version, status, hosts_up, open_ports, targets_total, targets_failed)
                   VALUES ('2026-11-20T02:00:00.000000000Z', '2026-11-20T02:01:00.000000000Z',
                   'default', '', '7.93', 'complete', 1, 1, 0, 0);
                 INSERT INTO hosts (snapshot_id, position, ip, state, reason, addresses)
                   VALUES (1, 0, '192.0.2.1', 'up', '', '[]');
                 INSERT INTO ports VALUES (1, 0, 0, '192.0.2.1', 'tcp', 443, 'open', '',
                   'https', '', '', '', '', 'ssl', '', 0, '[]', NULL);",
            )
            .unwrap();
    }
    let err = Store::connect_read_only(&db).err().unwrap();
    assert!(matches!(err, StoreError::TooOld { found: 1, .. }), "{err}");
    let mut store = Store::connect(&db).unwrap();
    assert_eq!(
        store.test_query("SELECT version FROM schema_version"),
        SCHEMA_VERSION_POSTGRES
    );
    let s = store.load_snapshot(1).unwrap();
    assert_eq!(s.hosts[0].ports[0].portid, 443);
    assert_eq!(s.hosts[0].ports[0].tls, None);
    // The identity goes on after the rows a release wrote.
    let next = store
        .save_snapshot(&snapshot("default", "2026-11-21T02:00:00Z"))
        .unwrap();
    assert!(next > 1, "{next}");
    // The migration filled in the technique: the new run compares with the migrated one.
    assert_eq!(store.previous_snapshot_id(next).unwrap(), Some(1));
}

#[test]
fn outbox_senders_take_turns() {
    let Some(url) = fresh_database() else { return };
    let db = Database::Postgres(url);
    let mut first = Store::connect(&db).unwrap();
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&order);
    first
        .with_outbox_lock(|_| {
            let other = std::thread::spawn(move || {
                let mut second = Store::connect(&db).unwrap();
                second
                    .with_outbox_lock(|_| log.lock().unwrap().push("second"))
                    .unwrap();
            });
            std::thread::sleep(std::time::Duration::from_millis(300));
            order.lock().unwrap().push("first");
            other
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(*order.lock().unwrap(), ["first", "second"]);
}

/// A CA and a server certificate for 127.0.0.1 signed by it, and a second, unrelated CA.
fn certificates(dir: &std::path::Path) -> Result<(), String> {
    let openssl = |args: &[&str]| -> Result<(), String> {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("openssl: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    };
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    for ca in ["ca", "other-ca"] {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=test {ca}"),
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.crt"),
        ])?;
    }
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ])?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.crt",
    ])
}

#[test]
fn tls_to_the_database_encrypts_and_checks_the_certificate_as_the_url_says() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = certificates(dir.path()).and_then(|()| {
        crate::testdata::postgres::start_with(&[("PG_SSL_DIR", dir.path().to_str().unwrap())])
    });
    let cluster = match cluster {
        Ok(c) => c,
        Err(e) if crate::testdata::postgres::required() => panic!("TLS cluster: {e}"),
        Err(e) => {
            eprintln!("note: skipping the TLS test: {e}");
            return;
        }
    };
    let host = cluster.host();
    let ca = dir.path().join("ca.crt");
    let other = dir.path().join("other-ca.crt");
    let url = |query: &str| {
        Database::Postgres(
            PostgresUrl::parse(&format!(
                "postgres://postgres:scanner-test@{host}/postgres?{query}"
            ))
            .unwrap(),
        )
    };
    let ssl_in_use = |db: &Database| {
        Store::connect(db)
            .unwrap()
            .test_query("SELECT count(*) FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl")
    };
    // require: encrypted, certificate not checked (libpq's rule).
    assert_eq!(ssl_in_use(&url("sslmode=require")), 1);
    // verify-full against the right CA: encrypted, chain and name checked.
    let full = url(&format!("sslmode=verify-full&sslrootcert={}", ca.display()));
    assert_eq!(ssl_in_use(&full), 1);
    // verify-full against another CA: refused, one line naming the host.
    let wrong = url(&format!(
        "sslmode=verify-full&sslrootcert={}",
        other.display()
    ));
    let err = Store::connect(&wrong).err().unwrap();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(host) && text.contains("certificate"),
        "{text}"
    );
    // verify-full with the public roots only: a private CA is not trusted.
    assert!(Store::connect(&url("sslmode=verify-full")).is_err());
    // disable: plain.
    assert_eq!(ssl_in_use(&url("sslmode=disable")), 0);
}

#[test]
fn a_retried_shard_replaces_its_part_and_a_run_is_finalized_once() {
    let Some(url) = fresh_database() else { return };
    let db = Database::Postgres(url);
    let mut store = Store::connect(&db).unwrap();
    let reg = |s: &mut Store, shards, plan, shard| {
        s.register_shard("r1", shards, "quick", plan, shard)
            .unwrap()
    };
    assert_eq!(reg(&mut store, 2, "P", 0), Registration::Running);
    assert!(
        matches!(reg(&mut store, 3, "P", 1), Registration::Mismatch(m) if m.contains("2 shards"))
    );
    assert!(matches!(reg(&mut store, 2, "Q", 1), Registration::Mismatch(m) if m.contains("plan")));
    let first = store
        .commit_shard_part("r1", 0, Some("a"), false, None)
        .unwrap();
    assert_eq!((first.done, first.shards, first.complete()), (1, 2, false));
    // The same shard again (a retried pod): one more attempt, its part replaced, not added.
    assert_eq!(reg(&mut store, 2, "P", 0), Registration::Running);
    let again = store
        .commit_shard_part("r1", 0, Some("a2"), false, None)
        .unwrap();
    assert_eq!((again.done, again.complete()), (1, false));
    assert_eq!(store.shard_parts("r1").unwrap(), [(0, "a2".to_string())]);
    assert_eq!(reg(&mut store, 2, "P", 1), Registration::Running);
    let last = store
        .commit_shard_part("r1", 1, Some("b"), false, None)
        .unwrap();
    assert!(last.complete());
    let run = &store.shard_runs(Some("r1"), 5).unwrap()[0];
    assert_eq!((run.stored(), run.parts[0].attempts), (2, 2));

    // Eight finishers at once, each on its own connection: one snapshot.
    let saved: Vec<Option<i64>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let db = db.clone();
                scope.spawn(move || {
                    let mut s = Store::connect(&db).unwrap();
                    let snapshot = super::snapshot("quick", "2026-12-05T02:00:00Z");
                    s.save_finalized("r1", &snapshot, &mut |_| None).unwrap()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let ids: Vec<i64> = saved.iter().flatten().copied().collect();
    assert_eq!(ids.len(), 1, "{saved:?}");
    assert_eq!(store.list_snapshots(10, None).unwrap().len(), 1);
    // Afterwards a shard is told, and stores nothing.
    assert_eq!(
        reg(&mut store, 2, "P", 1),
        Registration::Finalized(Some(ids[0]))
    );
    let late = store
        .commit_shard_part("r1", 1, Some("c"), false, None)
        .unwrap();
    assert_eq!(late.finalized, Some(Some(ids[0])));
    let run = &store.shard_runs(Some("r1"), 5).unwrap()[0];
    assert_eq!((run.snapshot_id, run.stored()), (Some(ids[0]), 2));
    assert!(
        store
            .unfinalized_shard_runs(Timestamp::now())
            .unwrap()
            .is_empty()
    );
    // Retention takes a finalized run's bookkeeping; a waiting run stays.
    assert_eq!(
        store.register_shard("r1b", 1, "quick", "P", 0).unwrap(),
        Registration::Running
    );
    let later = Timestamp::now() + jiff::SignedDuration::from_hours(1);
    store.delete_older_than(later).unwrap();
    let left: Vec<String> = store
        .shard_runs(None, 5)
        .unwrap()
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    assert_eq!(left, ["r1b"]);
}

#[test]
fn sqlite_refuses_sharded_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("scans.db")).unwrap();
    let err = store.register_shard("r", 2, "quick", "P", 0).unwrap_err();
    assert!(
        matches!(err, StoreError::ShardsNeedPostgres { .. }),
        "{err}"
    );
    assert!(store.shard_runs(None, 5).unwrap().is_empty());
}
