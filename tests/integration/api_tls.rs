//! `POST /api/scan` with `"tls": true`: the TLS pass (real nmap, `ssl-cert` and
//! `ssl-enum-ciphers`) over the open TLS ports of the completed targets, against `openssl
//! s_server` listeners with certificates the test makes. Faults come from
//! `fake-nmap/faulty.sh` in front of the real nmap. Addresses 127.0.85.x and ports 18851-18853
//! are this file's.

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::support;
use crate::support::server::{Server, ssh_listener};
use crate::tls_env::{Cert, TlsServer, fingerprint, self_signed};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 85, 1);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 85, 2);

/// `[tls] ports` naming this file's ports, so that the quick profile (no `-sV`, which takes
/// ~36 s against `s_server`) still selects them.
const TLS_PORTS: (&str, &str) = ("tls", "{ ports = [18851, 18852, 18853] }");

/// The certificate's expiry as the API writes it (`2027-01-04T11:20:00Z`).
fn not_after(cert: &Cert) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-enddate", "-dateopt", "iso_8601", "-in"])
        .arg(&cert.cert)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // notAfter=2027-01-04 11:20:00Z
    text.trim()
        .trim_start_matches("notAfter=")
        .replacen(' ', "T", 1)
}

/// An executable that runs `faulty.sh` (the real nmap unless its fault matches) with
/// `FAKE_NMAP_FAIL=fail`; its path as a TOML string.
fn nmap_failing_on(dir: &Path, fail: &str) -> String {
    let path = dir.join("nmap.sh");
    let faulty = support::fake_nmap("faulty.sh");
    let script = format!(
        "#!/bin/sh\nFAKE_NMAP_FAIL='{fail}' exec '{}' \"$@\"\n",
        faulty.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("\"{}\"", path.display())
}

/// The open port `port` of a completed result.
fn open_port(result: &Value, port: u16) -> &Value {
    assert_eq!(result["status"], "completed", "{result}");
    result["open_ports"]
        .as_array()
        .expect("open_ports")
        .iter()
        .find(|p| p["port"] == port)
        .unwrap_or_else(|| panic!("port {port} not open: {result}"))
}

#[test]
fn tls_true_reads_the_certificate_and_false_or_absent_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let cert = self_signed(dir.path(), "api", "api-tls.test", 30);
    let _tls = TlsServer::start(A, 18851, &cert, &[]);
    // Open, but ssh and not on a TLS port: the pass does not look at it.
    let plain_port = ssh_listener(A);
    let server = Server::start(&[TLS_PORTS]);
    let ports = format!("18851,{plain_port}");

    // The default profile (-sV) sees the TLS tunnel.
    let reply = server.scan(&json!({"target": A.to_string(), "ports": ports, "tls": true}));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(
        body["tls_pass"],
        json!({"status": "completed", "selected": 1, "examined": 1}),
        "{body}"
    );
    let tls = &open_port(&body["results"][0], 18851)["tls"];
    let c = &tls["cert"];
    assert_eq!(c["subject_cn"], "api-tls.test", "{tls}");
    assert_eq!(c["not_after"], not_after(&cert), "{tls}");
    assert_eq!(c["sha256"], fingerprint(&cert), "{tls}");
    assert_eq!(c["self_signed"], true, "{tls}");
    assert_eq!(tls["least_grade"], "A", "{tls}");
    assert!(
        tls["versions"]
            .as_array()
            .unwrap()
            .contains(&json!("TLSv1.2")),
        "{tls}"
    );
    let plain_entry = open_port(&body["results"][0], plain_port);
    assert!(plain_entry.get("tls").is_none(), "{plain_entry}");

    // Not asked for: no pass, even on a port `[tls] ports` names.
    for request in [
        json!({"target": A.to_string(), "ports": ports, "scan_type": "quick", "tls": false}),
        json!({"target": A.to_string(), "ports": ports, "scan_type": "quick"}),
    ] {
        let reply = server.scan(&request);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body = reply.json();
        assert!(body.get("tls_pass").is_none(), "{body}");
        let port = open_port(&body["results"][0], 18851);
        assert!(port.get("tls").is_none(), "{request}: {port}");
    }

    for bad in [json!("yes"), json!(1), json!(null)] {
        let reply = server.scan(&json!({"target": A.to_string(), "ports": ports, "tls": bad}));
        let (status, code, field) = reply.error();
        assert_eq!(
            (status, code.as_str(), field.as_deref()),
            (400, "invalid_type", Some("tls")),
            "{}",
            reply.body
        );
    }
}

#[test]
fn a_failed_tls_pass_keeps_the_port_scan_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let cert = self_signed(dir.path(), "api", "api-tls.test", 30);
    let _tls = TlsServer::start(A, 18852, &cert, &[]);
    let nmap = nmap_failing_on(dir.path(), "+ssl-cert,+ssl-enum-ciphers");
    let server = Server::start(&[("nmap_path", &nmap), TLS_PORTS]);

    let reply = server.scan(&json!({
        "target": A.to_string(), "ports": "18852", "scan_type": "quick", "tls": true
    }));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    let pass = &body["tls_pass"];
    assert_eq!(pass["status"], "failed", "{body}");
    assert_eq!(pass["selected"], 1, "{body}");
    assert!(
        pass["error"].as_str().unwrap().contains("QUITTING"),
        "{body}"
    );
    // The port scan's result stands, without TLS facts.
    let port = open_port(&body["results"][0], 18852);
    assert_eq!(port["state"], "open");
    assert!(port.get("tls").is_none(), "{port}");
}

#[test]
fn a_target_whose_port_scan_failed_gets_no_tls_pass() {
    let dir = tempfile::tempdir().unwrap();
    let cert = self_signed(dir.path(), "api", "api-tls.test", 30);
    let _a = TlsServer::start(A, 18853, &cert, &[]);
    let _b = TlsServer::start(B, 18853, &cert, &[]);
    // Every nmap run naming B fails: its port scan, and the TLS pass too if it named B.
    let nmap = nmap_failing_on(dir.path(), &B.to_string());
    let server = Server::start(&[("nmap_path", &nmap), TLS_PORTS]);

    let reply = server.scan(&json!({
        "targets": [A.to_string(), B.to_string()], "ports": "18853", "scan_type": "quick",
        "tls": true
    }));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["results"][1]["status"], "failed", "{body}");
    assert!(body["results"][1].get("open_ports").is_none(), "{body}");
    // The pass ran over A alone (it completed, so B was not among its targets).
    assert_eq!(
        body["tls_pass"],
        json!({"status": "completed", "selected": 1, "examined": 1}),
        "{body}"
    );
    let tls = &open_port(&body["results"][0], 18853)["tls"];
    assert_eq!(tls["cert"]["subject_cn"], "api-tls.test", "{tls}");
}
