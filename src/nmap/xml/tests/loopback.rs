//! The parser against real nmap 7.93 output captured from loopback scans
//! (`scripts/capture-fixtures.py`) and against hand-written edge cases.

use super::super::*;
use super::{fixture, host, port};

fn parse(rel: &str) -> ScanResult {
    let path = fixture(rel);
    parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn two_loopback_hosts_with_version_detection() {
    let r = parse("loopback/sv_two_hosts.xml");
    assert_eq!(r.nmap_version, "7.93");
    assert!(
        r.args.starts_with("nmap -sV -p 18022,18080,18443 "),
        "{}",
        r.args
    );
    let info = &r.scaninfo[0];
    assert_eq!((info.scan_type.as_str(), info.numservices), ("syn", 3));
    assert_eq!(info.services, "18022,18080,18443");
    assert_eq!(r.runstats.exit, "success");
    assert_eq!((r.runstats.hosts_up, r.runstats.hosts_total), (2, 2));
    assert_eq!(r.hosts.len(), 2);

    let web = host(&r, "127.0.0.2");
    assert_eq!(
        (web.state.as_str(), web.reason.as_str()),
        ("up", "localhost-response")
    );
    assert!(web.hostnames.is_empty());
    let http = port(web, "tcp", 18080);
    assert_eq!(
        (http.state.as_str(), http.reason.as_str()),
        ("open", "syn-ack")
    );
    assert_eq!(http.service.name, "http");
    assert_eq!(http.service.product, "BaseHTTPServer");
    assert_eq!(http.service.version, "0.6");
    assert!(
        http.service.extrainfo.starts_with("Python 3."),
        "{}",
        http.service.extrainfo
    );
    assert_eq!(
        (http.service.method.as_str(), http.service.conf),
        ("probed", 10)
    );
    assert_eq!(http.service.cpe.len(), 1);
    let closed = port(web, "tcp", 18022);
    assert_eq!(
        (closed.state.as_str(), closed.reason.as_str()),
        ("closed", "reset")
    );
    assert_eq!(
        closed.service,
        Default::default(),
        "nmap wrote no <service> for this port"
    );
    assert_eq!(
        web.open_ports().map(|p| p.portid).collect::<Vec<_>>(),
        [18080]
    );

    let ssh_host = host(&r, "127.0.0.3");
    let ssh = port(ssh_host, "tcp", 18022);
    assert_eq!(ssh.state, "open");
    assert_eq!(ssh.service.name, "ssh");
    assert_eq!(ssh.service.product, "OpenSSH");
    assert_eq!(
        ssh.service.version, "9.2p1 Debian 2",
        "read off the banner we sent"
    );
    assert_eq!(ssh.service.extrainfo, "protocol 2.0");
    assert_eq!(ssh.service.ostype, "Linux");
    assert_eq!(
        ssh.service.cpe,
        ["cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel"]
    );
    let unknown = port(ssh_host, "tcp", 18080);
    assert_eq!(
        (unknown.state.as_str(), unknown.service.name.as_str()),
        ("closed", "unknown")
    );
    assert_eq!(port(ssh_host, "tcp", 18443).state, "closed");
}

#[test]
fn ipv6_loopback_host() {
    let r = parse("loopback/sv_ipv6.xml");
    let h = host(&r, "::1");
    assert_eq!(h.addresses[0].addrtype, "ipv6");
    assert_eq!(port(h, "tcp", 18022).service.version, "9.2p1 Debian 2");
    assert_eq!(port(h, "tcp", 18080).service.product, "BaseHTTPServer");
    assert_eq!(port(h, "tcp", 18443).state, "closed");
    assert_eq!(h.open_ports().count(), 2);
}

#[test]
fn hostile_banner_is_kept_verbatim_as_data() {
    let r = parse("loopback/banner_hostile.xml");
    let p = port(host(&r, "127.0.0.4"), "tcp", 18025);
    assert_eq!(p.service.name, "unknown");
    let banner = p
        .scripts
        .iter()
        .find(|s| s.id == "banner")
        .expect("banner script");
    assert_eq!(
        banner.output,
        "220 <script>alert('x')</script> & \"q\" &amp; &xxe; ]]> ready"
    );
    let strings = p
        .scripts
        .iter()
        .find(|s| s.id == "fingerprint-strings")
        .unwrap();
    assert!(
        strings.output.starts_with("\n  DNSStatusRequestTCP"),
        "{:?}",
        strings.output
    );
}

#[test]
fn nmap_error_exit_is_a_complete_document_that_says_error() {
    let r = parse("loopback/error_exit.xml");
    assert!(r.hosts.is_empty());
    assert_eq!(r.runstats.exit, "error");
    assert_eq!(
        r.runstats.errormsg,
        "I cannot figure out what source address to use for device nosuchiface0, does it even exist?"
    );
    assert_eq!(
        (r.nmap_version.as_str(), r.start),
        ("", None),
        "nmap wrote a bare <nmaprun>"
    );
}

#[test]
fn edge_cases_unescape_and_keep_markup_as_text() {
    let r = parse("edge/edge_cases.xml");
    assert_eq!(
        r.args,
        "nmap -sV --script-args \"http.useragent=<x>\" 192.0.2.0/29 2001:db8::1"
    );
    assert_eq!(r.scaninfo.len(), 2);
    assert_eq!(
        r.hosts.len(),
        4,
        "<hosthint> is not a host, the down host is"
    );
    let h = host(&r, "192.0.2.10");
    assert_eq!(h.hostname(), Some("banner&co.example"));
    let ssh = port(h, "tcp", 22);
    assert_eq!(ssh.service.product, "<script>alert(1)</script>");
    assert_eq!(ssh.service.version, "1.0 & \"more\"");
    assert_eq!(ssh.service.extrainfo, "it's <b>bold</b>");
    assert_eq!(
        ssh.service.cpe,
        ["cpe:/a:evil:<script>:1.0", "cpe:/a:at&t:thing"]
    );
    assert_eq!(ssh.scripts.len(), 1);
    assert_eq!(
        ssh.scripts[0].output,
        "SSH-2.0-<script>alert('x')</script>\nline two\ttabbed\r\n&amp; stays &amp;"
    );
    let bare = port(h, "tcp", 80);
    assert_eq!(
        (bare.state.as_str(), bare.service.name.as_str()),
        ("closed", "")
    );
    assert_eq!(
        (h.extraports[0].state.as_str(), h.extraports[0].count),
        ("closed", 1)
    );
    assert_eq!(
        (h.os_matches[0].name.as_str(), h.os_matches[0].accuracy),
        ("Linux 5.0 - 5.14", 95)
    );
    assert_eq!(h.scripts[0].output, "mean: 0s, deviation: 0s");

    let mac_only = &r.hosts[1];
    assert_eq!(
        (mac_only.ip(), mac_only.mac()),
        (None, Some("00:00:5E:00:53:01"))
    );
    assert_eq!(mac_only.addresses[0].vendor, "ICANN, IANA Department & Co");
    assert!(mac_only.ports.is_empty() && mac_only.hostnames.is_empty());

    let v6 = host(&r, "2001:db8::1");
    assert_eq!(v6.hostname(), Some("v6.example"));
    let snmp = port(v6, "udp", 161);
    assert_eq!(snmp.state, "open|filtered");
    assert!(
        !snmp.is_open(),
        "open|filtered is not evidence of a listener"
    );
    assert_eq!(port(v6, "tcp", 443).service.tunnel, "ssl");
    assert_eq!(v6.extraports, []);

    let down = host(&r, "192.0.2.11");
    assert_eq!(
        (down.state.as_str(), down.reason.as_str()),
        ("down", "no-response")
    );
    assert_eq!((r.runstats.hosts_up, r.runstats.hosts_down), (3, 6));
}

#[test]
fn parse_reader_streams_hosts_in_document_order() {
    let xml = std::fs::read(fixture("edge/edge_cases.xml")).unwrap();
    let mut seen = Vec::new();
    let r = parse_reader(xml.as_slice(), |h| {
        seen.push(h.ip().or(h.mac()).unwrap_or_default().to_owned())
    })
    .unwrap();
    assert!(
        r.hosts.is_empty(),
        "parse_reader leaves hosts to the callback"
    );
    assert_eq!(
        seen,
        [
            "192.0.2.10",
            "00:00:5E:00:53:01",
            "2001:db8::1",
            "192.0.2.11"
        ]
    );
    assert_eq!(parse_bytes(&xml).unwrap().hosts.len(), 4);
}
