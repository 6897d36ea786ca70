//! SQLite: the `snapshot_deltas` rows (schema V7, `entries` since V8).

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::deltas::{DeltaRow, NewDelta};

/// Stores (or replaces) snapshot `id`'s delta; the caller holds the snapshot's transaction.
pub(super) fn save(conn: &Connection, id: i64, new: &NewDelta) -> rusqlite::Result<()> {
    let row = &new.row;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO snapshot_deltas
             (snapshot_id, compared_with, config, head, delta, entries)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        row.compared_with,
        row.config,
        row.head,
        new.json,
        new.entries
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

/// One text column of snapshot `id`'s row (`delta` or `entries`); `None` without a row or
/// when it is NULL.
pub(super) fn text(conn: &Connection, id: i64, column: Text) -> rusqlite::Result<Option<String>> {
    let sql = match column {
        Text::Delta => "SELECT delta FROM snapshot_deltas WHERE snapshot_id = ?1",
        Text::Entries => "SELECT entries FROM snapshot_deltas WHERE snapshot_id = ?1",
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row([id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// The large text columns, read apart from the row.
pub(super) enum Text {
    Delta,
    Entries,
}
