//! `daily_scan export --zip FILE [--from DATE] [--to DATE]`: every stored run's four files in
//! the range as one ZIP archive, streamed from the report folders into `FILE.part` and renamed
//! to `FILE` when complete (an interrupted export leaves no half archive under the name).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use super::{CommandError, Outcome, emit, read_store_if_any};
use crate::config::Config;
use crate::report::export;
use crate::report::text::count;
use crate::report::zip::ZipReader;

#[derive(Debug, Clone)]
pub struct ExportCommand {
    pub zip: PathBuf,
    /// Runs started at or after (a date or an RFC 3339 time).
    pub from: Option<String>,
    /// Runs started before (a time), or on or before (a date).
    pub to: Option<String>,
}

pub fn export(
    config: &Config,
    command: &ExportCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let bound = |text: &Option<String>, flag: &str, end: bool| {
        text.as_deref()
            .map(|t| {
                export::parse_bound(t, end)
                    .map_err(|why| CommandError::Usage(format!("{flag}: {why}")))
            })
            .transpose()
    };
    let from = bound(&command.from, "--from", false)?;
    let to = bound(&command.to, "--to", true)?;
    let collected = match read_store_if_any(config)? {
        Some(store) => export::collect(&store, &config.output_dir, from, to)?,
        None => export::Export::default(),
    };
    let files = collected.entries.len();
    let part = part_path(&command.zip);
    let what = format!("writing {}", part.display());
    let write = || -> io::Result<()> {
        let mut w = BufWriter::new(File::create(&part)?);
        io::copy(&mut ZipReader::new(collected.entries), &mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&part, &command.zip)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&part);
        return Err(CommandError::io(what)(e));
    }
    let mut line = format!(
        "wrote {}: {}, {}",
        command.zip.display(),
        count(collected.runs as u64, "run"),
        count(files as u64, "file")
    );
    if !collected.missing.is_empty() {
        line.push_str(&format!(
            " ({} without a report folder on disk)",
            count(collected.missing.len() as u64, "run")
        ));
    }
    line.push('\n');
    emit(out, line.as_bytes())?;
    Ok(Outcome::Done)
}

fn part_path(path: &std::path::Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    path.with_file_name(name)
}
