//! Reading a JSON request body safely: JSON media type only, at most [`MAX_BODY_BYTES`].
//!
//! rouille's `json_input` reads without a limit, so the body is read here: a declared
//! `Content-Length` over the cap is refused before reading, and the read itself stops one byte
//! past the cap (a chunked or lying client cannot make the server buffer more).
//! The connection layer (`http.rs`) has already read at most `MAX_BODY_BYTES + 1` bytes, under
//! a deadline, so nothing here waits on a slow client.

use std::io::Read;

use rouille::Request;

use super::error::{ApiError, Kind};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body of `request` parsed as JSON, after the media-type and size checks.
pub fn read_json(request: &Request) -> Result<serde_json::Value, ApiError> {
    check_content_type(request.header("Content-Type"))?;
    if let Some(len) = request.header("Content-Length") {
        match len.trim().parse::<u64>() {
            Ok(n) if n > MAX_BODY_BYTES as u64 => return Err(too_large()),
            Ok(_) => {}
            Err(_) => {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    "Content-Length is not a number",
                ));
            }
        }
    }
    let Some(body) = request.data() else {
        log::error!("request body was already taken");
        return Err(ApiError::internal());
    };
    let bytes = read_capped(body, MAX_BODY_BYTES)?;
    parse_json(&bytes)
}

/// Reads at most `cap` bytes; more than that is a 413.
fn read_capped(reader: impl Read, cap: usize) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    reader
        .take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            ApiError::bad_request(
                "invalid_request",
                format!("could not read the request body: {}", e.kind()),
            )
        })?;
    if bytes.len() > cap {
        return Err(too_large());
    }
    Ok(bytes)
}

fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_json",
            "the request body is empty; send a JSON object such as {\"target\": \"127.0.0.1\"}",
        ));
    }
    // serde_json's message names only the line and column and what it expected, never the input.
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
    })
}

/// Accepts `application/json`, optionally with `charset=utf-8`; anything else is a 415.
fn check_content_type(value: Option<&str>) -> Result<(), ApiError> {
    let unsupported = || {
        ApiError::new(
            Kind::UnsupportedMediaType,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        )
    };
    let value = value.ok_or_else(unsupported)?;
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(unsupported());
    }
    for param in parts {
        let (name, val) = param.split_once('=').ok_or_else(unsupported)?;
        let val = val.trim().trim_matches('"');
        if !name.trim().eq_ignore_ascii_case("charset")
            || !(val.eq_ignore_ascii_case("utf-8") || val.eq_ignore_ascii_case("utf8"))
        {
            return Err(unsupported());
        }
    }
    Ok(())
}

fn too_large() -> ApiError {
    ApiError::new(
        Kind::PayloadTooLarge,
        "body_too_large",
        format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(content_type: Option<&str>, body: Vec<u8>) -> Request {
        let mut headers = Vec::new();
        if let Some(ct) = content_type {
            headers.push(("Content-Type".to_string(), ct.to_string()));
        }
        Request::fake_http("POST", "/api/scan", headers, body)
    }

    #[test]
    fn accepts_json_with_or_without_utf8_charset() {
        for ct in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
        ] {
            let v = read_json(&post(Some(ct), br#"{"target":"127.0.0.1"}"#.to_vec())).unwrap();
            assert_eq!(v["target"], "127.0.0.1", "{ct}");
        }
    }

    #[test]
    fn other_media_types_are_415() {
        for ct in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/json; charset=latin1"),
            Some("application/jsonx"),
            Some("multipart/form-data; boundary=x"),
        ] {
            let e = read_json(&post(ct, b"{}".to_vec())).unwrap_err();
            assert_eq!(e.status(), 415, "{ct:?}");
        }
    }

    #[test]
    fn bodies_over_the_cap_are_413_even_without_content_length() {
        let big = format!(r#"{{"target":"{}"}}"#, "a".repeat(MAX_BODY_BYTES));
        let e = read_json(&post(Some("application/json"), big.into_bytes())).unwrap_err();
        assert_eq!((e.status(), e.code), (413, "body_too_large"));
        let e = read_capped(std::io::repeat(b' '), 10).unwrap_err();
        assert_eq!(e.status(), 413);
        assert_eq!(read_capped(&b"0123456789"[..], 10).unwrap().len(), 10);
    }

    #[test]
    fn declared_length_over_the_cap_is_refused_before_reading() {
        let r = Request::fake_http(
            "POST",
            "/api/scan",
            vec![
                ("Content-Type".into(), "application/json".into()),
                ("Content-Length".into(), "70000".into()),
            ],
            b"{}".to_vec(),
        );
        assert_eq!(read_json(&r).unwrap_err().status(), 413);
    }

    #[test]
    fn malformed_or_empty_json_is_400_invalid_json() {
        for body in [&b""[..], b"  ", b"{", b"{\"target\": }", b"\xff\xfe"] {
            let e = read_json(&post(Some("application/json"), body.to_vec())).unwrap_err();
            assert_eq!((e.status(), e.code), (400, "invalid_json"), "{body:?}");
        }
    }
}
