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
use crate::snapshot::{PortCoverage, Snapshot, Unconfirmed};
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
    /// Some targets of `to` were not compared (failed, timed out, unresolved, new, or failed
    /// the previous time): shown as `incomplete: N of M` beside the status. Omitted when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<Incomplete>,
    /// The score of `to`.
    pub score: Score,
    pub summary: Summary,
    pub changes: Vec<Change>,
    pub not_compared: Vec<NotCompared>,
    /// Candidate changes the confirmation re-check did not hold (flaps): not in `changes`.
    #[serde(default)]
    pub unconfirmed: Vec<Unconfirmed>,
}

/// `incomplete: N of M targets not compared`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incomplete {
    pub not_compared: usize,
    pub targets: usize,
}

impl Incomplete {
    /// `incomplete: N of M targets not compared`.
    pub fn text(self) -> String {
        format!(
            "incomplete: {} of {} targets not compared",
            self.not_compared, self.targets
        )
    }
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
    /// No target completed: nothing was scanned, so nothing is known (exit 1).
    Failed,
}

impl DeltaStatus {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeltaStatus::Critical => "critical",
            DeltaStatus::Changes => "changes",
            DeltaStatus::Stable => "stable",
            DeltaStatus::Failed => "failed",
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
    /// Candidate changes dropped because the re-check did not confirm them.
    #[serde(default)]
    pub unconfirmed: usize,
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
    /// The shard of a sharded run that held the target never finished (now / before).
    ShardMissing,
    PreviousShardMissing,
    /// Only the later snapshot has the target.
    TargetAdded,
    /// Only the earlier snapshot has the target.
    TargetRemoved,
    /// Completed in both, but it stood for different addresses (a hostname re-resolved).
    AddressesChanged,
    /// Ports one side scanned and the other did not (another `--ports`, another XML file).
    PortNotScannedInBoth,
    /// A candidate change past `[batch] confirm_max` that was not re-checked.
    Unconfirmed,
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
            NotComparedReason::ShardMissing => "shard_missing",
            NotComparedReason::PreviousShardMissing => "previous_shard_missing",
            NotComparedReason::TargetAdded => "target_added",
            NotComparedReason::TargetRemoved => "target_removed",
            NotComparedReason::AddressesChanged => "addresses_changed",
            NotComparedReason::PortNotScannedInBoth => "port_not_scanned_in_both",
            NotComparedReason::Unconfirmed => "unconfirmed",
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
            NotComparedReason::ShardMissing => {
                "shard missing: the shard that held it never finished this run"
            }
            NotComparedReason::PreviousShardMissing => {
                "shard missing: the shard that held it never finished the previous run"
            }
            NotComparedReason::TargetAdded => "new target: nothing to compare with yet",
            NotComparedReason::TargetRemoved => "target no longer in the targets file",
            NotComparedReason::AddressesChanged => "the hostname now resolves to other addresses",
            NotComparedReason::PortNotScannedInBoth => "port not scanned in both",
            NotComparedReason::Unconfirmed => {
                "a possible change past confirm_max: not re-checked this run"
            }
        }
    }
}

/// Compares `to` with `from` (the caller picks the latest earlier snapshot of the same
/// technique). `None` makes `to` a baseline: no changes, status stable, score still computed.
/// When both sides recorded which ports they scanned, only ports scanned on both are compared
/// (services only where both ran version detection) and the rest is listed as
/// `port_not_scanned_in_both`. Older snapshots without that record compare only with the same
/// profile (a different port set would make ports look closed): the delta says so in `note`.
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
        unconfirmed: Vec::new(),
        incomplete: None,
    };
    let Some(from) = from else {
        delta.note = Some(format!(
            "baseline: no earlier snapshot of profile {:?} to compare with",
            to.profile
        ));
        finish_status(&mut delta, to);
        return delta;
    };
    let ports = match (&from.scanned, &to.scanned) {
        (Some(x), Some(y)) => Some(x.intersect(y)),
        _ => None,
    };
    if ports.is_none() && from.profile != to.profile {
        delta.note = Some(format!(
            "not compared: the earlier snapshot used profile {:?}, this one {:?}; \
             compare snapshots of the same profile",
            from.profile, to.profile
        ));
        finish_status(&mut delta, to);
        return delta;
    }
    let a = Indexed::new(from);
    delta.changes = compare::changes(&a, &b, ports.as_ref(), delta_config);
    delta.not_compared = compare::not_compared(&a, &b);
    if let (Some(x), Some(y)) = (&from.scanned, &to.scanned) {
        delta.not_compared.extend(ports_not_compared(x, y));
        if ports.as_ref().is_some_and(PortCoverage::is_empty) {
            delta.note = Some("no port was scanned in both snapshots: only hosts compared".into());
        }
    }
    apply_unconfirmed(&mut delta, &to.unconfirmed);
    delta.summary = Summary::of(&delta.changes, &delta.not_compared, delta.unconfirmed.len());
    delta.status = DeltaStatus::of(&delta.changes);
    finish_status(&mut delta, to);
    delta
}

/// `failed` when no target of `to` completed; `incomplete` when some targets of `to` were not
/// compared (listed in `not_compared`, or failed in a baseline).
fn finish_status(delta: &mut Delta, to: &Snapshot) {
    let targets = to.targets.len();
    if targets > 0 && to.targets.iter().all(|t| !t.is_completed()) {
        delta.status = DeltaStatus::Failed;
    }
    let target_level = |r: NotComparedReason| {
        !matches!(
            r,
            NotComparedReason::PortNotScannedInBoth
                | NotComparedReason::Unconfirmed
                | NotComparedReason::TargetRemoved
        )
    };
    let listed = delta
        .not_compared
        .iter()
        .filter(|n| target_level(n.reason))
        .count();
    let not_compared = if delta.from.is_some() && delta.note.is_none() {
        listed
    } else {
        to.targets_failed()
    };
    if not_compared > 0 {
        delta.incomplete = Some(Incomplete {
            not_compared: not_compared.min(targets),
            targets,
        });
    }
}

/// The ports only one side scanned, one entry per side.
fn ports_not_compared(from: &PortCoverage, to: &PortCoverage) -> Vec<NotCompared> {
    let mut out = Vec::new();
    for (only, side) in [(from.minus(to), "earlier"), (to.minus(from), "later")] {
        if !only.is_empty() {
            out.push(NotCompared {
                target: format!("ports {only} (scanned only in the {side} run)"),
                reason: NotComparedReason::PortNotScannedInBoth,
            });
        }
    }
    if from.version_detection != to.version_detection && !(from.is_empty() || to.is_empty()) {
        out.push(NotCompared {
            target: "services (version detection ran on one side only)".into(),
            reason: NotComparedReason::PortNotScannedInBoth,
        });
    }
    out
}

/// Drops the changes the confirmation did not hold (the batch normally recorded the confirmed
/// state, so there are none) and lists them: re-checked flaps in `unconfirmed`, candidates past
/// `confirm_max` in `not_compared`.
fn apply_unconfirmed(delta: &mut Delta, list: &[Unconfirmed]) {
    let same = |c: &Change, u: &Unconfirmed| {
        c.kind.as_str() == u.kind
            && c.ip == u.ip
            && c.port.as_ref().map(|p| (p.protocol.as_str(), p.port))
                == u.protocol.as_deref().zip(u.port)
    };
    delta.changes.retain(|c| !list.iter().any(|u| same(c, u)));
    for u in list {
        if u.checked {
            delta.unconfirmed.push(u.clone());
        } else {
            let port = u.protocol.as_deref().zip(u.port);
            delta.not_compared.push(NotCompared {
                target: match port {
                    Some((proto, port)) => format!("{} {port}/{proto}", u.ip),
                    None => u.ip.clone(),
                },
                reason: NotComparedReason::Unconfirmed,
            });
        }
    }
}

impl Summary {
    fn of(changes: &[Change], not_compared: &[NotCompared], unconfirmed: usize) -> Summary {
        let count = |kind| changes.iter().filter(|c| c.kind == kind).count();
        Summary {
            new_hosts: count(ChangeKind::NewHost),
            gone_hosts: count(ChangeKind::HostGone),
            ports_opened: count(ChangeKind::PortOpened),
            ports_closed: count(ChangeKind::PortClosed),
            services_changed: count(ChangeKind::ServiceChanged),
            not_compared: not_compared.len(),
            unconfirmed,
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
