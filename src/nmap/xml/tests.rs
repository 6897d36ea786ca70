//! The parser against public nmap XML corpora (ndiff's and python-libnmap's test files).
//! Expected values were read off the files themselves, not off this parser's output.

use std::path::{Path, PathBuf};

use super::*;
use crate::model::{Host, Port};
use crate::testdata::NdiffOracle;

pub(super) fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn peer(rel: &str) -> ScanResult {
    let path = fixture(&format!("peer/{rel}"));
    parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub(super) fn host<'a>(r: &'a ScanResult, ip: &str) -> &'a Host {
    r.hosts
        .iter()
        .find(|h| h.ip() == Some(ip))
        .unwrap_or_else(|| panic!("no host {ip}"))
}

pub(super) fn port<'a>(h: &'a Host, protocol: &str, portid: u16) -> &'a Port {
    h.ports
        .iter()
        .find(|p| p.protocol == protocol && p.portid == portid)
        .unwrap_or_else(|| panic!("no port {protocol}/{portid}"))
}

/// Occurrences of `<tag>` and `<tag ` in the raw bytes: an independent count of elements.
fn count_tags(xml: &[u8], tag: &str) -> usize {
    [format!("<{tag} "), format!("<{tag}>")]
        .iter()
        .map(|needle| {
            xml.windows(needle.len())
                .filter(|w| *w == needle.as_bytes())
                .count()
        })
        .sum()
}

#[test]
fn every_peer_file_parses_with_every_host_and_port() {
    let mut checked = 0;
    for dir in ["peer/ndiff", "peer/libnmap"] {
        for entry in std::fs::read_dir(fixture(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if !name.ends_with(".xml") {
                continue;
            }
            checked += 1;
            let outcome = parse_file(&path);
            if name.contains("1_hosts_incomplete") {
                assert!(
                    matches!(outcome, Err(XmlError::Incomplete { .. })),
                    "{name}: {outcome:?}"
                );
            } else if name.contains("defused_et_") {
                assert!(
                    matches!(&outcome, Err(XmlError::NotNmap { root }) if root == "root"),
                    "{name}"
                );
            } else {
                let r = outcome.unwrap_or_else(|e| panic!("{name}: {e}"));
                let raw = std::fs::read(&path).unwrap();
                assert_eq!(r.hosts.len(), count_tags(&raw, "host"), "{name}: hosts");
                let ports: usize = r.hosts.iter().map(|h| h.ports.len()).sum();
                assert_eq!(ports, count_tags(&raw, "port"), "{name}: ports");
                assert!(!r.nmap_version.is_empty() && r.start.is_some(), "{name}");
                assert!(
                    r.hosts
                        .iter()
                        .all(|h| !h.state.is_empty() && h.ip().is_some()),
                    "{name}"
                );
            }
        }
    }
    assert_eq!(checked, 8 + 28, "fixture files went missing");
}

#[test]
fn ndiff_simple() {
    let r = peer("ndiff/simple.xml");
    let oracle = NdiffOracle::pair("simple", "complex");
    let (name, ip) = oracle.host();
    assert_eq!(r.args, oracle.args('-'));
    assert_eq!(r.nmap_version, "4.90RC2");
    assert_eq!((r.start, r.end), (Some(1247268210), Some(1247268210)));
    assert_eq!(r.scaninfo.len(), 1);
    let info = &r.scaninfo[0];
    assert_eq!(
        (info.scan_type.as_str(), info.protocol.as_str()),
        ("syn", "tcp")
    );
    assert_eq!((info.numservices, info.services.as_str()), (2, "22,113"));
    assert_eq!(r.runstats.elapsed, 0.56);
    assert_eq!(
        (
            r.runstats.hosts_up,
            r.runstats.hosts_down,
            r.runstats.hosts_total
        ),
        (1, 0, 1)
    );
    assert_eq!(r.runstats.exit, "", "nmap 4.90 wrote no exit attribute");

    let h = host(&r, &ip);
    assert_eq!((h.state.as_str(), h.reason.as_str()), ("up", "echo-reply"));
    assert_eq!(h.hostname(), Some(name.as_str()));
    assert_eq!(h.hostnames[0].kind, "PTR");
    assert_eq!(
        (h.starttime, h.endtime),
        (Some(1247268210), Some(1247268210))
    );
    let ssh = port(h, "tcp", 22);
    assert_eq!(
        (ssh.state.as_str(), ssh.reason.as_str()),
        ("open", "syn-ack")
    );
    assert_eq!(
        (ssh.service.name.as_str(), ssh.service.method.as_str()),
        ("ssh", "table")
    );
    assert_eq!(ssh.service.conf, 3);
    let auth = port(h, "tcp", 113);
    assert_eq!(
        (auth.state.as_str(), auth.service.name.as_str()),
        ("closed", "auth")
    );
    assert_eq!(h.open_ports().count(), 1);
}

#[test]
fn ndiff_complex_scripts_os_and_udp() {
    let r = peer("ndiff/complex.xml");
    let oracle = NdiffOracle::pair("simple", "complex");
    assert_eq!(r.args, oracle.args('+'));
    assert!(
        r.args.contains("--script=default,whois --version-light"),
        "{}",
        r.args
    );
    let kinds: Vec<_> = r
        .scaninfo
        .iter()
        .map(|s| (s.scan_type.as_str(), s.protocol.as_str()))
        .collect();
    assert_eq!(kinds, [("syn", "tcp"), ("udp", "udp")]);
    let h = host(&r, &oracle.host().1);
    let extra: Vec<_> = h
        .extraports
        .iter()
        .map(|e| (e.state.as_str(), e.count))
        .collect();
    assert_eq!(extra, [("open|filtered", 99), ("filtered", 95)]);
    let ssh = port(h, "tcp", 22);
    assert_eq!(ssh.service.product, "OpenSSH");
    assert_eq!(ssh.service.version, "4.3");
    assert_eq!(ssh.service.extrainfo, "protocol 2.0");
    assert_eq!(
        (ssh.service.method.as_str(), ssh.service.conf),
        ("probed", 10)
    );
    assert_eq!(ssh.scripts[0].id, "ssh-hostkey");
    assert_eq!(
        ssh.scripts[0].output,
        "1024 03:5f:d3:9d:95:74:8a:d0:8d:70:17:9a:bf:93:84:13 (DSA)\n\
         2048 fa:af:76:4c:b0:f4:4b:83:a4:6e:70:9f:a1:ec:51:0c (RSA)"
    );
    let dns = port(h, "udp", 53);
    assert_eq!(
        (dns.state.as_str(), dns.reason.as_str()),
        ("open", "udp-response")
    );
    assert_eq!(
        (dns.service.product.as_str(), dns.service.version.as_str()),
        ("ISC BIND", "9.3.4")
    );
    assert_eq!(port(h, "tcp", 80).service.extrainfo, "(Fedora)");
    assert_eq!(h.os_matches.len(), 1);
    assert_eq!(
        (h.os_matches[0].name.as_str(), h.os_matches[0].accuracy),
        ("Linux 2.6.9 - 2.6.24", 100)
    );
    assert_eq!(h.scripts.len(), 1);
    assert_eq!(h.scripts[0].id, "whois");
    assert!(h.scripts[0].output.starts_with(&format!(
        "Record found at whois.arin.net\nnetrange: {}",
        oracle.script_field("netrange")
    )));
    assert!(h.scripts[0].output.ends_with("country: US stateprov: CA "));
}

#[test]
fn ndiff_down_and_empty_have_no_hosts_but_complete_runstats() {
    let down = peer("ndiff/down.xml");
    assert!(down.hosts.is_empty());
    let rs = &down.runstats;
    assert_eq!(
        (rs.hosts_up, rs.hosts_down, rs.hosts_total, rs.elapsed),
        (0, 1, 1, 2.33)
    );
    let empty = peer("ndiff/empty.xml");
    assert!(empty.hosts.is_empty());
    assert_eq!(empty.runstats.hosts_total, 0);
    assert_eq!(empty.end, Some(1247268128));
}

#[test]
fn ndiff_random_counts_and_services() {
    let r = peer("ndiff/random-1.xml");
    assert_eq!((r.hosts.len(), r.runstats.hosts_total), (55, 1000));
    let ports: Vec<_> = r.hosts.iter().flat_map(|h| &h.ports).collect();
    assert_eq!(ports.len(), 254);
    let count = |s: &str| ports.iter().filter(|p| p.state == s).count();
    assert_eq!(
        (count("open"), count("closed"), count("filtered")),
        (89, 24, 141)
    );
    let first = host(&r, "10.119.131.50");
    assert_eq!(first.hostname(), Some("humrpocy-19.example.com"));
    assert_eq!(first.os_matches.len(), 5);
    assert_eq!(
        first.os_matches[0].name,
        "HP 4000M ProCurve switch (J4121A)"
    );
    assert_eq!(first.os_matches[0].accuracy, 87);
    assert_eq!(first.extraports[0].count, 999);
    let h = host(&r, "10.89.230.125");
    assert_eq!(h.ports.len(), 32);
    let smtps = port(h, "tcp", 465);
    assert_eq!(
        (
            smtps.service.product.as_str(),
            smtps.service.version.as_str()
        ),
        ("Sendmail", "8.13.6")
    );
    assert_eq!(
        (smtps.service.tunnel.as_str(), smtps.service.ostype.as_str()),
        ("ssl", "Unix")
    );
    assert_eq!(port(h, "tcp", 21).service.version, "1.2.8 - 1.2.9");
}

#[test]
fn libnmap_ping_scan_with_mac_and_user_hostname() {
    let r = peer("libnmap/libnmap__test__files__1_host_ping.xml");
    assert!(r.scaninfo.is_empty(), "a ping scan has no scaninfo");
    assert_eq!(r.runstats.exit, "success");
    assert_eq!(
        r.runstats.summary,
        "Nmap done at Sun Dec  6 19:15:36 2020; 1 IP address (1 host up) scanned in 0.19 seconds"
    );
    let h = host(&r, "172.28.1.3");
    assert_eq!(
        (h.state.as_str(), h.reason.as_str()),
        ("up", "arp-response")
    );
    assert_eq!(h.mac(), Some("02:42:AC:1C:01:03"));
    assert!(h.ports.is_empty() && h.extraports.is_empty());
    assert_eq!((h.starttime, h.endtime), (None, None));
    assert_eq!(h.hostname(), Some("dionaea"));
    assert_eq!(h.hostnames[1].name, "dionaea.honeynet_testing_net");
    let changed = peer("libnmap/libnmap__test__files__diff_1_host_ping_mac_changed.xml");
    assert_eq!(changed.hosts[0].mac(), Some("02:42:AC:1C:01:04"));
}

#[test]
fn libnmap_dionaea_hosthint_is_not_a_host() {
    let r = peer("libnmap/libnmap__test__files__dionaea_scan.xml");
    assert_eq!(r.hosts.len(), 1, "<hosthint> must not count as a host");
    assert_eq!(r.runstats.elapsed, 365.60);
    let h = &r.hosts[0];
    assert_eq!(h.ports.len(), 16);
    assert!(h.ports.iter().all(Port::is_open));
    assert_eq!(
        (h.extraports[0].state.as_str(), h.extraports[0].count),
        ("closed", 65519)
    );
    let mysql = port(h, "tcp", 3306);
    assert_eq!(
        (
            mysql.service.product.as_str(),
            mysql.service.version.as_str()
        ),
        ("MySQL", "5.7.16")
    );
    assert_eq!(mysql.service.cpe, ["cpe:/a:mysql:mysql:5.7.16"]);
    assert_eq!(port(h, "tcp", 443).service.tunnel, "ssl");
    assert_eq!(port(h, "tcp", 443).scripts.len(), 11);
    let pptp = port(h, "tcp", 1723);
    assert_eq!(
        (pptp.service.product.as_str(), pptp.service.version.as_str()),
        ("", "(Firmware: 1)")
    );
    assert_eq!(port(h, "tcp", 1433).service.version, "8.00.528.00; SP1+");
    assert_eq!(
        port(h, "tcp", 21).scripts[0].output,
        "220 DiskStation FTP server ready."
    );
    assert_eq!(h.os_matches[0].name, "Linux 4.15 - 5.6");
    assert_eq!(h.scripts.len(), 17);
    assert_eq!(h.scripts[0].id, "clock-skew");
}

#[test]
fn libnmap_full_sudo6_lists_down_hosts_and_mac_vendors() {
    let r = peer("libnmap/libnmap__test__files__full_sudo6.xml");
    assert_eq!(r.hosts.len(), 256);
    assert_eq!(r.hosts.iter().filter(|h| h.is_up()).count(), 4);
    assert_eq!(r.hosts.iter().filter(|h| h.state == "down").count(), 252);
    let router = host(&r, "192.168.1.1");
    let mac = router
        .addresses
        .iter()
        .find(|a| a.addrtype == "mac")
        .unwrap();
    assert_eq!(
        (mac.addr.as_str(), mac.vendor.as_str()),
        ("6C:2E:85:19:AF:00", "Sagemcom")
    );
    assert_eq!(
        port(router, "tcp", 23).service.product,
        "Sagem router telnetd"
    );
    assert_eq!(router.os_matches[0].name, "Linux 2.6.13 (embedded)");
    let win = host(&r, "192.168.1.5");
    assert_eq!(
        port(win, "tcp", 5357).service.product,
        "Microsoft HTTPAPI httpd"
    );
    assert_eq!(win.os_matches[1].name, "Microsoft Windows 7 Professional");
    let mac_host = host(&r, "192.168.1.3");
    assert_eq!(
        port(mac_host, "tcp", 3389).service.product,
        "VirtualBox VM Remote Desktop Service"
    );
}

#[test]
fn libnmap_script_output_is_unescaped() {
    let r = peer("libnmap/libnmap__test__files__1_os_banner_scripts.xml");
    assert_eq!(
        r.args,
        "nmap -sV -O -oX /tmp/out.xml --script http-headers,http-methods --script-trace 127.0.0.1"
    );
    let h = host(&r, "127.0.0.1");
    assert_eq!(h.extraports[0].count, 992);
    let http = port(h, "tcp", 80);
    assert_eq!(http.service.extrainfo, "(CentOS) PHP/5.3.3");
    assert_eq!(http.scripts[0].id, "http-methods");
    assert_eq!(
        http.scripts[0].output,
        "GET HEAD POST OPTIONS TRACE\nPotentially risky methods: TRACE\n\
         See http://nmap.org/nsedoc/scripts/http-methods.html"
    );
    assert!(
        http.scripts[1]
            .output
            .contains("  ETag: \"140756-4c-4d2779c92c5ce\"\n")
    );
    assert_eq!(port(h, "tcp", 111).service.extrainfo, "rpc #100000");
}

#[test]
fn libnmap_two_hosts_filtered_port_and_os_class_file() {
    let r = peer("libnmap/libnmap__test__files__2_hosts_version.xml");
    // The file's other host is a public one (data, never scanned): found as the non-loopback one.
    let remote: Vec<&Host> = r
        .hosts
        .iter()
        .filter(|h| h.ip() != Some("127.0.0.1"))
        .collect();
    assert_eq!(remote.len(), 1);
    let scanme = remote[0];
    let kinds: Vec<_> = scanme.hostnames.iter().map(|n| n.kind.as_str()).collect();
    assert_eq!(kinds, ["user", "PTR"]);
    let smtp = port(scanme, "tcp", 25);
    assert_eq!(
        (smtp.state.as_str(), smtp.reason.as_str()),
        ("filtered", "admin-prohibited")
    );
    assert_eq!(scanme.os_matches[0].name, "Netgear DG834G WAP");
    assert_eq!(host(&r, "127.0.0.1").ports.len(), 5);

    let osclass = peer("libnmap/libnmap__test__files__test_osclass.xml");
    let h = &osclass.hosts[0];
    assert_eq!(h.ports.len(), 7);
    assert_eq!(
        (h.os_matches[0].name.as_str(), h.os_matches[0].accuracy),
        ("Linux 3.7 - 3.15", 100)
    );
}

mod hostile;
mod loopback;
mod tls;
