//! SQLite: the `snapshot_deltas` rows (schema V7).

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::deltas::DeltaRow;

/// Stores (or replaces) snapshot `id`'s delta; the caller holds the snapshot's transaction.
pub(super) fn save(
    conn: &Connection,
    id: i64,
    row: &DeltaRow,
    delta_json: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO snapshot_deltas (snapshot_id, compared_with, config, head, delta)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        id,
        row.compared_with,
        row.config,
        row.head,
        delta_json
    ])
    .map(drop)
}

pub(super) fn row(conn: &Connection, id: i64) -> rusqlite::Result<Option<DeltaRow>> {
    conn.prepare_cached(
        "SELECT compared_with, config, head FROM snapshot_deltas WHERE snapshot_id = ?1",
    )?
    .query_row([id], |r| {
        Ok(DeltaRow {
            compared_with: r.get(0)?,
            config: r.get(1)?,
            head: r.get(2)?,
        })
    })
    .optional()
}

pub(super) fn json(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT delta FROM snapshot_deltas WHERE snapshot_id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()
}
