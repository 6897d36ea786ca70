//! A snapshot's hosts one at a time, with their ports, in the order nmap reported them: what
//! a full load collects, and what the read API streams or pages without holding every host
//! in memory. Hosts and ports are read by two cursors walked side by side (a merge on the
//! host's position), inside one read transaction so both see the same snapshot.

use rusqlite::{Connection, Row};

use super::rows::{RowError, host, port};
use super::{Store, StoreError};
use crate::model::{Host, Port};

/// Which hosts of a snapshot to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostRange {
    /// Only hosts after this position (0-based, as nmap listed them); `None`: from the first.
    pub after: Option<u64>,
    /// At most this many hosts; `None`: all of them.
    pub limit: Option<u64>,
}

impl Store {
    /// Every up host of snapshot `id` as (its address text, as [`Host::ip`] gives it, and how
    /// many of its ports are `open`), in order: what the dashboard's cards count, without
    /// loading the ports.
    pub fn up_hosts_open_ports(&self, id: i64) -> Result<Vec<(String, usize)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT h.ip, (SELECT count(*) FROM ports AS p
                                WHERE p.snapshot_id = h.snapshot_id
                                  AND p.host_position = h.position AND p.state = 'open')
                   FROM hosts AS h WHERE h.snapshot_id = ?1 AND h.state = 'up'
                  ORDER BY h.position",
            )
            .map_err(|e| self.sql(e))?;
        stmt.query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                usize::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            ))
        })
        .map_err(|e| self.sql(e))?
        .collect::<Result<_, _>>()
        .map_err(|e| self.sql(e))
    }

    /// Calls `each` with (position, host) for the hosts of snapshot `id` in `range`, in order,
    /// until it returns `false`. The snapshot must exist (else [`StoreError::NotFound`]).
    pub fn for_each_host(
        &self,
        id: i64,
        range: HostRange,
        each: impl FnMut(u64, Host) -> bool,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.sql(e))?;
        let exists = tx
            .prepare_cached("SELECT 1 FROM snapshots WHERE id = ?1")
            .and_then(|mut s| s.exists([id]))
            .map_err(|e| self.sql(e))?;
        if !exists {
            return Err(StoreError::NotFound(id));
        }
        walk_hosts(&tx, id, range, each).map_err(|e| self.error(e))
    }
}

/// The walk itself, on a connection the caller holds a read transaction on (the ports query
/// is [`super::rows`]' full load's, from a host position on).
fn walk_hosts(
    conn: &Connection,
    id: i64,
    range: HostRange,
    mut each: impl FnMut(u64, Host) -> bool,
) -> Result<(), RowError> {
    let after = range
        .after
        .map_or(-1, |a| i64::try_from(a).unwrap_or(i64::MAX));
    let limit = range
        .limit
        .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let mut hosts = conn.prepare_cached(
        "SELECT position, state, reason, addresses, hostnames, extraports, os_matches, scripts,
                starttime, endtime
           FROM hosts WHERE snapshot_id = ?1 AND position > ?2 ORDER BY position LIMIT ?3",
    )?;
    let mut ports = conn.prepare_cached(
        "SELECT host_position, protocol, port, state, reason, service, product, version,
                extrainfo, ostype, tunnel, method, conf, cpe, scripts, tls
           FROM ports WHERE snapshot_id = ?1 AND host_position > ?2
          ORDER BY host_position, position",
    )?;
    let mut host_rows = hosts.query(rusqlite::params![id, after, limit])?;
    let mut port_rows = ports.query(rusqlite::params![id, after])?;
    let mut pending: Option<(i64, Port)> = next_port(port_rows.next()?)?;
    let mut walked_all = true;
    while let Some(r) = host_rows.next()? {
        let position: i64 = r.get(0)?;
        let mut host = host(r)?;
        while let Some((at, p)) = pending.take() {
            if at > position {
                pending = Some((at, p));
                break;
            }
            if at < position {
                return Err(RowError::Corrupt(format!("port of missing host {at}")));
            }
            host.ports.push(p);
            pending = next_port(port_rows.next()?)?;
        }
        if !each(u64::try_from(position).unwrap_or(0), host) {
            walked_all = false;
            break;
        }
    }
    // Every port belongs to a host: one left over after the last host has none.
    if walked_all
        && range.limit.is_none()
        && let Some((at, _)) = pending
    {
        return Err(RowError::Corrupt(format!("port of missing host {at}")));
    }
    Ok(())
}

fn next_port(r: Option<&Row<'_>>) -> Result<Option<(i64, Port)>, RowError> {
    r.map(|r| Ok((r.get(0)?, port(r)?))).transpose()
}
