//! Reading one request head (request line and headers) under fixed bounds, and deciding how its
//! body is framed. Everything here refuses rather than guesses: a head that two HTTP parsers
//! could read differently (request smuggling) is answered once and the connection is closed.

use std::io::{self, BufRead, Read};

use super::refusal::Refusal;

pub use super::limits::{MAX_HEAD_BYTES, MAX_HEADER_LINE, MAX_HEADERS, MAX_REQUEST_LINE};
/// Empty lines tolerated before a request line (clients may send a stray CRLF after a body).
const MAX_LEADING_EMPTY: usize = 2;

/// HTTP/1.0 or HTTP/1.1; nothing else is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// A parsed request head.
#[derive(Debug)]
pub struct Head {
    pub method: String,
    pub target: String,
    pub version: Version,
    pub headers: Vec<(String, String)>,
}

/// How the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
}

/// Why no head was read.
#[derive(Debug)]
pub enum HeadError {
    /// The peer closed or went quiet before sending a byte: close without a word.
    Gone,
    /// The head is refused: answer this, then close.
    Refused(Refusal),
}

impl Head {
    /// Every value of header `name` (case-insensitive), in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True when a comma-separated token list in `name` holds `token`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.values(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// The body framing, or a refusal for anything ambiguous: only `Transfer-Encoding: chunked`
    /// (one header, one coding), never with `Content-Length`; one `Content-Length` of digits.
    pub fn framing(&self) -> Result<Framing, Refusal> {
        let te: Vec<&str> = self.values("Transfer-Encoding").collect();
        let cl: Vec<&str> = self.values("Content-Length").collect();
        if !te.is_empty() {
            if !cl.is_empty() {
                return Err(Refusal::bad_request(
                    "ambiguous_framing",
                    "send Transfer-Encoding or Content-Length, not both",
                ));
            }
            if self.version == Version::Http10 {
                return Err(Refusal::bad_request(
                    "invalid_transfer_encoding",
                    "Transfer-Encoding needs HTTP/1.1",
                ));
            }
            if te.len() != 1 || !te[0].trim().eq_ignore_ascii_case("chunked") {
                return Err(Refusal::not_implemented(
                    "unsupported_transfer_encoding",
                    "only `Transfer-Encoding: chunked` is accepted",
                ));
            }
            return Ok(Framing::Chunked);
        }
        match cl.as_slice() {
            [] => Ok(Framing::None),
            [one] => {
                let v = one.trim();
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid_length());
                }
                v.parse::<u64>()
                    .map(Framing::Length)
                    .map_err(|_| invalid_length())
            }
            _ => Err(invalid_length()),
        }
    }
}

fn invalid_length() -> Refusal {
    Refusal::bad_request(
        "invalid_request",
        "Content-Length must be one header holding one decimal number",
    )
}

/// One line ending in CRLF, at most `limit` bytes without it. `Ok(None)` at a clean EOF.
/// `Err(true)` when the line is longer than `limit`; `Err(false)` on a bare LF or a stray CR.
pub fn read_line(
    reader: &mut impl BufRead,
    limit: usize,
    buf: &mut Vec<u8>,
) -> io::Result<Result<Option<()>, bool>> {
    buf.clear();
    reader
        .by_ref()
        .take(limit as u64 + 2)
        .read_until(b'\n', buf)?;
    if buf.is_empty() {
        return Ok(Ok(None));
    }
    if buf.last() != Some(&b'\n') {
        if buf.len() > limit {
            return Ok(Err(true));
        }
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "cut line"));
    }
    buf.pop();
    if buf.pop() != Some(b'\r') || buf.contains(&b'\r') {
        return Ok(Err(false));
    }
    Ok(Ok(Some(())))
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Reads and checks one request head. I/O errors before the first byte are [`HeadError::Gone`];
/// once a head has started, a timeout is a 408.
pub fn read_head(reader: &mut impl BufRead) -> Result<Head, HeadError> {
    let mut line = Vec::new();
    let mut started = false;
    let io_fail = |e: io::Error, started: bool| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut if started => {
            HeadError::Refused(Refusal::timeout())
        }
        _ => HeadError::Gone,
    };
    let mut empty = 0;
    loop {
        match read_line(reader, MAX_REQUEST_LINE, &mut line).map_err(|e| io_fail(e, started))? {
            Ok(None) => return Err(HeadError::Gone),
            Ok(Some(())) if line.is_empty() && empty < MAX_LEADING_EMPTY => empty += 1,
            Ok(Some(())) => break,
            Err(true) => return Err(HeadError::Refused(Refusal::uri_too_long())),
            Err(false) => return Err(HeadError::Refused(malformed("request line"))),
        }
        started = true;
    }
    started = true;
    let (method, target, version) = request_line(&line).map_err(HeadError::Refused)?;
    let mut headers = Vec::new();
    let mut total = 0usize;
    loop {
        let read =
            read_line(reader, MAX_HEADER_LINE, &mut line).map_err(|e| io_fail(e, started))?;
        match read {
            Ok(None) => return Err(HeadError::Gone),
            Err(true) => return Err(HeadError::Refused(Refusal::headers_too_large())),
            Err(false) => return Err(HeadError::Refused(malformed("header line"))),
            Ok(Some(())) => {}
        }
        if line.is_empty() {
            break;
        }
        total += line.len() + 2;
        if total > MAX_HEAD_BYTES || headers.len() >= MAX_HEADERS {
            return Err(HeadError::Refused(Refusal::headers_too_large()));
        }
        headers.push(header_line(&line).map_err(HeadError::Refused)?);
    }
    Ok(Head {
        method,
        target,
        version,
        headers,
    })
}

fn malformed(what: &str) -> Refusal {
    Refusal::bad_request("malformed_request", format!("malformed {what}"))
}

fn request_line(line: &[u8]) -> Result<(String, String, Version), Refusal> {
    let text = std::str::from_utf8(line).map_err(|_| malformed("request line"))?;
    let mut parts = text.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("request line"));
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(malformed("request method"));
    }
    if !target.starts_with('/') || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed(
            "request target (send an absolute path such as /api/health)",
        ));
    }
    let version = match version {
        "HTTP/1.1" => Version::Http11,
        "HTTP/1.0" => Version::Http10,
        v if v.starts_with("HTTP/") => return Err(Refusal::version_not_supported()),
        _ => return Err(malformed("HTTP version")),
    };
    Ok((method.to_string(), target.to_string(), version))
}

fn header_line(line: &[u8]) -> Result<(String, String), Refusal> {
    if line[0] == b' ' || line[0] == b'\t' {
        return Err(malformed("header (folded lines are not accepted)"));
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or_else(|| malformed("header line"))?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(malformed("header name"));
    }
    if value.iter().any(|&b| b < 0x20 && b != b'\t' || b == 0x7f) {
        return Err(malformed("header value"));
    }
    let value = std::str::from_utf8(value).map_err(|_| malformed("header value (not UTF-8)"))?;
    let name = std::str::from_utf8(name).map_err(|_| malformed("header name"))?;
    Ok((
        name.to_string(),
        value.trim_matches([' ', '\t']).to_string(),
    ))
}
