//! SQLite: snapshot rows in and out, listings and retention.

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::deltas;
use crate::snapshot::Snapshot;
use crate::store::deltas::DeltaOf;
use crate::store::rows::{
    Columns, Detail, HeadRow, HostRow, PortRow, SnapshotRows, TargetRow, count, host_columns,
    port_columns,
};

/// Saves `s` in one transaction, with the delta `delta` makes of its new id when given.
pub(super) fn save(
    conn: &mut Connection,
    s: &Snapshot,
    delta: Option<DeltaOf<'_>>,
) -> rusqlite::Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let h = HeadRow::of(s);
    tx.execute(
        "INSERT INTO snapshots (started_at, finished_at, profile, nmap_args, nmap_version, status,
                                hosts_up, open_ports, targets_total, targets_failed,
                                scanned_ports, version_detection, unconfirmed, technique)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            h.started_at,
            h.finished_at,
            h.profile,
            h.nmap_args,
            h.nmap_version,
            h.status,
            h.hosts_up,
            h.open_ports,
            h.targets_total,
            h.targets_failed,
            h.scanned_ports,
            h.version_detection,
            h.unconfirmed,
            h.technique,
        ],
    )?;
    let id = tx.last_insert_rowid();
    {
        let mut insert_target = tx.prepare_cached(
            "INSERT INTO snapshot_targets (snapshot_id, position, entry, target, status, error,
                                           covers)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (position, t) in s.targets.iter().enumerate() {
            let t = TargetRow::of(t);
            insert_target.execute(params![
                id,
                count(position),
                t.entry,
                t.target,
                t.status,
                t.error,
                t.covers
            ])?;
        }
        let mut insert_host = tx.prepare_cached(
            "INSERT INTO hosts (snapshot_id, position, ip, hostname, state, reason, addresses,
                                hostnames, extraports, os_matches, scripts, starttime, endtime)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        let mut insert_port = tx.prepare_cached(
            "INSERT INTO ports (snapshot_id, host_position, position, ip, protocol, port, state,
                                reason, service, product, version, extrainfo, ostype, tunnel,
                                method, conf, cpe, scripts, tls)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19)",
        )?;
        for (host_position, host) in s.hosts.iter().enumerate() {
            let h = HostRow::of(host);
            insert_host.execute(params![
                id,
                count(host_position),
                h.ip,
                h.hostname,
                h.state,
                h.reason,
                h.addresses,
                h.hostnames,
                h.extraports,
                h.os_matches,
                h.scripts,
                h.starttime,
                h.endtime,
            ])?;
            for (position, port) in host.ports.iter().enumerate() {
                let p = PortRow::of(port);
                insert_port.execute(params![
                    id,
                    count(host_position),
                    count(position),
                    h.ip,
                    p.protocol,
                    p.port,
                    p.state,
                    p.reason,
                    p.service,
                    p.product,
                    p.version,
                    p.extrainfo,
                    p.ostype,
                    p.tunnel,
                    p.method,
                    p.conf,
                    p.cpe,
                    p.scripts,
                    p.tls,
                ])?;
            }
        }
    }
    if let Some(new) = delta.and_then(|make| make(id)) {
        deltas::save(&tx, id, &new)?;
    }
    tx.commit()?;
    Ok(id)
}

const HEAD: &str = "started_at, finished_at, profile, nmap_args, nmap_version, status, \
                    hosts_up, open_ports, targets_total, targets_failed, scanned_ports, \
                    version_detection, unconfirmed, technique";

/// Reads [`HEAD`] from column `at` on.
fn head(r: &Row<'_>, at: usize) -> rusqlite::Result<HeadRow> {
    Ok(HeadRow {
        started_at: r.get(at)?,
        finished_at: r.get(at + 1)?,
        profile: r.get(at + 2)?,
        nmap_args: r.get(at + 3)?,
        nmap_version: r.get(at + 4)?,
        status: r.get(at + 5)?,
        hosts_up: r.get(at + 6)?,
        open_ports: r.get(at + 7)?,
        targets_total: r.get(at + 8)?,
        targets_failed: r.get(at + 9)?,
        scanned_ports: r.get(at + 10)?,
        version_detection: r.get(at + 11)?,
        unconfirmed: r.get(at + 12)?,
        // NULL only in rows a failed migration could leave; the profile is what is read.
        technique: r.get::<_, Option<String>>(at + 13)?.unwrap_or_default(),
    })
}

pub(super) fn load(
    conn: &Connection,
    id: i64,
    detail: Detail,
) -> rusqlite::Result<Option<SnapshotRows>> {
    let Some(head) = conn
        .query_row(
            &format!("SELECT {HEAD} FROM snapshots WHERE id = ?1"),
            [id],
            |r| head(r, 0),
        )
        .optional()?
    else {
        return Ok(None);
    };
    let targets = conn
        .prepare_cached(
            "SELECT entry, target, status, error, covers FROM snapshot_targets
              WHERE snapshot_id = ?1 ORDER BY position",
        )?
        .query_map([id], |r| {
            Ok(TargetRow {
                entry: r.get(0)?,
                target: r.get(1)?,
                status: r.get(2)?,
                error: r.get(3)?,
                covers: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    if detail == Detail::Head {
        return Ok(Some(SnapshotRows::head_only(head, targets)));
    }
    let full = detail == Detail::Full;
    let hosts = conn
        .prepare_cached(&format!(
            "SELECT {} FROM hosts WHERE snapshot_id = ?1 ORDER BY position",
            host_columns(full)
        ))?
        .query_map([id], |r| HostRow::read(r, 0, full))?
        .collect::<Result<_, _>>()?;
    let ports = conn
        .prepare_cached(&format!(
            "SELECT {} FROM ports WHERE snapshot_id = ?1 ORDER BY host_position, position",
            port_columns(full)
        ))?
        .query_map([id], |r| PortRow::read(r, full))?
        .collect::<Result<_, _>>()?;
    Ok(Some(SnapshotRows {
        head,
        targets,
        hosts,
        ports,
    }))
}

impl Columns for Row<'_> {
    type Error = rusqlite::Error;
    fn text(&self, at: usize) -> rusqlite::Result<String> {
        self.get(at)
    }
    fn text_or_null(&self, at: usize) -> rusqlite::Result<Option<String>> {
        self.get(at)
    }
    fn int(&self, at: usize) -> rusqlite::Result<i64> {
        self.get(at)
    }
    fn int_or_null(&self, at: usize) -> rusqlite::Result<Option<i64>> {
        self.get(at)
    }
}

pub(super) fn previous(conn: &Connection, id: i64) -> rusqlite::Result<Option<Option<i64>>> {
    let exists: Option<i64> = conn
        .query_row("SELECT id FROM snapshots WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    if exists.is_none() {
        return Ok(None);
    }
    conn.query_row(
        "SELECT p.id FROM snapshots AS s JOIN snapshots AS p
           ON p.technique = s.technique AND (p.started_at, p.id) < (s.started_at, s.id)
         WHERE s.id = ?1
         ORDER BY p.started_at DESC, p.id DESC LIMIT 1",
        [id],
        |r| r.get(0),
    )
    .optional()
    .map(Some)
}

pub(super) fn latest(conn: &Connection, profile: Option<&str>) -> rusqlite::Result<Option<i64>> {
    // Two statements, so each uses its index.
    match profile {
        Some(p) => conn.query_row(
            "SELECT id FROM snapshots WHERE profile = ?1
              ORDER BY started_at DESC, id DESC LIMIT 1",
            [p],
            |r| r.get(0),
        ),
        None => conn.query_row(
            "SELECT id FROM snapshots ORDER BY started_at DESC, id DESC LIMIT 1",
            [],
            |r| r.get(0),
        ),
    }
    .optional()
}

pub(super) fn latest_of_technique(
    conn: &Connection,
    technique: &str,
    started_at: &str,
) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM snapshots WHERE technique = ?1 AND started_at <= ?2
          ORDER BY started_at DESC, id DESC LIMIT 1",
        params![technique, started_at],
        |r| r.get(0),
    )
    .optional()
}

pub(super) fn latest_per_profile(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    conn.prepare_cached(
        "SELECT l.id FROM snapshots AS l
          WHERE l.id = (SELECT s.id FROM snapshots AS s WHERE s.profile = l.profile
                         ORDER BY s.started_at DESC, s.id DESC LIMIT 1)
          ORDER BY l.started_at DESC, l.id DESC",
    )?
    .query_map([], |r| r.get(0))?
    .collect()
}

pub(super) fn list(
    conn: &Connection,
    limit: i64,
    before: Option<(&str, i64)>,
) -> rusqlite::Result<Vec<(i64, HeadRow)>> {
    let (cursor_time, cursor_id) = before.unzip();
    conn.prepare_cached(&format!(
        "SELECT id, {HEAD} FROM snapshots
          WHERE ?1 IS NULL OR (started_at, id) < (?1, ?2)
          ORDER BY started_at DESC, id DESC LIMIT ?3"
    ))?
    .query_map(params![cursor_time, cursor_id, limit], |r| {
        Ok((r.get(0)?, head(r, 1)?))
    })?
    .collect()
}

pub(super) fn summary(conn: &Connection, id: i64) -> rusqlite::Result<Option<(i64, HeadRow)>> {
    conn.query_row(
        &format!("SELECT id, {HEAD} FROM snapshots WHERE id = ?1"),
        [id],
        |r| Ok((r.get(0)?, head(r, 1)?)),
    )
    .optional()
}

/// Retention's deleted rows: (id, started_at text).
fn delete_returning(
    conn: &Connection,
    sql: &str,
    value: impl rusqlite::ToSql,
) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare(sql)?;
    stmt.query_map([value], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

pub(super) fn delete_older_than(
    conn: &Connection,
    cutoff: &str,
) -> rusqlite::Result<Vec<(i64, String)>> {
    delete_returning(
        conn,
        "DELETE FROM snapshots WHERE started_at < ?1 AND id NOT IN (
             SELECT (SELECT l.id FROM snapshots AS l WHERE l.profile = p.profile
                      ORDER BY l.started_at DESC, l.id DESC LIMIT 1)
               FROM (SELECT DISTINCT profile FROM snapshots) AS p)
         RETURNING id, started_at",
        cutoff,
    )
}

pub(super) fn keep_latest(conn: &Connection, n: i64) -> rusqlite::Result<Vec<(i64, String)>> {
    delete_returning(
        conn,
        "DELETE FROM snapshots WHERE id IN (
             SELECT id FROM (
                 SELECT id, row_number() OVER (
                     PARTITION BY profile ORDER BY started_at DESC, id DESC) AS rank
                   FROM snapshots)
              WHERE rank > ?1)
         RETURNING id, started_at",
        n,
    )
}
