use std::io::{BufReader, Cursor};

use super::body::read_body;
use super::head::{Framing, HeadError, read_head};
use super::*;

fn head_of(raw: &str) -> Result<head::Head, HeadError> {
    read_head(&mut BufReader::new(Cursor::new(raw.as_bytes().to_vec())))
}

fn refused_status(raw: &str) -> u16 {
    match head_of(raw) {
        Err(HeadError::Refused(r)) => r.status(),
        Ok(h) => match h.framing() {
            Err(r) => r.status(),
            Ok(f) => panic!("accepted {raw:?} as {f:?}"),
        },
        Err(HeadError::Gone) => panic!("gone"),
    }
}

#[test]
fn framing_is_refused_when_ambiguous() {
    let base = "POST / HTTP/1.1\r\nHost: a\r\n";
    for (extra, status) in [
        ("Content-Length: 5, 5\r\n", 400),
        ("Content-Length: 5\r\nContent-Length: 5\r\n", 400),
        ("Content-Length: +5\r\n", 400),
        ("Content-Length: 99999999999999999999999\r\n", 400),
        ("Transfer-Encoding: gzip\r\n", 501),
        ("Transfer-Encoding: gzip, chunked\r\n", 501),
        (
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            501,
        ),
        ("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400),
        (" folded: x\r\n", 400),
        ("Bad Name: x\r\n", 400),
    ] {
        assert_eq!(
            refused_status(&format!("{base}{extra}\r\n")),
            status,
            "{extra:?}"
        );
    }
    assert_eq!(refused_status("GET / HTTP/2.0\r\n\r\n"), 505);
    assert_eq!(refused_status("GET http://x/ HTTP/1.1\r\n\r\n"), 400);
    assert_eq!(refused_status("GET / HTTP/1.1\nHost: a\n\n"), 400);
}

#[test]
fn heads_are_bounded() {
    let long_line = format!(
        "GET / HTTP/1.1\r\nX: {}\r\n\r\n",
        "a".repeat(head::MAX_HEADER_LINE)
    );
    assert_eq!(refused_status(&long_line), 431);
    let many: String = (0..=head::MAX_HEADERS)
        .map(|i| format!("X-{i}: 1\r\n"))
        .collect();
    assert_eq!(
        refused_status(&format!("GET / HTTP/1.1\r\n{many}\r\n")),
        431
    );
    let long_target = format!(
        "GET /{} HTTP/1.1\r\n\r\n",
        "a".repeat(head::MAX_REQUEST_LINE)
    );
    assert_eq!(refused_status(&long_target), 414);
}

#[test]
fn valid_framing_is_read() {
    let h = head_of("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n").unwrap();
    assert_eq!(h.framing().unwrap(), Framing::Chunked);
    let h = head_of("\r\nPOST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n").unwrap();
    assert_eq!(h.framing().unwrap(), Framing::Length(12));
}

fn body_of(raw: &str, framing: Framing, cap: usize) -> body::Body {
    read_body(
        &mut BufReader::new(Cursor::new(raw.as_bytes().to_vec())),
        framing,
        cap,
    )
    .unwrap()
}

#[test]
fn bodies_stop_at_the_cap() {
    let b = body_of(
        "4\r\nabcd\r\n2;x=y\r\nef\r\n0\r\nT: 1\r\n\r\n",
        Framing::Chunked,
        10,
    );
    assert_eq!((b.bytes.as_slice(), b.complete), (&b"abcdef"[..], true));
    let b = body_of(&format!("ff\r\n{}", "z".repeat(300)), Framing::Chunked, 4);
    assert_eq!((b.bytes.len(), b.complete), (5, false));
    let b = body_of("", Framing::Length(100_000_000_000), 64);
    assert_eq!((b.bytes.len(), b.complete), (0, false));
    assert!(matches!(
        read_body(
            &mut BufReader::new(Cursor::new(b"zz\r\n".to_vec())),
            Framing::Chunked,
            4
        ),
        Err(body::BodyError::Malformed)
    ));
}

/// A listener whose `accept` fails as scripted.
struct Scripted(std::sync::Mutex<Vec<io::Error>>);

impl Accept for Scripted {
    fn accept_one(&self) -> io::Result<TcpStream> {
        Err(self.0.lock().unwrap().remove(0))
    }
}

#[test]
fn a_dead_accept_loop_is_an_error_but_running_out_of_descriptors_is_not() {
    let state = Arc::new(
        State::new(
            crate::config::Config::default(),
            Box::new(|| Ok("7.93".to_string())),
        )
        .unwrap(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let script = Scripted(std::sync::Mutex::new(vec![
        io::Error::from_raw_os_error(24),
        io::Error::from_raw_os_error(23),
        io::Error::from_raw_os_error(9),
    ]));
    let result = serve_until(&script, &state, &stop, 4);
    assert!(matches!(result, Err(ServeError::Accept(_))), "{result:?}");
    assert!(script.0.lock().unwrap().is_empty(), "stopped early");
}
