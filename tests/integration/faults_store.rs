//! daily_scan when the database cannot be written (issue 8): a read-only file, a full disk (a
//! 2 MiB tmpfs), a lock held by another writer. Each run fails with a message naming the cause,
//! stores nothing partial, leaves a database that passes `PRAGMA integrity_check`, and the next
//! run once the fault is gone compares with the last good snapshot. Addresses 127.0.51.x.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::batch_env::{Install, Service, changes, describe, snapshot_count, stderr};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 51, 1);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 51, 2);

fn install(ports: &str) -> Install {
    let install = Install::new(ports, "", "profile = \"quick\"");
    install.targets(&["127.0.51.1", "127.0.51.2"]);
    install
}

pub fn integrity(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

fn run_fails_cleanly(install: &Install, cause: &str) {
    let out = install.run(&["-f", "targets.txt"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains(cause),
        "expected {cause:?}: {}",
        describe(&out)
    );
    assert!(err.contains("scans.db"), "the database is not named: {err}");
}

/// After the fault: a new port on B is the only change against the baseline.
fn next_run_compares_with_the_baseline(install: &Install, port: u16) {
    let _b = Service::start(B, port, None);
    let d = install.scan(&[], &[], 0).delta();
    assert_eq!(d["from"]["snapshot"], 1, "{d}");
    assert_eq!(
        changes(&d),
        [format!("port_opened low 127.0.51.2 {port}/tcp")]
    );
    assert_eq!(integrity(&install.db()), "ok");
    assert_eq!(snapshot_count(&install.db()), 2);
}

/// Clears the immutable flag even when the test fails, so the temp dir can be removed.
struct Immutable(PathBuf);

impl Immutable {
    fn set(path: PathBuf) -> Immutable {
        let ok = Command::new("chattr")
            .arg("+i")
            .arg(&path)
            .status()
            .unwrap();
        assert!(ok.success(), "chattr +i {}", path.display());
        Immutable(path)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
fn a_read_only_database_file_is_reported_and_left_intact() {
    let _a = Service::start(A, 18510, None);
    let install = install("18510,18511");
    install.scan(&[], &[], 0);
    {
        // Root ignores file modes; the immutable flag binds root too.
        let _ro = Immutable::set(install.db());
        run_fails_cleanly(&install, "is read-only");
    }
    assert_eq!(integrity(&install.db()), "ok");
    assert_eq!(snapshot_count(&install.db()), 1);
    next_run_compares_with_the_baseline(&install, 18511);
}

/// A small tmpfs mounted over the output directory; unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: PathBuf, size: &str) -> Tmpfs {
        std::fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(
            ok.success(),
            "mount -t tmpfs needs root ({})",
            dir.display()
        );
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros to `path` until the filesystem is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 4096];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
}

#[test]
fn a_full_disk_is_reported_and_stores_nothing_partial() {
    let _a = Service::start(A, 18512, None);
    let install = install("18512,18513");
    let _fs = Tmpfs::mount(install.path("out"), "2m");
    install.scan(&[], &[], 0);
    let filler = install.path("out/filler");
    fill(&filler);
    // SQLite reports ENOSPC as "full" or, when growing the WAL index, as an I/O error.
    let out = install.run(&["-f", "targets.txt"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the disk is full") || err.contains("check that its disk has free space"),
        "{}",
        describe(&out)
    );
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(integrity(&install.db()), "ok");
    assert_eq!(snapshot_count(&install.db()), 1);
    next_run_compares_with_the_baseline(&install, 18513);
}

#[test]
fn a_database_locked_by_another_writer_is_reported_as_busy() {
    let _a = Service::start(A, 18514, None);
    let install = install("18514,18515");
    install.scan(&[], &[], 0);
    {
        let other = rusqlite::Connection::open(install.db()).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        run_fails_cleanly(&install, "locked by another process");
        other.execute_batch("ROLLBACK").unwrap();
    }
    assert_eq!(snapshot_count(&install.db()), 1);
    next_run_compares_with_the_baseline(&install, 18515);
}
