//! Streaming parser for nmap's XML output (`-oX`), built on quick-xml's event reader.
//!
//! No DOM is built: hosts are handed to the caller one at a time as each `</host>` closes, so
//! memory stays flat however many hosts a file holds. Subtrees the model does not keep (script
//! `<table>`/`<elem>` other than `ssl-cert`'s and `ssl-enum-ciphers`', `<times>`, `<trace>`, OS fingerprints, ...) are walked without reading
//! their attributes.
//!
//! Hostile input:
//! - Entities are never expanded beyond XML's five predefined ones and character references.
//!   A DTD is skipped, never read, so an external entity (XXE) can neither fetch a file nor a URL.
//!   A reference to any other entity (`&xxe;`) in data the model keeps is an error
//!   ([`XmlError::Malformed`]); nmap itself always writes a bare `&` as `&amp;`.
//! - No recursion: nesting is tracked on a heap stack capped at [`MAX_DEPTH`].
//! - Work is linear in the input (attribute duplicate checks, which are quadratic, are off).
//! - A document that stops early (no `</nmaprun>`, or no `<runstats>`) is
//!   [`XmlError::Incomplete`], never a result. With [`parse_reader`], hosts seen before the
//!   problem have already been passed to the callback: discard them when an error comes back.

use std::borrow::Cow;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use quick_xml::errors::{Error as QxError, IllFormedError};
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};

use crate::model::{Host, Port, ScanResult};

mod elements;
mod tls;
use elements::truncate;
use tls::{Collector, TlsScript};

/// Deepest element nesting accepted. nmap writes about 8 levels (NSE tables add a few).
pub const MAX_DEPTH: usize = 256;

/// Read buffer for files: big reads keep syscalls off the profile.
const READ_CAPACITY: usize = 1 << 20;

/// Why an nmap XML document could not be turned into a [`ScanResult`].
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("cannot open nmap XML file {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read nmap XML: {0}")]
    Io(#[from] std::io::Error),
    /// Not well-formed XML, or XML that cannot be an nmap report (e.g. a port without a number).
    #[error("malformed nmap XML at byte {position}: {message}")]
    Malformed { position: u64, message: String },
    /// The document stops early: nmap was interrupted or the file was cut.
    #[error("incomplete scan: {reason}")]
    Incomplete { reason: String },
    /// Well-formed XML whose root element is not `<nmaprun>`.
    #[error("not an nmap XML report: the root element is <{root}>, expected <nmaprun>")]
    NotNmap { root: String },
}

/// Parses an nmap XML document from `reader`, handing each `<host>` to `on_host` as soon as it
/// is complete. The returned [`ScanResult`] has everything except `hosts` (left empty).
pub fn parse_reader<R: BufRead>(
    reader: R,
    on_host: impl FnMut(Host),
) -> Result<ScanResult, XmlError> {
    Parser::new(reader, on_host).run()
}

/// Parses a whole document held in memory, hosts included.
pub fn parse_bytes(xml: &[u8]) -> Result<ScanResult, XmlError> {
    let mut hosts = Vec::new();
    let mut result = parse_reader(xml, |h| hosts.push(compact(h)))?;
    result.hosts = hosts;
    Ok(result)
}

/// Parses an nmap XML file, hosts included.
pub fn parse_file(path: &Path) -> Result<ScanResult, XmlError> {
    let file = std::fs::File::open(path).map_err(|source| XmlError::Open {
        path: path.to_owned(),
        source,
    })?;
    let mut hosts = Vec::new();
    let reader = std::io::BufReader::with_capacity(READ_CAPACITY, file);
    let mut result = parse_reader(reader, |h| hosts.push(compact(h)))?;
    result.hosts = hosts;
    Ok(result)
}

/// Returns the spare capacity a host's port list grew while parsing, for hosts that are kept
/// (8% less memory on the 65,536-host benchmark file).
fn compact(mut host: Host) -> Host {
    host.ports.shrink_to_fit();
    host
}

/// What an open element means to the parser; decides how its children are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Run,
    Host,
    Hostnames,
    Ports,
    Port,
    Service,
    Cpe,
    Os,
    HostScript,
    Runstats,
    /// A port's `ssl-cert` or `ssl-enum-ciphers` script, and its tables and elements.
    TlsScript,
    TlsTable,
    TlsElem,
    /// Kept element with nothing kept below it, or an element the model ignores.
    Skip,
}

struct Parser<R, F> {
    reader: quick_xml::Reader<R>,
    on_host: F,
    /// Byte offset where the current event starts, for error messages.
    pos: u64,
    stack: Vec<Tag>,
    result: ScanResult,
    host: Host,
    port: Port,
    /// The TLS facts of the current port, from its script tables.
    tls: Collector,
    seen_root: bool,
    root_closed: bool,
    seen_runstats: bool,
}

impl<R: BufRead, F: FnMut(Host)> Parser<R, F> {
    fn new(reader: R, on_host: F) -> Self {
        let mut reader = quick_xml::Reader::from_reader(reader);
        // Matching end tags is what makes the element stack trustworthy.
        reader.config_mut().check_end_names = true;
        Parser {
            reader,
            on_host,
            pos: 0,
            stack: Vec::with_capacity(16),
            result: ScanResult::default(),
            host: Host::default(),
            port: Port::default(),
            tls: Collector::default(),
            seen_root: false,
            root_closed: false,
            seen_runstats: false,
        }
    }

    fn run(mut self) -> Result<ScanResult, XmlError> {
        let mut buf = Vec::with_capacity(64 * 1024);
        loop {
            buf.clear();
            self.pos = self.reader.buffer_position();
            let event = match self.reader.read_event_into(&mut buf) {
                Ok(event) => event,
                Err(e) => return Err(self.xml_error(e)),
            };
            match event {
                Event::Start(e) => {
                    let tag = self.open(&e)?;
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(
                            self.malformed(format!("elements nested deeper than {MAX_DEPTH}"))
                        );
                    }
                    self.stack.push(tag);
                }
                Event::Empty(e) => {
                    let tag = self.open(&e)?;
                    self.close(tag);
                }
                Event::End(_) => {
                    // quick-xml has checked the name against the matching start tag.
                    let tag = self.stack.pop().unwrap_or(Tag::Skip);
                    self.close(tag);
                }
                Event::Text(t) => self.text(&t)?,
                Event::CData(t) => self.text(&t)?,
                Event::GeneralRef(r) => self.reference(&r)?,
                Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        self.finish()
    }

    fn finish(self) -> Result<ScanResult, XmlError> {
        let incomplete = |reason: &str| XmlError::Incomplete {
            reason: reason.to_owned(),
        };
        if !self.seen_root {
            return Err(incomplete(
                "the document has no <nmaprun> element (empty output?)",
            ));
        }
        if !self.root_closed {
            return Err(incomplete(
                "the document ends before </nmaprun> (nmap was interrupted or the file is cut)",
            ));
        }
        if !self.seen_runstats {
            return Err(incomplete(
                "<nmaprun> has no <runstats>: nmap did not finish the scan",
            ));
        }
        Ok(self.result)
    }

    /// Handles a start (or empty) tag and says how to treat its children.
    fn open(&mut self, e: &BytesStart) -> Result<Tag, XmlError> {
        let name = e.name();
        let name = name.as_ref();
        let Some(&parent) = self.stack.last() else {
            return self.open_root(e, name);
        };
        if name == "nmaprun" || (name == "host" && parent != Tag::Run) {
            return Err(self.malformed(format!(
                "<{name}> nested inside another element (only <nmaprun> may hold <host>)"
            )));
        }
        Ok(match (parent, name) {
            (Tag::Run, "host") => {
                self.host = Host::default();
                self.host_attrs(e)?;
                Tag::Host
            }
            (Tag::Run, "scaninfo") => {
                self.scaninfo(e)?;
                Tag::Skip
            }
            (Tag::Run, "runstats") => {
                self.seen_runstats = true;
                Tag::Runstats
            }
            (Tag::Runstats, "finished") => {
                self.finished(e)?;
                Tag::Skip
            }
            (Tag::Runstats, "hosts") => {
                self.hosts_count(e)?;
                Tag::Skip
            }
            (Tag::Host, "status") => {
                self.status(e)?;
                Tag::Skip
            }
            (Tag::Host, "address") => {
                self.address(e)?;
                Tag::Skip
            }
            (Tag::Host, "hostnames") => Tag::Hostnames,
            (Tag::Hostnames, "hostname") => {
                self.hostname(e)?;
                Tag::Skip
            }
            (Tag::Host, "ports") => Tag::Ports,
            (Tag::Ports, "port") => {
                self.port = Port::default();
                self.tls = Collector::default();
                self.port_attrs(e)?;
                Tag::Port
            }
            (Tag::Ports, "extraports") => {
                self.extraports(e)?;
                Tag::Skip
            }
            (Tag::Port, "state") => {
                self.port_state(e)?;
                Tag::Skip
            }
            (Tag::Port, "service") => {
                self.service(e)?;
                Tag::Service
            }
            (Tag::Service, "cpe") => {
                self.port.service.cpe.push(String::new());
                Tag::Cpe
            }
            (Tag::Port, "script") => {
                let script = self.script(e)?;
                let tls = TlsScript::of(&script.id);
                self.port.scripts.push(script);
                match tls {
                    Some(kind) => {
                        self.tls.start_script(kind);
                        Tag::TlsScript
                    }
                    None => Tag::Skip,
                }
            }
            (Tag::TlsScript | Tag::TlsTable, "table") => {
                self.tls.open_table(self.key(e)?);
                Tag::TlsTable
            }
            (Tag::TlsScript | Tag::TlsTable, "elem") => {
                self.tls.open_elem(self.key(e)?);
                Tag::TlsElem
            }
            (Tag::Host, "os") => Tag::Os,
            (Tag::Os, "osmatch") => {
                self.osmatch(e)?;
                Tag::Skip
            }
            (Tag::Host, "hostscript") => Tag::HostScript,
            (Tag::HostScript, "script") => {
                let script = self.script(e)?;
                self.host.scripts.push(script);
                Tag::Skip
            }
            _ => Tag::Skip,
        })
    }

    /// Finishes an element: a closed port joins its host, a closed host goes to the caller.
    fn close(&mut self, tag: Tag) {
        match tag {
            Tag::Port => {
                let mut port = std::mem::take(&mut self.port);
                port.tls = std::mem::take(&mut self.tls).finish();
                self.host.ports.push(port);
            }
            Tag::Host => (self.on_host)(std::mem::take(&mut self.host)),
            Tag::Cpe => {
                if let Some(cpe) = self.port.service.cpe.last_mut() {
                    let trimmed = cpe.trim();
                    if trimmed.len() != cpe.len() {
                        *cpe = trimmed.to_owned();
                    }
                }
            }
            Tag::TlsScript => self.tls.end_script(),
            Tag::TlsTable => self.tls.close_table(),
            Tag::TlsElem => self.tls.close_elem(),
            // Only ever the bottom of the stack: the document is over.
            Tag::Run => self.root_closed = true,
            _ => {}
        }
    }

    fn text(&mut self, t: &str) -> Result<(), XmlError> {
        match self.stack.last() {
            Some(Tag::Cpe) => {
                if let Some(cpe) = self.port.service.cpe.last_mut() {
                    cpe.push_str(t);
                }
            }
            Some(Tag::TlsElem) => self.tls.text(t),
            None if !t.trim_ascii().is_empty() => {
                return Err(self.malformed("text outside the root element".to_owned()));
            }
            _ => {}
        }
        Ok(())
    }

    /// `&name;` or `&#n;` in text. Only predefined entities and character references resolve.
    fn reference(&mut self, r: &BytesRef) -> Result<(), XmlError> {
        let resolved: Cow<str> = match r.resolve_char_ref() {
            Ok(Some(c)) => Cow::Owned(c.to_string()),
            Ok(None) => match resolve_predefined_entity(r) {
                Some(s) => Cow::Borrowed(s),
                None => {
                    return Err(self.malformed(format!(
                        "reference to undeclared entity &{};: entities are never expanded",
                        truncate(r)
                    )));
                }
            },
            Err(e) => return Err(self.malformed(e.to_string())),
        };
        if self.stack.is_empty() {
            return Err(self.malformed("text outside the root element".to_owned()));
        }
        self.text(&resolved)
    }

    fn malformed(&self, message: String) -> XmlError {
        XmlError::Malformed {
            position: self.pos,
            message,
        }
    }

    fn xml_error(&mut self, e: QxError) -> XmlError {
        let truncation = matches!(
            e,
            QxError::Syntax(_) | QxError::IllFormed(IllFormedError::UnclosedReference)
        );
        match e {
            QxError::Io(io) => XmlError::Io(std::io::Error::new(io.kind(), io.to_string())),
            // An unclosed tag, comment or reference is a cut file only when nothing follows it.
            e if truncation && self.at_eof() => XmlError::Incomplete {
                reason: format!("the document is cut off: {e}"),
            },
            e => XmlError::Malformed {
                position: self.reader.error_position(),
                message: e.to_string(),
            },
        }
    }

    fn at_eof(&mut self) -> bool {
        matches!(self.reader.get_mut().fill_buf(), Ok(rest) if rest.is_empty())
    }
}

#[cfg(test)]
mod tests;
