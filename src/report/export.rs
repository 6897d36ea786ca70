//! "Export everything": the files of every stored run in a time range, as the entries of one
//! ZIP archive ([`super::zip`]), each under its run folder's name
//! (`20261205T020000Z/report.html`). Only the list of files is built here; their bytes are
//! read while the archive streams out.

use std::path::Path;

use jiff::Timestamp;

use super::run_files;
use super::zip::Entry;
use crate::store::{Store, StoreError};

/// The runs of the range, and the files to archive.
#[derive(Debug, Default)]
pub struct Export {
    pub entries: Vec<Entry>,
    /// Runs in the range whose folder was found.
    pub runs: usize,
    /// Runs in the range whose report folder is no longer on disk (their database rows are
    /// still there).
    pub missing: Vec<i64>,
}

/// A range bound as people type it: an RFC 3339 time, or a UTC date `YYYY-MM-DD` (its start,
/// or with `end_of_day` the start of the next day, so `--to 2026-12-05` includes that day).
pub fn parse_bound(text: &str, end_of_day: bool) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| {
        format!("{text:?} is neither a date (2026-12-05) nor a UTC time (2026-12-05T08:00:00Z)")
    })?;
    // Dates past the ends of the time range mean "from the beginning" / "to the end".
    let start = |d: jiff::civil::Date| d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp());
    Ok(if end_of_day {
        date.tomorrow()
            .ok()
            .and_then(|d| start(d).ok())
            .unwrap_or(Timestamp::MAX)
    } else {
        start(date).unwrap_or(if date.year() < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
    })
}

/// The files of the runs that started in `[from, until)` (either end open), oldest first.
pub fn collect(
    store: &Store,
    out_dir: &Path,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Export, StoreError> {
    let mut runs = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_snapshots(256, cursor)?;
        let Some(last) = page.last() else { break };
        cursor = Some(last.id);
        runs.extend(page.into_iter().filter(|s| {
            from.is_none_or(|f| s.started_at >= f) && until.is_none_or(|u| s.started_at < u)
        }));
    }
    runs.reverse();
    let mut export = Export::default();
    for run in runs {
        let Some(dir) = run_files::locate(out_dir, run.id, run.started_at) else {
            export.missing.push(run.id);
            continue;
        };
        let folder = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        export.runs += 1;
        for name in run_files::FILES {
            let path = dir.join(name);
            if path.is_file() {
                export.entries.push(Entry {
                    name: format!("{folder}/{name}"),
                    path,
                    modified: run.finished_at,
                });
            }
        }
    }
    Ok(export)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_dates_or_times_and_saturate_at_the_ends() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(
            parse_bound("2026-12-05", false).unwrap(),
            t("2026-12-05T00:00:00Z")
        );
        assert_eq!(
            parse_bound("2026-12-05", true).unwrap(),
            t("2026-12-06T00:00:00Z")
        );
        assert_eq!(
            parse_bound("2026-12-05T08:00:00+01:00", true).unwrap(),
            t("2026-12-05T07:00:00Z")
        );
        assert_eq!(parse_bound("9999-12-31", true).unwrap(), Timestamp::MAX);
        assert_eq!(
            parse_bound("0000-01-01", false).unwrap(),
            t("0000-01-01T00:00:00Z")
        );
        assert!(parse_bound("yesterday", false).is_err());
        assert!(parse_bound("2026-02-30", false).is_err());
    }
}
