//! A run killed with SIGKILL half-way leaves no partial snapshot and a sound database, and the
//! next run compares with the last complete one; while a run is going, a second one refuses
//! to start. Addresses 127.0.12.x are this test's.

use std::net::Ipv4Addr;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use crate::batch_env::{Install, Service, changes, faulty_nmap, not_compared, snapshot_count};
use crate::support::{process_alive, read_pids, wait_until_dead};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 12, 1);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 12, 2);

#[test]
fn kill_9_mid_run_leaves_no_partial_snapshot_and_a_second_run_is_refused() {
    let install = Install::new(
        "18090,18091",
        &format!(
            "nmap_path = \"{}\"\nnmap_timeout = 120",
            faulty_nmap().display()
        ),
        "profile = \"quick\"\nchunk_size = 1",
    );
    install.targets(&["127.0.12.1", "127.0.12.2"]);
    let _a = Service::start(A, 18090, None);
    let baseline = install.scan(&[], &[], 0);
    assert_eq!(baseline.delta()["to"]["snapshot"], 1);

    // A run whose nmap for 127.0.12.2 hangs: 127.0.12.1 completes, the run waits.
    let pids = install.path("hung-nmap.pids");
    let mut victim = install
        .command(&["-f", "targets.txt"])
        .env("FAKE_NMAP_HANG", "127.0.12.2")
        .env("FAKE_NMAP_PIDS", &pids)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while !pids.exists() {
        assert!(Instant::now() < until, "the hanging nmap never started");
        thread::sleep(Duration::from_millis(20));
    }

    // Meanwhile a second run is refused, with the holder named.
    let second = install.run(&["-f", "targets.txt"]);
    assert_eq!(second.status.code(), Some(2));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("another daily_scan is already writing")
            && err.contains(&format!("pid {}", victim.id())),
        "{err}"
    );

    victim.kill().unwrap(); // SIGKILL
    victim.wait().unwrap();
    // The orphaned fake nmap is ours to stop (its process group outlives a SIGKILLed parent).
    for pid in read_pids(&pids) {
        if process_alive(pid, "sleep") {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            assert!(wait_until_dead(pid, "sleep", Duration::from_secs(5)));
        }
    }

    // No partial snapshot, and SQLite finds nothing wrong.
    let db = install.db();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    assert_eq!(snapshot_count(&db), 1);
    let folders = std::fs::read_dir(install.path("out"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(folders, 1, "the killed run wrote no report");

    // The next run compares with the baseline and sees exactly what changed since.
    let _b = Service::start(B, 18091, None);
    let next = install.scan(&[], &[], 0);
    let d = next.delta();
    assert_eq!(d["from"]["snapshot"], 1, "{d}");
    assert_eq!(d["to"]["snapshot"], 2);
    assert_eq!(changes(&d), ["port_opened low 127.0.12.2 18091/tcp"]);
    assert_eq!(not_compared(&d), Vec::<String>::new());
    assert_eq!(snapshot_count(&db), 2);
}
