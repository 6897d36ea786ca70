//! `POST /api/scan` through the real `api_server` and the real nmap, against loopback listeners
//! the tests own (explicit `ports`, so other services on the machine do not matter).

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::support::server::{Server, ssh_listener};
use crate::support::{closed_port, listen};

/// The open-port entry nmap -sV reports for [`ssh_listener`].
fn assert_ssh_port(port: &Value, expected: u16) {
    assert_eq!(port["port"], expected);
    assert_eq!(port["protocol"], "tcp");
    assert_eq!(port["state"], "open");
    assert_eq!(port["service"], "ssh");
    assert_eq!(port["product"], "OpenSSH");
    assert_eq!(port["version"], "9.2p1 Debian 2");
    assert_eq!(port["extrainfo"], "protocol 2.0");
    let cpe = port["cpe"].as_array().expect("cpe list");
    assert!(
        cpe.iter().any(|c| c == "cpe:/a:openbsd:openssh:9.2p1"),
        "{cpe:?}"
    );
}

#[test]
fn single_target_with_service_detection() {
    let ip = Ipv4Addr::new(127, 0, 3, 2);
    let open = ssh_listener(ip);
    let closed = closed_port(ip);
    let server = Server::start(&[]);
    let reply = server.scan(&json!({
        "target": ip.to_string(),
        "ports": format!("{open},{closed}")
    }));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["total_targets"], 1);
    assert_eq!(body["scan_type"], "default");
    assert!(body["duration_seconds"].as_f64().unwrap() > 0.0);
    let r = &body["results"][0];
    assert_eq!(r["target"], ip.to_string());
    assert_eq!(r["status"], "completed");
    assert_eq!(r["ip"], ip.to_string());
    assert_eq!(r["host_state"], "up");
    assert!(
        r.get("hostname").is_none(),
        "an address has no hostname: {r}"
    );
    assert!(r.get("error").is_none());
    assert!(r["duration_seconds"].as_f64().unwrap() > 0.0);
    let ports = r["open_ports"].as_array().unwrap();
    assert_eq!(ports.len(), 1, "only the listener is open: {ports:?}");
    assert_ssh_port(&ports[0], open);
}

#[test]
fn ten_targets_each_with_its_own_listener_in_request_order() {
    let hosts: Vec<Ipv4Addr> = (2..=11).map(|i| Ipv4Addr::new(127, 0, 0, i)).collect();
    let ports: Vec<u16> = hosts.iter().map(|ip| ssh_listener(*ip)).collect();
    let spec: Vec<String> = ports.iter().map(u16::to_string).collect();
    // Not in address order, so order preservation is visible.
    let order = [5, 0, 9, 2, 7, 1, 8, 3, 6, 4];
    let targets: Vec<String> = order.iter().map(|&i| hosts[i].to_string()).collect();
    let server = Server::start(&[]);
    let reply = server.scan(&json!({"targets": targets, "ports": spec.join(",")}));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["total_targets"], 10);
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 10);
    for (r, &i) in results.iter().zip(&order) {
        assert_eq!(r["target"], hosts[i].to_string());
        assert_eq!(r["status"], "completed", "{r}");
        assert_eq!(r["ip"], hosts[i].to_string());
        assert_eq!(r["host_state"], "up");
        let open = r["open_ports"].as_array().unwrap();
        assert_eq!(open.len(), 1, "{}: {open:?}", hosts[i]);
        assert_ssh_port(&open[0], ports[i]);
    }
}

#[test]
fn unresolvable_names_fail_alone_and_names_are_reported() {
    let ip = Ipv4Addr::new(127, 0, 3, 3);
    let listener = listen(ip);
    let port = listener.local_addr().unwrap().port();
    let local = listen(Ipv4Addr::LOCALHOST);
    let local_port = local.local_addr().unwrap().port();
    let server = Server::start(&[]);
    let reply = server.scan(&json!({
        "targets": [ip.to_string(), "nonexistent.invalid", "localhost", ip.to_string()],
        "scan_type": "quick",
        "ports": format!("{port},{local_port}")
    }));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["scan_type"], "quick");
    assert_eq!(body["total_targets"], 3, "the duplicate is removed");
    let r = body["results"].as_array().unwrap();
    assert_eq!(r[0]["status"], "completed");
    let open: Vec<&Value> = r[0]["open_ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["port"])
        .collect();
    assert_eq!(open, [&json!(port)]);

    assert_eq!(r[1]["target"], "nonexistent.invalid");
    assert_eq!(r[1]["status"], "failed");
    assert_eq!(r[1]["error"], "hostname did not resolve");
    assert!(
        r[1].get("open_ports").is_none(),
        "a failure is not 'no ports'"
    );
    assert!(r[1].get("host_state").is_none());

    assert_eq!(r[2]["target"], "localhost");
    assert_eq!(r[2]["status"], "completed");
    assert_eq!(r[2]["hostname"], "localhost");
    assert_eq!(r[2]["ip"], "127.0.0.1");
    let open: Vec<&Value> = r[2]["open_ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["port"])
        .collect();
    assert_eq!(open, [&json!(local_port)]);
}

#[test]
fn a_failing_nmap_is_reported_per_target_never_as_no_ports() {
    let dir = tempfile::tempdir().unwrap();
    let nmap = crate::support::server::script(
        dir.path(),
        "nmap",
        "case \"$*\" in *--version*) exec /usr/bin/nmap --version ;; esac\n\
         for a; do [ \"$a\" = 127.0.3.5 ] && { echo 'simulated crash' >&2; exit 2; }; done\n\
         exec /usr/bin/nmap \"$@\"",
    );
    let good = Ipv4Addr::new(127, 0, 3, 4);
    let listener = listen(good);
    let port = listener.local_addr().unwrap().port();
    let nmap_path = format!("{:?}", nmap.display().to_string());
    let server = Server::start(&[("nmap_path", &nmap_path)]);
    let reply = server.scan(&json!({
        "targets": ["127.0.3.5", good.to_string()],
        "scan_type": "quick",
        "ports": port.to_string()
    }));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    let r = body["results"].as_array().unwrap();
    assert_eq!(r[0]["status"], "failed");
    assert!(r[0].get("open_ports").is_none());
    assert!(
        r[0]["error"].as_str().unwrap().contains("simulated crash"),
        "{}",
        r[0]
    );
    assert_eq!(r[1]["status"], "completed");
    assert_eq!(r[1]["open_ports"][0]["port"], port);
}
