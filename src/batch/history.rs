//! The timeline of stored snapshots: per snapshot its counts, security score and the delta
//! against its predecessor (same profile). Feeds `daily_scan history` and the report's chart.
//!
//! Scores and deltas are recomputed from the stored hosts (with the current severity table)
//! rather than stored, so a changed configuration is reflected everywhere at once. That costs
//! one snapshot load per row; snapshots are loaded oldest first and only the latest of each
//! profile is kept in memory.

use std::collections::HashMap;

use serde::Serialize;

use crate::delta::{self, Band, DeltaConfig, DeltaStatus, Summary};
use crate::snapshot::Snapshot;
use crate::store::{SnapshotSummary, Store, StoreError};

/// One snapshot in the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineRow {
    #[serde(flatten)]
    pub snapshot: SnapshotSummary,
    pub score: Option<u8>,
    pub band: Option<Band>,
    /// The snapshot it was compared with; `None` for a baseline.
    pub compared_with: Option<i64>,
    pub delta_status: DeltaStatus,
    pub changes: Summary,
}

/// Up to `limit` snapshots, newest first; only those of `profile` when given; with `upto`,
/// only that snapshot and older ones.
pub fn timeline(
    store: &Store,
    limit: usize,
    profile: Option<&str>,
    upto: Option<i64>,
    cfg: &DeltaConfig,
) -> Result<Vec<TimelineRow>, StoreError> {
    let mut rows: Vec<SnapshotSummary> = Vec::new();
    // Page through the listing until `limit` rows of the profile are found.
    let mut cursor = None;
    if let Some(id) = upto {
        let s = store.snapshot_summary(id)?;
        if profile.is_none_or(|p| p == s.profile) {
            rows.push(s);
        }
        cursor = Some(id);
    }
    while rows.len() < limit {
        let page = store.list_snapshots(256, cursor)?;
        let Some(last) = page.last() else { break };
        cursor = Some(last.id);
        rows.extend(
            page.into_iter()
                .filter(|s| profile.is_none_or(|p| p == s.profile)),
        );
    }
    rows.truncate(limit);

    let mut last_of_profile: HashMap<String, Snapshot> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for summary in rows.into_iter().rev() {
        let snap = store.load_snapshot_for_comparison(summary.id)?;
        let previous_id = store.previous_snapshot_id(summary.id)?;
        let cached = last_of_profile
            .remove(&summary.profile)
            .filter(|s| s.id == previous_id);
        let previous = match (cached, previous_id) {
            (Some(s), _) => Some(s),
            (None, Some(id)) => Some(store.load_snapshot_for_comparison(id)?),
            (None, None) => None,
        };
        let d = delta::compare(previous.as_ref(), &snap, cfg);
        out.push(TimelineRow {
            snapshot: summary.clone(),
            score: d.score.overall,
            band: d.score.band,
            compared_with: d.from.as_ref().and_then(|f| f.snapshot),
            delta_status: d.status,
            changes: d.summary,
        });
        last_of_profile.insert(summary.profile, snap);
    }
    out.reverse();
    Ok(out)
}
