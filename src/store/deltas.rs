//! Stored deltas: each snapshot's comparison with its previous one, written in the
//! transaction that saves the snapshot (SQLite schema V7, PostgreSQL V4). The store keeps
//! the texts; [`crate::history`] decides what they mean and whether they still hold.

use super::{Store, StoreError};
use crate::snapshot::Snapshot;

/// One `snapshot_deltas` row without the delta itself: JSON texts the history layer writes
/// and reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaRow {
    /// The snapshot it was compared with; `None` for a baseline.
    pub compared_with: Option<i64>,
    /// Fingerprint of the configuration the delta was computed with.
    pub config: String,
    /// What a timeline row needs, as JSON.
    pub head: String,
}

/// What a run stores beside its snapshot: the row, the whole `delta.json`, and the JSON of the
/// snapshot's per-entry host and open-port counts (what the dashboard's cards show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelta {
    pub row: DeltaRow,
    pub json: String,
    pub entries: String,
}

/// Makes a snapshot's [`NewDelta`] once its id is known (inside the transaction that saves
/// it); `None` stores none (readers then compute it).
pub type DeltaOf<'a> = &'a mut dyn FnMut(i64) -> Option<NewDelta>;

impl Store {
    /// [`Store::save_snapshot`] with the snapshot's delta, written in the same transaction:
    /// a reader never sees the one without the other.
    pub fn save_snapshot_with_delta(
        &mut self,
        s: &Snapshot,
        delta: DeltaOf<'_>,
    ) -> Result<i64, StoreError> {
        self.db.save_snapshot(s, Some(delta))
    }

    /// Snapshot `id`'s stored delta row without the delta itself, if any.
    pub fn delta_row(&self, id: i64) -> Result<Option<DeltaRow>, StoreError> {
        self.db.delta_row(id)
    }

    /// Snapshot `id`'s stored `delta.json` text, if any.
    pub fn delta_json(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.db.delta_json(id)
    }

    /// Snapshot `id`'s stored per-entry counts (JSON), if any.
    pub fn delta_entries(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.db.delta_entries(id)
    }

    /// Tests: replaces snapshot `id`'s stored delta (plain SQL both backends read alike).
    #[cfg(test)]
    pub(crate) fn test_replace_delta(&self, id: i64, row: &DeltaRow, json: &str) {
        let text = |t: &str| format!("'{}'", t.replace('\'', "''"));
        let compared = row
            .compared_with
            .map_or("NULL".to_string(), |c| c.to_string());
        self.test_execute(&format!(
            "DELETE FROM snapshot_deltas WHERE snapshot_id = {id};
             INSERT INTO snapshot_deltas (snapshot_id, compared_with, config, head, delta)
             VALUES ({id}, {compared}, {}, {}, {});",
            text(&row.config),
            text(&row.head),
            text(json)
        ));
    }
}
