//! Stored deltas: each snapshot's comparison with its previous one, written once when its run
//! commits (see schema V7). The store keeps the texts; [`crate::history`] decides what they
//! mean and whether they still hold.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// One `snapshot_deltas` row: JSON texts the history layer writes and reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaRow {
    /// The snapshot it was compared with; `None` for a baseline.
    pub compared_with: Option<i64>,
    /// Fingerprint of the configuration the delta was computed with.
    pub config: String,
    /// What a timeline row needs, as JSON.
    pub head: String,
}

impl Store {
    /// Stores (or replaces) snapshot `id`'s delta.
    pub fn save_delta(&self, id: i64, row: &DeltaRow, delta_json: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO snapshot_deltas
                     (snapshot_id, compared_with, config, head, delta)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, row.compared_with, row.config, row.head, delta_json],
            )
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    /// Snapshot `id`'s stored delta row without the delta itself, if any.
    pub fn delta_row(&self, id: i64) -> Result<Option<DeltaRow>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT compared_with, config, head FROM snapshot_deltas WHERE snapshot_id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([id], |r| {
                    Ok(DeltaRow {
                        compared_with: r.get(0)?,
                        config: r.get(1)?,
                        head: r.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.sql(e))
    }

    /// Snapshot `id`'s stored `delta.json` text, if any.
    pub fn delta_json(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT delta FROM snapshot_deltas WHERE snapshot_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))
    }
}
