//! What only the SQLite backend has: its file (a missing directory, a file that is not SQLite),
//! its busy timeout and its page limit standing in for a full disk.

use super::*;

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
fn sqlite_lock_contention_is_reported_as_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scans.db");
    let holder = Store::open(&path).unwrap();
    let mut waiter = Store::open(&path).unwrap();
    waiter.test_execute("PRAGMA busy_timeout = 0");
    holder.test_execute("BEGIN IMMEDIATE");
    let err = waiter
        .save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z"))
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Busy { .. }), "{err:?}");
    assert!(err.to_string().contains("scans.db is locked"), "{err}");
    holder.test_execute("COMMIT");
    assert!(
        waiter
            .save_snapshot(&snapshot("default", "2026-11-20T02:00:00Z"))
            .is_ok()
    );
}

#[test]
fn a_full_sqlite_database_is_reported_as_full_and_saves_nothing() {
    let (_dir, mut store) = crate::testdata::temp_store();
    let pages = store.test_query("PRAGMA page_count");
    // SQLite's own size limit stands in for a full disk: the same SQLITE_FULL.
    store.test_execute(&format!("PRAGMA max_page_count = {pages}"));
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
    let n = store.test_query("SELECT count(*) FROM snapshots");
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
