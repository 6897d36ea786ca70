//! `daily_scan parse`: existing nmap XML rendered as the API's per-host JSON, or as CSV with one
//! row per open port (the nmap-formatter role). Needs no configuration.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{CommandError, Outcome};
use crate::model::HostReport;
use crate::nmap::xml::{self, XmlError};
use crate::report::{csv, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseFormat {
    Json,
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

/// One parsed file, in the shape `parse --format json` prints.
#[derive(Debug, Serialize)]
pub struct ParsedFile {
    pub file: PathBuf,
    pub nmap_version: String,
    pub args: String,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub hosts_up: u32,
    pub hosts_down: u32,
    pub hosts: Vec<HostReport>,
}

/// Every file is parsed before anything is printed, so an incomplete file never leaves half a
/// report on `out`. The output is then streamed, not held whole in memory.
pub fn parse(command: &ParseCommand, mut out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let files = parse_files(&command.files)?;
    match command.format {
        ParseFormat::Json => write_json(&mut out, &files),
        ParseFormat::Csv => write_csv(&mut out, &files, command.terminal),
    }
    .and_then(|()| out.flush())
    .map_err(CommandError::io("writing the output"))?;
    Ok(Outcome::Done)
}

/// Streams one file host by host, keeping only the flat view (far smaller than the full model,
/// so a 400 MB file does not need gigabytes).
pub fn parse_file(path: &Path) -> Result<ParsedFile, CommandError> {
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
    let mut hosts = Vec::new();
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let result =
        xml::parse_reader(reader, |host| hosts.push(HostReport::from(&host))).map_err(failed)?;
    Ok(ParsedFile {
        file: path.to_path_buf(),
        nmap_version: result.nmap_version,
        args: result.args,
        start: result.start,
        end: result.end,
        hosts_up: result.runstats.hosts_up,
        hosts_down: result.runstats.hosts_down,
        hosts,
    })
}

pub fn parse_files(paths: &[PathBuf]) -> Result<Vec<ParsedFile>, CommandError> {
    paths.iter().map(|p| parse_file(p)).collect()
}

pub fn write_json<W: Write>(out: &mut W, files: &[ParsedFile]) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, files)?;
    writeln!(out)
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

/// One row per open port, under [`CSV_HEADER`]; `terminal`: cells made terminal-safe.
pub fn write_csv<W: Write>(
    out: &mut W,
    files: &[ParsedFile],
    terminal: bool,
) -> std::io::Result<()> {
    csv::write_record(out, &CSV_HEADER)?;
    let cell = |s: &str| -> String {
        if terminal {
            text::clean(s).into_owned()
        } else {
            s.to_string()
        }
    };
    for f in files {
        let file = f.file.display().to_string();
        for h in &f.hosts {
            for p in &h.open_ports {
                let port = p.port.to_string();
                let cpe = p.cpe.join(" ");
                let row = [
                    file.as_str(),
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
        }
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

    #[test]
    fn csv_has_one_row_per_open_port() {
        let files = parse_files(&[fixture("peer/ndiff/simple.xml")]).unwrap();
        let open: usize = files[0].hosts.iter().map(|h| h.open_ports.len()).sum();
        let mut out = Vec::new();
        write_csv(&mut out, &files, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1 + open);
        assert!(text.starts_with("file,ip,hostname,host_state,protocol,port,"));
    }

    #[test]
    fn incomplete_file_is_an_error_naming_the_file() {
        let path = fixture("peer/libnmap/libnmap__test__files__1_hosts_incomplete.xml");
        let err = parse_files(&[path]).unwrap_err().to_string();
        assert!(err.contains("1_hosts_incomplete.xml"), "{err}");
        assert!(err.contains("incomplete"), "{err}");
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
        let files = parse_files(&[path]).unwrap();
        let mut out = Vec::new();
        write_csv(&mut out, &files, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        for raw in ['\u{1b}', '\u{7}', '\u{202E}', '\u{200D}', '\u{2066}'] {
            assert!(!text.contains(raw), "{raw:?} in {text:?}");
        }
        assert!(text.contains("a\\u{1b}[2Jb\\u{202e}c\\u{200d}"), "{text}");
        let mut raw = Vec::new();
        write_csv(&mut raw, &files, false).unwrap();
        assert!(String::from_utf8(raw).unwrap().contains('\u{202E}'));
    }
}
