//! The dashboard in a real browser: Debian's headless Chromium, driven by chromedriver over
//! WebDriver, loads `/` from the real `api_server` over a database filled by real
//! `daily_scan` runs. The cards, changes and chart are there; clicking Ack changes the
//! alert's state through the real endpoint; a service banner carrying `<script>` shows as
//! text and runs nothing. The screenshot is kept as `target/dashboard.png` (a CI artifact).
//! Addresses 127.0.32.x are this file's.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use serde_json::Value;

use crate::batch_env::{Install, Service, changes};
use crate::support::webdriver::{Driver, png_size};
use crate::web_api::{run_alerts, server_for};

const FTP: Ipv4Addr = Ipv4Addr::new(127, 0, 32, 1);
const WEB: Ipv4Addr = Ipv4Addr::new(127, 0, 32, 2);
const SSH: Ipv4Addr = Ipv4Addr::new(127, 0, 32, 5);
const RDP: Ipv4Addr = Ipv4Addr::new(127, 0, 32, 6);

/// nmap's `vsFTPd (.*) ready` rule copies this text into the service version.
const HOSTILE_FTP: &[u8] =
    b"220 vsFTPd <script>alert(1)</script><img src=x onerror=alert(2)> ready...\r\n";
const SSH_BANNER: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";

/// Where the screenshot is kept: `$CARGO_TARGET_DIR` or `target/` of the package.
pub(crate) fn artifact(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    std::fs::create_dir_all(&target).unwrap();
    target.join(name)
}

#[test]
fn dashboard_in_chromium_shows_state_acks_an_alert_and_runs_no_banner_script() {
    let install = Install::new("18021,18080,18022,3389", "", "profile = \"default\"");
    install.targets(&[
        "127.0.32.0/30    # lab: ftp and web",
        "127.0.32.5       # bastion",
        "127.0.32.6       # windows",
    ]);
    let web = Service::start(WEB, 18080, None);
    let _ssh = Service::start(SSH, 18022, Some(SSH_BANNER));
    install.scan(&[], &[], 0);
    let _ftp = Service::start(FTP, 18021, Some(HOSTILE_FTP));
    let _rdp = Service::start(RDP, 3389, None);
    drop(web);
    let run = install.scan(&[], &[], 0);
    let delta = run.delta();
    assert_eq!(
        changes(&delta),
        [
            "port_opened low 127.0.32.1 18021/tcp",
            "port_closed info 127.0.32.2 18080/tcp",
            "port_opened critical 127.0.32.6 3389/tcp",
        ]
    );
    let banner = &delta["changes"][0]["after"]["version"];
    assert!(
        banner
            .as_str()
            .unwrap_or("")
            .contains("<script>alert(1)</script>"),
        "nmap did not copy the banner into the version: {delta}"
    );
    let alerts = run_alerts(&install, &delta);
    let critical = alerts[1];
    let server = server_for(&install, &[]);

    let dir = tempfile::tempdir().unwrap();
    let driver = Driver::start(&dir.path().join("chromedriver.log"));
    let browser = driver.session(&dir.path().join("profile"), 1360, 1500);
    browser.navigate(&format!("http://{}/", server.addr));

    // One card per targets.txt entry, coloured by its own status.
    let cards: Vec<(String, String)> = browser
        .find_all(".entry")
        .iter()
        .map(|c| {
            (
                browser.attribute(c, "data-entry").unwrap(),
                browser.attribute(c, "data-status").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        cards,
        [
            ("127.0.32.6".to_string(), "critical".to_string()),
            ("127.0.32.0/30".to_string(), "changes".to_string()),
            ("127.0.32.5".to_string(), "stable".to_string()),
        ],
        "cards, worst score first"
    );
    let windows = browser.text(&browser.find(".entry[data-entry='127.0.32.6']"));
    assert!(
        windows.contains("70") && windows.contains("+1 new port"),
        "{windows}"
    );
    let lab = browser.text(&browser.find(".entry[data-entry='127.0.32.0/30']"));
    assert!(
        lab.contains("+1 new port") && lab.contains("−1 closed"),
        "{lab}"
    );

    // The latest delta with report.html's colour coding, and the chart.
    let rows: Vec<String> = browser
        .find_all("table:not(.alerts):not(.timeline) tbody tr")
        .iter()
        .map(|r| browser.attribute(r, "class").unwrap_or_default())
        .collect();
    assert_eq!(rows, ["new", "new", "removed"], "changes, by severity");
    assert_eq!(
        browser.find_all(".chart svg rect title").len(),
        2,
        "one bar per snapshot"
    );
    assert_eq!(
        browser.find_all(".chart svg polyline").len(),
        1,
        "the score line"
    );
    assert_eq!(browser.find_all(".timeline tbody tr").len(), 2);

    // The hostile banner is text on the page; nothing from it ran.
    let body = browser.execute("return document.body.innerText;");
    assert!(
        body.as_str()
            .unwrap()
            .contains("<script>alert(1)</script><img src=x onerror=alert(2)>"),
        "banner not shown as text"
    );
    assert_eq!(browser.execute("return document.scripts.length;"), 1);
    assert_eq!(browser.execute("return document.images.length;"), 0);
    assert_eq!(browser.dialog_text(), None, "an alert() dialog opened");

    // The screenshot of the state before anyone acted, kept for CI and people.
    let png = browser.screenshot();
    let viewport = browser.execute("return [window.innerWidth, window.innerHeight];");
    let (w, h) = png_size(&png);
    assert_eq!(
        viewport,
        serde_json::json!([w, h]),
        "the screenshot is the viewport"
    );
    assert!(
        png.len() > 30_000,
        "a {}-byte PNG is a blank page",
        png.len()
    );
    std::fs::write(artifact("dashboard.png"), &png).unwrap();

    // Ack the critical alert: the row changes state, and so does the database.
    let row = format!("tr[data-alert='{critical}']");
    assert_eq!(browser.find_all(&format!("{row} button")).len(), 2);
    browser.click(&browser.find(&format!("{row} button[data-act='ack']")));
    browser.wait_for("the row to show actioned", |b| {
        b.attribute(&b.find(&row), "data-status").as_deref() == Some("actioned")
    });
    assert_eq!(
        browser.text(&browser.find(&format!("{row} .state"))),
        "actioned"
    );
    assert!(browser.find_all(&format!("{row} button")).is_empty());
    let stored: Value = server.get("/api/alerts?status=actioned").json();
    assert_eq!(stored["alerts"][0]["id"], critical, "{stored}");
    // Still open: 18021's port_opened and 18080's port_closed.
    assert_eq!(
        server.get("/api/alerts?status=open").json()["alerts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Filters: a plain GET form.
    browser.navigate(&format!(
        "http://{}/?status=critical&sort=recent",
        server.addr
    ));
    assert_eq!(browser.find_all(".entry").len(), 1);
    browser.navigate(&format!("http://{}/?q=BASTION", server.addr));
    assert_eq!(
        browser.find_all(".entry").len(),
        0,
        "search is by entry name, not comment"
    );
    browser.navigate(&format!("http://{}/?q=32.5", server.addr));
    assert_eq!(browser.find_all(".entry").len(), 1);
}
