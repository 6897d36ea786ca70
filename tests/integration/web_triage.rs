//! Triage from the browser, end to end: three real `daily_scan` runs (real nmap against
//! loopback listeners), the real `api_server`, Debian's headless Chromium over WebDriver. The
//! test clicks from the dashboard's timeline to a run page and its `report.html`, from an entry
//! card to the entry's page, filters alerts by kind and address, acknowledges two in bulk with
//! a note, ignores and un-ignores one, downloads the ZIP export (listed by Python's zipfile, an
//! independent reader), prunes and sees the folder gone. Every page passes axe-core with no
//! serious or critical violation at 1400 and 390 px, is reached by keyboard, and fits a phone
//! screen; screenshots land in `target/screens/`. Addresses 127.0.61.x are this file's.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::batch_env::{Install, Service, describe, stdout};
use crate::support::webdriver::{Driver, Session, png_size};
use crate::web_api::server_for;

const SSH: Ipv4Addr = Ipv4Addr::new(127, 0, 61, 1);
const WEB: Ipv4Addr = Ipv4Addr::new(127, 0, 61, 2);
const RDP: Ipv4Addr = Ipv4Addr::new(127, 0, 61, 5);
const SSH_BANNER: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";

/// `target/` of the package (or `$CARGO_TARGET_DIR`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// axe-core's script, installed by `scripts/ensure-deps.sh` (`ensure_axe`).
fn axe_source() -> String {
    let path = target_dir().join("axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `. scripts/ensure-deps.sh && ensure_axe` (scripts/test.sh does)",
            path.display()
        )
    })
}

/// Checks the page now shown at both widths: no serious or critical axe violation, no
/// horizontal scrolling at 390 px, and a screenshot of each kept as `target/screens/NAME-W.png`.
fn check_page(browser: &Session<'_>, axe: &str, name: &str) {
    let screens = target_dir().join("screens");
    std::fs::create_dir_all(&screens).unwrap();
    for (width, height) in [(1400, 1000), (390, 844)] {
        browser.set_window_size(width, height);
        let violations = browser.axe_serious(axe);
        assert!(
            violations.is_empty(),
            "{name} at {width} px: {violations:#?}"
        );
        let overflow = browser.execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
        );
        if overflow.as_i64().unwrap_or(1) > 0 {
            let wide = browser.execute(
                "var w = document.documentElement.clientWidth, out = [];\
                 document.querySelectorAll('main *').forEach(function (e) {\
                   var r = e.getBoundingClientRect();\
                   if (r.right > w + 1 && out.length < 8) {\
                     out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right));\
                   }\
                 });\
                 return out;",
            );
            panic!("{name} at {width} px scrolls sideways by {overflow} px: {wide}");
        }
        browser.execute("window.scrollTo(0, 0); return true;");
        let png = browser.screenshot();
        let (w, _) = png_size(&png);
        assert!(w >= 380, "{name}: a {w}-px screenshot");
        std::fs::write(screens.join(format!("{name}-{width}.png")), &png).unwrap();
    }
    browser.set_window_size(1400, 1000);
}

fn rows(browser: &Session<'_>, css: &str) -> Vec<(String, String)> {
    browser
        .find_all(css)
        .iter()
        .map(|r| {
            (
                browser.attribute(r, "data-alert").unwrap_or_default(),
                browser.attribute(r, "data-status").unwrap_or_default(),
            )
        })
        .collect()
}

/// Follows the link matched by `css` and waits for the address to end with `path_end`.
fn follow(browser: &Session<'_>, css: &str, path_end: &str) {
    browser.click(&browser.find(css));
    browser.wait_for(&format!("the page {path_end}"), |b| {
        b.current_url().ends_with(path_end)
            && b.execute("return document.readyState;") == "complete"
    });
}

#[test]
fn triage_in_chromium_drills_down_acts_in_bulk_exports_and_prunes() {
    let axe = axe_source();
    let install = Install::new("18161,18162,3389", "", "profile = \"default\"");
    install.targets(&["127.0.61.0/30   # lab", "127.0.61.5       # windows"]);
    let _ssh = Service::start(SSH, 18161, Some(SSH_BANNER));
    let first = install.scan(&[], &[], 0);
    let web = Service::start(WEB, 18162, None);
    let _rdp = Service::start(RDP, 3389, None);
    let _rdp_web = Service::start(RDP, 18162, None);
    install.scan(&[], &[], 0);
    drop(web);
    let third = install.scan(&[], &[], 0);
    let out = install.path("out");
    let server = server_for(
        &install,
        &[("output_dir", &format!("\"{}\"", out.display()))],
    );
    let base = format!("http://{}", server.addr);

    let dir = tempfile::tempdir().unwrap();
    let driver = Driver::start(&dir.path().join("chromedriver.log"));
    let browser = driver.session(&dir.path().join("profile"), 1400, 1000);
    browser.navigate(&format!("{base}/"));
    check_page(&browser, &axe, "dashboard");

    // The timeline's newest row opens run #3, whose page links its report.html.
    follow(
        &browser,
        ".timeline tbody tr:first-child a[href='/runs/3']",
        "/runs/3",
    );
    assert_eq!(browser.text(&browser.find("h1")), "Run #3");
    let page = browser.text(&browser.find("main"));
    assert!(page.contains("Alerts resolved"), "{page}");
    assert!(page.contains("port closed"), "{page}");
    check_page(&browser, &axe, "run");
    follow(
        &browser,
        "a[href='/runs/3/files/report.html']",
        "/runs/3/files/report.html",
    );
    let title = browser.execute("return document.title;");
    assert!(
        title
            .as_str()
            .unwrap_or("")
            .starts_with("Scan report: snapshot 3 "),
        "{title}"
    );
    assert_eq!(
        std::fs::read_to_string(third.dir.join("report.html")).unwrap(),
        server.get("/runs/3/files/report.html").body
    );

    // An entry card opens the entry's page: three runs, its changes.
    browser.navigate(&format!("{base}/"));
    follow(
        &browser,
        ".entry[data-entry='127.0.61.0/30'] .name a",
        "/entries/127.0.61.0%2F30",
    );
    assert_eq!(browser.find_all(".timeline tbody tr").len(), 3);
    let changes = browser.text(&browser.find("main"));
    assert!(
        changes.contains("port opened") && changes.contains("port closed"),
        "{changes}"
    );
    check_page(&browser, &axe, "entry");

    // Alerts: filter by kind and by address with the form.
    browser.navigate(&format!("{base}/alerts"));
    // 18162 opened on .2 and .5, RDP on .5 is risky_port_open, 18162 on .2 closed again.
    let all = rows(&browser, "tbody tr[data-alert]");
    assert_eq!(all.len(), 4, "{all:?}");
    browser.click(&browser.find("#a-kind option[value='port_opened']"));
    browser.click(&browser.find("form.filters button[type=submit]"));
    browser.wait_for("the kind filter", |b| {
        b.current_url().contains("kind=port_opened")
    });
    let opened = rows(&browser, "tbody tr[data-alert]");
    assert_eq!(opened.len(), 2, "18162 on .2 and .5: {opened:?}");
    browser.type_into(&browser.find("#a-ip"), "127.0.61.4/30");
    browser.click(&browser.find("form.filters button[type=submit]"));
    browser.wait_for("the address filter", |b| {
        b.current_url().contains("ip=127.0.61.4%2F30")
    });
    let on_five = rows(&browser, "tbody tr[data-alert]");
    assert_eq!(on_five.len(), 1, "18162 on 127.0.61.5: {on_five:?}");
    assert!(browser.text(&browser.find("tbody")).contains("18162/tcp"));
    check_page(&browser, &axe, "alerts");

    // A bad filter re-renders the page with the message, not JSON.
    browser.navigate(&format!("{base}/alerts?ip=not-an-address"));
    assert!(browser.text(&browser.find(".error")).contains("\"ip\""));
    browser.navigate(&format!("{base}/?sort=alphabetical"));
    assert!(browser.text(&browser.find(".error")).contains("\"sort\""));

    // Bulk: acknowledge both opened ports with a note, from the keyboard's reach.
    browser.navigate(&format!("{base}/alerts?kind=port_opened"));
    let mut reached = Vec::new();
    for _ in 0..40 {
        browser.press_tab();
        let focused = browser.execute(
            "var e = document.activeElement; var s = getComputedStyle(e);\
             return [e.tagName + (e.id ? '#' + e.id : '') + (e.dataset.act ? '[' + e.dataset.act + ']' : ''),\
                     s.outlineStyle, e.matches(':focus') + ' ' + e.matches(':focus-within') + ' ' + e.type];",
        );
        let name = focused[0].as_str().unwrap_or_default().to_string();
        // Past the last control focus leaves the page (the body), then starts over.
        if name != "BODY" {
            assert_ne!(
                focused[1], "none",
                "{name} shows no focus outline: {focused}"
            );
        }
        reached.push(name);
    }
    for wanted in [
        "A",
        "SELECT#a-kind",
        "INPUT#a-ip",
        "INPUT#bulk-note",
        "BUTTON[ack]",
        "BUTTON[unignore]",
        "INPUT#select-all",
    ] {
        assert!(
            reached.iter().any(|r| r == wanted),
            "Tab never reached {wanted}: {reached:?}"
        );
    }
    browser.navigate(&format!("{base}/alerts?status=open"));
    let open = rows(&browser, "tbody tr[data-alert]");
    assert_eq!(open.len(), 3, "{open:?}");
    let ids: Vec<String> = open.iter().take(2).map(|r| r.0.clone()).collect();
    for id in &ids {
        browser.click(&browser.find(&format!("input[name=alert][value='{id}']")));
    }
    browser.type_into(&browser.find("#bulk-note"), "CHG-42 firewall rule added");
    follow_action(&browser, "ack");
    for id in &ids {
        let alert = alert(&server, id);
        assert_eq!(alert["status"], "actioned", "{alert}");
        assert_eq!(alert["note"], "CHG-42 firewall rule added", "{alert}");
    }

    // Ignore one of them with a note, then un-ignore it from the ignored list.
    browser.navigate(&format!("{base}/alerts?status=actioned"));
    browser.click(&browser.find(&format!("input[name=alert][value='{}']", ids[0])));
    browser.type_into(&browser.find("#bulk-note"), "accepted risk");
    follow_action(&browser, "ignore");
    assert_eq!(alert(&server, &ids[0])["status"], "ignored");
    browser.navigate(&format!("{base}/alerts?status=ignored"));
    assert_eq!(
        rows(&browser, "tbody tr[data-alert]"),
        [(ids[0].clone(), "ignored".to_string())]
    );
    browser.click(&browser.find("#select-all"));
    follow_action(&browser, "unignore");
    assert!(
        browser.find_all("tbody tr[data-alert]").is_empty(),
        "nothing ignored any more"
    );
    assert_eq!(alert(&server, &ids[0])["status"], "open");

    // The ZIP of every run, fetched by the dashboard page (its CSP allows this origin),
    // listed by Python's zipfile.
    browser.navigate(&format!("{base}/"));
    let bytes = browser.execute(
        "return fetch('/api/export.zip').then(function (r) { return r.arrayBuffer(); })\
           .then(function (b) { return Array.from(new Uint8Array(b)); });",
    );
    let bytes: Vec<u8> = bytes
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap() as u8)
        .collect();
    let zip = dir.path().join("export.zip");
    std::fs::write(&zip, &bytes).unwrap();
    let listing = Command::new("python3")
        .args(["-m", "zipfile", "-t"])
        .arg(&zip)
        .output()
        .expect("python3 (Debian's) reads the archive");
    assert!(listing.status.success(), "{}", describe(&listing));
    let names = zip_names(&zip);
    assert_eq!(names.len(), 12, "three runs, four files each: {names:?}");
    let folder =
        |run: &crate::batch_env::Run| run.dir.file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        names.contains(&format!("{}/report.html", folder(&first))),
        "{names:?}"
    );
    assert!(
        names.contains(&format!("{}/delta.csv", folder(&third))),
        "{names:?}"
    );

    // Prune: the oldest runs and their folders go; their pages say so.
    let pruned = install.run(&["prune", "--keep", "1"]);
    assert_eq!(pruned.status.code(), Some(0), "{}", describe(&pruned));
    let said = stdout(&pruned);
    assert!(
        said.starts_with("deleted 2 snapshots and 2 report folders"),
        "{said}"
    );
    assert!(!first.dir.exists(), "the first run's folder is gone");
    browser.navigate(&format!("{base}/runs/1"));
    assert!(
        browser
            .text(&browser.find("main"))
            .contains("retention deleted it")
    );
    browser.navigate(&format!("{base}/runs/3"));
    assert!(
        !browser
            .find_all("a[href='/runs/3/files/scan.json']")
            .is_empty()
    );
}

/// Clicks the bulk button `act` and waits for the page to reload with the result; panics with
/// the page's message when the action failed.
fn follow_action(browser: &Session<'_>, act: &str) {
    browser.execute("window.beforeAction = true; return true;");
    browser.click(&browser.find(&format!("#bulk button[data-act='{act}']")));
    let state = "var s = document.getElementById('bulk-status');\
                 return [window.beforeAction === true, document.readyState, s ? s.textContent : ''];";
    browser.wait_for(&format!("the page to reload after {act}"), |b| {
        let v = b.execute(state);
        let message = v[2].as_str().unwrap_or("");
        v[0] == false && v[1] == "complete" || (!message.is_empty() && message != "Working…")
    });
    let v = browser.execute(state);
    assert_eq!(v[0], false, "the {act} failed: {}", v[2]);
}

fn alert(server: &crate::support::server::Server, id: &str) -> Value {
    let list = server.get("/api/alerts?limit=1000").json();
    list["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"].as_i64().map(|n| n.to_string()).as_deref() == Some(id))
        .cloned()
        .unwrap_or_else(|| panic!("no alert {id}: {list}"))
}

/// The names in a ZIP archive, as Python's zipfile lists them.
fn zip_names(zip: &std::path::Path) -> Vec<String> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        ])
        .arg(zip)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    stdout(&out).lines().map(str::to_string).collect()
}
