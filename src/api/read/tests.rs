//! The read API, alert actions and the dashboard through the whole request pipeline, on
//! rouille's fake requests over a database built here (made-up 192.0.2.0/24 data, never
//! scanned). Real `daily_scan` runs feed the end-to-end tests in `tests/integration/web_*`.

mod db;
mod stored;
mod triage;

use std::io::Read;
use std::path::Path;

use jiff::Timestamp;
use rouille::{Request, Response, ResponseBody};

use crate::api::pipeline::handle;
use crate::api::state::State;
use crate::config::Config;
use crate::model::Host;
use crate::model::{AlertKind, Severity};
use crate::snapshot::{Snapshot, SnapshotStatus, TargetRecord, TargetStatus};
use crate::store::{NewAlert, Store};
use crate::testdata::{service_port, up};

pub(crate) const WRITER: &str = "writer-token-0123456789";
pub(crate) const READER: &str = "reader-token-0123456789";
pub(crate) const HOSTILE: &str = "<script>alert(1)</script>";

fn host(ip: &str, ports: &[u16]) -> Host {
    up(
        ip,
        ports
            .iter()
            .map(|&p| service_port("tcp", p, "open", "http", HOSTILE))
            .collect(),
    )
}

/// Snapshot `n` (a day apart): entry `192.0.2.0/29` with `ports` open on 192.0.2.1, and an
/// entry named with markup covering 192.0.2.9.
pub(crate) fn snapshot(n: i64, ports: &[u16]) -> Snapshot {
    let target = |entry: &str, net: &str| TargetRecord {
        entry: entry.into(),
        target: net.into(),
        status: TargetStatus::Completed,
        error: None,
        covers: vec![net.parse().unwrap()],
    };
    Snapshot {
        scanned: None,
        unconfirmed: Vec::new(),
        id: None,
        started_at: Timestamp::from_second(1_790_000_000 + n * 86_400).unwrap(),
        finished_at: Timestamp::from_second(1_790_000_060 + n * 86_400).unwrap(),
        profile: "default".into(),
        nmap_args: "nmap -p 22,80".into(),
        nmap_version: "7.93".into(),
        status: SnapshotStatus::Complete,
        targets: vec![
            target("192.0.2.0/29", "192.0.2.0/29"),
            target(&format!("web{HOSTILE}"), "192.0.2.9/32"),
        ],
        hosts: vec![host("192.0.2.1", ports), host("192.0.2.9", &[443])],
    }
}

/// A database with the given snapshots (ids 1..) in `dir`, and a server state over it.
pub(crate) fn setup(dir: &Path, snapshots: &[&[u16]], edit: impl FnOnce(&mut Config)) -> State {
    let db = dir.join("scans.db");
    let mut store = Store::open(&db).unwrap();
    for (i, ports) in snapshots.iter().enumerate() {
        store.save_snapshot(&snapshot(i as i64 + 1, ports)).unwrap();
    }
    let mut config = Config {
        database: Some(db),
        ..Config::default()
    };
    config.api.rate_limit_per_minute = 0;
    edit(&mut config);
    State::new(config, Box::new(|| Ok("7.93".to_string()))).unwrap()
}

pub(crate) fn raise(dir: &Path, ip: &str, port: u16, severity: Severity) -> i64 {
    let mut store = Store::open(&dir.join("scans.db")).unwrap();
    store
        .insert_alert(&NewAlert {
            kind: AlertKind::PortOpened,
            severity,
            ip: ip.into(),
            protocol: Some("tcp".into()),
            port: Some(port),
            message: format!("port {port}/tcp opened {HOSTILE}"),
            snapshot: 1,
        })
        .unwrap()
        .id
}

pub(crate) struct Reply {
    pub status: u16,
    pub text: String,
    pub bytes: Vec<u8>,
    pub response: Response,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

pub(crate) fn call(state: &State, method: &str, url: &str, headers: &[(&str, &str)]) -> Reply {
    call_with_body(state, method, url, headers, &[])
}

/// [`call`] with a request body.
pub(crate) fn call_with_body(
    state: &State,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let headers = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let request = Request::fake_http(method, url, headers, body.to_vec());
    let mut response = handle(state, &request);
    let (mut reader, _) =
        std::mem::replace(&mut response.data, ResponseBody::empty()).into_reader_and_size();
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).unwrap();
    Reply {
        status: response.status_code,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
        response,
    }
}

pub(crate) fn get(state: &State, url: &str) -> Reply {
    call(state, "GET", url, &[])
}

#[test]
fn snapshot_pages_follow_next_before_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22], &[22], &[22, 80], &[80], &[80]], |_| {});
    let mut seen = Vec::new();
    let mut url = "/api/snapshots?limit=2".to_string();
    loop {
        let r = get(&s, &url);
        assert_eq!(r.status, 200, "{}", r.text);
        let v = r.json();
        seen.extend(
            v["snapshots"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_i64().unwrap()),
        );
        match v["next_before"].as_i64() {
            Some(next) => {
                let link = r.header("Link").unwrap();
                assert_eq!(
                    link,
                    format!("</api/snapshots?limit=2&before={next}>; rel=\"next\"")
                );
                url = format!("/api/snapshots?limit=2&before={next}");
            }
            None => {
                assert!(r.header("Link").is_none());
                break;
            }
        }
    }
    assert_eq!(seen, [5, 4, 3, 2, 1]);
    // Exactly a page: no next page announced.
    assert_eq!(
        get(&s, "/api/snapshots?limit=5").json()["next_before"],
        serde_json::Value::Null
    );
    let last = get(&s, "/api/snapshots?before=1").json();
    assert_eq!(last["snapshots"].as_array().unwrap().len(), 0);
    let one = &get(&s, "/api/snapshots?limit=1").json()["snapshots"][0];
    assert_eq!(
        (one["id"].as_i64(), one["open_ports"].as_i64()),
        (Some(5), Some(2))
    );
}

#[test]
fn bad_query_values_are_400_and_unknown_ids_404() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22], &[80]], |_| {});
    for (url, code, field) in [
        ("/api/snapshots?limit=0", "invalid_parameter", "limit"),
        ("/api/snapshots?limit=1001", "invalid_parameter", "limit"),
        ("/api/snapshots?limit=ten", "invalid_parameter", "limit"),
        ("/api/snapshots?before=-1", "invalid_parameter", "before"),
        ("/api/snapshots?format=xml", "invalid_parameter", "format"),
        ("/api/snapshots?page=2", "unknown_parameter", "page"),
        ("/api/delta?from=1", "missing_parameter", "to"),
        ("/api/delta?from=x&to=2", "invalid_parameter", "from"),
        ("/api/stats/trends?days=0", "invalid_parameter", "days"),
        ("/api/stats/trends?days=99999", "invalid_parameter", "days"),
        ("/api/alerts?status=closed", "invalid_parameter", "status"),
        (
            "/api/alerts?severity=urgent",
            "invalid_parameter",
            "severity",
        ),
        ("/api/alerts?kind=port_flapped", "invalid_parameter", "kind"),
        ("/api/alerts?ip=127.0.0.300", "invalid_parameter", "ip"),
        ("/api/alerts?ip=127.0.0.0/33", "invalid_parameter", "ip"),
        ("/api/alerts?since=yesterday", "invalid_parameter", "since"),
        ("/api/alerts?until=2026-13-01", "invalid_parameter", "until"),
        ("/api/export.zip?from=soon", "invalid_parameter", "from"),
        ("/api/entries/x?format=xml", "invalid_parameter", "format"),
    ] {
        let r = get(&s, url);
        assert_eq!(r.status, 400, "{url}: {}", r.text);
        assert_eq!(r.code(), code, "{url}");
        assert_eq!(r.json()["error"]["field"], field, "{url}");
    }
    for (url, code) in [
        ("/api/snapshots/3", "snapshot_not_found"),
        ("/api/snapshots/0", "snapshot_not_found"),
        ("/api/snapshots/abc", "snapshot_not_found"),
        (
            "/api/snapshots/99999999999999999999/delta",
            "snapshot_not_found",
        ),
        ("/api/snapshots/3/delta", "snapshot_not_found"),
        ("/api/snapshots?before=3", "snapshot_not_found"),
        ("/api/delta?from=1&to=3", "snapshot_not_found"),
        ("/api/snapshots/1/nope", "not_found"),
    ] {
        let r = get(&s, url);
        assert_eq!(
            (r.status, r.code().as_str()),
            (404, code),
            "{url}: {}",
            r.text
        );
    }
    assert_eq!(
        get(&s, "/api/delta?from=1&to=3").json()["error"]["field"],
        "to"
    );
    let r = call(&s, "DELETE", "/api/snapshots/1", &[]);
    assert_eq!((r.status, r.header("Allow")), (405, Some("GET, HEAD")));
}

#[test]
fn snapshot_delta_and_any_two_as_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22], &[22, 3389], &[80]], |_| {});
    let snap = get(&s, "/api/snapshots/2").json();
    assert_eq!(snap["id"], 2);
    assert_eq!(snap["hosts"][0]["ports"].as_array().unwrap().len(), 2);

    let base = get(&s, "/api/snapshots/1/delta").json();
    assert_eq!(base["from"], serde_json::Value::Null);
    assert!(base["note"].as_str().unwrap().starts_with("baseline"));

    let d = get(&s, "/api/snapshots/2/delta").json();
    assert_eq!(
        (d["from"]["snapshot"].as_i64(), d["to"]["snapshot"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(d["status"], "critical");
    assert_eq!(d["changes"][0]["port"], 3389);

    let any = get(&s, "/api/delta?from=1&to=3").json();
    let kinds: Vec<String> = any["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {}", c["kind"].as_str().unwrap(), c["port"]))
        .collect();
    assert_eq!(kinds, ["port_closed 22", "port_opened 80"]);

    let csv = get(&s, "/api/delta?from=1&to=3&format=csv");
    assert_eq!(csv.header("Content-Type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.text);
    assert!(lines[0].starts_with("kind,severity,ip,protocol,port"));
    assert!(lines[1].starts_with("port_closed,info,192.0.2.1,tcp,22"));
    let csv = get(&s, "/api/snapshots/2/delta?format=csv").text;
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("port_opened,critical,192.0.2.1,tcp,3389")
    );

    let list = get(&s, "/api/snapshots?format=csv&limit=2");
    let rows: Vec<&str> = list.text.lines().collect();
    assert_eq!(
        rows[0],
        "id,started_at,finished_at,profile,status,targets_total,targets_failed,hosts_up,open_ports"
    );
    assert!(
        rows[1].starts_with("3,") && rows[2].starts_with("2,"),
        "{}",
        list.text
    );
    assert!(list.header("Link").unwrap().contains("format=csv"));
}
