//! Streams one nmap XML file through `nmap::xml::parse_reader` and reports wall time,
//! throughput and the process's peak RSS.
//!
//! `cargo bench --bench parse_xml [-- [--bare|--collect] FILE]`, or `PARSE_XML_FILE=FILE`;
//! default `/tmp/medium.xml` (`bench/parse_xml.sh` generates it). `--bare` runs only quick-xml's
//! event loop over the same file (no model), the floor the parser's own work is measured
//! against; `--collect` uses `parse_file`, which keeps every host in memory.

use std::io::BufReader;
use std::path::PathBuf;
use std::time::Instant;

use security_scanner::nmap::xml::{parse_file, parse_reader};

const DEFAULT_FILE: &str = "/tmp/medium.xml";

fn main() {
    // `cargo bench` passes `--bench`; the file is the first argument that is not a flag.
    let bare = std::env::args().any(|a| a == "--bare");
    let collect = std::env::args().any(|a| a == "--collect");
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .or_else(|| std::env::var("PARSE_XML_FILE").ok())
        .map_or_else(|| PathBuf::from(DEFAULT_FILE), PathBuf::from);
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) => {
            println!(
                "parse_xml: cannot open {} ({e}); nothing to measure.",
                path.display()
            );
            println!(
                "Make it with: python3 ../shared/bench/gen_nmap_xml.py --hosts 65536 \
                 --ports-per-host 5 --seed 1 -o {DEFAULT_FILE}  (or run bench/parse_xml.sh)"
            );
            return;
        }
    };
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);

    let (mut hosts, mut ports, mut open) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    let reader = BufReader::with_capacity(1 << 20, file);
    let result = if bare {
        bare_loop(reader, &mut hosts, &mut ports)
    } else if collect {
        parse_file(&path)
            .map(|scan| {
                hosts = scan.hosts.len() as u64;
                ports = scan.hosts.iter().map(|h| h.ports.len() as u64).sum();
                open = scan
                    .hosts
                    .iter()
                    .map(|h| h.open_ports().count() as u64)
                    .sum();
            })
            .map_err(|e| e.to_string())
    } else {
        parse_reader(reader, |host| {
            hosts += 1;
            ports += host.ports.len() as u64;
            open += host.open_ports().count() as u64;
        })
        .map(drop)
        .map_err(|e| e.to_string())
    };
    let elapsed = started.elapsed().as_secs_f64();
    if let Err(e) = result {
        eprintln!("parse_xml: {}: {e}", path.display());
        std::process::exit(1);
    }

    let mb = bytes as f64 / 1e6;
    let mode = match (bare, collect) {
        (true, _) => "bare quick-xml event loop",
        (_, true) => "nmap::xml::parse_file (all hosts kept)",
        _ => "nmap::xml::parse_reader (hosts streamed)",
    };
    println!("file         {} ({mb:.1} MB)", path.display());
    println!("mode         {mode}");
    println!("wall         {elapsed:.3} s");
    println!("hosts        {hosts}");
    println!("ports        {ports} ({open} open)");
    println!("throughput   {:.0} MB/s", mb / elapsed);
    match peak_rss_kib() {
        Some(kib) => println!("peak RSS     {:.1} MB (VmHWM)", kib as f64 / 1024.0),
        None => println!("peak RSS     unknown (no /proc/self/status)"),
    }
}

/// quick-xml's event loop alone, counting `<host>` and `<port>` start tags.
fn bare_loop(
    reader: impl std::io::BufRead,
    hosts: &mut u64,
    ports: &mut u64,
) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        match reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?
        {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "host" => *hosts += 1,
                "port" => *ports += 1,
                _ => {}
            },
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// `VmHWM` from /proc/self/status: the process's peak resident set, in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
