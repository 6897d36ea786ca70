//! The HTTP edge under attack, over raw loopback sockets to the real `api_server` (issue 14):
//! each case was reproduced against the earlier tiny_http-based server and is now refused
//! cleanly with the server still up. Memory and thread bounds are read from /proc.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::server::Server;

/// Bound on how long a refusal may take to arrive (a hang fails the test instead of blocking).
const PATIENCE: Duration = Duration::from_secs(15);

/// Sends `raw` on a fresh connection and reads until the server closes (or PATIENCE passes).
/// Returns everything read and whether the server closed the connection.
fn exchange(addr: SocketAddr, raw: &[u8]) -> (String, bool) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let _ = stream.write_all(raw);
    read_all(&mut stream)
}

fn read_all(stream: &mut TcpStream) -> (String, bool) {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&bytes).into_owned(), closed)
}

/// Status codes of every response in `text`, in order.
fn statuses(text: &str) -> Vec<u16> {
    text.match_indices("HTTP/1.1 ")
        .filter(|(i, _)| *i == 0 || text[..*i].ends_with('\n') || text[..*i].ends_with('}'))
        .filter_map(|(i, _)| text[i + 9..i + 12].parse().ok())
        .collect()
}

fn has_close(text: &str) -> bool {
    text.to_ascii_lowercase()
        .contains("\r\nconnection: close\r\n")
}

/// A kB figure from /proc/PID/status (`VmHWM`, `VmRSS`, `Threads`).
fn proc_status(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

fn assert_alive(server: &mut Server) {
    assert_eq!(server.get("/api/health").status, 200, "{}", server.log());
}

#[test]
fn a_huge_content_length_is_never_allocated_and_the_connection_closes() {
    let mut server = Server::start(&[]);
    let a = server.addr;
    for path in ["/api/health", "/metrics", "/api/scan", "/nowhere"] {
        let (text, closed) = exchange(
            a,
            format!("GET {path} HTTP/1.1\r\nHost: {a}\r\nContent-Length: 100000000000\r\n\r\n")
                .as_bytes(),
        );
        assert!(closed, "{path}: connection kept open");
        assert_eq!(statuses(&text).len(), 1, "{path}: {text}");
        assert!(has_close(&text), "{path}: {text}");
    }
    // POST with the body declared too large: 413 from the header alone.
    let (text, closed) = exchange(
        a,
        format!(
            "POST /api/scan HTTP/1.1\r\nHost: {a}\r\nContent-Type: application/json\r\n\
             Content-Length: 100000000000\r\n\r\n{{"
        )
        .as_bytes(),
    );
    assert_eq!(statuses(&text), [413], "{text}");
    assert!(closed && has_close(&text), "{text}");
    assert!(server.child_alive(), "server died: {}", server.log());
    assert!(proc_status(server.pid(), "VmHWM") < 256 * 1024);
    assert_alive(&mut server);
}

/// Streams `total` bytes of `filler` after `prefix` from one thread while another reads.
fn flood(addr: SocketAddr, prefix: &str, filler: &[u8], total: usize) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let prefix = prefix.as_bytes().to_vec();
    let filler = filler.repeat(64 * 1024 / filler.len());
    let sender = thread::spawn(move || {
        let _ = writer.write_all(&prefix);
        let mut sent = 0;
        while sent < total {
            if writer.write_all(&filler).is_err() {
                return sent;
            }
            sent += filler.len();
        }
        sent
    });
    let (text, _) = read_all(&mut stream);
    let sent = sender.join().unwrap();
    assert!(
        sent < total,
        "the server read the whole flood ({sent} bytes)"
    );
    text
}

#[test]
fn header_floods_get_431_within_a_memory_bound() {
    let mut server = Server::start(&[]);
    let a = server.addr;
    let before = proc_status(server.pid(), "VmHWM");
    let head = format!("GET /api/health HTTP/1.1\r\nHost: {a}\r\n");
    // One endless header line, then endless small headers: 256 MiB offered each time.
    let text = flood(a, &format!("{head}X-Long: "), b"a", 256 << 20);
    assert_eq!(statuses(&text), [431], "{text}");
    assert!(
        text.contains("headers_too_large") && has_close(&text),
        "{text}"
    );
    let text = flood(a, &head, b"X-a: b\r\n", 256 << 20);
    assert_eq!(statuses(&text), [431], "{text}");
    // A request line without end: 414.
    let text = flood(a, "GET /", b"a", 256 << 20);
    assert_eq!(statuses(&text), [414], "{text}");
    let grown = proc_status(server.pid(), "VmHWM").saturating_sub(before);
    assert!(grown < 32 * 1024, "peak RSS grew by {grown} kB");
    assert_alive(&mut server);
}

/// `hidden` is a request that must never be answered: it sits where a confused parser would
/// look for the next request.
fn hidden(a: SocketAddr) -> String {
    format!("GET /metrics HTTP/1.1\r\nHost: {a}\r\n\r\n")
}

#[test]
fn smuggling_sequences_are_answered_once_and_the_connection_closes() {
    let mut server = Server::start(&[]);
    let a = server.addr;
    let post =
        format!("POST /api/scan HTTP/1.1\r\nHost: {a}\r\nContent-Type: application/json\r\n");
    // Over-cap chunked body: the rest of the chunk holds a request.
    let mut chunk = vec![b' '; 70_000];
    chunk.extend_from_slice(hidden(a).as_bytes());
    let over_cap = format!(
        "{post}Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        chunk.len()
    );
    let mut raw = over_cap.into_bytes();
    raw.extend_from_slice(&chunk);
    raw.extend_from_slice(b"\r\n0\r\n\r\n");
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("over-cap chunked", raw, 413),
        (
            "Content-Length: 5, 5",
            format!("{post}Content-Length: 5, 5\r\n\r\n{{}}   {}", hidden(a)).into_bytes(),
            400,
        ),
        (
            "two Content-Length",
            format!(
                "{post}Content-Length: 2\r\nContent-Length: 40\r\n\r\n{{}}{}",
                hidden(a)
            )
            .into_bytes(),
            400,
        ),
        (
            "TE gzip",
            format!("{post}Transfer-Encoding: gzip\r\n\r\n{}", hidden(a)).into_bytes(),
            501,
        ),
        (
            "TE chunked, identity",
            format!(
                "{post}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n{}",
                hidden(a)
            )
            .into_bytes(),
            501,
        ),
        (
            "TE + CL",
            format!(
                "{post}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n{}",
                hidden(a)
            )
            .into_bytes(),
            400,
        ),
        (
            "bad chunk size",
            format!(
                "{post}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}",
                hidden(a)
            )
            .into_bytes(),
            400,
        ),
    ];
    for (name, raw, status) in cases {
        let (text, closed) = exchange(a, &raw);
        assert_eq!(statuses(&text), [status], "{name}: {text}");
        assert!(closed && has_close(&text), "{name}: not closed: {text}");
        assert!(
            !text.contains("# TYPE"),
            "{name}: the hidden request ran: {text}"
        );
    }
    assert_alive(&mut server);
}

#[test]
fn upgrade_is_answered_as_http_1_1_and_closes_instead_of_hanging() {
    let mut server = Server::start(&[]);
    let a = server.addr;
    for upgrade in [
        "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n",
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    ] {
        let started = Instant::now();
        let (text, closed) = exchange(
            a,
            format!("GET /api/health HTTP/1.1\r\nHost: {a}\r\n{upgrade}\r\n").as_bytes(),
        );
        assert!(started.elapsed() < PATIENCE, "hung");
        assert_eq!(statuses(&text), [200], "{text}");
        assert!(closed && has_close(&text), "{text}");
        assert!(!text.to_ascii_lowercase().contains("upgrade:"), "{text}");
    }
    assert_alive(&mut server);
}

#[test]
fn connections_over_the_cap_get_503_and_threads_stay_bounded() {
    let mut server = Server::start(&[("api.max_connections", "4")]);
    let a = server.addr;
    // The threads of the server at rest (the readiness probe's connection thread gone).
    thread::sleep(Duration::from_millis(500));
    let threads_before = proc_status(server.pid(), "Threads");
    let idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(a).unwrap()).collect();
    // Wait until the server holds all four.
    let until = Instant::now() + PATIENCE;
    while proc_status(server.pid(), "Threads") < threads_before + 4 {
        assert!(Instant::now() < until, "idle connections never got threads");
        thread::sleep(Duration::from_millis(20));
    }
    let mut refused = Vec::new();
    for _ in 0..50 {
        let (text, closed) = exchange(
            a,
            format!("GET /api/health HTTP/1.1\r\nHost: {a}\r\n\r\n").as_bytes(),
        );
        refused.push((statuses(&text), closed, text));
    }
    for (status, closed, text) in &refused {
        assert!(*closed, "{text}");
        assert!(status.is_empty() || status == &[503], "{text}");
    }
    assert!(
        refused
            .iter()
            .any(|(_, _, t)| t.contains("too_many_connections") && t.contains("Retry-After")),
        "no polite 503 at all"
    );
    let threads = proc_status(server.pid(), "Threads");
    assert!(threads <= threads_before + 4, "threads grew to {threads}");
    drop(idle);
    let until = Instant::now() + PATIENCE;
    loop {
        let r = crate::support::server::try_request(a, "GET", "/api/health", &[], b"");
        if matches!(r, Ok(ref r) if r.status == 200) {
            break;
        }
        assert!(Instant::now() < until, "server never recovered");
        thread::sleep(Duration::from_millis(20));
    }
    assert_alive(&mut server);
}

#[test]
fn foreign_host_names_get_421_before_routing() {
    let mut server = Server::start(&[]);
    let a = server.addr;
    let port = a.port();
    let rebind = format!("rebind.example:{port}");
    let origin = format!("http://{rebind}");
    for (method, path, body) in [
        ("GET", "/api/health", ""),
        ("GET", "/api/snapshots", ""),
        ("GET", "/", ""),
        ("POST", "/api/scan", "{\"target\": \"127.0.0.1\"}"),
        ("POST", "/api/alerts/ack", "{\"ids\": [1]}"),
    ] {
        let raw = format!(
            "{method} {path} HTTP/1.1\r\nHost: {rebind}\r\nOrigin: {origin}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let (text, _) = exchange(a, raw.as_bytes());
        assert_eq!(statuses(&text), [421], "{method} {path}: {text}");
        assert!(text.contains("host_not_allowed"), "{text}");
    }
    for host in [
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        a.to_string(),
    ] {
        let raw = format!("GET /api/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        assert_eq!(statuses(&exchange(a, raw.as_bytes()).0), [200], "{host}");
    }
    // Missing or doubled Host on HTTP/1.1: 400.
    for hosts in ["", "Host: localhost\r\nHost: localhost\r\n"] {
        let raw = format!("GET /api/health HTTP/1.1\r\n{hosts}Connection: close\r\n\r\n");
        assert_eq!(statuses(&exchange(a, raw.as_bytes()).0), [400], "{hosts:?}");
    }
    assert_alive(&mut server);

    // Configured names replace the defaults; a bare name matches any port (behind a proxy).
    let server = Server::start(&[(
        "api.allowed_hosts",
        "[\"scanner.example.org\", \"127.0.0.1\"]",
    )]);
    let b = server.addr;
    for (host, status) in [
        ("scanner.example.org".to_string(), 200),
        ("scanner.example.org:443".to_string(), 200),
        (format!("localhost:{}", b.port()), 421),
    ] {
        let raw = format!("GET /api/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        assert_eq!(statuses(&exchange(b, raw.as_bytes()).0), [status], "{host}");
    }
}

#[test]
fn keep_alive_pipelining_and_expect_continue_still_work() {
    let mut server = Server::start(&[]);
    let a = server.addr;
    // Two pipelined requests, then a closing one: three answers in order.
    let one = format!("GET /api/health HTTP/1.1\r\nHost: {a}\r\n\r\n");
    let last = format!("GET /nowhere HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\n\r\n");
    let (text, closed) = exchange(a, format!("{one}{one}{last}").as_bytes());
    assert_eq!(statuses(&text), [200, 200, 404], "{text}");
    assert!(closed);
    // Expect: 100-continue gets the interim answer before the body is sent.
    let mut s = TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    let body = "{\"scan_type\": \"quick\"}";
    write!(
        s,
        "POST /api/scan HTTP/1.1\r\nHost: {a}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        interim.push(byte[0]);
    }
    assert!(interim.starts_with(b"HTTP/1.1 100 "), "{interim:?}");
    s.write_all(body.as_bytes()).unwrap();
    let (text, _) = read_all(&mut s);
    assert_eq!(statuses(&text), [400], "{text}");
    assert!(text.contains("missing_target"), "{text}");
    assert_alive(&mut server);
}

#[test]
fn a_head_sent_a_byte_at_a_time_is_cut_off_with_408() {
    let mut server = Server::start(&[]);
    let a = server.addr;
    let mut s = TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let started = Instant::now();
    let head = format!("GET /api/health HTTP/1.1\r\nHost: {a}\r\nX-Slow: ");
    let mut reply = Vec::new();
    // One byte every 400 ms, forever; the server must end it (head deadline: 20 s).
    for byte in head.bytes().chain(std::iter::repeat(b'a')) {
        if s.write_all(&[byte]).is_err() {
            break;
        }
        let mut buf = [0u8; 4096];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
        assert!(started.elapsed() < Duration::from_secs(40), "never cut off");
        thread::sleep(Duration::from_millis(350));
    }
    let text = String::from_utf8_lossy(&reply);
    assert_eq!(statuses(&text), [408], "{text}");
    assert_alive(&mut server);
}
