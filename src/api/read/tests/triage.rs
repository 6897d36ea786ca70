//! The triage routes over a database and report folders built here: the run page and its
//! files, the entry page, the alerts page's filters and its re-render on a bad one, the ZIP
//! export, and the dashboard's re-render on a bad filter.

use std::path::{Path, PathBuf};

use crate::api::read::tests::{HOSTILE, get, setup};
use crate::api::state::State;
use crate::delta::DeltaConfig;
use crate::history;
use crate::model::{AlertKind, Severity};
use crate::report::{self, run_files};
use crate::store::{NewAlert, Store};

/// Two runs (22 open, then 22 and 3389), their report folders under `out/`, and an alert
/// raised by the second run. Returns the state and the folders.
fn two_runs(dir: &Path) -> (State, Vec<PathBuf>) {
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let out_for_config = out.clone();
    let s = setup(dir, &[&[22], &[22, 3389]], move |c| {
        c.output_dir = out_for_config;
    });
    let mut store = Store::open(&dir.join("scans.db")).unwrap();
    let mut folders = Vec::new();
    for id in [1, 2] {
        let (_, delta) = history::delta_with_previous(&store, id, &DeltaConfig::default()).unwrap();
        let snapshot = store.load_snapshot(id).unwrap();
        let folder = out.join(run_files::folder_name(snapshot.started_at, 1));
        std::fs::create_dir(&folder).unwrap();
        report::write_run_files(&folder, &snapshot, &delta, &[]).unwrap();
        folders.push(folder);
    }
    store
        .insert_alert(&NewAlert {
            kind: AlertKind::PortOpened,
            severity: Severity::Critical,
            ip: "192.0.2.1".into(),
            protocol: Some("tcp".into()),
            port: Some(3389),
            message: format!("3389/tcp opened {HOSTILE}"),
            snapshot: 2,
        })
        .unwrap();
    (s, folders)
}

#[test]
fn the_run_page_shows_its_delta_alerts_and_files_and_serves_only_those_files() {
    let dir = tempfile::tempdir().unwrap();
    let (s, folders) = two_runs(dir.path());
    let page = get(&s, "/runs/2");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.header("Content-Type")
            .unwrap()
            .starts_with("text/html")
    );
    for part in [
        "<h1>Run #2</h1>",
        "<a href=\"/runs/1\">run #1</a>",
        "<a href=\"/runs/2/files/report.html\">report.html</a>",
        "<a href=\"/runs/2/files/delta.csv\">delta.csv</a>",
        "Alerts raised <span class=\"meta\">(1)</span>",
        "3389/tcp opened &lt;script&gt;",
        "2 of 2 targets completed",
    ] {
        assert!(page.text.contains(part), "{part}: {}", page.text);
    }
    assert!(!page.text.contains(HOSTILE), "scan text is escaped");

    let json = get(&s, "/api/runs/2").json();
    assert_eq!(json["snapshot"]["id"], 2);
    assert_eq!(json["alerts_raised"][0]["port"], 3389);
    assert_eq!(json["delta"]["summary"]["ports_opened"], 1);
    assert_eq!(json["files"].as_array().unwrap().len(), 4);

    let html = get(&s, "/runs/2/files/report.html");
    assert_eq!(html.status, 200);
    assert_eq!(
        html.bytes,
        std::fs::read(folders[1].join("report.html")).unwrap()
    );
    let csp = html.header("Content-Security-Policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    let scan = get(&s, "/runs/1/files/scan.json");
    assert_eq!(scan.header("Content-Type"), Some("application/json"));
    assert_eq!(scan.json()["id"], 1);
    for bad in [
        "/runs/2/files/scans.db",
        "/runs/2/files/..%2F..%2Fscans.db",
        "/runs/2/files/%2e%2e",
        "/runs/2/files/x%2Freport.html",
        "/runs/3/files/report.html",
        "/runs/x/files/report.html",
    ] {
        assert_eq!(get(&s, bad).status, 404, "{bad}");
    }

    // Pruned: the page says so, and the files are gone.
    std::fs::remove_dir_all(&folders[1]).unwrap();
    let page = get(&s, "/runs/2");
    assert!(page.text.contains("no longer on disk"), "{}", page.text);
    assert_eq!(get(&s, "/runs/2/files/report.html").status, 404);
    assert_eq!(get(&s, "/runs/9").status, 404);
}

#[test]
fn the_entry_page_narrows_history_to_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = two_runs(dir.path());
    let page = get(&s, "/entries/192.0.2.0%2F29");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("<svg"), "the chart");
    assert!(page.text.contains("<a href=\"/runs/2\">#2</a>"));
    assert!(page.text.contains("port opened"));
    let json = get(&s, "/api/entries/192.0.2.0%2F29").json();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["id"], 2);
    assert_eq!(runs[0]["open_ports"], 2, "192.0.2.9 is another entry's");
    assert_eq!(runs[1]["open_ports"], 1);
    assert_eq!(runs[0]["changes"][0]["port"], 3389);
    assert_eq!(runs[0]["score"], 55);
    let csv = get(&s, "/api/entries/192.0.2.0%2F29?format=csv").text;
    assert_eq!(csv.lines().count(), 3, "{csv}");

    // The entry named with markup is one segment, shown as text.
    let hostile = format!("/entries/web{}", report::html::url_component(HOSTILE));
    let page = get(&s, &hostile);
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(!page.text.contains(HOSTILE));
    let missing = get(&s, "/entries/192.0.2.64%2F26");
    assert_eq!(missing.status, 404);
    assert!(missing.text.contains("No run scanned this entry"));
}

#[test]
fn the_alerts_page_filters_and_a_bad_filter_re_renders_it_with_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = two_runs(dir.path());
    let page = get(&s, "/alerts?kind=port_opened&ip=192.0.2.0%2F29&q=3389");
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.text.matches("<tr data-alert=").count(), 1);
    assert!(
        page.text.contains(
            "href=\"/api/alerts?kind=port_opened&amp;ip=192.0.2.0%2F29&amp;q=3389&amp;format=csv\""
        ),
        "{}",
        page.text
    );
    let none = get(&s, "/alerts?ip=198.51.100.0/24");
    assert!(none.text.contains("No alert matches these filters."));
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = setup(fresh_dir.path(), &[], |_| {});
    assert!(get(&fresh, "/alerts").text.contains("No alerts yet"));
    for (url, words) in [
        ("/alerts?ip=not-an-address", "\"ip\""),
        ("/alerts?sort=name", "unknown query parameter"),
        ("/?sort=alphabetical", "\"sort\""),
    ] {
        let r = get(&s, url);
        assert_eq!(r.status, 400, "{url}");
        assert!(
            r.header("Content-Type").unwrap().starts_with("text/html"),
            "{url}"
        );
        assert!(
            r.text.contains("role=\"alert\"") && r.text.contains(words),
            "{url}: {}",
            r.text
        );
    }
    let api = get(
        &s,
        "/api/alerts?kind=port_opened,new_host&since=2020-01-01&until=2100-01-01",
    )
    .json();
    assert_eq!(api["alerts"].as_array().unwrap().len(), 1);
}

/// The names in a ZIP's central directory.
fn zip_names(zip: &[u8]) -> Vec<String> {
    let end = zip.len() - 22;
    assert_eq!(&zip[end..end + 4], b"PK\x05\x06");
    let count = u16::from_le_bytes([zip[end + 10], zip[end + 11]]) as usize;
    let mut at = u32::from_le_bytes(zip[end + 16..end + 20].try_into().unwrap()) as usize;
    let mut names = Vec::new();
    for _ in 0..count {
        let len = u16::from_le_bytes([zip[at + 28], zip[at + 29]]) as usize;
        names.push(String::from_utf8(zip[at + 46..at + 46 + len].to_vec()).unwrap());
        at += 46 + len;
    }
    names
}

#[test]
fn the_export_is_a_zip_of_every_runs_files_in_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let (s, folders) = two_runs(dir.path());
    let all = get(&s, "/api/export.zip");
    assert_eq!(all.status, 200);
    assert_eq!(all.header("Content-Type"), Some("application/zip"));
    let names = zip_names(&all.bytes);
    assert_eq!(names.len(), 8, "{names:?}");
    let first = folders[0].file_name().unwrap().to_str().unwrap();
    assert_eq!(names[0], format!("{first}/report.html"));
    // Snapshot n started n days after 1_790_000_000 (UTC dates, `to` includes its day).
    let day = |n: i64| {
        jiff::Timestamp::from_second(1_790_000_000 + n * 86_400)
            .unwrap()
            .strftime("%Y-%m-%d")
            .to_string()
    };
    let later = zip_names(&get(&s, &format!("/api/export.zip?from={}", day(2))).bytes);
    assert_eq!(later.len(), 4, "{later:?}");
    assert!(later[0].starts_with(folders[1].file_name().unwrap().to_str().unwrap()));
    let earlier = zip_names(&get(&s, &format!("/api/export.zip?to={}", day(1))).bytes);
    assert_eq!(earlier.len(), 4, "{earlier:?}");
    assert!(earlier[0].starts_with(first));
    let none = zip_names(&get(&s, "/api/export.zip?to=2001-01-01").bytes);
    assert!(none.is_empty());
}

#[test]
fn bad_filters_never_answer_json_to_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = two_runs(dir.path());
    let r = get(&s, "/?status=broken");
    assert_eq!(r.status, 400);
    assert!(r.text.contains("Filters not applied"));
    assert!(r.text.contains("class=\"entries\""), "the page, unfiltered");
}

#[test]
fn the_next_alerts_page_keeps_the_filters() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22]], |_| {});
    for port in [1, 2, 3] {
        crate::api::read::tests::raise(dir.path(), "192.0.2.1", port, Severity::High);
    }
    let r = get(&s, "/api/alerts?kind=port_opened&ip=192.0.2.0/24&limit=2");
    let link = r.header("Link").unwrap().to_string();
    assert_eq!(
        link,
        "</api/alerts?kind=port_opened&ip=192.0.2.0%2F24&limit=2&before=2>; rel=\"next\""
    );
    let url = link.trim_start_matches('<').split('>').next().unwrap();
    let next = get(&s, url).json();
    assert_eq!(next["alerts"].as_array().unwrap().len(), 1);
}
