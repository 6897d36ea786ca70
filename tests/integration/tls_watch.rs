//! The TLS watch end to end: certificates made by the test, `openssl s_server` listeners on
//! 127.0.33.x, real nmap, `daily_scan` runs as a user runs them, alerts read back with
//! `daily_scan alerts`, and `/api/certificates` plus the dashboard panel from `api_server`.
//! Addresses 127.0.33.x and ports 18461-18465 are this file's.

use std::net::Ipv4Addr;

use crate::alerts_env::all_alerts;
use crate::batch_env::{Install, Service};
use crate::support::server::Server;
use crate::support::webdriver::Driver;
use crate::tls_env::{TlsServer, fingerprint, self_signed, self_signed_between};
use crate::web_browser::artifact;

const SOON: u16 = 18461;
const EXPIRED: u16 = 18462;
const LEGACY: u16 = 18463;
const SWAPPED: u16 = 18464;
const PLAIN: u16 = 18465;

/// Quick profile (no version detection) on 18461-18465; `[tls] ports` names them, so the TLS
/// pass examines them although the port scan did not look for TLS.
fn install() -> Install {
    let install = Install::new(
        "18461-18465",
        "",
        "profile = \"quick\"\n\n[tls]\nports = [18461, 18462, 18463, 18464, 18465]\n",
    );
    install.targets(&["127.0.33.1"]);
    install
}

#[test]
fn expiry_expired_weak_and_changed_certificates_alert_and_renewal_resolves() {
    let ip = Ipv4Addr::new(127, 0, 33, 1);
    let install = install();
    let certs = install.path("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let soon = self_signed(&certs, "soon", "soon.test", 5);
    let expired = self_signed_between(
        &certs,
        "expired",
        "expired.test",
        "20200101000000Z",
        "20210101000000Z",
    );
    let legacy = self_signed(&certs, "legacy", "legacy.test", 3650);
    let first = self_signed(&certs, "first", "first.test", 3650);

    let soon_server = TlsServer::start(ip, SOON, &soon, &[]);
    let _expired = TlsServer::start(ip, EXPIRED, &expired, &[]);
    // TLS 1.0 only; SECLEVEL=0 lets OpenSSL 3 offer it at all.
    let _legacy = TlsServer::start(
        ip,
        LEGACY,
        &legacy,
        &["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"],
    );
    let swapped = TlsServer::start(ip, SWAPPED, &first, &[]);
    // Not TLS, on a port the TLS pass is told to examine: no alert, no failure.
    let _plain = Service::start(ip, PLAIN, Some(b"SSH-2.0-OpenSSH_9.2\r\n"));

    let run1 = install.scan(&[], &[], 0);
    assert!(
        run1.text()
            .contains("TLS pass: 4 of 5 TLS-looking ports answered with TLS"),
        "{}",
        run1.text()
    );
    assert_eq!(
        all_alerts(&install),
        [
            "cert_expiring high 127.0.33.1 18461 open 1-1",
            "cert_expired high 127.0.33.1 18462 open 1-1",
            "weak_tls medium 127.0.33.1 18463 open 1-1",
        ]
    );
    // scan.json carries the facts, with nmap's fingerprint equal to openssl's.
    let scan = run1.json("scan.json");
    let ports = scan["hosts"][0]["ports"].as_array().unwrap();
    let tls_of = |port: u16| {
        ports
            .iter()
            .find(|p| p["portid"] == port)
            .unwrap_or_else(|| panic!("no port {port} in scan.json"))["tls"]
            .clone()
    };
    assert_eq!(tls_of(SOON)["cert"]["sha256"], fingerprint(&soon));
    assert_eq!(tls_of(SOON)["cert"]["subject_cn"], "soon.test");
    assert_eq!(tls_of(EXPIRED)["cert"]["not_after"], "2021-01-01T00:00:00Z");
    assert_eq!(tls_of(LEGACY)["versions"], serde_json::json!(["TLSv1.0"]));
    assert!(tls_of(PLAIN).is_null(), "{}", tls_of(PLAIN));
    let report = std::fs::read_to_string(run1.dir.join("report.html")).unwrap();
    assert!(
        report.contains("data-cert=\"127.0.33.1:18461\""),
        "report.html has no TLS table"
    );

    // The read API and the dashboard panel list the three that need attention.
    let db = install.db();
    let server = Server::start(&[("database", &format!("\"{}\"", db.display()))]);
    let r = server.get("/api/certificates?expiring_within=30");
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = r.json();
    let listed: Vec<(u64, String)> = doc["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let flags: Vec<&str> = ["expired", "expiring", "weak"]
                .into_iter()
                .filter(|f| c[*f] == true)
                .collect();
            (c["port"].as_u64().unwrap(), flags.join(" "))
        })
        .collect();
    assert_eq!(
        listed,
        [
            (EXPIRED as u64, "expired".to_string()),
            (SOON as u64, "expiring".to_string()),
            (LEGACY as u64, "weak".to_string()),
        ]
    );
    assert_eq!(doc["total"], 4);
    // A window shorter than the 5 days left: the expiring one drops out.
    let short = server.get("/api/certificates?expiring_within=2").json();
    assert_eq!(short["count"], 2);
    let csv = server.get("/api/certificates?format=csv");
    assert_eq!(csv.status, 200);
    assert!(
        csv.body.starts_with("ip,protocol,port,status,"),
        "{}",
        csv.body
    );
    assert_eq!(csv.body.lines().count(), 4, "{}", csv.body);
    assert_eq!(
        server.get("/api/certificates?expiring_within=x").status,
        400
    );
    let page = server.get("/");
    assert!(
        page.body.contains("id=\"certificates\""),
        "no certificates panel"
    );
    dashboard_panel_in_chromium(&server);

    // Renewed (same name, same self-issuer) and swapped (another issuer): cert_changed info and
    // medium; the renewal resolves cert_expiring.
    drop(soon_server);
    drop(swapped);
    let renewed = self_signed(&certs, "renewed", "soon.test", 3650);
    let other = self_signed(&certs, "other", "other.test", 3650);
    let _renewed = TlsServer::start(ip, SOON, &renewed, &[]);
    let _swapped = TlsServer::start(ip, SWAPPED, &other, &[]);
    let run2 = install.scan(&[], &[], 0);
    assert!(run2.text().contains("resolved #1"), "{}", run2.text());
    assert_eq!(
        all_alerts(&install),
        [
            "cert_expiring high 127.0.33.1 18461 resolved 1-1",
            "cert_expired high 127.0.33.1 18462 open 1-2",
            "weak_tls medium 127.0.33.1 18463 open 1-2",
            "cert_changed info 127.0.33.1 18461 open 2-2",
            "cert_changed medium 127.0.33.1 18464 open 2-2",
        ]
    );

    // Without the TLS pass nothing is examined, so nothing resolves or is raised.
    let run3 = install.scan(&["--no-tls"], &[], 0);
    assert!(!run3.text().contains("TLS pass"), "{}", run3.text());
    let after = all_alerts(&install);
    assert_eq!(after[1], "cert_expired high 127.0.33.1 18462 open 1-2");
    assert_eq!(after[2], "weak_tls medium 127.0.33.1 18463 open 1-2");
    assert_eq!(after.len(), 5, "{after:?}");
}

#[test]
fn a_failed_tls_pass_leaves_the_port_scan_and_the_certificate_alerts_as_they_were() {
    let ip = Ipv4Addr::new(127, 0, 33, 2);
    let nmap = crate::batch_env::faulty_nmap();
    let install = Install::new(
        "18461",
        &format!("nmap_path = \"{}\"", nmap.display()),
        "profile = \"quick\"\n\n[tls]\nports = [18461]\n",
    );
    install.targets(&["127.0.33.2"]);
    let certs = install.path("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let soon = self_signed(&certs, "soon", "soon.test", 5);
    let server = TlsServer::start(ip, SOON, &soon, &[]);
    install.scan(&[], &[], 0);
    assert_eq!(
        all_alerts(&install),
        ["cert_expiring high 127.0.33.2 18461 open 1-1"]
    );

    // Renewed, but the TLS pass fails (only the run whose arguments name the scripts): the
    // port scan stands (exit 0, a complete snapshot, the port open), and the alert is neither
    // resolved nor refreshed, since nobody looked at the certificate.
    drop(server);
    let renewed = self_signed(&certs, "renewed", "soon.test", 3650);
    let _server = TlsServer::start(ip, SOON, &renewed, &[]);
    let failed = install.scan(&[], &[("FAKE_NMAP_FAIL", "+ssl-cert,+ssl-enum-ciphers")], 0);
    assert!(
        failed.text().contains("TLS pass failed"),
        "{}",
        failed.text()
    );
    let scan = failed.json("scan.json");
    assert_eq!(scan["status"], "complete");
    assert_eq!(scan["hosts"][0]["ports"][0]["state"], "open");
    assert!(scan["hosts"][0]["ports"][0]["tls"].is_null());
    assert_eq!(
        all_alerts(&install),
        ["cert_expiring high 127.0.33.2 18461 open 1-1"]
    );

    // The next run that looks resolves it, and compares the certificate with the one seen
    // last (snapshot 1, the failed pass saw none): changed.
    install.scan(&[], &[], 0);
    assert_eq!(
        all_alerts(&install),
        [
            "cert_expiring high 127.0.33.2 18461 resolved 1-1",
            "cert_changed info 127.0.33.2 18461 open 3-3",
        ]
    );
}

/// The dashboard's certificates panel in headless Chromium: the three flagged ports, most
/// urgent first, with their status; the screenshot is kept as `target/certificates.png`.
fn dashboard_panel_in_chromium(server: &Server) {
    let dir = tempfile::tempdir().unwrap();
    let driver = Driver::start(&dir.path().join("chromedriver.log"));
    let browser = driver.session(&dir.path().join("profile"), 1360, 900);
    browser.navigate(&format!("http://{}/", server.addr));
    let rows: Vec<(String, String)> = browser
        .find_all("table.certificates tbody tr")
        .iter()
        .map(|r| {
            let cells = browser.text(r);
            let status = cells.split_whitespace().last().unwrap_or("").to_string();
            (browser.attribute(r, "data-cert").unwrap(), status)
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("127.0.33.1:18462".to_string(), "expired".to_string()),
            ("127.0.33.1:18461".to_string(), "expiring".to_string()),
            ("127.0.33.1:18463".to_string(), "weak".to_string()),
        ]
    );
    browser.execute("document.getElementById('certificates').scrollIntoView(); return 1;");
    let png = browser.screenshot();
    assert!(
        png.len() > 20_000,
        "a {}-byte PNG is a blank page",
        png.len()
    );
    std::fs::write(artifact("certificates.png"), &png).unwrap();
}
