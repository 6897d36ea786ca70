//! The `daily_scan` sub-commands, one file each (as cargo's `ops`): each takes its typed
//! options (plain structs: the bin turns its clap arguments into them) and the loaded
//! [`Config`](crate::config::Config), writes what it prints to `out`, and says how it ended
//! with an [`Outcome`] or a [`CommandError`]. Exit codes are the bin's business.
//!
//! The files below import this one (options, outcome, error, shared helpers), never the other
//! way round, and not each other.

pub mod alerts;
pub mod diff;
pub mod export;
pub mod history;
pub mod import;
pub mod migrate_store;
pub mod notify;
pub mod parse;
pub mod prune;
pub mod report;
pub mod run;

use std::io::{self, Write};
use std::path::PathBuf;

use crate::batch::BatchError;
use crate::batch::import::ImportError;
use crate::config::{Config, ConfigError};
use crate::delta::Delta;
use crate::diff::DiffError;
use crate::history::TimelineRow;
use crate::nmap::xml::XmlError;
use crate::report::{delta_csv, html, json, text};
use crate::snapshot::Snapshot;
use crate::store::{Store, StoreError};

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did what was asked (a diff: the two scans are the same).
    Done,
    /// A run whose targets all failed: no target completed.
    AllTargetsFailed,
    /// `diff`: the two scans differ.
    DiffFoundChanges,
    /// `--fail-on`: the run raised a new alert at least that severe.
    FailOnReached,
    /// `notify test` or `notify retry`: a destination did not take its message.
    NotDelivered,
}

/// Every way a command can fail.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Arguments that make no sense together, or nothing to do.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Batch(#[from] BatchError),
    #[error("{0}")]
    Diff(#[from] DiffError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Import(#[from] ImportError),
    /// `parse`: a file that is not (complete) nmap XML.
    #[error("{}: {source}", file.display())]
    Xml {
        file: PathBuf,
        #[source]
        source: XmlError,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

impl CommandError {
    /// Wraps an I/O error with what was being done (`rendering CSV`, a directory, ...).
    pub fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> CommandError {
        let what = what.into();
        move |source| CommandError::Io { what, source }
    }
}

/// What `run`, `report` and `diff` print: one snapshot's delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
    Csv,
    Html,
}

/// What `history` and `alerts` print: rows of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Text,
    Json,
    Csv,
}

/// Writes `bytes` (rendered whole beforehand, so a rendering error never leaves half a report)
/// and flushes.
fn emit(out: &mut dyn Write, bytes: &[u8]) -> Result<(), CommandError> {
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(CommandError::io("writing the output"))
}

/// `value` as pretty JSON and a newline.
fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CommandError> {
    let mut buf = serde_json::to_vec_pretty(value)
        .map_err(|e| CommandError::io("rendering JSON")(e.into()))?;
    buf.push(b'\n');
    Ok(buf)
}

/// The CSV that `write` renders.
fn csv_text(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> Result<Vec<u8>, CommandError> {
    let mut buf = Vec::new();
    write(&mut buf).map_err(CommandError::io("rendering CSV"))?;
    Ok(buf)
}

/// The database for reading; a missing file is an error, never created, and a PostgreSQL
/// database must already be at this binary's schema.
fn read_store(config: &Config) -> Result<Store, CommandError> {
    Ok(Store::connect_read_only(&config.database())?)
}

/// The database for reading, or `None` when no run has created it yet (a fresh install has
/// nothing to list, which is not an error). Only a SQLite file can be missing; a PostgreSQL
/// database that cannot be read is an error, as [`read_store`] says.
fn read_store_if_any(config: &Config) -> Result<Option<Store>, CommandError> {
    match Store::connect_read_only(&config.database()) {
        Ok(store) => Ok(Some(store)),
        Err(StoreError::Missing { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A snapshot and its delta in `format`: what `run`, `report` and `diff --format json|csv`
/// print.
fn render_delta(
    format: ReportFormat,
    snapshot: &Snapshot,
    delta: &Delta,
    timeline: &[TimelineRow],
) -> Result<Vec<u8>, CommandError> {
    let mut buf = Vec::new();
    match format {
        ReportFormat::Text => buf = text::summary(snapshot, delta).into_bytes(),
        ReportFormat::Json => {
            json::write_delta(&mut buf, delta).map_err(CommandError::io("rendering JSON"))?
        }
        ReportFormat::Csv => buf = csv_text(|w| delta_csv::write(w, delta))?,
        ReportFormat::Html => buf = html::run_report(snapshot, delta, timeline).into_bytes(),
    }
    Ok(buf)
}

#[cfg(test)]
mod tests;
