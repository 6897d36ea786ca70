//! `ssl-cert` and `ssl-enum-ciphers` tables from a real nmap 7.93 TLS pass over loopback
//! listeners (`openssl s_server`): 18443 a 5-day certificate with SANs, 18444 one that expired
//! in 2021, 18445 a long-lived one served with TLS 1.0 only, 18446 plain HTTP. Expected values
//! were read off the certificates with `openssl x509 -fingerprint -sha256 -enddate`.

use super::super::*;
use super::{fixture, host, port};
use crate::model::Grade;

#[test]
fn certificates_versions_and_grades_are_read_per_port() {
    let r = parse_file(&fixture("loopback/tls-pass.xml")).unwrap();
    let h = host(&r, "127.0.0.1");

    let soon = port(h, "tcp", 18443).tls.as_ref().expect("18443 examined");
    let cert = soon.cert.as_ref().expect("certificate");
    assert_eq!(cert.subject_cn, "soon.test");
    assert_eq!(cert.issuer, "commonName=soon.test");
    assert!(cert.self_signed);
    assert_eq!(cert.sans, ["DNS:soon.test", "IP Address:127.0.0.1"]);
    assert_eq!(cert.not_after, "2026-12-10T07:42:41Z");
    assert_eq!(cert.key_type, "rsa");
    assert_eq!(cert.key_bits, Some(2048));
    assert_eq!(cert.signature_algorithm, "sha256WithRSAEncryption");
    assert_eq!(
        cert.sha256,
        "2ab68273be4bcaee0f55f9e4e1cf3a474417827a71a27988cfe492832a054b89"
    );
    assert_eq!(soon.versions, ["TLSv1.2", "TLSv1.3"]);
    assert_eq!(soon.least_grade, Some(Grade::A));
    // The text output stays with the port too (scan.json, `report`).
    assert!(
        port(h, "tcp", 18443)
            .scripts
            .iter()
            .any(|s| s.id == "ssl-cert")
    );

    let old = port(h, "tcp", 18444).tls.as_ref().unwrap();
    let cert = old.cert.as_ref().unwrap();
    assert_eq!(cert.not_before, "2020-01-01T00:00:00Z");
    assert_eq!(cert.not_after, "2021-01-01T00:00:00Z");
    assert_eq!(
        cert.sha256,
        "42e3bf5536683bf36945cfe74de2b2b9e5dfbd85fb91abe87ffe7f00b1f7bc8d"
    );

    let legacy = port(h, "tcp", 18445).tls.as_ref().unwrap();
    assert_eq!(legacy.versions, ["TLSv1.0"]);
    assert_eq!(legacy.legacy_versions(), ["TLSv1.0"]);
    assert_eq!(
        legacy.cert.as_ref().unwrap().sha256,
        "c0a930da62f9fa15978cbdec3500d548097ada1058368d33312903cc32ea1c9c"
    );

    let plain = port(h, "tcp", 18446);
    assert_eq!(plain.state, "open");
    assert_eq!(plain.tls, None);
}

const DOC_HEAD: &str = r#"<nmaprun><host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/><ports><port protocol="tcp" portid="443"><state state="open"/>"#;
const DOC_TAIL: &str =
    r#"</port></ports></host><runstats><finished exit="success"/></runstats></nmaprun>"#;

fn tls_of(scripts: &str) -> Option<crate::model::TlsInfo> {
    let doc = format!("{DOC_HEAD}{scripts}{DOC_TAIL}");
    let r = parse_bytes(doc.as_bytes()).unwrap();
    r.hosts[0].ports[0].tls.clone()
}

#[test]
fn tables_of_other_scripts_and_bad_values_are_ignored() {
    // Another script's tables are not TLS facts.
    let other = r#"<script id="http-title" output="x"><table key="validity"><elem key="notAfter">2030-01-01T00:00:00</elem></table></script>"#;
    assert_eq!(tls_of(other), None);
    // A grade that is not a letter, and a PEM that is not base64: left empty, not guessed.
    let odd = r#"<script id="ssl-enum-ciphers" output=""><table key="TLSv1.2"></table><elem key="least strength">excellent</elem></script><script id="ssl-cert" output=""><elem key="pem">-----BEGIN CERTIFICATE-----&#xa;!!!&#xa;-----END CERTIFICATE-----</elem><table key="validity"><elem key="notAfter">2030-01-01T00:00:00</elem></table><table key="subject"><elem key="commonName">a</elem></table><table key="issuer"><elem key="commonName">b</elem></table></script>"#;
    let t = tls_of(odd).unwrap();
    assert_eq!(t.least_grade, None);
    assert_eq!(t.versions, ["TLSv1.2"]);
    let c = t.cert.unwrap();
    assert_eq!(
        (c.sha256.as_str(), c.not_after.as_str()),
        ("", "2030-01-01T00:00:00Z")
    );
    assert!(!c.self_signed, "subject a, issuer b");
    // A huge element value is capped, not kept whole.
    let huge = format!(
        r#"<script id="ssl-cert" output=""><elem key="sig_algo">{}</elem><table key="validity"><elem key="notAfter">2030-01-01T00:00:00</elem></table></script>"#,
        "x".repeat(100_000)
    );
    let c = tls_of(&huge).unwrap().cert.unwrap();
    assert!(c.signature_algorithm.len() <= 32 * 1024);
}
