//! `report.html` from real runs, rendered by headless Chromium: it draws, it loads nothing
//! (Chromium's own net log shows no request made by the page), and a hostile service banner
//! shows as text, never as markup. Addresses 127.0.13.x are this test's.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::batch_env::{Install, Service, changes, describe, faulty_nmap, not_compared};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 13, 1);
const C: Ipv4Addr = Ipv4Addr::new(127, 0, 13, 3);

/// nmap's `vsFTPd (.*) ready` rule copies this text into the service version.
const HOSTILE_FTP: &[u8] =
    b"220 vsFTPd <script>alert('x')</script><img src=x onerror=alert(1)> ready...\r\n";

/// Headless Chromium with the flags of the issue, a throw-away profile, and a dead proxy so
/// that nothing (the page, or Chromium's own background fetches) leaves the machine.
fn chromium(profile: &Path, args: &[&str], page: &Path) -> std::process::Output {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--proxy-server=127.0.0.1:9",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium is needed for this test (scripts/test.sh installs it with apt)");
    assert!(out.status.success(), "{}", describe(&out));
    out
}

/// URLs the page itself asked for, from a Chromium net log (`--log-net-log`): requests in the
/// page's network partition (`file://`), as opposed to the browser's own background fetches.
fn page_requests(net_log: &Path) -> Vec<String> {
    let log: Value = serde_json::from_str(&std::fs::read_to_string(net_log).unwrap()).unwrap();
    let start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    assert!(start.is_number(), "unexpected net log format");
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == start)
        .filter(|e| {
            e["params"]["network_isolation_key"]
                .as_str()
                .is_some_and(|k| k.starts_with("file://"))
        })
        .map(|e| e["params"]["url"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Renders `page` to a PNG and a net log; returns the PNG path and the page's requests.
fn screenshot(dir: &Path, name: &str, page: &Path) -> (PathBuf, Vec<String>) {
    let png = dir.join(format!("{name}.png"));
    let net_log = dir.join(format!("{name}.netlog.json"));
    chromium(
        &dir.join(format!("{name}-profile")),
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,1600",
            &format!("--log-net-log={}", net_log.display()),
        ],
        page,
    );
    (png, page_requests(&net_log))
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

#[test]
fn report_renders_in_chromium_loads_nothing_and_shows_hostile_text_as_text() {
    let install = Install::new(
        "18021,3389",
        &format!("nmap_path = \"{}\"", faulty_nmap().display()),
        "profile = \"default\"\nchunk_size = 1",
    );
    install.targets(&["127.0.13.1  # ftp", "127.0.13.2", "127.0.13.3"]);
    let _ftp = Service::start(A, 18021, Some(HOSTILE_FTP));
    install.scan(&[], &[], 0);
    let _rdp = Service::start(C, 3389, None);
    let run = install.scan(&[], &[("FAKE_NMAP_FAIL", "127.0.13.2")], 0);
    let d = run.delta();
    assert_eq!(changes(&d), ["port_opened critical 127.0.13.3 3389/tcp"]);
    assert_eq!(not_compared(&d), ["127.0.13.2 failed"]);
    let scan = run.json("scan.json");
    let ftp = scan["hosts"][0]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["portid"] == 18021)
        .unwrap();
    let version = ftp["service"]["version"].as_str().unwrap();
    assert!(
        version.contains("<script>"),
        "nmap did not pick up the banner: {scan}"
    );

    // The file: self-contained, everything from the scan escaped.
    let page = run.dir.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for external in ["http://", "https://", "url(", "@import"] {
        assert!(
            !html.contains(external),
            "report.html references {external}"
        );
    }
    for tag in html
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap())
    {
        assert!(
            !tag.contains("src=") && !tag.contains("href=") && !tag.starts_with("script"),
            "tag <{tag}> would load or run something"
        );
    }
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src="));

    // Chromium draws it, and the page requests nothing.
    let dir = tempfile::tempdir().unwrap();
    let (png, requests) = screenshot(dir.path(), "report", &page);
    assert_eq!(requests, Vec::<String>::new(), "the report made requests");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(png_size(&bytes), (1280, 1600));
    assert!(
        bytes.len() > 30_000,
        "a {}-byte PNG is a blank page",
        bytes.len()
    );
    if let Some(keep) = std::env::var_os("KEEP_REPORT_PNG") {
        std::fs::copy(&png, keep).unwrap(); // to look at it
    }

    // The rendered DOM: the sections are there, the banner is inert text.
    let dom = chromium(&dir.path().join("dom-profile"), &["--dump-dom"], &page);
    let dom = String::from_utf8_lossy(&dom.stdout);
    for piece in [
        "Network scan report",
        "port opened",
        "127.0.13.3",
        "127.0.13.2",
        "the scan failed in this run",
        "<svg",
        "vsftpd",
    ] {
        assert!(dom.contains(piece), "rendered page lacks {piece:?}");
    }
    assert!(
        !dom.contains("<script") && !dom.contains("<img"),
        "markup from a banner ran"
    );
    assert!(dom.contains("&lt;script&gt;alert('x')&lt;/script&gt;"));

    // Control: the same check does see a page that fetches something.
    let bad = dir.path().join("bad.html");
    std::fs::write(&bad, "<p>x</p><img src=\"http://198.51.100.7/x.png\">").unwrap();
    let (_, requests) = screenshot(dir.path(), "bad", &bad);
    assert_eq!(requests, ["http://198.51.100.7/x.png"]);
}
