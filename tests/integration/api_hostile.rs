//! Hostile `POST /api/scan` bodies: each is refused with its status, code and field, and none
//! of them starts nmap or writes a file. nmap is a wrapper that logs every scan invocation and
//! then runs the real nmap, and a valid request at the end proves the log would have shown one.

use std::net::Ipv4Addr;
use std::path::Path;

use serde_json::{Value, json};

use crate::support::listen;
use crate::support::server::{Server, logged_scans, logging_nmap};

/// `(body, status, code, field)`.
fn cases(dir: &Path) -> Vec<(Value, u16, &'static str, Option<&'static str>)> {
    let f = |name: &str| dir.join(name).display().to_string();
    let eleven: Vec<String> = (1..=11).map(|i| format!("127.1.0.{i}")).collect();
    vec![
        // Option injection as a target.
        (
            json!({"target": format!("-oN{}", f("x1"))}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": "--script=http-title"}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"targets": ["127.1.0.2", "-iL/etc/passwd"]}),
            400,
            "invalid_target",
            Some("targets[1]"),
        ),
        (
            json!({"target": format!("--resume={}", f("x2"))}),
            400,
            "invalid_target",
            Some("target"),
        ),
        // Option injection inside ports.
        (
            json!({"target": "127.1.0.2", "ports": format!("-oN{}", f("x3"))}),
            400,
            "invalid_ports",
            Some("ports"),
        ),
        (
            json!({"target": "127.1.0.2", "ports": format!("22 -oN {}", f("x4"))}),
            400,
            "invalid_ports",
            Some("ports"),
        ),
        (
            json!({"target": "127.1.0.2", "ports": "22,--script=vuln"}),
            400,
            "invalid_ports",
            Some("ports"),
        ),
        (
            json!({"target": "127.1.0.2", "ports": "T:22,U:53"}),
            400,
            "invalid_ports",
            Some("ports"),
        ),
        // Shell metacharacters.
        (
            json!({"target": format!("127.1.0.2;touch {}", f("x5"))}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": format!("$(touch {})", f("x6"))}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": format!("`touch {}`", f("x7"))}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": "127.1.0.2|id"}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": "127.1.0.2&&id"}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": "127.1.0.2", "ports": "22;id"}),
            400,
            "invalid_ports",
            Some("ports"),
        ),
        // Whitespace and newlines.
        (
            json!({"target": "127.1.0.2 127.1.0.3"}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": format!("127.1.0.2\n-oN{}", f("x8"))}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": "\t127.1.0.2"}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": "127.1.0.2\r"}),
            400,
            "invalid_target",
            Some("target"),
        ),
        // Batch-only forms and counts.
        (
            json!({"target": "127.1.0.0/24"}),
            400,
            "target_batch_only",
            Some("target"),
        ),
        (
            json!({"target": "127.1.0.1-20"}),
            400,
            "target_batch_only",
            Some("target"),
        ),
        (
            json!({"target": "127.1.0.2,127.1.0.3"}),
            400,
            "target_batch_only",
            Some("target"),
        ),
        (
            json!({"targets": eleven}),
            400,
            "too_many_targets",
            Some("targets"),
        ),
        (
            json!({"targets": []}),
            400,
            "missing_target",
            Some("targets"),
        ),
        (
            json!({"target": "127.1.0.2", "ports": "1-65535"}),
            400,
            "too_many_ports",
            Some("ports"),
        ),
        // Nested objects and wrong JSON types.
        (
            json!({"targets": [["127.1.0.2"]]}),
            400,
            "invalid_type",
            Some("targets[0]"),
        ),
        (
            json!({"target": {"ip": "127.1.0.2"}}),
            400,
            "invalid_type",
            Some("target"),
        ),
        (
            json!({"target": 2130771970u64}),
            400,
            "invalid_type",
            Some("target"),
        ),
        (json!({"target": true}), 400, "invalid_type", Some("target")),
        (
            json!({"targets": "127.1.0.2"}),
            400,
            "invalid_type",
            Some("targets"),
        ),
        (
            json!({"target": "127.1.0.2", "ports": 22}),
            400,
            "invalid_type",
            Some("ports"),
        ),
        (
            json!({"target": "127.1.0.2", "scan_type": ["quick"]}),
            400,
            "invalid_type",
            Some("scan_type"),
        ),
        (json!(["127.1.0.2"]), 400, "invalid_request", None),
        (
            json!({"target": "127.1.0.2", "nmap_args": format!("-oN {}", f("x10"))}),
            400,
            "unknown_field",
            Some("nmap_args"),
        ),
        (
            json!({"target": "127.1.0.2", "targets": ["127.1.0.3"]}),
            400,
            "invalid_request",
            Some("targets"),
        ),
        // Huge strings.
        (
            json!({"target": "a".repeat(10_000)}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": "127.1.0.2", "ports": "1,".repeat(5000)}),
            400,
            "invalid_ports",
            Some("ports"),
        ),
        (
            json!({"target": "127.1.0.2", "scan_type": "q".repeat(5000)}),
            400,
            "unknown_profile",
            Some("scan_type"),
        ),
        // Unicode: full-width digits, a Cyrillic homoglyph, right-to-left override.
        (
            json!({"target": "127.1.0.\u{ff12}"}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": "l\u{043e}calhost"}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": "127.1.0.2\u{202e}"}),
            400,
            "invalid_target",
            Some("target"),
        ),
        // Null bytes.
        (
            json!({"target": format!("127.1.0.2\u{0}-oN{}", f("x9"))}),
            400,
            "invalid_target",
            Some("target"),
        ),
        (
            json!({"target": "127.1.0.2", "ports": "22\u{0}"}),
            400,
            "invalid_ports",
            Some("ports"),
        ),
        // Profiles: unknown, injected, batch only.
        (
            json!({"target": "127.1.0.2", "scan_type": format!("quick -oN {}", f("x11"))}),
            400,
            "unknown_profile",
            Some("scan_type"),
        ),
        (
            json!({"target": "127.1.0.2", "scan_type": "tcp_full"}),
            400,
            "profile_batch_only",
            Some("scan_type"),
        ),
        (
            json!({"target": "127.1.0.2", "scan_type": "udp_full"}),
            400,
            "profile_batch_only",
            Some("scan_type"),
        ),
        // Outside the allowed networks (this server allows 127.1.0.0/16 only).
        (
            json!({"target": "127.0.0.1"}),
            403,
            "target_not_allowed",
            Some("target"),
        ),
        (
            json!({"targets": ["127.1.0.2", "192.0.2.1"]}),
            403,
            "target_not_allowed",
            Some("targets[1]"),
        ),
        (
            json!({"target": "0.0.0.0"}),
            403,
            "target_not_allowed",
            Some("target"),
        ),
        (
            json!({"target": "::ffff:192.0.2.1"}),
            403,
            "target_not_allowed",
            Some("target"),
        ),
        (
            json!({"target": "::1"}),
            403,
            "target_not_allowed",
            Some("target"),
        ),
        // A hostname that resolves outside them (localhost is 127.0.0.1 here).
        (
            json!({"targets": ["127.1.0.2", "localhost"]}),
            403,
            "target_not_allowed",
            Some("targets[1]"),
        ),
    ]
}

#[test]
fn hostile_inputs_are_refused_before_nmap_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("nmap-invocations.log");
    let nmap = logging_nmap(dir.path(), &log, 0.0);
    let nmap_path = format!("{:?}", nmap.display().to_string());
    let server = Server::start(&[
        ("nmap_path", &nmap_path),
        ("allowed_networks", "[\"127.1.0.0/16\"]"),
    ]);
    let cases = cases(dir.path());
    assert!(cases.len() >= 30);
    for (body, status, code, field) in &cases {
        let reply = server.scan(body);
        let shown: String = body.to_string().chars().take(120).collect();
        assert_eq!(
            reply.error(),
            (*status, code.to_string(), field.map(String::from)),
            "{shown} -> {}",
            reply.body.chars().take(300).collect::<String>()
        );
        let echoed = reply.json()["error"]["message"].as_str().unwrap().len();
        assert!(echoed < 400, "{shown}: message is {echoed} bytes");
    }
    assert_eq!(logged_scans(&log), Vec::<String>::new(), "nmap was started");
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["nmap-wrapper"], "a hostile input wrote a file");

    // Control: a valid request does reach the wrapper, so the empty log above means something.
    let ip = Ipv4Addr::new(127, 1, 0, 2);
    let listener = listen(ip);
    let port = listener.local_addr().unwrap().port();
    let reply = server.scan(&json!({"target": ip.to_string(), "scan_type": "quick",
        "ports": port.to_string()}));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["results"][0]["open_ports"][0]["port"], port);
    let scans = logged_scans(&log);
    assert_eq!(scans.len(), 1, "{scans:?}");
    assert!(scans[0].ends_with(&format!("-oX - {ip}")), "{}", scans[0]);
}
