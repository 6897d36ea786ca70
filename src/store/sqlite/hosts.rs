//! SQLite: a snapshot's hosts walked one at a time (streamed and paged reads) and the
//! dashboard's per-host open-port counts.

use rusqlite::{Connection, params};

use crate::store::hosts::HostRange;
use crate::store::rows::{
    EachHost, HostRow, PortRow, WalkError, host_columns, merge_hosts, port_columns,
};

/// Walks the hosts of snapshot `id` in `range` inside one read transaction (hosts and ports
/// by two statements stepped side by side). `Ok(false)`: no such snapshot.
pub(super) fn walk(
    conn: &Connection,
    id: i64,
    range: HostRange,
    each: EachHost<'_>,
) -> Result<bool, WalkError<rusqlite::Error>> {
    let db = WalkError::Db;
    let tx = conn.unchecked_transaction().map_err(db)?;
    let exists = tx
        .prepare_cached("SELECT 1 FROM snapshots WHERE id = ?1")
        .and_then(|mut s| s.exists([id]))
        .map_err(db)?;
    if !exists {
        return Ok(false);
    }
    let mut hosts = tx
        .prepare_cached(&format!(
            "SELECT position, {} FROM hosts WHERE snapshot_id = ?1 AND position >= ?2
              ORDER BY position LIMIT ?3",
            host_columns(true)
        ))
        .map_err(db)?;
    let mut ports = tx
        .prepare_cached(&format!(
            "SELECT {} FROM ports WHERE snapshot_id = ?1 AND host_position BETWEEN ?2 AND ?3
              ORDER BY host_position, position",
            port_columns(true)
        ))
        .map_err(db)?;
    let first = range.first();
    // SQLite reads a negative LIMIT as none.
    let limit = range.limit().unwrap_or(-1);
    let mut host_rows = hosts.query(params![id, first, limit]).map_err(db)?;
    let mut port_rows = ports.query(params![id, first, range.last()]).map_err(db)?;
    merge_hosts(
        || {
            host_rows
                .next()?
                .map(|r| Ok((r.get(0)?, HostRow::read(r, 1, true)?)))
                .transpose()
        },
        || {
            port_rows
                .next()?
                .map(|r| PortRow::read(r, true))
                .transpose()
        },
        range.limit.is_none(),
        each,
    )?;
    Ok(true)
}

pub(super) fn up_open_ports(conn: &Connection, id: i64) -> rusqlite::Result<Vec<(String, i64)>> {
    conn.prepare_cached(
        "SELECT h.ip, (SELECT count(*) FROM ports AS p
                        WHERE p.snapshot_id = h.snapshot_id
                          AND p.host_position = h.position AND p.state = 'open')
           FROM hosts AS h WHERE h.snapshot_id = ?1 AND h.state = 'up'
          ORDER BY h.position",
    )?
    .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}
