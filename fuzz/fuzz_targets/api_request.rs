//! `POST /api/scan` request handling up to (not including) DNS: Content-Type and
//! Content-Length headers, the capped body read, JSON, the body's structure and every field's
//! grammar. Input: first line = Content-Type, second = Content-Length, rest = body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use security_scanner::api::body::read_json;
use security_scanner::api::scan::request::parse_scan_body;
use security_scanner::api::scan::validate::{ScanRules, validate};
use security_scanner::profile::{NmapTuning, RawSocketAccess};
use security_scanner::target::NetworkPolicy;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let content_type = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let content_length = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default().to_vec();
    let mut headers = vec![("Content-Type".to_string(), content_type)];
    if !content_length.is_empty() {
        headers.push(("Content-Length".to_string(), content_length));
    }
    let request = rouille::Request::fake_http("POST", "/api/scan", headers, body);
    let Ok(value) = read_json(&request) else {
        return;
    };
    let Ok(scan) = parse_scan_body(&value) else {
        return;
    };
    let rules = ScanRules {
        max_ports: 1000,
        tuning: NmapTuning::default(),
        raw_access: RawSocketAccess::None,
        policy: NetworkPolicy::loopback_only(),
    };
    if let Ok(valid) = validate(&scan, &rules) {
        // Nothing the client wrote may reach nmap's argv as an option.
        for t in &valid.targets {
            assert!(!t.text.starts_with('-'), "target {:?} looks like an option", t.text);
        }
    }
});
