//! The read API of the real `api_server` over a database filled by real `daily_scan` runs
//! (real nmap against loopback listeners): what it serves equals the files the runs wrote,
//! it pages and exports, it refuses bad input, it guards alert actions by token scope, and it
//! keeps answering while a batch writes. Addresses 127.0.30.x and 127.0.31.x are this file's.

use std::net::Ipv4Addr;
use std::process::Stdio;

use serde_json::Value;

use crate::batch_env::{Install, Service, changes, describe};
use crate::support::server::{Server, request};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 30, 1);
const C: Ipv4Addr = Ipv4Addr::new(127, 0, 30, 3);
const SSH: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";

/// `api_server` reading `install`'s database, with extra `[api]`/top-level settings.
pub fn server_for(install: &Install, extra: &[(&str, &str)]) -> Server {
    let db = format!("\"{}\"", install.db().display());
    let mut settings = vec![("database", db.as_str())];
    settings.extend_from_slice(extra);
    Server::start(&settings)
}

fn ids(v: &Value, list: &str) -> Vec<i64> {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list}: {v}"))
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn read_api_serves_what_the_runs_wrote() {
    let install = Install::new("18022,3389", "", "profile = \"default\"");
    install.targets(&["127.0.30.0/30  # lab", "127.0.30.3"]);
    let ssh = Service::start(A, 18022, Some(SSH));
    install.scan(&[], &[], 0);
    let rdp = Service::start(C, 3389, None);
    let second = install.scan(&[], &[], 0);
    drop(ssh);
    let third = install.scan(&[], &[], 0);
    drop(rdp);
    let server = server_for(&install, &[]);

    // Snapshots, newest first, in pages.
    let all = server.get("/api/snapshots").json();
    assert_eq!(ids(&all, "snapshots"), [3, 2, 1]);
    assert_eq!(all["snapshots"][1]["open_ports"], 2);
    let first_page = server.get("/api/snapshots?limit=2");
    assert_eq!(ids(&first_page.json(), "snapshots"), [3, 2]);
    assert_eq!(
        first_page.header("Link"),
        Some("</api/snapshots?limit=2&before=2>; rel=\"next\"")
    );
    let last_page = server.get("/api/snapshots?limit=2&before=2").json();
    assert_eq!(ids(&last_page, "snapshots"), [1]);
    assert_eq!(last_page["next_before"], Value::Null);

    // A snapshot's hosts and ports.
    let snap = server.get("/api/snapshots/2").json();
    let rdp_host = snap["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["addresses"][0]["addr"] == "127.0.30.3")
        .unwrap_or_else(|| panic!("no 127.0.30.3 in {snap}"));
    assert!(
        rdp_host["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["portid"] == 3389 && p["state"] == "open")
    );

    // The delta of a snapshot is the run's own delta.json and delta.csv.
    let api = server.get("/api/snapshots/2/delta").json();
    let file = second.delta();
    for key in [
        "from",
        "to",
        "status",
        "score",
        "summary",
        "changes",
        "not_compared",
    ] {
        assert_eq!(api[key], file[key], "{key}");
    }
    assert_eq!(changes(&api), ["port_opened critical 127.0.30.3 3389/tcp"]);
    let csv = server.get("/api/snapshots/3/delta?format=csv");
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.body,
        std::fs::read_to_string(third.dir.join("delta.csv")).unwrap()
    );

    // Any two snapshots.
    let d = server.get("/api/delta?from=1&to=3").json();
    assert_eq!(
        changes(&d),
        [
            "port_closed info 127.0.30.1 18022/tcp",
            "port_opened critical 127.0.30.3 3389/tcp"
        ]
    );

    // Trends: one point per snapshot, oldest first.
    let t = server.get("/api/stats/trends?days=7").json();
    let points = t["snapshots"].as_array().unwrap();
    let open: Vec<i64> = points
        .iter()
        .map(|p| p["open_ports"].as_i64().unwrap())
        .collect();
    assert_eq!(open, [1, 2, 1]);
    assert_eq!(points[1]["delta_status"], "critical");
    assert_eq!(points[1]["score"], 70);
    let csv = server.get("/api/stats/trends?format=csv").body;
    assert_eq!(csv.lines().count(), 4, "{csv}");

    // Errors are JSON with a code and the field at fault.
    for (path, status, code) in [
        ("/api/snapshots/99", 404, "snapshot_not_found"),
        ("/api/snapshots/99/delta", 404, "snapshot_not_found"),
        ("/api/delta?from=1&to=99", 404, "snapshot_not_found"),
        ("/api/delta?to=2", 400, "missing_parameter"),
        ("/api/snapshots?limit=abc", 400, "invalid_parameter"),
        ("/api/snapshots?before=0", 400, "invalid_parameter"),
        ("/api/stats/trends?days=-1", 400, "invalid_parameter"),
        ("/api/alerts?status=new", 400, "invalid_parameter"),
        ("/api/snapshots?sort=id", 400, "unknown_parameter"),
    ] {
        let r = server.get(path);
        assert_eq!(
            (r.status, r.error().1.as_str()),
            (status, code),
            "{path}: {}",
            r.body
        );
    }
}

/// The ids of the open alerts the run raised for its `port_opened` changes, in the delta's
/// order (the run raises them; the tests act on them through the API).
pub fn run_alerts(install: &Install, delta: &Value) -> Vec<i64> {
    use security_scanner::store::{AlertFilter, Store};
    let store = Store::open_read_only(&install.db()).unwrap();
    let alerts = store.list_alerts(&AlertFilter::default()).unwrap();
    delta["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "port_opened")
        .map(|c| {
            let port = c["port"].as_u64().map(|p| p as u16);
            alerts
                .iter()
                .find(|a| a.ip == c["ip"].as_str().unwrap() && a.port == port)
                .unwrap_or_else(|| panic!("no alert for {c} in {alerts:?}"))
                .id
        })
        .collect()
}

#[test]
fn alert_actions_need_a_write_token_when_tokens_are_configured() {
    let install = Install::new("18023", "", "profile = \"quick\"");
    install.targets(&["127.0.30.10"]);
    install.scan(&[], &[], 0);
    let _svc = Service::start(Ipv4Addr::new(127, 0, 30, 10), 18023, None);
    let run = install.scan(&[], &[], 0);
    let alert = run_alerts(&install, &run.delta())[0];
    let writer = "writer-token-0123456789";
    let reader = "reader-token-0123456789";
    let server = server_for(
        &install,
        &[
            ("api.tokens", &format!("[\"{writer}\"]")),
            ("api.read_tokens", &format!("[\"{reader}\"]")),
        ],
    );
    let bearer = |t: &str| format!("Bearer {t}");
    let ack = format!("/api/alerts/{alert}/ack");
    let get = |path: &str, token: &str| {
        request(
            server.addr,
            "GET",
            path,
            &[("Authorization", &bearer(token))],
            b"",
        )
    };
    let post = |token: Option<&str>| {
        let auth = token.map(bearer).unwrap_or_default();
        let headers: Vec<(&str, &str)> = match token {
            Some(_) => vec![("Authorization", auth.as_str())],
            None => vec![],
        };
        request(server.addr, "POST", &ack, &headers, b"")
    };

    let page = server.get("/");
    assert_eq!(page.status, 401);
    assert!(
        page.header("WWW-Authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(get("/", reader).status, 200);
    assert_eq!(
        get("/api/alerts", reader).json()["alerts"][0]["status"],
        "open"
    );
    assert_eq!(post(None).error().0, 401);
    assert_eq!(
        post(Some(reader)).error(),
        (403, "insufficient_scope".into(), None)
    );
    let done = post(Some(writer));
    assert_eq!(
        (done.status, done.json()["status"].as_str()),
        (200, Some("actioned"))
    );
    let again = post(Some(writer));
    assert_eq!(again.error().0, 409);
    let listed = get("/api/alerts?status=actioned&format=csv", reader).body;
    assert!(
        listed.lines().nth(1).unwrap().starts_with(&format!(
            "{alert},port_opened,low,actioned,127.0.30.10,tcp,18023,"
        )),
        "{listed}"
    );
}

#[test]
fn reads_keep_answering_while_a_batch_writes() {
    let install = Install::new("18024", "", "profile = \"quick\"\nchunk_size = 64");
    install.targets(&["127.0.31.0/24"]);
    let _svc = Service::start(Ipv4Addr::new(127, 0, 31, 7), 18024, None);
    install.scan(&[], &[], 0);
    let server = server_for(&install, &[]);
    let mut batch = install
        .command(&["-f", "targets.txt"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn daily_scan");
    let mut reads = 0;
    let paths = [
        "/api/snapshots",
        "/api/snapshots/1/delta",
        "/api/stats/trends",
        "/api/alerts",
        "/",
    ];
    while batch.try_wait().unwrap().is_none() {
        for path in paths {
            let r = server.get(path);
            assert_eq!(r.status, 200, "{path} during a run: {}", r.body);
            reads += 1;
        }
    }
    let out = batch.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(reads >= paths.len(), "the run ended before any read");
    let after = server.get("/api/snapshots").json();
    assert_eq!(ids(&after, "snapshots"), [2, 1]);
    assert_eq!(after["snapshots"][0]["open_ports"], 1, "{after}");
    assert_eq!(
        server.get("/api/snapshots/2/delta").json()["status"],
        "stable"
    );
}
