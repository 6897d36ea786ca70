//! PostgreSQL: the `snapshot_deltas` rows (schema V4).

use postgres::GenericClient;

use crate::store::deltas::{DeltaRow, NewDelta};

/// Stores (or replaces) snapshot `id`'s delta; the caller holds the snapshot's transaction.
pub(super) fn save(
    client: &mut impl GenericClient,
    id: i64,
    new: &NewDelta,
) -> Result<(), postgres::Error> {
    let row = &new.row;
    client
        .execute(
            "INSERT INTO snapshot_deltas (snapshot_id, compared_with, config, head, delta, entries)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (snapshot_id) DO UPDATE
                SET compared_with = excluded.compared_with, config = excluded.config,
                    head = excluded.head, delta = excluded.delta, entries = excluded.entries",
            &[
                &id,
                &row.compared_with,
                &row.config,
                &row.head,
                &new.json,
                &new.entries,
            ],
        )
        .map(drop)
}

pub(super) fn row(
    client: &mut impl GenericClient,
    id: i64,
) -> Result<Option<DeltaRow>, postgres::Error> {
    client
        .query_opt(
            "SELECT compared_with, config, head FROM snapshot_deltas WHERE snapshot_id = $1",
            &[&id],
        )?
        .map(|r| {
            Ok(DeltaRow {
                compared_with: r.try_get(0)?,
                config: r.try_get(1)?,
                head: r.try_get(2)?,
            })
        })
        .transpose()
}

/// Snapshot `id`'s `delta` text (`entries`: its per-entry counts instead); `None` without a
/// row or when it is NULL.
pub(super) fn text(
    client: &mut impl GenericClient,
    id: i64,
    entries: bool,
) -> Result<Option<String>, postgres::Error> {
    let sql = if entries {
        "SELECT entries FROM snapshot_deltas WHERE snapshot_id = $1"
    } else {
        "SELECT delta FROM snapshot_deltas WHERE snapshot_id = $1"
    };
    Ok(client
        .query_opt(sql, &[&id])?
        .map(|r| r.try_get::<_, Option<String>>(0))
        .transpose()?
        .flatten())
}
