//! The HTTP-level errors of the contract, each with its status, JSON code, field and headers,
//! sent as raw requests where a well-behaved client could not produce them.

use serde_json::json;

use crate::support::server::{Server, raw_exchange, request};

#[test]
fn protocol_level_errors() {
    let server = Server::start(&[]);
    let a = server.addr;
    let json_ct = ("Content-Type", "application/json");

    // 404 and 405 (with Allow), as JSON.
    let r = server.get("/api/nope");
    assert_eq!(r.error(), (404, "not_found".into(), None));
    let r = server.get("/api/scan");
    assert_eq!(r.error(), (405, "method_not_allowed".into(), None));
    assert_eq!(r.header("Allow"), Some("POST"));
    let r = request(a, "POST", "/api/health", &[json_ct], b"{}");
    assert_eq!(r.error().0, 405);
    assert_eq!(r.header("Allow"), Some("GET, HEAD"));
    let r = request(a, "HEAD", "/api/health", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, ""));

    // 415: no or another media type.
    let body = br#"{"target":"127.0.0.1"}"#;
    let r = request(a, "POST", "/api/scan", &[], body);
    assert_eq!(r.error(), (415, "unsupported_media_type".into(), None));
    let r = request(
        a,
        "POST",
        "/api/scan",
        &[("Content-Type", "text/plain")],
        body,
    );
    assert_eq!(r.error().1, "unsupported_media_type");
    let r = request(
        a,
        "POST",
        "/api/scan",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"target=127.0.0.1",
    );
    assert_eq!(r.error().0, 415);

    // 400 invalid_json: malformed, empty, not UTF-8.
    for bad in [
        &b"{\"target\": "[..],
        b"",
        b"\xff\xfe{}",
        b"{\"target\":\"127.0.0.1\"} trailing",
    ] {
        let r = request(a, "POST", "/api/scan", &[json_ct], bad);
        assert_eq!(r.error(), (400, "invalid_json".into(), None), "{bad:?}");
    }
    for length in ["abc", "-5"] {
        let r = request(
            a,
            "POST",
            "/api/scan",
            &[json_ct, ("Content-Length", length)],
            b"{}",
        );
        assert_eq!(r.error(), (400, "invalid_request".into(), None), "{length}");
    }
    let r = server.scan(&json!({"scan_type": "quick"}));
    assert_eq!(
        r.error(),
        (400, "missing_target".into(), Some("target".into()))
    );

    // 413: declared too large (refused before reading), and too large while streaming chunks
    // without any Content-Length.
    let big = vec![b' '; 70_000];
    let r = request(a, "POST", "/api/scan", &[json_ct], &big);
    assert_eq!(r.error(), (413, "body_too_large".into(), None));
    let mut chunked = format!(
        "POST /api/scan HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..20 {
        chunked.extend_from_slice(b"1000\r\n");
        chunked.extend_from_slice(&[b' '; 0x1000]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = raw_exchange(a, &chunked).unwrap();
    assert_eq!(r.error(), (413, "body_too_large".into(), None));

    // 403 with the field at fault.
    let r = server.scan(&json!({"targets": ["127.0.0.1", "198.51.100.7"]}));
    assert_eq!(
        r.error(),
        (403, "target_not_allowed".into(), Some("targets[1]".into()))
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("198.51.100.7")
    );

    // Refused profile: 400 that points to daily_scan.
    let r = server.scan(&json!({"target": "127.0.0.1", "scan_type": "udp_common"}));
    assert_eq!(
        r.error(),
        (400, "profile_batch_only".into(), Some("scan_type".into()))
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("daily_scan")
    );

    // The server is still fine after all of that.
    assert_eq!(server.get("/api/health").status, 200);
}

#[test]
fn every_response_carries_a_request_id_that_errors_repeat_and_the_log_names_once() {
    let server = Server::start(&[]);
    let r = server.get("/nowhere");
    let id = r.header("X-Request-Id").expect("X-Request-Id").to_string();
    assert_eq!(r.json()["error"]["request_id"], id.as_str());
    let ok = server.get("/api/health");
    let ok_id = ok.header("X-Request-Id").expect("X-Request-Id").to_string();
    assert_ne!(id, ok_id);
    // The access line is written before the response is sent.
    let log = server.log();
    assert!(log.contains(&ok_id), "{log}");
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(&id)).collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(lines[0].contains("GET /nowhere 404"), "{}", lines[0]);
    assert!(
        lines[0].contains("127.0.0.1:"),
        "client address: {}",
        lines[0]
    );
    assert!(lines[0].contains("ms"), "duration: {}", lines[0]);
}
