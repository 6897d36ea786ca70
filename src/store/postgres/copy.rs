//! PostgreSQL: whole tables out and in, as JSON objects keyed by column (`migrate-store`).
//! Table names come from `backend::COPIED_TABLES`, never from input.

use postgres::Client;
use serde_json::Value;

use crate::store::backend::COPIED_TABLES;

/// `table` if it is one of the copied tables; else a name no table has, so the query fails
/// and says so (an unknown name is a bug in the caller).
fn checked(table: &str) -> &'static str {
    COPIED_TABLES
        .iter()
        .find(|t| **t == table)
        .copied()
        .unwrap_or("\"unknown table\"")
}

fn order_of(table: &str) -> &'static str {
    match table {
        "snapshot_targets" | "hosts" => "snapshot_id, position",
        "ports" => "snapshot_id, host_position, position",
        "snapshot_deltas" => "snapshot_id",
        _ => "id",
    }
}

pub(super) fn export(client: &mut Client, table: &str) -> Result<Vec<Value>, postgres::Error> {
    let table = checked(table);
    let rows = client.query(
        &format!(
            "SELECT row_to_json(t)::text FROM {table} AS t ORDER BY {}",
            order_of(table)
        ),
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| serde_json::from_str(r.get::<_, &str>(0)).unwrap_or(Value::Null))
        .collect())
}

/// Inserts each table's rows in one transaction, ids kept (`json_populate_recordset` casts
/// each field to its column's type), then moves the id sequences past the copied ids.
pub(super) fn import(
    client: &mut Client,
    tables: &[(&str, Vec<Value>)],
) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    for (table, rows) in tables {
        let table = checked(table);
        let json = serde_json::to_string(rows).unwrap_or_default();
        tx.execute(
            &format!(
                "INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::text::json)"
            ),
            &[&json],
        )?;
        if order_of(table) == "id" {
            tx.batch_execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                               greatest((SELECT max(id) FROM {table}), 1),
                               (SELECT max(id) FROM {table}) IS NOT NULL)"
            ))?;
        }
    }
    tx.commit()
}

pub(super) fn count(client: &mut Client, table: &str) -> Result<i64, postgres::Error> {
    let table = checked(table);
    Ok(client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])?
        .get(0))
}
