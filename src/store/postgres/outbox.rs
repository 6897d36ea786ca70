//! PostgreSQL: outbox rows, and the latest TLS facts per port.

use postgres::{Client, GenericClient, Row};

use crate::store::certificates::RawPortTls;
use crate::store::outbox::{NewOutbox, OutboxRows, RawOutbox};

const COLUMNS: &str = "id, snapshot_id, destination, channel, format, alerts, body, created_at, \
                       status, attempts, last_error, delivered_at";

fn raw(r: &Row) -> Result<RawOutbox, postgres::Error> {
    Ok(RawOutbox {
        id: r.try_get(0)?,
        snapshot_id: r.try_get(1)?,
        destination: r.try_get(2)?,
        channel: r.try_get(3)?,
        format: r.try_get(4)?,
        alerts: r.try_get(5)?,
        body: r.try_get(6)?,
        created_at: r.try_get(7)?,
        status: r.try_get(8)?,
        attempts: r.try_get(9)?,
        last_error: r.try_get(10)?,
        delivered_at: r.try_get(11)?,
    })
}

/// Writes `items` inside the run's alert transaction.
pub(super) fn insert_all(
    client: &mut impl GenericClient,
    items: &[NewOutbox],
    now: &str,
) -> Result<(), postgres::Error> {
    let stmt = client.prepare(
        "INSERT INTO outbox (snapshot_id, destination, channel, format, alerts, body,
                             created_at, status, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0)",
    )?;
    for i in items {
        client.execute(
            &stmt,
            &[
                &i.snapshot_id,
                &i.destination,
                &i.channel,
                &i.format,
                &i64::from(i.alerts),
                &i.body,
                &now,
            ],
        )?;
    }
    Ok(())
}

pub(super) fn rows(
    client: &mut Client,
    which: OutboxRows,
) -> Result<Vec<RawOutbox>, postgres::Error> {
    let condition = match which {
        OutboxRows::Pending => "WHERE status = 'pending'",
        OutboxRows::All => "",
    };
    client
        .query(
            &format!("SELECT {COLUMNS} FROM outbox {condition} ORDER BY id"),
            &[],
        )?
        .iter()
        .map(raw)
        .collect()
}

/// Marks pending rows older than `cutoff` expired; returns them as they were.
pub(super) fn expire(client: &mut Client, cutoff: &str) -> Result<Vec<RawOutbox>, postgres::Error> {
    let mut tx = client.transaction()?;
    let rows = tx.query(
        &format!(
            "UPDATE outbox SET status = 'expired'
              WHERE status = 'pending' AND created_at < $1
             RETURNING {COLUMNS}"
        ),
        &[&cutoff],
    )?;
    tx.commit()?;
    let mut expired = rows
        .iter()
        .map(|r| {
            raw(r).map(|mut o| {
                o.status = "pending".into();
                o
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    expired.sort_by_key(|o| o.id);
    Ok(expired)
}

pub(super) fn finish(
    client: &mut Client,
    id: i64,
    attempts: i64,
    delivered: bool,
    error: Option<&str>,
    now: &str,
) -> Result<(), postgres::Error> {
    client.execute(
        "UPDATE outbox SET attempts = attempts + $2, last_error = $3,
                status = CASE WHEN $4 THEN 'delivered' ELSE status END,
                delivered_at = CASE WHEN $4 THEN $5 ELSE delivered_at END
          WHERE id = $1 AND status = 'pending'",
        &[&id, &attempts, &error, &delivered, &now],
    )?;
    Ok(())
}

pub(super) fn latest_port_tls(
    client: &mut Client,
    before: i64,
) -> Result<Vec<RawPortTls>, postgres::Error> {
    client
        .query(
            "SELECT p.snapshot_id, s.started_at, p.ip, p.protocol, p.port, p.tls
               FROM ports AS p JOIN snapshots AS s ON s.id = p.snapshot_id
              WHERE p.tls IS NOT NULL
                AND p.snapshot_id = (SELECT max(q.snapshot_id) FROM ports AS q
                                      WHERE q.tls IS NOT NULL AND q.ip = p.ip
                                        AND q.protocol = p.protocol AND q.port = p.port
                                        AND q.snapshot_id < $1)
              ORDER BY p.ip COLLATE \"C\", p.protocol COLLATE \"C\", p.port",
            &[&before],
        )?
        .iter()
        .map(|r| {
            Ok(RawPortTls {
                snapshot_id: r.try_get(0)?,
                started_at: r.try_get(1)?,
                ip: r.try_get(2)?,
                protocol: r.try_get(3)?,
                port: r.try_get(4)?,
                tls: r.try_get(5)?,
            })
        })
        .collect()
}
