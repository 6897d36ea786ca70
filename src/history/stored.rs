//! Deltas stored when their run commits, and when a stored one still holds.
//!
//! A stored delta is used only when the reader would compute the same one: it was compared
//! with the snapshot [`super::delta_with_previous`] picks today (an import of an older file or
//! retention can change that) and computed with the same severity table and `[[expect]]`
//! (a fingerprint of [`DeltaConfig`]). Otherwise, or when there is none (snapshots stored
//! before schema V7), the caller computes it as before.

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::delta::{Band, Delta, DeltaConfig, DeltaStatus, Summary};
use crate::snapshot::entries::EntryCount;
use crate::store::{DeltaRow, NewDelta, Store, StoreError};

/// What a timeline row takes from a delta (the `head` column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Head {
    pub status: DeltaStatus,
    pub score: Option<u8>,
    pub band: Option<Band>,
    pub summary: Summary,
}

/// A fingerprint of everything in `config` a delta depends on: FNV-1a of its debug text
/// (ordered maps and lists only, so equal configurations print alike).
fn fingerprint(config: &DeltaConfig) -> String {
    let text = format!("{config:?}");
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The stored form of `delta` (computed with `config`) of a snapshot whose per-entry counts
/// are `entries`: its row, `delta.json` text and the counts' JSON; `None` when it cannot be
/// written as JSON (not reachable with these types; it is then computed on read).
pub(super) fn row_of(
    delta: &Delta,
    config: &DeltaConfig,
    entries: &BTreeMap<String, EntryCount>,
) -> Option<NewDelta> {
    let head = Head {
        status: delta.status,
        score: delta.score.overall,
        band: delta.score.band,
        summary: delta.summary.clone(),
    };
    let (Ok(head), Ok(json), Ok(entries)) = (
        serde_json::to_string(&head),
        serde_json::to_string(delta),
        serde_json::to_string(entries),
    ) else {
        log::warn!("cannot serialise a delta; it is computed on read");
        return None;
    };
    let row = DeltaRow {
        compared_with: delta.from.as_ref().and_then(|f| f.snapshot),
        config: fingerprint(config),
        head,
    };
    Some(NewDelta { row, json, entries })
}

/// Tests: stores `delta` as snapshot `id`'s, replacing what its save stored (to doctor one).
#[cfg(test)]
pub fn record(store: &Store, id: i64, delta: &Delta, config: &DeltaConfig) {
    let new = row_of(delta, config, &BTreeMap::new()).unwrap();
    store.test_replace_delta(id, &new.row, &new.json);
}

/// Snapshot `id`'s stored row when it still holds for `config`.
fn valid_row(store: &Store, id: i64, config: &DeltaConfig) -> Result<Option<DeltaRow>, StoreError> {
    let Some(row) = store.delta_row(id)? else {
        return Ok(None);
    };
    if row.config != fingerprint(config) || row.compared_with != store.previous_snapshot_id(id)? {
        return Ok(None);
    }
    Ok(Some(row))
}

/// The stored timeline facts of snapshot `id` (and what it was compared with), when they hold.
pub(super) fn head(
    store: &Store,
    id: i64,
    config: &DeltaConfig,
) -> Result<Option<(Option<i64>, Head)>, StoreError> {
    Ok(valid_row(store, id, config)?.and_then(|row| {
        let head = serde_json::from_str(&row.head).ok()?;
        Some((row.compared_with, head))
    }))
}

/// The stored `delta.json` text of snapshot `id`, when it holds.
pub(super) fn json(
    store: &Store,
    id: i64,
    config: &DeltaConfig,
) -> Result<Option<String>, StoreError> {
    match valid_row(store, id, config)? {
        Some(_) => store.delta_json(id),
        None => Ok(None),
    }
}

/// The stored delta of snapshot `id`, when it holds (and reads back).
pub(super) fn delta(
    store: &Store,
    id: i64,
    config: &DeltaConfig,
) -> Result<Option<Delta>, StoreError> {
    Ok(json(store, id, config)?.and_then(|text| serde_json::from_str(&text).ok()))
}

/// Snapshot `id`'s stored per-entry counts. They depend on the snapshot alone (never on what
/// it is compared with or the configuration), so they hold as long as the row exists.
pub(super) fn entries(
    store: &Store,
    id: i64,
) -> Result<Option<BTreeMap<String, EntryCount>>, StoreError> {
    Ok(store
        .delta_entries(id)?
        .and_then(|text| serde_json::from_str(&text).ok()))
}
