//! Hostile and broken input: cut files, XXE, unknown entities, wrong nesting, garbage bytes.

use super::super::*;
use super::fixture;

const HEAD: &str =
    r#"<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap x" start="1" version="7.93">"#;
const TAIL: &str = r#"<runstats><finished time="2" elapsed="1.00" exit="success"/><hosts up="1" down="0" total="1"/></runstats></nmaprun>"#;

/// A complete document around `body` (the children of `<nmaprun>` before `<runstats>`).
fn doc(body: &str) -> Vec<u8> {
    format!("{HEAD}{body}{TAIL}").into_bytes()
}

fn malformed(outcome: Result<ScanResult, XmlError>, needle: &str) {
    match outcome {
        Err(XmlError::Malformed { message, .. }) => {
            assert!(message.contains(needle), "{message:?} lacks {needle:?}")
        }
        other => panic!("expected Malformed ({needle}), got {other:?}"),
    }
}

fn incomplete(outcome: Result<ScanResult, XmlError>) {
    assert!(
        matches!(outcome, Err(XmlError::Incomplete { .. })),
        "{outcome:?}"
    );
}

#[test]
fn minimal_document_parses() {
    let r = parse_bytes(&doc(
        r#"<host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/></host>"#,
    ))
    .unwrap();
    assert_eq!((r.hosts.len(), r.start, r.end), (1, Some(1), Some(2)));
}

#[test]
fn every_cut_of_a_real_file_is_incomplete() {
    for rel in [
        "peer/ndiff/simple.xml",
        "loopback/sv_two_hosts.xml",
        "edge/edge_cases.xml",
    ] {
        let xml = std::fs::read(fixture(rel)).unwrap();
        let end = xml.windows(10).position(|w| w == b"</nmaprun>").unwrap() + 10;
        for cut in 0..end {
            let outcome = parse_bytes(&xml[..cut]);
            assert!(
                matches!(outcome, Err(XmlError::Incomplete { .. })),
                "{rel} cut at {cut}: {outcome:?}"
            );
        }
        assert!(parse_bytes(&xml[..end]).is_ok());
    }
}

#[test]
fn missing_runstats_or_root_is_incomplete() {
    incomplete(parse_bytes(format!("{HEAD}</nmaprun>").as_bytes()));
    incomplete(parse_bytes(br#"<nmaprun args="x"/>"#));
    incomplete(parse_bytes(b""));
    incomplete(parse_bytes(
        b"  \n<?xml version=\"1.0\"?>\n<!-- nothing -->\n",
    ));
    let libnmap = fixture("peer/libnmap/libnmap__test__files__1_hosts_incomplete.xml");
    let err = parse_file(&libnmap).unwrap_err();
    assert!(err.to_string().starts_with("incomplete scan: "), "{err}");
}

#[test]
fn other_documents_are_not_nmap() {
    let err = parse_bytes(b"<html><body>hi</body></html>").unwrap_err();
    assert!(
        matches!(&err, XmlError::NotNmap { root } if root == "html"),
        "{err:?}"
    );
    let long = format!("<{}/>", "a".repeat(10_000));
    let err = parse_bytes(long.as_bytes()).unwrap_err();
    assert!(
        err.to_string().len() < 300,
        "hostile names are cut short in messages"
    );
}

#[test]
fn external_entities_are_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker.txt");
    std::fs::write(&marker, "MARKER-SECRET-CONTENT").unwrap();
    let dtd = format!(
        r#"<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM "file://{}">]>"#,
        marker.display()
    );
    let in_attr = format!(r#"{dtd}<nmaprun args="&xxe;" version="7.93">{TAIL}"#);
    let in_text = format!(
        r#"{dtd}<nmaprun><host><ports><port protocol="tcp" portid="1"><service name="x"><cpe>&xxe;</cpe></service></port></ports></host>{TAIL}"#
    );
    for xml in [in_attr, in_text] {
        let err = parse_bytes(xml.as_bytes()).unwrap_err();
        assert!(matches!(err, XmlError::Malformed { .. }), "{err:?}");
        assert!(err.to_string().contains("xxe"), "{err}");
        assert!(!format!("{err:?}").contains("MARKER-SECRET"));
    }
    // libnmap's XXE probe: the root is not <nmaprun>, so nothing past it is even looked at.
    let probe = fixture("peer/libnmap/libnmap__test__files__defused_et_local_includer.xml");
    assert!(matches!(parse_file(&probe), Err(XmlError::NotNmap { .. })));
}

#[test]
fn entity_bombs_and_bad_references_fail_fast() {
    let mut bomb = String::from(r#"<!DOCTYPE nmaprun [<!ENTITY a0 "lol">"#);
    for i in 1..10 {
        let prev = format!("&a{};", i - 1).repeat(10);
        bomb.push_str(&format!(r#"<!ENTITY a{i} "{prev}">"#));
    }
    bomb.push_str(&format!(r#"]><nmaprun args="&a9;">{TAIL}"#));
    malformed(parse_bytes(bomb.as_bytes()), "a9");
    malformed(parse_bytes(&doc(r#"<scaninfo type="&#0;"/>"#)), "");
    malformed(
        parse_bytes(&doc(
            "<host><ports><port protocol=\"tcp\" portid=\"1\"><service><cpe>&nope;</cpe></service></port></ports></host>",
        )),
        "nope",
    );
    malformed(parse_bytes(&doc("&undefined;")), "undefined");
    malformed(parse_bytes(&doc("&amp text")), "");
}

#[test]
fn references_in_text_resolve() {
    let body = r#"<host><ports><port protocol="tcp" portid="1"><service name="x"><cpe>cpe:/a:&#60;&#x3e;&amp;&lt;</cpe></service></port></ports></host>"#;
    let r = parse_bytes(&doc(body)).unwrap();
    assert_eq!(r.hosts[0].ports[0].service.cpe, ["cpe:/a:<>&<"]);
}

#[test]
fn wrong_nesting_and_meaningless_values_are_rejected() {
    malformed(parse_bytes(&doc("<host><host></host></host>")), "<host>");
    malformed(
        parse_bytes(&doc("<hosthint><host></host></hosthint>")),
        "<host>",
    );
    malformed(parse_bytes(&doc("<host><nmaprun/></host>")), "<nmaprun>");
    malformed(parse_bytes(&doc("<host></hots>")), "");
    malformed(parse_bytes(&doc("</host>")), "");
    let port = |attrs: &str| doc(&format!("<host><ports><port {attrs}/></ports></host>"));
    malformed(parse_bytes(&port(r#"protocol="tcp""#)), "portid");
    malformed(
        parse_bytes(&port(r#"protocol="tcp" portid="70000""#)),
        "70000",
    );
    malformed(
        parse_bytes(&port(r#"protocol="tcp" portid="-1""#)),
        "portid",
    );
    malformed(
        parse_bytes(&doc(r#"<host starttime="soon"/>"#)),
        "starttime",
    );
    malformed(parse_bytes(&doc("<scaninfo type=oops/>")), "scaninfo");
    malformed(
        parse_bytes(format!("junk{HEAD}{TAIL}").as_bytes()),
        "outside the root",
    );
    malformed(
        parse_bytes(format!("{HEAD}{TAIL}{HEAD}{TAIL}").as_bytes()),
        "after </nmaprun>",
    );
    let mut utf8 = doc(r#"<host><status state="up" reason="X"/></host>"#);
    let at = utf8.iter().position(|&b| b == b'X').unwrap();
    utf8[at] = 0xff;
    malformed(parse_bytes(&utf8), "");
}

#[test]
fn what_nmap_may_emit_is_tolerated() {
    let body = r#"<host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/>
        <ports><port protocol="tcp" portid="1"><state state="open"/></port></ports>
        <newfangled><port protocol="tcp" portid="2"/></newfangled><os/></host>
        <host/><prescript><script id="x" output="y"/></prescript>"#;
    let r = parse_bytes(&doc(body)).unwrap();
    assert_eq!(r.hosts.len(), 2);
    assert_eq!(
        r.hosts[0].ports.len(),
        1,
        "a <port> outside <ports> is not read"
    );
    assert_eq!(r.hosts[0].ports[0].service, Default::default());
    assert_eq!(r.hosts[1], Default::default());
}

#[test]
fn deep_nesting_is_refused_without_recursion() {
    let deep = format!(
        "{}{}",
        "<table>".repeat(200_000),
        "</table>".repeat(200_000)
    );
    let body = format!(
        "<host><ports><port protocol=\"tcp\" portid=\"1\"><script id=\"s\">{deep}</script></port></ports></host>"
    );
    malformed(parse_bytes(&doc(&body)), "nested deeper");
    let shallow = format!("{}{}", "<table>".repeat(100), "</table>".repeat(100));
    let body = format!(
        "<host><ports><port protocol=\"tcp\" portid=\"1\"><script id=\"s\">{shallow}</script></port></ports></host>"
    );
    assert_eq!(
        parse_bytes(&doc(&body)).unwrap().hosts[0].ports[0].scripts[0].id,
        "s"
    );
}

#[test]
fn huge_attribute_lists_stay_linear() {
    // A quadratic duplicate check would need ~10^10 comparisons here and never finish.
    let attrs: String = (0..150_000).map(|i| format!(" a{i}=\"v\"")).collect();
    let body = format!("<host{attrs} starttime=\"5\"><status state=\"up\"{attrs}/></host>");
    let r = parse_bytes(&doc(&body)).unwrap();
    assert_eq!(
        (r.hosts[0].starttime, r.hosts[0].state.as_str()),
        (Some(5), "up")
    );
}

#[test]
fn io_errors_and_missing_files_are_reported() {
    struct Failing(usize);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = self.0.min(buf.len()).min(HEAD.len());
            buf[..n].copy_from_slice(&HEAD.as_bytes()[..n]);
            self.0 = 0;
            Ok(n)
        }
    }
    let err = parse_reader(std::io::BufReader::new(Failing(10)), |_| {}).unwrap_err();
    assert!(
        matches!(err, XmlError::Io(_)) && err.to_string().contains("disk on fire"),
        "{err}"
    );
    let missing = std::path::Path::new("/nonexistent/scan.xml");
    let err = parse_file(missing).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/scan.xml"), "{err}");
}

/// xorshift64*: deterministic pseudo-random bytes without a dependency.
fn rng(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_bytes_and_mutations_never_panic() {
    let mut next = rng(0x5eed);
    for len in 0..400 {
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        assert!(parse_bytes(&bytes).is_err(), "random bytes made a scan");
    }
    let base = std::fs::read(fixture("edge/edge_cases.xml")).unwrap();
    const ALPHABET: &[u8] = b"<>/&;#\"'=!?[]- x\x00\xff\xc3";
    for _ in 0..3000 {
        let mut bytes = base.clone();
        for _ in 0..(next() % 4 + 1) {
            let at = (next() % bytes.len() as u64) as usize;
            match next() % 3 {
                0 => bytes[at] = ALPHABET[(next() % ALPHABET.len() as u64) as usize],
                1 => drop(bytes.remove(at)),
                _ => bytes.insert(at, ALPHABET[(next() % ALPHABET.len() as u64) as usize]),
            }
        }
        let _ = parse_bytes(&bytes);
    }
}
