//! The same product on PostgreSQL: the same `daily_scan` runs, commands and `api_server`
//! reads over SQLite and over a private PostgreSQL cluster give the same answers (the JSON,
//! times aside); a database that cannot be used fails clearly and writes nothing. Addresses
//! 127.0.70.x are this file's.

use std::net::Ipv4Addr;

use serde_json::Value;

use crate::batch_env::{Install, Service, describe, stderr, stdout};
use crate::support::postgres::fresh_database;
use crate::support::server::{Server, free_port};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 70, 1);
const C: Ipv4Addr = Ipv4Addr::new(127, 0, 70, 3);
const SSH: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
const PORTS: &str = "18722,3389";

/// Fields that differ between two runs of the same steps: when they happened (nmap's host
/// times too), how long.
const TIMES: &[&str] = &[
    "started_at",
    "finished_at",
    "created_at",
    "updated_at",
    "attempted_at",
    "duration_seconds",
    "uptime_seconds",
    "generated_at",
    "starttime",
    "endtime",
];

fn without_times(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if TIMES.contains(&k.as_str()) {
                    *v = Value::Null;
                } else {
                    without_times(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(without_times),
        _ => {}
    }
}

fn json(text: &str, what: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
    without_times(&mut v);
    v
}

fn install(database: Option<&str>) -> Install {
    let top = database.map_or(String::new(), |url| format!("database = \"{url}\"\n"));
    let install = Install::new(PORTS, &top, "profile = \"default\"");
    install.targets(&["127.0.70.0/30  # lab", "127.0.70.3"]);
    install
}

/// What the CLI answers after the runs, as JSON.
fn cli_answers(install: &Install) -> Vec<(String, Value)> {
    let ack = install.run(&["alerts", "ack", "1", "--note", "ticket SEC-7"]);
    assert!(ack.status.success(), "{}", describe(&ack));
    let commands: [&[&str]; 5] = [
        &["history", "--format", "json"],
        &["report", "2", "--format", "json"],
        &["report", "--format", "json"],
        &["diff", "1", "2", "--format", "json"],
        &["alerts", "--format", "json"],
    ];
    commands
        .iter()
        .map(|args| {
            let out = install.run(args);
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{args:?}: {}",
                describe(&out)
            );
            let name = args.join(" ");
            let value = json(&stdout(&out), &name);
            (name, value)
        })
        .collect()
}

/// What api_server answers over the same database, as JSON (the dashboard with its digits
/// masked: it shows times).
fn api_answers(database: &str) -> Vec<(String, Value)> {
    let server = Server::start(&[("database", &format!("\"{database}\""))]);
    let mut answers: Vec<(String, Value)> = [
        "/api/snapshots",
        "/api/snapshots/2",
        "/api/snapshots/2?limit=1",
        "/api/snapshots/2?limit=1&after=0",
        "/api/snapshots/2?after=0",
        "/api/snapshots/2/delta",
        "/api/delta?from=1&to=2",
        "/api/alerts",
        "/api/stats/trends?days=3650",
    ]
    .iter()
    .map(|path| {
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        (path.to_string(), json(&reply.body, path))
    })
    .collect();
    let page = server.get("/");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("127.0.70.3"), "{}", page.body);
    let masked: String = page
        .body
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect();
    answers.push(("/".into(), Value::String(masked)));
    let health = server.get("/api/health").json();
    assert_eq!(health["database"]["state"], "ok", "{health}");
    answers
}

#[test]
fn the_same_steps_give_the_same_answers_on_sqlite_and_postgres() {
    let Some(url) = fresh_database() else { return };
    let lite = install(None);
    let pg = install(Some(&url));
    let ssh = Service::start(A, 18722, Some(SSH));
    for install in [&lite, &pg] {
        install.scan(&[], &[], 0);
    }
    let rdp = Service::start(C, 3389, None);
    for install in [&lite, &pg] {
        let run = install.scan(&[], &[], 0);
        assert!(run.text().contains("3389"), "{}", run.text());
    }
    drop((ssh, rdp));

    let on_sqlite = cli_answers(&lite);
    let on_postgres = cli_answers(&pg);
    for ((name, a), (_, b)) in on_sqlite.iter().zip(&on_postgres) {
        assert_eq!(
            a, b,
            "daily_scan {name} differs between SQLite and PostgreSQL"
        );
    }
    let alerts = &on_postgres[4].1;
    assert!(
        alerts.to_string().contains("ticket SEC-7"),
        "the ack reached PostgreSQL: {alerts}"
    );

    let on_sqlite = api_answers(&lite.db().display().to_string());
    let on_postgres = api_answers(&url);
    for ((path, a), (_, b)) in on_sqlite.iter().zip(&on_postgres) {
        assert_eq!(a, b, "GET {path} differs between SQLite and PostgreSQL");
    }
    // The password never shows, in the runs' output or the server's log.
    let out = pg.run(&["history"]);
    assert!(!stdout(&out).contains("scanner-test") && !stderr(&out).contains("scanner-test"));
}

#[test]
fn migrate_store_moves_a_sqlite_store_to_postgres_with_equal_counts() {
    let Some(url) = fresh_database() else { return };
    let lite = install(None);
    let ssh = Service::start(A, 18722, Some(SSH));
    lite.scan(&["--ports", "18722"], &[], 0);
    drop(ssh);
    lite.scan(&["--ports", "18722"], &[], 0);
    let out = lite.run(&["migrate-store", "--to", &url]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.contains("counts match"), "{text}");
    for table in ["snapshots", "hosts", "ports", "alerts"] {
        assert!(text.contains(table), "{text}");
    }
    assert!(!text.contains("scanner-test"), "{text}");
    let history = |db: &str| {
        let out = lite.run(&["--db", db, "history", "--format", "json"]);
        assert!(out.status.success(), "{}", describe(&out));
        json(&stdout(&out), "history")
    };
    assert_eq!(history(&lite.db().display().to_string()), history(&url));
    // A second copy is refused: the target is no longer empty.
    let again = lite.run(&["migrate-store", "--to", &url]);
    assert_eq!(again.status.code(), Some(2), "{}", describe(&again));
    assert!(stderr(&again).contains("empty"), "{}", describe(&again));
}

#[test]
fn an_unusable_database_is_one_line_exit_2_and_http_503() {
    let Some(url) = fresh_database() else { return };
    let host_port = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_string();
    let dead = format!("127.0.0.1:{}", free_port());
    let cases = [
        (
            format!("postgres://postgres:scanner-test@{dead}/x"),
            dead.clone(),
        ),
        (
            url.replace("scanner-test", "not-the-password"),
            host_port.clone(),
        ),
        (
            format!("postgres://postgres:scanner-test@{host_port}/missing_db"),
            host_port.clone(),
        ),
        (format!("{url}?sslmode=require"), host_port.clone()),
    ];
    let lite = install(None);
    for (bad, host) in &cases {
        // A run fails before scanning, with one line naming the host and no password.
        let out = lite.run(&["--db", bad, "-f", "targets.txt"]);
        assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
        let err = stderr(&out);
        let line = err
            .lines()
            .find(|l| l.starts_with("daily_scan: "))
            .unwrap_or_else(|| panic!("{err}"));
        assert!(line.contains(host.as_str()), "{line}");
        assert!(
            !err.contains("scanner-test") && !err.contains("not-the-password"),
            "{err}"
        );
        assert!(!lite.path("out").join("scans.db").exists());
        // Reads too.
        let out = lite.run(&["--db", bad, "history"]);
        assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    }
    // api_server starts (the pool connects lazily) and answers 503 database_unavailable.
    let server = Server::start(&[("database", &format!("\"{}\"", cases[0].0))]);
    let reply = server.get("/api/snapshots");
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.json()["error"]["code"], "database_unavailable");
    let health = server.get("/api/health");
    assert_eq!(health.status, 503, "{}", health.body);
    assert_eq!(health.json()["database"]["state"], "unavailable");
    assert!(!server.log().contains("scanner-test"), "{}", server.log());
    // A malformed URL is a configuration error naming the key.
    let out = lite.run(&[
        "--db",
        "postgres://postgres@127.0.0.1:notaport/x",
        "history",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("database"), "{}", describe(&out));
}

#[test]
fn two_runs_of_one_profile_on_one_postgres_database_never_interleave() {
    let Some(url) = fresh_database() else { return };
    // An nmap that waits 3 s before scanning: the first run holds its profile's lock meanwhile.
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("nmap.log");
    let nmap = crate::support::server::logging_nmap(bin.path(), &log, 3.0);
    let top = format!("database = \"{url}\"\nnmap_path = \"{}\"\n", nmap.display());
    let install = Install::new(PORTS, &top, "profile = \"default\"");
    install.targets(&["127.0.70.1"]);
    let mut first = install
        .command(&["-f", "targets.txt", "--ports", "18722"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while crate::support::server::logged_scans(&log).is_empty() {
        assert!(
            std::time::Instant::now() < until,
            "the first run never scanned"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Same profile and ports: refused at once, naming the profile, writing nothing.
    let second = install.run(&["-f", "targets.txt", "--ports", "18722"]);
    assert_eq!(second.status.code(), Some(2), "{}", describe(&second));
    assert!(
        stderr(&second).contains("already writing profile default+ports=18722"),
        "{}",
        describe(&second)
    );
    // Another profile (another port set) runs beside it.
    let other = install.run(&["-f", "targets.txt", "--ports", "18723"]);
    assert!(
        matches!(other.status.code(), Some(0 | 1)),
        "{}",
        describe(&other)
    );
    assert!(first.wait().unwrap().success());
    let history = install.run(&["history", "--format", "json"]);
    let rows = json(&stdout(&history), "history");
    assert_eq!(rows.as_array().map(Vec::len), Some(2), "{rows}");
}
