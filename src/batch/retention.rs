//! Retention after a run (or `prune`): snapshots past `retention_days` or beyond the latest
//! `--keep N` of each profile, then their report folders.

use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use log::{info, warn};

use crate::report;
use crate::store::{Store, StoreError};

/// What retention removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Snapshots deleted from the database.
    pub snapshots: usize,
    /// Their report folders removed from `output_dir`.
    pub folders: Vec<PathBuf>,
    /// Folders that could not be removed, with the reason (the snapshots are gone anyway).
    pub failed: Vec<(PathBuf, String)>,
}

impl Pruned {
    /// One line for people: "deleted 2 snapshots and their 2 report folders".
    pub fn summary(&self) -> String {
        use crate::report::text::plural;
        let mut line = format!(
            "deleted {} snapshot{}",
            self.snapshots,
            plural(self.snapshots)
        );
        if !self.folders.is_empty() {
            line.push_str(&format!(
                " and {} report folder{} ({})",
                self.folders.len(),
                plural(self.folders.len()),
                self.folders
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for (dir, why) in &self.failed {
            line.push_str(&format!("; could not remove {}: {why}", dir.display()));
        }
        line
    }
}

/// Deletes snapshots past `retention_days` and beyond the latest `keep` of each profile,
/// VACUUMs when anything went, then removes the deleted runs' report folders under
/// `out_dir` (a folder that cannot be removed is reported, not fatal: the database is
/// already consistent).
pub fn retention(
    store: &mut Store,
    out_dir: &Path,
    retention_days: u32,
    keep: Option<usize>,
) -> Result<Pruned, StoreError> {
    let mut deleted = Vec::new();
    if retention_days > 0 {
        let age = SignedDuration::from_hours(24 * i64::from(retention_days));
        if let Ok(cutoff) = Timestamp::now().checked_sub(age) {
            deleted.extend(store.delete_older_than(cutoff)?);
        }
    }
    if let Some(n) = keep {
        deleted.extend(store.keep_latest(n)?);
    }
    let mut pruned = Pruned {
        snapshots: deleted.len(),
        ..Pruned::default()
    };
    if deleted.is_empty() {
        return Ok(pruned);
    }
    store.vacuum()?;
    for d in &deleted {
        let Some(dir) = report::run_files::locate(out_dir, d.id, d.started_at) else {
            continue;
        };
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => pruned.folders.push(dir),
            Err(e) => {
                warn!("retention: cannot remove {}: {e}", dir.display());
                pruned.failed.push((dir, e.to_string()));
            }
        }
    }
    info!(
        "retention: deleted {} snapshots (database vacuumed) and {} report folders",
        pruned.snapshots,
        pruned.folders.len()
    );
    Ok(pruned)
}
