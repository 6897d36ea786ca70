//! A ZIP archive (stored entries, no compression) produced as a [`Read`]er: each entry is a
//! local header, the file's bytes read from disk in small pieces with their CRC-32 computed on
//! the way, and a data descriptor (sizes and CRC after the data, general-purpose flag bit 3);
//! the central directory follows the last entry. Memory stays at one buffer plus a few dozen
//! bytes per entry, so an HTTP response or a file can carry a year of reports without building
//! the archive anywhere.
//!
//! Classic ZIP (no ZIP64): an entry or archive past 4 GiB, or more than 65,535 entries, is an
//! error, never a corrupt archive.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

use jiff::Timestamp;

/// One file to put into the archive.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The name inside the archive (`/`-separated, relative).
    pub name: String,
    pub path: PathBuf,
    /// Its modification time as stored in the archive.
    pub modified: Timestamp,
}

/// What the central directory needs of a written entry.
struct Written {
    name: String,
    crc: u32,
    size: u32,
    offset: u32,
    dos_time: u16,
    dos_date: u16,
}

/// The archive of `entries`, in order, as a byte stream.
pub struct ZipReader {
    pending: VecDeque<Entry>,
    written: Vec<Written>,
    /// Bytes ready to hand out.
    out: Vec<u8>,
    out_pos: usize,
    /// The entry being copied: its file and running CRC and size.
    current: Option<(File, Written)>,
    offset: u64,
    finished: bool,
}

impl ZipReader {
    pub fn new(entries: Vec<Entry>) -> ZipReader {
        ZipReader {
            pending: entries.into(),
            written: Vec::new(),
            out: Vec::with_capacity(64 * 1024),
            out_pos: 0,
            current: None,
            offset: 0,
            finished: false,
        }
    }

    /// Refills `out` with the next piece of the archive; `false` at the end.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.out_pos = 0;
        if let Some((file, w)) = &mut self.current {
            let mut buf = [0u8; 64 * 1024];
            let n = file.read(&mut buf)?;
            if n > 0 {
                w.crc = crc32_update(w.crc, &buf[..n]);
                w.size =
                    u32::try_from(u64::from(w.size) + n as u64).map_err(|_| too_big(&w.name))?;
                self.out.extend_from_slice(&buf[..n]);
            } else if let Some((_, w)) = self.current.take() {
                // Data descriptor: signature, CRC, compressed and uncompressed size.
                put32(&mut self.out, 0x0807_4b50);
                put32(&mut self.out, w.crc);
                put32(&mut self.out, w.size);
                put32(&mut self.out, w.size);
                self.written.push(w);
            }
        } else if let Some(entry) = self.pending.pop_front() {
            let file = File::open(&entry.path)?;
            let (dos_time, dos_date) = dos_time(entry.modified);
            let offset = u32::try_from(self.offset).map_err(|_| too_big("the archive"))?;
            if self.written.len() >= usize::from(u16::MAX) {
                return Err(io::Error::other(
                    "more than 65,535 files for one ZIP archive",
                ));
            }
            put32(&mut self.out, 0x0403_4b50);
            put16(&mut self.out, 20); // version needed: 2.0
            put16(&mut self.out, 0x0808); // data descriptor follows; names are UTF-8
            put16(&mut self.out, 0); // stored
            put16(&mut self.out, dos_time);
            put16(&mut self.out, dos_date);
            put32(&mut self.out, 0); // CRC, sizes: in the data descriptor
            put32(&mut self.out, 0);
            put32(&mut self.out, 0);
            put16(&mut self.out, name_len(&entry.name)?);
            put16(&mut self.out, 0);
            self.out.extend_from_slice(entry.name.as_bytes());
            let w = Written {
                name: entry.name,
                crc: 0,
                size: 0,
                offset,
                dos_time,
                dos_date,
            };
            self.current = Some((file, w));
        } else if !self.finished {
            self.finished = true;
            self.central_directory()?;
        } else {
            return Ok(false);
        }
        self.offset += self.out.len() as u64;
        Ok(true)
    }

    fn central_directory(&mut self) -> io::Result<()> {
        let start = u32::try_from(self.offset).map_err(|_| too_big("the archive"))?;
        let mut size = 0usize;
        for w in &self.written {
            let before = self.out.len();
            put32(&mut self.out, 0x0201_4b50);
            put16(&mut self.out, 0x031e); // made by: Unix, 3.0
            put16(&mut self.out, 20);
            put16(&mut self.out, 0x0808);
            put16(&mut self.out, 0);
            put16(&mut self.out, w.dos_time);
            put16(&mut self.out, w.dos_date);
            put32(&mut self.out, w.crc);
            put32(&mut self.out, w.size);
            put32(&mut self.out, w.size);
            put16(&mut self.out, name_len(&w.name)?);
            put16(&mut self.out, 0); // extra
            put16(&mut self.out, 0); // comment
            put16(&mut self.out, 0); // disk
            put16(&mut self.out, 0); // internal attributes
            put32(&mut self.out, 0o100644 << 16); // a regular file, rw-r--r--
            put32(&mut self.out, w.offset);
            self.out.extend_from_slice(w.name.as_bytes());
            size += self.out.len() - before;
        }
        let count = u16::try_from(self.written.len()).map_err(|_| too_big("the archive"))?;
        put32(&mut self.out, 0x0605_4b50);
        put16(&mut self.out, 0);
        put16(&mut self.out, 0);
        put16(&mut self.out, count);
        put16(&mut self.out, count);
        put32(
            &mut self.out,
            u32::try_from(size).map_err(|_| too_big("the archive"))?,
        );
        put32(&mut self.out, start);
        put16(&mut self.out, 0);
        Ok(())
    }
}

impl Read for ZipReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos >= self.out.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

fn too_big(what: &str) -> io::Error {
    io::Error::other(format!(
        "{what} is larger than 4 GiB, more than a ZIP archive without ZIP64 holds; export a shorter range"
    ))
}

fn name_len(name: &str) -> io::Result<u16> {
    u16::try_from(name.len()).map_err(|_| io::Error::other("file name too long for ZIP"))
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// MS-DOS time and date (UTC; 1980 at the earliest).
fn dos_time(t: Timestamp) -> (u16, u16) {
    let dt = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    if dt.year() < 1980 {
        return (0, 0x21); // 1980-01-01 00:00
    }
    let time =
        ((dt.hour() as u16) << 11) | ((dt.minute() as u16) << 5) | ((dt.second() as u16) / 2);
    let date = (((dt.year() - 1980) as u16) << 9) | ((dt.month() as u16) << 5) | (dt.day() as u16);
    (time, date)
}

/// CRC-32 (IEEE 802.3, as ZIP uses), continued from `crc` over `bytes`.
fn crc32_update(crc: u32, bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut c = !crc;
    for &b in bytes {
        c = TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_check_string() {
        assert_eq!(crc32_update(0, b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32_update(crc32_update(0, b"1234"), b"56789"),
            0xCBF4_3926
        );
    }

    #[test]
    fn the_archive_lists_every_file_and_ends_with_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("a.json"), b"{}\n").unwrap();
        std::fs::write(dir.path().join("b.html"), &big).unwrap();
        let t: Timestamp = "2026-12-05T02:00:00Z".parse().unwrap();
        let entries = vec![
            Entry {
                name: "run/a.json".into(),
                path: dir.path().join("a.json"),
                modified: t,
            },
            Entry {
                name: "run/b.html".into(),
                path: dir.path().join("b.html"),
                modified: t,
            },
        ];
        let mut zip = Vec::new();
        ZipReader::new(entries).read_to_end(&mut zip).unwrap();
        assert_eq!(&zip[..4], b"PK\x03\x04");
        let end = zip.len() - 22;
        assert_eq!(&zip[end..end + 4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([zip[end + 10], zip[end + 11]]), 2);
        // The central directory names both files, with the big one's CRC and size.
        let cd = u32::from_le_bytes(zip[end + 16..end + 20].try_into().unwrap()) as usize;
        assert_eq!(&zip[cd..cd + 4], b"PK\x01\x02");
        let text = String::from_utf8_lossy(&zip[cd..]);
        assert!(text.contains("run/a.json") && text.contains("run/b.html"));
        let second = cd + 46 + "run/a.json".len();
        let field = |at: usize| u32::from_le_bytes(zip[at..at + 4].try_into().unwrap());
        assert_eq!(field(second + 16), crc32_update(0, &big));
        assert_eq!(field(second + 24), big.len() as u32);
    }

    #[test]
    fn a_missing_file_is_an_error_not_a_short_archive() {
        let entries = vec![Entry {
            name: "x".into(),
            path: PathBuf::from("/nonexistent/x"),
            modified: Timestamp::UNIX_EPOCH,
        }];
        let mut out = Vec::new();
        assert!(ZipReader::new(entries).read_to_end(&mut out).is_err());
    }
}
