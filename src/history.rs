//! History: what the stored snapshots say over time. The one place that decides which earlier
//! snapshot a snapshot is compared with ([`delta_with_previous`]), and the timeline of counts,
//! scores and deltas behind `daily_scan history`, the report's chart and the dashboard. The
//! batch, the `report` command, the read API and the dashboard all call it, so they agree.
//!
//! Each run stores its delta in the transaction that saves it ([`save_with_delta`]); readers
//! use it while it holds (same previous snapshot, same severity table and `[[expect]]`: see
//! `stored.rs`), so a changed configuration is still reflected everywhere at once. Otherwise,
//! and for snapshots stored before SQLite V7 / PostgreSQL V4, the delta is recomputed from the stored hosts: one snapshot load per row,
//! oldest first, keeping only the latest of each profile in memory.

mod stored;

#[cfg(test)]
pub use stored::record;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::delta::{self, Band, Delta, DeltaConfig, DeltaStatus, Summary};
use crate::snapshot::entries::{self, EntryCount};
use crate::snapshot::{Snapshot, TargetRecord, parse_host_ip, technique};
use crate::store::{DeltaOf, SnapshotSummary, Store, StoreError};

/// How many timeline points the report chart and the dashboard draw.
pub const CHART_POINTS: usize = 30;

/// Snapshot `id` (loaded with the comparison columns only) and its delta against the latest
/// earlier snapshot of its technique (its profile, whatever its `--ports`), or a baseline when
/// there is none.
pub fn delta_with_previous(
    store: &Store,
    id: i64,
    delta_config: &DeltaConfig,
) -> Result<(Snapshot, Delta), StoreError> {
    let snapshot = store.load_snapshot_for_comparison(id)?;
    let delta = delta_of(store, id, &snapshot, delta_config)?;
    Ok((snapshot, delta))
}

/// Snapshot `id`'s delta against its previous snapshot, as [`delta_with_previous`] has it:
/// the stored one while it holds, else computed (loading both snapshots for comparison).
pub fn delta_of_id(
    store: &Store,
    id: i64,
    delta_config: &DeltaConfig,
) -> Result<Delta, StoreError> {
    match stored::delta(store, id, delta_config)? {
        Some(delta) => Ok(delta),
        None => delta_with_previous(store, id, delta_config).map(|(_, delta)| delta),
    }
}

/// [`delta_of_id`] as `delta.json` text (what the API sends): the stored text itself while it
/// holds, without reading it into a [`Delta`].
pub fn delta_json_of_id(
    store: &Store,
    id: i64,
    delta_config: &DeltaConfig,
) -> Result<String, StoreError> {
    if let Some(text) = stored::json(store, id, delta_config)? {
        return Ok(text);
    }
    let (_, delta) = delta_with_previous(store, id, delta_config)?;
    serde_json::to_string(&delta).map_err(|e| StoreError::Corrupt {
        db: store.name().to_string(),
        detail: format!("delta of snapshot {id}: {e}"),
    })
}

/// [`delta_with_previous`] for a snapshot the caller already holds: stored snapshot `id`, as
/// the run that saved it or a full load has it. The stored delta while it holds, else computed.
pub fn delta_of(
    store: &Store,
    id: i64,
    snapshot: &Snapshot,
    delta_config: &DeltaConfig,
) -> Result<Delta, StoreError> {
    if let Some(delta) = stored::delta(store, id, delta_config)? {
        return Ok(delta);
    }
    let previous = previous_snapshot(store, id, None)?;
    Ok(delta::compare(previous.as_ref(), snapshot, delta_config))
}

/// Up to `count` stored runs before snapshot `id` on its comparison line (each the one the
/// next is compared with), newest first, each with its delta against the run before it: what
/// `[alerts] gone_after_runs` counts a disappearance over.
pub fn earlier_runs(
    store: &Store,
    id: i64,
    count: usize,
    delta_config: &DeltaConfig,
) -> Result<Vec<(Snapshot, Delta)>, StoreError> {
    let mut snapshots = Vec::new();
    let mut cursor = id;
    // One more than `count`: the oldest run's delta needs the run before it.
    while snapshots.len() <= count {
        let Some(previous) = store.previous_snapshot_id(cursor)? else {
            break;
        };
        snapshots.push(store.load_snapshot_for_comparison(previous)?);
        cursor = previous;
    }
    let mut out = Vec::with_capacity(count);
    for i in 0..snapshots.len().min(count) {
        let d = delta::compare(snapshots.get(i + 1), &snapshots[i], delta_config);
        out.push((snapshots[i].clone(), d));
    }
    Ok(out)
}

/// The snapshot a run not yet saved will be compared with once it is (the latest stored one of
/// its technique), loaded for comparison: what its candidate changes are re-checked against.
pub fn previous_of_unsaved(store: &Store, run: &Snapshot) -> Result<Option<Snapshot>, StoreError> {
    store
        .latest_of_technique(technique(&run.profile), run.started_at)?
        .map(|id| store.load_snapshot_for_comparison(id))
        .transpose()
}

/// Per `targets.txt` entry of stored snapshot `id` (whose targets are `targets`): its up
/// hosts and open ports, as the dashboard's cards show them. Stored with the delta when the
/// snapshot was saved; else counted from its up hosts (one query, no port loaded).
pub fn entry_counts(
    store: &Store,
    id: i64,
    targets: &[TargetRecord],
) -> Result<BTreeMap<String, EntryCount>, StoreError> {
    if let Some(counts) = stored::entries(store, id)? {
        return Ok(counts);
    }
    let up_hosts: Vec<_> = store
        .up_hosts_open_ports(id)?
        .into_iter()
        .filter_map(|(ip, open)| Some((parse_host_ip(&ip)?, open)))
        .collect();
    Ok(entries::entry_counts(targets, &up_hosts))
}

/// Saves `snapshot` (a run's or an import's, not yet saved) and its delta against
/// `previous` (what [`previous_of_unsaved`] gives for it) in one transaction, so readers find
/// the delta stored from the moment the snapshot is visible. Sets `snapshot.id`; returns the
/// delta, as [`delta_of`] gives it for the saved snapshot.
pub fn save_with_delta(
    store: &mut Store,
    snapshot: &mut Snapshot,
    previous: Option<&Snapshot>,
    delta_config: &DeltaConfig,
) -> Result<(i64, Delta), StoreError> {
    let saved = save_delta_with(snapshot, previous, delta_config, |s, delta| {
        store.save_snapshot_with_delta(s, delta).map(Some)
    })?;
    let Some(saved) = saved else {
        unreachable!("a plain save returns its id")
    };
    Ok(saved)
}

/// [`save_with_delta`] for the finalize of sharded run `run_id`: the same transaction also
/// marks the run finalized. `None` (nothing saved) when it was finalized already.
pub fn save_finalized_with_delta(
    store: &mut Store,
    run_id: &str,
    snapshot: &mut Snapshot,
    previous: Option<&Snapshot>,
    delta_config: &DeltaConfig,
) -> Result<Option<(i64, Delta)>, StoreError> {
    save_delta_with(snapshot, previous, delta_config, |s, delta| {
        store.save_finalized(run_id, s, delta)
    })
}

/// Compares `snapshot` with `previous` and hands both to `save` (which gets the row maker
/// for the new id); sets `snapshot.id` when saved.
fn save_delta_with(
    snapshot: &mut Snapshot,
    previous: Option<&Snapshot>,
    delta_config: &DeltaConfig,
    save: impl FnOnce(&Snapshot, DeltaOf<'_>) -> Result<Option<i64>, StoreError>,
) -> Result<Option<(i64, Delta)>, StoreError> {
    snapshot.id = None;
    let mut delta = delta::compare(previous, snapshot, delta_config);
    let entries = entries::entry_counts(&snapshot.targets, &entries::up_hosts(snapshot));
    let saved = save(snapshot, &mut |id| {
        delta.to.snapshot = Some(id);
        stored::row_of(&delta, delta_config, &entries)
    })?;
    let Some(id) = saved else { return Ok(None) };
    snapshot.id = Some(id);
    Ok(Some((id, delta)))
}

/// The delta of stored snapshot `to` against stored snapshot `from` (any two; the delta says
/// why it did not compare them when their profiles differ), or a baseline without `from`.
pub fn delta_between(
    store: &Store,
    from: Option<i64>,
    to: i64,
    delta_config: &DeltaConfig,
) -> Result<Delta, StoreError> {
    let to = store.load_snapshot_for_comparison(to)?;
    let from = from
        .map(|id| store.load_snapshot_for_comparison(id))
        .transpose()?;
    Ok(delta::compare(from.as_ref(), &to, delta_config))
}

/// The snapshot `id` is compared with, loaded for comparison; `cached` is used when it is
/// that one (the timeline walks forward and keeps the last of each profile).
fn previous_snapshot(
    store: &Store,
    id: i64,
    cached: Option<Snapshot>,
) -> Result<Option<Snapshot>, StoreError> {
    let Some(previous_id) = store.previous_snapshot_id(id)? else {
        return Ok(None);
    };
    match cached.filter(|s| s.id == Some(previous_id)) {
        Some(s) => Ok(Some(s)),
        None => store.load_snapshot_for_comparison(previous_id).map(Some),
    }
}

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

/// Up to `limit` snapshots, newest first; only those of `profile`'s technique when given (a
/// run with another `--ports` stays on the same line); with `upto`, only that snapshot and
/// older ones.
pub fn timeline(
    store: &Store,
    limit: usize,
    profile: Option<&str>,
    upto: Option<i64>,
    delta_config: &DeltaConfig,
) -> Result<Vec<TimelineRow>, StoreError> {
    let mut rows: Vec<SnapshotSummary> = Vec::new();
    // Page through the listing until `limit` rows of the profile are found.
    let mut cursor = None;
    if let Some(id) = upto {
        let s = store.snapshot_summary(id)?;
        if profile.is_none_or(|p| technique(p) == technique(&s.profile)) {
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
                .filter(|s| profile.is_none_or(|p| technique(p) == technique(&s.profile))),
        );
    }
    rows.truncate(limit);

    let mut last_of_profile: HashMap<String, Snapshot> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for summary in rows.into_iter().rev() {
        if let Some((compared_with, head)) = stored::head(store, summary.id, delta_config)? {
            out.push(TimelineRow {
                snapshot: summary,
                score: head.score,
                band: head.band,
                compared_with,
                delta_status: head.status,
                changes: head.summary,
            });
            continue;
        }
        let snap = store.load_snapshot_for_comparison(summary.id)?;
        let cached = last_of_profile.remove(technique(&summary.profile));
        let previous = previous_snapshot(store, summary.id, cached)?;
        let d = delta::compare(previous.as_ref(), &snap, delta_config);
        out.push(TimelineRow {
            snapshot: summary.clone(),
            score: d.score.overall,
            band: d.score.band,
            compared_with: d.from.as_ref().and_then(|f| f.snapshot),
            delta_status: d.status,
            changes: d.summary,
        });
        last_of_profile.insert(technique(&summary.profile).to_string(), snap);
    }
    out.reverse();
    Ok(out)
}

#[cfg(test)]
mod tests;
