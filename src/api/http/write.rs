//! Writing a rouille `Response` on the socket as HTTP/1.1: a known length is sent with
//! `Content-Length`, an unknown one chunked (or delimited by closing, for HTTP/1.0). Framing
//! headers are the connection layer's alone: a handler's `Content-Length`, `Transfer-Encoding`
//! or `Connection` is dropped.

use std::io::{self, Read, Write};

use super::head::Version;

/// What the connection layer adds to a response.
pub struct Framing {
    pub version: Version,
    /// `HEAD`: headers only.
    pub head_only: bool,
    /// Send `Connection: close` (the caller closes after writing).
    pub close: bool,
}

/// Writes `response`; returns whether the connection must close (the body was close-delimited).
pub fn write_response(
    out: &mut impl Write,
    response: rouille::Response,
    framing: &Framing,
) -> io::Result<bool> {
    let status = response.status_code;
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in &response.headers {
        let framing_header = ["Content-Length", "Transfer-Encoding", "Connection"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h));
        let unsafe_text = |s: &str| s.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0);
        if framing_header {
            continue;
        }
        if unsafe_text(name) || unsafe_text(value) || name.is_empty() {
            log::error!("dropping an invalid response header {name:?}");
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let (mut data, length) = response.data.into_reader_and_size();
    let no_body = status == 204 || status == 304 || (100..200).contains(&status);
    let mut close = framing.close;
    let chunked = !no_body && length.is_none() && framing.version == Version::Http11;
    if !no_body {
        match length {
            Some(n) => head.push_str(&format!("Content-Length: {n}\r\n")),
            None if chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
            None => close = true,
        }
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    if !no_body && !framing.head_only {
        if chunked {
            copy_chunked(&mut data, out)?;
        } else {
            io::copy(&mut data, out)?;
        }
    }
    out.flush()?;
    Ok(close)
}

fn copy_chunked(data: &mut dyn Read, out: &mut impl Write) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = data.read(&mut buf)?;
        if n == 0 {
            return out.write_all(b"0\r\n\r\n");
        }
        write!(out, "{n:x}\r\n")?;
        out.write_all(&buf[..n])?;
        out.write_all(b"\r\n")?;
    }
}

/// A refusal written without a route: the API's JSON error body, then the connection closes.
pub fn write_refusal(
    out: &mut impl Write,
    refusal: &super::refusal::Refusal,
    request_id: &str,
) -> io::Result<()> {
    let framing = Framing {
        version: Version::Http11,
        head_only: false,
        close: true,
    };
    let response = refusal
        .to_response(request_id)
        .with_unique_header("X-Request-Id", request_id.to_string());
    write_response(out, response, &framing).map(drop)
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}
