//! `daily_scan parse`: existing nmap XML rendered as the API's per-host JSON, as JSON lines (one
//! host a line), or as CSV with one row per open port (the nmap-formatter role). Needs no
//! configuration.
//!
//! Streamed: each host is written as the parser hands it over, through one buffered writer, so
//! memory does not grow with the file (a 415 MB file needs a few MB). The output of a file is
//! therefore written before the file has been read to its end: when a file turns out to be
//! incomplete or malformed, what was already written stays (JSON then lacks its closing
//! brackets) and the command ends with the error. Output that still fits the write buffer
//! (1 MiB) when the error comes is never written at all.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{CommandError, Outcome};
use crate::model::HostReport;
use crate::model::ScanResult;
use crate::nmap::xml::{self, XmlError};
use crate::report::{csv, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseFormat {
    /// One array of files, each with its hosts (pretty-printed).
    Json,
    /// One compact JSON object per host and line, with the file it came from.
    Jsonl,
    Csv,
}

#[derive(Debug, Clone)]
pub struct ParseCommand {
    /// nmap XML files (`nmap -oX`).
    pub files: Vec<PathBuf>,
    pub format: ParseFormat,
    /// The output is a terminal: CSV cells go through [`crate::report::text::clean`] (escape
    /// sequences, bidi overrides and zero-width characters shown as escapes).
    pub terminal: bool,
}

/// Size of the write buffer: output smaller than this is written only once every file parsed.
const WRITE_BUFFER: usize = 1 << 20;

/// Parses the files in order, writing each host as it is read.
pub fn parse(command: &ParseCommand, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, out);
    let written = write_files(command, &mut out);
    match written {
        Ok(()) => out
            .flush()
            .map_err(CommandError::io("writing the output"))?,
        // What is still buffered is dropped unwritten.
        Err(_) => drop(out.into_parts()),
    }
    written.map(|()| Outcome::Done)
}

fn write_files<W: Write>(command: &ParseCommand, out: &mut W) -> Result<(), CommandError> {
    let io = |e| CommandError::io("writing the output")(e);
    match command.format {
        ParseFormat::Json => out.write_all(b"[").map_err(&io)?,
        ParseFormat::Csv => csv::write_record(out, &CSV_HEADER).map_err(&io)?,
        ParseFormat::Jsonl => {}
    }
    for (i, path) in command.files.iter().enumerate() {
        let label = path.display().to_string();
        match command.format {
            ParseFormat::Json => {
                out.write_all(if i == 0 { b"\n" } else { b",\n" })
                    .map_err(&io)?;
                let mut json = JsonFile::start(out, &label).map_err(&io)?;
                let result = stream_file(path, |h| json.host(out, h))?;
                json.finish(out, &result).map_err(&io)?;
            }
            ParseFormat::Jsonl => {
                let mut line = Vec::new();
                stream_file(path, |h| write_jsonl(out, &mut line, &label, h))?;
            }
            ParseFormat::Csv => {
                stream_file(path, |h| write_csv_host(out, &label, h, command.terminal))?;
            }
        }
    }
    match command.format {
        ParseFormat::Json if command.files.is_empty() => out.write_all(b"]\n"),
        ParseFormat::Json => out.write_all(b"\n]\n"),
        _ => Ok(()),
    }
    .map_err(io)
}

/// Streams one file, handing each host's flat view to `on_host`; the first write error stops
/// the writing (the parse still runs to the end, then the error is returned).
fn stream_file(
    path: &Path,
    mut on_host: impl FnMut(&HostReport) -> std::io::Result<()>,
) -> Result<ScanResult, CommandError> {
    let failed = |source| CommandError::Xml {
        file: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|source| {
        failed(XmlError::Open {
            path: path.to_path_buf(),
            source,
        })
    })?;
    let mut write_error = None;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let result = xml::parse_reader(reader, |host| {
        if write_error.is_none()
            && let Err(e) = on_host(&HostReport::from(&host))
        {
            write_error = Some(e);
        }
    })
    .map_err(failed)?;
    match write_error {
        Some(e) => Err(CommandError::io("writing the output")(e)),
        None => Ok(result),
    }
}

/// One file of `--format json`, written as its hosts come: `file`, then `hosts`, then what the
/// parser returns at the end of the file (`nmap_version`, `args`, `start`, `end`, `hosts_up`,
/// `hosts_down`).
struct JsonFile {
    hosts: usize,
    scratch: Vec<u8>,
}

/// Indentation of a host object inside `[ { "hosts": [ ... ] } ]`.
const HOST_INDENT: &[u8] = b"      ";

impl JsonFile {
    fn start<W: Write>(out: &mut W, file: &str) -> std::io::Result<Self> {
        out.write_all(b"  {\n    \"file\": ")?;
        serde_json::to_writer(&mut *out, file)?;
        out.write_all(b",\n    \"hosts\": [")?;
        Ok(JsonFile {
            hosts: 0,
            scratch: Vec::with_capacity(4096),
        })
    }

    fn host<W: Write>(&mut self, out: &mut W, host: &HostReport) -> std::io::Result<()> {
        out.write_all(if self.hosts == 0 { b"\n" } else { b",\n" })?;
        self.hosts += 1;
        self.scratch.clear();
        serde_json::to_writer_pretty(&mut self.scratch, host)?;
        // Pretty JSON has raw newlines only between tokens (strings escape theirs).
        out.write_all(HOST_INDENT)?;
        for (i, line) in self.scratch.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                out.write_all(b"\n")?;
                out.write_all(HOST_INDENT)?;
            }
            out.write_all(line)?;
        }
        Ok(())
    }

    fn finish<W: Write>(&self, out: &mut W, result: &ScanResult) -> std::io::Result<()> {
        if self.hosts > 0 {
            out.write_all(b"\n    ")?;
        }
        out.write_all(b"],\n    \"nmap_version\": ")?;
        serde_json::to_writer(&mut *out, &result.nmap_version)?;
        out.write_all(b",\n    \"args\": ")?;
        serde_json::to_writer(&mut *out, &result.args)?;
        out.write_all(b",\n    \"start\": ")?;
        serde_json::to_writer(&mut *out, &result.start)?;
        out.write_all(b",\n    \"end\": ")?;
        serde_json::to_writer(&mut *out, &result.end)?;
        write!(
            out,
            ",\n    \"hosts_up\": {},\n    \"hosts_down\": {}\n  }}",
            result.runstats.hosts_up, result.runstats.hosts_down
        )
    }
}

/// One `--format jsonl` line: the host's flat view with the file it came from.
fn write_jsonl<W: Write>(
    out: &mut W,
    line: &mut Vec<u8>,
    file: &str,
    host: &HostReport,
) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct Line<'a> {
        file: &'a str,
        #[serde(flatten)]
        host: &'a HostReport,
    }
    line.clear();
    serde_json::to_writer(&mut *line, &Line { file, host })?;
    line.push(b'\n');
    out.write_all(line)
}

pub const CSV_HEADER: [&str; 11] = [
    "file",
    "ip",
    "hostname",
    "host_state",
    "protocol",
    "port",
    "state",
    "service",
    "product",
    "version",
    "cpe",
];

/// One row per open port of `host`, under [`CSV_HEADER`].
/// One row per open port; `terminal`: cells made terminal-safe.
fn write_csv_host<W: Write>(
    out: &mut W,
    file: &str,
    h: &HostReport,
    terminal: bool,
) -> std::io::Result<()> {
    let cell = |s: &str| -> String {
        if terminal {
            text::clean(s).into_owned()
        } else {
            s.to_string()
        }
    };
    for p in &h.open_ports {
        let port = p.port.to_string();
        let cpe = p.cpe.join(" ");
        let row = [
            file,
            &h.ip,
            h.hostname.as_deref().unwrap_or(""),
            &h.host_state,
            &p.protocol,
            &port,
            &p.state,
            &p.service,
            &p.product,
            &p.version,
            &cpe,
        ]
        .map(cell);
        csv::write_record(out, &row)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel)
    }

    fn run(files: &[&str], format: ParseFormat) -> Result<Vec<u8>, CommandError> {
        let command = ParseCommand {
            files: files.iter().map(|f| fixture(f)).collect(),
            format,
            terminal: false,
        };
        let mut out = Vec::new();
        parse(&command, &mut out).map(|_| out)
    }

    const SIMPLE: &str = "peer/ndiff/simple.xml";
    const TWO: &str = "loopback/sv_two_hosts.xml";

    /// The streamed JSON holds what the whole parse holds, for every file.
    #[test]
    fn json_is_the_whole_parse_of_each_file() {
        let out = run(&[SIMPLE, TWO], ParseFormat::Json).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let files = json.as_array().unwrap();
        assert_eq!(files.len(), 2);
        for (value, rel) in files.iter().zip([SIMPLE, TWO]) {
            let whole = xml::parse_file(&fixture(rel)).unwrap();
            let hosts: Vec<HostReport> = whole.hosts.iter().map(HostReport::from).collect();
            assert_eq!(value["file"], fixture(rel).display().to_string());
            assert_eq!(value["hosts"], serde_json::to_value(&hosts).unwrap());
            assert_eq!(value["nmap_version"], whole.nmap_version);
            assert_eq!(value["args"], whole.args);
            assert_eq!(value["start"], serde_json::json!(whole.start));
            assert_eq!(value["end"], serde_json::json!(whole.end));
            assert_eq!(value["hosts_up"], whole.runstats.hosts_up);
            assert_eq!(value["hosts_down"], whole.runstats.hosts_down);
        }
    }

    #[test]
    fn json_of_no_host_is_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.xml");
        std::fs::write(
            &path,
            r#"<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap" start="1" version="7.93"><runstats><finished time="2" exit="success"/><hosts up="0" down="1" total="1"/></runstats></nmaprun>"#,
        )
        .unwrap();
        let command = ParseCommand {
            files: vec![path],
            format: ParseFormat::Json,
            terminal: false,
        };
        let mut out = Vec::new();
        parse(&command, &mut out).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json[0]["hosts"], serde_json::json!([]));
        assert_eq!(json[0]["hosts_down"], 1);
    }

    #[test]
    fn jsonl_has_one_host_a_line_with_its_file() {
        let out = run(&[SIMPLE, TWO], ParseFormat::Jsonl).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut expected = 0;
        for rel in [SIMPLE, TWO] {
            expected += xml::parse_file(&fixture(rel)).unwrap().hosts.len();
        }
        assert_eq!(text.lines().count(), expected);
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["file"], fixture(TWO).display().to_string());
        assert!(
            last["ip"].is_string() && last["open_ports"].is_array(),
            "{last}"
        );
    }

    #[test]
    fn csv_has_one_row_per_open_port() {
        let whole = xml::parse_file(&fixture(SIMPLE)).unwrap();
        let open: usize = whole
            .hosts
            .iter()
            .map(|h| HostReport::from(h).open_ports.len())
            .sum();
        let text = String::from_utf8(run(&[SIMPLE], ParseFormat::Csv).unwrap()).unwrap();
        assert_eq!(text.lines().count(), 1 + open);
        assert!(text.starts_with("file,ip,hostname,host_state,protocol,port,"));
    }

    #[test]
    fn incomplete_file_is_an_error_naming_the_file_and_small_output_is_not_written() {
        let bad = "peer/libnmap/libnmap__test__files__1_hosts_incomplete.xml";
        for format in [ParseFormat::Json, ParseFormat::Jsonl, ParseFormat::Csv] {
            let command = ParseCommand {
                files: vec![fixture(SIMPLE), fixture(bad)],
                format,
                terminal: false,
            };
            let mut out = Vec::new();
            let err = parse(&command, &mut out).unwrap_err().to_string();
            assert!(err.contains("1_hosts_incomplete.xml"), "{err}");
            assert!(err.contains("incomplete"), "{err}");
            assert!(out.is_empty(), "{format:?}: nothing half-written");
        }
    }

    /// Issue 14, row 8: `parse --format csv` on a terminal shows hostile hostnames and
    /// banners as escapes; to a file or pipe the cells stay as scanned (CSV-quoted).
    #[test]
    fn csv_on_a_terminal_escapes_hostile_cells() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hostile.xml");
        std::fs::write(
            &path,
            "<nmaprun version=\"7.93\" args=\"nmap\" start=\"1795281612\">\
             <host><status state=\"up\"/><address addr=\"127.0.0.4\" addrtype=\"ipv4\"/>\
             <hostnames><hostname name=\"a&#x1b;[2Jb\u{202E}c\u{200D}\" type=\"PTR\"/></hostnames>\
             <ports><port protocol=\"tcp\" portid=\"22\"><state state=\"open\"/>\
             <service name=\"ssh\" product=\"x&#x1b;]0;t&#x7;\u{2066}\"/></port></ports></host>\
             <runstats><finished time=\"1795281613\" exit=\"success\"/>\
             <hosts up=\"1\" down=\"0\" total=\"1\"/></runstats></nmaprun>\n",
        )
        .unwrap();
        let output = |terminal: bool| {
            let command = ParseCommand {
                files: vec![path.clone()],
                format: ParseFormat::Csv,
                terminal,
            };
            let mut out = Vec::new();
            parse(&command, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let text = output(true);
        for raw in ['\u{1b}', '\u{7}', '\u{202E}', '\u{200D}', '\u{2066}'] {
            assert!(!text.contains(raw), "{raw:?} in {text:?}");
        }
        assert!(text.contains("a\\u{1b}[2Jb\\u{202e}c\\u{200d}"), "{text}");
        assert!(output(false).contains('\u{202E}'));
    }
}
