//! `daily_scan import FILE.xml...`: existing nmap output becomes snapshots.
//!
//! Coverage follows [`Snapshot::from_scan_result`]: only the hosts a file lists. A file whose
//! run ended in error (`exit="error"`) is stored, but every target in it is recorded as
//! failed (a snapshot with no targets gets one for the file itself), so it is never complete
//! and its silence is never compared as closures.

use std::path::Path;

use jiff::Timestamp;

use crate::delta::DeltaConfig;
use crate::history;
use crate::model::ScanResult;
use crate::nmap::xml::{self, XmlError};
use crate::snapshot::{Snapshot, SnapshotStatus, TargetRecord, TargetStatus};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: {source}", path.display())]
    Xml {
        path: std::path::PathBuf,
        #[source]
        source: XmlError,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// The snapshot of one parsed file; `source` names it (entry and target of its records).
pub fn snapshot_of(result: ScanResult, source: &str, profile: &str) -> Snapshot {
    let failed = (result.runstats.exit == "error").then(|| result.runstats.errormsg.clone());
    let mut s = Snapshot::from_scan_result_owned(result, source, profile, Timestamp::now());
    if let Some(errormsg) = failed {
        let error = match errormsg.trim() {
            "" => "nmap reported an error and no message".to_string(),
            m => format!("nmap reported an error: {m}"),
        };
        if s.targets.is_empty() {
            s.targets.push(TargetRecord {
                entry: source.to_string(),
                target: source.to_string(),
                status: TargetStatus::Failed,
                error: None,
                covers: Vec::new(),
            });
        }
        for t in &mut s.targets {
            t.status = TargetStatus::Failed;
            t.error = Some(error.clone());
        }
        s.status = SnapshotStatus::from_targets(&s.targets);
    }
    s
}

/// Parses `path` and saves it as a snapshot of `profile`, with its delta (computed with
/// `delta_config`) as a run's is; returns the saved snapshot.
pub fn import_file(
    store: &mut Store,
    path: &Path,
    profile: &str,
    delta_config: &DeltaConfig,
) -> Result<Snapshot, ImportError> {
    let result = xml::parse_file(path).map_err(|source| ImportError::Xml {
        path: path.to_path_buf(),
        source,
    })?;
    let mut s = snapshot_of(result, &path.display().to_string(), profile);
    let previous = history::previous_of_unsaved(store, &s)?;
    history::save_with_delta(store, &mut s, previous.as_ref(), delta_config)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    #[test]
    fn files_become_snapshots_and_an_error_run_is_never_complete() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("scans.db")).unwrap();
        let ok = import_file(
            &mut store,
            &fixture("loopback/sv_two_hosts.xml"),
            "imported",
            &DeltaConfig::default(),
        )
        .unwrap();
        assert_eq!(ok.status, SnapshotStatus::Complete);
        assert_eq!(store.load_snapshot(ok.id.unwrap()).unwrap().hosts, ok.hosts);

        let bad = import_file(
            &mut store,
            &fixture("loopback/error_exit.xml"),
            "imported",
            &DeltaConfig::default(),
        )
        .unwrap();
        assert_eq!(bad.status, SnapshotStatus::Failed);
        assert!(!bad.targets.is_empty());
        for t in &bad.targets {
            assert_eq!(t.status, TargetStatus::Failed);
            assert!(
                t.error
                    .as_deref()
                    .unwrap()
                    .starts_with("nmap reported an error")
            );
        }
        let listed = store.list_snapshots(10, None).unwrap();
        assert_eq!(listed.len(), 2);

        let err = import_file(
            &mut store,
            &fixture("peer/libnmap/libnmap__test__files__1_hosts_incomplete.xml"),
            "imported",
            &DeltaConfig::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("incomplete"), "{err}");
        assert_eq!(store.list_snapshots(10, None).unwrap().len(), 2);
    }
}
