//! The commands called in-process, as the bin calls them (the bin's own behaviour, exit codes
//! included, is tested end to end in tests/integration).

use std::path::{Path, PathBuf};

use super::diff::{self, DiffCommand};
use super::history::{HistoryCommand, history};
use super::import::{ImportCommand, import};
use super::prune::{PruneCommand, prune};
use super::report::{ReportCommand, report};
use super::*;
use crate::diff::Side;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn config(dir: &tempfile::TempDir) -> Config {
    Config {
        output_dir: dir.path().join("out"),
        ..Config::default()
    }
}

fn printed(
    command: impl FnOnce(&mut dyn Write) -> Result<Outcome, CommandError>,
) -> (Outcome, String) {
    let mut out = Vec::new();
    let outcome = command(&mut out).unwrap();
    (outcome, String::from_utf8(out).unwrap())
}

#[test]
fn import_history_diff_report_and_prune_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir);
    let err = report(
        &config,
        &ReportCommand {
            id: None,
            format: ReportFormat::Text,
            out: None,
        },
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(matches!(err, CommandError::Store(_)), "{err}");

    // Two scans of the same 1000 ports (different port sets would only compare the overlap).
    let files = vec![
        fixture("peer/ndiff/random-1.xml"),
        fixture("peer/ndiff/random-2.xml"),
    ];
    let profile = "imported".to_string();
    let (outcome, text) = printed(|out| import(&config, &ImportCommand { files, profile }, out));
    assert_eq!(outcome, Outcome::Done);
    assert!(
        text.contains("random-1.xml: snapshot 1 (profile imported, complete)"),
        "{text}"
    );

    let command = HistoryCommand {
        limit: 10,
        profile: None,
        format: TableFormat::Csv,
    };
    let (_, text) = printed(|out| history(&config, &command, out));
    assert_eq!(
        text.lines().count(),
        3,
        "a header and two snapshots: {text}"
    );

    let command = DiffCommand {
        from: Side::Snapshot(1),
        to: Side::Snapshot(2),
        format: ReportFormat::Json,
    };
    let comparison = diff::compare(&config, &command).unwrap();
    let (outcome, _) = printed(|out| diff::write(&comparison, command.format, out));
    assert_eq!(outcome, Outcome::DiffFoundChanges);
    let (outcome, _) = printed(|out| diff::write(&comparison, ReportFormat::Text, out));
    assert_eq!(
        outcome,
        Outcome::DiffFoundChanges,
        "the format does not change it"
    );

    let command = ReportCommand {
        id: None,
        format: ReportFormat::Json,
        out: None,
    };
    let (_, text) = printed(|out| report(&config, &command, out));
    let delta: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(delta["summary"]["ports_opened"], 1, "{delta}");

    let err = prune(&config, &PruneCommand::default(), &mut Vec::new()).unwrap_err();
    assert!(matches!(err, CommandError::Usage(_)), "{err}");
    let command = PruneCommand { keep: Some(1) };
    let (_, text) = printed(|out| prune(&config, &command, out));
    assert_eq!(text, "deleted 1 snapshot\n");
}

#[test]
fn import_stores_each_delta_as_reading_would_compute_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir);
    std::fs::create_dir_all(&config.output_dir).unwrap();
    let files = vec![
        fixture("peer/ndiff/random-1.xml"),
        fixture("peer/ndiff/random-2.xml"),
    ];
    let profile = "imported".to_string();
    printed(|out| import(&config, &ImportCommand { files, profile }, out));
    let store = crate::store::Store::open(&config.database_path()).unwrap();
    let delta_config = crate::delta::DeltaConfig::from_config(&config);
    for (id, previous) in [(1, None), (2, Some(1))] {
        let row = store.delta_row(id).unwrap().expect("a stored delta");
        assert_eq!(row.compared_with, previous);
        let stored: crate::delta::Delta =
            serde_json::from_str(&store.delta_json(id).unwrap().unwrap()).unwrap();
        let computed = crate::history::delta_between(&store, previous, id, &delta_config).unwrap();
        assert_eq!(stored, computed);
    }
}
