//! SQLite: outbox rows, and the latest TLS facts per port.

use rusqlite::{Connection, Row, TransactionBehavior, params};

use crate::store::certificates::RawPortTls;
use crate::store::outbox::{NewOutbox, OutboxRows, RawOutbox};

const COLUMNS: &str = "id, snapshot_id, destination, channel, format, alerts, body, created_at, \
                       status, attempts, last_error, delivered_at";

fn raw(r: &Row<'_>) -> rusqlite::Result<RawOutbox> {
    Ok(RawOutbox {
        id: r.get(0)?,
        snapshot_id: r.get(1)?,
        destination: r.get(2)?,
        channel: r.get(3)?,
        format: r.get(4)?,
        alerts: r.get(5)?,
        body: r.get(6)?,
        created_at: r.get(7)?,
        status: r.get(8)?,
        attempts: r.get(9)?,
        last_error: r.get(10)?,
        delivered_at: r.get(11)?,
    })
}

/// Writes `items` inside the run's alert transaction.
pub(super) fn insert_all(
    conn: &Connection,
    items: &[NewOutbox],
    now: &str,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO outbox (snapshot_id, destination, channel, format, alerts, body,
                             created_at, status, attempts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0)",
    )?;
    for i in items {
        stmt.execute(params![
            i.snapshot_id,
            i.destination,
            i.channel,
            i.format,
            i.alerts,
            i.body,
            now
        ])?;
    }
    Ok(())
}

pub(super) fn rows(conn: &Connection, which: OutboxRows) -> rusqlite::Result<Vec<RawOutbox>> {
    let condition = match which {
        OutboxRows::Pending => "WHERE status = 'pending'",
        OutboxRows::All => "",
    };
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox {condition} ORDER BY id"
    ))?
    .query_map([], raw)?
    .collect()
}

pub(super) fn expire(conn: &mut Connection, cutoff: &str) -> rusqlite::Result<Vec<RawOutbox>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let expired = tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE status = 'pending' AND created_at < ?1
              ORDER BY id"
        ))?
        .query_map([cutoff], raw)?
        .collect::<Result<Vec<_>, _>>()?;
    tx.execute(
        "UPDATE outbox SET status = 'expired' WHERE status = 'pending' AND created_at < ?1",
        [cutoff],
    )?;
    tx.commit()?;
    Ok(expired)
}

pub(super) fn finish(
    conn: &Connection,
    id: i64,
    attempts: i64,
    delivered: bool,
    error: Option<&str>,
    now: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE outbox SET attempts = attempts + ?2, last_error = ?3,
                status = CASE WHEN ?4 THEN 'delivered' ELSE status END,
                delivered_at = CASE WHEN ?4 THEN ?5 ELSE delivered_at END
          WHERE id = ?1 AND status = 'pending'",
        params![id, attempts, error, delivered, now],
    )?;
    Ok(())
}

pub(super) fn latest_port_tls(conn: &Connection, before: i64) -> rusqlite::Result<Vec<RawPortTls>> {
    conn.prepare_cached(
        "SELECT p.snapshot_id, s.started_at, p.ip, p.protocol, p.port, p.tls
           FROM ports AS p JOIN snapshots AS s ON s.id = p.snapshot_id
          WHERE p.tls IS NOT NULL
            AND p.snapshot_id = (SELECT max(q.snapshot_id) FROM ports AS q
                                  WHERE q.tls IS NOT NULL AND q.ip = p.ip
                                    AND q.protocol = p.protocol AND q.port = p.port
                                    AND q.snapshot_id < ?1)
          ORDER BY p.ip, p.protocol, p.port",
    )?
    .query_map([before], |r| {
        Ok(RawPortTls {
            snapshot_id: r.get(0)?,
            started_at: r.get(1)?,
            ip: r.get(2)?,
            protocol: r.get(3)?,
            port: r.get(4)?,
            tls: r.get(5)?,
        })
    })?
    .collect()
}
