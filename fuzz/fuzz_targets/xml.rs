//! nmap XML parser: any bytes must give a result or an `XmlError`, never a panic, and the
//! streaming reader must not depend on where its buffer boundaries fall.
#![no_main]

use std::io::BufReader;

use libfuzzer_sys::fuzz_target;
use security_scanner::nmap::xml::{parse_bytes, parse_reader};

fuzz_target!(|data: &[u8]| {
    let whole = parse_bytes(data);
    let mut hosts = Vec::new();
    let streamed = parse_reader(BufReader::with_capacity(7, data), |h| hosts.push(h));
    assert_eq!(whole.is_ok(), streamed.is_ok(), "buffer size changed the outcome");
    if let (Ok(whole), Ok(_)) = (&whole, &streamed) {
        assert_eq!(whole.hosts.len(), hosts.len(), "buffer size changed the host count");
    }
});
