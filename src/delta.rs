//! Comparing two snapshots: what changed, how much it matters, and the security score.
//!
//! Pure: two [`Snapshot`]s in, a [`Delta`] out (serialised as `delta.json`). The rules are
//! those of `docs/ARCHITECTURE.md`, "Delta semantics":
//!
//! - Only addresses covered by a *completed* target in both snapshots are compared; a host
//!   absent from a completed target counts as down. Everything else is listed in
//!   `not_compared`, never reported as gone or closed.
//! - A host is its IP address (parsed, so textual IPv6 variants agree); a port is
//!   (ip, protocol, port). Only plain `open` is open.
//! - `reason`, TTL, `extrainfo`, `conf`, `method`, timing and scripts never count as changes.
//! - Symmetric to "a new host's open ports are opened", a gone host's open ports are
//!   `port_closed` (so alerts on them resolve).
//!
//! Choices not fixed by the design: `not_compared` reasons beyond the design's
//! (`previous_failed`, `previous_timeout`, `previous_unresolved` when only the earlier run
//! failed; `addresses_changed` when a target completed in both but resolved differently); a
//! baseline or a profile mismatch carries a `note`; the delta status ignores `not_compared`.

mod compare;
pub(crate) mod coverage;
pub(crate) mod index;
pub mod score;
pub mod severity;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{Port, Severity};
use crate::snapshot::Snapshot;
use index::Indexed;
pub use score::{Band, EntryScore, Score};
pub use severity::DeltaConfig;

/// `delta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// `None` for a baseline.
    pub from: Option<SnapshotRef>,
    pub to: SnapshotRef,
    pub status: DeltaStatus,
    /// Why nothing was compared (baseline, profile mismatch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The score of `to`.
    pub score: Score,
    pub summary: Summary,
    pub changes: Vec<Change>,
    pub not_compared: Vec<NotCompared>,
}

/// One side of a delta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRef {
    /// The store id; `None` for a snapshot read from an XML file.
    pub snapshot: Option<i64>,
    /// The XML file the side came from; the caller (`diff FILE.xml`) sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub started_at: Timestamp,
    pub profile: String,
}

impl SnapshotRef {
    pub fn of(s: &Snapshot) -> SnapshotRef {
        SnapshotRef {
            snapshot: s.id,
            file: None,
            started_at: s.started_at,
            profile: s.profile.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeltaStatus {
    /// A critical/high or unexpected port opened.
    Critical,
    /// Anything else changed.
    Changes,
    Stable,
}

impl DeltaStatus {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeltaStatus::Critical => "critical",
            DeltaStatus::Changes => "changes",
            DeltaStatus::Stable => "stable",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub new_hosts: usize,
    pub gone_hosts: usize,
    pub ports_opened: usize,
    pub ports_closed: usize,
    pub services_changed: usize,
    pub not_compared: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    NewHost,
    HostGone,
    PortOpened,
    PortClosed,
    ServiceChanged,
}

impl ChangeKind {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::NewHost => "new_host",
            ChangeKind::HostGone => "host_gone",
            ChangeKind::PortOpened => "port_opened",
            ChangeKind::PortClosed => "port_closed",
            ChangeKind::ServiceChanged => "service_changed",
        }
    }
}

/// One change. Host changes (`new_host`, `host_gone`) have no port fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub severity: Severity,
    pub ip: String,
    #[serde(flatten)]
    pub port: Option<PortChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortChange {
    pub protocol: String,
    pub port: u16,
    /// `None` where the port was not listed (or its host was not up).
    pub before: Option<PortView>,
    pub after: Option<PortView>,
    /// Open outside the host's expected ports (only on `port_opened`; key omitted when false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unexpected: bool,
}

/// The fields of a port a change is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortView {
    pub state: String,
    pub service: String,
    pub product: String,
    pub version: String,
}

impl PortView {
    pub fn of(p: &Port) -> PortView {
        PortView {
            state: p.state.clone(),
            service: p.service.name.clone(),
            product: p.service.product.clone(),
            version: p.service.version.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotCompared {
    pub target: String,
    pub reason: NotComparedReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotComparedReason {
    /// The target failed in the later snapshot.
    Failed,
    Timeout,
    Unresolved,
    /// The target completed now but failed in the earlier snapshot.
    PreviousFailed,
    PreviousTimeout,
    PreviousUnresolved,
    /// Only the later snapshot has the target.
    TargetAdded,
    /// Only the earlier snapshot has the target.
    TargetRemoved,
    /// Completed in both, but it stood for different addresses (a hostname re-resolved).
    AddressesChanged,
}

impl NotComparedReason {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NotComparedReason::Failed => "failed",
            NotComparedReason::Timeout => "timeout",
            NotComparedReason::Unresolved => "unresolved",
            NotComparedReason::PreviousFailed => "previous_failed",
            NotComparedReason::PreviousTimeout => "previous_timeout",
            NotComparedReason::PreviousUnresolved => "previous_unresolved",
            NotComparedReason::TargetAdded => "target_added",
            NotComparedReason::TargetRemoved => "target_removed",
            NotComparedReason::AddressesChanged => "addresses_changed",
        }
    }

    /// What the reason means, for people reading a report.
    pub fn explain(self) -> &'static str {
        match self {
            NotComparedReason::Failed => "the scan failed in this run",
            NotComparedReason::Timeout => "the scan timed out in this run",
            NotComparedReason::Unresolved => "the hostname did not resolve in this run",
            NotComparedReason::PreviousFailed => "the scan failed in the previous run",
            NotComparedReason::PreviousTimeout => "the scan timed out in the previous run",
            NotComparedReason::PreviousUnresolved => {
                "the hostname did not resolve in the previous run"
            }
            NotComparedReason::TargetAdded => "new target: nothing to compare with yet",
            NotComparedReason::TargetRemoved => "target no longer in the targets file",
            NotComparedReason::AddressesChanged => "the hostname now resolves to other addresses",
        }
    }
}

/// Compares `to` with `from` (the caller picks the latest earlier snapshot of the same
/// profile). `None` makes `to` a baseline: no changes, status stable, score still computed.
/// Snapshots of different profiles are not compared either (a different port set would make
/// ports look closed): the delta says so in `note`.
pub fn compare(from: Option<&Snapshot>, to: &Snapshot, delta_config: &DeltaConfig) -> Delta {
    let b = Indexed::new(to);
    let mut delta = Delta {
        from: from.map(SnapshotRef::of),
        to: SnapshotRef::of(to),
        status: DeltaStatus::Stable,
        note: None,
        score: score::score_indexed(&b, delta_config),
        summary: Summary::default(),
        changes: Vec::new(),
        not_compared: Vec::new(),
    };
    let Some(from) = from else {
        delta.note = Some(format!(
            "baseline: no earlier snapshot of profile {:?} to compare with",
            to.profile
        ));
        return delta;
    };
    if from.profile != to.profile {
        delta.note = Some(format!(
            "not compared: the earlier snapshot used profile {:?}, this one {:?}; \
             compare snapshots of the same profile",
            from.profile, to.profile
        ));
        return delta;
    }
    let a = Indexed::new(from);
    delta.changes = compare::changes(&a, &b, delta_config);
    delta.not_compared = compare::not_compared(&a, &b);
    delta.summary = Summary::of(&delta.changes, &delta.not_compared);
    delta.status = DeltaStatus::of(&delta.changes);
    delta
}

impl Summary {
    fn of(changes: &[Change], not_compared: &[NotCompared]) -> Summary {
        let count = |kind| changes.iter().filter(|c| c.kind == kind).count();
        Summary {
            new_hosts: count(ChangeKind::NewHost),
            gone_hosts: count(ChangeKind::HostGone),
            ports_opened: count(ChangeKind::PortOpened),
            ports_closed: count(ChangeKind::PortClosed),
            services_changed: count(ChangeKind::ServiceChanged),
            not_compared: not_compared.len(),
        }
    }
}

impl DeltaStatus {
    /// The status of a set of changes (also of the changes inside one `targets.txt` entry).
    pub fn of(changes: &[Change]) -> DeltaStatus {
        let alarming = |c: &Change| {
            c.kind == ChangeKind::PortOpened
                && (c.severity >= Severity::High || c.port.as_ref().is_some_and(|p| p.unexpected))
        };
        if changes.iter().any(alarming) {
            DeltaStatus::Critical
        } else if changes.is_empty() {
            DeltaStatus::Stable
        } else {
            DeltaStatus::Changes
        }
    }
}

#[cfg(test)]
mod tests;
