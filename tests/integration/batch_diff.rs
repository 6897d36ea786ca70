//! `daily_scan diff FILE FILE` as an ndiff replacement: the same host and port changes as
//! ndiff 7.93 on nmap's own test scans, correct where ndiff crashes (several scripts on a
//! port), and exactly the generator's ground truth on a mutated synthetic scan. No scanning.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::batch_env::{BIN, describe};
use crate::support::fixture;

fn diff_json(a: &Path, b: &Path) -> (Output, Value) {
    let out = Command::new(BIN)
        .args(["diff", "--format", "json"])
        .arg(a)
        .arg(b)
        .env("SCANNER_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        describe(&out)
    );
    let delta =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)));
    (out, delta)
}

/// `kind ip [port/proto]` for every change of a delta.json.
fn ours(delta: &Value) -> BTreeSet<String> {
    delta["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let head = format!(
                "{} {}",
                c["kind"].as_str().unwrap(),
                c["ip"].as_str().unwrap()
            );
            match c["port"].as_u64() {
                Some(p) => format!("{head} {p}/{}", c["protocol"].as_str().unwrap()),
                None => head,
            }
        })
        .collect()
}

/// One port line of ndiff's text output: state, service and version columns.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PortLine {
    state: String,
    service: String,
    version: String,
}

#[derive(Debug, Default)]
struct HostSide {
    up: bool,
    ports: BTreeMap<(u16, String), PortLine>,
}

/// The host and port changes in ndiff's text output, with this project's identity rules: a
/// host is its IP address (ndiff also keys on the hostname, so a renamed host shows as one
/// removed and one added: merged here), and only open ports count (ndiff also lists
/// filtered/closed churn). Script output, OS details and "Not shown" lines are skipped.
fn ndiff_changes(text: &str) -> BTreeSet<String> {
    let mut before: BTreeMap<IpAddr, HostSide> = BTreeMap::new();
    let mut after: BTreeMap<IpAddr, HostSide> = BTreeMap::new();
    let mut current: Option<(char, IpAddr)> = None;
    for line in text.lines().skip(2) {
        let Some(sign) = line.chars().next() else {
            continue;
        };
        let rest = &line[1..];
        if rest.ends_with(':') && !rest.starts_with(' ') {
            let name = &rest[..rest.len() - 1];
            let ip = name
                .rsplit_once(" (")
                .map_or(name, |(_, ip)| ip.trim_end_matches(')'));
            current = ip.parse().ok().map(|ip| (sign, ip));
            continue;
        }
        let Some((host_sign, ip)) = current else {
            continue;
        };
        if rest == "Host is up." {
            if sign != '+' {
                before.entry(ip).or_default().up = true;
            }
            if sign != '-' {
                after.entry(ip).or_default().up = true;
            }
            continue;
        }
        // `22/tcp  open  ssh  OpenSSH 9.2 (protocol 2.0)`
        let mut cols = rest.split_whitespace();
        let Some((port, proto)) = cols.next().and_then(|c| c.split_once('/')) else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        let state = cols.next().unwrap_or("").to_string();
        let service = cols.next().unwrap_or("").to_string();
        let version = cols.collect::<Vec<_>>().join(" ");
        // Our comparison reads product and version, not extrainfo (ndiff's trailing "(...)").
        let version = match version.rfind(" (") {
            Some(i) if version.ends_with(')') => version[..i].to_string(),
            _ => version,
        };
        let entry = PortLine {
            state,
            service,
            version,
        };
        let key = (port, proto.to_string());
        // A host in both scans lists only changed ports; a whole-host block lists all.
        if sign != '+' {
            before
                .entry(ip)
                .or_default()
                .ports
                .insert(key.clone(), entry.clone());
        }
        if sign != '-' {
            after.entry(ip).or_default().ports.insert(key, entry);
        }
        if host_sign == ' ' {
            before.entry(ip).or_default().up = true;
            after.entry(ip).or_default().up = true;
        }
    }
    let mut out = BTreeSet::new();
    let ips: BTreeSet<IpAddr> = before.keys().chain(after.keys()).copied().collect();
    for ip in ips {
        let empty = HostSide::default();
        let (b, a) = (
            before.get(&ip).unwrap_or(&empty),
            after.get(&ip).unwrap_or(&empty),
        );
        match (b.up, a.up) {
            (false, true) => {
                out.insert(format!("new_host {ip}"));
            }
            (true, false) => {
                out.insert(format!("host_gone {ip}"));
            }
            _ => {}
        }
        let keys: BTreeSet<&(u16, String)> = b.ports.keys().chain(a.ports.keys()).collect();
        for key in keys {
            let open_in = |side: &'_ HostSide| -> Option<PortLine> {
                side.ports.get(key).filter(|p| p.state == "open").cloned()
            };
            let what = format!("{ip} {}/{}", key.0, key.1);
            match (open_in(b), open_in(a)) {
                (None, Some(_)) => out.insert(format!("port_opened {what}")),
                (Some(_), None) => out.insert(format!("port_closed {what}")),
                (Some(x), Some(y)) if x.service != y.service || x.version != y.version => {
                    out.insert(format!("service_changed {what}"))
                }
                _ => false,
            };
        }
    }
    out
}

#[test]
fn same_host_and_port_changes_as_ndiff_on_its_own_test_scans() {
    // Pairs whose files scanned the same ports (simple.xml scanned 22 and 113 only: against
    // empty.xml or complex.xml, only those are compared, see truth_coverage and diff::tests).
    // ndiff reads a host absent from a file as down; here it is "not compared" (the file
    // covers the hosts it lists), so ndiff's lines for such hosts are left out.
    let pairs = [
        ("os", "simple"),
        ("single", "down"),
        ("random-1", "random-2"),
    ];
    let mut total = 0;
    for (a, b) in pairs {
        let oracle = fixture(&format!("peer/ndiff-oracle/{a}_vs_{b}.text.out"));
        let (out, delta) = diff_json(
            &fixture(&format!("peer/ndiff/{a}.xml")),
            &fixture(&format!("peer/ndiff/{b}.xml")),
        );
        let unlisted: BTreeSet<String> = delta["not_compared"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["target"].as_str().unwrap().to_string())
            .collect();
        let want: BTreeSet<String> = ndiff_changes(&std::fs::read_to_string(&oracle).unwrap())
            .into_iter()
            .filter(|line| {
                let ip = line.split(' ').nth(1).unwrap_or_default();
                !unlisted.contains(ip)
            })
            .collect();
        let got = ours(&delta);
        assert_eq!(got, want, "{a} vs {b}");
        let code = if got.is_empty() { 0 } else { 1 };
        assert_eq!(out.status.code(), Some(code), "{a} vs {b}: exit code");
        total += got.len();
    }
    // The pairs really exercise it (random-1 vs random-2 alone has dozens of changes).
    assert!(total >= 2, "only {total} changes across the pairs");
}

#[test]
fn ndiff_text_layout_and_no_noise() {
    let out = Command::new(BIN)
        .arg("diff")
        .arg(fixture("peer/ndiff/random-1.xml"))
        .arg(fixture("peer/ndiff/random-2.xml"))
        .env("SCANNER_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("-"), "{text}");
    assert!(
        text.contains("dracgiems-913.example.com (10.210.134.64):\n PORT"),
        "{text}"
    );
    assert!(
        text.contains("\n+50001/tcp open  http    2Wire HomePortal http config\n"),
        "{text}"
    );
    for noise in ["Not shown", "OS details", "|", "filtered"] {
        assert!(!text.contains(noise), "{noise:?} in\n{text}");
    }
    // The renamed host (same address, same ports) is not a change at all.
    assert!(!text.contains("10.196.172.89"), "{text}");
}

#[test]
fn works_where_ndiff_crashes_on_ports_with_several_scripts() {
    let (out, delta) = diff_json(
        &fixture("edge/multi_script_a.xml"),
        &fixture("edge/multi_script_b.xml"),
    );
    assert_eq!(out.status.code(), Some(1));
    let got: Vec<String> = ours(&delta).into_iter().collect();
    assert_eq!(
        got,
        [
            "port_opened 192.0.2.10 443/tcp",
            "service_changed 192.0.2.10 80/tcp"
        ]
    );
    let changed = &delta["changes"][0];
    assert_eq!(changed["before"]["version"], "2.4.57");
    assert_eq!(changed["after"]["version"], "2.4.62");
    assert_eq!(delta["from"]["snapshot"], Value::Null);
    assert!(
        delta["to"]["file"]
            .as_str()
            .unwrap()
            .ends_with("multi_script_b.xml")
    );
    // Same file twice: exit 0, no changes.
    let a = fixture("edge/multi_script_a.xml");
    let (out, delta) = diff_json(&a, &a);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(delta["changes"], Value::Array(vec![]));
}

/// The vendored copy of the shared generator (see tests/fixtures/generator/README.md).
fn generator() -> PathBuf {
    fixture("generator/gen_nmap_xml.py")
}

#[test]
fn generator_copy_matches_the_shared_one() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen_nmap_xml.py");
    if !shared.is_file() {
        eprintln!(
            "{} not present (a clean clone): nothing to compare",
            shared.display()
        );
        return;
    }
    assert_eq!(
        std::fs::read(&shared).unwrap(),
        std::fs::read(generator()).unwrap(),
        "tests/fixtures/generator/gen_nmap_xml.py differs from {}: copy it again",
        shared.display()
    );
}

fn generate(args: &[&str]) {
    let out = Command::new("python3")
        .arg(generator())
        .args(args)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", describe(&out));
}

#[test]
fn matches_the_generators_ground_truth_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, truth) = (
        dir.path().join("A.xml"),
        dir.path().join("B.xml"),
        dir.path().join("T.json"),
    );
    let s = |p: &Path| p.to_str().unwrap().to_string();
    generate(&["--hosts", "200", "--seed", "3", "-o", &s(&a)]);
    generate(&[
        "--hosts",
        "200",
        "--seed",
        "3",
        "--mutate",
        "0.1",
        "--truth",
        &s(&truth),
        "-o",
        &s(&b),
    ]);
    // What makes ndiff 7.93 crash on these files: ports with several script results.
    let xml = std::fs::read_to_string(&a).unwrap();
    assert!(
        xml.split("<port ").any(|p| p
            .split("</port>")
            .next()
            .unwrap()
            .matches("<script ")
            .count()
            >= 2),
        "the generated scan should hold a port with several scripts"
    );

    let (out, delta) = diff_json(&a, &b);
    assert_eq!(out.status.code(), Some(1));
    let truth: Value = serde_json::from_str(&std::fs::read_to_string(&truth).unwrap()).unwrap();

    let mut want = BTreeSet::new();
    let mut new_host_ports: BTreeMap<String, u64> = BTreeMap::new();
    let mut gone: BTreeSet<String> = BTreeSet::new();
    let mut versions = BTreeMap::new();
    for c in truth["changes"].as_array().unwrap() {
        let host = c["host"].as_str().unwrap().to_string();
        let port = c["port"].as_u64();
        match c["change"].as_str().unwrap() {
            // A host one file does not list was not scanned there: not compared, never
            // new or gone (the file covers the hosts it lists).
            "host_added" => {
                new_host_ports.insert(host, c["open_ports"].as_u64().unwrap());
            }
            "host_removed" => {
                gone.insert(host);
            }
            "port_opened" => {
                want.insert(format!("port_opened {host} {}/tcp", port.unwrap()));
            }
            "port_closed" => {
                want.insert(format!("port_closed {host} {}/tcp", port.unwrap()));
            }
            "version_changed" => {
                let key = format!("service_changed {host} {}/tcp", port.unwrap());
                versions.insert(key.clone(), (c["old"].clone(), c["new"].clone()));
                want.insert(key);
            }
            other => panic!("unknown truth change {other}"),
        }
    }
    assert!(!gone.is_empty() && !new_host_ports.is_empty() && !versions.is_empty());

    // A new host's open ports are port_opened, a gone host's are port_closed: count them
    // against the truth's figures, then compare the rest one to one.
    let mut got = BTreeSet::new();
    let mut opened_on_new: BTreeMap<String, u64> = BTreeMap::new();
    for c in delta["changes"].as_array().unwrap() {
        let ip = c["ip"].as_str().unwrap().to_string();
        let kind = c["kind"].as_str().unwrap();
        if kind == "port_opened" && new_host_ports.contains_key(&ip) {
            *opened_on_new.entry(ip).or_default() += 1;
            continue;
        }
        if kind == "port_closed" && gone.contains(&ip) {
            assert_eq!(c["before"]["state"], "open");
            continue;
        }
        let line = match c["port"].as_u64() {
            Some(p) => format!("{kind} {ip} {p}/{}", c["protocol"].as_str().unwrap()),
            None => format!("{kind} {ip}"),
        };
        if let Some((old, new)) = versions.get(&line) {
            assert_eq!(
                (&c["before"]["version"], &c["after"]["version"]),
                (old, new),
                "{line}"
            );
        }
        got.insert(line);
    }
    assert_eq!(got, want);
    assert!(opened_on_new.is_empty(), "{opened_on_new:?}");
    let mut not_compared: BTreeSet<String> = BTreeSet::new();
    for n in delta["not_compared"].as_array().unwrap() {
        not_compared.insert(format!(
            "{} {}",
            n["target"].as_str().unwrap(),
            n["reason"].as_str().unwrap()
        ));
    }
    let expected: BTreeSet<String> = new_host_ports
        .keys()
        .map(|h| format!("{h} target_added"))
        .chain(gone.iter().map(|h| format!("{h} target_removed")))
        .collect();
    assert_eq!(not_compared, expected);
}
