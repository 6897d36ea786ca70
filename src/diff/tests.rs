use super::*;
use crate::delta::{ChangeKind, NotCompared, NotComparedReason};
use crate::report::diff_text;
use crate::testdata::NdiffOracle;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn file(name: &str) -> Side {
    Side::File(fixture(name))
}

fn files(a: &str, b: &str) -> Diff {
    diff(
        &file(a),
        &file(b),
        &Database::Sqlite("/nonexistent/scans.db".into()),
        &DeltaConfig::default(),
    )
    .unwrap()
}

fn summary(d: &Diff) -> Vec<String> {
    d.delta
        .changes
        .iter()
        .map(|c| match &c.port {
            Some(p) => format!("{} {} {}/{}", c.kind.as_str(), c.ip, p.port, p.protocol),
            None => format!("{} {}", c.kind.as_str(), c.ip),
        })
        .collect()
}

fn text(d: &Diff) -> String {
    let mut out = Vec::new();
    diff_text::write(&mut out, &d.from, &d.to, &d.delta).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn sides_are_ids_unless_a_file_has_that_name() {
    assert_eq!(Side::parse("12"), Side::Snapshot(12));
    assert_eq!(Side::parse("a.xml"), Side::File("a.xml".into()));
    let dir = tempfile::tempdir().unwrap();
    let numeric = dir.path().join("7");
    std::fs::write(&numeric, "").unwrap();
    let arg = numeric.to_str().unwrap();
    assert_eq!(Side::parse(arg), Side::File(numeric.clone()));
}

#[test]
fn only_ports_scanned_in_both_files_are_compared() {
    // simple.xml scanned 22 and 113/tcp without -sV; complex.xml tcp and udp 1-100 with -sV.
    // Only 22/tcp is in both, and its service is not compared: no change at all.
    let d = files("peer/ndiff/simple.xml", "peer/ndiff/complex.xml");
    assert!(summary(&d).is_empty(), "{:?}", summary(&d));
    assert_eq!(d.delta.from.as_ref().unwrap().snapshot, None);
    assert!(d.delta.to.file.as_deref().unwrap().ends_with("complex.xml"));
    assert_eq!(d.delta.to.profile, FILE_PROFILE);
    let not: Vec<(&str, NotComparedReason)> = d
        .delta
        .not_compared
        .iter()
        .map(|n| (n.target.as_str(), n.reason))
        .collect();
    assert_eq!(
        not,
        [
            (
                "ports tcp:113 (scanned only in the earlier run)",
                NotComparedReason::PortNotScannedInBoth
            ),
            (
                "ports tcp:1-21,23-100;udp:1-100 (scanned only in the later run)",
                NotComparedReason::PortNotScannedInBoth
            ),
            (
                "services (version detection ran on one side only)",
                NotComparedReason::PortNotScannedInBoth
            ),
        ]
    );
    // The other way round: nothing closed either.
    let back = files("peer/ndiff/complex.xml", "peer/ndiff/simple.xml");
    assert!(summary(&back).is_empty(), "{:?}", summary(&back));
}

#[test]
fn a_host_missing_from_the_later_file_is_not_compared() {
    // down.xml lists no host: nmap did not report it, so nothing says it is gone.
    let d = files("peer/ndiff/single.xml", "peer/ndiff/down.xml");
    let (_, ip) = NdiffOracle::pair("single", "down").host();
    assert!(summary(&d).is_empty(), "{:?}", summary(&d));
    assert_eq!(
        d.delta.not_compared,
        [NotCompared {
            target: ip,
            reason: NotComparedReason::TargetRemoved
        }]
    );
}

#[test]
fn a_file_against_itself_is_the_same() {
    let d = files("peer/ndiff/random-1.xml", "peer/ndiff/random-1.xml");
    assert!(d.delta.changes.is_empty());
    assert_eq!(text(&d).lines().count(), 2, "only the two header lines");
}

#[test]
fn an_nmap_error_document_is_refused() {
    let err = diff(
        &file("loopback/error_exit.xml"),
        &file("peer/ndiff/simple.xml"),
        &Database::Sqlite("/nonexistent/scans.db".into()),
        &DeltaConfig::default(),
    )
    .unwrap_err();
    assert!(matches!(err, DiffError::NmapError { .. }), "{err}");
    let err = diff(
        &file("peer/libnmap/libnmap__test__files__1_hosts_incomplete.xml"),
        &file("peer/ndiff/simple.xml"),
        &Database::Sqlite("/nonexistent/scans.db".into()),
        &DeltaConfig::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("incomplete"), "{err}");
}

#[test]
fn snapshot_against_file_keeps_the_snapshots_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scans.db");
    let db = Database::Sqlite(path.clone());
    let mut store = Store::open(&path).unwrap();
    // The stored run covered the host, plus a target that failed: never compared.
    let (_, ip) = NdiffOracle::pair("single", "down").host();
    let mut s = load_file(&fixture("peer/ndiff/single.xml")).unwrap();
    s.profile = "default".into();
    // Stored before port coverage was recorded: compared on every port, as the same profile.
    s.scanned = None;
    s.targets = vec![
        TargetRecord {
            entry: "ndiff-host".into(),
            target: ip.clone(),
            status: TargetStatus::Completed,
            error: None,
            covers: vec![format!("{ip}/32").parse().unwrap()],
        },
        TargetRecord {
            entry: "other".into(),
            target: "198.51.100.0/30".into(),
            status: TargetStatus::Timeout,
            error: Some("timed out".into()),
            covers: vec!["198.51.100.0/30".parse().unwrap()],
        },
    ];
    let id = store.save_snapshot(&s).unwrap();
    drop(store);

    let d = diff_with_simple(id, &db);
    assert_eq!(d.delta.to.profile, "default");
    assert_eq!(d.delta.from.as_ref().unwrap().snapshot, Some(id));
    assert_eq!(
        summary(&d),
        [
            format!("port_closed {ip} 53/tcp"),
            format!("port_closed {ip} 80/tcp"),
        ]
    );
    assert_eq!(d.delta.not_compared.len(), 1);
    assert_eq!(
        d.delta.not_compared[0].reason,
        NotComparedReason::TargetRemoved
    );
    assert!(
        d.delta
            .changes
            .iter()
            .all(|c| c.kind == ChangeKind::PortClosed)
    );

    let err = diff(
        &Side::Snapshot(id + 1),
        &Side::Snapshot(id),
        &db,
        &DeltaConfig::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, DiffError::Store(StoreError::NotFound(_))),
        "{err}"
    );
}

/// The delta of the memory-lean path (identical hosts left out) equals a plain comparison of
/// the whole files.
/// Returns how many FROM hosts each path kept.
fn assert_lean_equals_full(a: &Path, b: &Path) -> (usize, usize) {
    let lean = diff(
        &Side::File(a.to_path_buf()),
        &Side::File(b.to_path_buf()),
        &Database::Sqlite("/nonexistent/scans.db".into()),
        &DeltaConfig::default(),
    )
    .unwrap();
    let (mut fa, mut fb) = (load_file(a).unwrap(), load_file(b).unwrap());
    let all: Vec<IpAddr> = listed(&fa).collect();
    cover_files(
        &Side::File(a.to_path_buf()),
        &mut fa,
        &all,
        &Side::File(b.to_path_buf()),
        &mut fb,
    );
    let full = delta::compare(Some(&fa), &fb, &DeltaConfig::default());
    assert_eq!(lean.delta.changes, full.changes);
    assert_eq!(lean.delta.score, full.score);
    assert_eq!(lean.delta.summary, full.summary);
    assert_eq!(lean.delta.status, full.status);
    (lean.from.hosts.len(), fa.hosts.len())
}

#[test]
fn leaving_identical_hosts_out_changes_nothing() {
    let (lean, full) = assert_lean_equals_full(
        &fixture("peer/ndiff/random-1.xml"),
        &fixture("peer/ndiff/random-2.xml"),
    );
    assert!(lean < full / 2, "kept {lean} of {full} hosts");
    assert_lean_equals_full(
        &fixture("peer/ndiff/random-2.xml"),
        &fixture("peer/ndiff/random-1.xml"),
    );
}

#[test]
fn repeated_reports_of_an_address_are_all_compared() {
    let host = |ports: &str| {
        format!(
            "<host><status state=\"up\" reason=\"user-set\"/>\
             <address addr=\"192.0.2.5\" addrtype=\"ipv4\"/><ports>{ports}</ports></host>\n"
        )
    };
    let port = |n: u16, state: &str| {
        format!(
            "<port protocol=\"tcp\" portid=\"{n}\"><state state=\"{state}\" reason=\"x\"/>\
             <service name=\"x\"/></port>"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.xml"), dir.path().join("b.xml"));
    // FROM reports the address twice: once as TO does, once with 443 open too.
    let same = host(&port(22, "open"));
    std::fs::write(
        &a,
        nmap_doc(&(same.clone() + &host(&(port(22, "open") + &port(443, "open"))))),
    )
    .unwrap();
    std::fs::write(&b, nmap_doc(&same)).unwrap();
    let d = diff(
        &Side::File(a.clone()),
        &Side::File(b.clone()),
        &Database::Sqlite("/nonexistent/scans.db".into()),
        &DeltaConfig::default(),
    )
    .unwrap();
    assert_eq!(summary(&d), ["port_closed 192.0.2.5 443/tcp"]);
    assert_eq!(d.from.hosts.len(), 2, "both reports kept");
    assert_lean_equals_full(&a, &b);
}

#[test]
fn snapshot_against_file_compares_the_ports_both_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scans.db");
    let mut store = Store::open(&db).unwrap();
    // A stored run of tcp 1-100 (22, 53 and 80 open) against a file of 22 and 113 only.
    let mut s = load_file(&fixture("peer/ndiff/single.xml")).unwrap();
    s.profile = "quick".into();
    let (_, ip) = NdiffOracle::pair("single", "down").host();
    s.targets = vec![TargetRecord {
        entry: "ndiff-host".into(),
        target: ip.clone(),
        status: TargetStatus::Completed,
        error: None,
        covers: vec![format!("{ip}/32").parse().unwrap()],
    }];
    assert_eq!(s.scanned.as_ref().unwrap().to_string(), "tcp:1-100");
    let id = store.save_snapshot(&s).unwrap();
    drop(store);
    let d = diff_with_simple(id, &Database::Sqlite(db.clone()));
    assert!(
        summary(&d).is_empty(),
        "53 and 80 were not scanned: {:?}",
        summary(&d)
    );
    assert!(
        d.delta
            .not_compared
            .iter()
            .any(|n| n.reason == NotComparedReason::PortNotScannedInBoth
                && n.target.contains("tcp:1-21,23-100"))
    );
    // import of the same file agrees with diff: both read coverage from the file.
    let mut store = Store::open(&db).unwrap();
    let parsed = crate::nmap::xml::parse_file(&fixture("peer/ndiff/simple.xml")).unwrap();
    let imported = Snapshot::from_scan_result(&parsed, "simple.xml", "quick", Timestamp::now());
    let to = store.save_snapshot(&imported).unwrap();
    let delta = crate::delta::compare(
        Some(&store.load_snapshot_for_comparison(id).unwrap()),
        &store.load_snapshot_for_comparison(to).unwrap(),
        &DeltaConfig::default(),
    );
    assert_eq!(delta.changes, d.delta.changes);
    assert_eq!(delta.summary, d.delta.summary);
}

/// `diff SNAPSHOT peer/ndiff/simple.xml`.
fn diff_with_simple(id: i64, db: &Database) -> Diff {
    diff(
        &Side::Snapshot(id),
        &file("peer/ndiff/simple.xml"),
        db,
        &DeltaConfig::default(),
    )
    .unwrap()
}

#[test]
fn repeated_reports_on_the_later_side_are_all_compared() {
    let dir = tempfile::tempdir().unwrap();
    let host = |n: u16| {
        format!(
            "<host><status state=\"up\" reason=\"user-set\"/>\
             <address addr=\"192.0.2.5\" addrtype=\"ipv4\"/><ports>\
             <port protocol=\"tcp\" portid=\"{n}\"><state state=\"open\" reason=\"x\"/>\
             <service name=\"x\"/></port></ports></host>\n"
        )
    };
    // TO repeats the address, its first report equal to FROM's only one; other addresses in
    // between so that the two readers interleave.
    let filler: String = (1..=600)
        .map(|i| host(22).replace("192.0.2.5", &format!("198.51.{}.{}", i / 250, i % 250)))
        .collect();
    let (a, b) = (dir.path().join("a.xml"), dir.path().join("b.xml"));
    std::fs::write(&a, nmap_doc(&(host(22) + &filler))).unwrap();
    std::fs::write(&b, nmap_doc(&(host(22) + &filler + &host(443)))).unwrap();
    assert_lean_equals_full(&a, &b);
    assert_lean_equals_full(&b, &a);
    let d = files_at(&a, &b);
    assert_eq!(summary(&d), ["port_opened 192.0.2.5 443/tcp"]);
}

fn files_at(a: &Path, b: &Path) -> Diff {
    diff(
        &Side::File(a.to_path_buf()),
        &Side::File(b.to_path_buf()),
        &Database::Sqlite("/nonexistent/scans.db".into()),
        &DeltaConfig::default(),
    )
    .unwrap()
}

/// A complete nmap document around `hosts`.
fn nmap_doc(hosts: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<nmaprun scanner=\"nmap\" args=\"nmap\" start=\"1\" \
         version=\"7.93\">\n{hosts}<runstats><finished time=\"2\" exit=\"success\"/>\
         <hosts up=\"1\" down=\"0\" total=\"1\"/></runstats></nmaprun>\n"
    )
}
