//! PostgreSQL: a snapshot's hosts walked one at a time (streamed and paged reads) and the
//! dashboard's per-host open-port counts.

use std::cell::RefCell;
use std::collections::VecDeque;

use postgres::{Client, IsolationLevel, Portal, Row, Transaction};

use crate::store::hosts::HostRange;
use crate::store::rows::{
    EachHost, HostRow, PortRow, WalkError, host_columns, merge_hosts, port_columns,
};

/// Rows fetched from a portal at a time: memory stays bounded whatever the snapshot's size.
const BATCH: i32 = 512;

/// One portal read in batches.
struct Cursor {
    portal: Portal,
    buffered: VecDeque<Row>,
    done: bool,
}

impl Cursor {
    fn next(&mut self, tx: &RefCell<Transaction<'_>>) -> Result<Option<Row>, postgres::Error> {
        if self.buffered.is_empty() && !self.done {
            let rows = tx.borrow_mut().query_portal(&self.portal, BATCH)?;
            self.done = rows.len() < usize::try_from(BATCH).unwrap_or(0);
            self.buffered.extend(rows);
        }
        Ok(self.buffered.pop_front())
    }
}

/// Walks the hosts of snapshot `id` in `range` inside one read-only repeatable-read
/// transaction (so both portals see the same snapshot): hosts and ports by two portals read
/// side by side. `Ok(false)`: no such snapshot.
pub(super) fn walk(
    client: &mut Client,
    id: i64,
    range: HostRange,
    each: EachHost<'_>,
) -> Result<bool, WalkError<postgres::Error>> {
    let db = WalkError::Db;
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(db)?;
    if tx
        .query_opt("SELECT 1 FROM snapshots WHERE id = $1", &[&id])
        .map_err(db)?
        .is_none()
    {
        return Ok(false);
    }
    let first = range.first();
    let hosts = tx
        .bind(
            format!(
                "SELECT position, {} FROM hosts WHERE snapshot_id = $1 AND position >= $2
                  ORDER BY position LIMIT $3",
                host_columns(true)
            )
            .as_str(),
            &[&id, &first, &range.limit()],
        )
        .map_err(db)?;
    let ports = tx
        .bind(
            format!(
                "SELECT {} FROM ports WHERE snapshot_id = $1 AND host_position BETWEEN $2 AND $3
                  ORDER BY host_position, position",
                port_columns(true)
            )
            .as_str(),
            &[&id, &first, &range.last()],
        )
        .map_err(db)?;
    let cursor = |portal| Cursor {
        portal,
        buffered: VecDeque::new(),
        done: false,
    };
    let (mut hosts, mut ports) = (cursor(hosts), cursor(ports));
    let tx = RefCell::new(tx);
    merge_hosts(
        || {
            hosts
                .next(&tx)?
                .map(|r| Ok((r.try_get(0)?, HostRow::read(&r, 1, true)?)))
                .transpose()
        },
        || {
            ports
                .next(&tx)?
                .map(|r| PortRow::read(&r, true))
                .transpose()
        },
        range.limit.is_none(),
        each,
    )?;
    Ok(true)
}

pub(super) fn up_open_ports(
    client: &mut Client,
    id: i64,
) -> Result<Vec<(String, i64)>, postgres::Error> {
    Ok(client
        .query(
            "SELECT h.ip, count(p.port) FILTER (WHERE p.state = 'open')
               FROM hosts AS h LEFT JOIN ports AS p
                 ON p.snapshot_id = h.snapshot_id AND p.host_position = h.position
              WHERE h.snapshot_id = $1 AND h.state = 'up'
              GROUP BY h.position, h.ip ORDER BY h.position",
            &[&id],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}
