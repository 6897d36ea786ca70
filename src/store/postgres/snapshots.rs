//! PostgreSQL: snapshot rows in (binary COPY, one transaction) and out. Listings and retention
//! are in `listing.rs`.

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, Row, Transaction};

use super::deltas;
use crate::snapshot::Snapshot;
use crate::store::deltas::DeltaOf;
use crate::store::rows::{
    Columns, Detail, HeadRow, HostRow, PortRow, SnapshotRows, TargetRow, count, host_columns,
    port_columns,
};

/// Saves `s` in one transaction: the head with INSERT, targets, hosts and ports with binary
/// COPY (a 65,536-host snapshot is three streams, not 400,000 statements).
/// `delta`, given the new id, makes the `snapshot_deltas` row written in the same transaction.
pub(super) fn save(
    client: &mut Client,
    s: &Snapshot,
    delta: Option<DeltaOf<'_>>,
) -> Result<i64, postgres::Error> {
    let mut tx = client.transaction()?;
    let id = save_in(&mut tx, s, delta)?;
    tx.commit()?;
    Ok(id)
}

/// [`save`] inside the caller's transaction; returns the new id.
pub(super) fn save_in(
    tx: &mut Transaction<'_>,
    s: &Snapshot,
    delta: Option<DeltaOf<'_>>,
) -> Result<i64, postgres::Error> {
    let h = HeadRow::of(s);
    let id: i64 = tx
        .query_one(
            "INSERT INTO snapshots (started_at, finished_at, profile, nmap_args, nmap_version,
                                    status, hosts_up, open_ports, targets_total, targets_failed,
                                    scanned_ports, version_detection, unconfirmed, technique)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
            &[
                &h.started_at,
                &h.finished_at,
                &h.profile,
                &h.nmap_args,
                &h.nmap_version,
                &h.status,
                &h.hosts_up,
                &h.open_ports,
                &h.targets_total,
                &h.targets_failed,
                &h.scanned_ports,
                &h.version_detection,
                &h.unconfirmed,
                &h.technique,
            ],
        )?
        .get(0);
    use Type as T;
    let sink = tx.copy_in(
        "COPY snapshot_targets (snapshot_id, position, entry, target, status, error, covers)
         FROM STDIN (FORMAT binary)",
    )?;
    let mut w = BinaryCopyInWriter::new(
        sink,
        &[
            T::INT8,
            T::INT8,
            T::TEXT,
            T::TEXT,
            T::TEXT,
            T::TEXT,
            T::TEXT,
        ],
    );
    for (position, t) in s.targets.iter().enumerate() {
        let t = TargetRow::of(t);
        w.write(&[
            &id,
            &count(position),
            &t.entry,
            &t.target,
            &t.status,
            &t.error,
            &t.covers,
        ])?;
    }
    w.finish()?;

    let sink = tx.copy_in(
        "COPY hosts (snapshot_id, position, ip, hostname, state, reason, addresses, hostnames,
                     extraports, os_matches, scripts, starttime, endtime)
         FROM STDIN (FORMAT binary)",
    )?;
    let types = [
        T::INT8,
        T::INT8,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::INT8,
        T::INT8,
    ];
    let mut w = BinaryCopyInWriter::new(sink, &types);
    let mut ips = Vec::with_capacity(s.hosts.len());
    for (position, host) in s.hosts.iter().enumerate() {
        let h = HostRow::of(host);
        let row: [&(dyn ToSql + Sync); 13] = [
            &id,
            &count(position),
            &h.ip,
            &h.hostname,
            &h.state,
            &h.reason,
            &h.addresses,
            &h.hostnames,
            &h.extraports,
            &h.os_matches,
            &h.scripts,
            &h.starttime,
            &h.endtime,
        ];
        w.write(&row)?;
        ips.push(h.ip);
    }
    w.finish()?;

    let sink = tx.copy_in(
        "COPY ports (snapshot_id, host_position, position, ip, protocol, port, state, reason,
                     service, product, version, extrainfo, ostype, tunnel, method, conf, cpe,
                     scripts, tls)
         FROM STDIN (FORMAT binary)",
    )?;
    let types = [
        T::INT8,
        T::INT8,
        T::INT8,
        T::TEXT,
        T::TEXT,
        T::INT8,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::INT8,
        T::TEXT,
        T::TEXT,
        T::TEXT,
    ];
    let mut w = BinaryCopyInWriter::new(sink, &types);
    for ((host_position, host), ip) in s.hosts.iter().enumerate().zip(&ips) {
        for (position, port) in host.ports.iter().enumerate() {
            let p = PortRow::of(port);
            let row: [&(dyn ToSql + Sync); 19] = [
                &id,
                &count(host_position),
                &count(position),
                ip,
                &p.protocol,
                &p.port,
                &p.state,
                &p.reason,
                &p.service,
                &p.product,
                &p.version,
                &p.extrainfo,
                &p.ostype,
                &p.tunnel,
                &p.method,
                &p.conf,
                &p.cpe,
                &p.scripts,
                &p.tls,
            ];
            w.write(&row)?;
        }
    }
    w.finish()?;
    if let Some(new) = delta.and_then(|make| make(id)) {
        deltas::save(tx, id, &new)?;
    }
    Ok(id)
}

pub(super) const HEAD: &str = "started_at, finished_at, profile, nmap_args, nmap_version, status, \
                    hosts_up, open_ports, targets_total, targets_failed, scanned_ports, \
                    version_detection, unconfirmed, technique";

/// Reads [`HEAD`] from column `at` on.
pub(super) fn head(r: &Row, at: usize) -> Result<HeadRow, postgres::Error> {
    Ok(HeadRow {
        started_at: r.try_get(at)?,
        finished_at: r.try_get(at + 1)?,
        profile: r.try_get(at + 2)?,
        nmap_args: r.try_get(at + 3)?,
        nmap_version: r.try_get(at + 4)?,
        status: r.try_get(at + 5)?,
        hosts_up: r.try_get(at + 6)?,
        open_ports: r.try_get(at + 7)?,
        targets_total: r.try_get(at + 8)?,
        targets_failed: r.try_get(at + 9)?,
        scanned_ports: r.try_get(at + 10)?,
        version_detection: r.try_get(at + 11)?,
        unconfirmed: r.try_get(at + 12)?,
        // NULL only in rows a failed migration could leave; the profile is what is read.
        technique: r.try_get::<_, Option<String>>(at + 13)?.unwrap_or_default(),
    })
}

/// Runs `sql` with one id parameter and maps each row as it streams in.
fn each<T>(
    client: &mut Client,
    sql: &str,
    id: i64,
    mut f: impl FnMut(&Row) -> Result<T, postgres::Error>,
) -> Result<Vec<T>, postgres::Error> {
    let stmt = client.prepare_typed(sql, &[Type::INT8])?;
    let mut rows = client.query_raw(&stmt, [&id as &(dyn ToSql + Sync)])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(f(&r)?);
    }
    Ok(out)
}

pub(super) fn load(
    client: &mut Client,
    id: i64,
    detail: Detail,
) -> Result<Option<SnapshotRows>, postgres::Error> {
    let Some(row) = client.query_opt(
        &format!("SELECT {HEAD} FROM snapshots WHERE id = $1"),
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let head = head(&row, 0)?;
    let targets = each(
        client,
        "SELECT entry, target, status, error, covers FROM snapshot_targets
          WHERE snapshot_id = $1 ORDER BY position",
        id,
        |r| {
            Ok(TargetRow {
                entry: r.try_get(0)?,
                target: r.try_get(1)?,
                status: r.try_get(2)?,
                error: r.try_get(3)?,
                covers: r.try_get(4)?,
            })
        },
    )?;
    if detail == Detail::Head {
        return Ok(Some(SnapshotRows::head_only(head, targets)));
    }
    let full = detail == Detail::Full;
    let hosts_sql = format!(
        "SELECT {} FROM hosts WHERE snapshot_id = $1 ORDER BY position",
        host_columns(full)
    );
    let hosts = each(client, &hosts_sql, id, |r| HostRow::read(r, 0, full))?;
    let ports_sql = format!(
        "SELECT {} FROM ports WHERE snapshot_id = $1 ORDER BY host_position, position",
        port_columns(full)
    );
    let ports = each(client, &ports_sql, id, |r| PortRow::read(r, full))?;
    Ok(Some(SnapshotRows {
        head,
        targets,
        hosts,
        ports,
    }))
}

impl Columns for Row {
    type Error = postgres::Error;
    fn text(&self, at: usize) -> Result<String, postgres::Error> {
        self.try_get(at)
    }
    fn text_or_null(&self, at: usize) -> Result<Option<String>, postgres::Error> {
        self.try_get(at)
    }
    fn int(&self, at: usize) -> Result<i64, postgres::Error> {
        self.try_get(at)
    }
    fn int_or_null(&self, at: usize) -> Result<Option<i64>, postgres::Error> {
        self.try_get(at)
    }
}
