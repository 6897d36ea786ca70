//! PostgreSQL: the `snapshot_deltas` rows (schema V4).

use postgres::GenericClient;

use crate::store::deltas::DeltaRow;

/// Stores (or replaces) snapshot `id`'s delta; the caller holds the snapshot's transaction.
pub(super) fn save(
    client: &mut impl GenericClient,
    id: i64,
    row: &DeltaRow,
    delta_json: &str,
) -> Result<(), postgres::Error> {
    client
        .execute(
            "INSERT INTO snapshot_deltas (snapshot_id, compared_with, config, head, delta)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (snapshot_id) DO UPDATE
                SET compared_with = excluded.compared_with, config = excluded.config,
                    head = excluded.head, delta = excluded.delta",
            &[&id, &row.compared_with, &row.config, &row.head, &delta_json],
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

pub(super) fn json(
    client: &mut impl GenericClient,
    id: i64,
) -> Result<Option<String>, postgres::Error> {
    client
        .query_opt(
            "SELECT delta FROM snapshot_deltas WHERE snapshot_id = $1",
            &[&id],
        )?
        .map(|r| r.try_get(0))
        .transpose()
}
