//! SQLite: whole tables out and in, as JSON objects keyed by column (`migrate-store`).
//! Table names come from `backend::COPIED_TABLES`, never from input.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, TransactionBehavior};
use serde_json::{Map, Value};

use crate::store::backend::COPIED_TABLES;

fn checked(table: &str) -> rusqlite::Result<&str> {
    COPIED_TABLES
        .iter()
        .find(|t| **t == table)
        .copied()
        .ok_or_else(|| rusqlite::Error::InvalidParameterName(table.to_string()))
}

/// The order rows are copied in: ids where there is one, else the primary key.
fn order_of(table: &str) -> &'static str {
    match table {
        "snapshot_targets" | "hosts" => "snapshot_id, position",
        "ports" => "snapshot_id, host_position, position",
        "snapshot_deltas" => "snapshot_id",
        _ => "id",
    }
}

pub(super) fn export(conn: &Connection, table: &str) -> rusqlite::Result<Vec<Value>> {
    let table = checked(table)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT * FROM {table} ORDER BY {}",
        order_of(table)
    ))?;
    let names: Vec<String> = stmt.column_names().map(str::to_string).collect();
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut obj = Map::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let v = match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::from(n),
                ValueRef::Real(x) => Value::from(x),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    Value::from(String::from_utf8_lossy(t).into_owned())
                }
            };
            obj.insert(name.clone(), v);
        }
        out.push(Value::Object(obj));
    }
    Ok(out)
}

/// Inserts each table's rows in one transaction (ids kept), through `json_each` so a table is
/// one statement.
pub(super) fn import(conn: &mut Connection, tables: &[(&str, Vec<Value>)]) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (table, rows) in tables {
        let table = checked(table)?;
        let columns: Vec<String> = tx
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let picks: Vec<String> = columns
            .iter()
            .map(|c| format!("json_extract(value, '$.{c}')"))
            .collect();
        let json = serde_json::to_string(rows)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        tx.execute(
            &format!(
                "INSERT INTO {table} ({}) SELECT {} FROM json_each(?1)",
                columns.join(", "),
                picks.join(", ")
            ),
            [json],
        )?;
    }
    tx.commit()
}

pub(super) fn count(conn: &Connection, table: &str) -> rusqlite::Result<i64> {
    let table = checked(table)?;
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
}
