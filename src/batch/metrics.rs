//! `daily_scan --metrics-file PATH`: the last run as Prometheus text exposition format, for
//! node_exporter's textfile collector (`--collector.textfile.directory`).
//!
//! The file is replaced atomically (a temporary file in the same directory, then `rename`), so
//! the collector never reads half a file. Every sample carries the run's `profile` label, so
//! runs of several profiles can write files of their own side by side. A run that stops with an
//! error before it saves a snapshot leaves the previous file as it was: alert on
//! `time() - daily_scan_last_run_timestamp_seconds`.

use std::fmt::Write as _;

use std::io::{self, Write};

use std::path::Path;

use crate::delta::{ChangeKind, Delta, DeltaConfig, DeltaStatus};
use crate::model::Severity;
use crate::snapshot::{Snapshot, SnapshotStatus, TargetStatus};

const CHANGE_KINDS: [ChangeKind; 5] = [
    ChangeKind::NewHost,
    ChangeKind::HostGone,
    ChangeKind::PortOpened,
    ChangeKind::PortClosed,
    ChangeKind::ServiceChanged,
];

const RUN_STATUSES: [SnapshotStatus; 3] = [
    SnapshotStatus::Complete,
    SnapshotStatus::Partial,
    SnapshotStatus::Failed,
];

const DELTA_STATUSES: [DeltaStatus; 4] = [
    DeltaStatus::Critical,
    DeltaStatus::Changes,
    DeltaStatus::Stable,
    DeltaStatus::Failed,
];

const TARGET_STATUSES: [TargetStatus; 4] = [
    TargetStatus::Completed,
    TargetStatus::Failed,
    TargetStatus::Timeout,
    TargetStatus::Unresolved,
];

/// Escapes a label value as the exposition format requires: `\` → `\\`, `"` → `\"`,
/// newline → `\n`.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Accumulates metric families, each with its `# HELP` and `# TYPE` line once.
struct Exposition {
    text: String,
    profile: String,
}

impl Exposition {
    fn family(&mut self, name: &str, help: &str) {
        // HELP text escapes only `\` and newline.
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} gauge");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let _ = write!(self.text, "{name}{{profile=\"{}\"", self.profile);
        for (key, val) in labels {
            let _ = write!(self.text, ",{key}=\"{}\"", escape_label(val));
        }
        let _ = writeln!(self.text, "}} {value}");
    }

    /// One sample per `status` label: 1 for the one that holds, 0 for the others.
    fn one_hot<const N: usize>(&mut self, name: &str, help: &str, statuses: [(&str, bool); N]) {
        self.family(name, help);
        for (status, on) in statuses {
            self.sample(name, &[("status", status)], f64::from(u8::from(on)));
        }
    }

    fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, help);
        self.sample(name, &[], value);
    }
}

/// The metrics of one finished run: its snapshot and its delta against the previous run.
/// Open ports are counted by their configured severity (`[port_severity]`).
pub fn render(snapshot: &Snapshot, delta: &Delta, delta_config: &DeltaConfig) -> String {
    let mut m = Exposition {
        text: String::new(),
        profile: escape_label(&snapshot.profile),
    };
    let seconds = |t: jiff::Timestamp| t.as_millisecond() as f64 / 1000.0;
    m.gauge(
        "daily_scan_last_run_timestamp_seconds",
        "Unix time the last daily_scan run finished.",
        seconds(snapshot.finished_at),
    );
    m.gauge(
        "daily_scan_last_run_duration_seconds",
        "Wall-clock seconds the last run spent scanning.",
        (seconds(snapshot.finished_at) - seconds(snapshot.started_at)).max(0.0),
    );
    if let Some(id) = snapshot.id {
        m.gauge(
            "daily_scan_last_run_snapshot_id",
            "Database id of the snapshot the last run saved.",
            id as f64,
        );
    }
    m.one_hot(
        "daily_scan_last_run_status",
        "1 for the last run's status (complete, partial, or failed: no target completed), 0 for the others.",
        RUN_STATUSES.map(|st| (st.as_str(), snapshot.status == st)),
    );
    m.one_hot(
        "daily_scan_delta_status",
        "1 for the last run's delta status (critical, changes, stable, failed), 0 for the others.",
        DELTA_STATUSES.map(|st| (st.as_str(), delta.status == st)),
    );
    m.family(
        "daily_scan_targets",
        "Targets of the last run by outcome (completed, failed, timeout, unresolved).",
    );
    for status in TARGET_STATUSES {
        let n = snapshot
            .targets
            .iter()
            .filter(|t| t.status == status)
            .count();
        m.sample(
            "daily_scan_targets",
            &[("status", status.as_str())],
            n as f64,
        );
    }
    m.gauge(
        "daily_scan_targets_failed",
        "Targets of the last run that did not complete (failed, timed out or unresolved).",
        snapshot.targets_failed() as f64,
    );
    m.gauge(
        "daily_scan_hosts_up",
        "Hosts up in the last run.",
        snapshot.hosts_up() as f64,
    );
    m.family(
        "daily_scan_open_ports",
        "Open ports on up hosts in the last run, by the port's configured severity.",
    );
    let mut by_severity = [0usize; Severity::ALL.len()];
    for port in snapshot
        .hosts
        .iter()
        .filter(|h| h.is_up())
        .flat_map(|h| h.open_ports())
    {
        by_severity[delta_config.severity_of(port.portid) as usize] += 1;
    }
    for (severity, n) in Severity::ALL.iter().zip(by_severity) {
        m.sample(
            "daily_scan_open_ports",
            &[("severity", severity.as_str())],
            n as f64,
        );
    }
    if let Some(score) = delta.score.overall {
        m.gauge(
            "daily_scan_security_score",
            "Security score of the last run, 0-100 (absent when no target completed).",
            f64::from(score),
        );
    }
    let entries: Vec<_> = delta
        .score
        .entries
        .iter()
        .filter_map(|e| e.score.map(|s| (e.entry.as_str(), s)))
        .collect();
    if !entries.is_empty() {
        m.family(
            "daily_scan_entry_security_score",
            "Security score per targets.txt entry (absent when none of its targets completed).",
        );
        for (entry, score) in entries {
            m.sample(
                "daily_scan_entry_security_score",
                &[("entry", entry)],
                f64::from(score),
            );
        }
    }
    m.family(
        "daily_scan_changes",
        "Changes found by the last run against the previous run of the profile, by kind.",
    );
    for kind in CHANGE_KINDS {
        let n = delta.changes.iter().filter(|c| c.kind == kind).count();
        m.sample("daily_scan_changes", &[("kind", kind.as_str())], n as f64);
    }
    m.gauge(
        "daily_scan_unconfirmed_changes",
        "Candidate changes of the last run that the confirmation re-check did not confirm \
         (flaps, not reported; summary.unconfirmed of delta.json).",
        delta.summary.unconfirmed as f64,
    );
    m.gauge(
        "daily_scan_not_compared_targets",
        "Targets the last run could not compare (failed now or before, added or removed).",
        delta.not_compared.len() as f64,
    );
    m.text
}

/// Replaces `path` with `text` atomically (see [`crate::atomic_file`]: new-only temporary file
/// under a random name, never following a symlink, not ending in `.prom` so the collector
/// skips it, then renamed over `path`). The file is mode 0644: node_exporter runs as another
/// user.
pub fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    crate::atomic_file::write(path, Some(0o644), |w| w.write_all(text.as_bytes()))
}

#[cfg(test)]
mod tests;
