//! Sharded runs (`--shard K/N --run-id ID`, or Kubernetes' `JOB_COMPLETION_INDEX` with
//! `SCANNER_SHARDS` and `SCANNER_RUN_ID`) against a private PostgreSQL cluster: N shard
//! processes give the snapshot one process gives, finalized once (one webhook delivery), a
//! killed and retried shard leaves no duplicate, and a shard that never came leaves its
//! targets not compared. Addresses 127.0.80.x are this file's.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::alerts_env::{Answer, Receiver, webhook};
use crate::batch_env::{BIN, Install, Service, describe, not_compared, stderr, stdout};
use crate::support::postgres::fresh_database;
use crate::support::server::{Server, script};

const PORT: u16 = 18_801;
const PORTS: &str = "18801,3389";

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 80, last)
}

/// Each test's eight addresses: 127.0.80.(base+1) to (base+8).
const FOUR: u8 = 0;
const KILLED: u8 = 10;
const TIES: u8 = 20;
const MISSING: u8 = 30;
const REFUSED: u8 = 40;
const BROKEN: u8 = 50;

/// Listeners: 18801 on base+1, +2, +5, +8 and RDP (a risky port: one alert) on base+6.
fn services(base: u8) -> Vec<Service> {
    let mut list: Vec<Service> = [1, 2, 5, 8]
        .into_iter()
        .map(|n| Service::start(ip(base + n), PORT, None))
        .collect();
    list.push(Service::start(ip(base + 6), 3389, None));
    list
}

/// The entry spanning all eight addresses.
fn span(base: u8) -> String {
    format!("{}-{}", ip(base + 1), ip(base + 8))
}

fn install(database: Option<&str>, extra: &str, base: u8) -> Install {
    let top = database.map_or(String::new(), |url| format!("database = \"{url}\"\n"));
    let install = Install::new(PORTS, &format!("{top}{extra}"), "profile = \"quick\"");
    // One entry across every shard, one inside another's: targets are put back together.
    let inner = ip(base + 3).to_string();
    install.targets(&[&format!("{}  # lab", span(base)), &inner]);
    install
}

/// `daily_scan -f targets.txt` as shard `k` of `n` through the Kubernetes environment.
fn shard(install: &Install, k: u32, n: u32, run: &str) -> Child {
    install
        .command(&["-f", "targets.txt"])
        .env("JOB_COMPLETION_INDEX", k.to_string())
        .env("SCANNER_SHARDS", n.to_string())
        .env("SCANNER_RUN_ID", run)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a shard")
}

/// Runs shards `ks` of `n` at once; each must exit 0.
fn shards_at_once(install: &Install, ks: &[u32], n: u32, run: &str) -> Vec<Output> {
    let children: Vec<Child> = ks.iter().map(|&k| shard(install, k, n, run)).collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
            out
        })
        .collect()
}

fn json_of(install: &Install, args: &[&str]) -> Value {
    let out = install.run(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", describe(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn runs(install: &Install) -> Vec<Value> {
    json_of(install, &["runs", "--format", "json"])
        .as_array()
        .unwrap()
        .clone()
}

fn snapshot_ids(install: &Install) -> Vec<i64> {
    json_of(install, &["history", "--format", "json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["snapshot"]["id"].as_i64().or(r["id"].as_i64()).unwrap())
        .collect()
}

/// The scan.json a finalize wrote (the newest report folder).
fn latest_scan(install: &Install) -> Value {
    serde_json::from_str(&install.latest_scan_text()).unwrap()
}

/// Hosts as `ip port/proto state` lines and targets as `target status` lines.
fn content(scan: &Value) -> (BTreeSet<String>, Vec<String>) {
    let mut ports = BTreeSet::new();
    for h in scan["hosts"].as_array().unwrap() {
        let addr = h["addresses"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["addrtype"] == "ipv4"))
            .map(|a| a["addr"].as_str().unwrap().to_string())
            .unwrap_or_default();
        ports.insert(format!("{addr} host {}", h["state"]));
        for p in h["ports"].as_array().unwrap() {
            ports.insert(format!(
                "{addr} {}/{} {} {}",
                p["portid"], p["protocol"], p["state"], p["service"]["name"]
            ));
        }
    }
    let targets = scan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{} {}", t["target"], t["status"]))
        .collect();
    (ports, targets)
}

#[test]
fn four_shards_give_the_unsharded_snapshot_and_one_delivery() {
    let Some(url) = fresh_database() else { return };
    let _services = services(FOUR);
    let receiver = Receiver::start(&[Answer::Status(200)]);
    let sharded = install(Some(&url), &webhook(&receiver.url, ""), FOUR);
    let outputs = shards_at_once(&sharded, &[0, 1, 2, 3], 4, "night-1");
    let finalizers = outputs
        .iter()
        .filter(|o| stdout(o).contains("Reports: "))
        .count();
    assert_eq!(finalizers, 1, "exactly one shard finalizes");

    let list = runs(&sharded);
    assert_eq!(list.len(), 1, "{list:?}");
    let run = &list[0];
    assert_eq!(run["run_id"], "night-1");
    assert_eq!(run["shards"], 4);
    assert!(run["finalized_at"].is_string(), "{run}");
    let parts = run["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 4);
    assert!(
        parts
            .iter()
            .all(|p| p["state"] == "done" && p["attempts"] == 1)
    );
    assert_eq!(snapshot_ids(&sharded).len(), 1, "one snapshot for the run");

    // The same targets in one process, on its own database.
    let whole = install(None, "", FOUR);
    whole.scan(&[], &[], 0);
    let (want_ports, want_targets) = content(&latest_scan(&whole));
    let (got_ports, got_targets) = content(&latest_scan(&sharded));
    assert!(
        want_ports
            .iter()
            .any(|l| l.contains("3389/\"tcp\" \"open\"")),
        "{want_ports:?}"
    );
    assert_eq!(got_ports, want_ports);
    assert_eq!(got_targets, want_targets);

    // One alert (RDP open) raised once, delivered once.
    std::thread::sleep(Duration::from_millis(300));
    let received = receiver.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(received[0].body.contains("3389"), "{}", received[0].body);

    // A shard that comes after the finish changes nothing.
    let late = shards_at_once(&sharded, &[2], 4, "night-1");
    assert!(
        stdout(&late[0]).contains("finalized already"),
        "{}",
        describe(&late[0])
    );
    assert_eq!(snapshot_ids(&sharded).len(), 1);
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn a_killed_shard_run_again_leaves_one_snapshot_without_duplicates() {
    let Some(url) = fresh_database() else { return };
    let _services = services(KILLED);
    let sharded = install(Some(&url), "", KILLED);
    // Shard 1 with an nmap that takes its time, killed mid-run (as a node failure would).
    let slow = script(
        sharded.dir.path(),
        "slow-nmap",
        "case \"$*\" in *--version*) ;; *) sleep 20 ;; esac\nexec /usr/bin/nmap \"$@\"",
    );
    let config = std::fs::read_to_string(sharded.path("config.toml")).unwrap();
    std::fs::write(
        sharded.path("slow.toml"),
        format!("nmap_path = \"{}\"\n{config}", slow.display()),
    )
    .unwrap();
    let mut doomed = Command::new(BIN)
        .current_dir(sharded.dir.path())
        .args([
            "--config",
            "slow.toml",
            "-f",
            "targets.txt",
            "--shard",
            "1/2",
        ])
        .args(["--run-id", "night-2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Registered (running) before it dies.
    let mut registered = false;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(100));
        let list = runs(&sharded);
        if list
            .first()
            .is_some_and(|r| r["parts"].as_array().unwrap().len() == 1)
        {
            registered = true;
            break;
        }
    }
    assert!(registered, "the slow shard never registered");
    doomed.kill().unwrap(); // SIGKILL
    doomed.wait().unwrap();
    let run = &runs(&sharded)[0];
    assert_eq!(run["parts"][0]["state"], "running", "{run}");

    shards_at_once(&sharded, &[0], 2, "night-2");
    let out = sharded.run(&["-f", "targets.txt", "--shard", "1/2", "--run-id", "night-2"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("Reports: "),
        "the retry finalizes: {}",
        describe(&out)
    );

    let run = &runs(&sharded)[0];
    let parts = run["parts"].as_array().unwrap();
    assert_eq!(parts[1]["attempts"], 2, "{run}");
    assert!(parts.iter().all(|p| p["state"] == "done"), "{run}");
    assert_eq!(snapshot_ids(&sharded).len(), 1);
    let (ports, targets) = content(&latest_scan(&sharded));
    let hosts: Vec<&String> = ports.iter().filter(|l| l.contains(" host ")).collect();
    assert_eq!(hosts.len(), 9 - 1, "each address once: {ports:?}");
    assert!(
        targets.iter().all(|t| t.ends_with("\"completed\"")),
        "{targets:?}"
    );
    // The database agrees: no address twice in the snapshot.
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let row = db
        .query_one("SELECT count(*), count(DISTINCT ip) FROM hosts", &[])
        .unwrap();
    let (all, distinct): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!((all, distinct), (8, 8));
}

#[test]
fn shards_finishing_together_finalize_once() {
    let Some(url) = fresh_database() else { return };
    let _services = services(TIES);
    let sharded = install(Some(&url), "", TIES);
    for (i, run) in ["tie-1", "tie-2", "tie-3"].iter().enumerate() {
        let outputs = shards_at_once(&sharded, &[0, 1], 2, run);
        let finalizers = outputs
            .iter()
            .filter(|o| stdout(o).contains("Reports: "))
            .count();
        assert_eq!(finalizers, 1, "{run}: {outputs:?}");
        assert_eq!(snapshot_ids(&sharded).len(), i + 1, "{run}");
    }
}

#[test]
fn a_shard_that_never_came_leaves_its_targets_not_compared() {
    let Some(url) = fresh_database() else { return };
    let _services = services(MISSING);
    let sharded = install(Some(&url), "", MISSING);
    shards_at_once(&sharded, &[0, 1], 2, "day-1");
    // The next night shard 1 never runs.
    let env = [
        ("JOB_COMPLETION_INDEX", "0"),
        ("SCANNER_SHARDS", "2"),
        ("SCANNER_RUN_ID", "day-2"),
    ];
    let out = sharded.run_with(
        &["-f", "targets.txt", "--metrics-file", "shards.prom"],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("1 of 2 shards in"),
        "{}",
        describe(&out)
    );
    let prom = std::fs::read_to_string(sharded.path("shards.prom")).unwrap();
    let profile = "profile=\"quick+ports=3389,18801\"";
    for line in [
        format!("daily_scan_sharded_run_shards{{{profile},state=\"done\"}} 1"),
        format!("daily_scan_sharded_run_shards{{{profile},state=\"missing\"}} 1"),
        format!("daily_scan_sharded_run_finalized{{{profile}}} 0"),
    ] {
        assert!(prom.lines().any(|l| l == line), "{line}\n{prom}");
    }
    // api_server's /metrics says the same from the database.
    let server = Server::start(&[("database", &format!("\"{url}\""))]);
    let page = server.get("/").body;
    assert!(
        page.contains("Sharded runs in progress") && page.contains(">day-2<"),
        "{page}"
    );
    assert!(page.contains("<td>1 of 2</td>"), "{page}");
    let metrics = server.get("/metrics").body;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("scanner_sharded_run_shards{")
                && l.contains("state=\"missing\"")
                && l.ends_with(" 1")),
        "{metrics}"
    );
    let waiting = sharded.run(&["finalize", "--after", "1h"]);
    assert_eq!(waiting.status.code(), Some(0), "{}", describe(&waiting));
    assert!(
        stdout(&waiting).contains("No sharded run is waiting"),
        "{}",
        describe(&waiting)
    );
    let list = runs(&sharded);
    assert_eq!(list[0]["run_id"], "day-2");
    assert!(list[0]["finalized_at"].is_null());
    let table = stdout(&sharded.run(&["runs"]));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("day-2") && l.ends_with("waiting")),
        "{table}"
    );

    std::thread::sleep(Duration::from_millis(1100));
    let fin = sharded.run(&["finalize", "--after", "1s", "--format", "json"]);
    assert_eq!(fin.status.code(), Some(0), "{}", describe(&fin));
    let delta: Value =
        serde_json::from_slice(&fin.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&fin)));
    assert_eq!(
        delta["changes"],
        serde_json::json!([]),
        "nothing closed or gone"
    );
    let reasons = not_compared(&delta);
    assert_eq!(
        reasons,
        [format!("{} shard_missing", span(MISSING))],
        "{delta}"
    );
    let list = runs(&sharded);
    assert!(list[0]["finalized_at"].is_string());
    assert_eq!(snapshot_ids(&sharded).len(), 2);
    // Finalizing again does nothing.
    let again = sharded.run(&["finalize", "--run-id", "day-2"]);
    assert!(
        stdout(&again).contains("finalized already"),
        "{}",
        describe(&again)
    );
    assert_eq!(snapshot_ids(&sharded).len(), 2);
    // The runs move to SQLite like any others, shard_missing targets included.
    let copy = sharded.path("copy.db");
    let moved = sharded.run(&["migrate-store", "--to", copy.to_str().unwrap()]);
    assert_eq!(moved.status.code(), Some(0), "{}", describe(&moved));
    let report = |db: &str| {
        let out = sharded.run(&["--db", db, "report", "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["to"]["finished_at"] = Value::Null;
        v
    };
    let there = report(copy.to_str().unwrap());
    assert_eq!(
        not_compared(&there),
        [format!("{} shard_missing", span(MISSING))]
    );
    assert_eq!(there, report(&url));
}

#[test]
fn a_shard_whose_nmap_fails_is_failed_and_its_targets_not_compared_as_failed() {
    let Some(url) = fresh_database() else { return };
    let _services = services(BROKEN);
    let sharded = install(Some(&url), "", BROKEN);
    shards_at_once(&sharded, &[0, 1], 2, "ok-1");
    // The dry run of a shard says which nmap runs are whose.
    let plan = sharded.run(&[
        "-f",
        "targets.txt",
        "--shard",
        "1/2",
        "--run-id",
        "x",
        "--dry-run",
    ]);
    assert!(stdout(&plan).contains("(shard 1/2)"), "{}", describe(&plan));
    let broken = script(
        sharded.dir.path(),
        "broken-nmap",
        "echo 'segfault' >&2; exit 139",
    );
    let config = std::fs::read_to_string(sharded.path("config.toml")).unwrap();
    std::fs::write(
        sharded.path("broken.toml"),
        format!("nmap_path = \"{}\"\n{config}", broken.display()),
    )
    .unwrap();
    shards_at_once(&sharded, &[0], 2, "ok-2");
    let out = Command::new(BIN)
        .current_dir(sharded.dir.path())
        .args([
            "--config",
            "broken.toml",
            "-f",
            "targets.txt",
            "--shard",
            "1/2",
        ])
        .args(["--run-id", "ok-2", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let delta: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&out)));
    assert_eq!(delta["changes"], serde_json::json!([]), "{delta}");
    let reasons: Vec<&str> = delta["not_compared"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["failed"], "{delta}");
    let run = &runs(&sharded)[0];
    assert_eq!(run["parts"][1]["state"], "failed", "{run}");
    assert!(run["parts"][1]["stored"].as_bool().unwrap(), "{run}");
    let table = stdout(&sharded.run(&["runs"]));
    let line = table.lines().find(|l| l.starts_with("ok-2")).unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    // RUN, STARTED (date, time, UTC), SHARDS, DONE, FAILED, RUNNING, MISSING, SNAPSHOT, STATE
    assert_eq!(
        cells[cells.len() - 7..],
        ["2", "1", "1", "0", "0", "2", "finalized"],
        "{table}"
    );
}

#[test]
fn shards_need_postgres_and_a_whole_identity() {
    let sqlite = install(None, "", REFUSED);
    let out = sqlite.run(&["-f", "targets.txt", "--shard", "0/2", "--run-id", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("need a PostgreSQL database"),
        "{}",
        describe(&out)
    );
    let out = sqlite.run_with(&["-f", "targets.txt"], &[("JOB_COMPLETION_INDEX", "1")]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("SCANNER_SHARDS missing"),
        "{}",
        describe(&out)
    );
    for (spec, id) in [("2/2", "x"), ("0/2", "bad id"), ("0/2", "-x")] {
        let out = sqlite.run(&["-f", "targets.txt", "--shard", spec, "--run-id", id]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{spec} {id}: {}",
            describe(&out)
        );
    }
}
