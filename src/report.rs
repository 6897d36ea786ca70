//! Rendering scans, deltas and alerts for people and tools: JSON (serde on the model), CSV, a
//! self-contained HTML page, terminal text and tables, and ndiff-style diff text.

pub mod alerts;
pub mod certificates;
pub mod csv;
pub mod deliveries;
pub mod delta_csv;
pub mod diff_text;
pub mod export;
pub mod html;
pub mod json;
pub mod run_files;
pub mod table;
pub mod text;
pub mod timeline;
pub mod zip;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::delta::Delta;
use crate::history::TimelineRow;
use crate::snapshot::Snapshot;

/// The files of one run, written into `dir` (which exists): `scan.json`, `delta.json`,
/// `delta.csv` and `report.html`.
pub fn write_run_files(
    dir: &Path,
    snapshot: &Snapshot,
    delta: &Delta,
    timeline: &[TimelineRow],
) -> io::Result<()> {
    write_file(&dir.join("scan.json"), |w| {
        json::write_snapshot(w, snapshot)
    })?;
    write_file(&dir.join("delta.json"), |w| json::write_delta(w, delta))?;
    write_file(&dir.join("delta.csv"), |w| delta_csv::write(w, delta))?;
    write_file(&dir.join("report.html"), |w| {
        w.write_all(html::run_report(snapshot, delta, timeline).as_bytes())
    })
}

/// Each file is replaced whole (temporary name, then rename): a full disk leaves the previous
/// file or none, never half of one.
fn write_file(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    crate::atomic_file::write(path, None, body)
}
