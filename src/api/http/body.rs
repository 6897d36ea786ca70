//! Reading a request body by its framing, never buffering more than `cap + 1` bytes whatever
//! the client declares: a declared length over the cap is not read at all, a chunked body is
//! read until it passes the cap. Either way the body is then incomplete, the connection cannot
//! be reused (its next bytes are not a request), and the caller closes it after answering.

use std::io::{self, BufRead, Read};

use super::head::{Framing, MAX_HEAD_BYTES, MAX_HEADER_LINE, read_line};

/// A body as read for the handler.
#[derive(Debug, Default)]
pub struct Body {
    /// At most `cap + 1` bytes (one past the cap lets the handler tell "too large").
    pub bytes: Vec<u8>,
    /// False when bytes of the body remain unread on the socket: close after the response.
    pub complete: bool,
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// The socket failed or closed mid-body: nothing more can be said on it.
    Io,
    /// The chunked framing is broken: answer 400 and close.
    Malformed,
}

impl From<io::Error> for BodyError {
    fn from(_: io::Error) -> Self {
        BodyError::Io
    }
}

/// Reads the body `framing` announces, keeping at most `cap + 1` bytes.
pub fn read_body(
    reader: &mut impl BufRead,
    framing: Framing,
    cap: usize,
) -> Result<Body, BodyError> {
    match framing {
        Framing::None => Ok(Body {
            bytes: Vec::new(),
            complete: true,
        }),
        Framing::Length(n) if n > cap as u64 => Ok(Body {
            bytes: Vec::new(),
            complete: false,
        }),
        Framing::Length(n) => {
            let mut bytes = Vec::with_capacity(n as usize);
            reader.by_ref().take(n).read_to_end(&mut bytes)?;
            if (bytes.len() as u64) < n {
                return Err(BodyError::Io);
            }
            Ok(Body {
                bytes,
                complete: true,
            })
        }
        Framing::Chunked => read_chunked(reader, cap),
    }
}

/// Longest chunk-size line (size and extensions).
const MAX_CHUNK_LINE: usize = 1024;

fn read_chunked(reader: &mut impl BufRead, cap: usize) -> Result<Body, BodyError> {
    let mut bytes = Vec::new();
    let mut line = Vec::new();
    loop {
        match read_line(reader, MAX_CHUNK_LINE, &mut line)? {
            Ok(Some(())) => {}
            Ok(None) => return Err(BodyError::Io),
            Err(_) => return Err(BodyError::Malformed),
        }
        let size = chunk_size(&line).ok_or(BodyError::Malformed)?;
        if size == 0 {
            break;
        }
        let room = (cap + 1 - bytes.len()) as u64;
        let take = size.min(room);
        let before = bytes.len();
        reader.by_ref().take(take).read_to_end(&mut bytes)?;
        if ((bytes.len() - before) as u64) < take {
            return Err(BodyError::Io);
        }
        if bytes.len() > cap {
            // Over the cap: stop here; the rest of the chunk stays unread, so the connection closes.
            return Ok(Body {
                bytes,
                complete: false,
            });
        }
        match read_line(reader, 0, &mut line)? {
            Ok(Some(())) => {}
            _ => return Err(BodyError::Malformed),
        }
    }
    // Trailer fields, bounded like headers, then ignored.
    let mut total = 0;
    loop {
        match read_line(reader, MAX_HEADER_LINE, &mut line)? {
            Ok(Some(())) if line.is_empty() => break,
            Ok(Some(())) if total + line.len() <= MAX_HEAD_BYTES => total += line.len(),
            _ => return Err(BodyError::Malformed),
        }
    }
    Ok(Body {
        bytes,
        complete: true,
    })
}

/// The size of a chunk-size line (hex digits, optional `;extension`), or None.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let digits = &line[..end];
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}
